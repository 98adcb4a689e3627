//! `wayscloud_database_backup_policy`: the automated backup policy of a database (one per
//! database). Changes in place (PUT); destroy turns automated backups off. Import by
//! `db_type/db_name`.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::plugin::kit::{attribute, known, opt, text, whole_number, Number, ValueNum};
use crate::plugin::{IdentityAttribute, IdentitySpec};
use crate::wayscloud::client::BackupPolicy;
use crate::wayscloud::common::{
    api_error, check_database_ref, check_db_type, check_time_of_day, found,
};
use crate::wayscloud::provider::ProviderData;

pub const TYPE_NAME: &str = "wayscloud_database_backup_policy";
pub const FREQUENCIES: &[&str] = &["hourly", "daily", "weekly"];

pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "db_type",
                description: "`postgresql` or `mariadb`.",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "db_name",
                description: "The database's full name.",
                required_for_import: true,
            },
        ],
    }
}

pub struct DatabaseBackupPolicyResource {
    data: Arc<ProviderData>,
}

impl DatabaseBackupPolicyResource {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseBackupPolicyState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_name: ValueString<'a>,
    #[serde(default)]
    pub enabled: ValueBool,
    #[serde(borrow, default)]
    pub frequency: ValueString<'a>,
    #[serde(default)]
    pub retention_days: ValueNum,
    #[serde(borrow, default)]
    pub time_of_day: ValueString<'a>,
    #[serde(borrow, default)]
    pub last_backup: ValueString<'a>,
    #[serde(borrow, default)]
    pub next_backup: ValueString<'a>,
}

pub(crate) fn from_policy<'a>(
    p: BackupPolicy,
    db_type: &str,
    db_name: &str,
    mut state: DatabaseBackupPolicyState<'a>,
) -> DatabaseBackupPolicyState<'a> {
    state.id = known(format!("{db_type}/{db_name}"));
    state.db_type = known(db_type);
    state.db_name = known(db_name);
    state.enabled = Value::Value(p.enabled);
    state.frequency = opt(p.frequency);
    state.retention_days = p
        .retention_days
        .map(|d| Value::Value(Number::Int(d)))
        .unwrap_or(Value::Null);
    state.time_of_day = opt(p.time_of_day);
    state.last_backup = opt(p.last_backup);
    state.next_backup = opt(p.next_backup);
    state
}

fn request(state: &DatabaseBackupPolicyState<'_>) -> BackupPolicy {
    BackupPolicy {
        enabled: matches!(state.enabled, Value::Value(true)),
        frequency: text(&state.frequency).map(str::to_owned),
        retention_days: match &state.retention_days {
            Value::Value(n) => n.whole(),
            _ => None,
        },
        time_of_day: text(&state.time_of_day).map(str::to_owned),
        last_backup: None,
        next_backup: None,
    }
}

