//! The `/v1` routes of apps and artifacts, and the router of every app route (builds and
//! env are in their own files). Order of checks as for databases: bearer (401), scope (403
//! `forbidden`), the project or app exists and the token is a member of its project (404
//! `not_found`, the same body for a foreign one), the body (400 / 413 / 422), the state
//! (409).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::super::error::ApiError;
use super::super::extract::{
    authenticate, authorize_project, check, idempotency_header, idempotency_key_of, opt_string,
    JsonObject, Segment, StoreCalls, TwoSegments, UserToken,
};
use super::super::store::{App, Principal, Store};
use super::super::validate;
use super::super::AppState;
use super::archive::{self, MAX_ARCHIVE_BYTES};
use super::{builds_api, env_api, json, Apps};
use std::sync::Arc;

/// Every app route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/projects/{project}/apps",
            get(list_apps).post(create_app),
        )
        .route("/v1/apps/{app}", get(get_app).delete(delete_app))
        .route(
            "/v1/projects/{project}/artifacts/{sha256}",
            head(head_artifact).put(put_artifact),
        )
        .route(
            "/v1/apps/{app}/builds",
            get(builds_api::list_builds).post(builds_api::create_build),
        )
        .route("/v1/apps/{app}/builds/{build}", get(builds_api::get_build))
        .route(
            "/v1/apps/{app}/builds/{build}/log",
            get(builds_api::build_log),
        )
        .route("/v1/apps/{app}/rollback", post(builds_api::rollback))
        .route("/v1/apps/{app}/env", get(env_api::list_env))
        .route(
            "/v1/apps/{app}/env/{key}",
            put(env_api::put_env).delete(env_api::delete_env),
        )
}

/// Authenticates, checks the scope, that the app is live and the token is a member of its
/// project (a foreign app answers as an unknown one).
pub(super) fn authorize_app(
    store: &Store,
    raw: &str,
    scope: &str,
    app_id: &str,
) -> Result<(Principal, App), ApiError> {
    let principal = authenticate(store, raw, scope)?;
    let unknown = || ApiError::not_found(format!("app {app_id} not found"));
    let app = store.get_app(app_id)?.ok_or_else(unknown)?;
    if !principal.is_member(&app.project_id) {
        return Err(unknown());
    }
    Ok((principal, app))
}

/// A boolean field (`null` = absent).
pub(super) fn opt_bool(obj: &Map<String, Value>, field: &str) -> Result<Option<bool>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be a boolean"),
        )),
    }
}

// ---- apps -----------------------------------------------------------------------------------

async fn list_apps(
    State(apps): State<Arc<Apps>>,
    Segment(project_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            authorize_project(store, &raw, "app:read", &project_id)?;
            let list: Vec<Value> = store
                .list_apps(&project_id)?
                .iter()
                .map(|a| json::app(&apps, a))
                .collect();
            Ok(Json(json!({ "apps": list })))
        })
        .await
}

async fn create_app(
    State(apps): State<Arc<Apps>>,
    Segment(project_id): Segment,
    UserToken(raw): UserToken,
    headers: HeaderMap,
    store: StoreCalls,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let idempotency = idempotency_header(&headers);
    store
        .run(move |store| {
            let (principal, _) = authorize_project(store, &raw, "app:write", &project_id)?;
            let obj = body.get()?;
            let name = opt_string(&obj, "name")?
                .ok_or_else(|| ApiError::validation("name", "name is required"))?;
            check("name", validate::app_name(&name))?;
            let key = idempotency_key_of(idempotency)?;
            let idem = key.as_deref().map(|k| (principal.token_hash.as_str(), k));
            let outcome = store.create_app(&project_id, &name, idem)?;
            tracing::info!(
                app_id = %outcome.app.app_id,
                %project_id,
                replayed = outcome.replayed,
                "app created"
            );
            let status = if outcome.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok((status, Json(json::app(&apps, &outcome.app))).into_response())
        })
        .await
}

async fn get_app(
    State(apps): State<Arc<Apps>>,
    Segment(app_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            let (_, app) = authorize_app(store, &raw, "app:read", &app_id)?;
            Ok(Json(json::app(&apps, &app)))
        })
        .await
}

async fn delete_app(
    State(apps): State<Arc<Apps>>,
    Segment(app_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<StatusCode, ApiError> {
    let id = app_id.clone();
    store
        .run(move |store| authorize_app(store, &raw, "app:write", &id).map(drop))
        .await?;
    apps.delete(&app_id).await?;
    tracing::info!(%app_id, "app deleted");
    Ok(StatusCode::NO_CONTENT)
}

// ---- artifacts ------------------------------------------------------------------------------

async fn head_artifact(
    TwoSegments(project_id, sha): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<StatusCode, ApiError> {
    store
        .run(move |store| {
            authorize_project(store, &raw, "app:deploy", &project_id)?;
            let held = validate::sha256(&sha).is_ok() && store.has_artifact(&project_id, &sha)?;
            if held {
                Ok(StatusCode::OK)
            } else {
                Err(ApiError::not_found(format!(
                    "project {project_id} holds no artifact {sha}"
                )))
            }
        })
        .await
}

async fn put_artifact(
    TwoSegments(project_id, sha): TwoSegments,
    UserToken(raw): UserToken,
    headers: HeaderMap,
    store: StoreCalls,
    body: Body,
) -> Result<Response, ApiError> {
    let (p, s) = (project_id.clone(), sha.clone());
    store
        .run(move |store| {
            authorize_project(store, &raw, "app:deploy", &p)?;
            check("sha256", validate::sha256(&s))
        })
        .await?;
    let too_large = || {
        ApiError::payload_too_large(format!(
            "an artifact is at most {MAX_ARCHIVE_BYTES} bytes (32 MiB)"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > MAX_ARCHIVE_BYTES as u64) {
        // Read (and drop) a body up to four times the limit before answering, as a web
        // server's lingering close does, so the client reads the 413 instead of a broken
        // pipe; a larger one is refused at once.
        if n <= 4 * MAX_ARCHIVE_BYTES as u64 {
            let mut chunks = body.into_data_stream();
            while let Some(Ok(_)) = futures::StreamExt::next(&mut chunks).await {}
        }
        return Err(too_large());
    }
    let bytes = match axum::body::to_bytes(body, MAX_ARCHIVE_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) if e.to_string().contains("length limit") => return Err(too_large()),
        Err(e) => return Err(ApiError::bad_request(format!("cannot read body: {e}"))),
    };
    let digest = hex::encode(Sha256::digest(&bytes));
    if digest != sha {
        return Err(ApiError::digest_mismatch(
            "sha256",
            format!("the body's SHA-256 is {digest}, not {sha}"),
        ));
    }
    let size = bytes.len();
    store
        .run(move |store| {
            archive::read(&bytes).map_err(|e| ApiError::invalid_archive(e.0))?;
            let created = store.put_artifact(&project_id, &sha, &bytes)?;
            tracing::info!(%project_id, sha256 = %sha, size, created, "artifact stored");
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, Json(json!({"sha256": sha, "size": size}))).into_response())
        })
        .await
}
