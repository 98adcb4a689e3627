//! End-to-end tests of the `platform-emulator` binary: each test starts the real binary on
//! `127.0.0.1:0` with its own temporary state directory and talks HTTP to it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support;
use support::Emulator;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The harness's emulator (started on a state directory of the test's, with debug logs)
/// plus async HTTP helpers.
struct Emu {
    inner: Emulator,
    base: String,
    dir: PathBuf,
    token: String,
    admin_secret: String,
    http: reqwest::Client,
}

/// An HTTP client that never goes through a proxy from the environment.
fn client() -> reqwest::Client {
    support::emulator::http_client()
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Emu {
    async fn start(dir: &Path) -> Result<Emu, Box<dyn std::error::Error + Send + Sync>> {
        Emu::start_with(dir, &[]).await
    }

    async fn start_with(
        dir: &Path,
        envs: &[(&str, &str)],
    ) -> Result<Emu, Box<dyn std::error::Error + Send + Sync>> {
        let inner = envs
            .iter()
            .fold(
                Emulator::builder()
                    .state_dir(dir)
                    .env("COMWIT_EMULATOR_LOG", "debug"),
                |b, (k, v)| b.env(k, v),
            )
            .start_async()
            .await;
        let base = inner.url().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{base}");
        Ok(Emu {
            base,
            dir: dir.to_owned(),
            token: inner.token().to_owned(),
            admin_secret: inner.admin_secret().to_owned(),
            inner,
            http: client(),
        })
    }

    /// Stops the emulator with SIGTERM and checks it exits cleanly.
    async fn stop(mut self) -> TestResult {
        let clean = tokio::task::spawn_blocking(move || self.inner.stop()).await?;
        assert!(clean, "the emulator exits cleanly on SIGTERM");
        Ok(())
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A public API call with `token` (none when `None`). Returns (status, headers, body).
    async fn call_with(
        &self,
        client: &reqwest::Client,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, Value), reqwest::Error> {
        let body = body.map(|b| b.to_string().into_bytes());
        let reply =
            support::emulator::send(client, method, &self.url(path), token, headers, body).await?;
        Ok((reply.status, reply.headers, reply.body))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let (s, _, b) = self
            .call_with(&self.http, method, path, token, body, &[])
            .await?;
        Ok((s, b))
    }

    /// A call with the bootstrap token.
    async fn api(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        self.call(method, path, Some(&self.token.clone()), body)
            .await
    }

    async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), reqwest::Error> {
        let (s, _, b) = self
            .call_with(
                &self.http,
                method,
                path,
                None,
                body,
                &[("X-Emulator-Admin", &self.admin_secret.clone())],
            )
            .await?;
        Ok((s, b))
    }

    async fn create_db(
        &self,
        name: &str,
    ) -> Result<(String, String), Box<dyn std::error::Error + Send + Sync>> {
        let (s, b) = self
            .api(
                Method::POST,
                "/v1/projects/prj_local/databases",
                Some(json!({ "name": name })),
            )
            .await?;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let id = b["database"]["database_id"]
            .as_str()
            .ok_or("no id")?
            .to_owned();
        let token = b["database_token"].as_str().ok_or("no token")?.to_owned();
        Ok((id, token))
    }

    async fn mint_token(
        &self,
        scopes: &[&str],
        projects: &[&str],
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        let (s, b) = self
            .admin(
                Method::POST,
                "/_emulator/tokens",
                Some(json!({ "scopes": scopes, "projects": projects })),
            )
            .await?;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        Ok(b["token"].as_str().ok_or("no token")?.to_owned())
    }

    async fn admin_db(&self, id: &str) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let (s, b) = self
            .admin(Method::GET, "/_emulator/databases", None)
            .await?;
        assert_eq!(s, StatusCode::OK, "{b}");
        let dbs = b["databases"].as_array().ok_or("no databases")?;
        Ok(dbs
            .iter()
            .find(|d| d["database_id"] == id)
            .cloned()
            .ok_or("database not in admin view")?)
    }

    async fn admin_dbs_named(
        &self,
        name: &str,
    ) -> Result<Vec<Value>, Box<dyn std::error::Error + Send + Sync>> {
        let (s, b) = self
            .admin(Method::GET, "/_emulator/databases", None)
            .await?;
        assert_eq!(s, StatusCode::OK, "{b}");
        Ok(b["databases"]
            .as_array()
            .ok_or("no databases")?
            .iter()
            .filter(|d| d["name"] == name)
            .cloned()
            .collect())
    }

    async fn set_faults(&self, rules: Value) -> TestResult {
        let (s, b) = self
            .admin(
                Method::PUT,
                "/_emulator/faults",
                Some(json!({ "rules": rules })),
            )
            .await?;
        assert_eq!(s, StatusCode::OK, "{b}");
        Ok(())
    }

    fn db_files(&self, id: &str) -> [PathBuf; 3] {
        let d = self.dir.join("databases");
        [
            d.join(format!("{id}.db")),
            d.join(format!("{id}.db-wal")),
            d.join(format!("{id}.db-shm")),
        ]
    }
}

fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "body: {body}");
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(body["error"]["message"].is_string(), "body: {body}");
}

