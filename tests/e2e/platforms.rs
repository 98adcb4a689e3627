//! Several platforms at once: one emulator serving Comwit and CloudSync
//! (`Emulator::serving`), one Terraform workspace with both providers (`Terraform::on`), and
//! one configuration that uses both: each provider reaches its own platform, the plan after
//! apply is empty, and destroy leaves nothing on either.

use reqwest::Method;
use serde_json::Value;

use crate::support::{Emulator, Platform, Terraform};

#[test]
fn one_configuration_uses_two_providers_against_one_emulator() {
    let emu = Emulator::serving(&[Platform::Comwit, Platform::CloudSync]);
    assert_eq!(emu.platforms(), [Platform::Comwit, Platform::CloudSync]);
    let (comwit, cloudsync) = (emu.on(Platform::Comwit), emu.on(Platform::CloudSync));
    assert_ne!(
        comwit.url(),
        cloudsync.url(),
        "each platform on its own port"
    );

    let node = "mixed.sqlite.test";
    let dir = cloudsync.admin_put(
        &format!("/_emulator/cloudsync/sqlitecloud/nodes/{node}"),
        serde_json::json!({"apikey": "mixed-key"}),
    )["dir"]
        .as_str()
        .map(std::path::PathBuf::from)
        .expect("node dir");
    rusqlite::Connection::open(dir.join("appdb.sqlite"))
        .and_then(|c| c.execute_batch("CREATE TABLE notes (id TEXT PRIMARY KEY);"))
        .expect("tenant database");

    let tf = Terraform::on(&emu);
    tf.write_main(&format!(
        r#"{block}
resource "comwit_database" "main" {{
  name = "mixed"
}}

resource "cloudsync_database" "main" {{
  label             = comwit_database.main.name
  connection_string = "sqlitecloud://{node}:8860?apikey=mixed-key"
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "appdb"
}}
"#,
        block = Platform::terraform_block(&[Platform::Comwit, Platform::CloudSync])
    ));
    tf.apply();
    assert_eq!(tf.plan_detailed_exitcode(), 0, "a second plan is empty");

    let comwit_id = tf.resource("comwit_database.main")["id"].clone();
    let live_comwit = || -> Vec<Value> {
        comwit.admin_get("/_emulator/databases")["databases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["deleted"] != true)
            .cloned()
            .collect()
    };
    assert_eq!(
        live_comwit()
            .iter()
            .map(|d| d["database_id"].clone())
            .collect::<Vec<_>>(),
        [comwit_id]
    );
    let registered = || -> Vec<Value> {
        let (status, body) = cloudsync.api(Method::GET, "/v1/databases", None);
        assert_eq!(status, 200, "{body}");
        body["data"].as_array().cloned().unwrap_or_default()
    };
    let cloudsync_db = tf.resource("cloudsync_database.main");
    assert_eq!(cloudsync_db["label"], "mixed", "{cloudsync_db}");
    assert_eq!(
        registered()
            .iter()
            .map(|d| d["managedDatabaseId"].clone())
            .collect::<Vec<_>>(),
        [cloudsync_db["id"].clone()]
    );

    tf.destroy();
    assert!(live_comwit().is_empty(), "{:?}", live_comwit());
    assert!(registered().is_empty(), "{:?}", registered());
}
