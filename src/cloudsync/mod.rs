//! The `cloudsync` provider: SQLite Cloud's CloudSync management API (seed 002). Only
//! CloudSync's facts live here; what every provider shares is in [`crate::client`] and
//! [`crate::plugin`].
//!
//! - [`client`]: the typed API client (no plugin-framework imports);
//! - [`provider`]: the provider block and the shared client;
//! - [`common`]: API failures as diagnostics, plan-time rules;
//! - one file per Terraform type under [`resources`] and [`data_sources`]; one per list
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

/// How the `cloudsync` binary presents itself.
pub const SERVE: crate::plugin::ServeOptions = crate::plugin::ServeOptions {
    address: "cloudsync/cloudsync",
    binary: "terraform-provider-cloudsync",
};

/// Where the provider's docs and examples live.
pub const DOCS: DocsSpec = DocsSpec {
    name: "cloudsync",
    docs: "docs/cloudsync",
    examples: "examples/cloudsync",
};

/// Serve the `cloudsync` provider (called by its binary's `main`).
pub fn serve() -> std::process::ExitCode {
    crate::plugin::serve(SERVE, provider::CloudSyncProvider::default())
}

/// Every documentation page of the provider, keyed by path from the repository root.
pub fn docs(root: &Path) -> BTreeMap<PathBuf, String> {
    render_all(&provider::CloudSyncProvider::default(), &DOCS, root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::kit::docs::check_or_write;

    #[test]
    fn docs_match_the_schema() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pages = docs(root);
        assert!(pages.contains_key(Path::new("docs/cloudsync/index.md")));
        if let Err(stale) = check_or_write(root, &pages) {
            panic!("{stale}");
        }
    }

    #[test]
    fn every_type_has_an_example() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pages = docs(root);
        for (path, page) in &pages {
            assert!(
                page.contains("## Example Usage"),
                "{} has no example",
                path.display()
            );
        }
    }
}
