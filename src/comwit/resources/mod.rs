//! `comwit` resources, one file per Terraform type (its name, identity and schema there).

pub mod database;
pub mod database_query_token;

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
    registry.resource(
        database_query_token::TYPE_NAME,
        database_query_token::DatabaseQueryTokenResource::new(data.clone()),
    );
}