#[tokio::test]
async fn bootstrap_auth_scopes_and_membership() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;
    assert!(
        emu.token.starts_with("cwt_") && is_hex(&emu.token[4..], 32),
        "{}",
        emu.token
    );

    // The bootstrap token sees prj_local.
    let (s, b) = emu.api(Method::GET, "/v1/projects", None).await?;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["projects"][0]["project_id"], "prj_local");
    assert_eq!(b["projects"][0]["name"], "local");
    let (s, b) = emu.api(Method::GET, "/v1/projects/prj_local", None).await?;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["name"], "local");

    // 401: no token, malformed token, unknown token.
    let (s, b) = emu.call(Method::GET, "/v1/projects", None, None).await?;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, b) = emu
        .call(Method::GET, "/v1/projects", Some("nope"), None)
        .await?;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let unknown = "cwt_00000000000000000000000000000000";
    let (s, b) = emu
        .call(Method::GET, "/v1/projects", Some(unknown), None)
        .await?;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");

    // 403 forbidden names the required scope.
    let reader = emu.mint_token(&["project:read"], &["prj_local"]).await?;
    let (s, b) = emu
        .call(
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(&reader),
            Some(json!({"name": "orders"})),
        )
        .await?;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(b["error"]["required_scope"], "database:write");
    let (s, b) = emu
        .call(
            Method::GET,
            "/v1/projects/prj_local/databases",
            Some(&reader),
            None,
        )
        .await?;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(b["error"]["required_scope"], "database:read");
    let (s, _) = emu
        .call(Method::GET, "/v1/projects", Some(&reader), None)
        .await?;
    assert_eq!(s, StatusCode::OK);

    // A project the token is not in answers as an unknown project: 404 not_found, the
    // same body (the id aside), so ids and their projects do not leak.
    let (s, b) = emu
        .admin(
            Method::POST,
            "/_emulator/projects",
            Some(json!({"name": "other", "project_id": "prj_other"})),
        )
        .await?;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["project_id"], "prj_other");
    let (s, b) = emu.api(Method::GET, "/v1/projects/prj_other", None).await?;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s2, b2) = emu
        .api(Method::GET, "/v1/projects/prj_nothere", None)
        .await?;
    assert_eq!(s2, StatusCode::NOT_FOUND);
    assert_eq!(
        b.to_string().replace("prj_other", "X"),
        b2.to_string().replace("prj_nothere", "X"),
        "a foreign project answers as an unknown one"
    );
    let (s, b) = emu
        .api(
            Method::POST,
            "/v1/projects/prj_other/databases",
            Some(json!({"name": "orders"})),
        )
        .await?;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = emu
        .api(Method::GET, "/v1/projects/prj_missing", None)
        .await?;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = emu.api(Method::GET, "/v1/projects", None).await?;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        b["projects"].as_array().map(Vec::len),
        Some(1),
        "member projects only: {b}"
    );

    // A database of prj_local is not reachable by a token that is only in prj_other.
    let (id, _) = emu.create_db("orders").await?;
    let outsider = emu
        .mint_token(&["database:read", "database:write"], &["prj_other"])
        .await?;
    for (method, path) in [
        (Method::GET, format!("/v1/databases/{id}")),
        (Method::POST, format!("/v1/databases/{id}/suspend")),
        (Method::DELETE, format!("/v1/databases/{id}")),
    ] {
        let (s, b) = emu
            .call(method.clone(), &path, Some(&outsider), None)
            .await?;
        assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
        let unknown = "db_00000000000000000000000000";
        let (s2, b2) = emu
            .call(method, &path.replace(&id, unknown), Some(&outsider), None)
            .await?;
        assert_eq!(s2, StatusCode::NOT_FOUND);
        assert_eq!(
            b.to_string().replace(&id, "X"),
            b2.to_string().replace(unknown, "X"),
            "a foreign database answers as an unknown one"
        );
    }

    // Admin routes need the admin secret; minting validates scopes.
    let (s, b) = emu
        .call(Method::GET, "/_emulator/databases", None, None)
        .await?;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, _, b) = emu
        .call_with(
            &emu.http,
            Method::GET,
            "/_emulator/stats",
            None,
            None,
            &[("X-Emulator-Admin", "wrong")],
        )
        .await?;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, b) = emu
        .admin(
            Method::POST,
            "/_emulator/tokens",
            Some(json!({"scopes": ["database:admin"], "projects": ["prj_local"]})),
        )
        .await?;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(b["error"]["field"], "scopes");

    // Unknown routes and methods answer the error shape too.
    // An unknown route is `route_not_found`, never an object's `not_found` [assumed].
    let (s, b) = emu.api(Method::GET, "/v1/nothing", None).await?;
    assert_error(s, &b, StatusCode::NOT_FOUND, "route_not_found");
    let (s, b) = emu
        .api(Method::GET, "/api/v1/databases/db_0000000000000000", None)
        .await?;
    assert_error(s, &b, StatusCode::NOT_FOUND, "route_not_found");
    let (s, b) = emu.api(Method::PUT, "/v1/projects", None).await?;
    assert_error(s, &b, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    emu.stop().await
}

