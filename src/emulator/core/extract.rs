//! What every platform's handlers receive from extractors instead of reading it by hand (as
//! sqld's `http/user/extract.rs`), written once and answered in the platform's own error
//! shape: the body as a JSON object ([`JsonObject`], its error kept until the handler asks,
//! after authorization), store calls on the blocking pool ([`StoreCalls`]) and the bearer
//! token ([`Bearer`], over [`super::auth::bearer`]).
//!
//! A platform says how it answers through its error type: [`BodyRejection`] (and whether an
//! empty body is `{}`), `From<`[`BearerError`]`>` for the bearer token, and
//! `From<tokio::task::JoinError>` for a store call that panicked; `store_calls!` gives it
//! its `StoreCalls` in one line. Its own extractors (a key's permission, a managed
//! database) are built on these in its folder.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::auth::{self, BearerError};

/// Why a body is not a JSON object. Its `Display` is the message all platforms give.
#[derive(Debug)]
pub enum BodyError {
    /// The body could not be read (too large, cut off).
    Unreadable(String),
    /// Not JSON.
    Malformed(String),
    /// JSON, but not an object.
    NotObject,
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Unreadable(e) => write!(f, "cannot read body: {e}"),
            BodyError::Malformed(e) => write!(f, "malformed JSON body: {e}"),
            BodyError::NotObject => f.write_str("body must be a JSON object"),
        }
    }
}

/// How a platform answers a body that is not a JSON object.
pub trait BodyRejection: Sized {
    /// Whether an empty (or all-whitespace) body reads as `{}`; otherwise it is malformed.
    const EMPTY_IS_OBJECT: bool;

    /// The platform's error for `why`.
    fn body_rejection(why: BodyError) -> Self;
}

/// Extractor: the body as a JSON object, read eagerly, its error kept for
/// [`JsonObject::get`] so that authorization answers first. Never rejects.
pub struct JsonObject<E>(Result<Map<String, Value>, E>);

impl<S: Send + Sync, E: BodyRejection> FromRequest<S> for JsonObject<E> {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(req, state)
            .await
            .map_err(|e| BodyError::Unreadable(e.to_string()));
        Ok(JsonObject(
            body.and_then(|b| json_object(&b, E::EMPTY_IS_OBJECT))
                .map_err(E::body_rejection),
        ))
    }
}

impl<E> JsonObject<E> {
    /// The object, or the platform's error for a body that is not one.
    pub fn get(self) -> Result<Map<String, Value>, E> {
        self.0
    }
}

/// The body as a JSON object; an empty one is `{}` when `empty_is_object`.
pub fn json_object(body: &[u8], empty_is_object: bool) -> Result<Map<String, Value>, BodyError> {
    if empty_is_object && body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(BodyError::NotObject),
        Err(e) => Err(BodyError::Malformed(e.to_string())),
    }
}

/// Extractor: runs calls of the platform's store `S` on the blocking pool, its failures
/// (and a panicked call) answered as `E`. The store comes from the router's state by
/// `Arc<S>: FromRef<state>`, which each platform implements once.
pub struct StoreCalls<S: ?Sized, E> {
    store: Arc<S>,
    error: PhantomData<fn() -> E>,
}

impl<S: ?Sized, E> Clone for StoreCalls<S, E> {
    fn clone(&self) -> Self {
        StoreCalls {
            store: Arc::clone(&self.store),
            error: PhantomData,
        }
    }
}

impl<St, S, E> FromRequestParts<St> for StoreCalls<S, E>
where
    St: Send + Sync,
    S: ?Sized + Send + Sync + 'static,
    Arc<S>: FromRef<St>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_parts: &mut Parts, state: &St) -> Result<Self, Self::Rejection> {
        Ok(Self::of(state))
    }
}

impl<S: ?Sized + Send + Sync + 'static, E> StoreCalls<S, E> {
    /// The store calls of `state`, for code that is not a handler's argument list.
    pub fn of<St>(state: &St) -> Self
    where
        Arc<S>: FromRef<St>,
    {
        StoreCalls {
            store: Arc::from_ref(state),
            error: PhantomData,
        }
    }

    /// Runs `f` with the store on the blocking pool ([`super::blocking::run`]).
    pub async fn run<T, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&S) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<tokio::task::JoinError> + Send + 'static,
    {
        super::blocking::run(&self.store, f).await
    }
}

/// A platform's `StoreCalls` (the core's, over its store and error type) and how its
/// router state gives the store (its `store` field), in one line of its `extract.rs`:
/// `core::extract::store_calls!(AppState, Store, ApiError);`.
macro_rules! store_calls {
    ($state:ty, $store:ty, $error:ty) => {
        /// Extractor: runs store calls on the blocking pool (`StoreCalls::run`), the core's.
        pub(crate) type StoreCalls = $crate::emulator::core::extract::StoreCalls<$store, $error>;

        impl ::axum::extract::FromRef<$state> for ::std::sync::Arc<$store> {
            fn from_ref(state: &$state) -> ::std::sync::Arc<$store> {
                state.store.clone()
            }
        }
    };
}
pub(crate) use store_calls;

