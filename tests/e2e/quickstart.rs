//! `examples/quickstart` as README's main job runs it: applied with real Terraform against
//! the emulator, its app's page counts visits in the quickstart database, a second plan is
//! empty, an import round trip plans nothing, and destroy leaves nothing behind. The same
//! on the oldest Terraform we support (1.6, the stand-in for OpenTofu) and on the newest.
//! Keeps the example true to the code.

use std::path::Path;

use crate::apps::fetch;
use crate::support::{oldest_terraform_bin, terraform_bin, Emulator, Terraform};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read example dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry
            .path()
            .extension()
            .is_some_and(|e| e == "tf" || e == "mjs")
        {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Apply, the page, a second plan, an import round trip, destroy: with Terraform `bin`.
fn quickstart_round_trip(bin: &Path) {
    let emu = Emulator::start();
    let tf = Terraform::builder()
        .comwit_provider()
        .emulator_env(&emu)
        .provider_log()
        .bin(bin)
        .build();
    let version = tf.version();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
    copy_dir(&example, tf.dir());
    tf.apply();
    let outputs: serde_json::Value =
        serde_json::from_str(&tf.run_ok(&["output", "-json"]).stdout).expect("outputs json");
    let url = outputs["app_url"]["value"]
        .as_str()
        .expect("app_url")
        .to_owned();
    assert!(
        outputs["database_token"]["sensitive"] == true,
        "{outputs:#}"
    );

    let (status, first) = fetch(&emu, &url);
    assert_eq!(status, 200, "{version}: {first}");
    assert!(first.starts_with("Hello from Comwit: visit 1"), "{first}");
    let (_, second) = fetch(&emu, &url);
    assert!(second.starts_with("Hello from Comwit: visit 2"), "{second}");

    // The visits are rows of the quickstart database, as an outside client sees them.
    let db = outputs["database_id"]["value"]
        .as_str()
        .expect("database_id")
        .to_owned();
    let usage = emu.api_get(&format!("/v1/databases/{db}/usage"));
    assert!(usage["rows_written"].as_u64() >= Some(2), "{usage:#}");

    // The app's hostname: its CNAME resolves through the emulator's DNS server, and the
    // gateway serves the same page by that name.
    let host = outputs["site_hostname"]["value"]
        .as_str()
        .expect("site_hostname");
    let cname = crate::support::dns::dig(&emu.dns_addr(), host, "CNAME", false);
    assert_eq!(cname.len(), 1, "{cname:?}");
    let (status, third) = fetch(&emu, &format!("http://{host}/"));
    assert_eq!(status, 200, "{third}");
    assert!(third.starts_with("Hello from Comwit: visit 3"), "{third}");
    let spf = crate::support::dns::dig(&emu.dns_addr(), "quickstart.test", "TXT", false);
    assert_eq!(spf[0].data, "\"v=spf1 -all\"");

    // No resource changes; only the storage_bytes output may move (the visits grew it).
    let converged = |when: &str| {
        let text = tf.plan().combined();
        assert!(
            !text.contains("will perform the following actions"),
            "{version}: the quickstart converges {when}: {text}"
        );
    };
    converged("after apply");

    // Import round trip: the app forgotten by state, imported by its id, plans nothing.
    let show = tf.show_json();
    let app_id = tf.state_resource(&show, "comwit_app.web")["id"]
        .as_str()
        .expect("app id")
        .to_owned();
    tf.run_ok(&["state", "rm", "-no-color", "comwit_app.web"]);
    tf.run_ok(&[
        "import",
        "-no-color",
        "-input=false",
        "comwit_app.web",
        &app_id,
    ]);
    converged("after importing comwit_app.web");

    // Destroy: the database is protected, so protection goes first (as a user would).
    let main = std::fs::read_to_string(tf.dir().join("main.tf")).expect("main.tf");
    assert!(main.contains("deletion_protection = true"), "{main}");
    tf.write_file(
        "main.tf",
        &main.replace("deletion_protection = true", "deletion_protection = false"),
    );
    tf.apply();
    tf.run_ok(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    let live_dbs = emu.admin_get("/_emulator/databases")["databases"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d["deleted"] != true)
        .count();
    let live_apps = emu.admin_get("/_emulator/apps")["apps"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| a["deleted"] != true)
        .count();
    assert_eq!(
        (live_dbs, live_apps),
        (0, 0),
        "{version}: destroy left objects"
    );
}

#[test]
fn quickstart_round_trip_on_the_newest_terraform() {
    quickstart_round_trip(&terraform_bin());
}

#[test]
fn quickstart_round_trip_on_the_oldest_supported_terraform() {
    let bin = oldest_terraform_bin();
    quickstart_round_trip(&bin);
}

/// Terraform 1.6 knows no write-only attributes and would keep their values in state: the
/// provider refuses such a value at plan time, on its attribute, and nothing is created.
#[test]
fn terraform_1_6_is_refused_a_write_only_secret_and_stores_nothing() {
    let emu = Emulator::start();
    let tf = Terraform::builder()
        .comwit_provider()
        .emulator_env(&emu)
        .bin(oldest_terraform_bin())
        .build();
    let secret = "wo-secret-for-1.6";
    tf.write_main(&format!(
        "{}
resource \"comwit_app\" \"web\" {{
  name = \"compat-web\"
}}

resource \"comwit_app_env\" \"web\" {{
  app_id             = comwit_app.web.id
  secrets_wo         = {{ SIGNING = \"{secret}\" }}
  secrets_wo_version = 1
}}
",
        crate::support::COMWIT_TERRAFORM_BLOCK
    ));
    let out = tf.try_apply();
    assert!(!out.success(), "{out}");
    let text = out.combined();
    let folded = out.folded();
    assert!(
        folded.contains("Terraform 1.11 or later (or OpenTofu 1.11 or later)"),
        "{text}"
    );
    assert!(folded.contains("set `secrets` instead"), "{text}");
    assert!(text.contains("secrets_wo"), "{text}");
    // Terraform quotes the configuration line; nothing else may carry the value.
    let elsewhere: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(secret) && !l.contains("secrets_wo "))
        .collect();
    assert!(elsewhere.is_empty(), "{elsewhere:?}");
    let state = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).unwrap_or_default();
    assert!(!state.contains(secret), "{state}");
    let apps = emu.admin_get("/_emulator/apps")["apps"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(apps, 0, "nothing is created when validation refuses");
}
