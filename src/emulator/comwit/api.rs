//! The public Comwit product API (`/v1/...`), as `docs/api/comwit.md` defines it.
//!
//! Order of checks for every route: bearer token (401), scope (403 `forbidden`), the
//! project or database exists and the token is a member of its project (404 `not_found`
//! either way, the same body: a foreign id answers as an unknown one), the
//! protected-tenant guard for the five guarded operations (403 `protected_tenant`), then the
//! body (400 / 422) and the state (409).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::extract::{
    authenticate, authorize_project, check, idempotency_header, idempotency_key_of, opt_int,
    opt_string, JsonObject, Segment, StoreCalls, UserToken,
};
use super::store::{self, Database, NewDatabase, Principal, Store};
use super::validate;
use super::{AppState, Databases};
use crate::emulator::core::clock;

/// The `/v1` routes (the core adds the 404 and 405 fallbacks in the contract's shape).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/projects", get(list_projects))
        .route("/v1/projects/{project}", get(get_project))
        .route(
            "/v1/projects/{project}/databases",
            get(list_databases).post(create_database),
        )
        .route(
            "/v1/databases/{database}",
            get(get_database).delete(delete_database),
        )
        .route("/v1/databases/{database}/token/rotate", post(rotate_token))
        .route(
            "/v1/databases/{database}/query-token",
            post(issue_query_token),
        )
        .route("/v1/databases/{database}/suspend", post(suspend))
        .route("/v1/databases/{database}/resume", post(resume))
        .route("/v1/databases/{database}/usage", get(usage))
}

// ---- helpers ------------------------------------------------------------------------------

/// Authenticates, checks the scope, that the database is live and the token is a member
/// of its project.
fn authorize_database(
    store: &Store,
    raw: &str,
    scope: &str,
    database_id: &str,
) -> Result<(Principal, Database), ApiError> {
    let principal = authenticate(store, raw, scope)?;
    let unknown = || ApiError::not_found(format!("database {database_id} not found"));
    let database = store.get_database(database_id)?.ok_or_else(unknown)?;
    // A database of a project the token is not a member of answers exactly as an unknown
    // one (same status, code and message), so ids and their projects do not leak. [assumed]
    if !principal.is_member(&database.project_id) {
        return Err(unknown());
    }
    Ok((principal, database))
}

fn guard_protected(state: &Databases, database: &Database) -> Result<(), ApiError> {
    let protected = state
        .protected_tenants
        .iter()
        .any(|t| *t == database.name || *t == database.database_id);
    if protected {
        return Err(ApiError::protected_tenant(&database.database_id));
    }
    Ok(())
}

pub(super) fn project_json(p: &store::Project) -> Value {
    json!({"project_id": p.project_id, "name": p.name, "created_at": p.created_at})
}

/// The Database object. `generation` and `frame_numbers` follow the real WAL of its file.
fn database_json(state: &Databases, _store: &Store, db: &Database) -> Value {
    let wal = state.sql.wal_status(&db.database_id, db.generation);
    json!({
        "database_id": db.database_id,
        "project_id": db.project_id,
        "name": db.name,
        "group": db.group,
        "size_limit_mb": db.size_limit_mb,
        "database_url": format!("{}/db/{}/", state.public_base, db.database_id),
        "status": db.status,
        "created_at": db.created_at,
        "updated_at": db.updated_at,
        "runner": super::RUNNER,
        "generation": wal.generation,
        "frame_numbers": {"current": wal.current, "durable": wal.durable},
    })
}

// ---- projects ------------------------------------------------------------------------------

async fn list_projects(
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            let principal = authenticate(store, &raw, "project:read")?;
            let projects: Vec<Value> = store
                .list_projects(&principal)?
                .iter()
                .map(project_json)
                .collect();
            Ok(Json(json!({ "projects": projects })))
        })
        .await
}

async fn get_project(
    Segment(project_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            let (_, project) = authorize_project(store, &raw, "project:read", &project_id)?;
            Ok(Json(project_json(&project)))
        })
        .await
}

// ---- databases in a project ---------------------------------------------------------------