#[tokio::test]
async fn create_status_list_usage_and_validation() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;
    let (s, b) = emu
        .api(
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(json!({"name": "orders", "group": "eu-1", "size_limit_mb": 2048})),
        )
        .await?;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let db = &b["database"];
    let id = db["database_id"].as_str().ok_or("no id")?.to_owned();
    assert!(id.starts_with("db_") && is_hex(&id[3..], 16), "{id}");
    let token = b["database_token"].as_str().ok_or("no token")?;
    assert!(
        token.starts_with("cdt_") && is_hex(&token[4..], 48),
        "{token}"
    );
    assert_eq!(db["project_id"], "prj_local");
    assert_eq!(db["name"], "orders");
    assert_eq!(db["group"], "eu-1");
    assert_eq!(db["size_limit_mb"], 2048);
    assert_eq!(db["status"], "active");
    assert_eq!(db["runner"], "louhi-local-1");
    assert_eq!(db["generation"], 1);
    assert_eq!(db["database_url"], format!("{}/db/{id}/", emu.base));
    assert!(db["frame_numbers"]["current"].is_i64());
    assert!(db["frame_numbers"]["durable"].is_i64());
    assert!(db["created_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(!b.to_string().contains(&sha256_hex(token)), "no hash leaks");

    // The database is a real WAL-mode SQLite file.
    let [main, wal, shm] = emu.db_files(&id);
    assert!(main.exists());
    let conn = rusqlite::Connection::open(&main)?;
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    assert_eq!(mode, "wal");
    drop(conn);

    let (s, got) = emu
        .api(Method::GET, &format!("/v1/databases/{id}"), None)
        .await?;
    assert_eq!(s, StatusCode::OK, "{got}");
    assert_eq!(got["database_id"], id.as_str());
    assert_eq!(got["status"], "active");
    let (s, list) = emu
        .api(Method::GET, "/v1/projects/prj_local/databases", None)
        .await?;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<&str> = list["databases"]
        .as_array()
        .ok_or("no list")?
        .iter()
        .filter_map(|d| d["database_id"].as_str())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);

    // Usage: counters at 0, storage_bytes = real size of the files.
    let (s, usage) = emu
        .api(Method::GET, &format!("/v1/databases/{id}/usage"), None)
        .await?;
    assert_eq!(s, StatusCode::OK, "{usage}");
    let on_disk: u64 = [main, wal, shm]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    assert!(on_disk > 0);
    assert_eq!(usage["storage_bytes"], on_disk);
    assert_eq!(usage["rows_read"], 0);
    assert_eq!(usage["rows_written"], 0);
    assert_eq!(usage["queries"], 0);
    assert_eq!(usage["database_id"], id.as_str());
    assert!(usage["period_start"]
        .as_str()
        .is_some_and(|p| p.ends_with("-01T00:00:00Z")));
    assert!(usage["period_end"]
        .as_str()
        .is_some_and(|p| p.ends_with("-01T00:00:00Z")));

    // Duplicate name: 409.
    let (s, b) = emu
        .api(
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(json!({"name": "orders"})),
        )
        .await?;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");

    // Validation: 422 naming the field.
    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": "ab"}), "name"),
        (json!({"name": "Orders"}), "name"),
        (json!({"name": "1orders"}), "name"),
        (json!({"name": "orders-"}), "name"),
        (json!({"name": "a".repeat(33)}), "name"),
        (json!({"name": 42}), "name"),
        (json!({"name": "okname", "group": "a_b"}), "group"),
        (
            json!({"name": "okname", "size_limit_mb": 0}),
            "size_limit_mb",
        ),
        (
            json!({"name": "okname", "size_limit_mb": 102401}),
            "size_limit_mb",
        ),
        (
            json!({"name": "okname", "size_limit_mb": "big"}),
            "size_limit_mb",
        ),
    ] {
        let (s, b) = emu
            .api(
                Method::POST,
                "/v1/projects/prj_local/databases",
                Some(body.clone()),
            )
            .await?;
        assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(b["error"]["field"], field, "for {body}: {b}");
    }
    // Malformed JSON: 400.
    let resp = emu
        .http
        .post(emu.url("/v1/projects/prj_local/databases"))
        .bearer_auth(&emu.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let b: Value = resp.json().await?;
    assert_eq!(b["error"]["code"], "bad_request");

    // Query tokens: ttl bounds, audience, shape.
    let qt_path = format!("/v1/databases/{id}/query-token");
    for body in [
        json!({"ttl_seconds": 0}),
        json!({"ttl_seconds": 3601}),
        json!({"ttl_seconds": "300"}),
        json!({"ttl_seconds": 1.5}),
        json!({"audience": "sql"}),
    ] {
        let (s, b) = emu.api(Method::POST, &qt_path, Some(body.clone())).await?;
        assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(b["error"]["field"], "ttl_seconds", "for {body}: {b}");
    }
    let (s, b) = emu
        .api(
            Method::POST,
            &qt_path,
            Some(json!({"ttl_seconds": 300, "audience": "bad audience"})),
        )
        .await?;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(b["error"]["field"], "audience");
    let (s, b) = emu
        .api(
            Method::POST,
            &qt_path,
            Some(json!({"ttl_seconds": 300, "audience": "sql-console", "reason": "ad-hoc query"})),
        )
        .await?;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let qt = b["query_token"].as_str().ok_or("no query token")?;
    assert!(qt.starts_with("cqt_") && is_hex(&qt[4..], 48), "{qt}");
    assert!(b["token_id"].as_str().is_some_and(|t| t.starts_with("qt_")));
    assert_eq!(b["database_id"], id.as_str());
    assert_eq!(b["audience"], "sql-console");
    assert_eq!(b["reason"], "ad-hoc query");
    assert_eq!(b["ttl_seconds"], 300);
    assert!(b["expires_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let (s, b) = emu
        .api(Method::POST, &qt_path, Some(json!({"ttl_seconds": 3600})))
        .await?;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["audience"], "sql");
    let qt2 = b["query_token"].as_str().ok_or("no query token")?;
    let admin = emu.admin_db(&id).await?;
    let hashes: Vec<&str> = admin["query_token_hashes"]
        .as_array()
        .ok_or("no hashes")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(hashes, vec![sha256_hex(qt), sha256_hex(qt2)]);

    // Unknown database: 404.
    let (s, b) = emu
        .api(Method::GET, "/v1/databases/db_0000000000000000", None)
        .await?;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    emu.stop().await
}

#[tokio::test]
async fn rotate_replaces_the_stored_hash() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;
    let (id, first) = emu.create_db("orders").await?;
    let before = emu.admin_db(&id).await?;
    assert_eq!(before["token_hash"], sha256_hex(&first));
    let raw_state = std::fs::read(emu.dir.join("emulator.sqlite"))?;
    let raw_wal = std::fs::read(emu.dir.join("emulator.sqlite-wal")).unwrap_or_default();
    for bytes in [&raw_state, &raw_wal] {
        assert!(
            !bytes.windows(first.len()).any(|w| w == first.as_bytes()),
            "raw database token stored"
        );
    }

    let (s, b) = emu
        .api(
            Method::POST,
            &format!("/v1/databases/{id}/token/rotate"),
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["database_id"], id.as_str());
    assert!(b["rotated_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let second = b["database_token"].as_str().ok_or("no token")?;
    assert!(second.starts_with("cdt_") && is_hex(&second[4..], 48));
    assert_ne!(second, first);
    let after = emu.admin_db(&id).await?;
    assert_ne!(after["token_hash"], before["token_hash"]);
    assert_eq!(after["token_hash"], sha256_hex(second));

    // Rotation needs database:write.
    let reader = emu.mint_token(&["database:read"], &["prj_local"]).await?;
    let (s, b) = emu
        .call(
            Method::POST,
            &format!("/v1/databases/{id}/token/rotate"),
            Some(&reader),
            None,
        )
        .await?;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(b["error"]["required_scope"], "database:write");
    emu.stop().await
}

#[tokio::test]
async fn suspend_resume_state_machine() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;
    let (id, _) = emu.create_db("orders").await?;
    let path = |op: &str| format!("/v1/databases/{id}/{op}");

    let (s, b) = emu.api(Method::POST, &path("resume"), None).await?;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let (s, b) = emu.api(Method::POST, &path("suspend"), None).await?;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "suspended");
    assert_eq!(b["database_id"], id.as_str());
    let (s, b) = emu.api(Method::POST, &path("suspend"), None).await?;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");

    // A suspended database can be read, rotated; no query token while suspended.
    let (s, b) = emu
        .api(Method::GET, &format!("/v1/databases/{id}"), None)
        .await?;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["status"], "suspended");
    let (s, _) = emu.api(Method::GET, &path("usage"), None).await?;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = emu.api(Method::POST, &path("token/rotate"), None).await?;
    assert_eq!(s, StatusCode::OK);
    let (s, b) = emu
        .api(
            Method::POST,
            &path("query-token"),
            Some(json!({"ttl_seconds": 60})),
        )
        .await?;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");

    let (s, b) = emu.api(Method::POST, &path("resume"), None).await?;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "active");
    let (s, b) = emu.api(Method::POST, &path("resume"), None).await?;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let (s, b) = emu
        .api(Method::GET, &format!("/v1/databases/{id}"), None)
        .await?;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["status"], "active");

    // Suspend and a suspended delete.
    let (s, _) = emu.api(Method::POST, &path("suspend"), None).await?;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = emu
        .api(Method::DELETE, &format!("/v1/databases/{id}"), None)
        .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    emu.stop().await
}

