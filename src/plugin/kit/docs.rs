//! Documentation pages generated from a provider's schema, so the docs cannot drift from
//! the code: each provider has a test (`docs_match_the_schema`) that fails when its
//! checked-in pages differ from what its schema gives, and writes them instead when
//! `UPDATE_DOCS=1` is set ([`check_or_write`]):
//! `UPDATE_DOCS=1 cargo test --lib docs_match_the_schema` regenerates every provider's pages
//! (no binary of its own: one link fewer in every edit-build-test loop).
//!
//! Layout (the one the Terraform registry reads), under a provider's docs folder:
//! `index.md` for the provider, `resources/<name>.md`, `data-sources/<name>.md`,
//! `ephemeral-resources/<name>.md`, `actions/<name>.md` (its example from
//! `actions/<type>/action.tf`), where `<name>` is the type name without the provider's
//! prefix, and `functions/<name>.md` for each provider function (its example from
//! `functions/<name>/function.tf`). Examples come from the provider's examples folder and
//! are embedded verbatim. Every resource, data source, ephemeral resource and action page
//! ends with "Terraform and OpenTofu versions": the minimum version of each feature the
//! type has, derived from what it registers (write-only attributes, an identity, a list).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::plugin::Provider;
use crate::proto::tfplugin6 as pb;

/// Where one provider's docs and examples live, relative to the repository root.
#[derive(Debug, Clone, Copy)]
pub struct DocsSpec {
    /// The provider's name, which prefixes its type names (`comwit`).
    pub name: &'static str,
    /// The docs folder (`docs`).
    pub docs: &'static str,
    /// The examples folder (`examples`).
    pub examples: &'static str,
}

/// The minimum Terraform version of a kind of type, said on its pages.
fn minimum_version(dir: &str) -> Option<&'static str> {
    match dir {
        "ephemeral-resources" => Some(
            "Ephemeral resources need Terraform 1.10 or later, or OpenTofu 1.11 or later. \
             Their values never reach the plan or the state.",
        ),
        "actions" => Some(
            "Actions need Terraform 1.14 or later (no OpenTofu release has them: 1.12 does \
             not). Run \
             one with `terraform apply -invoke=action.<type>.<name>`, or after a resource's \
             create or update from its `lifecycle { action_trigger { ... } }`. An action \
             changes no Terraform state; its progress lines show in Terraform's output \
             (`action_progress` with `-json`).",
        ),
        _ => None,
    }
}

/// The "Terraform and OpenTofu versions" section of a type's page: the minimum version of
/// each feature the type has, from what it registers (its kind, write-only attributes, an
/// identity, a list). The versions are those of README's table and
/// `docs/plugin-features.md`. OpenTofu's, read in its sources (`opentofu/opentofu`): provider
/// functions 1.7.0 (CHANGELOG, #1439); ephemeral resources and write-only attributes 1.11.0
/// (CHANGELOG, #2834; its client announces `write_only_attributes_allowed` from then on);
/// import by identity 1.12.0 (#3671, "Implement resource identity support": `import { identity
/// = ... }` and the identity RPCs; not in its CHANGELOG); no list, query, generated
/// configuration or action RPC up to 1.12 (its `GRPCProvider` calls none of them).
fn versions(dir: &str, schema: &pb::Schema, identity: bool, list: bool) -> String {
    let mut rows: Vec<(String, &str, &str)> = vec![];
    match dir {
        "resources" => rows.push((
            "this resource, import by id (`terraform import`, `import` blocks)".into(),
            "1.6",
            "1.6",
        )),
        "data-sources" => rows.push(("this data source".into(), "1.6", "1.6")),
        "ephemeral-resources" => rows.push(("this ephemeral resource".into(), "1.10", "1.11")),
        "actions" => rows.push(("this action".into(), "1.14", "none")),
        _ => return String::new(),
    }
    let write_only: Vec<String> = schema
        .block
        .iter()
        .flat_map(|b| &b.attributes)
        .filter(|a| a.write_only)
        .map(|a| format!("`{}`", a.name))
        .collect();
    if !write_only.is_empty() {
        rows.push((
            format!("write-only attributes ({})", write_only.join(", ")),
            "1.11",
            "1.11",
        ));
    }
    if identity {
        rows.push((
            "import by resource identity (`import { identity = {...} }`)".into(),
            "1.12",
            "1.12",
        ));
    }
    if list {
        rows.push((
            "list resource (`terraform query`) and generated configuration".into(),
            "1.14",
            "none",
        ));
    }
    let mut out = String::from(
        "## Terraform and OpenTofu versions\n\n| feature | Terraform | OpenTofu |\n|---|---|---|\n",
    );
    for (feature, terraform, tofu) in rows {
        let _ = writeln!(out, "| {feature} | {terraform} | {tofu} |");
    }
    out
}

