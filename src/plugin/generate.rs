//! GenerateResourceConfig (protocol 6.10, Terraform 1.14+, behind the
//! `generate_resource_config` server capability): the configuration `terraform plan
//! -generate-config-out` and `terraform query -generate-config-out` write for an object
//! found by an import or a list.
//!
//! Every resource type gets the default: the state, minus what a user cannot or should not
//! write: computed-only attributes (at every depth), sensitive and write-only values (the
//! API never returns a secret a user must supply; Terraform shows the attribute for the
//! user to fill in), and values equal to the server default the type declares in its
//! [`ConfigRules`]. A type adds its rules with `Registry::config_rules`.

use rmpv::Value as Mp;

use crate::proto::tfplugin6 as pb;

/// What a resource type tells the generator beyond its schema.
#[derive(Clone, Debug, Default)]
pub struct ConfigRules {
    /// Attributes the platform sets when none is given, with that value: left out of
    /// generated configuration when the state holds exactly it. A top-level attribute by
    /// its name; one inside a nested block or nested attribute by its dotted path
    /// (`"backup.retention_days"`), which holds in every element of a list, set or map.
    pub defaults: Vec<(&'static str, Mp)>,
    /// Attributes never written (besides computed-only, sensitive and write-only ones),
    /// e.g. an argument that only matters at creation; named as in `defaults`.
    pub omit: Vec<&'static str>,
}

/// A top-level attribute's default that the configured provider gives (a provider-level
/// `project_id`, say), registered with `Registry::provider_default`: read when the
/// configuration is generated, and the attribute left out when the state holds exactly that
/// value. A provider not yet configured gives `None`, and the value is then written.
#[derive(Clone)]
pub struct ProviderDefault(std::sync::Arc<dyn Fn() -> Option<Mp> + Send + Sync>);

impl ProviderDefault {
    /// A default read from the configured provider each time configuration is generated.
    pub fn new(read: impl Fn() -> Option<Mp> + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(read))
    }
}

impl std::fmt::Debug for ProviderDefault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProviderDefault(..)")
    }
}

/// What the generator knows of a type beyond its schema: its rules and the defaults its
/// configured provider gives.
#[derive(Clone, Copy, Default)]
pub(crate) struct Rules<'a> {
    pub(crate) rules: Option<&'a ConfigRules>,
    pub(crate) provider_defaults: &'a [(&'static str, ProviderDefault)],
}

impl Rules<'_> {
    /// Whether `value` of the attribute at `path` (a top-level name, or a dotted path into
    /// nested blocks) is left out. Provider defaults are top-level only.
    fn omits(&self, path: &str, value: &Mp) -> bool {
        self.rules.is_some_and(|r| {
            r.omit.contains(&path) || r.defaults.iter().any(|(n, d)| *n == path && same(value, d))
        }) || self
            .provider_defaults
            .iter()
            .any(|(n, d)| *n == path && (d.0)().is_some_and(|d| same(value, &d)))
    }
}

