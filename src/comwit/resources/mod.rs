//! `comwit` resources, one file per Terraform type.

pub mod database;
pub mod database_query_token;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::Registry;

/// Register every resource type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.resource(
        "comwit_database",
        database::DatabaseResource::new(data.clone()),
    );
    registry.resource(
        "comwit_database_query_token",
        database_query_token::DatabaseQueryTokenResource::new(data.clone()),
    );
}
