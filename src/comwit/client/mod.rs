//! Typed client for the Comwit Cloud platform API (no plugin-framework imports), on the
//! platform-neutral core in [`crate::client`].
//!
//! The contract is `docs/api/comwit.md`. Layout:
//! - this file: [`ClientConfig`] and [`Client`]: bearer auth, Comwit's User-Agent, error
//!   envelope and token prefixes, and [`Client::call`], through which every method sends;
//! - `routes.rs`: one row per route ([`routes::ROUTES`]) and [`Operation`];
//! - `error.rs`: [`ApiFailure`], the one failure type over Comwit's [`Operation`] and
//!   [`Detail`] (the facts: summary, what was attempted and the answer; the remedies are
//!   the provider side's, `comwit::common`);
//! - `projects.rs`, `databases.rs`: typed request and response structs, one method per route;
//! - `listing.rs`: [`Listing`], a list answer read element by element (`terraform query`).
//!
//! Logs go through `tracing` (operation, method, path template, status, attempt, latency).
//! Tokens, the Authorization header and response bodies are never logged.

mod apps;
mod databases;
mod dns;
mod error;
mod listing;
mod projects;
pub mod routes;

pub use apps::{
    App, Artifact, Build, BuildLog, CreateAppRequest, CreateBuildRequest, EnvValue, EnvVar,
    OddItem, BUILD_POLL_MAX_WAIT,
};
pub use databases::{
    CreateDatabaseRequest, CreatedDatabase, Database, DatabaseStatus, FrameNumbers, QueryToken,
    QueryTokenRequest, RotatedToken, Usage,
};
pub use dns::{DnsRecord, Domain, Hostname, HostnameRequest, NeededRecord, RecordRequest};
#[cfg(test)]
pub(crate) use error::testing as error_testing;
pub use error::{
    code, kind_of, ApiFailure, ComwitEnvelope, Detail, ExistingObject, TOKEN_PREFIXES,
};
pub use listing::Listing;
pub use projects::Project;
pub use routes::Operation;

pub use crate::client::{ConfigError, Secret};

use crate::client::{Auth, Failure, FailureKind, HttpClient, HttpConfig, Request};
use serde::de::DeserializeOwned;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use url::Url;

/// The waits before each extra repeat of a create whose outcome is unknown (with the
/// same idempotency key; each repeat has the client's own retries too).
pub const CREATE_RECOVERY_WAITS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(3)];

/// The product API's documented base URL.
pub const DEFAULT_API_URL: &str = "https://api.cloud.comwit.io";

/// The User-Agent product token; [`ClientConfig::user_agent_suffix`] is appended to it.
pub const USER_AGENT_PRODUCT: &str =
    concat!("terraform-provider-comwit/", env!("CARGO_PKG_VERSION"));

/// The result of every public client method.
pub type Result<T> = std::result::Result<T, ApiFailure>;

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
    /// The limit for one operation, every attempt and wait included ([`None`]: attempts x
    /// timeout plus the waits).
    pub operation_timeout: Option<Duration>,
    /// Pace requests by the rate limit the API announces (see `crate::client::pacer`).
    pub pacing: bool,
}

impl ClientConfig {
    pub const DEFAULT_TIMEOUT: Duration = crate::client::DEFAULT_TIMEOUT;
    pub const DEFAULT_MAX_RETRIES: u32 = crate::client::DEFAULT_MAX_RETRIES;

    /// A config with the default timeout and retry count and no User-Agent suffix.
    pub fn new(base_url: Url, token: Secret) -> Self {
        ClientConfig {
            base_url,
            token,
            timeout: Self::DEFAULT_TIMEOUT,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            user_agent_suffix: None,
            operation_timeout: None,
            pacing: true,
        }
    }
}

