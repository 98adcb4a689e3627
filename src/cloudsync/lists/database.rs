//! `list "cloudsync_database"`: the databases registered in the key's workspace,
//! optionally of one `database_provider` and those whose label starts with
//! `label_prefix`. The API has no paging: one fetch.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, AttributePath, Diagnostics};

use super::{entries, filter};
use crate::cloudsync::common::api_error;
use crate::cloudsync::provider::ProviderData;
use crate::cloudsync::resources::database::{from_api, DatabaseState};
use crate::plugin::kit::text;
use crate::plugin::{ListItem, ListResource, Page};

/// The `config` block of `list "cloudsync_database"`.
#[derive(Debug, Default, Deserialize)]
pub struct DatabaseFilter<'a> {
    #[serde(borrow, default)]
    pub database_provider: ValueString<'a>,
    #[serde(borrow, default)]
    pub label_prefix: ValueString<'a>,
}

/// Lists `cloudsync_database`.
pub struct DatabaseList {
    data: Arc<ProviderData>,
}

impl DatabaseList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[async_trait]
impl ListResource for DatabaseList {
    type Config<'a> = DatabaseFilter<'a>;
    type State = DatabaseState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The databases registered with CloudSync in the API key's workspace. Each \
                     is listed with the state its import gives: `connection_string` and \
                     `jwt_secret` are null (CloudSync never returns them), so generated \
                     configuration leaves them for you to fill in.",
                ),
                attributes: map! {
                    "database_provider" => filter("Only databases of this provider: `postgres` or `sqlitecloud`."),
                    "label_prefix" => filter("Only databases whose label starts with this text."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseFilter<'a>,
    ) -> Option<()> {
        if let Some(p) = text(&config.database_provider) {
            if p != "postgres" && p != "sqlitecloud" {
                diags.error(
                    "Invalid database_provider",
                    format!("`database_provider` must be `postgres` or `sqlitecloud`, got `{p}`."),
                    AttributePath::new("database_provider"),
                );
            }
        }
        Some(())
    }

    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &DatabaseFilter<'a>,
        _cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<DatabaseState<'static>>> {
        let client = self.data.client(diags)?;
        let listing = match client.database_listing().await {
            Ok(l) => l,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let provider = text(&config.database_provider).map(str::to_owned);
        let prefix = text(&config.label_prefix).unwrap_or_default().to_owned();
        Some(Page::streamed(entries(
            listing,
            |name| name,
            move |db| {
                let wanted = provider.as_ref().is_none_or(|p| db.provider == *p)
                    && db.label.starts_with(&prefix);
                wanted.then(|| ListItem {
                    display_name: format!("{} ({})", db.label, db.managed_database_id),
                    state: from_api(db, DatabaseState::default()),
                })
            },
        )))
    }
}
