//! `comwit_database`: a libSQL database in a Comwit project.
//!
//! - `name` and `project_id` replace the database when changed (there is no rename route).
//! - `database_token` comes only from create (and rotation): the API never returns it again,
//!   so read keeps the value in state. Changing `token_version` rotates it in place.
//! - `suspended` suspends or resumes in place.
//! - `deletion_protection` makes any plan that would destroy the database fail, because a
//!   delete is permanent (seed 000).
//! - Import by database id; the token is then unknown (null) until the next rotation.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};
use tracing::debug;

use crate::comwit::client::{CreateDatabaseRequest, Database, DatabaseStatus};
use crate::comwit::common::{
    api_error, check_database_name, check_id, default_project_on_update, deleted, planned_project,
};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::{attribute, known, sensitive, text, whole_number, ValueNum};
use crate::plugin::{IdentityAttribute, IdentitySpec};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_database";

/// What `token_version` may be: any whole number a JSON tool keeps exact (2^53 - 1).
pub const TOKEN_VERSION_RANGE: std::ops::RangeInclusive<i64> = 0..=9_007_199_254_740_991;

/// Identity `{ id }`: `import { to = ..., identity = { id = "db_..." } }` works too.
pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![IdentityAttribute {
            name: "id",
            description: "Database id (`db_...`).",
            required_for_import: true,
        }],
    }
}

/// The `comwit_database` resource.
pub struct DatabaseResource {
    data: Arc<ProviderData>,
}

impl DatabaseResource {
    /// A resource sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `comwit_database`; field names are the attribute names.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(borrow, default)]
    pub database_url: ValueString<'a>,
    #[serde(borrow, default)]
    pub status: ValueString<'a>,
    #[serde(default)]
    pub suspended: ValueBool,
    #[serde(default)]
    pub token_version: ValueNum,
    #[serde(borrow, default)]
    pub database_token: ValueString<'a>,
    #[serde(default)]
    pub deletion_protection: ValueBool,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

fn status_for(suspended: &ValueBool) -> ValueString<'static> {
    match suspended {
        Value::Value(true) => known("suspended"),
        Value::Value(false) => known("active"),
        _ => Value::Unknown,
    }
}

/// The plan rotates the token: say so, since every client of the old one gets 401.
fn rotation_warning(diags: &mut Diagnostics, name: &str, imported: bool) {
    let why = if imported {
        "The database was imported, so Terraform never held its token: applying this plan \
         rotates it to store one. "
    } else {
        ""
    };
    diags.warning(
        "This plan rotates a database token",
        format!(
            "{why}Applying it issues a new `database_token` for database `{name}` and the \
             current one stops working at once: every app, job or person connecting with it \
             gets 401 until it is given the new token. To keep the current token, leave \
             `token_version` as it is in state."
        ),
        AttributePath::new("token_version"),
    );
}

fn protection_error(diags: &mut Diagnostics, what: &str, name: &str) {
    diags.error(
        "Database is protected from deletion",
        format!(
            "This plan would {what} database `{name}`, which deletes it and all its data for \
             good. `deletion_protection` is on: if that is really what you want, set \
             `deletion_protection = false`, apply, then run this plan again."
        ),
        AttributePath::new("deletion_protection"),
    );
}

