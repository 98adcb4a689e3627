//! What a WaysCloud handler receives from extractors: the key's customer ([`Caller`], 401),
//! the same with the route's permission ([`Can`], 403), the path's database owned by that
//! customer ([`Target`], 422 for the `db_type`, 404), store calls on the blocking pool
//! ([`StoreCalls`]) and the body as a JSON object ([`JsonObject`], its 400/422 given only
//! when the handler asks). The last two are the core's (`core::extract`), answered here in
//! WaysCloud's error shape.
//!
//! Extractors run in the order of the handler's arguments: the path and query first (as
//! axum answers them), then the key, so the contract's order of checks holds (`X-API-Key`
//! 401, the permission 403, the path's `db_type` 422 and the database 404, then the body).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::engine::DbType;
use super::error::ApiError;
use super::store::{Database, Principal, Store};
use super::AppState;
use crate::emulator::core::extract::{self, BodyError, BodyRejection};

/// The header of the API key. [documented]
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

extract::store_calls!(AppState, Store, ApiError);

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

/// The path's `db_type`, or 422 naming it.
pub(crate) fn db_type(raw: &str) -> Result<DbType, ApiError> {
    DbType::parse(raw).ok_or_else(|| {
        ApiError::validation(
            "db_type",
            format!("db_type must be postgresql or mariadb, not {raw:?}"),
        )
    })
}

/// The live database of this type and name, owned by the key's customer (an internal key
/// may reach any), or 404.
pub(crate) async fn owned(
    calls: &StoreCalls,
    who: &Principal,
    t: DbType,
    name: &str,
) -> Result<Database, ApiError> {
    let unknown = || ApiError::not_found(format!("Database {name} not found"));
    let key = name.to_owned();
    let db = calls
        .run(move |s| Ok(s.live_database(&key)?))
        .await?
        .ok_or_else(unknown)?;
    if db.db_type != t.as_str() || (!who.internal && db.customer_id != who.customer_id) {
        return Err(unknown());
    }
    Ok(db)
}

/// Extractor: the database of the path's `{db_type}/{db_name}`, for a key with the
/// permission `P`: the path (as axum answers it), the key (401, 403), the `db_type` (422)
/// and the database (404), in that order.
pub(crate) struct Target<P> {
    pub who: Can<P>,
    pub t: DbType,
    pub name: String,
    /// The database as it was when the request came; a handler that changes it reads it
    /// again under the lock ([`Target::again`]).
    pub db: Database,
}

impl<P: Permission> FromRequestParts<AppState> for Target<P> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let found = async {
            let who = Can::<P>::from_request_parts(parts, state).await?;
            let t = db_type(&params.remove("db_type").unwrap_or_default())?;
            let name = params.remove("db_name").unwrap_or_default();
            let db = owned(&StoreCalls::of(state), &who, t, &name).await?;
            Ok::<_, ApiError>(Target { who, t, name, db })
        };
        found.await.map_err(IntoResponse::into_response)
    }
}

impl<P> Target<P> {
    /// The database read again (under the handler's lock), or 404 if it went meanwhile.
    pub(crate) async fn again(&self, calls: &StoreCalls) -> Result<Database, ApiError> {
        owned(calls, &self.who, self.t, &self.name).await
    }
}
