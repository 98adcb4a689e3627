//! WaysCloud and CloudSync list resources with the real Terraform (1.15) against the
//! emulator: objects made through the API (outside Terraform), `terraform query` with
//! filters listing exactly the matching ones, then `-generate-config-out`, a plan of only
//! imports (plus, on CloudSync, the secrets the API never returns, filled in by hand and
//! sent once), apply, and an empty plan; a wrong `api_url` and a bad filter as clear
//! errors.

use crate::query::{listed, query, query_fails};
use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::cloudsync::CloudSync;
use support::{Emulator, Platform, Terraform};

fn ok(answer: (u16, Value), what: &str) -> Value {
    let (code, body) = answer;
    assert!((200..300).contains(&code), "{what}: {code} {body}");
    body
}

/// `terraform query -generate-config-out`, the generated file with `edit` applied (what
/// a user fills in), and its `import` blocks counted: the file as generated, and what the
/// query printed.
fn generate(
    tf: &Terraform,
    imports: usize,
    edit: impl Fn(&str) -> String,
) -> (String, support::Output) {
    let out = tf.run_ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let path = tf.dir().join("generated.tf");
    let generated = std::fs::read_to_string(&path).expect("generated.tf");
    assert_eq!(
        generated.matches("import {").count(),
        imports,
        "{generated}\n{out}"
    );
    std::fs::write(&path, edit(&generated)).expect("edit generated.tf");
    (generated, out)
}

/// The plan after the generated configuration says `summary`; after the apply nothing is
/// left to do.
fn plan_apply_and_nothing_left(tf: &Terraform, query_file: &str, summary: &str) {
    tf.remove_file(query_file);
    let plan = tf.plan();
    assert!(plan.stdout.contains(summary), "{plan}");
    tf.apply();
    assert_eq!(
        tf.plan_detailed_exitcode(),
        0,
        "nothing left after the imports"
    );
}

