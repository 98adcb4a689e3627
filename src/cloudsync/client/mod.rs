//! Typed client for the CloudSync management API (no plugin-framework imports), on the
//! platform-neutral core in [`crate::client`]. The contract is `docs/api/cloudsync.md`.
//!
//! - this file: [`ClientConfig`], [`Client`] (bearer key, User-Agent, the `{"data": ...}`
//!   envelope) and one method per route, with the request and answer types;
//! - `routes.rs`: one row per route;
//! - `error.rs`: the `errors` envelope, [`ApiFailure`] with its remedies.
//!
//! Every secret the client sends (the key, connection strings, the JWT secret, the Expo
//! token) is given to the redactor first, so no message or log can carry it.

mod error;
pub mod lists;
pub mod routes;

pub use error::{kind_of, ApiFailure, CloudSyncEnvelope, Operation, TENANT_CODES};

pub use crate::client::{ConfigError, Secret};

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::client::{Auth, FailureKind, HttpClient, HttpConfig, Request, Route};

/// The documented base URL.
pub const DEFAULT_API_URL: &str = "https://cloudsync.sqlite.ai";
/// The User-Agent product token.
pub const USER_AGENT_PRODUCT: &str =
    concat!("terraform-provider-cloudsync/", env!("CARGO_PKG_VERSION"));
/// The largest `page_size` of the devices list (seed 002).
pub const MAX_PAGE_SIZE: u32 = 500;

pub type Result<T> = std::result::Result<T, ApiFailure>;

/// How a [`Client`] reaches the API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub base_url: Url,
    pub api_key: Secret,
    pub timeout: Duration,
    pub max_retries: u32,
    pub user_agent_suffix: Option<String>,
    pub operation_timeout: Option<Duration>,
    /// Pace requests by the rate limit the API announces (see `client::pacer`).
    pub pacing: bool,
}

impl ClientConfig {
    pub fn new(base_url: Url, api_key: Secret) -> Self {
        ClientConfig {
            base_url,
            api_key,
            timeout: crate::client::DEFAULT_TIMEOUT,
            max_retries: crate::client::DEFAULT_MAX_RETRIES,
            user_agent_suffix: None,
            operation_timeout: None,
            pacing: true,
        }
    }
}

/// The organization of the key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub organization_id: String,
    #[serde(default)]
    pub slug: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub status: String,
}

/// A managed database as read endpoints return it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Database {
    pub managed_database_id: String,
    #[serde(default)]
    pub workspace_id: Option<String>,
    pub label: String,
    pub provider: String,
    pub flavor: String,
    pub database_name: String,
    #[serde(default)]
    pub schema_name: Option<String>,
    #[serde(default)]
    pub jwt_allowed_issuers: Option<Vec<String>>,
    #[serde(default)]
    pub jwt_expected_audiences: Option<Vec<String>>,
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Whether a JWT secret is set (not in the seed: absent means unknown).
    #[serde(default)]
    pub jwt_secret_configured: Option<bool>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// `POST /v1/databases`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewDatabase {
    pub label: String,
    pub connection_string: String,
    pub provider: String,
    pub flavor: String,
    pub database_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_allowed_issuers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_expected_audiences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<String>,
}

/// `PATCH /v1/databases/{id}`: only the fields set are sent. `jwt_secret: Some("")`
/// clears the secret; `None` leaves it. A list `Some(vec![])` and `jwks_uri: Some(None)`
/// clear those settings.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct DatabasePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_string: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_allowed_issuers: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_expected_audiences: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt_secret: Option<String>,
}

impl DatabasePatch {
    pub fn is_empty(&self) -> bool {
        *self == DatabasePatch::default()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    managed_database_id: String,
}

/// What delete reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The live connection check.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionCheck {
    pub ok: bool,
    #[serde(default)]
    pub checked_at: Option<String>,
    #[serde(default)]
    pub failure: Option<ConnectionFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionFailure {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub retryable: bool,
}

/// One table and whether CloudSync is enabled on it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Table {
    pub name: String,
    pub enabled: bool,
}

/// Expo access token metadata (never the token).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpoToken {
    #[serde(default)]
    pub configured: bool,
    #[serde(default)]
    pub token_suffix: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Push notification status.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NotificationStatus {
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// One registered device.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub site_id: String,
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub has_push_token: Option<bool>,
    #[serde(default)]
    pub app_version: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub last_seen_at: Option<String>,
}

