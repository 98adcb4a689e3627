//! CloudSync's error bodies ([`CloudSyncEnvelope`]: the seed's `errors` array) and the
//! client's failure ([`ApiFailure`], the one [`crate::client::ApiFailure`] over CloudSync's
//! [`Operation`]: what failed, on what, and why, in CloudSync's words).

use crate::client::{route::fill, ErrorEnvelope, ErrorFields, FailureKind};

use crate::client::{Called, Route};

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

impl Called for Operation {
    fn route(&self) -> &'static Route {
        self.route
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

/// A failed call with its operation: the one failure type of every platform, with no
/// detail of CloudSync's own (its tenant-database codes are the error `code`).
pub type ApiFailure = crate::client::ApiFailure<Operation>;

/// The tenant-database failure codes (seed 002).
pub const TENANT_CODES: [&str; 6] = [
    "database_paused",
    "database_auth_failed",
    "database_unreachable",
    "database_permission_denied",
    "database_cloudsync_not_ready",
    "database_error",
];

/// The common kind of an answer of CloudSync's. The object is gone only when a documented
/// 404 `not_found` says so; any other 404 (an unknown route) is [`FailureKind::Other`].
pub fn kind_of(status: u16, fields: &ErrorFields) -> FailureKind {
    let documented_code = fields.code.as_deref().filter(|_| fields.documented);
    match status {
        404 if documented_code == Some("not_found") => FailureKind::NotFound,
        401 => FailureKind::Unauthorized,
        403 => FailureKind::Forbidden,
        409 => FailureKind::Conflict,
        422 => FailureKind::Validation,
        429 => FailureKind::RateLimited,
        500..=599 => FailureKind::Server,
        _ => FailureKind::Other,
    }
}

/// CloudSync's questions of a failure, beyond the common predicates, and its words.
impl ApiFailure {
    /// A tenant-database failure code (`database_auth_failed`, ...).
    pub fn tenant_code(&self) -> Option<&str> {
        self.code().filter(|c| TENANT_CODES.contains(c))
    }

    /// The API's own words.
    pub fn detail(&self) -> String {
        if let Some(status) = self.status {
            let detail = Some(self.message.as_str()).filter(|m| !m.is_empty());
            return match (self.code(), detail) {
                (Some(c), Some(d)) => format!("{d} ({c}, HTTP {status})"),
                (None, Some(d)) => format!("{d} (HTTP {status})"),
                (Some(c), None) => format!("{c} (HTTP {status})"),
                (None, None) => format!("HTTP {status}"),
            };
        }
        // The URL asked is the remedy's to name (the kit's, the same on every platform).
        if let Some(limit) = self.too_large {
            return format!("the answer was larger than {limit} bytes");
        }
        match self.kind {
            FailureKind::Transport => {
                let what = if self.timed_out {
                    "timed out"
                } else {
                    "failed"
                };
                format!(
                    "the request {what} after {} retries: {}",
                    self.retries(),
                    self.message
                )
            }
            FailureKind::Deadline => "no answer before the operation's time limit".to_owned(),
            FailureKind::Decode => format!(
                "the answer is not what the CloudSync API returns: {}",
                self.message
            ),
            FailureKind::Validation => {
                format!("`{}`: {}", self.field().unwrap_or_default(), self.message)
            }
            FailureKind::Cancelled => "the operation was cancelled".to_owned(),
            _ => self.message.clone(),
        }
    }
}

/// For tests of the failure and its remedies.
#[cfg(test)]
impl ApiFailure {
    /// A read of database `db_1` answered `status` with `code` (in the documented shape or
    /// not).
    pub(crate) fn answered(code: &str, status: u16, documented: bool) -> ApiFailure {
        let fields = ErrorFields {
            json: true,
            documented,
            code: Some(code.into()),
            message: Some("d".into()),
            ..ErrorFields::default()
        };
        ApiFailure::from_failure(
            Operation::on(&super::routes::GET_DATABASE, "db_1"),
            crate::client::Failure::Status {
                status,
                retry_after: None,
                fields: Box::new(fields),
                body_len: 1,
                retries: 0,
                url: "u".into(),
            },
            kind_of,
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
