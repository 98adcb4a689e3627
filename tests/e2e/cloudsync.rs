//! The `cloudsync` provider with the real Terraform CLI against the emulator's CloudSync
//! part, with real tenant databases: a PostgreSQL 15 (tables checked with `psql`) and
//! `sqlitecloud://` SQLite files (checked with an SQLite client).

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::cloudsync::{CloudSync, TenantPostgres};
use crate::support::{Platform, Terraform};

const BLOCK: &str = r#"terraform {
  required_providers {
    cloudsync = { source = "cloudsync/cloudsync" }
  }
}
"#;

fn terraform(emu: &CloudSync) -> Terraform {
    Terraform::on(emu)
}

fn hcl(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn cloudsync_tables(pg: &TenantPostgres, db: &str) -> Vec<String> {
    pg.sql(
        db,
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%_cloudsync' ORDER BY 1",
    )
    .into_iter()
    .map(|r| r.join(""))
    .collect()
}

#[derive(Clone, Copy)]
struct PgConfig<'a> {
    db: &'a str,
    label: &'a str,
    secret_version: u32,
    tables: &'a [&'a str],
}

fn pg_config(c: &PgConfig) -> String {
    let mut s = format!(
        r#"{BLOCK}
variable "secret" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

variable "conn" {{
  type      = string
  sensitive = true
}}

resource "cloudsync_database" "app" {{
  label                  = {label}
  connection_string      = var.conn
  database_provider      = "postgres"
  flavor                 = "vanilla"
  database_name          = {db}
  jwt_allowed_issuers    = ["https://issuer.example/auth/v1"]
  jwt_expected_audiences = ["authenticated"]
  jwks_uri               = "https://issuer.example/auth/v1/.well-known/jwks.json"
  jwt_secret_wo          = var.secret
  jwt_secret_wo_version  = {version}
}}
"#,
        label = hcl(c.label),
        db = hcl(c.db),
        version = c.secret_version,
    );
    for t in c.tables {
        s.push_str(&format!(
            "\nresource \"cloudsync_table_sync\" \"{t}\" {{\n  database_id = cloudsync_database.app.id\n  table       = {}\n}}\n",
            hcl(t)
        ));
    }
    s
}

/// The connection string of the workspace's `var.conn` (a user keeps it out of the
/// configuration's text the same way: Terraform's diagnostics quote source lines).
fn set_conn(tf: &mut Terraform, url: &str) {
    tf.set_env("TF_VAR_conn", url);
}

fn with_secret(tf: &Terraform, args: &[&str], secret: &str) -> crate::support::Output {
    let var = format!("secret={secret}");
    // Options go between the subcommand and its positional arguments.
    let mut all: Vec<&str> = args[..1].to_vec();
    all.extend(["-no-color", "-input=false", "-var", &var]);
    all.extend(args[1..].iter().copied().filter(|a| *a != "-no-color"));
    tf.run(&all)
}

fn stored(emu: &CloudSync) -> Vec<Value> {
    emu.stored()
}

