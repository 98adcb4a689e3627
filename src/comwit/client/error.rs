//! [`ApiError`], the typed failures of the Comwit API, and [`ApiFailure`], an error with the
//! [`Operation`] it broke: what happened, in words (`attempt()`), without what to do about
//! it (the remedies are `comwit::common`'s, which add the Terraform advice).

use super::routes::Operation;
use crate::client::{ErrorEnvelope, ErrorFields, ErrorObject, Failure, FailureKind};
use std::fmt;
use std::time::Duration;

/// Why a 403 was answered: the `code` of the contract's error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForbiddenCode {
    /// `forbidden`: the token lacks a scope (named by `required_scope`).
    MissingScope,
    /// `not_a_member`: the token is not a member of the project.
    NotAMember,
    /// `protected_tenant`: a guarded operation on a database named in
    /// `PLATFORM_API_PROTECTED_TENANTS`.
    ProtectedTenant,
    /// Any other code, or none (the message says more).
    Other,
}

impl ForbiddenCode {
    fn parse(code: Option<&str>) -> Self {
        match code {
            Some("forbidden") => ForbiddenCode::MissingScope,
            Some("not_a_member") => ForbiddenCode::NotAMember,
            Some("protected_tenant") => ForbiddenCode::ProtectedTenant,
            _ => ForbiddenCode::Other,
        }
    }

    /// The wire code (`""` for [`ForbiddenCode::Other`]).
    pub fn as_str(self) -> &'static str {
        match self {
            ForbiddenCode::MissingScope => "forbidden",
            ForbiddenCode::NotAMember => "not_a_member",
            ForbiddenCode::ProtectedTenant => "protected_tenant",
            ForbiddenCode::Other => "",
        }
    }
}

