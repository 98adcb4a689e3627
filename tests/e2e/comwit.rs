//! End-to-end: the real Terraform CLI drives `terraform-provider-comwit` against the real
//! `platform-emulator`.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::checks::{self, Check, Import, OutOfBand};
use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};

/// Terraform wraps diagnostics at 80 columns: compare text on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn database_config(extra: &str) -> String {
    format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"main\" {{
  name = \"orders\"
{extra}
}}
"
    )
}

/// Live (not deleted) databases in the emulator, from its admin view.
fn live_databases(emu: &Emulator) -> Vec<Value> {
    emu.admin_get("/_emulator/databases")["databases"]
        .as_array()
        .expect("databases array")
        .iter()
        .filter(|d| d["deleted"] != json!(true))
        .cloned()
        .collect()
}

/// Every database record in the emulator's admin view, deleted ones included.
fn all_databases(emu: &Emulator) -> Vec<Value> {
    emu.admin_get("/_emulator/databases")["databases"]
        .as_array()
        .expect("databases array")
        .clone()
}

fn str_of<'v>(values: &'v Value, attr: &str) -> &'v str {
    values[attr]
        .as_str()
        .unwrap_or_else(|| panic!("no string {attr} in {values:#}"))
}

/// Deletes a database through the public API (as another tool would), expecting 204.
fn delete_database_out_of_band(emu: &Emulator, id: &str) {
    let (status, body) = emu.api(Method::DELETE, &format!("/v1/databases/{id}"), None);
    assert_eq!(status, 204, "out-of-band delete of {id}: {body}");
}

/// Nothing of any database is left: no live one, and no file of a deleted one.
fn no_database_left(emu: &Emulator) {
    assert!(live_databases(emu).is_empty(), "{:#?}", live_databases(emu));
    for rec in all_databases(emu) {
        assert_eq!(rec["deleted"], true, "{rec}");
        assert_eq!(rec["file_exists"], false, "database file removed: {rec}");
    }
}

/// `comwit_database`'s facts for the standard checks, for a configuration with this one
/// database: it exists when it is the one live database, with its file and the token in
/// state; imported by id (the token is never returned again, so `database_token` is null
/// after import); deleted out of band through the API; nothing left means no live database
/// and no database file.
fn database_check<'a>(emu: &'a Emulator, address: &'a str, config: &'a str) -> Check<'a> {
    Check {
        address,
        config,
        import: Import::Verify {
            id: Box::new(|v| str_of(v, "id").to_owned()),
            not_importable: &["database_token"],
        },
        exists: Box::new(move |v| {
            let live = live_databases(emu);
            assert_eq!(
                live.len(),
                1,
                "exactly one database, no duplicate: {live:#?}"
            );
            let rec = admin_db(emu, str_of(v, "id"));
            assert_ne!(rec["deleted"], true, "{rec}");
            assert_eq!(
                rec["file_exists"], true,
                "a real database file exists: {rec}"
            );
            if let Some(token) = v["database_token"].as_str() {
                assert_eq!(
                    rec["token_hash"],
                    sha256(token),
                    "the token in state is live"
                );
            }
        }),
        out_of_band: OutOfBand::Delete(Box::new(move |v| {
            delete_database_out_of_band(emu, str_of(v, "id"))
        })),
        nothing_left: Box::new(move || no_database_left(emu)),
    }
}

