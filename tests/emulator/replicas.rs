//! Embedded replicas on the database URL (issue 23, part 1, item 7): the official client
//! (`@libsql/client` with `syncUrl`, through the native `libsql` package) keeps a local
//! copy of an emulated database and syncs it; and the sync routes it uses (`info`,
//! `export/<generation>`, `sync/<generation>/<start>/<end>`) at the protocol level.

use crate::support;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use support::sql_client::node;
use support::Emulator;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// The size of one frame of the sync protocol: a 24-byte header, then a 4096-byte page.
const FRAME_SIZE: usize = 24 + 4096;

fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_owned()
}

/// A database made through the API: its id, URL and token.
fn create_db(emu: &Emulator, name: &str) -> (String, String, String) {
    let (status, created) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({ "name": name })),
    );
    assert_eq!(status, 201, "{created:#}");
    (
        str_of(&created["database"]["database_id"]),
        str_of(&created["database"]["database_url"]),
        str_of(&created["database_token"]),
    )
}

/// `node client.mjs --replica <file> <url> <token> <sql>...`: what it printed.
fn replica(
    file: &std::path::Path,
    url: &str,
    token: &str,
    sqls: &[&str],
) -> support::sql_client::NodeRun {
    let file = file.to_str().expect("a UTF-8 path");
    let mut args = vec!["--replica", file, url, token];
    args.extend_from_slice(sqls);
    node(&args)
}

fn printed(run: &support::sql_client::NodeRun) -> Value {
    assert!(run.ok, "node client failed: {}", run.stderr);
    serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("node client output {:?}: {e}", run.stdout))
}

/// What both clients' replica tests start from: database `name`, its table `notes` with
/// one row (`first`) written over Hrana, and a temporary folder for the replica files: the
/// emulator, the database's id, URL and token, and the folder.
fn replicated(name: &str) -> (Emulator, String, String, String, tempfile::TempDir) {
    let emu = Emulator::start();
    let (id, url, token) = create_db(&emu, name);
    node(&[
        &url,
        &token,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
        "INSERT INTO notes (body) VALUES ('first')",
    ])
    .results();
    let dir = tempfile::tempdir().expect("temp dir");
    (emu, id, url, token, dir)
}

