//! `comwit` list resources (`terraform query`, Terraform 1.14+): one file per list type,
//! each listing the items of the managed type of the same name with the state its import
//! gives, and the server defaults generated configuration leaves out.

pub mod database;
pub mod dns_record;
pub mod project_domain;

use std::sync::Arc;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Description};
use tf_provider::Diagnostics;

use super::provider::{Configured, ProviderData};
use crate::plugin::kit::text;
use crate::plugin::Registry;
use tf_provider::value::ValueString;

/// Register every list type and the generated-configuration rules of its managed type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.list_resource(
        super::resources::database::TYPE_NAME,
        database::DatabaseList::new(data.clone()),
    );
    registry.config_rules(super::resources::database::TYPE_NAME, database::rules());
    registry.list_resource(
        super::resources::dns_record::TYPE_NAME,
        dns_record::DnsRecordList::new(data.clone()),
    );
    registry.config_rules(super::resources::dns_record::TYPE_NAME, dns_record::rules());
    registry.list_resource(
        super::resources::project_domain::TYPE_NAME,
        project_domain::ProjectDomainList::new(data.clone()),
    );
}

/// An optional string filter of a list's `config` block.
fn filter(description: &str) -> Attribute {
    Attribute {
        attr_type: AttributeType::String,
        description: Description::markdown(description),
        constraint: AttributeConstraint::Optional,
        ..Default::default()
    }
}

/// The project a listing reads: the filter's `project_id`, else the provider's.
fn project_of(
    diags: &mut Diagnostics,
    configured: &Configured,
    project_id: &ValueString<'_>,
) -> Option<String> {
    if let Some(p) = text(project_id) {
        return Some(p.to_owned());
    }
    if let Some(p) = &configured.project_id {
        return Some(p.clone());
    }
    diags.error(
        "No project to list",
        "Set `project_id` in the list's `config` block, or `project_id` in the provider \
         block (or the `COMWIT_PROJECT_ID` environment variable).",
        tf_provider::AttributePath::new("project_id"),
    );
    None
}
