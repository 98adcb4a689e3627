//! The HTTP side of the data plane: routes under `/db/{database}/`, authorisation, sqld's
//! bounds, and the answers (sqld's statuses and bodies).
//!
//! Error bodies follow the server they imitate:
//! - authorisation and database state, as sqld: `{"error": "..."}` (401 invalid or expired
//!   token, 403 suspended database or a statement the token may not run, 404 deleted or
//!   unknown database, 429 too many concurrent requests), with the Hrana `message` and
//!   `code` beside it, which `@libsql/client` reads ([`refusal`]);
//! - Hrana-level failures (malformed body, bad baton, expired stream, protocol misuse): the
//!   Hrana `Error` structure `{"message": "...", "code": "..."}`, which libSQL clients turn
//!   into a proper error (413 for an oversized body, 429 when too many streams are open,
//!   400 otherwise).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use futures::StreamExt;
use prost::Message as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::conn::{self, ThreadPolicy};
use super::exec::{self, Access, Failure, ResponseLimits, Session, Version};
use super::proto::{
    Batch, CursorReqBody, CursorRespBody, PipelineReqBody, PipelineRespBody, Stmt, StreamRequest,
    StreamResponse, StreamResult,
};
use super::protobuf;
use super::replica::{LogState, Pull, ReplicaError, ReplicaLog};
use super::streams::{AcquireError, Stream};
use super::SqlServer;
use super::{AuthFailure, Namespaces, Refusal, BY_TOKEN};
use crate::emulator::comwit::AppState;
use crate::emulator::core::auth::{self, BearerError};

/// The largest request body accepted. sqld has no cap of its own; the emulator holds a
/// request in memory, so it stops at a size no libSQL client sends in practice (SQLite's
/// own largest value is 1 GB).
pub const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;
/// An oversized body is read (and dropped) up to this size before the 413 answer.
pub const DRAIN_LIMIT_BYTES: usize = MAX_BODY_BYTES + 64 * 1024 * 1024;
/// The rows of one statement, approximately in bytes of JSON, at most (sqld's
/// `--max-response-size` default, 10 MB).
pub const MAX_RESPONSE_BYTES: usize = 10_000_000;
/// The rows of all statements being answered at the same time, at most (sqld's
/// `--max-total-response-size` default, 32 MB).
pub const MAX_TOTAL_RESPONSE_BYTES: usize = 32_000_000;
/// Requests whose SQL runs at the same time, and requests waiting for them, at most
/// (sqld's `--max-concurrent-connections` and `--max-concurrent-requests` defaults); one
/// more waiting request is answered 429.
pub const MAX_CONCURRENT_REQUESTS: usize = 128;
/// How long the SQL work of one HTTP request may run before SQLite interrupts it.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

/// The `/db/{database}/...` routes: the one table of what the data plane serves (the
/// stats take their labels from it). Paths arrive with empty segments and a final `/`
/// removed ([`super::normalize_path`]). Each handler checks its methods itself, so that a
/// wrong method answers as sqld does (405 with `Allow`, no body).
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/db/{database}", any(database_root))
        .route("/db/{database}/health", any(health))
        .route("/db/{database}/version", any(version))
        .route("/db/{database}/v1", any(index_v1))
        .route("/db/{database}/v1/execute", any(execute_v1))
        .route("/db/{database}/v1/batch", any(batch_v1))
        .route("/db/{database}/v2", any(index_v2))
        .route("/db/{database}/v3", any(index_v3))
        .route("/db/{database}/v2/pipeline", any(pipeline_v2))
        .route("/db/{database}/v3/pipeline", any(pipeline_v3))
        .route("/db/{database}/v3/cursor", any(cursor_v3))
        .route("/db/{database}/v3-protobuf", any(index_v3))
        .route(
            "/db/{database}/v3-protobuf/pipeline",
            any(pipeline_v3_protobuf),
        )
        .route("/db/{database}/v3-protobuf/cursor", any(cursor_v3_protobuf))
        .route("/db/{database}/info", any(replica_info))
        .route("/db/{database}/export/{generation}", any(replica_export))
        .route(
            "/db/{database}/sync/{generation}/{start}/{end}",
            any(replica_sync),
        )
        .route(
            "/db/{database}/sync/{generation}/{start}/{end}/{baton}",
            any(replica_sync),
        )
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

