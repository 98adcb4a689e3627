//! `cloudsync_table_sync`: CloudSync enabled on one table of a registered database.
//! Create enables it, destroy disables it; both database and table replace when changed.
//! Read lists the database's tables: a table no longer enabled (disabled or dropped
//! outside Terraform) leaves the state, so the next plan enables it again; while the
//! tenant database cannot be reached, the state is kept with a warning. Import by
//! `<database_id>/<table>` (or identity `{ database_id, table }`).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::cloudsync::client::{ApiFailure, Client, Table};
use crate::cloudsync::common::{api_error, check_database_id};
use crate::cloudsync::provider::ProviderData;
use crate::plugin::kit::failure::ClientFailure;
use crate::plugin::kit::{attribute, known, text};
use crate::plugin::{IdentityAttribute, IdentitySpec};

pub const TYPE_NAME: &str = "cloudsync_table_sync";

pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "database_id",
                description: "Managed database id (`db_...`).",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "table",
                description: "Table name.",
                required_for_import: true,
            },
        ],
    }
}

pub struct TableSyncResource {
    data: Arc<ProviderData>,
}

impl TableSyncResource {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSyncState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub table: ValueString<'a>,
}

fn check_table(diags: &mut Diagnostics, table: &str) {
    if table.is_empty() || table.len() > 128 || table.chars().any(char::is_control) {
        diags.error(
            "Invalid table",
            "`table` is the name of a table in the tenant database (1 to 128 characters).",
            AttributePath::new("table"),
        );
    }
}

/// An enable/disable failure: a missing table points at `table`.
fn switch_error(diags: &mut Diagnostics, e: &ApiFailure) {
    if e.code() == Some("table_not_found") {
        diags.error(
            "Table not found in the tenant database",
            ClientFailure::detail(e),
            AttributePath::new("table"),
        );
    } else if e.code() == Some("database_cloudsync_not_ready") {
        diags.error(
            e.op.route.summary,
            ClientFailure::detail(e),
            AttributePath::new("table"),
        );
    } else {
        api_error(diags, e);
    }
}

async fn find(client: &Client, database: &str, table: &str) -> Result<Option<Table>, ApiFailure> {
    Ok(client
        .list_tables(database)
        .await?
        .into_iter()
        .find(|t| t.name == table))
}

#[async_trait]
impl Resource for TableSyncResource {
    type State<'a> = TableSyncState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Required};
        use AttributeType::String;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "CloudSync on one table of a registered database: create enables it \
                     (CloudSync then creates its `<table>_cloudsync` metadata table in the \
                     tenant database), destroy disables it. The table must exist in the \
                     tenant database and have a primary key. A table disabled or dropped \
                     outside Terraform is planned to be enabled again.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "`<database_id>/<table>`."),
                    "database_id" => attribute(String, Required,
                        "The `cloudsync_database`'s id. Changing it replaces this resource."),
                    "table" => attribute(String, Required,
                        "Table name in the tenant database (in `schema_name` for PostgreSQL). \
                         Changing it replaces this resource."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: TableSyncState<'a>,
    ) -> Option<()> {
        if let Some(id) = text(&config.database_id) {
            check_database_id(diags, id, "database_id");
        }
        if let Some(t) = text(&config.table) {
            check_table(diags, t);
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: TableSyncState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(TableSyncState<'a>, ValueEmpty)> {
        let client = self.data.client(diags)?;
        let (db, table) = (
            text(&state.database_id)?.to_owned(),
            text(&state.table)?.to_owned(),
        );
        match find(&client, &db, &table).await {
            Ok(Some(t)) if t.enabled => Some((state, private)),
            Ok(_) => None,
            Err(e) if e.is_not_found() => None,
            // The tenant database cannot be reached now (its password just changed, it is
            // paused): keep the state, so a plan can still fix `connection_string`.
            Err(e) if e.tenant_code().is_some() => {
                diags.root_warning(
                    "Cannot check a table's sync",
                    format!(
                        "{} The state of table `{table}` is kept as it was until CloudSync can \
                         reach the tenant database again.",
                        ClientFailure::detail(&e)
                    ),
                );
                Some((state, private))
            }
            Err(e) => {
                api_error(diags, &e);
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: TableSyncState<'a>,
        _config: TableSyncState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(TableSyncState<'a>, ValueEmpty)> {
        proposed.id = match (text(&proposed.database_id), text(&proposed.table)) {
            (Some(d), Some(t)) => known(format!("{d}/{t}")),
            _ => Value::Unknown,
        };
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: TableSyncState<'a>,
        mut proposed: TableSyncState<'a>,
        _config: TableSyncState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(TableSyncState<'a>, ValueEmpty, Vec<AttributePath>)> {
        let mut replace = vec![];
        if proposed.database_id != prior.database_id {
            replace.push(AttributePath::new("database_id"));
        }
        if proposed.table != prior.table {
            replace.push(AttributePath::new("table"));
        }
        if !replace.is_empty() {
            proposed.id = match (text(&proposed.database_id), text(&proposed.table)) {
                (Some(d), Some(t)) => known(format!("{d}/{t}")),
                _ => Value::Unknown,
            };
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: TableSyncState<'a>,
        _config: TableSyncState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(TableSyncState<'a>, ValueEmpty)> {
        let client = self.data.client(diags)?;
        let (db, table) = (
            text(&planned.database_id)?.to_owned(),
            text(&planned.table)?.to_owned(),
        );
        match client
            .enable_tables(&db, std::slice::from_ref(&table))
            .await
        {
            Ok(_) => {
                let mut state = planned;
                state.id = known(format!("{db}/{table}"));
                Some((state, Value::Null))
            }
            Err(e) => {
                switch_error(diags, &e);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: TableSyncState<'a>,
        planned: TableSyncState<'a>,
        _config: TableSyncState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(TableSyncState<'a>, ValueEmpty)> {
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: TableSyncState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.client(diags)?;
        let (db, table) = (
            text(&prior.database_id)?.to_owned(),
            text(&prior.table)?.to_owned(),
        );
        match client
            .disable_tables(&db, std::slice::from_ref(&table))
            .await
        {
            Ok(_) => Some(()),
            // The database or the table is gone: nothing is enabled any more.
            Err(e) if e.is_not_found() || e.code() == Some("table_not_found") => Some(()),
            Err(e) => {
                switch_error(diags, &e);
                None
            }
        }
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(TableSyncState<'a>, ValueEmpty)> {
        let parts = identity().parse_import_id(
            diags,
            &id,
            |_| true,
            "Import a table's sync as `<database_id>/<table>`, for example `terraform import \
             cloudsync_table_sync.users db_0123456789abcdef01234567/users`",
        )?;
        let &[db, table] = parts.as_slice() else {
            return None;
        };
        check_database_id(diags, db, "database_id");
        if !diags.errors.is_empty() {
            return None;
        }
        let client = self.data.client(diags)?;
        match find(&client, db, table).await {
            Ok(Some(t)) if t.enabled => Some((
                TableSyncState {
                    id: known(id.clone()),
                    database_id: known(db),
                    table: known(table),
                },
                Value::Null,
            )),
            Ok(Some(_)) => {
                diags.root_error(
                    "Table is not synced",
                    format!(
                        "CloudSync is not enabled on table `{table}` of database `{db}`, so there \
                         is nothing to import: declare the resource and apply to enable it."
                    ),
                );
                None
            }
            Ok(None) => {
                diags.root_error(
                    "Table not found",
                    format!("Database `{db}` has no table `{table}`."),
                );
                None
            }
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}
