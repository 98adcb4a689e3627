//! `comwit` resources, one file per Terraform type (its name, identity and schema there).

pub mod app;
pub mod app_deployment;
pub mod app_env;
pub mod app_hostname;
pub mod database;
pub mod database_query_token;
pub mod dns_record;
pub mod project_domain;

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
    registry.resource_with(
        project_domain::TYPE_NAME,
        project_domain::ProjectDomainResource::new(data.clone()),
        SchemaExtras {
            identity: Some(project_domain::identity()),
            ..Default::default()
        },
    );
    registry.resource_with(
        dns_record::TYPE_NAME,
        dns_record::DnsRecordResource::new(data.clone()),
        SchemaExtras {
            identity: Some(dns_record::identity()),
            ..Default::default()
        },
    );
    registry.resource_with(
        app_hostname::TYPE_NAME,
        app_hostname::AppHostnameResource::new(data.clone()),
        SchemaExtras {
            identity: Some(app_hostname::identity()),
            ..Default::default()
        },
    );
    registry.resource(
        database_query_token::TYPE_NAME,
        database_query_token::DatabaseQueryTokenResource::new(data.clone()),
    );
}
