//! WaysCloud's admin routes under `/_emulator/` (API keys, quotas, a read-only listing of
//! what it holds), next to the core's; and its engines' readiness for the core's
//! `GET /_emulator/health`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::StoreCalls;
use super::AppState;
use crate::emulator::core::admin::parse_body;
use crate::emulator::core::engines::probe;
use crate::emulator::core::secrets::random_hex;
use crate::emulator::core::{BoxFuture, Readiness};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/api-keys", post(create_key))
        .route("/_emulator/customers/{customer_id}/quota", put(set_quota))
        .route("/_emulator/databases", get(list_databases))
}

/// PostgreSQL's and MariaDB's readiness: each server process runs and accepts connections.
pub(super) fn readiness(state: &AppState) -> BoxFuture<'static, Vec<Readiness>> {
    let engines = state.engines.clone();
    Box::pin(async move {
        let (pg, my) = (engines.pg(), engines.my());
        vec![
            Readiness::state_file(),
            probe("postgresql", pg.exited(), pg.port()).await,
            probe("mariadb", my.exited(), my.port()).await,
        ]
    })
}

/// `GET /_emulator/databases`: every live database WaysCloud holds (every customer's), with
/// its firewall rules and snapshots, and the engines' ports. Read-only.
async fn list_databases(State(state): State<AppState>, store: StoreCalls) -> Response {
    let listed = store.run(move |store| -> Result<Vec<serde_json::Value>, ApiError> {
        let mut out = Vec::new();
        for db in store.all_live()? {
            let rules: Vec<_> = store
                .rules(Some(db.id))?
                .into_iter()
                .map(|r| json!({"rule_id": r.rule_id, "cidr": r.cidr, "description": r.description}))
                .collect();
            let snapshots: Vec<_> = store
                .snapshots(db.id)?
                .into_iter()
                .map(|s| json!({"snapshot_id": s.snapshot_id, "size_bytes": s.size_bytes, "created_at": s.created_at}))
                .collect();
            out.push(json!({
                "id": db.id,
                "db_type": db.db_type,
                "db_name": db.db_name,
                "username": db.username,
                "customer_id": db.customer_id,
                "connection_limit": db.connection_limit,
                "description": db.description,
                "created_at": db.created_at,
                "firewall_rules": rules,
                "snapshots": snapshots,
            }));
        }
        Ok(out)
    })
    .await;
    match listed {
        Ok(databases) => Json(json!({
            "databases": databases,
            "engines": {
                "postgresql": {"host": state.engines.host(), "port": state.engines.port(super::engine::DbType::Postgresql)},
                "mariadb": {"host": state.engines.host(), "port": state.engines.port(super::engine::DbType::Mariadb)},
            },
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    customer_id: Option<String>,
    permissions: Vec<String>,
    #[serde(default)]
    internal: bool,
}

async fn create_key(
    State(state): State<AppState>,
    calls: StoreCalls,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let req: NewKey = parse_body(body).map_err(ApiError::from)?;
        let customer = req.customer_id.unwrap_or_else(|| random_hex(4));
        super::validate::customer_id(&customer)?;
        for p in &req.permissions {
            if !super::PERMISSIONS.contains(&p.as_str()) {
                return Err(ApiError::validation(
                    "permissions",
                    format!("unknown permission {p:?}"),
                ));
            }
        }
        let key = super::new_api_key();
        let (quota, stored, owner) = (state.default_quota, key.clone(), customer.clone());
        calls
            .run(move |s| {
                s.ensure_customer(&owner, quota)?;
                Ok(s.add_key(
                    &stored,
                    &owner,
                    &req.permissions,
                    req.internal,
                    &super::now(),
                )?)
            })
            .await?;
        Ok(json!({"api_key": key, "customer_id": customer}))
    }
    .await;
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Quota {
    limit: i64,
}

async fn set_quota(
    Path(customer): Path<String>,
    calls: StoreCalls,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let req: Quota = parse_body(body).map_err(ApiError::from)?;
        if !(0..=10_000).contains(&req.limit) {
            return Err(ApiError::validation(
                "limit",
                "limit must be between 0 and 10000",
            ));
        }
        let (who, limit) = (customer.clone(), req.limit);
        calls.run(move |s| Ok(s.set_quota(&who, limit)?)).await?;
        Ok(json!({"customer_id": customer, "limit": req.limit}))
    }
    .await;
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}
