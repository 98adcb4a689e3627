//! CloudSync's emulator-only routes under `/_emulator/cloudsync/` (behind the admin
//! secret, never part of the real API): SQLite Cloud nodes for `sqlitecloud://` strings,
//! more API keys, seeded devices and push pauses, and a raw view of the stored databases.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::StoreCalls;
use super::store::{Device, Node, Store};
use super::tenant;
use super::AppState;
use crate::emulator::core::admin::parse_body;
use crate::emulator::core::clock;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/_emulator/cloudsync/sqlitecloud/nodes/{host}",
            put(put_node),
        )
        .route("/_emulator/cloudsync/api-keys", post(create_key))
        .route("/_emulator/cloudsync/databases", get(list_databases))
        .route(
            "/_emulator/cloudsync/databases/{database}/devices",
            post(seed_devices),
        )
        .route(
            "/_emulator/cloudsync/databases/{database}/notifications/pause",
            put(set_pause),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeBody {
    apikey: String,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    paused: bool,
}

async fn put_node(
    State(state): State<AppState>,
    Path(host): Path<String>,
    calls: StoreCalls,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body: NodeBody = match parse_body(body) {
        Ok(b) => b,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if !tenant::valid_host(&host) {
        return ApiError::validation("host", "a lowercase host name").into_response();
    }
    if body.apikey.is_empty() {
        return ApiError::validation("apikey", "apikey is required").into_response();
    }
    let dir = tenant::node_dir(&state.root, &host);
    if let Err(e) = crate::emulator::core::files::private_dir(&dir) {
        return ApiError::internal(e).into_response();
    }
    let node = Node {
        host: host.clone(),
        apikey: body.apikey,
        read_only: body.read_only,
        paused: body.paused,
    };
    match calls.run(move |s| Ok(s.put_node(&node)?)).await {
        Ok(()) => Json(json!({ "host": host, "dir": dir })).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyBody {
    workspace: String,
    role: String,
}

async fn create_key(calls: StoreCalls, body: Result<Bytes, BytesRejection>) -> Response {
    let body: KeyBody = match parse_body(body) {
        Ok(b) => b,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let workspace = body.workspace.clone();
    match calls
        .run(move |s| Ok(s.create_key(&body.workspace, &body.role)?))
        .await
    {
        Ok(key) => Json(json!({ "key": key, "workspaceId": workspace })).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Every stored database with its connection string and JWT secret (what the API never
/// shows), so tests can check what the provider sent.
async fn list_databases(calls: StoreCalls) -> Response {
    match calls.run(|s| Ok(s.list_databases(None)?)).await {
        Ok(dbs) => Json(json!({
            "databases": dbs.iter().map(|d| {
                let mut v = d.public();
                v["connectionString"] = Value::from(d.connection_string.clone());
                v["jwtSecret"] = json!(d.jwt_secret);
                v
            }).collect::<Vec<_>>()
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SeedDevice {
    site_id: String,
    #[serde(default = "ios")]
    platform: String,
    #[serde(default)]
    push_token: Option<String>,
    #[serde(default)]
    app_version: Option<String>,
}

fn ios() -> String {
    "ios".to_owned()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DevicesBody {
    devices: Vec<SeedDevice>,
}

async fn seed_devices(
    Path(id): Path<String>,
    calls: StoreCalls,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body: DevicesBody = match parse_body(body) {
        Ok(b) => b,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let now = clock::format_ts(clock::now());
    let devices: Vec<Device> = body
        .devices
        .into_iter()
        .map(|d| Device {
            site_id: d.site_id,
            platform: d.platform,
            push_token: d.push_token,
            app_version: d.app_version,
            created_at: now.clone(),
            last_seen_at: now.clone(),
        })
        .collect();
    let count = devices.len();
    let seeded = calls
        .run(move |s| Ok(known(s, &id)? && s.upsert_devices(&id, &devices).map(|()| true)?))
        .await;
    match seeded {
        Ok(true) => Json(json!({ "seeded": count })).into_response(),
        Ok(false) => ApiError::not_found("managed database not found").into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseBody {
    /// `expo_unauthorized`, or null to lift the pause.
    reason: Option<String>,
}

async fn set_pause(
    Path(id): Path<String>,
    calls: StoreCalls,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body: PauseBody = match parse_body(body) {
        Ok(b) => b,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let reason = body.reason.clone();
    let paused = calls
        .run(
            move |s| Ok(known(s, &id)? && s.set_pause(&id, body.reason.as_deref()).map(|()| true)?),
        )
        .await;
    match paused {
        Ok(true) => Json(json!({ "reason": reason })).into_response(),
        Ok(false) => ApiError::not_found("managed database not found").into_response(),
        Err(e) => e.into_response(),
    }
}

/// Whether a managed database `id` is stored (in any workspace).
fn known(store: &Store, id: &str) -> rusqlite::Result<bool> {
    Ok(store
        .list_databases(None)?
        .iter()
        .any(|d| d.database_id == id))
}
