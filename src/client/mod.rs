//! The platform-neutral API client core every provider's client is built on (no
//! plugin-framework imports: a client never uses `tf_provider`).
//!
//! - [`HttpClient::send`] is the one function that sends every request of every platform:
//!   auth ([`Auth`]), User-Agent, the URL built and escaped from the [`Route`]'s template,
//!   the per-attempt timeout and the whole operation's deadline, retries by the route's
//!   [`Retry`] class with capped, fully jittered backoff or the server's `Retry-After`,
//!   cancellation, a cap on the size of an answer, and logging through `tracing`;
//! - [`route`]: one row per API route ([`Route`]);
//! - [`envelope`]: each platform's error body, read by its [`ErrorEnvelope`];
//! - [`redact`]: the [`Redactor`] that keeps every secret the client knows of out of
//!   messages and logs;
//! - [`secret`]: [`Secret`], for every credential and token;
//! - [`kind`]: [`FailureKind`], the common kinds every platform's failure says it is (from
//!   `contract::failure`, the words shared with the provider side);
//! - [`failure`]: [`ApiFailure`], the one failure type of every platform's calls (built
//!   from the core's [`Failure`]), with the platform's operation and detail as parameters.
//!
//! A platform client (`crate::comwit::client`) owns its routes, its typed request and
//! answer structs, how it reads an answer's kind and its words for a failure; its
//! provider owns the remedies.

pub mod auth;
pub mod envelope;
pub mod failure;
pub mod kind;
pub mod pacer;
pub mod redact;
pub mod route;
pub mod secret;
pub mod stream;
#[cfg(test)]
pub mod testutil;

pub use auth::Auth;
pub use envelope::{ErrorEnvelope, ErrorFields, ErrorObject};
pub use failure::{may_have_taken_effect, ApiFailure, Called, Facts};
pub use kind::FailureKind;
pub use pacer::Pacer;
pub use redact::Redactor;
pub use route::{Params, Retry, Route};
pub use secret::{Secret, REDACTED};
pub use stream::{Element, ListAnswer, ListError};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use tokio_util::sync::CancellationToken;
use url::Url;

/// The longest `Retry-After` the client waits on its own; a longer one ends the call
/// (retrying earlier than asked would only be refused again).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The first backoff step; each retry doubles it, up to [`BACKOFF_CAP`], with full jitter.
pub const BACKOFF_BASE: Duration = Duration::from_millis(250);

/// The longest backoff between two attempts (without a `Retry-After`).
pub const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// The default limit of one attempt (connect to the end of the answer's body).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default number of repeats of a failed attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 4;

/// The largest answer read (well above any real answer of the platforms we serve: their
/// biggest, a list of a project's objects, is a few hundred kilobytes).
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;

tokio::task_local! {
    /// The operation the current task's requests belong to ([`HttpClient::operation`]).
    static OPERATION: OperationScope;
}

/// One Terraform-level operation made of several requests (a create, its replays and the
/// lookup that settles it): one deadline for all of them, and a record of what each tried.
#[derive(Clone)]
struct OperationScope {
    deadline: Option<Instant>,
    tried: Arc<std::sync::Mutex<Vec<Tried>>>,
}

/// One attempt of an operation: which request, how it ended, how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tried {
    /// The route's label (`create database`).
    pub label: &'static str,
    /// `timed out`, `answered 503`, `connection failed`, `the connection broke ...`.
    pub outcome: String,
    pub took: Duration,
}

/// What the requests of one [`HttpClient::operation`] tried, for its diagnostic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub tried: Vec<Tried>,
    /// From the start of the operation to its end.
    pub elapsed: Duration,
    /// The operation's limit (`None`: no deadline).
    pub limit: Option<Duration>,
}

impl Tally {
    /// `3 attempts in 12.0 s (one operation's limit: 12 s): create database timed out
    /// after 5.0 s, ...`; empty when nothing was sent.
    pub fn describe(&self) -> String {
        if self.tried.is_empty() {
            return String::new();
        }
        let n = self.tried.len();
        let limit = self
            .limit
            .map(|l| format!(" (one operation's limit: {} s)", l.as_secs()))
            .unwrap_or_default();
        let each: Vec<String> = self
            .tried
            .iter()
            .map(|t| {
                format!(
                    "{} {} after {:.1} s",
                    t.label,
                    t.outcome,
                    t.took.as_secs_f64()
                )
            })
            .collect();
        format!(
            "{n} attempt{} in {:.1} s{limit}: {}",
            if n == 1 { "" } else { "s" },
            self.elapsed.as_secs_f64(),
            each.join(", ")
        )
    }
}

