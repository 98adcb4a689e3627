//! The WaysCloud databases API (`/v1/...`), as `docs/api/wayscloud.md` defines it.
//!
//! Order of checks: `X-API-Key` (401), the route's permission (403), the path's `db_type`
//! (422) and the database (404, also for another customer's), then the body (400/422), the
//! quota (403) and the state (409). Every change of engines and state runs under one lock.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::engine::{snapshot_file, Allowed, DbType};
use super::error::ApiError;
use super::store::{Database, Policy, Principal, Rule, Snapshot};
use super::validate;
use super::AppState;
use crate::emulator::core::clock;
use crate::emulator::core::engines::random_password;
use crate::emulator::core::secrets::random_hex;

pub(crate) const API_KEY_HEADER: &str = "x-api-key";

pub fn routes() -> Router<AppState> {
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

fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    permission: &str,
) -> Result<Principal, ApiError> {
    let raw = headers
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(ApiError::unauthorized)?;
    let principal = state
        .store
        .authenticate(raw)?
        .ok_or_else(ApiError::unauthorized)?;
    if !principal.can(permission) {
        return Err(ApiError::forbidden(permission));
    }
    Ok(principal)
}

fn db_type(raw: &str) -> Result<DbType, ApiError> {
    DbType::parse(raw).ok_or_else(|| {
        ApiError::validation(
            "db_type",
            format!("db_type must be postgresql or mariadb, not {raw:?}"),
        )
    })
}

/// The live database of this type and name, owned by the key's customer (an internal key
/// may reach any), or 404.
fn owned(state: &AppState, who: &Principal, t: DbType, name: &str) -> Result<Database, ApiError> {
    let unknown = || ApiError::not_found(format!("Database {name} not found"));
    let db = state.store.live_database(name)?.ok_or_else(unknown)?;
    if db.db_type != t.as_str() || (!who.internal && db.customer_id != who.customer_id) {
        return Err(unknown());
    }
    Ok(db)
}

fn body_object(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|e| ApiError::bad_request(format!("cannot read body: {e}")))?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::validation(
            "body",
            "the body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(format!("malformed JSON body: {e}"))),
    }
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

