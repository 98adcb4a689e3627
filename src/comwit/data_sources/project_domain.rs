//! `data "comwit_project_domain"`: a project domain by `id`, or by `domain` in a project:
//! its name servers and delegation status.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, AttributePath, DataSource, Diagnostics};

use crate::comwit::client::Domain;
use crate::comwit::common::{check_id, data_source_error, project_id};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::project_domain::DELEGATION_DESCRIPTION;
use crate::contract::dns as dns_rules;
use crate::plugin::kit::{attribute, known, text};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_project_domain";

/// The `comwit_project_domain` data source.
pub struct ProjectDomainDataSource {
    data: Arc<ProviderData>,
}

impl ProjectDomainDataSource {
    /// A data source sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `data "comwit_project_domain"`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ProjectDomainDataState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain: ValueString<'a>,
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub name_servers: ValueList<ValueString<'a>>,
    #[serde(borrow, default)]
    pub delegation_status: ValueString<'a>,
    #[serde(borrow, default)]
    pub delegated_name_servers: ValueList<ValueString<'a>>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

fn from_api<'a>(d: Domain) -> ProjectDomainDataState<'a> {
    let list = |v: Vec<String>| Value::Value(v.into_iter().map(known).collect());
    ProjectDomainDataState {
        id: known(d.domain_id),
        domain: known(d.domain),
        project_id: known(d.project_id),
        name_servers: list(d.name_servers),
        delegation_status: known(d.delegation_status),
        delegated_name_servers: list(d.delegated_name_servers),
        created_at: known(d.created_at),
    }
}

#[async_trait]
impl DataSource for ProjectDomainDataSource {
    type State<'a> = ProjectDomainDataState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, OptionalComputed};
        use AttributeType::{List, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Reads a project domain by `id`, or by `domain` in a project: the name \
                     servers to delegate it to and whether DNS answers them yet.",
                ),
                attributes: map! {
                    "id" => attribute(String, OptionalComputed, "Project domain id (`dom_...`). Set this or `domain`."),
                    "domain" => attribute(String, OptionalComputed, "The domain, e.g. `example.com`. Set this or `id`."),
                    "project_id" => attribute(String, OptionalComputed,
                        "Project to look `domain` up in. Defaults to the provider's `project_id`."),
                    "name_servers" => attribute(List(Box::new(String)), Computed,
                        "The name servers to delegate the domain to."),
                    "delegation_status" => attribute(String, Computed, DELEGATION_DESCRIPTION),
                    "delegated_name_servers" => attribute(List(Box::new(String)), Computed,
                        "The name servers DNS answers for the domain now."),
                    "created_at" => attribute(String, Computed, "Onboarding time (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        match (&config.id, &config.domain) {
            (Value::Null, Value::Null) => diags.error(
                "Missing domain",
                "Set `id` (`dom_...`), or `domain` (with `project_id`, or the provider's default project).",
                AttributePath::new("id"),
            ),
            (Value::Value(_), Value::Value(_)) => diags.error(
                "Both id and domain",
                "Set only one of `id` and `domain`.",
                AttributePath::new("domain"),
            ),
            _ => {}
        }
        if let Some(id) = text(&config.id) {
            check_id(diags, id, "dom_", "id");
        }
        if let Some(d) = text(&config.domain) {
            if let Err(e) = dns_rules::domain_name(d) {
                diags.error("Invalid domain", e, AttributePath::new("domain"));
            }
        }
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
            return match client.get_domain(id).await {
                Ok(d) => Some(from_api(d)),
                Err(e) => {
                    data_source_error(diags, &e);
                    None
                }
            };
        }
        let name = text(&config.domain)?.to_owned();
        let project = project_id(diags, &config.project_id, Some(&configured))?;
        let project = text(&project)?.to_owned();
        let domains = match client.list_domains(&project).await {
            Ok(d) => d,
            Err(e) => {
                data_source_error(diags, &e);
                return None;
            }
        };
        match domains
            .into_iter()
            .find(|d| dns_rules::same_host(&d.domain, &name))
        {
            Some(d) => {
                let mut state = from_api(d);
                state.domain = config.domain;
                Some(state)
            }
            None => {
                diags.error(
                    "Project domain not found",
                    format!(
                        "Project `{project}` has no domain `{name}`. Check the name and \
                         `project_id` (the token must be a member of the project)."
                    ),
                    AttributePath::new("domain"),
                );
                None
            }
        }
    }
}
