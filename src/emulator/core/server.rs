//! The connection layer every platform shares: our own accept loop (to count connections
//! and to be able to drop one without an answer), the `Host` check (`super::hosts`: loopback
//! and `localhost` names only, unless allowed), the admin-secret check, request stats
//! labelled from the matched route, and fault injection, in front of a platform's routers.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Response, Uri};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::admin::{self, ADMIN_HEADER};
use super::directory::{self, Directory};
use super::faults::{FaultAction, Faults};
use super::hosts::{AllowedHosts, HostPolicy};
use super::platform::{CoreError, Platform};
use super::ratelimit;
use super::secrets::constant_time_eq;
use super::state_admin::StateHome;

/// How long shutdown waits for open connections to finish their current request.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client may take to send a request head; then the connection is closed.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Request and connection counters (`GET /_emulator/stats`).
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    connections: AtomicU64,
    by_route: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    fn routes(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.by_route.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one public request under its label (see [`route_label`]).
    pub fn record_request(&self, label: String) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        *self.routes().entry(label).or_insert(0) += 1;
    }

    /// Counts one accepted TCP connection.
    pub fn record_connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Value {
        json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "by_route": *self.routes(),
            "connections": self.connections.load(Ordering::Relaxed),
        })
    }

    pub fn reset(&self) {
        let mut routes = self.routes();
        routes.clear();
        self.requests.store(0, Ordering::Relaxed);
        self.connections.store(0, Ordering::Relaxed);
    }
}

/// The stats key of a request from the route the router matched: `"METHOD /route/{param}"`
/// (axum's template is already written as the contract writes it), or
/// `"METHOD (unmatched)"` when no route matched or a wildcard catch-all (`{*rest}`) did.
pub fn route_label(method: &str, matched: Option<&str>) -> String {
    match matched.filter(|t| !t.contains('*')) {
        Some(template) => format!("{method} {template}"),
        None => format!("{method} (unmatched)"),
    }
}

/// Everything the core keeps for one served platform.
#[derive(Clone)]
pub struct CoreState {
    pub platform: Arc<dyn Platform>,
    pub admin_secret: Arc<str>,
    pub faults: Arc<Faults>,
    pub stats: Arc<Stats>,
    /// The `Host` names allowed beyond loopback and `localhost` (`--allow-host`).
    pub allowed_hosts: AllowedHosts,
    /// The platform's state folder and the gate of its public requests.
    pub home: Arc<StateHome>,
    /// The served platforms of this process: the console's listing and CORS.
    pub directory: Directory,
}

impl CoreState {
    /// A core error in the platform's shape.
    pub fn error(&self, error: CoreError) -> axum::response::Response {
        self.platform.error_response(error)
    }
}

/// The request path as the client sent it (faults match it), kept in the extensions.
#[derive(Debug, Clone)]
struct RawPath(String);

/// A response marker: close the connection without sending this response.
#[derive(Debug, Clone, Copy)]
struct Abort;

/// The error a service returns to make hyper close the connection without an answer.
#[derive(Debug)]
struct AbortConnection;

impl std::fmt::Display for AbortConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection aborted by fault injection")
    }
}

impl std::error::Error for AbortConnection {}

fn aborted() -> axum::response::Response {
    let mut resp = ().into_response();
    resp.extensions_mut().insert(Abort);
    resp
}

/// Middleware on every public route and the fallbacks: counts the request under its
/// matched route, then applies the fault rules.
async fn observe(State(core): State<CoreState>, req: Request, next: Next) -> Response<Body> {
    let method = req.method().as_str().to_owned();
    let path = match req.extensions().get::<RawPath>() {
        Some(RawPath(p)) => p.clone(),
        None => req.uri().path().to_owned(),
    };
    let matched = req.extensions().get::<MatchedPath>().map(|m| m.as_str());
    core.stats.record_request(route_label(&method, matched));
    let limit = core.faults.rate_limit.check(
        &ratelimit::credential(req.headers()),
        std::time::Instant::now(),
    );
    if let Some(limit) = limit {
        let mut resp = match limit.refused {
            Some(retry_after) => {
                tracing::debug!(%method, %path, retry_after, "rate limited");
                core.error(CoreError::RateLimited { retry_after })
            }
            None => faulted(&core, req, next, &method, &path).await,
        };
        ratelimit::write_headers(&limit, resp.headers_mut());
        return resp;
    }
    faulted(&core, req, next, &method, &path).await
}

