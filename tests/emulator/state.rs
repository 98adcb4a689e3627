//! WaysCloud's and CloudSync's state through the admin API of a running emulator
//! (`/_emulator/state/...`): exported while objects and rows are there (WaysCloud's
//! PostgreSQL and MariaDB data directories, taken with the engines stopped and started
//! again; CloudSync's tenant SQLite files), an import refused while the platform holds
//! objects, a reset that serves a fresh platform, an import that gives back every object
//! and row, and the round trip with the command line both ways (an export of a running
//! emulator imported by `platform-emulator state import` into a fresh one, and an export
//! of a stopped one imported through the API).

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};

use crate::platform::{
    admin_raw, export_entries, health_is_ready, json_of, no_copies_left, state_command, tail,
};
use crate::support::cloudsync::CloudSync;
use crate::support::emulator::Emulator;
use crate::support::platform::Platform;
use crate::support::wayscloud::client_sql;

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {v}"))
        .to_owned()
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// A database WaysCloud made, with what its user connects with.
struct WaysDb {
    db_type: &'static str,
    db_name: String,
    username: String,
    password: String,
}

/// Runs `sql` as the database's user on the engine's port now (the admin listing's).
fn ways_sql(emu: &Emulator, db: &WaysDb, sql: &str) -> (bool, String) {
    let listed = emu
        .on(Platform::WaysCloud)
        .admin_get("/_emulator/databases");
    let port = listed["engines"][db.db_type]["port"]
        .as_u64()
        .unwrap_or_else(|| panic!("{} port in {listed}", db.db_type)) as u16;
    client_sql(
        db.db_type,
        "127.0.0.1",
        port,
        &db.username,
        &db.password,
        &db.db_name,
        sql,
    )
}

/// Every row is back in both engines, under the databases' own users and passwords.
fn ways_rows_are_back(emu: &Emulator, dbs: &[WaysDb], what: &str) {
    let listed = emu
        .on(Platform::WaysCloud)
        .admin_get("/_emulator/databases");
    let mut names: Vec<&str> = listed["databases"]
        .as_array()
        .expect("databases")
        .iter()
        .filter_map(|d| d["db_name"].as_str())
        .collect();
    names.sort_unstable();
    let mut want: Vec<&str> = dbs.iter().map(|d| d.db_name.as_str()).collect();
    want.sort_unstable();
    assert_eq!(names, want, "{what}: {listed}");
    for db in dbs {
        let (ok, out) = ways_sql(emu, db, "SELECT v FROM t ORDER BY v");
        assert!(
            ok && out.lines().collect::<Vec<_>>() == ["row-1", "row-2"],
            "{what}, {}: {out}\n{}",
            db.db_type,
            tail(&emu.log())
        );
    }
}