#[async_trait]
impl Resource for DatabaseResource {
    type State<'a> = DatabaseState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Bool, Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A libSQL database in a Comwit project. Apps connect to `database_url` with \
                     `database_token`. Deleting a database is permanent: turn on \
                     `deletion_protection` for databases that hold data you need.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "Database id (`db_...`), assigned by Comwit."),
                    "project_id" => attribute(String, OptionalComputed,
                        "Project (`prj_...`) that owns the database. Defaults to the provider's \
                         `project_id`. Changing it replaces the database."),
                    "name" => attribute(String, Required,
                        "Database name, unique in the project: 3 to 32 lowercase letters, digits and \
                         `-`, starting with a letter and not ending with `-`. Changing it replaces \
                         the database."),
                    "database_url" => attribute(String, Computed,
                        "URL an app connects to with `database_token` (libSQL over HTTP)."),
                    "status" => attribute(String, Computed,
                        "Lifecycle status reported by Comwit: `active` or `suspended`."),
                    "suspended" => attribute(Bool, OptionalComputed,
                        "Whether the database is suspended. Setting it to `true` suspends the \
                         database in place, `false` resumes it. Left unset, the provider does not \
                         manage it (defaults to `false` on create)."),
                    "token_version" => attribute(Number, Optional,
                        "A whole number (0 to 2^53 - 1); changing it rotates the connection token in place: a new \
                         `database_token` is issued and the previous one stops working at once."),
                    "database_token" => sensitive(String, Computed,
                        "Long-lived connection token. Returned only by create and rotation and kept \
                         in state, since Comwit never returns it again; null after import until the \
                         next rotation."),
                    "deletion_protection" => attribute(Bool, OptionalComputed,
                "When `true`, Terraform never deletes this database: a plan to destroy or \
                         replace it fails, and so does the apply of a replacement Terraform plans \
                         on its own (`-replace`, `taint`, `replace_triggered_by`), before anything \
                         is deleted. Default `false`; removing the argument plans it back to \
                         `false`."),
                    "created_at" => attribute(String, Computed, "Creation time (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: DatabaseState<'a>) -> Option<()> {
        whole_number(
            diags,
            &config.token_version,
            "token_version",
            TOKEN_VERSION_RANGE,
        );
        if let Some(name) = text(&config.name) {
            check_database_name(diags, name, "name");
        }
        if let Some(project) = text(&config.project_id) {
            check_id(diags, project, "prj_", "project_id");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: DatabaseState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let id = text(&state.id)?.to_owned();
        match client.get_database(&id).await {
            Ok(db) => Some((from_api(db, state), private)),
            Err(e) if e.is_not_found() => {
                debug!(database_id = %id, "database no longer exists");
                None
            }
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        mut proposed: DatabaseState<'a>,
        _config: DatabaseState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        proposed.project_id = planned_project(diags, &self.data, &proposed.project_id)?;
        proposed.id = Value::Unknown;
        proposed.database_url = Value::Unknown;
        proposed.created_at = Value::Unknown;
        proposed.database_token = Value::Unknown;
        if proposed.suspended.is_null() {
            proposed.suspended = Value::Value(false);
        }
        if proposed.deletion_protection.is_null() {
            proposed.deletion_protection = Value::Value(false);
        }
        proposed.status = status_for(&proposed.suspended);
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseState<'a>,
        mut proposed: DatabaseState<'a>,
        config: DatabaseState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty, Vec<AttributePath>)> {
        // Unset in config: follow the provider's default project when it has one.
        proposed.project_id =
            default_project_on_update(&self.data, &config.project_id, proposed.project_id);
        let mut replace = vec![];
        if proposed.project_id != prior.project_id {
            replace.push(AttributePath::new("project_id"));
        }
        if proposed.name != prior.name {
            replace.push(AttributePath::new("name"));
        }
        if proposed.suspended.is_null() {
            proposed.suspended = prior.suspended;
        }
        // Removed from the configuration: back to the documented default, as a visible
        // change (the proposal would otherwise keep the prior `true` silently).
        if config.deletion_protection.is_null() {
            proposed.deletion_protection = Value::Value(false);
        }
        if !replace.is_empty() {
            if prior.deletion_protection == Value::Value(true) {
                let name = text(&prior.name).unwrap_or_default().to_owned();
                protection_error(diags, "replace", &name);
                return None;
            }
            proposed.id = Value::Unknown;
            proposed.database_url = Value::Unknown;
            proposed.created_at = Value::Unknown;
            proposed.database_token = Value::Unknown;
        } else if proposed.token_version != prior.token_version && proposed.token_version.is_value()
        {
            proposed.database_token = Value::Unknown;
            let name = text(&prior.name).unwrap_or_default().to_owned();
            rotation_warning(diags, &name, prior.database_token.is_null());
        }
        proposed.status = if proposed.suspended == prior.suspended && replace.is_empty() {
            prior.status.clone()
        } else {
            status_for(&proposed.suspended)
        };
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        if prior.deletion_protection == Value::Value(true) {
            let name = text(&prior.name).unwrap_or_default().to_owned();
            protection_error(diags, "destroy", &name);
            return None;
        }
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: DatabaseState<'a>,
        _config: DatabaseState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let project = text(&planned.project_id)?.to_owned();
        let request = CreateDatabaseRequest {
            name: text(&planned.name)?.to_owned(),
            group: None,
            size_limit_mb: None,
        };
        let created = match client.create_database(&project, &request).await {
            Ok(c) => c,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let mut state = from_api(created.database, planned.clone());
        state.database_token = known(created.database_token.expose());
        if planned.suspended == Value::Value(true) && state.suspended != Value::Value(true) {
            let id = text(&state.id).unwrap_or_default().to_owned();
            match client.suspend_database(&id).await {
                Ok(db) => state = from_api(db, state),
                // The database exists: keep it in state and report the failed suspend.
                Err(e) => api_error(diags, &e),
            }
        }
        Some((state, Value::Null))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseState<'a>,
        planned: DatabaseState<'a>,
        _config: DatabaseState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let mut state = planned.clone();
        let id = text(&prior.id)?.to_owned();
        if planned.database_token.is_unknown() {
            let client = self.data.configured(diags)?.client;
            match client.rotate_database_token(&id).await {
                Ok(rotated) => state.database_token = known(rotated.database_token.expose()),
                Err(e) => {
                    api_error(diags, &e);
                    return None;
                }
            }
        }
        if planned.suspended != prior.suspended {
            let client = self.data.configured(diags)?.client;
            let want_suspended = planned.suspended == Value::Value(true);
            let result = if want_suspended {
                client.suspend_database(&id).await
            } else {
                client.resume_database(&id).await
            };
            let db = match result {
                Ok(db) => db,
                // 409: it already is in the wanted state (e.g. a retried apply): confirm.
                Err(e) if e.is_conflict() => match client.get_database(&id).await {
                    Ok(db) => db,
                    Err(e) => {
                        api_error(diags, &e);
                        return Some((with_token_only(prior, &state), Value::Null));
                    }
                },
                Err(e) => {
                    api_error(diags, &e);
                    // Keep what changed (a rotated token must not be lost).
                    return Some((with_token_only(prior, &state), Value::Null));
                }
            };
            state = from_api(db, state);
        }
        Some((state, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        // The last word on deletion: `-replace`, `taint` and `replace_triggered_by` plan a
        // replacement without asking this provider about the delete half, so the flag in
        // state is checked here, before anything is sent.
        if prior.deletion_protection == Value::Value(true) {
            let name = text(&prior.name).unwrap_or_default().to_owned();
            protection_error(diags, "destroy (or replace)", &name);
            return None;
        }
        let client = self.data.configured(diags)?.client;
        let id = text(&prior.id)?.to_owned();
        deleted(diags, client.delete_database(&id).await)
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        check_id(diags, &id, "db_", "id");
        if !diags.errors.is_empty() {
            diags.errors[0].detail = format!(
                "Import a database by its id, for example `terraform import comwit_database.main \
                 db_8a41c0d2e3f4a5b6` (got `{id}`)."
            )
            .into();
            return None;
        }
        let client = self.data.configured(diags)?.client;
        let db = match client.get_database(&id).await {
            Ok(db) => db,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        diags.root_warning(
            "Database token unknown after import",
            "Comwit never returns a database's connection token after create, so \
             `database_token` is null in state. Set or change `token_version` and apply to \
             rotate the token and store the new one.",
        );
        let state = DatabaseState {
            deletion_protection: Value::Value(false),
            ..Default::default()
        };
        Some((from_api(db, state), Value::Null))
    }
}

/// Merge an API answer into a state: the API owns ids, name, URL and status; the state keeps
/// what only Terraform knows (token, token_version, deletion_protection).
pub(crate) fn from_api<'a>(db: Database, mut state: DatabaseState<'a>) -> DatabaseState<'a> {
    state.id = known(db.database_id);
    state.project_id = known(db.project_id);
    state.name = known(db.name);
    state.database_url = known(db.database_url);
    state.suspended = Value::Value(db.status == DatabaseStatus::Suspended);
    state.status = known(db.status.as_str());
    state.created_at = known(db.created_at);
    if state.deletion_protection.is_null() {
        state.deletion_protection = Value::Value(false);
    }
    state
}

/// After a partial update failure: the prior state plus a token that was already rotated.
fn with_token_only<'a>(prior: DatabaseState<'a>, state: &DatabaseState<'a>) -> DatabaseState<'a> {
    DatabaseState {
        database_token: state.database_token.clone(),
        token_version: state.token_version.clone(),
        ..prior
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comwit::client::FrameNumbers;

    fn db(status: DatabaseStatus) -> Database {
        Database {
            database_id: "db_1".into(),
            project_id: "prj_1".into(),
            name: "orders".into(),
            database_url: "http://x/db/db_1".into(),
            status,
            created_at: "2026-11-23T19:00:00Z".into(),
            updated_at: "2026-11-23T19:00:00Z".into(),
            runner: "r".into(),
            generation: 1,
            frame_numbers: FrameNumbers::default(),
            group: None,
            size_limit_mb: None,
        }
    }

    #[test]
    fn from_api_keeps_terraform_only_fields() {
        let prior = DatabaseState {
            database_token: known("cdt_secret"),
            token_version: Value::Value(3.into()),
            deletion_protection: Value::Value(true),
            ..Default::default()
        };
        let s = from_api(db(DatabaseStatus::Suspended), prior);
        assert_eq!(s.database_token, known("cdt_secret"));
        assert_eq!(s.token_version, Value::Value(3.into()));
        assert_eq!(s.deletion_protection, Value::Value(true));
        assert_eq!(s.suspended, Value::Value(true));
        assert_eq!(s.status, known("suspended"));
        assert_eq!(s.id, known("db_1"));
    }

    #[tokio::test]
    async fn plan_destroy_refuses_when_protected() {
        let r = DatabaseResource::new(Arc::default());
        let mut diags = Diagnostics::default();
        let prior = DatabaseState {
            name: known("orders"),
            deletion_protection: Value::Value(true),
            ..Default::default()
        };
        assert!(r
            .plan_destroy(&mut diags, prior, Value::Null, Value::Null)
            .await
            .is_none());
        assert_eq!(diags.errors.len(), 1);
        assert_eq!(
            diags.errors[0].attribute,
            AttributePath::new("deletion_protection")
        );
        assert!(diags.errors[0].detail.contains("orders"));
    }

    #[tokio::test]
    async fn token_version_change_plans_a_new_token_and_name_change_replaces() {
        let r = DatabaseResource::new(Arc::default());
        let prior = DatabaseState {
            id: known("db_1"),
            project_id: known("prj_1"),
            name: known("orders"),
            database_url: known("u"),
            status: known("active"),
            suspended: Value::Value(false),
            token_version: Value::Value(1.into()),
            database_token: known("cdt_old"),
            deletion_protection: Value::Value(false),
            created_at: known("t"),
        };
        let mut proposed = prior.clone();
        proposed.token_version = Value::Value(2.into());
        let mut diags = Diagnostics::default();
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior.clone(),
                proposed.clone(),
                proposed,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert!(replace.is_empty());
        assert!(planned.database_token.is_unknown());
        assert_eq!(planned.id, known("db_1"));

        let mut renamed = prior.clone();
        renamed.name = known("orders2");
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior.clone(),
                renamed.clone(),
                renamed.clone(),
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert_eq!(replace, vec![AttributePath::new("name")]);
        assert!(planned.id.is_unknown());

        let mut protected = prior.clone();
        protected.deletion_protection = Value::Value(true);
        let mut diags = Diagnostics::default();
        assert!(r
            .plan_update(
                &mut diags,
                protected,
                renamed.clone(),
                renamed,
                Value::Null,
                Value::Null
            )
            .await
            .is_none());
        assert_eq!(
            diags.errors[0].attribute,
            AttributePath::new("deletion_protection")
        );
    }

    fn live(protected: bool) -> DatabaseState<'static> {
        DatabaseState {
            id: known("db_1"),
            project_id: known("prj_1"),
            name: known("orders"),
            database_url: known("u"),
            status: known("active"),
            suspended: Value::Value(false),
            token_version: Value::Value(1.into()),
            database_token: known("cdt_old"),
            deletion_protection: Value::Value(protected),
            created_at: known("t"),
        }
    }

    #[tokio::test]
    async fn destroy_itself_refuses_a_protected_database_before_any_request() {
        // `-replace`, taint and replace_triggered_by reach destroy without plan_destroy.
        let r = DatabaseResource::new(Arc::default());
        let mut diags = Diagnostics::default();
        assert!(r
            .destroy(&mut diags, live(true), Value::Null, Value::Null)
            .await
            .is_none());
        assert_eq!(diags.errors.len(), 1, "{:?}", diags.errors);
        assert_eq!(
            diags.errors[0].summary,
            "Database is protected from deletion"
        );
        assert_eq!(
            diags.errors[0].attribute,
            AttributePath::new("deletion_protection")
        );
    }

    #[tokio::test]
    async fn removing_deletion_protection_plans_it_back_to_false() {
        let r = DatabaseResource::new(Arc::default());
        let prior = live(true);
        // What Terraform proposes for an Optional+Computed attribute removed from config.
        let proposed = prior.clone();
        let config = DatabaseState {
            deletion_protection: Value::Null,
            ..prior.clone()
        };
        let mut diags = Diagnostics::default();
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior,
                proposed,
                config,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert!(replace.is_empty());
        assert_eq!(planned.deletion_protection, Value::Value(false));
    }

    #[tokio::test]
    async fn a_plan_that_rotates_warns_and_names_the_database() {
        let r = DatabaseResource::new(Arc::default());
        // After an import: no token in state, token_version set in config.
        let prior = DatabaseState {
            token_version: Value::Null,
            database_token: Value::Null,
            ..live(false)
        };
        let proposed = DatabaseState {
            token_version: Value::Value(1.into()),
            ..prior.clone()
        };
        let mut diags = Diagnostics::default();
        let (planned, _, _) = r
            .plan_update(
                &mut diags,
                prior.clone(),
                proposed.clone(),
                proposed,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert!(planned.database_token.is_unknown());
        assert_eq!(diags.warnings.len(), 1);
        assert!(diags.warnings[0].detail.contains("`orders`"));
        assert!(diags.warnings[0].detail.contains("imported"));
        assert!(diags.warnings[0].detail.contains("401"));
        // No rotation, no warning.
        let mut diags = Diagnostics::default();
        r.plan_update(
            &mut diags,
            live(false),
            live(false),
            live(false),
            Value::Null,
            Value::Null,
        )
        .await
        .expect("plan");
        assert!(diags.warnings.is_empty());
    }

    #[tokio::test]
    async fn fractional_and_huge_token_versions_fail_validation_on_the_attribute() {
        use crate::plugin::kit::Number;
        let r = DatabaseResource::new(Arc::default());
        for bad in [Number::Float(1.5), Number::Float(1e20), Number::Int(-1)] {
            let mut diags = Diagnostics::default();
            let config = DatabaseState {
                token_version: Value::Value(bad.clone()),
                ..live(false)
            };
            r.validate(&mut diags, config).await;
            assert_eq!(diags.errors.len(), 1, "{bad}");
            assert_eq!(
                diags.errors[0].attribute,
                AttributePath::new("token_version")
            );
            assert!(diags.errors[0].detail.contains("whole number"));
        }
    }
}
