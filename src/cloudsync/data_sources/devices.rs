//! `data "cloudsync_devices"`: every registered device of a database, following every page
//! of `GET .../devices` (`page_size` at most 500).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use super::data_source_struct;
use crate::cloudsync::client::MAX_PAGE_SIZE;
use crate::cloudsync::common::{check_database_id, data_source_error};
use crate::plugin::kit::{attribute, bounded, known, opt, text, Number, ValueNum};

pub const TYPE_NAME: &str = "cloudsync_devices";

/// The page size used when `page_size` is not set.
pub const DEFAULT_PAGE_SIZE: i64 = 500;

data_source_struct!(DevicesDataSource);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DeviceItem<'a> {
    #[serde(borrow, default)]
    pub site_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub platform: ValueString<'a>,
    #[serde(default)]
    pub has_push_token: ValueBool,
    #[serde(borrow, default)]
    pub app_version: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
    #[serde(borrow, default)]
    pub last_seen_at: ValueString<'a>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DevicesState<'a> {
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(default)]
    pub page_size: ValueNum,
    #[serde(borrow, default)]
    pub devices: ValueList<Value<DeviceItem<'a>>>,
    #[serde(default)]
    pub total: ValueNum,
}

#[async_trait]
impl DataSource for DevicesDataSource {
    type State<'a> = DevicesState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, Required};
        use AttributeType::{Bool, Number, String};
        let item = map! {
            "site_id" => String,
            "platform" => String,
            "has_push_token" => Bool,
            "app_version" => String,
            "created_at" => String,
            "last_seen_at" => String,
        };
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Every device registered for a database, read page by page (all pages), \
                     sorted by `site_id`. Push tokens themselves are never returned.",
                ),
                attributes: map! {
                    "database_id" => attribute(String, Required, "Managed database id (`db_...`)."),
                    "page_size" => attribute(Number, Optional,
                        "Devices per request, 1 to 500 (the API's maximum). Default 500."),
                    "devices" => attribute(AttributeType::List(Box::new(AttributeType::Object(item))),
                        Computed, "The devices: `site_id`, `platform`, `has_push_token`, `app_version`, \
                                   `created_at`, `last_seen_at`."),
                    "total" => attribute(Number, Computed, "How many devices there are."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = text(&config.database_id) {
            check_database_id(diags, id, "database_id");
        }
        let _ = bounded(
            diags,
            &config.page_size,
            "page_size",
            1..=i64::from(MAX_PAGE_SIZE),
            0,
        );
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: ValueEmpty,
    ) -> Option<Self::State<'a>> {
        let page_size = bounded(
            diags,
            &config.page_size,
            "page_size",
            1..=i64::from(MAX_PAGE_SIZE),
            DEFAULT_PAGE_SIZE,
        );
        if !diags.errors.is_empty() {
            return None;
        }
        let client = self.data.client(diags)?;
        let id = text(&config.database_id)?.to_owned();
        let devices = match client
            .list_devices(&id, u32::try_from(page_size).unwrap_or(MAX_PAGE_SIZE))
            .await
        {
            Ok(d) => d,
            Err(e) => {
                data_source_error(diags, &e);
                return None;
            }
        };
        let total = i64::try_from(devices.len()).unwrap_or(i64::MAX);
        Some(DevicesState {
            database_id: known(id),
            page_size: config.page_size,
            total: Value::Value(Number::Int(total)),
            devices: Value::Value(
                devices
                    .into_iter()
                    .map(|d| {
                        Value::Value(DeviceItem {
                            site_id: known(d.site_id),
                            platform: opt(d.platform),
                            has_push_token: d.has_push_token.map_or(Value::Null, Value::Value),
                            app_version: opt(d.app_version),
                            created_at: opt(d.created_at),
                            last_seen_at: opt(d.last_seen_at),
                        })
                    })
                    .collect(),
            ),
        })
    }
}