/// The Comwit API client. Cheap to clone: clones share one connection pool, one request
/// counter, one redactor and one cancellation token.
#[derive(Clone, Debug)]
pub struct Client {
    http: HttpClient,
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
        let mut http = HttpConfig::new(
            config.base_url,
            Auth::Bearer(config.token),
            USER_AGENT_PRODUCT,
        );
        http.user_agent_suffix = config.user_agent_suffix;
        http.timeout = config.timeout;
        http.max_retries = config.max_retries;
        http.operation_timeout = config.operation_timeout;
        http.pacing = config.pacing;
        http.token_prefixes = TOKEN_PREFIXES;
        Ok(Client {
            http: HttpClient::new(http, ComwitEnvelope, cancel)?,
        })
    }

    /// The token that cancels this client's waits and requests: cancel it (e.g. when
    /// Terraform calls StopProvider) and every call fails as [`FailureKind::Cancelled`] at once.
    /// A cancelled client stays cancelled.
    pub fn cancel_token(&self) -> CancellationToken {
        self.http.cancel_token()
    }

    /// How many HTTP requests (attempts, retries included) this client has sent.
    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent()
    }

    /// The base URL requests are sent to.
    pub fn base_url(&self) -> &Url {
        self.http.base_url()
    }

    /// Sends `op` (its URL built from its route's template and ids) and decodes the 2xx
    /// answer as `T`; errors carry `op`.
    async fn call<T: DeserializeOwned>(
        &self,
        op: Operation,
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> Result<T> {
        let bytes = self.send(&op, body, idempotency_key).await?;
        self.decode(&op, &bytes)
    }

    /// Sends `op` for an answer without a body worth reading (delete's 204).
    async fn call_no_content(&self, op: Operation) -> Result<()> {
        self.send(&op, None, None).await.map(|_| ())
    }

    async fn send(
        &self,
        op: &Operation,
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
    ) -> Result<Vec<u8>> {
        let request = Request {
            body,
            idempotency_key,
            ..Request::default()
        };
        self.send_with(op, request).await
    }

    /// Sends `op` with a body of any type, a query or a long poll's wait, and decodes the
    /// 2xx answer as `T`.
    async fn call_with<T: DeserializeOwned>(
        &self,
        op: Operation,
        request: Request<'_>,
    ) -> Result<T> {
        let bytes = self.send_with(&op, request).await?;
        self.decode(&op, &bytes)
    }

    fn decode<T: DeserializeOwned>(&self, op: &Operation, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|e| {
            let message = self.http.redactor().clean(&e.to_string());
            ApiFailure::new(op.clone(), FailureKind::Decode, message)
        })
    }

    async fn send_with(&self, op: &Operation, request: Request<'_>) -> Result<Vec<u8>> {
        self.http
            .send_request(op.route, op, request)
            .await
            .map_err(|failure| {
                // A refused placeholder is named as the argument the caller passed.
                let failure = match failure {
                    Failure::InvalidInput { field, message } => Failure::InvalidInput {
                        field: format!("{field}_id"),
                        message,
                    },
                    other => other,
                };
                error::from_failure(op.clone(), failure)
            })
    }

    /// A keyed create (a [`Retry::WithIdempotencyKey`](crate::client::Retry) route) that
    /// never ends with an outcome the caller cannot act on:
    ///
    /// - every attempt carries one `Idempotency-Key`, so a retry after a lost answer gets
    ///   the API's replay (200, the same object), never a duplicate;
    /// - when the answers stay lost or refused past the retries (5xx, 429, transport,
    ///   deadline), the create is repeated with the same key [`CREATE_RECOVERY_WAITS`]
    ///   more times, after waits, to settle it; if it stays unsettled, the error is
    ///   [`Detail::CreateUnresolved`] naming what `existing` finds (the object of that
    ///   name the project now holds), if anything;
    /// - a 409 (the name is taken) is [`Detail::NameTaken`] with what `existing` finds,
    ///   so the message can give its id and the import command (an earlier apply that
    ///   died after its create committed leaves exactly this).
    async fn create_named<T, F, Fut>(&self, op: Operation, body: Vec<u8>, existing: F) -> Result<T>
    where
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<ExistingObject>>,
    {
        // One operation: the create, its replays and the lookup share one deadline (the
        // lookup keeps a part of it), and the error says what each attempt gave.
        let (outcome, tally) = self
            .http
            .operation(async {
                let created = self
                    .http
                    .leaving_time_to_settle(self.create_keyed(op.clone(), body))
                    .await;
                match created {
                    Ok(created) => Ok(created),
                    Err(mut f) if f.outcome_unknown() => {
                        f.detail = Detail::CreateUnresolved {
                            existing: existing().await,
                            tried: String::new(),
                        };
                        Err(f)
                    }
                    Err(mut f) if f.is_conflict() => {
                        f.detail = Detail::NameTaken {
                            existing: existing().await,
                        };
                        Err(f)
                    }
                    Err(f) => Err(f),
                }
            })
            .await;
        outcome.map_err(|mut failure| {
            if let Detail::CreateUnresolved { tried, .. } = &mut failure.detail {
                *tried = tally.describe();
            }
            failure
        })
    }

    /// Sends a keyed create, and repeats it with the same key after
    /// [`CREATE_RECOVERY_WAITS`] while its outcome stays unknown. Returns the last outcome.
    async fn create_keyed<T: DeserializeOwned>(&self, op: Operation, body: Vec<u8>) -> Result<T> {
        let key = uuid::Uuid::new_v4().to_string();
        let mut outcome = self.call(op.clone(), Some(body.clone()), Some(&key)).await;
        for wait in CREATE_RECOVERY_WAITS {
            match &outcome {
                // A stop ends the operation; an unreadable answer would be replayed as it is.
                Err(f)
                    if f.outcome_unknown()
                        && !matches!(f.kind(), FailureKind::Cancelled | FailureKind::Decode) => {}
                _ => break,
            }
            // No repeat that could not end before the operation's deadline.
            if crate::client::operation_time_left().is_some_and(|left| left <= wait) {
                break;
            }
            tracing::warn!(
                op = op.label(),
                wait_ms = wait.as_millis() as u64,
                "create outcome unknown; repeating it with the same idempotency key"
            );
            let cancel = self.cancel_token();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
            }
            outcome = self.call(op.clone(), Some(body.clone()), Some(&key)).await;
        }
        outcome
    }

    /// Remembers a secret an answer brought, so that no later message can show it.
    fn learn(&self, secret: &Secret) {
        self.http.redactor().add(secret);
    }
}

