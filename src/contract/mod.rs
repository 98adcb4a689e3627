//! The platforms' contracts as pure rules, one reading shared by the providers (plan-time
//! checks, semantic equality) and the emulator (what it accepts and stores): the rules are
//! the documents' (`docs/api/`), not either side's. Only rules live here, no HTTP or JSON
//! shapes: a request's and an answer's shape stay two independent readings (the clients'
//! and the emulator's), so that one side's misreading of the wire is caught by the other.
//!
//! - [`dns`]: Comwit's domain and record names, each record type's value, TTLs and the
//!   numbers MX and SRV carry, in their canonical forms (`docs/api/comwit.md`, "Domains and
//!   DNS").
//! - [`failure`]: the kinds and common facts of a failed API call (not found, conflict,
//!   rate limited, ...), the words the client core and the plugin kit share.
//! - [`url`]: connection URLs (`scheme://user:password@host:port/path?query`) as the
//!   WaysCloud and CloudSync contracts give them: split, percent-escape, check the host.

pub mod dns;
pub mod failure;
pub mod url;
