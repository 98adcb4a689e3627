//! `wayscloud` resources, one file per Terraform type.

pub mod backup_policy;
pub mod database;
pub mod firewall_rule;
pub mod restore;
pub mod snapshot;

use std::sync::Arc;

use super::provider::ProviderData;
use crate::plugin::{Registry, SchemaExtras};

/// Register every resource type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    let with_identity = |identity| SchemaExtras {
        identity: Some(identity),
        ..Default::default()
    };
    registry.resource_with(
        database::TYPE_NAME,
        database::DatabaseResource::new(data.clone()),
        with_identity(database::identity()),
    );
    registry.resource_with(
        firewall_rule::TYPE_NAME,
        firewall_rule::DatabaseFirewallRuleResource::new(data.clone()),
        with_identity(firewall_rule::identity()),
    );
    registry.resource_with(
        snapshot::TYPE_NAME,
        snapshot::DatabaseSnapshotResource::new(data.clone()),
        with_identity(snapshot::identity()),
    );
    registry.resource_with(
        restore::TYPE_NAME,
        restore::DatabaseRestoreResource::new(data.clone()),
        with_identity(restore::identity()),
    );
    registry.resource_with(
        backup_policy::TYPE_NAME,
        backup_policy::DatabaseBackupPolicyResource::new(data.clone()),
        with_identity(backup_policy::identity()),
    );
}
