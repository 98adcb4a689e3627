//! WaysCloud's admin routes under `/_emulator/` (API keys, quotas), next to the core's.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::StoreCalls;
use super::AppState;
use crate::emulator::core::admin::parse_body;
use crate::emulator::core::secrets::random_hex;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/_emulator/api-keys", post(create_key))
        .route("/_emulator/customers/{customer_id}/quota", put(set_quota))
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