/// A refusal: sqld's body `{"error": "..."}` (what sqld sends, read by its tools and by
/// the Rust and Python clients, which show the body), plus the Hrana `Error` fields
/// `message` and `code`: `@libsql/client` reads a JSON error body only through them and
/// otherwise says no more than "Server returned HTTP status 401". `message` is sqld's text
/// with the emulator's `hint` after it, when there is one.
fn refusal(status: StatusCode, code: &str, error: String, hint: Option<&str>) -> Response {
    let message = match hint {
        Some(hint) => format!("{error}; {hint}"),
        None => error.clone(),
    };
    json_response(
        status,
        &json!({ "error": error, "message": message, "code": code }),
    )
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
    namespace_missing_refused(database_id).response()
}

fn namespace_missing_refused(database_id: &str) -> Refused {
    Refused {
        status: StatusCode::NOT_FOUND,
        code: "NAMESPACE_DOESNT_EXIST",
        error: format!("Namespace `{database_id}` doesn't exist"),
        hint: Some("no such database (deleted, or never created here)"),
    }
}

fn unauthorized_refused(failure: AuthFailure, hint: &'static str) -> Refused {
    Refused {
        status: StatusCode::UNAUTHORIZED,
        code: failure.code(),
        error: format!("Unauthorized: `{}`", failure.reason()),
        hint: Some(hint),
    }
}

fn suspended_refused(database_id: &str) -> Refused {
    Refused {
        status: StatusCode::FORBIDDEN,
        code: "BLOCKED",
        error: format!("Authorization forbidden: database `{database_id}` is suspended"),
        hint: Some("resume it to run SQL"),
    }
}

fn internal(err: impl std::fmt::Display) -> Response {
    internal_refused(err).response()
}

/// An internal failure: logged here, answered without its details.
pub(super) fn internal_refused(err: impl std::fmt::Display) -> Refused {
    tracing::error!(error = %err, "SQL request failed");
    Refused {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        code: "INTERNAL_ERROR",
        error: "Internal Error: `the emulator could not serve this request`".into(),
        hint: None,
    }
}

fn protocol_error(message: impl Into<String>) -> Response {
    hrana_error(StatusCode::BAD_REQUEST, "PROTOCOL_ERROR", message)
}

fn failure_response(database_id: &str, failure: Failure) -> Response {
    match failure {
        Failure::Protocol(msg) => protocol_error(msg),
        Failure::Forbidden(msg) => refusal(StatusCode::FORBIDDEN, "FORBIDDEN", msg, None),
        // Statement errors are results; they never end a request. Kept total for safety.
        Failure::Stmt(err) => {
            tracing::warn!(%database_id, code = %err.code, "statement error escaped");
            hrana_error(StatusCode::BAD_REQUEST, &err.code, err.message)
        }
    }
}

// ---- routing -------------------------------------------------------------------------------

/// The database id of the path ([`BY_TOKEN`] when the URL names none).
fn database(path: Result<Path<String>, PathRejection>) -> Result<String, Box<Response>> {
    match path {
        Ok(Path(database_id)) => Ok(database_id),
        Err(_) => Err(Box::new(StatusCode::NOT_FOUND.into_response())),
    }
}