/// A failed API call. Messages taken from the server are cut short and have anything that
/// looks like a token replaced, so every variant is safe to show and log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiError {
    /// 401: the token is missing, malformed or unknown.
    Unauthorized { message: String },
    /// 403: see `code` for why.
    Forbidden {
        code: ForbiddenCode,
        required_scope: Option<String>,
        project_id: Option<String>,
        database: Option<String>,
        message: String,
    },
    /// 404 with the contract's `not_found` error body: the project or database does not
    /// exist (or was deleted). Only this variant means an object is gone.
    NotFound { message: String },
    /// A 404 (or another answer) that is not the Comwit API's: no documented error body,
    /// or an unknown-route error. The `api_url` most likely points at the wrong place.
    NotTheApi {
        status: u16,
        url: String,
        message: String,
    },
    /// 409: name taken, or a state transition that does not apply.
    Conflict { message: String },
    /// 422: a field breaks a rule.
    Validation {
        field: Option<String>,
        message: String,
    },
    /// 429, still answered after `retries` retries (or with a `Retry-After` longer than the
    /// client waits on its own).
    RateLimited {
        retry_after: Option<Duration>,
        retries: u32,
    },
    /// 5xx, still answered after `retries` retries (0 when the request was not safe to
    /// repeat, or the status is not a retryable one).
    Server {
        status: u16,
        code: Option<String>,
        message: String,
        retries: u32,
    },
    /// Any other non-2xx status (400, 3xx, other 4xx): outside the contract's normal use.
    Unexpected {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// No answer: connection refused or dropped, TLS failure, timeout. The message never
    /// contains a URL.
    Transport {
        message: String,
        timed_out: bool,
        retries: u32,
        /// Where the request went (no query, no credentials).
        url: String,
    },
    /// The operation's deadline passed (all attempts and waits together).
    Deadline {
        after: Duration,
        attempts: u32,
        url: String,
    },
    /// An answer larger than the client reads.
    TooLarge { limit: usize, url: String },
    /// A 2xx answer whose body is not the expected JSON.
    Decode { operation: String, message: String },
    /// An argument was refused before anything was sent (an empty id, `.` or `..`).
    InvalidInput { field: String, message: String },
    /// The client's cancellation token fired (Terraform asked the provider to stop).
    Cancelled,
    /// A create whose outcome the client could not learn: its answers were lost or refused
    /// (`cause`), and repeating it with the same idempotency key did not settle it.
    /// `existing` is the object (database, app) of that name the project holds now, if the
    /// client could look.
    CreateUnresolved {
        cause: Box<ApiError>,
        existing: Option<ExistingObject>,
        /// What the create, its replays and the lookup tried (attempts, time, how each
        /// ended), all within one operation deadline; empty when unknown.
        tried: String,
    },
    /// 409 on create: the name is taken, by `existing` when the client could look it up.
    NameTaken {
        message: String,
        existing: Option<ExistingObject>,
    },
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

impl ApiError {
    /// The HTTP status the API answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized { .. } => Some(401),
            ApiError::Forbidden { .. } => Some(403),
            ApiError::NotFound { .. } => Some(404),
            ApiError::Conflict { .. } => Some(409),
            ApiError::Validation { .. } => Some(422),
            ApiError::RateLimited { .. } => Some(429),
            ApiError::Server { status, .. }
            | ApiError::Unexpected { status, .. }
            | ApiError::NotTheApi { status, .. } => Some(*status),
            ApiError::NameTaken { .. } => Some(409),
            ApiError::CreateUnresolved { cause, .. } => cause.status(),
            ApiError::Transport { .. }
            | ApiError::Deadline { .. }
            | ApiError::TooLarge { .. }
            | ApiError::Decode { .. }
            | ApiError::InvalidInput { .. }
            | ApiError::Cancelled => None,
        }
    }

    /// Whether the request may have taken effect although no success was seen: a 5xx, a
    /// 429 or transport failure that outlasted the retries, the deadline, or a stop.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            ApiError::Server { .. }
                | ApiError::RateLimited { .. }
                | ApiError::Transport { .. }
                | ApiError::Deadline { .. }
                | ApiError::Cancelled
        )
    }

    /// The common kind of this error. A lost create is of its cause's kind; an answer that
    /// is not the Comwit API's ([`ApiError::NotTheApi`], [`ApiError::Unexpected`]) is
    /// [`FailureKind::Other`].
    pub fn kind(&self) -> FailureKind {
        match self {
            ApiError::Unauthorized { .. } => FailureKind::Unauthorized,
            ApiError::Forbidden { .. } => FailureKind::Forbidden,
            ApiError::NotFound { .. } => FailureKind::NotFound,
            ApiError::Conflict { .. } | ApiError::NameTaken { .. } => FailureKind::Conflict,
            ApiError::Validation { .. } | ApiError::InvalidInput { .. } => FailureKind::Validation,
            ApiError::RateLimited { .. } => FailureKind::RateLimited,
            ApiError::Server { .. } => FailureKind::Server,
            ApiError::Transport { .. } => FailureKind::Transport,
            ApiError::Deadline { .. } => FailureKind::Deadline,
            ApiError::TooLarge { .. } | ApiError::Decode { .. } => FailureKind::Decode,
            ApiError::Cancelled => FailureKind::Cancelled,
            ApiError::NotTheApi { .. } | ApiError::Unexpected { .. } => FailureKind::Other,
            ApiError::CreateUnresolved { cause, .. } => cause.kind(),
        }
    }

    /// The `code` of Comwit's error body, when the error keeps it (`not_found`,
    /// `not_a_member`, `internal`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::NotFound { .. } => Some("not_found"),
            ApiError::Forbidden { code, .. } => Some(code.as_str()).filter(|c| !c.is_empty()),
            ApiError::Server { code, .. } | ApiError::Unexpected { code, .. } => code.as_deref(),
            ApiError::CreateUnresolved { cause, .. } => cause.code(),
            _ => None,
        }
    }

    /// Whether Comwit says the object does not exist (a 404 with its `not_found` body).
    pub fn is_not_found(&self) -> bool {
        self.kind().is_not_found()
    }

    /// Whether the API answered 409: the name is taken, or the object's state refuses the
    /// change (already suspended, a record that clashes, a domain still in use).
    pub fn is_conflict(&self) -> bool {
        self.kind().is_conflict()
    }

    /// The typed error for a failed request. A non-2xx body is read leniently: a body that
    /// is not the contract's error JSON still gives a typed error.
    pub(crate) fn from_failure(failure: Failure) -> ApiError {
        let (status, retry_after, fields, body_len, retries, url) = match failure {
            Failure::Status {
                status,
                retry_after,
                fields,
                body_len,
                retries,
                url,
            } => (status, retry_after, fields, body_len, retries, url),
            Failure::Transport {
                message,
                timed_out,
                retries,
                url,
            } => {
                return ApiError::Transport {
                    message,
                    timed_out,
                    retries,
                    url,
                }
            }
            Failure::Deadline {
                after,
                attempts,
                url,
            } => {
                return ApiError::Deadline {
                    after,
                    attempts,
                    url,
                }
            }
            Failure::TooLarge { limit, url } => return ApiError::TooLarge { limit, url },
            Failure::InvalidInput { field, message } => {
                return ApiError::InvalidInput { field, message }
            }
            Failure::Cancelled => return ApiError::Cancelled,
        };
        let message = fields.message.clone().unwrap_or_else(|| {
            if body_len == 0 {
                "no error details in the answer".to_owned()
            } else if fields.json {
                "no error message in the answer".to_owned()
            } else {
                format!("no error details: the body ({body_len} bytes) is not JSON")
            }
        });
        let text = |name: &str| fields.get(name).map(str::to_owned);
        match status {
            401 => ApiError::Unauthorized { message },
            403 => ApiError::Forbidden {
                code: ForbiddenCode::parse(fields.code.as_deref()),
                required_scope: text("required_scope"),
                project_id: text("project_id"),
                database: text("database"),
                message,
            },
            // An object is gone only when the platform says so in its documented body.
            404 if fields.documented && fields.code.as_deref() == Some("not_found") => {
                ApiError::NotFound { message }
            }
            404 => ApiError::NotTheApi {
                status,
                url,
                message,
            },
            409 => ApiError::Conflict { message },
            422 => ApiError::Validation {
                field: fields.field.clone(),
                message,
            },
            429 => ApiError::RateLimited {
                retry_after,
                retries,
            },
            500..=599 => ApiError::Server {
                status,
                code: fields.code.clone(),
                message,
                retries,
            },
            other => ApiError::Unexpected {
                status: other,
                code: fields.code.clone(),
                message,
            },
        }
    }

    /// The answer part of a message: "the API answered 403 (the token lacks scope
    /// `database:write`)". With an operation, missing facts are filled in from it.
    pub fn answer(&self, op: Option<&Operation>) -> String {
        match self {
            ApiError::Unauthorized { .. } => {
                "the API answered 401 (the token is missing, malformed or unknown)".to_owned()
            }
            ApiError::Forbidden {
                code,
                required_scope,
                project_id,
                database,
                message,
            } => match code {
                ForbiddenCode::MissingScope => match (required_scope, op) {
                    (Some(scope), _) => {
                        format!("the API answered 403 (the token lacks scope `{scope}`)")
                    }
                    (None, Some(op)) => format!(
                        "the API answered 403 (the token lacks a scope; this operation needs `{}`)",
                        op.required_scope()
                    ),
                    (None, None) => {
                        "the API answered 403 (the token lacks a required scope)".to_owned()
                    }
                },
                ForbiddenCode::NotAMember => {
                    match project_id
                        .as_deref()
                        .or(op.and_then(|op| op.project_id.as_deref()))
                    {
                        Some(project) => format!(
                            "the API answered 403 (the token is not a member of project `{project}`)"
                        ),
                        None => "the API answered 403 (the token is not a member of the project)"
                            .to_owned(),
                    }
                }
                ForbiddenCode::ProtectedTenant => {
                    let db = match (database, op) {
                        (Some(db), _) => format!("`{db}`"),
                        (None, Some(op)) => op.database_ref(),
                        (None, None) => "this".to_owned(),
                    };
                    format!("the API answered 403 (database {db} is a protected tenant)")
                }
                ForbiddenCode::Other => format!("the API answered 403 ({message})"),
            },
            ApiError::NotFound { message } => match op {
                Some(op) => format!(
                    "the API answered 404 ({} does not exist)",
                    op.missing_object()
                ),
                None => format!("the API answered 404 ({message})"),
            },
            ApiError::NotTheApi {
                status,
                url,
                message,
            } => format!(
                "{url} answered {status} ({message}), which is not an answer of the Comwit API"
            ),
            ApiError::Conflict { message } => format!("the API answered 409 ({message})"),
            ApiError::Validation { field, message } => match field {
                Some(field) => format!("the API answered 422 (field `{field}`: {message})"),
                None => format!("the API answered 422 ({message})"),
            },
            ApiError::RateLimited { retries, .. } => {
                format!(
                    "the API answered 429 (rate limited){}",
                    after_retries(*retries)
                )
            }
            ApiError::Server {
                status,
                message,
                retries,
                ..
            } => format!(
                "the API answered {status} ({message}){}",
                after_retries(*retries)
            ),
            ApiError::Unexpected {
                status, message, ..
            } => format!("the API answered {status} ({message})"),
            ApiError::Transport {
                message,
                timed_out,
                retries,
                url,
            } => {
                let what = if *timed_out {
                    format!("the request to {url} timed out")
                } else {
                    format!("could not reach the API at {url}")
                };
                format!("{what} ({message}){}", after_retries(*retries))
            }
            ApiError::Deadline {
                after,
                attempts,
                url,
            } => format!(
                "no answer from {url} within {}s ({attempts} attempt{})",
                after.as_secs(),
                plural(*attempts)
            ),
            ApiError::TooLarge { limit, url } => format!(
                "the answer from {url} is larger than {} MiB, far more than any answer of the \
                 Comwit API",
                limit >> 20
            ),
            ApiError::Decode { operation, message } => {
                format!("the API's answer to \"{operation}\" is not the expected JSON ({message})")
            }
            ApiError::InvalidInput { field, message } => format!("invalid `{field}`: {message}"),
            ApiError::Cancelled => "the operation was cancelled".to_owned(),
            ApiError::CreateUnresolved {
                cause,
                existing,
                tried,
            } => {
                let noun = op.map_or("object", |op| op.object_noun());
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
                    cause.answer(op)
                )
            }
            ApiError::NameTaken { message, existing } => match existing {
                Some(found) if found.created_at.is_empty() => format!(
                    "the API answered 409 ({message}): `{}` is the same record",
                    found.id
                ),
                Some(found) => format!(
                    "the API answered 409 ({message}): the name is taken by `{}`, created {}",
                    found.id, found.created_at
                ),
                None => format!("the API answered 409 ({message})"),
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

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.answer(None))
    }
}

