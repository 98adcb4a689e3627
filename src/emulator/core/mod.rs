//! The platform-neutral core of the emulator. It never names a platform: each platform
//! (`super::comwit`, ...) implements [`Platform`] and uses these parts.
//!
//! - [`server`], bind, the accept loop and serve loop (TCP_NODELAY, header read timeout,
//!   graceful drain), the `Host` check ([`hosts`]), the admin-secret check, stats labelled from the matched route, fault
//!   injection; core answers go through the platform's error shape;
//! - [`directory`], the served platforms as the browser console learns them
//!   (`GET /_console/platforms`) and the CORS answers for the console's origin;
//! - [`hosts`], the `Host` names a listener answers (a guard against DNS rebinding);
//! - [`admin`], the `/_emulator/faults` and `/_emulator/stats` routes, and
//!   [`state_admin`], `/_emulator/state/{export,reset,import}` of a running platform, over
//!   [`archive`], the export format the command line writes too;
//! - [`faults`], the fault rules, and [`ratelimit`], a per-credential token bucket;
//! - [`auth`], the bearer token of a request; [`blocking`], store calls on the blocking pool;
//! - [`extract`], what every platform's handlers receive from extractors: the JSON body,
//!   store calls on the blocking pool, the bearer token, answered in the platform's shape;
//! - [`idempotency`], the `Idempotency-Key` store;
//! - [`secrets`], token hashes, random hex, constant-time comparison, secret files;
//! - [`clock`], timestamps (UTC, whole seconds);
//! - [`state`], a platform's SQLite state file with schema versions and migrations;
//! - [`files`], modes of the state directory (0700) and files (0600);
//! - [`engines`], private database servers (PostgreSQL) run from the state directory;
//! - [`launch`], what starting any platform takes: its state folder, admin secret, faults,
//!   bound listener, then serving it with stats until shutdown;
//! - [`registry`], a platform's [`Registration`] (spec and start function), the
//!   [`StartArgs`] it is started with and the [`Started`] handle it returns.

pub mod admin;
pub mod archive;
pub mod auth;
pub mod blocking;
pub mod clock;
pub mod directory;
pub mod engines;
pub mod extract;
pub mod faults;
pub mod files;
pub mod hosts;
pub mod idempotency;
pub mod launch;
pub mod platform;
pub mod ratelimit;
pub mod registry;
pub mod secrets;
pub mod server;
pub mod state;
pub mod state_admin;

pub use directory::{Directory, Listed};
pub use launch::{CoreConfig, Launch, Served};
pub use platform::{CoreError, LiveState, Platform, PlatformSpec, Readiness};
pub use registry::{BoxFuture, Registration, StartArgs, Started, Starting};