/// Serializes a request body.
fn encode<T: serde::Serialize>(op: &Operation, value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| {
        let mut failure = ApiFailure::new(op.clone(), FailureKind::Validation, e.to_string());
        failure.field = Some("request".to_owned());
        failure
    })
}

/// Test helpers: a client for a mock with the test token.
#[cfg(test)]
pub(crate) mod testing {
    use super::{Client, ClientConfig, Secret};
    use std::time::Duration;
    use url::Url;

    pub const TEST_TOKEN: &str = "cwt_00112233445566778899aabb";

    /// A client for `base` with the test token, 5 s timeout, 2 retries and a UA suffix.
    pub fn test_client(base: &Url) -> Client {
        test_client_with(base, |_| {})
    }

    pub fn test_client_with(base: &Url, adjust: impl FnOnce(&mut ClientConfig)) -> Client {
        let mut config = ClientConfig::new(base.clone(), Secret::new(TEST_TOKEN));
        config.timeout = Duration::from_secs(5);
        config.max_retries = 2;
        config.user_agent_suffix = Some("terraform/1.15.5".to_owned());
        adjust(&mut config);
        Client::new(config).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{test_client, test_client_with, TEST_TOKEN};
    use super::*;
    use crate::client::testutil::{refused_url, Canned, Mock, RawServer};
    use std::time::Instant;

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
        type Check = fn(&ApiFailure) -> bool;
        let cases: Vec<(Canned, Check)> = vec![
            (
                Canned::json(401, include_str!("fixtures/error_unauthorized.json")),
                |e| e.kind() == FailureKind::Unauthorized,
            ),
            (
                Canned::json(403, include_str!("fixtures/error_forbidden_scope.json")),
                |e| {
                    e.code() == Some(code::MISSING_SCOPE)
                        && matches!(&e.detail, Detail::Refused {
                        required_scope: Some(s), .. } if s == "database:write")
                },
            ),
            (
                Canned::json(403, include_str!("fixtures/error_not_a_member.json")),
                |e| e.kind() == FailureKind::Forbidden && e.code() == Some(code::NOT_A_MEMBER),
            ),
            (
                Canned::json(404, include_str!("fixtures/error_not_found.json")),
                |e| e.is_not_found(),
            ),
            (
                Canned::json(409, include_str!("fixtures/error_conflict.json")),
                |e| e.is_conflict() && e.detail == Detail::None,
            ),
            (
                Canned::json(422, include_str!("fixtures/error_validation.json")),
                |e| e.kind() == FailureKind::Validation && e.field() == Some("ttl_seconds"),
            ),
            (
                Canned::json(
                    400,
                    "{\"error\":{\"code\":\"bad_request\",\"message\":\"x\"}}",
                ),
                |e| e.kind() == FailureKind::Other && e.status() == Some(400),
            ),
            (
                Canned::text(500, "<html>Internal Server Error</html>"),
                |e| {
                    (e.kind(), e.status(), e.code(), e.retries())
                        == (FailureKind::Server, Some(500), None, 0)
                },
            ),
            (
                Canned::empty(302).header("location", "http://elsewhere.invalid/"),
                |e| e.kind() == FailureKind::Other && e.status() == Some(302),
            ),
        ];
        let (script, checks): (Vec<_>, Vec<_>) = cases.into_iter().unzip();
        let count = checks.len();
        let mock = Mock::start(script).await;
        // No retries, so each scripted answer meets its check (a GET's 500 is retried,
        // see `internal_errors_are_retried_for_reads`).
        let client = test_client_with(&mock.base, |c| c.max_retries = 0);
        for check in checks {
            let failure = client.get_database(DB).await.unwrap_err();
            assert!(check(&failure), "{failure:?}");
            assert!(!failure.to_string().contains(TEST_TOKEN));
        }
        assert_eq!(mock.calls().len(), count);
    }