/// The deadline of the operation the current task is in, if any.
fn operation_deadline() -> Option<Instant> {
    OPERATION.try_with(|s| s.deadline).ok().flatten()
}

/// Records one attempt in the current operation, if any.
fn record_attempt(label: &'static str, outcome: String, took: Duration) {
    let _ = OPERATION.try_with(|s| {
        if let Ok(mut tried) = s.tried.lock() {
            tried.push(Tried {
                label,
                outcome,
                took,
            });
        }
    });
}

/// The time left in the current operation (`None` outside one or without a deadline).
pub fn operation_time_left() -> Option<Duration> {
    operation_deadline().map(|d| d.saturating_duration_since(Instant::now()))
}

/// Runs `fut` with the current operation's deadline moved `reserve` earlier, keeping that
/// time for what follows (the lookup that settles a create). Outside an operation, or
/// without a deadline, runs `fut` as it is.
pub async fn leaving<F: std::future::Future>(reserve: Duration, fut: F) -> F::Output {
    match OPERATION.try_with(|s| s.clone()) {
        Ok(scope) if scope.deadline.is_some() => {
            let inner = OperationScope {
                deadline: scope.deadline.map(|d| d.checked_sub(reserve).unwrap_or(d)),
                tried: scope.tried,
            };
            OPERATION.scope(inner, fut).await
        }
        _ => fut.await,
    }
}

/// How an [`HttpClient`] reaches one platform's API.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The API base URL. A path prefix (`http://host/api`) is kept.
    pub base_url: Url,
    /// The credentials, written into every request.
    pub auth: Auth,
    /// The User-Agent product token, e.g. `terraform-provider-comwit/0.1.0`.
    pub user_agent: String,
    /// Appended to the User-Agent, e.g. `terraform/1.15.5`.
    pub user_agent_suffix: Option<String>,
    /// The limit for one attempt, from connecting to the end of the answer's body.
    pub timeout: Duration,
    /// How many times a failed attempt is repeated (when repeating is safe).
    pub max_retries: u32,
    /// The limit for one operation, all attempts and waits included; `None` means
    /// attempts x timeout plus the waits.
    pub operation_timeout: Option<Duration>,
    /// The header an idempotency key travels in (`Idempotency-Key`).
    pub idempotency_header: &'static str,
    /// The platform's token prefixes, masked in any server text (see [`Redactor::new`]).
    pub token_prefixes: &'static [&'static str],
    /// The largest answer body read; a larger one is [`Failure::TooLarge`].
    pub max_body_bytes: usize,
    /// Pace requests by the rate limit the platform's answers announce ([`pacer`]); on
    /// by default. Off, requests go as fast as callers make them (429s still retried).
    pub pacing: bool,
}

impl HttpConfig {
    /// A config with the defaults: 30 s per attempt, 4 retries, no operation deadline,
    /// `Idempotency-Key`, a 16 MiB answer cap.
    pub fn new(base_url: Url, auth: Auth, user_agent: impl Into<String>) -> HttpConfig {
        HttpConfig {
            base_url,
            auth,
            user_agent: user_agent.into(),
            user_agent_suffix: None,
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            operation_timeout: None,
            idempotency_header: "Idempotency-Key",
            token_prefixes: &[],
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            pacing: true,
        }
    }
}

/// Why an [`HttpConfig`] cannot be used. The messages never include the credential or the
/// URL.
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

/// A failed request, in platform-neutral terms; each platform's client turns it into its
/// own typed error. Every text in it has been through the client's [`Redactor`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// A non-2xx answer, still answered after `retries` retries (or not safe to repeat).
    Status {
        status: u16,
        retry_after: Option<Duration>,
        fields: Box<ErrorFields>,
        /// The answer's body length in bytes.
        body_len: usize,
        retries: u32,
        /// The URL asked (no query, no credentials).
        url: String,
    },
    /// No answer: connection refused or dropped, TLS failure, timeout. `message` never
    /// contains the URL; `url` says where.
    Transport {
        message: String,
        timed_out: bool,
        retries: u32,
        url: String,
    },
    /// The operation's deadline passed before an answer came.
    Deadline {
        after: Duration,
        attempts: u32,
        url: String,
    },
    /// The answer was larger than the client reads.
    TooLarge { limit: usize, url: String },
    /// An argument was refused before anything was sent (an empty id, `.` or `..`).
    InvalidInput { field: String, message: String },
    /// The client's cancellation token fired (Terraform asked the provider to stop).
    Cancelled,
}

