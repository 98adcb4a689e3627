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
//!   providers and the emulator share: the contract crate (`src/contract/`), re-exported.
//! - [`comwit`]: the `comwit` provider: Comwit's API client, resources and data sources.
//! - [`wayscloud`]: the `wayscloud` provider: WaysCloud's API client, resources and data sources.
//! - [`cloudsync`]: the `cloudsync` provider: SQLite Cloud's CloudSync management API.
//!
//! The local platform emulator (`src/emulator/`) is a crate of its own (lib
//! `platform_emulator`), which this one does not depend on (`docs/architecture.md`,
//! "Crates").

pub mod client;
pub mod cloudsync;
pub mod comwit;
pub mod plugin;
pub mod proto;
pub mod wayscloud;

/// The platforms' pure rules: the contract crate (`src/contract`), which the emulator
/// crate uses too; re-exported so the providers name it `crate::contract`.
pub use platforms_contract as contract;

/// The import rules of `docs/architecture.md`, checked over the source tree: shared code
/// never reaches into a platform, clients never use the plugin framework, a platform never
/// uses another, and the emulator and the clients never import each other (two
/// independent readings of each contract). The rules are written once over the list of
/// platforms, so a new platform is checked by adding its name to [`layout::PLATFORMS`].
#[cfg(test)]
mod layout {
    use std::path::{Path, PathBuf};

    /// Every platform: a provider folder `src/<name>/` (with `client/`) and an emulator part
    /// `src/emulator/<name>/`.
    const PLATFORMS: &[&str] = &["comwit", "wayscloud", "cloudsync"];

    /// The folders of `src/` that are not a platform's, each with its rule. A folder of
    /// `src/` named in neither list fails the test: every folder has a rule.
    const SHARED: &[&str] = &["bin", "client", "contract", "emulator", "plugin"];

    /// One rule: no file under `dir` may name any of `forbidden` in code.
    struct Rule {
        dir: String,
        forbidden: Vec<String>,
        why: &'static str,
    }

    fn rule(dir: &str, forbidden: Vec<String>, why: &'static str) -> Rule {
        Rule {
            dir: dir.to_owned(),
            forbidden,
            why,
        }
    }

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    /// `crate::<platform>` for every platform but `except`.
    fn platforms_but(except: Option<&str>) -> Vec<String> {
        PLATFORMS
            .iter()
            .filter(|p| Some(**p) != except)
            .map(|p| format!("crate::{p}"))
            .collect()
    }

