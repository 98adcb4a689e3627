//! Typed client for the Comwit Cloud platform API (no plugin-framework imports).
//!
//! The contract is `docs/api/comwit.md`. Layout:
//! - this file: [`ClientConfig`], [`Client`] and [`Client::send`], the one function that
//!   sends every request (auth, User-Agent, escaping, retries, cancellation, logging);
//! - [`operation`](Operation): the per-route facts (method, path, scope, guard, retry safety);
//! - `error.rs`: [`ApiError`] and [`ApiFailure`] (summary and detail text for diagnostics);
//! - `projects.rs`, `databases.rs`: typed request and response structs, one method per route;
//! - `secret.rs`: [`Secret`], for every token.
//!
//! Logs go through `tracing` (operation, method, path template, status, attempt, latency).
//! Tokens, the Authorization header and response bodies are never logged.

mod databases;
mod error;
mod operation;
mod projects;
mod secret;
#[cfg(test)]
mod testutil;

pub use databases::{
    CreateDatabaseRequest, CreatedDatabase, Database, DatabaseStatus, FrameNumbers, QueryToken,
    QueryTokenRequest, RotatedToken, Usage,
};
pub use error::{ApiError, ApiFailure, ForbiddenCode};
pub use operation::{Operation, OperationKind};
pub use projects::Project;
pub use secret::Secret;

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio_util::sync::CancellationToken;
use url::Url;

/// The product API's documented base URL.
pub const DEFAULT_API_URL: &str = "https://api.cloud.comwit.io";

/// The User-Agent product token; [`ClientConfig::user_agent_suffix`] is appended to it.
pub const USER_AGENT_PRODUCT: &str =
    concat!("terraform-provider-comwit/", env!("CARGO_PKG_VERSION"));

/// The header that makes a create safe to repeat (the contract's "Create a database").
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// The result of every public client method.
pub type Result<T> = std::result::Result<T, ApiFailure>;

/// The longest `Retry-After` the client waits on its own; a longer one ends the call with
/// [`ApiError::RateLimited`] (retrying earlier than asked would only be refused again).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The first backoff step; each retry doubles it, up to [`BACKOFF_CAP`], with full jitter.
pub const BACKOFF_BASE: Duration = Duration::from_millis(250);

/// The longest backoff between two attempts (without a `Retry-After`).
pub const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// How a [`Client`] reaches the API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The product API base URL ([`DEFAULT_API_URL`], or the provider's `api_url` /
    /// `COMWIT_API_URL`). A path prefix (`http://host/api`) is kept.
    pub base_url: Url,
    /// The user token (`cwt_...`), sent as `Authorization: Bearer`.
    pub token: Secret,
    /// The limit for one attempt, from connecting to the end of the answer's body.
    pub timeout: Duration,
    /// How many times a failed attempt is repeated (when repeating is safe).
    pub max_retries: u32,
    /// Appended to the User-Agent, e.g. `terraform/1.15.5`.
    pub user_agent_suffix: Option<String>,
}

impl ClientConfig {
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
    pub const DEFAULT_MAX_RETRIES: u32 = 4;

    /// A config with the default timeout and retry count and no User-Agent suffix.
    pub fn new(base_url: Url, token: Secret) -> Self {
        ClientConfig {
            base_url,
            token,
            timeout: Self::DEFAULT_TIMEOUT,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            user_agent_suffix: None,
        }
    }
}

/// Why a [`ClientConfig`] cannot be used. The messages never include the token or the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("the API URL must use http or https, not `{0}`")]
    UnsupportedScheme(String),
    #[error("the API URL must be an absolute http(s) URL with a host")]
    NotABaseUrl,
    #[error("the API URL must not contain a user name or password; set the token instead")]
    CredentialsInUrl,
    #[error("the token contains characters that cannot be sent in an HTTP header")]
    InvalidToken,
    #[error("the User-Agent suffix contains characters that cannot be sent in an HTTP header")]
    InvalidUserAgent,
    #[error("could not set up the HTTP client: {0}")]
    Http(String),
}

