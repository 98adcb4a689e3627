//! `comwit_app`: a deployable runtime application (a V8-isolate app) in a Comwit project.
//!
//! - `name` and `project_id` replace the app when changed (there is no rename route).
//! - Create carries an `Idempotency-Key` and the databases' recovery of a lost answer.
//! - The code is deployed by `comwit_app_deployment`, the environment set by
//!   `comwit_app_env`. `active_build_id` here is deprecated: it keeps the value it had
//!   when the app was made or imported, because the deployment (another resource) changes
//!   the serving build and a refresh of the app must not report that as a change made
//!   outside Terraform. The live value is `comwit_app_deployment.active_build_id` and the
//!   data source's.
//! - Destroy deletes the app: it stops serving at once, and its builds and environment
//!   go with it.
//! - Import by app id (`app_...`), or by identity `{ id }`.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};
use tracing::debug;

use crate::comwit::client::{App, CreateAppRequest};
use crate::comwit::common::{
    api_error, check_app_name, check_id, default_project_on_update, deleted, planned_project,
};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::{attribute, known, opt, text};
use crate::plugin::{IdentityAttribute, IdentitySpec};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_app";

/// Identity `{ id }`, as `comwit_database`'s.
pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![IdentityAttribute {
            name: "id",
            description: "App id (`app_...`).",
            required_for_import: true,
        }],
    }
}

/// The `comwit_app` resource.
pub struct AppResource {
    data: Arc<ProviderData>,
}

