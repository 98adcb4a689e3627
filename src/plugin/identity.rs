//! Resource identity (protocol 6.9+, Terraform 1.12+): a small object stored beside a
//! resource's state that names the remote object, so `import` blocks can use
//! `identity = { ... }` instead of an opaque id string.
//!
//! Our identities are made of top-level string attributes of the state (for example `id`),
//! so the server derives them from the state the resource returns: no resource code needed.

use rmpv::Value as Mp;
use tf_provider::Diagnostics;

use crate::proto::tfplugin6 as pb;

/// One identity attribute: a top-level string attribute of the state.
#[derive(Clone, Debug)]
pub struct IdentityAttribute {
    /// Attribute name (same as in the state).
    pub name: &'static str,
    /// User documentation.
    pub description: &'static str,
    /// Whether an `import` block must give it.
    pub required_for_import: bool,
}

/// A resource's identity schema.
#[derive(Clone, Debug)]
pub struct IdentitySpec {
    /// Identity schema version.
    pub version: i64,
    /// The attributes, in order; the first is the one an import id string maps to.
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySpec {
    /// The protocol schema.
    pub fn schema(&self) -> pb::ResourceIdentitySchema {
        pb::ResourceIdentitySchema {
            version: self.version,
            identity_attributes: self
                .attributes
                .iter()
                .map(|a| pb::resource_identity_schema::IdentityAttribute {
                    name: a.name.to_owned(),
                    r#type: br#""string""#.to_vec(),
                    required_for_import: a.required_for_import,
                    optional_for_import: !a.required_for_import,
                    description: a.description.to_owned(),
                })
                .collect(),
        }
    }

    /// The identity of an encoded state, when every identity attribute is known and the
    /// state is not null.
    pub fn from_state(&self, state_msgpack: &[u8]) -> Option<pb::ResourceIdentityData> {
        let state = rmpv::decode::read_value(&mut &state_msgpack[..]).ok()?;
        self.from_value(&state)
    }

    /// [`IdentitySpec::from_state`] of a state already decoded.
    pub fn from_value(&self, state: &Mp) -> Option<pb::ResourceIdentityData> {
        let map = state.as_map()?;
        let mut out = Vec::with_capacity(self.attributes.len());
        for attr in &self.attributes {
            let value = map
                .iter()
                .find(|(k, _)| k.as_str() == Some(attr.name))
                .map(|(_, v)| v.clone())
                .unwrap_or(Mp::Nil);
            if matches!(value, Mp::Ext(..)) {
                return None; // unknown
            }
            out.push((Mp::from(attr.name), value));
        }
        identity_data(out)
    }

    /// An identity Terraform stored as JSON (`UpgradeResourceIdentity`), re-encoded for the
    /// current schema: each attribute is taken by name (a missing one is null), anything
    /// else is dropped. Every version so far has the same attributes, so upgrading is
    /// re-reading; an identity from a newer schema version is refused.
    pub fn upgrade(&self, version: i64, json: &[u8]) -> Result<pb::ResourceIdentityData, String> {
        if version > self.version {
            return Err(format!(
                "The stored identity has schema version {version}, but this provider only \
                 knows version {}. Upgrade the provider.",
                self.version
            ));
        }
        let stored: serde_json::Value = serde_json::from_slice(json)
            .map_err(|e| format!("The stored identity is not valid JSON: {e}."))?;
        let serde_json::Value::Object(stored) = stored else {
            return Err("The stored identity is not a JSON object.".into());
        };
        let mut out = Vec::with_capacity(self.attributes.len());
        for attr in &self.attributes {
            let value = match stored.get(attr.name) {
                None | Some(serde_json::Value::Null) => Mp::Nil,
                Some(serde_json::Value::String(s)) => Mp::from(s.as_str()),
                Some(other) => {
                    return Err(format!(
                        "The stored identity attribute `{}` is {other}, not a string.",
                        attr.name
                    ))
                }
            };
            out.push((Mp::from(attr.name), value));
        }
        identity_data(out).ok_or_else(|| "Encoding the identity failed.".to_owned())
    }

    /// The import id an identity stands for: its attributes' string values in order,
    /// joined with `/` (`app_1/bld_2`; one attribute: its value). An attribute that is
    /// absent or null is left out; a value that is not a string gives no id.
    pub fn import_id(&self, identity: &pb::ResourceIdentityData) -> Option<String> {
        let dv = identity.identity_data.as_ref()?;
        let pairs: Vec<(String, Mp)> = if dv.msgpack.is_empty() {
            let json: serde_json::Value = serde_json::from_slice(&dv.json).ok()?;
            json.as_object()?
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        serde_json::Value::String(s) => Mp::from(s.as_str()),
                        serde_json::Value::Null => Mp::Nil,
                        _ => Mp::Boolean(false),
                    };
                    (k.clone(), v)
                })
                .collect()
        } else {
            let v = rmpv::decode::read_value(&mut &dv.msgpack[..]).ok()?;
            v.as_map()?
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.clone())))
                .collect()
        };
        let mut parts = Vec::with_capacity(self.attributes.len());
        for attr in &self.attributes {
            match pairs.iter().find(|(k, _)| k == attr.name).map(|(_, v)| v) {
                None | Some(Mp::Nil) => continue,
                Some(v) => parts.push(v.as_str()?.to_owned()),
            }
        }
        if parts.is_empty() {
            return None;
        }
        Some(parts.join("/"))
    }
    /// The form of an import id: the attribute names joined with `/` (`db_type/db_name`).
    pub fn import_form(&self) -> String {
        let names: Vec<&str> = self.attributes.iter().map(|a| a.name).collect();
        names.join("/")
    }

    /// An import id's parts, one per attribute in order: the inverse of
    /// [`import_id`](Self::import_id). The id splits at `/`, the last attribute taking the
    /// rest (a table named `a/b`); no part may be empty, and `valid` may refuse the parts
    /// (their prefixes, a `/` where the platform allows none). Otherwise an "Invalid import
    /// id" error whose detail is `expected` (the expected form, with an example) and the id
    /// given.
    pub fn parse_import_id<'i>(
        &self,
        diags: &mut Diagnostics,
        id: &'i str,
        valid: impl FnOnce(&[&'i str]) -> bool,
        expected: impl std::fmt::Display,
    ) -> Option<Vec<&'i str>> {
        let n = self.attributes.len().max(1);
        let parts: Vec<&str> = id.splitn(n, '/').collect();
        if parts.len() == n && !parts.iter().any(|p| p.is_empty()) && valid(&parts) {
            return Some(parts);
        }
        diags.root_error("Invalid import id", format!("{expected} (got `{id}`)."));
        None
    }

    /// For [`parse_import_id`](Self::parse_import_id): no part holds a `/` (the platform's
    /// names and ids never do, so an id of too many parts is refused, not looked up).
    pub fn no_slash(parts: &[&str]) -> bool {
        !parts.iter().any(|p| p.contains('/'))
    }
}

