//! The `/v1` routes of project domains, DNS records and app hostnames. Order of checks as
//! for apps: bearer (401), scope (403), the object exists and the token is a member of its
//! project (404, the same body for a foreign one), the body (400 / 422), the state (409).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::super::error::ApiError;
use super::super::extract::{
    authenticate, authorize_project, opt_int, opt_string, JsonObject, Segment, StoreCalls,
    TwoSegments, UserToken,
};
use super::super::store::dns::{covers, spec_in_zone};
use super::super::store::{App, DnsRecord, Domain, Hostname, Principal, Store};
use super::super::AppState;
use super::{delegation, needed_records, verify, DnsInfo, NAME_SERVERS};
use crate::contract::dns as rules;

/// Every DNS route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/projects/{project}/domains",
            get(list_domains).post(create_domain),
        )
        .route(
            "/v1/domains/{domain}",
            get(get_domain).delete(delete_domain),
        )
        .route(
            "/v1/domains/{domain}/records",
            get(list_records).post(create_record),
        )
        .route(
            "/v1/domains/{domain}/records/{record}",
            get(get_record).put(put_record).delete(delete_record),
        )
        .route(
            "/v1/apps/{app}/hostnames",
            get(list_hostnames).post(create_hostname),
        )
        .route(
            "/v1/apps/{app}/hostnames/{hostname}",
            get(get_hostname).delete(delete_hostname),
        )
}

/// `GET /_emulator/dns`: the DNS server's address, the resolver, and every zone with its
/// serial and records (admin only).
pub fn admin_routes() -> Router<AppState> {
    Router::new().route("/_emulator/dns", get(admin_dns))
}

