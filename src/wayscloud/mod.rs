//! The `wayscloud` provider: PostgreSQL and MariaDB databases through the whole WaysCloud
//! databases API (`docs/api/wayscloud.md`). Only WaysCloud's facts live here.
//!
//! - [`client`]: the typed API client (no plugin-framework imports).
//! - [`provider`]: the provider block and the shared client.
//! - [`common`]: plan-time rules and API failures as diagnostics.
//! - One file per Terraform type under [`resources`] and [`data_sources`]; one per list
//!   type under [`lists`].

pub mod actions;
pub mod client;
pub mod common;
pub mod data_sources;
pub mod functions;
pub mod lists;
pub mod provider;
pub mod resources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::plugin::kit::docs::{render_all, DocsSpec};

pub const SERVE: crate::plugin::ServeOptions = crate::plugin::ServeOptions {
    address: "wayscloud/wayscloud",
    binary: "terraform-provider-wayscloud",
};

/// The provider's docs and examples live under their own folders.
pub const DOCS: DocsSpec = DocsSpec {
    name: "wayscloud",
    docs: "docs/wayscloud",
    examples: "examples/wayscloud",
};

/// Serve the `wayscloud` provider (called by its `main`).
pub fn serve() -> std::process::ExitCode {
    crate::plugin::serve(SERVE, provider::WaysCloudProvider::default())
}

/// Every documentation page of the provider, keyed by path from the repository root.
pub fn docs(root: &Path) -> BTreeMap<PathBuf, String> {
    render_all(&provider::WaysCloudProvider::default(), &DOCS, root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::kit::docs::check_or_write;

    #[test]
    fn docs_match_the_schema() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pages = docs(root);
        assert!(pages.contains_key(Path::new("docs/wayscloud/index.md")));
        if let Err(stale) = check_or_write(root, &pages) {
            panic!("{stale}");
        }
    }
}
