//! The WaysCloud part of the emulator over HTTP, checked with the engines' own clients:
//! every database is real (PostgreSQL 15 and MariaDB started by the emulator).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::wayscloud::{alive, client_sql, Relay, WaysCloud};

const TYPES: [&str; 2] = ["postgresql", "mariadb"];

fn create(w: &WaysCloud, db_type: &str, name: &str) -> Value {
    let (status, body) = w.api(
        Method::POST,
        "/v1/databases",
        Some(json!({"db_type": db_type, "requested_name": name})),
    );
    assert_eq!(status, 201, "{body}");
    body
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {v}"))
        .to_owned()
}

fn port(v: &Value) -> u16 {
    v["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .expect("port")
}

fn sql(db: &Value, password: &str, text: &str) -> (bool, String) {
    client_sql(
        &s(db, "db_type"),
        "127.0.0.1",
        port(db),
        &s(db, "username"),
        password,
        &s(db, "db_name"),
        text,
    )
}

/// Create, connect with the password from create, the idempotent answer, rotation (old
/// refused, new accepted), credentials without password, list, info, delete with the
/// user: nothing left in the engine.
#[test]
fn databases_are_real_on_both_engines() {
    let w = WaysCloud::start();
    for t in TYPES {
        let db = create(&w, t, "app_1");
        let name = s(&db, "db_name");
        let tag = if t == "postgresql" { "pg" } else { "my" };
        assert_eq!(name, format!("cust_6dd1d906_{tag}_app_1"));
        assert_eq!(db["password_generated"], true);
        let pw = s(&db, "password");
        assert!(s(&db, "connection_string").contains(&pw));
        let (ok, out) = sql(
            &db,
            &pw,
            "CREATE TABLE t (v varchar(20)); INSERT INTO t VALUES ('ü-row'); SELECT v FROM t;",
        );
        assert!(ok, "{out}");
        assert!(out.contains("ü-row"), "{out}");

        // The same name again: idempotent, no password.
        let (status, again) = w.api(
            Method::POST,
            "/v1/databases",
            Some(json!({"db_type": t, "requested_name": "app_1"})),
        );
        assert_eq!(status, 200, "{again}");
        assert_eq!(again["idempotent"], true);
        assert_eq!(again["password"], "");
        assert!(!s(&again, "connection_string").contains(&pw));

        // Rotation: old refused, new accepted.
        let (status, rotated) = w.api(
            Method::POST,
            &format!("/v1/databases/{t}/{name}/credentials/rotate"),
            None,
        );
        assert_eq!(status, 200, "{rotated}");
        let new_pw = s(&rotated, "password");
        assert_ne!(new_pw, pw);
        let (ok, out) = sql(&db, &pw, "SELECT 1");
        assert!(!ok, "the old password still works: {out}");
        let (ok, out) = sql(&db, &new_pw, "SELECT v FROM t");
        assert!(ok && out.contains("ü-row"), "{out}");

        let (status, creds) = w.api(
            Method::GET,
            &format!("/v1/databases/{t}/{name}/credentials"),
            None,
        );
        assert_eq!(status, 200);
        assert!(creds["password"].is_null(), "{creds}");
        assert!(!creds.to_string().contains(&new_pw));

        let (_, list) = w.api(Method::GET, &format!("/v1/databases/{t}"), None);
        assert_eq!(list["databases"][0]["db_name"], name.as_str(), "{list}");
        let (_, info) = w.api(Method::GET, &format!("/v1/databases/{t}/{name}/info"), None);
        assert_eq!(info["connection_limit"], 100, "{info}");
        assert!(info["size_mb"].as_f64().is_some(), "{info}");
        let (_, metrics) = w.api(
            Method::GET,
            &format!("/v1/databases/{t}/{name}/metrics"),
            None,
        );
        assert!(
            metrics["total_queries"].as_i64().unwrap_or(0) > 0,
            "{metrics}"
        );

        let (status, body) = w.api(
            Method::DELETE,
            &format!("/v1/databases/{t}/{name}?username={name}"),
            None,
        );
        assert_eq!(status, 200, "{body}");
        let (status, _) = w.api(Method::GET, &format!("/v1/databases/{t}/{name}/info"), None);
        assert_eq!(status, 404);
        if t == "postgresql" {
            assert_eq!(
                w.admin_sql(
                    t,
                    &format!("SELECT count(*) FROM pg_database WHERE datname = '{name}'")
                ),
                "0"
            );
            assert_eq!(
                w.admin_sql(
                    t,
                    &format!("SELECT count(*) FROM pg_roles WHERE rolname = '{name}'")
                ),
                "0"
            );
        } else {
            assert_eq!(w.admin_sql(t, &format!("SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'")), "0");
            assert_eq!(
                w.admin_sql(
                    t,
                    &format!("SELECT count(*) FROM mysql.user WHERE User = '{name}'")
                ),
                "0"
            );
        }
    }
    let (_, history) = w.api(Method::GET, "/v1/databases/history", None);
    assert_eq!(history["total"], 2, "{history}");
    assert_eq!(history["databases"][0]["status"], "deleted");
}

/// Holds `n` sessions open as the database's user; returns the children.
fn hold_sessions(db: &Value, password: &str, n: usize) -> Vec<std::process::Child> {
    let t = s(db, "db_type");
    (0..n)
        .map(|_| {
            let mut cmd = if t == "postgresql" {
                let mut c = crate::support::outside_tool("psql");
                c.args([
                    "-X",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &port(db).to_string(),
                    "-U",
                    &s(db, "username"),
                    "-d",
                    &s(db, "db_name"),
                    "-c",
                    "SELECT pg_sleep(20)",
                ])
                .env("PGPASSWORD", password);
                c
            } else {
                let mut c = crate::support::outside_tool("mysql");
                c.args([
                    "--no-defaults",
                    "--protocol=TCP",
                    "-h",
                    "127.0.0.1",
                    "-P",
                    &port(db).to_string(),
                    "-u",
                    &s(db, "username"),
                    &s(db, "db_name"),
                    "-e",
                    "SELECT SLEEP(20)",
                ])
                .env("MYSQL_PWD", password);
                c
            };
            cmd.stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("session")
        })
        .collect()
}

/// PATCH connection_limit is enforced by the engine; restart ends the sessions.
#[test]
fn the_connection_limit_is_enforced_and_restart_ends_sessions() {
    let w = WaysCloud::start();
    for t in TYPES {
        let db = create(&w, t, "limited");
        let (name, pw) = (s(&db, "db_name"), s(&db, "password"));
        let (status, body) = w.api(
            Method::PATCH,
            &format!("/v1/databases/{t}/{name}"),
            Some(json!({"connection_limit": 10, "description": "Ünïcode ✓"})),
        );
        assert_eq!(status, 200, "{body}");
        let mut sessions = hold_sessions(&db, &pw, 10);
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let (_, info) = w.api(Method::GET, &format!("/v1/databases/{t}/{name}/info"), None);
            if info["connection_count"].as_i64() == Some(10) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "sessions did not open: {info}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let (ok, out) = sql(&db, &pw, "SELECT 1");
        assert!(!ok, "an 11th session was let in");
        assert!(
            out.contains("too many connections") || out.contains("max_user_connections"),
            "{out}"
        );
        let (_, info) = w.api(Method::GET, &format!("/v1/databases/{t}/{name}/info"), None);
        assert_eq!(info["description"], "Ünïcode ✓");
        let (status, body) = w.api(
            Method::POST,
            &format!("/v1/databases/{t}/{name}/restart"),
            None,
        );
        assert_eq!(status, 200, "{body}");
        assert!(s(&body, "message").contains("Terminated 10"), "{body}");
        for mut child in sessions.drain(..) {
            let status = child.wait().expect("wait");
            assert!(!status.success(), "a session survived the restart");
        }
        let (ok, out) = sql(&db, &pw, "SELECT 1");
        assert!(ok, "{out}");
        for bad in [
            json!({"connection_limit": 9}),
            json!({"connection_limit": 1001}),
            json!({"connection_limit": 20.5}),
            json!({}),
        ] {
            let (status, body) = w.api(
                Method::PATCH,
                &format!("/v1/databases/{t}/{name}"),
                Some(bad),
            );
            assert_eq!(status, 422, "{body}");
        }
    }
}

/// Firewall rules: a client from 127.0.0.2 is refused, let in by a rule, shut out when the
/// rule goes; bad addresses are 422 naming `ip_address`.
#[test]
fn firewall_rules_are_enforced_by_the_engines() {
    let w = WaysCloud::start();
    for t in TYPES {
        let db = create(&w, t, "fw");
        let (name, pw) = (s(&db, "db_name"), s(&db, "password"));
        let relay = Relay::start(
            Ipv4Addr::new(127, 0, 0, 2),
            SocketAddr::from(([127, 0, 0, 1], port(&db))),
        );
        let outside = |label: &str| {
            let (ok, out) = client_sql(
                t,
                "127.0.0.1",
                relay.port,
                &s(&db, "username"),
                &pw,
                &name,
                "SELECT 1",
            );
            eprintln!("{t} {label}: {ok} {out}");
            ok
        };
        assert!(!outside("before"), "127.0.0.2 got in without a rule");
        for bad in ["10.0.0.1/24", "300.1.1.1", "::1", "10.0.0.0/33", ""] {
            let (status, body) = w.api(
                Method::POST,
                &format!("/v1/databases/{t}/{name}/firewall"),
                Some(json!({"ip_address": bad})),
            );
            assert_eq!(status, 422, "{bad}: {body}");
            assert_eq!(body["field"], "ip_address");
        }
        let (status, rule) = w.api(
            Method::POST,
            &format!("/v1/databases/{t}/{name}/firewall"),
            Some(json!({"ip_address": "127.0.0.2/32", "description": "office"})),
        );
        assert_eq!(status, 201, "{rule}");
        let (status, _) = w.api(
            Method::POST,
            &format!("/v1/databases/{t}/{name}/firewall"),
            Some(json!({"ip_address": "127.0.0.2/32"})),
        );
        assert_eq!(status, 409);
        assert!(outside("with rule"), "the rule did not let 127.0.0.2 in");
        let (_, list) = w.api(
            Method::GET,
            &format!("/v1/databases/{t}/{name}/firewall"),
            None,
        );
        assert_eq!(list["total"], 1);
        let rule_id = s(&rule, "rule_id");
        let (status, _) = w.api(
            Method::DELETE,
            &format!("/v1/databases/{t}/{name}/firewall/{rule_id}"),
            None,
        );
        assert_eq!(status, 200);
        assert!(
            !outside("after"),
            "127.0.0.2 still gets in after the rule is gone"
        );
        let (status, _) = w.api(
            Method::DELETE,
            &format!("/v1/databases/{t}/{name}/firewall/{rule_id}"),
            None,
        );
        assert_eq!(status, 404);
    }
}

/// Snapshots are real dumps: restore brings the old rows back (in place and into a new
/// database); deleting a snapshot removes it.
#[test]
fn snapshots_restore_old_rows() {
    let w = WaysCloud::start();
    for t in TYPES {
        let db = create(&w, t, "snap");
        let (name, pw) = (s(&db, "db_name"), s(&db, "password"));
        assert!(
            sql(
                &db,
                &pw,
                "CREATE TABLE t (v varchar(20)); INSERT INTO t VALUES ('old');"
            )
            .0
        );
        let (status, snap) = w.api(
            Method::POST,
            &format!("/v1/databases/{t}/{name}/snapshots"),
            Some(json!({"description": "before"})),
        );
        assert_eq!(status, 201, "{snap}");
        let id = s(&snap, "snapshot_id");
        assert!(id.starts_with("snap_"), "{id}");
        assert!(
            sql(
                &db,
                &pw,
                "DELETE FROM t; INSERT INTO t VALUES ('new'); CREATE TABLE later (x int);"
            )
            .0
        );
        let (status, body) = w.api(
            Method::POST,
            &format!("/v1/databases/{t}/{name}/restore"),
            Some(json!({"snapshot_id": id})),
        );
        assert_eq!(status, 200, "{body}");
        let (ok, out) = sql(&db, &pw, "SELECT v FROM t");
        assert!(ok && out == "old", "{out}");
        assert!(
            !sql(&db, &pw, "SELECT * FROM later").0,
            "a table made after the snapshot survived"
        );

        let (status, body) = w.api(
            Method::POST,
            &format!("/v1/databases/{t}/{name}/restore"),
            Some(json!({"snapshot_id": id, "target_db_name": "copy"})),
        );
        assert_eq!(status, 200, "{body}");
        let copy = s(&body, "db_name");
        let (_, rotated) = w.api(
            Method::POST,
            &format!("/v1/databases/{t}/{copy}/credentials/rotate"),
            None,
        );
        let mut copy_db = db.clone();
        copy_db["db_name"] = json!(copy);
        copy_db["username"] = json!(copy);
        let (ok, out) = sql(&copy_db, &s(&rotated, "password"), "SELECT v FROM t");
        assert!(ok && out == "old", "{out}");

        let (_, list) = w.api(
            Method::GET,
            &format!("/v1/databases/{t}/{name}/snapshots"),
            None,
        );
        assert_eq!(list["snapshots"][0]["snapshot_id"], id.as_str());
        let (status, _) = w.api(
            Method::DELETE,
            &format!("/v1/databases/{t}/{name}/snapshots/{id}"),
            None,
        );
        assert_eq!(status, 200);
        let (status, _) = w.api(
            Method::POST,
            &format!("/v1/databases/{t}/{name}/restore"),
            Some(json!({"snapshot_id": id})),
        );
        assert_eq!(status, 404);
    }
}

/// Keys, permissions, ownership, quota, validation, backup policy, engines.
#[test]
fn permissions_ownership_quota_and_policy() {
    let w = WaysCloud::start_with_env(&[("WAYSCLOUD_EMULATOR_QUOTA", "2")]);
    let (status, body) = w.call(None, Method::GET, "/v1/quota", None);
    assert_eq!(status, 401, "{body}");
    let (status, _) = w.call(Some("wcs_wrong"), Method::GET, "/v1/quota", None);
    assert_eq!(status, 401);
    let reader = w.new_key(&["database:read"]);
    let (status, body) = w.call(
        Some(&reader),
        Method::POST,
        "/v1/databases",
        Some(json!({"db_type": "postgresql"})),
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["permission"], "database:create");
    assert!(s(&body, "detail").contains("database:create"));

    let db = create(&w, "postgresql", "mine");
    let name = s(&db, "db_name");
    // Another customer's key sees it as unknown.
    let (status, _) = w.call(
        Some(&reader),
        Method::GET,
        &format!("/v1/databases/postgresql/{name}/info"),
        None,
    );
    assert_eq!(status, 404);

    for (body, field) in [
        (json!({"db_type": "oracle"}), "db_type"),
        (
            json!({"db_type": "postgresql", "requested_name": "a-b"}),
            "requested_name",
        ),
        (
            json!({"db_type": "postgresql", "requested_name": "x".repeat(31)}),
            "requested_name",
        ),
    ] {
        let (status, answer) = w.api(Method::POST, "/v1/databases", Some(body));
        assert_eq!(status, 422, "{answer}");
        assert_eq!(answer["field"], field);
    }
    let generated = w.api(
        Method::POST,
        "/v1/databases",
        Some(json!({"db_type": "mariadb"})),
    );
    assert_eq!(generated.0, 201, "{}", generated.1);
    assert!(
        s(&generated.1, "db_name").starts_with("cust_6dd1d906_my_2"),
        "{}",
        generated.1
    );
    let (status, body) = w.api(
        Method::POST,
        "/v1/databases",
        Some(json!({"db_type": "mariadb", "requested_name": "third"})),
    );
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "quota_exceeded");
    let (_, quota) = w.api(Method::GET, "/v1/quota", None);
    assert_eq!(
        (quota["used"].as_i64(), quota["limit"].as_i64()),
        (Some(2), Some(2)),
        "{quota}"
    );

    let (_, policy) = w.api(
        Method::GET,
        &format!("/v1/databases/postgresql/{name}/backup-policy"),
        None,
    );
    assert_eq!(policy["enabled"], false);
    let (status, policy) = w.api(Method::PUT, &format!("/v1/databases/postgresql/{name}/backup-policy"), Some(json!({"enabled": true, "frequency": "weekly", "retention_days": 14, "time_of_day": "03:30"})));
    assert_eq!(status, 200, "{policy}");
    assert!(policy["next_backup"].as_str().is_some(), "{policy}");
    for (bad, field) in [
        (
            json!({"enabled": true, "frequency": "monthly"}),
            "frequency",
        ),
        (
            json!({"enabled": true, "time_of_day": "25:00"}),
            "time_of_day",
        ),
        (json!({"frequency": "daily"}), "enabled"),
    ] {
        let (status, body) = w.api(
            Method::PUT,
            &format!("/v1/databases/postgresql/{name}/backup-policy"),
            Some(bad),
        );
        assert_eq!(
            (status, body["field"].as_str()),
            (422, Some(field)),
            "{body}"
        );
    }
    // An internal key acts for the customer it names; a regular key's customer_id is ignored.
    let (status, internal) = w.admin(
        Method::POST,
        "/_emulator/api-keys",
        json!({"permissions": ["database:create", "database:read"], "internal": true}),
    );
    assert_eq!(status, 200, "{internal}");
    let internal = s(&internal, "api_key");
    let (status, body) = w.call(Some(&internal), Method::POST, "/v1/databases", Some(json!({"db_type": "postgresql", "requested_name": "for_them", "customer_id": "c0ffee01"})));
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["db_name"], "cust_c0ffee01_pg_for_them");
    let (_, list) = w.call(
        Some(&internal),
        Method::GET,
        "/v1/databases/postgresql?customer_id=c0ffee01",
        None,
    );
    assert_eq!(
        list["databases"][0]["db_name"], "cust_c0ffee01_pg_for_them",
        "{list}"
    );
    let (_, list) = w.call(
        Some(&reader),
        Method::GET,
        "/v1/databases/postgresql?customer_id=c0ffee01",
        None,
    );
    assert_eq!(
        list["databases"].as_array().map(Vec::len),
        Some(0),
        "a regular key listed another customer's: {list}"
    );

    let (_, engines) = w.api(Method::GET, "/v1/databases/engines", None);
    assert!(
        s(&engines["engines"][0], "version").starts_with("15."),
        "{engines}"
    );
}

