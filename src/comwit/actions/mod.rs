//! `comwit` actions (Terraform 1.14+): operations that are an event, not a state. Each is
//! named `<resource type>_<verb>` (`docs/plugin-features.md`, "Actions"), takes the
//! object's id and a `timeout`, reports each step as a progress line, is safe to run
//! twice, and changes no Terraform state.

pub mod app_hostname_verify;
pub mod app_rollback;
pub mod database_suspend;

use std::sync::Arc;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType};

use super::provider::ProviderData;
use crate::plugin::kit::attribute;
use crate::plugin::Registry;

/// Register every action type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    use database_suspend::{DatabaseSuspend, Direction};
    registry.action(
        database_suspend::SUSPEND,
        DatabaseSuspend::new(data.clone(), Direction::Suspend),
    );
    registry.action(
        database_suspend::RESUME,
        DatabaseSuspend::new(data.clone(), Direction::Resume),
    );
    registry.action(
        app_rollback::TYPE_NAME,
        app_rollback::AppRollback::new(data.clone()),
    );
    registry.action(
        app_hostname_verify::TYPE_NAME,
        app_hostname_verify::HostnameVerify::new(data.clone()),
    );
}

/// A required string of an action's `config` block.
fn required(description: &str) -> Attribute {
    attribute(
        AttributeType::String,
        AttributeConstraint::Required,
        description,
    )
}

/// A required value of an action's `config` at invoke. Terraform never sends one null or
/// unknown there; should it, the run stops with an error on the attribute instead of
/// reporting success.
fn given(
    diags: &mut tf_provider::Diagnostics,
    value: &tf_provider::value::ValueString<'_>,
    attr: &'static str,
) -> Option<String> {
    let found = crate::plugin::kit::text(value).map(str::to_owned);
    if found.is_none() {
        diags.error(
            "Missing value",
            format!("`{attr}` has no known value when the action runs."),
            tf_provider::AttributePath::new(attr),
        );
    }
    found
}
