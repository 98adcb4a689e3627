//! `comwit` data sources, one file per Terraform type.

pub mod database;
pub mod database_usage;
pub mod project;
pub mod projects;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::Registry;

/// Register every data source type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.data_source(
        "comwit_database",
        database::DatabaseDataSource::new(data.clone()),
    );
    registry.data_source(
        "comwit_database_usage",
        database_usage::DatabaseUsageDataSource::new(data.clone()),
    );
    registry.data_source(
        "comwit_project",
        project::ProjectDataSource::new(data.clone()),
    );
    registry.data_source(
        "comwit_projects",
        projects::ProjectsDataSource::new(data.clone()),
    );
}
