//! `data "cloudsync_database_connection"`: CloudSync's live connectivity check of a
//! database's stored connection details. A failing check is a result, not an error: `ok`
//! is false and `failure_code`/`remedy` say what to fix (use a `check` block or a
//! postcondition to fail a run on it).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use super::data_source_struct;
use crate::cloudsync::common::{check_database_id, data_source_error, tenant_remedy};
use crate::plugin::kit::{attribute, known, opt, text};

pub const TYPE_NAME: &str = "cloudsync_database_connection";

data_source_struct!(ConnectionDataSource);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DatabaseConnectionState<'a> {
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(default)]
    pub ok: ValueBool,
    #[serde(borrow, default)]
    pub checked_at: ValueString<'a>,
    #[serde(borrow, default)]
    pub failure_code: ValueString<'a>,
    #[serde(borrow, default)]
    pub failure_message: ValueString<'a>,
    #[serde(default)]
    pub retryable: ValueBool,
    #[serde(borrow, default)]
    pub remedy: ValueString<'a>,
}

#[async_trait]
impl DataSource for ConnectionDataSource {
    type State<'a> = DatabaseConnectionState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Required};
        use AttributeType::{Bool, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Runs CloudSync's live connectivity check against a database's stored \
                     connection details (at every plan). A failure is reported in the result \
                     (`ok = false`), not as an error.",
                ),
                attributes: map! {
                    "database_id" => attribute(String, Required, "Managed database id (`db_...`)."),
                    "ok" => attribute(Bool, Computed, "Whether CloudSync reached the tenant database."),
                    "checked_at" => attribute(String, Computed, "When the check ran (RFC 3339)."),
                    "failure_code" => attribute(String, Computed,
                        "On failure: `database_paused`, `database_auth_failed`, `database_unreachable`, \
                         `database_permission_denied`, `database_cloudsync_not_ready` or `database_error`."),
                    "failure_message" => attribute(String, Computed, "On failure: CloudSync's message."),
                    "retryable" => attribute(Bool, Computed, "On failure: whether trying later may succeed."),
                    "remedy" => attribute(String, Computed, "On failure: what to fix."),
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
        match client.check_connection(&id).await {
            Ok(c) => {
                let failure = c.failure;
                Some(DatabaseConnectionState {
                    database_id: known(id),
                    ok: Value::Value(c.ok),
                    checked_at: opt(c.checked_at),
                    failure_code: opt(failure.as_ref().map(|f| f.code.clone())),
                    failure_message: opt(failure.as_ref().map(|f| f.message.clone())),
                    retryable: failure
                        .as_ref()
                        .map_or(Value::Null, |f| Value::Value(f.retryable)),
                    remedy: opt(failure.as_ref().map(|f| tenant_remedy(&f.code).to_owned())),
                })
            }
            Err(e) => {
                data_source_error(diags, &e);
                None
            }
        }
    }
}