/// The `meta` of a devices page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageMeta {
    #[serde(default)]
    pub total: Option<u64>,
    #[serde(default)]
    pub total_pages: Option<u64>,
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct Page<T> {
    data: Vec<T>,
    #[serde(default)]
    meta: Option<PageMeta>,
}

/// The CloudSync API client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: HttpClient,
}

impl Client {
    /// A client whose requests stop when `cancel` fires.
    pub fn with_cancel_token(
        config: ClientConfig,
        cancel: CancellationToken,
    ) -> std::result::Result<Client, ConfigError> {
        let mut http = HttpConfig::new(
            config.base_url,
            Auth::Bearer(config.api_key),
            USER_AGENT_PRODUCT,
        );
        http.user_agent_suffix = config.user_agent_suffix;
        http.timeout = config.timeout;
        http.max_retries = config.max_retries;
        http.operation_timeout = config.operation_timeout;
        http.pacing = config.pacing;
        Ok(Client {
            http: HttpClient::new(http, CloudSyncEnvelope, cancel)?,
        })
    }

    /// Runs `fut` as one operation: every request in it (a create, the lookups that
    /// settle a lost answer) ends by one deadline, the client's operation timeout from now,
    /// and the tally says what each attempt gave (see `HttpClient::operation`).
    pub async fn operation<F: std::future::Future>(
        &self,
        fut: F,
    ) -> (F::Output, crate::client::Tally) {
        self.http.operation(fut).await
    }

    pub fn base_url(&self) -> &Url {
        self.http.base_url()
    }

    /// Runs `fut` keeping part of the current operation's time for the lookups that
    /// settle a create (see `HttpClient::leaving_time_to_settle`).
    pub async fn leaving_time_to_settle<F: std::future::Future>(&self, fut: F) -> F::Output {
        self.http.leaving_time_to_settle(fut).await
    }

    pub fn requests_sent(&self) -> u64 {
        self.http.requests_sent()
    }

    /// Remembers a secret so no later message shows it.
    pub fn learn(&self, secret: &str) {
        if !secret.is_empty() {
            self.http.redactor().add(&Secret::new(secret));
        }
        // The password of a connection URI, on its own too.
        if let Ok(url) = Url::parse(secret) {
            if let Some(password) = url.password() {
                self.http.redactor().add(&Secret::new(password));
                if let Ok(decoded) = urlencoding_decode(password) {
                    self.http.redactor().add(&Secret::new(decoded));
                }
            }
            for (k, v) in url.query_pairs() {
                if k == "apikey" || k == "password" {
                    self.http.redactor().add(&Secret::new(v.into_owned()));
                }
            }
        }
    }

    /// Cleans a text of every secret the client knows.
    pub fn clean(&self, text: &str) -> String {
        self.http.redactor().clean(text)
    }

    async fn send(&self, op: &Operation, request: Request<'_>) -> Result<Vec<u8>> {
        self.http
            .send_request(op.route, op, request)
            .await
            .map_err(|f| ApiFailure::from_failure(op.clone(), f, kind_of))
    }