/// Extractor: the request's bearer token (trimmed); a missing or malformed
/// `Authorization` header is the platform's `E: From<BearerError>` (its 401).
pub struct Bearer<E> {
    token: String,
    answer: PhantomData<fn() -> E>,
}

impl<E> Bearer<E> {
    /// The raw token.
    pub fn into_token(self) -> String {
        self.token
    }
}

impl<S, E> FromRequestParts<S> for Bearer<E>
where
    S: Send + Sync,
    E: From<BearerError> + axum::response::IntoResponse,
{
    type Rejection = E;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, E> {
        let token = auth::bearer(&parts.headers)?;
        Ok(Bearer {
            token,
            answer: PhantomData,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{header, StatusCode};
    use axum::response::{IntoResponse, Response};

    #[derive(Debug, PartialEq)]
    enum Answer {
        Body(String),
        NoToken(BearerError),
        Task,
    }

    impl BodyRejection for Answer {
        const EMPTY_IS_OBJECT: bool = true;
        fn body_rejection(why: BodyError) -> Self {
            Answer::Body(why.to_string())
        }
    }

    impl From<BearerError> for Answer {
        fn from(why: BearerError) -> Self {
            Answer::NoToken(why)
        }
    }

    impl From<tokio::task::JoinError> for Answer {
        fn from(_: tokio::task::JoinError) -> Self {
            Answer::Task
        }
    }

    impl IntoResponse for Answer {
        fn into_response(self) -> Response {
            StatusCode::UNAUTHORIZED.into_response()
        }
    }

    fn request(auth: Option<&str>, body: &'static str) -> Request {
        let mut builder = Request::builder().uri("/");
        if let Some(auth) = auth {
            builder = builder.header(header::AUTHORIZATION, auth);
        }
        builder
            .body(axum::body::Body::from(body))
            .unwrap_or_default()
    }

    #[test]
    fn body_forms() {
        assert_eq!(json_object(b" \n", true).ok(), Some(Map::new()));
        assert!(matches!(
            json_object(b"", false),
            Err(BodyError::Malformed(_))
        ));
        assert!(matches!(
            json_object(b"[1]", true),
            Err(BodyError::NotObject)
        ));
        assert!(matches!(
            json_object(b"{\"a\":", true),
            Err(BodyError::Malformed(_))
        ));
        let map = json_object(b"{\"a\": 1}", false).unwrap_or_default();
        assert_eq!(map.get("a"), Some(&Value::from(1)));
        assert_eq!(
            BodyError::NotObject.to_string(),
            "body must be a JSON object"
        );
    }

    #[tokio::test]
    async fn the_body_error_waits_for_the_handler() {
        let Ok(body) = JsonObject::<Answer>::from_request(request(None, "[]"), &()).await;
        assert_eq!(
            body.get(),
            Err(Answer::Body("body must be a JSON object".to_owned()))
        );
        let Ok(body) = JsonObject::<Answer>::from_request(request(None, "{\"x\":true}"), &()).await;
        assert_eq!(
            body.get().ok().and_then(|m| m.get("x").cloned()),
            Some(Value::Bool(true))
        );
    }

    #[tokio::test]
    async fn bearer_token_or_the_platform_answer() {
        let (mut parts, _) = request(Some("Bearer  tok "), "").into_parts();
        let token = Bearer::<Answer>::from_request_parts(&mut parts, &()).await;
        assert_eq!(token.ok().map(Bearer::into_token), Some("tok".to_owned()));
        let (mut parts, _) = request(None, "").into_parts();
        let missing = Bearer::<Answer>::from_request_parts(&mut parts, &()).await;
        assert_eq!(missing.err(), Some(Answer::NoToken(BearerError::Missing)));
    }

    #[derive(Clone)]
    struct State(Arc<i32>);

    impl FromRef<State> for Arc<i32> {
        fn from_ref(state: &State) -> Arc<i32> {
            state.0.clone()
        }
    }

    #[tokio::test]
    async fn store_calls_run_on_the_state_store() {
        let state = State(Arc::new(41));
        let calls = StoreCalls::<i32, Answer>::of(&state);
        assert_eq!(calls.run(|n| Ok(n + 1)).await, Ok(42));
        let panicked: Result<(), Answer> = calls.run(|_| panic!("a store call panicked")).await;
        assert_eq!(panicked, Err(Answer::Task));
    }
}
