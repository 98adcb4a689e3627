//! CloudSync's error bodies ([`CloudSyncEnvelope`]: the seed's `errors` array) and the
//! client's error ([`ApiFailure`]: what failed, on what, why, and what to do about it).

use crate::client::{route::fill, ErrorEnvelope, ErrorFields, Failure, FailureKind};

use crate::client::Route;

/// Reads `{"errors": [{"status", "code", "title", "detail", "source": {"pointer"},
/// "meta": {"retryable"}}]}` (the first member).
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudSyncEnvelope;

impl ErrorEnvelope for CloudSyncEnvelope {
    fn parse(&self, body: &[u8]) -> ErrorFields {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return ErrorFields::default();
        };
        let Some(first) = value
            .get("errors")
            .and_then(|e| e.as_array())
            .and_then(|a| a.first())
            .and_then(|m| m.as_object())
        else {
            return ErrorFields {
                json: true,
                ..ErrorFields::default()
            };
        };
        let mut fields = ErrorFields::from_object(first, &["detail", "title"]);
        if let Some(title) = first.get("title").and_then(|t| t.as_str()) {
            fields.extra.insert("title".into(), title.to_owned());
        }
        if let Some(pointer) = first
            .get("source")
            .and_then(|s| s.get("pointer"))
            .and_then(|p| p.as_str())
        {
            fields.field = Some(pointer.trim_start_matches('/').to_owned());
        }
        if let Some(retryable) = first
            .get("meta")
            .and_then(|m| m.get("retryable"))
            .and_then(|r| r.as_bool())
        {
            fields
                .extra
                .insert("retryable".into(), retryable.to_string());
        }
        fields
    }
}

/// One client call: its route and the names it acts on (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub route: &'static Route,
    pub database: Option<String>,
    pub table: Option<String>,
    pub site: Option<String>,
    pub label: Option<String>,
}

impl Operation {
    pub fn new(route: &'static Route) -> Operation {
        Operation {
            route,
            database: None,
            table: None,
            site: None,
            label: None,
        }
    }

    pub fn on(route: &'static Route, database: &str) -> Operation {
        Operation {
            database: Some(database.to_owned()),
            ..Operation::new(route)
        }
    }

    /// "register database `Primary DB`".
    pub fn describe(&self) -> String {
        fill(self.route.describe, |name| self.value(name))
    }

    /// The object that is missing when the route's answer is "not found": "database
    /// `db_1`".
    pub fn missing(&self) -> String {
        fill(self.route.missing, |name| self.value(name))
    }

    fn value(&self, name: &str) -> Option<String> {
        let v = match name {
            "database" => self.database.as_ref(),
            "table" => self.table.as_ref(),
            "site" => self.site.as_ref(),
            "label" => self.label.as_ref(),
            _ => None,
        }?;
        Some(format!("`{v}`"))
    }
}

impl crate::client::Params for Operation {
    fn param(&self, name: &str) -> Option<&str> {
        match name {
            "database" => self.database.as_deref(),
            "site" => self.site.as_deref(),
            _ => None,
        }
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The API answered non-2xx.
    Status {
        status: u16,
        /// The body had the documented `errors` shape.
        documented: bool,
        code: Option<String>,
        detail: Option<String>,
        /// The request field (`connectionString`).
        field: Option<String>,
        retries: u32,
        url: String,
    },
    /// No answer (refused, dropped, timed out).
    Transport {
        message: String,
        timed_out: bool,
        retries: u32,
        url: String,
    },
    /// The whole operation's deadline passed.
    Deadline { url: String },
    /// A 2xx answer that is not what the contract says.
    Decode { message: String },
    /// An argument refused before anything was sent.
    InvalidInput { field: String, message: String },
    /// Terraform asked the provider to stop.
    Cancelled,
    /// Anything else the core reported.
    Other(String),
}

/// A failed call with its operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure {
    pub op: Box<Operation>,
    pub error: ApiError,
}

/// The tenant-database failure codes (seed 002).
pub const TENANT_CODES: [&str; 6] = [
    "database_paused",
    "database_auth_failed",
    "database_unreachable",
    "database_permission_denied",
    "database_cloudsync_not_ready",
    "database_error",
];

impl ApiError {
    pub fn from_failure(f: Failure) -> ApiError {
        match f {
            Failure::Status {
                status,
                fields,
                retries,
                url,
                ..
            } => ApiError::Status {
                status,
                documented: fields.documented,
                code: fields.code.clone(),
                detail: fields.message.clone(),
                field: fields.field.clone(),
                retries,
                url,
            },
            Failure::Transport {
                message,
                timed_out,
                retries,
                url,
            } => ApiError::Transport {
                message,
                timed_out,
                retries,
                url,
            },
            Failure::Deadline { url, .. } => ApiError::Deadline { url },
            Failure::TooLarge { limit, url } => ApiError::Other(format!(
                "the answer from {url} was larger than {limit} bytes"
            )),
            Failure::InvalidInput { field, message } => ApiError::InvalidInput { field, message },
            Failure::Cancelled => ApiError::Cancelled,
        }
    }
}

impl ApiFailure {
    pub fn new(op: Operation, error: ApiError) -> ApiFailure {
        ApiFailure {
            op: Box::new(op),
            error,
        }
    }

