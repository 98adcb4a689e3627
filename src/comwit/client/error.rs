//! Comwit's failures: [`ApiFailure`], the one [`crate::client::ApiFailure`] over Comwit's
//! [`Operation`] and its [`Detail`] (a lost create, a taken name, what a 403 names), and
//! how they read: what happened, in words (`attempt()`), without what to do about it (the
//! remedies are `comwit::common`'s, which add the Terraform advice).

use super::routes::Operation;
use crate::client::{ErrorEnvelope, ErrorFields, ErrorObject, Failure, FailureKind};
use std::fmt;

/// The `code`s of Comwit's error bodies that its failures are read by.
pub mod code {
    /// 404: the project or database does not exist (or was deleted).
    pub const NOT_FOUND: &str = "not_found";
    /// 403: the token lacks a scope (named by `required_scope`).
    pub const MISSING_SCOPE: &str = "forbidden";
    /// 403: the token is not a member of the project.
    pub const NOT_A_MEMBER: &str = "not_a_member";
    /// 403: a guarded operation on a database named in `PLATFORM_API_PROTECTED_TENANTS`.
    pub const PROTECTED_TENANT: &str = "protected_tenant";
}

/// A failed call of the Comwit API. Messages taken from the server have anything that
/// looks like a token replaced, so every fact is safe to show and log.
pub type ApiFailure = crate::client::ApiFailure<Operation, Detail>;

/// Comwit's facts beyond the common ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Detail {
    #[default]
    None,
    /// 403: what the body names besides its code (the missing `required_scope`, the
    /// `project_id` the token is not a member of, the protected `database`).
    Refused {
        required_scope: Option<String>,
        project_id: Option<String>,
        database: Option<String>,
    },
    /// A create whose outcome the client could not learn: its answers were lost or refused
    /// (the failure's other facts are that last outcome's), and repeating it with the same
    /// idempotency key did not settle it. `existing` is the object (database, app) of that
    /// name the project holds now, if the client could look.
    CreateUnresolved {
        existing: Option<ExistingObject>,
        /// What the create, its replays and the lookup tried (attempts, time, how each
        /// ended), all within one operation deadline; empty when unknown.
        tried: String,
    },
    /// 409 on create: the name is taken, by `existing` when the client could look it up.
    NameTaken { existing: Option<ExistingObject> },
}

/// An object (a database, an app) found by name after its create failed, for the import
/// advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingObject {
    /// Its id (`db_...`, `app_...`).
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
}

/// The common kind of an answer of Comwit's. An object is gone only when the platform says
/// so in its documented body; any other 404 (an unknown route, another server) is
/// [`FailureKind::Other`].
pub fn kind_of(status: u16, fields: &ErrorFields) -> FailureKind {
    match status {
        401 => FailureKind::Unauthorized,
        403 => FailureKind::Forbidden,
        404 if fields.documented && fields.code.as_deref() == Some(code::NOT_FOUND) => {
            FailureKind::NotFound
        }
        409 => FailureKind::Conflict,
        422 => FailureKind::Validation,
        429 => FailureKind::RateLimited,
        500..=599 => FailureKind::Server,
        _ => FailureKind::Other,
    }
}

/// The failure of a request of `op`. A non-2xx body is read leniently: a body that is not
/// the contract's error JSON still gives its status's kind, and a message that says what
/// the body lacked.
pub(crate) fn from_failure(op: Operation, failure: Failure) -> ApiFailure {
    let (fallback, detail) = match &failure {
        Failure::Status {
            status,
            fields,
            body_len,
            ..
        } => {
            let fallback = if *body_len == 0 {
                "no error details in the answer".to_owned()
            } else if fields.json {
                "no error message in the answer".to_owned()
            } else {
                format!("no error details: the body ({body_len} bytes) is not JSON")
            };
            let text = |name: &str| fields.get(name).map(str::to_owned);
            let detail = if *status == 403 {
                Detail::Refused {
                    required_scope: text("required_scope"),
                    project_id: text("project_id"),
                    database: text("database"),
                }
            } else {
                Detail::None
            };
            (Some(fallback), detail)
        }
        _ => (None, Detail::None),
    };
    let mut failure = ApiFailure::from_failure(op, failure, kind_of);
    if let Some(fallback) = fallback.filter(|_| failure.message.is_empty()) {
        failure.message = fallback;
    }
    failure.detail = detail;
    failure
}

