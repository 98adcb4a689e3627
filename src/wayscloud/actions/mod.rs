//! `wayscloud` actions (Terraform 1.14+): operations that are an event, not a state. Each
//! is named `<resource type>_<verb>` (`docs/plugin-features.md`, "Actions"), names its
//! database by `db_type` and `db_name` (as the database's other types do), takes a
//! `timeout`, reports each step as a progress line, is safe to run twice, and changes no
//! Terraform state.

pub mod database_restart;
pub mod database_take_snapshot;

use std::sync::Arc;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType};

use super::provider::ProviderData;
use crate::plugin::kit::attribute;
use crate::plugin::Registry;

/// Register every action type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    registry.action(
        database_restart::TYPE_NAME,
        database_restart::DatabaseRestart::new(data.clone()),
    );
    registry.action(
        database_take_snapshot::TYPE_NAME,
        database_take_snapshot::TakeSnapshot::new(data.clone()),
    );
}

/// `db_type` of an action's `config` block.
fn db_type() -> Attribute {
    attribute(
        AttributeType::String,
        AttributeConstraint::Required,
        "`postgresql` or `mariadb`.",
    )
}

/// `db_name` of an action's `config` block.
fn db_name() -> Attribute {
    attribute(
        AttributeType::String,
        AttributeConstraint::Required,
        "The database's full name (`wayscloud_database.<name>.db_name`, `cust_..._pg_...`).",
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