impl Failure {
    /// The HTTP status the API answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Failure::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The parts of one call besides its route and ids.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// The body, sent on every attempt.
    pub body: Option<Vec<u8>>,
    /// The body's `Content-Type` (`application/json` when `None`).
    pub content_type: Option<&'static str>,
    /// Query parameters (`wait_seconds`, `tail_lines`), escaped into the URL.
    pub query: Vec<(&'static str, String)>,
    /// The idempotency key sent on every attempt (a [`Retry::WithIdempotencyKey`] route
    /// without one gets a fresh UUID v4).
    pub idempotency_key: Option<&'a str>,
    /// Added to the per-attempt timeout: the time a long poll may hold the answer back.
    pub extra_timeout: Duration,
}

/// A platform's HTTP client. Cheap to clone: clones share one connection pool, one request
/// counter, one redactor and one cancellation token.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    timeout: Duration,
    max_retries: u32,
    operation_timeout: Option<Duration>,
    idempotency_header: &'static str,
    max_body_bytes: usize,
    pacer: Pacer,
    backoff: Backoff,
    cancel: CancellationToken,
    requests_sent: AtomicU64,
    redactor: Redactor,
    envelope: Box<dyn ErrorEnvelope>,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("timeout", &self.inner.timeout)
            .field("max_retries", &self.inner.max_retries)
            .finish_non_exhaustive()
    }
}

/// Capped exponential backoff with full jitter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    pub(crate) base: Duration,
    pub(crate) cap: Duration,
}

impl Backoff {
    /// The longest wait before retry number `retry + 1` (`retry` counts from 0).
    pub(crate) fn ceiling(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// A random wait in `[0, ceiling(retry)]`.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let ceiling = self.ceiling(retry).as_millis() as u64;
        Duration::from_millis(rand::random_range(0..=ceiling))
    }
}

/// What one attempt gave.
enum Attempt {
    Answer {
        status: u16,
        retry_after: Option<Duration>,
        body: Vec<u8>,
    },
    /// A 2xx answer whose body is still to be read (a list read as it arrives).
    Streaming(reqwest::Response),
    TooLarge,
    Failed(reqwest::Error),
    /// No answer's head within the attempt's time (a streamed call times only the head
    /// as a whole; its body, part by part).
    HeadTimedOut,
}

/// A 2xx answer: its whole body, or the body still to be read.
enum Answered {
    Body(Vec<u8>),
    Stream(reqwest::Response),
}

impl HttpClient {
    /// A client whose waits and requests stop when `cancel` fires (e.g. a child of the
    /// provider's stop token). `envelope` reads the platform's error bodies.
    pub fn new(
        config: HttpConfig,
        envelope: impl ErrorEnvelope,
        cancel: CancellationToken,
    ) -> Result<HttpClient, ConfigError> {
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
        config
            .auth
            .write(&mut headers)
            .map_err(|_| ConfigError::InvalidToken)?;
        let user_agent = match config
            .user_agent_suffix
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(suffix) => format!("{} {suffix}", config.user_agent),
            None => config.user_agent.clone(),
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

        let redactor = Redactor::new(config.token_prefixes);
        if let Some(secret) = config.auth.secret() {
            redactor.add(secret);
        }
        Ok(HttpClient {
            inner: Arc::new(Inner {
                http,
                base_url,
                timeout: config.timeout,
                max_retries: config.max_retries,
                operation_timeout: config.operation_timeout,
                idempotency_header: config.idempotency_header,
                max_body_bytes: config.max_body_bytes,
                pacer: Pacer::new(config.pacing),
                backoff: Backoff {
                    base: BACKOFF_BASE,
                    cap: BACKOFF_CAP,
                },
                cancel,
                requests_sent: AtomicU64::new(0),
                redactor,
                envelope: Box::new(envelope),
            }),
        })
    }

    /// The token that cancels this client's waits and requests. A cancelled client stays
    /// cancelled.
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

    /// The redactor every message of this client goes through; add every secret an answer
    /// brings to it.
    pub fn redactor(&self) -> &Redactor {
        &self.inner.redactor
    }

    /// The per-attempt timeout and the retry count, for messages.
    pub fn limits(&self) -> (Duration, u32) {
        (self.inner.timeout, self.inner.max_retries)
    }

