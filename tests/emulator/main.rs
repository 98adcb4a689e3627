//! The real `platform-emulator` binary, tested over HTTP: one test binary.
//!
//! - `api`: the product and admin API (auth, scopes, databases, restarts, idempotency,
//!   faults, stats);
//! - `apps`: apps, artifacts, builds on Node.js, the app gateway, env, rollback;
//! - `console`: the browser console at the Comwit root, in headless chromium (playwright-core);
//! - `dns`: domains, records and hostnames, checked with `dig` against the DNS server;
//! - `hosts`: the `Host` check of every listener (421 for foreign names);
//! - `sql`: SQL over each database's URL (Hrana over HTTP), at the protocol level and with
//!   the official libSQL client;
//! - `sql_python`: the official Python libSQL clients (`libsql-client`, `libsql`) on it;
//! - `replicas`: embedded replicas on the database URL (the sync routes, `@libsql/client`
//!   with `syncUrl`);
//! - `platform`: all three platforms in one emulator: health, the version header, the
//!   inspection routes, and the state's export and import with every engine's rows;
//! - `state`: WaysCloud's and CloudSync's state exported, reset and imported while they
//!   run (engines' rows included), and the round trip with the command line;
//! - `wayscloud`: the WaysCloud databases API on its real PostgreSQL and MariaDB servers.

#[path = "../support/mod.rs"]
mod support;

mod api;
mod apps;
mod cloudsync;
mod console;
mod dns;
mod hosts;
mod platform;
mod ratelimit;
mod replicas;
mod sql;
mod sql_python;
mod state;
mod wayscloud;
