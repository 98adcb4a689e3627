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

#[cfg(test)]
mod tests {
    use tf_provider::value::Value;
    use tf_provider::{AttributePath, Diagnostics};

    #[test]
    fn a_value_missing_at_invoke_is_an_error_on_its_attribute() {
        let mut diags = Diagnostics::default();
        assert_eq!(
            super::given(&mut diags, &Value::Unknown, "database_id"),
            None
        );
        assert_eq!(super::given(&mut diags, &Value::Null, "database_id"), None);
        assert_eq!(diags.errors.len(), 2);
        assert_eq!(diags.errors[0].attribute, AttributePath::new("database_id"));
        let mut diags = Diagnostics::default();
        let id = crate::plugin::kit::known("db_1");
        assert_eq!(
            super::given(&mut diags, &id, "database_id").as_deref(),
            Some("db_1")
        );
        assert!(diags.errors.is_empty());
    }
}
