//! `list "comwit_app_env"`: the environment of one app (`app_id`), or of every app of a
//! project, one item per app that has variables. The API has no paging: the listing goes app by app, reading
//! the next app's variables only while Terraform is still reading.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{check_app_filters, filter, per_app_page, ready};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::app_env::{imported, AppEnvState};
use crate::plugin::{ConfigRules, ListItem, ListResource, Listed, Page};

/// The `config` block of `list "comwit_app_env"`.
#[derive(Debug, Default, Deserialize)]
pub struct AppEnvFilter<'a> {
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
}

/// Lists `comwit_app_env`.
pub struct AppEnvList {
    data: Arc<ProviderData>,
}

impl AppEnvList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// Server defaults: an environment leaves variables it does not name alone unless told.
pub fn rules() -> ConfigRules {
    ConfigRules {
        defaults: vec![("authoritative", false.into())],
        omit: vec![],
    }
}

/// What `terraform query` prints for an app's environment.
fn display(app_name: &str, app_id: &str, plain: usize, sensitive: usize) -> String {
    let name = if app_name.is_empty() {
        app_id
    } else {
        app_name
    };
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "{name}: {plain} plain variable{}, {sensitive} secret{} (not listed)",
        s(plain),
        s(sensitive)
    )
}

#[async_trait]
impl ListResource for AppEnvList {
    type Config<'a> = AppEnvFilter<'a>;
    type State = AppEnvState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The environment of each app of a project (or of one app) that has \
                     variables, one item per app, with the state its import gives: the plain \
                     variables in `vars`; secrets are never returned by Comwit, so they are \
                     not listed (write them in `secrets` or `secrets_wo`).",
                ),
                attributes: map! {
                    "project_id" => filter("Project (`prj_...`) whose apps are listed when `app_id` is not set. Defaults to the provider's `project_id`."),
                    "app_id" => filter("Only the environment of this app (`app_...`)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: AppEnvFilter<'a>) -> Option<()> {
        check_app_filters(diags, &config.project_id, &config.app_id);
        Some(())
    }

    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &AppEnvFilter<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<AppEnvState<'static>>> {
        let filters = (&config.project_id, &config.app_id);
        per_app_page(diags, &self.data, filters, cursor, |c, app| async move {
            let answered = c.client.get_env_each(&app.id).await?;
            let mut env = Vec::with_capacity(answered.len());
            let mut odd = None;
            for var in answered {
                match var {
                    Ok(v) => env.push(v),
                    Err(o) => odd = odd.or(Some(o)),
                }
            }
            Ok(ready(match odd {
                // One variable that cannot be read makes the whole environment unreadable
                // as its import would: skip the app's environment, and say which variable.
                Some(o) => vec![Listed::Skipped {
                    name: format!("environment of app {}", app.id),
                    reason: format!("its variable {}: {}", o.name, o.reason),
                }],
                // An app without variables has no environment to adopt: nothing to list.
                None if env.is_empty() => vec![],
                None => {
                    let sensitive = env.iter().filter(|v| v.sensitive).count();
                    let display_name =
                        display(&app.name, &app.id, env.len() - sensitive, sensitive);
                    let (state, _) = imported(app.id, env);
                    vec![Listed::Item(ListItem {
                        display_name,
                        state,
                    })]
                }
            }))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_display_counts_plain_variables_and_secrets() {
        assert_eq!(
            display("web", "app_1", 2, 1),
            "web: 2 plain variables, 1 secret (not listed)"
        );
        assert_eq!(
            display("", "app_1", 1, 0),
            "app_1: 1 plain variable, 0 secrets (not listed)"
        );
    }
}
