//! The real `comwit-emulator` binary, tested over HTTP: one test binary.
//!
//! - `api`: the product and admin API (auth, scopes, databases, restarts, idempotency,
//!   faults, stats);
//! - `apps`: apps, artifacts, builds on Node.js, the app gateway, env, rollback;
//! - `sql`: SQL over each database's URL (Hrana over HTTP), at the protocol level and with
//!   the official libSQL client.

#[path = "../support/mod.rs"]
mod support;

mod api;
mod apps;
mod ratelimit;
mod sql;
