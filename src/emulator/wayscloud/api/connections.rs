//! How a database is reached: its credentials (the password never shown again), their
//! rotation, and a restart that ends its sessions.

use axum::extract::{Path, State};
use serde_json::json;

use super::{connection_string, db_type, new_password, ok, owned, ApiResult};
use crate::emulator::wayscloud::extract::{Can, Read, StoreCalls, Update};
use crate::emulator::wayscloud::{now, AppState};

pub(super) async fn restart(
    State(state): State<AppState>,
    Path((raw_type, name)): Path<(String, String)>,
    who: Can<Update>,
    calls: StoreCalls,
) -> ApiResult {
    let t = db_type(&raw_type)?;
    let db = owned(&calls, &who, t, &name).await?;
    let n = state
        .engines
        .terminate(t, &db.db_name, &db.username)
        .await?;
    ok(json!({"success": true, "message": format!("Terminated {n} connection(s) to {name}")}))
}

pub(super) async fn credentials(
    State(state): State<AppState>,
    Path((raw_type, name)): Path<(String, String)>,
    who: Can<Read>,
    calls: StoreCalls,
) -> ApiResult {
    let t = db_type(&raw_type)?;
    let db = owned(&calls, &who, t, &name).await?;
    ok(json!({
        "host": state.engines.host(),
        "port": state.engines.port(t),
        "database": db.db_name,
        "username": db.username,
        "password": null,
        "connection_string": connection_string(&state, t, &db, None),
    }))
}

pub(super) async fn rotate(
    State(state): State<AppState>,
    Path((raw_type, name)): Path<(String, String)>,
    who: Can<Update>,
    calls: StoreCalls,
) -> ApiResult {
    let t = db_type(&raw_type)?;
    let _guard = state.lock.lock().await;
    let db = owned(&calls, &who, t, &name).await?;
    let password = new_password();
    state
        .engines
        .set_password(t, &db.username, &password)
        .await?;
    ok(json!({
        "success": true,
        "db_name": db.db_name,
        "username": db.username,
        "password": password,
        "host": state.engines.host(),
        "port": state.engines.port(t),
        "connection_string": connection_string(&state, t, &db, Some(&password)),
        "created_at": now(),
    }))
}
