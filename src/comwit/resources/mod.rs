//! `comwit` resources, one file per Terraform type.

pub mod database;
pub mod database_query_token;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::{IdentityAttribute, IdentitySpec, Registry, SchemaExtras};

/// Register every resource type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    // Identity `{ id }`: `import { to = ..., identity = { id = "db_..." } }` works too.
    registry.resource_with(
        "comwit_database",
        database::DatabaseResource::new(data.clone()),
        SchemaExtras {
            identity: Some(IdentitySpec {
                version: 0,
                attributes: vec![IdentityAttribute {
                    name: "id",
                    description: "Database id (`db_...`).",
                    required_for_import: true,
                }],
            }),
            ..Default::default()
        },
    );
    registry.resource(
        "comwit_database_query_token",
        database_query_token::DatabaseQueryTokenResource::new(data.clone()),
    );
}
