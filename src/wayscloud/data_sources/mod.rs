//! `wayscloud` data sources, one file per Terraform type.

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::Registry;

/// Register every data source type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    let _ = (registry, data);
}