    /// The documented error code, when the API answered in its documented shape.
    pub fn code(&self) -> Option<&str> {
        match &self.error {
            ApiError::Status {
                documented: true,
                code,
                ..
            } => code.as_deref(),
            _ => None,
        }
    }

    /// The common kind of the failure. The object is gone only when a documented 404
    /// `not_found` says so; any other 404 (an unknown route) is [`FailureKind::Other`].
    pub fn kind(&self) -> FailureKind {
        match &self.error {
            ApiError::Status { status, .. } => match status {
                404 if self.code() == Some("not_found") => FailureKind::NotFound,
                401 => FailureKind::Unauthorized,
                403 => FailureKind::Forbidden,
                409 => FailureKind::Conflict,
                422 => FailureKind::Validation,
                429 => FailureKind::RateLimited,
                500..=599 => FailureKind::Server,
                _ => FailureKind::Other,
            },
            ApiError::Transport { .. } => FailureKind::Transport,
            ApiError::Deadline { .. } => FailureKind::Deadline,
            ApiError::Decode { .. } => FailureKind::Decode,
            ApiError::InvalidInput { .. } => FailureKind::Validation,
            ApiError::Cancelled => FailureKind::Cancelled,
            ApiError::Other(_) => FailureKind::Other,
        }
    }

    /// The object is gone: only a documented 404 `not_found` says so.
    pub fn is_not_found(&self) -> bool {
        self.kind().is_not_found()
    }

    /// A tenant-database failure code (`database_auth_failed`, ...).
    pub fn tenant_code(&self) -> Option<&str> {
        self.code().filter(|c| TENANT_CODES.contains(c))
    }

    /// The request field the API named (`connectionString`), if any.
    pub fn field(&self) -> Option<&str> {
        match &self.error {
            ApiError::Status { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// The API's own words.
    pub fn detail(&self) -> String {
        match &self.error {
            ApiError::Status {
                status,
                detail,
                code,
                ..
            } => match (code, detail) {
                (Some(c), Some(d)) => format!("{d} ({c}, HTTP {status})"),
                (None, Some(d)) => format!("{d} (HTTP {status})"),
                (Some(c), None) => format!("{c} (HTTP {status})"),
                (None, None) => format!("HTTP {status}"),
            },
            ApiError::Transport {
                message,
                timed_out,
                retries,
                url,
            } => {
                let what = if *timed_out { "timed out" } else { "failed" };
                format!("the request to {url} {what} after {retries} retries: {message}")
            }
            ApiError::Deadline { url } => {
                format!("no answer from {url} before the operation's time limit")
            }
            ApiError::Decode { message } => {
                format!("the answer is not what the CloudSync API returns: {message}")
            }
            ApiError::InvalidInput { field, message } => format!("`{field}`: {message}"),
            ApiError::Cancelled => "the operation was cancelled".to_owned(),
            ApiError::Other(m) => m.clone(),
        }
    }

    /// Whether a create or update may have taken effect although it failed.
    pub fn outcome_unknown(&self) -> bool {
        match &self.error {
            ApiError::Status { status, .. } => *status >= 500 && *status != 501,
            ApiError::Transport { .. } | ApiError::Deadline { .. } | ApiError::Cancelled => true,
            _ => false,
        }
    }
}

/// For tests of the failure and its remedies.
#[cfg(test)]
impl ApiFailure {
    /// A read of database `db_1` answered `status` with `code` (in the documented shape or
    /// not).
    pub(crate) fn answered(code: &str, status: u16, documented: bool) -> ApiFailure {
        ApiFailure::new(
            Operation::on(&super::routes::GET_DATABASE, "db_1"),
            ApiError::Status {
                status,
                documented,
                code: Some(code.into()),
                detail: Some("d".into()),
                field: None,
                retries: 0,
                url: "u".into(),
            },
        )
    }
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Could not {}: {}.", self.op.describe(), self.detail())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_errors_array_is_read() {
        let f = CloudSyncEnvelope.parse(
            br#"{"errors":[{"status":"422","code":"database_auth_failed","title":"Unprocessable Entity","detail":"password authentication failed","source":{"pointer":"/connectionString"},"meta":{"retryable":false}}]}"#,
        );
        assert!(f.documented);
        assert_eq!(f.code.as_deref(), Some("database_auth_failed"));
        assert_eq!(f.message.as_deref(), Some("password authentication failed"));
        assert_eq!(f.field.as_deref(), Some("connectionString"));
        assert_eq!(f.get("retryable"), Some("false"));
        assert!(!CloudSyncEnvelope.parse(b"<html>").documented);
        assert!(
            !CloudSyncEnvelope
                .parse(br#"{"error":{"code":"x"}}"#)
                .documented
        );
    }

    fn status(code: &str, status: u16, documented: bool) -> ApiFailure {
        ApiFailure::answered(code, status, documented)
    }

    #[test]
    fn only_a_documented_not_found_means_gone() {
        assert!(status("not_found", 404, true).is_not_found());
        assert!(!status("route_not_found", 404, true).is_not_found());
        assert!(!status("not_found", 404, false).is_not_found());
        assert_eq!(status("not_found", 404, false).kind(), FailureKind::Other);
        assert_eq!(status("taken", 409, true).kind(), FailureKind::Conflict);
        assert_eq!(status("busy", 503, false).kind(), FailureKind::Server);
    }
}
