//! How a database is reached: its credentials (the password never shown again), their
//! rotation, and a restart that ends its sessions.

use axum::extract::State;
use serde_json::json;

use super::{connection_string, new_password, ok, ApiResult};
use crate::emulator::wayscloud::extract::{Read, StoreCalls, Target, Update};
use crate::emulator::wayscloud::{now, AppState};

pub(super) async fn restart(State(state): State<AppState>, target: Target<Update>) -> ApiResult {
    let Target { t, name, db, .. } = target;
    let n = state
        .engines
        .terminate(t, &db.db_name, &db.username)
        .await?;
    ok(json!({"success": true, "message": format!("Terminated {n} connection(s) to {name}")}))
}

pub(super) async fn credentials(State(state): State<AppState>, target: Target<Read>) -> ApiResult {
    let Target { t, db, .. } = target;
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
    target: Target<Update>,
    calls: StoreCalls,
) -> ApiResult {
    let t = target.t;
    let _guard = state.lock.lock().await;
    let db = target.again(&calls).await?;
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