#[test]
fn postgres_database_tables_secret_import_and_destroy() {
    let pg = TenantPostgres::get();
    let emu = CloudSync::start();
    let (db, role, password) = pg.database(
        "CREATE TABLE users (id uuid PRIMARY KEY, name text);
         CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
         CREATE TABLE audit (line text);",
    );
    let url = pg.url(&role, &password, &db);
    let secret = "jwt-secret-Zq81-never-shown";
    let mut tf = terraform(&emu);
    set_conn(&mut tf, &url);

    // Register with two synced tables.
    let config = PgConfig {
        db: &db,
        label: "App DB ünïcode",
        secret_version: 1,
        tables: &["users", "orders"],
    };
    tf.write_main(&pg_config(&config));
    let out = with_secret(&tf, &["apply", "-auto-approve"], secret);
    assert!(out.success(), "{out}");
    let app = tf.resource("cloudsync_database.app");
    let id = app["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("db_"));
    assert_eq!(app["label"], "App DB ünïcode");
    assert_eq!(app["jwt_secret_configured"], true);
    assert_eq!(app["jwt_secret_wo"], Value::Null);
    let rows = stored(&emu);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["jwtSecret"], secret);
    assert_eq!(rows[0]["connectionString"], url.as_str());
    assert_eq!(
        cloudsync_tables(pg, &db),
        ["orders_cloudsync", "users_cloudsync"]
    );
    let plan = with_secret(&tf, &["plan", "-detailed-exitcode"], secret);
    assert_eq!(plan.code, 0, "second plan is empty\n{plan}");

    // The secret is nowhere: state, plan/apply output, provider log.
    let state = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).expect("state");
    for (what, text) in [
        ("state", state.as_str()),
        ("apply", &out.combined()),
        ("plan", &plan.combined()),
        ("log", &tf.log()),
    ] {
        assert!(!text.contains(secret), "the JWT secret is in the {what}");
        // The connection string is kept in state (sensitive): only outputs and logs must
        // never show its password.
        if what != "state" {
            assert!(
                !text.contains(&password),
                "the tenant password is in the {what}"
            );
        }
    }
    assert!(
        state.contains(&url),
        "the connection string is kept (sensitive) in state"
    );

    // Rotate the write-only secret by its version.
    let rotated = "jwt-secret-rotated-7731";
    let out = with_secret(&tf, &["apply", "-auto-approve"], rotated);
    assert!(out.success(), "{out}");
    assert_eq!(
        stored(&emu)[0]["jwtSecret"],
        secret,
        "same version: not sent"
    );
    tf.write_main(&pg_config(&PgConfig {
        secret_version: 2,
        ..config
    }));
    let out = with_secret(&tf, &["apply", "-auto-approve"], rotated);
    assert!(out.success(), "{out}");
    assert_eq!(stored(&emu)[0]["jwtSecret"], rotated);
    assert!(!tf.log().contains(rotated));

    // A secret cleared outside Terraform is noticed and set again.
    let (status, _) = emu.api(
        Method::PATCH,
        &format!("/v1/databases/{id}"),
        Some(json!({"jwtSecret": ""})),
    );
    assert_eq!(status, 200);
    let plan = with_secret(&tf, &["plan", "-detailed-exitcode"], rotated);
    assert_eq!(plan.code, 2, "{plan}");
    assert!(plan.stdout.contains("jwt_secret_configured"), "{plan}");
    assert!(with_secret(&tf, &["apply", "-auto-approve"], rotated).success());
    assert_eq!(stored(&emu)[0]["jwtSecret"], rotated);

    // Disable one table: only it loses its metadata table.
    let config = PgConfig {
        secret_version: 2,
        tables: &["users"],
        ..config
    };
    tf.write_main(&pg_config(&config));
    let out = with_secret(&tf, &["apply", "-auto-approve"], rotated);
    assert!(out.success(), "{out}");
    assert_eq!(cloudsync_tables(pg, &db), ["users_cloudsync"]);

    // A table disabled outside Terraform is enabled again.
    pg.sql(&db, "DROP TABLE users_cloudsync;");
    let plan = with_secret(&tf, &["plan", "-no-color"], rotated);
    assert!(
        plan.stdout
            .contains("cloudsync_table_sync.users will be created"),
        "{plan}"
    );
    assert!(with_secret(&tf, &["apply", "-auto-approve"], rotated).success());
    assert_eq!(cloudsync_tables(pg, &db), ["users_cloudsync"]);

    // Change the connection string in place: a new password, verified again.
    let new_password = format!("{password}-2");
    pg.sql(
        "postgres",
        &format!("ALTER ROLE {role} PASSWORD '{new_password}';"),
    );
    let new_url = pg.url(&role, &new_password, &db);
    set_conn(&mut tf, &new_url);
    tf.write_main(&pg_config(&config));
    let plan = with_secret(&tf, &["plan", "-no-color"], rotated);
    assert!(
        plan.stdout
            .contains("cloudsync_database.app will be updated in-place"),
        "{plan}"
    );
    assert!(!plan.stdout.contains(&new_password));
    let out = with_secret(&tf, &["apply", "-auto-approve"], rotated);
    assert!(out.success(), "{out}");
    assert_eq!(tf.resource("cloudsync_database.app")["id"], id.as_str());
    assert_eq!(stored(&emu)[0]["connectionString"], new_url.as_str());

    // Import round trip into a fresh workspace.
    let mut fresh = tf.fresh();
    set_conn(&mut fresh, &new_url);
    fresh.write_main(&pg_config(&config));
    let out = with_secret(&fresh, &["import", "cloudsync_database.app", &id], rotated);
    assert!(out.success(), "{out}");
    assert!(out.combined().contains("not imported"), "{out}");
    let out = with_secret(
        &fresh,
        &[
            "import",
            "cloudsync_table_sync.users",
            &format!("{id}/users"),
        ],
        rotated,
    );
    assert!(out.success(), "{out}");
    let imported = fresh.resource("cloudsync_database.app");
    let created = tf.resource("cloudsync_database.app");
    for attr in [
        "id",
        "label",
        "database_provider",
        "flavor",
        "database_name",
        "schema_name",
        "jwt_allowed_issuers",
        "jwt_expected_audiences",
        "jwks_uri",
        "jwt_secret_configured",
        "workspace_id",
        "created_at",
    ] {
        assert_eq!(imported[attr], created[attr], "{attr} after import");
    }
    assert_eq!(imported["connection_string"], Value::Null);
    assert_eq!(
        fresh.resource("cloudsync_table_sync.users"),
        tf.resource("cloudsync_table_sync.users")
    );
    let plan = with_secret(&fresh, &["plan", "-no-color"], rotated);
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "after import only the connection string and secret are sent\n{plan}"
    );
    let other = tf.fresh();
    other.write_main(&pg_config(&PgConfig {
        tables: &["orders"],
        ..config
    }));
    let bad_import = other.run(&[
        "import",
        "-no-color",
        "-input=false",
        "-var",
        "secret=x",
        "cloudsync_table_sync.orders",
        &format!("{id}/orders"),
    ]);
    assert!(!bad_import.success());
    assert!(
        bad_import.combined().contains("not enabled"),
        "{bad_import}"
    );

    // Destroy: the registration is gone and the tenant has no CloudSync table left.
    let out = with_secret(&tf, &["destroy", "-auto-approve"], rotated);
    assert!(out.success(), "{out}");
    assert!(stored(&emu).is_empty());
    assert!(cloudsync_tables(pg, &db).is_empty());
    let log = tf.log();
    assert!(!log.contains(secret) && !log.contains(rotated) && !log.contains(&new_password));
}

#[test]
fn a_wrong_password_is_a_clear_error_and_registers_nothing() {
    let pg = TenantPostgres::get();
    let emu = CloudSync::start();
    let (db, role, _password) = pg.database("CREATE TABLE users (id int PRIMARY KEY);");
    let wrong = "wrong-password-Kx93";
    let mut tf = terraform(&emu);
    set_conn(&mut tf, &pg.url(&role, wrong, &db));
    tf.write_main(&format!(
        r#"{BLOCK}
variable "conn" {{
  type      = string
  sensitive = true
}}

resource "cloudsync_database" "app" {{
  label             = "app"
  connection_string = var.conn
  database_provider = "postgres"
  flavor            = "vanilla"
  database_name     = {db}
}}
"#,
        db = hcl(&db),
    ));
    let out = tf.try_apply();
    assert!(!out.success(), "{out}");
    let text = out.combined();
    assert!(text.contains("database_auth_failed"), "{text}");
    assert!(text.contains("user name and password"), "{text}");
    assert!(text.contains("connection_string"), "{text}");
    assert!(!text.contains(wrong), "{text}");
    assert!(!tf.log().contains(wrong));
    assert!(stored(&emu).is_empty(), "nothing registered");
    assert!(tf.state_list().is_empty());
}