fn admin_db(emu: &Emulator, id: &str) -> Value {
    emu.admin_get("/_emulator/databases")["databases"]
        .as_array()
        .expect("databases array")
        .iter()
        .find(|d| d["database_id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("emulator has no database {id}"))
}

#[test]
fn database_lifecycle_rotation_suspend_and_secrets() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    let config = database_config("  token_version = 1");
    let check = database_check(&emu, "comwit_database.main", &config);
    // Apply; the database exists with the token in state; a second plan is empty.
    let db = checks::apply_then_empty_plan(&tf, &check);
    let id = db["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("db_"), "{db}");
    assert_eq!(db["project_id"], "prj_local");
    assert_eq!(db["status"], "active");
    assert_eq!(db["suspended"], false);
    assert_eq!(db["deletion_protection"], false);
    assert!(db["database_url"].as_str().expect("url").contains(&id));
    let token1 = db["database_token"].as_str().expect("token").to_owned();
    assert!(token1.starts_with("cdt_"), "database token kept in state");

    // The emulator holds only a hash of the token Terraform stored.
    let rec = admin_db(&emu, &id);
    assert_eq!(rec["token_hash"], sha256(&token1));
    assert_eq!(rec["file_exists"], true, "a real database file exists");

    // Rotation in place: new token in state, the emulator holds only the new hash.
    tf.write_main(&database_config("  token_version = 2"));
    let plan = tf.try_plan();
    assert!(plan.success(), "{}", plan.combined());
    assert!(plan.stdout.contains("1 to change"), "{}", plan.stdout);
    assert!(plan.stdout.contains("(sensitive value)"), "{}", plan.stdout);
    assert!(
        !plan.combined().contains(&token1),
        "plan output must not show the token"
    );
    tf.apply();
    let db = tf.resource("comwit_database.main");
    assert_eq!(db["id"], id.as_str(), "rotation is in place");
    let token2 = db["database_token"].as_str().expect("token").to_owned();
    assert_ne!(token1, token2);
    let rec = admin_db(&emu, &id);
    assert_eq!(rec["token_hash"], sha256(&token2));
    assert_ne!(rec["token_hash"], sha256(&token1));
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // Suspend and resume in place.
    tf.write_main(&database_config("  token_version = 2\n  suspended = true"));
    tf.apply();
    assert_eq!(admin_db(&emu, &id)["status"], "suspended");
    assert_eq!(tf.resource("comwit_database.main")["status"], "suspended");
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    tf.write_main(&database_config("  token_version = 2\n  suspended = false"));
    tf.apply();
    assert_eq!(admin_db(&emu, &id)["status"], "active");
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // `terraform show` masks the token; the provider's TRACE log never contains one.
    let human = tf.run_ok(&["show", "-no-color"]);
    assert!(
        human.stdout.contains("(sensitive value)"),
        "{}",
        human.stdout
    );
    assert!(!human.stdout.contains(&token2));
    let log = tf.log();
    assert!(
        log.contains("provider.terraform-provider-comwit"),
        "provider log lines present"
    );
    for secret in [&token1, &token2, &emu.token().to_owned()] {
        assert!(
            !log.contains(secret.as_str()),
            "a token leaked into the provider log"
        );
    }

    // Destroy leaves nothing behind.
    checks::destroy_leaves_nothing(&tf, &check);
    let rec = admin_db(&emu, &id);
    assert_eq!(rec["deleted"], true);
    assert_eq!(rec["file_exists"], false);
}

#[test]
fn comwit_database_passes_the_standard_checks() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    let config = database_config("");
    let outcome = checks::lifecycle(&tf, &database_check(&emu, "comwit_database.main", &config));

    // Import says why the token is missing, and the token is null (checked by `lifecycle`).
    assert!(
        outcome
            .import_output
            .combined()
            .contains("Database token unknown after import"),
        "{}",
        outcome.import_output
    );
    assert_eq!(outcome.imported["database_token"], Value::Null);
    for attr in ["id", "project_id", "name", "database_url", "created_at"] {
        assert!(outcome.imported[attr].is_string(), "{attr} imported");
    }
    // The re-created database is a new one.
    assert_ne!(outcome.recreated["id"], outcome.created["id"]);
}

#[test]
fn import_refuses_a_malformed_id_with_the_grammar() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&database_config(""));
    let bad = tf.run(&[
        "import",
        "-no-color",
        "-input=false",
        "comwit_database.main",
        "orders",
    ]);
    assert!(!bad.success());
    assert!(
        bad.combined().contains("db_8a41c0d2e3f4a5b6"),
        "{}",
        bad.combined()
    );
    assert!(live_databases(&emu).is_empty());
}

#[test]
fn comwit_database_query_token_passes_the_standard_checks() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    let config = format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"main\" {{
  name = \"orders\"
}}
resource \"comwit_database_query_token\" \"t\" {{
  database_id = comwit_database.main.id
  ttl_seconds = 3600
  audience    = \"sql-console\"
}}
"
    );
    let token_exists = |v: &Value| {
        let token = str_of(v, "query_token");
        assert!(token.starts_with("cqt_"), "{v:#}");
        let rec = admin_db(&emu, str_of(v, "database_id"));
        assert_ne!(rec["deleted"], true, "{rec}");
        assert!(
            rec["query_token_hashes"]
                .as_array()
                .expect("hashes")
                .contains(&json!(sha256(token))),
            "the emulator knows the token: {rec}"
        );
    };
    let outcome = checks::lifecycle(
        &tf,
        &Check {
            address: "comwit_database_query_token.t",
            config: &config,
            // The platform never returns a token again: import is refused, saying so.
            import: Import::Refused {
                id: "db_8a41c0d2e3f4a5b6",
                message: "Query tokens cannot be imported",
            },
            exists: Box::new(token_exists),
            // No route deletes a query token: deleting its database ends it.
            out_of_band: OutOfBand::Delete(Box::new(|v| {
                delete_database_out_of_band(&emu, str_of(v, "database_id"))
            })),
            nothing_left: Box::new(|| no_database_left(&emu)),
        },
    );
    assert_ne!(
        outcome.recreated["query_token"],
        outcome.created["query_token"]
    );
    assert_ne!(
        outcome.recreated["database_id"],
        outcome.created["database_id"]
    );
}

