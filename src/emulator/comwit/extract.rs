//! What a Comwit handler receives from extractors instead of reading it by hand (as sqld's
//! `http/user/extract.rs`): the path's one segment ([`Segment`], 404) or two
//! ([`TwoSegments`], 404), the user token ([`UserToken`], 401), the store on the blocking
//! pool ([`StoreCalls`]) and the body as a JSON object ([`JsonObject`], 400 given only when
//! the handler asks, after authorization). The last three are the core's
//! (`core::extract`), answered here in Comwit's error shape.
//! Extractors run in the order of the handler's arguments, so `Segment, UserToken` keeps
//! the contract's order of checks (the path, then the token). The helpers the database, app
//! and DNS handlers share live here too, so no handler file imports another.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::store::{self, Principal, Store};
use super::validate;
use super::AppState;
use crate::emulator::core::auth::BearerError;
use crate::emulator::core::extract::{self, Bearer, BodyError, BodyRejection};

/// Extractor: the route's one path segment; 404 `not_found` when it cannot be read.
pub(crate) struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        path_segment(Path::<String>::from_request_parts(parts, state).await).map(Segment)
    }
}

/// Extractor: the route's two path segments (a parent and its child); 404 `not_found`
/// when they cannot be read.
pub(crate) struct TwoSegments(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for TwoSegments {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map(|Path((a, b))| TwoSegments(a, b))
            .map_err(|_| ApiError::not_found("no such resource"))
    }
}

/// Extractor: the request's raw user token (`cwt_...` as a bearer token, read by the
/// core's [`Bearer`]); 401 otherwise.
pub(crate) struct UserToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for UserToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let token = Bearer::<ApiError>::from_request_parts(parts, state)
            .await?
            .into_token();
        if !validate::is_user_token(&token) {
            return Err(ApiError::unauthorized());
        }
        Ok(UserToken(token))
    }
}

extract::store_calls!(AppState, Store, ApiError);

/// Extractor: the body as a JSON object (empty: `{}`), the core's; its 400 waits for
/// `JsonObject::get`, so that authorization answers first.
pub(crate) type JsonObject = extract::JsonObject<ApiError>;

impl BodyRejection for ApiError {
    const EMPTY_IS_OBJECT: bool = true;

    fn body_rejection(why: BodyError) -> Self {
        ApiError::bad_request(why.to_string())
    }
}

impl From<BearerError> for ApiError {
    fn from(_: BearerError) -> Self {
        ApiError::unauthorized()
    }
}

pub(super) fn authenticate(store: &Store, raw: &str, scope: &str) -> Result<Principal, ApiError> {
    let principal = store
        .authenticate(raw)?
        .ok_or_else(ApiError::unauthorized)?;
    if !principal.has_scope(scope) {
        return Err(ApiError::forbidden_scope(scope));
    }
    Ok(principal)
}

/// Authenticates, checks the scope, that the project exists and the token is a member.
pub(super) fn authorize_project(
    store: &Store,
    raw: &str,
    scope: &str,
    project_id: &str,
) -> Result<(Principal, store::Project), ApiError> {
    let principal = authenticate(store, raw, scope)?;
    let unknown = || ApiError::not_found(format!("project {project_id} not found"));
    // A project the token is not a member of answers exactly as an unknown one, so a
    // token learns nothing of other tenants' ids. [assumed]
    if !principal.is_member(project_id) {
        return Err(unknown());
    }
    let project = store.get_project(project_id)?.ok_or_else(unknown)?;
    Ok((principal, project))
}

fn path_segment(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(p)| p)
        .map_err(|_| ApiError::not_found("no such resource"))
}

pub(super) fn opt_string(
    obj: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be a string"),
        )),
    }
}

pub(super) fn opt_int(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::validation(field, format!("{field} must be an integer"))),
    }
}

pub(super) fn check(field: &str, result: Result<(), String>) -> Result<(), ApiError> {
    result.map_err(|msg| ApiError::validation(field, msg))
}

/// The `Idempotency-Key` header as sent: `Some(Err(()))` when present but not text.
pub(super) type IdempotencyHeader = Option<Result<String, ()>>;

/// Reads the `Idempotency-Key` header (checked later, after authorization).
pub(super) fn idempotency_header(headers: &HeaderMap) -> IdempotencyHeader {
    headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned).map_err(|_| ()))
}

/// The checked `Idempotency-Key` (422 naming it when malformed).
pub(super) fn idempotency_key_of(header: IdempotencyHeader) -> Result<Option<String>, ApiError> {
    match header {
        None => Ok(None),
        Some(Ok(key)) => {
            check("Idempotency-Key", validate::idempotency_key(&key))?;
            Ok(Some(key))
        }
        Some(Err(())) => Err(ApiError::validation(
            "Idempotency-Key",
            "Idempotency-Key must be visible ASCII",
        )),
    }
}