async fn list_databases(
    State(state): State<Databases>,
    Segment(project_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    let st = state.clone();
    store
        .run(move |store| {
            authorize_project(store, &raw, "database:read", &project_id)?;
            let databases: Vec<Value> = store
                .list_databases(&project_id)?
                .iter()
                .map(|db| database_json(&st, store, db))
                .collect();
            Ok(Json(json!({ "databases": databases })))
        })
        .await
}

fn parse_new_database(obj: &Map<String, Value>) -> Result<NewDatabase, ApiError> {
    let name =
        opt_string(obj, "name")?.ok_or_else(|| ApiError::validation("name", "name is required"))?;
    check("name", validate::database_name(&name))?;
    let group = opt_string(obj, "group")?.unwrap_or_else(|| validate::GROUP_DEFAULT.to_owned());
    check("group", validate::group(&group))?;
    let size_limit_mb = opt_int(obj, "size_limit_mb")?.unwrap_or(validate::SIZE_LIMIT_DEFAULT);
    check("size_limit_mb", validate::size_limit_mb(size_limit_mb))?;
    Ok(NewDatabase {
        name,
        group,
        size_limit_mb,
    })
}

async fn create_database(
    State(state): State<Databases>,
    Segment(project_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
    headers: HeaderMap,
    body: JsonObject,
) -> Result<Response, ApiError> {
    // `Some(Err(()))`: the header is present but not text.
    let idempotency_key = idempotency_header(&headers);
    let st = state.clone();
    store
        .run(move |store| {
            let (principal, _) = authorize_project(store, &raw, "database:write", &project_id)?;
            let obj = body.get()?;
            let new = parse_new_database(&obj)?;
            let key = idempotency_key_of(idempotency_key)?;
            let idem = key.as_deref().map(|k| (principal.token_hash.as_str(), k));
            let outcome = store.create_database(&project_id, &new, idem)?;
            let status = if outcome.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            tracing::info!(
                database_id = %outcome.database.database_id,
                project_id = %project_id,
                replayed = outcome.replayed,
                "database created"
            );
            let body = json!({
                "database": database_json(&st, store, &outcome.database),
                "database_token": outcome.database_token,
            });
            Ok((status, Json(body)).into_response())
        })
        .await
}

// ---- one database --------------------------------------------------------------------------

async fn get_database(
    State(state): State<Databases>,
    Segment(database_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    let st = state.clone();
    store
        .run(move |store| {
            let (_, db) = authorize_database(store, &raw, "database:read", &database_id)?;
            Ok(Json(database_json(&st, store, &db)))
        })
        .await
}

async fn delete_database(
    State(state): State<Databases>,
    Segment(database_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<StatusCode, ApiError> {
    let st = state.clone();
    store
        .run(move |store| {
            let (_, db) = authorize_database(store, &raw, "database:write", &database_id)?;
            guard_protected(&st, &db)?;
            store.delete_database(&database_id)?;
            tracing::info!(%database_id, "database deleted");
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

async fn rotate_token(
    State(state): State<Databases>,
    Segment(database_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    let st = state.clone();
    store
        .run(move |store| {
            let (_, db) = authorize_database(store, &raw, "database:write", &database_id)?;
            guard_protected(&st, &db)?;
            let (token, rotated_at) = store.rotate_token(&database_id)?;
            Ok(Json(json!({
                "database_id": database_id,
                "database_token": token,
                "rotated_at": rotated_at,
            })))
        })
        .await
}

async fn issue_query_token(
    State(state): State<Databases>,
    Segment(database_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let st = state.clone();
    store
        .run(move |store| {
            let (_, db) = authorize_database(store, &raw, "database:write", &database_id)?;
            guard_protected(&st, &db)?;
            let obj = body.get()?;
            let ttl = opt_int(&obj, "ttl_seconds")?
                .ok_or_else(|| ApiError::validation("ttl_seconds", "ttl_seconds is required"))?;
            check("ttl_seconds", validate::ttl_seconds(ttl))?;
            let audience =
                opt_string(&obj, "audience")?.unwrap_or_else(|| validate::AUDIENCE_DEFAULT.into());
            check("audience", validate::audience(&audience))?;
            let reason = opt_string(&obj, "reason")?;
            if let Some(reason) = &reason {
                check("reason", validate::reason(reason))?;
            }
            let issued =
                store.issue_query_token(&database_id, ttl, &audience, reason.as_deref())?;
            let body = json!({
                "token_id": issued.token_id,
                "query_token": issued.query_token,
                "database_id": issued.database_id,
                "audience": issued.audience,
                "reason": issued.reason,
                "ttl_seconds": issued.ttl_seconds,
                "expires_at": issued.expires_at,
            });
            Ok((StatusCode::CREATED, Json(body)).into_response())
        })
        .await
}

async fn transition(
    state: Databases,
    database_id: String,
    raw: String,
    store: StoreCalls,
    from: &'static str,
    to: &'static str,
) -> Result<Json<Value>, ApiError> {
    let st = state.clone();
    store
        .run(move |store| {
            let (_, db) = authorize_database(store, &raw, "database:write", &database_id)?;
            guard_protected(&st, &db)?;
            let db = store.transition(&database_id, from, to)?;
            tracing::info!(%database_id, status = to, "database status changed");
            Ok(Json(database_json(&st, store, &db)))
        })
        .await
}

async fn suspend(
    State(state): State<Databases>,
    Segment(database_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    transition(state, database_id, raw, store, "active", "suspended").await
}

async fn resume(
    State(state): State<Databases>,
    Segment(database_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    transition(state, database_id, raw, store, "suspended", "active").await
}

async fn usage(
    Segment(database_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            authorize_database(store, &raw, "database:read", &database_id)?;
            let usage = store.usage(&database_id)?;
            let (period_start, period_end) = clock::month_period(store.now());
            Ok(Json(json!({
                "database_id": database_id,
                "rows_read": usage.rows_read,
                "rows_written": usage.rows_written,
                "storage_bytes": usage.storage_bytes,
                "queries": usage.queries,
                "period_start": period_start,
                "period_end": period_end,
            })))
        })
        .await
}