fn now() -> String {
    clock::format_ts(clock::now())
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

fn database_json(state: &AppState, db: &Database) -> Value {
    let t = DbType::parse(&db.db_type).unwrap_or(DbType::Postgresql);
    json!({
        "db_name": db.db_name,
        "db_type": db.db_type,
        "username": db.username,
        "host": state.engines.host(),
        "port": state.engines.port(t),
        "connection_limit": db.connection_limit,
        "description": db.description,
        "created_at": db.created_at,
        "status": "active",
    })
}

/// Every firewall rule of every live database of one engine, as the engine applies them.
fn allowed(state: &AppState, t: DbType) -> Result<Vec<Allowed>, ApiError> {
    let dbs = state.store.all_live()?;
    let mut out = Vec::new();
    for rule in state.store.rules(None)? {
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
}

async fn apply_firewall(state: &AppState, t: DbType, db: &Database) -> Result<(), ApiError> {
    let allowed = allowed(state, t)?;
    state
        .engines
        .apply_firewall(t, &db.username, &db.db_name, db.connection_limit, &allowed)
        .await?;
    Ok(())
}

fn check_quota(state: &AppState, customer: &str) -> Result<(), ApiError> {
    let used = i64::try_from(state.store.live_databases(customer, None)?.len()).unwrap_or(i64::MAX);
    let (limit, _) = state.store.quota(customer, state.default_quota)?;
    if used >= limit {
        return Err(ApiError::quota_exceeded(used, limit));
    }
    Ok(())
}

/// Makes a database and its user in the engine (removing an orphan of the same name a
/// crash may have left) and records it.
async fn make_database(
    state: &AppState,
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
        created_at: now(),
        deleted_at: None,
    };
    db.id = state.store.insert_database(&db)?;
    Ok(db)
}

// ---- databases ------------------------------------------------------------------------------

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:create")?;
    let map = body_object(body)?;
    let raw_type = opt_str(&map, "db_type")?.ok_or_else(|| {
        ApiError::validation("db_type", "db_type is required (postgresql or mariadb)")
    })?;
    let t = db_type(&raw_type)?;
    let requested = opt_str(&map, "requested_name")?;
    if let Some(name) = &requested {
        validate::requested_name(name, "requested_name")?;
    }
    let customer = match (who.internal, opt_str(&map, "customer_id")?) {
        (true, Some(c)) => {
            validate::customer_id(&c)?;
            c
        }
        _ => who.customer_id.clone(),
    };
    let _guard = state.lock.lock().await;
    let name = match &requested {
        Some(r) => format!("cust_{customer}_{}_{r}", t.tag()),
        None => {
            let day = clock::now().date();
            format!(
                "cust_{customer}_{}_{:04}{:02}{:02}_{}",
                t.tag(),
                day.year(),
                u8::from(day.month()),
                day.day(),
                &random_hex(3)
            )
        }
    };
    if let Some(db) = state.store.live_database(&name)? {
        if db.customer_id == customer && db.db_type == t.as_str() {
            return ok(json!({
                "success": true,
                "db_type": db.db_type,
                "db_name": db.db_name,
                "username": db.username,
                "password": "",
                "host": state.engines.host(),
                "port": state.engines.port(t),
                "connection_string": connection_string(&state, t, &db, None),
                "message": format!("Database {} already exists; its password is not shown again (rotate the credentials for a new one)", db.db_name),
                "password_generated": false,
                "idempotent": true,
            }));
        }
        return Err(ApiError::conflict(format!("Database {name} exists")));
    }
    state
        .store
        .ensure_customer(&customer, state.default_quota)?;
    check_quota(&state, &customer)?;
    let password = random_password(24);
    let db = make_database(&state, t, &name, &customer, &password).await?;
    tracing::info!(db_name = %db.db_name, db_type = t.as_str(), customer = %customer, "database created");
    created(json!({
        "success": true,
        "db_type": db.db_type,
        "db_name": db.db_name,
        "username": db.username,
        "password": password,
        "host": state.engines.host(),
        "port": state.engines.port(t),
        "connection_string": connection_string(&state, t, &db, Some(&password)),
        "message": format!("Database {} created", db.db_name),
        "password_generated": true,
        "idempotent": false,
    }))
}

async fn do_delete(
    state: &AppState,
    who: &Principal,
    t: DbType,
    name: &str,
    username: Option<String>,
) -> ApiResult {
    let _guard = state.lock.lock().await;
    let db = owned(state, who, t, name)?;
    if let Some(user) = &username {
        if *user != db.username {
            return Err(ApiError::validation(
                "username",
                format!("username {user} is not the user of database {name}"),
            ));
        }
    }
    state
        .engines
        .drop_database(t, &db.db_name, username.as_deref())
        .await?;
    for snap in state.store.snapshots(db.id)? {
        let _ = std::fs::remove_file(snapshot_file(&state.snapshots_dir, &snap.snapshot_id, t));
    }
    let had_rules = !state.store.rules(Some(db.id))?.is_empty();
    state.store.delete_database(db.id, &now())?;
    if had_rules && t == DbType::Postgresql {
        apply_firewall(state, t, &db).await?;
    }
    let what = if username.is_some() {
        "and its user "
    } else {
        ""
    };
    ok(json!({"success": true, "message": format!("Database {name} {what}deleted")}))
}

async fn delete_by_body(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:delete")?;
    let map = body_object(body)?;
    let t = db_type(
        &opt_str(&map, "db_type")?
            .ok_or_else(|| ApiError::validation("db_type", "db_type is required"))?,
    )?;
    let name = opt_str(&map, "db_name")?
        .ok_or_else(|| ApiError::validation("db_name", "db_name is required"))?;
    do_delete(&state, &who, t, &name, opt_str(&map, "username")?).await
}

async fn delete_by_path(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:delete")?;
    let t = db_type(&raw_type)?;
    let username = query.get("username").filter(|u| !u.is_empty()).cloned();
    do_delete(&state, &who, t, &name, username).await
}

