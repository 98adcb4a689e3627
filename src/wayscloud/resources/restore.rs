//! `wayscloud_database_restore`: restoring a snapshot, as a resource so that it is explicit
//! in the plan. Creating it runs the restore: without `target_db_name` the database's
//! contents are **replaced** by the snapshot (rows written since are lost, which cannot be
//! undone); with it, a new database is made from the snapshot. Any change plans another
//! restore (replacement); destroying it only forgets it (nothing is undone).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::plugin::kit::{attribute, known, text};
use crate::plugin::{IdentityAttribute, IdentitySpec};
use crate::wayscloud::common::{
    api_error, check_database_ref, check_db_type, check_requested_name,
};
use crate::wayscloud::provider::ProviderData;

pub const TYPE_NAME: &str = "wayscloud_database_restore";

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
                description: "The database the snapshot belongs to.",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "snapshot_id",
                description: "The snapshot restored.",
                required_for_import: true,
            },
        ],
    }
}

pub struct DatabaseRestoreResource {
    data: Arc<ProviderData>,
}

impl DatabaseRestoreResource {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseRestoreState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub snapshot_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub target_db_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub restored_db_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub message: ValueString<'a>,
}

fn destructive_warning(diags: &mut Diagnostics, db_name: &str, snapshot: &str) {
    diags.warning(
        "This plan restores a snapshot over a database",
        format!(
            "Applying it replaces every table and row of database `{db_name}` with snapshot `{snapshot}`: \
             whatever was written since the snapshot is lost, and this cannot be undone. Its sessions are \
             ended. Take a `wayscloud_database_snapshot` first to keep the current contents, or set \
             `target_db_name` to restore into a new database instead."
        ),
        AttributePath::new("snapshot_id"),
    );
}

#[async_trait]
impl Resource for DatabaseRestoreResource {
    type State<'a> = DatabaseRestoreState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, Required};
        use AttributeType::String;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Restores a snapshot. **Destructive:** without `target_db_name`, applying it replaces the \
                     whole contents of `db_name` with the snapshot; rows written since are lost and this \
                     cannot be undone (the plan warns). With `target_db_name`, a new database \
                     `cust_<customer>_<pg|my>_<target_db_name>` is made from the snapshot instead (its \
                     password is set by rotating it, e.g. by importing it as a `wayscloud_database` and \
                     setting `password_version`). Any change plans another restore; destroying this \
                     resource undoes nothing.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "`db_type/db_name/snapshot_id`."),
                    "db_type" => attribute(String, Required, "`postgresql` or `mariadb`."),
                    "db_name" => attribute(String, Required, "The database the snapshot was taken of."),
                    "snapshot_id" => attribute(String, Required, "The snapshot to restore (`wayscloud_database_snapshot.x.snapshot_id`)."),
                    "target_db_name" => attribute(String, Optional,
                        "Restore into a new database with this name suffix (1 to 30 letters, digits, `_`) instead of over `db_name`."),
                    "restored_db_name" => attribute(String, Computed, "The database that now holds the snapshot's data."),
                    "message" => attribute(String, Computed, "WaysCloud's answer to the restore (null after an import: the answer is not kept)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseRestoreState<'a>,
    ) -> Option<()> {
        check_database_ref(diags, &config.db_type, &config.db_name);
        if let Some(t) = text(&config.target_db_name) {
            check_requested_name(diags, t, "target_db_name");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: DatabaseRestoreState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseRestoreState<'a>, ValueEmpty)> {
        // A restore happened; it stays in state while the restored database exists.
        let configured = self.data.configured(diags)?;
        let t = text(&state.db_type)?.to_owned();
        let restored = text(&state.restored_db_name)?.to_owned();
        match configured
            .client
            .find_database(&t, &restored, configured.customer_id.as_deref())
            .await
        {
            Ok(Some(_)) => Some((state, private)),
            Ok(None) => None,
            Err(e) => {
                api_error(diags, &e);
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        mut proposed: DatabaseRestoreState<'a>,
        _config: DatabaseRestoreState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseRestoreState<'a>, ValueEmpty)> {
        if proposed.target_db_name.is_null() {
            let db = text(&proposed.db_name)
                .unwrap_or("(known after apply)")
                .to_owned();
            let snap = text(&proposed.snapshot_id)
                .unwrap_or("(known after apply)")
                .to_owned();
            destructive_warning(diags, &db, &snap);
        }
        proposed.id = Value::Unknown;
        proposed.restored_db_name = Value::Unknown;
        proposed.message = Value::Unknown;
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseRestoreState<'a>,
        mut proposed: DatabaseRestoreState<'a>,
        _config: DatabaseRestoreState<'a>,
        _pp: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseRestoreState<'a>, ValueEmpty, Vec<AttributePath>)> {
        let mut replace = vec![];
        for (name, changed) in [
            ("db_type", proposed.db_type != prior.db_type),
            ("db_name", proposed.db_name != prior.db_name),
            ("snapshot_id", proposed.snapshot_id != prior.snapshot_id),
            (
                "target_db_name",
                proposed.target_db_name != prior.target_db_name,
            ),
        ] {
            if changed {
                replace.push(AttributePath::new(name));
            }
        }
        if !replace.is_empty() {
            if proposed.target_db_name.is_null() {
                let db = text(&proposed.db_name)
                    .unwrap_or("(known after apply)")
                    .to_owned();
                let snap = text(&proposed.snapshot_id)
                    .unwrap_or("(known after apply)")
                    .to_owned();
                destructive_warning(diags, &db, &snap);
            }
            proposed.id = Value::Unknown;
            proposed.restored_db_name = Value::Unknown;
            proposed.message = Value::Unknown;
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseRestoreState<'a>,
        _pp: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: DatabaseRestoreState<'a>,
        _config: DatabaseRestoreState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseRestoreState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let (t, n, snap) = (
            text(&planned.db_type)?.to_owned(),
            text(&planned.db_name)?.to_owned(),
            text(&planned.snapshot_id)?.to_owned(),
        );
        match client
            .restore(&t, &n, &snap, text(&planned.target_db_name))
            .await
        {
            Ok(r) => {
                let mut state = planned.clone();
                state.id = known(format!("{t}/{n}/{snap}"));
                state.restored_db_name = known(r.db_name);
                state.message = known(r.message);
                Some((state, Value::Null))
            }
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseRestoreState<'a>,
        planned: DatabaseRestoreState<'a>,
        _config: DatabaseRestoreState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseRestoreState<'a>, ValueEmpty)> {
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseRestoreState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        // A restore cannot be undone; forgetting it is all destroy does.
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DatabaseRestoreState<'a>, ValueEmpty)> {
        let spec = identity();
        let expected = format!("Import this type by `{}`", spec.import_form());
        let parts = spec.parse_import_id(diags, &id, IdentitySpec::no_slash, expected)?;
        check_db_type(diags, parts[0], "db_type");
        if !diags.errors.is_empty() {
            return None;
        }
        diags.root_warning(
            "Importing records a restore, it does not run one",
            "The imported restore stands for a restore of this snapshot over the database that already \
             happened; nothing is restored by importing it.",
        );
        Some((
            DatabaseRestoreState {
                id: known(id.clone()),
                db_type: known(parts[0]),
                db_name: known(parts[1]),
                snapshot_id: known(parts[2]),
                target_db_name: Value::Null,
                restored_db_name: known(parts[1]),
                message: Value::Null,
            },
            Value::Null,
        ))
    }
}