#[tokio::test]
async fn protected_tenants_are_guarded_after_authorization() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;
    let (id, _) = emu.create_db("louhi-app").await?;
    for (method, op, body) in [
        (Method::POST, "suspend", None),
        (Method::POST, "resume", None),
        (Method::DELETE, "", None),
        (Method::POST, "token/rotate", None),
        (
            Method::POST,
            "query-token",
            Some(json!({"ttl_seconds": 60})),
        ),
    ] {
        let path = if op.is_empty() {
            format!("/v1/databases/{id}")
        } else {
            format!("/v1/databases/{id}/{op}")
        };
        let (s, b) = emu.api(method.clone(), &path, body.clone()).await?;
        assert_error(s, &b, StatusCode::FORBIDDEN, "protected_tenant");
        assert_eq!(b["error"]["database"], id.as_str());

        // The guard is not a substitute for authorization: scope and membership come first.
        let reader = emu.mint_token(&["database:read"], &["prj_local"]).await?;
        let (s, b) = emu
            .call(method.clone(), &path, Some(&reader), body.clone())
            .await?;
        assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
        let outsider = emu.mint_token(&["database:write"], &[]).await?;
        let (s, b) = emu.call(method, &path, Some(&outsider), body).await?;
        assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    }
    let (s, b) = emu
        .api(Method::GET, &format!("/v1/databases/{id}"), None)
        .await?;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "active");
    let (s, _) = emu
        .api(Method::GET, &format!("/v1/databases/{id}/usage"), None)
        .await?;
    assert_eq!(s, StatusCode::OK);
    let admin = emu.admin_db(&id).await?;
    assert_eq!(admin["deleted"], false);
    assert_eq!(admin["file_exists"], true);
    emu.stop().await
}

