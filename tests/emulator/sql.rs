//! SQL over the database URL: the real `platform-emulator` binary serving Hrana over HTTP on
//! each database's `database_url`, tested at the protocol level with reqwest and end to end
//! with the official libSQL client (`@libsql/client`, driven by `tests/sql_client/client.mjs`
//! under Node.js).

use crate::support;

use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::sql_client::node;
use support::Emulator;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A database created through the public API.
#[derive(Debug, Clone)]
struct Db {
    id: String,
    url: String,
    token: String,
}

/// The emulator plus an async HTTP client (the support helper's own HTTP helpers block).
struct Sql {
    emu: Emulator,
    http: reqwest::Client,
}

impl Sql {
    fn start() -> Sql {
        Sql {
            emu: Emulator::start(),
            http: support::emulator::http_client(),
        }
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let reply = support::emulator::send(&self.http, method, url, None, headers, body)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        (reply.status, reply.body)
    }

    /// A product API request with the bootstrap token.
    async fn api(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let auth = format!("Bearer {}", self.emu.token());
        let body = body.map(|b| b.to_string().into_bytes());
        self.send(
            method,
            &format!("{}{path}", self.emu.url()),
            &[("authorization", &auth)],
            body,
        )
        .await
    }

    async fn api_ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.api(method.clone(), path, body).await;
        assert!(
            status.is_success(),
            "{method} {path} answered {status}: {body:#}"
        );
        body
    }

    async fn admin_database(&self, id: &str) -> Value {
        let (status, body) = self
            .send(
                Method::GET,
                &format!("{}/_emulator/databases", self.emu.url()),
                &[("x-emulator-admin", self.emu.admin_secret())],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body:#}");
        body["databases"]
            .as_array()
            .and_then(|dbs| dbs.iter().find(|d| d["database_id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("database {id} not in the admin view: {body:#}"))
    }

    async fn create_db(&self, name: &str) -> Db {
        let body = self
            .api_ok(
                Method::POST,
                "/v1/projects/prj_local/databases",
                Some(json!({ "name": name })),
            )
            .await;
        let db = &body["database"];
        Db {
            id: str_of(&db["database_id"]),
            url: str_of(&db["database_url"]),
            token: str_of(&body["database_token"]),
        }
    }

    async fn query_token(&self, db: &Db, ttl: u64, audience: &str) -> String {
        let body = self
            .api_ok(
                Method::POST,
                &format!("/v1/databases/{}/query-token", db.id),
                Some(json!({"ttl_seconds": ttl, "audience": audience})),
            )
            .await;
        str_of(&body["query_token"])
    }

    /// `POST {database_url}{endpoint}` with `token` (none when `None`).
    async fn post(
        &self,
        db: &Db,
        endpoint: &str,
        token: Option<&str>,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        self.send(
            Method::POST,
            &format!("{}{endpoint}", db.url),
            &headers,
            Some(body),
        )
        .await
    }

    /// A v3 pipeline on the stream `baton` (a new one when `None`).
    async fn pipeline(
        &self,
        db: &Db,
        token: &str,
        baton: Option<&str>,
        requests: Value,
    ) -> (StatusCode, Value) {
        let body = json!({"baton": baton, "requests": requests});
        self.post(
            db,
            "v3/pipeline",
            Some(token),
            body.to_string().into_bytes(),
        )
        .await
    }

    /// Runs one statement on a fresh stream (closed in the same request); returns its
    /// `StmtResult`, panicking on any error.
    async fn exec(&self, db: &Db, token: &str, stmt: Value) -> Value {
        let (status, body) = self
            .pipeline(
                db,
                token,
                None,
                json!([{"type": "execute", "stmt": stmt}, {"type": "close"}]),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{stmt}: {body:#}");
        assert_eq!(body["results"][0]["type"], "ok", "{stmt}: {body:#}");
        assert_eq!(body["baton"], Value::Null, "the stream was closed");
        body["results"][0]["response"]["result"].clone()
    }

    async fn exec_sql(&self, db: &Db, token: &str, sql: &str) -> Value {
        self.exec(db, token, json!({"sql": sql})).await
    }

    /// `SELECT count(*) FROM table` with the database token.
    async fn count(&self, db: &Db, table: &str) -> i64 {
        let result = self
            .exec_sql(db, &db.token, &format!("SELECT count(*) FROM {table}"))
            .await;
        int_of(&result["rows"][0][0])
    }
}

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_owned()
}

fn int_of(v: &Value) -> i64 {
    assert_eq!(v["type"], "integer", "{v}");
    str_of(&v["value"])
        .parse()
        .unwrap_or_else(|e| panic!("{v}: {e}"))
}

fn text_value(s: &str) -> Value {
    json!({"type": "text", "value": s})
}

fn int_value(i: i64) -> Value {
    json!({"type": "integer", "value": i.to_string()})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_shape_and_version_routes() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("shape").await;
    assert_eq!(db.url, format!("{}/db/{}/", sql.emu.url(), db.id));

    for (path, status) in [
        ("v2", StatusCode::OK),
        ("v3", StatusCode::OK),
        ("health", StatusCode::OK),
        ("version", StatusCode::OK),
        ("v3-protobuf", StatusCode::OK),
        ("v1", StatusCode::OK),
        ("nothing", StatusCode::NOT_FOUND),
    ] {
        let (got, body) = sql
            .send(Method::GET, &format!("{}{path}", db.url), &[], None)
            .await;
        assert_eq!(got, status, "GET {path}: {body}");
    }
    let (_, body) = sql
        .send(Method::GET, &format!("{}v2", db.url), &[], None)
        .await;
    assert!(
        body.as_str().unwrap_or("").contains("HTTP API v2"),
        "{body}"
    );
    let (_, body) = sql
        .send(Method::GET, &format!("{}version", db.url), &[], None)
        .await;
    assert!(body.as_str().unwrap_or("").contains("sqld"), "{body}");
    let (status, _) = sql
        .send(Method::GET, &format!("{}v2/pipeline", db.url), &[], None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    let unknown = format!("{}/db/db_00000000000000ff/v2", sql.emu.url());
    let (status, body) = sql.send(Method::GET, &unknown, &[], None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"], "Namespace `db_00000000000000ff` doesn't exist",
        "{body}"
    );

    // A client that appends `/v2/pipeline` to the URL (a double slash) works too.
    let doubled = Db {
        url: format!("{}/", db.url),
        ..db.clone()
    };
    let result = sql.exec_sql(&doubled, &db.token, "SELECT 1").await;
    assert_eq!(int_of(&result["rows"][0][0]), 1);
    // The v2 endpoint serves the same requests.
    let body = json!({"baton": null, "requests": [
        {"type": "execute", "stmt": {"sql": "SELECT 2"}}, {"type": "close"}]});
    let (status, body) = sql
        .post(
            &db,
            "v2/pipeline",
            Some(&db.token),
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(
        int_of(&body["results"][0]["response"]["result"]["rows"][0][0]),
        2
    );
    // Without the final slash a client resolves `v2/pipeline` to `/db/v2/pipeline`: the
    // database is then the token's; with no token, the answer says why.
    let (status, body) = sql
        .send(
            Method::POST,
            &format!("{}/db/v2/pipeline", sql.emu.url()),
            &[],
            Some(b"{}".to_vec()),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body:#}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("without its final `/`"),
        "{body:#}"
    );

    let stats = sql
        .send(
            Method::GET,
            &format!("{}/_emulator/stats", sql.emu.url()),
            &[("x-emulator-admin", sql.emu.admin_secret())],
            None,
        )
        .await
        .1;
    assert!(
        stats["by_route"]["POST /db/{database}/v3/pipeline"].as_u64() >= Some(1),
        "{stats:#}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn execute_round_trips_values_and_arguments() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("values").await;
    let t = db.token.as_str();
    sql.exec_sql(
        &db,
        t,
        "CREATE TABLE vals (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, n)",
    )
    .await;

    let blob = [0u8, 1, 2, 254, 255];
    let blob_b64 = STANDARD_NO_PAD.encode(blob);
    let values = json!([
        {"type": "integer", "value": "9223372036854775807"},
        {"type": "float", "value": 3.25},
        {"type": "text", "value": "héllo ✓ \"quoted\""},
        {"type": "blob", "base64": blob_b64},
        {"type": "null"}
    ]);
    let inserted = sql
        .exec(
            &db,
            t,
            json!({"sql": "INSERT INTO vals (i, r, s, b, n) VALUES (?, ?, ?, ?, ?)", "args": values}),
        )
        .await;
    assert_eq!(inserted["affected_row_count"], 1, "{inserted:#}");
    assert_eq!(inserted["last_insert_rowid"], "1");
    assert_eq!(inserted["rows_written"], 1);
    assert_eq!(inserted["rows"], json!([]));

    // Named arguments: with their prefix, or without it (the server finds `:r`).
    let named = sql
        .exec(
            &db,
            t,
            json!({
                "sql": "INSERT INTO vals (i, r, s, b, n) VALUES (:i, :r, @s, $b, NULL)",
                "named_args": [
                    {"name": ":i", "value": {"type": "integer", "value": "-42"}},
                    {"name": "r", "value": {"type": "float", "value": -0.5}},
                    {"name": "@s", "value": {"type": "text", "value": ""}},
                    {"name": "$b", "value": {"type": "blob", "base64": ""}}
                ]
            }),
        )
        .await;
    assert_eq!(named["last_insert_rowid"], "2");

    let selected = sql
        .exec_sql(&db, t, "SELECT i, r, s, b, n FROM vals ORDER BY id")
        .await;
    let names: Vec<&str> = selected["cols"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["i", "r", "s", "b", "n"]);
    assert_eq!(selected["cols"][0]["decltype"], "INTEGER");
    assert_eq!(selected["cols"][1]["decltype"], "REAL");
    assert_eq!(selected["cols"][2]["decltype"], "TEXT");
    assert_eq!(selected["cols"][3]["decltype"], "BLOB");
    assert_eq!(selected["rows"][0], values, "{selected:#}");
    assert_eq!(
        selected["rows"][1],
        json!([
            {"type": "integer", "value": "-42"},
            {"type": "float", "value": -0.5},
            {"type": "text", "value": ""},
            {"type": "blob", "base64": ""},
            {"type": "null"}
        ])
    );
    assert_eq!(selected["affected_row_count"], 0);
    assert_eq!(selected["last_insert_rowid"], Value::Null);
    assert!(selected["rows_read"].as_u64() >= Some(2), "{selected:#}");
    assert!(selected["query_duration_ms"].is_number());

    // want_rows: false runs the statement but returns no rows.
    let quiet = sql
        .exec(
            &db,
            t,
            json!({"sql": "SELECT * FROM vals", "want_rows": false}),
        )
        .await;
    assert_eq!(quiet["rows"], json!([]));
    assert_eq!(quiet["cols"].as_array().map(Vec::len), Some(6));

    // Statement errors are results: the pipeline goes on.
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([
                {"type": "execute", "stmt": {"sql": "SELECT ?"}},
                {"type": "execute", "stmt": {"sql": "INSERT INTO vals (id) VALUES (1)"}},
                {"type": "execute", "stmt": {"sql": "SELECT * FROM missing"}},
                {"type": "execute", "stmt": {"sql": "SELECT 1; SELECT 2"}},
                {"type": "execute", "stmt": {"sql": "SELECT ?", "args": [int_value(1)],
                    "named_args": [{"name": "a", "value": int_value(2)}]}},
                {"type": "execute", "stmt": {"sql": "SELECT 7"}},
                {"type": "close"}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let codes: Vec<Value> = body["results"]
        .as_array()
        .map(|r| r.iter().map(|r| r["error"]["code"].clone()).collect())
        .unwrap_or_default();
    assert_eq!(
        codes,
        [
            json!("ARGS_INVALID"),
            json!("SQLITE_CONSTRAINT"),
            json!("SQLITE_UNKNOWN"),
            json!("SQL_MANY_STATEMENTS"),
            json!("ARGS_BOTH_POSITIONAL_AND_NAMED"),
            Value::Null,
            Value::Null
        ],
        "{body:#}"
    );
    assert!(body["results"][1]["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("UNIQUE constraint failed"));
    assert_eq!(
        int_of(&body["results"][5]["response"]["result"]["rows"][0][0]),
        7
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_conditions_skip_dependent_steps() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("batches").await;
    let t = db.token.as_str();
    let steps = json!([
        {"stmt": {"sql": "CREATE TABLE b (k INTEGER PRIMARY KEY, v TEXT)"}},
        {"stmt": {"sql": "INSERT INTO b VALUES (1, 'one')"}, "condition": {"type": "ok", "step": 0}},
        {"stmt": {"sql": "INSERT INTO b VALUES (1, 'dup')"}, "condition": {"type": "ok", "step": 1}},
        {"stmt": {"sql": "INSERT INTO b VALUES (3, 'after dup')"}, "condition": {"type": "ok", "step": 2}},
        {"stmt": {"sql": "INSERT INTO b VALUES (4, 'on error')"}, "condition": {"type": "error", "step": 2}},
        {"stmt": {"sql": "INSERT INTO b VALUES (5, 'error of skipped')"}, "condition": {"type": "error", "step": 3}},
        {"stmt": {"sql": "INSERT INTO b VALUES (6, 'not ok')"}, "condition": {"type": "not", "cond": {"type": "ok", "step": 3}}},
        {"stmt": {"sql": "INSERT INTO b VALUES (7, 'and')"}, "condition": {"type": "and", "conds": [
            {"type": "ok", "step": 1}, {"type": "error", "step": 2}]}},
        {"stmt": {"sql": "INSERT INTO b VALUES (8, 'or')"}, "condition": {"type": "or", "conds": [
            {"type": "ok", "step": 2}, {"type": "ok", "step": 3}]}},
        {"stmt": {"sql": "INSERT INTO b VALUES (9, 'autocommit')"}, "condition": {"type": "is_autocommit"}},
        {"stmt": {"sql": "SELECT k FROM b ORDER BY k"}}
    ]);
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([{"type": "batch", "batch": {"steps": steps}}, {"type": "close"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let result = &body["results"][0]["response"]["result"];
    let ran: Vec<&str> = (0..11)
        .map(|i| {
            match (
                result["step_results"][i].is_null(),
                result["step_errors"][i].is_null(),
            ) {
                (false, true) => "ok",
                (true, false) => "error",
                (true, true) => "skipped",
                _ => "both?",
            }
        })
        .collect();
    assert_eq!(
        ran,
        ["ok", "ok", "error", "skipped", "ok", "skipped", "ok", "ok", "skipped", "ok", "ok"],
        "{result:#}"
    );
    assert_eq!(result["step_errors"][2]["code"], "SQLITE_CONSTRAINT");
    let keys: Vec<i64> = result["step_results"][10]["rows"]
        .as_array()
        .map(|rows| rows.iter().map(|r| int_of(&r[0])).collect())
        .unwrap_or_default();
    assert_eq!(keys, [1, 4, 6, 7, 9]);

    // A transactional batch as the libSQL clients build it; a failing step rolls back.
    let tx = json!([
        {"stmt": {"sql": "BEGIN"}},
        {"stmt": {"sql": "INSERT INTO b VALUES (20, 'in tx')"}, "condition": {"type": "ok", "step": 0}},
        {"stmt": {"sql": "INSERT INTO b VALUES (1, 'dup')"}, "condition": {"type": "ok", "step": 1}},
        {"stmt": {"sql": "COMMIT"}, "condition": {"type": "ok", "step": 2}},
        {"stmt": {"sql": "ROLLBACK"}, "condition": {"type": "not", "cond": {"type": "ok", "step": 3}}}
    ]);
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([{"type": "batch", "batch": {"steps": tx}}, {"type": "close"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let result = &body["results"][0]["response"]["result"];
    assert!(result["step_results"][3].is_null() && result["step_errors"][3].is_null());
    assert!(
        !result["step_results"][4].is_null(),
        "ROLLBACK ran: {result:#}"
    );
    assert_eq!(sql.count(&db, "b WHERE k = 20").await, 0);

    // The cursor endpoint gives the same outcomes as lines of JSON.
    let body = json!({"baton": null, "batch": {"steps": [
        {"stmt": {"sql": "SELECT v FROM b WHERE k <= 4 ORDER BY k"}},
        {"stmt": {"sql": "INSERT INTO b VALUES (1, 'dup')"}},
        {"stmt": {"sql": "SELECT 1"}, "condition": {"type": "ok", "step": 1}}
    ]}});
    let resp = sql
        .http
        .post(format!("{}v3/cursor", db.url))
        .bearer_auth(t)
        .body(body.to_string())
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await?;
    let lines: Vec<Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    assert!(lines[0]["baton"].is_string(), "{text}");
    let kinds: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l["type"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(
        kinds,
        ["step_begin", "row", "row", "step_end", "step_error"],
        "{text}"
    );
    assert_eq!(lines[2]["row"][0], text_value("one"));

    // A condition naming a later step is a protocol error: nothing in the batch runs.
    let bad = json!([{"type": "batch", "batch": {"steps": [
        {"stmt": {"sql": "INSERT INTO b VALUES (30, 'never')"}},
        {"stmt": {"sql": "SELECT 1"}, "condition": {"type": "ok", "step": 5}}
    ]}}]);
    let (status, body) = sql.pipeline(&db, t, None, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(body["code"], "PROTOCOL_ERROR");
    assert_eq!(sql.count(&db, "b WHERE k = 30").await, 0);

    // is_autocommit needs protocol version 3.
    let v2 = json!({"baton": null, "requests": [{"type": "batch", "batch": {"steps": [
        {"stmt": {"sql": "SELECT 1"}, "condition": {"type": "is_autocommit"}}]}}]});
    let (status, _) = sql
        .post(&db, "v2/pipeline", Some(t), v2.to_string().into_bytes())
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baton_streams_carry_a_transaction() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("batons").await;
    let t = db.token.as_str();
    sql.exec_sql(&db, t, "CREATE TABLE s (a INTEGER)").await;

    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([{"type": "execute", "stmt": {"sql": "BEGIN"}}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["base_url"], Value::Null);
    let baton1 = str_of(&body["baton"]);

    let (status, body) = sql
        .pipeline(
            &db,
            t,
            Some(&baton1),
            json!([
                {"type": "execute", "stmt": {"sql": "INSERT INTO s VALUES (1)"}},
                {"type": "get_autocommit"}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["results"][1]["response"]["is_autocommit"], false);
    let baton2 = str_of(&body["baton"]);
    assert_ne!(baton1, baton2);

    // Another stream does not see the uncommitted row (and is not blocked reading).
    assert_eq!(sql.count(&db, "s").await, 0);

    // A baton works once.
    let (status, body) = sql
        .pipeline(&db, t, Some(&baton1), json!([{"type": "get_autocommit"}]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "BATON_REUSED", "{body:#}");
    let (status, body) = sql.pipeline(&db, t, Some("not-a-baton"), json!([])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "BATON_INVALID", "{body:#}");

    let (status, body) = sql
        .pipeline(
            &db,
            t,
            Some(&baton2),
            json!([
                {"type": "execute", "stmt": {"sql": "COMMIT"}},
                {"type": "get_autocommit"},
                {"type": "close"}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["results"][1]["response"]["is_autocommit"], true);
    assert_eq!(body["baton"], Value::Null);
    assert_eq!(sql.count(&db, "s").await, 1);

    // An idle stream expires (10 s): its transaction rolls back and its lock is released.
    let (_, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([
                {"type": "execute", "stmt": {"sql": "BEGIN IMMEDIATE"}},
                {"type": "execute", "stmt": {"sql": "INSERT INTO s VALUES (2)"}}
            ]),
        )
        .await;
    let baton3 = str_of(&body["baton"]);
    tokio::time::sleep(Duration::from_secs(12)).await;
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            Some(&baton3),
            json!([{"type": "execute", "stmt": {"sql": "COMMIT"}}]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "STREAM_EXPIRED", "{body:#}");
    assert_eq!(sql.count(&db, "s").await, 1);
    sql.exec_sql(&db, t, "INSERT INTO s VALUES (3)").await;
    assert_eq!(sql.count(&db, "s").await, 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_sql_describe_and_sequence() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("stored").await;
    let t = db.token.as_str();

    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([
                {"type": "store_sql", "sql_id": 1, "sql": "SELECT ? + 1 AS n"},
                {"type": "execute", "stmt": {"sql_id": 1, "args": [int_value(41)]}},
                {"type": "describe", "sql_id": 1},
                {"type": "store_sql", "sql_id": 2, "sql": "x".repeat(6000)},
                {"type": "close_sql", "sql_id": 1},
                {"type": "close_sql", "sql_id": 99}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let r = &body["results"];
    assert_eq!(r[0]["response"]["type"], "store_sql");
    assert_eq!(int_of(&r[1]["response"]["result"]["rows"][0][0]), 42);
    let described = &r[2]["response"]["result"];
    assert_eq!(described["params"], json!([{"name": null}]));
    assert_eq!(described["cols"][0]["name"], "n");
    assert_eq!(described["is_readonly"], true);
    assert_eq!(described["is_explain"], false);
    assert_eq!(r[3]["error"]["code"], "SQL_STORE_TOO_LARGE");
    assert_eq!(r[4]["response"]["type"], "close_sql");
    assert_eq!(r[5]["response"]["type"], "close_sql");
    let baton = str_of(&body["baton"]);

    // A closed SQL id is gone: using it is a protocol error that ends the stream.
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            Some(&baton),
            json!([{"type": "execute", "stmt": {"sql_id": 1}}]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "SQL text 1 not found", "{body:#}");

    // Sequence: several statements separated by semicolons.
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([
                {"type": "sequence", "sql": "CREATE TABLE q (a TEXT); INSERT INTO q VALUES ('x'); INSERT INTO q VALUES ('y');"},
                {"type": "sequence", "sql": "INSERT INTO q VALUES ('z'); INSERT INTO nope VALUES (1); INSERT INTO q VALUES ('never')"},
                {"type": "describe", "sql": "INSERT INTO q (a) VALUES (:a)"},
                {"type": "describe", "sql": "EXPLAIN SELECT a FROM q"},
                {"type": "describe", "sql": "SELECT a AS letter FROM q WHERE a = @x"},
                {"type": "execute", "stmt": {"sql": "SELECT 1", "sql_id": 1}},
                {"type": "close"}
            ]),
        )
        .await;
    // The last request sends both `sql` and `sql_id`: a protocol error for the pipeline.
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert_eq!(sql.count(&db, "q").await, 3, "x, y and z; not 'never'");
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([
                {"type": "sequence", "sql": "INSERT INTO nope VALUES (1)"},
                {"type": "describe", "sql": "INSERT INTO q (a) VALUES (:a)"},
                {"type": "describe", "sql": "EXPLAIN SELECT a FROM q"},
                {"type": "describe", "sql": "SELECT a AS letter FROM q WHERE a = @x"},
                {"type": "close"}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let r = &body["results"];
    assert_eq!(r[0]["type"], "error");
    assert_eq!(r[1]["response"]["result"]["is_readonly"], false);
    assert_eq!(
        r[1]["response"]["result"]["params"],
        json!([{"name": ":a"}])
    );
    assert_eq!(r[2]["response"]["result"]["is_explain"], true);
    assert_eq!(
        r[3]["response"]["result"]["cols"],
        json!([{"name": "letter", "decltype": "TEXT"}])
    );
    assert_eq!(
        r[3]["response"]["result"]["params"],
        json!([{"name": "@x"}])
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_run_no_sql() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("guarded").await;
    let other = sql.create_db("other").await;
    sql.exec_sql(&db, &db.token, "CREATE TABLE g (who TEXT)")
        .await;
    let baseline = sql.admin_database(&db.id).await["queries"].clone();
    let insert = |who: &str| {
        json!({"baton": null, "requests": [
            {"type": "execute", "stmt": {"sql": "INSERT INTO g VALUES (?)", "args": [text_value(who)]}},
            {"type": "close"}
        ]})
        .to_string()
        .into_bytes()
    };
    // sqld's `error`, and the Hrana `message` (sqld's words, then a hint) and `code` that
    // `@libsql/client` shows.
    let refused = |status: StatusCode, body: &Value, want: StatusCode, msg: &str| {
        assert_eq!(status, want, "{body:#}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(msg), "{error:?} lacks {msg:?}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.starts_with(error), "{body:#}");
        assert!(body["code"].is_string(), "{body:#}");
        assert_eq!(body.as_object().map(|o| o.len()), Some(3), "{body:#}");
    };

    let (s, b) = sql.post(&db, "v2/pipeline", None, insert("nobody")).await;
    refused(
        s,
        &b,
        StatusCode::UNAUTHORIZED,
        "Unauthorized: `Expected authorization header but none given`",
    );
    let (s, b) = sql
        .send(
            Method::POST,
            &format!("{}v2/pipeline", db.url),
            &[("authorization", "Basic dXNlcjpwYXNz")],
            Some(insert("basic")),
        )
        .await;
    refused(s, &b, StatusCode::UNAUTHORIZED, "scheme");
    let (s, b) = sql
        .post(
            &db,
            "v2/pipeline",
            Some(&other.token),
            insert("other db token"),
        )
        .await;
    refused(
        s,
        &b,
        StatusCode::UNAUTHORIZED,
        "Unauthorized: `The JWT is invalid`",
    );
    let (s, b) = sql
        .post(
            &db,
            "v2/pipeline",
            Some(sql.emu.token()),
            insert("user token"),
        )
        .await;
    refused(s, &b, StatusCode::UNAUTHORIZED, "The JWT is invalid");

    // A rotated-away token stops working at once; the new one works.
    let rotated = sql
        .api_ok(
            Method::POST,
            &format!("/v1/databases/{}/token/rotate", db.id),
            None,
        )
        .await;
    let new_token = str_of(&rotated["database_token"]);
    let (s, b) = sql
        .post(&db, "v2/pipeline", Some(&db.token), insert("rotated away"))
        .await;
    refused(s, &b, StatusCode::UNAUTHORIZED, "The JWT is invalid");
    assert_eq!(b["code"], "AUTH_JWT_INVALID");
    assert!(
        b["message"].as_str().unwrap_or("").contains("rotated"),
        "{b:#}"
    );
    assert!(
        !b.to_string().contains(&db.token),
        "no token in answers: {b:#}"
    );
    let (s, b) = sql
        .post(&db, "v2/pipeline", Some(&new_token), insert("current"))
        .await;
    assert_eq!(s, StatusCode::OK, "{b:#}");

    // An expired query token.
    let short = sql.query_token(&db, 1, "sql").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (s, b) = sql
        .post(&db, "v2/pipeline", Some(&short), insert("expired"))
        .await;
    refused(
        s,
        &b,
        StatusCode::UNAUTHORIZED,
        "Unauthorized: `The JWT has expired`",
    );
    assert_eq!(b["code"], "AUTH_JWT_EXPIRED");
    // A query token of another database.
    let foreign = sql.query_token(&other, 60, "sql").await;
    let (s, b) = sql
        .post(
            &db,
            "v2/pipeline",
            Some(&foreign),
            insert("foreign query token"),
        )
        .await;
    refused(s, &b, StatusCode::UNAUTHORIZED, "The JWT is invalid");

    // A suspended database refuses SQL (the token is checked first), then works again.
    sql.api_ok(
        Method::POST,
        &format!("/v1/databases/{}/suspend", db.id),
        None,
    )
    .await;
    let (s, b) = sql
        .post(&db, "v2/pipeline", Some(&new_token), insert("suspended"))
        .await;
    refused(
        s,
        &b,
        StatusCode::FORBIDDEN,
        &format!("database `{}` is suspended", db.id),
    );
    assert_eq!(b["code"], "BLOCKED");
    assert!(
        b["message"].as_str().unwrap_or("").contains("resume"),
        "{b:#}"
    );
    let (s, b) = sql
        .post(
            &db,
            "v2/pipeline",
            Some(&db.token),
            insert("suspended, bad token"),
        )
        .await;
    refused(s, &b, StatusCode::UNAUTHORIZED, "The JWT is invalid");
    let (s, _) = sql
        .send(Method::GET, &format!("{}v2", db.url), &[], None)
        .await;
    assert_eq!(s, StatusCode::OK, "the version check needs no token");
    sql.api_ok(
        Method::POST,
        &format!("/v1/databases/{}/resume", db.id),
        None,
    )
    .await;
    let (s, b) = sql
        .post(&db, "v2/pipeline", Some(&new_token), insert("resumed"))
        .await;
    assert_eq!(s, StatusCode::OK, "{b:#}");

    // A deleted database is gone for SQL too.
    let (s, _) = sql
        .api(Method::DELETE, &format!("/v1/databases/{}", other.id), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = sql
        .post(&other, "v2/pipeline", Some(&other.token), insert("deleted"))
        .await;
    refused(
        s,
        &b,
        StatusCode::NOT_FOUND,
        &format!("Namespace `{}` doesn't exist", other.id),
    );

    // Only the two accepted inserts ran.
    let rows = sql
        .exec_sql(&db, &new_token, "SELECT who FROM g ORDER BY rowid")
        .await;
    assert_eq!(
        rows["rows"],
        json!([[text_value("current")], [text_value("resumed")]])
    );
    let queries = sql.admin_database(&db.id).await["queries"].as_i64();
    assert_eq!(
        queries,
        baseline.as_i64().map(|q| q + 3),
        "2 inserts + 1 select"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_token_audiences() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("audience").await;
    sql.exec_sql(&db, &db.token, "CREATE TABLE a (x INTEGER)")
        .await;
    sql.exec_sql(&db, &db.token, "INSERT INTO a VALUES (1)")
        .await;

    // The default audience `sql` and `sql-console` read and write.
    for audience in ["sql", "sql-console"] {
        let token = sql.query_token(&db, 60, audience).await;
        sql.exec_sql(&db, &token, "INSERT INTO a VALUES (2)").await;
    }
    assert_eq!(sql.count(&db, "a").await, 3);

    // A read-only audience reads (and describes) but never writes.
    let reader = sql.query_token(&db, 60, "sql-readonly").await;
    let rows = sql.exec_sql(&db, &reader, "SELECT count(*) FROM a").await;
    assert_eq!(int_of(&rows["rows"][0][0]), 3);
    for stmt in [
        "INSERT INTO a VALUES (9)",
        "UPDATE a SET x = 0",
        "DELETE FROM a",
        "CREATE TABLE b (y)",
        "DROP TABLE a",
        "PRAGMA user_version = 7",
    ] {
        let (status, body) = sql
            .pipeline(
                &db,
                &reader,
                None,
                json!([
                    {"type": "execute", "stmt": {"sql": "SELECT 1"}},
                    {"type": "execute", "stmt": {"sql": stmt}}
                ]),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{stmt}: {body:#}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("Authorization forbidden:") && error.contains("sql-readonly"),
            "{error}"
        );
    }
    let (status, body) = sql
        .pipeline(
            &db,
            &reader,
            None,
            json!([
                {"type": "batch", "batch": {"steps": [
                    {"stmt": {"sql": "BEGIN"}},
                    {"stmt": {"sql": "INSERT INTO a VALUES (9)"}},
                    {"stmt": {"sql": "COMMIT"}}
                ]}}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:#}");
    let described = sql
        .pipeline(
            &db,
            &reader,
            None,
            json!([{"type": "describe", "sql": "INSERT INTO a VALUES (?)"}, {"type": "close"}]),
        )
        .await;
    assert_eq!(described.0, StatusCode::OK, "{:#}", described.1);
    assert_eq!(
        described.1["results"][0]["response"]["result"]["is_readonly"],
        false
    );
    assert_eq!(sql.count(&db, "a").await, 3);
    let version: Value = sql.exec_sql(&db, &db.token, "PRAGMA user_version").await;
    assert_eq!(int_of(&version["rows"][0][0]), 0);

    // No token may ATTACH another file (another database, the emulator's own state).
    let state_db = sql.emu.state_dir().join("emulator.sqlite");
    let attach = format!("ATTACH DATABASE '{}' AS state", state_db.display());
    let (status, body) = sql
        .pipeline(
            &db,
            &db.token,
            None,
            json!([{"type": "execute", "stmt": {"sql": attach}}]),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:#}");
    assert!(body["error"].as_str().unwrap_or("").contains("ATTACH"));
    let new_file = sql.emu.state_dir().join("created-by-attach.db");
    let attach = format!("ATTACH DATABASE '{}' AS x", new_file.display());
    let (status, _) = sql
        .pipeline(
            &db,
            &db.token,
            None,
            json!([{"type": "execute", "stmt": {"sql": attach}}]),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!new_file.exists());
    // VACUUM (which attaches a temporary database internally) still works.
    sql.exec_sql(&db, &db.token, "VACUUM").await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_writers_all_land() -> TestResult {
    let sql = std::sync::Arc::new(Sql::start());
    let db = sql.create_db("parallel").await;
    sql.exec_sql(
        &db,
        &db.token,
        "CREATE TABLE p (id INTEGER PRIMARY KEY, writer INTEGER, n INTEGER, pad TEXT)",
    )
    .await;
    let mut tasks = Vec::new();
    for writer in 0..8i64 {
        let sql = sql.clone();
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..50i64 {
                let result = sql
                    .exec(
                        &db,
                        &db.token,
                        json!({"sql": "INSERT INTO p (writer, n, pad) VALUES (?, ?, ?)",
                               "args": [int_value(writer), int_value(n), text_value(&"x".repeat(300))]}),
                    )
                    .await;
                assert_eq!(result["affected_row_count"], 1);
            }
        }));
    }
    // Readers run meanwhile.
    for _ in 0..10 {
        let n = sql.count(&db, "p").await;
        assert!((0..=400).contains(&n));
    }
    for task in tasks {
        task.await?;
    }
    assert_eq!(sql.count(&db, "p").await, 400);
    let per_writer = sql
        .exec_sql(
            &db,
            &db.token,
            "SELECT count(DISTINCT writer), count(DISTINCT writer * 1000 + n) FROM p",
        )
        .await;
    assert_eq!(int_of(&per_writer["rows"][0][0]), 8);
    assert_eq!(int_of(&per_writer["rows"][0][1]), 400);
    let check = sql.exec_sql(&db, &db.token, "PRAGMA integrity_check").await;
    assert_eq!(check["rows"], json!([[text_value("ok")]]));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_requests_get_clean_errors() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("malformed").await;
    let t = db.token.as_str();
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
            "PROTOCOL_ERROR",
        ),
        (b"[]".to_vec(), StatusCode::BAD_REQUEST, "PROTOCOL_ERROR"),
        (
            b"{\"baton\": null}".to_vec(),
            StatusCode::BAD_REQUEST,
            "PROTOCOL_ERROR",
        ),
        (
            json!({"requests": [{"type": "explode"}]})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "PROTOCOL_ERROR",
        ),
        (
            json!({"requests": [{"type": "execute", "stmt": {"sql": "SELECT ?",
                "args": [{"type": "integer", "value": "12.5"}]}}]})
            .to_string()
            .into_bytes(),
            StatusCode::BAD_REQUEST,
            "PROTOCOL_ERROR",
        ),
        (
            json!({"requests": [{"type": "execute", "stmt": {}}]})
                .to_string()
                .into_bytes(),
            StatusCode::BAD_REQUEST,
            "PROTOCOL_ERROR",
        ),
        (
            vec![0xff, 0xfe, 0x00],
            StatusCode::BAD_REQUEST,
            "PROTOCOL_ERROR",
        ),
    ];
    for (body, status, code) in cases {
        let shown = String::from_utf8_lossy(&body).into_owned();
        let (got, resp) = sql.post(&db, "v3/pipeline", Some(t), body).await;
        assert_eq!(got, status, "{shown}: {resp:#}");
        assert_eq!(resp["code"], code, "{shown}: {resp:#}");
        assert!(resp["message"].is_string(), "{resp:#}");
    }

    // Deeply nested conditions are refused by the JSON parser, not a stack overflow.
    let depth = 5000;
    let cond = format!(
        "{}{{\"type\": \"ok\", \"step\": 0}}{}",
        "{\"type\": \"not\", \"cond\": ".repeat(depth),
        "}".repeat(depth)
    );
    let nested = format!(
        "{{\"requests\": [{{\"type\": \"batch\", \"batch\": {{\"steps\": [{{\"stmt\": {{\"sql\": \"SELECT 1\"}}}}, {{\"stmt\": {{\"sql\": \"SELECT 1\"}}, \"condition\": {cond}}}]}}}}]}}"
    );
    let (got, resp) = sql
        .post(&db, "v3/pipeline", Some(t), nested.into_bytes())
        .await;
    assert_eq!(got, StatusCode::BAD_REQUEST, "{resp:#}");

    // The emulator is still serving.
    let one = sql.exec_sql(&db, t, "SELECT 1").await;
    assert_eq!(int_of(&one["rows"][0][0]), 1);
    Ok(())
}

/// Sum of the sizes of a database's files, as `storage_bytes` counts them.
fn file_bytes(state_dir: &Path, id: &str) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            std::fs::metadata(state_dir.join("databases").join(format!("{id}.db{suffix}"))).ok()
        })
        .map(|m| m.len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_and_frame_numbers_follow_real_writes() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("usage").await;
    let status_path = format!("/v1/databases/{}", db.id);
    let usage_path = format!("/v1/databases/{}/usage", db.id);

    let fresh = sql.api_ok(Method::GET, &status_path, None).await;
    assert_eq!(fresh["generation"], 1);
    assert_eq!(fresh["frame_numbers"], json!({"current": 0, "durable": 0}));
    let usage = sql.api_ok(Method::GET, &usage_path, None).await;
    assert_eq!(
        (
            &usage["queries"],
            &usage["rows_read"],
            &usage["rows_written"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );

    let t = db.token.as_str();
    sql.exec_sql(&db, t, "CREATE TABLE u (a INTEGER, b TEXT)")
        .await;
    for i in 0..20 {
        sql.exec(
            &db,
            t,
            json!({"sql": "INSERT INTO u VALUES (?, ?)", "args": [int_value(i), text_value("row")]}),
        )
        .await;
    }
    sql.exec_sql(&db, t, "SELECT * FROM u").await;
    let before = file_bytes(sql.emu.state_dir(), &db.id);
    let usage = sql.api_ok(Method::GET, &usage_path, None).await;
    let after = file_bytes(sql.emu.state_dir(), &db.id);
    assert_eq!(usage["queries"], 22, "{usage:#}");
    assert_eq!(usage["rows_written"], 20, "{usage:#}");
    assert!(usage["rows_read"].as_i64() >= Some(20), "{usage:#}");
    // The files' sizes (a background checkpoint may grow the main file meanwhile).
    let storage = usage["storage_bytes"].as_u64().unwrap_or(0);
    assert!(
        before > 0 && before <= storage && storage <= after,
        "{before} <= {storage} <= {after}"
    );

    let after = sql.api_ok(Method::GET, &status_path, None).await;
    let current = after["frame_numbers"]["current"].as_u64().unwrap_or(0);
    let durable = after["frame_numbers"]["durable"]
        .as_u64()
        .unwrap_or(u64::MAX);
    assert!(current >= 21, "every commit appends frames: {after:#}");
    assert!(durable <= current, "{after:#}");
    sql.exec_sql(&db, t, "INSERT INTO u VALUES (100, 'more')")
        .await;
    let later = sql.api_ok(Method::GET, &status_path, None).await;
    assert!(
        later["frame_numbers"]["current"].as_u64() > Some(current),
        "{later:#}"
    );

    // The background checkpoint (every 5 s) moves `durable` up to `current`; the next write
    // then restarts the WAL: a new generation, while `current` keeps growing.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let checkpointed = sql.api_ok(Method::GET, &status_path, None).await;
    assert_eq!(
        checkpointed["frame_numbers"]["durable"], checkpointed["frame_numbers"]["current"],
        "{checkpointed:#}"
    );
    sql.exec_sql(&db, t, "INSERT INTO u VALUES (101, 'new generation')")
        .await;
    let restarted = sql.api_ok(Method::GET, &status_path, None).await;
    assert!(restarted["generation"].as_i64() >= Some(2), "{restarted:#}");
    assert!(
        restarted["frame_numbers"]["current"].as_u64()
            > checkpointed["frame_numbers"]["current"].as_u64(),
        "{restarted:#}"
    );
    Ok(())
}

#[test]
fn official_libsql_client_works_against_the_database_url() {
    let emu = Emulator::start();
    let (status, created) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({"name": "client-app"})),
    );
    assert_eq!(status, 201, "{created:#}");
    let id = str_of(&created["database"]["database_id"]);
    let url = str_of(&created["database"]["database_url"]);
    let token = str_of(&created["database_token"]);

    let results = node(&[
        &url,
        &token,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, score REAL)",
        "INSERT INTO notes (body, score) VALUES ('first', 1.5)",
        "INSERT INTO notes (body, score) VALUES ('second', NULL)",
        "SELECT id, body, score FROM notes ORDER BY id",
    ])
    .results();
    assert_eq!(results[1]["rowsAffected"], 1);
    assert_eq!(results[1]["lastInsertRowid"], 1);
    assert_eq!(results[3]["columns"], json!(["id", "body", "score"]));
    assert_eq!(
        results[3]["columnTypes"],
        json!(["INTEGER", "TEXT", "REAL"])
    );
    assert_eq!(
        results[3]["rows"],
        json!([[1, "first", 1.5], [2, "second", null]])
    );

    // A batch (transactional, v2 protocol) and an interactive transaction (batons).
    let results = node(&[
        "--batch",
        &url,
        &token,
        "INSERT INTO notes (body) VALUES ('batched')",
        "SELECT count(*) FROM notes",
    ])
    .results();
    assert_eq!(results[1]["rows"], json!([[3]]));
    let results = node(&[
        "--transaction",
        &url,
        &token,
        "INSERT INTO notes (body) VALUES ('in a transaction')",
        "SELECT count(*) FROM notes",
    ])
    .results();
    assert_eq!(results[1]["rows"], json!([[4]]));
    // A failing statement in a batch rolls the batch back.
    node(&[
        "--batch",
        &url,
        &token,
        "INSERT INTO notes (body) VALUES ('rolled back')",
        "INSERT INTO notes (body) VALUES (NULL)",
    ])
    .refused("NOT NULL constraint failed");

    // A query token reads and writes too.
    let (status, qt) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/query-token"),
        Some(json!({"ttl_seconds": 300, "audience": "sql-console", "reason": "test"})),
    );
    assert_eq!(status, 201, "{qt:#}");
    let query_token = str_of(&qt["query_token"]);
    let results = node(&[
        &url,
        &query_token,
        "INSERT INTO notes (body) VALUES ('via query token')",
        "SELECT body FROM notes ORDER BY id DESC LIMIT 1",
    ])
    .results();
    assert_eq!(results[1]["rows"], json!([["via query token"]]));
    // A read-only audience reads only.
    let (_, ro) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/query-token"),
        Some(json!({"ttl_seconds": 300, "audience": "sql-readonly"})),
    );
    let read_only = str_of(&ro["query_token"]);
    let results = node(&[&url, &read_only, "SELECT count(*) FROM notes"]).results();
    assert_eq!(results[0]["rows"], json!([[5]]));
    node(&[&url, &read_only, "DELETE FROM notes"]).refused("FORBIDDEN: Authorization forbidden");

    // A rotated-away token is refused; the new one works.
    let (status, rotated) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/token/rotate"),
        None,
    );
    assert_eq!(status, 200, "{rotated:#}");
    let new_token = str_of(&rotated["database_token"]);
    // The client shows why (sqld's words and a hint), not only the status.
    node(&[&url, &token, "SELECT 1"])
        .refused("AUTH_JWT_INVALID: Unauthorized: `The JWT is invalid`");
    node(&[&url, &token, "SELECT 1"]).refused("rotated");
    let results = node(&[&url, &new_token, "SELECT count(*) FROM notes"]).results();
    assert_eq!(results[0]["rows"], json!([[5]]));

    // A suspended database is refused, and works again after resume.
    let (status, _) = emu.api(Method::POST, &format!("/v1/databases/{id}/suspend"), None);
    assert_eq!(status, 200);
    node(&[&url, &new_token, "SELECT count(*) FROM notes"]).refused(&format!(
        "BLOCKED: Authorization forbidden: database `{id}` is suspended"
    ));
    let (status, _) = emu.api(Method::POST, &format!("/v1/databases/{id}/resume"), None);
    assert_eq!(status, 200);
    let results = node(&[&url, &new_token, "SELECT count(*) FROM notes"]).results();
    assert_eq!(results[0]["rows"], json!([[5]]));

    // An expired query token (ttl 1 s, 2 s later) is refused.
    let (_, short) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/query-token"),
        Some(json!({"ttl_seconds": 1})),
    );
    let short = str_of(&short["query_token"]);
    std::thread::sleep(Duration::from_secs(2));
    node(&[&url, &short, "SELECT 1"]).refused("AUTH_JWT_EXPIRED");

    // The traffic shows in the usage figures.
    let usage = emu.api_get(&format!("/v1/databases/{id}/usage"));
    assert!(usage["queries"].as_i64() >= Some(10), "{usage:#}");
    assert!(usage["rows_written"].as_i64() >= Some(5), "{usage:#}");
}

/// Issue 10, item 20: `size_limit_mb` is enforced with SQLite's own page limit, and a
/// write past it answers as a libSQL server answers a full database (`SQLITE_FULL`);
/// what fits still lands, and the database stays readable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_limit_is_enforced_like_a_full_libsql_database() -> TestResult {
    let sql = Sql::start();
    let body = sql
        .api_ok(
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(json!({"name": "tiny", "size_limit_mb": 1})),
        )
        .await;
    let db = Db {
        id: str_of(&body["database"]["database_id"]),
        url: str_of(&body["database"]["database_url"]),
        token: str_of(&body["database_token"]),
    };
    let t = db.token.as_str();
    sql.exec_sql(&db, t, "CREATE TABLE blobs (b BLOB)").await;
    // 256 KiB fits in 1 MiB.
    sql.exec_sql(&db, t, "INSERT INTO blobs VALUES (zeroblob(262144))")
        .await;
    // 8 MiB does not.
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([{"type": "execute", "stmt": {"sql": "INSERT INTO blobs VALUES (zeroblob(8388608))"}}, {"type": "close"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["results"][0]["type"], "error", "{body:#}");
    assert_eq!(
        body["results"][0]["error"]["code"], "SQLITE_FULL",
        "{body:#}"
    );
    assert_eq!(
        sql.count(&db, "blobs").await,
        1,
        "the full write left nothing"
    );
    let bytes = file_bytes(sql.emu.state_dir(), &db.id);
    assert!(
        bytes < 2 * 1024 * 1024,
        "the files stay near the limit: {bytes}"
    );

    // Another database with the default limit takes the same write.
    let big = sql.create_db("roomy").await;
    sql.exec_sql(&big, &big.token, "CREATE TABLE blobs (b BLOB)")
        .await;
    sql.exec_sql(
        &big,
        &big.token,
        "INSERT INTO blobs VALUES (zeroblob(8388608))",
    )
    .await;
    Ok(())
}

/// Issue 23, item 1.1: requests are bounded as sqld bounds them (10 MB of rows per
/// statement, 32 MB in flight), not by how many statements they carry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_bounded_by_response_size_not_statement_count() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("bulk").await;
    let t = db.token.as_str();
    sql.exec_sql(&db, t, "CREATE TABLE bulk (n INTEGER)").await;

    // 5,000 executes in one pipeline.
    let mut requests: Vec<Value> = (0..5000)
        .map(|n| {
            json!({"type": "execute", "stmt": {"sql": "INSERT INTO bulk VALUES (?)",
                "args": [int_value(n)]}})
        })
        .collect();
    requests.push(json!({"type": "close"}));
    let (status, body) = sql.pipeline(&db, t, None, Value::Array(requests)).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let results = body["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 5001);
    assert!(results.iter().all(|r| r["type"] == "ok"));
    assert_eq!(sql.count(&db, "bulk").await, 5000);

    // A batch of 5,000 steps, as `db.batch()` sends it.
    let steps: Vec<Value> = (0..5000)
        .map(|n| json!({"stmt": {"sql": format!("INSERT INTO bulk VALUES ({n})")}}))
        .collect();
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([{"type": "batch", "batch": {"steps": steps}}, {"type": "close"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let batch = &body["results"][0]["response"]["result"];
    assert_eq!(batch["step_results"].as_array().map(Vec::len), Some(5000));
    assert!(batch["step_errors"]
        .as_array()
        .is_some_and(|e| e.iter().all(Value::is_null)));
    assert_eq!(sql.count(&db, "bulk").await, 10_000);

    // Two statements of about 8 MB of rows each fit (each under 10 MB) ...
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([
                {"type": "execute", "stmt": {"sql": "SELECT zeroblob(6000000)"}},
                {"type": "execute", "stmt": {"sql": "SELECT zeroblob(6000000)"}},
                {"type": "close"}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for r in &body["results"].as_array().cloned().unwrap_or_default()[..2] {
        assert_eq!(r["type"], "ok", "{}", r["error"]);
    }
    // ... one of about 10.7 MB does not: a statement error, the stream goes on.
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([
                {"type": "execute", "stmt": {"sql": "SELECT zeroblob(8000000)"}},
                {"type": "execute", "stmt": {"sql": "SELECT 1"}},
                {"type": "close"}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"][0]["type"], "error");
    assert_eq!(
        body["results"][0]["error"]["code"], "RESPONSE_TOO_LARGE",
        "{}",
        body["results"][0]
    );
    assert_eq!(body["results"][1]["type"], "ok");
    Ok(())
}

/// Issue 23, item 1.2: no 10 MiB body cap: a 12 MiB blob is inserted and read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_request_bodies_are_served() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("blobs").await;
    let t = db.token.as_str();
    sql.exec_sql(&db, t, "CREATE TABLE blobs (b BLOB)").await;
    let bytes: Vec<u8> = (0..12 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let arg = json!({"type": "blob", "base64": STANDARD_NO_PAD.encode(&bytes)});
    let (status, body) = sql
        .pipeline(
            &db,
            t,
            None,
            json!([{"type": "execute", "stmt": {"sql": "INSERT INTO blobs VALUES (?)",
                "args": [arg]}}, {"type": "close"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["results"][0]["type"], "ok", "{body:#}");
    let result = sql
        .exec_sql(
            &db,
            t,
            "SELECT length(b), hex(substr(b, 250, 4)) FROM blobs",
        )
        .await;
    assert_eq!(int_of(&result["rows"][0][0]), 12 * 1024 * 1024);
    assert_eq!(result["rows"][0][1], text_value("F9FA0001"));
    Ok(())
}

/// Issue 23, item 1.5: the database URL without its final slash (the database is then
/// the token's), and each database at a host of its own (`<id>.db.localhost`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_urls_without_slash_and_by_host() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("forms").await;
    let other = sql.create_db("other-form").await;
    let t = db.token.as_str();
    sql.exec_sql(&db, t, "CREATE TABLE forms (v TEXT)").await;
    sql.exec_sql(&other, &other.token, "CREATE TABLE other (v TEXT)")
        .await;
    let insert = |v: &str| {
        json!({"baton": null, "requests": [
            {"type": "execute", "stmt": {"sql": "INSERT INTO forms VALUES (?)", "args": [text_value(v)]}},
            {"type": "close"}
        ]})
        .to_string()
        .into_bytes()
    };

    // `http://HOST:PORT/db/<id>` + `v2/pipeline` = `/db/v2/pipeline`: the token's database.
    let bare = format!("{}/db/", sql.emu.url());
    for endpoint in ["v2/pipeline", "v3/pipeline"] {
        let auth = format!("Bearer {t}");
        let (status, body) = sql
            .send(
                Method::POST,
                &format!("{bare}{endpoint}"),
                &[("authorization", &auth)],
                Some(insert(endpoint)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{endpoint}: {body:#}");
        assert_eq!(body["results"][0]["type"], "ok", "{body:#}");
    }
    // A query token finds its database too; a token of no database is refused.
    let qt = sql.query_token(&db, 60, "sql").await;
    let auth = format!("Bearer {qt}");
    let (status, body) = sql
        .send(
            Method::POST,
            &format!("{bare}v2/pipeline"),
            &[("authorization", &auth)],
            Some(insert("query token")),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let (status, body) = sql
        .send(
            Method::POST,
            &format!("{bare}v2/pipeline"),
            &[("authorization", "Bearer cdt_0000")],
            Some(insert("nobody's")),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body:#}");
    assert_eq!(body["code"], "AUTH_JWT_INVALID");
    let (status, body) = sql.send(Method::GET, &format!("{bare}v2"), &[], None).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");

    // The database's own host: every path is under that database, and only that one.
    let port = sql
        .emu
        .url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let hex = db.id.trim_start_matches("db_");
    for host in [
        format!("{}.db.localhost:{port}", db.id),
        format!("db-{hex}.db.localhost:{port}"),
    ] {
        let auth = format!("Bearer {t}");
        let (status, body) = sql
            .send(
                Method::POST,
                &format!("{}/v3/pipeline", sql.emu.url()),
                &[("host", &host), ("authorization", &auth)],
                Some(insert(&host)),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{host}: {body:#}");
        assert_eq!(body["results"][0]["type"], "ok", "{body:#}");
        let (status, body) = sql
            .send(
                Method::GET,
                &format!("{}/v2", sql.emu.url()),
                &[("host", &host)],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        // The product API is not served there.
        let auth = format!("Bearer {}", sql.emu.token());
        let (status, _) = sql
            .send(
                Method::GET,
                &format!("{}/v1/databases/{}", sql.emu.url(), db.id),
                &[("host", &host), ("authorization", &auth)],
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{host}");
    }
    // Another database's token on this host is refused.
    let auth = format!("Bearer {}", other.token);
    let (status, body) = sql
        .send(
            Method::POST,
            &format!("{}/v2/pipeline", sql.emu.url()),
            &[
                ("host", &format!("{}.db.localhost:{port}", db.id)),
                ("authorization", &auth),
            ],
            Some(insert("other's token")),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body:#}");

    let rows = sql.exec_sql(&db, t, "SELECT count(*) FROM forms").await;
    assert_eq!(int_of(&rows["rows"][0][0]), 5);
    assert_eq!(sql.count(&other, "other").await, 0);
    Ok(())
}

/// Issue 23, items 1.1, 1.2 and 1.5 with the official client: `db.batch()` of 5,000
/// inserts, a 12 MiB blob, the URL without its final slash and the database's own host.
#[test]
fn official_client_batches_blobs_and_url_forms() {
    let emu = Emulator::start();
    let (status, created) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({"name": "dropin"})),
    );
    assert_eq!(status, 201, "{created:#}");
    let id = str_of(&created["database"]["database_id"]);
    let url = str_of(&created["database"]["database_url"]);
    let token = str_of(&created["database_token"]);
    let bare = url.trim_end_matches('/');
    assert_ne!(bare, url);

    let results = node(&[
        bare,
        &token,
        "CREATE TABLE bulk (n INTEGER)",
        "CREATE TABLE blobs (b BLOB)",
        "SELECT 1",
    ])
    .results();
    assert_eq!(results[2]["rows"], json!([[1]]));

    let inserts: Vec<String> = (0..5000)
        .map(|n| format!("INSERT INTO bulk VALUES ({n})"))
        .collect();
    let mut args = vec!["--batch", bare, token.as_str()];
    args.extend(inserts.iter().map(String::as_str));
    args.push("SELECT count(*), sum(n) FROM bulk");
    let results = node(&args).results();
    assert_eq!(results.as_array().map(Vec::len), Some(5001));
    assert_eq!(results[5000]["rows"], json!([[5000, 12_497_500]]));

    let blob = (12 * 1024 * 1024).to_string();
    let results = node(&[
        "--blob",
        &blob,
        &url,
        &token,
        "INSERT INTO blobs VALUES (?)",
        "SELECT length(b), hex(substr(b, 250, 4)) FROM blobs",
    ])
    .results();
    assert_eq!(results[1]["rows"], json!([[12 * 1024 * 1024, "F9FA0001"]]));

    let port = emu.url().rsplit(':').next().unwrap_or_default().to_owned();
    let by_host = format!("http://{id}.db.localhost:{port}");
    let results = node(&[
        "--resolve-localhost",
        "--transaction",
        &by_host,
        &token,
        "INSERT INTO bulk VALUES (-1)",
        "SELECT count(*) FROM bulk",
    ])
    .results();
    assert_eq!(results[1]["rows"], json!([[5001]]));
}

/// Issue 23, item 1.4: Hrana over HTTP v1 (`v1/execute`, `v1/batch`), as sqld serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hrana_over_http_v1() -> TestResult {
    let sql = Sql::start();
    let db = sql.create_db("hrana-v1").await;
    let t = db.token.as_str();
    let (status, body) = sql
        .send(Method::GET, &format!("{}v1", db.url), &[], None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!("This is sqld HTTP API v1"));

    let execute = |stmt: Value| json!({ "stmt": stmt }).to_string().into_bytes();
    let (status, body) = sql
        .post(
            &db,
            "v1/execute",
            Some(t),
            execute(json!({"sql": "CREATE TABLE v (a INTEGER, b TEXT)"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["result"]["affected_row_count"], 0, "{body:#}");
    let (status, body) = sql
        .post(
            &db,
            "v1/execute",
            Some(t),
            execute(json!({"sql": "INSERT INTO v VALUES (?, 'seven')",
                "args": [int_value(7)], "named_args": []})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let (status, body) = sql
        .post(
            &db,
            "v1/batch",
            Some(t),
            json!({"batch": {"steps": [
                {"stmt": {"sql": "INSERT INTO v VALUES (8, 'eight')"}},
                {"stmt": {"sql": "INSERT INTO nowhere VALUES (1)"}},
                {"stmt": {"sql": "SELECT count(*) FROM v"},
                 "condition": {"type": "ok", "step": 0}}
            ]}})
            .to_string()
            .into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    let result = &body["result"];
    assert_eq!(
        result["step_results"][0]["affected_row_count"], 1,
        "{body:#}"
    );
    assert_eq!(result["step_results"][1], Value::Null);
    assert!(result["step_errors"][1]["message"]
        .as_str()
        .unwrap_or("")
        .contains("no such table"));
    assert_eq!(int_of(&result["step_results"][2]["rows"][0][0]), 2);

    // A statement error is the answer, with sqld's status for it.
    let (status, body) = sql
        .post(
            &db,
            "v1/execute",
            Some(t),
            execute(json!({"sql": "SELEC 1"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body:#}");
    assert!(
        body["code"].is_string() && body["message"].is_string(),
        "{body:#}"
    );
    let (status, body) = sql
        .post(
            &db,
            "v1/execute",
            Some(t),
            execute(json!({"sql": "INSERT INTO v VALUES (1, 2, 3)"})),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body:#}");
    assert!(
        body["code"].as_str().unwrap_or("").starts_with("SQLITE_"),
        "{body:#}"
    );
    // The same token rules; the method is POST.
    let (status, body) = sql
        .post(&db, "v1/execute", None, execute(json!({"sql": "SELECT 1"})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body:#}");
    let (status, _) = sql
        .send(Method::GET, &format!("{}v1/execute", db.url), &[], None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(sql.count(&db, "v").await, 2);
    Ok(())
}

/// Issue 23, item 1.8: `generation` and `frame_numbers` go on growing across a restart of
/// the emulator, as on a libSQL server.
#[test]
fn frame_numbers_outlive_a_restart() {
    let mut emu = Emulator::start();
    let (status, created) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({"name": "durable-frames"})),
    );
    assert_eq!(status, 201, "{created:#}");
    let id = str_of(&created["database"]["database_id"]);
    let url = str_of(&created["database"]["database_url"]);
    let token = str_of(&created["database_token"]);
    node(&[
        &url,
        &token,
        "CREATE TABLE f (a INTEGER)",
        "INSERT INTO f VALUES (1)",
        "INSERT INTO f VALUES (2)",
    ])
    .results();
    let status_path = format!("/v1/databases/{id}");
    let before = emu.api_get(&status_path);
    let frames_before = before["frame_numbers"]["current"].as_u64().unwrap_or(0);
    assert!(frames_before >= 3, "{before:#}");

    emu.restart();
    let after = emu.api_get(&status_path);
    assert_eq!(
        after["frame_numbers"]["current"].as_u64(),
        Some(frames_before),
        "{after:#}"
    );
    assert_eq!(
        after["frame_numbers"]["durable"].as_u64(),
        Some(frames_before),
        "folded back into the file on stop: {after:#}"
    );
    assert!(
        after["generation"].as_i64() >= before["generation"].as_i64(),
        "{after:#}"
    );
    node(&[&url, &token, "INSERT INTO f VALUES (3)"]).results();
    let later = emu.api_get(&status_path);
    assert!(
        later["frame_numbers"]["current"].as_u64() > Some(frames_before),
        "{later:#}"
    );
    assert!(
        later["generation"].as_i64() > before["generation"].as_i64(),
        "a new WAL after the restart: {later:#}"
    );
}

/// A database the official Hrana client speaks Protobuf to, over one transport
/// (`client.mjs --protobuf`, and `--ws` for WebSocket).
struct Protobuf {
    emu: Emulator,
    db: Db,
    /// The client's flags that choose the transport: none for HTTP, `--ws`.
    transport: &'static [&'static str],
}

impl Protobuf {
    /// Makes database `name`, then checks what both transports share: the negotiated
    /// `encoding`; every value type round-trips (an integer `big` beyond JavaScript's safe
    /// range as text, text, a blob, a real, NULL) with its column type; a batch over the
    /// cursor endpoint.
    fn start(name: &str, transport: &'static [&'static str], encoding: &str, big: &str) -> Self {
        let emu = Emulator::start();
        let (status, created) = emu.api(
            Method::POST,
            "/v1/projects/prj_local/databases",
            Some(json!({"name": name})),
        );
        assert_eq!(status, 201, "{created:#}");
        let db = Db {
            id: str_of(&created["database"]["database_id"]),
            url: str_of(&created["database"]["database_url"]),
            token: str_of(&created["database_token"]),
        };
        let pb = Protobuf { emu, db, transport };
        let token = pb.db.token.clone();

        let insert = format!("INSERT INTO p VALUES ({big}, 'tëxt', x'00ff', 1.5)");
        let out = printed(pb.run(
            &[],
            &token,
            &[
                "CREATE TABLE p (a INTEGER, b TEXT, c BLOB, d REAL)",
                &insert,
                "SELECT a, b, c, d, NULL FROM p",
            ],
        ));
        assert_eq!(out["version"], 3, "{out:#}");
        assert_eq!(out["encoding"], encoding, "{out:#}");
        let results = &out["results"];
        assert_eq!(results[1]["rowsAffected"], 1);
        assert_eq!(results[1]["lastInsertRowid"], 1);
        assert_eq!(
            results[2]["columnTypes"],
            json!(["INTEGER", "TEXT", "BLOB", "REAL", ""])
        );
        assert_eq!(
            results[2]["rows"],
            json!([[big, "tëxt", {"blob": "AP8="}, 1.5, null]])
        );

        // A batch over the cursor endpoint (open_cursor, fetch_cursor over WebSocket).
        let out = printed(pb.run(
            &["--batch"],
            &token,
            &["INSERT INTO p (a) VALUES (2)", "SELECT count(*) FROM p"],
        ));
        assert_eq!(out["results"][1]["rows"], json!([[2]]), "{out:#}");
        pb
    }

    /// `client.mjs --protobuf` over the transport, with `extra` flags, as `token`.
    fn run(&self, extra: &[&str], token: &str, sqls: &[&str]) -> support::sql_client::NodeRun {
        let mut args = vec!["--protobuf"];
        args.extend_from_slice(self.transport);
        args.extend_from_slice(extra);
        args.push(&self.db.url);
        args.push(token);
        args.extend_from_slice(sqls);
        node(&args)
    }
}

/// The JSON a client run printed; the run must have succeeded.
fn printed(run: support::sql_client::NodeRun) -> Value {
    assert!(run.ok, "node client failed: {}", run.stderr);
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("node client output {:?}: {e}", run.stdout))
}

/// Issue 23, item 1.4: `v3-protobuf` (pipeline and cursor), negotiated by the official Hrana
/// client when it asks for protocol version 3: every type, a batch, a statement error.
#[test]
fn hrana_client_negotiates_protobuf() {
    let pb = Protobuf::start("protobuf", &[], "protobuf", "-9007199254740993");
    // A statement error reaches the client with its message.
    pb.run(&[], &pb.db.token, &["SELECT * FROM nowhere"])
        .refused("no such table");
}

/// Issue 23, item 1.3: `hrana3-protobuf` over WebSocket, negotiated by the official Hrana
/// client offering protocol version 3's subprotocols (`client.mjs --protobuf --ws`):
/// statements with every type, a batch over a cursor, a transaction committed and one rolled
/// back, a statement error, a read-only token's write and a rotated token refused with their
/// reasons; and, at the frame level, a text message on a Protobuf connection (1003) and
/// undecodable bytes (1002).
#[test]
fn hrana_client_negotiates_protobuf_over_websocket() {
    let pb = Protobuf::start(
        "protobuf-ws",
        &["--ws"],
        "hrana3-protobuf",
        "-9223372036854775808",
    );
    let (emu, id, token) = (&pb.emu, &pb.db.id, &pb.db.token);

    // Transactions: one committed, one rolled back by a failing statement.
    let out = printed(pb.run(
        &["--transaction"],
        token,
        &["INSERT INTO p (a) VALUES (3)", "SELECT count(*) FROM p"],
    ));
    assert_eq!(out["results"][1]["rows"], json!([[3]]), "{out:#}");
    pb.run(
        &["--transaction"],
        token,
        &["INSERT INTO p (a) VALUES (4)", "SELECT * FROM nowhere"],
    )
    .refused("no such table");
    let out = printed(pb.run(&[], token, &["SELECT count(*) FROM p"]));
    assert_eq!(out["results"][0]["rows"], json!([[3]]), "{out:#}");

    // Refusals carry their reasons in Protobuf too.
    let (_, ro) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/query-token"),
        Some(json!({"ttl_seconds": 300, "audience": "sql-readonly"})),
    );
    let read_only = str_of(&ro["query_token"]);
    let out = printed(pb.run(&[], &read_only, &["SELECT count(*) FROM p"]));
    assert_eq!(out["results"][0]["rows"], json!([[3]]), "{out:#}");
    pb.run(&[], &read_only, &["DELETE FROM p"])
        .refused("FORBIDDEN");
    let (status, _) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/token/rotate"),
        None,
    );
    assert_eq!(status, 200);
    pb.run(&[], token, &["SELECT 1"])
        .refused("AUTH_JWT_INVALID");
    pb.run(&[], token, &["SELECT 1"]).refused("rotated");

    // Frames of the wrong kind, or bytes that are no client message, close the socket.
    let path = format!("/db/{id}");
    let mut raw = RawWs::connect(emu.url(), &path, "hrana3-protobuf");
    raw.send(&json!({"type": "hello", "jwt": token}));
    let (code, reason) = raw.recv_close();
    assert_eq!(code, 1003, "{reason}");
    assert!(reason.contains("Protobuf"), "{reason}");
    let mut raw = RawWs::connect(emu.url(), &path, "hrana3-protobuf");
    raw.send_frame(0x2, &[0xff, 0xff, 0xff]);
    let (code, reason) = raw.recv_close();
    assert_eq!(code, 1002, "{reason}");
    assert!(reason.contains("Protobuf"), "{reason}");
}

/// The answer line and headers of a WebSocket upgrade request to `path` (raw HTTP/1.1, so
/// that the 101 itself is seen).
fn upgrade_head(base_url: &str, path: &str, protocols: Option<&str>) -> String {
    use std::io::{Read as _, Write as _};
    let addr = base_url.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap_or_else(|e| panic!("{e}"));
    let protocols = protocols
        .map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{protocols}\r\n"
    );
    conn.write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).to_lowercase()
}

/// Issue 23, item 1.3: Hrana over WebSocket on the database URL, with the official client
/// (`ws://`, path form and host form): statements, a batch, interactive transactions
/// (committed, and rolled back by a failing statement), and the token rules of HTTP, with
/// their reasons.
#[test]
fn official_client_over_websocket() {
    let emu = Emulator::start();
    let (status, created) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({"name": "sockets"})),
    );
    assert_eq!(status, 201, "{created:#}");
    let id = str_of(&created["database"]["database_id"]);
    let url = str_of(&created["database"]["database_url"]);
    let token = str_of(&created["database_token"]);
    let bare = url.trim_end_matches('/');

    // The handshake: the best subprotocol offered, a refusal when none is known, and the
    // database URL without an upgrade is still nothing.
    let path = format!("/db/{id}");
    let head = upgrade_head(emu.url(), &path, Some("hrana3-protobuf, hrana3, hrana2"));
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(
        head.contains("sec-websocket-protocol: hrana3-protobuf\r\n"),
        "{head}"
    );
    let head = upgrade_head(emu.url(), &path, Some("hrana3, hrana2"));
    assert!(
        head.contains("sec-websocket-protocol: hrana3\r\n"),
        "{head}"
    );
    let head = upgrade_head(emu.url(), &path, Some("hrana2, hrana1"));
    assert!(
        head.contains("sec-websocket-protocol: hrana2\r\n"),
        "{head}"
    );
    let head = upgrade_head(emu.url(), &path, Some("graphql-ws"));
    assert!(head.starts_with("http/1.1 400"), "{head}");
    let (status, _) = emu.api(Method::GET, &path, None);
    assert_eq!(status, 404);

    let results = node(&[
        "--ws",
        &url,
        &token,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, big INTEGER)",
        "INSERT INTO notes (body, big) VALUES ('first', 9223372036854775807)",
        "SELECT id, body, big FROM notes",
    ])
    .results();
    assert_eq!(results[1]["rowsAffected"], 1);
    assert_eq!(results[1]["lastInsertRowid"], 1);
    assert_eq!(results[2]["columns"], json!(["id", "body", "big"]));
    assert_eq!(
        results[2]["rows"],
        json!([[1, "first", "9223372036854775807"]])
    );
    // A batch (a `batch` request: the client negotiates `hrana2`) and an interactive transaction.
    let results = node(&[
        "--ws",
        "--batch",
        bare,
        &token,
        "INSERT INTO notes (body) VALUES ('batched')",
        "SELECT count(*) FROM notes",
    ])
    .results();
    assert_eq!(results[1]["rows"], json!([[2]]));
    let results = node(&[
        "--ws",
        "--transaction",
        &url,
        &token,
        "INSERT INTO notes (body) VALUES ('in a transaction')",
        "SELECT count(*) FROM notes",
    ])
    .results();
    assert_eq!(results[1]["rows"], json!([[3]]));
    // A failing statement: the transaction is not committed, its insert is gone.
    node(&[
        "--ws",
        "--transaction",
        &url,
        &token,
        "INSERT INTO notes (body) VALUES ('rolled back')",
        "INSERT INTO notes (body) VALUES (NULL)",
    ])
    .refused("NOT NULL constraint failed");
    // The database's own host.
    let port = emu.url().rsplit(':').next().unwrap_or_default().to_owned();
    let by_host = format!("http://{id}.db.localhost:{port}");
    let results = node(&[
        "--ws",
        "--resolve-localhost",
        &by_host,
        &token,
        "SELECT count(*) FROM notes",
    ])
    .results();
    assert_eq!(results[0]["rows"], json!([[3]]));

    // A read-only query token reads only.
    let (_, ro) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/query-token"),
        Some(json!({"ttl_seconds": 300, "audience": "sql-readonly"})),
    );
    let read_only = str_of(&ro["query_token"]);
    let results = node(&["--ws", &url, &read_only, "SELECT count(*) FROM notes"]).results();
    assert_eq!(results[0]["rows"], json!([[3]]));
    node(&["--ws", &url, &read_only, "DELETE FROM notes"])
        .refused("FORBIDDEN: Authorization forbidden");

    // A rotated-away token is refused in `hello`, with sqld's reason and the hint.
    let (status, rotated) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/token/rotate"),
        None,
    );
    assert_eq!(status, 200, "{rotated:#}");
    let new_token = str_of(&rotated["database_token"]);
    node(&["--ws", &url, &token, "SELECT 1"])
        .refused("AUTH_JWT_INVALID: Unauthorized: `The JWT is invalid`");
    node(&["--ws", &url, &token, "SELECT 1"]).refused("rotated");
    let results = node(&["--ws", &url, &new_token, "SELECT count(*) FROM notes"]).results();
    assert_eq!(results[0]["rows"], json!([[3]]));
    // No token at all, and a suspended database.
    node(&["--ws", &url, "", "SELECT 1"]).refused("AUTH_HEADER_NOT_FOUND");
    let (status, _) = emu.api(Method::POST, &format!("/v1/databases/{id}/suspend"), None);
    assert_eq!(status, 200);
    node(&["--ws", &url, &new_token, "SELECT 1"]).refused(&format!(
        "BLOCKED: Authorization forbidden: database `{id}` is suspended"
    ));
    let (status, _) = emu.api(Method::POST, &format!("/v1/databases/{id}/resume"), None);
    assert_eq!(status, 200);

    // The statements count in the usage figures as over HTTP.
    let usage = emu.api_get(&format!("/v1/databases/{id}/usage"));
    assert!(usage["rows_written"].as_i64() >= Some(3), "{usage:#}");
}

/// A bare Hrana-over-WebSocket client (JSON text frames, or any frame, masked as a client
/// must).
struct RawWs {
    conn: std::net::TcpStream,
}

impl RawWs {
    fn connect(base_url: &str, path: &str, protocol: &str) -> RawWs {
        use std::io::{Read as _, Write as _};
        let addr = base_url.trim_start_matches("http://");
        let mut conn = std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("{addr}: {e}"));
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap_or_else(|e| panic!("{e}"));
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Protocol: {protocol}\r\n\r\n"
        );
        conn.write_all(request.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match conn.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                other => panic!("handshake cut: {other:?}"),
            }
        }
        let head = String::from_utf8_lossy(&head).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        RawWs { conn }
    }

    fn send(&mut self, msg: &Value) {
        self.send_frame(0x1, msg.to_string().as_bytes());
    }

    /// One final frame of `opcode` (1 text, 2 binary) with `payload`.
    fn send_frame(&mut self, opcode: u8, payload: &[u8]) {
        use std::io::Write as _;
        let mask = [0x12u8, 0x34, 0x56, 0x78];
        let mut frame = vec![0x80u8 | opcode];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.conn
            .write_all(&frame)
            .unwrap_or_else(|e| panic!("{e}"));
    }

    /// The next frame: its opcode and payload.
    fn recv(&mut self) -> (u8, Vec<u8>) {
        use std::io::Read as _;
        let mut two = [0u8; 2];
        self.conn
            .read_exact(&mut two)
            .unwrap_or_else(|e| panic!("{e}"));
        let len = match two[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                self.conn
                    .read_exact(&mut b)
                    .unwrap_or_else(|e| panic!("{e}"));
                u64::from(u16::from_be_bytes(b))
            }
            127 => {
                let mut b = [0u8; 8];
                self.conn
                    .read_exact(&mut b)
                    .unwrap_or_else(|e| panic!("{e}"));
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0u8; usize::try_from(len).unwrap_or_default()];
        self.conn
            .read_exact(&mut payload)
            .unwrap_or_else(|e| panic!("{e}"));
        (two[0] & 0x0f, payload)
    }

    fn recv_json(&mut self) -> Value {
        let (op, payload) = self.recv();
        assert_eq!(
            op,
            1,
            "not a text frame: {}",
            String::from_utf8_lossy(&payload)
        );
        serde_json::from_slice(&payload).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The close frame's code and reason.
    fn recv_close(&mut self) -> (u16, String) {
        let (op, payload) = self.recv();
        assert_eq!(
            op,
            8,
            "not a close frame: {}",
            String::from_utf8_lossy(&payload)
        );
        let code = u16::from_be_bytes([payload[0], payload[1]]);
        (code, String::from_utf8_lossy(&payload[2..]).into_owned())
    }
}

/// Issue 23, item 1.3, at the protocol level: an open WebSocket follows the token rules at
/// every request (a rotation stops it at its next statement), stored SQL belongs to the
/// connection, and protocol errors close the WebSocket with 1002 and the reason.
#[test]
fn websocket_connections_follow_token_changes_and_close_on_protocol_errors() {
    let emu = Emulator::start();
    let (status, created) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({"name": "raw-ws"})),
    );
    assert_eq!(status, 201, "{created:#}");
    let id = str_of(&created["database"]["database_id"]);
    let token = str_of(&created["database_token"]);
    let path = format!("/db/{id}");

    // A request before hello ends the connection.
    let mut ws = RawWs::connect(emu.url(), &path, "hrana3");
    ws.send(&json!({"type": "request", "request_id": 1, "request": {"type": "open_stream", "stream_id": 1}}));
    let (code, reason) = ws.recv_close();
    assert_eq!(code, 1002);
    assert!(reason.contains("before hello"), "{reason}");

    let mut ws = RawWs::connect(emu.url(), &path, "hrana3");
    ws.send(&json!({"type": "hello", "jwt": token}));
    assert_eq!(ws.recv_json(), json!({"type": "hello_ok"}));
    ws.send(&json!({"type": "request", "request_id": 1, "request": {"type": "open_stream", "stream_id": 1}}));
    assert_eq!(ws.recv_json()["response"]["type"], "open_stream");
    ws.send(&json!({"type": "request", "request_id": 2, "request": {"type": "store_sql", "sql_id": 5, "sql": "SELECT 40 + 2"}}));
    assert_eq!(ws.recv_json()["response"]["type"], "store_sql");
    ws.send(&json!({"type": "request", "request_id": 3, "request": {"type": "execute", "stream_id": 1, "stmt": {"sql_id": 5, "want_rows": true}}}));
    let answer = ws.recv_json();
    assert_eq!(answer["request_id"], 3, "{answer}");
    assert_eq!(
        answer["response"]["result"]["rows"],
        json!([[{"type": "integer", "value": "42"}]]),
        "{answer}"
    );
    ws.send(&json!({"type": "request", "request_id": 4, "request": {"type": "get_autocommit", "stream_id": 1}}));
    assert_eq!(ws.recv_json()["response"]["is_autocommit"], true);

    // The token is rotated while the connection is open: its next statement is refused.
    let (status, _) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/token/rotate"),
        None,
    );
    assert_eq!(status, 200);
    ws.send(&json!({"type": "request", "request_id": 5, "request": {"type": "execute", "stream_id": 1, "stmt": {"sql": "SELECT 1"}}}));
    let answer = ws.recv_json();
    assert_eq!(answer["type"], "response_error", "{answer}");
    assert_eq!(answer["error"]["code"], "AUTH_JWT_INVALID", "{answer}");

    // An unknown stream is a protocol error: the WebSocket closes with the reason.
    ws.send(&json!({"type": "request", "request_id": 6, "request": {"type": "execute", "stream_id": 9, "stmt": {"sql": "SELECT 1"}}}));
    let (code, reason) = ws.recv_close();
    assert_eq!(code, 1002);
    assert_eq!(reason, "Stream 9 not found");
}
