//! CloudSync's error shape (seed 002, documented): a top-level `errors` array whose members
//! carry `status` (the HTTP status as a string), `code`, `title` and `detail`. A member may
//! also carry `source.pointer` naming the request field (JSON:API style) [assumed], and a
//! `meta.retryable` flag on tenant-database failures [assumed].

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::emulator::core::CoreError;

/// One error answer of the CloudSync API.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// The request field the error is about (`/connectionString`).
    pub pointer: Option<String>,
    /// Whether repeating later may succeed (tenant failures).
    pub retryable: Option<bool>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            pointer: None,
            retryable: None,
            retry_after: None,
        }
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing, malformed or unknown management API key",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    /// 422 `validation_failed` about one field (`field` is the JSON name, e.g. `label`).
    pub fn validation(field: &str, detail: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            detail,
        );
        e.pointer = Some(format!("/{field}"));
        e
    }

    /// 422 `table_not_found`: a table the tenant database does not have.
    pub fn table_not_found(table: &str, known: &[String]) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "table_not_found",
            format!(
                "table {table:?} does not exist in the tenant database (tables: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        );
        e.pointer = Some("/tables".to_owned());
        e
    }

    /// A tenant-database failure (`database_auth_failed`, ...): 422, or 503 when retryable.
    pub fn tenant(code: &'static str, detail: impl Into<String>, retryable: bool) -> Self {
        let status = if retryable {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let mut e = Self::new(status, code, detail);
        e.retryable = Some(retryable);
        e
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error",
        )
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut member = json!({
            "status": self.status.as_u16().to_string(),
            "code": self.code,
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "detail": self.detail,
        });
        if let Some(pointer) = &self.pointer {
            member["source"] = json!({ "pointer": pointer });
        }
        if let Some(retryable) = self.retryable {
            member["meta"] = json!({ "retryable": retryable });
        }
        json!({ "errors": [member] })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<CoreError> for ApiError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::AdminUnauthorized => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or wrong X-Emulator-Admin header",
            ),
            // Not `not_found`: that code says an object is gone.
            CoreError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "no such route")
            }
            CoreError::MethodNotAllowed => ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "method not allowed on this route",
            ),
            CoreError::RateLimited { retry_after } => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "too many requests",
                );
                e.retry_after = Some(retry_after);
                e
            }
            CoreError::Injected {
                status,
                retry_after,
            } => {
                let mut e = ApiError::new(status, "unavailable", "injected fault");
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    e.code = "internal_error";
                }
                e.retry_after = retry_after;
                e
            }
            CoreError::BadRequest(message) => ApiError::bad_request(message),
            CoreError::Validation { field, message } => ApiError::validation(&field, message),
            CoreError::State {
                status,
                code,
                message,
            } => ApiError::new(status, code, message),
        }
    }
}

/// A store call's task that panicked or was cancelled (`core::blocking`): a 500.
impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        ApiError::internal(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_error_shape() {
        let body = ApiError::not_found("managed database not found").body();
        assert_eq!(
            body,
            json!({"errors": [{"status": "404", "code": "not_found", "title": "Not Found",
                               "detail": "managed database not found"}]})
        );
        let body = ApiError::tenant("database_unreachable", "x", true).body();
        assert_eq!(body["errors"][0]["status"], "503");
        assert_eq!(body["errors"][0]["meta"]["retryable"], true);
        let body = ApiError::validation("label", "required").body();
        assert_eq!(body["errors"][0]["source"]["pointer"], "/label");
    }
}
