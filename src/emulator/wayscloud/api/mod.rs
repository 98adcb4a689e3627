//! The WaysCloud databases API (`/v1/...`), as `docs/api/wayscloud.md` defines it, one file
//! per area: [`databases`] (create, delete, update, lists, history), [`status`] (engines,
//! quota, info, metrics), [`connections`] (credentials, rotation, restart), [`firewall`],
//! [`snapshots`] (and restore) and [`backups`] (the backup policy).
//!
//! Order of checks: `X-API-Key` (401), the route's permission (403), the path's `db_type`
//! (422) and the database (404, also for another customer's) by the extractors
//! (`super::extract`: `Caller`, `Can<P>`, `Target<P>`), then the body (400/422), the quota
//! (403) and the state (409). Store calls run on the blocking pool (`StoreCalls`); every change of
//! engines and state runs under one lock.

mod backups;
mod connections;
mod databases;
mod firewall;
mod snapshots;
mod status;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};

use super::engine::{Allowed, DbType};
use super::error::ApiError;
use super::extract::StoreCalls;
use super::store::Database;
use super::validate;
use super::AppState;
use crate::emulator::core::engines::random_password;

pub fn routes() -> Router<AppState> {
    use backups::{get_policy, put_policy};
    use connections::{credentials, restart, rotate};
    use databases::{create, delete_by_body, delete_by_path, history, list, update};
    use firewall::{add_rule, delete_rule, list_rules};
    use snapshots::{create_snapshot, delete_snapshot, list_snapshots, restore};
    use status::{engines, info, metrics, quota};
    let db = "/v1/databases/{db_type}/{db_name}";
    Router::new()
        .route("/v1/databases", post(create).delete(delete_by_body))
        .route("/v1/databases/engines", get(engines))
        .route("/v1/databases/history", get(history))
        .route("/v1/quota", get(quota))
        .route("/v1/databases/{db_type}", get(list))
        .route(db, delete(delete_by_path).patch(update))
        .route(&format!("{db}/restart"), post(restart))
        .route(&format!("{db}/credentials"), get(credentials))
        .route(&format!("{db}/credentials/rotate"), post(rotate))
        .route(&format!("{db}/info"), get(info))
        .route(&format!("{db}/metrics"), get(metrics))
        .route(&format!("{db}/firewall"), get(list_rules).post(add_rule))
        .route(&format!("{db}/firewall/{{rule_id}}"), delete(delete_rule))
        .route(
            &format!("{db}/snapshots"),
            get(list_snapshots).post(create_snapshot),
        )
        .route(
            &format!("{db}/snapshots/{{snapshot_id}}"),
            delete(delete_snapshot),
        )
        .route(&format!("{db}/restore"), post(restore))
        .route(
            &format!("{db}/backup-policy"),
            get(get_policy).put(put_policy),
        )
}

type ApiResult = Result<Response, ApiError>;

fn ok(value: Value) -> ApiResult {
    Ok(Json(value).into_response())
}

fn created(value: Value) -> ApiResult {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

/// A string field: `None` when absent or null, 422 when another type.
fn opt_str(map: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be a string"),
        )),
    }
}

/// A whole-number field: `None` when absent or null, 422 when another type or fractional.
fn opt_int(map: &Map<String, Value>, field: &str) -> Result<Option<i64>, ApiError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::validation(field, format!("{field} must be a whole number"))),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be a whole number"),
        )),
    }
}

fn connection_string(state: &AppState, t: DbType, db: &Database, password: Option<&str>) -> String {
    let auth = match password {
        Some(pw) if !pw.is_empty() => format!("{}:{pw}", db.username),
        _ => db.username.clone(),
    };
    format!(
        "{}://{auth}@{}:{}/{}",
        t.scheme(),
        state.engines.host(),
        state.engines.port(t),
        db.db_name
    )
}

/// Every firewall rule of every live database of one engine, as the engine applies them.
async fn allowed(calls: &StoreCalls, t: DbType) -> Result<Vec<Allowed>, ApiError> {
    calls
        .run(move |s| {
            let dbs = s.all_live()?;
            let mut out = Vec::new();
            for rule in s.rules(None)? {
                if let Some(db) = dbs
                    .iter()
                    .find(|d| d.id == rule.db_id && d.db_type == t.as_str())
                {
                    out.push(Allowed {
                        db_name: db.db_name.clone(),
                        username: db.username.clone(),
                        cidr: rule.cidr.clone(),
                    });
                }
            }
            Ok(out)
        })
        .await
}

async fn apply_firewall(
    state: &AppState,
    calls: &StoreCalls,
    t: DbType,
    db: &Database,
) -> Result<(), ApiError> {
    let allowed = allowed(calls, t).await?;
    state
        .engines
        .apply_firewall(t, &db.username, &db.db_name, db.connection_limit, &allowed)
        .await?;
    Ok(())
}

async fn check_quota(state: &AppState, calls: &StoreCalls, customer: &str) -> Result<(), ApiError> {
    let (customer, default) = (customer.to_owned(), state.default_quota);
    calls
        .run(move |s| {
            let used = i64::try_from(s.live_databases(&customer, None)?.len()).unwrap_or(i64::MAX);
            let (limit, _) = s.quota(&customer, default)?;
            if used >= limit {
                return Err(ApiError::quota_exceeded(used, limit));
            }
            Ok(())
        })
        .await
}

/// Makes a database and its user in the engine (removing an orphan of the same name a
/// crash may have left) and records it.
async fn make_database(
    state: &AppState,
    calls: &StoreCalls,
    t: DbType,
    name: &str,
    customer: &str,
    password: &str,
) -> Result<Database, ApiError> {
    let engines = &state.engines;
    if engines.database_exists(t, name).await? || engines.user_exists(t, name).await? {
        tracing::warn!(db_name = name, "removing an orphan left in the engine");
        engines.drop_database(t, name, Some(name)).await?;
    }
    let limit = validate::DEFAULT_CONNECTION_LIMIT;
    engines.create(t, name, name, password, limit).await?;
    let mut db = Database {
        id: 0,
        db_type: t.as_str().to_owned(),
        db_name: name.to_owned(),
        username: name.to_owned(),
        customer_id: customer.to_owned(),
        connection_limit: limit,
        description: None,
        created_at: super::now(),
        deleted_at: None,
    };
    let record = db.clone();
    db.id = calls.run(move |s| Ok(s.insert_database(&record)?)).await?;
    Ok(db)
}

/// A new database password. [assumed: 24 characters]
fn new_password() -> String {
    random_password(24)
}

fn gb(bytes: i64) -> f64 {
    ((bytes as f64) / 1_073_741_824.0 * 10000.0).round() / 10000.0
}

fn mb(bytes: i64) -> f64 {
    ((bytes as f64) / 1_048_576.0 * 100.0).round() / 100.0
}