#[test]
fn wayscloud_databases_rules_snapshots_and_policies_list_generate_and_import() {
    let emu = Emulator::serving(&[Platform::WaysCloud]);
    let on = emu.on(Platform::WaysCloud);
    let mut names = std::collections::BTreeMap::new();
    for (db_type, name) in [
        ("postgresql", "app_one"),
        ("postgresql", "app_two"),
        ("mariadb", "app_three"),
        ("postgresql", "other"),
    ] {
        let db = ok(
            on.api(
                Method::POST,
                "/v1/databases",
                Some(json!({ "db_type": db_type, "requested_name": name })),
            ),
            name,
        );
        let full = db["db_name"].as_str().expect("db_name").to_owned();
        names.insert(name, (db_type, full));
    }
    let path = |name: &str| {
        let (t, n) = &names[name];
        format!("/v1/databases/{t}/{n}")
    };
    ok(
        on.api(
            Method::PATCH,
            &path("app_two"),
            Some(json!({ "connection_limit": 20, "description": "Zwei ✓" })),
        ),
        "patch",
    );
    for (name, ip, description) in [
        ("app_one", "10.0.0.0/24", Some("office")),
        ("app_one", "192.0.2.10", None),
        ("other", "10.1.0.0/16", None),
    ] {
        ok(
            on.api(
                Method::POST,
                &format!("{}/firewall", path(name)),
                Some(json!({ "ip_address": ip, "description": description })),
            ),
            ip,
        );
    }
    for name in ["app_one", "other"] {
        ok(
            on.api(
                Method::POST,
                &format!("{}/snapshots", path(name)),
                Some(json!({ "description": format!("before {name}") })),
            ),
            "snapshot",
        );
    }
    ok(
        on.api(
            Method::PUT,
            &format!("{}/backup-policy", path("app_one")),
            Some(json!({ "enabled": true, "frequency": "hourly", "retention_days": 3 })),
        ),
        "policy",
    );

    let one = &names["app_one"].1;
    let tf = Terraform::on(&emu);
    tf.write_main(&Platform::terraform_block(&[Platform::WaysCloud]));
    let out = query(
        &tf,
        "all.tfquery.hcl",
        &format!(
            r#"
list "wayscloud_database" "pg_apps" {{
  provider = wayscloud
  config {{
    db_type     = "postgresql"
    name_prefix = "app_"
  }}
}}

list "wayscloud_database" "all" {{
  provider = wayscloud
}}

list "wayscloud_database_firewall_rule" "one" {{
  provider = wayscloud
  config {{
    db_type = "postgresql"
    db_name = "{one}"
  }}
}}

list "wayscloud_database_firewall_rule" "every" {{
  provider = wayscloud
}}

list "wayscloud_database_snapshot" "one" {{
  provider = wayscloud
  config {{
    db_type = "postgresql"
    db_name = "{one}"
  }}
}}

list "wayscloud_database_backup_policy" "enabled" {{
  provider = wayscloud
  config {{
    enabled = true
  }}
}}

list "wayscloud_database_backup_policy" "mariadb" {{
  provider = wayscloud
  config {{
    db_type = "mariadb"
  }}
}}
"#
        ),
    );
    let pg_apps = listed(&out, "list.wayscloud_database.pg_apps");
    assert_eq!(pg_apps.len(), 2, "{out}");
    for name in ["app_one", "app_two"] {
        assert!(
            pg_apps.iter().any(|l| l.contains(&names[name].1)),
            "{name}: {out}"
        );
    }
    assert_eq!(
        listed(&out, "list.wayscloud_database.all").len(),
        4,
        "{out}"
    );
    let rules = listed(&out, "list.wayscloud_database_firewall_rule.one");
    assert_eq!(rules.len(), 2, "{out}");
    assert!(rules.iter().all(|l| l.contains(one.as_str())), "{out}");
    assert_eq!(
        listed(&out, "list.wayscloud_database_firewall_rule.every").len(),
        3,
        "{out}"
    );
    let snapshots = listed(&out, "list.wayscloud_database_snapshot.one");
    assert_eq!(snapshots.len(), 1, "{out}");
    let enabled = listed(&out, "list.wayscloud_database_backup_policy.enabled");
    assert_eq!(enabled.len(), 1, "{out}");
    assert!(enabled[0].contains("hourly"), "{out}");
    // Every database has a policy (the default until one is set).
    let mariadb = listed(&out, "list.wayscloud_database_backup_policy.mariadb");
    assert_eq!(mariadb.len(), 1, "{out}");
    assert!(mariadb[0].contains("disabled"), "{out}");

    // Generate the PostgreSQL apps, app_one's rules and snapshot, the enabled policy.
    tf.write_file(
        "some.tfquery.hcl",
        &format!(
            r#"
list "wayscloud_database" "pg_apps" {{
  provider = wayscloud
  config {{
    db_type     = "postgresql"
    name_prefix = "app_"
  }}
}}

list "wayscloud_database_firewall_rule" "one" {{
  provider = wayscloud
  config {{
    db_type = "postgresql"
    db_name = "{one}"
  }}
}}

list "wayscloud_database_snapshot" "one" {{
  provider = wayscloud
  config {{
    db_type = "postgresql"
    db_name = "{one}"
  }}
}}

list "wayscloud_database_backup_policy" "enabled" {{
  provider = wayscloud
  config {{
    enabled = true
  }}
}}
"#
        ),
    );
    tf.remove_file("all.tfquery.hcl");
    let (generated, _) = generate(&tf, 6, str::to_owned);
    // Computed values, the password and server defaults are left out; what differs from
    // the defaults is kept.
    for absent in [
        "password ",
        "connection_string",
        "created_at",
        "time_of_day",
        "size_mb",
        "other",
    ] {
        assert!(!generated.contains(absent), "{absent} in {generated}");
    }
    assert_eq!(
        generated.matches("connection_limit").count(),
        1,
        "{generated}"
    );
    for kept in [
        "Zwei ✓",
        "office",
        "hourly",
        "before app_one",
        "10.0.0.0/24",
    ] {
        assert!(generated.contains(kept), "{kept} not in {generated}");
    }
    plan_apply_and_nothing_left(
        &tf,
        "some.tfquery.hcl",
        "Plan: 6 to import, 0 to add, 0 to change, 0 to destroy.",
    );
    let two = tf
        .state_list()
        .iter()
        .map(|address| tf.resource(address))
        .find(|r| r["requested_name"] == "app_two")
        .expect("app_two imported");
    assert_eq!(two["connection_limit"], 20, "{two:#}");
    assert!(two["password"].is_null(), "{two:#}");
}