    #[tokio::test]
    async fn internal_errors_are_retried_for_reads_and_keyed_creates_only() {
        let internal = || Canned::json(500, include_str!("fixtures/error_internal.json"));
        let mock = Mock::start(vec![
            internal(),
            Canned::json(200, include_str!("fixtures/database.json")),
            internal(),
            Canned::json(201, include_str!("fixtures/created_database.json")),
            internal(),
        ])
        .await;
        let client = test_client(&mock.base);
        client.get_database(DB).await.unwrap();
        client
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap();
        let failure = client.rotate_database_token(DB).await.unwrap_err();
        assert_eq!(
            (failure.kind(), failure.status(), failure.retries()),
            (FailureKind::Server, Some(500), 0)
        );
        let calls = mock.calls();
        assert_eq!(
            calls.len(),
            5,
            "GET and create repeated once each; rotate never"
        );
        assert_eq!(
            calls[2].header("idempotency-key"),
            calls[3].header("idempotency-key")
        );
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
            (failure.kind(), failure.retry_after, failure.retries()),
            (FailureKind::RateLimited, Some(Duration::ZERO), 2)
        );
        assert_eq!(mock.calls().len(), 3, "1 attempt + max_retries (2)");
        assert!(failure.to_string().contains("after 2 retries"), "{failure}");
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
        assert_eq!(
            (failure.kind(), failure.retry_after, failure.retries()),
            (FailureKind::RateLimited, Some(Duration::from_secs(3600)), 0)
        );
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
        assert_eq!(
            (failure.kind(), failure.status(), failure.retries()),
            (FailureKind::Server, Some(503), 2)
        );
        assert_eq!(failure.message, "service unavailable");
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
        assert_eq!(
            (failure.kind(), failure.status(), failure.retries()),
            (FailureKind::Server, Some(503), 0)
        );
        assert_eq!(mock.calls().len(), 1);
        assert_eq!(client.requests_sent(), 1);
        assert!(!failure.op.retry_safe(), "a rotation is not repeated");
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
            failure.kind() == FailureKind::Transport && failure.retries() == 0,
            "{failure:?}"
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
        assert_eq!(
            (failure.kind(), failure.timed_out, failure.retries()),
            (FailureKind::Transport, false, 1),
            "{failure:?}"
        );
        assert!(
            !failure.message.contains("127.0.0.1"),
            "{}",
            failure.message
        );
        let url = failure.url.as_deref().unwrap_or_default();
        assert!(url.ends_with("/v1/databases/db_8a41c0d2e3f4a5b6"), "{url}");
        assert_eq!(client.requests_sent(), 2);
        assert!(
            failure.to_string().contains("could not reach the API ("),
            "{failure}"
        );
    }

    #[tokio::test]
    async fn one_deadline_bounds_a_create_its_replays_and_the_lookup() {
        // Every answer drips (one byte every 100 ms): no attempt ever completes.
        let drip = || {
            Canned::drip(
                201,
                include_str!("fixtures/created_database.json"),
                Duration::from_millis(100),
            )
        };
        let mock = Mock::start((0..40).map(|_| drip()).collect()).await;
        let client = test_client_with(&mock.base, |c| {
            c.timeout = Duration::from_millis(400);
            c.max_retries = 4;
            c.operation_timeout = Some(Duration::from_millis(1200));
        });
        let request = CreateDatabaseRequest {
            name: "orders".into(),
            group: None,
            size_limit_mb: None,
        };
        let started = Instant::now();
        let failure = client
            .create_database("prj_6f1c2a", &request)
            .await
            .unwrap_err();
        let took = started.elapsed();
        // One operation deadline (1.2 s) for the create, its replays and the lookup; the
        // old code gave each of them its own (about 3 x 1.2 s + the 4 s of recovery
        // waits + 1.2 s for the lookup).
        assert!(took < Duration::from_millis(1900), "took {took:?}");
        match &failure.detail {
            Detail::CreateUnresolved { tried, .. } => {
                assert!(
                    failure.is_unanswered() || failure.is_server() || failure.is_rate_limited(),
                    "{failure:?}"
                );
                assert!(tried.contains("create database timed out after"), "{tried}");
                assert!(tried.contains("one operation's limit: 1 s"), "{tried}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let detail = failure.to_string();
        assert!(detail.contains("attempts in"), "{detail}");
        assert!(
            detail.contains("whether the create took effect is unknown"),
            "{detail}"
        );
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
            failure.kind() == FailureKind::Transport && failure.timed_out,
            "{failure:?}"
        );
        assert!(failure.to_string().contains("timed out"), "{failure}");
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
        assert_eq!(failure.kind(), FailureKind::Cancelled);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(mock.calls().len(), 1);
        // A cancelled client sends nothing more.
        let again = client.list_projects().await.unwrap_err();
        assert_eq!(again.kind(), FailureKind::Cancelled);
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
        assert_eq!(failure.kind(), FailureKind::Cancelled);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