fn is_read(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

type DbPath = Result<Path<String>, PathRejection>;

/// The database URL itself: Hrana over WebSocket when the request is an upgrade
/// ([`super::ws`]), else nothing (404 with an empty body).
async fn database_root(
    State(sql): State<Arc<SqlServer>>,
    path: DbPath,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let database_id = match database(path) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    match upgrade {
        Ok(ws) => super::ws::upgrade(sql, database_id, ws),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Any path under a database that is not served: 404 with an empty body.
async fn not_served() -> Response {
    StatusCode::NOT_FOUND.into_response()
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

async fn index_v1(State(sql): State<Arc<SqlServer>>, path: DbPath, method: Method) -> Response {
    index_route(sql, path, method, "This is sqld HTTP API v1").await
}

async fn index_v2(State(sql): State<Arc<SqlServer>>, path: DbPath, method: Method) -> Response {
    index_route(
        sql,
        path,
        method,
        "Hello, this is HTTP API v2 (Hrana over HTTP)",
    )
    .await
}

async fn index_v3(State(sql): State<Arc<SqlServer>>, path: DbPath, method: Method) -> Response {
    index_route(
        sql,
        path,
        method,
        "Hello, this is HTTP API v3 (Hrana over HTTP)",
    )
    .await
}

async fn index_route(
    sql: Arc<SqlServer>,
    path: DbPath,
    method: Method,
    hello: &'static str,
) -> Response {
    let database_id = match database(path) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    if !is_read(&method) {
        return method_not_allowed("GET, HEAD");
    }
    index(&sql, database_id, hello).await
}

async fn pipeline_v2(
    State(sql): State<Arc<SqlServer>>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let at = (Version::Hrana2, Encoding::Json);
    pipeline_route(sql, path, method, headers, body, at).await
}

async fn pipeline_v3(
    State(sql): State<Arc<SqlServer>>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let at = (Version::Hrana3, Encoding::Json);
    pipeline_route(sql, path, method, headers, body, at).await
}

async fn pipeline_v3_protobuf(
    State(sql): State<Arc<SqlServer>>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let at = (Version::Hrana3, Encoding::Protobuf);
    pipeline_route(sql, path, method, headers, body, at).await
}

async fn pipeline_route(
    sql: Arc<SqlServer>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
    (version, encoding): (Version, Encoding),
) -> Response {
    let database_id = match database(path) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    if method != Method::POST {
        return method_not_allowed("POST");
    }
    pipeline(sql, database_id, version, encoding, &headers, body).await
}

async fn cursor_v3(
    State(sql): State<Arc<SqlServer>>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    cursor_route(sql, path, method, headers, body, Encoding::Json).await
}

async fn cursor_v3_protobuf(
    State(sql): State<Arc<SqlServer>>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    cursor_route(sql, path, method, headers, body, Encoding::Protobuf).await
}

async fn cursor_route(
    sql: Arc<SqlServer>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
    encoding: Encoding,
) -> Response {
    let database_id = match database(path) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    if method != Method::POST {
        return method_not_allowed("POST");
    }
    cursor(sql, database_id, encoding, &headers, body).await
}

/// `GET v2` / `GET v3`: the version check clients may probe (no token needed, as in sqld).
async fn index(sql: &Arc<SqlServer>, database_id: String, hello: &'static str) -> Response {
    let ns = sql.namespaces.clone();
    let id = database_id.clone();
    // A URL without its database (no token here to find it by) answers for the server.
    let by_token = id == BY_TOKEN;
    match tokio::task::spawn_blocking(move || Ok::<_, String>(by_token || ns.exists(&id)?)).await {
        Ok(Ok(true)) => text(StatusCode::OK, hello),
        Ok(Ok(false)) => namespace_missing(&database_id),
        Ok(Err(e)) => internal(e),
        Err(e) => internal(e),
    }
}

// ---- embedded replicas ([`super::replica`]) ----------------------------------------------

/// Runs `work` on the database's replication log, brought up to date first (blocking pool,
/// under the database's replica lock, with one of the request permits).
async fn on_replica<T: Send + 'static>(
    sql: &Arc<SqlServer>,
    database_id: &str,
    work: impl FnOnce(&ReplicaLog, LogState) -> Result<T, ReplicaError> + Send + 'static,
) -> Result<T, Response> {
    let _permit = admit(sql).await?;
    let server = sql.clone();
    let id = database_id.to_owned();
    let joined = tokio::task::spawn_blocking(move || {
        let entry = server.entry(&id, 1);
        if !entry.path.exists() {
            return Err(None);
        }
        // The keeper holds the file open, so the WAL is not folded back between requests.
        if let Err(e) = entry.ensure_keeper() {
            return Err(Some(ReplicaError::Sqlite(e)));
        }
        let _guard = super::lock(&entry.replica);
        let log = ReplicaLog::new(&entry.path);
        let state = log.refresh().map_err(Some)?;
        work(&log, state).map_err(Some)
    })
    .await;
    match joined.map_err(internal)? {
        Ok(value) => Ok(value),
        Err(None) => Err(namespace_missing(database_id)),
        Err(Some(ReplicaError::PageSize(size))) => Err(refusal(
            StatusCode::BAD_REQUEST,
            "REPLICA_UNSUPPORTED",
            ReplicaError::PageSize(size).to_string(),
            None,
        )),
        Err(Some(e)) => Err(internal(e)),
    }
}

/// The database and the access of a replica request, or the answer to send.
async fn replica_access(
    sql: &Arc<SqlServer>,
    database_id: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Access, Response> {
    if !is_read(method) {
        return Err(method_not_allowed("GET, HEAD"));
    }
    authorize_request(sql, database_id, headers).await
}

/// `GET info`: the current generation of the replication log (what a client's builder
/// probes to choose the sync protocol, and reads before it downloads the export). A valid
/// token of a suspended database gets it too, so that the client goes on with this
/// protocol and shows the refusal of the export or the frames (suspended), rather than
/// falling back to sqld's gRPC replication and failing there with an unrelated error.
async fn replica_info(
    State(sql): State<Arc<SqlServer>>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let database_id = match database(path) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    if !is_read(&method) {
        return method_not_allowed("GET, HEAD");
    }
    let id = match authorize_token(&sql, &database_id, bearer(&headers)).await {
        Ok(access) => access.database_id,
        Err(refused) if refused.code == "BLOCKED" && database_id != BY_TOKEN => database_id,
        Err(refused) => return refused.response(),
    };
    match on_replica(&sql, &id, |_, log| Ok(log)).await {
        Ok(log) => json_response(
            StatusCode::OK,
            &json!({ "current_generation": log.generation }),
        ),
        Err(resp) => resp,
    }
}

fn replica_number(segment: &str) -> Result<u32, Response> {
    segment.parse::<u32>().map_err(|_| {
        hrana_error(
            StatusCode::BAD_REQUEST,
            "PROTOCOL_ERROR",
            format!("`{segment}` is not a generation or frame number"),
        )
    })
}

/// `GET export/<generation>`: the database file at the start of that generation.
async fn replica_export(
    State(sql): State<Arc<SqlServer>>,
    path: Result<Path<(String, String)>, PathRejection>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let Ok(Path((database_id, generation))) = path else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let generation = match replica_number(&generation) {
        Ok(n) => n,
        Err(resp) => return resp,
    };
    let access = match replica_access(&sql, &database_id, &method, &headers).await {
        Ok(access) => access,
        Err(resp) => return resp,
    };
    let exported = on_replica(&sql, &access.database_id, move |log, _| {
        log.export(generation)
    })
    .await;
    match exported {
        Ok(Some(bytes)) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )],
            bytes,
        )
            .into_response(),
        Ok(None) => refusal(
            StatusCode::NOT_FOUND,
            "GENERATION_NOT_FOUND",
            format!("no generation {generation} for this database"),
            None,
        ),
        Err(resp) => resp,
    }
}

/// `GET sync/<generation>/<start>/<end>`: the frames `[start, end)`; `POST` (pushing the
/// frames of a replica written offline) is refused.
async fn replica_sync(
    State(sql): State<Arc<SqlServer>>,
    path: Result<Path<Vec<(String, String)>>, PathRejection>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let Ok(Path(params)) = path else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let database_id = param("database");
    if method == Method::POST {
        // The token is checked first: a refused token is told so, not that pushing is not
        // served.
        let access = match authorize_request(&sql, &database_id, &headers).await {
            Ok(access) => access,
            Err(resp) => return resp,
        };
        if access.read_only_audience.is_some() {
            return refusal(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "Authorization forbidden: a read-only token cannot push frames".into(),
                None,
            );
        }
        return refusal(
            StatusCode::BAD_REQUEST,
            "PUSH_UNSUPPORTED",
            "pushing frames (a replica written offline) is not served by the emulator: open \
             the replica with remote writes (the clients' default), which send writes to the \
             database URL"
                .into(),
            None,
        );
    }
    let numbers = (
        replica_number(&param("generation")),
        replica_number(&param("start")),
        replica_number(&param("end")),
    );
    let (generation, start, end) = match numbers {
        (Ok(g), Ok(s), Ok(e)) => (g, s, e),
        (Err(resp), _, _) | (_, Err(resp), _) | (_, _, Err(resp)) => return resp,
    };
    let access = match replica_access(&sql, &database_id, &method, &headers).await {
        Ok(access) => access,
        Err(resp) => return resp,
    };
    let pulled = on_replica(&sql, &access.database_id, move |log, now| {
        log.pull(now, generation, start, end)
    })
    .await;
    match pulled {
        Ok(Pull::Frames(bytes)) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )],
            bytes,
        )
            .into_response(),
        Ok(Pull::EndOfGeneration(current)) => {
            json_response(StatusCode::BAD_REQUEST, &json!({ "generation": current }))
        }
        Ok(Pull::UnknownGeneration(current)) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({
                "generation": current,
                "error": format!("no generation {generation} for this database"),
            }),
        ),
        Err(resp) => resp,
    }
}

