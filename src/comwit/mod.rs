//! The `comwit` provider: Comwit Cloud projects, libSQL databases and apps. Only Comwit's facts
//! live here; what every provider shares is in [`crate::client`] and [`crate::plugin`].
//!
//! - [`client`]: the typed platform API client (no plugin-framework imports).
//! - [`provider`]: provider configuration and the shared, configured client.
//! - [`common`]: Comwit's plan-time rules and API failures as diagnostics.
//! - [`bundle`]: the deterministic tar archive an app deployment uploads.
//! - One file per Terraform type under [`resources`], [`data_sources`] and [`ephemeral`];
//!   one per list type under [`lists`].

pub mod actions;
pub mod bundle;
pub mod client;
pub mod common;
pub mod data_sources;
pub mod ephemeral;
pub mod functions;
pub mod lists;
pub mod provider;
pub mod resources;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::plugin::kit::docs::{render_all, DocsSpec};

/// How the `comwit` binary presents itself.
pub const SERVE: crate::plugin::ServeOptions = crate::plugin::ServeOptions {
    address: "comwit/comwit",
    binary: "terraform-provider-comwit",
};

/// Where the provider's docs and examples live (the repository's `docs/` and `examples/`).
pub const DOCS: DocsSpec = DocsSpec {
    name: "comwit",
    docs: "docs",
    examples: "examples",
};

/// Serve the `comwit` provider (called by `main`).
pub fn serve() -> std::process::ExitCode {
    crate::plugin::serve(SERVE, provider::ComwitProvider::default())
}

/// Every documentation page of the provider, keyed by path from the repository root.
pub fn docs(root: &Path) -> BTreeMap<PathBuf, String> {
    render_all(&provider::ComwitProvider::default(), &DOCS, root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::kit::docs::check_or_write;

    /// The checked-in pages are exactly what the schema generates.
    #[test]
    fn docs_match_the_schema() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let pages = docs(root);
        assert!(pages.contains_key(Path::new("docs/index.md")));
        if let Err(stale) = check_or_write(root, &pages) {
            panic!("{stale}");
        }
    }

    #[test]
    fn sensitive_attributes_and_minimum_versions_are_in_the_docs() {
        let pages = docs(Path::new(env!("CARGO_MANIFEST_DIR")));
        let index = &pages[Path::new("docs/index.md")];
        assert!(index.contains("- `token` (String, Sensitive)"), "{index}");
        let ephemeral = &pages[Path::new("docs/ephemeral-resources/database_query_token.md")];
        assert!(ephemeral.contains("Terraform 1.10 or later"), "{ephemeral}");
        let projects = &pages[Path::new("docs/data-sources/projects.md")];
        assert!(!projects.contains("(List of )"), "{projects}");
    }
}
