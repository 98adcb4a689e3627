//! Conversions between `tf-provider`'s public types and our generated protocol types.
//!
//! `tf-provider` keeps its own generated types private, so the schema, diagnostic and
//! attribute-path conversions live here. Attribute lists are sorted by name so that
//! schemas (and the documentation generated from them) are deterministic.

use std::collections::{BTreeSet, HashMap};

use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, NestedBlock, Schema,
    StringKind,
};
use tf_provider::{AttributePath, AttributePathStep, Diagnostic, Diagnostics};

use crate::proto::tfplugin6 as pb;

/// Per-type extras that `tf-provider`'s schema types cannot express (protocol 6.8+).
#[derive(Clone, Debug, Default)]
pub struct SchemaExtras {
    /// Top-level attribute names that are write-only (never persisted in plan or state).
    pub write_only: BTreeSet<String>,
    /// The resource's identity (protocol 6.9+), if it declares one.
    pub identity: Option<super::identity::IdentitySpec>,
}

/// Convert a `tf-provider` schema into the protocol's schema.
pub fn schema(schema: &Schema, extras: &SchemaExtras) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block(&schema.block, Some(extras))),
    }
}

fn string_kind(desc: &Description) -> i32 {
    match desc.kind {
        StringKind::Plain => pb::StringKind::Plain as i32,
        StringKind::Markdown => pb::StringKind::Markdown as i32,
    }
}

fn block(block: &Block, extras: Option<&SchemaExtras>) -> pb::schema::Block {
    let mut attributes: Vec<_> = block
        .attributes
        .iter()
        .map(|(name, attr)| {
            let write_only = extras.is_some_and(|e| e.write_only.contains(name));
            attribute(name, attr, write_only)
        })
        .collect();
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    let mut block_types: Vec<_> = block
        .blocks
        .iter()
        .map(|(name, nested)| nested_block(name, nested))
        .collect();
    block_types.sort_by(|a, b| a.type_name.cmp(&b.type_name));
    pb::schema::Block {
        version: block.version,
        attributes,
        block_types,
        description: block.description.content.clone(),
        description_kind: string_kind(&block.description),
        deprecated: block.deprecated,
        deprecation_message: String::new(),
    }
}

fn nested_block(name: &str, nested: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    let (nesting, inner, min_items, max_items) = match nested {
        NestedBlock::Single(b) => (NestingMode::Single, b, 0, 0),
        NestedBlock::List(b) => (NestingMode::List, b, 0, 0),
        NestedBlock::Set(b) => (NestingMode::Set, b, 0, 0),
        NestedBlock::Map(b) => (NestingMode::Map, b, 0, 0),
        NestedBlock::Group(b) => (NestingMode::Group, b, 0, 0),
        NestedBlock::Optional(b) => (NestingMode::List, b, 0, 1),
    };
    pb::schema::NestedBlock {
        type_name: name.to_owned(),
        block: Some(block(inner, None)),
        nesting: nesting as i32,
        min_items,
        max_items,
    }
}

fn attribute(name: &str, attr: &Attribute, write_only: bool) -> pb::schema::Attribute {
    use pb::schema::object::NestingMode;
    let nested = match &attr.attr_type {
        AttributeType::AttributeSingle(a) => Some((NestingMode::Single, a)),
        AttributeType::AttributeList(a) => Some((NestingMode::List, a)),
        AttributeType::AttributeSet(a) => Some((NestingMode::Set, a)),
        AttributeType::AttributeMap(a) => Some((NestingMode::Map, a)),
        _ => None,
    };
    let (r#type, nested_type) = match nested {
        // A nested attribute carries its type in `nested_type` only.
        Some((nesting, attrs)) => (Vec::new(), Some(object(nesting, attrs))),
        None => (attr.attr_type.to_string().into_bytes(), None),
    };
    let (required, optional, computed) = match attr.constraint {
        AttributeConstraint::Required => (true, false, false),
        AttributeConstraint::Optional => (false, true, false),
        AttributeConstraint::OptionalComputed => (false, true, true),
        AttributeConstraint::Computed => (false, false, true),
    };
    pb::schema::Attribute {
        name: name.to_owned(),
        r#type,
        nested_type,
        description: attr.description.content.clone(),
        required,
        optional,
        computed,
        sensitive: attr.sensitive,
        description_kind: string_kind(&attr.description),
        deprecated: attr.deprecated,
        write_only,
        deprecation_message: String::new(),
    }
}

#[allow(deprecated)]
fn object(
    nesting: pb::schema::object::NestingMode,
    attrs: &HashMap<String, Attribute>,
) -> pb::schema::Object {
    let mut attributes: Vec<_> = attrs.iter().map(|(n, a)| attribute(n, a, false)).collect();
    attributes.sort_by(|a, b| a.name.cmp(&b.name));
    pb::schema::Object {
        attributes,
        nesting: nesting as i32,
        min_items: 0,
        max_items: 0,
    }
}