async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:update")?;
    let t = db_type(&raw_type)?;
    owned(&state, &who, t, &name)?;
    let map = body_object(body)?;
    let limit = opt_int(&map, "connection_limit")?;
    if let Some(l) = limit {
        validate::connection_limit(l)?;
    }
    let description = opt_str(&map, "description")?;
    if let Some(d) = &description {
        validate::description(d, "description")?;
    }
    if limit.is_none() && description.is_none() {
        return Err(ApiError::validation(
            "body",
            "nothing to update: give connection_limit and/or description",
        ));
    }
    let _guard = state.lock.lock().await;
    let db = owned(&state, &who, t, &name)?;
    let new_limit = limit.unwrap_or(db.connection_limit);
    if limit.is_some() {
        state
            .engines
            .set_connection_limit(t, &db.db_name, &db.username, new_limit)
            .await?;
    }
    let new_description = description.or(db.description.clone());
    state
        .store
        .update_database(db.id, new_limit, new_description.as_deref())?;
    ok(json!({"success": true, "message": format!("Database {name} updated")}))
}

#[derive(serde::Deserialize)]
struct ListQuery {
    customer_id: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(raw_type): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let t = db_type(&raw_type)?;
    let customer = match (who.internal, query.customer_id) {
        (true, Some(c)) if !c.is_empty() => c,
        _ => who.customer_id.clone(),
    };
    let dbs = state.store.live_databases(&customer, Some(t.as_str()))?;
    let list: Vec<Value> = dbs.iter().map(|d| database_json(&state, d)).collect();
    ok(json!({"db_type": t.as_str(), "databases": list}))
}

