//! Firewall rules: which addresses may reach a database, applied by its engine (a rule the
//! engine refuses is not kept).

use axum::extract::{Path, State};
use serde_json::{json, Value};

use super::{apply_firewall, created, ok, opt_str, ApiResult};
use crate::emulator::wayscloud::engine::DbType;
use crate::emulator::wayscloud::error::ApiError;
use crate::emulator::wayscloud::extract::{JsonObject, Read, StoreCalls, Target, Update};
use crate::emulator::wayscloud::store::{Database, Rule};
use crate::emulator::wayscloud::{now, validate, AppState};

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

pub(super) async fn add_rule(
    State(state): State<AppState>,
    target: Target<Update>,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let (t, name) = (target.t, target.name.clone());
    let map = body.get()?;
    let ip = opt_str(&map, "ip_address")?
        .ok_or_else(|| ApiError::validation("ip_address", "ip_address is required"))?;
    let cidr = validate::ipv4_or_cidr(&ip)?;
    let description = opt_str(&map, "description")?;
    if let Some(d) = &description {
        validate::description(d, "description")?;
    }
    let _guard = state.lock.lock().await;
    let db = target.again(&calls).await?;
    let rule = Rule {
        rule_id: uuid::Uuid::new_v4().to_string(),
        db_id: db.id,
        ip_address: ip.clone(),
        cidr,
        description,
        created_at: now(),
    };
    let record = rule.clone();
    calls
        .run(move |s| {
            let rules = s.rules(Some(record.db_id))?;
            if rules.iter().any(|r| r.cidr == record.cidr) {
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
            Ok(s.insert_rule(&record)?)
        })
        .await?;
    if let Err(e) = apply_firewall(&state, &calls, t, &db).await {
        let (id, rule_id) = (db.id, rule.rule_id.clone());
        let _ = calls.run(move |s| Ok(s.delete_rule(id, &rule_id)?)).await;
        return Err(e);
    }
    created(rule_json(&state, t, &db, &rule))
}

pub(super) async fn list_rules(
    State(state): State<AppState>,
    target: Target<Read>,
    calls: StoreCalls,
) -> ApiResult {
    let Target { t, db, .. } = target;
    let id = db.id;
    let rules: Vec<Value> = calls
        .run(move |s| Ok(s.rules(Some(id))?))
        .await?
        .iter()
        .map(|r| rule_json(&state, t, &db, r))
        .collect();
    let total = rules.len();
    ok(json!({"rules": rules, "total": total}))
}

pub(super) async fn delete_rule(
    State(state): State<AppState>,
    Path((_, _, rule_id)): Path<(String, String, String)>,
    target: Target<Update>,
    calls: StoreCalls,
) -> ApiResult {
    let (t, name) = (target.t, target.name.clone());
    let _guard = state.lock.lock().await;
    let db = target.again(&calls).await?;
    let (id, gone) = (db.id, rule_id.clone());
    if !calls.run(move |s| Ok(s.delete_rule(id, &gone)?)).await? {
        return Err(ApiError::not_found(format!(
            "Firewall rule {rule_id} not found on {name}"
        )));
    }
    apply_firewall(&state, &calls, t, &db).await?;
    ok(json!({"success": true, "message": format!("Firewall rule {rule_id} removed")}))
}
