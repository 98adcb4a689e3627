//! Protocol tests of the plugin server: the built test-only provider
//! (`tests/provider/testing.rs`) driven over gRPC exactly as Terraform drives a plugin
//! (`support::plugin_client`), the plugin server's safety (`safety`), and the comwit
//! provider's schema flags and plan-time checks over the wire (`comwit`), the same for the
//! wayscloud provider (`wayscloud`): one test binary.

#[path = "../support/mod.rs"]
mod support;

mod cloudsync;
mod comwit;
mod features;
mod safety;
mod testing;
mod wayscloud;
