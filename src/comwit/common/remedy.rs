//! Comwit's own remedies: what the user can do about a failed call where Comwit has its
//! own advice, chosen from the client's facts (the error, its code and detail, the
//! operation's route and ids). The client says what happened (`ApiFailure::attempt`); the
//! kit chooses and writes the remedies of the kinds every platform has (429, 5xx, no
//! answer, deadline, undecodable answer, not the API, 401, a missing scope, a stop) over
//! Comwit's [`FACTS`], and Comwit adds a sentence after some ([`and_then`]); the Terraform
//! words of a remedy (`terraform state rm`, `terraform import`, `-parallelism`) come from
//! [`advice`].

use crate::client::FailureKind;
use crate::client::Route;
use crate::comwit::client::routes::{self, Operation};
use crate::comwit::client::{code, ApiFailure, Detail};
use crate::comwit::provider::FACTS;
use crate::plugin::kit::failure::advice;
use crate::plugin::kit::failure::remedy::{remedy as generic, Generic};
#[cfg(test)]
use crate::plugin::kit::failure::ClientFailure;

/// What the user can do about `failure` (the kit's [`ClientFailure::remedy`]): the second
/// half of the diagnostic's detail ("Could not create database `orders` in project
/// `prj_123`: the API answered 403 (the token lacks scope `database:write`). Use a token
/// that has scope `database:write` (...)").
#[cfg(test)]
fn remedy(failure: &ApiFailure) -> String {
    ClientFailure::remedy(failure)
}

