//! `data "cloudsync_notification_status"`: a database's push notification status.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{ValueEmpty, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use super::data_source_struct;
use crate::cloudsync::common::{check_database_id, data_source_error};
use crate::plugin::kit::{attribute, known, opt, text};

pub const TYPE_NAME: &str = "cloudsync_notification_status";

data_source_struct!(NotificationStatusDataSource);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct NotificationStatusState<'a> {
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub status: ValueString<'a>,
    #[serde(borrow, default)]
    pub reason: ValueString<'a>,
}

#[async_trait]
impl DataSource for NotificationStatusDataSource {
    type State<'a> = NotificationStatusState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Required};
        use AttributeType::String;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The push notification status of a database: `enabled`, `disabled` or \
                     `paused`; when paused, `reason` says why (`expo_unauthorized`: the Expo \
                     access token was refused; set a new one with \
                     `cloudsync_expo_access_token`).",
                ),
                attributes: map! {
                    "database_id" => attribute(String, Required, "Managed database id (`db_...`)."),
                    "status" => attribute(String, Computed, "`enabled`, `disabled` or `paused`."),
                    "reason" => attribute(String, Computed, "Why it is paused (null otherwise)."),
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
        match client.notification_status(&id).await {
            Ok(s) => Some(NotificationStatusState {
                database_id: known(id),
                status: known(s.status),
                reason: opt(s.reason),
            }),
            Err(e) => {
                data_source_error(diags, &e);
                None
            }
        }
    }
}
