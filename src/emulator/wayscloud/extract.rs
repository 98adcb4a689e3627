//! What a WaysCloud handler receives from extractors: the key's customer ([`Caller`], 401),
//! the same with the route's permission ([`Can`], 403), store calls on the blocking pool
//! ([`StoreCalls`]) and the body as a JSON object ([`JsonObject`], its 400/422 given only
//! when the handler asks). The last two are the core's (`core::extract`), answered here in
//! WaysCloud's error shape.
//!
//! Extractors run in the order of the handler's arguments: the path and query first (as
//! axum answers them), then the key, so the contract's order of checks holds (`X-API-Key`
//! 401, the permission 403, then the path's `db_type` and the database in the handler).

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::error::ApiError;
use super::store::{Principal, Store};
use super::AppState;
use crate::emulator::core::extract::{self, BodyError, BodyRejection};

/// The header of the API key. [documented]
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

/// Extractor: runs store calls on the blocking pool (`StoreCalls::run`), the core's.
pub(crate) type StoreCalls = extract::StoreCalls<Store, ApiError>;

impl FromRef<AppState> for Arc<Store> {
    fn from_ref(state: &AppState) -> Arc<Store> {
        state.store.clone()
    }
}

/// Extractor: the body as a JSON object (empty: `{}`), the core's; a body that is not JSON
/// is 400, JSON that is not an object 422 naming `body`.
pub(crate) type JsonObject = extract::JsonObject<ApiError>;

impl BodyRejection for ApiError {
    const EMPTY_IS_OBJECT: bool = true;

    fn body_rejection(why: BodyError) -> Self {
        match why {
            BodyError::NotObject => ApiError::validation("body", "the body must be a JSON object"),
            other => ApiError::bad_request(other.to_string()),
        }
    }
}

/// Extractor: the customer of the request's `X-API-Key` (trimmed, non-empty, known); 401
/// otherwise. Any permission.
pub(crate) struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    Arc<Store>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = parts
            .headers
            .get(API_KEY_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or_else(ApiError::unauthorized)?
            .to_owned();
        StoreCalls::of(state)
            .run(move |store| Ok(store.authenticate(&raw)?))
            .await?
            .map(Caller)
            .ok_or_else(ApiError::unauthorized)
    }
}

/// A permission a route needs. [documented]
pub(crate) trait Permission {
    const NAME: &'static str;
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $kind:ident = $name:literal;)*) => {$(
        $(#[$doc])*
        pub(crate) enum $kind {}

        impl Permission for $kind {
            const NAME: &'static str = $name;
        }
    )*};
}

permissions! {
    /// `database:create`
    Create = "database:create";
    /// `database:read`
    Read = "database:read";
    /// `database:update`
    Update = "database:update";
    /// `database:delete`
    Delete = "database:delete";
}

/// Extractor: a [`Caller`] whose key holds the permission `P`; 403 naming it otherwise.
/// Reads as the [`Principal`].
pub(crate) struct Can<P> {
    who: Principal,
    permission: PhantomData<fn() -> P>,
}

impl<P> Deref for Can<P> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.who
    }
}

impl<S: Send + Sync, P: Permission> FromRequestParts<S> for Can<P>
where
    Arc<Store>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Caller(who) = Caller::from_request_parts(parts, state).await?;
        if !who.can(P::NAME) {
            return Err(ApiError::forbidden(P::NAME));
        }
        Ok(Can {
            who,
            permission: PhantomData,
        })
    }
}