/// Render every page of `provider`, keyed by path relative to the repository root.
pub fn render_all<P: Provider + Clone>(
    provider: &P,
    spec: &DocsSpec,
    root: &Path,
) -> BTreeMap<PathBuf, String> {
    let schema = crate::plugin::provider_schema(provider);
    let identities = crate::plugin::identity_schemas(provider);
    let lists: std::collections::BTreeSet<String> = {
        let mut registry = crate::plugin::Registry::default();
        provider.register(&mut registry);
        registry.list_resources.into_keys().collect()
    };
    let docs = Path::new(spec.docs);
    let examples = spec.examples;
    let prefix = format!("{}_", spec.name);
    let mut pages = BTreeMap::new();
    if let Some(p) = &schema.provider {
        pages.insert(
            docs.join("index.md"),
            page(
                &format!("{} Provider", spec.name),
                p,
                read(root, &format!("{examples}/provider/provider.tf")),
                None,
                None,
                String::new(),
            ),
        );
    }
    // (heading, docs and examples folder, example file name, schemas)
    for (kind, dir, file, map) in [
        (
            "Resource",
            "resources",
            "resource.tf",
            &schema.resource_schemas,
        ),
        (
            "Data Source",
            "data-sources",
            "data-source.tf",
            &schema.data_source_schemas,
        ),
        (
            "Ephemeral Resource",
            "ephemeral-resources",
            "ephemeral-resource.tf",
            &schema.ephemeral_resource_schemas,
        ),
    ] {
        for (type_name, s) in map {
            let short = type_name.strip_prefix(&prefix).unwrap_or(type_name);
            let example = read(root, &format!("{examples}/{dir}/{type_name}/{file}"));
            let mut import = if dir == "resources" {
                read(root, &format!("{examples}/{dir}/{type_name}/import.sh"))
            } else {
                None
            };
            if let (Some(text), Some(identity)) = (import.as_mut(), identities.get(type_name)) {
                text.push_str(&identity_import_example(type_name, identity));
            }
            pages.insert(
                docs.join(dir).join(format!("{short}.md")),
                page(
                    &format!("{type_name} ({kind})"),
                    s,
                    example,
                    import,
                    minimum_version(dir),
                    versions(
                        dir,
                        s,
                        dir == "resources" && identities.contains_key(type_name),
                        dir == "resources" && lists.contains(type_name),
                    ),
                ),
            );
        }
    }
    for (type_name, action) in &schema.action_schemas {
        let Some(s) = &action.schema else { continue };
        let short = type_name.strip_prefix(&prefix).unwrap_or(type_name);
        let example = read(root, &format!("{examples}/actions/{type_name}/action.tf"));
        pages.insert(
            docs.join("actions").join(format!("{short}.md")),
            page(
                &format!("{type_name} (Action)"),
                s,
                example,
                None,
                minimum_version("actions"),
                versions("actions", s, false, false),
            ),
        );
    }
    for (name, f) in &schema.functions {
        let example = read(root, &format!("{examples}/functions/{name}/function.tf"));
        pages.insert(
            docs.join("functions").join(format!("{name}.md")),
            function_page(spec.name, name, f, example),
        );
    }
    pages
}

