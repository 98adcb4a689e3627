//! The `comwit` provider: Comwit Cloud projects and libSQL databases.
//!
//! - [`client`]: the typed platform API client (no plugin-framework imports).
//! - [`provider`]: provider configuration and the shared, configured client.
//! - One file per Terraform type under [`resources`] and [`data_sources`].

pub mod client;
pub mod common;
pub mod data_sources;
pub mod ephemeral;
pub mod provider;
pub mod resources;

/// Serve the `comwit` provider (called by `main`).
pub fn serve() -> std::process::ExitCode {
    crate::plugin::serve(
        crate::plugin::ServeOptions {
            address: "comwit/comwit",
            binary: "terraform-provider-comwit",
        },
        provider::ComwitProvider::default(),
    )
}