#[test]
fn plan_time_errors_and_a_wrong_api_url() {
    let emu = CloudSync::start();
    let tf = terraform(&emu);
    tf.write_main(&format!(
        r#"{BLOCK}
resource "cloudsync_database" "app" {{
  label             = "app"
  connection_string = "sqlitecloud://n.example?apikey=k"
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "appdb"
  schema_name       = "public"
}}
"#
    ));
    let out = tf.try_plan();
    assert!(!out.success());
    assert!(
        out.combined()
            .contains("schema_name is for PostgreSQL only"),
        "{out}"
    );
    assert!(out.combined().contains("schema_name"), "{out}");

    // A wrong api_url (a server that is not CloudSync's API) is named as such.
    let mut tf = terraform(&emu);
    tf.set_env("CLOUDSYNC_API_URL", format!("{}/prefix", emu.url()));
    tf.write_main(&format!(
        "{BLOCK}\ndata \"cloudsync_organization\" \"o\" {{}}\n"
    ));
    let out = tf.try_plan();
    assert!(!out.success());
    assert!(out.combined().contains("api_url"), "{out}");
    // The URL asked is named (without credentials), as on every provider.
    let asked = format!(
        "(the provider asked {}/prefix/",
        emu.url().trim_end_matches('/')
    );
    assert!(out.folded().contains(&asked), "{asked}: {out}");
    // And a key CloudSync refuses.
    let mut tf = terraform(&emu);
    tf.set_env("CLOUDSYNC_API_KEY", "csk_ffffffffffffffffffffffffffffffff");
    tf.write_main(&format!(
        "{BLOCK}\ndata \"cloudsync_organization\" \"o\" {{}}\n"
    ));
    let out = tf.try_plan();
    assert!(!out.success());
    assert!(out.combined().contains("API Keys"), "{out}");
    assert!(!out.combined().contains("csk_ffff"), "{out}");
}

/// Null is "not set" to every rule (issue 20, defect 7): a reusable module passes each
/// optional attribute as `x = var.x`, and the variables are null. `terraform validate`
/// (where variables are unknown), plan and apply accept it; the second plan is empty.
#[test]
fn every_optional_attribute_accepts_null() {
    let emu = CloudSync::start();
    let dir = emu.sqlite_node(NODE, NODE_KEY);
    CloudSync::sqlite_database(&dir, "appdb", "CREATE TABLE notes (id TEXT PRIMARY KEY);");
    let tf = terraform(&emu);
    tf.write_main(&format!(
        r#"{BLOCK}
variable "schema" {{
  type    = string
  default = null
}}
variable "jwks" {{
  type    = string
  default = null
}}
variable "secret" {{
  type      = string
  default   = null
  sensitive = true
}}
variable "secret_wo" {{
  type      = string
  default   = null
  sensitive = true
  ephemeral = true
}}
variable "secret_version" {{
  type    = number
  default = null
}}
variable "token" {{
  type      = string
  default   = null
  sensitive = true
}}

resource "cloudsync_database" "edge" {{
  label                 = "Edge"
  connection_string     = "sqlitecloud://{NODE}:8860?apikey={NODE_KEY}"
  database_provider     = "sqlitecloud"
  flavor                = "sqlitecloud"
  database_name         = "appdb"
  schema_name           = var.schema
  jwks_uri              = var.jwks
  jwt_secret            = var.secret
  jwt_secret_wo         = "a-write-only-secret"
  jwt_secret_wo_version = 1
}}

resource "cloudsync_database" "plain" {{
  label                 = "Plain"
  connection_string     = "sqlitecloud://{NODE}:8860?apikey={NODE_KEY}"
  database_provider     = "sqlitecloud"
  flavor                = "sqlitecloud"
  database_name         = "appdb"
  schema_name           = var.schema
  jwks_uri              = var.jwks
  jwt_secret            = var.secret
  jwt_secret_wo         = var.secret_wo
  jwt_secret_wo_version = var.secret_version
}}

resource "cloudsync_expo_access_token" "push" {{
  database_id      = cloudsync_database.edge.id
  token            = var.token
  token_wo         = "ExponentPushToken-from-a-module"
  token_wo_version = 1
}}
"#
    ));
    let out = tf.run(&["validate", "-no-color"]);
    assert!(out.success(), "validate with null variables: {out}");
    let plan = tf.try_plan();
    assert!(plan.success(), "plan with null variables: {plan}");
    assert!(plan.stdout.contains("3 to add"), "{}", plan.stdout);
    tf.apply();
    assert_eq!(
        tf.resource("cloudsync_database.edge")["jwt_secret_configured"],
        true
    );
    assert_eq!(
        tf.resource("cloudsync_database.plain")["jwt_secret_configured"],
        false
    );
    assert_eq!(tf.plan_detailed_exitcode(), 0, "a second plan is empty");
    tf.destroy();

    // The rules still fire on known values: both secrets set is an error on the
    // write-only one.
    tf.write_main(&format!(
        r#"{BLOCK}
resource "cloudsync_expo_access_token" "push" {{
  database_id      = "db_0000000000000000"
  token            = "ExponentPushToken-a"
  token_wo         = "ExponentPushToken-b"
  token_wo_version = 1
}}
"#
    ));
    let out = tf.run(&["validate", "-no-color"]);
    assert!(!out.success(), "{out}");
    assert!(out.combined().contains("Conflicting tokens"), "{out}");
}

const NODE: &str = "project.sqlite.cloud";
const NODE_KEY: &str = "node-apikey-5531";

fn sqlite_config(extra: &str) -> String {
    format!(
        r#"{BLOCK}
variable "expo" {{
  type      = string
  sensitive = true
  ephemeral = true
  default   = null
}}

resource "cloudsync_database" "edge" {{
  label             = "Edge"
  connection_string = "sqlitecloud://{NODE}:8860?apikey={NODE_KEY}"
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "appdb"
}}
{extra}"#
    )
}

