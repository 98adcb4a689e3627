//! The HTTP side of the data plane: routes under `/db/{database}/`, authorisation, body
//! caps, and the answers (sqld's statuses and bodies).
//!
//! Error bodies follow the server they imitate:
//! - authorisation and database state, as sqld: `{"error": "..."}` (401 invalid or expired
//!   token, 403 suspended database or a statement the token may not run, 404 deleted or
//!   unknown database);
//! - Hrana-level failures (malformed body, bad baton, expired stream, protocol misuse): the
//!   Hrana `Error` structure `{"message": "...", "code": "..."}`, which libSQL clients turn
//!   into a proper error (413 for an oversized body, 429 when too many streams are open,
//!   400 otherwise).

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;

use super::conn::{self, ThreadPolicy};
use super::exec::{self, Access, Failure, Session, Version};
use super::proto::{
    CursorReqBody, CursorRespBody, PipelineReqBody, PipelineRespBody, StreamRequest,
};
use super::streams::{AcquireError, Stream};
use super::SqlServer;
use super::{Namespaces, Refusal};
use crate::emulator::comwit::AppState;
use crate::emulator::core::auth::{self, BearerError};

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// An oversized body is read (and dropped) up to this size before the 413 answer.
pub const DRAIN_LIMIT_BYTES: usize = 64 * 1024 * 1024;
/// Requests in one pipeline at most.
pub const MAX_REQUESTS: usize = 1000;
/// Statements (execute, describe, sequence, batch steps) in one HTTP request at most.
pub const MAX_STATEMENTS: usize = 1000;
/// Rows in one HTTP response, approximately in bytes of JSON, at most.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// How long the SQL work of one HTTP request may run before SQLite interrupts it.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// The `/db/{database}/...` routes: the one table of what the data plane serves (the
/// stats take their labels from it). Paths arrive with empty segments and a final `/`
/// removed ([`super::normalize_path`]). Each handler checks its methods itself, so that a
/// wrong method answers as sqld does (405 with `Allow`, no body).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/db/{database}", any(not_served))
        .route("/db/{database}/health", any(health))
        .route("/db/{database}/version", any(version))
        .route("/db/{database}/v2", any(index_v2))
        .route("/db/{database}/v3", any(index_v3))
        .route("/db/{database}/v2/pipeline", any(pipeline_v2))
        .route("/db/{database}/v3/pipeline", any(pipeline_v3))
        .route("/db/{database}/v3/cursor", any(cursor_v3))
        .route("/db/{database}/v3-protobuf", any(protobuf))
        .route("/db/{database}/v3-protobuf/{*rest}", any(protobuf))
        .route("/db/{database}/{*rest}", any(not_served))
}

// ---- answers -------------------------------------------------------------------------------

fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode a SQL response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// sqld's error body: `{"error": "..."}`.
fn sqld_error(status: StatusCode, message: impl Into<String>) -> Response {
    json_response(status, &json!({ "error": message.into() }))
}

/// A Hrana `Error` body.
fn hrana_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    json_response(status, &json!({ "message": message.into(), "code": code }))
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        body,
    )
        .into_response()
}

fn method_not_allowed(allow: &'static str) -> Response {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, HeaderValue::from_static(allow))],
    )
        .into_response()
}

fn namespace_missing(database_id: &str) -> Response {
    sqld_error(
        StatusCode::NOT_FOUND,
        format!("Namespace `{database_id}` doesn't exist"),
    )
}

fn unauthorized(reason: &str) -> Response {
    sqld_error(
        StatusCode::UNAUTHORIZED,
        format!("Unauthorized: `{reason}`"),
    )
}

fn internal(err: impl std::fmt::Display) -> Response {
    tracing::error!(error = %err, "SQL request failed");
    sqld_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Error: `the emulator could not serve this request`",
    )
}

fn protocol_error(message: impl Into<String>) -> Response {
    hrana_error(StatusCode::BAD_REQUEST, "PROTOCOL_ERROR", message)
}

fn failure_response(database_id: &str, failure: Failure) -> Response {
    match failure {
        Failure::Protocol(msg) => protocol_error(msg),
        Failure::Forbidden(msg) => sqld_error(StatusCode::FORBIDDEN, msg),
        // Statement errors are results; they never end a request. Kept total for safety.
        Failure::Stmt(err) => {
            tracing::warn!(%database_id, code = %err.code, "statement error escaped");
            hrana_error(StatusCode::BAD_REQUEST, &err.code, err.message)
        }
    }
}