/// Identity data for Terraform: the attribute pairs as a msgpack object.
fn identity_data(pairs: Vec<(Mp, Mp)>) -> Option<pb::ResourceIdentityData> {
    let mut buf = Vec::new();
    rmpv::encode::write_value(&mut buf, &Mp::Map(pairs)).ok()?;
    Some(pb::ResourceIdentityData {
        identity_data: Some(pb::DynamicValue {
            msgpack: buf,
            json: Vec::new(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> IdentitySpec {
        IdentitySpec {
            version: 0,
            attributes: vec![IdentityAttribute {
                name: "id",
                description: "Id.",
                required_for_import: true,
            }],
        }
    }

    fn encode(v: &Mp) -> Vec<u8> {
        let mut buf = Vec::new();
        rmpv::encode::write_value(&mut buf, v).expect("encode");
        buf
    }

    #[test]
    fn identity_is_derived_from_known_state_and_maps_back_to_an_import_id() {
        let state = Mp::Map(vec![
            (Mp::from("id"), Mp::from("db_1")),
            (Mp::from("name"), Mp::from("orders")),
        ]);
        let identity = spec().from_state(&encode(&state)).expect("identity");
        let data = identity.identity_data.as_ref().expect("data");
        let back = rmpv::decode::read_value(&mut &data.msgpack[..]).expect("decode");
        assert_eq!(back, Mp::Map(vec![(Mp::from("id"), Mp::from("db_1"))]));
        assert_eq!(spec().import_id(&identity).as_deref(), Some("db_1"));
    }

    #[test]
    fn stored_identities_upgrade_by_attribute_name() {
        let up = spec()
            .upgrade(0, br#"{"id":"db_1","dropped":"x"}"#)
            .expect("upgraded");
        let data = up.identity_data.expect("data");
        let back = rmpv::decode::read_value(&mut &data.msgpack[..]).expect("decode");
        assert_eq!(back, Mp::Map(vec![(Mp::from("id"), Mp::from("db_1"))]));
        let missing = spec().upgrade(0, b"{}").expect("upgraded");
        let data = missing.identity_data.expect("data");
        let back = rmpv::decode::read_value(&mut &data.msgpack[..]).expect("decode");
        assert_eq!(back, Mp::Map(vec![(Mp::from("id"), Mp::Nil)]));
    }

    #[test]
    fn newer_or_malformed_stored_identities_are_refused() {
        let newer = spec().upgrade(1, br#"{"id":"db_1"}"#).expect_err("newer");
        assert!(newer.contains("version 1"), "{newer}");
        assert!(spec().upgrade(0, b"").is_err());
        assert!(spec()
            .upgrade(0, b"[1]")
            .expect_err("array")
            .contains("object"));
        let number = spec().upgrade(0, br#"{"id":7}"#).expect_err("number");
        assert!(number.contains("`id`"), "{number}");
    }

    #[test]
    fn identities_of_several_attributes_join_into_the_import_id() {
        let spec = IdentitySpec {
            version: 0,
            attributes: vec![
                IdentityAttribute {
                    name: "app_id",
                    description: "App.",
                    required_for_import: true,
                },
                IdentityAttribute {
                    name: "build_id",
                    description: "Build.",
                    required_for_import: true,
                },
            ],
        };
        let state = Mp::Map(vec![
            (Mp::from("build_id"), Mp::from("bld_2")),
            (Mp::from("app_id"), Mp::from("app_1")),
            (Mp::from("entry"), Mp::from("index.mjs")),
        ]);
        let identity = spec.from_state(&encode(&state)).expect("identity");
        assert_eq!(spec.import_id(&identity).as_deref(), Some("app_1/bld_2"));
        let json = pb::ResourceIdentityData {
            identity_data: Some(pb::DynamicValue {
                msgpack: Vec::new(),
                json: br#"{"app_id":"app_1","build_id":"bld_2"}"#.to_vec(),
            }),
        };
        assert_eq!(spec.import_id(&json).as_deref(), Some("app_1/bld_2"));
    }

    #[test]
    fn unknown_or_null_state_has_no_identity() {
        let unknown = Mp::Map(vec![(Mp::from("id"), Mp::Ext(0, vec![0]))]);
        assert!(spec().from_state(&encode(&unknown)).is_none());
        assert!(spec().from_state(&encode(&Mp::Nil)).is_none());
    }
    #[test]
    fn import_ids_parse_by_the_spec_the_last_part_taking_the_rest() {
        let two = IdentitySpec {
            version: 0,
            attributes: vec![
                IdentityAttribute {
                    name: "database_id",
                    description: "Database.",
                    required_for_import: true,
                },
                IdentityAttribute {
                    name: "table",
                    description: "Table.",
                    required_for_import: true,
                },
            ],
        };
        assert_eq!(two.import_form(), "database_id/table");
        let expected = "Import it by `<database_id>/<table>`";
        let mut d = Diagnostics::default();
        assert_eq!(
            two.parse_import_id(&mut d, "db_1/users", |_| true, expected),
            Some(vec!["db_1", "users"])
        );
        assert_eq!(
            two.parse_import_id(&mut d, "db_1/a/b", |_| true, expected),
            Some(vec!["db_1", "a/b"])
        );
        assert!(d.errors.is_empty());
        for bad in ["db_1", "db_1/", "/users", ""] {
            let mut d = Diagnostics::default();
            assert_eq!(two.parse_import_id(&mut d, bad, |_| true, expected), None);
            assert_eq!(d.errors[0].summary, "Invalid import id");
            // tf_provider appends a backtrace when RUST_BACKTRACE is set.
            assert!(d.errors[0].detail.starts_with(&format!(
                "Import it by `<database_id>/<table>` (got `{bad}`)."
            )));
        }
        let mut d = Diagnostics::default();
        assert_eq!(
            two.parse_import_id(&mut d, "db_1/a/b", IdentitySpec::no_slash, expected),
            None
        );
        assert_eq!(d.errors.len(), 1);
        let mut d = Diagnostics::default();
        assert_eq!(
            spec().parse_import_id(&mut d, "db_1/x", |_| true, "By id"),
            Some(vec!["db_1/x"])
        );
        assert_eq!(
            spec().parse_import_id(&mut d, "db_1/x", IdentitySpec::no_slash, "By id"),
            None
        );
    }
}
