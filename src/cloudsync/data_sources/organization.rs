//! `data "cloudsync_organization"`: the organization of the API key (`GET /v1/orgs`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{ValueEmpty, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use super::data_source_struct;
use crate::cloudsync::common::data_source_error;
use crate::plugin::kit::{attribute, known};

pub const TYPE_NAME: &str = "cloudsync_organization";

data_source_struct!(OrganizationDataSource);

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct OrganizationState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub slug: ValueString<'a>,
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(borrow, default)]
    pub status: ValueString<'a>,
}

#[async_trait]
impl DataSource for OrganizationDataSource {
    type State<'a> = OrganizationState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::Computed;
        use AttributeType::String;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The organization the provider's API key belongs to.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "Organization id (`org_...`)."),
                    "slug" => attribute(String, Computed, "URL slug."),
                    "name" => attribute(String, Computed, "Display name."),
                    "status" => attribute(String, Computed, "Status, for example `active`."),
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
        let client = self.data.client(diags)?;
        match client.get_org().await {
            Ok(o) => Some(OrganizationState {
                id: known(o.organization_id),
                slug: known(o.slug),
                name: known(o.name),
                status: known(o.status),
            }),
            Err(e) => {
                data_source_error(diags, &e);
                None
            }
        }
    }
}