    /// Runs `fut` (a create's first attempt and its replays) keeping part of the current
    /// operation's time for what settles its outcome afterwards (a lookup by name): a
    /// quarter of what is left, at most one request timeout. Outside an operation, runs
    /// `fut` as it is.
    pub async fn leaving_time_to_settle<F: std::future::Future>(&self, fut: F) -> F::Output {
        let reserve =
            operation_time_left().map_or(Duration::ZERO, |left| self.inner.timeout.min(left / 4));
        leaving(reserve, fut).await
    }

    /// Runs `fut` as one operation: every request made in it (by any clone of any client,
    /// in this task) ends by one deadline, this client's operation timeout from now (or
    /// the enclosing operation's, if earlier), and what each attempt gave is tallied for
    /// the diagnostic. A create that is replayed to recover a lost answer, and the lookup
    /// after it, run in one operation, so a hung API holds it for that long, not for that
    /// long per request.
    pub async fn operation<F: std::future::Future>(&self, fut: F) -> (F::Output, Tally) {
        let started = Instant::now();
        let own = self
            .inner
            .operation_timeout
            .and_then(|d| started.checked_add(d));
        let deadline = match (own, operation_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let scope = OperationScope {
            deadline,
            tried: Arc::default(),
        };
        let tried = scope.tried.clone();
        let output = OPERATION.scope(scope, fut).await;
        let tried = tried.lock().map(|t| t.clone()).unwrap_or_default();
        let tally = Tally {
            tried,
            elapsed: started.elapsed(),
            limit: deadline.map(|d| d.saturating_duration_since(started)),
        };
        (output, tally)
    }

    /// Sends one call of `route` with a JSON body (or none) and returns the body of its
    /// 2xx answer; see [`HttpClient::send_request`].
    pub async fn send(
        &self,
        route: &Route,
        params: &dyn Params,
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> Result<Vec<u8>, Failure> {
        let request = Request {
            body,
            idempotency_key,
            ..Request::default()
        };
        self.send_request(route, params, request).await
    }

    /// Sends one call of `route` and returns the body of its 2xx answer.
    ///
    /// Retries 429 always (waiting the server's `Retry-After`, capped at
    /// [`MAX_RETRY_AFTER`]) and refused connections always (neither did any work); 500,
    /// 502, 503, 504, timeouts and dropped connections only when the route's [`Retry`]
    /// class allows. A [`Retry::WithIdempotencyKey`] route sends `idempotency_key` (or a
    /// fresh UUID v4) on every attempt. Stops at once when the cancel token fires, and
    /// when the operation's deadline has passed.
    pub async fn send_request(
        &self,
        route: &Route,
        params: &dyn Params,
        request: Request<'_>,
    ) -> Result<Vec<u8>, Failure> {
        match self.exchange(route, params, request, false).await? {
            Answered::Body(body) => Ok(body),
            // Not asked for: a streamed answer is only given to `send_list`.
            Answered::Stream(_) => Err(Failure::InvalidInput {
                field: "answer".into(),
                message: "a streamed answer where a whole body was asked for".into(),
            }),
        }
    }

    /// Sends one call of a list route as [`HttpClient::send_request`] does (the same
    /// retries, until the answer's head has come), and gives its 2xx answer to be read
    /// element by element: the array at `key` of the answer's object ([`stream`]). The
    /// body is read only as the caller asks for elements, each read of it bounded by the
    /// per-attempt timeout (a long list may take longer than one attempt's limit in all,
    /// as its reader takes its time); the size cap applies to each element.
    pub async fn send_list(
        &self,
        route: &Route,
        params: &dyn Params,
        request: Request<'_>,
        key: &'static str,
    ) -> Result<ListAnswer, Failure> {
        let url = route.url(&self.inner.base_url, params)?.as_str().to_owned();
        let extra = request.extra_timeout;
        match self.exchange(route, params, request, true).await? {
            Answered::Stream(response) => Ok(ListAnswer::new(
                response,
                key,
                self.inner.max_body_bytes,
                self.inner.timeout + extra,
                self.inner.cancel.clone(),
                self.inner.redactor.clone(),
                url,
            )),
            Answered::Body(_) => Err(Failure::InvalidInput {
                field: "answer".into(),
                message: "a whole body where a streamed answer was asked for".into(),
            }),
        }
    }

    async fn exchange(
        &self,
        route: &Route,
        params: &dyn Params,
        request: Request<'_>,
        stream: bool,
    ) -> Result<Answered, Failure> {
        let Request {
            body,
            content_type,
            query,
            idempotency_key,
            extra_timeout,
        } = request;
        let inner = &*self.inner;
        let mut url = route.url(&inner.base_url, params)?;
        // Messages show the URL without its query.
        let shown_url = url.as_str().to_owned();
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let label = route.label;
        let template = route.template;
        let method = &route.method;
        let repeatable = route.retry.repeats_after_ambiguous_failure();
        let key = match (route.retry, idempotency_key) {
            (_, Some(key)) => Some(key.to_owned()),
            (Retry::WithIdempotencyKey, None) => Some(uuid::Uuid::new_v4().to_string()),
            _ => None,
        };
        let started = Instant::now();
        // This call's own deadline, or the operation's it is part of, whichever is first.
        let own = inner.operation_timeout.and_then(|d| started.checked_add(d));
        let deadline = match (own, operation_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut retries: u32 = 0;
        loop {
            if inner.cancel.is_cancelled() {
                return Err(Failure::Cancelled);
            }
            let attempt = retries + 1;
            let attempt_timeout = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(Failure::Deadline {
                            after: started.elapsed(),
                            attempts: retries,
                            url: shown_url,
                        });
                    }
                    (inner.timeout + extra_timeout).min(left)
                }
                None => inner.timeout + extra_timeout,
            };
            let mut request = inner.http.request(method.clone(), url.clone());
            if !stream {
                request = request.timeout(attempt_timeout);
            }
            if let Some(key) = &key {
                request = request.header(inner.idempotency_header, key.as_str());
            }
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, content_type.unwrap_or("application/json"))
                    .body(body.clone());
            }
            // This call's turn under the platform's rate limit (shared by every call),
            // within the operation's deadline.
            let permit = tokio::select! {
                biased;
                _ = inner.cancel.cancelled() => return Err(Failure::Cancelled),
                _ = until(deadline) => {
                    return Err(Failure::Deadline {
                        after: started.elapsed(),
                        attempts: retries,
                        url: shown_url,
                    });
                }
                permit = inner.pacer.acquire() => permit,
            };
            inner.requests_sent.fetch_add(1, Ordering::Relaxed);
            let sent_at = Instant::now();
            let outcome = tokio::select! {
                biased;
                _ = inner.cancel.cancelled() => {
                    tracing::debug!(op = label, method = %method, path = template, attempt,
                        "api request cancelled");
                    return Err(Failure::Cancelled);
                }
                outcome = run_attempt(
                    request,
                    inner.max_body_bytes,
                    &inner.pacer,
                    stream.then_some(attempt_timeout),
                ) => outcome,
            };
            drop(permit);
            let latency_ms = sent_at.elapsed().as_millis() as u64;

