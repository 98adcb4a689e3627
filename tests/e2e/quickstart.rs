//! `examples/quickstart` as README's main job runs it: applied with real Terraform against
//! the emulator, its app's page counts visits in the quickstart database, and a second
//! plan is empty. Keeps the example true to the code.

use std::path::Path;

use crate::apps::fetch;
use crate::support::{Emulator, Terraform};

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

#[test]
fn quickstart_serves_a_database_backed_page() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
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
    assert_eq!(status, 200, "{first}");
    assert!(first.starts_with("Hello from Comwit: visit 1"), "{first}");
    let (_, second) = fetch(&emu, &url);
    assert!(second.starts_with("Hello from Comwit: visit 2"), "{second}");

    // The visits are rows of the quickstart database, as an outside client sees them.
    let db = outputs["database_id"]["value"]
        .as_str()
        .expect("database_id");
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
    let plan = tf.plan();
    let text = plan.combined();
    assert!(
        !text.contains("will perform the following actions"),
        "the quickstart converges: {text}"
    );
}
