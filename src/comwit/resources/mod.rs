//! `comwit` resources, one file per Terraform type (its name, identity and schema there).

pub mod app;
pub mod app_deployment;
pub mod app_env;
pub mod database;
pub mod database_query_token;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::{Registry, SchemaExtras};

/// Register every resource type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.resource_with(
        app::TYPE_NAME,
        app::AppResource::new(data.clone()),
        SchemaExtras {
            identity: Some(app::identity()),
            ..Default::default()
        },
    );
    registry.resource_with(
        app_env::TYPE_NAME,
        app_env::AppEnvResource::new(data.clone()),
        SchemaExtras {
            identity: Some(app_env::identity()),
            write_only: ["secrets_wo".to_owned()].into(),
        },
    );
    registry.resource_with(
        app_deployment::TYPE_NAME,
        app_deployment::AppDeploymentResource::new(data.clone()),
        SchemaExtras {
            identity: Some(app_deployment::identity()),
            ..Default::default()
        },
    );
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
