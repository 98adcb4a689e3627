//! The organization and managed databases: register (verified in the tenant first), read,
//! list, patch, delete (with a best-effort cleanup) and the connection check.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::fields::{
    check_connection_string, jwks_uri, only_fields, required, string_list, text_field, valid_flavor,
};
use super::{data, now, resolve, verify, ApiResult};
use crate::emulator::cloudsync::error::ApiError;
use crate::emulator::cloudsync::extract::{Admin, JsonObject, Managed, StoreCalls};
use crate::emulator::cloudsync::store::{self, Database};
use crate::emulator::cloudsync::{tenant, AppState};

pub(super) async fn get_org(Admin(p): Admin, calls: StoreCalls) -> ApiResult {
    let org = calls
        .run(move |s| Ok(s.org(&p.org_id)?))
        .await?
        .ok_or_else(|| ApiError::not_found("organization not found"))?;
    Ok(data(org))
}

pub(super) async fn list_databases(Admin(p): Admin, calls: StoreCalls) -> ApiResult {
    let dbs = calls
        .run(move |s| Ok(s.list_databases(Some(&p.workspace_id))?))
        .await?;
    let total = dbs.len();
    Ok(Json(json!({
        "data": dbs.iter().map(Database::public).collect::<Vec<_>>(),
        "meta": { "total": total },
    }))
    .into_response())
}

const CREATE_FIELDS: &[&str] = &[
    "label",
    "connectionString",
    "provider",
    "flavor",
    "databaseName",
    "schemaName",
    "jwtAllowedIssuers",
    "jwtExpectedAudiences",
    "jwksUri",
    "jwtSecret",
];

pub(super) async fn create_database(
    State(state): State<AppState>,
    Admin(p): Admin,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let obj = body.get()?;
    only_fields(&obj, CREATE_FIELDS)?;
    let label = required(&obj, "label")?;
    let provider = required(&obj, "provider")?;
    if provider != "postgres" && provider != "sqlitecloud" {
        return Err(ApiError::validation(
            "provider",
            "provider must be postgres or sqlitecloud",
        ));
    }
    let connection_string = required(&obj, "connectionString")?;
    check_connection_string(&provider, &connection_string)?;
    let flavor = required(&obj, "flavor")?;
    if !valid_flavor(&flavor) {
        return Err(ApiError::validation(
            "flavor",
            "flavor is a lowercase name such as vanilla, supabase or sqlitecloud",
        ));
    }
    if (provider == "sqlitecloud") != (flavor == "sqlitecloud") {
        return Err(ApiError::validation(
            "flavor",
            "the sqlitecloud flavor goes with the sqlitecloud provider, and only with it",
        ));
    }
    let database_name = required(&obj, "databaseName")?;
    let name_ok = if provider == "sqlitecloud" {
        tenant::valid_sqlite_name(&database_name)
    } else {
        database_name.len() <= 63
    };
    if !name_ok {
        return Err(ApiError::validation(
            "databaseName",
            "databaseName is not a valid database name for this provider",
        ));
    }
    let schema_name = text_field(&obj, "schemaName")?;
    if schema_name.is_some() && provider != "postgres" {
        return Err(ApiError::validation(
            "schemaName",
            "schemaName applies to the postgres provider only",
        ));
    }
    if schema_name
        .as_deref()
        .is_some_and(|s| s.trim().is_empty() || s.len() > 63)
    {
        return Err(ApiError::validation(
            "schemaName",
            "schemaName must be 1 to 63 characters",
        ));
    }
    let jwt_secret = text_field(&obj, "jwtSecret")?.filter(|s| !s.is_empty());
    let ts = now();
    let db = Database {
        database_id: store::new_id("db_"),
        workspace_id: p.workspace_id.clone(),
        label,
        connection_string,
        provider,
        flavor,
        database_name,
        schema_name,
        jwt_allowed_issuers: string_list(&obj, "jwtAllowedIssuers")?.unwrap_or_default(),
        jwt_expected_audiences: string_list(&obj, "jwtExpectedAudiences")?.unwrap_or_default(),
        jwks_uri: jwks_uri(&obj)?.flatten(),
        jwt_secret,
        created_at: ts.clone(),
        updated_at: ts,
    };
    // Nothing is stored unless the tenant database is verified (seed 002).
    verify(&state, &db).await?;
    let id = db.database_id.clone();
    calls.run(move |s| Ok(s.insert_database(&db)?)).await?;
    tracing::info!(database = %id, "managed database registered");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "data": { "managedDatabaseId": id } })),
    )
        .into_response())
}

