//! The `/v1` routes of an app's environment variables: list (by key), put, delete. A
//! sensitive value is write-only: no answer carries it, no log line names it.

use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::super::error::ApiError;
use super::super::extract::{check, JsonObject, Segment, StoreCalls, TwoSegments, UserToken};
use super::super::validate;
use super::api::{authorize_app, opt_bool};
use super::json;

pub(super) async fn list_env(
    Segment(app_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            authorize_app(store, &raw, "app:read", &app_id)?;
            let env: Vec<Value> = store.list_env(&app_id)?.iter().map(json::env_var).collect();
            Ok(Json(json!({ "env": env })))
        })
        .await
}

pub(super) async fn put_env(
    TwoSegments(app_id, key): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
    body: JsonObject,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            authorize_app(store, &raw, "app:write", &app_id)?;
            check("key", validate::env_key(&key))?;
            let obj = body.get()?;
            let value = match obj.get("value") {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => {
                    return Err(ApiError::validation("value", "value is required"))
                }
                Some(_) => return Err(ApiError::validation("value", "value must be a string")),
            };
            check("value", validate::env_value(&value))?;
            let sensitive = opt_bool(&obj, "sensitive")?.unwrap_or(false);
            let var = store.put_env(&app_id, &key, &value, sensitive)?;
            tracing::info!(%app_id, %key, sensitive, version = var.version, "env variable set");
            Ok(Json(json::env_var(&var)))
        })
        .await
}

pub(super) async fn delete_env(
    TwoSegments(app_id, key): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<StatusCode, ApiError> {
    store
        .run(move |store| {
            authorize_app(store, &raw, "app:write", &app_id)?;
            store.delete_env(&app_id, &key)?;
            tracing::info!(%app_id, %key, "env variable deleted");
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
