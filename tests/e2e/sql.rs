//! End-to-end for the data plane: Terraform creates a database and a query token against
//! the emulator, then the official libSQL client (`@libsql/client`) runs SQL at the
//! database URL with the tokens Terraform produced.

use crate::support;

use serde_json::json;
use support::sql_client::node;
use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};

fn config(token_version: u32, suspended: bool, ttl: u32) -> String {
    format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"app\" {{
  name          = \"app\"
  token_version = {token_version}
  suspended     = {suspended}
}}
resource \"comwit_database_query_token\" \"console\" {{
  database_id = comwit_database.app.id
  ttl_seconds = {ttl}
  audience    = \"sql-console\"
}}
"
    )
}

/// The sqld-style status and message behind a refusal (the client reports its code and
/// message).
fn assert_refusal(emu: &Emulator, id: &str, token: &str, status: u16, message: &str) {
    let body = json!({"requests": [{"type": "execute", "stmt": {"sql": "SELECT 1"}}]});
    let (got, answer) = emu.request(
        reqwest::Method::POST,
        &format!("/db/{id}/v2/pipeline"),
        Some(token),
        &[],
        Some(body),
    );
    assert_eq!(got, status, "{answer}");
    assert!(
        answer.to_string().contains(message),
        "{message:?} not in {answer}"
    );
}

#[test]
fn tokens_from_terraform_run_sql_and_stop_working_when_rotated_suspended_or_expired() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&config(1, false, 3600));
    tf.apply();
    let db = tf.resource("comwit_database.app");
    let url = db["database_url"].as_str().expect("url").to_owned();
    let id = db["id"].as_str().expect("id").to_owned();
    let token1 = db["database_token"].as_str().expect("token").to_owned();
    let query_token = tf.resource("comwit_database_query_token.console")["query_token"]
        .as_str()
        .expect("query token")
        .to_owned();

    // The database token: create a table, insert, read.
    node(&[
        &url,
        &token1,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
        "INSERT INTO notes (body) VALUES ('from terraform')",
    ])
    .results();
    let rows = node(&[&url, &token1, "SELECT body FROM notes"]).results();
    assert_eq!(rows[0]["rows"], json!([["from terraform"]]), "{rows}");

    // The query token reads and writes the same database.
    node(&[
        &url,
        &query_token,
        "INSERT INTO notes (body) VALUES ('via query token')",
    ])
    .results();
    let rows = node(&[&url, &query_token, "SELECT count(*) AS n FROM notes"]).results();
    assert_eq!(rows[0]["rows"][0][0], 2, "{rows}");

    // Usage seen by Terraform's data source reflects the real traffic.
    let usage = emu.api_get(&format!("/v1/databases/{id}/usage"));
    assert!(
        usage["rows_written"].as_i64().expect("rows_written") >= 2,
        "{usage}"
    );

    // Rotation in Terraform: the old token is refused, the new one works.
    tf.write_main(&config(2, false, 3600));
    tf.apply();
    let token2 = tf.resource("comwit_database.app")["database_token"]
        .as_str()
        .expect("token")
        .to_owned();
    node(&[&url, &token1, "SELECT 1"]).refused("AUTH_JWT_INVALID");
    assert_refusal(&emu, &id, &token1, 401, "The JWT is invalid");
    node(&[&url, &token2, "SELECT count(*) AS n FROM notes"]).results();

    // Suspended in Terraform: refused; resumed: works again.
    tf.write_main(&config(2, true, 3600));
    tf.apply();
    node(&[&url, &token2, "SELECT 1"]).refused("BLOCKED");
    assert_refusal(&emu, &id, &token2, 403, "suspended");
    tf.write_main(&config(2, false, 3600));
    tf.apply();
    let rows = node(&[&url, &token2, "SELECT count(*) AS n FROM notes"]).results();
    assert_eq!(rows[0]["rows"][0][0], 2, "data survived suspend/resume");

    // A query token that has expired is refused.
    tf.write_main(&config(2, false, 1));
    tf.apply();
    let short = tf.resource("comwit_database_query_token.console")["query_token"]
        .as_str()
        .expect("query token")
        .to_owned();
    std::thread::sleep(std::time::Duration::from_secs(2));
    node(&[&url, &short, "SELECT 1"]).refused("AUTH_JWT_EXPIRED");
    assert_refusal(&emu, &id, &short, 401, "The JWT has expired");
}
