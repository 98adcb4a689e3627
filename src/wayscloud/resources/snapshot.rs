//! `wayscloud_database_snapshot`: a snapshot (a real dump) of a database. Every change
//! replaces it; destroy deletes the dump. Import by `db_type/db_name/snapshot_id`.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::plugin::kit::{attribute, known, opt, text, Number, ValueNum};
use crate::plugin::{IdentityAttribute, IdentitySpec};
use crate::wayscloud::client::Snapshot;
use crate::wayscloud::common::{api_error, check_database_ref, check_db_type, deleted, found};
use crate::wayscloud::provider::ProviderData;

pub const TYPE_NAME: &str = "wayscloud_database_snapshot";

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
            IdentityAttribute {
                name: "snapshot_id",
                description: "The snapshot's id (`snap_...`).",
                required_for_import: true,
            },
        ],
    }
}

pub struct DatabaseSnapshotResource {
    data: Arc<ProviderData>,
}

impl DatabaseSnapshotResource {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSnapshotState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub description: ValueString<'a>,
    #[serde(borrow, default)]
    pub snapshot_id: ValueString<'a>,
    #[serde(default)]
    pub size_mb: ValueNum,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

pub(crate) fn from_snapshot<'a>(
    s: Snapshot,
    db_type: &str,
    db_name: &str,
    mut state: DatabaseSnapshotState<'a>,
) -> DatabaseSnapshotState<'a> {
    state.id = known(format!("{db_type}/{db_name}/{}", s.snapshot_id));
    state.db_type = known(db_type);
    state.db_name = known(db_name);
    state.description = opt(s.description.filter(|d| !d.is_empty()));
    state.size_mb = s
        .size_mb
        .map(|v| Value::Value(Number::Float(v)))
        .unwrap_or(Value::Null);
    state.created_at = opt(s.created_at);
    state.snapshot_id = known(s.snapshot_id);
    state
}

#[async_trait]
impl Resource for DatabaseSnapshotResource {
    type State<'a> = DatabaseSnapshotState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A snapshot of a WaysCloud database: an immediate backup, restorable with \
                     `wayscloud_database_restore`. Every change replaces it (a new snapshot of the \
                     database as it is then); destroying it deletes the snapshot for good.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "`db_type/db_name/snapshot_id`."),
                    "db_type" => attribute(String, Required, "`postgresql` or `mariadb`."),
                    "db_name" => attribute(String, Required, "The database's full name."),
                    "description" => attribute(String, Optional, "Why it was taken (e.g. `Before migration`)."),
                    "snapshot_id" => attribute(String, Computed, "The snapshot's id (`snap_YYYYMMDD_HHMMSS_...`)."),
                    "size_mb" => attribute(Number, Computed, "Size of the snapshot in MB."),
                    "created_at" => attribute(String, Computed, "When it was taken."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseSnapshotState<'a>,
    ) -> Option<()> {
        check_database_ref(diags, &config.db_type, &config.db_name);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: DatabaseSnapshotState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseSnapshotState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let (t, n, id) = (
            text(&state.db_type)?.to_owned(),
            text(&state.db_name)?.to_owned(),
            text(&state.snapshot_id)?.to_owned(),
        );
        found(diags, client.snapshots(&t, &n).await)?
            .into_iter()
            .find(|s| s.snapshot_id == id)
            .map(|s| (from_snapshot(s, &t, &n, state), private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: DatabaseSnapshotState<'a>,
        _config: DatabaseSnapshotState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseSnapshotState<'a>, ValueEmpty)> {
        proposed.id = Value::Unknown;
        proposed.snapshot_id = Value::Unknown;
        proposed.size_mb = Value::Unknown;
        proposed.created_at = Value::Unknown;
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: DatabaseSnapshotState<'a>,
        mut proposed: DatabaseSnapshotState<'a>,
        _config: DatabaseSnapshotState<'a>,
        _pp: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseSnapshotState<'a>, ValueEmpty, Vec<AttributePath>)> {
        let mut replace = vec![];
        for (name, changed) in [
            ("db_type", proposed.db_type != prior.db_type),
            ("db_name", proposed.db_name != prior.db_name),
            ("description", proposed.description != prior.description),
        ] {
            if changed {
                replace.push(AttributePath::new(name));
            }
        }
        if !replace.is_empty() {
            proposed.id = Value::Unknown;
            proposed.snapshot_id = Value::Unknown;
            proposed.size_mb = Value::Unknown;
            proposed.created_at = Value::Unknown;
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseSnapshotState<'a>,
        _pp: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: DatabaseSnapshotState<'a>,
        _config: DatabaseSnapshotState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseSnapshotState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let (t, n) = (
            text(&planned.db_type)?.to_owned(),
            text(&planned.db_name)?.to_owned(),
        );
        match client
            .create_snapshot(&t, &n, text(&planned.description))
            .await
        {
            Ok(s) => {
                let mut state = from_snapshot(s, &t, &n, planned.clone());
                state.description = planned.description.clone();
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
        _prior: DatabaseSnapshotState<'a>,
        planned: DatabaseSnapshotState<'a>,
        _config: DatabaseSnapshotState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseSnapshotState<'a>, ValueEmpty)> {
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseSnapshotState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        deleted(
            diags,
            client
                .delete_snapshot(
                    text(&prior.db_type)?,
                    text(&prior.db_name)?,
                    text(&prior.snapshot_id)?,
                )
                .await,
        )
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DatabaseSnapshotState<'a>, ValueEmpty)> {
        let spec = identity();
        let expected = format!("Import this type by `{}`", spec.import_form());
        let parts = spec.parse_import_id(diags, &id, IdentitySpec::no_slash, expected)?;
        check_db_type(diags, parts[0], "db_type");
        if !diags.errors.is_empty() {
            return None;
        }
        let client = self.data.configured(diags)?.client;
        match client.snapshots(parts[0], parts[1]).await {
            Ok(list) => match list.into_iter().find(|s| s.snapshot_id == parts[2]) {
                Some(s) => Some((
                    from_snapshot(s, parts[0], parts[1], DatabaseSnapshotState::default()),
                    Value::Null,
                )),
                None => {
                    diags.root_error(
                        "Cannot import snapshot",
                        format!("Database `{}` has no snapshot `{}`.", parts[1], parts[2]),
                    );
                    None
                }
            },
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}
