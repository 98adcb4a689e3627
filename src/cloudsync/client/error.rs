//! CloudSync's error bodies ([`CloudSyncEnvelope`]: the seed's `errors` array) and the
//! client's error ([`ApiFailure`]: what failed, on what, why, and what to do about it).

use crate::client::{route::fill, ErrorEnvelope, ErrorFields, Failure, FailureKind};

use super::routes;
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
            ApiError::Cancelled => "Terraform asked the provider to stop".to_owned(),
            ApiError::Other(m) => m.clone(),
        }
    }

    /// What to do about it.
    pub fn remedy(&self) -> String {
        if let Some(code) = self.tenant_code() {
            return tenant_remedy(code).to_owned();
        }
        match (&self.error, self.code()) {
            (_, Some("unauthorized")) => "CloudSync refused the API key. Set `api_key` (or \
                CLOUDSYNC_API_KEY) to a management API key from the dashboard's CloudSync > \
                API Keys page."
                .to_owned(),
            (_, Some("forbidden")) => "The API key lacks the `workspace-admin` role: create a \
                management key with that role (CloudSync > API Keys)."
                .to_owned(),
            (_, Some("not_found")) => {
                let missing = fill(self.op.route.missing, |n| self.op.value(n));
                match self.op.route {
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
                            "{missing} no longer exists: it was deleted outside Terraform. Apply \
                         again (the next refresh notices it is gone), or remove it from state \
                         with `terraform state rm <address>` if Terraform should no longer \
                         manage it."
                        )
                    }
                    // An id the user gave: `terraform import`, a data source, or
                    // `database_id` in the configuration.
                    _ => format!(
                        "{missing} is not found: check the id given in the configuration \
                         (`database_id`) or to `terraform import` (a typo, or a database of \
                         another workspace than the API key's)."
                    ),
                }
            }
            (_, Some("table_not_found")) => "Create the table in the tenant database first \
                (CloudSync syncs existing tables), or fix the table name."
                .to_owned(),
            (_, Some("validation_failed")) => {
                "Fix the value the API named and apply again.".to_owned()
            }
            (ApiError::Status { status: 404, .. }, _) => "The API at `api_url` has no such \
                route: check `api_url` (or CLOUDSYNC_API_URL); the default is \
                https://cloudsync.sqlite.ai."
                .to_owned(),
            (ApiError::Status { status: 429, .. }, _)
            | (
                ApiError::Status {
                    status: 500..=599, ..
                },
                _,
            ) => "The CloudSync API is busy or \
                unavailable. Apply again later; `max_retries` and `request_timeout_seconds` \
                in the provider block control how long the provider keeps trying."
                .to_owned(),
            (
                ApiError::Status {
                    documented: false, ..
                },
                _,
            ) => "The answer does not come from \
                the CloudSync API: check `api_url` (or CLOUDSYNC_API_URL)."
                .to_owned(),
            (ApiError::Transport { .. } | ApiError::Deadline { .. }, _) => "Check `api_url` \
                (or CLOUDSYNC_API_URL) and the network; raise `request_timeout_seconds` for a \
                slow API."
                .to_owned(),
            _ => String::new(),
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

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Could not {}: {}.", self.op.describe(), self.detail())?;
        let remedy = self.remedy();
        if !remedy.is_empty() {
            write!(f, " {remedy}")?;
        }
        Ok(())
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
        ApiFailure::new(
            Operation::on(&routes::GET_DATABASE, "db_1"),
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

    #[test]
    fn only_a_documented_not_found_means_gone() {
        assert!(status("not_found", 404, true).is_not_found());
        assert!(!status("route_not_found", 404, true).is_not_found());
        assert!(!status("not_found", 404, false).is_not_found());
        assert_eq!(status("not_found", 404, false).kind(), FailureKind::Other);
        assert_eq!(status("taken", 409, true).kind(), FailureKind::Conflict);
        assert_eq!(status("busy", 503, false).kind(), FailureKind::Server);
        assert!(status("route_not_found", 404, true)
            .remedy()
            .contains("api_url"));
    }

    #[test]
    fn a_404_blames_deletion_only_for_objects_from_state() {
        let not_found = |route: &'static Route| {
            ApiFailure::new(
                Operation::on(route, "db_typo"),
                ApiError::Status {
                    status: 404,
                    documented: true,
                    code: Some("not_found".into()),
                    detail: Some("Database not found".into()),
                    field: None,
                    retries: 0,
                    url: "u".into(),
                },
            )
            .remedy()
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
        assert!(text.contains("terraform state rm"), "{text}");
    }

    #[test]
    fn every_tenant_code_says_what_to_fix() {
        for code in TENANT_CODES {
            let f = status(code, 422, true);
            assert_eq!(f.tenant_code(), Some(code));
            assert!(
                f.to_string().contains("connection_string")
                    || code == "database_cloudsync_not_ready"
                    || code == "database_permission_denied"
                    || code == "database_paused"
            );
        }
        assert!(status("database_cloudsync_not_ready", 422, true)
            .to_string()
            .contains("primary key"));
    }
}