#[test]
fn deletion_protection_stops_destroy_and_replace() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&database_config("  deletion_protection = true"));
    tf.apply();

    let destroy = tf.run(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(!destroy.success());
    assert!(
        destroy
            .combined()
            .contains("Database is protected from deletion"),
        "{}",
        destroy.combined()
    );
    assert_eq!(live_databases(&emu).len(), 1, "nothing deleted");

    // A rename would replace (delete) it: refused at plan time too.
    tf.write_main(
        &database_config("  deletion_protection = true").replace("\"orders\"", "\"orders2\""),
    );
    let plan = tf.try_plan();
    assert!(!plan.success());
    assert!(
        plan.combined().contains("deletion_protection"),
        "{}",
        plan.combined()
    );

    // Turning it off first lets the destroy through.
    tf.write_main(&database_config("  deletion_protection = false"));
    tf.apply();
    tf.destroy();
    assert!(live_databases(&emu).is_empty());
}

#[test]
fn bad_input_fails_at_plan_time_and_creates_nothing() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"main\" {{
  name = \"Bad_Name\"
}}
resource \"comwit_database_query_token\" \"t\" {{
  database_id = \"db_0000000000000000\"
  ttl_seconds = 7200
}}
"
    ));
    let plan = tf.try_plan();
    assert!(!plan.success());
    let text = plan.combined();
    assert!(
        text.contains("Invalid database name") && text.contains("Bad_Name"),
        "{text}"
    );
    assert!(
        text.contains("ttl_seconds") && text.contains("between 1 and 3600"),
        "{text}"
    );
    assert!(live_databases(&emu).is_empty());
}

#[test]
fn query_token_is_created_and_replaced_once_expired() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"main\" {{
  name = \"orders\"
}}
resource \"comwit_database_query_token\" \"t\" {{
  database_id = comwit_database.main.id
  ttl_seconds = 2
  audience    = \"sql-console\"
  reason      = \"e2e\"
}}
data \"comwit_database_usage\" \"u\" {{
  database_id = comwit_database.main.id
}}
data \"comwit_projects\" \"all\" {{}}
output \"storage\" {{ value = data.comwit_database_usage.u.storage_bytes }}
output \"projects\" {{ value = [for p in data.comwit_projects.all.projects : p.id] }}
"
    ));
    tf.apply();
    let t = tf.resource("comwit_database_query_token.t");
    let token = t["query_token"].as_str().expect("query token").to_owned();
    assert!(token.starts_with("cqt_"));
    assert_eq!(t["audience"], "sql-console");
    let db_id = t["database_id"].as_str().expect("db").to_owned();
    assert!(admin_db(&emu, &db_id)["query_token_hashes"]
        .as_array()
        .expect("hashes")
        .contains(&json!(sha256(&token))));
    assert!(tf.output("storage").as_i64().expect("storage bytes") > 0);
    assert_eq!(tf.output("projects"), json!(["prj_local"]));

    std::thread::sleep(std::time::Duration::from_secs(3));
    let plan = tf.try_plan();
    assert!(plan.success(), "{}", plan.combined());
    assert!(
        plan.stdout
            .contains("comwit_database_query_token.t will be created"),
        "{}",
        plan.stdout
    );
    tf.apply();
    let renewed = tf.resource("comwit_database_query_token.t");
    assert_ne!(renewed["query_token"], token.as_str());
}