/// Applies the fault rules to a request, then serves it (unless a fault decides).
async fn faulted(
    core: &CoreState,
    req: Request,
    next: Next,
    method: &str,
    path: &str,
) -> Response<Body> {
    let decision = core.faults.evaluate(method, path);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    match decision.action {
        None => next.run(req).await,
        Some(FaultAction::RateLimit { retry_after }) => {
            tracing::info!(%method, %path, "fault: rate_limit");
            core.error(CoreError::RateLimited { retry_after })
        }
        Some(FaultAction::Error {
            status,
            retry_after,
        }) => {
            tracing::info!(%method, %path, status, "fault: error");
            let status = axum::http::StatusCode::from_u16(status)
                .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE);
            core.error(CoreError::Injected {
                status,
                retry_after,
            })
        }
        Some(FaultAction::Drop) => {
            tracing::info!(%method, %path, "fault: drop");
            aborted()
        }
        Some(FaultAction::LoseResponse) => {
            let resp = next.run(req).await;
            tracing::info!(%method, %path, status = resp.status().as_u16(), "fault: lose_response");
            drop(resp);
            aborted()
        }
    }
}

/// The two routers of a served platform.
#[derive(Clone)]
pub struct App {
    public: Router,
    admin: Router,
}

/// Builds the public router (platform routes + fallbacks, under the stats and faults
/// middleware) and the admin router (core and platform admin routes + fallbacks).
pub fn app(core: &CoreState) -> App {
    let (nf, mna) = (core.clone(), core.clone());
    let public = core
        .platform
        .public_routes()
        .fallback(move || async move { nf.error(CoreError::NotFound) })
        .method_not_allowed_fallback(move || async move { mna.error(CoreError::MethodNotAllowed) })
        .layer(axum::middleware::from_fn_with_state(core.clone(), observe));
    let (nf, mna) = (core.clone(), core.clone());
    let admin = admin::routes(core.clone())
        .merge(core.platform.admin_routes())
        .fallback(move || async move { nf.error(CoreError::NotFound) })
        .method_not_allowed_fallback(move || async move { mna.error(CoreError::MethodNotAllowed) });
    App { public, admin }
}

fn is_admin_path(path: &str) -> bool {
    path == "/_emulator" || path.starts_with("/_emulator/")
}

async fn call_router(router: Router, req: Request<Incoming>) -> Response<Body> {
    let svc = TowerToHyperService::new(router);
    match hyper::service::Service::call(&svc, req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}

fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let pq = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(pq.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// The health route of every listener: no admin secret, no faults, not counted.
pub const HEALTH_PATH: &str = "/_emulator/health";
/// The header naming the emulator's version on every answer of every platform listener.
pub const VERSION_HEADER: &str = "x-emulator-version";
/// The emulator's version (the crate's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /_emulator/health`: 200 when every engine of the platform is ready, else 503; the
/// body names each engine with its readiness.
async fn health(core: &CoreState, method: &axum::http::Method) -> Response<Body> {
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        let mut resp = core.error(CoreError::MethodNotAllowed);
        resp.headers_mut().insert(
            axum::http::header::ALLOW,
            axum::http::HeaderValue::from_static("GET,HEAD"),
        );
        return resp;
    }
    let engines = core.platform.readiness().await;
    let ready = engines.iter().all(|e| e.ready);
    let not_ready: Vec<&str> = engines
        .iter()
        .filter(|e| !e.ready)
        .map(|e| e.engine.as_str())
        .collect();
    let status = if ready {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "platform": core.platform.spec().name,
        "version": VERSION,
        "ready": ready,
        "not_ready": not_ready,
        "engines": engines,
    });
    (status, axum::Json(body)).into_response()
}