// ---- authorisation -------------------------------------------------------------------------

/// The bearer token of the request, or why sqld refuses the header.
fn bearer(headers: &HeaderMap) -> Result<String, AuthFailure> {
    auth::bearer(headers).map_err(|e| match e {
        BearerError::Missing => AuthFailure::HeaderMissing,
        BearerError::NotAscii => AuthFailure::HeaderNotAscii,
        BearerError::Malformed => AuthFailure::HeaderMalformed,
        BearerError::Scheme => AuthFailure::Scheme,
    })
}

/// What to do about a refused token, for the `message` of the answer (never the token).
fn auth_hint(failure: AuthFailure, token: Option<&str>) -> &'static str {
    match failure {
        AuthFailure::HeaderMissing
        | AuthFailure::HeaderNotAscii
        | AuthFailure::HeaderMalformed
        | AuthFailure::Scheme => {
            "send the database token or a query token as `Authorization: Bearer <token>` \
             (authToken in a libSQL client)"
        }
        AuthFailure::JwtExpired => "the query token expired: issue a new one",
        AuthFailure::JwtInvalid => match token {
            Some(t) if t.starts_with("cdt_") => {
                "not the current database token of this database (a rotated token stops \
                 working at once: use the token of the last rotation)"
            }
            Some(t) if t.starts_with("cqt_") => "not a query token of this database",
            _ => {
                "a database URL takes its database token (cdt_...) or one of its query tokens \
                 (cqt_...), not an API token"
            }
        },
    }
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
    token: Result<String, AuthFailure>,
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
    sql: &Arc<SqlServer>,
    database_id: &str,
    headers: &HeaderMap,
) -> Result<Access, Response> {
    authorize_token(sql, database_id, bearer(headers))
        .await
        .map_err(Refused::response)
}