#[test]
fn sqlitecloud_expo_token_devices_and_data_sources() {
    let emu = CloudSync::start();
    let dir = emu.sqlite_node(NODE, NODE_KEY);
    let file = CloudSync::sqlite_database(
        &dir,
        "appdb",
        "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT); CREATE TABLE raw (x);",
    );
    let tf = terraform(&emu);
    tf.write_main(&sqlite_config(""));
    tf.apply();
    let id = tf.resource("cloudsync_database.edge")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        tf.resource("cloudsync_database.edge")["schema_name"],
        Value::Null
    );
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // A table the database lacks, and one without a primary key: clear errors on `table`.
    tf.write_main(&sqlite_config(
        r#"
resource "cloudsync_table_sync" "missing" {
  database_id = cloudsync_database.edge.id
  table       = "nope"
}
"#,
    ));
    let out = tf.try_apply();
    assert!(!out.success());
    assert!(
        out.combined()
            .contains("Table not found in the tenant database"),
        "{out}"
    );
    assert!(out.combined().contains("notes"), "{out}");
    tf.write_main(&sqlite_config(
        r#"
resource "cloudsync_table_sync" "raw" {
  database_id = cloudsync_database.edge.id
  table       = "raw"
}
"#,
    ));
    let out = tf.try_apply();
    assert!(!out.success());
    assert!(out.combined().contains("primary key"), "{out}");

    // Devices across pages, and every data source.
    let devices: Vec<Value> = (0..120)
        .map(|i| json!({"siteId": format!("site_{i:03}"), "platform": if i % 2 == 0 { "ios" } else { "android" }}))
        .collect();
    emu.admin(
        Method::POST,
        &format!("/_emulator/cloudsync/databases/{id}/devices"),
        Some(json!({ "devices": devices })),
    );
    emu.admin(Method::POST, "/_emulator/stats/reset", None);
    let token = "expo-token-AAAA-first";
    let data = r#"
resource "cloudsync_table_sync" "notes" {
  database_id = cloudsync_database.edge.id
  table       = "notes"
}

resource "cloudsync_expo_access_token" "push" {
  database_id      = cloudsync_database.edge.id
  token_wo         = var.expo
  token_wo_version = VERSION
}

data "cloudsync_devices" "all" {
  database_id = cloudsync_database.edge.id
  page_size   = 50
}
data "cloudsync_organization" "o" {}
data "cloudsync_databases" "all" {
  depends_on = [cloudsync_database.edge]
}
data "cloudsync_database" "edge" {
  id = cloudsync_database.edge.id
}
data "cloudsync_database_connection" "edge" {
  database_id = cloudsync_database.edge.id
}
data "cloudsync_tables" "edge" {
  database_id = cloudsync_database.edge.id
  depends_on  = [cloudsync_table_sync.notes]
}
data "cloudsync_notification_status" "edge" {
  database_id = cloudsync_database.edge.id
  depends_on  = [cloudsync_expo_access_token.push]
}
output "device_total" { value = data.cloudsync_devices.all.total }
output "last_device" { value = data.cloudsync_devices.all.devices[119].site_id }
output "org" { value = data.cloudsync_organization.o.status }
output "ids" { value = [for d in data.cloudsync_databases.all.databases : d.id] }
output "label" { value = data.cloudsync_database.edge.label }
output "ok" { value = data.cloudsync_database_connection.edge.ok }
output "enabled" { value = data.cloudsync_tables.edge.enabled_tables }
output "push" { value = data.cloudsync_notification_status.edge.status }
"#;
    tf.write_main(&sqlite_config(&data.replace("VERSION", "1")));
    let out = tf.run(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-var",
        &format!("expo={token}"),
    ]);
    assert!(out.success(), "{out}");
    assert_eq!(tf.output("device_total"), 120);
    assert_eq!(tf.output("last_device"), "site_119");
    assert_eq!(tf.output("org"), "active");
    assert_eq!(tf.output("ids"), json!([id]));
    assert_eq!(tf.output("label"), "Edge");
    assert_eq!(tf.output("ok"), true);
    assert_eq!(tf.output("enabled"), json!(["notes"]));
    assert_eq!(tf.output("push"), "enabled");
    let stats = emu.admin(Method::GET, "/_emulator/stats", None);
    let pages = stats["by_route"]["GET /v1/databases/{database}/devices"]
        .as_u64()
        .unwrap_or(0);
    assert!(pages >= 3, "three pages of 50 read: {stats}");
    let outside = rusqlite::Connection::open(&file).expect("tenant file");
    let meta: i64 = outside
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'notes_cloudsync'",
            [],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(meta, 1);
    let (_, meta) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        None,
    );
    assert_eq!(meta["data"]["tokenSuffix"], "irst");
    let push = tf.resource("cloudsync_expo_access_token.push");
    assert_eq!(push["token_wo"], Value::Null);
    assert_eq!(push["token_suffix"], "irst");
    let state = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).expect("state");
    assert!(!state.contains(token) && !tf.log().contains(token) && !out.combined().contains(token));

    // Rotated by its version.
    let token2 = "expo-token-BBBB-second";
    tf.write_main(&sqlite_config(&data.replace("VERSION", "2")));
    let out = tf.run(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-var",
        &format!("expo={token2}"),
    ]);
    assert!(out.success(), "{out}");
    let (_, meta) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        None,
    );
    assert_eq!(meta["data"]["tokenSuffix"], "cond");
    let expo_var = format!("expo={token2}");
    let plan = tf.run(&[
        "plan",
        "-detailed-exitcode",
        "-no-color",
        "-input=false",
        "-var",
        &expo_var,
    ]);
    assert_eq!(plan.code, 0, "{plan}");

    // Removed outside Terraform: noticed.
    let (status, _) = emu.api(
        Method::DELETE,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        None,
    );
    assert_eq!(status, 204);
    let plan = tf.run(&["plan", "-no-color", "-input=false", "-var", &expo_var]);
    assert!(
        plan.stdout
            .contains("cloudsync_expo_access_token.push will be created"),
        "{plan}"
    );
    assert!(tf
        .run(&[
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-var",
            &expo_var
        ])
        .success());

    // Import of the token by database id.
    let fresh = tf.fresh();
    fresh.write_main(&sqlite_config(&data.replace("VERSION", "2")));
    let out = fresh.run(&[
        "import",
        "-no-color",
        "-input=false",
        "-var",
        &expo_var,
        "cloudsync_expo_access_token.push",
        &id,
    ]);
    assert!(out.success(), "{out}");
    assert_eq!(
        fresh.resource("cloudsync_expo_access_token.push")["token_suffix"],
        "cond"
    );

    // Import by identity (an `import` block), for the table with a two-part id.
    let by_identity = tf.fresh();
    by_identity.write_main(&format!(
        r#"{BLOCK}
import {{
  to       = cloudsync_table_sync.notes
  identity = {{
    database_id = {id}
    table       = "notes"
  }}
}}

resource "cloudsync_table_sync" "notes" {{
  database_id = {id}
  table       = "notes"
}}
"#,
        id = hcl(&id)
    ));
    let plan = by_identity.plan();
    assert!(
        plan.stdout
            .contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    by_identity.apply();
    assert_eq!(
        by_identity.resource("cloudsync_table_sync.notes")["id"],
        format!("{id}/notes")
    );

    // Removed from the configuration: the token is deleted.
    tf.write_main(&sqlite_config(""));
    tf.apply();
    let (_, meta) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        None,
    );
    assert_eq!(meta["data"]["configured"], false);

    // Destroy while the node is paused: the registration goes, CloudSync's cleanup warning
    // is shown.
    tf.write_main(&sqlite_config(""));
    emu.admin(
        Method::PUT,
        &format!("/_emulator/cloudsync/sqlitecloud/nodes/{NODE}"),
        Some(json!({"apikey": NODE_KEY, "paused": true})),
    );
    let out = tf.destroy();
    assert!(
        out.combined().contains("CloudSync cleanup warning"),
        "{out}"
    );
    assert!(out.combined().contains("database_paused"), "{out}");
    assert!(stored(&emu).is_empty());
}

