//! `wayscloud` data sources, one file per Terraform type. They are read-only views, so
//! they share one implementation ([`JsonDataSource`]): each type says its inputs (the
//! database's `db_type` and `db_name`, or `db_type` alone, or nothing), its computed
//! attributes and how to fetch them ([`Source`]); the state is a map from attribute name to
//! value, written in the schema's shape.

pub mod backup_policy;
pub mod credentials;
pub mod databases;
pub mod engines;
pub mod firewall_rules;
pub mod history;
pub mod info;
pub mod metrics;
pub mod quota;
pub mod snapshots;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value as Json};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{DataSource, Diagnostics};

use super::client::{ApiFailure, Client};
use super::common::{api_error, check_db_name, check_db_type};
use super::provider::ProviderData;
use crate::plugin::kit::attribute;
use crate::plugin::Registry;

/// What a data source asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs {
    None,
    DbType,
    Database,
}

/// The values a read has: `db_type` and `db_name` when the type asks for them.
pub struct Ask<'a> {
    pub db_type: &'a str,
    pub db_name: &'a str,
    pub customer_id: Option<&'a str>,
}

/// One read-only type.
#[async_trait]
pub trait Source: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    fn inputs(&self) -> Inputs;
    /// (name, type, description) of each computed attribute.
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)>;
    /// The computed attributes by name (missing ones are null).
    async fn fetch(&self, client: &Client, ask: &Ask<'_>) -> Result<Map<String, Json>, ApiFailure>;
}

/// A data source from a [`Source`].
pub struct JsonDataSource<S: Source> {
    source: S,
    data: Arc<ProviderData>,
}

type State = BTreeMap<String, Value<Json>>;

fn input_text(state: &State, name: &str) -> Option<String> {
    match state.get(name) {
        Some(Value::Value(Json::String(s))) => Some(s.clone()),
        _ => None,
    }
}

#[async_trait]
impl<S: Source> DataSource for JsonDataSource<S> {
    type State<'a> = State;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let mut attributes = HashMap::new();
        if self.source.inputs() != Inputs::None {
            attributes.insert(
                "db_type".to_owned(),
                attribute(
                    AttributeType::String,
                    AttributeConstraint::Required,
                    "`postgresql` or `mariadb`.",
                ),
            );
        }
        if self.source.inputs() == Inputs::Database {
            attributes.insert(
                "db_name".to_owned(),
                attribute(
                    AttributeType::String,
                    AttributeConstraint::Required,
                    "The database's full name (`wayscloud_database.x.db_name`).",
                ),
            );
        }
        for (name, t, description) in self.source.outputs() {
            attributes.insert(
                name.to_owned(),
                attribute(t, AttributeConstraint::Computed, description),
            );
        }
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(self.source.description()),
                attributes,
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: State) -> Option<()> {
        if let Some(t) = input_text(&config, "db_type") {
            check_db_type(diags, &t, "db_type");
        }
        if let Some(n) = input_text(&config, "db_name") {
            check_db_name(diags, &n, "db_name");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: State,
        _meta: ValueEmpty,
    ) -> Option<State> {
        let configured = self.data.configured(diags)?;
        let db_type = input_text(&config, "db_type").unwrap_or_default();
        let db_name = input_text(&config, "db_name").unwrap_or_default();
        let ask = Ask {
            db_type: &db_type,
            db_name: &db_name,
            customer_id: configured.customer_id.as_deref(),
        };
        let mut fetched = match self.source.fetch(&configured.client, &ask).await {
            Ok(f) => f,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let mut state = State::new();
        if self.source.inputs() != Inputs::None {
            state.insert(
                "db_type".into(),
                Value::Value(Json::String(db_type.clone())),
            );
        }
        if self.source.inputs() == Inputs::Database {
            state.insert(
                "db_name".into(),
                Value::Value(Json::String(db_name.clone())),
            );
        }
        for (name, _, _) in self.source.outputs() {
            let value = match fetched.remove(name) {
                None | Some(Json::Null) => Value::Null,
                Some(v) => Value::Value(v),
            };
            state.insert(name.to_owned(), value);
        }
        Some(state)
    }
}

/// `Object` of string attributes, for list elements.
pub fn object(fields: &[(&str, AttributeType)]) -> AttributeType {
    AttributeType::Object(
        fields
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.clone()))
            .collect(),
    )
}

/// Keeps exactly `fields` of each object of `items` (absent ones null), so a list matches
/// its element type whatever else the API sends.
pub fn shape(items: Vec<Json>, fields: &[&str]) -> Json {
    Json::Array(
        items
            .into_iter()
            .map(|item| {
                let mut out = Map::new();
                for f in fields {
                    out.insert((*f).to_owned(), item.get(*f).cloned().unwrap_or(Json::Null));
                }
                Json::Object(out)
            })
            .collect(),
    )
}

fn register_one<S: Source>(registry: &mut Registry, data: &Arc<ProviderData>, source: S) {
    let name = source.type_name();
    registry.data_source(
        name,
        JsonDataSource {
            source,
            data: data.clone(),
        },
    );
}

/// Register every data source type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    register_one(registry, data, engines::DatabaseEngines);
    register_one(registry, data, databases::Databases);
    register_one(registry, data, info::DatabaseInfo);
    register_one(registry, data, metrics::DatabaseMetrics);
    register_one(registry, data, credentials::DatabaseCredentials);
    register_one(registry, data, quota::Quota);
    register_one(registry, data, history::DatabaseHistory);
    register_one(registry, data, snapshots::DatabaseSnapshots);
    register_one(registry, data, firewall_rules::DatabaseFirewallRules);
    register_one(registry, data, backup_policy::DatabaseBackupPolicy);
}
