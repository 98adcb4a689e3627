//! Push notifications of a managed database: its Expo access token (only a suffix is ever
//! shown), the push status, and the devices that registered.

use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::fields::{only_fields, required};
use super::{data, ApiResult, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::emulator::cloudsync::error::ApiError;
use crate::emulator::cloudsync::extract::{JsonObject, Managed, StoreCalls};
use crate::emulator::cloudsync::store;

fn expo_meta(token: Option<(String, String, String)>) -> Value {
    match token {
        None => json!({ "configured": false }),
        Some((token, created_at, updated_at)) => {
            let tail: String = token
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            json!({
                "configured": true,
                "tokenSuffix": tail,
                "createdAt": created_at,
                "updatedAt": updated_at,
            })
        }
    }
}

pub(super) async fn get_expo(Managed(db): Managed, calls: StoreCalls) -> ApiResult {
    let token = calls
        .run(move |s| Ok(s.expo_token(&db.database_id)?))
        .await?;
    Ok(data(expo_meta(token)))
}

pub(super) async fn put_expo(
    Managed(db): Managed,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let obj = body.get()?;
    only_fields(&obj, &["expoAccessToken"])?;
    let token = required(&obj, "expoAccessToken")?;
    if token.trim() != token || token.chars().any(char::is_control) {
        return Err(ApiError::validation(
            "expoAccessToken",
            "expoAccessToken must not have surrounding whitespace or control characters",
        ));
    }
    let meta = calls
        .run(move |s| {
            s.set_expo_token(&db.database_id, &token)?;
            Ok(s.expo_token(&db.database_id)?)
        })
        .await?;
    Ok(data(expo_meta(meta)))
}

pub(super) async fn delete_expo(Managed(db): Managed, calls: StoreCalls) -> ApiResult {
    if !calls
        .run(move |s| Ok(s.delete_expo_token(&db.database_id)?))
        .await?
    {
        return Err(ApiError::not_found("no Expo access token is set"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn notification_status(Managed(db): Managed, calls: StoreCalls) -> ApiResult {
    let (token, pause) = calls
        .run(move |s| {
            Ok((
                s.expo_token(&db.database_id)?,
                s.pause_reason(&db.database_id)?,
            ))
        })
        .await?;
    Ok(data(match (pause, token) {
        (Some(reason), _) => json!({ "status": "paused", "reason": reason }),
        (None, Some(_)) => json!({ "status": "enabled", "reason": null }),
        (None, None) => json!({ "status": "disabled", "reason": null }),
    }))
}

fn query_number(query: &Option<String>, name: &str, default: u64) -> Result<u64, ApiError> {
    let raw = query.as_deref().unwrap_or("");
    match url::form_urlencoded::parse(raw.as_bytes()).find(|(k, _)| k == name) {
        None => Ok(default),
        Some((_, v)) => v.parse::<u64>().map_err(|_| {
            ApiError::validation(name, format!("{name} must be a positive whole number"))
        }),
    }
}

pub(super) async fn list_devices(
    Managed(db): Managed,
    RawQuery(query): RawQuery,
    calls: StoreCalls,
) -> ApiResult {
    let page = query_number(&query, "page", 1)?;
    let page_size = query_number(&query, "page_size", DEFAULT_PAGE_SIZE)?;
    if page < 1 {
        return Err(ApiError::validation("page", "page starts at 1"));
    }
    if !(1..=MAX_PAGE_SIZE).contains(&page_size) {
        return Err(ApiError::validation(
            "page_size",
            format!("page_size must be between 1 and {MAX_PAGE_SIZE}"),
        ));
    }
    let (devices, total) = calls
        .run(move |s| Ok(s.devices(&db.database_id, page, page_size)?))
        .await?;
    Ok(Json(json!({
        "data": devices.iter().map(store::Device::public).collect::<Vec<_>>(),
        "meta": {
            "page": page,
            "pageSize": page_size,
            "total": total,
            "totalPages": total.div_ceil(page_size),
        },
    }))
    .into_response())
}

pub(super) async fn delete_device(
    Path((_, site)): Path<(String, String)>,
    Managed(db): Managed,
    calls: StoreCalls,
) -> ApiResult {
    if !calls
        .run(move |s| Ok(s.delete_device(&db.database_id, &site)?))
        .await?
    {
        return Err(ApiError::not_found("device not found"));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