#[test]
fn missing_scope_and_protected_tenant_errors_say_what_to_do() {
    let emu = Emulator::start();
    // A token that may read but not write databases.
    let limited = emu.admin_post(
        "/_emulator/tokens",
        json!({"scopes": ["project:read", "database:read"], "projects": ["prj_local"]}),
    )["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut tf = Terraform::comwit(&emu);
    tf.set_env("COMWIT_TOKEN", &limited);
    tf.write_main(&database_config(""));
    let out = tf.try_apply();
    assert!(!out.success());
    assert!(
        out.combined().contains("database:write"),
        "{}",
        out.combined()
    );
    assert!(live_databases(&emu).is_empty());

    // A protected tenant refuses rotation with the documented rule.
    let tf = Terraform::comwit(&emu);
    let cfg = |v: u32| {
        format!("{COMWIT_TERRAFORM_BLOCK}\nresource \"comwit_database\" \"p\" {{\n  name = \"louhi-app\"\n  token_version = {v}\n}}\n")
    };
    tf.write_main(&cfg(1));
    tf.apply();
    let before = tf.resource("comwit_database.p")["database_token"].clone();
    tf.write_main(&cfg(2));
    let out = tf.try_apply();
    assert!(!out.success());
    let text = out.combined();
    assert!(
        text.contains("403") && text.contains("PLATFORM_API_PROTECTED_TENANTS"),
        "{text}"
    );
    assert_eq!(
        tf.resource("comwit_database.p")["database_token"],
        before,
        "token kept"
    );
}

#[test]
fn apply_converges_under_injected_faults_without_duplicates() {
    let emu = Emulator::start();
    emu.admin_put(
        "/_emulator/faults",
        json!({"rules": [
            {"method": "POST", "path_prefix": "/v1/projects/", "kind": "rate_limit", "retry_after": 1, "times": 1},
            {"method": "POST", "path_prefix": "/v1/projects/", "kind": "lose_response", "times": 1},
            {"method": "GET", "path_prefix": "/v1/databases/", "kind": "error", "status": 503, "times": 2},
            {"kind": "latency", "latency_ms": 50, "times": 20}
        ]}),
    );
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"main\" {{
  name = \"orders\"
}}
data \"comwit_database\" \"main\" {{
  id = comwit_database.main.id
}}
"
    ));
    tf.apply();
    let live = live_databases(&emu);
    assert_eq!(
        live.len(),
        1,
        "exactly one database, no duplicate: {live:?}"
    );
    let db = tf.resource("comwit_database.main");
    assert_eq!(db["id"], live[0]["database_id"]);
    // The token in state is the one the emulator holds (the replay issued a fresh one).
    let token = db["database_token"].as_str().expect("token");
    assert_eq!(live[0]["token_hash"], sha256(token));
    // Every injected rate limit, lost response and 503 really fired.
    let faults = emu.admin_get("/_emulator/faults");
    for rule in faults["rules"].as_array().expect("rules").iter().take(3) {
        assert_eq!(rule["remaining_times"], 0, "fault did not fire: {rule}");
    }
    assert_eq!(tf.plan_detailed_exitcode(), 0);
}

#[test]
fn ephemeral_query_token_is_opened_but_never_stored() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"main\" {{
  name = \"orders\"
}}
ephemeral \"comwit_database_query_token\" \"t\" {{
  database_id = comwit_database.main.id
  ttl_seconds = 600
  audience    = \"migrations\"
}}
locals {{
  token = ephemeral.comwit_database_query_token.t.query_token
}}
"
    ));
    let out = tf.apply();
    assert!(
        out.stdout
            .contains("ephemeral.comwit_database_query_token.t: Opening"),
        "{}",
        out.stdout
    );
    let db = tf.resource("comwit_database.main");
    let id = db["id"].as_str().expect("id");
    let hashes = admin_db(&emu, id)["query_token_hashes"].clone();
    assert!(
        !hashes.as_array().expect("hashes").is_empty(),
        "a query token was minted: {hashes}"
    );
    // Nothing of it is in state.
    let state = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).expect("state file");
    assert!(!state.contains("cqt_"), "ephemeral token leaked into state");
    assert!(
        !state.contains("comwit_database_query_token"),
        "ephemeral resource in state"
    );

    // Plan-time validation applies to ephemeral blocks too.
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
ephemeral \"comwit_database_query_token\" \"t\" {{
  database_id = \"db_0000000000000000\"
  ttl_seconds = 0
}}
"
    ));
    let plan = tf.try_plan();
    assert!(!plan.success());
    assert!(
        plan.combined().contains("between 1 and 3600"),
        "{}",
        plan.combined()
    );
}