fn edge_config(extra_db: &str, provider_block: &str, extra: &str) -> String {
    format!(
        r#"{BLOCK}
{provider_block}
resource "cloudsync_database" "edge" {{
  label             = "Edge"
  connection_string = "sqlitecloud://{NODE}:8860?apikey={NODE_KEY}"
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "appdb"
{extra_db}
}}
{extra}"#
    )
}

#[test]
fn lost_answers_faults_drift_and_a_sensitive_secret() {
    let emu = CloudSync::start();
    let dir = emu.sqlite_node(NODE, NODE_KEY);
    CloudSync::sqlite_database(&dir, "appdb", "CREATE TABLE notes (id TEXT PRIMARY KEY);");
    let tf = terraform(&emu);

    // The registration's answer is lost: the error names what the workspace now holds and
    // how to import it; importing it leaves one registration.
    emu.admin(
        Method::PUT,
        "/_emulator/faults",
        Some(json!({"rules": [{"method": "POST", "path_prefix": "/v1/databases", "kind": "lose_response", "times": 1}]})),
    );
    tf.write_main(&edge_config("", "", ""));
    let out = tf.try_apply();
    assert!(!out.success(), "{out}");
    let rows = stored(&emu);
    assert_eq!(rows.len(), 1, "the lost create did commit");
    let id = rows[0]["managedDatabaseId"]
        .as_str()
        .expect("id")
        .to_owned();
    let text = out.combined();
    assert!(text.contains("may have been made"), "{text}");
    assert!(
        text.contains("terraform import") && text.contains(&id),
        "{text}"
    );
    assert!(!text.contains(NODE_KEY), "{text}");
    tf.import("cloudsync_database.edge", &id);
    tf.apply();
    assert_eq!(stored(&emu).len(), 1, "no duplicate");
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // 429s and 5xx on reads are retried; a hung API ends with a timeout naming the setting.
    emu.admin(
        Method::PUT,
        "/_emulator/faults",
        Some(json!({"rules": [
            {"method": "GET", "path_prefix": "/v1/databases/", "kind": "rate_limit", "retry_after": 1, "times": 1},
            {"method": "GET", "path_prefix": "/v1/databases/", "kind": "error", "status": 502, "times": 1}
        ]})),
    );
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    emu.admin(
        Method::PUT,
        "/_emulator/faults",
        Some(json!({"rules": [{"method": "GET", "kind": "latency", "latency_ms": 4000}]})),
    );
    let hung = terraform(&emu);
    hung.write_main(&format!(
        "{BLOCK}\nprovider \"cloudsync\" {{\n  request_timeout_seconds = 1\n  max_retries = 0\n}}\ndata \"cloudsync_organization\" \"o\" {{}}\n"
    ));
    let started = std::time::Instant::now();
    let out = hung.try_plan();
    assert!(!out.success());
    assert!(out.combined().contains("timed out"), "{out}");
    assert!(out.combined().contains("request_timeout_seconds"), "{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    emu.admin(Method::DELETE, "/_emulator/faults", None);

    // A label changed outside Terraform is planned back.
    emu.api(
        Method::PATCH,
        &format!("/v1/databases/{id}"),
        Some(json!({"label": "renamed"})),
    );
    let plan = tf.plan();
    assert!(plan.stdout.contains("\"renamed\" -> \"Edge\""), "{plan}");
    tf.apply();
    assert_eq!(stored(&emu)[0]["label"], "Edge");

    // A sensitive secret (kept in state), JWT lists and jwks_uri; then all removed: cleared.
    let jwt = r#"  jwt_secret             = "sensitive-jwt-Q7"
  jwt_allowed_issuers    = ["https://ïssuer.example"]
  jwt_expected_audiences = []
  jwks_uri               = "https://issuer.example/jwks.json""#;
    tf.write_main(&edge_config(jwt, "", ""));
    let out = tf.apply();
    assert!(!out.combined().contains("sensitive-jwt-Q7"));
    assert!(!tf.log().contains("sensitive-jwt-Q7"));
    let row = &stored(&emu)[0];
    assert_eq!(row["jwtSecret"], "sensitive-jwt-Q7");
    assert_eq!(row["jwtAllowedIssuers"], json!(["https://ïssuer.example"]));
    assert_eq!(row["jwksUri"], "https://issuer.example/jwks.json");
    assert_eq!(tf.plan_detailed_exitcode(), 0, "[] stays [] without a diff");
    tf.write_main(&edge_config("", "", ""));
    tf.apply();
    let row = &stored(&emu)[0];
    assert_eq!(
        row["jwtSecret"],
        Value::Null,
        "removing jwt_secret clears it"
    );
    assert_eq!(row["jwtAllowedIssuers"], json!([]));
    assert_eq!(row["jwksUri"], Value::Null);
    assert_eq!(row["jwtSecretConfigured"], false);
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    // A secret set outside Terraform while the configuration has none is cleared again.
    emu.api(
        Method::PATCH,
        &format!("/v1/databases/{id}"),
        Some(json!({"jwtSecret": "set-behind-terraform"})),
    );
    assert_eq!(tf.plan_detailed_exitcode(), 2);
    tf.apply();
    assert_eq!(stored(&emu)[0]["jwtSecret"], Value::Null);

    // Provider settings unknown until apply: the plan still works, the apply uses them.
    let late = Terraform::builder()
        .platform_provider(Platform::CloudSync)
        .env("CLOUDSYNC_API_URL", emu.url())
        .build();
    late.write_main(&format!(
        r#"{BLOCK}
resource "terraform_data" "key" {{
  input = {key}
}}
provider "cloudsync" {{
  api_key = terraform_data.key.output
}}
resource "cloudsync_table_sync" "notes" {{
  database_id = {id}
  table       = "notes"
}}
"#,
        key = hcl(emu.api_key()),
        id = hcl(&id),
    ));
    late.apply();
    let (_, tables) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/cloudsync/tables"),
        None,
    );
    assert_eq!(tables["data"], json!([{"name": "notes", "enabled": true}]));
    late.destroy();
    tf.destroy();
    assert!(stored(&emu).is_empty());
}

