//! The contract's error shape: `{"error": {"code", "message", ...extra}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::emulator::core::CoreError;

/// An API error answer. Every non-2xx answer of the emulator is built from one.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub extra: Map<String, Value>,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            extra: Map::new(),
            retry_after: None,
        }
    }

    /// Adds an extra field to the error object.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing, malformed or unknown bearer token",
        )
    }

    pub fn forbidden_scope(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("token lacks scope {scope}"),
        )
        .with("required_scope", scope)
    }

    pub fn protected_tenant(database: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "protected_tenant",
            format!("database {database} is a protected tenant (PLATFORM_API_PROTECTED_TENANTS)"),
        )
        .with("database", database)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
        .with("field", field)
    }

    /// 413 `payload_too_large`.
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }

    /// 422 `digest_mismatch` naming `field`.
    pub fn digest_mismatch(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "digest_mismatch", message).with("field", field)
    }

    /// 422 `invalid_archive`.
    pub fn invalid_archive(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_archive", message)
    }

    /// 409 `build_not_ready`.
    pub fn build_not_ready(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "build_not_ready", message)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut err = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests",
        );
        err.retry_after = Some(retry_after);
        err
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "method not allowed on this route",
        )
    }

    /// A 5xx answer: `internal` for 500, `unavailable` otherwise.
    pub fn server(status: StatusCode, message: impl Into<String>) -> Self {
        let code = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "internal"
        } else {
            "unavailable"
        };
        Self::new(status, code, message)
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "internal error");
        Self::server(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }

    /// The JSON body of this error.
    pub fn body(&self) -> Value {
        let mut inner = Map::new();
        inner.insert("code".into(), Value::from(self.code));
        inner.insert("message".into(), Value::from(self.message.clone()));
        for (k, v) in &self.extra {
            inner.insert(k.clone(), v.clone());
        }
        let mut outer = Map::new();
        outer.insert("error".into(), Value::Object(inner));
        Value::Object(outer)
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

/// A store call's task that panicked or was cancelled (`core::blocking`): a 500.
impl From<tokio::task::JoinError> for ApiError {
    fn from(err: tokio::task::JoinError) -> Self {
        ApiError::internal(err)
    }
}

impl From<crate::emulator::comwit::store::StoreError> for ApiError {
    fn from(err: crate::emulator::comwit::store::StoreError) -> Self {
        use crate::emulator::comwit::store::StoreError;
        match err {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(msg) => ApiError::conflict(msg),
            StoreError::Validation { field, message } => ApiError::validation(field, message),
            StoreError::Internal(e) => ApiError::internal(e),
        }
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
            // Not `not_found`: that code says an object is gone, and a client pointed at a
            // wrong path prefix must not read every route as a deleted object.
            CoreError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "route_not_found", "no such route")
            }
            CoreError::MethodNotAllowed => ApiError::method_not_allowed(),
            CoreError::RateLimited { retry_after } => ApiError::rate_limited(retry_after),
            CoreError::Injected {
                status,
                retry_after,
            } => {
                let mut err = ApiError::server(status, "injected fault");
                err.retry_after = retry_after;
                err
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
