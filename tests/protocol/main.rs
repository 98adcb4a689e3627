//! Protocol tests of the plugin server: the built test-only provider
//! (`tests/provider/testing.rs`) driven over gRPC exactly as Terraform drives a plugin
//! (`support::plugin_client`), and the plugin server's safety (`safety`): one test binary.

#[path = "../support/mod.rs"]
mod support;

mod safety;
mod testing;