/// Comwit's questions of a failure, beyond the common predicates, and its words.
impl ApiFailure {
    /// Whether the request may have taken effect although no success was seen: the client
    /// core's one rule ([`crate::client::may_have_taken_effect`]: a 5xx, no answer, the
    /// deadline, an unreadable answer or a stop, on a write). A create already settled as
    /// unresolved is not asked again.
    pub fn outcome_unknown(&self) -> bool {
        !matches!(self.detail, Detail::CreateUnresolved { .. }) && self.may_have_taken_effect()
    }

    /// No usable answer yet, so a poll looks again: a 5xx, a 429 or no answer that
    /// outlasted the retries, the deadline, or a stop (which the poll itself notices).
    pub fn not_answered_yet(&self) -> bool {
        matches!(
            self.kind,
            FailureKind::Server
                | FailureKind::RateLimited
                | FailureKind::Transport
                | FailureKind::Deadline
                | FailureKind::Cancelled
        )
    }

    /// "Error creating database".
    pub fn summary(&self) -> String {
        self.op.summary().to_owned()
    }

    /// What was attempted and the answer, the facts without a remedy: "create database
    /// `orders` in project `prj_123`: the API answered 403 (the token lacks scope
    /// `database:write`)". The provider side adds what to do (`comwit::common`).
    pub fn attempt(&self) -> String {
        format!("{}: {}", self.op.describe(), self.answer())
    }

    /// Adds the database's name to the operation, for messages.
    pub fn with_database_name(mut self, name: impl Into<String>) -> Self {
        self.op.database_name = Some(name.into());
        self
    }

    /// The answer part of a message: "the API answered 403 (the token lacks scope
    /// `database:write`)", facts the body left out filled in from the operation.
    pub fn answer(&self) -> String {
        let op = &self.op;
        match &self.detail {
            Detail::CreateUnresolved { existing, tried } => {
                let noun = op.object_noun();
                let now = match existing {
                    Some(found) => format!(
                        "; {noun} `{}` now exists in the project (created {})",
                        found.id, found.created_at
                    ),
                    None => String::new(),
                };
                let tried = if tried.is_empty() {
                    String::new()
                } else {
                    format!(". Tried: {tried}")
                };
                format!(
                    "{}, so whether the create took effect is unknown{tried}{now}",
                    self.outcome()
                )
            }
            Detail::NameTaken { existing } => {
                let message = &self.message;
                match existing {
                    Some(found) if found.created_at.is_empty() => format!(
                        "the API answered 409 ({message}): `{}` is the same record",
                        found.id
                    ),
                    Some(found) => format!(
                        "the API answered 409 ({message}): the name is taken by `{}`, created {}",
                        found.id, found.created_at
                    ),
                    None => format!("the API answered 409 ({message})"),
                }
            }
            _ => self.outcome(),
        }
    }

    /// What a 403's body named besides its code: the missing `required_scope`, the
    /// `project_id`, the protected `database` (each `None` when it did not, or for another
    /// answer).
    pub fn refused(&self) -> (Option<&str>, Option<&str>, Option<&str>) {
        match &self.detail {
            Detail::Refused {
                required_scope,
                project_id,
                database,
            } => (
                required_scope.as_deref(),
                project_id.as_deref(),
                database.as_deref(),
            ),
            _ => (None, None, None),
        }
    }