#[test]
fn a_sensitive_expo_token_from_a_file_keeps_no_newline() {
    let emu = CloudSync::start();
    let dir = emu.sqlite_node(NODE, NODE_KEY);
    CloudSync::sqlite_database(&dir, "appdb", "CREATE TABLE t (id TEXT PRIMARY KEY);");
    let tf = terraform(&emu);
    tf.write_file("token.txt", "expo-file-token-ZZ99\n");
    let token = r#"
resource "cloudsync_expo_access_token" "push" {
  database_id = cloudsync_database.edge.id
  token       = file("token.txt")
}
"#;
    tf.write_main(&sqlite_config(token));
    tf.apply();
    let id = tf.resource("cloudsync_database.edge")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (_, meta) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        None,
    );
    assert_eq!(
        meta["data"]["tokenSuffix"], "ZZ99",
        "sent without the newline"
    );
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    let plan = tf.plan();
    assert!(!plan.combined().contains("expo-file-token"));
    // Replaced outside Terraform: noticed through the metadata, set back.
    emu.api(
        Method::PUT,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        Some(json!({"expoAccessToken": "someone-elses-token-AB12"})),
    );
    assert_eq!(tf.plan_detailed_exitcode(), 2);
    tf.apply();
    let (_, meta) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        None,
    );
    assert_eq!(meta["data"]["tokenSuffix"], "ZZ99");
    assert!(!tf.log().contains("expo-file-token-ZZ99"));
    // Rotated by a new value.
    tf.write_file("token.txt", "expo-file-token-YY88\n");
    tf.apply();
    let (_, meta) = emu.api(
        Method::GET,
        &format!("/v1/databases/{id}/notifications/expo-access-token"),
        None,
    );
    assert_eq!(meta["data"]["tokenSuffix"], "YY88");

    // A new database_name replaces the registration (with a warning), and the token moves
    // to the new id; the old registration is gone.
    CloudSync::sqlite_database(&dir, "appdb2", "CREATE TABLE t (id TEXT PRIMARY KEY);");
    let moved = sqlite_config(token).replace(
        "database_name     = \"appdb\"",
        "database_name     = \"appdb2\"",
    );
    tf.write_main(&moved);
    let plan = tf.plan();
    assert!(plan.stdout.contains("must be replaced"), "{plan}");
    assert!(
        plan.combined()
            .contains("This plan replaces a CloudSync registration"),
        "{plan}"
    );
    tf.apply();
    let new_id = tf.resource("cloudsync_database.edge")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_ne!(new_id, id);
    let rows = stored(&emu);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["databaseName"], "appdb2");
    let (_, meta) = emu.api(
        Method::GET,
        &format!("/v1/databases/{new_id}/notifications/expo-access-token"),
        None,
    );
    assert_eq!(meta["data"]["tokenSuffix"], "YY88");
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    tf.destroy();
    assert!(stored(&emu).is_empty());
}

/// Every example under `examples/cloudsync/` (but the quickstart) in one configuration: Terraform
/// validates it against the provider's schema (so the docs' examples stay true).
#[test]
fn the_examples_validate() {
    let emu = CloudSync::start();
    let tf = terraform(&emu);
    let root = crate::support::crate_dir()
        .join("examples")
        .join("cloudsync");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("examples dir").flatten() {
            let path = entry.path();
            // The quickstart is a whole configuration of its own, applied by its own test.
            if path.is_dir() && !path.ends_with("quickstart") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 11, "{files:?}");
    for (i, file) in files.iter().enumerate() {
        let text = std::fs::read_to_string(file).expect("example");
        tf.write_file(&format!("example_{i}.tf"), &text);
    }
    let out = tf.run(&["validate", "-no-color"]);
    assert!(out.success(), "{out}");
}

/// `examples/cloudsync/quickstart` on the oldest supported Terraform (1.6) and the newest:
/// apply, a second plan with no changes, an import round trip, destroy.
fn quickstart_round_trip(bin: &std::path::Path) {
    let emu = CloudSync::start();
    let node = "quickstart.sqlite.test";
    let key = "qs-key-0123";
    let dir = emu.sqlite_node(node, key);
    CloudSync::sqlite_database(
        &dir,
        "notes",
        "CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, body TEXT)",
    );
    let tf = Terraform::builder()
        .platform(&emu, Platform::CloudSync)
        .bin(bin)
        .env(
            "TF_VAR_connection_string",
            format!("sqlitecloud://{node}:8860?apikey={key}"),
        )
        .build();
    let version = tf.version();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/cloudsync/quickstart/main.tf");
    tf.write_main(&std::fs::read_to_string(example).expect("quickstart"));
    tf.apply();
    assert_eq!(
        tf.plan_detailed_exitcode(),
        0,
        "{version}: the quickstart converges"
    );
    let db = tf.run_ok(&["output", "-raw", "database_id"]).stdout;
    assert_eq!(emu.stored().len(), 1, "{version}");
    tf.run_ok(&["state", "rm", "-no-color", "cloudsync_table_sync.notes"]);
    tf.run_ok(&[
        "import",
        "-no-color",
        "-input=false",
        "cloudsync_table_sync.notes",
        &format!("{}/notes", db.trim()),
    ]);
    assert_eq!(
        tf.plan_detailed_exitcode(),
        0,
        "{version}: import round trip"
    );
    tf.run_ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(
        emu.stored().is_empty(),
        "{version}: destroy left a database"
    );
}

