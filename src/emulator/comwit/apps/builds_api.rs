//! The `/v1` routes of builds: create (202, `Idempotency-Key`), list (newest first), get
//! (with the `wait_seconds` long poll), log (with `tail_lines`), rollback.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::super::error::ApiError;
use super::super::extract::{
    check, idempotency_header, idempotency_key_of, opt_string, JsonObject, Segment, StoreCalls,
    TwoSegments, UserToken,
};
use super::super::store::NewBuild;
use super::super::validate;
use super::api::{authorize_app, opt_bool};
use super::{json, Apps};
use std::sync::Arc;

fn build_not_found(build_id: &str) -> ApiError {
    ApiError::not_found(format!("build {build_id} not found"))
}

/// An integer query parameter in `min..=max` (422 naming it otherwise); `None` when absent.
fn query_int(query: Option<&str>, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
    let Some(query) = query else {
        return Ok(None);
    };
    let Some((_, value)) = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == name)
    else {
        return Ok(None);
    };
    match value.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::validation(
            name,
            format!("{name} must be an integer from {min} to {max}"),
        )),
    }
}

pub(super) async fn create_build(
    State(apps): State<Arc<Apps>>,
    Segment(app_id): Segment,
    UserToken(raw): UserToken,
    headers: HeaderMap,
    store: StoreCalls,
    body: JsonObject,
) -> Result<Response, ApiError> {
    let idempotency = idempotency_header(&headers);
    let (outcome, active) = store
        .run(move |store| {
            let (principal, app) = authorize_app(store, &raw, "app:deploy", &app_id)?;
            let obj = body.get()?;
            let artifact_sha256 = opt_string(&obj, "artifact_sha256")?.ok_or_else(|| {
                ApiError::validation("artifact_sha256", "artifact_sha256 is required")
            })?;
            check("artifact_sha256", validate::sha256(&artifact_sha256))?;
            let entry =
                opt_string(&obj, "entry")?.unwrap_or_else(|| validate::ENTRY_DEFAULT.to_owned());
            check("entry", validate::entry(&entry))?;
            let activate = opt_bool(&obj, "activate")?.unwrap_or(true);
            let key = idempotency_key_of(idempotency)?;
            let idem = key.as_deref().map(|k| (principal.token_hash.as_str(), k));
            let new = NewBuild {
                artifact_sha256,
                entry,
                activate,
            };
            let outcome = store.create_build(&app_id, &new, idem)?;
            Ok((outcome, app.active_build_id))
        })
        .await?;
    let build = &outcome.build;
    tracing::info!(
        app_id = %build.app_id,
        build_id = %build.build_id,
        replayed = outcome.replayed,
        "build queued"
    );
    let body = json::build(build, active.as_deref());
    if outcome.replayed {
        return Ok((StatusCode::OK, Json(body)).into_response());
    }
    apps.spawn_build(outcome.build);
    Ok((StatusCode::ACCEPTED, Json(body)).into_response())
}

pub(super) async fn list_builds(
    Segment(app_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            let (_, app) = authorize_app(store, &raw, "app:read", &app_id)?;
            let active = app.active_build_id.as_deref();
            let builds: Vec<Value> = store
                .list_builds(&app_id)?
                .iter()
                .map(|b| json::build(b, active))
                .collect();
            Ok(Json(json!({ "builds": builds })))
        })
        .await
}

