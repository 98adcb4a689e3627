//! `wayscloud` list resources (`terraform query`, Terraform 1.14+): one file per list type,
//! each listing the items of the managed type of the same name with the state its import
//! gives, and the server defaults generated configuration leaves out.
//!
//! WaysCloud's list routes have no paging: a database list is one fetch per engine, and
//! the rules, snapshots and policies of databases are one fetch per database. A listing
//! goes engine by engine and database by database ([`Walk`]), fetching the next only while
//! Terraform is still reading. `wayscloud_database_restore` has no list: the API keeps no
//! record of the restores it ran (`docs/plugin-features.md`).

pub mod backup_policy;
pub mod database;
pub mod firewall_rule;
pub mod snapshot;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Description};
use tf_provider::value::ValueString;
use tf_provider::{AttributePath, Diagnostics};

use super::common::{api_error, check_db_name, check_db_type, DB_TYPES};
use super::provider::{Configured, ProviderData};
use super::resources::database::requested_part;
use async_trait::async_trait;
use serde::de::DeserializeOwned;

use crate::plugin::kit::text;
use crate::plugin::{streamed, ElementSource, Entries, ListItem, Listed, Page, Registry};
use crate::wayscloud::client::lists::{Listing, OddEntry};

/// Register every list type and the generated-configuration rules of its managed type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    use super::resources as r;
    registry.list_resource(
        r::database::TYPE_NAME,
        database::DatabaseList::new(data.clone()),
    );
    registry.config_rules(r::database::TYPE_NAME, database::rules());
    registry.list_resource(
        r::firewall_rule::TYPE_NAME,
        firewall_rule::FirewallRuleList::new(data.clone()),
    );
    registry.list_resource(
        r::snapshot::TYPE_NAME,
        snapshot::SnapshotList::new(data.clone()),
    );
    registry.list_resource(
        r::backup_policy::TYPE_NAME,
        backup_policy::BackupPolicyList::new(data.clone()),
    );
    registry.config_rules(r::backup_policy::TYPE_NAME, backup_policy::rules());
}

/// An optional filter of a list's `config` block.
fn filter(attr_type: AttributeType, description: &str) -> Attribute {
    Attribute {
        attr_type,
        description: Description::markdown(description),
        constraint: AttributeConstraint::Optional,
        ..Default::default()
    }
}

/// The `db_type` filter.
fn db_type_filter() -> Attribute {
    filter(
        AttributeType::String,
        "Only databases of this engine: `postgresql` or `mariadb`. Unset, both.",
    )
}

/// The engines a listing reads: the filter's, else both.
fn engines(db_type: &ValueString<'_>) -> Vec<String> {
    match text(db_type) {
        Some(t) => vec![t.to_owned()],
        None => DB_TYPES.iter().map(|t| (*t).to_owned()).collect(),
    }
}

/// Whether a database name passes `name_prefix`: its `requested_name` part (after
/// `cust_<customer>_<pg|my>_`) or its full name starts with it.
fn name_matches(db_name: &str, prefix: &str) -> bool {
    db_name.starts_with(prefix) || requested_part(db_name).is_some_and(|r| r.starts_with(prefix))
}

/// The `db_type` and `db_name` filters of a listing of one database's objects.
fn check_database_filter(
    diags: &mut Diagnostics,
    db_type: &ValueString<'_>,
    db_name: &ValueString<'_>,
) {
    if let Some(t) = text(db_type) {
        check_db_type(diags, t, "db_type");
    }
    if let Some(n) = text(db_name) {
        check_db_name(diags, n, "db_name");
        if db_type.is_null() {
            diags.error(
                "Missing db_type",
                "Set `db_type` (`postgresql` or `mariadb`) with `db_name`: WaysCloud names a \
                 database by both.",
                AttributePath::new("db_type"),
            );
        }
    }
}

/// One step of a [`Walk`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Step {
    /// List this engine's databases (one fetch).
    Engine(String),
    /// One database: `(db_type, db_name)`.
    Database(String, String),
}

/// A listing over databases, one database at a time: the steps still to take, in order,
/// carried from page to page in the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Walk {
    steps: Vec<Step>,
}

impl Walk {
    /// The first page's walk: the one database named, or every engine of the filter.
    fn start(db_type: &ValueString<'_>, db_name: &ValueString<'_>) -> Walk {
        let steps = match (text(db_type), text(db_name)) {
            (Some(t), Some(n)) => vec![Step::Database(t.to_owned(), n.to_owned())],
            _ => engines(db_type).into_iter().map(Step::Engine).collect(),
        };
        Walk { steps }
    }

