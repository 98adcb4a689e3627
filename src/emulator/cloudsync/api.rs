//! The public CloudSync management API (`/v1/...`), as `docs/api/cloudsync.md` gives it.
//!
//! Order of checks on every route: the bearer key (401), its role (403), the database
//! exists in the key's workspace (404, the same body for another workspace's), the body
//! or query (400 / 422), then the tenant database (its failure codes).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::store::{self, Database, Principal};
use super::tenant::{self, EnableError, Tenant};
use super::AppState;
use crate::emulator::core::{auth, clock};

/// Longest label, connection string and JWT setting accepted [assumed].
pub const MAX_TEXT: usize = 2048;
/// Largest `page_size` of the devices list (seed 002).
pub const MAX_PAGE_SIZE: u64 = 500;
/// Default `page_size` of the devices list (seed 002).
pub const DEFAULT_PAGE_SIZE: u64 = 50;

pub fn routes() -> Router<AppState> {
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
            axum::routing::delete(delete_device),
        )
}

// ---- helpers ------------------------------------------------------------------------------

fn data(value: Value) -> Response {
    Json(json!({ "data": value })).into_response()
}

async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&store::Store) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    crate::emulator::core::blocking::run(&state.store, f).await
}

async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let raw = auth::bearer(headers).map_err(|_| ApiError::unauthorized())?;
    let principal = blocking(state, move |s| Ok(s.authenticate(&raw)?))
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    if principal.role != store::ADMIN_ROLE {
        return Err(ApiError::forbidden(format!(
            "the management API needs a key with the {} role (this key has {})",
            store::ADMIN_ROLE,
            principal.role
        )));
    }
    Ok(principal)
}

async fn database(
    state: &AppState,
    headers: &HeaderMap,
    id: String,
) -> Result<(Principal, Database), ApiError> {
    let p = principal(state, headers).await?;
    let ws = p.workspace_id.clone();
    let db = blocking(state, move |s| Ok(s.get_database(&ws, &id)?))
        .await?
        .ok_or_else(|| ApiError::not_found("managed database not found"))?;
    Ok((p, db))
}

fn object(body: Result<Bytes, BytesRejection>) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|e| ApiError::bad_request(format!("cannot read body: {e}")))?;
    match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!("malformed JSON body: {e}"))),
    }
}

fn text_field(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_TEXT => Err(ApiError::validation(
            field,
            format!("{field} is longer than {MAX_TEXT} characters"),
        )),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be a string"),
        )),
    }
}

fn required(obj: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    match text_field(obj, field)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(ApiError::validation(field, format!("{field} is required"))),
    }
}

fn string_list(obj: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, ApiError> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Vec::new())),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v.as_str() {
                Some(s) if !s.trim().is_empty() && s.len() <= MAX_TEXT => Ok(s.to_owned()),
                _ => Err(ApiError::validation(
                    field,
                    format!("{field} must be an array of non-empty strings"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be an array of strings"),
        )),
    }
}

/// `Some(None)` clears, `Some(Some(url))` sets.
fn jwks_uri(obj: &Map<String, Value>) -> Result<Option<Option<String>>, ApiError> {
    if !obj.contains_key("jwksUri") {
        return Ok(None);
    }
    match text_field(obj, "jwksUri")? {
        None => Ok(Some(None)),
        Some(s) if s.is_empty() => Ok(Some(None)),
        Some(s) => match url::Url::parse(&s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Ok(Some(Some(s)))
            }
            _ => Err(ApiError::validation(
                "jwksUri",
                "jwksUri must be an absolute http(s) URL",
            )),
        },
    }
}

fn check_connection_string(provider: &str, s: &str) -> Result<(), ApiError> {
    let ok = match provider {
        "postgres" => s.starts_with("postgres://") || s.starts_with("postgresql://"),
        _ => s.starts_with("sqlitecloud://"),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(
            "connectionString",
            format!(
                "a {provider} connection string starts with {}",
                if provider == "postgres" {
                    "postgres:// or postgresql://"
                } else {
                    "sqlitecloud://"
                }
            ),
        ))
    }
}

