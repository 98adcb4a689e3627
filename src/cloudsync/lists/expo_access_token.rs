//! `list "cloudsync_expo_access_token"`: the databases that have an Expo access token
//! (one per database), of one database (`database_id`) or of every database of the
//! workspace. The API has no paging: one fetch per database, the next only while Terraform
//! is still reading.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{filter, Walk};
use crate::client::FailureKind;
use crate::cloudsync::common::{api_error, check_database_id};
use crate::cloudsync::provider::ProviderData;
use crate::cloudsync::resources::expo_access_token::{with_meta, ExpoAccessTokenState};
use crate::plugin::kit::{known, text};
use crate::plugin::{ListItem, ListResource, Listed, Page};

/// The `config` block of `list "cloudsync_expo_access_token"`.
#[derive(Debug, Default, Deserialize)]
pub struct ExpoAccessTokenFilter<'a> {
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
}

/// Lists `cloudsync_expo_access_token`.
pub struct ExpoAccessTokenList {
    data: Arc<ProviderData>,
}

impl ExpoAccessTokenList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[async_trait]
impl ListResource for ExpoAccessTokenList {
    type Config<'a> = ExpoAccessTokenFilter<'a>;
    type State = ExpoAccessTokenState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The Expo access tokens set on CloudSync databases (databases without one \
                     are not listed), each with the state its import gives: `token` is null \
                     (CloudSync never returns it), so generated configuration leaves it for \
                     you to fill in (`token`, or `token_wo` with `token_wo_version`).",
                ),
                attributes: map! {
                    "database_id" => filter("Only the token of this database (`db_...`). Unset, those of every database of the workspace."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: ExpoAccessTokenFilter<'a>,
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
        config: &ExpoAccessTokenFilter<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<ExpoAccessTokenState<'static>>> {
        let client = self.data.client(diags)?;
        let mut walk = Walk::resume(diags, cursor, &config.database_id)?;
        let mut items = Vec::new();
        let Some(db) = walk.next(diags, &client, &mut items).await? else {
            return Some(Page::last(items));
        };
        match client.get_expo_token(&db).await {
            Ok(meta) if meta.configured => {
                let state = ExpoAccessTokenState {
                    id: known(db.clone()),
                    database_id: known(db.clone()),
                    ..Default::default()
                };
                items.push(Listed::Item(ListItem {
                    display_name: format!("{db} Expo access token"),
                    state: with_meta(state, meta),
                }));
            }
            Ok(_) => {}
            // Deleted since it was listed: no token.
            Err(e) if e.is_not_found() && config.database_id.is_null() => {}
            Err(e) if e.kind() == FailureKind::Decode => items.push(Listed::Skipped {
                name: format!("the Expo access token of {db}"),
                reason: format!("its answer could not be read: {}", e.detail()),
            }),
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        }
        Some(Page::new(items, walk.cursor()))
    }
}
