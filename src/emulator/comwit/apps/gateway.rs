//! The app gateway: a second listener that routes every request by its `Host` (port left
//! out) to the app whose `default_hostname` it is, and forwards it to that app's worker
//! with the app's current env. Unknown host: 404 `no app serves <host>`; no active build:
//! 503 `app <name> has no active build`; a worker that cannot start: 502. A `Host` that is
//! neither a loopback or `localhost` name the core accepts (`core::hosts`) nor a hostname
//! attached to an app: 421, as on every listener. Answers of the gateway itself are plain
//! text. Not faulted, not counted in the stats.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use super::super::dns::api::hostname_json;
use super::super::dns::DnsInfo;
use super::super::extract::StoreCalls;
use super::{Apps, ServeError};
use crate::emulator::core::hosts::{AllowedHosts, HostPolicy};
use crate::emulator::core::server::{HEADER_READ_TIMEOUT, VERSION, VERSION_HEADER};

/// The largest request body the gateway forwards. [assumed: 32 MiB]
pub const MAX_REQUEST_BYTES: usize = 32 * 1024 * 1024;
/// Header: the public URL the client asked for (set by the gateway, removed by the runner).
pub const URL_HEADER: &str = "x-comwit-emulator-url";
/// Header: how many bytes of env JSON start the forwarded body.
pub const ENV_HEADER: &str = "x-comwit-emulator-env-bytes";
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Hop-by-hop headers and those the gateway sets itself: never forwarded.
const DROPPED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    URL_HEADER,
    ENV_HEADER,
];

/// The host a request is for: its `Host` header, lowercase, without port or final dot.
pub fn request_host(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::HOST)?.to_str().ok()?.trim();
    let host = if let Some(rest) = raw.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        match raw.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => raw,
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

fn text(status: StatusCode, body: String) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// The gateway's shared state.
#[derive(Clone)]
pub struct Gateway {
    apps: Arc<Apps>,
    http: reqwest::Client,
    /// For attached hostnames (and their verification): the DNS server and resolver, and
    /// store calls answering in the API's error shape.
    dns: DnsInfo,
    store: StoreCalls,
    /// `Host` names accepted beyond loopback and `localhost` (`--allow-host`).
    allowed_hosts: AllowedHosts,
}

impl Gateway {
    pub fn new(
        apps: Arc<Apps>,
        dns: DnsInfo,
        allowed_hosts: AllowedHosts,
    ) -> anyhow::Result<Gateway> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(5))
            .build()?;
        let store = StoreCalls::of(&apps.store);
        Ok(Gateway {
            apps,
            http,
            dns,
            store,
            allowed_hosts,
        })
    }

    async fn handle(&self, req: Request<Incoming>, hosts: &HostPolicy) -> Response<Body> {
        let Some(host) = request_host(req.headers()) else {
            return hosts.refusal(req.headers(), ", app hostnames");
        };
        if !hosts.accepts_request(req.uri(), req.headers()) {
            // Not a name the core accepts: only a hostname attached to an app is served.
            let lookup = host.clone();
            match self
                .apps
                .calls
                .run(move |s| s.hostname_route(&lookup))
                .await
            {
                Ok(Some(_)) if req.uri().authority().is_none() => {}
                Ok(_) => return hosts.refusal(req.headers(), ", app hostnames"),
                Err(e) => {
                    tracing::error!(error = %e, "gateway hostname lookup failed");
                    return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into());
                }
            }
        }
        let lookup = host.clone();
        let app = match self
            .apps
            .calls
            .run(move |s| s.app_by_hostname(&lookup))
            .await
        {
            Ok(Some(app)) => app,
            Ok(None) => match self.attached(&host).await {
                Ok(app) => app,
                Err(resp) => return resp,
            },
            Err(e) => {
                tracing::error!(error = %e, "gateway lookup failed");
                return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into());
            }
        };
        let (parts, body) = req.into_parts();
        let body = match axum::body::to_bytes(Body::new(body), MAX_REQUEST_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("request body over {MAX_REQUEST_BYTES} bytes (or unreadable)\n"),
                )
            }
        };
        let host_header = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(&host)
            .to_owned();
        let path = parts
            .uri
            .path_and_query()
            .map_or("/", |pq| pq.as_str())
            .to_owned();
        let public_url = format!("http://{host_header}{path}");
        // Once more when the worker went away between lookup and forward (a switch).
        for attempt in 0..2 {
            let port = match self.apps.worker_port(&app.app_id).await {
                Ok(port) => port,
                Err(ServeError::Gone) => {
                    return text(StatusCode::NOT_FOUND, format!("no app serves {host}\n"))
                }
                Err(ServeError::NoActiveBuild(name)) => {
                    return text(
                        StatusCode::SERVICE_UNAVAILABLE,
                        format!("app {name} has no active build\n"),
                    )
                }
                Err(ServeError::Worker(e)) => {
                    tracing::warn!(app_id = %app.app_id, error = %e, "worker did not start");
                    return text(
                        StatusCode::BAD_GATEWAY,
                        format!("app {} could not start: {e}\n", app.name),
                    );
                }
            };
            let app_id = app.app_id.clone();
            let env = match self.apps.calls.run(move |s| s.list_env(&app_id)).await {
                Ok(vars) => vars,
                Err(e) => {
                    tracing::error!(error = %e, "gateway env lookup failed");
                    return text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into());
                }
            };
            let env: Map<String, Value> = env
                .iter()
                .map(|v| (v.key.clone(), Value::from(v.runtime_value())))
                .collect();
            let env = Value::Object(env).to_string().into_bytes();
            let mut forwarded = Vec::with_capacity(env.len() + body.len());
            forwarded.extend_from_slice(&env);
            forwarded.extend_from_slice(&body);
            let mut request = self
                .http
                .request(
                    parts.method.clone(),
                    format!("http://127.0.0.1:{port}{path}"),
                )
                .header(URL_HEADER, public_url.as_str())
                .header(ENV_HEADER, env.len().to_string());
            for (name, value) in &parts.headers {
                if !DROPPED.contains(&name.as_str()) && name != header::HOST {
                    request = request.header(name, value);
                }
            }
            match request.body(forwarded).send().await {
                Ok(resp) => return answer(resp).await,
                Err(e) if attempt == 0 && (e.is_connect() || e.is_request()) => {
                    tracing::debug!(app_id = %app.app_id, error = %e, "worker went away; retrying");
                }
                Err(e) => {
                    tracing::warn!(app_id = %app.app_id, error = %e, "worker did not answer");
                    return text(
                        StatusCode::BAD_GATEWAY,
                        format!("app {} did not answer\n", app.name),
                    );
                }
            }
        }
        text(
            StatusCode::BAD_GATEWAY,
            format!("app {} did not answer\n", app.name),
        )
    }
}

