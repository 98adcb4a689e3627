//! What every `comwit` type shares beyond the plugin kit (`crate::plugin::kit`): API
//! failures as diagnostics (with Comwit's remedies, `remedy.rs`), plan-time validation of the contract's rules, and the default
//! project.

use tf_provider::value::{Value, ValueString};
use tf_provider::{AttributePath, Diagnostics};

use super::client::ApiFailure;
use super::provider::{Configured, ProviderData, FACTS};
use crate::plugin::kit::failure::{self, ClientFailure, Generic};
use crate::plugin::kit::known;
use crate::plugin::kit::settings::ProviderFacts;

pub use crate::plugin::kit::failure::{api_error, deleted};

mod remedy;

/// Comwit's failure as the kit reads it: its words, the client's common facts, and its own
/// remedies (`remedy.rs`); the kit chooses and writes every generic one.
impl ClientFailure for ApiFailure {
    const FACTS: &'static ProviderFacts = &FACTS;
    fn summary(&self) -> String {
        ApiFailure::summary(self)
    }
    fn attempt(&self) -> String {
        ApiFailure::attempt(self)
    }
    fn own_remedy(&self) -> Option<String> {
        remedy::own(self)
    }
    fn lacks(&self) -> Option<String> {
        remedy::lacks(self)
    }
    fn and_then(&self, generic: Generic<'_>) -> Option<&'static str> {
        remedy::and_then(self, generic)
    }
}

/// A failure of a data source's read ([`failure::data_source_error`]), with what a reader
/// of Comwit can check.
pub fn data_source_error(diags: &mut Diagnostics, failure: &ApiFailure) {
    failure::data_source_error(
        diags,
        failure,
        "check the id or name, and that the token is a member of its project. If this \
         configuration creates the object, use that resource's attributes instead of a data \
         source.",
    );
}

/// The project a resource acts in: its own `project_id`, else the provider's default.
/// Unknown stays unknown (plan time); absent on both sides is an error on `project_id`.
pub fn project_id<'a>(
    diags: &mut Diagnostics,
    own: &ValueString<'a>,
    configured: Option<&Configured>,
) -> Option<ValueString<'a>> {
    project_or_default(diags, own, configured, "project_id", "resource")
}

/// The `project_id` a create plans: its own, else the provider's default. Needs no API
/// call: with provider settings known only after apply, the default project is unknown
/// too (known after apply). `None` (errors in `diags`) when the provider is not
/// configured for another reason, or no project is set anywhere.
pub fn planned_project<'a>(
    diags: &mut Diagnostics,
    data: &ProviderData,
    own: &ValueString<'a>,
) -> Option<ValueString<'a>> {
    let mut quiet = Diagnostics::default();
    let configured = data.configured(&mut quiet);
    if configured.is_none() && data.unknown_settings().is_empty() {
        diags.errors.extend(quiet.errors);
        return None;
    }
    match configured {
        None if own.is_null() => Some(Value::Unknown),
        _ => project_id(diags, own, configured.as_ref()),
    }
}

/// The `project_id` an update plans when the configuration leaves it unset: the provider's
/// default project when it has one (a changed default then plans a replacement), else the
/// prior value.
pub fn default_project_on_update<'a>(
    data: &ProviderData,
    config: &ValueString<'a>,
    proposed: ValueString<'a>,
) -> ValueString<'a> {
    if !config.is_null() {
        return proposed;
    }
    let mut quiet = Diagnostics::default();
    match data.configured(&mut quiet).and_then(|c| c.project_id) {
        Some(default) => known(default),
        None => proposed,
    }
}

/// [`project_id`] for an argument of another name or another kind of type: the message
/// names `attr` on this `kind` (`data "comwit_project"` takes its project as `id`).
pub fn project_or_default<'a>(
    diags: &mut Diagnostics,
    own: &ValueString<'a>,
    configured: Option<&Configured>,
    attr: &'static str,
    kind: &str,
) -> Option<ValueString<'a>> {
    match own {
        Value::Value(_) | Value::Unknown => Some(own.clone()),
        Value::Null => match configured.and_then(|c| c.project_id.clone()) {
            Some(p) => Some(known(p)),
            None => {
                diags.error(
                    "Missing project",
                    format!(
                        "Set `{attr}` on this {kind}, or a default `project_id` in the provider \
                         block (or the COMWIT_PROJECT_ID environment variable)."
                    ),
                    AttributePath::new(attr),
                );
                None
            }
        },
    }
}

