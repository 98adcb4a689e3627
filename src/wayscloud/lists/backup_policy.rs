//! `list "wayscloud_database_backup_policy"`: the backup policy of each database (every
//! database has one: WaysCloud's default until one is set), optionally of one engine, of
//! databases whose name starts with `name_prefix`, and only enabled (or only disabled)
//! ones. One fetch per database, the next only while Terraform is still reading.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueString};
use tf_provider::{map, Diagnostics};

use super::{db_type_filter, filter, Walk};
use crate::client::FailureKind;
use crate::plugin::kit::text;
use crate::plugin::{ConfigRules, ListItem, ListResource, Listed, Page};
use crate::wayscloud::client::BackupPolicy;
use crate::wayscloud::common::{api_error, check_db_type};
use crate::wayscloud::provider::ProviderData;
use crate::wayscloud::resources::backup_policy::{from_policy, DatabaseBackupPolicyState};

/// The `config` block of `list "wayscloud_database_backup_policy"`.
#[derive(Debug, Default, Deserialize)]
pub struct BackupPolicyFilter<'a> {
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub name_prefix: ValueString<'a>,
    #[serde(default)]
    pub enabled: ValueBool,
}

/// Lists `wayscloud_database_backup_policy`.
pub struct BackupPolicyList {
    data: Arc<ProviderData>,
}

impl BackupPolicyList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// Server defaults: daily at 02:00, kept 7 days.
pub fn rules() -> ConfigRules {
    ConfigRules {
        defaults: vec![
            ("frequency", "daily".into()),
            ("retention_days", 7.into()),
            ("time_of_day", "02:00".into()),
        ],
        omit: vec![],
    }
}

/// What `terraform query` prints for a policy.
fn display(db_name: &str, p: &BackupPolicy) -> String {
    if !p.enabled {
        return format!("{db_name} disabled");
    }
    format!(
        "{db_name} {} at {}, kept {} days",
        p.frequency.as_deref().unwrap_or("daily"),
        p.time_of_day.as_deref().unwrap_or("02:00"),
        p.retention_days.unwrap_or(7)
    )
}

#[async_trait]
impl ListResource for BackupPolicyList {
    type Config<'a> = BackupPolicyFilter<'a>;
    type State = DatabaseBackupPolicyState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The backup policy of each WaysCloud database (WaysCloud's default, \
                     disabled, until one is set), each with the state its import gives.",
                ),
                attributes: map! {
                    "db_type" => db_type_filter(),
                    "name_prefix" => filter(AttributeType::String, "Only databases whose `requested_name` (the part after `cust_<customer>_<pg|my>_`) or full name starts with this text."),
                    "enabled" => filter(AttributeType::Bool, "`true`: only policies that run automated backups; `false`: only those that do not. Unset, every database's."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: BackupPolicyFilter<'a>,
    ) -> Option<()> {
        if let Some(t) = text(&config.db_type) {
            check_db_type(diags, t, "db_type");
        }
        Some(())
    }

    /// One database per page; the cursor is the rest of the [`Walk`].
    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &BackupPolicyFilter<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<DatabaseBackupPolicyState<'static>>> {
        let configured = self.data.configured(diags)?;
        let mut walk = Walk::resume(diags, cursor, &config.db_type, &Value::Null)?;
        let prefix = text(&config.name_prefix).unwrap_or_default();
        let mut items = Vec::new();
        let Some((db_type, db_name)) = walk.next(diags, &configured, prefix, &mut items).await?
        else {
            return Some(Page::last(items));
        };
        match configured.client.backup_policy(&db_type, &db_name).await {
            Ok(p) => {
                let wanted = match config.enabled {
                    Value::Value(want) => p.enabled == want,
                    _ => true,
                };
                if wanted {
                    items.push(Listed::Item(ListItem {
                        display_name: display(&db_name, &p),
                        state: from_policy(
                            p,
                            &db_type,
                            &db_name,
                            DatabaseBackupPolicyState::default(),
                        ),
                    }));
                }
            }
            // Deleted since it was listed: no policy.
            Err(e) if e.is_not_found() => {}
            Err(e) if e.kind() == FailureKind::Decode => items.push(Listed::Skipped {
                name: format!("{db_name} backup policy"),
                reason: format!("its answer could not be read: {e}"),
            }),
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        }
        Some(Page::new(items, walk.cursor()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_is_shown_by_what_it_does() {
        let mut p = BackupPolicy {
            enabled: false,
            frequency: Some("hourly".into()),
            retention_days: Some(3),
            time_of_day: Some("04:30".into()),
            last_backup: None,
            next_backup: None,
        };
        assert_eq!(display("cust_a_pg_x", &p), "cust_a_pg_x disabled");
        p.enabled = true;
        assert_eq!(
            display("cust_a_pg_x", &p),
            "cust_a_pg_x hourly at 04:30, kept 3 days"
        );
    }
}