impl std::error::Error for ApiError {}

/// An [`ApiError`] with the [`Operation`] it broke: what every client method returns.
/// `summary()` and `attempt()` are the facts of the diagnostic's two lines.
///
/// The operation is boxed to keep `Result<T, ApiFailure>` small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub op: Box<Operation>,
    pub error: ApiError,
}

impl ApiFailure {
    pub fn new(op: Operation, error: ApiError) -> Self {
        ApiFailure {
            op: Box::new(op),
            error,
        }
    }

    /// "Error creating database".
    pub fn summary(&self) -> String {
        self.op.summary().to_owned()
    }

    /// What was attempted and the answer, the facts without a remedy: "create database
    /// `orders` in project `prj_123`: the API answered 403 (the token lacks scope
    /// `database:write`)". The provider side adds what to do (`comwit::common`).
    pub fn attempt(&self) -> String {
        format!(
            "{}: {}",
            self.op.describe(),
            self.error.answer(Some(&self.op))
        )
    }

    /// The error's common kind ([`ApiError::kind`]).
    pub fn kind(&self) -> FailureKind {
        self.error.kind()
    }

    /// The `code` of Comwit's error body ([`ApiError::code`]).
    pub fn code(&self) -> Option<&str> {
        self.error.code()
    }

    /// Whether Comwit says the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind().is_not_found()
    }

    /// Whether the API answered 409 ([`ApiError::is_conflict`]).
    pub fn is_conflict(&self) -> bool {
        self.kind().is_conflict()
    }

    /// Adds the database's name to the operation, for messages.
    pub fn with_database_name(mut self, name: impl Into<String>) -> Self {
        self.op.database_name = Some(name.into());
        self
    }
}