/// Comwit's own remedy for `failure`, if it has one: a lost create or a taken name, a 403
/// other than a missing scope, "not found", a conflict, a refused value, another answer.
/// `None`: the kit's generic remedy.
pub(super) fn own(failure: &ApiFailure) -> Option<String> {
    let op: &Operation = &failure.op;
    match &failure.detail {
        Detail::CreateUnresolved { existing, .. } => {
            return Some(match existing {
                Some(found) => import_advice(op.route, &found.id),
                None => format!(
                    "Nothing was recorded in Terraform's state. If the {} was created, the \
                     next apply finds it by name and prints its id and the import command; \
                     otherwise the next apply creates it.",
                    op.object_noun()
                ),
            })
        }
        Detail::NameTaken { existing } => {
            return Some(match existing {
                Some(found) if op.is(&routes::CREATE_DNS_RECORD) => format!(
                    "The zone already holds this record (same name, type and value). Bring \
                     it under Terraform with {} instead of creating it again, or remove it \
                     from the zone.",
                    advice::import_commands(&found.id)
                ),
                Some(found) => format!(
                    "Choose another name, or adopt it if an interrupted apply of this \
                     configuration created it. {}",
                    import_advice(op.route, &found.id)
                ),
                None => format!(
                    "A{} {} with this name already exists in the project. Choose another \
                     name, or {}",
                    if op.object_noun() == "app" { "n" } else { "" },
                    op.object_noun(),
                    advice::IMPORT_EXISTING
                ),
            })
        }
        Detail::None | Detail::Refused { .. } => {}
    }
    Some(match failure.kind() {
        FailureKind::Forbidden => match failure.code() {
            // The kit's, with the scope (`lacks`).
            Some(code::MISSING_SCOPE) => return None,
            Some(code::NOT_A_MEMBER) => {
                let project = failure
                    .refused()
                    .1
                    .or(op.project_id.as_deref())
                    .map(|p| format!(" `{p}`"))
                    .unwrap_or_default();
                format!(
                    "Use a token of a member of project{project}, or ask a project admin \
                     to add you to it. Check the project id too."
                )
            }
            Some(code::PROTECTED_TENANT) => "The platform setting \
                 PLATFORM_API_PROTECTED_TENANTS (by default `louhi-app` and \
                 `comwit-db-synthetic`) names databases critical to the platform; suspend, \
                 resume, delete, rotate connection token and issue query token are refused \
                 on them, whatever the token's scopes. Manage this database through the \
                 platform team; if Terraform should stop managing it, remove it from state \
                 with `terraform state rm`."
                .to_owned(),
            _ => format!(
                "Check that the token has scope `{}` and is a member of the project.",
                op.required_scope()
            ),
        },
        FailureKind::NotFound => match op.route {
            // Listing projects cannot meet a missing object: not the API.
            r if *r == routes::LIST_PROJECTS => generic(
                &FACTS,
                Generic::NotTheApi {
                    status: Some(404),
                    url: failure.url.as_deref(),
                },
            ),
            r if one_of(
                r,
                &[
                    &routes::GET_PROJECT,
                    &routes::LIST_DATABASES,
                    &routes::CREATE_DATABASE,
                    &routes::LIST_APPS,
                    &routes::CREATE_APP,
                    &routes::PUT_ARTIFACT,
                ],
            ) =>
            {
                "Check the project id, and that the token is a member of that project.".to_owned()
            }
            // Acting on the resource's own object, which only Terraform's state names:
            // it was there, and now it is gone.
            r if one_of(
                r,
                &[
                    &routes::ROTATE_DATABASE_TOKEN,
                    &routes::SUSPEND_DATABASE,
                    &routes::RESUME_DATABASE,
                    &routes::UPDATE_DNS_RECORD,
                    &routes::DELETE_APP_ENV,
                ],
            ) =>
            {
                format!(
                    "It was {}. Run `terraform apply` again (the next refresh notices it is \
                     gone and plans to create it), or {}",
                    advice::DELETED_OUTSIDE,
                    advice::STATE_RM
                )
            }
            // An id the user gave: `terraform import`, a data source, or an id in the
            // configuration (`database_id`, `app_id`, `domain_id`, `active_build_id`).
            route => {
                let attribute = match route {
                    r if one_of(
                        r,
                        &[&routes::CREATE_QUERY_TOKEN, &routes::GET_DATABASE_USAGE],
                    ) =>
                    {
                        " (`database_id`)"
                    }
                    r if *r == routes::ROLLBACK_APP => " (`active_build_id`)",
                    r if one_of(r, &[&routes::CREATE_DNS_RECORD, &routes::LIST_DNS_RECORDS]) => {
                        " (`domain_id`)"
                    }
                    r if one_of(
                        r,
                        &[
                            &routes::CREATE_BUILD,
                            &routes::LIST_BUILDS,
                            &routes::GET_APP_ENV,
                            &routes::PUT_APP_ENV,
                            &routes::CREATE_HOSTNAME,
                            &routes::LIST_HOSTNAMES,
                        ],
                    ) =>
                    {
                        " (`app_id`)"
                    }
                    _ => "",
                };
                format!(
                    "No such {} is found: {}",
                    routes::object_noun(route),
                    advice::check_given_id(
                        attribute,
                        "a typo, or an id of another project or another platform"
                    )
                )
            }
        },
        FailureKind::Conflict => match op.route {
            r if *r == routes::CREATE_DATABASE => {
                format!(
                    "A database with this name already exists in the project. Choose another \
                     name, or {}",
                    advice::IMPORT_EXISTING
                )
            }
            r if *r == routes::SUSPEND_DATABASE => {
                "The database is already suspended; refresh to see its current status.".to_owned()
            }
            r if *r == routes::RESUME_DATABASE => {
                "The database is already active; refresh to see its current status.".to_owned()
            }
            r if *r == routes::CREATE_APP => {
                format!(
                    "An app with this name already exists in the project. Choose another \
                     name, or {}",
                    advice::IMPORT_EXISTING
                )
            }
            r if *r == routes::ROLLBACK_APP => {
                "Only a build whose status is `ready` can become the active build. Set \
                     `active_build_id` to a ready build of this app (see the \
                     `comwit_app_builds` data source), or remove it to serve the build of \
                     the source."
                    .to_owned()
            }
            r if *r == routes::CREATE_DNS_RECORD => {
                "The zone already holds a record this one clashes with (an identical \
                     record, or a CNAME beside other records of that name; see the API's words \
                     above). Change this record, or remove the other one; if it is the same \
                     record, bring it under Terraform with `terraform import <address> \
                     <domain_id>/<record_id>` (the ids are in the `comwit_dns_records` data \
                     source) instead of creating it again."
                    .to_owned()
            }
            _ => "The request conflicts with the object's current state (see the API's \
                      words above); `terraform plan` shows what Terraform knows of it now."
                .to_owned(),
        },
        // An argument refused before anything was sent.
        FailureKind::Validation if failure.status().is_none() => {
            "Fix the value and try again.".to_owned()
        }
        FailureKind::Validation => match failure.field() {
            Some(field) => format!("Fix the value of `{field}` and try again."),
            None => "Fix the request's values and try again.".to_owned(),
        },
        // A 404 without Comwit's `not_found` body is not the Comwit API's (the kit's).
        FailureKind::Other if failure.status() == Some(404) => return None,
        FailureKind::Other => format!(
            "This answer is not part of the API contract. Check that the provider's `api_url` \
             argument (or {}) points at the Comwit product API ({}), not the database host \
             db.cloud.comwit.io.",
            FACTS.api_url_env, FACTS.default_api_url
        ),
        FailureKind::Unauthorized
        | FailureKind::RateLimited
        | FailureKind::Server
        | FailureKind::Transport
        | FailureKind::Deadline
        | FailureKind::Decode
        | FailureKind::Cancelled => return None,
    })
}