    fn decode<T: DeserializeOwned>(&self, op: &Operation, bytes: &[u8]) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|e| {
            ApiFailure::new(op.clone(), FailureKind::Decode, self.clean(&e.to_string()))
        })
    }

    async fn data<T: DeserializeOwned>(&self, op: Operation, body: Option<Vec<u8>>) -> Result<T> {
        let bytes = self
            .send(
                &op,
                Request {
                    body,
                    ..Request::default()
                },
            )
            .await?;
        Ok(self.decode::<Data<T>>(&op, &bytes)?.data)
    }

    fn encode<T: Serialize>(&self, op: &Operation, value: &T) -> Result<Vec<u8>> {
        serde_json::to_vec(value).map_err(|e| {
            let mut failure = ApiFailure::new(op.clone(), FailureKind::Validation, e.to_string());
            failure.field = Some("request".into());
            failure
        })
    }

    pub async fn get_org(&self) -> Result<Organization> {
        self.data(Operation::new(&routes::GET_ORG), None).await
    }

    pub async fn list_databases(&self) -> Result<Vec<Database>> {
        self.data(Operation::new(&routes::LIST_DATABASES), None)
            .await
    }

    /// Registers a database; the API verifies the tenant connection first. Returns its id.
    pub async fn create_database(&self, request: &NewDatabase) -> Result<String> {
        self.learn(&request.connection_string);
        if let Some(s) = &request.jwt_secret {
            self.learn(s);
        }
        let op = Operation {
            label: Some(request.label.clone()),
            ..Operation::new(&routes::CREATE_DATABASE)
        };
        let body = self.encode(&op, request)?;
        let created: Created = self.data(op, Some(body)).await?;
        Ok(created.managed_database_id)
    }

    pub async fn get_database(&self, id: &str) -> Result<Database> {
        self.data(Operation::on(&routes::GET_DATABASE, id), None)
            .await
    }

    pub async fn patch_database(&self, id: &str, patch: &DatabasePatch) -> Result<Database> {
        if let Some(s) = &patch.connection_string {
            self.learn(s);
        }
        if let Some(s) = &patch.jwt_secret {
            self.learn(s);
        }
        let op = Operation::on(&routes::PATCH_DATABASE, id);
        let body = self.encode(&op, patch)?;
        self.data(op, Some(body)).await
    }

    pub async fn delete_database(&self, id: &str) -> Result<Deleted> {
        self.data(Operation::on(&routes::DELETE_DATABASE, id), None)
            .await
    }

    pub async fn check_connection(&self, id: &str) -> Result<ConnectionCheck> {
        let mut check: ConnectionCheck = self
            .data(Operation::on(&routes::CHECK_CONNECTION, id), None)
            .await?;
        if let Some(f) = check.failure.as_mut() {
            f.message = self.clean(&f.message);
        }
        Ok(check)
    }

    pub async fn list_tables(&self, id: &str) -> Result<Vec<Table>> {
        self.data(Operation::on(&routes::LIST_TABLES, id), None)
            .await
    }

    async fn switch(
        &self,
        route: &'static Route,
        id: &str,
        tables: &[String],
    ) -> Result<Vec<Table>> {
        let op = Operation {
            table: Some(tables.join(", ")),
            ..Operation::on(route, id)
        };
        let body = self.encode(&op, &serde_json::json!({ "tables": tables }))?;
        self.data(op, Some(body)).await
    }

    pub async fn enable_tables(&self, id: &str, tables: &[String]) -> Result<Vec<Table>> {
        self.switch(&routes::ENABLE_TABLES, id, tables).await
    }

    pub async fn disable_tables(&self, id: &str, tables: &[String]) -> Result<Vec<Table>> {
        self.switch(&routes::DISABLE_TABLES, id, tables).await
    }

    pub async fn put_expo_token(&self, id: &str, token: &Secret) -> Result<ExpoToken> {
        self.learn(token.expose());
        let op = Operation::on(&routes::PUT_EXPO_TOKEN, id);
        let body = self.encode(
            &op,
            &serde_json::json!({ "expoAccessToken": token.expose() }),
        )?;
        self.data(op, Some(body)).await
    }

    pub async fn get_expo_token(&self, id: &str) -> Result<ExpoToken> {
        self.data(Operation::on(&routes::GET_EXPO_TOKEN, id), None)
            .await
    }

    pub async fn delete_expo_token(&self, id: &str) -> Result<()> {
        self.send(
            &Operation::on(&routes::DELETE_EXPO_TOKEN, id),
            Request::default(),
        )
        .await
        .map(|_| ())
    }

    pub async fn notification_status(&self, id: &str) -> Result<NotificationStatus> {
        self.data(Operation::on(&routes::NOTIFICATION_STATUS, id), None)
            .await
    }

    /// One page of devices (`page` from 1, `page_size` 1 to 500).
    pub async fn devices_page(
        &self,
        id: &str,
        page: u64,
        page_size: u32,
    ) -> Result<(Vec<Device>, PageMeta)> {
        let op = Operation::on(&routes::LIST_DEVICES, id);
        let request = Request {
            query: vec![
                ("page", page.to_string()),
                ("page_size", page_size.clamp(1, MAX_PAGE_SIZE).to_string()),
            ],
            ..Request::default()
        };
        let bytes = self.send(&op, request).await?;
        let page: Page<Device> = self.decode(&op, &bytes)?;
        Ok((page.data, page.meta.unwrap_or_default()))
    }

    /// Every device, following every page: until `meta.totalPages` when the API gives it,
    /// else until a short or empty page. Stops with an error rather than loop forever on
    /// an API that keeps answering full pages past its own total.
    pub async fn list_devices(&self, id: &str, page_size: u32) -> Result<Vec<Device>> {
        let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
        let mut all: Vec<Device> = Vec::new();
        let mut page = 1u64;
        loop {
            let (devices, meta) = self.devices_page(id, page, page_size).await?;
            let got = devices.len();
            all.extend(devices);
            let last = match meta.total_pages {
                Some(total_pages) => page >= total_pages,
                None => got < page_size as usize,
            };
            if last || got == 0 {
                break;
            }
            page += 1;
            if page > 100_000 {
                return Err(ApiFailure::new(
                    Operation::on(&routes::LIST_DEVICES, id),
                    FailureKind::Decode,
                    "the device list did not end after 100000 pages",
                ));
            }
        }
        all.sort_by(|a, b| a.site_id.cmp(&b.site_id));
        all.dedup_by(|a, b| a.site_id == b.site_id);
        Ok(all)
    }

    pub async fn delete_device(&self, id: &str, site: &str) -> Result<()> {
        let op = Operation {
            site: Some(site.to_owned()),
            ..Operation::on(&routes::DELETE_DEVICE, id)
        };
        self.send(&op, Request::default()).await.map(|_| ())
    }
}

