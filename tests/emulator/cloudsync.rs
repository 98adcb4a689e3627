//! The CloudSync part of the emulator over HTTP (`docs/api/cloudsync.md`), with
//! `sqlitecloud://` tenant databases as real SQLite files checked by an outside client.

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::cloudsync::CloudSync;

const NODE: &str = "project.sqlite.cloud";
const NODE_KEY: &str = "node-key-123";

fn conn(key: &str) -> String {
    format!("sqlitecloud://{NODE}:8860?apikey={key}")
}

fn register(emu: &CloudSync, db: &str, key: &str) -> (u16, Value) {
    emu.api(
        Method::POST,
        "/v1/databases",
        Some(json!({
            "label": "Primary DB",
            "connectionString": conn(key),
            "provider": "sqlitecloud",
            "flavor": "sqlitecloud",
            "databaseName": db,
        })),
    )
}

fn code(body: &Value) -> &str {
    body["errors"][0]["code"].as_str().unwrap_or("")
}

fn with_tenant() -> (CloudSync, std::path::PathBuf) {
    let emu = CloudSync::start();
    let dir = emu.sqlite_node(NODE, NODE_KEY);
    let file = CloudSync::sqlite_database(
        &dir,
        "appdb",
        "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT);
         CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL);
         CREATE TABLE logs (line TEXT);",
    );
    (emu, file)
}

#[test]
fn envelope_auth_and_organization() {
    let emu = CloudSync::start();
    let (status, body) = emu.request(Method::GET, "/v1/orgs", None, false, None);
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["status"], "401");
    assert_eq!(code(&body), "unauthorized");
    assert!(body["errors"][0]["title"].is_string());
    assert!(body["errors"][0]["detail"].is_string());
    let (status, body) = emu.request(
        Method::GET,
        "/v1/orgs",
        Some("csk_00000000000000000000000000000000"),
        false,
        None,
    );
    assert_eq!((status, code(&body)), (401, "unauthorized"));
    let (status, body) = emu.api(Method::GET, "/v1/orgs", None);
    assert_eq!(status, 200, "{body}");
    assert!(body["data"]["organizationId"]
        .as_str()
        .is_some_and(|s| s.starts_with("org_")));
    assert_eq!(body["data"]["status"], "active");
    let (status, body) = emu.api(Method::GET, "/v1/nothing", None);
    assert_eq!((status, code(&body)), (404, "route_not_found"));
    // A key without the workspace-admin role may not manage.
    let key = emu.admin(
        Method::POST,
        "/_emulator/cloudsync/api-keys",
        Some(json!({"workspace": "ws_local", "role": "workspace-viewer"})),
    )["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = emu.request(Method::GET, "/v1/databases", Some(&key), false, None);
    assert_eq!((status, code(&body)), (403, "forbidden"));
}