#[test]
fn official_client_keeps_an_embedded_replica() {
    let (emu, id, url, token, dir) = replicated("replicated");
    // The first sync downloads the database; reads are then answered from the file.
    let local = dir.path().join("local.db");
    let out = printed(&replica(
        &local,
        &url,
        &token,
        &["SELECT body FROM notes ORDER BY id"],
    ));
    assert_eq!(out["results"][0]["rows"], json!([["first"]]), "{out:#}");
    assert!(local.is_file(), "the replica is a local file");

    // A write over Hrana shows up in the replica after its next sync.
    node(&[&url, &token, "INSERT INTO notes (body) VALUES ('second')"]).results();
    let out = printed(&replica(
        &local,
        &url,
        &token,
        &["SELECT body FROM notes ORDER BY id"],
    ));
    assert_eq!(
        out["results"][0]["rows"],
        json!([["first"], ["second"]]),
        "{out:#}"
    );

    // A write through the replica lands in the database (remote writes), and the replica
    // reads it back at once (read your writes).
    let out = printed(&replica(
        &local,
        &url,
        &token,
        &[
            "INSERT INTO notes (body) VALUES ('through the replica')",
            "SELECT count(*) FROM notes",
        ],
    ));
    assert_eq!(out["results"][0]["rowsAffected"], 1, "{out:#}");
    assert_eq!(out["results"][1]["rows"], json!([[3]]), "{out:#}");
    let results = node(&[&url, &token, "SELECT body FROM notes WHERE id = 3"]).results();
    assert_eq!(results[0]["rows"], json!([["through the replica"]]));

    // Many pages at once (a table larger than one pull of frames), and a fresh replica of
    // the same database starts from the export and catches up.
    node(&[
        &url,
        &token,
        "CREATE TABLE big (b BLOB)",
        "INSERT INTO big WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
         WHERE i < 300) SELECT randomblob(3000) FROM n",
    ])
    .results();
    let out = printed(&replica(
        &local,
        &url,
        &token,
        &["SELECT count(*), sum(length(b)) FROM big"],
    ));
    assert_eq!(
        out["results"][0]["rows"],
        json!([[300, 900_000]]),
        "{out:#}"
    );
    let fresh = dir.path().join("fresh.db");
    let out = printed(&replica(
        &fresh,
        &url,
        &token,
        &["SELECT count(*) FROM notes", "SELECT count(*) FROM big"],
    ));
    assert_eq!(out["results"][0]["rows"], json!([[3]]), "{out:#}");
    assert_eq!(out["results"][1]["rows"], json!([[300]]), "{out:#}");

    // A read-only query token may keep a replica, not write through it.
    let (_, ro) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/query-token"),
        Some(json!({"ttl_seconds": 300, "audience": "sql-readonly"})),
    );
    let read_only = str_of(&ro["query_token"]);
    let out = printed(&replica(
        &dir.path().join("read-only.db"),
        &url,
        &read_only,
        &["SELECT count(*) FROM notes"],
    ));
    assert_eq!(out["results"][0]["rows"], json!([[3]]), "{out:#}");
    replica(
        &dir.path().join("read-only.db"),
        &url,
        &read_only,
        &["DELETE FROM notes"],
    )
    .refused("FORBIDDEN");

    // A suspended database refuses to sync (the export and the frames), and syncs again
    // once resumed.
    let (status, _) = emu.api(Method::POST, &format!("/v1/databases/{id}/suspend"), None);
    assert_eq!(status, 200);
    replica(&local, &url, &token, &["SELECT 1"]).refused("suspended");
    replica(
        &dir.path().join("while-suspended.db"),
        &url,
        &token,
        &["SELECT 1"],
    )
    .refused("suspended");
    let (status, _) = emu.api(Method::POST, &format!("/v1/databases/{id}/resume"), None);
    assert_eq!(status, 200);
    let out = printed(&replica(
        &local,
        &url,
        &token,
        &["SELECT count(*) FROM notes"],
    ));
    assert_eq!(out["results"][0]["rows"], json!([[3]]), "{out:#}");

    // A rotated-away token is refused before anything is downloaded.
    let (status, rotated) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/token/rotate"),
        None,
    );
    assert_eq!(status, 200, "{rotated:#}");
    let refused_file = dir.path().join("refused.db");
    replica(&refused_file, &url, &token, &["SELECT 1"]).refused("Unauthorized");
    let new_token = str_of(&rotated["database_token"]);
    let out = printed(&replica(
        &local,
        &url,
        &new_token,
        &["SELECT count(*) FROM notes"],
    ));
    assert_eq!(out["results"][0]["rows"], json!([[3]]), "{out:#}");
}