/// Percent-decoding of a URI component (a password may carry `%40` for `@`).
fn urlencoding_decode(s: &str) -> std::result::Result<String, std::string::FromUtf8Error> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_sends_only_what_is_set() {
        let patch = DatabasePatch {
            jwt_secret: Some(String::new()),
            jwks_uri: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            serde_json::json!({"jwtSecret": "", "jwksUri": null})
        );
        assert!(DatabasePatch::default().is_empty());
        assert_eq!(
            serde_json::to_value(DatabasePatch::default()).unwrap(),
            serde_json::json!({})
        );
    }

    #[test]
    fn a_database_answer_decodes_with_and_without_assumed_fields() {
        let db: Database = serde_json::from_str(
            r#"{"managedDatabaseId":"db_1","label":"L","provider":"postgres","flavor":"vanilla","databaseName":"app"}"#,
        )
        .unwrap();
        assert_eq!(db.jwt_secret_configured, None);
        assert_eq!(db.schema_name, None);
    }

    #[test]
    fn connection_string_passwords_are_learned() {
        let client = Client::with_cancel_token(
            ClientConfig::new(
                Url::parse("http://127.0.0.1:1").unwrap(),
                "csk_0123456789abcdef0123456789abcdef".into(),
            ),
            CancellationToken::new(),
        )
        .unwrap();
        client.learn("postgres://app:p%40ssw0rd-x@h:5432/db");
        client.learn("sqlitecloud://h:8860?apikey=node-key-123");
        let text = client.clean(
            "login p@ssw0rd-x failed; key node-key-123; csk_0123456789abcdef0123456789abcdef",
        );
        assert!(
            !text.contains("p@ssw0rd") && !text.contains("node-key") && !text.contains("csk_0"),
            "{text}"
        );
    }

    use crate::client::testutil::{Canned, Mock};

    fn client(base: &Url, retries: u32) -> Client {
        let mut config =
            ClientConfig::new(base.clone(), "csk_0123456789abcdef0123456789abcdef".into());
        config.max_retries = retries;
        config.timeout = Duration::from_secs(5);
        Client::with_cancel_token(config, CancellationToken::new()).unwrap()
    }

    const DB: &str = r#"{"data":{"managedDatabaseId":"db_1","label":"L","provider":"postgres","flavor":"vanilla","databaseName":"app","jwtSecretConfigured":true}}"#;

    #[tokio::test]
    async fn a_429_waits_and_the_key_is_a_bearer() {
        let mock = Mock::start(vec![
            Canned::json(429, r#"{"errors":[{"status":"429","code":"rate_limited","title":"Too Many Requests","detail":"slow"}]}"#)
                .header("retry-after", "0"),
            Canned::json(200, DB),
        ])
        .await;
        let db = client(&mock.base, 2).get_database("db_1").await.unwrap();
        assert_eq!(db.jwt_secret_configured, Some(true));
        let calls = mock.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[1].path, "/v1/databases/db_1");
        assert_eq!(
            calls[1].header("authorization").as_deref(),
            Some("Bearer csk_0123456789abcdef0123456789abcdef")
        );
        assert!(calls[1]
            .header("user-agent")
            .is_some_and(|u| u.starts_with("terraform-provider-cloudsync/")));
    }

    #[tokio::test]
    async fn a_registration_is_never_repeated_after_an_ambiguous_failure() {
        let mock = Mock::start(vec![Canned::json(503, r#"{"errors":[{"status":"503","code":"unavailable","title":"Service Unavailable","detail":"x"}]}"#)]).await;
        let request = NewDatabase {
            label: "L".into(),
            connection_string: "postgres://u:hunter2-secret@h/db".into(),
            provider: "postgres".into(),
            flavor: "vanilla".into(),
            database_name: "db".into(),
            schema_name: None,
            jwt_allowed_issuers: None,
            jwt_expected_audiences: None,
            jwks_uri: None,
            jwt_secret: Some("jwt-secret-value".into()),
        };
        let err = client(&mock.base, 3)
            .create_database(&request)
            .await
            .unwrap_err();
        assert_eq!(mock.calls().len(), 1);
        assert!(err.may_have_taken_effect());
        let body = mock.calls()[0].json();
        assert_eq!(body["jwtSecret"], "jwt-secret-value");
        assert!(body.get("schemaName").is_none());
    }

    #[tokio::test]
    async fn server_text_never_carries_a_secret_it_was_sent() {
        let mock = Mock::start(vec![Canned::json(
            422,
            r#"{"errors":[{"status":"422","code":"database_auth_failed","title":"Unprocessable Entity","detail":"login to postgres://u:hunter2-secret@h/db failed","source":{"pointer":"/connectionString"}}]}"#,
        )])
        .await;
        let c = client(&mock.base, 0);
        let patch = DatabasePatch {
            connection_string: Some("postgres://u:hunter2-secret@h/db".into()),
            ..Default::default()
        };
        let err = c.patch_database("db_1", &patch).await.unwrap_err();
        assert_eq!(err.tenant_code(), Some("database_auth_failed"));
        assert_eq!(err.field(), Some("connectionString"));
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("login to (sensitive value) failed"), "{text}");
    }

    #[tokio::test]
    async fn devices_follow_every_page() {
        let page = |from: usize, n: usize, pages: u64| {
            let items: Vec<String> = (from..from + n)
                .map(|i| format!(r#"{{"siteId":"site_{i:03}"}}"#))
                .collect();
            Canned::json(
                200,
                &format!(
                    r#"{{"data":[{}],"meta":{{"page":1,"pageSize":2,"total":5,"totalPages":{pages}}}}}"#,
                    items.join(",")
                ),
            )
        };
        let mock = Mock::start(vec![page(0, 2, 3), page(2, 2, 3), page(4, 1, 3)]).await;
        let all = client(&mock.base, 0).list_devices("db_1", 2).await.unwrap();
        assert_eq!(all.len(), 5);
        let queries: Vec<_> = mock
            .calls()
            .iter()
            .map(|c| c.query.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            queries,
            [
                "page=1&page_size=2",
                "page=2&page_size=2",
                "page=3&page_size=2"
            ]
        );
        // Without meta: until a short page; a page_size over 500 is sent as 500.
        let mock = Mock::start(vec![
            page(0, 2, 0).header("x", "y"),
            Canned::json(200, r#"{"data":[]}"#),
        ])
        .await;
        let c = client(&mock.base, 0);
        let (_, meta) = c.devices_page("db_1", 1, 9999).await.unwrap();
        assert_eq!(meta.total, Some(5));
        assert_eq!(
            mock.calls()[0].query.as_deref(),
            Some("page=1&page_size=500")
        );
    }

    #[tokio::test]
    async fn a_proxy_page_is_not_read_as_the_api() {
        let mock = Mock::start(vec![Canned::text(404, "<html>nginx</html>")]).await;
        let err = client(&mock.base, 0)
            .get_database("db_1")
            .await
            .unwrap_err();
        assert!(!err.is_not_found());
        assert_eq!(err.kind(), crate::client::FailureKind::Other);
    }
}
