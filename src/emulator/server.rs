//! The connection layer: our own accept loop (to count connections and to be able to drop
//! one without an answer), the admin-secret check, request stats and fault injection, in
//! front of the axum router.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::admin::ADMIN_HEADER;
use super::error::ApiError;
use super::faults::FaultAction;
use super::store::constant_time_eq;
use super::AppState;

/// How long shutdown waits for open connections to finish their current request.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

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

    /// Counts one public API request.
    pub fn record_request(&self, method: &str, path: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        *self.routes().entry(route_key(method, path)).or_insert(0) += 1;
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

/// The stats key of a request: `"METHOD /route/{template}"`, or `"METHOD (unmatched)"`.
pub fn route_key(method: &str, path: &str) -> String {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let template = match segments.as_slice() {
        ["v1", "projects"] => "/v1/projects",
        ["v1", "projects", p] if !p.is_empty() => "/v1/projects/{project}",
        ["v1", "projects", p, "databases"] if !p.is_empty() => "/v1/projects/{project}/databases",
        ["v1", "databases", d] if !d.is_empty() => "/v1/databases/{database}",
        ["v1", "databases", d, "token", "rotate"] if !d.is_empty() => {
            "/v1/databases/{database}/token/rotate"
        }
        ["v1", "databases", d, op] if !d.is_empty() => match *op {
            "query-token" => "/v1/databases/{database}/query-token",
            "suspend" => "/v1/databases/{database}/suspend",
            "resume" => "/v1/databases/{database}/resume",
            "usage" => "/v1/databases/{database}/usage",
            _ => "(unmatched)",
        },
        ["db", d, rest @ ..] if !d.is_empty() => {
            super::sql::route_template(rest).unwrap_or("(unmatched)")
        }
        _ => "(unmatched)",
    };
    format!("{method} {template}")
}

fn is_admin_path(path: &str) -> bool {
    path == "/_emulator" || path.starts_with("/_emulator/")
}

/// The error a service returns to make hyper close the connection without an answer.
#[derive(Debug)]
struct AbortConnection;

impl std::fmt::Display for AbortConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection aborted by fault injection")
    }
}

impl std::error::Error for AbortConnection {}

async fn call_router(router: Router, req: Request<Incoming>) -> Response<Body> {
    let svc = TowerToHyperService::new(router);
    match hyper::service::Service::call(&svc, req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}

async fn dispatch(
    req: Request<Incoming>,
    router: Router,
    state: AppState,
) -> Result<Response<Body>, AbortConnection> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();

    if is_admin_path(&path) {
        let authorized = req
            .headers()
            .get(ADMIN_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| constant_time_eq(v, &state.admin_secret));
        if !authorized {
            return Ok(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or wrong X-Emulator-Admin header",
            )
            .into_response());
        }
        return Ok(call_router(router, req).await);
    }

    state.stats.record_request(&method, &path);
    let decision = state.faults.evaluate(&method, &path);
    if !decision.delay.is_zero() {
        tokio::time::sleep(decision.delay).await;
    }
    let resp = match decision.action {
        None => call_router(router, req).await,
        Some(FaultAction::RateLimit { retry_after }) => {
            tracing::info!(%method, %path, "fault: rate_limit");
            ApiError::rate_limited(retry_after).into_response()
        }
        Some(FaultAction::Error {
            status,
            retry_after,
        }) => {
            tracing::info!(%method, %path, status, "fault: error");
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut err = ApiError::server(status, "injected fault");
            err.retry_after = retry_after;
            err.into_response()
        }
        Some(FaultAction::Drop) => {
            tracing::info!(%method, %path, "fault: drop");
            return Err(AbortConnection);
        }
        Some(FaultAction::LoseResponse) => {
            let resp = call_router(router, req).await;
            tracing::info!(%method, %path, status = resp.status().as_u16(), "fault: lose_response");
            drop(resp);
            return Err(AbortConnection);
        }
    };
    tracing::debug!(%method, %path, status = resp.status().as_u16(), "request");
    Ok(resp)
}

/// Serves `router` on `listener` until `shutdown` turns true, then lets open connections
/// finish their current request (up to 5 seconds).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    state: AppState,
    mut shutdown: watch::Receiver<bool>,
) {
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
        state.stats.record_connection();
        let router = router.clone();
        let conn_state = state.clone();
        let mut conn_shutdown = shutdown.clone();
        let done = done_tx.clone();
        tokio::spawn(async move {
            let _done = done;
            let svc = hyper::service::service_fn(move |req| {
                dispatch(req, router.clone(), conn_state.clone())
            });
            let conn = http1::Builder::new().serve_connection(TokioIo::new(stream), svc);
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
    fn route_keys() {
        assert_eq!(route_key("GET", "/v1/projects"), "GET /v1/projects");
        assert_eq!(
            route_key("GET", "/v1/projects/prj_local"),
            "GET /v1/projects/{project}"
        );
        assert_eq!(
            route_key("POST", "/v1/projects/prj_local/databases"),
            "POST /v1/projects/{project}/databases"
        );
        assert_eq!(
            route_key("GET", "/v1/databases/db_0123"),
            "GET /v1/databases/{database}"
        );
        assert_eq!(
            route_key("POST", "/v1/databases/db_0123/token/rotate"),
            "POST /v1/databases/{database}/token/rotate"
        );
        assert_eq!(
            route_key("GET", "/v1/databases/db_0123/usage"),
            "GET /v1/databases/{database}/usage"
        );
        assert_eq!(
            route_key("POST", "/db/db_0123/v2/pipeline"),
            "POST /db/{database}/v2/pipeline"
        );
        assert_eq!(
            route_key("POST", "/db/db_0123//v3/cursor"),
            "POST /db/{database}/v3/cursor"
        );
        assert_eq!(route_key("GET", "/db/db_0123/nope"), "GET (unmatched)");
        assert_eq!(route_key("GET", "/v1/nothing"), "GET (unmatched)");
        assert_eq!(route_key("GET", "/v1/databases/"), "GET (unmatched)");
        assert_eq!(route_key("GET", "/"), "GET (unmatched)");
    }

    #[test]
    fn stats_count_and_reset() {
        let stats = Stats::default();
        stats.record_connection();
        stats.record_request("GET", "/v1/projects");
        stats.record_request("GET", "/v1/projects");
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
