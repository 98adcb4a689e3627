//! `list "cloudsync_table_sync"`: the tables CloudSync is enabled on, of one database
//! (`database_id`) or of every database of the workspace. The API has no paging: one
//! fetch per database, the next only while Terraform is still reading.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{entries, filter, Walk};
use crate::cloudsync::common::{api_error, check_database_id};
use crate::cloudsync::provider::ProviderData;
use crate::cloudsync::resources::table_sync::TableSyncState;
use crate::plugin::kit::failure::ClientFailure;
use crate::plugin::kit::{known, text};
use crate::plugin::{ListItem, ListResource, Listed, Page};

/// The `config` block of `list "cloudsync_table_sync"`.
#[derive(Debug, Default, Deserialize)]
pub struct TableSyncFilter<'a> {
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
}

/// Lists `cloudsync_table_sync`.
pub struct TableSyncList {
    data: Arc<ProviderData>,
}

impl TableSyncList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// A synced table's state: what its import gives.
fn state(database_id: &str, table: &str) -> TableSyncState<'static> {
    TableSyncState {
        id: known(format!("{database_id}/{table}")),
        database_id: known(database_id),
        table: known(table),
    }
}

#[async_trait]
impl ListResource for TableSyncList {
    type Config<'a> = TableSyncFilter<'a>;
    type State = TableSyncState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The tables CloudSync is enabled on (tables it is not enabled on are not \
                     listed), each with the state its import gives.",
                ),
                attributes: map! {
                    "database_id" => filter("Only the tables of this database (`db_...`). Unset, those of every database of the workspace."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: TableSyncFilter<'a>,
    ) -> Option<()> {
        if let Some(id) = text(&config.database_id) {
            check_database_id(diags, id, "database_id");
        }
        Some(())
    }

    /// One database per page; the cursor is the ids still to read.
    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &TableSyncFilter<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<TableSyncState<'static>>> {
        let client = self.data.client(diags)?;
        let mut walk = Walk::resume(diags, cursor, &config.database_id)?;
        let mut items = Vec::new();
        let Some(db) = walk.next(diags, &client, &mut items).await? else {
            return Some(Page::last(items));
        };
        let rest = match client.table_listing(&db).await {
            Ok(listing) => {
                let named_db = db.clone();
                let named = move |name| format!("{named_db} table {name}");
                Some(entries(listing, named, move |t| {
                    t.enabled.then(|| ListItem {
                        display_name: format!("{db}/{}", t.name),
                        state: state(&db, &t.name),
                    })
                }))
            }
            // Deleted since it was listed: no tables.
            Err(e) if e.is_not_found() && config.database_id.is_null() => None,
            // Its tenant database cannot be reached now: the others are still listed.
            Err(e) if e.tenant_code().is_some() && config.database_id.is_null() => {
                items.push(Listed::Skipped {
                    name: format!("the tables of {db}"),
                    reason: ClientFailure::detail(&e),
                });
                None
            }
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        Some(Page {
            items,
            next: walk.cursor(),
            rest,
        })
    }
}