/// `python tests/sql_client/replica.py <file> <url> <token> <sql>...` with the Python libSQL
/// client (PyPI `libsql`, installed into `.venv` by `scripts/setup.sh`; `LIBSQL_PYTHON`
/// names another interpreter that has it): whether it succeeded, stdout, stderr.
fn python_replica(
    file: &std::path::Path,
    url: &str,
    token: &str,
    sqls: &[&str],
) -> (bool, String, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var("LIBSQL_PYTHON")
        .unwrap_or_else(|_| root.join(".venv/bin/python").display().to_string());
    let found = support::outside_tool(&python)
        .args(["-c", "import libsql"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the Python libSQL client is not installed for {python}: run `scripts/setup.sh` (it \
         installs PyPI `libsql` into .venv), or set LIBSQL_PYTHON"
    );
    let out = support::outside_tool(&python)
        .arg(root.join("tests/sql_client/replica.py"))
        .arg(file)
        .args([url, token])
        .args(sqls)
        .output()
        .unwrap_or_else(|e| panic!("running {python}: {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn python_client_keeps_an_embedded_replica() {
    let (emu, id, url, token, dir) = replicated("replicated-py");
    let local = dir.path().join("local.db");
    let rows = |run: (bool, String, String)| -> Value {
        let (ok, stdout, stderr) = run;
        assert!(ok, "python client failed: {stderr}");
        let parsed: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("python client output {stdout:?}: {e}"));
        parsed["results"].clone()
    };
    let results = rows(python_replica(
        &local,
        &url,
        &token,
        &["SELECT body FROM notes"],
    ));
    assert_eq!(results[0], json!([["first"]]));
    // A write over Hrana is in the replica after the next sync; a write through the
    // replica lands in the database.
    node(&[&url, &token, "INSERT INTO notes (body) VALUES ('second')"]).results();
    let results = rows(python_replica(
        &local,
        &url,
        &token,
        &[
            "SELECT body FROM notes ORDER BY id",
            "INSERT INTO notes (body) VALUES ('from python')",
        ],
    ));
    assert_eq!(results[0], json!([["first"], ["second"]]));
    let results = node(&[&url, &token, "SELECT body FROM notes WHERE id = 3"]).results();
    assert_eq!(results[0]["rows"], json!([["from python"]]));
    let results = rows(python_replica(
        &local,
        &url,
        &token,
        &["SELECT count(*) FROM notes"],
    ));
    assert_eq!(results[0], json!([[3]]));
    // Refusals carry the server's reason: a rotated token, a suspended database.
    let (status, rotated) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/token/rotate"),
        None,
    );
    assert_eq!(status, 200, "{rotated:#}");
    let (ok, _, stderr) = python_replica(&local, &url, &token, &["SELECT 1"]);
    assert!(!ok && stderr.contains("AUTH_JWT_INVALID"), "{stderr}");
    let (ok, _, stderr) = python_replica(&dir.path().join("new.db"), &url, &token, &["SELECT 1"]);
    assert!(!ok && stderr.contains("401"), "{stderr}");
    let new_token = str_of(&rotated["database_token"]);
    let (status, _) = emu.api(Method::POST, &format!("/v1/databases/{id}/suspend"), None);
    assert_eq!(status, 200);
    let (ok, _, stderr) = python_replica(&local, &url, &new_token, &["SELECT 1"]);
    assert!(!ok && stderr.contains("suspended"), "{stderr}");
    let (status, _) = emu.api(Method::POST, &format!("/v1/databases/{id}/resume"), None);
    assert_eq!(status, 200);
    let results = rows(python_replica(
        &local,
        &url,
        &new_token,
        &["SELECT count(*) FROM notes"],
    ));
    assert_eq!(results[0], json!([[3]]));
}

/// GET with a bearer token: the status and the body's bytes.
async fn get(http: &reqwest::Client, url: &str, token: &str) -> (StatusCode, Vec<u8>) {
    let resp = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = resp.status();
    let bytes = resp.bytes().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    (status, bytes.to_vec())
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_routes_serve_frames_under_the_token_rules() -> TestResult {
    let emu = tokio::task::spawn_blocking(Emulator::start).await?;
    let http = support::emulator::http_client();
    let api = |method: Method, path: String, body: Option<Value>| {
        let http = http.clone();
        let url = format!("{}{path}", emu.url());
        let token = emu.token().to_owned();
        async move {
            let body = body.map(|b| b.to_string().into_bytes());
            let reply = support::emulator::send(&http, method, &url, Some(&token), &[], body)
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            (reply.status, reply.body)
        }
    };
    let (status, created) = api(
        Method::POST,
        "/v1/projects/prj_local/databases".into(),
        Some(json!({"name": "sync-routes"})),
    )
    .await;
    assert_eq!(status, 201, "{created:#}");
    let id = str_of(&created["database"]["database_id"]);
    let url = str_of(&created["database"]["database_url"]);
    let token = str_of(&created["database_token"]);
    let base = url.trim_end_matches('/').to_owned();
    let hrana = |sql: &'static str| {
        let http = http.clone();
        let url = format!("{base}/v2/pipeline");
        let token = token.clone();
        async move {
            let body =
                json!({"requests": [{"type": "execute", "stmt": {"sql": sql}}, {"type": "close"}]});
            let reply = support::emulator::send(
                &http,
                Method::POST,
                &url,
                Some(&token),
                &[],
                Some(body.to_string().into_bytes()),
            )
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(reply.status, 200, "{sql}: {:#}", reply.body);
            assert_eq!(
                reply.body["results"][0]["type"], "ok",
                "{sql}: {:#}",
                reply.body
            );
        }
    };
    hrana("CREATE TABLE t (a)").await;

    // info: the current generation.
    let (status, body) = get(&http, &format!("{base}/info"), &token).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let generation = json_of(&body)["current_generation"]
        .as_u64()
        .ok_or("no current_generation")?;
    assert!(generation >= 1);

    // export: a SQLite file at the start of the generation.
    let (status, export) = get(&http, &format!("{base}/export/{generation}"), &token).await;
    assert_eq!(status, 200);
    assert!(
        export.starts_with(b"SQLite format 3\0"),
        "not a database file"
    );
    assert_eq!(export.len() % 4096, 0);
    let (status, body) = get(&http, &format!("{base}/export/{}", generation + 5), &token).await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));

    // A write, then its frames: whole frames, the last one a commit (its page count set).
    hrana("INSERT INTO t VALUES (randomblob(5000))").await;
    let (status, frames) = get(&http, &format!("{base}/sync/{generation}/1/129"), &token).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&frames));
    assert!(
        !frames.is_empty() && frames.len() % FRAME_SIZE == 0,
        "{} bytes",
        frames.len()
    );
    let count = frames.len() / FRAME_SIZE;
    let last = &frames[(count - 1) * FRAME_SIZE..];
    let pages = u32::from_be_bytes([last[4], last[5], last[6], last[7]]);
    assert!(pages >= 3, "the commit frame says {pages} pages");
    // Asking again from the same frame answers the same frames (a log, not a queue); past
    // the last one is the end of the generation, with the current generation.
    let (_, again) = get(&http, &format!("{base}/sync/{generation}/1/129"), &token).await;
    assert_eq!(again, frames);
    let (status, body) = get(
        &http,
        &format!("{base}/sync/{generation}/{}/{}", count + 1, count + 129),
        &token,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(json_of(&body)["generation"], generation);
    // A part of the range: exactly the frames asked for.
    let (status, two) = get(&http, &format!("{base}/sync/{generation}/1/3"), &token).await;
    assert_eq!(status, 200);
    assert_eq!(two.len(), 2.min(count) * FRAME_SIZE);
    assert_eq!(&two[..], &frames[..two.len()]);
    let (status, _) = get(&http, &format!("{base}/sync/{generation}/x/3"), &token).await;
    assert_eq!(status, 400);

    // Pushing frames is refused with a reason; a read-only token is told it cannot write.
    let push = http
        .post(format!(
            "{base}/sync/{generation}/{}/{}",
            count + 1,
            count + 2
        ))
        .bearer_auth(&token)
        .body(vec![0u8; FRAME_SIZE])
        .send()
        .await?;
    assert_eq!(push.status(), 400);
    assert!(push.text().await?.contains("remote writes"));
    let (_, ro) = api(
        Method::POST,
        format!("/v1/databases/{id}/query-token"),
        Some(json!({"ttl_seconds": 300, "audience": "sql-readonly"})),
    )
    .await;
    let read_only = str_of(&ro["query_token"]);
    let (status, _) = get(
        &http,
        &format!("{base}/sync/{generation}/1/129"),
        &read_only,
    )
    .await;
    assert_eq!(status, 200, "a read-only token may pull");
    let push = http
        .post(format!("{base}/sync/{generation}/1/2"))
        .bearer_auth(&read_only)
        .body(vec![0u8; FRAME_SIZE])
        .send()
        .await?;
    assert_eq!(push.status(), 403);

    // Refusals, as on the other routes of the database URL.
    let (status, _) = get(&http, &format!("{base}/info"), "cdt_not-the-token").await;
    assert_eq!(status, 401);
    let (status, _) = get(&http, &format!("{base}/export/{generation}"), "").await;
    assert_eq!(status, 401);
    let (status, _) = api(Method::POST, format!("/v1/databases/{id}/suspend"), None).await;
    assert_eq!(status, 200);
    let (status, body) = get(&http, &format!("{base}/sync/{generation}/1/129"), &token).await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("suspended"));
    let (status, _) = api(Method::POST, format!("/v1/databases/{id}/resume"), None).await;
    assert_eq!(status, 200);
    let (status, _) = api(
        Method::POST,
        format!("/v1/databases/{id}/token/rotate"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = get(&http, &format!("{base}/info"), &token).await;
    assert_eq!(status, 401, "a rotated token is refused");
    let (status, _) = get(&http, &format!("{}/db/db_nope/info", emu.url()), &token).await;
    assert_eq!(status, 404);
    Ok(())
}