            let (failure, wait, asked) = match outcome {
                Attempt::Answer {
                    status,
                    retry_after,
                    body,
                } => {
                    tracing::debug!(op = label, method = %method, path = template,
                        status, attempt, latency_ms, "api response");
                    record_attempt(label, format!("answered {status}"), sent_at.elapsed());
                    if (200..300).contains(&status) {
                        return Ok(Answered::Body(body));
                    }
                    let fields = inner
                        .envelope
                        .parse(&body)
                        .cleaned(|t| inner.redactor.clean(t));
                    let wait = match status {
                        429 => Some(match retry_after {
                            Some(after) => after.saturating_add(jitter()),
                            None => inner.backoff.delay(retries),
                        }),
                        500 | 502..=504 if repeatable => {
                            let backoff = inner.backoff.delay(retries);
                            Some(retry_after.map_or(backoff, |after| after.max(backoff)))
                        }
                        _ => None,
                    };
                    let failure = Failure::Status {
                        status,
                        retry_after,
                        fields: Box::new(fields),
                        body_len: body.len(),
                        retries,
                        url: shown_url.clone(),
                    };
                    (failure, wait, retry_after)
                }
                Attempt::Streaming(response) => {
                    let status = response.status().as_u16();
                    tracing::debug!(op = label, method = %method, path = template,
                        status, attempt, latency_ms, "api response (streamed)");
                    record_attempt(label, format!("answered {status}"), sent_at.elapsed());
                    return Ok(Answered::Stream(response));
                }
                Attempt::HeadTimedOut => {
                    record_attempt(label, "timed out".into(), sent_at.elapsed());
                    tracing::debug!(op = label, method = %method, path = template, attempt,
                        latency_ms, timed_out = true, "api request failed");
                    let failure = Failure::Transport {
                        message: "timed out".into(),
                        timed_out: true,
                        retries,
                        url: shown_url.clone(),
                    };
                    (
                        failure,
                        repeatable.then(|| inner.backoff.delay(retries)),
                        None,
                    )
                }
                Attempt::TooLarge => {
                    record_attempt(label, "answered too large".into(), sent_at.elapsed());
                    tracing::debug!(op = label, method = %method, path = template, attempt,
                        limit = inner.max_body_bytes, "api answer too large");
                    return Err(Failure::TooLarge {
                        limit: inner.max_body_bytes,
                        url: shown_url,
                    });
                }
                Attempt::Failed(err) => {
                    let timed_out = err.is_timeout();
                    // A refused connection never reached the server: always safe to repeat.
                    let again = err.is_connect() || repeatable;
                    let message = inner.redactor.clean(&transport_message(&err));
                    let outcome = message.split(':').next().unwrap_or("failed").to_owned();
                    record_attempt(label, outcome, sent_at.elapsed());
                    tracing::debug!(op = label, method = %method, path = template, attempt,
                        latency_ms, timed_out, error = %message, "api request failed");
                    let failure = Failure::Transport {
                        message,
                        timed_out,
                        retries,
                        url: shown_url.clone(),
                    };
                    (failure, again.then(|| inner.backoff.delay(retries)), None)
                }
            };