    /// The walk a cursor carries, or the first one.
    fn resume(
        diags: &mut Diagnostics,
        cursor: Option<String>,
        db_type: &ValueString<'_>,
        db_name: &ValueString<'_>,
    ) -> Option<Walk> {
        let Some(cursor) = cursor else {
            return Some(Walk::start(db_type, db_name));
        };
        match serde_json::from_str(&cursor) {
            Ok(steps) => Some(Walk { steps }),
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
        if self.steps.is_empty() {
            return None;
        }
        serde_json::to_string(&self.steps).ok()
    }

    /// The next database, listing engines (one fetch each, names passing `prefix`) until
    /// one is found; an odd database entry is skipped into `skipped`. `Some(None)` when the
    /// walk is over, `None` after an error diagnostic.
    async fn next<S>(
        &mut self,
        diags: &mut Diagnostics,
        configured: &Configured,
        prefix: &str,
        skipped: &mut Vec<Listed<S>>,
    ) -> Option<Option<(String, String)>> {
        loop {
            if self.steps.is_empty() {
                return Some(None);
            }
            match self.steps.remove(0) {
                Step::Database(t, n) => return Some(Some((t, n))),
                Step::Engine(t) => {
                    let entries = match configured
                        .client
                        .database_entries(&t, configured.customer_id.as_deref())
                        .await
                    {
                        Ok(e) => e,
                        Err(e) => {
                            api_error(diags, &e);
                            return None;
                        }
                    };
                    let mut found = Vec::new();
                    for entry in entries {
                        match entry {
                            Ok(d) if name_matches(&d.db_name, prefix) => {
                                found.push(Step::Database(t.clone(), d.db_name));
                            }
                            Ok(_) => {}
                            Err(odd) => skipped.push(Listed::Skipped {
                                name: odd.name,
                                reason: odd.reason,
                            }),
                        }
                    }
                    self.steps.splice(0..0, found);
                }
            }
        }
    }
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

/// The entries of a WaysCloud list answer, each read from the answer as Terraform takes
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

/// The objects of one database as a list answer read entry by entry, by a client call.
type DatabaseObjects<'c, T> = std::pin::Pin<
    Box<dyn std::future::Future<Output = crate::wayscloud::client::Result<Listing<T>>> + Send + 'c>,
>;

/// One page of a per-database list (firewall rules, snapshots): the next database of the
/// [`Walk`] and its objects, read as Terraform takes them, each turned into an item by
/// `item(object, db_type, db_name)`; an odd entry is skipped as `<db_name> <what> <name>`.
/// A database deleted since it was listed has no objects (unless `db_name` named it: then
/// its "not found" is said).
async fn per_database_page<T, S>(
    diags: &mut Diagnostics,
    data: &ProviderData,
    (db_type, db_name): (&ValueString<'_>, &ValueString<'_>),
    cursor: Option<String>,
    what: &'static str,
    fetch: impl for<'c> Fn(&'c Configured, &'c str, &'c str) -> DatabaseObjects<'c, T>,
    item: impl Fn(T, &str, &str) -> ListItem<S> + Send + 'static,
) -> Option<Page<S>>
where
    T: DeserializeOwned + Send + 'static,
    S: Send + 'static,
{
    let configured = data.configured(diags)?;
    let mut walk = Walk::resume(diags, cursor, db_type, db_name)?;
    let mut items = Vec::new();
    let Some((t, n)) = walk.next(diags, &configured, "", &mut items).await? else {
        return Some(Page::last(items));
    };
    let rest = match fetch(&configured, &t, &n).await {
        Ok(listing) => {
            let named_db = n.clone();
            let named = move |odd| format!("{named_db} {what} {odd}");
            Some(entries(listing, named, move |object| {
                Some(item(object, &t, &n))
            }))
        }
        Err(e) if e.is_not_found() && db_name.is_null() => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::value::Value;

    #[test]
    fn a_name_prefix_matches_the_requested_part_or_the_full_name() {
        assert!(name_matches("cust_ab12cd34_pg_app_one", "app"));
        assert!(name_matches(
            "cust_ab12cd34_pg_app_one",
            "cust_ab12cd34_pg_app"
        ));
        assert!(name_matches("cust_ab12cd34_my_other", ""));
        assert!(!name_matches("cust_ab12cd34_pg_other", "app"));
        assert!(!name_matches("cust_ab12cd34_pg_other", "pg_"));
    }

    #[test]
    fn a_walk_starts_at_the_database_named_or_every_engine_and_survives_its_cursor() {
        let one = Walk::start(
            &Value::Value("mariadb".into()),
            &Value::Value("cust_a_my_x".into()),
        );
        assert_eq!(
            one.steps,
            [Step::Database("mariadb".into(), "cust_a_my_x".into())]
        );
        let all = Walk::start(&Value::Null, &Value::Null);
        assert_eq!(
            all.steps,
            [
                Step::Engine("postgresql".into()),
                Step::Engine("mariadb".into())
            ]
        );
        let mut diags = Diagnostics::default();
        let again = Walk::resume(&mut diags, all.cursor(), &Value::Null, &Value::Null);
        assert_eq!(again.as_ref(), Some(&all));
        assert_eq!(Walk { steps: vec![] }.cursor(), None);
        assert!(Walk::resume(&mut diags, Some("{".into()), &Value::Null, &Value::Null).is_none());
        assert_eq!(diags.errors.len(), 1);
    }

    #[test]
    fn db_name_needs_db_type_and_both_are_checked() {
        let mut diags = Diagnostics::default();
        check_database_filter(
            &mut diags,
            &Value::Null,
            &Value::Value("cust_a_pg_x".into()),
        );
        assert_eq!(diags.errors.len(), 1, "{diags:?}");
        assert_eq!(diags.errors[0].attribute, AttributePath::new("db_type"));
        let mut diags = Diagnostics::default();
        check_database_filter(
            &mut diags,
            &Value::Value("oracle".into()),
            &Value::Value("x".into()),
        );
        assert_eq!(diags.errors.len(), 2, "{diags:?}");
        let mut diags = Diagnostics::default();
        check_database_filter(&mut diags, &Value::Unknown, &Value::Null);
        assert!(diags.errors.is_empty());
    }
}