async fn admin_dns(
    State(info): State<DnsInfo>,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store.run(move |store| {
        let zones: Vec<Value> = store
            .zones()?
            .iter()
            .map(|z| {
                json!({
                    "domain_id": z.domain.domain_id,
                    "project_id": z.domain.project_id,
                    "domain": z.domain.name,
                    "soa_serial": z.domain.serial,
                    "records": z.records.iter().map(|r| record_json(&z.domain.name, r)).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(Json(json!({
            "server": info.server.to_string(),
            "resolver": info.resolver.to_string(),
            "zones": zones,
        })))
    })
    .await
}

fn authorize_domain(
    store: &Store,
    raw: &str,
    scope: &str,
    domain_id: &str,
) -> Result<(Principal, Domain), ApiError> {
    let principal = authenticate(store, raw, scope)?;
    let unknown = || ApiError::not_found(format!("domain {domain_id} not found"));
    let domain = store.get_domain(domain_id)?.ok_or_else(unknown)?;
    if !principal.is_member(&domain.project_id) {
        return Err(unknown());
    }
    Ok((principal, domain))
}

fn authorize_app(store: &Store, raw: &str, scope: &str, app_id: &str) -> Result<App, ApiError> {
    let principal = authenticate(store, raw, scope)?;
    let unknown = || ApiError::not_found(format!("app {app_id} not found"));
    let app = store.get_app(app_id)?.ok_or_else(unknown)?;
    if !principal.is_member(&app.project_id) {
        return Err(unknown());
    }
    Ok(app)
}

// ---- domains --------------------------------------------------------------------------------

async fn domain_json(info: DnsInfo, d: &Domain) -> Value {
    let (status, found) = delegation(info.resolver, &d.name).await;
    json!({
        "domain_id": d.domain_id,
        "project_id": d.project_id,
        "domain": d.name,
        "name_servers": NAME_SERVERS,
        "delegation_status": status,
        "delegated_name_servers": found,
        "soa_serial": d.serial,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
    })
}

async fn list_domains(
    State(info): State<DnsInfo>,
    Segment(project_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    let domains = store
        .run(move |store| {
            authorize_project(store, &raw, "domain:read", &project_id)?;
            Ok(store.list_domains(&project_id)?)
        })
        .await?;
    let mut list = Vec::new();
    for d in &domains {
        list.push(domain_json(info, d).await);
    }
    Ok(Json(json!({ "domains": list })))
}

async fn create_domain(
    State(info): State<DnsInfo>,
    Segment(project_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let domain = store
        .run(move |store| {
            authorize_project(store, &raw, "domain:write", &project_id)?;
            let obj = body.get()?;
            let name = opt_string(&obj, "domain")?
                .ok_or_else(|| ApiError::validation("domain", "domain is required"))?;
            let name = rules::domain_name(&name).map_err(|m| ApiError::validation("domain", m))?;
            Ok(store.create_domain(&project_id, &name)?)
        })
        .await?;
    tracing::info!(domain_id = %domain.domain_id, domain = %domain.name, "domain onboarded");
    Ok((StatusCode::CREATED, Json(domain_json(info, &domain).await)).into_response())
}

async fn get_domain(
    State(info): State<DnsInfo>,
    Segment(domain_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    let (_, domain) = store
        .run(move |store| authorize_domain(store, &raw, "domain:read", &domain_id))
        .await?;
    Ok(Json(domain_json(info, &domain).await))
}

async fn delete_domain(
    Segment(domain_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<StatusCode, ApiError> {
    store
        .run(move |store| {
            authorize_domain(store, &raw, "domain:write", &domain_id)?;
            store.delete_domain(&domain_id)?;
            tracing::info!(%domain_id, "domain removed");
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

// ---- records --------------------------------------------------------------------------------

fn record_json(zone: &str, r: &DnsRecord) -> Value {
    json!({
        "record_id": r.record_id,
        "domain_id": r.domain_id,
        "domain": zone,
        "name": r.name,
        "fqdn": rules::fqdn(&r.name, zone),
        "type": r.rtype,
        "value": r.value,
        "ttl": r.ttl,
        "priority": r.priority,
        "weight": r.weight,
        "port": r.port,
        "managed_by": r.managed_by,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    })
}

fn parse_record(obj: &Map<String, Value>, zone: &str) -> Result<rules::RecordSpec, ApiError> {
    let name = opt_string(obj, "name")?
        .ok_or_else(|| ApiError::validation("name", "name is required (`@` for the apex)"))?;
    let rtype =
        opt_string(obj, "type")?.ok_or_else(|| ApiError::validation("type", "type is required"))?;
    let value = opt_string(obj, "value")?
        .ok_or_else(|| ApiError::validation("value", "value is required"))?;
    rules::record(
        zone,
        &name,
        &rtype,
        &value,
        opt_int(obj, "ttl")?,
        opt_int(obj, "priority")?,
        opt_int(obj, "weight")?,
        opt_int(obj, "port")?,
    )
    .map_err(|(field, message)| ApiError::validation(field, message))
}

async fn list_records(
    Segment(domain_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            let (_, domain) = authorize_domain(store, &raw, "domain:read", &domain_id)?;
            let records: Vec<Value> = store
                .list_records(&domain_id)?
                .iter()
                .map(|r| record_json(&domain.name, r))
                .collect();
            Ok(Json(
                json!({"records": records, "soa_serial": domain.serial}),
            ))
        })
        .await
}

async fn create_record(
    Segment(domain_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
    body: JsonObject,
) -> Result<Response, ApiError> {
    store
        .run(move |store| {
            let (_, domain) = authorize_domain(store, &raw, "domain:write", &domain_id)?;
            let spec = parse_record(&body.get()?, &domain.name)?;
            let record = store.create_record(&domain_id, &spec)?;
            tracing::info!(record_id = %record.record_id, %domain_id, "record created");
            Ok((
                StatusCode::CREATED,
                Json(record_json(&domain.name, &record)),
            )
                .into_response())
        })
        .await
}

async fn get_record(
    TwoSegments(domain_id, record_id): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            let (_, domain) = authorize_domain(store, &raw, "domain:read", &domain_id)?;
            let record = store
                .get_record(&domain_id, &record_id)?
                .ok_or_else(|| ApiError::not_found(format!("record {record_id} not found")))?;
            Ok(Json(record_json(&domain.name, &record)))
        })
        .await
}

async fn put_record(
    TwoSegments(domain_id, record_id): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
    body: JsonObject,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            let (_, domain) = authorize_domain(store, &raw, "domain:write", &domain_id)?;
            if store.get_record(&domain_id, &record_id)?.is_none() {
                return Err(ApiError::not_found(format!("record {record_id} not found")));
            }
            let spec = parse_record(&body.get()?, &domain.name)?;
            let record = store.update_record(&domain_id, &record_id, &spec)?;
            Ok(Json(record_json(&domain.name, &record)))
        })
        .await
}

async fn delete_record(
    TwoSegments(domain_id, record_id): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<StatusCode, ApiError> {
    store
        .run(move |store| {
            authorize_domain(store, &raw, "domain:write", &domain_id)?;
            store.delete_record(&domain_id, &record_id)?;
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

// ---- hostnames ------------------------------------------------------------------------------

/// The Hostname object, with its records looked up in DNS now (the verification).
pub(crate) async fn hostname_json(
    info: DnsInfo,
    store: &StoreCalls,
    h: &Hostname,
    app: &App,
) -> Result<Value, ApiError> {
    let domain_id = h.domain_id.clone();
    let domain = match domain_id {
        Some(id) => store.run(move |s| Ok(s.get_domain(&id)?)).await?,
        None => None,
    };
    let needed = needed_records(h, app, domain.as_ref());
    let missing = verify(info.resolver, &needed).await;
    let verified = missing.is_empty();
    let name = h.hostname.clone();
    store
        .run(move |s| Ok(s.set_hostname_verified(&name, verified)?))
        .await?;
    let verified_at = if verified {
        let name = h.hostname.clone();
        store
            .run(move |s| Ok(s.get_hostname(&name)?))
            .await?
            .and_then(|h| h.verified_at)
    } else {
        None
    };
    Ok(json!({
        "hostname": h.hostname,
        "app_id": h.app_id,
        "dns_mode": h.dns_mode,
        "domain_id": h.domain_id,
        "status": if verified { "verified" } else { "pending" },
        "records": needed.iter().map(|n| n.json()).collect::<Vec<_>>(),
        "missing": missing.iter().map(|m| m.json()).collect::<Vec<_>>(),
        "verified_at": verified_at,
        "created_at": h.created_at,
    }))
}

async fn list_hostnames(
    State(info): State<DnsInfo>,
    Segment(app_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    let (app, rows) = store
        .run(move |store| {
            let app = authorize_app(store, &raw, "app:read", &app_id)?;
            let rows = store.list_hostnames(&app_id)?;
            Ok((app, rows))
        })
        .await?;
    let mut list = Vec::new();
    for h in &rows {
        list.push(hostname_json(info, &store, h, &app).await?);
    }
    Ok(Json(json!({ "hostnames": list })))
}

async fn create_hostname(
    State(info): State<DnsInfo>,
    Segment(app_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let (row, app) = store.run(move |store| {
        let app = authorize_app(store, &raw, "app:write", &app_id)?;
        let obj = body.get()?;
        let hostname = opt_string(&obj, "hostname")?
            .ok_or_else(|| ApiError::validation("hostname", "hostname is required"))?;
        let hostname =
            rules::domain_name(&hostname).map_err(|m| ApiError::validation("hostname", m))?;
        if covers(super::super::store::apps::APPS_DOMAIN, &hostname) {
            return Err(ApiError::validation(
                "hostname",
                format!("{hostname} is under the platform's own app domain"),
            ));
        }
        let mode = opt_string(&obj, "dns_mode")?.unwrap_or_else(|| "manual".to_owned());
        let domain_id = opt_string(&obj, "domain_id")?;
        let domain = match mode.as_str() {
            "manual" => {
                if domain_id.is_some() {
                    return Err(ApiError::validation(
                        "domain_id",
                        "domain_id is only for automatic DNS",
                    ));
                }
                None
            }
            "automatic" => {
                let domain = match domain_id {
                    Some(id) => {
                        let d = store
                            .get_domain(&id)?
                            .filter(|d| d.project_id == app.project_id)
                            .ok_or_else(|| {
                                ApiError::validation(
                                    "domain_id",
                                    format!("project {} has no domain {id}", app.project_id),
                                )
                            })?;
                        if !covers(&d.name, &hostname) {
                            return Err(ApiError::validation(
                                "hostname",
                                format!("{hostname} is not in domain {} ({id})", d.name),
                            ));
                        }
                        d
                    }
                    None => store
                        .covering_domain(&app.project_id, &hostname)?
                        .ok_or_else(|| {
                            ApiError::validation(
                                "hostname",
                                format!(
                                    "automatic DNS needs a project domain covering {hostname}, \
                                     and project {} has none",
                                    app.project_id
                                ),
                            )
                        })?,
                };
                Some(domain)
            }
            other => {
                return Err(ApiError::validation(
                    "dns_mode",
                    format!("dns_mode must be manual or automatic, got {other:?}"),
                ))
            }
        };
        // The records to write are known only with the hostname's token: the row is made
        // with them in one transaction, from a draft with the same token.
        let row = store.create_hostname_with(&app, &hostname, &mode, domain.as_ref(), |h| {
            needed_records(h, &app, domain.as_ref())
                .iter()
                .map(|n| {
                    let zone = domain.as_ref().map(|d| d.name.as_str()).unwrap_or("");
                    spec_in_zone(zone, &n.name, n.rtype, &n.value)
                })
                .collect()
        })?;
        tracing::info!(hostname = %row.hostname, app_id = %app.app_id, mode = %row.dns_mode, "hostname attached");
        Ok((row, app))
    })
    .await?;
    let body = hostname_json(info, &store, &row, &app).await?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn get_hostname(
    State(info): State<DnsInfo>,
    TwoSegments(app_id, hostname): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    let (row, app) = store
        .run(move |store| {
            let app = authorize_app(store, &raw, "app:read", &app_id)?;
            let name = hostname.trim_end_matches('.').to_ascii_lowercase();
            let row = store
                .get_hostname(&name)?
                .filter(|h| h.app_id == app.app_id)
                .ok_or_else(|| {
                    ApiError::not_found(format!("hostname {hostname} of app {app_id} not found"))
                })?;
            Ok((row, app))
        })
        .await?;
    Ok(Json(hostname_json(info, &store, &row, &app).await?))
}

async fn delete_hostname(
    TwoSegments(app_id, hostname): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<StatusCode, ApiError> {
    store
        .run(move |store| {
            let app = authorize_app(store, &raw, "app:write", &app_id)?;
            let name = hostname.trim_end_matches('.').to_ascii_lowercase();
            store
                .get_hostname(&name)?
                .filter(|h| h.app_id == app.app_id)
                .ok_or_else(|| {
                    ApiError::not_found(format!("hostname {hostname} of app {app_id} not found"))
                })?;
            store.delete_hostname(&name)?;
            tracing::info!(hostname = %name, %app_id, "hostname detached");
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}