/// A refused token or database, in sqld's words: the status, the code, sqld's text and the
/// emulator's hint (never the token).
pub(super) struct Refused {
    pub status: StatusCode,
    pub code: &'static str,
    pub error: String,
    pub hint: Option<&'static str>,
}

impl Refused {
    fn response(self) -> Response {
        refusal(self.status, self.code, self.error, self.hint)
    }

    /// sqld's text with the hint after it.
    pub fn message(&self) -> String {
        match self.hint {
            Some(hint) => format!("{}; {hint}", self.error),
            None => self.error.clone(),
        }
    }
}

/// Checks a token for a database (the path's, or the token's own for [`BY_TOKEN`]) on the
/// blocking pool: the authenticated context, or why it is refused. The one token check of
/// Hrana over HTTP and over WebSocket.
pub(super) async fn authorize_token(
    server: &SqlServer,
    database_id: &str,
    token: Result<String, AuthFailure>,
) -> Result<Access, Refused> {
    let ns = server.namespaces.clone();
    let path_id = database_id.to_owned();
    let sent = token.as_ref().ok().cloned();
    let joined = tokio::task::spawn_blocking(move || {
        let id = if path_id == BY_TOKEN {
            // A URL without its database: the token says which one.
            let found = match &token {
                Ok(token) => ns.database_of_token(token),
                Err(failure) => return (path_id, Err(Refusal::Unauthorized(*failure))),
            };
            match found {
                Ok(Some(id)) => id,
                Ok(None) => return (path_id, Err(Refusal::Unauthorized(AuthFailure::JwtInvalid))),
                Err(e) => return (path_id, Err(Refusal::Internal(e))),
            }
        } else {
            path_id
        };
        let outcome = authorize(&*ns, &id, token);
        (id, outcome)
    })
    .await;
    let (id, outcome) = match joined {
        Ok(x) => x,
        Err(e) => return Err(internal_refused(e)),
    };
    outcome.map_err(|refusal| match refusal {
        Refusal::NotFound => namespace_missing_refused(&id),
        Refusal::Unauthorized(failure) if id == BY_TOKEN => unauthorized_refused(
            failure,
            "this URL names no database (a database URL without its final `/`), so the \
             database is the one of the token, and this token belongs to no database",
        ),
        Refusal::Unauthorized(failure) => {
            unauthorized_refused(failure, auth_hint(failure, sent.as_deref()))
        }
        Refusal::Suspended => suspended_refused(&id),
        Refusal::Internal(e) => internal_refused(e),
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
    // A declared length is only a promise: room for at most 16 MiB is taken before the bytes
    // arrive.
    let room = declared.map_or(0, |n| n.min(16 * 1024 * 1024) as usize);
    let mut buf = Vec::with_capacity(room);
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

/// How a request body and its answer are written: JSON (`v2`, `v3`) or Protobuf
/// (`v3-protobuf`). Refusals are JSON either way (clients read them by content type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    Protobuf,
}

impl Encoding {
    fn pipeline_request(self, bytes: &[u8]) -> Result<PipelineReqBody, String> {
        match self {
            Encoding::Json => parse_json(bytes),
            Encoding::Protobuf => protobuf::PipelineReqBody::decode(bytes)
                .map_err(protobuf_error)
                .and_then(protobuf::pipeline_request),
        }
    }

    fn cursor_request(self, bytes: &[u8]) -> Result<CursorReqBody, String> {
        match self {
            Encoding::Json => parse_json(bytes),
            Encoding::Protobuf => protobuf::CursorReqBody::decode(bytes)
                .map_err(protobuf_error)
                .and_then(protobuf::cursor_request),
        }
    }

    fn content_type(self, json: &'static str) -> HeaderValue {
        match self {
            Encoding::Json => HeaderValue::from_static(json),
            Encoding::Protobuf => HeaderValue::from_static("application/x-protobuf"),
        }
    }
}

fn protobuf_error(e: prost::DecodeError) -> String {
    format!("Cannot decode client message from Protobuf: {e}")
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
pub(super) enum StartError {
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

/// Runs `work` on the stream of `baton` (a new one when `None`) on the blocking pool, with
/// the stream's connection open, and hands the stream back: the new baton (`None` once the
/// stream is closed) and what `work` returned, or the answer to send. A failure of `work`
/// closes the stream (rolling back its transaction), as in sqld.
async fn on_stream<T: Send + 'static>(
    sql: &Arc<SqlServer>,
    access: Access,
    version: Version,
    baton: Option<&str>,
    work: impl FnOnce(&mut Session, &mut Stream) -> Result<T, Failure> + Send + 'static,
) -> Result<(Option<String>, T), Response> {
    let _permit = admit(sql).await?;
    let database_id = access.database_id.clone();
    let (lease, stream) = sql
        .streams
        .acquire(&database_id, &access.owner, baton)
        .map_err(acquire_error)?;
    let server = sql.clone();
    let db = database_id.clone();
    let blocking = tokio::task::spawn_blocking(move || {
        let (stream, outcome) = run_blocking(&server, access, version, stream, work);
        let result = match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(failure)) => Err(failure_response(&db, failure)),
            Err(e) => Err(start_error(&db, e)),
        };
        (stream, result)
    });
    let (stream, result) = blocking.await.map_err(internal)?;
    let (baton, closed) = lease.release(stream);
    drop(closed);
    result.map(|value| (baton, value))
}

/// The SQL work of one request on a stream (blocking: call it on the blocking pool, with a
/// permit of [`admit`]): opens what it needs, runs `work` under the token's authorizer and
/// the request deadline, and does the bookkeeping. A failure of `work` closes the stream
/// (rolling back its transaction), as in sqld. Shared by Hrana over HTTP and over
/// WebSocket ([`super::ws`]).
pub(super) fn run_blocking<T>(
    server: &SqlServer,
    access: Access,
    version: Version,
    mut stream: Box<Stream>,
    work: impl FnOnce(&mut Session, &mut Stream) -> Result<T, Failure>,
) -> (Box<Stream>, Result<Result<T, Failure>, StartError>) {
    let _policy = ThreadPolicy::enter(access.mode(), Some(Instant::now() + REQUEST_DEADLINE));
    let entry = match server.start(&access, &mut stream) {
        Ok(entry) => entry,
        Err(e) => {
            stream.conn = None;
            stream.closed = true;
            return (stream, Err(e));
        }
    };
    let limits = ResponseLimits {
        per_statement: MAX_RESPONSE_BYTES,
        total: MAX_TOTAL_RESPONSE_BYTES,
        in_flight: server.in_flight.clone(),
    };
    let mut session = Session::new(access, version, limits);
    let result = work(&mut session, &mut stream);
    if result.is_err() {
        stream.conn = None;
    }
    server.finish(&entry, &session, &mut stream);
    (stream, Ok(result))
}

/// Waits for one of the [`MAX_CONCURRENT_REQUESTS`] permits; 429 when as many requests are
/// already waiting, as sqld answers.
pub(super) async fn admit(
    server: &SqlServer,
) -> Result<tokio::sync::OwnedSemaphorePermit, Response> {
    use std::sync::atomic::Ordering;
    if let Ok(permit) = server.permits.clone().try_acquire_owned() {
        return Ok(permit);
    }
    struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);
    impl Drop for Waiting<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }
    let before = server.waiting.fetch_add(1, Ordering::Relaxed);
    let _waiting = Waiting(&server.waiting);
    if before >= MAX_CONCURRENT_REQUESTS {
        return Err(refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many concurrent requests".into(),
            None,
        ));
    }
    server
        .permits
        .clone()
        .acquire_owned()
        .await
        .map_err(internal)
}

