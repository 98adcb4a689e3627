//! Databases: create, list, read, delete, rotate the connection token, issue a query
//! token, suspend, resume and usage.

use super::routes;
use super::{encode, Client, ExistingObject, Operation, Result, Secret};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A database's lifecycle state: `active` or `suspended`. Any other value the API may add
/// is kept as [`DatabaseStatus::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DatabaseStatus {
    Active,
    Suspended,
    Other(String),
}

impl DatabaseStatus {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            DatabaseStatus::Active => "active",
            DatabaseStatus::Suspended => "suspended",
            DatabaseStatus::Other(other) => other,
        }
    }
}

impl From<String> for DatabaseStatus {
    fn from(value: String) -> Self {
        match value.as_str() {
            "active" => DatabaseStatus::Active,
            "suspended" => DatabaseStatus::Suspended,
            _ => DatabaseStatus::Other(value),
        }
    }
}

impl std::fmt::Display for DatabaseStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DatabaseStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DatabaseStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(deserializer).map(DatabaseStatus::from)
    }
}

/// The libSQL/WAL frame numbers of a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FrameNumbers {
    pub current: u64,
    pub durable: u64,
}

/// A database, as `GET /v1/databases/{database}` answers it. It never holds a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Database {
    pub database_id: String,
    pub project_id: String,
    pub name: String,
    /// Where an app connects (the data host, never used for management).
    pub database_url: String,
    pub status: DatabaseStatus,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    pub runner: String,
    pub generation: u64,
    pub frame_numbers: FrameNumbers,
    /// The placement group, if the API reports it (the contract's object does not list it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The size limit, if the API reports it (the contract's object does not list it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_limit_mb: Option<u64>,
}

/// The body of `POST /v1/projects/{project}/databases`. Unset options are left out, so the
/// API applies its defaults (`group` `default`, `size_limit_mb` 1024).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDatabaseRequest {
    /// 3 to 32 characters: lowercase letters, digits and `-`, starting with a letter and
    /// not ending with `-`; unique in the project.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_limit_mb: Option<u32>,
}

/// The answer to a create: the database and its one-time connection token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedDatabase {
    pub database: Database,
    pub database_token: Secret,
}

/// The answer to a rotation: the new one-time connection token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotatedToken {
    pub database_id: String,
    pub database_token: Secret,
    /// RFC 3339.
    pub rotated_at: String,
}

/// The body of `POST /v1/databases/{database}/query-token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryTokenRequest {
    /// 1 to 3600.
    pub ttl_seconds: u32,
    /// 1 to 64 characters of letters, digits, `-`, `_`, `.`; the API defaults to `sql`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// Free text up to 256 characters, kept for audit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A short-lived SQL token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryToken {
    pub token_id: String,
    pub query_token: Secret,
    pub database_id: String,
    pub audience: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub ttl_seconds: u32,
    /// RFC 3339.
    pub expires_at: String,
}

/// A database's usage in the current period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub database_id: String,
    pub rows_read: u64,
    pub rows_written: u64,
    /// The size of the database's files on disk.
    pub storage_bytes: u64,
    pub queries: u64,
    /// RFC 3339.
    pub period_start: String,
    /// RFC 3339.
    pub period_end: String,
}

#[derive(Deserialize)]
struct DatabaseList {
    databases: Vec<Database>,
}

impl Client {
    /// `GET /v1/projects/{project}/databases` (`database:read`).
    pub async fn list_databases(&self, project_id: &str) -> Result<Vec<Database>> {
        let op = Operation::on_project(&routes::LIST_DATABASES, project_id);
        let list: DatabaseList = self.call(op, None, None).await?;
        Ok(list.databases)
    }

    /// `POST /v1/projects/{project}/databases` (`database:write`). 200 and 201 are both
    /// success. The create never ends with an outcome the caller cannot act on (see
    /// [`Client::create_named`]): one `Idempotency-Key` on every attempt and repeat, then
    /// [`Detail::CreateUnresolved`](super::Detail::CreateUnresolved) or
    /// [`Detail::NameTaken`](super::Detail::NameTaken) naming the database of that name
    /// the project holds, if any.
    pub async fn create_database(
        &self,
        project_id: &str,
        request: &CreateDatabaseRequest,
    ) -> Result<CreatedDatabase> {
        let op = Operation::on_project(&routes::CREATE_DATABASE, project_id)
            .with_database_name(request.name.clone());
        let body = encode(&op, request)?;
        let created: CreatedDatabase = self
            .create_named(op, body, || {
                self.existing_database(project_id, &request.name)
            })
            .await?;
        self.learn(&created.database_token);
        Ok(created)
    }