            let Some(wait) = wait else {
                return Err(failure);
            };
            // A `Retry-After` longer than we wait on our own ends the call: retrying
            // earlier than asked would only be refused again. So does a wait that would
            // end after the operation's deadline.
            // (A wait too long to add to the clock is past any deadline.)
            let past_deadline = deadline.is_some_and(|d| {
                Instant::now()
                    .checked_add(wait)
                    .is_none_or(|resume| resume >= d)
            });
            if retries >= inner.max_retries
                || asked.is_some_and(|d| d > MAX_RETRY_AFTER)
                || wait > MAX_RETRY_AFTER.saturating_add(BACKOFF_CAP)
                || past_deadline
            {
                return Err(failure);
            }
            tracing::warn!(op = label, method = %method, path = template, attempt,
                status = failure.status(), wait_ms = wait.as_millis() as u64,
                "retrying api request");
            tokio::select! {
                biased;
                _ = inner.cancel.cancelled() => return Err(Failure::Cancelled),
                _ = tokio::time::sleep(wait) => {}
            }
            retries += 1;
        }
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Sends one attempt and reads the answer, at most `cap` bytes of it. With `stream` (the
/// attempt's time for the answer's head), a 2xx answer is given unread.
async fn run_attempt(
    request: reqwest::RequestBuilder,
    cap: usize,
    pacer: &Pacer,
    stream: Option<Duration>,
) -> Attempt {
    let sent = match stream {
        Some(limit) => match tokio::time::timeout(limit, request.send()).await {
            Ok(sent) => sent,
            Err(_) => return Attempt::HeadTimedOut,
        },
        None => request.send().await,
    };
    let mut response = match sent {
        Ok(response) => response,
        Err(err) => return Attempt::Failed(err),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    pacer.observe(status, response.headers(), retry_after);
    if stream.is_some() && (200..300).contains(&status) {
        return Attempt::Streaming(response);
    }
    if response
        .content_length()
        .is_some_and(|len| len > cap as u64)
    {
        return Attempt::TooLarge;
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Attempt::TooLarge;
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(err) => return Attempt::Failed(err),
        }
    }
    Attempt::Answer {
        status,
        retry_after,
        body,
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
    Duration::from_millis(rand::random_range(0..=100))
}

/// The longest `Retry-After` read as it is; a longer one (up to `u64::MAX` seconds, or a
/// number too long for any integer) reads as this. Far above [`MAX_RETRY_AFTER`], so such
/// an answer still ends the call, and small enough to add to any clock.
pub const RETRY_AFTER_CEILING: Duration = Duration::from_secs(366 * 86_400);

/// Reads `Retry-After`: whole seconds, or an HTTP date (IMF-fixdate) relative to `now`.
/// Never panics and never gives more than [`RETRY_AFTER_CEILING`]: the value comes from
/// the network.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits only: whole seconds, however many (a number past u64 saturates).
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(RETRY_AFTER_CEILING));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, format)
        .ok()?
        .assume_utc();
    let at: SystemTime = at.into();
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(RETRY_AFTER_CEILING),
    )
}

