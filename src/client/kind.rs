//! [`FailureKind`]: the common kinds of a failed call, the vocabulary the client shares with
//! the provider side; it lives in `contract::failure` so the plugin kit can read it
//! without importing a client.

pub use crate::contract::failure::FailureKind;