/// WaysCloud, running: a PostgreSQL and a MariaDB database with rows, exported (their
/// data directories are in the archive, no pid file), refused as an import while they are
/// there, reset (a fresh key, no database, the old users gone from the engines), a bad
/// archive refused, imported (every database, password and row back); then the export
/// imported by the command line into a fresh state directory and served there, and the
/// command line's export of the stopped first emulator imported through the API of the
/// second after a reset. Health is 200 after each operation.
#[test]
fn wayscloud_state_export_reset_and_import_while_running() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root_a = tmp.path().join("a");
    std::fs::create_dir(&root_a).expect("state directory");
    let mut a = Emulator::builder()
        .platforms(&[Platform::WaysCloud])
        .state_dir(&root_a)
        .start();
    let on = a.on(Platform::WaysCloud);
    health_is_ready(&a, Platform::WaysCloud);

    let mut dbs = Vec::new();
    for db_type in ["postgresql", "mariadb"] {
        let (status, made) = on.api(
            Method::POST,
            "/v1/databases",
            Some(json!({"db_type": db_type, "requested_name": "kept"})),
        );
        assert_eq!(status, 201, "{made}");
        let db = WaysDb {
            db_type,
            db_name: s(&made, "db_name"),
            username: s(&made, "username"),
            password: s(&made, "password"),
        };
        let (ok, out) = ways_sql(
            &a,
            &db,
            "CREATE TABLE t (v varchar(20)); INSERT INTO t VALUES ('row-1'), ('row-2');",
        );
        assert!(ok, "{out}");
        dbs.push(db);
    }

    // Export while running: the command line's format, both engines' data directories
    // (at rest: no pid file), the state file; the engines serve again after it.
    let started = std::time::Instant::now();
    let (status, exported) = admin_raw(
        &a,
        Platform::WaysCloud,
        Method::GET,
        "/_emulator/state/export",
        None,
    );
    let export_took = started.elapsed();
    assert_eq!(status, 200, "{}", json_of(&exported));
    let entries = export_entries(&exported, &["wayscloud"]);
    let names: Vec<&str> = entries.iter().map(|(p, _)| p.as_str()).collect();
    for wanted in [
        "wayscloud/wayscloud.sqlite",
        "wayscloud/postgres/data/PG_VERSION",
        "wayscloud/postgres/superuser-password",
        "wayscloud/mariadb/root-password",
    ] {
        assert!(names.contains(&wanted), "{wanted} not in {names:?}");
    }
    assert!(
        names
            .iter()
            .any(|n| n.starts_with(&format!("wayscloud/mariadb/data/{}/", dbs[1].db_name))),
        "the MariaDB database's folder: {names:?}"
    );
    assert!(
        names.iter().all(|n| !n.ends_with("postmaster.pid")
            && !n.ends_with("mariadb.pid")
            && !n.contains(".export-")),
        "{names:?}"
    );
    assert!(no_copies_left(&root_a.join("wayscloud")));
    health_is_ready(&a, Platform::WaysCloud);
    ways_rows_are_back(&a, &dbs, "after the export");

    // An import while it holds databases: 409, nothing changed.
    let (status, answer) = admin_raw(
        &a,
        Platform::WaysCloud,
        Method::POST,
        "/_emulator/state/import",
        Some(exported.clone()),
    );
    assert_eq!(status, 409, "{}", json_of(&answer));
    assert!(
        String::from_utf8_lossy(&answer).contains("state_not_empty"),
        "{}",
        json_of(&answer)
    );
    ways_rows_are_back(&a, &dbs, "after the refused import");

    // Reset: a fresh platform. The old key is unknown, the new one sees no database, and
    // the engines hold no user or row of before.
    let (status, answer) = admin_raw(
        &a,
        Platform::WaysCloud,
        Method::POST,
        "/_emulator/state/reset",
        None,
    );
    assert_eq!(status, 200, "{}\n{}", json_of(&answer), tail(&a.log()));
    health_is_ready(&a, Platform::WaysCloud);
    let (status, _) = on.api(Method::GET, "/v1/databases/postgresql", None);
    assert_eq!(status, 401, "the old key went with the old state");
    let fresh = std::fs::read_to_string(root_a.join("wayscloud/bootstrap-api-key"))
        .expect("bootstrap-api-key");
    let fresh = fresh.trim().to_owned();
    assert_ne!(fresh, on.credential());
    let (status, listed) = on.request(
        Method::GET,
        "/v1/databases/postgresql",
        Some(&fresh),
        &[],
        None,
    );
    assert_eq!(status, 200, "{listed}");
    assert!(!listed.to_string().contains(&dbs[0].db_name), "{listed}");
    let listed = a.on(Platform::WaysCloud).admin_get("/_emulator/databases");
    assert_eq!(listed["databases"], json!([]), "{listed}");
    for db in &dbs {
        let (ok, out) = ways_sql(&a, db, "SELECT v FROM t");
        assert!(
            !ok,
            "{}: the reset's engines still know the user: {out}",
            db.db_type
        );
    }

    // A bad archive: 400, nothing changed, nothing staged left.
    let (status, answer) = admin_raw(
        &a,
        Platform::WaysCloud,
        Method::POST,
        "/_emulator/state/import",
        Some(b"not a tar at all".to_vec()),
    );
    assert_eq!(status, 400, "{}", json_of(&answer));
    assert!(no_copies_left(&root_a.join("wayscloud")));
    health_is_ready(&a, Platform::WaysCloud);

    // Import: every database, password and row back, and the old key with them.
    let started = std::time::Instant::now();
    let (status, answer) = admin_raw(
        &a,
        Platform::WaysCloud,
        Method::POST,
        "/_emulator/state/import",
        Some(exported.clone()),
    );
    let import_took = started.elapsed();
    let answer = json_of(&answer);
    assert_eq!(status, 200, "{answer}\n{}", tail(&a.log()));
    assert_eq!(answer["platform"], "wayscloud", "{answer}");
    assert!(no_copies_left(&root_a.join("wayscloud")));
    health_is_ready(&a, Platform::WaysCloud);
    ways_rows_are_back(&a, &dbs, "after the import");
    let (status, listed) = on.api(Method::GET, "/v1/databases/postgresql", None);
    assert_eq!(status, 200, "the old key is back: {listed}");
    assert!(listed.to_string().contains(&dbs[0].db_name), "{listed}");
    let (status, _) = on.request(
        Method::GET,
        "/v1/databases/postgresql",
        Some(&fresh),
        &[],
        None,
    );
    assert_eq!(status, 401, "the reset's key went with the reset's state");
    eprintln!(
        "wayscloud live export: {:.1} s ({} bytes), import: {:.1} s",
        export_took.as_secs_f64(),
        exported.len(),
        import_took.as_secs_f64()
    );

    // The export of the running emulator, imported by the command line into a fresh
    // directory and served there.
    assert!(a.stop(), "the emulator stops cleanly");
    let live_file = tmp.path().join("live.tar");
    std::fs::write(&live_file, &exported).expect("writing the export");
    let root_b = tmp.path().join("b");
    let out = state_command(&[
        "import",
        "--from",
        utf8(&live_file),
        "--state-dir",
        utf8(&root_b),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b = Emulator::builder()
        .platforms(&[Platform::WaysCloud])
        .state_dir(&root_b)
        .start();
    health_is_ready(&b, Platform::WaysCloud);
    ways_rows_are_back(&b, &dbs, "served from the command line's import");

    // The command line's export of the stopped first emulator, imported through the API
    // of the second (after a reset).
    let stopped_file = tmp.path().join("stopped.tar");
    let out = state_command(&[
        "export",
        "--platform",
        "wayscloud",
        "--to",
        utf8(&stopped_file),
        "--state-dir",
        utf8(&root_a),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, answer) = admin_raw(
        &b,
        Platform::WaysCloud,
        Method::POST,
        "/_emulator/state/reset",
        None,
    );
    assert_eq!(status, 200, "{}", json_of(&answer));
    let (status, answer) = admin_raw(
        &b,
        Platform::WaysCloud,
        Method::POST,
        "/_emulator/state/import",
        Some(std::fs::read(&stopped_file).expect("the command line's export")),
    );
    assert_eq!(status, 200, "{}\n{}", json_of(&answer), tail(&b.log()));
    health_is_ready(&b, Platform::WaysCloud);
    ways_rows_are_back(&b, &dbs, "imported from the command line's export");
}

const NODE: &str = "state.sqlite.cloud";
const NODE_KEY: &str = "node-key-state";

/// The rows of the tenant SQLite file, read with SQLite.
fn tenant_rows(file: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(file).expect("the tenant file");
    let mut stmt = conn
        .prepare("SELECT name FROM users ORDER BY name")
        .expect("users");
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .expect("rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("rows");
    rows
}

/// CloudSync, running: an SQLite Cloud node with a tenant file (rows), a registered
/// database with a table enabled; exported (the tenant file is in the archive), refused as
/// an import, reset (a fresh key, no database, no node, no tenant file), imported (the
/// database, its tables and the rows back); then imported by the command line into a fresh
/// directory and served there.
#[test]
fn cloudsync_state_export_reset_and_import_while_running() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root_a = tmp.path().join("a");
    std::fs::create_dir(&root_a).expect("state directory");
    let mut a = Emulator::builder()
        .platforms(&[Platform::CloudSync])
        .state_dir(&root_a)
        .start();
    let on = a.on(Platform::CloudSync);
    let (status, node) = on.admin(
        Method::PUT,
        &format!("/_emulator/cloudsync/sqlitecloud/nodes/{NODE}"),
        Some(json!({"apikey": NODE_KEY})),
    );
    assert_eq!(status, 200, "{node}");
    let node_dir = std::path::PathBuf::from(s(&node, "dir"));
    let tenant = CloudSync::sqlite_database(
        &node_dir,
        "appdb",
        "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT); \
         INSERT INTO users VALUES ('u1', 'row-1'), ('u2', 'row-2');",
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
    let id = s(&reg["data"], "managedDatabaseId");
    let relative = tenant
        .strip_prefix(&root_a)
        .expect("the tenant file is in the state")
        .to_owned();

    let (status, exported) = admin_raw(
        &a,
        Platform::CloudSync,
        Method::GET,
        "/_emulator/state/export",
        None,
    );
    assert_eq!(status, 200, "{}", json_of(&exported));
    let entries = export_entries(&exported, &["cloudsync"]);
    let names: Vec<&str> = entries.iter().map(|(p, _)| p.as_str()).collect();
    assert!(names.contains(&"cloudsync/cloudsync.sqlite"), "{names:?}");
    assert!(
        names.contains(&utf8(&relative)),
        "{relative:?} in {names:?}"
    );
    assert!(no_copies_left(&root_a.join("cloudsync")));
    health_is_ready(&a, Platform::CloudSync);

    let (status, answer) = admin_raw(
        &a,
        Platform::CloudSync,
        Method::POST,
        "/_emulator/state/import",
        Some(exported.clone()),
    );
    assert_eq!(status, 409, "{}", json_of(&answer));

    let (status, answer) = admin_raw(
        &a,
        Platform::CloudSync,
        Method::POST,
        "/_emulator/state/reset",
        None,
    );
    assert_eq!(status, 200, "{}", json_of(&answer));
    health_is_ready(&a, Platform::CloudSync);
    let (status, _) = on.api(Method::GET, "/v1/databases", None);
    assert_eq!(status, 401, "the old key went with the old state");
    let fresh = std::fs::read_to_string(root_a.join("cloudsync/api-key")).expect("api-key");
    let fresh = fresh.trim().to_owned();
    let (status, list) = on.request(Method::GET, "/v1/databases", Some(&fresh), &[], None);
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["data"], json!([]), "{list}");
    assert!(!tenant.exists(), "the tenant file went with the reset");

    let (status, answer) = admin_raw(
        &a,
        Platform::CloudSync,
        Method::POST,
        "/_emulator/state/import",
        Some(exported.clone()),
    );
    assert_eq!(status, 200, "{}", json_of(&answer));
    health_is_ready(&a, Platform::CloudSync);
    let (status, got) = on.api(Method::GET, &format!("/v1/databases/{id}"), None);
    assert_eq!(status, 200, "{got}");
    let (_, check) = on.api(Method::GET, &format!("/v1/databases/{id}/connection"), None);
    assert_eq!(check["data"]["ok"], true, "{check}");
    assert_eq!(tenant_rows(&tenant), ["row-1", "row-2"]);

    assert!(a.stop(), "the emulator stops cleanly");
    let file = tmp.path().join("cloudsync.tar");
    std::fs::write(&file, &exported).expect("writing the export");
    let root_b = tmp.path().join("b");
    let out = state_command(&[
        "import",
        "--from",
        utf8(&file),
        "--state-dir",
        utf8(&root_b),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b = Emulator::builder()
        .platforms(&[Platform::CloudSync])
        .state_dir(&root_b)
        .start();
    health_is_ready(&b, Platform::CloudSync);
    let (status, got) =
        b.on(Platform::CloudSync)
            .api(Method::GET, &format!("/v1/databases/{id}"), None);
    assert_eq!(status, 200, "{got}");
    assert_eq!(tenant_rows(&root_b.join(&relative)), ["row-1", "row-2"]);
}
