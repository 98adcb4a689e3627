//! `data "comwit_database_usage"`: a database's usage in the current period.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{ValueEmpty, ValueNumber, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use super::database::number;
use crate::comwit::common::{check_id, data_source_error};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::{attribute, known, text};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_database_usage";

/// The `comwit_database_usage` data source.
pub struct DatabaseUsageDataSource {
    data: Arc<ProviderData>,
}

impl DatabaseUsageDataSource {
    /// A data source sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `data "comwit_database_usage"`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DatabaseUsageState<'a> {
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(default)]
    pub rows_read: ValueNumber,
    #[serde(default)]
    pub rows_written: ValueNumber,
    #[serde(default)]
    pub storage_bytes: ValueNumber,
    #[serde(default)]
    pub queries: ValueNumber,
    #[serde(borrow, default)]
    pub period_start: ValueString<'a>,
    #[serde(borrow, default)]
    pub period_end: ValueString<'a>,
}

#[async_trait]
impl DataSource for DatabaseUsageDataSource {
    type State<'a> = DatabaseUsageState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Reads a database's usage metrics for the current billing period.",
                ),
                attributes: map! {
                    "database_id" => attribute(String, Required, "Database id (`db_...`)."),
                    "rows_read" => attribute(Number, Computed, "Rows read by queries in the period."),
                    "rows_written" => attribute(Number, Computed, "Rows written by queries in the period."),
                    "storage_bytes" => attribute(Number, Computed, "Bytes the database occupies on disk now."),
                    "queries" => attribute(Number, Computed, "Statements executed in the period."),
                    "period_start" => attribute(String, Computed, "Start of the period (RFC 3339)."),
                    "period_end" => attribute(String, Computed, "End of the period (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = text(&config.database_id) {
            check_id(diags, id, "db_", "database_id");
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
        let id = text(&config.database_id)?.to_owned();
        let usage = match client.get_database_usage(&id).await {
            Ok(u) => u,
            Err(e) => {
                data_source_error(diags, &e);
                return None;
            }
        };
        Some(DatabaseUsageState {
            database_id: known(usage.database_id),
            rows_read: number(usage.rows_read),
            rows_written: number(usage.rows_written),
            storage_bytes: number(usage.storage_bytes),
            queries: number(usage.queries),
            period_start: known(usage.period_start),
            period_end: known(usage.period_end),
        })
    }
}