#[tokio::test]
async fn protected_tenants_from_env_match_names_and_ids() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start_with(
        &tmp.path().join("state"),
        &[("PLATFORM_API_PROTECTED_TENANTS", " critical-db , other ")],
    )
    .await?;
    // louhi-app is no longer protected; critical-db is.
    let (louhi, _) = emu.create_db("louhi-app").await?;
    let (s, _) = emu
        .api(
            Method::POST,
            &format!("/v1/databases/{louhi}/suspend"),
            None,
        )
        .await?;
    assert_eq!(s, StatusCode::OK);
    let (critical, _) = emu.create_db("critical-db").await?;
    let (s, b) = emu
        .api(
            Method::POST,
            &format!("/v1/databases/{critical}/suspend"),
            None,
        )
        .await?;
    assert_error(s, &b, StatusCode::FORBIDDEN, "protected_tenant");
    emu.stop().await
}

#[tokio::test]
async fn delete_removes_files_and_frees_the_name() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;
    let (id, _) = emu.create_db("orders").await?;
    let files = emu.db_files(&id);
    assert!(files[0].exists());
    let (s, b) = emu
        .api(Method::DELETE, &format!("/v1/databases/{id}"), None)
        .await?;
    assert_eq!(s, StatusCode::NO_CONTENT, "{b}");
    assert_eq!(b, Value::Null, "no body");
    for f in &files {
        assert!(!f.exists(), "{} still exists", f.display());
    }
    for (method, path) in [
        (Method::GET, format!("/v1/databases/{id}")),
        (Method::GET, format!("/v1/databases/{id}/usage")),
        (Method::DELETE, format!("/v1/databases/{id}")),
        (Method::POST, format!("/v1/databases/{id}/suspend")),
        (Method::POST, format!("/v1/databases/{id}/token/rotate")),
    ] {
        let (s, b) = emu.api(method, &path, None).await?;
        assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    }
    let (_, list) = emu
        .api(Method::GET, "/v1/projects/prj_local/databases", None)
        .await?;
    assert_eq!(list["databases"], json!([]));
    let admin = emu.admin_db(&id).await?;
    assert_eq!(admin["deleted"], true);
    assert_eq!(admin["file_exists"], false);

    // The name can be reused by a new database.
    let (again, _) = emu.create_db("orders").await?;
    assert_ne!(again, id);
    assert_eq!(emu.admin_dbs_named("orders").await?.len(), 2);
    emu.stop().await
}

#[tokio::test]
async fn state_survives_a_restart() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("state");
    let emu = Emu::start(&dir).await?;
    let (id, _) = emu.create_db("orders").await?;
    let (s, _) = emu
        .api(Method::POST, &format!("/v1/databases/{id}/suspend"), None)
        .await?;
    assert_eq!(s, StatusCode::OK);
    let (gone, _) = emu.create_db("scratch").await?;
    let (s, _) = emu
        .api(Method::DELETE, &format!("/v1/databases/{gone}"), None)
        .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let before = emu.admin_db(&id).await?;
    let token = emu.token.clone();
    emu.stop().await?;

    let emu = Emu::start(&dir).await?;
    assert_eq!(emu.token, token, "bootstrap token is kept, not re-issued");
    let (s, b) = emu
        .api(Method::GET, &format!("/v1/databases/{id}"), None)
        .await?;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "suspended");
    assert_eq!(b["name"], "orders");
    assert_eq!(b["database_url"], format!("{}/db/{id}/", emu.base));
    let (s, _) = emu
        .api(Method::GET, &format!("/v1/databases/{gone}"), None)
        .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let after = emu.admin_db(&id).await?;
    assert_eq!(after["token_hash"], before["token_hash"]);
    let (s, _) = emu
        .api(Method::POST, &format!("/v1/databases/{id}/resume"), None)
        .await?;
    assert_eq!(s, StatusCode::OK);

    // A crash (SIGKILL) loses nothing that was answered.
    let (crash, _) = emu.create_db("after-crash").await?;
    let mut emu = emu;
    emu.inner.kill();
    drop(emu);
    let emu = Emu::start(&dir).await?;
    let (s, b) = emu
        .api(Method::GET, &format!("/v1/databases/{crash}"), None)
        .await?;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["status"], "active");
    let (_, list) = emu
        .api(Method::GET, "/v1/projects/prj_local/databases", None)
        .await?;
    assert_eq!(
        list["databases"].as_array().map(Vec::len),
        Some(2),
        "{list}"
    );
    emu.stop().await
}