/// The Comwit API client. Cheap to clone: clones share one connection pool, one request
/// counter and one cancellation token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    token: Secret,
    timeout: Duration,
    max_retries: u32,
    backoff: Backoff,
    cancel: CancellationToken,
    requests_sent: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url.as_str())
            .field("token", &self.inner.token)
            .field("timeout", &self.inner.timeout)
            .field("max_retries", &self.inner.max_retries)
            .finish_non_exhaustive()
    }
}

/// Capped exponential backoff with full jitter.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    base: Duration,
    cap: Duration,
}

impl Backoff {
    /// The longest wait before retry number `retry + 1` (`retry` counts from 0).
    fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random wait in `[0, ceiling(retry)]`.
    fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry).as_millis() as u64;
        Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling))
    }
}

/// What one attempt gave.
enum Attempt {
    Answer {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    Failed(reqwest::Error),
}

impl Client {
    /// A client with its own cancellation token (see [`Client::cancel_token`]).
    pub fn new(config: ClientConfig) -> std::result::Result<Client, ConfigError> {
        Client::with_cancel_token(config, CancellationToken::new())
    }

    /// A client whose waits and requests stop when `cancel` fires (e.g. a child of the
    /// provider's stop token).
    pub fn with_cancel_token(
        config: ClientConfig,
        cancel: CancellationToken,
    ) -> std::result::Result<Client, ConfigError> {
        let mut base_url = config.base_url;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(ConfigError::UnsupportedScheme(base_url.scheme().to_owned()));
        }
        if base_url.cannot_be_a_base() || base_url.host().is_none() {
            return Err(ConfigError::NotABaseUrl);
        }
        if !base_url.username().is_empty() || base_url.password().is_some() {
            return Err(ConfigError::CredentialsInUrl);
        }
        base_url.set_query(None);
        base_url.set_fragment(None);

        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if !config.token.is_empty() {
            let mut auth = HeaderValue::from_str(&format!("Bearer {}", config.token.expose()))
                .map_err(|_| ConfigError::InvalidToken)?;
            auth.set_sensitive(true);
            headers.insert(AUTHORIZATION, auth);
        }
        let user_agent = match config
            .user_agent_suffix
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(suffix) => format!("{USER_AGENT_PRODUCT} {suffix}"),
            None => USER_AGENT_PRODUCT.to_owned(),
        };
        let user_agent =
            HeaderValue::from_str(&user_agent).map_err(|_| ConfigError::InvalidUserAgent)?;

        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(user_agent)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(16)
            .tcp_nodelay(true)
            .tcp_keepalive(Duration::from_secs(60))
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ConfigError::Http(e.without_url().to_string()))?;

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url,
                token: config.token,
                timeout: config.timeout,
                max_retries: config.max_retries,
                backoff: Backoff {
                    base: BACKOFF_BASE,
                    cap: BACKOFF_CAP,
                },
                cancel,
                requests_sent: AtomicU64::new(0),
            }),
        })
    }

    /// The token that cancels this client's waits and requests: cancel it (e.g. when
    /// Terraform calls StopProvider) and every call returns [`ApiError::Cancelled`] at once.
    /// A cancelled client stays cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// How many HTTP requests (attempts, retries included) this client has sent.
    pub fn requests_sent(&self) -> u64 {
        self.inner.requests_sent.load(Ordering::Relaxed)
    }

    /// The base URL requests are sent to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The URL of a route: the base URL with each segment pushed (so percent-escaped).
    fn url_for(&self, segments: &[&str]) -> std::result::Result<Url, ApiError> {
        let mut url = self.inner.base_url.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|_| ApiError::InvalidInput {
                    field: "api_url".to_owned(),
                    message: "cannot carry a path".to_owned(),
                })?;
            path.pop_if_empty();
            for segment in segments {
                check_segment("id", segment)?;
                path.push(segment);
            }
        }
        Ok(url)
    }

    /// Sends `op`'s request and returns the body of the 2xx answer. This is the one place
    /// that talks HTTP: it adds auth and the User-Agent (default headers), builds the URL
    /// from escaped segments, applies the per-attempt timeout, retries (429 always; 502,
    /// 503, 504, timeouts and dropped connections only when [`OperationKind::retry_safe`];
    /// refused connections always) with capped, fully jittered exponential backoff or the
    /// server's `Retry-After`, and stops at once when the cancel token fires.
    async fn send(
        &self,
        op: &Operation,
        segments: &[&str],
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> std::result::Result<Vec<u8>, ApiError> {
        let inner = &*self.inner;
        let url = self.url_for(segments)?;
        let method = op.kind.method();
        let template = op.kind.path_template();
        let label = op.label();
        let retry_safe = op.kind.retry_safe();
        let mut retries: u32 = 0;
        loop {
            if inner.cancel.is_cancelled() {
                return Err(ApiError::Cancelled);
            }
            let attempt = retries + 1;
            let mut request = inner
                .http
                .request(method.clone(), url.clone())
                .timeout(inner.timeout);
            if let Some(key) = idempotency_key {
                request = request.header(IDEMPOTENCY_KEY_HEADER, key);
            }
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            inner.requests_sent.fetch_add(1, Ordering::Relaxed);
            let started = Instant::now();
            let outcome = tokio::select! {
                biased;
                _ = inner.cancel.cancelled() => {
                    tracing::debug!(op = label, method = %method, path = template, attempt,
                        "comwit api request cancelled");
                    return Err(ApiError::Cancelled);
                }
                outcome = run_attempt(request) => outcome,
            };
            let latency_ms = started.elapsed().as_millis() as u64;

            let (error, wait, asked) = match outcome {
                Attempt::Answer {
                    status,
                    retry_after,
                    body,
                } => {
                    tracing::debug!(op = label, method = %method, path = template,
                        status = status.as_u16(), attempt, latency_ms, "comwit api response");
                    if status.is_success() {
                        return Ok(body);
                    }
                    let error = ApiError::from_response(
                        status,
                        retry_after,
                        &body,
                        retries,
                        inner.token.expose(),
                    );
                    let wait = match status.as_u16() {
                        429 => Some(match retry_after {
                            Some(after) => after + jitter(),
                            None => inner.backoff.delay(retries),
                        }),
                        502..=504 if retry_safe => {
                            let backoff = inner.backoff.delay(retries);
                            Some(retry_after.map_or(backoff, |after| after.max(backoff)))
                        }
                        _ => None,
                    };
                    (error, wait, retry_after)
                }
                Attempt::Failed(err) => {
                    let timed_out = err.is_timeout();
                    // A refused connection never reached the server: always safe to repeat.
                    let repeatable = err.is_connect() || retry_safe;
                    let message = error::sanitize(&transport_message(&err), inner.token.expose());
                    tracing::debug!(op = label, method = %method, path = template, attempt,
                        latency_ms, timed_out, error = %message, "comwit api request failed");
                    let error = ApiError::Transport {
                        message,
                        timed_out,
                        retries,
                    };
                    let wait = repeatable.then(|| inner.backoff.delay(retries));
                    (error, wait, None)
                }
            };

            let Some(wait) = wait else {
                return Err(error);
            };
            // A `Retry-After` longer than we wait on our own ends the call: retrying
            // earlier than asked would only be refused again.
            if retries >= inner.max_retries || asked.is_some_and(|d| d > MAX_RETRY_AFTER) {
                return Err(error);
            }
            tracing::warn!(op = label, method = %method, path = template, attempt,
                status = error.status(), wait_ms = wait.as_millis() as u64,
                "retrying comwit api request");
            tokio::select! {
                biased;
                _ = inner.cancel.cancelled() => return Err(ApiError::Cancelled),
                _ = tokio::time::sleep(wait) => {}
            }
            retries += 1;
        }
    }

    /// [`Client::send`], then the answer decoded as `T`; errors carry `op`.
    async fn call<T: DeserializeOwned>(
        &self,
        op: Operation,
        segments: &[&str],
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> Result<T> {
        match self.send(&op, segments, body, idempotency_key).await {
            Ok(bytes) => decode(&op, &bytes, self.inner.token.expose())
                .map_err(|error| ApiFailure::new(op, error)),
            Err(error) => Err(ApiFailure::new(op, error)),
        }
    }

    /// [`Client::send`] for answers without a body worth reading (delete's 204).
    async fn call_no_content(&self, op: Operation, segments: &[&str]) -> Result<()> {
        match self.send(&op, segments, None, None).await {
            Ok(_) => Ok(()),
            Err(error) => Err(ApiFailure::new(op, error)),
        }
    }
}

/// Sends one attempt and reads the whole answer.
async fn run_attempt(request: reqwest::RequestBuilder) -> Attempt {
    let response = match request.send().await {
        Ok(response) => response,
        Err(err) => return Attempt::Failed(err),
    };
    let status = response.status();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    match response.bytes().await {
        Ok(body) => Attempt::Answer {
            status,
            retry_after,
            body: body.to_vec(),
        },
        Err(err) => Attempt::Failed(err),
    }
}

/// A reqwest error as text, with its causes and without the URL.
fn transport_message(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "connection failed".to_owned()
    } else if err.is_body() || err.is_decode() {
        "the connection broke while reading the answer".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    let mut last = String::new();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !cause_text.is_empty() && !last.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        last = cause_text;
        source = cause.source();
    }
    text
}

