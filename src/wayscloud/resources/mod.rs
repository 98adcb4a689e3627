//! `wayscloud` resources, one file per Terraform type.

pub mod database;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::{Registry, SchemaExtras};

/// Register every resource type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.resource_with(
        database::TYPE_NAME,
        database::DatabaseResource::new(data.clone()),
        SchemaExtras {
            identity: Some(database::identity()),
            ..Default::default()
        },
    );
}