#[test]
fn quickstart_on_the_oldest_supported_and_the_newest_terraform() {
    quickstart_round_trip(&crate::support::oldest_terraform_bin());
    quickstart_round_trip(&crate::support::terraform_bin());
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} in {v}"))
        .to_owned()
}

/// The standard checks (`support::checks::lifecycle`) for every CloudSync type: the
/// database registration (on a `sqlitecloud://` node; its connection string is not
/// importable, so the plan after import sets it in place), a table's sync and the Expo
/// access token (both on a registration made through the API): apply and empty plan,
/// import into a fresh state with the same attributes, out-of-band deletion noticed and
/// re-created, nothing left after destroy.
#[test]
fn standard_lifecycle_checks() {
    use crate::support::checks::{lifecycle, Check, Import, OutOfBand};

    let emu = CloudSync::start();
    let dir = emu.sqlite_node(NODE, NODE_KEY);
    CloudSync::sqlite_database(
        &dir,
        "appdb",
        "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT);",
    );
    let ids = || -> Vec<String> {
        stored(&emu)
            .iter()
            .filter_map(|d| d["managedDatabaseId"].as_str().map(str::to_owned))
            .collect()
    };
    let config = sqlite_config("");
    lifecycle(
        &terraform(&emu),
        &Check {
            address: "cloudsync_database.edge",
            config: &config,
            import: Import::VerifyThenUpdate {
                id: Box::new(|v| s(v, "id")),
                not_importable: &["connection_string"],
            },
            exists: Box::new(|v| assert!(ids().contains(&s(v, "id")), "{v}")),
            out_of_band: OutOfBand::Delete(Box::new(|v| {
                let (status, body) = emu.api(
                    Method::DELETE,
                    &format!("/v1/databases/{}", s(v, "id")),
                    None,
                );
                assert!((200..300).contains(&status), "{status} {body}");
            })),
            nothing_left: Box::new(|| assert!(ids().is_empty(), "{:?}", ids())),
        },
    );

    // Children of a registration made through the API (a single-resource configuration
    // each).
    let (status, db) = emu.api(
        Method::POST,
        "/v1/databases",
        Some(json!({
            "label": "Parent",
            "connectionString": format!("sqlitecloud://{NODE}:8860?apikey={NODE_KEY}"),
            "provider": "sqlitecloud",
            "flavor": "sqlitecloud",
            "databaseName": "appdb",
        })),
    );
    assert!((200..300).contains(&status), "{status} {db}");
    let id = s(&db["data"], "managedDatabaseId");
    let enabled = || -> Vec<String> {
        let (_, list) = emu.api(
            Method::GET,
            &format!("/v1/databases/{id}/cloudsync/tables"),
            None,
        );
        list["data"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|t| t["enabled"] == true)
                    .filter_map(|t| t["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let config = format!(
        "{BLOCK}\nresource \"cloudsync_table_sync\" \"notes\" {{\n  database_id = {}\n  table       = \"notes\"\n}}\n",
        hcl(&id)
    );
    lifecycle(
        &terraform(&emu),
        &Check {
            address: "cloudsync_table_sync.notes",
            config: &config,
            import: Import::Verify {
                id: Box::new(|v| format!("{}/{}", s(v, "database_id"), s(v, "table"))),
                not_importable: &[],
            },
            exists: Box::new(|v| assert!(enabled().contains(&s(v, "table")), "{v}")),
            out_of_band: OutOfBand::Delete(Box::new(|_| {
                let (status, body) = emu.api(
                    Method::POST,
                    &format!("/v1/databases/{id}/cloudsync/disable"),
                    Some(json!({"tables": ["notes"]})),
                );
                assert!((200..300).contains(&status), "{status} {body}");
            })),
            nothing_left: Box::new(|| assert!(enabled().is_empty(), "{:?}", enabled())),
        },
    );

    let token_path = format!("/v1/databases/{id}/notifications/expo-access-token");
    let configured = || emu.api(Method::GET, &token_path, None).1["data"]["configured"] == true;
    let config = format!(
        "{BLOCK}\nresource \"cloudsync_expo_access_token\" \"push\" {{\n  database_id      = {}\n  token_wo         = \"expo-token-life-cycle\"\n  token_wo_version = 1\n}}\n",
        hcl(&id)
    );
    lifecycle(
        &terraform(&emu),
        &Check {
            address: "cloudsync_expo_access_token.push",
            config: &config,
            import: Import::VerifyThenUpdate {
                id: Box::new(|v| s(v, "database_id")),
                not_importable: &["token_wo_version"],
            },
            exists: Box::new(|v| assert!(configured(), "{v}")),
            out_of_band: OutOfBand::Delete(Box::new(|_| {
                let (status, body) = emu.api(Method::DELETE, &token_path, None);
                assert_eq!(status, 204, "{body}");
            })),
            nothing_left: Box::new(|| assert!(!configured())),
        },
    );
}

/// `connection_string_wo` (write-only, Terraform 1.11+): the connection string from an
/// ephemeral variable reaches CloudSync, state and plan hold null for it, a version bump
/// sends the new one in place, and the plan after is empty.
#[test]
fn write_only_connection_string_and_its_version() {
    const HOST: &str = "wo.sqlite.cloud";
    let emu = CloudSync::start();
    let dir = emu.sqlite_node(HOST, "node-key-wo-first-4410");
    CloudSync::sqlite_database(&dir, "appdb", "CREATE TABLE notes (id TEXT PRIMARY KEY);");
    let tf = terraform(&emu);
    let config = |version: u32| {
        format!(
            r#"{BLOCK}
variable "conn" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

resource "cloudsync_database" "edge" {{
  label                        = "Edge"
  connection_string_wo         = var.conn
  connection_string_wo_version = {version}
  database_provider            = "sqlitecloud"
  flavor                       = "sqlitecloud"
  database_name                = "appdb"
}}
"#
        )
    };
    let url = |key: &str| format!("sqlitecloud://{HOST}:8860?apikey={key}");
    let first = url("node-key-wo-first-4410");
    tf.write_main(&config(1));
    let out = with_var(&tf, &["apply", "-auto-approve"], &first);
    assert!(out.success(), "{out}");
    let edge = tf.resource("cloudsync_database.edge");
    assert_eq!(edge["connection_string_wo"], Value::Null);
    assert_eq!(edge["connection_string"], Value::Null);
    assert_eq!(edge["connection_string_wo_version"], 1);
    let rows = stored(&emu);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["connectionString"], first.as_str());
    let id = edge["id"].as_str().expect("id").to_owned();
    let plan = with_var(&tf, &["plan", "-detailed-exitcode"], &first);
    assert_eq!(plan.code, 0, "second plan is empty\n{plan}");

    // The node's key changes: a version bump sends the new string, in place.
    let second = url("node-key-wo-second-8823");
    emu.sqlite_node(HOST, "node-key-wo-second-8823");
    tf.write_main(&config(2));
    let plan = with_var(&tf, &["plan", "-out=bump.tfplan"], &second);
    assert!(plan.success(), "{plan}");
    assert!(plan.stdout.contains("1 to change, 0 to destroy"), "{plan}");
    let shown = tf.run(&["show", "-json", "bump.tfplan"]);
    assert!(shown.success(), "{shown}");
    let doc: Value = serde_json::from_str(&shown.stdout).expect("plan json");
    let change = doc["resource_changes"]
        .as_array()
        .and_then(|all| {
            all.iter()
                .find(|c| c["address"] == "cloudsync_database.edge")
        })
        .expect("change of the database");
    assert_eq!(change["change"]["actions"], json!(["update"]));
    assert_eq!(
        change["change"]["after"]["connection_string_wo"],
        Value::Null
    );
    assert_eq!(change["change"]["after"]["connection_string_wo_version"], 2);
    let out = with_var(&tf, &["apply", "-auto-approve"], &second);
    assert!(out.success(), "{out}");
    let rows = stored(&emu);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["connectionString"], second.as_str());
    assert_eq!(tf.resource("cloudsync_database.edge")["id"], id.as_str());
    let plan = with_var(&tf, &["plan", "-detailed-exitcode"], &second);
    assert_eq!(plan.code, 0, "plan after the bump is empty\n{plan}");

    // Neither key is anywhere Terraform keeps or shows things.
    let state = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).expect("state");
    for key in ["node-key-wo-first-4410", "node-key-wo-second-8823"] {
        for (what, text) in [
            ("state", state.as_str()),
            ("plan", shown.stdout.as_str()),
            ("apply", &out.combined()),
            ("log", &tf.log()),
        ] {
            assert!(
                !text.contains(key),
                "the connection string is in the {what}"
            );
        }
    }

    // Neither form: a plan-time error on `connection_string`.
    tf.write_main(&format!(
        r#"{BLOCK}
resource "cloudsync_database" "edge" {{
  label             = "Edge"
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "appdb"
}}
"#
    ));
    let out = tf.run(&["validate", "-no-color"]);
    assert!(!out.success(), "{out}");
    assert!(
        out.combined().contains("Missing connection string"),
        "{out}"
    );
    assert!(out.combined().contains("connection_string"), "{out}");
}