/// A little randomness on top of a `Retry-After`, so clients told the same time spread out.
fn jitter() -> Duration {
    Duration::from_millis(rand::thread_rng().gen_range(0..=100))
}

/// Decodes a 2xx body as `T`. The message names the operation and never quotes a token.
fn decode<T: DeserializeOwned>(
    op: &Operation,
    body: &[u8],
    token: &str,
) -> std::result::Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Decode {
        operation: op.label().to_owned(),
        message: error::sanitize(&e.to_string(), token),
    })
}

/// Serializes a request body.
fn encode<T: serde::Serialize>(op: &Operation, value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| {
        ApiFailure::new(
            op.clone(),
            ApiError::InvalidInput {
                field: "request".to_owned(),
                message: e.to_string(),
            },
        )
    })
}

/// Refuses a path segment that would change the route: empty, `.` or `..` (which URL
/// normalisation would drop or resolve).
fn check_segment(field: &str, value: &str) -> std::result::Result<(), ApiError> {
    if value.is_empty() || value == "." || value == ".." {
        return Err(ApiError::InvalidInput {
            field: field.to_owned(),
            message: format!("`{value}` is not a valid id"),
        });
    }
    Ok(())
}

/// Checks an id argument before anything is sent.
fn check_id(op: &Operation, field: &str, value: &str) -> Result<()> {
    check_segment(field, value).map_err(|e| ApiFailure::new(op.clone(), e))
}