/// "Could not <attempt>." (the facts; the diagnostic adds the remedy).
impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Could not {}.", self.attempt())
    }
}

impl std::error::Error for ApiFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

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

    /// The typed error of a `status` answer with `body`, from `http://api.test/v1/x`.
    pub fn error(status: u16, body: &str) -> ApiError {
        let r = redactor();
        ApiError::from_failure(Failure::Status {
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::testing::error;
    use super::*;

    #[test]
    fn parses_every_contract_error() {
        assert!(matches!(
            error(401, include_str!("fixtures/error_unauthorized.json")),
            ApiError::Unauthorized { .. }
        ));
        assert_eq!(
            error(403, include_str!("fixtures/error_forbidden_scope.json")),
            ApiError::Forbidden {
                code: ForbiddenCode::MissingScope,
                required_scope: Some("database:write".into()),
                project_id: None,
                database: None,
                message: "token lacks scope database:write".into(),
            }
        );
        match error(403, include_str!("fixtures/error_not_a_member.json")) {
            ApiError::Forbidden {
                code: ForbiddenCode::NotAMember,
                project_id: Some(p),
                ..
            } => assert_eq!(p, "prj_other"),
            other => panic!("unexpected {other:?}"),
        }
        match error(403, include_str!("fixtures/error_protected_tenant.json")) {
            ApiError::Forbidden {
                code: ForbiddenCode::ProtectedTenant,
                database: Some(d),
                ..
            } => assert_eq!(d, "louhi-app"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(error(404, include_str!("fixtures/error_not_found.json")).is_not_found());
        let member = error(403, include_str!("fixtures/error_not_a_member.json"));
        assert_eq!(
            (member.kind(), member.code()),
            (FailureKind::Forbidden, Some("not_a_member"))
        );
        assert_eq!(error(404, "").kind(), FailureKind::Other);
        assert_eq!(error(503, "{}").kind(), FailureKind::Server);
        assert!(matches!(
            error(409, include_str!("fixtures/error_conflict.json")),
            ApiError::Conflict { .. }
        ));
        assert_eq!(
            error(422, include_str!("fixtures/error_validation.json")),
            ApiError::Validation {
                field: Some("ttl_seconds".into()),
                message: "ttl_seconds must be an integer in 1..3600".into(),
            }
        );
        assert!(matches!(
            error(
                400,
                "{\"error\":{\"code\":\"bad_request\",\"message\":\"bad json\"}}"
            ),
            ApiError::Unexpected { status: 400, .. }
        ));
        assert!(matches!(
            error(500, include_str!("fixtures/error_internal.json")),
            ApiError::Server { status: 500, .. }
        ));
    }

    #[test]
    fn lenient_on_bodies_outside_the_contract() {
        match error(500, "<html><body>Bad gateway</body></html>") {
            ApiError::Server {
                status: 500,
                code: None,
                message,
                ..
            } => assert!(message.contains("not JSON"), "{message}"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(error(403, ""), ApiError::Forbidden { .. }));
        assert!(matches!(
            error(422, "[1,2]"),
            ApiError::Validation { field: None, .. }
        ));
        // Fields of the wrong type are ignored, not fatal.
        match error(
            403,
            "{\"error\":{\"code\":7,\"required_scope\":[\"x\"],\"message\":null}}",
        ) {
            ApiError::Forbidden {
                code: ForbiddenCode::Other,
                required_scope: None,
                ..
            } => {}
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            error(418, "\u{0}\u{1}"),
            ApiError::Unexpected { .. }
        ));
    }
}
