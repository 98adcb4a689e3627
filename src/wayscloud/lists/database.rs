//! `list "wayscloud_database"`: the databases of the key's customer, optionally of one
//! engine (`db_type`) and those whose name starts with `name_prefix`. The API has no
//! paging: one fetch per engine, the next only while Terraform is still reading.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{db_type_filter, engines, entries, filter, name_matches};
use crate::plugin::kit::text;
use crate::plugin::{ConfigRules, ListItem, ListResource, Page};
use crate::wayscloud::common::{api_error, check_db_type};
use crate::wayscloud::provider::ProviderData;
use crate::wayscloud::resources::database::{from_entry, DatabaseState};

/// The `config` block of `list "wayscloud_database"`.
#[derive(Debug, Default, Deserialize)]
pub struct DatabaseFilter<'a> {
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub name_prefix: ValueString<'a>,
}

/// Lists `wayscloud_database`.
pub struct DatabaseList {
    data: Arc<ProviderData>,
}

impl DatabaseList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// Server defaults: a new database allows 100 connections.
pub fn rules() -> ConfigRules {
    ConfigRules {
        defaults: vec![("connection_limit", 100.into())],
        omit: vec![],
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
                    "The databases of the API key's customer (or of the provider's \
                     `customer_id`). Each is listed with the state its import gives: \
                     `password` and `connection_string` are null (WaysCloud returns a password \
                     only at create and rotation).",
                ),
                attributes: map! {
                    "db_type" => db_type_filter(),
                    "name_prefix" => filter(AttributeType::String, "Only databases whose `requested_name` (the part after `cust_<customer>_<pg|my>_`) or full name starts with this text."),
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
        if let Some(t) = text(&config.db_type) {
            check_db_type(diags, t, "db_type");
        }
        Some(())
    }

    /// The cursor is the engines still to list, comma-separated.
    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &DatabaseFilter<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<DatabaseState<'static>>> {
        let configured = self.data.configured(diags)?;
        let mut pending: Vec<String> = match cursor {
            Some(c) => c.split(',').map(str::to_owned).collect(),
            None => engines(&config.db_type),
        };
        if pending.is_empty() {
            return Some(Page::last(Vec::new()));
        }
        let db_type = pending.remove(0);
        let listing = match configured
            .client
            .database_listing(&db_type, configured.customer_id.as_deref())
            .await
        {
            Ok(l) => l,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let prefix = text(&config.name_prefix).unwrap_or_default().to_owned();
        let rest = entries(
            listing,
            |name| name,
            move |d| {
                name_matches(&d.db_name, &prefix).then(|| ListItem {
                    display_name: format!("{db_type}/{}", d.db_name),
                    state: from_entry(d, &db_type, DatabaseState::default()),
                })
            },
        );
        Some(Page {
            items: Vec::new(),
            next: (!pending.is_empty()).then(|| pending.join(",")),
            rest: Some(rest),
        })
    }
}