    /// The table of `docs/architecture.md`, "What each folder may import".
    fn rules() -> Vec<Rule> {
        let any_platform = platforms_but(None);
        let mut rules = vec![
            rule(
                "src/contract",
                [
                    any_platform.clone(),
                    names(&[
                        "crate::emulator",
                        "crate::client",
                        "crate::plugin",
                        "platforms::",
                        "platform_emulator",
                        "tf_provider",
                        "reqwest",
                        "axum",
                    ]),
                ]
                .concat(),
                "the contract's pure rules serve the providers and the emulator and know neither",
            ),
            rule(
                "src/plugin",
                [
                    any_platform.clone(),
                    names(&["crate::emulator", "platform_emulator", "crate::client"]),
                ]
                .concat(),
                "the plugin server and kit serve every provider and know none",
            ),
            rule(
                "src/client",
                [
                    any_platform.clone(),
                    names(&[
                        "crate::emulator",
                        "platform_emulator",
                        "crate::plugin",
                        "tf_provider",
                    ]),
                ]
                .concat(),
                "the client core is platform-neutral and plugin-free",
            ),
            rule(
                "src/emulator",
                [
                    any_platform.clone(),
                    names(&[
                        "crate::client",
                        "crate::plugin",
                        "platforms::",
                        "tf_provider",
                    ]),
                ]
                .concat(),
                "the emulator is its own reading of the contracts",
            ),
        ];
        let mut core_forbidden = Vec::new();
        for p in PLATFORMS {
            core_forbidden.extend([
                format!("emulator::{p}"),
                format!("super::{p}"),
                format!("super::super::{p}"),
            ]);
        }
        rules.push(Rule {
            dir: "src/emulator/core".to_owned(),
            forbidden: core_forbidden,
            why: "the emulator core serves every platform and knows none",
        });
        for p in PLATFORMS {
            let others = platforms_but(Some(p));
            rules.push(Rule {
                dir: format!("src/{p}"),
                forbidden: [
                    others.clone(),
                    names(&["crate::emulator", "platform_emulator"]),
                ]
                .concat(),
                why: "a provider never uses the emulator or another platform",
            });
            rules.push(Rule {
                dir: format!("src/{p}/client"),
                forbidden: names(&["crate::plugin", "tf_provider"]),
                why: "a platform client never uses the plugin framework",
            });
            let other_parts = PLATFORMS
                .iter()
                .filter(|o| *o != p)
                .flat_map(|o| [format!("emulator::{o}"), format!("super::{o}")])
                .collect();
            rules.push(Rule {
                dir: format!("src/emulator/{p}"),
                forbidden: other_parts,
                why: "a platform part of the emulator never uses another platform's part",
            });
        }
        rules
    }

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
        for Rule {
            dir,
            forbidden,
            why,
        } in rules()
        {
            let forbidden: Vec<&str> = forbidden.iter().map(String::as_str).collect();
            let mut files = Vec::new();
            rust_files(&root.join(&dir), &mut files);
            assert!(!files.is_empty(), "no Rust files under {dir}: a stale rule");
            for file in files {
                let source = std::fs::read_to_string(&file).unwrap_or_default();
                for (line, name) in violations(&source, &forbidden) {
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

    /// The path dependencies (`path = "..."`) of a manifest's dependency sections
    /// (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, by target too):
    /// `(section, dependency name, path)`.
    fn path_dependencies(manifest: &str) -> Vec<(String, String, String)> {
        let mut found = Vec::new();
        let mut section = String::new();
        for line in manifest.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.starts_with('[') {
                section = line.trim_matches(['[', ']']).to_owned();
                continue;
            }
            if !section.ends_with("dependencies") || section.starts_with("workspace") {
                continue;
            }
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            if let Some(at) = value.find("path") {
                let path = value[at..].split('"').nth(1).unwrap_or_default().to_owned();
                found.push((section.clone(), name.trim().to_owned(), path));
            }
        }
        found
    }

    /// The crates of `docs/architecture.md`, "Crates": each manifest's path dependencies,
    /// exactly. The root (the providers and the tests) never depends on the emulator's
    /// crate, in any section: an emulator edit would rebuild the providers.
    #[test]
    fn crates_depend_as_the_architecture_says() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dep = |section: &str, name: &str, path: &str| {
            (section.to_owned(), name.to_owned(), path.to_owned())
        };
        let expected = [
            (
                "Cargo.toml",
                vec![dep("dependencies", "platforms-contract", "src/contract")],
            ),
            (
                "src/emulator/Cargo.toml",
                vec![dep("dependencies", "platforms-contract", "../contract")],
            ),
            ("src/contract/Cargo.toml", vec![]),
        ];
        for (manifest, wanted) in expected {
            let text = std::fs::read_to_string(root.join(manifest))
                .unwrap_or_else(|e| panic!("{manifest}: {e}"));
            assert_eq!(
                path_dependencies(&text),
                wanted,
                "{manifest}: the crates' dependencies differ from docs/architecture.md, \"Crates\""
            );
        }
    }

    #[test]
    fn the_checker_sees_a_path_dependency_in_any_section() {
        let manifest = "[workspace.dependencies]\nanyhow = \"1\"\n\n[dependencies]\nserde.workspace = true\nplatforms-contract = { path = \"src/contract\" }\n\n[dev-dependencies]\nplatform-emulator = { path = \"src/emulator\" } # no\n[[bin]]\npath = \"src/bin/x.rs\"\n";
        assert_eq!(
            path_dependencies(manifest),
            [
                (
                    "dependencies".to_owned(),
                    "platforms-contract".to_owned(),
                    "src/contract".to_owned()
                ),
                (
                    "dev-dependencies".to_owned(),
                    "platform-emulator".to_owned(),
                    "src/emulator".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn every_folder_of_src_has_a_rule() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut unruled = Vec::new();
        for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir()
                && !PLATFORMS.contains(&name.as_str())
                && !SHARED.contains(&name.as_str())
            {
                unruled.push(name);
            }
        }
        assert!(
            unruled.is_empty(),
            "folders of src/ with no import rule (add them to layout::PLATFORMS or SHARED, and to docs/architecture.md): {unruled:?}"
        );
        for p in PLATFORMS {
            assert!(root.join(p).join("client").is_dir(), "src/{p}/client/");
            assert!(root.join("emulator").join(p).is_dir(), "src/emulator/{p}/");
        }
    }

    #[test]
    fn a_platform_is_forbidden_from_every_other_platform() {
        let rules = rules();
        for p in PLATFORMS {
            let own = rules
                .iter()
                .find(|r| r.dir == format!("src/{p}"))
                .map(|r| r.forbidden.clone())
                .unwrap_or_default();
            for o in PLATFORMS.iter().filter(|o| *o != p) {
                assert!(own.contains(&format!("crate::{o}")), "src/{p} may use {o}");
            }
            assert!(!own.contains(&format!("crate::{p}")));
        }
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
