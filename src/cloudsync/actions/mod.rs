//! `cloudsync` actions (Terraform 1.14+): operations that are an event, not a state. Each
//! is named `<resource type>_<verb>` (`docs/plugin-features.md`, "Actions"), takes the
//! object's id and a `timeout`, reports each step as a progress line, is safe to run
//! twice, and changes no Terraform state.

pub mod database_check_connection;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::Registry;

/// Register every action type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.action(
        database_check_connection::TYPE_NAME,
        database_check_connection::CheckConnection::new(data.clone()),
    );
}