async fn engines(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let who = state
        .store
        .authenticate(
            headers
                .get(API_KEY_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .trim(),
        )?
        .ok_or_else(ApiError::unauthorized)?;
    let _ = who;
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

async fn history(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let list: Vec<Value> = state
        .store
        .history(&who.customer_id)?
        .iter()
        .map(|d| {
            json!({
                "db_name": d.db_name,
                "db_type": d.db_type,
                "created_at": d.created_at,
                "deleted_at": d.deleted_at,
                "status": if d.deleted_at.is_some() { "deleted" } else { "active" },
            })
        })
        .collect();
    let total = list.len();
    ok(json!({"databases": list, "total": total}))
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

fn gb(bytes: i64) -> f64 {
    ((bytes as f64) / 1_073_741_824.0 * 10000.0).round() / 10000.0
}

fn mb(bytes: i64) -> f64 {
    ((bytes as f64) / 1_048_576.0 * 100.0).round() / 100.0
}

async fn quota(State(state): State<AppState>, headers: HeaderMap) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let dbs = state.store.live_databases(&who.customer_id, None)?;
    let (limit, storage_limit) = state.store.quota(&who.customer_id, state.default_quota)?;
    let storage = storage_bytes(&state, &dbs).await?;
    ok(json!({
        "used": dbs.len(),
        "limit": limit,
        "storage_used_gb": gb(storage),
        "storage_limit_gb": storage_limit,
    }))
}

async fn restart(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:update")?;
    let t = db_type(&raw_type)?;
    let db = owned(&state, &who, t, &name)?;
    let n = state
        .engines
        .terminate(t, &db.db_name, &db.username)
        .await?;
    ok(json!({"success": true, "message": format!("Terminated {n} connection(s) to {name}")}))
}

async fn credentials(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let t = db_type(&raw_type)?;
    let db = owned(&state, &who, t, &name)?;
    ok(json!({
        "host": state.engines.host(),
        "port": state.engines.port(t),
        "database": db.db_name,
        "username": db.username,
        "password": null,
        "connection_string": connection_string(&state, t, &db, None),
    }))
}

async fn rotate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:update")?;
    let t = db_type(&raw_type)?;
    let _guard = state.lock.lock().await;
    let db = owned(&state, &who, t, &name)?;
    let password = random_password(24);
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

async fn info(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let t = db_type(&raw_type)?;
    let db = owned(&state, &who, t, &name)?;
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

async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let t = db_type(&raw_type)?;
    let db = owned(&state, &who, t, &name)?;
    let stats = state.engines.stats(t, &db.db_name, &db.username).await?;
    let backup: i64 = state
        .store
        .snapshots(db.id)?
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
    let (cpu, mem) = super::engine::process_usage(state.engines.pid(t));
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

// ---- firewall -------------------------------------------------------------------------------

fn rule_json(state: &AppState, t: DbType, db: &Database, r: &Rule) -> Value {
    json!({
        "rule_id": r.rule_id,
        "db_name": db.db_name,
        "db_type": db.db_type,
        "ip_address": r.ip_address,
        "port": state.engines.port(t),
        "description": r.description,
        "created_at": r.created_at,
    })
}

async fn add_rule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:update")?;
    let t = db_type(&raw_type)?;
    owned(&state, &who, t, &name)?;
    let map = body_object(body)?;
    let ip = opt_str(&map, "ip_address")?
        .ok_or_else(|| ApiError::validation("ip_address", "ip_address is required"))?;
    let cidr = validate::ipv4_or_cidr(&ip)?;
    let description = opt_str(&map, "description")?;
    if let Some(d) = &description {
        validate::description(d, "description")?;
    }
    let _guard = state.lock.lock().await;
    let db = owned(&state, &who, t, &name)?;
    let rules = state.store.rules(Some(db.id))?;
    if rules.iter().any(|r| r.cidr == cidr) {
        return Err(ApiError::conflict(format!(
            "A firewall rule for {ip} already exists on {name}"
        )));
    }
    if rules.len() >= validate::MAX_RULES {
        return Err(ApiError::validation(
            "ip_address",
            format!(
                "at most {} firewall rules per database",
                validate::MAX_RULES
            ),
        ));
    }
    let rule = Rule {
        rule_id: uuid::Uuid::new_v4().to_string(),
        db_id: db.id,
        ip_address: ip,
        cidr,
        description,
        created_at: now(),
    };
    state.store.insert_rule(&rule)?;
    if let Err(e) = apply_firewall(&state, t, &db).await {
        let _ = state.store.delete_rule(db.id, &rule.rule_id);
        return Err(e);
    }
    created(rule_json(&state, t, &db, &rule))
}

async fn list_rules(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let t = db_type(&raw_type)?;
    let db = owned(&state, &who, t, &name)?;
    let rules: Vec<Value> = state
        .store
        .rules(Some(db.id))?
        .iter()
        .map(|r| rule_json(&state, t, &db, r))
        .collect();
    let total = rules.len();
    ok(json!({"rules": rules, "total": total}))
}

async fn delete_rule(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name, rule_id)): Path<(String, String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:update")?;
    let t = db_type(&raw_type)?;
    let _guard = state.lock.lock().await;
    let db = owned(&state, &who, t, &name)?;
    if !state.store.delete_rule(db.id, &rule_id)? {
        return Err(ApiError::not_found(format!(
            "Firewall rule {rule_id} not found on {name}"
        )));
    }
    apply_firewall(&state, t, &db).await?;
    ok(json!({"success": true, "message": format!("Firewall rule {rule_id} removed")}))
}

// ---- snapshots ------------------------------------------------------------------------------

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

async fn create_snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let t = db_type(&raw_type)?;
    owned(&state, &who, t, &name)?;
    let map = body_object(body)?;
    let description = opt_str(&map, "description")?;
    if let Some(d) = &description {
        validate::description(d, "description")?;
    }
    let _guard = state.lock.lock().await;
    let db = owned(&state, &who, t, &name)?;
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
    state.store.insert_snapshot(&snap)?;
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

async fn list_snapshots(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let t = db_type(&raw_type)?;
    let db = owned(&state, &who, t, &name)?;
    let list: Vec<Value> = state
        .store
        .snapshots(db.id)?
        .iter()
        .map(|s| snapshot_json(&db, s))
        .collect();
    ok(json!({"db_name": db.db_name, "db_type": db.db_type, "snapshots": list}))
}

async fn delete_snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name, snapshot_id)): Path<(String, String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:delete")?;
    let t = db_type(&raw_type)?;
    let _guard = state.lock.lock().await;
    let db = owned(&state, &who, t, &name)?;
    if !state.store.delete_snapshot(db.id, &snapshot_id)? {
        return Err(ApiError::not_found(format!(
            "Snapshot {snapshot_id} not found for {name}"
        )));
    }
    let _ = std::fs::remove_file(snapshot_file(&state.snapshots_dir, &snapshot_id, t));
    ok(json!({"success": true, "message": format!("Snapshot {snapshot_id} deleted")}))
}

