//! `cloudsync` resources, one file per Terraform type.

pub mod database;
pub mod expo_access_token;
pub mod table_sync;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::{Registry, SchemaExtras};

pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.resource_with(
        database::TYPE_NAME,
        database::DatabaseResource::new(data.clone()),
        SchemaExtras {
            identity: Some(database::identity()),
            write_only: [
                "jwt_secret_wo".to_owned(),
                "connection_string_wo".to_owned(),
            ]
            .into(),
        },
    );
    registry.resource_with(
        table_sync::TYPE_NAME,
        table_sync::TableSyncResource::new(data.clone()),
        SchemaExtras {
            identity: Some(table_sync::identity()),
            ..Default::default()
        },
    );
    registry.resource_with(
        expo_access_token::TYPE_NAME,
        expo_access_token::ExpoAccessTokenResource::new(data.clone()),
        SchemaExtras {
            identity: Some(expo_access_token::identity()),
            write_only: ["token_wo".to_owned()].into(),
        },
    );
}
