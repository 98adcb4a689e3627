//! Typed client for the WaysCloud databases API (no plugin-framework imports), on the
//! platform-neutral core in [`crate::client`]. Contract: `docs/api/wayscloud.md`.
//!
//! - [`Client`]: `X-API-Key` auth, WaysCloud's User-Agent and error envelope, one method
//!   per route ([`routes::ROUTES`]);
//! - [`ApiFailure`]: a failed call as a typed error with the operation, the platform's
//!   message and a remedy that names the provider's settings.
//!
//! Every password an answer brings is given to the redactor before anything else.

pub mod lists;
pub mod routes;

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::client::{
    Auth, Called, ErrorEnvelope, ErrorFields, Failure, FailureKind, HttpClient, HttpConfig,
    Request, Route,
};
pub use crate::client::{ConfigError, Secret};

/// The reference's base URL.
pub const DEFAULT_API_URL: &str = "https://api.wayscloud.services";
/// The header the key travels in. [documented]
pub const API_KEY_HEADER: &str = "x-api-key";
/// Key prefixes masked in any server text.
pub const TOKEN_PREFIXES: &[&str] = &["wcs_"];
/// The User-Agent product token.
pub const USER_AGENT_PRODUCT: &str =
    concat!("terraform-provider-wayscloud/", env!("CARGO_PKG_VERSION"));

/// WaysCloud's error body: `{"detail": "...", "code": "...", ...}`; a FastAPI `detail`
/// alone is read too (documented = it has a string `detail`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WaysCloudEnvelope;

impl ErrorEnvelope for WaysCloudEnvelope {
    fn parse(&self, body: &[u8]) -> ErrorFields {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return ErrorFields::default();
        };
        match value.as_object() {
            Some(object) if object.get("detail").is_some_and(|d| d.is_string()) => {
                ErrorFields::from_object(object, &["detail"])
            }
            _ => ErrorFields {
                json: true,
                ..ErrorFields::default()
            },
        }
    }
}

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

/// What was attempted: the route and the call's words ("delete database `x`
/// (postgresql)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub route: &'static Route,
    pub describe: String,
}

impl Called for Operation {
    fn route(&self) -> &'static Route {
        self.route
    }
}

/// WaysCloud's own fact beyond the common ones: the permission a 403 `forbidden` lacks
/// (the body's `permission`, else the route's scope).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail {
    pub permission: Option<String>,
}

/// A failed call ([`crate::client::ApiFailure`]): the operation, the common kind,
/// WaysCloud's code (`not_found`, `forbidden`, `quota_exceeded`, ...) and message, all
/// redacted.
pub type ApiFailure = crate::client::ApiFailure<Operation, Detail>;

/// The common kind of an answer of WaysCloud's. A 401 or 403 blames the key only in
/// WaysCloud's own shape (a `detail` and its code): another service's refusal means
/// `api_url` is wrong, as does a 404 `route_not_found`.
pub fn kind_of(status: u16, fields: &ErrorFields) -> FailureKind {
    let code = fields.code.as_deref().unwrap_or_default();
    match (status, code) {
        (404, "not_found") => FailureKind::NotFound,
        (404, "route_not_found") => FailureKind::Other,
        (404, "") if fields.documented => FailureKind::NotFound,
        (401, "unauthorized" | "") if fields.documented => FailureKind::Unauthorized,
        (403, "quota_exceeded" | "forbidden" | "") if fields.documented => FailureKind::Forbidden,
        (409, _) => FailureKind::Conflict,
        (422, _) => FailureKind::Validation,
        (429, _) => FailureKind::RateLimited,
        (500..=599, _) => FailureKind::Server,
        _ => FailureKind::Other,
    }
}