#[test]
fn identity_is_stored_and_import_blocks_can_use_it() {
    let emu = Emulator::start();
    let first = Terraform::comwit(&emu);
    let config = database_config("");
    first.write_main(&config);
    first.apply();
    let state = std::fs::read_to_string(first.dir().join("terraform.tfstate")).expect("state");
    let state: Value = serde_json::from_str(&state).expect("state json");
    let instance = &state["resources"][0]["instances"][0];
    let id = instance["attributes"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(instance["identity"], json!({ "id": id }), "{instance:#}");

    // A fresh workspace adopts the database through an import block with an identity.
    let second = Terraform::comwit(&emu);
    second.write_main(&format!(
        "{config}\nimport {{\n  to       = comwit_database.main\n  identity = {{ id = \"{id}\" }}\n}}\n"
    ));
    let out = second.apply();
    assert!(out.stdout.contains("1 imported"), "{}", out.stdout);
    assert_eq!(second.resource("comwit_database.main")["id"], id.as_str());
    assert_eq!(live_databases(&emu).len(), 1, "adopted, not created");
    assert_eq!(second.plan_detailed_exitcode(), 0);
}

/// Issue 10, item 1: `-replace`, `taint` and `replace_triggered_by` plan a replacement
/// without asking the provider about the delete; the apply refuses it before anything is
/// deleted, and the database (with the token in state) survives each one.
#[test]
fn forced_replacement_never_deletes_a_protected_database() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    let config = format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"terraform_data\" \"trigger\" {{
  input = var.trigger
}}
variable \"trigger\" {{
  default = \"a\"
}}
resource \"comwit_database\" \"main\" {{
  name                = \"orders\"
  deletion_protection = true
  lifecycle {{
    replace_triggered_by = [terraform_data.trigger]
  }}
}}
"
    );
    tf.write_main(&config);
    tf.apply();
    let before = tf.resource("comwit_database.main");
    let id = str_of(&before, "id").to_owned();
    let token = str_of(&before, "database_token").to_owned();

    let refused = |out: support::Output, how: &str| {
        assert!(!out.success(), "{how}: {}", out.combined());
        assert!(
            out.combined()
                .contains("Database is protected from deletion"),
            "{how}: {}",
            out.combined()
        );
        let live = live_databases(&emu);
        assert_eq!(live.len(), 1, "{how}: {live:#?}");
        assert_eq!(live[0]["database_id"], id.as_str(), "{how}: same database");
        let after = tf.resource("comwit_database.main");
        assert_eq!(str_of(&after, "id"), id, "{how}: state keeps the database");
        assert_eq!(
            str_of(&after, "database_token"),
            token,
            "{how}: and its token"
        );
    };
    let replace = tf.run(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-replace=comwit_database.main",
    ]);
    refused(replace, "-replace");

    tf.run_ok(&["taint", "comwit_database.main"]);
    refused(tf.try_apply(), "taint");
    tf.run_ok(&["untaint", "comwit_database.main"]);

    let triggered = tf.run(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-var=trigger=b",
    ]);
    refused(triggered, "replace_triggered_by");

    // Turning protection off and applying (as the message says) lets a replacement through.
    // (The failed apply may or may not have stored the trigger's new input.)
    tf.write_main(&config.replace("deletion_protection = true", "deletion_protection = false"));
    let stored = tf.resource("terraform_data.trigger")["input"]
        .as_str()
        .expect("trigger input")
        .to_owned();
    let keep = format!("-var=trigger={stored}");
    tf.run_ok(&["apply", "-auto-approve", "-no-color", "-input=false", &keep]);
    assert_eq!(
        live_databases(&emu)[0]["database_id"],
        id.as_str(),
        "only the flag changed"
    );
    tf.run_ok(&[
        "apply",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-var=trigger=c",
    ]);
    let live = live_databases(&emu);
    assert_eq!(live.len(), 1);
    assert_ne!(live[0]["database_id"], id.as_str(), "replaced once allowed");
    tf.run_ok(&[
        "destroy",
        "-auto-approve",
        "-no-color",
        "-input=false",
        "-var=trigger=c",
    ]);
    assert!(live_databases(&emu).is_empty());
}

/// Issue 10, item 1: removing `deletion_protection = true` plans it back to the
/// documented default, as a visible change, and a destroy then works.
#[test]
fn removing_deletion_protection_shows_a_diff_back_to_false() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&database_config("  deletion_protection = true"));
    tf.apply();
    tf.write_main(&database_config(""));
    let plan = tf.plan();
    assert!(
        plan.combined()
            .contains("deletion_protection = true -> false"),
        "{}",
        plan.combined()
    );
    tf.apply();
    assert_eq!(
        tf.resource("comwit_database.main")["deletion_protection"],
        false
    );
    assert_eq!(tf.plan_detailed_exitcode(), 0, "converged");
    tf.destroy();
    assert!(live_databases(&emu).is_empty());
}