#[tokio::test]
async fn bootstrap_token_and_admin_secret_from_env() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("state");
    let token = "cwt_0123456789abcdef0123456789abcdef";
    let emu = Emu::start_with(
        &dir,
        &[
            ("COMWIT_EMULATOR_BOOTSTRAP_TOKEN", token),
            ("COMWIT_EMULATOR_ADMIN_SECRET", "s3cret"),
        ],
    )
    .await?;
    assert_eq!(emu.token, token);
    assert_eq!(emu.admin_secret, "s3cret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["bootstrap-token", "admin-secret"] {
            let mode = std::fs::metadata(dir.join(f))?.permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
    let (s, _) = emu.api(Method::GET, "/v1/projects", None).await?;
    assert_eq!(s, StatusCode::OK);
    let state = std::fs::read(dir.join("emulator.sqlite"))?;
    let wal = std::fs::read(dir.join("emulator.sqlite-wal")).unwrap_or_default();
    for bytes in [&state, &wal] {
        assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()));
    }
    emu.stop().await?;

    // An invalid bootstrap token refuses to start.
    let status = std::process::Command::new(crate::support::emulator_binary("platform-emulator"))
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(tmp.path().join("other"))
        .env("COMWIT_EMULATOR_BOOTSTRAP_TOKEN", "cwt_short")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    assert!(!status.success());
    Ok(())
}

#[tokio::test]
async fn idempotency_key_replays_the_create() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;
    let token = emu.token.clone();
    let create = |key: &'static str, name: &'static str| {
        let emu = &emu;
        let token = token.clone();
        async move {
            emu.call_with(
                &emu.http,
                Method::POST,
                "/v1/projects/prj_local/databases",
                Some(&token),
                Some(json!({ "name": name })),
                &[("Idempotency-Key", key)],
            )
            .await
        }
    };
    let (s, _, first) = create("key-1", "orders").await?;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let (s, _, again) = create("key-1", "orders").await?;
    assert_eq!(s, StatusCode::OK, "{again}");
    let id = first["database"]["database_id"].as_str().ok_or("no id")?;
    assert_eq!(again["database"]["database_id"], id);
    assert_eq!(
        again["database"]["created_at"],
        first["database"]["created_at"]
    );
    let old = first["database_token"].as_str().ok_or("no token")?;
    let new = again["database_token"].as_str().ok_or("no token")?;
    assert_ne!(old, new, "a fresh token is issued");
    let dbs = emu.admin_dbs_named("orders").await?;
    assert_eq!(dbs.len(), 1, "only one database exists: {dbs:?}");
    assert_eq!(
        dbs[0]["token_hash"],
        sha256_hex(new),
        "old token invalidated"
    );

    // Same key, different body: 422 on the key.
    let (s, _, b) = create("key-1", "invoices").await?;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(b["error"]["field"], "Idempotency-Key");
    // Another key is a new create: the name is taken.
    let (s, _, b) = create("key-2", "orders").await?;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    // The same key from another token is not a replay.
    let other = emu
        .mint_token(&["database:write", "database:read"], &["prj_local"])
        .await?;
    let (s, _, b) = emu
        .call_with(
            &emu.http,
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(&other),
            Some(json!({"name": "orders"})),
            &[("Idempotency-Key", "key-1")],
        )
        .await?;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    // Malformed keys.
    let long = "k".repeat(65);
    let (s, _, b) = emu
        .call_with(
            &emu.http,
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(&token),
            Some(json!({"name": "fresh"})),
            &[("Idempotency-Key", long.as_str())],
        )
        .await?;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(b["error"]["field"], "Idempotency-Key");

    // After a delete, the key is forgotten: the replay creates a new database.
    let (s, _) = emu
        .api(Method::DELETE, &format!("/v1/databases/{id}"), None)
        .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _, b) = create("key-1", "orders").await?;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_ne!(b["database"]["database_id"], id);
    emu.stop().await
}