const NODE: &str = "lists.sqlite.cloud";
const NODE_KEY: &str = "node-apikey-7731";

#[test]
fn cloudsync_databases_tables_and_expo_tokens_list_generate_and_import() {
    let emu = CloudSync::start();
    let dir = emu.sqlite_node(NODE, NODE_KEY);
    let connection = format!("sqlitecloud://{NODE}:8860?apikey={NODE_KEY}");
    let mut ids = std::collections::BTreeMap::new();
    for (label, file, enable) in [
        ("app-one", "one", "todos"),
        ("app-two", "two", "notes"),
        ("other", "other", "todos"),
    ] {
        CloudSync::sqlite_database(
            &dir,
            file,
            "CREATE TABLE todos (id TEXT PRIMARY KEY); CREATE TABLE notes (id TEXT PRIMARY KEY);",
        );
        let (code, body) = emu.request(
            Method::POST,
            "/v1/databases",
            Some(emu.api_key()),
            false,
            Some(json!({
                "label": label, "connectionString": connection, "provider": "sqlitecloud",
                "flavor": "sqlitecloud", "databaseName": file,
            })),
        );
        assert_eq!(code, 201, "{body}");
        let id = body["data"]["managedDatabaseId"]
            .as_str()
            .expect("id")
            .to_owned();
        let (code, body) = emu.request(
            Method::POST,
            &format!("/v1/databases/{id}/cloudsync/enable"),
            Some(emu.api_key()),
            false,
            Some(json!({ "tables": [enable] })),
        );
        assert_eq!(code, 200, "{body}");
        ids.insert(label, id);
    }
    let token = "expo-token-0123456789-wxyz";
    let (code, body) = emu.request(
        Method::PUT,
        &format!(
            "/v1/databases/{}/notifications/expo-access-token",
            ids["app-one"]
        ),
        Some(emu.api_key()),
        false,
        Some(json!({ "expoAccessToken": token })),
    );
    assert_eq!(code, 200, "{body}");

    let tf = Terraform::on(&emu);
    tf.write_main(&Platform::terraform_block(&[Platform::CloudSync]));
    let one = &ids["app-one"];
    let out = query(
        &tf,
        "all.tfquery.hcl",
        &format!(
            r#"
list "cloudsync_database" "apps" {{
  provider = cloudsync
  config {{
    label_prefix      = "app-"
    database_provider = "sqlitecloud"
  }}
}}

list "cloudsync_table_sync" "one" {{
  provider = cloudsync
  config {{
    database_id = "{one}"
  }}
}}

list "cloudsync_table_sync" "every" {{
  provider = cloudsync
}}

list "cloudsync_expo_access_token" "every" {{
  provider = cloudsync
}}
"#
        ),
    );
    let apps = listed(&out, "list.cloudsync_database.apps");
    assert_eq!(apps.len(), 2, "{out}");
    assert!(!out.stdout.contains("other ("), "{out}");
    let tables = listed(&out, "list.cloudsync_table_sync.one");
    assert_eq!(tables.len(), 1, "{out}");
    assert!(tables[0].contains(&format!("{one}/todos")), "{out}");
    assert_eq!(
        listed(&out, "list.cloudsync_table_sync.every").len(),
        3,
        "{out}"
    );
    let tokens = listed(&out, "list.cloudsync_expo_access_token.every");
    assert_eq!(tokens.len(), 1, "{out}");
    assert!(tokens[0].contains(one.as_str()), "{out}");
    assert!(
        !out.combined().contains(token),
        "the token never shows: {out}"
    );

    // Generate the apps, the tables of app-one and the tokens; the connection strings and
    // the token are secrets CloudSync never returns: the user fills them in.
    tf.write_file(
        "some.tfquery.hcl",
        &format!(
            r#"
list "cloudsync_database" "apps" {{
  provider = cloudsync
  config {{
    label_prefix = "app-"
  }}
}}

list "cloudsync_table_sync" "one" {{
  provider = cloudsync
  config {{
    database_id = "{one}"
  }}
}}

list "cloudsync_expo_access_token" "every" {{
  provider = cloudsync
}}
"#
        ),
    );
    tf.remove_file("all.tfquery.hcl");
    let (generated, out) = generate(&tf, 4, |text| {
        text.lines()
            .map(|l| match l.trim_start().split_once(' ') {
                Some(("connection_string", _)) => {
                    format!("  connection_string = \"{connection}\"")
                }
                Some(("token", _)) => format!("  token = \"{token}\""),
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    for absent in [
        "jwt_secret_configured",
        "workspace_id",
        "created_at",
        "token_suffix",
        "updated_at",
        "other",
        NODE_KEY,
        token,
    ] {
        assert!(!generated.contains(absent), "{absent} in {generated}");
    }
    // (`connection_string_wo` and its version are written as null beside it.)
    assert_eq!(
        generated
            .lines()
            .filter(|l| l.trim_start().starts_with("connection_string "))
            .count(),
        2,
        "left for the user: {generated}"
    );
    // The token is written for the user to fill in (its configuration fails the type's
    // own validation until then).
    assert!(
        generated
            .lines()
            .any(|l| l.trim_start().starts_with("token ")),
        "{generated}\n{out}"
    );
    // The connection strings and the token are sent once (CloudSync verifies them).
    plan_apply_and_nothing_left(
        &tf,
        "some.tfquery.hcl",
        "Plan: 4 to import, 0 to add, 3 to change, 0 to destroy.",
    );
}

/// A wrong `api_url` (a path where neither API is) is an error naming it; a bad filter is an
/// error on its attribute before anything is listed.
#[test]
fn a_wrong_api_url_and_a_bad_filter_are_clear_errors() {
    let emu = Emulator::serving(&[Platform::WaysCloud, Platform::CloudSync]);
    let mut tf = Terraform::on(&emu);
    tf.set_env(
        "WAYSCLOUD_API_URL",
        format!("{}/nothing-here", emu.on(Platform::WaysCloud).url()),
    );
    tf.set_env(
        "CLOUDSYNC_API_URL",
        format!("{}/nothing-here", emu.on(Platform::CloudSync).url()),
    );
    tf.write_main(&Platform::terraform_block(&[
        Platform::WaysCloud,
        Platform::CloudSync,
    ]));
    for (list, config) in [("wayscloud_database", ""), ("cloudsync_table_sync", "")] {
        let provider = list.split('_').next().unwrap_or_default();
        let text = query_fails(
            &tf,
            "wrong.tfquery.hcl",
            &format!("list \"{list}\" \"x\" {{\n  provider = {provider}\n{config}}}\n"),
        );
        // The wrong-url diagnostic: not the API, and the setting to check.
        let platform = if provider == "wayscloud" {
            "WaysCloud"
        } else {
            "CloudSync"
        };
        assert!(
            text.contains(&format!("is not from the {platform} API")) && text.contains("`api_url`"),
            "{list}: {text}"
        );
    }
    let text = query_fails(
        &tf,
        "wrong.tfquery.hcl",
        r#"
list "wayscloud_database_snapshot" "x" {
  provider = wayscloud
  config {
    db_type = "oracle"
    db_name = "cust_a_pg_x"
  }
}
"#,
    );
    assert!(
        text.contains("Invalid db_type") && text.contains("oracle"),
        "{text}"
    );
}

/// Every `*.tfquery.hcl` example under `examples/wayscloud/` and `examples/cloudsync/`
/// passes `terraform validate -query` against the providers' list schemas (the filters'
/// own checks included).
#[test]
fn the_list_examples_validate() {
    let tf = Terraform::builder()
        .platform_provider(Platform::WaysCloud)
        .platform_provider(Platform::CloudSync)
        .build();
    tf.write_main(&Platform::terraform_block(&[
        Platform::WaysCloud,
        Platform::CloudSync,
    ]));
    let mut count = 0;
    for provider in ["wayscloud", "cloudsync"] {
        let root = support::crate_dir()
            .join("examples")
            .join(provider)
            .join("list-resources");
        let mut dirs: Vec<_> = std::fs::read_dir(&root)
            .expect("list-resources")
            .flatten()
            .map(|e| e.path())
            .collect();
        dirs.sort();
        for dir in dirs {
            let text = std::fs::read_to_string(dir.join("list.tfquery.hcl")).expect("example");
            count += 1;
            tf.write_file(&format!("example_{count}.tfquery.hcl"), &text);
        }
    }
    assert_eq!(count, 7, "one example per list type");
    let out = tf.run(&["validate", "-query", "-no-color"]);
    assert!(out.success(), "{out}");
    // Validation reaches the provider: a bad filter fails it.
    tf.write_file(
        "bad.tfquery.hcl",
        "list \"cloudsync_table_sync\" \"bad\" {\n  provider = cloudsync\n  config {\n    database_id = \"nope\"\n  }\n}\n",
    );
    let out = tf.run(&["validate", "-query", "-no-color"]);
    assert!(!out.success(), "{out}");
    assert!(out.combined().contains("database_id"), "{out}");
}

/// Against a canned WaysCloud API (every route answers the same body, which holds both a
/// database list and a rule list): an odd entry is skipped with a warning naming it and
/// the rest is listed; with `limit = 1` the listing stops after the first database's rules,
/// so no other engine or database is fetched.
#[test]
fn wayscloud_odd_entries_are_skipped_and_a_limit_stops_the_fetching() {
    use support::canned_http::{Answer, CannedHttp};

    let server = CannedHttp::start(Answer::json(
        200,
        r#"{"db_type":"postgresql","databases":[
            {"db_name":"cust_ab12cd34_pg_one","port":5432},
            {"port":5432},
            {"db_name":"cust_ab12cd34_pg_two","connection_limit":"many"},
            {"db_name":"cust_ab12cd34_pg_three"}
        ],"rules":[{"rule_id":"r-2","port":5432},{"rule_id":"r-1","ip_address":"10.0.0.1"}],"total":2}"#,
    ));
    let tf = Terraform::builder()
        .platform_provider(Platform::WaysCloud)
        .env("WAYSCLOUD_API_URL", &server.url)
        .env("WAYSCLOUD_API_KEY", "wcs_00112233445566778899aabbccddeeff")
        .build();
    tf.write_main(&Platform::terraform_block(&[Platform::WaysCloud]));
    let out = query(
        &tf,
        "odd.tfquery.hcl",
        r#"
list "wayscloud_database" "pg" {
  provider = wayscloud
  config {
    db_type = "postgresql"
  }
}
"#,
    );
    let text = out.combined();
    let lines = listed(&out, "list.wayscloud_database.pg");
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines.iter().any(|l| l.contains("cust_ab12cd34_pg_one"))
            && lines.iter().any(|l| l.contains("cust_ab12cd34_pg_three")),
        "{out}"
    );
    assert!(text.contains("Skipped `entry 2`"), "{text}");
    assert!(text.contains("Skipped `cust_ab12cd34_pg_two`"), "{text}");
    assert_eq!(server.requests().len(), 1, "{:?}", server.requests());

    tf.write_file(
        "odd.tfquery.hcl",
        r#"
list "wayscloud_database_firewall_rule" "first" {
  provider = wayscloud
  limit    = 1
}
"#,
    );
    let before = server.requests().len();
    let out = tf.run_ok(&["query", "-no-color"]);
    let text = out.combined();
    let lines = listed(&out, "list.wayscloud_database_firewall_rule.first");
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("10.0.0.1"), "{out}");
    assert!(
        text.contains("Skipped `cust_ab12cd34_pg_one rule r-2`"),
        "{text}"
    );
    // The PostgreSQL databases, then the first one's rules: nothing more.
    let asked: Vec<String> = server.requests().split_off(before);
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked[0].starts_with("GET /v1/databases/postgresql "),
        "{asked:?}"
    );
    assert!(
        asked[1].starts_with("GET /v1/databases/postgresql/cust_ab12cd34_pg_one/firewall "),
        "{asked:?}"
    );
}