// ---- pipeline ------------------------------------------------------------------------------

async fn pipeline(
    sql: Arc<SqlServer>,
    database_id: String,
    version: Version,
    encoding: Encoding,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let access = match authorize_request(&sql, &database_id, headers).await {
        Ok(access) => access,
        Err(resp) => return resp,
    };
    let bytes = match read_body(headers, body).await {
        Ok(bytes) => bytes,
        Err(resp) => return resp,
    };
    let req = match encoding.pipeline_request(&bytes) {
        Ok(req) => req,
        Err(msg) => return protocol_error(msg),
    };
    drop(bytes);
    let requests = req.requests;
    let outcome = on_stream(
        &sql,
        access,
        version,
        req.baton.as_deref(),
        move |session, stream| {
            let mut results = Vec::with_capacity(requests.len());
            for request in requests {
                results.push(session.handle(&mut stream.conn, &mut stream.sqls, request)?);
            }
            Ok(results)
        },
    )
    .await;
    let (baton, results) = match outcome {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let body = PipelineRespBody {
        baton,
        base_url: None,
        results,
    };
    match encoding {
        Encoding::Json => json_response(StatusCode::OK, &body),
        Encoding::Protobuf => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, encoding.content_type(""))],
            protobuf::pipeline_response(body).encode_to_vec(),
        )
            .into_response(),
    }
}