/// State and data survive a restart; a killed emulator leaves no engine running.
#[test]
fn restarts_keep_data_and_a_crash_leaves_no_engine() {
    let mut w = WaysCloud::start();
    let db = create(&w, "postgresql", "kept");
    let pw = s(&db, "password");
    assert!(
        sql(
            &db,
            &pw,
            "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept');"
        )
        .0
    );
    let pids = w.engine_pids();
    assert_eq!(pids.len(), 2, "both engines have pid files");
    w.restart();
    for pid in &pids {
        assert!(!alive(*pid), "engine {pid} outlived a clean stop");
    }
    let (ok, out) = sql(&db, &pw, "SELECT v FROM t");
    assert!(ok && out == "kept", "{out}");
    let pids = w.engine_pids();
    w.kill();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while pids.iter().any(|p| alive(*p)) {
        assert!(
            std::time::Instant::now() < deadline,
            "an engine outlived the killed emulator"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The order of checks the extractors keep on a database route (`docs/api/wayscloud.md`):
/// the key (401), its permission (403), the path's `db_type` (422), the database (404),
/// then the body (JSON that is not an object: 422 naming `body`).
#[test]
fn the_order_of_checks_on_a_database_route() {
    let w = WaysCloud::start();
    let key = w.api_key().to_owned();
    let reader = w.new_key(&["database:read"]);
    let patch = |key: Option<&str>, path: &str| w.call(key, Method::PATCH, path, Some(json!([1])));
    let (status, body) = patch(None, "/v1/databases/oracle/nothing");
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    let (status, body) = patch(Some(&reader), "/v1/databases/oracle/nothing");
    assert_eq!(
        (status, body["permission"].as_str()),
        (403, Some("database:update")),
        "{body}"
    );
    let (status, body) = patch(Some(&key), "/v1/databases/oracle/nothing");
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("db_type")),
        "{body}"
    );
    let (status, body) = patch(Some(&key), "/v1/databases/postgresql/nothing");
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    let name = s(&create(&w, "postgresql", "order"), "db_name");
    let (status, body) = patch(Some(&key), &format!("/v1/databases/postgresql/{name}"));
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("body")),
        "{body}"
    );
    // A route with a third segment: the permission before the database.
    let rule = format!("/v1/databases/postgresql/{name}/firewall/no-such-rule");
    let (status, body) = w.call(Some(&reader), Method::DELETE, &rule, None);
    assert_eq!(
        (status, body["permission"].as_str()),
        (403, Some("database:update")),
        "{body}"
    );
    let (status, body) = w.call(Some(&key), Method::DELETE, &rule, None);
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
}
