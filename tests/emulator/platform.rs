//! The emulator as one command for all three platforms: `GET /_emulator/health` and the
//! version header on every listener, the read-only inspection routes, and the state's
//! export and import (`platform-emulator state ...`): objects made through each API, with
//! rows in every engine, come back in a new state directory; and Comwit's state exported,
//! reset and imported while it runs (`/_emulator/state/...`).

use std::path::Path;
use std::process::Command;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::cloudsync::CloudSync;
use crate::support::emulator::Emulator;
use crate::support::platform::Platform;
use crate::support::wayscloud::client_sql;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const NODE: &str = "project.sqlite.cloud";
const NODE_KEY: &str = "node-key-123";

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {v}"))
        .to_owned()
}

/// (status, version header, body) of `GET path` on `platform`, with no credential.
fn get_bare(emu: &Emulator, platform: Platform, path: &str) -> (u16, String, Value) {
    let url = format!("{}{path}", emu.on(platform).url());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let reply = rt
        .block_on(crate::support::emulator::send(
            &crate::support::emulator::http_client(),
            Method::GET,
            &url,
            None,
            &[],
            None,
        ))
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let version = reply
        .headers
        .get("x-emulator-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (reply.status.as_u16(), version, reply.body)
}

pub(crate) fn tail(log: &str) -> &str {
    let start = log.len().saturating_sub(6000);
    let start = (start..log.len())
        .find(|i| log.is_char_boundary(*i))
        .unwrap_or(log.len());
    &log[start..]
}

pub(crate) fn state_command(args: &[&str]) -> std::process::Output {
    Command::new(crate::support::emulator_binary("platform-emulator"))
        .arg("state")
        .args(args)
        .output()
        .expect("running platform-emulator state")
}

/// One statement over Hrana v3 on a Comwit database (its URL's path on the listener).
fn comwit_sql(emu: &Emulator, db_url: &str, token: &str, sql: &str) -> Value {
    let on = emu.on(Platform::Comwit);
    let path = db_url
        .strip_prefix(on.url())
        .unwrap_or_else(|| panic!("{db_url} is not on {}", on.url()));
    let path = format!("{}/v3/pipeline", path.trim_end_matches('/'));
    let body = json!({"baton": null, "requests": [
        {"type": "execute", "stmt": {"sql": sql}}, {"type": "close"}
    ]});
    let (status, answer) = on.request(Method::POST, &path, Some(token), &[], Some(body));
    assert_eq!(status, 200, "{sql}: {answer}");
    assert_eq!(answer["results"][0]["type"], "ok", "{sql}: {answer}");
    answer["results"][0]["response"]["result"].clone()
}

pub(crate) fn health_is_ready(emu: &Emulator, platform: Platform) -> Value {
    let (status, version, body) = get_bare(emu, platform, "/_emulator/health");
    assert_eq!(status, 200, "{}: {body}", platform.name());
    assert_eq!(version, VERSION, "{}", platform.name());
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["platform"], platform.name(), "{body}");
    body
}

fn no_temporary_files_beside(file: &Path) {
    let dir = file.parent().expect("parent");
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let name = entry.expect("entry").file_name();
        assert!(
            !name.to_string_lossy().contains(".tmp-"),
            "a temporary export file is left: {name:?}"
        );
    }
}

