//! What every `cloudsync` type shares beyond the plugin kit: API failures as diagnostics
//! (on the attribute the API named, with the remedy), and plan-time rules.

use tf_provider::value::{Value, ValueList, ValueString};
use tf_provider::{AttributePath, Diagnostics};

use super::client::{routes, ApiFailure};
use super::provider::FACTS;
use crate::plugin::kit::failure::advice;
use crate::plugin::kit::failure::{self, ClientFailure, Generic};
use crate::plugin::kit::known;
use crate::plugin::kit::settings::ProviderFacts;

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
/// attribute. Never a secret: every text went through the client's redactor. CloudSync's
/// own remedies are [`own_remedy`]'s; the kit chooses and writes every generic one over
/// CloudSync's [`FACTS`].
impl ClientFailure for ApiFailure {
    const FACTS: &'static ProviderFacts = &FACTS;
    fn summary(&self) -> String {
        match self.tenant_code() {
            Some(code) => format!("{} ({})", self.op.route.summary, tenant_summary(code)),
            None => self.op.route.summary.to_owned(),
        }
    }
    fn attempt(&self) -> String {
        format!("{}: {}", self.op.describe(), ApiFailure::detail(self))
    }
    fn own_remedy(&self) -> Option<String> {
        own_remedy(self)
    }
    fn lacks(&self) -> Option<String> {
        Some("the `workspace-admin` role".to_owned())
    }
    fn and_then(&self, generic: Generic<'_>) -> Option<&'static str> {
        match generic {
            Generic::Unauthorized => {
                Some("Management API keys are on the dashboard's CloudSync > API Keys page.")
            }
            Generic::Forbidden { .. } => Some(
                "Management API keys are created on the dashboard's CloudSync > API Keys page.",
            ),
            _ => None,
        }
    }
    fn attribute(&self) -> Option<&'static str> {
        self.field()
            .and_then(attribute_of)
            .or_else(|| self.tenant_code().map(|_| "connection_string"))
    }
}

/// CloudSync's own remedy for a failure, from the client's facts (its code and route),
/// where it has one: a tenant code, `not_found`, `table_not_found`, `validation_failed`;
/// the Terraform part comes from [`advice`]. `None`: the kit's generic remedy.
pub fn own_remedy(failure: &ApiFailure) -> Option<String> {
    if let Some(code) = failure.tenant_code() {
        return Some(tenant_remedy(code).to_owned());
    }
    Some(match failure.code()? {
        "not_found" => {
            let missing = failure.op.missing();
            match failure.op.route {
                // Changes to an object only Terraform's state names: it was there.
                r if [
                    &routes::PATCH_DATABASE,
                    &routes::DELETE_DATABASE,
                    &routes::DISABLE_TABLES,
                    &routes::DELETE_EXPO_TOKEN,
                    &routes::DELETE_DEVICE,
                ]
                .contains(&r) =>
                {
                    format!(
                        "{missing} no longer exists: it was {}. Apply again (the next refresh \
                         notices it is gone), or {}",
                        advice::DELETED_OUTSIDE,
                        advice::STATE_RM
                    )
                }
                // An id the user gave: `terraform import`, a data source, or
                // `database_id` in the configuration.
                _ => format!(
                    "{missing} is not found: {}",
                    advice::check_given_id(
                        " (`database_id`)",
                        "a typo, or a database of another workspace than the API key's"
                    )
                ),
            }
        }
        "table_not_found" => "Create the table in the tenant database first (CloudSync syncs \
                              existing tables), or fix the table name."
            .to_owned(),
        "validation_failed" => "Fix the value the API named and apply again.".to_owned(),
        _ => return None,
    })
}

/// What to do about a failure ([`ClientFailure::remedy`]).
#[cfg(test)]
fn remedy(failure: &ApiFailure) -> String {
    ClientFailure::remedy(failure)
}

