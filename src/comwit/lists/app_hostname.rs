//! `list "comwit_app_hostname"`: the hostnames of one app (`app_id`), or of every app of a
//! project, optionally only those ending with `hostname_suffix`. The API has no paging: the
//! listing goes app by app, reading the next app's hostnames only while Terraform is still
//! reading.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{check_app_filters, entries, filter, per_app_page};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::app_hostname::{canonical, from_api, AppHostnameState};
use crate::plugin::kit::text;
use crate::plugin::{ConfigRules, ListItem, ListResource, Page};

/// The `config` block of `list "comwit_app_hostname"`.
#[derive(Debug, Default, Deserialize)]
pub struct AppHostnameFilter<'a> {
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub hostname_suffix: ValueString<'a>,
}

/// Lists `comwit_app_hostname`.
pub struct AppHostnameList {
    data: Arc<ProviderData>,
}

impl AppHostnameList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// Server defaults: a hostname is in manual DNS mode unless told otherwise.
pub fn rules() -> ConfigRules {
    ConfigRules {
        defaults: vec![("dns_mode", "manual".into())],
        omit: vec![],
    }
}

/// Whether a hostname ends with a suffix, without case and final dot.
fn ends_with(hostname: &str, suffix: &str) -> bool {
    canonical(hostname).ends_with(&canonical(suffix))
}

#[async_trait]
impl ListResource for AppHostnameList {
    type Config<'a> = AppHostnameFilter<'a>;
    type State = AppHostnameState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The hostnames attached to the apps of a project (or to one app), each \
                     with the state its import gives (the wait settings null).",
                ),
                attributes: map! {
                    "project_id" => filter("Project (`prj_...`) whose apps are listed when `app_id` is not set. Defaults to the provider's `project_id`."),
                    "app_id" => filter("Only the hostnames of this app (`app_...`)."),
                    "hostname_suffix" => filter("Only hostnames ending with this text (any case, final dot or not), e.g. `example.com`."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: AppHostnameFilter<'a>,
    ) -> Option<()> {
        check_app_filters(diags, &config.project_id, &config.app_id);
        Some(())
    }

    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &AppHostnameFilter<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<AppHostnameState<'static>>> {
        let suffix = text(&config.hostname_suffix).unwrap_or_default().to_owned();
        let filters = (&config.project_id, &config.app_id);
        per_app_page(diags, &self.data, filters, cursor, |c, app| async move {
            let listing = c.client.hostname_listing(&app.id).await?;
            let app_id = app.id.clone();
            let named = move |n| format!("hostname {n} of app {app_id}");
            Ok(entries(listing, named, move |h| {
                ends_with(&h.hostname, &suffix).then(|| ListItem {
                    display_name: format!(
                        "{} ({}, {}, app {})",
                        h.hostname, h.dns_mode, h.status, app.name
                    ),
                    state: from_api(h),
                })
            }))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suffix_ignores_case_and_final_dot() {
        assert!(ends_with("www.Example.com", "example.COM."));
        assert!(ends_with("www.example.com", ""));
        assert!(!ends_with("www.example.org", "example.com"));
    }
}
