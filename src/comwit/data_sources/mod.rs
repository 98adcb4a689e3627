//! `comwit` data sources, one file per Terraform type.

pub mod app;
pub mod app_builds;
pub mod app_hostname;
pub mod database;
pub mod database_usage;
pub mod dns_records;
pub mod project;
pub mod project_domain;
pub mod projects;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::Registry;

/// Register every data source type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.data_source(app::TYPE_NAME, app::AppDataSource::new(data.clone()));
    registry.data_source(
        app_builds::TYPE_NAME,
        app_builds::AppBuildsDataSource::new(data.clone()),
    );
    registry.data_source(
        database::TYPE_NAME,
        database::DatabaseDataSource::new(data.clone()),
    );
    registry.data_source(
        database_usage::TYPE_NAME,
        database_usage::DatabaseUsageDataSource::new(data.clone()),
    );
    registry.data_source(
        project::TYPE_NAME,
        project::ProjectDataSource::new(data.clone()),
    );
    registry.data_source(
        project_domain::TYPE_NAME,
        project_domain::ProjectDomainDataSource::new(data.clone()),
    );
    registry.data_source(
        dns_records::TYPE_NAME,
        dns_records::DnsRecordsDataSource::new(data.clone()),
    );
    registry.data_source(
        app_hostname::TYPE_NAME,
        app_hostname::AppHostnameDataSource::new(data.clone()),
    );
    registry.data_source(
        projects::TYPE_NAME,
        projects::ProjectsDataSource::new(data.clone()),
    );
}