/// The scope a 403 `forbidden` says the token lacks (the body's, else the route's).
pub(super) fn lacks(failure: &ApiFailure) -> Option<String> {
    let scope = failure.refused().0.unwrap_or(failure.op.required_scope());
    Some(format!("scope `{scope}`"))
}

/// What Comwit adds after a generic remedy: where a token comes from, what a request that
/// was not repeated means for its operation, what an unreadable token answer means.
pub(super) fn and_then(failure: &ApiFailure, generic: Generic<'_>) -> Option<&'static str> {
    let route = failure.op.route;
    match generic {
        Generic::Unauthorized => Some(
            "A Comwit user token starts with `cwt_`: get one with `comwit login` or create a \
             personal access token in the console.",
        ),
        Generic::Server {
            repeatable: false, ..
        }
        | Generic::Transport { .. }
            if !failure.op.retry_safe() =>
        {
            Some(not_retried(route))
        }
        Generic::Decode
            if one_of(
                route,
                &[&routes::CREATE_DATABASE, &routes::ROTATE_DATABASE_TOKEN],
            ) =>
        {
            Some(
                "The database token in that answer could not be read: rotate the connection \
                 token to get a usable one.",
            )
        }
        _ => None,
    }
}

/// How to bring an object created by a lost create under Terraform: an app is imported as
/// it is; a database nobody holds the token of must also have its token rotated.
fn import_advice(route: &Route, id: &str) -> String {
    if routes::object_noun(route) == "app" {
        return format!(
            "Bring it under Terraform with {}.",
            advice::import_commands(id)
        );
    }
    format!(
        "Bring it under Terraform with {}, then set or change `token_version` and apply: its \
         connection token was never seen, so it must be rotated.",
        advice::import_commands(id)
    )
}

/// Whether `route` is one of `routes`.
fn one_of(route: &Route, routes: &[&Route]) -> bool {
    routes.contains(&route)
}

/// The advice for a request that may have taken effect and was not repeated.
fn not_retried(route: &Route) -> &'static str {
    match route {
        r if *r == routes::ROTATE_DATABASE_TOKEN => {
            "The request was not retried automatically because it may already have taken \
             effect: if it did, the previous connection token no longer works. Rotate again \
             to get a usable token."
        }
        r if *r == routes::CREATE_QUERY_TOKEN => {
            "The request was not retried automatically because it may already have taken \
             effect; request a new query token."
        }
        _ => {
            "The request was not retried automatically because it may already have taken \
             effect; refresh to see the database's current status before trying again."
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::testutil::wrong_url_failures;
    use crate::client::Facts;
    use crate::comwit::client::error_testing::{answer, redactor, TOKEN};
    use crate::comwit::client::ExistingObject;
    use crate::plugin::kit::failure::ClientFailure;
    use std::time::Duration;

    /// A failure of `kind` on `op` with `detail` and no other facts.
    fn failure(op: Operation, kind: FailureKind, detail: Detail) -> ApiFailure {
        ApiFailure::from(Facts {
            detail,
            ..Facts::new(op, kind)
        })
    }

    fn create_op() -> Operation {
        Operation::on_project(&routes::CREATE_DATABASE, "prj_123").with_database_name("orders")
    }

    fn detail_of(op: Operation, status: u16, body: &str) -> String {
        answer(op, status, body).detail()
    }

    #[test]
    fn a_404_blames_deletion_only_for_objects_from_state() {
        let not_found = include_str!("../client/fixtures/error_not_found.json");
        // Ids the user typed: import or a data source (a read by id), a build id in the
        // configuration, a database id in the configuration.
        for (op, attribute) in [
            (
                Operation::on_database(&routes::GET_DATABASE, "db_typo"),
                None,
            ),
            (
                Operation::on_app(&routes::ROLLBACK_APP, "app_1").with_build("bld_typo"),
                Some("`active_build_id`"),
            ),
            (
                Operation::on_database(&routes::CREATE_QUERY_TOKEN, "db_typo"),
                Some("`database_id`"),
            ),
            (Operation::on_app(&routes::GET_APP, "app_typo"), None),
        ] {
            let text = detail_of(op, 404, not_found);
            assert!(text.contains("check the id"), "{text}");
            assert!(text.contains("`terraform import`"), "{text}");
            assert!(!text.contains("deleted outside Terraform"), "{text}");
            assert!(!text.contains("state rm"), "{text}");
            if let Some(attribute) = attribute {
                assert!(text.contains(attribute), "{text}");
            }
        }
        // An object only Terraform's state names, gone now.
        let text = detail_of(
            Operation::on_database(&routes::ROTATE_DATABASE_TOKEN, "db_1"),
            404,
            not_found,
        );
        assert!(text.contains("deleted outside Terraform"), "{text}");
        assert!(text.contains("terraform state rm"), "{text}");
    }

    #[test]
    fn server_text_never_carries_tokens() {
        let body = format!(
            "{{\"error\":{{\"code\":\"internal\",\"message\":\"boom with {TOKEN} and cdt_deadbeef01 and xcdt_keep\"}}}}"
        );
        let text = detail_of(create_op(), 500, &body);
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("deadbeef"), "{text}");
        assert!(text.contains("cdt_(redacted)"), "{text}");
        assert!(text.contains("xcdt_keep"), "{text}");
        let long = "a".repeat(5000);
        assert!(redactor().clean(&long).len() < 400);
    }

    #[test]
    fn detail_for_missing_scope_names_the_scope() {
        let text = detail_of(
            create_op(),
            403,
            include_str!("../client/fixtures/error_forbidden_scope.json"),
        );
        assert_eq!(
            text,
            "Could not create database `orders` in project `prj_123`: the API answered 403 \
             (the token lacks scope `database:write`). Use a token that has scope \
             `database:write` (set `token` in the provider block or the COMWIT_TOKEN \
             environment variable), or ask your Comwit administrator to grant it."
        );
        assert_eq!(
            answer(
                create_op(),
                403,
                include_str!("../client/fixtures/error_forbidden_scope.json")
            )
            .summary(),
            "Error creating database"
        );
        // Without `required_scope` in the body, the contract's scope for the operation.
        let op = Operation::on_database(&routes::GET_DATABASE_USAGE, "db_1");
        let text = detail_of(op, 403, "{\"error\":{\"code\":\"forbidden\"}}");
        assert!(text.contains("`database:read`"), "{text}");
    }

    #[test]
    fn detail_for_protected_tenant_names_the_rule() {
        let op = Operation::on_database(&routes::SUSPEND_DATABASE, "db_9")
            .with_database_name("louhi-app");
        let text = detail_of(
            op,
            403,
            include_str!("../client/fixtures/error_protected_tenant.json"),
        );
        assert!(
            text.starts_with("Could not suspend database `louhi-app` (`db_9`)"),
            "{text}"
        );
        assert!(text.contains("is a protected tenant"), "{text}");
        assert!(text.contains("PLATFORM_API_PROTECTED_TENANTS"), "{text}");
        assert!(text.contains("`comwit-db-synthetic`"), "{text}");
        assert!(text.contains("rotate connection token"), "{text}");
    }

    #[test]
    fn detail_for_other_errors_says_what_to_do() {
        let get = Operation::on_database(&routes::GET_DATABASE, "db_1");
        let text = detail_of(
            get.clone(),
            401,
            include_str!("../client/fixtures/error_unauthorized.json"),
        );
        assert!(
            text.contains("401") && text.contains("COMWIT_TOKEN"),
            "{text}"
        );
        assert!(text.contains("`token`"), "{text}");

        let text = detail_of(
            get.clone(),
            404,
            include_str!("../client/fixtures/error_not_found.json"),
        );
        assert!(text.contains("database `db_1` does not exist"), "{text}");
        // A read by id is what import and data sources do: the id may be a typo.
        assert!(text.contains("check the id"), "{text}");
        assert!(!text.contains("deleted outside Terraform"), "{text}");
        assert!(!text.contains("state rm"), "{text}");

        let text = detail_of(
            Operation::on_project(&routes::LIST_DATABASES, "prj_x"),
            403,
            include_str!("../client/fixtures/error_not_a_member.json"),
        );
        assert!(
            text.contains("not a member of project `prj_other`"),
            "{text}"
        );

        let text = detail_of(
            create_op(),
            409,
            include_str!("../client/fixtures/error_conflict.json"),
        );
        assert!(
            text.contains("409") && text.contains("terraform import"),
            "{text}"
        );

        let qt = Operation::on_database(&routes::CREATE_QUERY_TOKEN, "db_1");
        let text = detail_of(
            qt,
            422,
            include_str!("../client/fixtures/error_validation.json"),
        );
        assert!(text.contains("field `ttl_seconds`"), "{text}");
        assert!(text.contains("Fix the value of `ttl_seconds`"), "{text}");

        let limited = ApiFailure::from(Facts {
            status: Some(429),
            retry_after: Some(Duration::from_secs(2)),
            attempts: 4,
            ..Facts::new(get.clone(), FailureKind::RateLimited)
        });
        let text = limited.detail();
        assert!(
            text.contains("429") && text.contains("after 3 retries"),
            "{text}"
        );
        assert!(text.contains("retried 3 times"), "{text}");

        let rotate = Operation::on_database(&routes::ROTATE_DATABASE_TOKEN, "db_1");
        let text = detail_of(rotate, 503, "{}");
        assert!(
            text.contains("503") && text.contains("Rotate again"),
            "{text}"
        );

        let transport = ApiFailure::from(Facts {
            message: "tcp connect error".into(),
            attempts: 3,
            url: Some("http://127.0.0.1:1/v1/databases/db_1".into()),
            ..Facts::new(get, FailureKind::Transport)
        });
        let text = transport.detail();
        assert!(
            text.contains("COMWIT_API_URL") && text.contains("`api_url`"),
            "{text}"
        );
        assert!(text.contains("after 2 retries"), "{text}");
        assert!(
            text.contains("http://127.0.0.1:1/v1/databases/db_1"),
            "{text}"
        );
        assert!(text.contains("`request_timeout_seconds`"), "{text}");
    }

    /// A wrong `api_url` (no answer there, or an answer from elsewhere) names the URL asked,
    /// once, as every provider does.
    #[test]
    fn a_wrong_api_url_names_the_url_asked() {
        const URL: &str = "http://127.0.0.1:9/api/v1/databases/db_1";
        let op = Operation::on_database(&routes::GET_DATABASE, "db_1");
        let kind_of = crate::comwit::client::kind_of;
        for f in wrong_url_failures::<_, Detail>(&op, URL, kind_of) {
            let d = f.detail();
            assert_eq!(d.matches(URL).count(), 1, "{d}");
            assert!(d.contains(&format!("(the provider asked {URL})")), "{d}");
            assert!(d.contains("COMWIT_API_URL"), "{d}");
        }
    }

    #[test]
    fn a_404_without_the_documented_body_is_not_a_deleted_object() {
        for body in [
            "",
            "<html>Not Found</html>",
            "{\"detail\":\"Not Found\"}",
            "{\"error\":{\"code\":\"route_not_found\",\"message\":\"no such route\"}}",
        ] {
            let e = answer(
                Operation::on_database(&routes::GET_DATABASE, "db_1"),
                404,
                body,
            );
            assert!(!e.is_not_found(), "{body}: {e:?}");
            let text = e.detail();
            assert!(text.contains("http://api.test/v1/x"), "{text}");
            assert!(text.contains("`api_url`"), "{text}");
            assert!(!text.contains("deleted outside Terraform"), "{text}");
        }
        assert!(answer(
            Operation::on_database(&routes::GET_DATABASE, "db_1"),
            404,
            include_str!("../client/fixtures/error_not_found.json")
        )
        .is_not_found());
    }
    /// The remedies whose Terraform words come from `advice`, word for word (the generic
    /// kinds' as the kit's `failure::remedy` writes them for Comwit).
    #[test]
    fn terraform_advice_reads_as_before() {
        let found = |id: &str, created_at: &str| ExistingObject {
            id: id.into(),
            created_at: created_at.into(),
        };
        let conflict = |op| remedy(&failure(op, FailureKind::Conflict, Detail::None));
        let taken = |op, existing| {
            remedy(&failure(
                op,
                FailureKind::Conflict,
                Detail::NameTaken { existing },
            ))
        };
        let unresolved = |op, existing| {
            remedy(&failure(
                op,
                FailureKind::Cancelled,
                Detail::CreateUnresolved {
                    existing,
                    tried: String::new(),
                },
            ))
        };
        let cases = [
            (
                remedy(&failure(create_op(), FailureKind::Cancelled, Detail::None)),
                "Terraform asked the provider to stop. If the request had already been sent it \
                 may have taken effect; refresh before trying again.",
            ),
            (
                remedy(&ApiFailure::from(Facts {
                    retry_after: Some(Duration::from_secs(2)),
                    attempts: 2,
                    ..Facts::new(create_op(), FailureKind::RateLimited)
                })),
                "The Comwit API is rate limiting requests (it last asked to wait 2s); the \
                 provider retried 1 time. Wait a minute and try again, or run Terraform with a \
                 lower `-parallelism`. Raising `max_retries` in the provider block lets the \
                 provider wait longer.",
            ),
            (
                conflict(create_op()),
                "A database with this name already exists in the project. Choose another \
                 name, or bring the existing one under Terraform with `terraform import`.",
            ),
            (
                conflict(Operation::new(&routes::CREATE_APP)),
                "An app with this name already exists in the project. Choose another name, or \
                 bring the existing one under Terraform with `terraform import`.",
            ),
            (
                conflict(Operation::new(&routes::SUSPEND_DATABASE)),
                "The database is already suspended; refresh to see its current status.",
            ),
            (
                conflict(Operation::new(&routes::ROLLBACK_APP)),
                "Only a build whose status is `ready` can become the active build. Set \
                 `active_build_id` to a ready build of this app (see the `comwit_app_builds` \
                 data source), or remove it to serve the build of the source.",
            ),
            (
                conflict(Operation::new(&routes::CREATE_DNS_RECORD)),
                "The zone already holds a record this one clashes with (an identical record, \
                 or a CNAME beside other records of that name; see the API's words above). \
                 Change this record, or remove the other one; if it is the same record, bring \
                 it under Terraform with `terraform import <address> <domain_id>/<record_id>` \
                 (the ids are in the `comwit_dns_records` data source) instead of creating it \
                 again.",
            ),
            (
                taken(
                    Operation::new(&routes::CREATE_DNS_RECORD),
                    Some(found("dom_1/rec_1", "")),
                ),
                "The zone already holds this record (same name, type and value). Bring it \
                 under Terraform with `terraform import <address> dom_1/rec_1` (or an \
                 `import { to = <address>, id = \"dom_1/rec_1\" }` block) instead of creating \
                 it again, or remove it from the zone.",
            ),
            (
                taken(
                    Operation::new(&routes::CREATE_APP),
                    Some(found("app_1", "2026-01-01T00:00:00Z")),
                ),
                "Choose another name, or adopt it if an interrupted apply of this \
                 configuration created it. Bring it under Terraform with `terraform import \
                 <address> app_1` (or an `import { to = <address>, id = \"app_1\" }` block).",
            ),
            (
                taken(Operation::new(&routes::CREATE_APP), None),
                "An app with this name already exists in the project. Choose another name, or \
                 bring the existing one under Terraform with `terraform import`.",
            ),
            (
                unresolved(create_op(), Some(found("db_1", "2026-01-01T00:00:00Z"))),
                "Bring it under Terraform with `terraform import <address> db_1` (or an \
                 `import { to = <address>, id = \"db_1\" }` block), then set or change \
                 `token_version` and apply: its connection token was never seen, so it must \
                 be rotated.",
            ),
            (
                unresolved(Operation::new(&routes::CREATE_APP), None),
                "Nothing was recorded in Terraform's state. If the app was created, the next \
                 apply finds it by name and prints its id and the import command; otherwise \
                 the next apply creates it.",
            ),
            (
                remedy(&failure(
                    Operation::on_database(&routes::SUSPEND_DATABASE, "db_1"),
                    FailureKind::NotFound,
                    Detail::None,
                )),
                "It was deleted outside Terraform. Run `terraform apply` again (the next \
                 refresh notices it is gone and plans to create it), or remove it from state \
                 with `terraform state rm <address>` if Terraform should no longer manage it.",
            ),
            (
                remedy(&failure(
                    Operation::on_app(&routes::LIST_BUILDS, "app_1"),
                    FailureKind::NotFound,
                    Detail::None,
                )),
                "No such app is found: check the id given in the configuration (`app_id`) or \
                 to `terraform import` (a typo, or an id of another project or another \
                 platform).",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        let text = remedy(&failure(
            Operation::on_database(&routes::ROTATE_DATABASE_TOKEN, "db_1"),
            FailureKind::Decode,
            Detail::None,
        ));
        assert!(text.contains("rotate the connection token"), "{text}");
    }
}
