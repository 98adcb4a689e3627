//! The public CloudSync management API (`/v1/...`), as `docs/api/cloudsync.md` gives it, one
//! file per area: [`databases`] (the organization and managed databases), [`tables`]
//! (CloudSync on a tenant's tables), [`notifications`] (the Expo token, push status and
//! devices); [`fields`] reads request fields.
//!
//! Order of checks on every route: the bearer key (401) and its role (403) by the
//! extractors (`super::extract`: `Admin`, `Managed`), the database exists in the key's
//! workspace (404, the same body for another workspace's), the body or query (400 / 422),
//! then the tenant database (its failure codes).

mod databases;
mod fields;
mod notifications;
mod tables;

use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::error::ApiError;
use super::store::Database;
use super::tenant::{self, Tenant};
use super::AppState;
use crate::emulator::core::{blocking, clock};

/// Longest label, connection string and JWT setting accepted [assumed].
pub const MAX_TEXT: usize = 2048;
/// Largest `page_size` of the devices list (seed 002).
pub const MAX_PAGE_SIZE: u64 = 500;
/// Default `page_size` of the devices list (seed 002).
pub const DEFAULT_PAGE_SIZE: u64 = 50;

pub fn routes() -> Router<AppState> {
    use databases::{
        check_connection, create_database, delete_database, get_database, get_org, list_databases,
        patch_database,
    };
    use notifications::{
        delete_device, delete_expo, get_expo, list_devices, notification_status, put_expo,
    };
    use tables::{disable, enable, list_tables};
    Router::new()
        .route("/v1/orgs", get(get_org))
        .route("/v1/databases", get(list_databases).post(create_database))
        .route(
            "/v1/databases/{database}",
            get(get_database)
                .patch(patch_database)
                .delete(delete_database),
        )
        .route("/v1/databases/{database}/connection", get(check_connection))
        .route(
            "/v1/databases/{database}/cloudsync/tables",
            get(list_tables),
        )
        .route("/v1/databases/{database}/cloudsync/enable", post(enable))
        .route("/v1/databases/{database}/cloudsync/disable", post(disable))
        .route(
            "/v1/databases/{database}/notifications/expo-access-token",
            get(get_expo).put(put_expo).delete(delete_expo),
        )
        .route(
            "/v1/databases/{database}/notifications/status",
            get(notification_status),
        )
        .route("/v1/databases/{database}/devices", get(list_devices))
        .route(
            "/v1/databases/{database}/devices/{site}",
            delete(delete_device),
        )
}

type ApiResult = Result<Response, ApiError>;

fn data(value: Value) -> Response {
    Json(json!({ "data": value })).into_response()
}

async fn resolve(state: &AppState, db: &Database) -> Result<Tenant, tenant::Failure> {
    let (root, db) = (state.root.clone(), db.clone());
    blocking::run(&state.store, move |store| {
        tenant::resolve(
            store,
            &root,
            &db.provider,
            &db.connection_string,
            &db.database_name,
            db.schema_name.as_deref(),
        )
    })
    .await
}

fn tenant_error(f: tenant::Failure) -> ApiError {
    ApiError::tenant(f.code, f.message, f.retryable)
}

/// The tenant database answers (failures point at `/connectionString`).
async fn verify(state: &AppState, db: &Database) -> Result<(), ApiError> {
    let at_connection_string = |f: tenant::Failure| {
        let mut e = tenant_error(f);
        e.pointer = Some("/connectionString".to_owned());
        e
    };
    let tenant = resolve(state, db).await.map_err(at_connection_string)?;
    tenant.verify().await.map_err(at_connection_string)
}

fn now() -> String {
    clock::format_ts(clock::now())
}

fn tables_json(tables: Vec<(String, bool)>) -> Value {
    Value::Array(
        tables
            .into_iter()
            .map(|(name, enabled)| json!({ "name": name, "enabled": enabled }))
            .collect(),
    )
}
