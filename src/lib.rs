//! Terraform providers for Comwit Cloud (and its peer database platforms), built on our
//! own protocol-6 plugin server, plus a local platform emulator.
//!
//! Layout:
//! - [`proto`]: the generated gRPC types of the Terraform plugin protocol 6.11 and go-plugin.
//! - [`plugin`]: the plugin server (handshake, mTLS, gRPC services) and the small provider
//!   framework that erases `tf-provider` resources and data sources behind a registry.
//! - [`comwit`]: the `comwit` provider: API client, resources and data sources.
//! - [`emulator`]: the local Comwit platform emulator.

pub mod client;
pub mod comwit;
pub mod docs;
pub mod emulator;
pub mod plugin;
pub mod proto;