/// `GET /_console/platforms`: the served platforms (no secret, not counted, no faults).
fn platforms_listing(core: &CoreState, method: &axum::http::Method) -> Response<Body> {
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        let mut resp = core.error(CoreError::MethodNotAllowed);
        resp.headers_mut().insert(
            axum::http::header::ALLOW,
            axum::http::HeaderValue::from_static("GET,HEAD"),
        );
        return resp;
    }
    (
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        axum::Json(core.directory.listing()),
    )
        .into_response()
}

async fn dispatch(
    req: Request<Incoming>,
    app: App,
    core: CoreState,
    hosts: Arc<HostPolicy>,
    own_port: u16,
) -> Result<Response<Body>, AbortConnection> {
    // CORS for the browser console's origin only (`super::directory`).
    let cors = core.directory.cors_origin(req.headers(), own_port);
    let mut resp = match &cors {
        Some(origin)
            if directory::is_preflight(req.method(), req.headers())
                && hosts.accepts_request(req.uri(), req.headers()) =>
        {
            directory::preflight(origin.clone())
        }
        _ => route(req, app, core, hosts).await?,
    };
    if let Some(origin) = cors {
        directory::allow(&mut resp, origin);
    }
    resp.headers_mut().insert(
        VERSION_HEADER,
        axum::http::HeaderValue::from_static(VERSION),
    );
    Ok(resp)
}

async fn route(
    mut req: Request<Incoming>,
    app: App,
    core: CoreState,
    hosts: Arc<HostPolicy>,
) -> Result<Response<Body>, AbortConnection> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    if !hosts.accepts_request(req.uri(), req.headers()) {
        tracing::debug!(%method, %path, host = ?req.headers().get(axum::http::header::HOST), "Host refused");
        return Ok(hosts.refusal(req.headers(), ""));
    }
    if path == HEALTH_PATH {
        return Ok(health(&core, &method).await);
    }
    if path == directory::PLATFORMS_PATH {
        return Ok(platforms_listing(&core, &method));
    }
    if is_admin_path(&path) {
        let authorized = req
            .headers()
            .get(ADMIN_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| constant_time_eq(v, &core.admin_secret));
        if !authorized {
            return Ok(core.error(CoreError::AdminUnauthorized));
        }
        return Ok(call_router(app.admin, req).await);
    }
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(super::hosts::parse_host);
    let host_name = match &host {
        Some(super::hosts::Host::Name(name)) => Some(name.as_str()),
        _ => None,
    };
    if let Some(normal) = core.platform.normalize_path(host_name, &path) {
        if let Some(uri) = with_path(req.uri(), &normal) {
            *req.uri_mut() = uri;
        }
    }
    req.extensions_mut().insert(RawPath(path.clone()));
    // Held while the platform answers: a state export, reset or import waits for open
    // requests and holds new ones (`state_admin`).
    let gate = core.home.gate.read().await;
    let resp = call_router(app.public, req).await;
    drop(gate);
    if resp.extensions().get::<Abort>().is_some() {
        return Err(AbortConnection);
    }
    tracing::debug!(%method, %path, status = resp.status().as_u16(), "request");
    Ok(resp)
}

/// A bound listener and the address clients should use.
pub struct Bound {
    pub listener: TcpListener,
    /// The address clients use (loopback when bound to an unspecified address).
    pub addr: SocketAddr,
    /// `http://host:port`.
    pub base_url: String,
}

/// Binds `listen` (port 0 picks a free port).
pub async fn bind(listen: &str) -> anyhow::Result<Bound> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = public_addr(listener.local_addr()?);
    Ok(Bound {
        listener,
        addr,
        base_url: format!("http://{addr}"),
    })
}

/// The address clients should use: an unspecified bind address becomes loopback.
pub fn public_addr(bound: SocketAddr) -> SocketAddr {
    match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bound.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), bound.port())
        }
        _ => bound,
    }
}

