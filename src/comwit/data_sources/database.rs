//! `data "comwit_database"`: a database's status and its libSQL/WAL internals.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueNumber, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use crate::comwit::common::{check_id, data_source_error};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::{attribute, known, text};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_database";

/// The `comwit_database` data source.
pub struct DatabaseDataSource {
    data: Arc<ProviderData>,
}

impl DatabaseDataSource {
    /// A data source sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `data "comwit_database"`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DatabaseDataState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(borrow, default)]
    pub database_url: ValueString<'a>,
    #[serde(borrow, default)]
    pub status: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
    #[serde(borrow, default)]
    pub updated_at: ValueString<'a>,
    #[serde(borrow, default)]
    pub runner: ValueString<'a>,
    #[serde(default)]
    pub generation: ValueNumber,
    #[serde(default)]
    pub current_frame_number: ValueNumber,
    #[serde(default)]
    pub durable_frame_number: ValueNumber,
}

/// A count from the API as a Terraform number (saturating: counts never reach i64::MAX).
pub fn number(n: u64) -> ValueNumber {
    Value::Value(i64::try_from(n).unwrap_or(i64::MAX))
}

#[async_trait]
impl DataSource for DatabaseDataSource {
    type State<'a> = DatabaseDataState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Reads a database's current health and its libSQL/WAL internals (runner, \
                     generation, frame numbers), for checks before connecting or deploying and \
                     for debugging replication or storage.",
                ),
                attributes: map! {
                    "id" => attribute(String, Required, "Database id (`db_...`)."),
                    "project_id" => attribute(String, Computed, "Project that owns the database."),
                    "name" => attribute(String, Computed, "Database name."),
                    "database_url" => attribute(String, Computed, "URL apps connect to."),
                    "status" => attribute(String, Computed, "`active` or `suspended`."),
                    "created_at" => attribute(String, Computed, "Creation time (RFC 3339)."),
                    "updated_at" => attribute(String, Computed, "Last change of the database record (RFC 3339)."),
                    "runner" => attribute(String, Computed, "The libSQL runner serving the database."),
                    "generation" => attribute(Number, Computed, "The database's libSQL generation."),
                    "current_frame_number" => attribute(Number, Computed, "Latest WAL frame number written."),
                    "durable_frame_number" => attribute(Number, Computed, "Latest WAL frame number made durable."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = text(&config.id) {
            check_id(diags, id, "db_", "id");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: ValueEmpty,
    ) -> Option<Self::State<'a>> {
        let client = self.data.configured(diags)?.client;
        let id = text(&config.id)?.to_owned();
        let db = match client.get_database(&id).await {
            Ok(db) => db,
            Err(e) => {
                data_source_error(diags, &e);
                return None;
            }
        };
        Some(DatabaseDataState {
            id: known(db.database_id),
            project_id: known(db.project_id),
            name: known(db.name),
            database_url: known(db.database_url),
            status: known(db.status.as_str()),
            created_at: known(db.created_at),
            updated_at: known(db.updated_at),
            runner: known(db.runner),
            generation: number(db.generation),
            current_frame_number: number(db.frame_numbers.current),
            durable_frame_number: number(db.frame_numbers.durable),
        })
    }
}
