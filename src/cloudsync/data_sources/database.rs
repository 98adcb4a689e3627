//! `data "cloudsync_database"`: one managed database by id.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use super::data_source_struct;
use crate::cloudsync::common::{check_database_id, data_source_error, string_list};
use crate::plugin::kit::{attribute, known, opt, text};

pub const TYPE_NAME: &str = "cloudsync_database";

data_source_struct!(DatabaseDataSource);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DatabaseState<'a> {
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
    pub jwt_allowed_issuers: ValueList<ValueString<'a>>,
    #[serde(borrow, default)]
    pub jwt_expected_audiences: ValueList<ValueString<'a>>,
    #[serde(borrow, default)]
    pub jwks_uri: ValueString<'a>,
    #[serde(default)]
    pub jwt_secret_configured: ValueBool,
    #[serde(borrow, default)]
    pub workspace_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
    #[serde(borrow, default)]
    pub updated_at: ValueString<'a>,
}

#[async_trait]
impl DataSource for DatabaseDataSource {
    type State<'a> = DatabaseState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Required};
        use AttributeType::{Bool, String};
        let list = || AttributeType::List(Box::new(String));
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "One registered database by id. The connection string and the JWT secret are \
                     never returned by CloudSync.",
                ),
                attributes: map! {
                    "id" => attribute(String, Required, "Managed database id (`db_...`)."),
                    "label" => attribute(String, Computed, "Display name."),
                    "database_provider" => attribute(String, Computed, "The API's `provider`: `postgres` or `sqlitecloud`."),
                    "flavor" => attribute(String, Computed, "Flavor."),
                    "database_name" => attribute(String, Computed, "Database name."),
                    "schema_name" => attribute(String, Computed, "PostgreSQL schema (null for SQLite Cloud)."),
                    "jwt_allowed_issuers" => attribute(list(), Computed, "Accepted JWT issuers."),
                    "jwt_expected_audiences" => attribute(list(), Computed, "Expected JWT audiences."),
                    "jwks_uri" => attribute(String, Computed, "JWKS URL."),
                    "jwt_secret_configured" => attribute(Bool, Computed, "Whether a JWT secret is set."),
                    "workspace_id" => attribute(String, Computed, "Workspace."),
                    "created_at" => attribute(String, Computed, "Registration time (RFC 3339)."),
                    "updated_at" => attribute(String, Computed, "Last change (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = text(&config.id) {
            check_database_id(diags, id, "id");
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
        let id = text(&config.id)?.to_owned();
        match client.get_database(&id).await {
            Ok(d) => Some(DatabaseState {
                id: known(d.managed_database_id),
                label: known(d.label),
                database_provider: known(d.provider),
                flavor: known(d.flavor),
                database_name: known(d.database_name),
                schema_name: opt(d.schema_name),
                jwt_allowed_issuers: string_list(&d.jwt_allowed_issuers.unwrap_or_default()),
                jwt_expected_audiences: string_list(&d.jwt_expected_audiences.unwrap_or_default()),
                jwks_uri: opt(d.jwks_uri),
                jwt_secret_configured: d.jwt_secret_configured.map_or(Value::Null, Value::Value),
                workspace_id: opt(d.workspace_id),
                created_at: opt(d.created_at),
                updated_at: opt(d.updated_at),
            }),
            Err(e) => {
                data_source_error(diags, &e);
                None
            }
        }
    }
}
