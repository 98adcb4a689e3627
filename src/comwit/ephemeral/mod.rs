//! `comwit` ephemeral resources (never stored in plan or state), one file per type.

pub mod database_query_token;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::Registry;

/// Register every ephemeral resource type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.ephemeral_resource(
        database_query_token::TYPE_NAME,
        database_query_token::DatabaseQueryTokenEphemeral::new(data.clone()),
    );
}