    /// The live database named `name` in the project, if the API can say now.
    async fn existing_database(&self, project_id: &str, name: &str) -> Option<ExistingObject> {
        if self.cancel_token().is_cancelled() {
            return None;
        }
        let list = self.list_databases(project_id).await.ok()?;
        list.into_iter()
            .find(|db| db.name == name)
            .map(|db| ExistingObject {
                id: db.database_id,
                created_at: db.created_at,
            })
    }

    /// `GET /v1/databases/{database}` (`database:read`). A missing database is
    /// not found ([`FailureKind::NotFound`](crate::client::FailureKind::NotFound)).
    pub async fn get_database(&self, database_id: &str) -> Result<Database> {
        let op = Operation::on_database(&routes::GET_DATABASE, database_id);
        self.call(op, None, None).await
    }

    /// `DELETE /v1/databases/{database}` (`database:write`; refused on protected tenants).
    /// A missing database is not found ([`FailureKind::NotFound`](crate::client::FailureKind::NotFound)): the
    /// resource layer decides whether that counts as success.
    pub async fn delete_database(&self, database_id: &str) -> Result<()> {
        let op = Operation::on_database(&routes::DELETE_DATABASE, database_id);
        self.call_no_content(op).await
    }

    /// `POST /v1/databases/{database}/token/rotate` (`database:write`; refused on protected
    /// tenants). The old token stops working at once. Not repeated after a 5xx or a lost
    /// answer (a repeat would rotate again).
    pub async fn rotate_database_token(&self, database_id: &str) -> Result<RotatedToken> {
        let op = Operation::on_database(&routes::ROTATE_DATABASE_TOKEN, database_id);
        let rotated: RotatedToken = self.call(op, None, None).await?;
        self.learn(&rotated.database_token);
        Ok(rotated)
    }

    /// `POST /v1/databases/{database}/query-token` (`database:write`; refused on protected
    /// tenants).
    pub async fn create_query_token(
        &self,
        database_id: &str,
        request: &QueryTokenRequest,
    ) -> Result<QueryToken> {
        let op = Operation::on_database(&routes::CREATE_QUERY_TOKEN, database_id);
        let body = encode(&op, request)?;
        let token: QueryToken = self.call(op, Some(body), None).await?;
        self.learn(&token.query_token);
        Ok(token)
    }

    /// `POST /v1/databases/{database}/suspend` (`database:write`; refused on protected
    /// tenants). A suspended database answers 409.
    pub async fn suspend_database(&self, database_id: &str) -> Result<Database> {
        let op = Operation::on_database(&routes::SUSPEND_DATABASE, database_id);
        self.call(op, None, None).await
    }

    /// `POST /v1/databases/{database}/resume` (`database:write`; refused on protected
    /// tenants). An active database answers 409.
    pub async fn resume_database(&self, database_id: &str) -> Result<Database> {
        let op = Operation::on_database(&routes::RESUME_DATABASE, database_id);
        self.call(op, None, None).await
    }