/// Reads `Retry-After`: whole seconds, or an HTTP date (IMF-fixdate) relative to `now`.
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let at: SystemTime = at.into();
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::testutil::{
        refused_url, test_client, test_client_with, Canned, Mock, RawServer, TEST_TOKEN,
    };
    use super::*;

    const DB: &str = "db_8a41c0d2e3f4a5b6";

    fn orders() -> CreateDatabaseRequest {
        CreateDatabaseRequest {
            name: "orders".into(),
            group: Some("default".into()),
            size_limit_mb: None,
        }
    }

    #[tokio::test]
    async fn sends_bearer_token_user_agent_and_accept() {
        let mock = Mock::start(vec![Canned::json(
            200,
            include_str!("fixtures/projects.json"),
        )])
        .await;
        test_client(&mock.base).list_projects().await.unwrap();
        let call = &mock.calls()[0];
        assert_eq!(
            call.header("authorization"),
            Some(format!("Bearer {TEST_TOKEN}"))
        );
        assert_eq!(
            call.header("user-agent").as_deref(),
            Some(concat!(
                "terraform-provider-comwit/",
                env!("CARGO_PKG_VERSION"),
                " terraform/1.15.5"
            ))
        );
        assert_eq!(call.header("accept").as_deref(), Some("application/json"));
    }

    #[tokio::test]
    async fn user_agent_without_suffix() {
        let mock = Mock::start(vec![Canned::json(
            200,
            include_str!("fixtures/projects.json"),
        )])
        .await;
        let client = test_client_with(&mock.base, |c| c.user_agent_suffix = None);
        client.list_projects().await.unwrap();
        assert_eq!(
            mock.calls()[0].header("user-agent").as_deref(),
            Some(USER_AGENT_PRODUCT)
        );
    }

    #[tokio::test]
    async fn base_url_prefix_is_kept_with_or_without_trailing_slash() {
        for prefix in ["/api", "/api/"] {
            let mock = Mock::start_with_prefix(
                vec![Canned::json(200, include_str!("fixtures/database.json"))],
                prefix,
            )
            .await;
            test_client(&mock.base).get_database("a b/c").await.unwrap();
            assert_eq!(mock.calls()[0].path, "/api/v1/databases/a%20b%2Fc");
        }
    }

    #[tokio::test]
    async fn one_client_reuses_its_connection_pool() {
        let mock = Mock::start(vec![
            Canned::json(200, include_str!("fixtures/projects.json")),
            Canned::json(200, include_str!("fixtures/projects.json")),
        ])
        .await;
        let client = test_client(&mock.base);
        let clone = client.clone();
        client.list_projects().await.unwrap();
        clone.list_projects().await.unwrap();
        assert_eq!(client.requests_sent(), 2, "clones share the counter");
    }

    #[test]
    fn config_errors_are_typed_and_never_echo_the_token() {
        let url = |s: &str| Url::parse(s).unwrap();
        let build = |base: Url, token: &str| {
            Client::new(ClientConfig::new(base, Secret::new(token))).map(|_| ())
        };
        assert_eq!(
            build(url("ftp://host"), TEST_TOKEN),
            Err(ConfigError::UnsupportedScheme("ftp".into()))
        );
        assert_eq!(
            build(url("http://u:p@host"), TEST_TOKEN),
            Err(ConfigError::CredentialsInUrl)
        );
        let err = build(url("http://host"), "cwt_abc\nInjected: 1").unwrap_err();
        assert_eq!(err, ConfigError::InvalidToken);
        assert!(!err.to_string().contains("cwt_abc"));
        let client = Client::new(ClientConfig::new(url("http://host"), TEST_TOKEN.into())).unwrap();
        assert!(!format!("{client:?}").contains(TEST_TOKEN));
    }

    #[tokio::test]
    async fn every_status_gives_its_typed_error() {
        type Check = fn(&ApiError) -> bool;
        let cases: Vec<(Canned, Check)> = vec![
            (
                Canned::json(401, include_str!("fixtures/error_unauthorized.json")),
                |e| matches!(e, ApiError::Unauthorized { .. }),
            ),
            (
                Canned::json(403, include_str!("fixtures/error_forbidden_scope.json")),
                |e| {
                    matches!(e, ApiError::Forbidden { code: ForbiddenCode::MissingScope,
                        required_scope: Some(s), .. } if s == "database:write")
                },
            ),
            (
                Canned::json(403, include_str!("fixtures/error_not_a_member.json")),
                |e| {
                    matches!(
                        e,
                        ApiError::Forbidden {
                            code: ForbiddenCode::NotAMember,
                            ..
                        }
                    )
                },
            ),
            (
                Canned::json(404, include_str!("fixtures/error_not_found.json")),
                |e| e.is_not_found(),
            ),
            (
                Canned::json(409, include_str!("fixtures/error_conflict.json")),
                |e| matches!(e, ApiError::Conflict { .. }),
            ),
            (
                Canned::json(422, include_str!("fixtures/error_validation.json")),
                |e| matches!(e, ApiError::Validation { field: Some(f), .. } if f == "ttl_seconds"),
            ),
            (
                Canned::json(
                    400,
                    "{\"error\":{\"code\":\"bad_request\",\"message\":\"x\"}}",
                ),
                |e| matches!(e, ApiError::Unexpected { status: 400, .. }),
            ),
            (
                Canned::text(500, "<html>Internal Server Error</html>"),
                |e| {
                    matches!(
                        e,
                        ApiError::Server {
                            status: 500,
                            code: None,
                            retries: 0,
                            ..
                        }
                    )
                },
            ),
            (
                Canned::empty(302).header("location", "http://elsewhere.invalid/"),
                |e| matches!(e, ApiError::Unexpected { status: 302, .. }),
            ),
        ];
        let (script, checks): (Vec<_>, Vec<_>) = cases.into_iter().unzip();
        let count = checks.len();
        let mock = Mock::start(script).await;
        let client = test_client(&mock.base);
        for check in checks {
            let failure = client.get_database(DB).await.unwrap_err();
            assert!(check(&failure.error), "{:?}", failure.error);
            assert!(!failure.detail().contains(TEST_TOKEN));
        }
        // None of these is retried (a 500 is not one of the retryable statuses).
        assert_eq!(mock.calls().len(), count);
    }

    #[tokio::test]
    async fn rate_limit_waits_for_retry_after_then_succeeds() {
        let mock = Mock::start(vec![
            Canned::json(429, include_str!("fixtures/error_rate_limited.json"))
                .header("retry-after", "1"),
            Canned::json(200, include_str!("fixtures/database.json")),
        ])
        .await;
        let client = test_client(&mock.base);
        let started = Instant::now();
        let db = client.get_database(DB).await.unwrap();
        let waited = started.elapsed();
        assert_eq!(db.database_id, DB);
        assert!(
            waited >= Duration::from_millis(990),
            "waited only {waited:?}"
        );
        assert!(waited < Duration::from_secs(3), "waited {waited:?}");
        assert_eq!(mock.calls().len(), 2);
        assert_eq!(client.requests_sent(), 2);
    }

    #[tokio::test]
    async fn rate_limit_is_retried_even_for_rotate() {
        let mock = Mock::start(vec![
            Canned::json(429, include_str!("fixtures/error_rate_limited.json"))
                .header("retry-after", "0"),
            Canned::json(200, include_str!("fixtures/rotated_token.json")),
        ])
        .await;
        let rotated = test_client(&mock.base)
            .rotate_database_token(DB)
            .await
            .unwrap();
        assert_eq!(rotated.database_id, DB);
        assert_eq!(mock.calls().len(), 2);
    }

    #[tokio::test]
    async fn rate_limit_exhausted_reports_the_retries() {
        let limited = || {
            Canned::json(429, include_str!("fixtures/error_rate_limited.json"))
                .header("retry-after", "0")
        };
        let mock = Mock::start(vec![limited(), limited(), limited(), limited()]).await;
        let failure = test_client(&mock.base).get_database(DB).await.unwrap_err();
        assert_eq!(
            failure.error,
            ApiError::RateLimited {
                retry_after: Some(Duration::ZERO),
                retries: 2
            }
        );
        assert_eq!(mock.calls().len(), 3, "1 attempt + max_retries (2)");
        assert!(failure.detail().contains("retried 2 times"));
    }

    #[tokio::test]
    async fn retry_after_longer_than_the_cap_is_not_waited_out() {
        let mock = Mock::start(vec![Canned::json(
            429,
            include_str!("fixtures/error_rate_limited.json"),
        )
        .header("retry-after", "3600")])
        .await;
        let started = Instant::now();
        let failure = test_client(&mock.base).get_database(DB).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(matches!(
            failure.error,
            ApiError::RateLimited { retry_after: Some(d), retries: 0 } if d == Duration::from_secs(3600)
        ));
        assert_eq!(mock.calls().len(), 1);
    }

    #[tokio::test]
    async fn unavailable_is_retried_for_get() {
        let mock = Mock::start(vec![
            Canned::json(503, include_str!("fixtures/error_unavailable.json")),
            Canned::json(502, "bad gateway"),
            Canned::json(200, include_str!("fixtures/database.json")),
        ])
        .await;
        let db = test_client(&mock.base).get_database(DB).await.unwrap();
        assert_eq!(db.name, "orders");
        assert_eq!(mock.calls().len(), 3);
    }

    #[tokio::test]
    async fn unavailable_exhausted_gives_server_error() {
        let unavailable = || Canned::json(503, include_str!("fixtures/error_unavailable.json"));
        let mock = Mock::start(vec![unavailable(), unavailable(), unavailable()]).await;
        let failure = test_client(&mock.base)
            .list_databases("prj_1")
            .await
            .unwrap_err();
        assert!(matches!(
            failure.error,
            ApiError::Server { status: 503, retries: 2, ref message, .. } if message == "service unavailable"
        ));
        assert_eq!(mock.calls().len(), 3);
    }

    #[tokio::test]
    async fn rotate_is_not_retried_on_503() {
        let mock = Mock::start(vec![
            Canned::json(503, include_str!("fixtures/error_unavailable.json")),
            Canned::json(200, include_str!("fixtures/rotated_token.json")),
        ])
        .await;
        let client = test_client(&mock.base);
        let failure = client.rotate_database_token(DB).await.unwrap_err();
        assert!(matches!(
            failure.error,
            ApiError::Server {
                status: 503,
                retries: 0,
                ..
            }
        ));
        assert_eq!(mock.calls().len(), 1);
        assert_eq!(client.requests_sent(), 1);
        assert!(failure.detail().contains("Rotate again"));
    }

    #[tokio::test]
    async fn suspend_resume_and_query_token_are_not_retried_on_503() {
        let unavailable = || Canned::json(503, include_str!("fixtures/error_unavailable.json"));
        let mock = Mock::start(vec![unavailable(), unavailable(), unavailable()]).await;
        let client = test_client(&mock.base);
        assert!(client.suspend_database(DB).await.is_err());
        assert!(client.resume_database(DB).await.is_err());
        let request = QueryTokenRequest {
            ttl_seconds: 60,
            audience: None,
            reason: None,
        };
        assert!(client.create_query_token(DB, &request).await.is_err());
        assert_eq!(mock.calls().len(), 3);
    }

    #[tokio::test]
    async fn rotate_is_not_retried_on_a_dropped_connection() {
        let server = RawServer::start(1, 200, include_str!("fixtures/rotated_token.json")).await;
        let client = test_client(&server.base);
        let failure = client.rotate_database_token(DB).await.unwrap_err();
        assert!(
            matches!(failure.error, ApiError::Transport { retries: 0, .. }),
            "{:?}",
            failure.error
        );
        assert_eq!(server.requests().len(), 1);
    }

    #[tokio::test]
    async fn create_retries_503_with_the_same_idempotency_key() {
        let mock = Mock::start(vec![
            Canned::json(503, include_str!("fixtures/error_unavailable.json")),
            Canned::json(201, include_str!("fixtures/created_database.json")),
        ])
        .await;
        let created = test_client(&mock.base)
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap();
        assert_eq!(created.database.name, "orders");
        let calls = mock.calls();
        assert_eq!(calls.len(), 2);
        let first = calls[0].header("idempotency-key").unwrap();
        assert_eq!(calls[1].header("idempotency-key"), Some(first));
        assert_eq!(calls[0].body, calls[1].body);
    }

    #[tokio::test]
    async fn create_recovers_a_lost_answer_by_replay() {
        // The first answer's head arrives, then the connection breaks mid-body: the write
        // committed but the token was lost. The retry with the same key gets the replay.
        let mock = Mock::start(vec![
            Canned::abort_body(201),
            Canned::json(200, include_str!("fixtures/created_database.json")),
        ])
        .await;
        let created = test_client(&mock.base)
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap();
        assert!(created.database_token.expose().starts_with("cdt_"));
        let calls = mock.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            calls[0].header("idempotency-key"),
            calls[1].header("idempotency-key")
        );
        assert!(calls[0].header("idempotency-key").is_some());
    }

    #[tokio::test]
    async fn create_retries_a_dropped_connection_with_the_same_key() {
        let server = RawServer::start(1, 201, include_str!("fixtures/created_database.json")).await;
        let created = test_client(&server.base)
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap();
        assert_eq!(created.database.database_id, DB);
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        let key = |raw: &str| {
            raw.lines().find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("idempotency-key:")
                    .map(|v| v.trim().to_owned())
            })
        };
        let first = key(&requests[0]).unwrap();
        assert_eq!(key(&requests[1]), Some(first));
    }

    #[tokio::test]
    async fn refused_connections_are_retried_then_reported() {
        let base = refused_url().await;
        let client = test_client_with(&base, |c| c.max_retries = 1);
        let failure = client.get_database(DB).await.unwrap_err();
        match &failure.error {
            ApiError::Transport {
                message,
                timed_out: false,
                retries: 1,
            } => assert!(!message.contains("127.0.0.1"), "{message}"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(client.requests_sent(), 2);
        assert!(failure.detail().contains("COMWIT_API_URL"));
    }

    #[tokio::test]
    async fn the_per_request_timeout_applies() {
        let mock = Mock::start(vec![Canned::json(
            200,
            include_str!("fixtures/database.json"),
        )
        .delayed(Duration::from_secs(5))])
        .await;
        let client = test_client_with(&mock.base, |c| {
            c.timeout = Duration::from_millis(200);
            c.max_retries = 0;
        });
        let started = Instant::now();
        let failure = client.get_database(DB).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(
            matches!(
                failure.error,
                ApiError::Transport {
                    timed_out: true,
                    ..
                }
            ),
            "{:?}",
            failure.error
        );
        assert!(failure.detail().contains("timed out"));
    }

    #[tokio::test]
    async fn cancellation_interrupts_a_long_retry_after() {
        let mock = Mock::start(vec![Canned::json(
            429,
            include_str!("fixtures/error_rate_limited.json"),
        )
        .header("retry-after", "30")])
        .await;
        let client = test_client(&mock.base);
        let cancel = client.cancel_token();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cancel.cancel();
        });
        let started = Instant::now();
        let failure = client.get_database(DB).await.unwrap_err();
        assert_eq!(failure.error, ApiError::Cancelled);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(mock.calls().len(), 1);
        // A cancelled client sends nothing more.
        let again = client.list_projects().await.unwrap_err();
        assert_eq!(again.error, ApiError::Cancelled);
        assert_eq!(client.requests_sent(), 1);
    }

    #[tokio::test]
    async fn cancellation_interrupts_an_in_flight_request() {
        let mock = Mock::start(vec![Canned::json(
            200,
            include_str!("fixtures/database.json"),
        )
        .delayed(Duration::from_secs(10))])
        .await;
        let cancel = CancellationToken::new();
        let mut config = ClientConfig::new(mock.base.clone(), Secret::new(TEST_TOKEN));
        config.timeout = Duration::from_secs(30);
        let client = Client::with_cancel_token(config, cancel.child_token()).unwrap();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            cancel.cancel();
        });
        let started = Instant::now();
        let failure = client.get_database(DB).await.unwrap_err();
        assert_eq!(failure.error, ApiError::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn retry_after_parses_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06 08:49:37 UTC
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        // A date in the past means "now".
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }

    #[test]
    fn backoff_is_capped_full_jitter() {
        let backoff = Backoff {
            base: BACKOFF_BASE,
            cap: BACKOFF_CAP,
        };
        assert_eq!(backoff.ceiling(0), Duration::from_millis(250));
        assert_eq!(backoff.ceiling(1), Duration::from_millis(500));
        assert_eq!(backoff.ceiling(5), Duration::from_secs(8));
        assert_eq!(backoff.ceiling(40), Duration::from_secs(8));
        for retry in 0..50 {
            assert!(backoff.delay(retry) <= backoff.ceiling(retry));
        }
        // Full jitter: the waits spread over the whole range, not just near the ceiling.
        let waits: Vec<_> = (0..200).map(|_| backoff.delay(4)).collect();
        assert!(waits.iter().any(|w| *w < Duration::from_secs(1)));
        assert!(waits.iter().any(|w| *w > Duration::from_secs(3)));
    }
}