impl Gateway {
    /// The app `host` is attached to as a hostname, once verified: its records are looked
    /// up in DNS when it is not verified yet. Otherwise the gateway's answer.
    async fn attached(&self, host: &str) -> Result<super::super::store::App, Response<Body>> {
        let lookup = host.to_owned();
        let route = self
            .apps
            .calls
            .run(move |s| s.hostname_route(&lookup))
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "gateway hostname lookup failed");
                text(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n".into())
            })?;
        let Some((hostname, app)) = route else {
            return Err(text(
                StatusCode::NOT_FOUND,
                format!("no app serves {host}\n"),
            ));
        };
        if hostname.verified_at.is_some() {
            return Ok(app);
        }
        let status = hostname_json(self.dns, &self.store, &hostname, &app)
            .await
            .map_err(|e| text(e.status, format!("{}\n", e.message)))?;
        if status["status"] == "verified" {
            return Ok(app);
        }
        let missing: Vec<String> = status["missing"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                format!(
                    "{} {} {}",
                    m["name"].as_str().unwrap_or(""),
                    m["type"].as_str().unwrap_or(""),
                    m["value"].as_str().unwrap_or("")
                )
            })
            .collect();
        Err(text(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "hostname {host} is attached to app {} but not verified yet; missing in DNS: {}\n",
                app.name,
                missing.join("; ")
            ),
        ))
    }
}

/// The worker's answer, as the gateway's.
async fn answer(resp: reqwest::Response) -> Response<Body> {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the worker's answer");
            return text(
                StatusCode::BAD_GATEWAY,
                "the app's answer broke off\n".into(),
            );
        }
    };
    let mut out = Response::new(Body::from(body));
    *out.status_mut() = status;
    for (name, value) in &headers {
        if !DROPPED.contains(&name.as_str()) {
            out.headers_mut()
                .append(HeaderName::from(name), value.clone());
        }
    }
    out
}

/// Serves the gateway on `listener` until `shutdown` turns true, then lets open
/// connections finish (up to 5 seconds).
pub async fn serve(listener: TcpListener, gateway: Gateway, mut shutdown: watch::Receiver<bool>) {
    let hosts = match listener.local_addr() {
        Ok(bound) => Arc::new(gateway.allowed_hosts.for_listener(bound)),
        Err(e) => {
            tracing::error!(error = %e, "gateway: no local address; not serving");
            return;
        }
    };
    let (done_tx, mut done_rx) = mpsc::channel::<Infallible>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = async { let _ = shutdown.wait_for(|stop| *stop).await; } => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "gateway accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let gateway = gateway.clone();
        let conn_hosts = hosts.clone();
        let mut conn_shutdown = shutdown.clone();
        let done = done_tx.clone();
        tokio::spawn(async move {
            let _done = done;
            let svc = hyper::service::service_fn(move |req| {
                let gateway = gateway.clone();
                let hosts = conn_hosts.clone();
                async move {
                    let mut resp = gateway.handle(req, &hosts).await;
                    resp.headers_mut()
                        .insert(VERSION_HEADER, HeaderValue::from_static(VERSION));
                    Ok::<_, Infallible>(resp)
                }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = async { let _ = conn_shutdown.wait_for(|stop| *stop).await; } => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%peer, error = %e, "gateway connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(done_tx);
    if tokio::time::timeout(DRAIN_TIMEOUT, done_rx.recv())
        .await
        .is_err()
    {
        tracing::warn!("open gateway connections did not finish in time");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(host) {
            h.insert(header::HOST, v);
        }
        h
    }

    #[test]
    fn hosts() {
        assert_eq!(
            request_host(&with_host("Web-1a2b3c4d.apps.localhost:8790")).as_deref(),
            Some("web-1a2b3c4d.apps.localhost")
        );
        assert_eq!(
            request_host(&with_host("web.apps.localhost.")).as_deref(),
            Some("web.apps.localhost")
        );
        assert_eq!(request_host(&with_host("[::1]:80")).as_deref(), Some("::1"));
        assert_eq!(request_host(&HeaderMap::new()), None);
        assert_eq!(request_host(&with_host(":80")), None);
    }
}
