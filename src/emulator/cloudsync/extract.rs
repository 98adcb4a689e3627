//! What a CloudSync handler receives from extractors: the management key's principal
//! ([`Admin`]: the core's bearer token, 401, and the workspace-admin role, 403), the managed
//! database of the path in the key's workspace ([`Managed`], 404 with the same body for
//! another workspace's), store calls on the blocking pool ([`StoreCalls`]) and the body as
//! a JSON object ([`JsonObject`], its 400 given only when the handler asks). The last two
//! are the core's (`core::extract`), answered here in CloudSync's `errors` array.
//!
//! Extractors run in the order of the handler's arguments; [`Managed`] reads the path
//! first (answered as axum answers it), then the key, then the database: the contract's
//! order of checks.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::store::{self, Database, Principal, Store};
use super::AppState;
use crate::emulator::core::auth::BearerError;
use crate::emulator::core::extract::{self, Bearer, BodyError, BodyRejection};

extract::store_calls!(AppState, Store, ApiError);

/// Extractor: the body as a JSON object, the core's; an empty body is malformed JSON, and
/// every body error is 400 `bad_request`.
pub(crate) type JsonObject = extract::JsonObject<ApiError>;

impl BodyRejection for ApiError {
    const EMPTY_IS_OBJECT: bool = false;

    fn body_rejection(why: BodyError) -> Self {
        ApiError::bad_request(why.to_string())
    }
}

impl From<BearerError> for ApiError {
    fn from(_: BearerError) -> Self {
        ApiError::unauthorized()
    }
}

/// Extractor: the principal of a known management key with the workspace-admin role.
pub(crate) struct Admin(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Admin
where
    Arc<Store>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = Bearer::<ApiError>::from_request_parts(parts, state)
            .await?
            .into_token();
        let principal = StoreCalls::of(state)
            .run(move |s| Ok(s.authenticate(&raw)?))
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if principal.role != store::ADMIN_ROLE {
            return Err(ApiError::forbidden(format!(
                "the management API needs a key with the {} role (this key has {})",
                store::ADMIN_ROLE,
                principal.role
            )));
        }
        Ok(Admin(principal))
    }
}

/// Extractor: the managed database named by the path's `{database}`, in the workspace of
/// an [`Admin`] key; 404 `managed database not found` otherwise.
pub(crate) struct Managed(pub Database);

impl<S: Send + Sync> FromRequestParts<S> for Managed
where
    Arc<Store>: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let id = params.remove("database").unwrap_or_default();
        let found = async {
            let Admin(p) = Admin::from_request_parts(parts, state).await?;
            StoreCalls::of(state)
                .run(move |s| Ok(s.get_database(&p.workspace_id, &id)?))
                .await?
                .ok_or_else(|| ApiError::not_found("managed database not found"))
        };
        found
            .await
            .map(Managed)
            .map_err(IntoResponse::into_response)
    }
}