/// Terraform 1.6 (the oldest supported) has no write-only attributes and would keep
/// `connection_string_wo` in its state: the plan is refused on that attribute, naming the
/// versions that work and `connection_string`, and nothing reaches CloudSync, the state or
/// the output. The sensitive `connection_string` the error names then applies on 1.6 (kept
/// in state, marked sensitive).
#[test]
fn terraform_1_6_refuses_connection_string_wo_and_applies_connection_string() {
    const HOST: &str = "old.sqlite.cloud";
    const KEY: &str = "node-key-old-terraform-5521";
    let emu = CloudSync::start();
    let dir = emu.sqlite_node(HOST, KEY);
    CloudSync::sqlite_database(&dir, "appdb", "CREATE TABLE notes (id TEXT PRIMARY KEY);");
    let tf = Terraform::builder()
        .platform(&emu, Platform::CloudSync)
        .bin(crate::support::oldest_terraform_bin())
        .build();
    let version = tf.version();
    assert!(version.starts_with("Terraform v1.6."), "{version}");
    let config = |connection: &str| {
        format!(
            r#"{BLOCK}
variable "conn" {{
  type      = string
  sensitive = true
}}

resource "cloudsync_database" "edge" {{
  label             = "Edge"
{connection}
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "appdb"
}}
"#
        )
    };
    let conn = format!("sqlitecloud://{HOST}:8860?apikey={KEY}");
    tf.write_main(&config(
        "  connection_string_wo         = var.conn\n  connection_string_wo_version = 1",
    ));
    let out = with_var(&tf, &["apply", "-auto-approve"], &conn);
    assert!(!out.success(), "{out}");
    let text = out.folded();
    for said in [
        "Write-only attribute not supported by this Terraform",
        "`connection_string_wo` is write-only",
        "Terraform 1.11 or later (or OpenTofu 1.11 or later)",
        "set `connection_string` instead",
        // Terraform quotes the line of the attribute the error is on.
        "connection_string_wo = var.conn",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
    assert!(!text.contains("panic"), "{text}");
    assert!(stored(&emu).is_empty(), "nothing registered with CloudSync");
    let state = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).unwrap_or_default();
    for (what, text) in [
        ("output", text.as_str()),
        ("state", &state),
        ("log", &tf.log()),
    ] {
        assert!(
            !text.contains(KEY),
            "the connection string is in the {what}"
        );
    }

    // The form the error names works on 1.6: applied, then nothing left to do.
    tf.write_main(&config("  connection_string = var.conn"));
    let out = with_var(&tf, &["apply", "-auto-approve"], &conn);
    assert!(out.success(), "{out}");
    let rows = stored(&emu);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["connectionString"], conn.as_str());
    let plan = with_var(&tf, &["plan", "-detailed-exitcode"], &conn);
    assert_eq!(plan.code, 0, "{plan}");
    assert!(!out.combined().contains(KEY), "{out}");
}

fn with_var(tf: &Terraform, args: &[&str], conn: &str) -> crate::support::Output {
    let var = format!("conn={conn}");
    let mut all: Vec<&str> = args[..1].to_vec();
    all.extend(["-no-color", "-input=false", "-var", &var]);
    all.extend(args[1..].iter().copied());
    tf.run(&all)
}
