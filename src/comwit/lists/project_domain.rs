//! `list "comwit_project_domain"`: the domains of a project, optionally those whose name
//! ends with `domain_suffix`. The API has no paging: one fetch.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{entries, filter, project_of};
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::project_domain::{from_api, ProjectDomainState};
use crate::plugin::kit::text;
use crate::plugin::{ListItem, ListResource, Page};

/// The `config` block of `list "comwit_project_domain"`.
#[derive(Debug, Default, Deserialize)]
pub struct ProjectDomainFilter<'a> {
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain_suffix: ValueString<'a>,
}

/// Lists `comwit_project_domain`.
pub struct ProjectDomainList {
    data: Arc<ProviderData>,
}

impl ProjectDomainList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// Whether a domain name ends with a suffix, without case and final dot.
fn ends_with(domain: &str, suffix: &str) -> bool {
    let suffix = suffix.trim_end_matches('.').to_ascii_lowercase();
    domain
        .trim_end_matches('.')
        .to_ascii_lowercase()
        .ends_with(&suffix)
}

#[async_trait]
impl ListResource for ProjectDomainList {
    type Config<'a> = ProjectDomainFilter<'a>;
    type State = ProjectDomainState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The domains of a Comwit project, each with the state its import gives.",
                ),
                attributes: map! {
                    "project_id" => filter("Project (`prj_...`) to list. Defaults to the provider's `project_id`."),
                    "domain_suffix" => filter("Only domains whose name ends with this text (any case, final dot or not), e.g. `example.com`."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: ProjectDomainFilter<'a>,
    ) -> Option<()> {
        if let Some(project) = text(&config.project_id) {
            check_id(diags, project, "prj_", "project_id");
        }
        Some(())
    }

    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &ProjectDomainFilter<'a>,
        _cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<ProjectDomainState<'static>>> {
        let configured = self.data.configured(diags)?;
        let project = project_of(diags, &configured, &config.project_id)?;
        let listing = match configured.client.domain_listing(&project).await {
            Ok(d) => d,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let suffix = text(&config.domain_suffix).unwrap_or_default().to_owned();
        Some(Page::streamed(entries(
            listing,
            |n| format!("domain {n}"),
            move |d| {
                ends_with(&d.domain, &suffix).then(|| ListItem {
                    display_name: d.domain.clone(),
                    state: from_api(d),
                })
            },
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suffix_ignores_case_and_final_dot() {
        assert!(ends_with("shop.example.com", "Example.COM."));
        assert!(ends_with("example.com", ""));
        assert!(!ends_with("example.org", "example.com"));
    }
}