/// Convert an attribute path into the protocol's form.
pub fn attribute_path(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .steps
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    AttributePathStep::Attribute(n) => Selector::AttributeName(n.to_string()),
                    AttributePathStep::Key(k) => Selector::ElementKeyString(k.to_string()),
                    AttributePathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

/// Convert a protocol attribute path into `tf-provider`'s form.
pub fn attribute_path_from_pb(path: &pb::AttributePath) -> AttributePath {
    use pb::attribute_path::step::Selector;
    AttributePath {
        steps: path
            .steps
            .iter()
            .filter_map(|s| {
                Some(match s.selector.as_ref()? {
                    Selector::AttributeName(n) => AttributePathStep::Attribute(n.clone().into()),
                    Selector::ElementKeyString(k) => AttributePathStep::Key(k.clone().into()),
                    Selector::ElementKeyInt(i) => AttributePathStep::Index(*i),
                })
            })
            .collect(),
    }
}

/// The detail a user reads, without the Rust backtrace `tf-provider` appends.
///
/// `tf_provider::Diagnostic::new` captures a backtrace and appends it to the detail
/// (`"{detail}\n{backtrace}"`, or the backtrace alone for an empty detail) whenever
/// `RUST_BACKTRACE` or `RUST_LIB_BACKTRACE` enables capture, which is common on developers'
/// machines and in CI. About 30 frames of it would reach every diagnostic Terraform shows.
/// Every diagnostic of every provider passes through here, so it is cut once, here: from
/// the first line that opens a backtrace (`   0: `, frame 0) when every line from there on
/// is a frame (`N: symbol`) or a location (`at file:line`).
pub fn user_detail(detail: &str) -> &str {
    let mut start = 0;
    for line in detail.split_inclusive('\n') {
        if line.starts_with("   0: ") && is_backtrace(&detail[start..]) {
            return detail[..start].trim_end_matches('\n');
        }
        start += line.len();
    }
    detail
}

fn is_backtrace(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim_start();
        line.is_empty()
            || line.starts_with("at ")
            || line
                .split_once(": ")
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            || line.starts_with("note: Some details are omitted")
    })
}

fn diagnostic(d: &Diagnostic, severity: pb::diagnostic::Severity) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: severity as i32,
        summary: d.summary.to_string(),
        detail: user_detail(&d.detail).to_owned(),
        attribute: if d.attribute.steps.is_empty() {
            None
        } else {
            Some(attribute_path(&d.attribute))
        },
    }
}

/// Convert collected diagnostics into the protocol's list (errors first).
pub fn diagnostics(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    use pb::diagnostic::Severity;
    diags
        .errors
        .iter()
        .map(|d| diagnostic(d, Severity::Error))
        .chain(
            diags
                .warnings
                .iter()
                .map(|d| diagnostic(d, Severity::Warning)),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::map;

    #[test]
    fn schema_conversion_keeps_flags_and_sorts_attributes() {
        let s = Schema {
            version: 2,
            block: Block {
                attributes: map! {
                    "token" => Attribute {
                        attr_type: AttributeType::String,
                        description: Description::plain("secret"),
                        constraint: AttributeConstraint::Computed,
                        sensitive: true,
                        ..Default::default()
                    },
                    "a_name" => Attribute {
                        attr_type: AttributeType::Map(Box::new(AttributeType::String)),
                        description: Description::markdown("name"),
                        constraint: AttributeConstraint::Required,
                        ..Default::default()
                    },
                    "nested" => Attribute {
                        attr_type: AttributeType::AttributeSingle(map! {
                            "x" => Attribute { attr_type: AttributeType::Number, ..Default::default() },
                        }),
                        ..Default::default()
                    },
                },
                ..Default::default()
            },
        };
        let extras = SchemaExtras {
            write_only: ["token".to_string()].into(),
            ..Default::default()
        };
        let out = schema(&s, &extras);
        assert_eq!(out.version, 2);
        let attrs = out.block.expect("block").attributes;
        let names: Vec<_> = attrs.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["a_name", "nested", "token"]);
        assert!(attrs[0].required && !attrs[0].optional && !attrs[0].computed);
        assert_eq!(attrs[0].r#type, br#"["map","string"]"#);
        assert_eq!(attrs[0].description_kind, pb::StringKind::Markdown as i32);
        assert!(
            attrs[1].r#type.is_empty(),
            "nested attributes carry no type"
        );
        assert!(attrs[1].nested_type.is_some());
        assert!(attrs[2].sensitive && attrs[2].computed && attrs[2].write_only);
    }

    #[test]
    fn diagnostics_keep_attribute_paths_and_severity() {
        let mut diags = Diagnostics::default();
        diags.error("bad", "detail", AttributePath::new("ttl_seconds"));
        diags.root_warning("careful", "detail");
        let out = diagnostics(&diags);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].severity, pb::diagnostic::Severity::Error as i32);
        let path = out[0].attribute.as_ref().expect("path");
        assert_eq!(
            attribute_path_from_pb(path),
            AttributePath::new("ttl_seconds")
        );
        assert_eq!(out[1].severity, pb::diagnostic::Severity::Warning as i32);
        assert!(out[1].attribute.is_none());
    }

    #[test]
    fn backtraces_are_cut_from_details() {
        let frames = "   0: tf_provider::diagnostics::Diagnostic::new\n             at /src/diagnostics.rs:207:25\n   1: <platforms::plugin::X as Y>::validate::{{closure}}\n             at ./src/plugin/framework.rs:357:40\n  12: std::rt::lang_start\n";
        assert_eq!(
            user_detail(&format!("size must be 1 to 100\n{frames}")),
            "size must be 1 to 100"
        );
        assert_eq!(user_detail(frames), "");
        assert_eq!(
            user_detail(&format!("first line\nsecond line\n{frames}")),
            "first line\nsecond line"
        );
        // Text that merely looks like a list is kept.
        let listed = "Choose one:\n 0: off\n 1: on\nthen apply again.";
        assert_eq!(user_detail(listed), listed);
        assert_eq!(user_detail("plain"), "plain");
        // The real thing, whatever this test run's RUST_BACKTRACE says.
        let captured = format!("detail\n{}", std::backtrace::Backtrace::force_capture());
        assert_eq!(user_detail(&captured), "detail");
    }
}
