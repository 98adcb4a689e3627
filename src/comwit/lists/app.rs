//! `list "comwit_app"`: the apps of a project, optionally those whose name starts with
//! `name_prefix`. The API has no paging: one fetch, read app by app as Terraform takes
//! them.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{entries, filter, project_of};
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::app::{from_api, AppState};
use crate::plugin::kit::text;
use crate::plugin::{ListItem, ListResource, Page};

/// The `config` block of `list "comwit_app"`.
#[derive(Debug, Default, Deserialize)]
pub struct AppFilter<'a> {
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub name_prefix: ValueString<'a>,
}

/// Lists `comwit_app`.
pub struct AppList {
    data: Arc<ProviderData>,
}

impl AppList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[async_trait]
impl ListResource for AppList {
    type Config<'a> = AppFilter<'a>;
    type State = AppState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The apps of a Comwit project, each with the state its import gives.",
                ),
                attributes: map! {
                    "project_id" => filter("Project (`prj_...`) to list. Defaults to the provider's `project_id`."),
                    "name_prefix" => filter("Only apps whose name starts with this text."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: AppFilter<'a>) -> Option<()> {
        if let Some(project) = text(&config.project_id) {
            check_id(diags, project, "prj_", "project_id");
        }
        Some(())
    }

    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &AppFilter<'a>,
        _cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<AppState<'static>>> {
        let configured = self.data.configured(diags)?;
        let project = project_of(diags, &configured, &config.project_id)?;
        let listing = match configured.client.app_listing(&project).await {
            Ok(l) => l,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let prefix = text(&config.name_prefix).unwrap_or_default().to_owned();
        Some(Page::streamed(entries(
            listing,
            |n| format!("app {n}"),
            move |app| {
                app.name.starts_with(&prefix).then(|| ListItem {
                    display_name: app.name.clone(),
                    state: from_api(app),
                })
            },
        )))
    }
}