/// Contract rule for database names: 3 to 32 characters, lowercase letters, digits and `-`,
/// starting with a letter and not ending with `-`.
pub fn check_database_name(diags: &mut Diagnostics, name: &str, attr: &'static str) {
    check_name(diags, "database", name, attr);
}

/// Contract rule for app names: the database name rule.
pub fn check_app_name(diags: &mut Diagnostics, name: &str, attr: &'static str) {
    check_name(diags, "app", name, attr);
}

fn check_name(diags: &mut Diagnostics, noun: &str, name: &str, attr: &'static str) {
    let ok = (3..=32).contains(&name.chars().count())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        diags.error(
            format!("Invalid {noun} name"),
            format!(
                "`{name}` is not a valid {noun} name: use 3 to 32 lowercase letters, digits \
                 and `-`, starting with a letter and not ending with `-`."
            ),
            AttributePath::new(attr),
        );
    }
}

/// Contract rule for placement groups: 1 to 32 letters, digits and `-`.
pub fn check_group(diags: &mut Diagnostics, group: &str) {
    let ok = (1..=32).contains(&group.chars().count())
        && group.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        diags.error(
            "Invalid group",
            format!("`{group}` is not a valid group: use 1 to 32 letters, digits and `-`."),
            AttributePath::new("group"),
        );
    }
}

/// Contract rule for ids: `prj_...` / `db_...` followed by letters, digits, `_` or `-`.
pub fn check_id(diags: &mut Diagnostics, id: &str, prefix: &str, attr: &'static str) {
    let rest = id.strip_prefix(prefix);
    let ok = rest.is_some_and(|r| {
        !r.is_empty()
            && r.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if !ok {
        diags.error(
            "Invalid id",
            format!("`{id}` is not a valid id here: expected `{prefix}` followed by letters and digits."),
            AttributePath::new(attr),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(f: impl FnOnce(&mut Diagnostics)) -> Vec<String> {
        let mut d = Diagnostics::default();
        f(&mut d);
        d.errors
            .iter()
            .map(|e| format!("{} @{:?}", e.detail, e.attribute))
            .collect()
    }

    #[test]
    fn database_names_follow_the_contract() {
        for good in ["orders", "a-1", "abc", "x23456789012345678901234567890ab"] {
            assert!(
                errs(|d| check_database_name(d, good, "name")).is_empty(),
                "{good}"
            );
        }
        for bad in [
            "ab",
            "Orders",
            "1abc",
            "abc-",
            "a_b",
            "x234567890123456789012345678901234",
            "",
        ] {
            let e = errs(|d| check_database_name(d, bad, "name"));
            assert_eq!(e.len(), 1, "{bad}");
            assert!(e[0].contains("name"), "{e:?}");
        }
    }

    #[test]
    fn ids_and_groups() {
        assert!(errs(|d| check_id(d, "db_0123abcd", "db_", "id")).is_empty());
        assert_eq!(errs(|d| check_id(d, "prj_x", "db_", "id")).len(), 1);
        assert_eq!(errs(|d| check_id(d, "db_", "db_", "id")).len(), 1);
        assert!(errs(|d| check_group(d, "eu-west")).is_empty());
        assert_eq!(errs(|d| check_group(d, "eu west")).len(), 1);
    }

    #[test]
    fn missing_project_points_at_project_id() {
        let mut d = Diagnostics::default();
        assert!(project_id(&mut d, &Value::Null, None).is_none());
        assert_eq!(d.errors[0].attribute, AttributePath::new("project_id"));
        let mut d = Diagnostics::default();
        assert_eq!(
            project_id(&mut d, &Value::Unknown, None),
            Some(Value::Unknown)
        );
        let mut d = Diagnostics::default();
        assert!(project_or_default(&mut d, &Value::Null, None, "id", "data source").is_none());
        assert_eq!(d.errors[0].attribute, AttributePath::new("id"));
        assert!(d.errors[0]
            .detail
            .starts_with("Set `id` on this data source"));
    }
}