// ---- Hrana over HTTP v1 ----------------------------------------------------------------------

/// `POST v1/execute` body (sqld's `hrana_over_http_1`).
#[derive(Deserialize)]
struct ExecuteV1 {
    stmt: Stmt,
}

/// `POST v1/batch` body.
#[derive(Deserialize)]
struct BatchV1 {
    batch: Batch,
}

/// A v1 answer: `{"result": ...}`.
#[derive(Serialize)]
struct ResultV1<T> {
    result: T,
}

async fn execute_v1(
    State(sql): State<Arc<SqlServer>>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    v1_route(sql, path, method, headers, body, false).await
}

async fn batch_v1(
    State(sql): State<Arc<SqlServer>>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    v1_route(sql, path, method, headers, body, true).await
}

/// Hrana over HTTP v1, as sqld serves it: one statement or one batch per request on a
/// connection of its own (no stream, no baton); `{"result": StmtResult | BatchResult}`,
/// and a statement error as the Hrana `Error` with sqld's status for it.
async fn v1_route(
    sql: Arc<SqlServer>,
    path: DbPath,
    method: Method,
    headers: HeaderMap,
    body: Body,
    is_batch: bool,
) -> Response {
    let database_id = match database(path) {
        Ok(id) => id,
        Err(resp) => return *resp,
    };
    if method != Method::POST {
        return method_not_allowed("POST");
    }
    let access = match authorize_request(&sql, &database_id, &headers).await {
        Ok(access) => access,
        Err(resp) => return resp,
    };
    let bytes = match read_body(&headers, body).await {
        Ok(bytes) => bytes,
        Err(resp) => return resp,
    };
    let parsed = if is_batch {
        parse_json::<BatchV1>(&bytes).map(|b| StreamRequest::Batch { batch: b.batch })
    } else {
        parse_json::<ExecuteV1>(&bytes).map(|e| StreamRequest::Execute { stmt: e.stmt })
    };
    let request = match parsed {
        Ok(request) => request,
        Err(msg) => return protocol_error(msg),
    };
    drop(bytes);
    let outcome = on_stream(
        &sql,
        access,
        Version::Hrana2,
        None,
        move |session, stream| {
            let result = session.handle(&mut stream.conn, &mut stream.sqls, request);
            // No stream outlives a v1 request.
            stream.conn = None;
            result
        },
    )
    .await;
    match outcome {
        Ok((_, StreamResult::Ok { response })) => match response {
            StreamResponse::Execute { result } => {
                json_response(StatusCode::OK, &ResultV1 { result })
            }
            StreamResponse::Batch { result } => json_response(StatusCode::OK, &ResultV1 { result }),
            _ => internal("a v1 request answered as another request"),
        },
        Ok((_, StreamResult::Error { error })) => json_response(v1_status(&error.code), &error),
        Err(resp) => resp,
    }
}