/// Health and the version header on all three listeners; objects on all three through
/// their APIs with rows in Comwit's SQLite, WaysCloud's PostgreSQL and MariaDB and a
/// CloudSync tenant; export refused while running, then taken stopped; imported into a
/// new directory and started there: every object and row is back. Last, an engine that
/// dies turns the health 503, naming it.
#[test]
fn three_platforms_export_import_and_health() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root_a = tmp.path().join("a");
    std::fs::create_dir(&root_a).expect("state directory");
    let mut a = Emulator::builder()
        .platforms(&Platform::ALL)
        .state_dir(&root_a)
        .start();

    for p in Platform::ALL {
        health_is_ready(&a, p);
        // The version header is on every answer: an unknown route, a refused admin call.
        let (status, version, _) = get_bare(&a, p, "/no/such/route");
        assert_eq!((status, version.as_str()), (404, VERSION), "{}", p.name());
        let (status, version, _) = get_bare(&a, p, "/_emulator/stats");
        assert_eq!((status, version.as_str()), (401, VERSION), "{}", p.name());
    }
    let ways = health_is_ready(&a, Platform::WaysCloud);
    let engines: Vec<&str> = ways["engines"]
        .as_array()
        .expect("engines")
        .iter()
        .filter_map(|e| e["engine"].as_str())
        .collect();
    assert_eq!(engines, ["state", "postgresql", "mariadb"], "{ways}");
    // Comwit: a database with a row.
    let (status, made) = a.on(Platform::Comwit).api(
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({"name": "kept"})),
    );
    assert_eq!(status, 201, "{made}");
    let db_id = s(&made["database"], "database_id");
    let db_url = s(&made["database"], "database_url");
    let db_token = s(&made, "database_token");
    comwit_sql(&a, &db_url, &db_token, "CREATE TABLE t (v TEXT)");
    comwit_sql(
        &a,
        &db_url,
        &db_token,
        "INSERT INTO t VALUES ('comwit-row')",
    );

    // WaysCloud: one database per engine, each with a row.
    let mut ways_dbs = Vec::new();
    for t in ["postgresql", "mariadb"] {
        let (status, db) = a.on(Platform::WaysCloud).api(
            Method::POST,
            "/v1/databases",
            Some(json!({"db_type": t, "requested_name": "kept"})),
        );
        assert_eq!(status, 201, "{db}");
        let pw = s(&db, "password");
        let port = db["port"].as_u64().expect("port") as u16;
        let (ok, out) = client_sql(
            t,
            "127.0.0.1",
            port,
            &s(&db, "username"),
            &pw,
            &s(&db, "db_name"),
            &format!("CREATE TABLE t (v varchar(20)); INSERT INTO t VALUES ('{t}-row');"),
        );
        assert!(ok, "{out}");
        ways_dbs.push((t, db, pw));
    }
    let listed = a.on(Platform::WaysCloud).admin_get("/_emulator/databases");
    assert_eq!(
        listed["databases"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    let (status, _, _) = get_bare(&a, Platform::WaysCloud, "/_emulator/databases");
    assert_eq!(status, 401, "the inspection route takes the admin secret");

    // CloudSync: a node, a tenant SQLite file in the state, a registered database.
    let on = a.on(Platform::CloudSync);
    let (status, node) = on.admin(
        Method::PUT,
        &format!("/_emulator/cloudsync/sqlitecloud/nodes/{NODE}"),
        Some(json!({"apikey": NODE_KEY})),
    );
    assert_eq!(status, 200, "{node}");
    let node_dir = std::path::PathBuf::from(s(&node, "dir"));
    CloudSync::sqlite_database(
        &node_dir,
        "appdb",
        "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT); INSERT INTO users VALUES ('u1', 'cloudsync-row');",
    );
    let (status, reg) = on.api(
        Method::POST,
        "/v1/databases",
        Some(json!({
            "label": "Primary DB",
            "connectionString": format!("sqlitecloud://{NODE}:8860?apikey={NODE_KEY}"),
            "provider": "sqlitecloud",
            "flavor": "sqlitecloud",
            "databaseName": "appdb",
        })),
    );
    assert!((200..300).contains(&status), "{reg}");
    let cs_id = s(&reg["data"], "managedDatabaseId");

    // Export while it runs: refused, no file.
    let file = tmp.path().join("state.tar");
    let file_arg = file.to_str().expect("utf-8 path");
    let root_a = root_a.to_str().expect("utf-8 path").to_owned();
    let out = state_command(&["export", "--to", file_arg, "--state-dir", &root_a]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stop it first"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!file.exists());
    no_temporary_files_beside(&file);

    assert!(a.stop(), "the emulator stops cleanly");
    let out = state_command(&["export", "--to", file_arg, "--state-dir", &root_a]);
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for p in Platform::ALL {
        assert!(
            report.contains(&format!("exported {}:", p.name())),
            "{report}"
        );
    }
    no_temporary_files_beside(&file);

    let root_b = tmp.path().join("b");
    let root_b_arg = root_b.to_str().expect("utf-8 path");
    let out = state_command(&["import", "--from", file_arg, "--state-dir", root_b_arg]);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // A second import over it is refused: the state is there.
    let out = state_command(&["import", "--from", file_arg, "--state-dir", root_b_arg]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("state reset --platform comwit"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Usage errors: exit 2, naming the argument.
    for (args, names) in [
        (&["export", "--state-dir", root_b_arg][..], "--to FILE"),
        (
            &["reset", "--platform", "nope", "--state-dir", root_b_arg][..],
            "--platform",
        ),
        (
            &["export", "--to", file_arg, "--from", file_arg][..],
            "--from",
        ),
    ] {
        let out = state_command(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(names), "{args:?}: {stderr}");
    }

    let b = Emulator::builder()
        .platforms(&Platform::ALL)
        .state_dir(&root_b)
        .start();
    for p in Platform::ALL {
        health_is_ready(&b, p);
    }
    assert_eq!(b.token(), a.token(), "the bootstrap token came back");

    // Comwit: the database, its token and its row.
    let db = b
        .on(Platform::Comwit)
        .api_get(&format!("/v1/databases/{db_id}"));
    assert_eq!(db["name"], "kept", "{db}");
    let b_url = s(&db, "database_url");
    let rows = comwit_sql(&b, &b_url, &db_token, "SELECT v FROM t");
    assert_eq!(rows["rows"][0][0]["value"], "comwit-row", "{rows}");

    // WaysCloud: both databases, their passwords and rows.
    let listed = b.on(Platform::WaysCloud).admin_get("/_emulator/databases");
    assert_eq!(
        listed["databases"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    for (t, db, pw) in &ways_dbs {
        let port = listed["engines"][*t]["port"].as_u64().expect("port") as u16;
        let (ok, out) = client_sql(
            t,
            "127.0.0.1",
            port,
            &s(db, "username"),
            pw,
            &s(db, "db_name"),
            "SELECT v FROM t",
        );
        assert!(
            ok && out.trim() == format!("{t}-row"),
            "{t}: {out}\nexport: {report}\nfirst emulator's log: {}\nsecond's: {}\nA's PostgreSQL log: {}",
            tail(&a.log()),
            tail(&b.log()),
            tail(&std::fs::read_to_string(Path::new(&root_a).join("wayscloud/postgres/postgres.log")).unwrap_or_default())
        );
    }

    // CloudSync: the database, and its tenant answers.
    let (status, got) =
        b.on(Platform::CloudSync)
            .api(Method::GET, &format!("/v1/databases/{cs_id}"), None);
    assert_eq!(status, 200, "{got}");
    let (_, check) = b.on(Platform::CloudSync).api(
        Method::GET,
        &format!("/v1/databases/{cs_id}/connection"),
        None,
    );
    assert_eq!(check["data"]["ok"], true, "{check}");

    // An engine that dies: WaysCloud's health is 503 and names it; the others stay 200.
    let pid_file = b.state_dir().join("wayscloud/postgres/data/postmaster.pid");
    let pid = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        .expect("PostgreSQL's pid");
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let body = loop {
        let (status, version, body) = get_bare(&b, Platform::WaysCloud, "/_emulator/health");
        assert_eq!(version, VERSION);
        if status == 503 {
            break body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {status}: {body}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(body["ready"], false, "{body}");
    assert_eq!(body["not_ready"], json!(["postgresql"]), "{body}");
    health_is_ready(&b, Platform::Comwit);
}

/// `scripts/common.sh`, which `scripts/emulator.sh` and `scripts/demo.sh` run on: starts
/// the three platforms (free ports), reads every listening line, prints each platform's
/// exports, finds the running emulator again, and stops it.
#[test]
fn the_scripts_start_all_three_platforms_and_print_their_exports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = tmp.path().join("state");
    let script = r#"
set -euo pipefail
source scripts/common.sh
PLATFORM_PORT=([comwit]=0 [wayscloud]=0 [cloudsync]=0)
APPS_PORT=0
DNS_PORT=0
emulator_start "$BIN" "$STATE" 0 "$STATE.log" "$ALL_PLATFORMS"
for p in $ALL_PLATFORMS; do
  echo "url $p ${PLATFORM_URL[$p]}"
  echo "health $p $(curl -s -o /dev/null -w '%{http_code}' "${PLATFORM_URL[$p]}/_emulator/health")"
  platform_exports "$p" "$STATE"
done
echo "apps $EMULATOR_APPS_URL dns $EMULATOR_DNS"
PLATFORM_URL=()
emulator_running "$STATE" && echo "running ${#PLATFORM_URL[@]}"
for p in $ALL_PLATFORMS; do export_platform_env "$p" "$STATE"; done
echo "keys ${#COMWIT_TOKEN} ${#WAYSCLOUD_API_KEY} ${#CLOUDSYNC_API_KEY}"
emulator_stop "$EMULATOR_PID" "$STATE"
emulator_running "$STATE" || echo stopped
"#;
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("BIN", crate::support::emulator_binary("platform-emulator"))
        .env("STATE", &state)
        .output()
        .expect("bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let root = state.display();
    for p in Platform::ALL {
        let name = p.name();
        assert!(stdout.contains(&format!("health {name} 200")), "{stdout}");
        let url_line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("url {name} http://127.0.0.1:")))
            .unwrap_or_else(|| panic!("no URL of {name}: {stdout}"));
        let url = url_line.rsplit(' ').next().unwrap_or_default();
        let facts = p.facts();
        assert!(
            stdout.contains(&format!("export {}=\"{url}\"", facts.url_env)),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "export {}=\"$(cat {root}/{})\"",
                facts.credential_env, facts.credential_file
            )),
            "{stdout}"
        );
    }
    assert!(
        stdout.contains("export COMWIT_PROJECT_ID=prj_local"),
        "{stdout}"
    );
    assert!(stdout.contains("apps http://127.0.0.1:"), "{stdout}");
    assert!(stdout.contains("running 3"), "{stdout}");
    let keys: Vec<usize> = stdout
        .lines()
        .find_map(|l| l.strip_prefix("keys "))
        .unwrap_or_else(|| panic!("no keys line: {stdout}"))
        .split(' ')
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(keys.len() == 3 && keys.iter().all(|n| *n > 0), "{stdout}");
    assert!(stdout.contains("stopped"), "{stdout}");
}

/// Status line and body of `GET path` over a fresh connection to `port`; `None` when
/// nothing accepts yet.
fn raw_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.split(' ').nth(1)?.parse().ok()?;
    Some((status, answer))
}

/// While WaysCloud initialises its engines, its address already answers: 503 with
/// `"not_ready": ["starting"]` and the version header, then 200 once they are ready.
#[test]
fn health_is_503_while_the_engines_start() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut child = Command::new(crate::support::emulator_binary("platform-emulator"))
        .args([
            "--serve",
            &format!("wayscloud=127.0.0.1:{port}"),
            "--state-dir",
        ])
        .arg(tmp.path().join("state"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("platform-emulator");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut starting = None;
    let ready = loop {
        match raw_get(port, "/_emulator/health") {
            Some((503, answer)) => starting = starting.or(Some(answer)),
            Some((200, answer)) => break answer,
            Some((status, answer)) => panic!("{status}: {answer}"),
            None => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not ready within 120 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let starting = starting.expect("no 503 while the engines initialised");
    let lower = starting.to_ascii_lowercase();
    assert!(
        lower.contains(&format!("x-emulator-version: {VERSION}")),
        "{starting}"
    );
    assert!(lower.contains("retry-after: 1"), "{starting}");
    assert!(
        starting.contains(r#""not_ready":["starting"]"#),
        "{starting}"
    );
    assert!(ready.contains(r#""ready":true"#), "{ready}");
    assert!(ready.contains(r#""engine":"postgresql""#), "{ready}");
}

/// An admin request with a raw body, answered as raw bytes: (status, body).
pub(crate) fn admin_raw(
    emu: &Emulator,
    platform: Platform,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, Vec<u8>) {
    let on = emu.on(platform);
    let url = format!("{}{path}", on.url());
    let secret = on.admin_secret().to_owned();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async move {
        let mut req = crate::support::emulator::http_client()
            .request(method, &url)
            .header("X-Emulator-Admin", secret);
        if let Some(body) = body {
            req = req.header("content-type", "application/x-tar").body(body);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        (status, bytes.to_vec())
    })
}

pub(crate) fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// The entries of an export (path, size), after checking its manifest names `platforms`.
pub(crate) fn export_entries(tar_bytes: &[u8], platforms: &[&str]) -> Vec<(String, u64)> {
    let mut archive = tar::Archive::new(tar_bytes);
    let mut entries = archive.entries().expect("a tar");
    let mut first = entries.next().expect("a first entry").expect("an entry");
    assert_eq!(
        first.path().expect("path").to_string_lossy(),
        "manifest.json"
    );
    let mut text = String::new();
    std::io::Read::read_to_string(&mut first, &mut text).expect("manifest");
    let manifest: Value = serde_json::from_str(&text).expect("manifest JSON");
    assert_eq!(manifest["platforms"], json!(platforms), "{manifest}");
    assert_eq!(manifest["emulator_version"], VERSION, "{manifest}");
    drop(first);
    entries
        .map(|e| {
            let e = e.expect("an entry");
            (
                e.path().expect("path").to_string_lossy().into_owned(),
                e.header().size().expect("size"),
            )
        })
        .collect()
}

pub(crate) fn no_copies_left(state: &Path) -> bool {
    std::fs::read_dir(state).expect("state dir").all(|e| {
        let name = e.expect("entry").file_name();
        let name = name.to_string_lossy();
        !name.starts_with(".export-") && !name.starts_with(".import-")
    })
}

/// The rows of `SELECT v FROM t` on a Comwit database, as strings.
fn comwit_rows(emu: &Emulator, db_url: &str, token: &str) -> Vec<String> {
    let result = comwit_sql(emu, db_url, token, "SELECT v FROM t ORDER BY v");
    result["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r[0]["value"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Comwit's state through the admin API of a running emulator: an export (the command
/// line's format: the command imports it too) while objects and rows are there; an import
/// refused while the platform holds objects; a reset that empties it and serves a fresh
/// state (a new bootstrap token); the import that gives back every object and row (the old
/// token works again); a bad archive refused with nothing changed; and an export whose
/// client goes away mid-stream, which leaves the state intact and serving, and no copy
/// behind.
#[test]
fn comwit_state_export_reset_and_import_while_running() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let state = tmp.path().join("state");
    std::fs::create_dir(&state).expect("state directory");
    let emu = Emulator::builder()
        .platforms(&[Platform::Comwit])
        .state_dir(&state)
        .start();
    let on = emu.on(Platform::Comwit);

    // Objects: a database with rows (one in a big blob, so that an export is larger than
    // what sockets buffer), and a domain.
    let (status, made) = on.api(
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({"name": "kept"})),
    );
    assert_eq!(status, 201, "{made}");
    let db_id = s(&made["database"], "database_id");
    let db_url = s(&made["database"], "database_url");
    let db_token = s(&made, "database_token");
    comwit_sql(&emu, &db_url, &db_token, "CREATE TABLE t (v TEXT)");
    comwit_sql(
        &emu,
        &db_url,
        &db_token,
        "INSERT INTO t VALUES ('row-1'), ('row-2')",
    );
    comwit_sql(&emu, &db_url, &db_token, "CREATE TABLE big (b BLOB)");
    comwit_sql(
        &emu,
        &db_url,
        &db_token,
        "INSERT INTO big VALUES (randomblob(24000000))",
    );
    let (status, domain) = on.api(
        Method::POST,
        "/v1/projects/prj_local/domains",
        Some(json!({"domain": "state-test.example"})),
    );
    assert_eq!(status, 201, "{domain}");
    let domain_id = s(&domain, "domain_id");

    // Export: one tar, Comwit's folder with its state file and the database's file (its
    // WAL folded in: no -wal entry), nothing transient, no copy left behind.
    let (status, exported) = admin_raw(
        &emu,
        Platform::Comwit,
        Method::GET,
        "/_emulator/state/export",
        None,
    );
    assert_eq!(status, 200, "{}", json_of(&exported));
    let entries = export_entries(&exported, &["comwit"]);
    let names: Vec<&str> = entries.iter().map(|(p, _)| p.as_str()).collect();
    assert!(names.contains(&"comwit/emulator.sqlite"), "{names:?}");
    let db_file = format!("comwit/databases/{db_id}.db");
    let db_size = entries
        .iter()
        .find(|(p, _)| *p == db_file)
        .map(|(_, size)| *size)
        .unwrap_or_else(|| panic!("{db_file} in {names:?}"));
    assert!(db_size > 24_000_000, "the blob is in the file: {db_size}");
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with("-wal") && !n.ends_with("-shm")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .all(|n| !n.contains(".lock") && !n.contains(".export-")),
        "{names:?}"
    );
    assert!(no_copies_left(&state));

    // The command line reads it: imported into an empty directory, the row is in the
    // database's file (read with SQLite itself).
    let file = tmp.path().join("comwit.tar");
    std::fs::write(&file, &exported).expect("writing the export");
    let other = tmp.path().join("other");
    let out = state_command(&[
        "import",
        "--from",
        file.to_str().expect("utf-8"),
        "--state-dir",
        other.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = rusqlite::Connection::open(other.join(format!("databases/{db_id}.db")))
        .expect("the imported database file");
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
        .expect("rows");
    assert_eq!(n, 2);
    drop(conn);

    // An import while the platform holds objects: 409, nothing changed.
    let (status, answer) = admin_raw(
        &emu,
        Platform::Comwit,
        Method::POST,
        "/_emulator/state/import",
        Some(exported.clone()),
    );
    let answer = json_of(&answer);
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "state_not_empty", "{answer}");
    assert_eq!(comwit_rows(&emu, &db_url, &db_token), ["row-1", "row-2"]);

    // Reset: the platform serves a fresh state. The old token is unknown there, the new
    // bootstrap token sees an empty project.
    let (status, answer) = admin_raw(
        &emu,
        Platform::Comwit,
        Method::POST,
        "/_emulator/state/reset",
        None,
    );
    assert_eq!(status, 200, "{}", json_of(&answer));
    health_is_ready(&emu, Platform::Comwit);
    let (status, _) = on.api(Method::GET, "/v1/projects/prj_local/databases", None);
    assert_eq!(status, 401, "the old token went with the old state");
    let fresh = std::fs::read_to_string(state.join("bootstrap-token")).expect("bootstrap-token");
    let fresh = fresh.trim();
    assert_ne!(fresh, on.credential());
    let (status, listed) = on.request(
        Method::GET,
        "/v1/projects/prj_local/databases",
        Some(fresh),
        &[],
        None,
    );
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["databases"], json!([]), "{listed}");
    assert!(!state.join("databases").join(format!("{db_id}.db")).exists());

    // A bad archive: 400, the (empty) state untouched and serving.
    let (status, answer) = admin_raw(
        &emu,
        Platform::Comwit,
        Method::POST,
        "/_emulator/state/import",
        Some(b"not a tar at all".to_vec()),
    );
    assert_eq!(status, 400, "{}", json_of(&answer));
    assert!(no_copies_left(&state));

    // Import: every object and row is back, under the old tokens.
    let (status, answer) = admin_raw(
        &emu,
        Platform::Comwit,
        Method::POST,
        "/_emulator/state/import",
        Some(exported.clone()),
    );
    let answer = json_of(&answer);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["platform"], "comwit", "{answer}");
    assert!(answer["files"].as_u64() >= Some(2), "{answer}");
    assert!(no_copies_left(&state));
    let got = on.api_get(&format!("/v1/databases/{db_id}"));
    assert_eq!(got["name"], "kept", "{got}");
    assert_eq!(comwit_rows(&emu, &db_url, &db_token), ["row-1", "row-2"]);
    let got = on.api_get(&format!("/v1/domains/{domain_id}"));
    assert_eq!(got["domain"], "state-test.example", "{got}");
    let (status, _) = on.request(
        Method::GET,
        "/v1/projects/prj_local/databases",
        Some(fresh),
        &[],
        None,
    );
    assert_eq!(status, 401, "the reset's token went with the reset's state");

    // An export whose client goes away after its first bytes: the state stays as it was
    // and serving, and the copy it streamed from is removed.
    {
        use std::io::{Read, Write};
        let port = on
            .url()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse::<u16>().ok())
            .expect("port");
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        write!(
            stream,
            "GET /_emulator/state/export HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Emulator-Admin: {}\r\n\r\n",
            on.admin_secret()
        )
        .expect("request");
        let mut first = [0u8; 4096];
        let n = stream.read(&mut first).expect("the first bytes");
        assert!(
            String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&first[..n])
        );
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !(no_copies_left(&state) && emu.log().contains("state export ended early")) {
        assert!(
            std::time::Instant::now() < deadline,
            "the dropped export is not over: {}",
            tail(&emu.log())
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    health_is_ready(&emu, Platform::Comwit);
    assert_eq!(comwit_rows(&emu, &db_url, &db_token), ["row-1", "row-2"]);
    let got = on.api_get(&format!("/v1/databases/{db_id}"));
    assert_eq!(got["name"], "kept", "{got}");
}