#[cfg(test)]
mod tests {
    use super::testutil::{refused_url, Canned, Mock, RawServer};
    use super::*;

    const GET: Route = Route {
        method: reqwest::Method::GET,
        template: "/v1/things/{thing}",
        scope: "thing:read",
        retry: Retry::Idempotent,
        guard: None,
        label: "read thing",
        summary: "Error reading thing",
        describe: "read thing {thing}",
        missing: "thing {thing}",
    };
    const CREATE: Route = Route {
        method: reqwest::Method::POST,
        template: "/v1/things",
        retry: Retry::WithIdempotencyKey,
        label: "create thing",
        ..GET
    };
    const POKE: Route = Route {
        method: reqwest::Method::POST,
        template: "/v1/things/{thing}/poke",
        retry: Retry::Never,
        label: "poke thing",
        ..GET
    };

    fn client(base: &Url, adjust: impl FnOnce(&mut HttpConfig)) -> HttpClient {
        let mut config = HttpConfig::new(
            base.clone(),
            Auth::Header {
                name: "x-api-key",
                secret: "key_0123456789abcdef".into(),
            },
            "terraform-provider-test/1",
        );
        config.timeout = Duration::from_secs(5);
        config.max_retries = 2;
        adjust(&mut config);
        HttpClient::new(config, ErrorObject, CancellationToken::new()).unwrap()
    }

    #[tokio::test]
    async fn auth_strategy_and_user_agent_are_sent() {
        let mock = Mock::start(vec![Canned::json(200, "{}")]).await;
        let c = client(&mock.base, |c| {
            c.user_agent_suffix = Some("terraform/1.15.5".into())
        });
        c.send(&GET, &[("thing", "t 1")], None, None).await.unwrap();
        let call = &mock.calls()[0];
        assert_eq!(
            call.header("x-api-key").as_deref(),
            Some("key_0123456789abcdef")
        );
        assert_eq!(call.header("authorization"), None);
        assert_eq!(
            call.header("user-agent").as_deref(),
            Some("terraform-provider-test/1 terraform/1.15.5")
        );
        assert_eq!(call.path, "/v1/things/t%201");
    }

