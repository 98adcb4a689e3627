//! Databases: create (idempotent by name), delete (by body or by path), update, the list
//! of one engine and the customer's history.

use axum::extract::{Path, Query, State};
use serde_json::{json, Value};

use super::{
    check_quota, connection_string, created, make_database, new_password, ok, opt_int, opt_str,
    ApiResult,
};
use crate::emulator::core::clock;
use crate::emulator::core::secrets::random_hex;
use crate::emulator::wayscloud::engine::{snapshot_file, DbType};
use crate::emulator::wayscloud::error::ApiError;
use crate::emulator::wayscloud::extract::{
    db_type, owned, Can, Create, Delete, JsonObject, Read, StoreCalls, Target, Update,
};
use crate::emulator::wayscloud::store::{Database, Principal};
use crate::emulator::wayscloud::{now, validate, AppState};

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

pub(super) async fn create(
    State(state): State<AppState>,
    who: Can<Create>,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let map = body.get()?;
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
    let key = name.clone();
    if let Some(db) = calls.run(move |s| Ok(s.live_database(&key)?)).await? {
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
    let (owner, quota) = (customer.clone(), state.default_quota);
    calls
        .run(move |s| Ok(s.ensure_customer(&owner, quota)?))
        .await?;
    check_quota(&state, &calls, &customer).await?;
    let password = new_password();
    let db = make_database(&state, &calls, t, &name, &customer, &password).await?;
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
    calls: &StoreCalls,
    who: &Principal,
    t: DbType,
    name: &str,
    username: Option<String>,
) -> ApiResult {
    let _guard = state.lock.lock().await;
    let db = owned(calls, who, t, name).await?;
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
    let id = db.id;
    for snap in calls.run(move |s| Ok(s.snapshots(id)?)).await? {
        let _ = std::fs::remove_file(snapshot_file(&state.snapshots_dir, &snap.snapshot_id, t));
    }
    let had_rules = calls
        .run(move |s| {
            let had_rules = !s.rules(Some(id))?.is_empty();
            s.delete_database(id, &now())?;
            Ok(had_rules)
        })
        .await?;
    if had_rules && t == DbType::Postgresql {
        super::apply_firewall(state, calls, t, &db).await?;
    }
    let what = if username.is_some() {
        "and its user "
    } else {
        ""
    };
    ok(json!({"success": true, "message": format!("Database {name} {what}deleted")}))
}

pub(super) async fn delete_by_body(
    State(state): State<AppState>,
    who: Can<Delete>,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let map = body.get()?;
    let t = db_type(
        &opt_str(&map, "db_type")?
            .ok_or_else(|| ApiError::validation("db_type", "db_type is required"))?,
    )?;
    let name = opt_str(&map, "db_name")?
        .ok_or_else(|| ApiError::validation("db_name", "db_name is required"))?;
    do_delete(&state, &calls, &who, t, &name, opt_str(&map, "username")?).await
}

pub(super) async fn delete_by_path(
    State(state): State<AppState>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    target: Target<Delete>,
    calls: StoreCalls,
) -> ApiResult {
    let username = query.get("username").filter(|u| !u.is_empty()).cloned();
    do_delete(
        &state,
        &calls,
        &target.who,
        target.t,
        &target.name,
        username,
    )
    .await
}

pub(super) async fn update(
    State(state): State<AppState>,
    target: Target<Update>,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let (t, name) = (target.t, target.name.clone());
    let map = body.get()?;
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
    let db = target.again(&calls).await?;
    let new_limit = limit.unwrap_or(db.connection_limit);
    if limit.is_some() {
        state
            .engines
            .set_connection_limit(t, &db.db_name, &db.username, new_limit)
            .await?;
    }
    let new_description = description.or(db.description.clone());
    calls
        .run(move |s| Ok(s.update_database(db.id, new_limit, new_description.as_deref())?))
        .await?;
    ok(json!({"success": true, "message": format!("Database {name} updated")}))
}

#[derive(serde::Deserialize)]
pub(super) struct ListQuery {
    customer_id: Option<String>,
}

pub(super) async fn list(
    State(state): State<AppState>,
    Path(raw_type): Path<String>,
    Query(query): Query<ListQuery>,
    who: Can<Read>,
    calls: StoreCalls,
) -> ApiResult {
    let t = db_type(&raw_type)?;
    let customer = match (who.internal, query.customer_id) {
        (true, Some(c)) if !c.is_empty() => c,
        _ => who.customer_id.clone(),
    };
    let dbs = calls
        .run(move |s| Ok(s.live_databases(&customer, Some(t.as_str()))?))
        .await?;
    let list: Vec<Value> = dbs.iter().map(|d| database_json(&state, d)).collect();
    ok(json!({"db_type": t.as_str(), "databases": list}))
}

pub(super) async fn history(who: Can<Read>, calls: StoreCalls) -> ApiResult {
    let customer = who.customer_id.clone();
    let list: Vec<Value> = calls
        .run(move |s| Ok(s.history(&customer)?))
        .await?
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