#[tokio::test]
async fn fault_injection() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;

    // rate_limit: 429, Retry-After, error body; fires once by default.
    emu.set_faults(json!([
        {"method": "GET", "path_prefix": "/v1/projects", "kind": "rate_limit", "retry_after": 7}
    ]))
    .await?;
    let token = emu.token.clone();
    let (s, h, b) = emu
        .call_with(
            &emu.http,
            Method::GET,
            "/v1/projects",
            Some(&token),
            None,
            &[],
        )
        .await?;
    assert_error(s, &b, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(
        h.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("7")
    );
    let (s, _) = emu.api(Method::GET, "/v1/projects", None).await?;
    assert_eq!(s, StatusCode::OK);

    // error: the status without the work, after `skip` requests passed.
    emu.set_faults(json!([
        {"method": "POST", "path_prefix": "/v1/projects/", "kind": "error", "status": 503,
         "skip": 1, "times": 2}
    ]))
    .await?;
    emu.create_db("first").await?;
    for name in ["second", "second"] {
        let (s, b) = emu
            .api(
                Method::POST,
                "/v1/projects/prj_local/databases",
                Some(json!({ "name": name })),
            )
            .await?;
        assert_error(s, &b, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    }
    assert!(
        emu.admin_dbs_named("second").await?.is_empty(),
        "no work done"
    );
    emu.create_db("second").await?;

    // drop: a connection error, and no work done.
    emu.set_faults(json!([{"method": "POST", "kind": "drop"}]))
        .await?;
    let fresh = client();
    let err = emu
        .call_with(
            &fresh,
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(&token),
            Some(json!({"name": "dropped"})),
            &[("Idempotency-Key", "drop-1")],
        )
        .await;
    assert!(err.is_err(), "expected a connection error, got {err:?}");
    assert!(
        emu.admin_dbs_named("dropped").await?.is_empty(),
        "drop did work"
    );

    // lose_response: the work is committed, the client sees a connection error, and a
    // replay with the same Idempotency-Key recovers the database.
    emu.set_faults(
        json!([{"method": "POST", "path_prefix": "/v1/projects/prj_local/databases",
                           "kind": "lose_response"}]),
    )
    .await?;
    let fresh = client();
    let err = emu
        .call_with(
            &fresh,
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(&token),
            Some(json!({"name": "lost"})),
            &[("Idempotency-Key", "lost-1")],
        )
        .await;
    assert!(err.is_err(), "expected a connection error, got {err:?}");
    let lost = emu.admin_dbs_named("lost").await?;
    assert_eq!(lost.len(), 1, "lose_response must commit");
    assert_eq!(lost[0]["file_exists"], true);
    let (s, _, b) = emu
        .call_with(
            &fresh,
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(&token),
            Some(json!({"name": "lost"})),
            &[("Idempotency-Key", "lost-1")],
        )
        .await?;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["database"]["database_id"], lost[0]["database_id"]);

    // latency delays; admin routes are never faulted; the rule list can be read and cleared.
    emu.set_faults(json!([
        {"kind": "latency", "latency_ms": 300, "path_prefix": "/v1/projects"},
        {"kind": "drop", "times": 5}
    ]))
    .await?;
    let (s, b) = emu.admin(Method::GET, "/_emulator/faults", None).await?;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["rules"][1]["remaining_times"], 5);
    let (s, _) = emu.admin(Method::GET, "/_emulator/stats", None).await?;
    assert_eq!(s, StatusCode::OK, "admin routes are not faulted");
    let started = std::time::Instant::now();
    let r = emu
        .call_with(
            &client(),
            Method::GET,
            "/v1/projects",
            Some(&token),
            None,
            &[],
        )
        .await;
    assert!(r.is_err(), "latency then drop");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let (s, _) = emu.admin(Method::DELETE, "/_emulator/faults", None).await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, b) = emu.admin(Method::GET, "/_emulator/faults", None).await?;
    assert_eq!(b["rules"], json!([]));
    let (s, _) = emu.api(Method::GET, "/v1/projects", None).await?;
    assert_eq!(s, StatusCode::OK);

    // Invalid rules: 422 naming the field; nothing replaced.
    let (s, b) = emu
        .admin(
            Method::PUT,
            "/_emulator/faults",
            Some(json!({"rules": [{"kind": "error", "status": 418}]})),
        )
        .await?;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(b["error"]["field"], "rules[0].status");
    emu.stop().await
}

#[tokio::test]
async fn faults_from_env() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start_with(
        &tmp.path().join("state"),
        &[(
            "COMWIT_EMULATOR_FAULTS",
            r#"{"rules":[{"kind":"error","status":500,"path_prefix":"/v1/projects"}]}"#,
        )],
    )
    .await?;
    let (s, b) = emu.api(Method::GET, "/v1/projects", None).await?;
    assert_error(s, &b, StatusCode::INTERNAL_SERVER_ERROR, "internal");
    let (s, _) = emu.api(Method::GET, "/v1/projects", None).await?;
    assert_eq!(s, StatusCode::OK);
    emu.stop().await
}

#[tokio::test]
async fn stats_count_requests_and_connections() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;
    let (s, _) = emu
        .admin(Method::POST, "/_emulator/stats/reset", None)
        .await?;
    assert_eq!(s, StatusCode::OK);

    // One keep-alive client: three requests over one connection.
    let keep_alive = client();
    let token = emu.token.clone();
    for _ in 0..3 {
        let (s, _, _) = emu
            .call_with(
                &keep_alive,
                Method::GET,
                "/v1/projects",
                Some(&token),
                None,
                &[],
            )
            .await?;
        assert_eq!(s, StatusCode::OK);
    }
    let (_, stats) = emu.admin(Method::GET, "/_emulator/stats", None).await?;
    assert_eq!(stats["requests"], 3, "{stats}");
    assert_eq!(stats["connections"], 1, "{stats}");
    assert_eq!(stats["by_route"]["GET /v1/projects"], 3, "{stats}");

    // A client without pooling: one connection per request.
    let no_pool = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()?;
    let (s, _, _) = emu
        .call_with(
            &no_pool,
            Method::GET,
            "/v1/projects/prj_local",
            Some(&token),
            None,
            &[],
        )
        .await?;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = emu
        .call_with(
            &no_pool,
            Method::GET,
            "/v1/databases/db_0000000000000000",
            Some(&token),
            None,
            &[],
        )
        .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, stats) = emu.admin(Method::GET, "/_emulator/stats", None).await?;
    assert_eq!(stats["requests"], 5, "{stats}");
    assert_eq!(stats["connections"], 3, "{stats}");
    assert_eq!(
        stats["by_route"]["GET /v1/projects/{project}"], 1,
        "{stats}"
    );
    assert_eq!(
        stats["by_route"]["GET /v1/databases/{database}"], 1,
        "{stats}"
    );

    let (s, stats) = emu
        .admin(Method::POST, "/_emulator/stats/reset", None)
        .await?;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(stats["requests"], 0);
    assert_eq!(stats["connections"], 0);
    assert_eq!(stats["by_route"], json!({}));
    emu.stop().await
}