    /// The answer, or what stood for it, by the common facts.
    fn outcome(&self) -> String {
        let op = &self.op;
        let message = &self.message;
        let refused = self.refused();
        match self.kind {
            FailureKind::Unauthorized => {
                "the API answered 401 (the token is missing, malformed or unknown)".to_owned()
            }
            FailureKind::Forbidden => match self.code() {
                Some(code::MISSING_SCOPE) => match refused.0 {
                    Some(scope) => {
                        format!("the API answered 403 (the token lacks scope `{scope}`)")
                    }
                    None => format!(
                        "the API answered 403 (the token lacks a scope; this operation needs `{}`)",
                        op.required_scope()
                    ),
                },
                Some(code::NOT_A_MEMBER) => match refused.1.or(op.project_id.as_deref()) {
                    Some(project) => format!(
                        "the API answered 403 (the token is not a member of project `{project}`)"
                    ),
                    None => {
                        "the API answered 403 (the token is not a member of the project)".to_owned()
                    }
                },
                Some(code::PROTECTED_TENANT) => {
                    let db = match refused.2 {
                        Some(db) => format!("`{db}`"),
                        None => op.database_ref(),
                    };
                    format!("the API answered 403 (database {db} is a protected tenant)")
                }
                _ => format!("the API answered 403 ({message})"),
            },
            FailureKind::NotFound => format!(
                "the API answered 404 ({} does not exist)",
                op.missing_object()
            ),
            FailureKind::Conflict => format!("the API answered 409 ({message})"),
            FailureKind::Validation => match (self.status, self.field()) {
                (None, field) => format!("invalid `{}`: {message}", field.unwrap_or_default()),
                (Some(_), Some(field)) => {
                    format!("the API answered 422 (field `{field}`: {message})")
                }
                (Some(_), None) => format!("the API answered 422 ({message})"),
            },
            FailureKind::RateLimited => format!(
                "the API answered 429 (rate limited){}",
                after_retries(self.retries())
            ),
            FailureKind::Server => format!(
                "the API answered {} ({message}){}",
                self.status.unwrap_or_default(),
                after_retries(self.retries())
            ),
            FailureKind::Transport => {
                // The URL asked is the remedy's to name (the kit's, the same on every
                // platform).
                let what = if self.timed_out {
                    "the request timed out"
                } else {
                    "could not reach the API"
                };
                format!("{what} ({message}){}", after_retries(self.retries()))
            }
            FailureKind::Deadline => format!(
                "no answer within {}s ({} attempt{})",
                self.waited.unwrap_or_default().as_secs(),
                self.attempts,
                plural(self.attempts)
            ),
            FailureKind::Decode => match self.too_large {
                Some(limit) => format!(
                    "the answer is larger than {} MiB, far more than any answer of the \
                     Comwit API",
                    limit >> 20
                ),
                None => format!(
                    "the API's answer to \"{}\" is not the expected JSON ({message})",
                    op.label()
                ),
            },
            FailureKind::Cancelled => "the operation was cancelled".to_owned(),
            FailureKind::Other => match self.status {
                // A 404 without Comwit's `not_found`: not the Comwit API's.
                Some(404) => format!(
                    "the server answered 404 ({message}), which is not an answer of the Comwit \
                     API"
                ),
                Some(status) => format!("the API answered {status} ({message})"),
                None => message.clone(),
            },
        }
    }
}

fn after_retries(retries: u32) -> String {
    if retries == 0 {
        String::new()
    } else {
        format!(
            " after {retries} retr{}",
            if retries == 1 { "y" } else { "ies" }
        )
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// "Could not <attempt>." (the facts; the diagnostic adds the remedy).
impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Could not {}.", self.attempt())
    }
}

impl std::error::Error for ApiFailure {}

/// Comwit's error body, `{"error": {"code", "message", ...}}` (the contract's "Errors").
/// An unknown route answers 404 `route_not_found` [assumed], so a wrong `api_url` is never
/// read as a deleted object.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComwitEnvelope;

impl ErrorEnvelope for ComwitEnvelope {
    fn parse(&self, body: &[u8]) -> ErrorFields {
        ErrorObject.parse(body)
    }
}

/// Comwit's token prefixes: user (`cwt_`), database (`cdt_`) and query (`cqt_`) tokens.
pub const TOKEN_PREFIXES: &[&str] = &["cwt_", "cdt_", "cqt_"];

