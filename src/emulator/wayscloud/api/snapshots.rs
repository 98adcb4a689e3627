//! Snapshots (the engine's dump in the state directory's `snapshots/`) and restore, in
//! place or into a new database of the same customer.

use axum::extract::{Path, State};
use serde_json::{json, Value};

use super::{check_quota, created, make_database, mb, new_password, ok, opt_str, ApiResult};
use crate::emulator::core::clock;
use crate::emulator::core::secrets::random_hex;
use crate::emulator::wayscloud::engine::snapshot_file;
use crate::emulator::wayscloud::error::ApiError;
use crate::emulator::wayscloud::extract::{Delete, JsonObject, Read, StoreCalls, Target, Update};
use crate::emulator::wayscloud::store::{Database, Snapshot};
use crate::emulator::wayscloud::{now, validate, AppState};

fn snapshot_json(db: &Database, s: &Snapshot) -> Value {
    json!({
        "snapshot_id": s.snapshot_id,
        "db_name": db.db_name,
        "db_type": db.db_type,
        "size_mb": mb(s.size_bytes),
        "created_at": s.created_at,
        "description": s.description,
    })
}

pub(super) async fn create_snapshot(
    State(state): State<AppState>,
    target: Target<Read>,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let (t, name) = (target.t, target.name.clone());
    let map = body.get()?;
    let description = opt_str(&map, "description")?;
    if let Some(d) = &description {
        validate::description(d, "description")?;
    }
    let _guard = state.lock.lock().await;
    let db = target.again(&calls).await?;
    let at = clock::now();
    let snapshot_id = format!(
        "snap_{:04}{:02}{:02}_{:02}{:02}{:02}_{}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        random_hex(4)
    );
    let file = snapshot_file(&state.snapshots_dir, &snapshot_id, t);
    if let Err(e) = state.engines.dump(t, &db.db_name, &file).await {
        let _ = std::fs::remove_file(&file);
        return Err(e.into());
    }
    let _ = crate::emulator::core::files::private_file(&file);
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let snap = Snapshot {
        snapshot_id,
        db_id: db.id,
        description,
        size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
        created_at: clock::format_ts(at),
    };
    let record = snap.clone();
    calls.run(move |s| Ok(s.insert_snapshot(&record)?)).await?;
    let mut body = snapshot_json(&db, &snap);
    if let Value::Object(m) = &mut body {
        m.insert("success".into(), Value::Bool(true));
        m.insert(
            "message".into(),
            Value::from(format!("Snapshot {} of {name} created", snap.snapshot_id)),
        );
    }
    created(body)
}

pub(super) async fn list_snapshots(target: Target<Read>, calls: StoreCalls) -> ApiResult {
    let Target { db, .. } = target;
    let id = db.id;
    let list: Vec<Value> = calls
        .run(move |s| Ok(s.snapshots(id)?))
        .await?
        .iter()
        .map(|s| snapshot_json(&db, s))
        .collect();
    ok(json!({"db_name": db.db_name, "db_type": db.db_type, "snapshots": list}))
}

pub(super) async fn delete_snapshot(
    State(state): State<AppState>,
    Path((_, _, snapshot_id)): Path<(String, String, String)>,
    target: Target<Delete>,
    calls: StoreCalls,
) -> ApiResult {
    let (t, name) = (target.t, target.name.clone());
    let _guard = state.lock.lock().await;
    let db = target.again(&calls).await?;
    let (id, gone) = (db.id, snapshot_id.clone());
    if !calls
        .run(move |s| Ok(s.delete_snapshot(id, &gone)?))
        .await?
    {
        return Err(ApiError::not_found(format!(
            "Snapshot {snapshot_id} not found for {name}"
        )));
    }
    let _ = std::fs::remove_file(snapshot_file(&state.snapshots_dir, &snapshot_id, t));
    ok(json!({"success": true, "message": format!("Snapshot {snapshot_id} deleted")}))
}

pub(super) async fn restore(
    State(state): State<AppState>,
    target: Target<Update>,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let (t, name) = (target.t, target.name.clone());
    let map = body.get()?;
    let snapshot_id = opt_str(&map, "snapshot_id")?
        .ok_or_else(|| ApiError::validation("snapshot_id", "snapshot_id is required"))?;
    let into = opt_str(&map, "target_db_name")?;
    if let Some(into) = &into {
        validate::requested_name(into, "target_db_name")?;
    }
    let _guard = state.lock.lock().await;
    let db = target.again(&calls).await?;
    let (id, wanted) = (db.id, snapshot_id.clone());
    if !calls
        .run(move |s| Ok(s.snapshots(id)?.iter().any(|s| s.snapshot_id == wanted)))
        .await?
    {
        return Err(ApiError::not_found(format!(
            "Snapshot {snapshot_id} not found for {name}"
        )));
    }
    let file = snapshot_file(&state.snapshots_dir, &snapshot_id, t);
    let restored = match into {
        None => {
            state
                .engines
                .restore(t, &db.db_name, &db.username, db.connection_limit, &file)
                .await?;
            // Restoring made the database again: its firewall accounts and rules stay
            // (MariaDB accounts belong to the user, PostgreSQL rules to the name).
            db.db_name.clone()
        }
        Some(into) => {
            let new_name = format!("cust_{}_{}_{into}", db.customer_id, t.tag());
            let key = new_name.clone();
            if calls
                .run(move |s| Ok(s.live_database(&key)?))
                .await?
                .is_some()
            {
                return Err(ApiError::conflict(format!(
                    "Database {new_name} already exists"
                )));
            }
            check_quota(&state, &calls, &db.customer_id).await?;
            let new_db = make_database(
                &state,
                &calls,
                t,
                &new_name,
                &db.customer_id,
                &new_password(),
            )
            .await?;
            if let Err(e) = state
                .engines
                .restore(
                    t,
                    &new_db.db_name,
                    &new_db.username,
                    new_db.connection_limit,
                    &file,
                )
                .await
            {
                // Nothing half-made stays behind.
                let _ = state
                    .engines
                    .drop_database(t, &new_name, Some(&new_name))
                    .await;
                let gone = new_db.id;
                let _ = calls
                    .run(move |s| Ok(s.delete_database(gone, &now())?))
                    .await;
                return Err(e.into());
            }
            new_name
        }
    };
    ok(json!({
        "success": true,
        "db_name": restored,
        "snapshot_id": snapshot_id,
        "message": format!("Database {restored} restored from snapshot {snapshot_id}"),
    }))
}