/// Issue 10, item 17: a client that never finishes its request head is disconnected
/// after the header-read timeout (10 s), instead of holding a connection forever; a
/// well-behaved client meanwhile is served.
#[test]
fn a_half_sent_request_head_is_disconnected() {
    use std::io::{Read, Write};
    let emu = Emulator::start();
    let addr = emu
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).expect("connect");
    slow.write_all(b"GET /v1/projects HTTP/1.1\r\nHost: x\r\n")
        .expect("half a head");
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let started = std::time::Instant::now();
    let (status, _) = emu.api(Method::GET, "/v1/projects", None);
    assert_eq!(status, 200, "others are served meanwhile");
    let mut buf = [0u8; 512];
    // The server closes (0 bytes, maybe after a 408 answer) or resets the connection.
    loop {
        match slow.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => continue,
        }
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(25),
        "closed after {waited:?}"
    );
}

/// The emulator's old command name says where the new one is and runs it with the same
/// arguments (for one release).
#[test]
fn the_old_command_name_points_at_the_new_one_and_runs_it() -> TestResult {
    let out = std::process::Command::new(crate::support::emulator_binary("comwit-emulator"))
        .arg("--help")
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stderr.contains("this command is now `platform-emulator`"),
        "{stderr}"
    );
    let new = std::process::Command::new(crate::support::emulator_binary("platform-emulator"))
        .arg("--help")
        .output()?;
    assert_eq!(out.status.code(), new.status.code());
    assert_eq!(
        stdout,
        String::from_utf8_lossy(&new.stdout),
        "the same program ran"
    );
    assert!(
        format!("{stdout}{stderr}").contains("usage: platform-emulator"),
        "{stdout}{stderr}"
    );
    Ok(())
}

/// The names of the first `count` listening lines a `platform-emulator` prints (lines come
/// once every served platform listens), then stops it.
fn listening_names(
    args: &[&str],
    count: usize,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    use std::io::BufRead;
    let state = tempfile::tempdir()?;
    let mut child =
        std::process::Command::new(crate::support::emulator_binary("platform-emulator"))
            .args(args)
            .arg("--state-dir")
            .arg(state.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let names: Vec<String> = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| {
            let rest = line.strip_prefix("platform-emulator: ")?;
            Some(rest.split(' ').next()?.to_owned())
        })
        .take(count)
        .collect();
    child.kill()?;
    child.wait()?;
    Ok(names)
}

/// `--serve` alone decides what runs: none serves Comwit (with its app gateway and DNS
/// server), `--serve cloudsync=ADDR` serves CloudSync alone, and two flags serve both, in
/// the registry's order whatever the order of the flags.
#[test]
fn serve_flags_decide_which_platforms_run() -> TestResult {
    let free = [
        "--apps-listen",
        "127.0.0.1:0",
        "--dns-listen",
        "127.0.0.1:0",
    ];
    let mut comwit_alone = vec!["--listen", "127.0.0.1:0"];
    comwit_alone.extend(free);
    assert_eq!(
        listening_names(&comwit_alone, 3)?,
        ["comwit", "comwit-apps", "comwit-dns"]
    );
    assert_eq!(
        listening_names(&["--serve", "cloudsync=127.0.0.1:0"], 1)?,
        ["cloudsync"]
    );
    let mut both = vec![
        "--serve",
        "cloudsync=127.0.0.1:0",
        "--serve",
        "comwit=127.0.0.1:0",
    ];
    both.extend(free);
    assert_eq!(
        listening_names(&both, 4)?,
        ["comwit", "comwit-apps", "comwit-dns", "cloudsync"]
    );
    Ok(())
}

/// Handlers take the path, token and body from extractors, in the contract's order of
/// checks: an unreadable path segment (404) before the token (401), the token before a
/// malformed body, the scope (403) and an unknown project (404) before it too, then the
/// body (400).
#[tokio::test]
async fn extractors_keep_the_order_of_checks() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let emu = Emu::start(&tmp.path().join("state")).await?;
    let (s, b) = emu
        .call(Method::GET, "/v1/databases/%FF", None, None)
        .await?;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let reader = emu.mint_token(&["project:read"], &["prj_local"]).await?;
    let malformed = |token: Option<String>, path: &str| {
        let url = emu.url(path);
        let http = emu.http.clone();
        async move {
            support::emulator::send(
                &http,
                Method::POST,
                &url,
                token.as_deref(),
                &[("content-type", "application/json")],
                Some(b"{not json".to_vec()),
            )
            .await
            .map(|r| (r.status, r.body))
        }
    };
    let create = "/v1/projects/prj_local/databases";
    let (s, b) = malformed(None, create).await?;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, b) = malformed(Some(reader), create).await?;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = malformed(Some(emu.token.clone()), "/v1/projects/prj_nope/databases").await?;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = malformed(Some(emu.token.clone()), create).await?;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    Ok(())
}