/// Issue 10, items 9 and 14: every number Terraform can send is decoded and checked on its
/// attribute at plan time; text limits count characters.
#[test]
fn odd_numbers_and_non_ascii_text_are_judged_at_plan_time() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    for (attr, value, shown) in [
        ("token_version", "1.5", "got 1.5"),
        ("token_version", "1e20", "got 100000000000000000000"),
        ("token_version", "-3", "got -3"),
    ] {
        tf.write_main(&database_config(&format!("  {attr} = {value}")));
        let plan = tf.try_plan();
        let text = one_line(&plan.combined());
        assert!(!plan.success(), "{attr} = {value}: {text}");
        assert!(!text.contains("This is a bug in the provider"), "{text}");
        assert!(
            text.contains(&format!("`{attr}` must be a whole number")) && text.contains(shown),
            "{attr} = {value}: {text}"
        );
    }
    for (ttl, shown) in [("60.5", "got 60.5"), ("1e20", "got 100000000000000000000")] {
        tf.write_main(&format!(
            "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database_query_token\" \"t\" {{
  database_id = \"db_0000000000000000\"
  ttl_seconds = {ttl}
}}
"
        ));
        let plan = tf.try_plan();
        let text = one_line(&plan.combined());
        assert!(!plan.success(), "{text}");
        assert!(!text.contains("This is a bug in the provider"), "{text}");
        assert!(
            text.contains("whole number between 1 and 3600") && text.contains(shown),
            "{text}"
        );
    }
    // 200 x "ü" is 200 characters (400 bytes): accepted, and stored as given.
    let reason = "ü".repeat(200);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"main\" {{
  name          = \"orders\"
  token_version = 2.0
}}
resource \"comwit_database_query_token\" \"t\" {{
  database_id = comwit_database.main.id
  ttl_seconds = 600
  reason      = \"{reason}\"
}}
"
    ));
    tf.apply();
    assert_eq!(
        tf.resource("comwit_database_query_token.t")["reason"],
        reason.as_str()
    );
    assert_eq!(tf.plan_detailed_exitcode(), 0, "converged");
    assert!(live_databases(&emu).len() == 1);
    tf.destroy();
}

/// Issue 10, item 13: after an import, the plan that stores a token rotates the live one;
/// the plan says so, naming the database.
#[test]
fn a_plan_that_rotates_the_token_says_so() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&database_config(""));
    tf.apply();
    let id = str_of(&tf.resource("comwit_database.main"), "id").to_owned();
    tf.run_ok(&["state", "rm", "comwit_database.main"]);
    tf.run_ok(&[
        "import",
        "-no-color",
        "-input=false",
        "comwit_database.main",
        &id,
    ]);
    tf.write_main(&database_config("  token_version = 1"));
    let plan = tf.plan();
    let text = one_line(&plan.combined());
    assert!(
        text.contains("This plan rotates a database token"),
        "{text}"
    );
    assert!(text.contains("`orders`") && text.contains("401"), "{text}");
    tf.apply();
    // Converged: no change, no warning.
    let again = tf.plan();
    assert!(
        !again.combined().contains("rotates a database token"),
        "{}",
        again.combined()
    );
    tf.destroy();
}

/// Issue 10, item 15: data-source errors give reader advice and name the data source's
/// own argument.
#[test]
fn data_source_errors_name_their_own_arguments() {
    let emu = Emulator::start();
    let mut tf = Terraform::comwit(&emu);
    tf.remove_env("COMWIT_PROJECT_ID");
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}\ndata \"comwit_project\" \"p\" {{}}\n"
    ));
    let plan = tf.try_plan();
    let text = one_line(&plan.combined());
    assert!(!plan.success());
    assert!(text.contains("Set `id` on this data source"), "{text}");
    assert!(!text.contains("on this resource"), "{text}");

    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}\ndata \"comwit_database\" \"d\" {{\n  id = \"db_00000000000000aa\"\n}}\n"
    ));
    let plan = tf.try_plan();
    let text = one_line(&plan.combined());
    assert!(!plan.success());
    assert!(
        text.contains("A data source reads an object that already exists"),
        "{text}"
    );
    assert!(!text.contains("terraform state rm"), "{text}");
    assert!(!text.contains("let Terraform create it again"), "{text}");
}
