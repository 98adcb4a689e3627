//! Terraform providers for Comwit Cloud (and its peer database platforms), built on our
//! own protocol-6 plugin server, plus a local platform emulator. `docs/architecture.md`
//! has the tree, what each folder may import, and how to add a resource type.
//!
//! Layout:
//! - [`proto`]: the generated gRPC types of the Terraform plugin protocol 6.11 and go-plugin.
//! - [`plugin`]: the plugin server (handshake, mTLS, gRPC services), the small provider
//!   framework that erases `tf-provider` types behind a registry, and the kit every
//!   provider's types use ([`plugin::kit`]: values, schema attributes, settings, docs).
//! - [`client`]: the platform-neutral API client core (send, retries, auth, redaction).
//! - [`contract`]: the platforms' pure rules (DNS names and values), one reading that the
//!   providers and the emulator share.
//! - [`comwit`]: the `comwit` provider: Comwit's API client, resources and data sources.
//! - [`wayscloud`]: the `wayscloud` provider: WaysCloud's API client, resources and data sources.
//! - [`cloudsync`]: the `cloudsync` provider: SQLite Cloud's CloudSync management API.
//! - [`emulator`]: the local platform emulator.

pub mod client;
pub mod cloudsync;
pub mod comwit;
pub mod contract;
pub mod emulator;
pub mod plugin;
pub mod proto;
pub mod wayscloud;

/// The import rules of `docs/architecture.md`, checked over the source tree: shared code
/// never reaches into a platform, clients never use the plugin framework, and the
/// emulator and the clients never import each other (two independent readings of each
/// contract).
#[cfg(test)]
mod layout {
    use std::path::{Path, PathBuf};

    /// (folder, what no file under it may name, why).
    const RULES: &[(&str, &[&str], &str)] = &[
        (
            "src/contract",
            &[
                "crate::comwit",
                "crate::wayscloud",
                "crate::cloudsync",
                "crate::emulator",
                "crate::client",
                "crate::plugin",
                "tf_provider",
                "reqwest",
                "axum",
            ],
            "the contract's pure rules serve the providers and the emulator and know neither",
        ),
        (
            "src/plugin",
            &[
                "crate::comwit",
                "crate::wayscloud",
                "crate::emulator",
                "crate::client",
            ],
            "the plugin server and kit serve every provider and know none",
        ),
        (
            "src/client",
            &[
                "crate::comwit",
                "crate::wayscloud",
                "crate::emulator",
                "crate::plugin",
                "tf_provider",
            ],
            "the client core is platform-neutral and plugin-free",
        ),
        (
            "src/comwit/client",
            &["crate::plugin", "crate::emulator", "tf_provider"],
            "a platform client never uses the plugin framework or the emulator",
        ),
        (
            "src/wayscloud/client",
            &[
                "crate::plugin",
                "crate::emulator",
                "tf_provider",
                "crate::comwit",
            ],
            "a platform client never uses the plugin framework or the emulator",
        ),
        (
            "src/wayscloud",
            &["crate::emulator", "crate::comwit"],
            "a provider never uses the emulator or another platform",
        ),
        (
            "src/emulator",
            &[
                "crate::comwit",
                "crate::wayscloud",
                "crate::client",
                "crate::plugin",
                "tf_provider",
            ],
            "the emulator is its own reading of the contracts",
        ),
        (
            "src/cloudsync/client",
            &["crate::plugin", "crate::emulator", "tf_provider"],
            "a platform client never uses the plugin framework or the emulator",
        ),
        (
            "src/emulator",
            &["crate::cloudsync"],
            "the emulator is its own reading of the contracts",
        ),
        (
            "src/plugin",
            &["crate::cloudsync"],
            "the plugin server and kit serve every provider and know none",
        ),
        (
            "src/client",
            &["crate::cloudsync"],
            "the client core is platform-neutral and plugin-free",
        ),
        (
            "src/emulator/core",
            &["emulator::cloudsync", "super::cloudsync"],
            "the emulator core serves every platform and knows none",
        ),
        (
            "src/emulator/core",
            &[
                "emulator::comwit",
                "super::comwit",
                "super::super::comwit",
                "emulator::wayscloud",
                "super::wayscloud",
                "super::super::wayscloud",
            ],
            "the emulator core serves every platform and knows none",
        ),
    ];

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The `(line number, name)` of each forbidden name used in code (not in comments).
    fn violations(source: &str, forbidden: &[&str]) -> Vec<(usize, String)> {
        let mut found = Vec::new();
        for (n, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for name in forbidden {
                if let Some(at) = code.find(name) {
                    let before = code[..at].chars().next_back();
                    if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        found.push((n + 1, (*name).to_owned()));
                    }
                }
            }
        }
        found
    }

    #[test]
    fn imports_follow_the_architecture() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut broken = Vec::new();
        for (dir, forbidden, why) in RULES {
            let mut files = Vec::new();
            rust_files(&root.join(dir), &mut files);
            for file in files {
                let source = std::fs::read_to_string(&file).unwrap_or_default();
                for (line, name) in violations(&source, forbidden) {
                    let rel = file
                        .strip_prefix(root)
                        .unwrap_or(&file)
                        .display()
                        .to_string();
                    broken.push(format!("{rel}:{line} uses `{name}`: {why}"));
                }
            }
        }
        assert!(
            broken.is_empty(),
            "import rules broken:\n{}",
            broken.join("\n")
        );
    }

    #[test]
    fn the_checker_sees_a_platform_import_in_shared_code() {
        let source = "use crate::proto::tfplugin6 as pb;\nuse crate::comwit::client::Client;\n// crate::comwit in a comment\nlet x = my_crate::comwit;\n";
        assert_eq!(
            violations(source, &["crate::comwit"]),
            [(2, "crate::comwit".to_owned())]
        );
    }
}
