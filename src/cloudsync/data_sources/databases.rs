//! `data "cloudsync_databases"`: every managed database of the key's workspace.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use super::data_source_struct;
use crate::cloudsync::common::data_source_error;
use crate::plugin::kit::{attribute, known, opt};

pub const TYPE_NAME: &str = "cloudsync_databases";

data_source_struct!(DatabasesDataSource);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DatabaseItem<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub label: ValueString<'a>,
    #[serde(borrow, default)]
    pub database_provider: ValueString<'a>,
    #[serde(borrow, default)]
    pub flavor: ValueString<'a>,
    #[serde(borrow, default)]
    pub database_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub schema_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DatabasesState<'a> {
    #[serde(borrow, default)]
    pub databases: ValueList<Value<DatabaseItem<'a>>>,
}

#[async_trait]
impl DataSource for DatabasesDataSource {
    type State<'a> = DatabasesState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeType::String;
        let item = map! {
            "id" => String,
            "label" => String,
            "database_provider" => String,
            "flavor" => String,
            "database_name" => String,
            "schema_name" => String,
            "created_at" => String,
        };
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Every database registered in the API key's workspace, sorted by id (useful \
                     to find an id to import).",
                ),
                attributes: map! {
                    "databases" => attribute(
                        AttributeType::List(Box::new(AttributeType::Object(item))),
                        AttributeConstraint::Computed,
                        "The databases: `id`, `label`, `database_provider`, `flavor`, `database_name`, \
                         `schema_name` (null for SQLite Cloud) and `created_at` of each."),
                },
                ..Default::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        _config: Self::State<'a>,
        _meta: ValueEmpty,
    ) -> Option<Self::State<'a>> {
        let client = self.data.client(diags)?;
        let mut all = match client.list_databases().await {
            Ok(all) => all,
            Err(e) => {
                data_source_error(diags, &e);
                return None;
            }
        };
        all.sort_by(|a, b| a.managed_database_id.cmp(&b.managed_database_id));
        Some(DatabasesState {
            databases: Value::Value(
                all.into_iter()
                    .map(|d| {
                        Value::Value(DatabaseItem {
                            id: known(d.managed_database_id),
                            label: known(d.label),
                            database_provider: known(d.provider),
                            flavor: known(d.flavor),
                            database_name: known(d.database_name),
                            schema_name: opt(d.schema_name),
                            created_at: opt(d.created_at),
                        })
                    })
                    .collect(),
            ),
        })
    }
}