    /// `GET /v1/databases/{database}/usage` (`database:read`).
    pub async fn get_database_usage(&self, database_id: &str) -> Result<Usage> {
        let op = Operation::on_database(&routes::GET_DATABASE_USAGE, database_id);
        self.call(op, None, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::test_client;
    use super::*;
    use crate::client::testutil::{Canned, Mock};
    use crate::client::FailureKind;
    use crate::comwit::client::{code, Detail};

    const DB: &str = "db_8a41c0d2e3f4a5b6";

    fn orders() -> CreateDatabaseRequest {
        CreateDatabaseRequest {
            name: "orders".into(),
            group: None,
            size_limit_mb: Some(2048),
        }
    }

    #[test]
    fn database_fixture_decodes_with_frame_numbers() {
        let db: Database = serde_json::from_str(include_str!("fixtures/database.json")).unwrap();
        assert_eq!(db.database_id, DB);
        assert_eq!(db.status, DatabaseStatus::Active);
        assert_eq!(
            db.frame_numbers,
            FrameNumbers {
                current: 12,
                durable: 10
            }
        );
        assert_eq!(db.generation, 1);
        assert_eq!(db.group, None);
        let unknown: DatabaseStatus = serde_json::from_str("\"migrating\"").unwrap();
        assert_eq!(unknown, DatabaseStatus::Other("migrating".into()));
        assert_eq!(serde_json::to_string(&unknown).unwrap(), "\"migrating\"");
    }

    #[test]
    fn tokens_never_show_in_debug_output() {
        let created: CreatedDatabase =
            serde_json::from_str(include_str!("fixtures/created_database.json")).unwrap();
        assert!(created.database_token.expose().starts_with("cdt_5e11"));
        assert!(!format!("{created:?}").contains("cdt_"));
        let token: QueryToken =
            serde_json::from_str(include_str!("fixtures/query_token.json")).unwrap();
        assert!(!format!("{token:?}").contains("cqt_"));
        let rotated: RotatedToken =
            serde_json::from_str(include_str!("fixtures/rotated_token.json")).unwrap();
        assert!(!format!("{rotated:#?}").contains("cdt_"));
    }

    #[tokio::test]
    async fn list_databases_reads_the_envelope() {
        let mock = Mock::start(vec![Canned::json(
            200,
            include_str!("fixtures/databases.json"),
        )])
        .await;
        let dbs = test_client(&mock.base)
            .list_databases("prj_6f1c2a")
            .await
            .unwrap();
        assert_eq!(dbs.len(), 2);
        assert_eq!(dbs[1].name, "louhi-app");
        assert_eq!(dbs[1].status, DatabaseStatus::Suspended);
        let call = &mock.calls()[0];
        assert_eq!(
            (call.method.as_str(), call.path.as_str()),
            ("GET", "/v1/projects/prj_6f1c2a/databases")
        );
    }

    #[tokio::test]
    async fn create_sends_body_and_idempotency_key_and_takes_201_or_200() {
        let mock = Mock::start(vec![
            Canned::json(201, include_str!("fixtures/created_database.json")),
            Canned::json(200, include_str!("fixtures/created_database.json")),
        ])
        .await;
        let client = test_client(&mock.base);
        let first = client
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap();
        assert_eq!(first.database.name, "orders");
        assert_eq!(
            first.database_token.expose(),
            "cdt_5e11f87178098fc35e11f87178098fc3"
        );
        // The replay answer (200) is a success too.
        let second = client
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap();
        assert_eq!(second.database.database_id, DB);

        let calls = mock.calls();
        assert_eq!(calls[0].method, "POST");
        assert_eq!(calls[0].path, "/v1/projects/prj_6f1c2a/databases");
        assert_eq!(
            calls[0].header("content-type").as_deref(),
            Some("application/json")
        );
        // `group` unset is left out; the API applies its default.
        assert_eq!(
            calls[0].json(),
            serde_json::json!({"name": "orders", "size_limit_mb": 2048})
        );
        let key1 = calls[0].header("idempotency-key").unwrap();
        let key2 = calls[1].header("idempotency-key").unwrap();
        let parsed = uuid::Uuid::parse_str(&key1).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_ne!(key1, key2, "each create call gets its own key");
    }

    #[tokio::test]
    async fn create_conflict_names_the_database_and_project() {
        let mock = Mock::start(vec![Canned::json(
            409,
            include_str!("fixtures/error_conflict.json"),
        )])
        .await;
        let failure = test_client(&mock.base)
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap_err();
        // The lookup of the existing database failed (the mock has nothing more to say).
        assert_eq!(failure.detail, Detail::NameTaken { existing: None });
        assert_eq!(failure.summary(), "Error creating database");
        assert!(failure.to_string().starts_with(
            "Could not create database `orders` in project `prj_6f1c2a`: the API answered 409"
        ));
        let posts = mock.calls().iter().filter(|c| c.method == "POST").count();
        assert_eq!(posts, 1, "a 409 is not retried");
    }

    #[tokio::test]
    async fn get_and_delete_escape_the_id_and_report_not_found() {
        let mock = Mock::start(vec![
            Canned::json(200, include_str!("fixtures/database.json")),
            Canned::empty(204),
            Canned::json(404, include_str!("fixtures/error_not_found.json")),
            Canned::json(404, include_str!("fixtures/error_not_found.json")),
        ])
        .await;
        let client = test_client(&mock.base);
        let db = client.get_database("db a/b").await.unwrap();
        assert_eq!(db.name, "orders");
        client.delete_database("db a/b").await.unwrap();
        let gone = client.get_database(DB).await.unwrap_err();
        assert!(gone.is_not_found());
        let gone = client.delete_database(DB).await.unwrap_err();
        assert!(gone.is_not_found(), "delete on 404 is a typed NotFound");
        assert_eq!(gone.summary(), "Error deleting database");

        let calls = mock.calls();
        assert_eq!(calls[0].path, "/v1/databases/db%20a%2Fb");
        assert_eq!(calls[1].method, "DELETE");
        assert_eq!(calls[1].path, "/v1/databases/db%20a%2Fb");
        assert_eq!(calls.len(), 4, "404s are not retried");
    }

    #[tokio::test]
    async fn rotate_query_token_suspend_resume_and_usage() {
        let mock = Mock::start(vec![
            Canned::json(200, include_str!("fixtures/rotated_token.json")),
            Canned::json(201, include_str!("fixtures/query_token.json")),
            Canned::json(200, include_str!("fixtures/database_suspended.json")),
            Canned::json(200, include_str!("fixtures/database.json")),
            Canned::json(200, include_str!("fixtures/usage.json")),
        ])
        .await;
        let client = test_client(&mock.base);
        let rotated = client.rotate_database_token(DB).await.unwrap();
        assert_eq!(
            rotated.database_token.expose(),
            "cdt_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
        );
        let request = QueryTokenRequest {
            ttl_seconds: 300,
            audience: Some("sql-console".into()),
            reason: Some("ad-hoc query".into()),
        };
        let token = client.create_query_token(DB, &request).await.unwrap();
        assert_eq!(token.ttl_seconds, 300);
        assert_eq!(token.reason.as_deref(), Some("ad-hoc query"));
        assert!(token.query_token.expose().starts_with("cqt_"));
        let suspended = client.suspend_database(DB).await.unwrap();
        assert_eq!(suspended.status, DatabaseStatus::Suspended);
        let resumed = client.resume_database(DB).await.unwrap();
        assert_eq!(resumed.status, DatabaseStatus::Active);
        let usage = client.get_database_usage(DB).await.unwrap();
        assert_eq!(usage.storage_bytes, 8192);
        assert_eq!(usage.rows_read, 1200);

        let calls = mock.calls();
        let routes: Vec<(String, String)> = calls
            .iter()
            .map(|c| (c.method.clone(), c.path.clone()))
            .collect();
        let expected = [
            ("POST", format!("/v1/databases/{DB}/token/rotate")),
            ("POST", format!("/v1/databases/{DB}/query-token")),
            ("POST", format!("/v1/databases/{DB}/suspend")),
            ("POST", format!("/v1/databases/{DB}/resume")),
            ("GET", format!("/v1/databases/{DB}/usage")),
        ];
        for (got, (method, path)) in routes.iter().zip(expected.iter()) {
            assert_eq!((got.0.as_str(), got.1.as_str()), (*method, path.as_str()));
        }
        assert_eq!(
            calls[1].json(),
            serde_json::json!({"ttl_seconds": 300, "audience": "sql-console", "reason": "ad-hoc query"})
        );
        assert!(calls[0].body.is_empty(), "rotate sends no body");
        assert!(calls.iter().all(|c| c.header("idempotency-key").is_none()));
    }

    #[tokio::test]
    async fn protected_tenant_and_validation_are_typed() {
        let mock = Mock::start(vec![
            Canned::json(403, include_str!("fixtures/error_protected_tenant.json")),
            Canned::json(422, include_str!("fixtures/error_validation.json")),
            Canned::json(
                409,
                "{\"error\":{\"code\":\"conflict\",\"message\":\"already suspended\"}}",
            ),
        ])
        .await;
        let client = test_client(&mock.base);
        let failure = client.rotate_database_token("db_louhi").await.unwrap_err();
        assert_eq!(
            (failure.kind(), failure.code()),
            (FailureKind::Forbidden, Some(code::PROTECTED_TENANT))
        );
        assert!(failure.op.protected_tenant_guarded());
        assert!(
            failure.to_string().contains("is a protected tenant"),
            "{failure}"
        );

        let request = QueryTokenRequest {
            ttl_seconds: 0,
            audience: None,
            reason: None,
        };
        let failure = client.create_query_token(DB, &request).await.unwrap_err();
        assert_eq!(
            (failure.kind(), failure.field(), failure.message.as_str()),
            (
                FailureKind::Validation,
                Some("ttl_seconds"),
                "ttl_seconds must be an integer in 1..3600"
            )
        );
        assert_eq!(
            mock.calls()[1].json(),
            serde_json::json!({"ttl_seconds": 0})
        );

        let failure = client.suspend_database(DB).await.unwrap_err();
        assert!(
            failure.is_conflict() && failure.op.is(&routes::SUSPEND_DATABASE),
            "{failure}"
        );
    }

    #[tokio::test]
    async fn malformed_json_is_a_decode_error_naming_the_operation() {
        let mock = Mock::start(vec![
            Canned::json(200, "{\"database_id\": \"db_1\", \"name\": "),
            Canned::json(
                200,
                "{\"database_id\": 5, \"database_token\": \"cdt_abcdef0123\"}",
            ),
        ])
        .await;
        let client = test_client(&mock.base);
        let failure = client.get_database(DB).await.unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Decode);
        assert!(
            failure
                .to_string()
                .contains("the API's answer to \"read database\" is not the expected JSON"),
            "{failure}"
        );
        assert_eq!(mock.calls().len(), 1, "a decode error is not retried");
        let failure = client.rotate_database_token(DB).await.unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Decode);
        let detail = failure.to_string();
        assert!(!detail.contains("abcdef0123"), "{detail}");
    }

