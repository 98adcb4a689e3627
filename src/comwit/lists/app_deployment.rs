//! `list "comwit_app_deployment"`: the deployment of one app (`app_id`), or of every app of
//! a project: the build that serves the app, one item per app with a serving build.
//!
//! Only the serving build is listed, not the app's whole build history: a deployment is
//! the build that serves, and a deployment imported from a build that does not serve would
//! plan making it serve (a rollback). The API has no paging: the listing goes app by app,
//! reading the next app's build only while Terraform is still reading.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{check_app_filters, filter, per_app_page, ready};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::app_deployment::{
    imported, AppDeploymentState, DEFAULT_ENTRY, DEFAULT_TIMEOUT_SECONDS,
};
use crate::plugin::{ConfigRules, ListItem, ListResource, Listed, Page};

/// The `config` block of `list "comwit_app_deployment"`.
#[derive(Debug, Default, Deserialize)]
pub struct AppDeploymentFilter<'a> {
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
}

/// Lists `comwit_app_deployment`.
pub struct AppDeploymentList {
    data: Arc<ProviderData>,
}

impl AppDeploymentList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// Server defaults (`entry`, `timeout_seconds`), and `active_build_id` left out: a listed
/// deployment is the serving build, which is what an unset `active_build_id` serves (written,
/// it would pin that build even after the code changes).
pub fn rules() -> ConfigRules {
    ConfigRules {
        defaults: vec![
            ("entry", DEFAULT_ENTRY.into()),
            ("timeout_seconds", DEFAULT_TIMEOUT_SECONDS.into()),
        ],
        omit: vec!["active_build_id"],
    }
}

#[async_trait]
impl ListResource for AppDeploymentList {
    type Config<'a> = AppDeploymentFilter<'a>;
    type State = AppDeploymentState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The deployment of each app of a project (or of one app): the build that \
                     serves it, with the state its import gives. Apps with no serving build \
                     are not listed. The source is not listed (Comwit keeps the build's \
                     archive, not where it came from): generated configuration needs \
                     `source_dir` or `source_archive` added; with the same code there, the \
                     first apply records it without a new build.",
                ),
                attributes: map! {
                    "project_id" => filter("Project (`prj_...`) whose apps are listed when `app_id` is not set. Defaults to the provider's `project_id`."),
                    "app_id" => filter("Only the deployment of this app (`app_...`)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: AppDeploymentFilter<'a>,
    ) -> Option<()> {
        check_app_filters(diags, &config.project_id, &config.app_id);
        Some(())
    }

    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &AppDeploymentFilter<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<AppDeploymentState<'static>>> {
        let filters = (&config.project_id, &config.app_id);
        per_app_page(diags, &self.data, filters, cursor, |c, app| async move {
            // An app with no serving build has no deployment.
            let Some(build_id) = app.active_build_id.clone() else {
                return Ok(ready(vec![]));
            };
            let build = match c.client.get_build(&app.id, &build_id).await {
                Ok(b) => b,
                // The app (and its builds) went since it was read: nothing to list.
                Err(e) if e.is_not_found() => return Ok(ready(vec![])),
                Err(e) => return Err(e),
            };
            Ok(ready(vec![Listed::Item(ListItem {
                display_name: format!("{} {} ({})", app.name, build.build_id, build.status),
                state: imported(build, Some(build_id)),
            })]))
        })
        .await
    }
}