    #[tokio::test]
    async fn internal_errors_are_retried_only_when_safe() {
        let e500 = || Canned::json(500, r#"{"error":{"code":"internal","message":"boom"}}"#);
        let mock = Mock::start(vec![e500(), Canned::json(200, "{}")]).await;
        let c = client(&mock.base, |_| {});
        c.send(&GET, &[("thing", "t")], None, None).await.unwrap();
        assert_eq!(mock.calls().len(), 2, "GET is repeated after a 500");

        let mock = Mock::start(vec![e500(), Canned::json(201, "{}")]).await;
        let c = client(&mock.base, |_| {});
        c.send(&CREATE, &[] as &[(&str, &str); 0], None, None)
            .await
            .unwrap();
        let calls = mock.calls();
        assert_eq!(calls.len(), 2, "a keyed create is repeated after a 500");
        assert!(calls[0].header("idempotency-key").is_some());
        assert_eq!(
            calls[0].header("idempotency-key"),
            calls[1].header("idempotency-key")
        );

        let mock = Mock::start(vec![e500(), Canned::json(200, "{}")]).await;
        let c = client(&mock.base, |_| {});
        let failure = c
            .send(&POKE, &[("thing", "t")], None, None)
            .await
            .unwrap_err();
        assert_eq!(failure.status(), Some(500));
        assert_eq!(
            mock.calls().len(),
            1,
            "an unsafe POST is never repeated after a 500"
        );
        assert!(mock.calls()[0].header("idempotency-key").is_none());
    }

    #[tokio::test]
    async fn answers_over_the_cap_are_refused() {
        let big = format!("{{\"x\":\"{}\"}}", "a".repeat(4096));
        let mock = Mock::start(vec![Canned::json(200, &big)]).await;
        let c = client(&mock.base, |c| c.max_body_bytes = 1024);
        let failure = c
            .send(&GET, &[("thing", "t")], None, None)
            .await
            .unwrap_err();
        assert!(
            matches!(failure, Failure::TooLarge { limit: 1024, .. }),
            "{failure:?}"
        );
        let mock = Mock::start(vec![Canned::json(200, &big)]).await;
        let c = client(&mock.base, |_| {});
        assert!(c.send(&GET, &[("thing", "t")], None, None).await.is_ok());
    }

    #[tokio::test]
    async fn transport_failures_say_where() {
        let base = refused_url().await;
        let c = client(&base, |c| c.max_retries = 0);
        match c
            .send(&GET, &[("thing", "t")], None, None)
            .await
            .unwrap_err()
        {
            Failure::Transport { url, message, .. } => {
                assert_eq!(url, format!("{}v1/things/t", base));
                assert!(!message.contains("127.0.0.1"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_operation_deadline_bounds_all_attempts() {
        let slow = || Canned::json(200, "{}").delayed(Duration::from_secs(3));
        let mock = Mock::start(vec![slow(), slow(), slow()]).await;
        let c = client(&mock.base, |c| {
            c.timeout = Duration::from_millis(400);
            c.max_retries = 10;
            c.operation_timeout = Some(Duration::from_millis(1200));
        });
        let started = Instant::now();
        let failure = c
            .send(&GET, &[("thing", "t")], None, None)
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(
                failure,
                Failure::Transport {
                    timed_out: true,
                    ..
                } | Failure::Deadline { .. }
            ),
            "{failure:?}"
        );
    }

    #[tokio::test]
    async fn server_text_loses_the_credential_in_every_form() {
        let mock = Mock::start(vec![Canned::json(
            400,
            r#"{"error":{"code":"bad","message":"key 0123456789abcdef and key_0123456789abcdef"}}"#,
        )])
        .await;
        let c = client(&mock.base, |_| {});
        match c
            .send(&GET, &[("thing", "t")], None, None)
            .await
            .unwrap_err()
        {
            Failure::Status { fields, .. } => {
                let message = fields.message.unwrap_or_default();
                assert!(!message.contains("0123456789abcdef"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_dropped_connection_is_repeated_only_when_safe() {
        let server = RawServer::start(1, 200, "{}").await;
        let c = client(&server.base, |_| {});
        assert!(c.send(&POKE, &[("thing", "t")], None, None).await.is_err());
        assert_eq!(server.requests().len(), 1);
        let server = RawServer::start(1, 200, "{}").await;
        let c = client(&server.base, |_| {});
        assert!(c.send(&GET, &[("thing", "t")], None, None).await.is_ok());
        assert_eq!(server.requests().len(), 2);
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
    fn hostile_retry_after_values_saturate_or_are_refused() {
        let now = SystemTime::now();
        for huge in [
            "18446744073709551615",
            "18446744073709551616",
            "99999999999999999999999999999999",
            "31622401",
        ] {
            assert_eq!(
                parse_retry_after(huge, now),
                Some(RETRY_AFTER_CEILING),
                "{huge}"
            );
        }
        for refused in [
            "-5",
            "1.5",
            "NaN",
            "inf",
            "1e300",
            "",
            "+3",
            "0x10",
            "Sun, 06 Nov",
        ] {
            assert_eq!(parse_retry_after(refused, now), None, "{refused:?}");
        }
        // A date in the year 9999 is far, but not past the ceiling's clock arithmetic.
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            Some(RETRY_AFTER_CEILING)
        );
        // The ceiling plus the jitter still adds to the clock.
        assert!(Instant::now()
            .checked_add(RETRY_AFTER_CEILING.saturating_add(jitter()))
            .is_some());
    }

    #[tokio::test]
    async fn a_429_with_the_largest_retry_after_ends_the_call_without_a_panic() {
        for header in ["18446744073709551615", "99999999999999999999999"] {
            for operation_timeout in [None, Some(Duration::from_secs(5))] {
                let mock = Mock::start(vec![Canned::json(
                    429,
                    r#"{"error":{"code":"rate_limited","message":"slow down"}}"#,
                )
                .header("retry-after", header)])
                .await;
                let c = client(&mock.base, |c| c.operation_timeout = operation_timeout);
                let started = Instant::now();
                let failure = c
                    .send(&GET, &[("thing", "t")], None, None)
                    .await
                    .unwrap_err();
                assert!(started.elapsed() < Duration::from_secs(2));
                match failure {
                    Failure::Status {
                        status: 429,
                        retry_after: Some(after),
                        retries: 0,
                        ..
                    } => assert_eq!(after, RETRY_AFTER_CEILING),
                    other => panic!("unexpected {other:?}"),
                }
                // The pacer paused at most its own cap, not the server's century.
                let waited = tokio::time::timeout(Duration::from_secs(1), c.inner.pacer.acquire())
                    .await
                    .is_ok();
                assert!(!waited, "the pacer pauses every call a while after a 429");
            }
        }
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