async fn restore(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:update")?;
    let t = db_type(&raw_type)?;
    owned(&state, &who, t, &name)?;
    let map = body_object(body)?;
    let snapshot_id = opt_str(&map, "snapshot_id")?
        .ok_or_else(|| ApiError::validation("snapshot_id", "snapshot_id is required"))?;
    let target = opt_str(&map, "target_db_name")?;
    if let Some(target) = &target {
        validate::requested_name(target, "target_db_name")?;
    }
    let _guard = state.lock.lock().await;
    let db = owned(&state, &who, t, &name)?;
    if !state
        .store
        .snapshots(db.id)?
        .iter()
        .any(|s| s.snapshot_id == snapshot_id)
    {
        return Err(ApiError::not_found(format!(
            "Snapshot {snapshot_id} not found for {name}"
        )));
    }
    let file = snapshot_file(&state.snapshots_dir, &snapshot_id, t);
    let restored = match target {
        None => {
            state
                .engines
                .restore(t, &db.db_name, &db.username, db.connection_limit, &file)
                .await?;
            // Restoring made the database again: its firewall accounts and rules stay
            // (MariaDB accounts belong to the user, PostgreSQL rules to the name).
            db.db_name.clone()
        }
        Some(target) => {
            let new_name = format!("cust_{}_{}_{target}", db.customer_id, t.tag());
            if state.store.live_database(&new_name)?.is_some() {
                return Err(ApiError::conflict(format!(
                    "Database {new_name} already exists"
                )));
            }
            check_quota(&state, &db.customer_id)?;
            let new_db =
                make_database(&state, t, &new_name, &db.customer_id, &random_password(24)).await?;
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
                let _ = state.store.delete_database(new_db.id, &now());
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

// ---- backup policy --------------------------------------------------------------------------

fn policy_json(db: &Database, p: &Policy) -> Value {
    json!({
        "db_name": db.db_name,
        "db_type": db.db_type,
        "enabled": p.enabled,
        "frequency": p.frequency,
        "retention_days": p.retention_days,
        "time_of_day": p.time_of_day,
        "last_backup": null,
        "next_backup": if p.enabled { validate::next_backup(clock::now(), &p.frequency, p.time_of_day.as_deref()).map(clock::format_ts) } else { None },
    })
}

async fn get_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:read")?;
    let t = db_type(&raw_type)?;
    let db = owned(&state, &who, t, &name)?;
    let policy = state.store.policy(db.id)?.unwrap_or_default();
    ok(policy_json(&db, &policy))
}

async fn put_policy(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((raw_type, name)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult {
    let who = authenticate(&state, &headers, "database:update")?;
    let t = db_type(&raw_type)?;
    owned(&state, &who, t, &name)?;
    let map = body_object(body)?;
    let enabled = match map.get("enabled") {
        Some(Value::Bool(b)) => *b,
        _ => {
            return Err(ApiError::validation(
                "enabled",
                "enabled is required (true or false)",
            ))
        }
    };
    let defaults = Policy::default();
    let frequency = opt_str(&map, "frequency")?.unwrap_or(defaults.frequency);
    validate::frequency(&frequency)?;
    let retention_days = opt_int(&map, "retention_days")?.unwrap_or(defaults.retention_days);
    validate::retention_days(retention_days)?;
    let time_of_day = match opt_str(&map, "time_of_day")? {
        Some(t) => {
            validate::time_of_day(&t)?;
            Some(t)
        }
        None => defaults.time_of_day,
    };
    let _guard = state.lock.lock().await;
    let db = owned(&state, &who, t, &name)?;
    let policy = Policy {
        enabled,
        frequency,
        retention_days,
        time_of_day,
    };
    state.store.set_policy(db.id, &policy)?;
    ok(policy_json(&db, &policy))
}
