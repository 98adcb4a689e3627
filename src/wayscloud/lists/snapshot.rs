//! `list "wayscloud_database_snapshot"`: the snapshots of one database (`db_type`
//! and `db_name`), or of every database (of one engine with `db_type` alone). The API has
//! no paging: one fetch per database, the next only while Terraform is still reading.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{check_database_filter, db_type_filter, filter, per_database_page};
use crate::plugin::{ListItem, ListResource, Page};
use crate::wayscloud::provider::ProviderData;
use crate::wayscloud::resources::snapshot::{from_snapshot, DatabaseSnapshotState};

/// The `config` block of `list "wayscloud_database_snapshot"`.
#[derive(Debug, Default, Deserialize)]
pub struct SnapshotFilter<'a> {
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_name: ValueString<'a>,
}

/// Lists `wayscloud_database_snapshot`.
pub struct SnapshotList {
    data: Arc<ProviderData>,
}

impl SnapshotList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[async_trait]
impl ListResource for SnapshotList {
    type Config<'a> = SnapshotFilter<'a>;
    type State = DatabaseSnapshotState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The snapshots of WaysCloud databases (newest first), each with the state its \
                     import gives.",
                ),
                attributes: map! {
                    "db_type" => db_type_filter(),
                    "db_name" => filter(AttributeType::String, "Only the snapshots of this database (its full name; set `db_type` too). Unset, the snapshots of every database."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: SnapshotFilter<'a>,
    ) -> Option<()> {
        check_database_filter(diags, &config.db_type, &config.db_name);
        Some(())
    }

    /// One database per page; the cursor is the rest of the walk (`per_database_page`).
    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &SnapshotFilter<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<DatabaseSnapshotState<'static>>> {
        per_database_page(
            diags,
            &self.data,
            (&config.db_type, &config.db_name),
            cursor,
            "snapshot",
            |configured, db_type, db_name| {
                Box::pin(configured.client.snapshot_listing(db_type, db_name))
            },
            |snapshot, db_type, db_name| ListItem {
                display_name: format!("{db_name} {}", snapshot.snapshot_id),
                state: from_snapshot(snapshot, db_type, db_name, DatabaseSnapshotState::default()),
            },
        )
        .await
    }
}