pub(super) async fn get_database(Managed(db): Managed) -> ApiResult {
    Ok(data(db.public()))
}

const PATCH_FIELDS: &[&str] = &[
    "label",
    "connectionString",
    "jwtAllowedIssuers",
    "jwtExpectedAudiences",
    "jwksUri",
    "jwtSecret",
];

pub(super) async fn patch_database(
    State(state): State<AppState>,
    Managed(mut db): Managed,
    calls: StoreCalls,
    body: JsonObject,
) -> ApiResult {
    let obj = body.get()?;
    for fixed in ["provider", "flavor", "databaseName", "schemaName"] {
        if obj.contains_key(fixed) {
            return Err(ApiError::validation(
                fixed,
                format!("{fixed} cannot be changed: register a new database instead"),
            ));
        }
    }
    only_fields(&obj, PATCH_FIELDS)?;
    if obj.contains_key("label") {
        db.label = required(&obj, "label")?;
    }
    let mut verify_again = false;
    if obj.contains_key("connectionString") {
        let s = required(&obj, "connectionString")?;
        check_connection_string(&db.provider, &s)?;
        verify_again = true;
        db.connection_string = s;
    }
    if let Some(list) = string_list(&obj, "jwtAllowedIssuers")? {
        db.jwt_allowed_issuers = list;
    }
    if let Some(list) = string_list(&obj, "jwtExpectedAudiences")? {
        db.jwt_expected_audiences = list;
    }
    if let Some(uri) = jwks_uri(&obj)? {
        db.jwks_uri = uri;
    }
    // Omitted: unchanged; "": cleared (seed 002).
    if obj.contains_key("jwtSecret") {
        db.jwt_secret = text_field(&obj, "jwtSecret")?.filter(|s| !s.is_empty());
    }
    if verify_again {
        // The new connection is verified before it is stored (seed 002).
        verify(&state, &db).await?;
    }
    db.updated_at = now();
    let stored = db.clone();
    if !calls.run(move |s| Ok(s.update_database(&stored)?)).await? {
        return Err(ApiError::not_found("managed database not found"));
    }
    Ok(data(db.public()))
}

pub(super) async fn delete_database(
    State(state): State<AppState>,
    Managed(db): Managed,
    calls: StoreCalls,
) -> ApiResult {
    // Best-effort cleanup first (seed 002); the record goes whatever it reports.
    let warnings = match resolve(&state, &db).await {
        Ok(tenant) => tenant.cleanup().await,
        Err(f) => vec![format!(
            "could not reach the tenant database to disable its tables ({}: {})",
            f.code, f.message
        )],
    };
    let id = db.database_id.clone();
    let gone = id.clone();
    calls.run(move |s| Ok(s.delete_database(&gone)?)).await?;
    Ok(data(json!({
        "managedDatabaseId": id,
        "deleted": true,
        "warnings": warnings,
    })))
}

pub(super) async fn check_connection(
    State(state): State<AppState>,
    Managed(db): Managed,
) -> ApiResult {
    let outcome = match resolve(&state, &db).await {
        Ok(tenant) => tenant.verify().await,
        Err(f) => Err(f),
    };
    let checked_at = now();
    Ok(data(match outcome {
        Ok(()) => json!({ "ok": true, "checkedAt": checked_at }),
        Err(f) => json!({
            "ok": false,
            "checkedAt": checked_at,
            "failure": { "code": f.code, "message": f.message, "retryable": f.retryable },
        }),
    }))
}
