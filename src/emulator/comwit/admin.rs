//! Comwit's admin routes under `/_emulator/` (projects, tokens, database inspection), next
//! to the core's (faults, stats). The `X-Emulator-Admin` check is done by the core's
//! connection layer before these handlers run.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::StoreCalls;
use super::AppState;
use crate::emulator::core::admin::parse_body;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/projects", post(create_project))
        .route("/_emulator/tokens", post(create_token))
        .route("/_emulator/databases", get(list_databases))
}

fn parse<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    parse_body(body).map_err(ApiError::from)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProject {
    name: String,
    #[serde(default)]
    project_id: Option<String>,
}

async fn create_project(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: NewProject = parse(body)?;
    StoreCalls::of(&state)
        .run(move |store| {
            let p = store.create_project(&req.name, req.project_id.as_deref())?;
            let body =
                json!({"project_id": p.project_id, "name": p.name, "created_at": p.created_at});
            Ok((StatusCode::CREATED, Json(body)).into_response())
        })
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewToken {
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    projects: Vec<String>,
}

async fn create_token(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: NewToken = parse(body)?;
    StoreCalls::of(&state)
        .run(move |store| {
            let token = store.create_user_token(&req.scopes, &req.projects)?;
            Ok((StatusCode::CREATED, Json(json!({ "token": token }))).into_response())
        })
        .await
}

async fn list_databases(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    StoreCalls::of(&state)
        .run(move |store| {
            let databases: Vec<Value> = store
                .inspect_databases()?
                .into_iter()
                .map(|i| {
                    let db = i.database;
                    json!({
                        "database_id": db.database_id,
                        "project_id": db.project_id,
                        "name": db.name,
                        "group": db.group,
                        "size_limit_mb": db.size_limit_mb,
                        "status": db.status,
                        "deleted": db.deleted_at.is_some(),
                        "deleted_at": db.deleted_at,
                        "created_at": db.created_at,
                        "updated_at": db.updated_at,
                        "file_path": i.file_path.to_string_lossy(),
                        "file_exists": i.file_exists,
                        "token_hash": db.token_hash,
                        "token_rotated_at": db.token_rotated_at,
                        "query_token_hashes": i.query_token_hashes,
                        "rows_read": db.rows_read,
                        "rows_written": db.rows_written,
                        "queries": db.queries,
                    })
                })
                .collect();
            Ok(Json(json!({ "databases": databases })))
        })
        .await
}