/// A list answer larger than the client's size cap for a whole answer (16 MiB), made of
/// small entries: a list type that reads its answer entry by entry lists the first ones
/// (here `limit = 1`, so the rest is never read), where a whole-answer read would fail
/// with "answer larger than". Fails if either list type stops streaming.
#[test]
fn wayscloud_and_cloudsync_lists_read_an_answer_larger_than_the_cap() {
    use support::canned_http::{Answer, CannedHttp};

    // About 17 MiB of entries of about 100 bytes each.
    fn big(key: &str, entry: impl Fn(usize) -> String) -> String {
        let mut body = format!(r#"{{"{key}":["#);
        let mut i = 0;
        while body.len() < 17 * 1024 * 1024 {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&entry(i));
            i += 1;
        }
        body.push_str("]}");
        body
    }
    let wayscloud = CannedHttp::start(Answer::json(
        200,
        &big("databases", |i| {
            format!(
                r#"{{"db_name":"cust_ab12cd34_pg_db{i:07}","port":5432,"note":"{}"}}"#,
                "x".repeat(40)
            )
        }),
    ));
    let cloudsync = CannedHttp::start(Answer::json(
        200,
        &big("data", |i| {
            format!(
                r#"{{"managedDatabaseId":"db_{i:07}","label":"l{i}","provider":"postgres","flavor":"vanilla","databaseName":"d{i}"}}"#
            )
        }),
    ));
    let tf = Terraform::builder()
        .platform_provider(Platform::WaysCloud)
        .platform_provider(Platform::CloudSync)
        .env("WAYSCLOUD_API_URL", &wayscloud.url)
        .env("WAYSCLOUD_API_KEY", "wcs_00112233445566778899aabbccddeeff")
        .env("CLOUDSYNC_API_URL", &cloudsync.url)
        .env("CLOUDSYNC_API_KEY", "csk_0123456789abcdef0123456789abcdef")
        .build();
    tf.write_main(&Platform::terraform_block(&[
        Platform::WaysCloud,
        Platform::CloudSync,
    ]));
    let out = query(
        &tf,
        "big.tfquery.hcl",
        r#"
list "wayscloud_database" "big" {
  provider = wayscloud
  limit    = 1
  config {
    db_type = "postgresql"
  }
}
list "cloudsync_database" "big" {
  provider = cloudsync
  limit    = 1
}
"#,
    );
    let text = out.combined();
    assert!(!text.contains("larger than"), "{text}");
    let ways = listed(&out, "list.wayscloud_database.big");
    assert_eq!(ways.len(), 1, "{out}");
    assert!(ways[0].contains("cust_ab12cd34_pg_db0000000"), "{out}");
    let sync = listed(&out, "list.cloudsync_database.big");
    assert_eq!(sync.len(), 1, "{out}");
    assert!(sync[0].contains("db_0000000"), "{out}");
}