/// WaysCloud's questions of a failure, beyond the common predicates.
impl ApiFailure {
    /// No usable answer came yet: no answer, a 5xx, an answer cut short (a database that
    /// is restarting). Whether a failed write may have taken effect is the client core's
    /// one rule, `may_have_taken_effect()`.
    pub fn is_ambiguous(&self) -> bool {
        matches!(
            self.kind,
            FailureKind::Transport
                | FailureKind::Deadline
                | FailureKind::Server
                | FailureKind::Decode
        )
    }

    pub fn summary(&self) -> &'static str {
        self.op.route.summary
    }
}

/// "Could not <what>. WaysCloud said: <message>." (the facts; the diagnostic adds the
/// remedy, `wayscloud::common`).
impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Could not {}.", self.op.describe)?;
        if !self.message.is_empty() {
            write!(
                f,
                " WaysCloud said: {}.",
                self.message.trim_end_matches('.')
            )?;
        }
        Ok(())
    }
}

pub type Result<T> = std::result::Result<T, ApiFailure>;

/// The values of one call's placeholders (and its messages).
#[derive(Debug, Default, Clone)]
pub struct Ids {
    pairs: Vec<(&'static str, String)>,
}

impl Ids {
    pub fn db(db_type: &str, db_name: &str) -> Ids {
        Ids {
            pairs: vec![
                ("db_type", db_type.to_owned()),
                ("db_name", db_name.to_owned()),
            ],
        }
    }

    pub fn with(mut self, name: &'static str, value: &str) -> Ids {
        self.pairs.push((name, value.to_owned()));
        self
    }

