//! CloudSync on a tenant database's tables: the list, enable and disable.

use axum::extract::State;
use serde_json::{Map, Value};

use super::fields::{only_fields, string_list};
use super::{data, resolve, tables_json, tenant_error, ApiResult};
use crate::emulator::cloudsync::error::ApiError;
use crate::emulator::cloudsync::extract::{JsonObject, Managed};
use crate::emulator::cloudsync::tenant::EnableError;
use crate::emulator::cloudsync::AppState;

pub(super) async fn list_tables(State(state): State<AppState>, Managed(db): Managed) -> ApiResult {
    let tenant = resolve(&state, &db).await.map_err(tenant_error)?;
    let tables = tenant.tables().await.map_err(tenant_error)?;
    Ok(data(tables_json(tables)))
}

fn table_list(obj: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    let tables = string_list(obj, "tables")?.unwrap_or_default();
    if tables.is_empty() {
        return Err(ApiError::validation(
            "tables",
            "tables must be a non-empty array of table names",
        ));
    }
    let mut unique = tables.clone();
    unique.sort();
    unique.dedup();
    Ok(unique)
}

async fn switch(state: AppState, db: Managed, body: JsonObject, on: bool) -> ApiResult {
    let Managed(db) = db;
    let obj = body.get()?;
    only_fields(&obj, &["tables"])?;
    let tables = table_list(&obj)?;
    let tenant = resolve(&state, &db).await.map_err(tenant_error)?;
    let result = if on {
        tenant.enable(&tables).await
    } else {
        tenant.disable(&tables).await
    };
    result.map_err(|e| match e {
        EnableError::Tenant(f) => tenant_error(f),
        EnableError::UnknownTable { table, known } => ApiError::table_not_found(&table, &known),
    })?;
    let all = tenant.tables().await.map_err(tenant_error)?;
    Ok(data(tables_json(
        all.into_iter()
            .filter(|(n, _)| tables.contains(n))
            .collect(),
    )))
}

pub(super) async fn enable(
    State(state): State<AppState>,
    db: Managed,
    body: JsonObject,
) -> ApiResult {
    switch(state, db, body, true).await
}

pub(super) async fn disable(
    State(state): State<AppState>,
    db: Managed,
    body: JsonObject,
) -> ApiResult {
    switch(state, db, body, false).await
}
