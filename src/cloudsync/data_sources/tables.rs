//! `data "cloudsync_tables"`: a database's tables and whether CloudSync is enabled on each.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use super::data_source_struct;
use crate::cloudsync::common::{check_database_id, data_source_error};
use crate::plugin::kit::{attribute, known, text};

pub const TYPE_NAME: &str = "cloudsync_tables";

data_source_struct!(TablesDataSource);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TableItem<'a> {
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(default)]
    pub enabled: ValueBool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TablesState<'a> {
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub tables: ValueList<Value<TableItem<'a>>>,
    #[serde(borrow, default)]
    pub enabled_tables: ValueList<ValueString<'a>>,
}

#[async_trait]
impl DataSource for TablesDataSource {
    type State<'a> = TablesState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Required};
        use AttributeType::{Bool, String};
        let item = map! { "name" => String, "enabled" => Bool };
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The tables of a registered database, sorted by name, and whether CloudSync \
                     is enabled on each (read live from the tenant database).",
                ),
                attributes: map! {
                    "database_id" => attribute(String, Required, "Managed database id (`db_...`)."),
                    "tables" => attribute(AttributeType::List(Box::new(AttributeType::Object(item))),
                        Computed, "Every table: `name` and `enabled`."),
                    "enabled_tables" => attribute(AttributeType::List(Box::new(String)), Computed,
                        "The names of the tables CloudSync is enabled on."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = text(&config.database_id) {
            check_database_id(diags, id, "database_id");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: ValueEmpty,
    ) -> Option<Self::State<'a>> {
        let client = self.data.client(diags)?;
        let id = text(&config.database_id)?.to_owned();
        let mut tables = match client.list_tables(&id).await {
            Ok(t) => t,
            Err(e) => {
                data_source_error(diags, &e);
                return None;
            }
        };
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        Some(TablesState {
            database_id: known(id),
            enabled_tables: Value::Value(
                tables
                    .iter()
                    .filter(|t| t.enabled)
                    .map(|t| known(t.name.clone()))
                    .collect(),
            ),
            tables: Value::Value(
                tables
                    .into_iter()
                    .map(|t| {
                        Value::Value(TableItem {
                            name: known(t.name),
                            enabled: Value::Value(t.enabled),
                        })
                    })
                    .collect(),
            ),
        })
    }
}
