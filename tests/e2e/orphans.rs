//! No orphan, no silent loss: creates whose answers are lost, names taken by what an
//! interrupted apply left, and an `api_url` that points at the wrong place, with the real
//! Terraform CLI against the emulator (issue "No orphan, no silent loss, no misleading
//! error", items 2 and 3).

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};

fn config(extra: &str) -> String {
    format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"main\" {{
  name = \"orders\"
{extra}
}}
"
    )
}

/// Terraform wraps diagnostics: compare text with every run of whitespace as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn live_named(emu: &Emulator, name: &str) -> Vec<Value> {
    emu.admin_get("/_emulator/databases")["databases"]
        .as_array()
        .expect("databases array")
        .iter()
        .filter(|d| d["deleted"] != json!(true) && d["name"] == name)
        .cloned()
        .collect()
}

#[test]
fn a_create_whose_answers_stay_lost_past_the_retries_ends_in_state_not_orphaned() {
    let emu = Emulator::start();
    // The first create commits and its answer is lost; the next five attempts (all the
    // retries of the call) get 500. The provider repeats the create with the same key.
    emu.admin_put(
        "/_emulator/faults",
        json!({"rules": [
            {"method": "POST", "path_prefix": "/v1/projects/", "kind": "lose_response", "times": 1},
            {"method": "POST", "path_prefix": "/v1/projects/", "kind": "error", "status": 500, "times": 5}
        ]}),
    );
    let tf = Terraform::comwit(&emu);
    tf.write_main(&config(""));
    tf.apply();
    let live = live_named(&emu, "orders");
    assert_eq!(live.len(), 1, "exactly one database: {live:?}");
    let db = tf.resource("comwit_database.main");
    assert_eq!(db["id"], live[0]["database_id"]);
    assert!(db["database_token"]
        .as_str()
        .is_some_and(|t| t.starts_with("cdt_")));
    let faults = emu.admin_get("/_emulator/faults");
    for rule in faults["rules"].as_array().expect("rules") {
        assert_eq!(rule["remaining_times"], 0, "fault did not fire: {rule}");
    }
    assert_eq!(tf.plan_detailed_exitcode(), 0);
}

#[test]
fn a_name_left_by_an_interrupted_apply_gives_its_id_and_the_import_command() {
    let emu = Emulator::start();
    // What an apply killed after its create committed leaves: a database nobody recorded.
    let (status, body) = emu.api(
        Method::POST,
        &format!("/v1/projects/{}/databases", emu.project_id()),
        Some(json!({"name": "orders"})),
    );
    assert_eq!(status, 201, "{body}");
    let id = body["database"]["database_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&config(""));
    let out = tf.try_apply();
    assert!(!out.success(), "{out}");
    let text = one_line(&out.combined());
    assert!(text.contains(&id), "{text}");
    assert!(text.contains("terraform import"), "{text}");
    assert!(text.contains("token_version"), "{text}");
    assert_eq!(live_named(&emu, "orders").len(), 1);

    // Following the advice converges: import, rotate, a plan with no changes.
    tf.import("comwit_database.main", &id);
    tf.write_main(&config("  token_version = 1"));
    tf.apply();
    let db = tf.resource("comwit_database.main");
    assert_eq!(db["id"], json!(id));
    assert!(db["database_token"]
        .as_str()
        .is_some_and(|t| t.starts_with("cdt_")));
    assert_eq!(tf.plan_detailed_exitcode(), 0);
}

#[test]
fn a_wrong_api_url_is_an_error_never_a_deleted_database() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&config(""));
    tf.apply();
    let before = tf.resource("comwit_database.main");

    // The same emulator under a wrong path prefix: every route is unknown there.
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
provider \"comwit\" {{
  api_url = \"{}/api\"
}}
resource \"comwit_database\" \"main\" {{
  name = \"orders\"
}}
",
        emu.url().trim_end_matches('/')
    ));
    let out = tf.try_plan();
    assert!(!out.success(), "{out}");
    let text = one_line(&out.combined());
    assert!(!text.contains("will be created"), "{text}");
    assert!(
        text.contains("/api/v1/databases/"),
        "the URL is named: {text}"
    );
    assert!(text.contains("api_url"), "{text}");
    let out = tf.try_apply();
    assert!(!out.success(), "{out}");
    // Nothing was lost: the state still holds the database and its only token.
    let after = tf.resource("comwit_database.main");
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["database_token"], before["database_token"]);
    assert_eq!(live_named(&emu, "orders").len(), 1);
}