// ---- routing -------------------------------------------------------------------------------

/// The database id of the path, or the answer when the "id" is really a path segment of a
/// database URL that lost its final `/` (`/db/v2/pipeline`).
fn database(path: Result<Path<String>, PathRejection>) -> Result<String, Box<Response>> {
    let Ok(Path(database_id)) = path else {
        return Err(Box::new(StatusCode::NOT_FOUND.into_response()));
    };
    if matches!(database_id.as_str(), "v2" | "v3" | "v3-protobuf") {
        // A client resolved `v2/pipeline` against a database URL without its final `/`.
        return Err(Box::new(text(
            StatusCode::NOT_FOUND,
            "No database in this URL: use the database_url exactly as the API gives it, \
             http://HOST:PORT/db/DATABASE_ID/ with its final slash (libSQL clients resolve \
             v2/pipeline relative to it)",
        )));
    }
    Ok(database_id)
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

type DbPath = Result<Path<String>, PathRejection>;

/// Any path under a database that is not served: 404 with an empty body.
async fn not_served(path: Result<Path<Vec<(String, String)>>, PathRejection>) -> Response {
    match misplaced(path) {
        Some(resp) => resp,
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The hint answer when the `database` parameter is really a path segment.
fn misplaced(path: Result<Path<Vec<(String, String)>>, PathRejection>) -> Option<Response> {
    let id = path
        .ok()
        .and_then(|Path(params)| params.into_iter().find(|(k, _)| k == "database"))
        .map(|(_, v)| v)?;
    database(Ok(Path(id))).err().map(|resp| *resp)
}

async fn protobuf(path: Result<Path<Vec<(String, String)>>, PathRejection>) -> Response {
    if let Some(resp) = misplaced(path) {
        return resp;
    }
    text(
        StatusCode::NOT_FOUND,
        "Hrana over HTTP with the Protobuf encoding is not supported by the emulator; \
         use the JSON endpoints (v2, v3)",
    )
}

async fn health(path: DbPath, method: Method) -> Response {
    if let Err(resp) = database(path) {
        return *resp;
    }
    if !is_read(&method) {
        return method_not_allowed("GET, HEAD");
    }
    StatusCode::OK.into_response()
}

async fn version(path: DbPath, method: Method) -> Response {
    if let Err(resp) = database(path) {
        return *resp;
    }
    if !is_read(&method) {
        return method_not_allowed("GET, HEAD");
    }
    text(
        StatusCode::OK,
        concat!(
            "sqld-compatible platform-emulator ",
            env!("CARGO_PKG_VERSION")
        ),
    )
}

async fn index_v2(State(state): State<AppState>, path: DbPath, method: Method) -> Response {
    index_route(state, path, method, Version::Hrana2).await
}

async fn index_v3(State(state): State<AppState>, path: DbPath, method: Method) -> Response {
    index_route(state, path, method, Version::Hrana3).await
}

async fn index_route(state: AppState, path: DbPath, method: Method, v: Version) -> Response {
    let database_id = match database(path) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    if !is_read(&method) {
        return method_not_allowed("GET, HEAD");
    }
    index(&state, database_id, v).await
}

async fn pipeline_v2(
    State(state): State<AppState>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    pipeline_route(state, path, method, headers, body, Version::Hrana2).await
}

async fn pipeline_v3(
    State(state): State<AppState>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    pipeline_route(state, path, method, headers, body, Version::Hrana3).await
}

async fn pipeline_route(
    state: AppState,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
    v: Version,
) -> Response {
    let database_id = match database(path) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    if method != Method::POST {
        return method_not_allowed("POST");
    }
    pipeline(state, database_id, v, &headers, body).await
}

async fn cursor_v3(
    State(state): State<AppState>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let database_id = match database(path) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    if method != Method::POST {
        return method_not_allowed("POST");
    }
    cursor(state, database_id, &headers, body).await
}

/// `GET v2` / `GET v3`: the version check clients may probe (no token needed, as in sqld).
async fn index(state: &AppState, database_id: String, version: Version) -> Response {
    let ns = state.sql.namespaces.clone();
    let id = database_id.clone();
    match tokio::task::spawn_blocking(move || ns.exists(&id)).await {
        Ok(Ok(true)) => text(
            StatusCode::OK,
            match version {
                Version::Hrana2 => "Hello, this is HTTP API v2 (Hrana over HTTP)",
                Version::Hrana3 => "Hello, this is HTTP API v3 (Hrana over HTTP)",
            },
        ),
        Ok(Ok(false)) => namespace_missing(&database_id),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

// ---- authorisation -------------------------------------------------------------------------

/// The bearer token of the request, or the reason sqld gives for refusing the header.
fn bearer(headers: &HeaderMap) -> Result<String, &'static str> {
    auth::bearer(headers).map_err(|e| match e {
        BearerError::Missing => "Expected authorization header but none given",
        BearerError::NotAscii => "Non-ASCII auth header",
        BearerError::Malformed => "Auth string does not conform to '<scheme> <token>' form",
        BearerError::Scheme => {
            "The authentication scheme in the `Authorization` HTTP header is not supported"
        }
    })
}

/// Whether a query token's audience only allows reading: its last word (split at `-`, `_`
/// or `.`) is `read` or `readonly`, or it ends with `read-only` (`sql-readonly`,
/// `console.read`, `readonly`, `sql-read-only`).
pub fn is_read_only_audience(audience: &str) -> bool {
    let lower = audience.to_ascii_lowercase();
    if lower.ends_with("read-only") || lower.ends_with("read_only") || lower.ends_with("read.only")
    {
        return true;
    }
    let last = lower.rsplit(['-', '_', '.']).next().unwrap_or_default();
    last == "read" || last == "readonly"
}

fn authorize(
    ns: &dyn Namespaces,
    database_id: &str,
    token: Result<String, &'static str>,
) -> Result<Access, Refusal> {
    match ns.exists(database_id) {
        Ok(true) => {}
        Ok(false) => return Err(Refusal::NotFound),
        Err(e) => return Err(Refusal::Internal(e)),
    }
    let token = token.map_err(Refusal::Unauthorized)?;
    ns.authenticate(database_id, &token)
}

/// Checks the token on the blocking pool; the refusal is the answer to send.
async fn authorize_request(
    state: &AppState,
    database_id: &str,
    headers: &HeaderMap,
) -> Result<Access, Response> {
    let ns = state.sql.namespaces.clone();
    let id = database_id.to_owned();
    let token = bearer(headers);
    let outcome = tokio::task::spawn_blocking(move || authorize(&*ns, &id, token))
        .await
        .map_err(internal)?;
    outcome.map_err(|refusal| match refusal {
        Refusal::NotFound => namespace_missing(database_id),
        Refusal::Unauthorized(reason) => unauthorized(reason),
        Refusal::Suspended => sqld_error(
            StatusCode::FORBIDDEN,
            format!(
                "Authorization forbidden: database `{database_id}` is suspended; resume it to \
                 run SQL"
            ),
        ),
        Refusal::Internal(e) => internal(e),
    })
}

// ---- bodies --------------------------------------------------------------------------------

/// Reads the body, refusing more than [`MAX_BODY_BYTES`] with 413. An oversized body is
/// still drained up to [`DRAIN_LIMIT_BYTES`] so that the client, still sending, gets the
/// answer rather than a reset connection.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let too_large = || {
        hrana_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "REQUEST_TOO_LARGE",
            format!("The request body is larger than {MAX_BODY_BYTES} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > DRAIN_LIMIT_BYTES as u64) {
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut buf = Vec::with_capacity(declared.map_or(0, |n| n.min(MAX_BODY_BYTES as u64) as usize));
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| protocol_error(format!("Could not read request body: {e}")))?;
        seen = seen.saturating_add(chunk.len());
        if seen > DRAIN_LIMIT_BYTES {
            return Err(too_large());
        }
        if seen <= MAX_BODY_BYTES {
            buf.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(too_large());
    }
    Ok(Bytes::from(buf))
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes)
        .map_err(|e| format!("Cannot deserialize client message from JSON: {e}"))
}

// ---- streams -------------------------------------------------------------------------------

fn acquire_error(err: AcquireError) -> Response {
    match err {
        AcquireError::Invalid => hrana_error(
            StatusCode::BAD_REQUEST,
            "BATON_INVALID",
            "Received an invalid baton",
        ),
        AcquireError::Reused => hrana_error(
            StatusCode::BAD_REQUEST,
            "BATON_REUSED",
            "Received a baton that has already been used",
        ),
        AcquireError::Expired => hrana_error(
            StatusCode::BAD_REQUEST,
            "STREAM_EXPIRED",
            "The stream has expired due to inactivity",
        ),
        AcquireError::TooMany => hrana_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_STREAMS",
            format!(
                "Too many open streams (at most {} for this token, {} for this database, {} in all); close streams when done",
                super::streams::MAX_STREAMS_PER_TOKEN,
                super::streams::MAX_STREAMS_PER_DATABASE,
                super::streams::MAX_STREAMS
            ),
        ),
    }
}

/// Why the SQL work of a request could not start.
enum StartError {
    /// The database file is gone (deleted meanwhile).
    Gone,
    Open(rusqlite::Error),
}

impl SqlServer {
    /// Opens what a request needs: the database's keeper connection and the stream's own
    /// connection (blocking).
    fn start(
        &self,
        access: &Access,
        stream: &mut Stream,
    ) -> Result<std::sync::Arc<super::DbEntry>, StartError> {
        let entry = self.entry(&access.database_id, 1);
        if !entry.path.exists() {
            return Err(StartError::Gone);
        }
        entry.ensure_keeper().map_err(StartError::Open)?;
        if stream.conn.is_none() && !stream.closed {
            let conn = conn::open(&entry.path).map_err(StartError::Open)?;
            if let Some(bytes) = access.size_limit_bytes {
                let _policy = conn::ThreadPolicy::switch_mode(conn::AuthMode::Internal);
                conn::limit_size(&conn, bytes).map_err(StartError::Open)?;
            }
            stream.conn = Some(conn);
        }
        Ok(entry)
    }

    /// Bookkeeping after a request's SQL work (blocking): usage counters and the WAL.
    fn finish(
        &self,
        entry: &std::sync::Arc<super::DbEntry>,
        session: &Session,
        stream: &mut Stream,
    ) {
        if stream.conn.is_none() {
            stream.closed = true;
        }
        for stats in &session.stats {
            if let Err(e) = self.namespaces.record_query(
                &session.access.database_id,
                stats.rows_read,
                stats.rows_written,
            ) {
                tracing::debug!(database_id = %session.access.database_id, error = %e, "usage not recorded");
            }
        }
        entry.observe();
    }
}

fn start_error(database_id: &str, err: StartError) -> Response {
    match err {
        StartError::Gone => namespace_missing(database_id),
        StartError::Open(e) => internal(e),
    }
}

/// What the blocking part of a request hands back.
struct Outcome<T> {
    stream: Box<Stream>,
    result: Result<T, Response>,
}

// ---- pipeline ------------------------------------------------------------------------------

async fn pipeline(
    state: AppState,
    database_id: String,
    version: Version,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let access = match authorize_request(&state, &database_id, headers).await {
        Ok(access) => access,
        Err(resp) => return resp,
    };
    let bytes = match read_body(headers, body).await {
        Ok(bytes) => bytes,
        Err(resp) => return resp,
    };
    let req: PipelineReqBody = match parse_json(&bytes) {
        Ok(req) => req,
        Err(msg) => return protocol_error(msg),
    };
    drop(bytes);
    if req.requests.len() > MAX_REQUESTS {
        return protocol_error(format!(
            "Too many requests in one pipeline ({}, at most {MAX_REQUESTS})",
            req.requests.len()
        ));
    }
    let statements: usize = req
        .requests
        .iter()
        .map(StreamRequest::statement_count)
        .sum();
    if statements > MAX_STATEMENTS {
        return protocol_error(format!(
            "Too many statements in one request ({statements}, at most {MAX_STATEMENTS})"
        ));
    }
    let (lease, stream) =
        match state
            .sql
            .streams
            .acquire(&database_id, &access.owner, req.baton.as_deref())
        {
            Ok(x) => x,
            Err(e) => return acquire_error(e),
        };
    let server = state.sql.clone();
    let requests = req.requests;
    let db = database_id.clone();
    let work = tokio::task::spawn_blocking(move || {
        let mut stream = stream;
        let _policy = ThreadPolicy::enter(access.mode(), Some(Instant::now() + REQUEST_DEADLINE));
        let entry = match server.start(&access, &mut stream) {
            Ok(entry) => entry,
            Err(e) => {
                stream.conn = None;
                stream.closed = true;
                return Outcome {
                    stream,
                    result: Err(start_error(&db, e)),
                };
            }
        };
        let mut session = Session::new(access, version, MAX_RESPONSE_BYTES);
        let mut results = Vec::with_capacity(requests.len());
        let mut failure = None;
        for request in requests {
            match session.handle(&mut stream.conn, &mut stream.sqls, request) {
                Ok(result) => results.push(result),
                Err(f) => {
                    failure = Some(f);
                    break;
                }
            }
        }
        if failure.is_some() {
            // As in sqld, a failed pipeline ends its stream (rolling back its transaction).
            stream.conn = None;
        }
        server.finish(&entry, &session, &mut stream);
        Outcome {
            stream,
            result: match failure {
                Some(f) => Err(failure_response(&db, f)),
                None => Ok(results),
            },
        }
    });
    let outcome = match work.await {
        Ok(outcome) => outcome,
        Err(e) => return internal(e),
    };
    let (baton, closed) = lease.release(outcome.stream);
    drop(closed);
    match outcome.result {
        Ok(results) => json_response(
            StatusCode::OK,
            &PipelineRespBody {
                baton,
                base_url: None,
                results,
            },
        ),
        Err(resp) => resp,
    }
}

// ---- cursor --------------------------------------------------------------------------------

async fn cursor(state: AppState, database_id: String, headers: &HeaderMap, body: Body) -> Response {
    let access = match authorize_request(&state, &database_id, headers).await {
        Ok(access) => access,
        Err(resp) => return resp,
    };
    let bytes = match read_body(headers, body).await {
        Ok(bytes) => bytes,
        Err(resp) => return resp,
    };
    let req: CursorReqBody = match parse_json(&bytes) {
        Ok(req) => req,
        Err(msg) => return protocol_error(msg),
    };
    drop(bytes);
    if req.batch.steps.len() > MAX_STATEMENTS {
        return protocol_error(format!(
            "Too many statements in one request ({}, at most {MAX_STATEMENTS})",
            req.batch.steps.len()
        ));
    }
    let (lease, stream) =
        match state
            .sql
            .streams
            .acquire(&database_id, &access.owner, req.baton.as_deref())
        {
            Ok(x) => x,
            Err(e) => return acquire_error(e),
        };
    let server = state.sql.clone();
    let batch = req.batch;
    let db = database_id.clone();
    let work = tokio::task::spawn_blocking(move || {
        let mut stream = stream;
        let _policy = ThreadPolicy::enter(access.mode(), Some(Instant::now() + REQUEST_DEADLINE));
        let entry = match server.start(&access, &mut stream) {
            Ok(entry) => entry,
            Err(e) => {
                stream.conn = None;
                stream.closed = true;
                return Outcome {
                    stream,
                    result: Err(start_error(&db, e)),
                };
            }
        };
        let mut session = Session::new(access, Version::Hrana3, MAX_RESPONSE_BYTES);
        let result = match stream.conn.as_ref() {
            Some(conn) => session.batch(conn, &stream.sqls, &batch),
            None => Err(Failure::Protocol("Stream for this baton was closed".into())),
        };
        if result.is_err() {
            stream.conn = None;
        }
        server.finish(&entry, &session, &mut stream);
        Outcome {
            stream,
            result: result
                .map(exec::cursor_entries)
                .map_err(|f| failure_response(&db, f)),
        }
    });
    let outcome = match work.await {
        Ok(outcome) => outcome,
        Err(e) => return internal(e),
    };
    let (baton, closed) = lease.release(outcome.stream);
    drop(closed);
    let entries = match outcome.result {
        Ok(entries) => entries,
        Err(resp) => return resp,
    };
    let mut body = Vec::new();
    let head = CursorRespBody {
        baton,
        base_url: None,
    };
    let lines =
        std::iter::once(serde_json::to_vec(&head)).chain(entries.iter().map(serde_json::to_vec));
    for line in lines {
        match line {
            Ok(line) => {
                body.extend_from_slice(&line);
                body.push(b'\n');
            }
            Err(e) => return internal(e),
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_audiences() {
        for ro in [
            "readonly",
            "sql-readonly",
            "console.read",
            "sql_read",
            "sql-read-only",
            "SQL-ReadOnly",
            "read",
        ] {
            assert!(is_read_only_audience(ro), "{ro}");
        }
        for rw in [
            "sql",
            "sql-console",
            "reader",
            "thread",
            "readwrite",
            "sql-write",
        ] {
            assert!(!is_read_only_audience(rw), "{rw}");
        }
    }

    #[test]
    fn bearer_header_reasons() {
        let mut h = HeaderMap::new();
        assert_eq!(
            bearer(&h),
            Err("Expected authorization header but none given")
        );
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("cdt_x"));
        assert!(bearer(&h).is_err());
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(bearer(&h).is_err());
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer cdt_x"),
        );
        assert_eq!(bearer(&h), Ok("cdt_x".to_owned()));
    }
}