pub(super) async fn get_build(
    State(apps): State<Arc<Apps>>,
    TwoSegments(app_id, build_id): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (a, b) = (app_id.clone(), build_id.clone());
    let (build, wait) = store
        .run(move |store| {
            authorize_app(store, &raw, "app:read", &a)?;
            let build = store
                .get_build(&a, &b)?
                .ok_or_else(|| build_not_found(&b))?;
            let wait = query_int(
                query.as_deref(),
                "wait_seconds",
                0,
                validate::WAIT_SECONDS_MAX,
            )?;
            Ok((build, wait.unwrap_or(0)))
        })
        .await?;
    let build = if wait > 0 && !build.is_final() {
        let secs = u64::try_from(wait).unwrap_or(0);
        apps.wait_build(&app_id, &build_id, Duration::from_secs(secs))
            .await?
            .ok_or_else(|| build_not_found(&build_id))?
    } else {
        build
    };
    // The app as it is now (a finished activation changed its active build).
    let a = app_id.clone();
    let app = store
        .run(move |store| Ok(store.get_app(&a)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("app {app_id} not found")))?;
    Ok(Json(json::build(&build, app.active_build_id.as_deref())))
}

pub(super) async fn build_log(
    TwoSegments(app_id, build_id): TwoSegments,
    UserToken(raw): UserToken,
    store: StoreCalls,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    store
        .run(move |store| {
            authorize_app(store, &raw, "app:read", &app_id)?;
            let log = store
                .build_log(&app_id, &build_id)?
                .ok_or_else(|| build_not_found(&build_id))?;
            let tail = query_int(query.as_deref(), "tail_lines", 1, validate::TAIL_LINES_MAX)?;
            let text = match tail {
                Some(n) => tail_lines(&log.log, usize::try_from(n).unwrap_or(1)),
                None => log.log,
            };
            Ok(Json(json!({
                "build_id": build_id,
                "log": text,
                "truncated": log.truncated,
            })))
        })
        .await
}

/// The last `n` lines of `log` (with their final newline).
fn tail_lines(log: &str, n: usize) -> String {
    let lines: Vec<&str> = log.split_inclusive('\n').collect();
    lines[lines.len().saturating_sub(n)..].concat()
}

pub(super) async fn rollback(
    State(apps): State<Arc<Apps>>,
    Segment(app_id): Segment,
    UserToken(raw): UserToken,
    store: StoreCalls,
    body: JsonObject,
) -> Result<Json<Value>, ApiError> {
    let (app, build) = store
        .run(move |store| {
            let (_, app) = authorize_app(store, &raw, "app:deploy", &app_id)?;
            let obj = body.get()?;
            let build_id = opt_string(&obj, "build_id")?
                .ok_or_else(|| ApiError::validation("build_id", "build_id is required"))?;
            let build = store
                .get_build(&app_id, &build_id)?
                .ok_or_else(|| build_not_found(&build_id))?;
            if build.status != "ready" {
                return Err(ApiError::build_not_ready(format!(
                    "build {build_id} is {}, not ready",
                    build.status
                )));
            }
            Ok((app, build))
        })
        .await?;
    if app.active_build_id.as_deref() == Some(build.build_id.as_str()) {
        // The active build: a no-op (its worker starts on the next request if needed).
        return Ok(Json(json::app(&apps, &app)));
    }
    let app = apps.rollback(&app, &build).await.map_err(|e| {
        tracing::warn!(app_id = %app.app_id, build_id = %build.build_id, error = %e, "rollback failed");
        ApiError::server(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("build {} could not start: {e}", build.build_id),
        )
    })?;
    tracing::info!(app_id = %app.app_id, build_id = %build.build_id, "rolled back");
    Ok(Json(json::app(&apps, &app)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_and_queries() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc\n");
        assert_eq!(tail_lines("a\nb", 5), "a\nb");
        assert_eq!(tail_lines("", 1), "");
        assert!(matches!(
            query_int(Some("wait_seconds=5"), "wait_seconds", 0, 30),
            Ok(Some(5))
        ));
        assert!(matches!(
            query_int(Some("x=1"), "wait_seconds", 0, 30),
            Ok(None)
        ));
        assert!(query_int(Some("wait_seconds=31"), "wait_seconds", 0, 30).is_err());
        assert!(query_int(Some("wait_seconds=-1"), "wait_seconds", 0, 30).is_err());
        assert!(query_int(Some("wait_seconds=a"), "wait_seconds", 0, 30).is_err());
    }
}