#[test]
fn registration_verifies_the_tenant_and_stores_nothing_on_failure() {
    let (emu, _file) = with_tenant();
    let (status, body) = register(&emu, "appdb", "wrong-key");
    assert_eq!(
        (status, code(&body)),
        (422, "database_auth_failed"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["source"]["pointer"], "/connectionString");
    assert!(!body.to_string().contains("wrong-key"), "{body}");
    let (status, body) = register(&emu, "missing", NODE_KEY);
    assert_eq!((status, code(&body)), (422, "database_error"), "{body}");
    let (status, body) = emu.api(
        Method::POST,
        "/v1/databases",
        Some(
            json!({"label": "x", "connectionString": "sqlitecloud://other.host?apikey=k",
                    "provider": "sqlitecloud", "flavor": "sqlitecloud", "databaseName": "appdb"}),
        ),
    );
    assert_eq!(
        (status, code(&body)),
        (503, "database_unreachable"),
        "{body}"
    );
    assert_eq!(body["errors"][0]["meta"]["retryable"], true);
    for (extra, field) in [
        (json!({"schemaName": "public"}), "/schemaName"),
        (json!({"workspaceId": "ws_local"}), "/workspaceId"),
        (json!({"provider": "mysql"}), "/provider"),
        (json!({"flavor": "vanilla"}), "/flavor"),
        (json!({"jwksUri": "not a url"}), "/jwksUri"),
        (json!({"label": ""}), "/label"),
    ] {
        let mut req = json!({"label": "x", "connectionString": conn(NODE_KEY),
                             "provider": "sqlitecloud", "flavor": "sqlitecloud",
                             "databaseName": "appdb"});
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        let (status, body) = emu.api(Method::POST, "/v1/databases", Some(req));
        assert_eq!((status, code(&body)), (422, "validation_failed"), "{extra}");
        assert_eq!(body["errors"][0]["source"]["pointer"], field);
    }
    assert!(emu.stored().is_empty(), "nothing registered");
    let (_, list) = emu.api(Method::GET, "/v1/databases", None);
    assert_eq!(list["data"], json!([]));
    assert_eq!(list["meta"]["total"], 0);

    let (status, body) = register(&emu, "appdb", NODE_KEY);
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["managedDatabaseId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(id.starts_with("db_") && id.len() == 27, "{id}");
    let (status, db) = emu.api(Method::GET, &format!("/v1/databases/{id}"), None);
    assert_eq!(status, 200);
    assert_eq!(db["data"]["label"], "Primary DB");
    assert_eq!(db["data"]["databaseName"], "appdb");
    assert!(db["data"].get("connectionString").is_none());
    assert!(db["data"].get("jwtSecret").is_none());
    assert_eq!(db["data"]["jwtSecretConfigured"], false);
    let (_, list) = emu.api(Method::GET, "/v1/databases", None);
    assert_eq!(list["data"][0]["managedDatabaseId"], id.as_str());
    // Another workspace sees it as unknown.
    let other = emu.admin(
        Method::POST,
        "/_emulator/cloudsync/api-keys",
        Some(json!({"workspace": "ws_other", "role": "workspace-admin"})),
    )["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = emu.request(
        Method::GET,
        &format!("/v1/databases/{id}"),
        Some(&other),
        false,
        None,
    );
    assert_eq!((status, code(&body)), (404, "not_found"));
    assert_eq!(body["errors"][0]["detail"], "managed database not found");
}

#[test]
fn patch_follows_the_seed() {
    let (emu, _file) = with_tenant();
    let (_, body) = emu.api(
        Method::POST,
        "/v1/databases",
        Some(
            json!({"label": "L", "connectionString": conn(NODE_KEY), "provider": "sqlitecloud",
                    "flavor": "sqlitecloud", "databaseName": "appdb", "jwtSecret": "s3cret"}),
        ),
    );
    let id = body["data"]["managedDatabaseId"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/databases/{id}");
    let secret = |emu: &CloudSync| emu.stored()[0]["jwtSecret"].clone();
    assert_eq!(secret(&emu), "s3cret");
    // Omitted: unchanged.
    let (status, body) = emu.api(
        Method::PATCH,
        &path,
        Some(
            json!({"label": "Primary DB (updated)", "jwtAllowedIssuers": ["https://i"],
                    "jwksUri": "https://i/.well-known/jwks.json"}),
        ),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["label"], "Primary DB (updated)");
    assert_eq!(body["data"]["jwtAllowedIssuers"], json!(["https://i"]));
    assert_eq!(body["data"]["jwtSecretConfigured"], true);
    assert_eq!(secret(&emu), "s3cret");
    // A new connection string is verified before it is stored.
    let (status, body) = emu.api(
        Method::PATCH,
        &path,
        Some(json!({"connectionString": conn("bad"), "label": "never"})),
    );
    assert_eq!((status, code(&body)), (422, "database_auth_failed"));
    assert_eq!(emu.stored()[0]["label"], "Primary DB (updated)");
    assert_eq!(emu.stored()[0]["connectionString"], conn(NODE_KEY));
    // "" clears the secret.
    let (status, body) = emu.api(Method::PATCH, &path, Some(json!({"jwtSecret": ""})));
    assert_eq!(status, 200);
    assert_eq!(body["data"]["jwtSecretConfigured"], false);
    assert_eq!(secret(&emu), Value::Null);
    for fixed in ["provider", "flavor", "databaseName", "schemaName"] {
        let (status, body) = emu.api(Method::PATCH, &path, Some(json!({ fixed: "x" })));
        assert_eq!((status, code(&body)), (422, "validation_failed"), "{fixed}");
    }
}

#[test]
fn tables_enable_disable_in_the_tenant_file() {
    let (emu, file) = with_tenant();
    let (_, body) = register(&emu, "appdb", NODE_KEY);
    let id = body["data"]["managedDatabaseId"]
        .as_str()
        .unwrap()
        .to_owned();
    let tables = format!("/v1/databases/{id}/cloudsync/tables");
    let (status, body) = emu.api(Method::GET, &tables, None);
    assert_eq!(status, 200);
    assert_eq!(
        body["data"],
        json!([{"name": "logs", "enabled": false}, {"name": "orders", "enabled": false},
               {"name": "users", "enabled": false}])
    );
    let enable = format!("/v1/databases/{id}/cloudsync/enable");
    let (status, body) = emu.api(
        Method::POST,
        &enable,
        Some(json!({"tables": ["users", "orders"]})),
    );
    assert_eq!(status, 200, "{body}");
    let outside = rusqlite::Connection::open(&file).unwrap();
    let meta: i64 = outside
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('users_cloudsync', 'orders_cloudsync')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(meta, 2);
    let (status, body) = emu.api(Method::POST, &enable, Some(json!({"tables": ["nope"]})));
    assert_eq!((status, code(&body)), (422, "table_not_found"));
    assert!(body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("users"));
    let (status, body) = emu.api(Method::POST, &enable, Some(json!({"tables": ["logs"]})));
    assert_eq!((status, code(&body)), (422, "database_cloudsync_not_ready"));
    let (status, body) = emu.api(Method::POST, &enable, Some(json!({"tables": []})));
    assert_eq!((status, code(&body)), (422, "validation_failed"));
    let (status, _) = emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/cloudsync/disable"),
        Some(json!({"tables": ["orders"]})),
    );
    assert_eq!(status, 200);
    let (_, body) = emu.api(Method::GET, &tables, None);
    assert_eq!(body["data"][1], json!({"name": "orders", "enabled": false}));
    assert_eq!(body["data"][2], json!({"name": "users", "enabled": true}));
    // An out-of-band drop of the metadata table shows as disabled.
    outside.execute_batch("DROP TABLE users_cloudsync").unwrap();
    let (_, body) = emu.api(Method::GET, &tables, None);
    assert_eq!(body["data"][2], json!({"name": "users", "enabled": false}));
    // Delete disables what is enabled and reports no warnings.
    emu.api(Method::POST, &enable, Some(json!({"tables": ["users"]})));
    let (status, body) = emu.api(Method::DELETE, &format!("/v1/databases/{id}"), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["warnings"], json!([]));
    let left: i64 = outside
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_cloudsync'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    let (status, body) = emu.api(Method::GET, &format!("/v1/databases/{id}"), None);
    assert_eq!((status, code(&body)), (404, "not_found"));
}

#[test]
fn delete_reports_cleanup_warnings_and_connection_check_fails_live() {
    let (emu, _file) = with_tenant();
    let (_, body) = register(&emu, "appdb", NODE_KEY);
    let id = body["data"]["managedDatabaseId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, check) = emu.api(Method::GET, &format!("/v1/databases/{id}/connection"), None);
    assert_eq!(check["data"]["ok"], true);
    assert!(check["data"]["checkedAt"].is_string());
    emu.admin(
        Method::PUT,
        &format!("/_emulator/cloudsync/sqlitecloud/nodes/{NODE}"),
        Some(json!({"apikey": NODE_KEY, "paused": true})),
    );
    let (_, check) = emu.api(Method::GET, &format!("/v1/databases/{id}/connection"), None);
    assert_eq!(check["data"]["ok"], false);
    assert_eq!(check["data"]["failure"]["code"], "database_paused");
    assert_eq!(check["data"]["failure"]["retryable"], true);
    let (status, body) = emu.api(Method::DELETE, &format!("/v1/databases/{id}"), None);
    assert_eq!(status, 200);
    let warnings = body["data"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{body}");
    assert!(warnings[0].as_str().unwrap().contains("database_paused"));
    assert!(emu.stored().is_empty());
}

#[test]
fn devices_page_and_notifications() {
    let (emu, _file) = with_tenant();
    let (_, body) = register(&emu, "appdb", NODE_KEY);
    let id = body["data"]["managedDatabaseId"]
        .as_str()
        .unwrap()
        .to_owned();
    let devices: Vec<Value> = (0..120)
        .map(|i| json!({"siteId": format!("site_{i:03}"), "platform": "android", "pushToken": "ExponentPushToken[x]"}))
        .collect();
    emu.admin(
        Method::POST,
        &format!("/_emulator/cloudsync/databases/{id}/devices"),
        Some(json!({ "devices": devices })),
    );
    let list = format!("/v1/databases/{id}/devices");
    let (_, first) = emu.api(Method::GET, &list, None);
    assert_eq!(first["data"].as_array().unwrap().len(), 50);
    assert_eq!(first["meta"]["total"], 120);
    assert_eq!(first["meta"]["totalPages"], 3);
    assert!(first["data"][0].get("pushToken").is_none());
    let (_, last) = emu.api(Method::GET, &format!("{list}?page=3&page_size=50"), None);
    assert_eq!(last["data"].as_array().unwrap().len(), 20);
    assert_eq!(last["data"][19]["siteId"], "site_119");
    let (_, all) = emu.api(Method::GET, &format!("{list}?page_size=500"), None);
    assert_eq!(all["data"].as_array().unwrap().len(), 120);
    for bad in ["page_size=501", "page_size=0", "page=0", "page=x"] {
        let (status, body) = emu.api(Method::GET, &format!("{list}?{bad}"), None);
        assert_eq!((status, code(&body)), (422, "validation_failed"), "{bad}");
    }
    let (status, _) = emu.api(Method::DELETE, &format!("{list}/site_000"), None);
    assert_eq!(status, 204);
    let (status, body) = emu.api(Method::DELETE, &format!("{list}/site_000"), None);
    assert_eq!((status, code(&body)), (404, "not_found"));

    let expo = format!("/v1/databases/{id}/notifications/expo-access-token");
    let status_path = format!("/v1/databases/{id}/notifications/status");
    let (_, meta) = emu.api(Method::GET, &expo, None);
    assert_eq!(meta["data"]["configured"], false);
    let (_, st) = emu.api(Method::GET, &status_path, None);
    assert_eq!(st["data"]["status"], "disabled");
    let (status, meta) = emu.api(
        Method::PUT,
        &expo,
        Some(json!({"expoAccessToken": "expo-access-token-value"})),
    );
    assert_eq!(status, 200);
    assert_eq!(meta["data"]["configured"], true);
    assert!(!meta.to_string().contains("expo-access-token-value"));
    let (_, st) = emu.api(Method::GET, &status_path, None);
    assert_eq!(st["data"]["status"], "enabled");
    emu.admin(
        Method::PUT,
        &format!("/_emulator/cloudsync/databases/{id}/notifications/pause"),
        Some(json!({"reason": "expo_unauthorized"})),
    );
    let (_, st) = emu.api(Method::GET, &status_path, None);
    assert_eq!(
        st["data"],
        json!({"status": "paused", "reason": "expo_unauthorized"})
    );
    emu.api(
        Method::PUT,
        &expo,
        Some(json!({"expoAccessToken": "rotated-token"})),
    );
    let (_, st) = emu.api(Method::GET, &status_path, None);
    assert_eq!(st["data"]["status"], "enabled");
    let (status, _) = emu.api(Method::DELETE, &expo, None);
    assert_eq!(status, 204);
    let (status, body) = emu.api(Method::DELETE, &expo, None);
    assert_eq!((status, code(&body)), (404, "not_found"));
}

fn register_pg(emu: &CloudSync, url: &str, db: &str, schema: Option<&str>) -> (u16, Value) {
    let mut req = json!({
        "label": "pg", "connectionString": url, "provider": "postgres",
        "flavor": "vanilla", "databaseName": db,
    });
    if let Some(schema) = schema {
        req["schemaName"] = json!(schema);
    }
    emu.api(Method::POST, "/v1/databases", Some(req))
}

#[test]
fn postgres_tenants_are_verified_for_real() {
    use crate::support::cloudsync::TenantPostgres;
    let pg = TenantPostgres::get();
    let emu = CloudSync::start();
    let (db, role, password) = pg.database(
        "CREATE TABLE users (id uuid PRIMARY KEY, name text);
         CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
         CREATE TABLE audit (line text);",
    );
    // Wrong password: auth failed, nothing stored, the password never echoed.
    let (status, body) = register_pg(&emu, &pg.url(&role, "wrong-password-x", &db), &db, None);
    assert_eq!(
        (status, code(&body)),
        (422, "database_auth_failed"),
        "{body}"
    );
    assert!(!body.to_string().contains("wrong-password-x"));
    // Nothing listening on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("postgres://{role}:{password}@127.0.0.1:{port}/{db}");
    let (status, body) = register_pg(&emu, &url, &db, None);
    assert_eq!(
        (status, code(&body)),
        (503, "database_unreachable"),
        "{body}"
    );
    // An unknown schema, and one the role may not create in.
    let good = pg.url(&role, &password, &db);
    let (status, body) = register_pg(&emu, &good, &db, Some("nope"));
    assert_eq!((status, code(&body)), (422, "database_error"), "{body}");
    pg.sql(&db, "CREATE SCHEMA locked AUTHORIZATION postgres;");
    let (status, body) = register_pg(&emu, &good, &db, Some("locked"));
    assert_eq!(
        (status, code(&body)),
        (422, "database_permission_denied"),
        "{body}"
    );
    assert!(emu.stored().is_empty());

    let (status, body) = register_pg(&emu, &good, &db, None);
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["managedDatabaseId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, tables) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/cloudsync/tables"),
        None,
    );
    assert_eq!(
        tables["data"],
        json!([{"name": "audit", "enabled": false}, {"name": "orders", "enabled": false},
               {"name": "users", "enabled": false}])
    );
    let enable = format!("/v1/databases/{id}/cloudsync/enable");
    let (status, body) = emu.api(
        Method::POST,
        &enable,
        Some(json!({"tables": ["users", "orders"]})),
    );
    assert_eq!(status, 200, "{body}");
    let meta = pg.sql(
        &db,
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%_cloudsync' ORDER BY 1",
    );
    assert_eq!(
        meta,
        vec![
            vec!["orders_cloudsync".to_owned()],
            vec!["users_cloudsync".to_owned()]
        ]
    );
    let (status, body) = emu.api(Method::POST, &enable, Some(json!({"tables": ["audit"]})));
    assert_eq!(
        (status, code(&body)),
        (422, "database_cloudsync_not_ready"),
        "{body}"
    );
    // A table owned by someone else: no TRIGGER privilege.
    pg.sql(&db, "CREATE TABLE public.foreign_owned (id int PRIMARY KEY); GRANT SELECT ON public.foreign_owned TO PUBLIC;");
    let (status, body) = emu.api(
        Method::POST,
        &enable,
        Some(json!({"tables": ["foreign_owned"]})),
    );
    assert_eq!(
        (status, code(&body)),
        (422, "database_permission_denied"),
        "{body}"
    );
    // A paused database.
    pg.sql(
        "postgres",
        &format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false;"),
    );
    let (_, check) = emu.api(Method::GET, &format!("/v1/databases/{id}/connection"), None);
    assert_eq!(
        check["data"]["failure"]["code"], "database_paused",
        "{check}"
    );
    pg.sql(
        "postgres",
        &format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true;"),
    );
    // A new connection string is verified again: a wrong one changes nothing.
    let (status, body) = emu.api(
        Method::PATCH,
        &format!("/v1/databases/{id}"),
        Some(json!({"connectionString": pg.url(&role, "bad-password-y", &db)})),
    );
    assert_eq!((status, code(&body)), (422, "database_auth_failed"));
    assert_eq!(emu.stored()[0]["connectionString"], good);
    // Delete disables what is enabled in the tenant.
    let (status, body) = emu.api(Method::DELETE, &format!("/v1/databases/{id}"), None);
    assert_eq!(status, 200);
    assert_eq!(body["data"]["warnings"], json!([]), "{body}");
    let meta = pg.sql(
        &db,
        "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%_cloudsync'",
    );
    assert_eq!(meta, vec![vec!["0".to_owned()]]);
}

#[test]
fn state_survives_a_restart() {
    let (mut emu, _file) = with_tenant();
    let (_, body) = register(&emu, "appdb", NODE_KEY);
    let id = body["data"]["managedDatabaseId"]
        .as_str()
        .unwrap()
        .to_owned();
    emu.api(
        Method::PUT,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        Some(json!({"expoAccessToken": "expo-token-restart"})),
    );
    emu.api(
        Method::POST,
        &format!("/v1/databases/{id}/cloudsync/enable"),
        Some(json!({"tables": ["users"]})),
    );
    let key = emu.api_key().to_owned();
    emu.restart();
    assert_eq!(emu.api_key(), key, "the bootstrap key is kept");
    let (status, db) = emu.api(Method::GET, &format!("/v1/databases/{id}"), None);
    assert_eq!(status, 200, "{db}");
    let (_, meta) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        None,
    );
    assert_eq!(meta["data"]["tokenSuffix"], "tart");
    let (_, tables) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/cloudsync/tables"),
        None,
    );
    assert_eq!(tables["data"][2], json!({"name": "users", "enabled": true}));
    // The node registration survived too.
    let (_, check) = emu.api(Method::GET, &format!("/v1/databases/{id}/connection"), None);
    assert_eq!(check["data"]["ok"], true);
}

/// The order of checks the extractors keep on a database route (`docs/api/cloudsync.md`):
/// the key (401), its role (403), the database in the key's workspace (404), then the body
/// (400 for JSON that is not an object, and for an empty body).
#[test]
fn the_order_of_checks_on_a_database_route() {
    let (emu, _file) = with_tenant();
    let not_object = || Some(json!([1]));
    let unknown = "/v1/databases/db_nothing/notifications/expo-access-token";
    let (status, body) = emu.request(Method::PUT, unknown, None, false, not_object());
    assert_eq!((status, code(&body)), (401, "unauthorized"), "{body}");
    let viewer = emu.admin(
        Method::POST,
        "/_emulator/cloudsync/api-keys",
        Some(json!({"workspace": "ws_local", "role": "workspace-viewer"})),
    )["key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, body) = emu.request(Method::PUT, unknown, Some(&viewer), false, not_object());
    assert_eq!((status, code(&body)), (403, "forbidden"), "{body}");
    let (status, body) = emu.api(Method::PUT, unknown, not_object());
    assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
    let (status, body) = register(&emu, "appdb", NODE_KEY);
    assert_eq!(status, 201, "{body}");
    let id = body["data"]["managedDatabaseId"]
        .as_str()
        .unwrap_or_default();
    let known = format!("/v1/databases/{id}/notifications/expo-access-token");
    let (status, body) = emu.api(Method::PUT, &known, not_object());
    assert_eq!((status, code(&body)), (400, "bad_request"), "{body}");
    assert!(body["errors"][0]["detail"]
        .as_str()
        .is_some_and(|d| d.contains("body must be a JSON object")));
    let (status, body) = emu.api(Method::PUT, &known, None);
    assert_eq!((status, code(&body)), (400, "bad_request"), "{body}");
    assert!(body["errors"][0]["detail"]
        .as_str()
        .is_some_and(|d| d.contains("malformed JSON body")));
}