impl AppResource {
    /// A resource sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `comwit_app`; field names are the attribute names.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(borrow, default)]
    pub default_hostname: ValueString<'a>,
    #[serde(borrow, default)]
    pub default_url: ValueString<'a>,
    #[serde(borrow, default)]
    pub active_build_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

/// The schema's description of `active_build_id`, shared with the data source.
pub const ACTIVE_BUILD_DESCRIPTION: &str =
    "The build (`bld_...`) that serves the app's traffic; null until a build has become \
     active. Set by `comwit_app_deployment`.";

/// The resource's `active_build_id`: what it was when the app was made or imported.
const RESOURCE_ACTIVE_BUILD_DESCRIPTION: &str =
    "Deprecated: the build (`bld_...`) that served when the app was created or imported \
     (null for a new app), not refreshed afterwards, because `comwit_app_deployment` changes \
     the serving build and a refresh must not report that as a change made outside \
     Terraform. Use `comwit_app_deployment.active_build_id`, or the `comwit_app` data \
     source, for the build that serves now.";

#[async_trait]
impl Resource for AppResource {
    type State<'a> = AppState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, OptionalComputed, Required};
        use AttributeType::String;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A deployable runtime application (V8-isolate app) in a Comwit project, \
                     served at `default_url`. Deploy its code with `comwit_app_deployment` and \
                     set its environment with `comwit_app_env`. Destroying it deletes the app: \
                     it stops serving at once, and its builds and environment go with it.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "App id (`app_...`), assigned by Comwit."),
                    "project_id" => attribute(String, OptionalComputed,
                        "Project (`prj_...`) that owns the app. Defaults to the provider's \
                         `project_id`. Changing it replaces the app."),
                    "name" => attribute(String, Required,
                        "App name, unique among the project's apps: 3 to 32 lowercase letters, \
                         digits and `-`, starting with a letter and not ending with `-`. Changing \
                         it replaces the app."),
                    "default_hostname" => attribute(String, Computed,
                        "The app's hostname, `<name>-<first 8 hex of the id>.apps.comwit.app`."),
                    "default_url" => attribute(String, Computed, "The URL the app is served at."),
                    "active_build_id" => Attribute {
                        deprecated: true,
                        ..attribute(String, Computed, RESOURCE_ACTIVE_BUILD_DESCRIPTION)
                    },
                    "created_at" => attribute(String, Computed, "Creation time (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: AppState<'a>) -> Option<()> {
        if let Some(name) = text(&config.name) {
            check_app_name(diags, name, "name");
        }
        if let Some(project) = text(&config.project_id) {
            check_id(diags, project, "prj_", "project_id");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: AppState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let id = text(&state.id)?.to_owned();
        match client.get_app(&id).await {
            Ok(app) => Some((refreshed(app, state), private)),
            Err(e) if e.is_not_found() => {
                debug!(app_id = %id, "app no longer exists");
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
        mut proposed: AppState<'a>,
        _config: AppState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(AppState<'a>, ValueEmpty)> {
        proposed.project_id = planned_project(diags, &self.data, &proposed.project_id)?;
        proposed.id = Value::Unknown;
        proposed.default_hostname = Value::Unknown;
        proposed.default_url = Value::Unknown;
        proposed.created_at = Value::Unknown;
        // A new app has no active build until a deployment makes one (in the same apply,
        // so it is not known yet either).
        proposed.active_build_id = Value::Unknown;
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: AppState<'a>,
        mut proposed: AppState<'a>,
        config: AppState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppState<'a>, ValueEmpty, Vec<AttributePath>)> {
        proposed.project_id =
            default_project_on_update(&self.data, &config.project_id, proposed.project_id);
        let mut replace = vec![];
        if proposed.project_id != prior.project_id {
            replace.push(AttributePath::new("project_id"));
        }
        if proposed.name != prior.name {
            replace.push(AttributePath::new("name"));
        }
        if !replace.is_empty() {
            proposed.id = Value::Unknown;
            proposed.default_hostname = Value::Unknown;
            proposed.default_url = Value::Unknown;
            proposed.created_at = Value::Unknown;
            proposed.active_build_id = Value::Unknown;
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: AppState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: AppState<'a>,
        _config: AppState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let project = text(&planned.project_id)?.to_owned();
        let request = CreateAppRequest {
            name: text(&planned.name)?.to_owned(),
        };
        match client.create_app(&project, &request).await {
            Ok(app) => Some((from_api(app), Value::Null)),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: AppState<'a>,
        planned: AppState<'a>,
        _config: AppState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppState<'a>, ValueEmpty)> {
        // Every argument replaces the app: an update only ever stores the plan.
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AppState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let id = text(&prior.id)?.to_owned();
        deleted(diags, client.delete_app(&id).await)
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(AppState<'a>, ValueEmpty)> {
        check_id(diags, &id, "app_", "id");
        if !diags.errors.is_empty() {
            diags.errors[0].detail = format!(
                "Import an app by its id, for example `terraform import comwit_app.web \
                 app_5c2e9a1b00112233` (got `{id}`)."
            )
            .into();
            return None;
        }
        let client = self.data.configured(diags)?.client;
        match client.get_app(&id).await {
            Ok(app) => Some((from_api(app), Value::Null)),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}

/// The state after a refresh: the API's, but for `active_build_id`, which keeps its value
/// in state (see the module's docs).
fn refreshed<'a>(app: App, prior: AppState<'a>) -> AppState<'a> {
    let mut state = from_api(app);
    if !prior.active_build_id.is_unknown() {
        state.active_build_id = prior.active_build_id;
    }
    state
}

/// The state of an app as the API answers it: every attribute is the API's.
pub fn from_api<'a>(app: App) -> AppState<'a> {
    AppState {
        id: known(app.app_id),
        project_id: known(app.project_id),
        name: known(app.name),
        default_hostname: known(app.default_hostname),
        default_url: known(app.default_url),
        active_build_id: opt(app.active_build_id),
        created_at: known(app.created_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prior() -> AppState<'static> {
        AppState {
            id: known("app_1"),
            project_id: known("prj_1"),
            name: known("web"),
            default_hostname: known("web-1.apps.comwit.app"),
            default_url: known("https://web-1.apps.comwit.app/"),
            active_build_id: known("bld_1"),
            created_at: known("t"),
        }
    }

    #[tokio::test]
    async fn a_rename_replaces_and_nothing_else_changes_in_place() {
        let r = AppResource::new(Arc::default());
        let mut diags = Diagnostics::default();
        let same = prior();
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior(),
                same.clone(),
                same,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert!(replace.is_empty());
        assert_eq!(planned, prior());

        let mut renamed = prior();
        renamed.name = known("web2");
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior(),
                renamed.clone(),
                renamed,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert_eq!(replace, vec![AttributePath::new("name")]);
        assert!(planned.id.is_unknown() && planned.default_url.is_unknown());
        assert!(planned.active_build_id.is_unknown());
    }

    #[tokio::test]
    async fn names_and_import_ids_are_checked_on_their_attribute() {
        let r = AppResource::new(Arc::default());
        let mut diags = Diagnostics::default();
        let config = AppState {
            name: known("Web_App"),
            project_id: known("db_1"),
            ..Default::default()
        };
        r.validate(&mut diags, config).await;
        let paths: Vec<_> = diags.errors.iter().map(|e| e.attribute.clone()).collect();
        assert_eq!(
            paths,
            [AttributePath::new("name"), AttributePath::new("project_id")]
        );
        assert!(diags.errors[0].detail.contains("app name"));
        let mut diags = Diagnostics::default();
        assert!(r.import(&mut diags, "db_1".into()).await.is_none());
        assert!(diags.errors[0]
            .detail
            .contains("terraform import comwit_app.web"));
    }

    #[test]
    fn a_refresh_keeps_the_active_build_in_state() {
        let live = || App {
            app_id: "app_1".into(),
            project_id: "prj_1".into(),
            name: "web".into(),
            default_hostname: "h".into(),
            default_url: "u".into(),
            active_build_id: Some("bld_2".into()),
            created_at: "t".into(),
            updated_at: None,
        };
        let made = AppState {
            active_build_id: Value::Null,
            ..prior()
        };
        let state = refreshed(live(), made);
        assert_eq!(
            state.active_build_id,
            Value::Null,
            "not the deployment's bld_2"
        );
        assert_eq!(state.default_hostname, known("h"), "the rest is the API's");
        assert_eq!(refreshed(live(), prior()).active_build_id, known("bld_1"));
        let unknown = AppState {
            active_build_id: Value::Unknown,
            ..prior()
        };
        assert_eq!(refreshed(live(), unknown).active_build_id, known("bld_2"));
    }

    #[test]
    fn an_app_without_an_active_build_has_a_null_one() {
        let state = from_api(App {
            app_id: "app_1".into(),
            project_id: "prj_1".into(),
            name: "web".into(),
            default_hostname: "h".into(),
            default_url: "u".into(),
            active_build_id: None,
            created_at: "t".into(),
            updated_at: None,
        });
        assert_eq!(state.active_build_id, Value::Null);
        assert_eq!(state.id, known("app_1"));
    }
}