    #[tokio::test]
    async fn a_create_lost_past_its_retries_is_settled_by_a_replay_with_the_same_key() {
        let internal = || Canned::json(500, include_str!("fixtures/error_internal.json"));
        let mock = Mock::start(vec![
            internal(),
            internal(),
            internal(),
            Canned::json(200, include_str!("fixtures/created_database.json")),
        ])
        .await;
        let created = test_client(&mock.base)
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap();
        assert_eq!(created.database.database_id, DB);
        let calls = mock.calls();
        assert_eq!(calls.len(), 4, "3 attempts, then one recovery replay");
        let key = calls[0].header("idempotency-key").unwrap();
        assert!(calls
            .iter()
            .all(|c| c.header("idempotency-key").as_deref() == Some(&key)));
    }

    #[tokio::test]
    async fn an_unsettled_create_names_what_exists_and_the_import_command() {
        let internal = || Canned::json(500, include_str!("fixtures/error_internal.json"));
        let mut script: Vec<Canned> = (0..9).map(|_| internal()).collect();
        script.push(Canned::json(200, include_str!("fixtures/databases.json")));
        let mock = Mock::start(script).await;
        let failure = test_client(&mock.base)
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap_err();
        match &failure.detail {
            Detail::CreateUnresolved {
                existing: Some(db), ..
            } => {
                assert_eq!(db.id, DB);
                assert_eq!(
                    (failure.kind(), failure.status()),
                    (FailureKind::Server, Some(500))
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        let text = failure.to_string();
        assert!(
            text.contains("whether the create took effect is unknown"),
            "{text}"
        );
        assert!(text.contains(&format!("`{DB}` now exists")), "{text}");
        assert_eq!(
            mock.calls().len(),
            10,
            "3 calls of 3 attempts, then the lookup"
        );
    }

    #[tokio::test]
    async fn a_taken_name_names_the_database_that_holds_it() {
        let mock = Mock::start(vec![
            Canned::json(409, include_str!("fixtures/error_conflict.json")),
            Canned::json(200, include_str!("fixtures/databases.json")),
        ])
        .await;
        let failure = test_client(&mock.base)
            .create_database("prj_6f1c2a", &orders())
            .await
            .unwrap_err();
        assert!(matches!(
            failure.detail,
            Detail::NameTaken { existing: Some(_) }
        ));
        let text = failure.to_string();
        assert!(text.contains(DB), "{text}");
        assert_eq!(failure.status(), Some(409));
        assert_eq!(mock.calls().len(), 2, "a 409 is never repeated");
    }
}
