//! `data "comwit_app"`: an app, by `id` or by `name` (in `project_id`, default the
//! provider's project).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, DataSource, Diagnostics};

use crate::comwit::common::{api_error, check_app_name, check_id, project_id};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::app::{from_api, AppState, ACTIVE_BUILD_DESCRIPTION};
use crate::plugin::kit::{attribute, text};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_app";

/// The `comwit_app` data source.
pub struct AppDataSource {
    data: Arc<ProviderData>,
}

impl AppDataSource {
    /// A data source sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `data "comwit_app"`: the resource's attributes.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AppDataState<'a> {
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

impl<'a> From<AppState<'a>> for AppDataState<'a> {
    fn from(s: AppState<'a>) -> Self {
        AppDataState {
            id: s.id,
            project_id: s.project_id,
            name: s.name,
            default_hostname: s.default_hostname,
            default_url: s.default_url,
            active_build_id: s.active_build_id,
            created_at: s.created_at,
        }
    }
}

/// Exactly one of `id` and `name`.
fn check(diags: &mut Diagnostics, config: &AppDataState<'_>) {
    match (&config.id, &config.name) {
        (Value::Null, Value::Null) => diags.error(
            "Missing app",
            "Set `id` (`app_...`), or `name` (with `project_id`, or the provider's default project).",
            AttributePath::new("id"),
        ),
        (Value::Value(_), Value::Value(_)) => diags.error(
            "Both id and name",
            "Set only one of `id` and `name`.",
            AttributePath::new("name"),
        ),
        _ => {}
    }
    if let Some(id) = text(&config.id) {
        check_id(diags, id, "app_", "id");
    }
    if let Some(name) = text(&config.name) {
        check_app_name(diags, name, "name");
    }
    if let Some(project) = text(&config.project_id) {
        check_id(diags, project, "prj_", "project_id");
    }
}

#[async_trait]
impl DataSource for AppDataSource {
    type State<'a> = AppDataState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, OptionalComputed};
        use AttributeType::String;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Reads an app by `id`, or by `name` in a project: its URL, hostname and \
                     the build that serves it.",
                ),
                attributes: map! {
                    "id" => attribute(String, OptionalComputed, "App id (`app_...`). Set this or `name`."),
                    "name" => attribute(String, OptionalComputed, "App name. Set this or `id`."),
                    "project_id" => attribute(String, OptionalComputed,
                        "Project to look `name` up in. Defaults to the provider's `project_id`."),
                    "default_hostname" => attribute(String, Computed, "The app's hostname."),
                    "default_url" => attribute(String, Computed, "The URL the app is served at."),
                    "active_build_id" => attribute(String, Computed, ACTIVE_BUILD_DESCRIPTION),
                    "created_at" => attribute(String, Computed, "Creation time (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        check(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: ValueEmpty,
    ) -> Option<Self::State<'a>> {
        let configured = self.data.configured(diags)?;
        let client = &configured.client;
        if let Some(id) = text(&config.id) {
            return match client.get_app(id).await {
                Ok(app) => Some(from_api(app).into()),
                Err(e) => {
                    api_error(diags, &e);
                    None
                }
            };
        }
        let name = text(&config.name)?.to_owned();
        let project = project_id(diags, &config.project_id, Some(&configured))?;
        let project = text(&project)?.to_owned();
        let apps = match client.list_apps(&project).await {
            Ok(apps) => apps,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        match apps.into_iter().find(|a| a.name == name) {
            Some(app) => Some(from_api(app).into()),
            None => {
                diags.error(
                    "App not found",
                    format!(
                        "Project `{project}` has no app named `{name}`. Check the name and \
                         `project_id` (the token must be a member of the project)."
                    ),
                    AttributePath::new("name"),
                );
                None
            }
        }
    }
}
