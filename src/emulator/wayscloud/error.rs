//! WaysCloud's error shape (`docs/api/wayscloud.md`, "Error shape"): a JSON object with
//! FastAPI's `detail` message, a machine `code` and extra fields.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::emulator::core::CoreError;

/// An API error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub extra: Map<String, Value>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            detail: detail.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", detail)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Invalid or missing API key (X-API-Key header)",
        )
    }

    pub fn forbidden(permission: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("API key lacks permission {permission}"),
        )
        .with("permission", permission)
    }

    pub fn quota_exceeded(used: i64, limit: i64) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "quota_exceeded",
            format!(
                "Database quota exceeded: {used} of {limit} databases in use. Delete a database or ask support to raise the limit"
            ),
        )
        .with("used", used.to_string())
        .with("limit", limit.to_string())
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", detail)
    }

    pub fn validation(field: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_error", detail).with("field", field)
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }

    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("detail".into(), Value::from(self.detail.clone()));
        body.insert("code".into(), Value::from(self.code));
        for (k, v) in &self.extra {
            body.insert(k.clone(), v.clone());
        }
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(err: rusqlite::Error) -> Self {
        ApiError::internal(err)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        ApiError::internal(format!("{err:#}"))
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
            CoreError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "Not Found")
            }
            CoreError::MethodNotAllowed => ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method Not Allowed",
            ),
            CoreError::RateLimited { retry_after } => {
                let mut e = ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    "Too many requests",
                );
                e.retry_after = Some(retry_after);
                e
            }
            CoreError::Injected {
                status,
                retry_after,
            } => {
                let code = if status == StatusCode::INTERNAL_SERVER_ERROR {
                    "internal"
                } else {
                    "unavailable"
                };
                let mut e = ApiError::new(status, code, "injected fault");
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

/// A store call on the blocking pool that panicked or was cancelled: an internal error.
impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        ApiError::internal(err)
    }
}
