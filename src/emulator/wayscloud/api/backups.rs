//! The backup policy of a database (kept and reported; the next backup computed from it).

use axum::extract::State;
use serde_json::{json, Value};

use super::{ok, opt_int, opt_str, ApiResult};
use crate::emulator::core::clock;
use crate::emulator::wayscloud::error::ApiError;
use crate::emulator::wayscloud::extract::{JsonObject, Read, StoreCalls, Target, Update};
use crate::emulator::wayscloud::store::{Database, Policy};
use crate::emulator::wayscloud::{validate, AppState};

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

pub(super) async fn get_policy(target: Target<Read>, calls: StoreCalls) -> ApiResult {
    let Target { db, .. } = target;
    let id = db.id;
    let policy = calls
        .run(move |s| Ok(s.policy(id)?))
        .await?
        .unwrap_or_default();
    ok(policy_json(&db, &policy))
}

pub(super) async fn put_policy(
    State(state): State<AppState>,
    target: Target<Update>,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let map = body.get()?;
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
    let db = target.again(&calls).await?;
    let policy = Policy {
        enabled,
        frequency,
        retention_days,
        time_of_day,
    };
    let (id, record) = (db.id, policy.clone());
    calls.run(move |s| Ok(s.set_policy(id, &record)?)).await?;
    ok(policy_json(&db, &policy))
}