/// `name` under `prefix` (a dotted path; the empty prefix is the top level).
fn path_of(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn same(a: &Mp, b: &Mp) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn is_unknown(v: &Mp) -> bool {
    matches!(v, Mp::Ext(0, _))
}

/// Keep only what a user writes, for one block's object value; `prefix` is the block's
/// dotted path (empty at the top level).
fn block(value: &mut Mp, schema: &pb::schema::Block, rules: Rules<'_>, prefix: &str) {
    let Mp::Map(entries) = value else { return };
    for (key, v) in entries.iter_mut() {
        let Some(name) = key.as_str() else { continue };
        if is_unknown(v) {
            *v = Mp::Nil;
            continue;
        }
        let path = path_of(prefix, name);
        if let Some(attr) = schema.attributes.iter().find(|a| a.name == name) {
            let computed_only = attr.computed && !attr.optional && !attr.required;
            let omitted = rules.omits(&path, v);
            if computed_only || attr.sensitive || attr.write_only || omitted {
                *v = Mp::Nil;
            } else if let Some(object) = &attr.nested_type {
                nested_attribute(v, object, rules, &path);
            }
        } else if let Some(nested) = schema.block_types.iter().find(|b| b.type_name == name) {
            if let Some(inner) = &nested.block {
                let is_map = nested.nesting == pb::schema::nested_block::NestingMode::Map as i32;
                each_element(v, is_map, &|e| block(e, inner, rules, &path));
            }
        }
    }
}

fn nested_attribute(value: &mut Mp, object: &pb::schema::Object, rules: Rules<'_>, path: &str) {
    let as_block = pb::schema::Block {
        attributes: object.attributes.clone(),
        ..Default::default()
    };
    let is_map = object.nesting == pb::schema::object::NestingMode::Map as i32;
    each_element(value, is_map, &|e| block(e, &as_block, rules, path));
}

/// Apply `f` to the object (single), each element (list, set) or each value (map).
fn each_element(value: &mut Mp, is_map: bool, f: &dyn Fn(&mut Mp)) {
    match value {
        Mp::Array(items) => items.iter_mut().for_each(f),
        Mp::Map(entries) if is_map => entries.iter_mut().for_each(|(_, v)| f(v)),
        Mp::Map(_) => f(value),
        _ => {}
    }
}

/// The smallest configuration for `state` (msgpack) under `schema`: every attribute of the
/// schema is present, the ones a user would not write are null.
pub(crate) fn from_state(
    state: &[u8],
    schema: &pb::Schema,
    rules: Rules<'_>,
) -> Result<Vec<u8>, String> {
    let mut value = rmpv::decode::read_value(&mut &state[..]).map_err(|e| e.to_string())?;
    if value.is_nil() {
        return Err("the state is null".into());
    }
    if let Some(b) = &schema.block {
        block(&mut value, b, rules, "");
    }
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &value).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str, required: bool, optional: bool, computed: bool) -> pb::schema::Attribute {
        pb::schema::Attribute {
            name: name.into(),
            required,
            optional,
            computed,
            ..Default::default()
        }
    }

    fn get<'a>(v: &'a Mp, name: &str) -> &'a Mp {
        v.as_map()
            .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(name)))
            .map_or(&Mp::Nil, |(_, v)| v)
    }

    #[test]
    fn computed_only_secret_and_default_values_are_left_out() {
        let schema = pb::Schema {
            version: 0,
            block: Some(pb::schema::Block {
                attributes: vec![
                    attr("id", false, false, true),
                    attr("name", true, false, false),
                    attr("size", false, true, true),
                    attr("region", false, true, true),
                    pb::schema::Attribute {
                        sensitive: true,
                        ..attr("password", false, true, false)
                    },
                    pb::schema::Attribute {
                        write_only: true,
                        ..attr("password_wo", false, true, false)
                    },
                ],
                ..Default::default()
            }),
        };
        let state = Mp::Map(vec![
            ("id".into(), "x1".into()),
            ("name".into(), "a".into()),
            ("size".into(), Mp::F64(1.0)),
            ("region".into(), "eu".into()),
            ("password".into(), "hunter2".into()),
            ("password_wo".into(), Mp::Nil),
        ]);
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &state).expect("encode");
        let rules = ConfigRules {
            defaults: vec![("size", 1.into()), ("region", "us".into())],
            ..Default::default()
        };
        let with = |rules| Rules {
            rules: Some(rules),
            provider_defaults: &[],
        };
        let out = from_state(&bytes, &schema, with(&rules)).expect("config");
        let out = rmpv::decode::read_value(&mut &out[..]).expect("decode");
        assert_eq!(get(&out, "name").as_str(), Some("a"));
        assert_eq!(get(&out, "region").as_str(), Some("eu"), "not the default");
        // A provider default is read when generating: left out only when it is the value.
        let configured = std::sync::Arc::new(std::sync::Mutex::new(None::<&str>));
        let seen = configured.clone();
        let provider_defaults = [(
            "region",
            ProviderDefault::new(move || {
                seen.lock()
                    .ok()
                    .and_then(|r| r.map(|r| Mp::from(r.to_owned())))
            }),
        )];
        let rules = Rules {
            rules: None,
            provider_defaults: &provider_defaults,
        };
        let region = |rules: &Rules| {
            let out = from_state(&bytes, &schema, *rules).expect("config");
            let out = rmpv::decode::read_value(&mut &out[..]).expect("decode");
            get(&out, "region").as_str().map(str::to_owned)
        };
        assert_eq!(region(&rules).as_deref(), Some("eu"), "not configured yet");
        *configured.lock().expect("lock") = Some("us");
        assert_eq!(region(&rules).as_deref(), Some("eu"), "another default");
        *configured.lock().expect("lock") = Some("eu");
        assert_eq!(region(&rules), None, "the provider's default");
        for gone in ["id", "size", "password", "password_wo"] {
            assert!(get(&out, gone).is_nil(), "{gone} = {:?}", get(&out, gone));
        }
        assert_eq!(
            out.as_map().map(Vec::len),
            Some(6),
            "every attribute present"
        );
        assert!(from_state(&[0xc0], &schema, Rules::default()).is_err());
        assert!(from_state(&[0xc1], &schema, Rules::default()).is_err());
    }

    #[test]
    fn defaults_inside_nested_blocks_are_left_out_by_their_path() {
        let inner = pb::schema::Block {
            attributes: vec![
                attr("retention_days", false, true, true),
                attr("hour", false, true, true),
            ],
            ..Default::default()
        };
        let schema = pb::Schema {
            version: 0,
            block: Some(pb::schema::Block {
                attributes: vec![
                    attr("retention_days", false, true, true),
                    pb::schema::Attribute {
                        nested_type: Some(pb::schema::Object {
                            attributes: vec![attr("mode", false, true, true)],
                            nesting: pb::schema::object::NestingMode::List as i32,
                            ..Default::default()
                        }),
                        ..attr("rules", false, true, false)
                    },
                ],
                block_types: vec![pb::schema::NestedBlock {
                    type_name: "backup".into(),
                    block: Some(inner),
                    nesting: pb::schema::nested_block::NestingMode::List as i32,
                    ..Default::default()
                }],
                ..Default::default()
            }),
        };
        let element = |days: i64, hour: i64| {
            Mp::Map(vec![
                ("retention_days".into(), days.into()),
                ("hour".into(), hour.into()),
            ])
        };
        let rule = |mode: &str| Mp::Map(vec![("mode".into(), mode.into())]);
        let state = Mp::Map(vec![
            ("retention_days".into(), 7.into()),
            ("rules".into(), Mp::Array(vec![rule("allow"), rule("deny")])),
            (
                "backup".into(),
                Mp::Array(vec![element(7, 2), element(30, 2)]),
            ),
        ]);
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &state).expect("encode");
        let rules = ConfigRules {
            defaults: vec![
                ("backup.retention_days", 7.into()),
                ("rules.mode", "allow".into()),
            ],
            omit: vec!["backup.hour"],
        };
        let out = from_state(
            &bytes,
            &schema,
            Rules {
                rules: Some(&rules),
                provider_defaults: &[],
            },
        )
        .expect("config");
        let out = rmpv::decode::read_value(&mut &out[..]).expect("decode");
        // The top-level attribute of the same name is not the nested one's default.
        assert_eq!(get(&out, "retention_days").as_i64(), Some(7));
        let backup = get(&out, "backup").as_array().cloned().unwrap_or_default();
        assert_eq!(backup.len(), 2, "{out}");
        assert!(
            get(&backup[0], "retention_days").is_nil(),
            "the default: {out}"
        );
        assert_eq!(
            get(&backup[1], "retention_days").as_i64(),
            Some(30),
            "{out}"
        );
        assert!(
            backup.iter().all(|b| get(b, "hour").is_nil()),
            "omitted: {out}"
        );
        let modes: Vec<_> = get(&out, "rules")
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| get(r, "mode").as_str().map(str::to_owned))
            .collect();
        assert_eq!(modes, [None, Some("deny".to_owned())], "{out}");
    }
}