/// What the tests of Comwit's errors and remedies share: a redactor that knows [`TOKEN`],
/// and the typed error of an answer.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::client::Redactor;

    pub const TOKEN: &str = "cwt_00112233445566778899";

    pub fn redactor() -> Redactor {
        let r = Redactor::new(TOKEN_PREFIXES);
        r.add(&TOKEN.into());
        r
    }

    /// The failure of `op` answered `status` with `body`, from `http://api.test/v1/x`.
    pub fn answer(op: Operation, status: u16, body: &str) -> ApiFailure {
        let r = redactor();
        from_failure(
            op,
            Failure::Status {
                status,
                retry_after: None,
                fields: Box::new(
                    ComwitEnvelope
                        .parse(body.as_bytes())
                        .cleaned(|t| r.clean(t)),
                ),
                body_len: body.len(),
                retries: 0,
                url: "http://api.test/v1/x".into(),
            },
        )
    }

    /// A read of a database answered `status` with `body`.
    pub fn error(status: u16, body: &str) -> ApiFailure {
        answer(
            Operation::on_database(&crate::comwit::client::routes::GET_DATABASE, "db_1"),
            status,
            body,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::testing::error;
    use super::*;

    /// What a 403 named besides its code.
    fn refused(f: &ApiFailure) -> (Option<&str>, Option<&str>, Option<&str>) {
        assert!(
            matches!(f.detail, Detail::Refused { .. }),
            "not a refusal: {:?}",
            f.detail
        );
        f.refused()
    }

    #[test]
    fn parses_every_contract_error() {
        let e = error(401, include_str!("fixtures/error_unauthorized.json"));
        assert_eq!(e.kind(), FailureKind::Unauthorized);
        let e = error(403, include_str!("fixtures/error_forbidden_scope.json"));
        assert_eq!(
            (e.kind(), e.code(), e.message.as_str()),
            (
                FailureKind::Forbidden,
                Some(code::MISSING_SCOPE),
                "token lacks scope database:write"
            )
        );
        assert_eq!(refused(&e), (Some("database:write"), None, None));
        let member = error(403, include_str!("fixtures/error_not_a_member.json"));
        assert_eq!(
            (member.kind(), member.code()),
            (FailureKind::Forbidden, Some(code::NOT_A_MEMBER))
        );
        assert_eq!(refused(&member).1, Some("prj_other"));
        let tenant = error(403, include_str!("fixtures/error_protected_tenant.json"));
        assert_eq!(tenant.code(), Some(code::PROTECTED_TENANT));
        assert_eq!(refused(&tenant).2, Some("louhi-app"));
        assert!(error(404, include_str!("fixtures/error_not_found.json")).is_not_found());
        assert_eq!(error(404, "").kind(), FailureKind::Other);
        assert_eq!(error(503, "{}").kind(), FailureKind::Server);
        assert!(error(409, include_str!("fixtures/error_conflict.json")).is_conflict());
        let e = error(422, include_str!("fixtures/error_validation.json"));
        assert_eq!(
            (e.kind(), e.field(), e.message.as_str()),
            (
                FailureKind::Validation,
                Some("ttl_seconds"),
                "ttl_seconds must be an integer in 1..3600"
            )
        );
        let e = error(
            400,
            "{\"error\":{\"code\":\"bad_request\",\"message\":\"bad json\"}}",
        );
        assert_eq!((e.kind(), e.status()), (FailureKind::Other, Some(400)));
        let e = error(500, include_str!("fixtures/error_internal.json"));
        assert_eq!((e.kind(), e.status()), (FailureKind::Server, Some(500)));
    }

    #[test]
    fn lenient_on_bodies_outside_the_contract() {
        let e = error(500, "<html><body>Bad gateway</body></html>");
        assert_eq!((e.kind(), e.code()), (FailureKind::Server, None));
        assert!(e.message.contains("not JSON"), "{}", e.message);
        assert_eq!(error(403, "").kind(), FailureKind::Forbidden);
        let e = error(422, "[1,2]");
        assert_eq!((e.kind(), e.field()), (FailureKind::Validation, None));
        // Fields of the wrong type are ignored, not fatal.
        let e = error(
            403,
            "{\"error\":{\"code\":7,\"required_scope\":[\"x\"],\"message\":null}}",
        );
        assert_eq!((e.kind(), e.code()), (FailureKind::Forbidden, None));
        assert_eq!(refused(&e), (None, None, None));
        assert_eq!(error(418, "\u{0}\u{1}").kind(), FailureKind::Other);
    }
}
