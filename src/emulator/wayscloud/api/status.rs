//! What a key reads about the platform and a database: the engines, the customer's quota,
//! a database's info and metrics (measured in the engine).

use axum::extract::State;
use serde_json::json;

use super::{gb, mb, ok, ApiResult};
use crate::emulator::core::clock;
use crate::emulator::wayscloud::engine::{self, DbType};
use crate::emulator::wayscloud::error::ApiError;
use crate::emulator::wayscloud::extract::{db_type, Caller, Can, Read, StoreCalls, Target};
use crate::emulator::wayscloud::store::Database;
use crate::emulator::wayscloud::{now, AppState};

/// Any known key may list the engines (no permission asked).
pub(super) async fn engines(State(state): State<AppState>, _who: Caller) -> ApiResult {
    let mut list = Vec::new();
    for (t, name) in [
        (DbType::Postgresql, "PostgreSQL"),
        (DbType::Mariadb, "MariaDB"),
    ] {
        list.push(json!({
            "db_type": t.as_str(),
            "name": name,
            "version": state.engines.version(t).await?,
            "port": state.engines.port(t),
            "capabilities": ["connection_limit", "credential_rotation", "firewall", "snapshots", "restore", "backup_policy", "metrics"],
        }));
    }
    ok(json!({"engines": list}))
}

async fn storage_bytes(state: &AppState, dbs: &[Database]) -> Result<i64, ApiError> {
    let mut total = 0i64;
    for db in dbs {
        let t = db_type(&db.db_type)?;
        total = total.saturating_add(
            state
                .engines
                .stats(t, &db.db_name, &db.username)
                .await?
                .size_bytes,
        );
    }
    Ok(total)
}

pub(super) async fn quota(
    State(state): State<AppState>,
    who: Can<Read>,
    calls: StoreCalls,
) -> ApiResult {
    let (customer, default) = (who.customer_id.clone(), state.default_quota);
    let (dbs, (limit, storage_limit)) = calls
        .run(move |s| {
            Ok((
                s.live_databases(&customer, None)?,
                s.quota(&customer, default)?,
            ))
        })
        .await?;
    let storage = storage_bytes(&state, &dbs).await?;
    ok(json!({
        "used": dbs.len(),
        "limit": limit,
        "storage_used_gb": gb(storage),
        "storage_limit_gb": storage_limit,
    }))
}

pub(super) async fn info(State(state): State<AppState>, target: Target<Read>) -> ApiResult {
    let Target { t, db, .. } = target;
    let stats = state.engines.stats(t, &db.db_name, &db.username).await?;
    ok(json!({
        "db_name": db.db_name,
        "db_type": db.db_type,
        "size_mb": mb(stats.size_bytes),
        "connection_count": stats.connections,
        "connection_limit": db.connection_limit,
        "created_at": db.created_at,
        "owner": db.username,
        "description": db.description,
    }))
}

pub(super) async fn metrics(
    State(state): State<AppState>,
    target: Target<Read>,
    calls: StoreCalls,
) -> ApiResult {
    let Target { t, db, .. } = target;
    let stats = state.engines.stats(t, &db.db_name, &db.username).await?;
    let id = db.id;
    let backup: i64 = calls
        .run(move |s| Ok(s.snapshots(id)?))
        .await?
        .iter()
        .map(|s| s.size_bytes)
        .sum();
    let age = time::OffsetDateTime::parse(
        &db.created_at,
        &time::format_description::well_known::Rfc3339,
    )
    .map(|c| (clock::now() - c).as_seconds_f64())
    .unwrap_or(0.0)
    .max(1.0);
    let (cpu, mem) = engine::process_usage(state.engines.pid(t));
    ok(json!({
        "database_id": db.db_name,
        "storage_gb": gb(stats.size_bytes),
        "backup_gb": gb(backup),
        "active_connections": stats.connections,
        "max_connections": db.connection_limit,
        "total_queries": stats.total_queries,
        "queries_per_sec": ((stats.total_queries as f64) / age * 1000.0).round() / 1000.0,
        "cache_hit_ratio": stats.cache_hit_ratio,
        "cpu_percent": cpu,
        "memory_percent": mem,
        "measured_at": now(),
    }))
}
