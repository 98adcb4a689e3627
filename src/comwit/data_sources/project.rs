//! `data "comwit_project"`: one project the token is a member of.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{ValueEmpty, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use crate::comwit::common::{check_id, data_source_error, project_or_default};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::{attribute, known, text};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_project";

/// The `comwit_project` data source.
pub struct ProjectDataSource {
    data: Arc<ProviderData>,
}

impl ProjectDataSource {
    /// A data source sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `data "comwit_project"`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ProjectState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

#[async_trait]
impl DataSource for ProjectDataSource {
    type State<'a> = ProjectState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, OptionalComputed};
        use AttributeType::String;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Reads a project the token is a member of (scope `project:read`).",
                ),
                attributes: map! {
                    "id" => attribute(String, OptionalComputed,
                        "Project id (`prj_...`). Defaults to the provider's `project_id`."),
                    "name" => attribute(String, Computed, "Project name."),
                    "created_at" => attribute(String, Computed, "Creation time (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = text(&config.id) {
            check_id(diags, id, "prj_", "id");
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
        let id = project_or_default(diags, &config.id, Some(&configured), "id", "data source")?;
        let id = text(&id)?.to_owned();
        match configured.client.get_project(&id).await {
            Ok(p) => Some(ProjectState {
                id: known(p.project_id),
                name: known(p.name),
                created_at: known(p.created_at),
            }),
            Err(e) => {
                data_source_error(diags, &e);
                None
            }
        }
    }
}