/// What a platform's listener answers while the platform is starting (its engines
/// initialising or starting): 503 with `Retry-After: 1` and the version header to every
/// request; `GET /_emulator/health` says `"ready": false, "not_ready": ["starting"]`.
/// Ends (dropping its handle on the listener) once `done` turns true or its sender is
/// dropped; [`serve`] then takes over the same listener.
pub async fn answer_starting(
    listener: Arc<TcpListener>,
    platform: &'static str,
    mut done: watch::Receiver<bool>,
) {
    loop {
        // `biased`: once the platform serves, a connection waiting to be accepted goes to
        // the platform, never to this answer (accept is cancel-safe: a connection not
        // taken here stays queued for the platform's server). Unbiased, a connection made
        // after the "listening" line could still be answered 503 "starting".
        let accepted = tokio::select! {
            biased;
            _ = done.wait_for(|d| *d) => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((stream, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| async move {
                let body = if req.uri().path() == HEALTH_PATH {
                    json!({
                        "platform": platform,
                        "version": VERSION,
                        "ready": false,
                        "not_ready": ["starting"],
                        "engines": [],
                        "detail": "starting: its engines are initialising or starting",
                    })
                } else {
                    json!({"error": format!("{platform} is starting; retry shortly")})
                };
                let mut resp = (
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    [(axum::http::header::RETRY_AFTER, "1")],
                    axum::Json(body),
                )
                    .into_response();
                resp.headers_mut().insert(
                    VERSION_HEADER,
                    axum::http::HeaderValue::from_static(VERSION),
                );
                Ok::<_, Infallible>(resp)
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), svc);
            let _ = conn.await;
        });
    }
}

/// Serves a platform on `listener` until `shutdown` turns true, then lets open
/// connections finish their current request (up to 5 seconds).
pub async fn serve(
    listener: Arc<TcpListener>,
    core: CoreState,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = app(&core);
    let (hosts, own_port) = match listener.local_addr() {
        Ok(bound) => (
            Arc::new(core.allowed_hosts.for_listener(bound)),
            bound.port(),
        ),
        Err(e) => {
            tracing::error!(error = %e, "no local address; not serving");
            return;
        }
    };
    // Every connection task holds a clone of `done_tx`; `done_rx.recv()` yields `None`
    // once all of them ended.
    let (done_tx, mut done_rx) = mpsc::channel::<Infallible>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        core.stats.record_connection();
        let app = app.clone();
        let conn_core = core.clone();
        let conn_hosts = hosts.clone();
        let mut conn_shutdown = shutdown.clone();
        let done = done_tx.clone();
        tokio::spawn(async move {
            let _done = done;
            let svc = hyper::service::service_fn(move |req| {
                dispatch(
                    req,
                    app.clone(),
                    conn_core.clone(),
                    conn_hosts.clone(),
                    own_port,
                )
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), svc)
                .with_upgrades();
            tokio::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = async { let _ = conn_shutdown.wait_for(|stop| *stop).await; } => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(done_tx);
    tracing::debug!("stopped accepting; draining connections");
    if tokio::time::timeout(DRAIN_TIMEOUT, done_rx.recv())
        .await
        .is_err()
    {
        tracing::warn!("open connections did not finish in time");
    }
    tracing::debug!("server stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels() {
        assert_eq!(route_label("GET", Some("/v1/projects")), "GET /v1/projects");
        assert_eq!(
            route_label("POST", Some("/v1/projects/{project}/databases")),
            "POST /v1/projects/{project}/databases"
        );
        assert_eq!(
            route_label("POST", Some("/db/{database}/v3/cursor")),
            "POST /db/{database}/v3/cursor"
        );
        assert_eq!(
            route_label("GET", Some("/db/{database}/{*rest}")),
            "GET (unmatched)"
        );
        assert_eq!(route_label("GET", None), "GET (unmatched)");
    }

    #[test]
    fn stats_count_and_reset() {
        let stats = Stats::default();
        stats.record_connection();
        stats.record_request(route_label("GET", Some("/v1/projects")));
        stats.record_request(route_label("GET", Some("/v1/projects")));
        let snap = stats.snapshot();
        assert_eq!(snap["requests"], 2);
        assert_eq!(snap["connections"], 1);
        assert_eq!(snap["by_route"]["GET /v1/projects"], 2);
        stats.reset();
        let snap = stats.snapshot();
        assert_eq!(snap["requests"], 0);
        assert_eq!(snap["by_route"], json!({}));
    }
}