fn only_fields(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    for key in obj.keys() {
        if key == "workspaceId" {
            return Err(ApiError::validation(
                "workspaceId",
                "omit workspaceId: the workspace is derived from the API key",
            ));
        }
        if !allowed.contains(&key.as_str()) {
            return Err(ApiError::validation(
                key,
                format!("{key} is not a field of this request"),
            ));
        }
    }
    Ok(())
}

async fn resolve(state: &AppState, db: &Database) -> Result<Tenant, tenant::Failure> {
    let (root, db) = (state.root.clone(), db.clone());
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        tenant::resolve(
            &store,
            &root,
            &db.provider,
            &db.connection_string,
            &db.database_name,
            db.schema_name.as_deref(),
        )
    })
    .await
    .unwrap_or_else(|e| {
        Err(tenant::Failure {
            code: "database_error",
            message: e.to_string(),
            retryable: false,
        })
    })
}

fn tenant_error(f: tenant::Failure) -> ApiError {
    ApiError::tenant(f.code, f.message, f.retryable)
}

async fn verify(state: &AppState, db: &Database) -> Result<(), ApiError> {
    let tenant = resolve(state, db).await.map_err(|f| {
        let mut e = tenant_error(f);
        e.pointer = Some("/connectionString".to_owned());
        e
    })?;
    tenant.verify().await.map_err(|f| {
        let mut e = tenant_error(f);
        e.pointer = Some("/connectionString".to_owned());
        e
    })
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

// ---- handlers -----------------------------------------------------------------------------

async fn get_org(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let run = async {
        let p = principal(&state, &headers).await?;
        let org = blocking(&state, move |s| Ok(s.org(&p.org_id)?))
            .await?
            .ok_or_else(|| ApiError::not_found("organization not found"))?;
        Ok::<_, ApiError>(data(org))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn list_databases(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let run = async {
        let p = principal(&state, &headers).await?;
        let dbs = blocking(
            &state,
            move |s| Ok(s.list_databases(Some(&p.workspace_id))?),
        )
        .await?;
        let total = dbs.len();
        Ok::<_, ApiError>(
            Json(json!({
                "data": dbs.iter().map(Database::public).collect::<Vec<_>>(),
                "meta": { "total": total },
            }))
            .into_response(),
        )
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
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

fn valid_flavor(f: &str) -> bool {
    !f.is_empty()
        && f.len() <= 32
        && f.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}

async fn create_database(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = async {
        let p = principal(&state, &headers).await?;
        let obj = object(body)?;
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
        blocking(&state, move |s| Ok(s.insert_database(&db)?)).await?;
        tracing::info!(database = %id, "managed database registered");
        Ok::<_, ApiError>(
            (
                StatusCode::CREATED,
                Json(json!({ "data": { "managedDatabaseId": id } })),
            )
                .into_response(),
        )
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn get_database(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match database(&state, &headers, id).await {
        Ok((_, db)) => data(db.public()),
        Err(e) => e.into_response(),
    }
}

const PATCH_FIELDS: &[&str] = &[
    "label",
    "connectionString",
    "jwtAllowedIssuers",
    "jwtExpectedAudiences",
    "jwksUri",
    "jwtSecret",
];

async fn patch_database(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = async {
        let (_, mut db) = database(&state, &headers, id).await?;
        let obj = object(body)?;
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
        if !blocking(&state, move |s| Ok(s.update_database(&stored)?)).await? {
            return Err(ApiError::not_found("managed database not found"));
        }
        Ok::<_, ApiError>(data(db.public()))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn delete_database(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
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
        blocking(&state, move |s| Ok(s.delete_database(&gone)?)).await?;
        Ok::<_, ApiError>(data(json!({
            "managedDatabaseId": id,
            "deleted": true,
            "warnings": warnings,
        })))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn check_connection(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
        let outcome = match resolve(&state, &db).await {
            Ok(tenant) => tenant.verify().await,
            Err(f) => Err(f),
        };
        let checked_at = now();
        Ok::<_, ApiError>(data(match outcome {
            Ok(()) => json!({ "ok": true, "checkedAt": checked_at }),
            Err(f) => json!({
                "ok": false,
                "checkedAt": checked_at,
                "failure": { "code": f.code, "message": f.message, "retryable": f.retryable },
            }),
        }))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn list_tables(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
        let tenant = resolve(&state, &db).await.map_err(tenant_error)?;
        let tables = tenant.tables().await.map_err(tenant_error)?;
        Ok::<_, ApiError>(data(tables_json(tables)))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
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

async fn switch(
    state: AppState,
    headers: HeaderMap,
    id: String,
    body: Result<Bytes, BytesRejection>,
    on: bool,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
        let obj = object(body)?;
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
        Ok::<_, ApiError>(data(tables_json(
            all.into_iter()
                .filter(|(n, _)| tables.contains(n))
                .collect(),
        )))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn enable(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    switch(state, headers, id, body, true).await
}

async fn disable(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    switch(state, headers, id, body, false).await
}

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

async fn get_expo(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
        let token = blocking(&state, move |s| Ok(s.expo_token(&db.database_id)?)).await?;
        Ok::<_, ApiError>(data(expo_meta(token)))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn put_expo(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
        let obj = object(body)?;
        only_fields(&obj, &["expoAccessToken"])?;
        let token = required(&obj, "expoAccessToken")?;
        if token.trim() != token || token.chars().any(char::is_control) {
            return Err(ApiError::validation(
                "expoAccessToken",
                "expoAccessToken must not have surrounding whitespace or control characters",
            ));
        }
        let meta = blocking(&state, move |s| {
            s.set_expo_token(&db.database_id, &token)?;
            Ok(s.expo_token(&db.database_id)?)
        })
        .await?;
        Ok::<_, ApiError>(data(expo_meta(meta)))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn delete_expo(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
        if !blocking(&state, move |s| Ok(s.delete_expo_token(&db.database_id)?)).await? {
            return Err(ApiError::not_found("no Expo access token is set"));
        }
        Ok::<_, ApiError>(StatusCode::NO_CONTENT.into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn notification_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
        let (token, pause) = blocking(&state, move |s| {
            Ok((
                s.expo_token(&db.database_id)?,
                s.pause_reason(&db.database_id)?,
            ))
        })
        .await?;
        Ok::<_, ApiError>(data(match (pause, token) {
            (Some(reason), _) => json!({ "status": "paused", "reason": reason }),
            (None, Some(_)) => json!({ "status": "enabled", "reason": null }),
            (None, None) => json!({ "status": "disabled", "reason": null }),
        }))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
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

async fn list_devices(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
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
        let (devices, total) = blocking(&state, move |s| {
            Ok(s.devices(&db.database_id, page, page_size)?)
        })
        .await?;
        Ok::<_, ApiError>(
            Json(json!({
                "data": devices.iter().map(store::Device::public).collect::<Vec<_>>(),
                "meta": {
                    "page": page,
                    "pageSize": page_size,
                    "total": total,
                    "totalPages": total.div_ceil(page_size),
                },
            }))
            .into_response(),
        )
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn delete_device(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, site)): Path<(String, String)>,
) -> Response {
    let run = async {
        let (_, db) = database(&state, &headers, id).await?;
        if !blocking(
            &state,
            move |s| Ok(s.delete_device(&db.database_id, &site)?),
        )
        .await?
        {
            return Err(ApiError::not_found("device not found"));
        }
        Ok::<_, ApiError>(StatusCode::NO_CONTENT.into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}