/// A provider function's page, laid out as the Terraform registry shows functions: summary,
/// the version note, example, signature, arguments, return type.
fn function_page(provider: &str, name: &str, f: &pb::Function, example: Option<String>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- Generated from the provider schema by `UPDATE_DOCS=1 cargo test --lib docs_match_the_schema`. Do not edit. -->\n"
    );
    let _ = writeln!(out, "# function: {name}\n");
    if !f.summary.is_empty() {
        let _ = writeln!(out, "{}\n", f.summary.trim());
    }
    if !f.description.is_empty() {
        let _ = writeln!(out, "{}\n", f.description.trim());
    }
    let _ = writeln!(
        out,
        "-> Provider functions need Terraform 1.8 or later, or OpenTofu 1.7 or later. Call it as \
         `provider::{provider}::{name}(...)`.\n"
    );
    if let Some(example) = example {
        let _ = writeln!(
            out,
            "## Example Usage\n\n```terraform\n{}\n```\n",
            example.trim_end()
        );
    }
    let mut params: Vec<String> = f
        .parameters
        .iter()
        .map(|p| format!("{} {}", p.name, signature_type(&p.r#type)))
        .collect();
    if let Some(v) = &f.variadic_parameter {
        params.push(format!("{}... {}", v.name, signature_type(&v.r#type)));
    }
    let returns = f
        .r#return
        .as_ref()
        .map_or_else(|| "dynamic".to_owned(), |r| signature_type(&r.r#type));
    let _ = writeln!(
        out,
        "## Signature\n\n```text\n{name}({}) {returns}\n```\n",
        params.join(", ")
    );
    if !f.parameters.is_empty() || f.variadic_parameter.is_some() {
        let _ = writeln!(out, "## Arguments\n");
        let variadic = f.variadic_parameter.iter().map(|p| (p, true));
        for (i, (p, is_variadic)) in f
            .parameters
            .iter()
            .map(|p| (p, false))
            .chain(variadic)
            .enumerate()
        {
            let mut flags = vec![cty_text_label(&p.r#type)];
            if is_variadic {
                flags.push("Variadic".into());
            }
            if p.allow_null_value {
                flags.push("Nullable".into());
            }
            let _ = writeln!(
                out,
                "{}. `{}` ({}) {}",
                i + 1,
                p.name,
                flags.join(", "),
                p.description.trim().replace('\n', " ")
            );
        }
        out.push('\n');
    }
    if let Some(r) = &f.r#return {
        let _ = writeln!(out, "## Return Type\n\n{}", return_text(&r.r#type));
    }
    out.trim_end().to_owned() + "\n"
}

/// A cty type (JSON bytes) as a signature writes it: `string`, `number`, `list(string)`,
/// `object`, ...
fn signature_type(t: &[u8]) -> String {
    fn text(t: &serde_json::Value) -> String {
        match t {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(parts) => {
                let outer = parts.first().and_then(|v| v.as_str()).unwrap_or("dynamic");
                match (outer, parts.get(1)) {
                    ("list" | "set" | "map", Some(inner)) => format!("{outer}({})", text(inner)),
                    _ => outer.to_owned(),
                }
            }
            _ => "dynamic".into(),
        }
    }
    serde_json::from_slice::<serde_json::Value>(t).map_or_else(|_| "dynamic".into(), |v| text(&v))
}

fn cty_text_label(t: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(t)
        .map_or_else(|_| "Dynamic".into(), |v| cty_label(&v))
}

/// The return type; an object lists its attributes, sorted.
fn return_text(t: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(t) else {
        return "Dynamic".into();
    };
    if let (Some("object"), Some(serde_json::Value::Object(fields))) =
        (v.get(0).and_then(|o| o.as_str()), v.get(1))
    {
        let mut names: Vec<_> = fields.iter().collect();
        names.sort_by(|a, b| a.0.cmp(b.0));
        let mut out = String::from("Object with attributes:\n\n");
        for (name, ty) in names {
            let _ = writeln!(out, "- `{name}` ({})", cty_label(ty));
        }
        return out;
    }
    cty_label(&v)
}

/// The paths of `pages` whose checked-in file under `root` differs (for the docs tests).
pub fn stale_pages(root: &Path, pages: &BTreeMap<PathBuf, String>) -> Vec<String> {
    pages
        .iter()
        .filter(|(path, content)| {
            std::fs::read_to_string(root.join(path)).ok().as_deref() != Some(content.as_str())
        })
        .map(|(path, _)| path.display().to_string())
        .collect()
}

/// The docs test of a provider: with `UPDATE_DOCS=1` in the environment it writes every page
/// that differs from `pages` (and says which); otherwise it lists the stale ones, so the
/// test fails naming them and the command that regenerates them.
pub fn check_or_write(root: &Path, pages: &BTreeMap<PathBuf, String>) -> Result<(), String> {
    let stale = stale_pages(root, pages);
    if stale.is_empty() {
        return Ok(());
    }
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        for (path, content) in pages {
            let full = root.join(path);
            if std::fs::read_to_string(&full).ok().as_deref() == Some(content.as_str()) {
                continue;
            }
            if let Some(dir) = full.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(&full, content).map_err(|e| format!("{}: {e}", full.display()))?;
            eprintln!("wrote {}", path.display());
        }
        return Ok(());
    }
    Err(format!(
        "generated docs are out of date: {stale:?}. Run `UPDATE_DOCS=1 cargo test --lib docs_match_the_schema`."
    ))
}

/// An `import` block using the resource identity (Terraform 1.12+), appended to the import
/// section as an HCL comment block.
fn identity_import_example(type_name: &str, identity: &pb::ResourceIdentitySchema) -> String {
    let fields: Vec<String> = identity
        .identity_attributes
        .iter()
        .map(|a| format!("{} = \"...\"", a.name))
        .collect();
    format!(
        "\n# Terraform 1.12 and later can also import by identity ({}):\n#\n# import {{\n#   to       = {type_name}.example\n#   identity = {{ {} }}\n# }}\n",
        identity
            .identity_attributes
            .iter()
            .map(|a| format!("`{}`: {}", a.name, a.description))
            .collect::<Vec<_>>()
            .join("; "),
        fields.join(", ")
    )
}

fn read(root: &Path, rel: &str) -> Option<String> {
    std::fs::read_to_string(root.join(rel)).ok()
}

fn page(
    title: &str,
    schema: &pb::Schema,
    example: Option<String>,
    import: Option<String>,
    note: Option<&str>,
    versions: String,
) -> String {
    let mut out = String::new();
    let block = schema.block.clone().unwrap_or_default();
    let _ = writeln!(
        out,
        "<!-- Generated from the provider schema by `UPDATE_DOCS=1 cargo test --lib docs_match_the_schema`. Do not edit. -->\n"
    );
    let _ = writeln!(out, "# {title}\n");
    if !block.description.is_empty() {
        let _ = writeln!(out, "{}\n", block.description.trim());
    }
    if let Some(note) = note {
        let _ = writeln!(out, "-> {note}\n");
    }
    if let Some(example) = example {
        let _ = writeln!(
            out,
            "## Example Usage\n\n```terraform\n{}\n```\n",
            example.trim_end()
        );
    }
    let _ = writeln!(out, "## Schema\n");
    type Pick = fn(&pb::schema::Attribute) -> bool;
    let groups: [(&str, Pick); 3] = [
        ("Required", |a| a.required),
        ("Optional", |a| a.optional),
        ("Read-Only", |a| a.computed && !a.optional),
    ];
    for (heading, pick) in groups {
        let attrs: Vec<_> = block.attributes.iter().filter(|a| pick(a)).collect();
        if attrs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {heading}\n");
        for a in attrs {
            let mut flags = vec![type_label(a)];
            if a.sensitive {
                flags.push("Sensitive".into());
            }
            if a.write_only {
                flags.push("Write-only".into());
            }
            if a.deprecated {
                flags.push("Deprecated".into());
            }
            let _ = writeln!(
                out,
                "- `{}` ({}) {}",
                a.name,
                flags.join(", "),
                a.description.trim().replace('\n', " ")
            );
        }
        out.push('\n');
    }
    if let Some(import) = import {
        let _ = writeln!(
            out,
            "## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```\n",
            import.trim_end()
        );
    }
    if !versions.is_empty() {
        let _ = writeln!(out, "{versions}");
    }
    out.trim_end().to_owned() + "\n"
}

fn type_label(a: &pb::schema::Attribute) -> String {
    if a.nested_type.is_some() {
        return "Attributes".into();
    }
    match serde_json::from_slice::<serde_json::Value>(&a.r#type) {
        Ok(t) => cty_label(&t),
        Err(_) => "Dynamic".into(),
    }
}

/// A cty type as the docs name it: `String`, `List of String`, `List of Object`, ...
fn cty_label(t: &serde_json::Value) -> String {
    match t {
        serde_json::Value::String(s) if s == "dynamic" => "Dynamic".into(),
        serde_json::Value::String(s) => capitalize(s),
        serde_json::Value::Array(parts) => {
            let outer = parts.first().and_then(|v| v.as_str()).unwrap_or("");
            match (outer, parts.get(1)) {
                ("list" | "set" | "map", Some(inner)) => {
                    format!("{} of {}", capitalize(outer), cty_label(inner))
                }
                _ => capitalize(outer),
            }
        }
        _ => "Dynamic".into(),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_what_the_type_registers() {
        let schema = pb::Schema {
            block: Some(pb::schema::Block {
                attributes: vec![
                    pb::schema::Attribute {
                        name: "secret_wo".into(),
                        write_only: true,
                        ..Default::default()
                    },
                    pb::schema::Attribute {
                        name: "label".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        let all = versions("resources", &schema, true, true);
        assert!(
            all.starts_with("## Terraform and OpenTofu versions"),
            "{all}"
        );
        assert!(all.contains("| write-only attributes (`secret_wo`) | 1.11 | 1.11 |"));
        assert!(
            all.contains(
                "| import by resource identity (`import { identity = {...} }`) | 1.12 | 1.12 |"
            ),
            "{all}"
        );
        assert!(!all.contains("not yet"), "{all}");
        assert!(all.contains("| 1.14 | none |"), "{all}");
        assert!(!all.contains("`label`"), "{all}");
        let plain = versions("resources", &pb::Schema::default(), false, false);
        assert_eq!(
            plain.lines().filter(|l| l.starts_with("| ")).count(),
            2,
            "{plain}"
        );
        assert!(
            !plain.contains("identity") && !plain.contains("1.14"),
            "{plain}"
        );
        assert!(
            versions("actions", &schema, false, false).contains("| this action | 1.14 | none |")
        );
        assert!(
            versions("ephemeral-resources", &pb::Schema::default(), false, false)
                .contains("| this ephemeral resource | 1.10 | 1.11 |")
        );
        assert!(versions("functions", &schema, false, false).is_empty());
    }

    #[test]
    fn collection_types_name_their_elements() {
        let label = |t: &str| cty_label(&serde_json::from_str(t).unwrap());
        assert_eq!(label(r#""string""#), "String");
        assert_eq!(label(r#"["list","string"]"#), "List of String");
        assert_eq!(
            label(r#"["list",["object",{"id":"string"}]]"#),
            "List of Object"
        );
        assert_eq!(
            label(r#"["map",["list","number"]]"#),
            "Map of List of Number"
        );
    }

    #[test]
    fn function_pages_give_signature_arguments_and_return_type() {
        let f = pb::Function {
            parameters: vec![pb::function::Parameter {
                name: "url".into(),
                r#type: br#""string""#.to_vec(),
                allow_null_value: true,
                description: "A URL.".into(),
                ..Default::default()
            }],
            variadic_parameter: Some(pb::function::Parameter {
                name: "part".into(),
                r#type: br#"["list","string"]"#.to_vec(),
                ..Default::default()
            }),
            r#return: Some(pb::function::Return {
                r#type: br#"["object",{"port":"number","host":"string"}]"#.to_vec(),
            }),
            summary: "Split a URL.".into(),
            ..Default::default()
        };
        let page = function_page("p", "split", &f, Some("output \"x\" {}\n".into()));
        assert!(page.contains("# function: split\n"), "{page}");
        assert!(page.contains("provider::p::split(...)"), "{page}");
        assert!(
            page.contains("split(url string, part... list(string)) object"),
            "{page}"
        );
        assert!(
            page.contains("1. `url` (String, Nullable) A URL."),
            "{page}"
        );
        assert!(
            page.contains("2. `part` (List of String, Variadic)"),
            "{page}"
        );
        assert!(
            page.contains("- `host` (String)\n- `port` (Number)"),
            "attributes sorted: {page}"
        );
        assert!(
            page.contains("```terraform\noutput \"x\" {}\n```"),
            "{page}"
        );
    }
}