/// sqld's status for a statement error over HTTP v1.
fn v1_status(code: &str) -> StatusCode {
    match code {
        "ARGS_BOTH_POSITIONAL_AND_NAMED" => StatusCode::NOT_IMPLEMENTED,
        "TRANSACTION_TIMEOUT" | "TRANSACTION_BUSY" => StatusCode::SERVICE_UNAVAILABLE,
        c if c.starts_with("SQLITE_") => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

// ---- cursor --------------------------------------------------------------------------------

async fn cursor(
    sql: Arc<SqlServer>,
    database_id: String,
    encoding: Encoding,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    let access = match authorize_request(&sql, &database_id, headers).await {
        Ok(access) => access,
        Err(resp) => return resp,
    };
    let bytes = match read_body(headers, body).await {
        Ok(bytes) => bytes,
        Err(resp) => return resp,
    };
    let req = match encoding.cursor_request(&bytes) {
        Ok(req) => req,
        Err(msg) => return protocol_error(msg),
    };
    drop(bytes);
    let batch = req.batch;
    let outcome = on_stream(
        &sql,
        access,
        Version::Hrana3,
        req.baton.as_deref(),
        move |session, stream| match stream.conn.as_ref() {
            Some(conn) => session
                .batch(conn, &stream.sqls, &batch)
                .map(exec::cursor_entries),
            None => Err(Failure::Protocol("Stream for this baton was closed".into())),
        },
    )
    .await;
    let (baton, entries) = match outcome {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let mut body = Vec::new();
    let head = CursorRespBody {
        baton,
        base_url: None,
    };
    match encoding {
        // One JSON object per line.
        Encoding::Json => {
            let lines = std::iter::once(serde_json::to_vec(&head))
                .chain(entries.iter().map(serde_json::to_vec));
            for line in lines {
                match line {
                    Ok(line) => {
                        body.extend_from_slice(&line);
                        body.push(b'\n');
                    }
                    Err(e) => return internal(e),
                }
            }
        }
        // One length-delimited message after the other.
        Encoding::Protobuf => {
            let written = protobuf::cursor_response(head)
                .encode_length_delimited(&mut body)
                .and_then(|()| {
                    entries.into_iter().try_for_each(|entry| {
                        protobuf::cursor_entry(entry).encode_length_delimited(&mut body)
                    })
                });
            if let Err(e) = written {
                return internal(e);
            }
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, encoding.content_type("text/plain"))],
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

    /// A platform with no databases (for the parts that need none).
    struct NoDatabases;

    impl Namespaces for NoDatabases {
        fn exists(&self, _: &str) -> Result<bool, String> {
            Ok(false)
        }
        fn database_of_token(&self, _: &str) -> Result<Option<String>, String> {
            Ok(None)
        }
        fn authenticate(&self, _: &str, _: &str) -> Result<Access, Refusal> {
            Err(Refusal::NotFound)
        }
        fn database_path(&self, id: &str) -> std::path::PathBuf {
            std::path::PathBuf::from(id)
        }
        fn record_query(&self, _: &str, _: u64, _: u64) -> Result<(), String> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn requests_wait_for_a_slot_and_past_the_waiting_line_are_refused(
    ) -> Result<(), Box<dyn std::error::Error>> {
        use std::sync::atomic::Ordering;
        let server = SqlServer::new(std::sync::Arc::new(NoDatabases));
        let all = u32::try_from(MAX_CONCURRENT_REQUESTS)?;
        let held = server.permits.clone().try_acquire_many_owned(all)?;
        // Every slot taken: a request waits ...
        let waited = tokio::time::timeout(Duration::from_millis(50), admit(&server)).await;
        assert!(waited.is_err(), "admitted while every slot was taken");
        assert_eq!(server.waiting.load(Ordering::Relaxed), 0, "the waiter left");
        // ... unless as many already wait: 429, as sqld answers.
        server
            .waiting
            .store(MAX_CONCURRENT_REQUESTS, Ordering::Relaxed);
        match admit(&server).await {
            Err(resp) => assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS),
            Ok(_) => panic!("admitted past the waiting line"),
        }
        server.waiting.store(0, Ordering::Relaxed);
        // A slot given back admits the next request.
        drop(held);
        assert!(admit(&server).await.is_ok());
        Ok(())
    }

    #[tokio::test]
    async fn bodies_are_capped_far_above_what_clients_send() {
        // 12 MiB (a big blob, base64 in JSON) is read ...
        let big = vec![b'x'; 12 * 1024 * 1024];
        let read = read_body(&HeaderMap::new(), Body::from(big)).await;
        assert_eq!(read.map(|b| b.len()).ok(), Some(12 * 1024 * 1024));
        // ... a declared length past the cap is refused before reading.
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(DRAIN_LIMIT_BYTES as u64 + 1),
        );
        match read_body(&h, Body::empty()).await {
            Err(resp) => assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE),
            Ok(_) => panic!("a body past the cap was accepted"),
        }
    }

    #[test]
    fn bearer_header_reasons() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), Err(AuthFailure::HeaderMissing));
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
