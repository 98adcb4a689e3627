//! `data "comwit_projects"`: every project the token is a member of.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use crate::comwit::common::data_source_error;
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::{attribute, known};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_projects";

/// The `comwit_projects` data source.
pub struct ProjectsDataSource {
    data: Arc<ProviderData>,
}

impl ProjectsDataSource {
    /// A data source sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// One element of `projects`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ProjectItem<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

/// State of `data "comwit_projects"`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ProjectsState<'a> {
    #[serde(borrow, default)]
    pub projects: ValueList<Value<ProjectItem<'a>>>,
}

#[async_trait]
impl DataSource for ProjectsDataSource {
    type State<'a> = ProjectsState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeType::String;
        let item = map! {
            "id" => String,
            "name" => String,
            "created_at" => String,
        };
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Lists the projects the token is a member of (scope `project:read`), sorted by id.",
                ),
                attributes: map! {
                    "projects" => attribute(
                        AttributeType::List(Box::new(AttributeType::Object(item))),
                        AttributeConstraint::Computed,
                        "The projects: `id` (`prj_...`), `name` and `created_at` (RFC 3339) of each.",
                    ),
                },
                ..Default::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        _config: Self::State<'a>,
        _meta: ValueEmpty,
    ) -> Option<Self::State<'a>> {
        let client = self.data.configured(diags)?.client;
        let mut projects = match client.list_projects().await {
            Ok(p) => p,
            Err(e) => {
                data_source_error(diags, &e);
                return None;
            }
        };
        projects.sort_by(|a, b| a.project_id.cmp(&b.project_id));
        Some(ProjectsState {
            projects: Value::Value(
                projects
                    .into_iter()
                    .map(|p| {
                        Value::Value(ProjectItem {
                            id: known(p.project_id),
                            name: known(p.name),
                            created_at: known(p.created_at),
                        })
                    })
                    .collect(),
            ),
        })
    }
}
