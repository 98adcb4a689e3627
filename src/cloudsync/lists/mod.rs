//! `cloudsync` list resources (`terraform query`, Terraform 1.14+): one file per list type,
//! each listing the items of the managed type of the same name with the state its import
//! gives.
//!
//! CloudSync's lists have no paging: the databases are one fetch, and the tables and the
//! Expo access token of a database one fetch each. A listing of tables or tokens goes
//! database by database ([`Walk`]), fetching the next only while Terraform is still
//! reading.

pub mod database;
pub mod expo_access_token;
pub mod table_sync;

use std::sync::Arc;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Description};
use tf_provider::value::ValueString;
use tf_provider::Diagnostics;

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use super::client::lists::{Listing, OddEntry};
use super::client::Client;
use super::common::api_error;
use super::provider::ProviderData;
use crate::plugin::kit::text;
use crate::plugin::{streamed, ElementSource, Entries, ListItem, Listed, Registry};

/// Register every list type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    use super::resources as r;
    registry.list_resource(
        r::database::TYPE_NAME,
        database::DatabaseList::new(data.clone()),
    );
    registry.list_resource(
        r::table_sync::TYPE_NAME,
        table_sync::TableSyncList::new(data.clone()),
    );
    registry.list_resource(
        r::expo_access_token::TYPE_NAME,
        expo_access_token::ExpoAccessTokenList::new(data.clone()),
    );
}

#[async_trait]
impl<T: DeserializeOwned + Send + 'static> ElementSource for Listing<T> {
    type Element = Result<T, OddEntry>;

    async fn next_element(&mut self) -> Option<Result<Self::Element, Diagnostics>> {
        match self.next().await? {
            Ok(element) => Some(Ok(element)),
            Err(e) => {
                let mut diags = Diagnostics::default();
                api_error(&mut diags, &e);
                Some(Err(diags))
            }
        }
    }
}

/// The entries of a CloudSync list answer, each read from the answer as Terraform takes
/// the one before (the provider never holds the whole list): `item` makes an object's
/// item (`None`: filtered out); an odd entry is skipped with a warning naming it as
/// `named` says (given the entry's id or place).
fn entries<T, S>(
    listing: Listing<T>,
    named: impl Fn(String) -> String + Send + 'static,
    mut item: impl FnMut(T) -> Option<ListItem<S>> + Send + 'static,
) -> Entries<S>
where
    T: DeserializeOwned + Send + 'static,
    S: Send + 'static,
{
    streamed(listing, move |element| match element {
        Ok(object) => item(object).map(Listed::Item),
        Err(odd) => Some(Listed::Skipped {
            name: named(odd.name),
            reason: odd.reason,
        }),
    })
}

/// An optional string filter of a list's `config` block.
fn filter(description: &str) -> Attribute {
    Attribute {
        attr_type: AttributeType::String,
        description: Description::markdown(description),
        constraint: AttributeConstraint::Optional,
        ..Default::default()
    }
}

/// A listing over databases, one database at a time: the ids still to read, carried from
/// page to page in the cursor (a JSON array).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Walk {
    /// `None` before the databases are listed (no `database_id` filter).
    pending: Option<Vec<String>>,
}

impl Walk {
    /// The walk a cursor carries, or the first one: the database named, or every one.
    fn resume(
        diags: &mut Diagnostics,
        cursor: Option<String>,
        database_id: &ValueString<'_>,
    ) -> Option<Walk> {
        let Some(cursor) = cursor else {
            return Some(Walk {
                pending: text(database_id).map(|id| vec![id.to_owned()]),
            });
        };
        match serde_json::from_str(&cursor) {
            Ok(ids) => Some(Walk { pending: Some(ids) }),
            Err(e) => {
                diags.root_error(
                    "Cannot continue the listing",
                    format!("The listing's own cursor could not be read: {e}."),
                );
                None
            }
        }
    }

    /// The cursor of the rest, `None` when nothing is left.
    fn cursor(&self) -> Option<String> {
        match &self.pending {
            Some(ids) if !ids.is_empty() => serde_json::to_string(ids).ok(),
            _ => None,
        }
    }

    /// The next database id, listing the databases first when needed (an odd entry is
    /// skipped into `skipped`). `Some(None)` when the walk is over, `None` after an error
    /// diagnostic.
    async fn next<S>(
        &mut self,
        diags: &mut Diagnostics,
        client: &Client,
        skipped: &mut Vec<Listed<S>>,
    ) -> Option<Option<String>> {
        let pending = match &mut self.pending {
            Some(p) => p,
            None => {
                let entries = match client.database_entries().await {
                    Ok(e) => e,
                    Err(e) => {
                        api_error(diags, &e);
                        return None;
                    }
                };
                let mut ids = Vec::new();
                for entry in entries {
                    match entry {
                        Ok(db) => ids.push(db.managed_database_id),
                        Err(odd) => skipped.push(Listed::Skipped {
                            name: odd.name,
                            reason: odd.reason,
                        }),
                    }
                }
                self.pending.insert(ids)
            }
        };
        if pending.is_empty() {
            return Some(None);
        }
        Some(Some(pending.remove(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::value::Value;

    #[test]
    fn a_walk_starts_at_the_database_named_or_lists_them_and_survives_its_cursor() {
        let mut diags = Diagnostics::default();
        let one = Walk::resume(&mut diags, None, &Value::Value("db_1".into())).expect("walk");
        assert_eq!(one.pending, Some(vec!["db_1".to_owned()]));
        let all = Walk::resume(&mut diags, None, &Value::Null).expect("walk");
        assert_eq!(all.pending, None);
        assert_eq!(all.cursor(), None);
        let rest = Walk {
            pending: Some(vec!["db_2".into(), "db_3".into()]),
        };
        assert_eq!(
            Walk::resume(&mut diags, rest.cursor(), &Value::Null),
            Some(rest)
        );
        assert!(Walk::resume(&mut diags, Some("[1".into()), &Value::Null).is_none());
        assert_eq!(diags.errors.len(), 1);
    }
}
