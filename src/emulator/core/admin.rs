//! The core's admin routes under `/_emulator/`, the same on every platform: fault rules,
//! request stats, and the state routes (`state_admin`: export, reset, import). The `X-Emulator-Admin` check is done by the connection layer
//! (`server.rs`) before any admin handler runs; admin routes are never subject to faults
//! and are not counted in the stats.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::faults::FaultRules;
use super::platform::CoreError;
use super::ratelimit::RateLimitConfig;
use super::server::CoreState;

/// Name of the header carrying the admin secret.
pub const ADMIN_HEADER: &str = "x-emulator-admin";

pub fn routes(core: CoreState) -> Router {
    Router::new()
        .route(
            "/_emulator/faults",
            get(get_faults).put(put_faults).delete(clear_faults),
        )
        .route(
            "/_emulator/rate_limit",
            get(get_rate_limit)
                .put(put_rate_limit)
                .delete(clear_rate_limit),
        )
        .route("/_emulator/stats", get(get_stats))
        .route("/_emulator/stats/reset", post(reset_stats))
        .with_state(core.clone())
        .merge(super::state_admin::routes(core))
}

/// An admin JSON body: empty counts as `{}`; not JSON is 400; a bad field is 422.
pub fn parse_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, CoreError> {
    let body = body.map_err(|e| CoreError::BadRequest(format!("cannot read body: {e}")))?;
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| CoreError::BadRequest(format!("malformed JSON body: {e}")))?
    };
    serde_json::from_value(value).map_err(|e| CoreError::Validation {
        field: "body".into(),
        message: e.to_string(),
    })
}

async fn get_faults(State(core): State<CoreState>) -> Json<Value> {
    Json(json!({ "rules": core.faults.snapshot() }))
}

async fn put_faults(
    State(core): State<CoreState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let rules: FaultRules = match parse_body(body) {
        Ok(rules) => rules,
        Err(e) => return core.error(e),
    };
    if let Err((field, message)) = core.faults.replace(rules.rules) {
        return core.error(CoreError::Validation { field, message });
    }
    Json(json!({ "rules": core.faults.snapshot() })).into_response()
}

async fn clear_faults(State(core): State<CoreState>) -> StatusCode {
    core.faults.clear();
    StatusCode::NO_CONTENT
}

async fn get_stats(State(core): State<CoreState>) -> Json<Value> {
    let mut snapshot = core.stats.snapshot();
    snapshot["rate_limited"] = json!(core.faults.rate_limit.limited());
    Json(snapshot)
}

fn rate_limit_answer(core: &CoreState) -> Json<Value> {
    Json(json!({ "rate_limit": core.faults.rate_limit.config() }))
}

async fn get_rate_limit(State(core): State<CoreState>) -> Json<Value> {
    rate_limit_answer(&core)
}

/// Sets the per-credential limit; every bucket starts full and the refused count restarts.
async fn put_rate_limit(
    State(core): State<CoreState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let config: RateLimitConfig = match parse_body(body) {
        Ok(config) => config,
        Err(e) => return core.error(e),
    };
    if let Err((field, message)) = core.faults.rate_limit.set(Some(config)) {
        return core.error(CoreError::Validation {
            field: field.into(),
            message,
        });
    }
    rate_limit_answer(&core).into_response()
}

async fn clear_rate_limit(State(core): State<CoreState>) -> StatusCode {
    let _ = core.faults.rate_limit.set(None);
    StatusCode::NO_CONTENT
}

async fn reset_stats(State(core): State<CoreState>) -> Json<Value> {
    core.stats.reset();
    Json(core.stats.snapshot())
}