/// What to fix for each tenant failure code.
pub fn tenant_remedy(code: &str) -> &'static str {
    match code {
        "database_auth_failed" => {
            "CloudSync could not log in to the tenant database: check \
            the user name and password (or the SQLite Cloud API key) in `connection_string`."
        }
        "database_unreachable" => {
            "CloudSync could not reach the tenant database: check the \
            host and port in `connection_string`, and that the database accepts connections \
            from CloudSync (firewall, allow-list). Nothing was registered; apply again once it \
            is reachable."
        }
        "database_paused" => {
            "The tenant database is paused or does not accept connections: \
            resume it (in its provider's console, or `ALTER DATABASE ... ALLOW_CONNECTIONS \
            true` in PostgreSQL), then apply again."
        }
        "database_permission_denied" => {
            "The database user lacks a privilege CloudSync needs: \
            grant it USAGE and CREATE on the schema (CloudSync creates its metadata tables \
            there) and TRIGGER on the tables to sync, or use the tables' owner."
        }
        "database_cloudsync_not_ready" => {
            "The table cannot be synced yet: CloudSync syncs \
            rows by primary key, so give the table a primary key (a TEXT or UUID column is \
            best), then apply again."
        }
        _ => {
            "The tenant database answered with an error: check `database_name`, \
            `schema_name` and `connection_string`."
        }
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
    use crate::client::testutil::wrong_url_failures;
    use crate::client::{FailureKind, Route};
    use crate::cloudsync::client::{Operation, TENANT_CODES};

    fn status(code: &str, status: u16, documented: bool) -> ApiFailure {
        ApiFailure::answered(code, status, documented)
    }

    /// A wrong `api_url` (no answer there, or an answer from elsewhere) names the URL asked,
    /// once, as every provider does.
    #[test]
    fn a_wrong_api_url_names_the_url_asked() {
        const URL: &str = "http://127.0.0.1:9/prefix/v1/organization";
        let op = Operation::new(&routes::GET_ORG);
        let kind_of = crate::cloudsync::client::kind_of;
        for f in wrong_url_failures::<_, ()>(&op, URL, kind_of) {
            let d = ClientFailure::detail(&f);
            assert_eq!(d.matches(URL).count(), 1, "{d}");
            assert!(d.contains(&format!("(the provider asked {URL})")), "{d}");
            assert!(d.contains("CLOUDSYNC_API_URL"), "{d}");
        }
    }

    #[test]
    fn an_unknown_route_blames_api_url() {
        assert!(remedy(&status("route_not_found", 404, true)).contains("api_url"));
        assert!(remedy(&status("x", 404, false)).contains("api_url"));
    }

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

    #[test]
    fn a_404_blames_deletion_only_for_objects_from_state() {
        let not_found = |route: &'static Route| {
            remedy(&ApiFailure::from(crate::client::Facts {
                status: Some(404),
                documented: true,
                code: Some("not_found".into()),
                message: "Database not found".into(),
                attempts: 1,
                url: Some("u".into()),
                ..crate::client::Facts::new(Operation::on(route, "db_typo"), FailureKind::NotFound)
            }))
        };
        for kind in [
            &routes::GET_DATABASE,
            &routes::ENABLE_TABLES,
            &routes::PUT_EXPO_TOKEN,
        ] {
            let text = not_found(kind);
            assert!(text.contains("check the id"), "{kind:?}: {text}");
            assert!(text.contains("`database_id`"), "{kind:?}: {text}");
            assert!(
                !text.contains("deleted outside Terraform"),
                "{kind:?}: {text}"
            );
            assert!(!text.contains("state rm"), "{kind:?}: {text}");
        }
        let text = not_found(&routes::PATCH_DATABASE);
        assert!(text.contains("deleted outside Terraform"), "{text}");
        assert!(
            text.ends_with(
                " no longer exists: it was deleted outside Terraform. Apply again (the next \
                 refresh notices it is gone), or remove it from state with `terraform state \
                 rm <address>` if Terraform should no longer manage it."
            ),
            "{text}"
        );
        assert!(
            not_found(&routes::GET_DATABASE).ends_with(
                " is not found: check the id given in the configuration (`database_id`) or \
                 to `terraform import` (a typo, or a database of another workspace than the \
                 API key's)."
            ),
            "{}",
            not_found(&routes::GET_DATABASE)
        );
    }

    #[test]
    fn every_tenant_code_says_what_to_fix() {
        for code in TENANT_CODES {
            let f = status(code, 422, true);
            assert_eq!(f.tenant_code(), Some(code));
            assert!(
                ClientFailure::detail(&f).contains("connection_string")
                    || code == "database_cloudsync_not_ready"
                    || code == "database_permission_denied"
                    || code == "database_paused"
            );
        }
        assert!(
            ClientFailure::detail(&status("database_cloudsync_not_ready", 422, true))
                .contains("primary key")
        );
    }
}
