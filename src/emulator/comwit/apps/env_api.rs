//! The `/v1` routes of an app's environment variables: list (by key), put, delete. A
//! sensitive value is write-only: no answer carries it, no log line names it.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};

use super::super::error::ApiError;
use super::super::extract::{bearer, blocking, check, json_object, path_segment};
use super::super::validate;
use super::super::AppState;
use super::api::{authorize_app, opt_bool};
use super::json;

fn app_and_key(
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<(String, String), ApiError> {
    path.map(|Path(p)| p)
        .map_err(|_| ApiError::not_found("no such resource"))
}

pub(super) async fn list_env(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let app_id = path_segment(path)?;
    let raw = bearer(&headers)?;
    blocking(&state, move |store| {
        authorize_app(store, &raw, "app:read", &app_id)?;
        let env: Vec<Value> = store.list_env(&app_id)?.iter().map(json::env_var).collect();
        Ok(Json(json!({ "env": env })))
    })
    .await
}

pub(super) async fn put_env(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let (app_id, key) = app_and_key(path)?;
    let raw = bearer(&headers)?;
    blocking(&state, move |store| {
        authorize_app(store, &raw, "app:write", &app_id)?;
        check("key", validate::env_key(&key))?;
        let obj = json_object(body)?;
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
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let (app_id, key) = app_and_key(path)?;
    let raw = bearer(&headers)?;
    blocking(&state, move |store| {
        authorize_app(store, &raw, "app:write", &app_id)?;
        store.delete_env(&app_id, &key)?;
        tracing::info!(%app_id, %key, "env variable deleted");
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
