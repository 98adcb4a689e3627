//! What every `cloudsync` type shares beyond the plugin kit: API failures as diagnostics
//! (on the attribute the API named, with the remedy), and plan-time rules.

use tf_provider::value::{Value, ValueList, ValueString};
use tf_provider::{AttributePath, Diagnostics};

use super::client::ApiFailure;
use crate::plugin::kit::failure::{self, ClientFailure};
use crate::plugin::kit::known;

/// The Terraform attribute of an API field.
pub fn attribute_of(field: &str) -> Option<&'static str> {
    Some(match field {
        "label" => "label",
        "connectionString" => "connection_string",
        "provider" => "database_provider",
        "flavor" => "flavor",
        "databaseName" => "database_name",
        "schemaName" => "schema_name",
        "jwtAllowedIssuers" => "jwt_allowed_issuers",
        "jwtExpectedAudiences" => "jwt_expected_audiences",
        "jwksUri" => "jwks_uri",
        "jwtSecret" => "jwt_secret",
        "tables" => "table",
        "expoAccessToken" => "token",
        _ => return None,
    })
}

pub use crate::plugin::kit::failure::{api_error, deleted};

/// An API failure's diagnostic: the route's summary (with the tenant failure's name), then
/// "Could not ...: why. What to do." A tenant failure or a refused field points at its
/// attribute. Never a secret: every text went through the client's redactor.
impl ClientFailure for ApiFailure {
    fn summary(&self) -> String {
        match self.tenant_code() {
            Some(code) => format!("{} ({})", self.op.route.summary, tenant_summary(code)),
            None => self.op.route.summary.to_owned(),
        }
    }
    fn detail(&self) -> String {
        self.to_string()
    }
    fn attempt(&self) -> String {
        format!("{}: {}", self.op.describe(), ApiFailure::detail(self))
    }
    fn is_not_found(&self) -> bool {
        ApiFailure::is_not_found(self)
    }
    fn attribute(&self) -> Option<&'static str> {
        self.field()
            .and_then(attribute_of)
            .or_else(|| self.tenant_code().map(|_| "connection_string"))
    }
}

/// A short name of each tenant failure, for the summary.
pub fn tenant_summary(code: &str) -> &'static str {
    match code {
        "database_auth_failed" => "tenant database refused the credentials",
        "database_unreachable" => "tenant database unreachable",
        "database_paused" => "tenant database paused",
        "database_permission_denied" => "tenant database permission denied",
        "database_cloudsync_not_ready" => "table not ready for CloudSync",
        _ => "tenant database error",
    }
}

/// A data source's read failure ([`failure::data_source_error`]): a 404 says what a reader
/// of CloudSync can check.
pub fn data_source_error(diags: &mut Diagnostics, failure: &ApiFailure) {
    failure::data_source_error(
        diags,
        failure,
        "check the database id, and that the API key belongs to the database's workspace.",
    );
}

/// Checks an id of the form `db_...`.
pub fn check_database_id(diags: &mut Diagnostics, id: &str, attr: &'static str) {
    let ok = id.starts_with("db_")
        && id.len() > 3
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !ok {
        diags.error(
            "Invalid CloudSync database id",
            format!(
                "`{attr}` must be a managed database id such as `db_0123456789abcdef01234567` (the \
                 `id` of a `cloudsync_database`), got `{id}`."
            ),
            AttributePath::new(attr),
        );
    }
}

/// A list of strings from state/config (`None` when null or unknown).
pub fn strings(list: &ValueList<ValueString<'_>>) -> Option<Vec<String>> {
    match list {
        Value::Value(items) => Some(
            items
                .iter()
                .filter_map(|v| v.as_deref_option().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    }
}

/// A list of strings as a value.
pub fn string_list<'a>(items: &[String]) -> ValueList<ValueString<'a>> {
    Value::Value(items.iter().map(|s| known(s.clone())).collect())
}

/// The state value of a list the API returns as `[]` when unset: `[]` stays `[]` when the
/// prior state (or configuration) had `[]`, else null, so an unset list plans nothing.
pub fn api_list<'a>(
    api: Option<&Vec<String>>,
    prior: &ValueList<ValueString<'a>>,
) -> ValueList<ValueString<'a>> {
    match api {
        Some(items) if !items.is_empty() => string_list(items),
        _ => match prior {
            Value::Value(items) if items.is_empty() => Value::Value(vec![]),
            _ => Value::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_lists_stay_unset() {
        assert_eq!(api_list(Some(&vec![]), &Value::Null), Value::Null);
        assert_eq!(api_list(None, &Value::Value(vec![])), Value::Value(vec![]));
        assert_eq!(
            api_list(Some(&vec!["a".into()]), &Value::Null),
            Value::Value(vec![known("a")])
        );
    }

    #[test]
    fn database_ids() {
        let mut d = Diagnostics::default();
        check_database_id(&mut d, "db_0123", "database_id");
        assert!(d.errors.is_empty());
        check_database_id(&mut d, "prj_1", "database_id");
        check_database_id(&mut d, "db_../x", "database_id");
        assert_eq!(d.errors.len(), 2);
        assert_eq!(d.errors[0].attribute, AttributePath::new("database_id"));
    }
}
