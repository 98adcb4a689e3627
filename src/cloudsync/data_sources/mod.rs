//! `cloudsync` data sources, one file per Terraform type.

pub mod database;
pub mod database_connection;
pub mod databases;
pub mod devices;
pub mod notification_status;
pub mod organization;
pub mod tables;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::Registry;

pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.data_source(
        organization::TYPE_NAME,
        organization::OrganizationDataSource::new(data.clone()),
    );
    registry.data_source(
        databases::TYPE_NAME,
        databases::DatabasesDataSource::new(data.clone()),
    );
    registry.data_source(
        database::TYPE_NAME,
        database::DatabaseDataSource::new(data.clone()),
    );
    registry.data_source(
        database_connection::TYPE_NAME,
        database_connection::ConnectionDataSource::new(data.clone()),
    );
    registry.data_source(
        tables::TYPE_NAME,
        tables::TablesDataSource::new(data.clone()),
    );
    registry.data_source(
        devices::TYPE_NAME,
        devices::DevicesDataSource::new(data.clone()),
    );
    registry.data_source(
        notification_status::TYPE_NAME,
        notification_status::NotificationStatusDataSource::new(data.clone()),
    );
}

/// The boilerplate of a data source struct holding the provider data.
macro_rules! data_source_struct {
    ($name:ident) => {
        pub struct $name {
            data: std::sync::Arc<crate::cloudsync::provider::ProviderData>,
        }

        impl $name {
            pub fn new(data: std::sync::Arc<crate::cloudsync::provider::ProviderData>) -> Self {
                Self { data }
            }
        }
    };
}
pub(crate) use data_source_struct;