#[async_trait]
impl Resource for DatabaseBackupPolicyResource {
    type State<'a> = DatabaseBackupPolicyState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, OptionalComputed, Required};
        use AttributeType::{Bool, Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The automated backup policy of a WaysCloud database (one per database), changed in \
                     place. Destroying it turns automated backups off.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "`db_type/db_name`."),
                    "db_type" => attribute(String, Required, "`postgresql` or `mariadb`. Changing it replaces the policy."),
                    "db_name" => attribute(String, Required, "The database's full name. Changing it replaces the policy."),
                    "enabled" => attribute(Bool, Required, "Whether automated backups run."),
                    "frequency" => attribute(String, OptionalComputed, "`hourly`, `daily` or `weekly` (WaysCloud's default: `daily`)."),
                    "retention_days" => attribute(Number, OptionalComputed, "Days backups are kept, 1 to 365 (default 7)."),
                    "time_of_day" => attribute(String, OptionalComputed, "`HH:MM` (UTC) backups run at (default `02:00`)."),
                    "last_backup" => attribute(String, Computed, "The last automated backup, if any."),
                    "next_backup" => attribute(String, Computed, "The next automated backup, when enabled."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseBackupPolicyState<'a>,
    ) -> Option<()> {
        check_database_ref(diags, &config.db_type, &config.db_name);
        if let Some(f) = text(&config.frequency) {
            if !FREQUENCIES.contains(&f) {
                diags.error(
                    "Invalid frequency",
                    format!("`frequency` must be `hourly`, `daily` or `weekly`, got `{f}`."),
                    AttributePath::new("frequency"),
                );
            }
        }
        whole_number(diags, &config.retention_days, "retention_days", 1..=365);
        if let Some(t) = text(&config.time_of_day) {
            check_time_of_day(diags, t, "time_of_day");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: DatabaseBackupPolicyState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseBackupPolicyState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let (t, n) = (
            text(&state.db_type)?.to_owned(),
            text(&state.db_name)?.to_owned(),
        );
        let p = found(diags, client.backup_policy(&t, &n).await)?;
        Some((from_policy(p, &t, &n, state), private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: DatabaseBackupPolicyState<'a>,
        _config: DatabaseBackupPolicyState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseBackupPolicyState<'a>, ValueEmpty)> {
        proposed.id = Value::Unknown;
        for v in [&mut proposed.frequency, &mut proposed.time_of_day] {
            if v.is_null() {
                *v = Value::Unknown;
            }
        }
        if proposed.retention_days.is_null() {
            proposed.retention_days = Value::Unknown;
        }
        proposed.last_backup = Value::Unknown;
        proposed.next_backup = Value::Unknown;
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: DatabaseBackupPolicyState<'a>,
        mut proposed: DatabaseBackupPolicyState<'a>,
        _config: DatabaseBackupPolicyState<'a>,
        _pp: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(
        DatabaseBackupPolicyState<'a>,
        ValueEmpty,
        Vec<AttributePath>,
    )> {
        let mut replace = vec![];
        if proposed.db_type != prior.db_type {
            replace.push(AttributePath::new("db_type"));
        }
        if proposed.db_name != prior.db_name {
            replace.push(AttributePath::new("db_name"));
        }
        if proposed != prior {
            proposed.next_backup = Value::Unknown;
            proposed.last_backup = Value::Unknown;
        }
        if !replace.is_empty() {
            proposed.id = Value::Unknown;
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseBackupPolicyState<'a>,
        _pp: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: DatabaseBackupPolicyState<'a>,
        _config: DatabaseBackupPolicyState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseBackupPolicyState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let (t, n) = (
            text(&planned.db_type)?.to_owned(),
            text(&planned.db_name)?.to_owned(),
        );
        match client.set_backup_policy(&t, &n, &request(&planned)).await {
            Ok(p) => Some((from_policy(p, &t, &n, planned), Value::Null)),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseBackupPolicyState<'a>,
        planned: DatabaseBackupPolicyState<'a>,
        config: DatabaseBackupPolicyState<'a>,
        private: ValueEmpty,
        meta: ValueEmpty,
    ) -> Option<(DatabaseBackupPolicyState<'a>, ValueEmpty)> {
        let _ = prior;
        self.create(diags, planned, config, private, meta).await
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseBackupPolicyState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let off = BackupPolicy {
            enabled: false,
            frequency: None,
            retention_days: None,
            time_of_day: None,
            last_backup: None,
            next_backup: None,
        };
        match client
            .set_backup_policy(text(&prior.db_type)?, text(&prior.db_name)?, &off)
            .await
        {
            Ok(_) => Some(()),
            Err(e) if e.is_not_found() => Some(()),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DatabaseBackupPolicyState<'a>, ValueEmpty)> {
        let spec = identity();
        let expected = format!("Import this type by `{}`", spec.import_form());
        let parts = spec.parse_import_id(diags, &id, IdentitySpec::no_slash, expected)?;
        check_db_type(diags, parts[0], "db_type");
        if !diags.errors.is_empty() {
            return None;
        }
        let client = self.data.configured(diags)?.client;
        match client.backup_policy(parts[0], parts[1]).await {
            Ok(p) => Some((
                from_policy(p, parts[0], parts[1], DatabaseBackupPolicyState::default()),
                Value::Null,
            )),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}