    fn fill(&self, template: &str) -> String {
        crate::client::route::fill(template, |name| {
            self.pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        })
    }
}

impl crate::client::Params for Ids {
    fn param(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

// ---- answers ------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
pub struct Created {
    pub db_type: String,
    pub db_name: String,
    pub username: String,
    #[serde(default)]
    pub password: Option<String>,
    pub host: String,
    pub port: i64,
    pub connection_string: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub password_generated: Option<bool>,
    #[serde(default)]
    pub idempotent: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseEntry {
    pub db_name: String,
    #[serde(default)]
    pub db_type: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
    #[serde(default)]
    pub connection_limit: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct DatabaseList {
    databases: Vec<DatabaseEntry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rotated {
    pub db_name: String,
    pub username: String,
    pub password: String,
    pub host: String,
    pub port: i64,
    pub connection_string: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Credentials {
    pub host: String,
    pub port: i64,
    pub database: String,
    pub username: String,
    pub connection_string: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Info {
    pub db_name: String,
    pub db_type: String,
    #[serde(default)]
    pub size_mb: Option<f64>,
    #[serde(default)]
    pub connection_count: Option<i64>,
    #[serde(default)]
    pub connection_limit: Option<i64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Metrics {
    #[serde(default)]
    pub database_id: Option<String>,
    #[serde(default)]
    pub storage_gb: Option<f64>,
    #[serde(default)]
    pub backup_gb: Option<f64>,
    #[serde(default)]
    pub active_connections: Option<i64>,
    #[serde(default)]
    pub max_connections: Option<i64>,
    #[serde(default)]
    pub total_queries: Option<i64>,
    #[serde(default)]
    pub queries_per_sec: Option<f64>,
    #[serde(default)]
    pub cache_hit_ratio: Option<f64>,
    #[serde(default)]
    pub cpu_percent: Option<f64>,
    #[serde(default)]
    pub memory_percent: Option<f64>,
    #[serde(default)]
    pub measured_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Rule {
    pub rule_id: String,
    pub ip_address: String,
    #[serde(default)]
    pub port: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct RuleList {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Snapshot {
    pub snapshot_id: String,
    #[serde(default)]
    pub size_mb: Option<f64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct SnapshotList {
    snapshots: Vec<Snapshot>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Restored {
    pub db_name: String,
    pub snapshot_id: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BackupPolicy {
    pub enabled: bool,
    #[serde(default)]
    pub frequency: Option<String>,
    #[serde(default)]
    pub retention_days: Option<i64>,
    #[serde(default)]
    pub time_of_day: Option<String>,
    #[serde(default, skip_serializing)]
    pub last_backup: Option<String>,
    #[serde(default, skip_serializing)]
    pub next_backup: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Quota {
    pub used: i64,
    pub limit: i64,
    #[serde(default)]
    pub storage_used_gb: Option<f64>,
    #[serde(default)]
    pub storage_limit_gb: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HistoryEntry {
    pub db_name: String,
    #[serde(default)]
    pub db_type: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub deleted_at: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct History {
    databases: Vec<HistoryEntry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Engine {
    pub db_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub port: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
struct Engines {
    engines: Vec<Engine>,
}

/// The WaysCloud API client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    http: HttpClient,
}

impl Client {
    pub fn new(
        config: ClientConfig,
        cancel: CancellationToken,
    ) -> std::result::Result<Client, ConfigError> {
        let mut http = HttpConfig::new(
            config.base_url,
            Auth::Header {
                name: API_KEY_HEADER,
                secret: config.api_key,
            },
            USER_AGENT_PRODUCT,
        );
        http.user_agent_suffix = config.user_agent_suffix;
        http.timeout = config.timeout;
        http.max_retries = config.max_retries;
        http.operation_timeout = config.operation_timeout;
        http.pacing = config.pacing;
        http.token_prefixes = TOKEN_PREFIXES;
        Ok(Client {
            http: HttpClient::new(http, WaysCloudEnvelope, cancel)?,
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

    fn failure(&self, route: &'static Route, ids: &Ids, failure: Failure) -> ApiFailure {
        let op = Operation {
            route,
            describe: ids.fill(route.describe),
        };
        let mut permission = None;
        let mut failure = ApiFailure::from_failure(op, failure, |status, fields| {
            let kind = kind_of(status, fields);
            if kind == FailureKind::Forbidden && fields.code.as_deref() != Some("quota_exceeded") {
                permission = Some(fields.get("permission").unwrap_or(route.scope).to_owned());
            }
            kind
        });
        failure.detail.permission = permission;
        // The words of what was no answer.
        if let Some(after) = failure.waited {
            failure.message = format!("no answer after {after:?}");
        } else if let Some(limit) = failure.too_large {
            failure.message = format!("answer larger than {limit} bytes");
        }
        failure.message = self.http.redactor().clean(&failure.message);
        failure
    }

    async fn call<T: DeserializeOwned>(
        &self,
        route: &'static Route,
        ids: &Ids,
        body: Option<serde_json::Value>,
        query: Vec<(&'static str, String)>,
    ) -> Result<T> {
        let request = Request {
            body: body.map(|b| b.to_string().into_bytes()),
            query,
            ..Request::default()
        };
        let bytes = self
            .http
            .send_request(route, ids, request)
            .await
            .map_err(|f| self.failure(route, ids, f))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            let op = Operation {
                route,
                describe: ids.fill(route.describe),
            };
            ApiFailure::new(
                op,
                FailureKind::Decode,
                self.http.redactor().clean(&e.to_string()),
            )
        })
    }

    fn learn(&self, secret: &str) {
        if !secret.is_empty() {
            self.http.redactor().add(&Secret::new(secret));
        }
    }

    /// `POST /v1/databases`.
    pub async fn create_database(
        &self,
        db_type: &str,
        requested_name: Option<&str>,
        customer_id: Option<&str>,
    ) -> Result<Created> {
        let ids = Ids::default().with("db_type", db_type);
        let body = serde_json::json!({
            "db_type": db_type,
            "requested_name": requested_name,
            "customer_id": customer_id,
        });
        let created: Created = self
            .call(&routes::CREATE_DATABASE, &ids, Some(body), vec![])
            .await?;
        if let Some(pw) = &created.password {
            self.learn(pw);
        }
        self.learn_connection_string(&created.connection_string);
        Ok(created)
    }

    fn learn_connection_string(&self, cs: &str) {
        // scheme://user:password@host...
        if let Some(rest) = cs.split_once("://").map(|(_, r)| r) {
            if let Some((auth, _)) = rest.split_once('@') {
                if let Some((_, pw)) = auth.split_once(':') {
                    self.learn(pw);
                }
            }
        }
    }

    /// `DELETE /v1/databases/{db_type}/{db_name}?username=` (the user too).
    pub async fn delete_database(
        &self,
        db_type: &str,
        db_name: &str,
        username: &str,
    ) -> Result<()> {
        let ids = Ids::db(db_type, db_name);
        self.call::<serde_json::Value>(
            &routes::DELETE_DATABASE,
            &ids,
            None,
            vec![("username", username.to_owned())],
        )
        .await
        .map(|_| ())
    }

    /// `PATCH /v1/databases/{db_type}/{db_name}`.
    pub async fn update_database(
        &self,
        db_type: &str,
        db_name: &str,
        connection_limit: Option<i64>,
        description: Option<&str>,
    ) -> Result<()> {
        let ids = Ids::db(db_type, db_name);
        let body =
            serde_json::json!({"connection_limit": connection_limit, "description": description});
        self.call::<serde_json::Value>(&routes::UPDATE_DATABASE, &ids, Some(body), vec![])
            .await
            .map(|_| ())
    }

    /// `GET /v1/databases/{db_type}` (`customer_id` for internal keys).
    pub async fn list_databases(
        &self,
        db_type: &str,
        customer_id: Option<&str>,
    ) -> Result<Vec<DatabaseEntry>> {
        let ids = Ids::default().with("db_type", db_type);
        let query = customer_id
            .map(|c| vec![("customer_id", c.to_owned())])
            .unwrap_or_default();
        let list: DatabaseList = self
            .call(&routes::LIST_DATABASES, &ids, None, query)
            .await?;
        Ok(list.databases)
    }

    /// One database from the list, `None` when it is not there.
    pub async fn find_database(
        &self,
        db_type: &str,
        db_name: &str,
        customer_id: Option<&str>,
    ) -> Result<Option<DatabaseEntry>> {
        Ok(self
            .list_databases(db_type, customer_id)
            .await?
            .into_iter()
            .find(|d| d.db_name == db_name))
    }

    pub async fn engines(&self) -> Result<Vec<Engine>> {
        let e: Engines = self
            .call(&routes::LIST_ENGINES, &Ids::default(), None, vec![])
            .await?;
        Ok(e.engines)
    }

    pub async fn restart(&self, db_type: &str, db_name: &str) -> Result<String> {
        let v: serde_json::Value = self
            .call(&routes::RESTART, &Ids::db(db_type, db_name), None, vec![])
            .await?;
        Ok(v["message"].as_str().unwrap_or_default().to_owned())
    }

    pub async fn credentials(&self, db_type: &str, db_name: &str) -> Result<Credentials> {
        self.call(
            &routes::CREDENTIALS,
            &Ids::db(db_type, db_name),
            None,
            vec![],
        )
        .await
    }

    pub async fn rotate(&self, db_type: &str, db_name: &str) -> Result<Rotated> {
        let r: Rotated = self
            .call(&routes::ROTATE, &Ids::db(db_type, db_name), None, vec![])
            .await?;
        self.learn(&r.password);
        Ok(r)
    }

    pub async fn info(&self, db_type: &str, db_name: &str) -> Result<Info> {
        self.call(&routes::INFO, &Ids::db(db_type, db_name), None, vec![])
            .await
    }

    pub async fn metrics(&self, db_type: &str, db_name: &str) -> Result<Metrics> {
        self.call(&routes::METRICS, &Ids::db(db_type, db_name), None, vec![])
            .await
    }

    pub async fn add_rule(
        &self,
        db_type: &str,
        db_name: &str,
        ip_address: &str,
        description: Option<&str>,
    ) -> Result<Rule> {
        let body = serde_json::json!({"ip_address": ip_address, "description": description});
        self.call(
            &routes::ADD_RULE,
            &Ids::db(db_type, db_name),
            Some(body),
            vec![],
        )
        .await
    }

    pub async fn rules(&self, db_type: &str, db_name: &str) -> Result<Vec<Rule>> {
        let l: RuleList = self
            .call(
                &routes::LIST_RULES,
                &Ids::db(db_type, db_name),
                None,
                vec![],
            )
            .await?;
        Ok(l.rules)
    }

    pub async fn delete_rule(&self, db_type: &str, db_name: &str, rule_id: &str) -> Result<()> {
        let ids = Ids::db(db_type, db_name).with("rule_id", rule_id);
        self.call::<serde_json::Value>(&routes::DELETE_RULE, &ids, None, vec![])
            .await
            .map(|_| ())
    }

    pub async fn quota(&self) -> Result<Quota> {
        self.call(&routes::QUOTA, &Ids::default(), None, vec![])
            .await
    }

    pub async fn history(&self) -> Result<Vec<HistoryEntry>> {
        let h: History = self
            .call(&routes::HISTORY, &Ids::default(), None, vec![])
            .await?;
        Ok(h.databases)
    }

    pub async fn create_snapshot(
        &self,
        db_type: &str,
        db_name: &str,
        description: Option<&str>,
    ) -> Result<Snapshot> {
        let body = serde_json::json!({"description": description});
        self.call(
            &routes::CREATE_SNAPSHOT,
            &Ids::db(db_type, db_name),
            Some(body),
            vec![],
        )
        .await
    }

    pub async fn snapshots(&self, db_type: &str, db_name: &str) -> Result<Vec<Snapshot>> {
        let l: SnapshotList = self
            .call(
                &routes::LIST_SNAPSHOTS,
                &Ids::db(db_type, db_name),
                None,
                vec![],
            )
            .await?;
        Ok(l.snapshots)
    }

    pub async fn delete_snapshot(
        &self,
        db_type: &str,
        db_name: &str,
        snapshot_id: &str,
    ) -> Result<()> {
        let ids = Ids::db(db_type, db_name).with("snapshot_id", snapshot_id);
        self.call::<serde_json::Value>(&routes::DELETE_SNAPSHOT, &ids, None, vec![])
            .await
            .map(|_| ())
    }

    pub async fn restore(
        &self,
        db_type: &str,
        db_name: &str,
        snapshot_id: &str,
        target: Option<&str>,
    ) -> Result<Restored> {
        let ids = Ids::db(db_type, db_name).with("snapshot_id", snapshot_id);
        let body = serde_json::json!({"snapshot_id": snapshot_id, "target_db_name": target});
        self.call(&routes::RESTORE, &ids, Some(body), vec![]).await
    }

    pub async fn backup_policy(&self, db_type: &str, db_name: &str) -> Result<BackupPolicy> {
        self.call(
            &routes::GET_POLICY,
            &Ids::db(db_type, db_name),
            None,
            vec![],
        )
        .await
    }

    pub async fn set_backup_policy(
        &self,
        db_type: &str,
        db_name: &str,
        policy: &BackupPolicy,
    ) -> Result<BackupPolicy> {
        let body = serde_json::to_value(policy).unwrap_or_default();
        self.call(
            &routes::SET_POLICY,
            &Ids::db(db_type, db_name),
            Some(body),
            vec![],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::client::testutil::{Canned, Mock};

    fn test_client(base: &Url) -> Client {
        Client::new(
            ClientConfig {
                base_url: base.clone(),
                api_key: Secret::new("wcs_testkey0123456789"),
                timeout: Duration::from_secs(5),
                max_retries: 2,
                user_agent_suffix: None,
                operation_timeout: None,
                pacing: true,
            },
            CancellationToken::new(),
        )
        .expect("client")
    }

    const ROTATED: &str = r#"{"success":true,"db_name":"cust_a_pg_x","username":"cust_a_pg_x","password":"Sup3rSecretPassw0rd","host":"h","port":5432,"connection_string":"postgresql://cust_a_pg_x:Sup3rSecretPassw0rd@h:5432/cust_a_pg_x","created_at":"t"}"#;

    #[tokio::test]
    async fn requests_carry_the_key_and_passwords_never_reach_a_message() {
        let mock = Mock::start(vec![
            Canned::json(200, ROTATED),
            // A server that echoes the password back in an error.
            Canned::json(422, r#"{"detail":"bad value Sup3rSecretPassw0rd","code":"validation_error","field":"description"}"#),
        ])
        .await;
        let client = test_client(&mock.base);
        let rotated = client
            .rotate("postgresql", "cust_a_pg_x")
            .await
            .expect("rotate");
        assert_eq!(rotated.password, "Sup3rSecretPassw0rd");
        let failure = client
            .update_database("postgresql", "cust_a_pg_x", Some(20), Some("x"))
            .await
            .expect_err("422");
        assert_eq!(failure.kind(), FailureKind::Validation);
        assert_eq!(failure.field(), Some("description"));
        let detail = failure.to_string();
        assert!(!detail.contains("Sup3rSecretPassw0rd"), "{detail}");
        let calls = mock.calls();
        assert_eq!(
            calls[0].path,
            "/v1/databases/postgresql/cust_a_pg_x/credentials/rotate"
        );
        assert_eq!(
            calls[0].header("x-api-key").as_deref(),
            Some("wcs_testkey0123456789")
        );
        assert_eq!(calls[1].method, "PATCH");
        assert_eq!(calls[1].json()["connection_limit"], 20);
    }

    #[tokio::test]
    async fn a_rotation_is_not_repeated_after_a_5xx_but_a_read_is() {
        let mock = Mock::start(vec![
            Canned::json(503, r#"{"detail":"busy","code":"unavailable"}"#),
            Canned::json(503, r#"{"detail":"busy","code":"unavailable"}"#),
            Canned::json(200, r#"{"db_type":"postgresql","databases":[]}"#),
        ])
        .await;
        let client = test_client(&mock.base);
        let failure = client
            .rotate("postgresql", "cust_a_pg_x")
            .await
            .expect_err("503");
        assert_eq!(failure.kind(), FailureKind::Server);
        assert_eq!(failure.status(), Some(503));
        assert_eq!(mock.calls().len(), 1, "a rotation was repeated after a 503");
        let list = client
            .list_databases("postgresql", None)
            .await
            .expect("list retried");
        assert!(list.is_empty());
        assert_eq!(mock.calls().len(), 3);
    }

    #[tokio::test]
    async fn a_foreign_404_is_not_a_deleted_database() {
        let mock = Mock::start(vec![
            Canned::text(404, "<html>nginx</html>"),
            Canned::json(
                404,
                r#"{"detail":"Database x not found","code":"not_found"}"#,
            ),
        ])
        .await;
        let client = test_client(&mock.base);
        let foreign = client.info("postgresql", "x").await.expect_err("404");
        assert!(!foreign.is_not_found());
        assert!(foreign.is_not_the_api(), "{foreign:?}");
        let gone = client.info("postgresql", "x").await.expect_err("404");
        assert!(gone.is_not_found());
    }

    #[tokio::test]
    async fn a_foreign_401_or_403_names_api_url_not_the_key() {
        let foreign = [
            // Comwit's envelope (another platform's API at `api_url`).
            Canned::json(
                401,
                r#"{"error":{"code":"unauthorized","message":"missing bearer token"}}"#,
            ),
            Canned::text(401, "<html>401 Authorization Required</html>"),
            Canned::json(403, r#"{"message":"Forbidden"}"#),
            Canned::empty(403),
            Canned::json(404, r#"{"errors":[{"code":"not_found"}]}"#),
        ];
        let n = foreign.len();
        let mock = Mock::start(foreign.into_iter().collect()).await;
        let client = test_client(&mock.base);
        for i in 0..n {
            let failure = client.info("postgresql", "x").await.expect_err("refused");
            assert!(
                failure.is_not_the_api() && !failure.is_refused(),
                "answer {i}: {failure:?}"
            );
        }

        // WaysCloud's own refusals still blame the key.
        let mock = Mock::start(vec![
            Canned::json(401, r#"{"detail":"Invalid API key","code":"unauthorized"}"#),
            Canned::json(
                403,
                r#"{"detail":"API key lacks permission database:read","code":"forbidden","permission":"database:read"}"#,
            ),
        ])
        .await;
        let client = test_client(&mock.base);
        let refused = client.info("postgresql", "x").await.expect_err("401");
        assert_eq!(refused.kind(), FailureKind::Unauthorized);
        let forbidden = client.info("postgresql", "x").await.expect_err("403");
        assert_eq!(forbidden.kind(), FailureKind::Forbidden, "{forbidden:?}");
        assert_eq!(
            forbidden.detail.permission.as_deref(),
            Some("database:read")
        );
    }

    #[tokio::test]
    async fn one_operation_bounds_a_create_and_the_lookup_after_it() {
        let drip = || Canned::drip(201, ROTATED, Duration::from_millis(100));
        let mock = Mock::start((0..10).map(|_| drip()).collect()).await;
        let client = Client::new(
            ClientConfig {
                base_url: mock.base.clone(),
                api_key: Secret::new("wcs_testkey0123456789"),
                timeout: Duration::from_millis(400),
                max_retries: 2,
                user_agent_suffix: None,
                operation_timeout: Some(Duration::from_millis(1000)),
                pacing: true,
            },
            CancellationToken::new(),
        )
        .expect("client");
        let started = std::time::Instant::now();
        let ((created, listed), tally) = client
            .operation(async {
                let created = client.create_database("postgresql", Some("x"), None).await;
                let listed = client.list_databases("postgresql", None).await;
                (created, listed)
            })
            .await;
        let took = started.elapsed();
        assert!(created.is_err() && listed.is_err());
        // Each call alone may take 1 s; together they end by the one deadline.
        assert!(took < Duration::from_millis(1600), "took {took:?}");
        let text = tally.describe();
        assert!(
            text.contains("create database") || text.contains("timed out"),
            "{text}"
        );
        assert!(text.contains("one operation's limit: 1 s"), "{text}");
    }

    #[test]
    fn the_envelope_reads_detail_and_code() {
        let f = WaysCloudEnvelope.parse(br#"{"detail":"API key lacks permission database:create","code":"forbidden","permission":"database:create"}"#);
        assert!(f.documented);
        assert_eq!(f.code.as_deref(), Some("forbidden"));
        assert_eq!(f.get("permission"), Some("database:create"));
        let f = WaysCloudEnvelope.parse(br#"{"error":{"message":"x"}}"#);
        assert!(f.json && !f.documented);
        let f = WaysCloudEnvelope.parse(b"<html>");
        assert!(!f.json);
    }

    #[test]
    fn a_forbidden_detail_names_the_permission_and_the_setting() {
        let failure = ApiFailure::from(crate::client::Facts {
            code: Some("forbidden".into()),
            message: "API key lacks permission database:create".into(),
            detail: Detail {
                permission: Some("database:create".into()),
            },
            ..crate::client::Facts::new(
                Operation {
                    route: &routes::CREATE_DATABASE,
                    describe: "create a postgresql database".into(),
                },
                FailureKind::Forbidden,
            )
        });
        assert_eq!(failure.kind(), FailureKind::Forbidden);
        assert_eq!(failure.code(), Some("forbidden"));
        assert_eq!(
            failure.to_string(),
            "Could not create a postgresql database. WaysCloud said: API key lacks permission \
             database:create."
        );
    }
}
