//! Plugin-server safety: no orphaned provider after Terraform dies, no backtrace in any
//! diagnostic, no library internals in the provider's log unless asked for. Driven through
//! the test-only provider (`tests/provider/testing.rs`) as Terraform drives a plugin.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::plugin_client::*;
use platforms::proto::plugin as gp;
use platforms::proto::tfplugin6 as pb;
use rmpv::Value as Mp;
use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};
use tokio::io::{AsyncBufReadExt, BufReader};

// ---- A: the provider does not outlive Terraform ---------------------------------------

/// True while `pid` exists and is not a zombie (an exited child its new parent has not
/// reaped yet counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => false,
    }
}

fn kill9(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
}

/// Start the testing provider in the background of a `sh` parent (standing in for
/// Terraform); return the parent, the provider's pid and the provider's first line.
async fn provider_under_a_parent(args: &str) -> (tokio::process::Child, u32, String) {
    let mut parent = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("\"$0\" {args} & echo pid=$!; wait"))
        .arg(testing_provider())
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn sh");
    let mut lines = BufReader::new(parent.stdout.take().expect("stdout")).lines();
    let (mut pid, mut first) = (None, None);
    while pid.is_none() || first.is_none() {
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .expect("provider started in time")
            .expect("read stdout")
            .expect("stdout still open");
        match line.strip_prefix("pid=") {
            Some(p) => pid = Some(p.trim().parse::<u32>().expect("pid")),
            None if first.is_none() => first = Some(line),
            None => {}
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (parent, pid.unwrap_or_default(), first.unwrap_or_default())
}

#[tokio::test]
async fn provider_exits_soon_after_terraform_is_killed() {
    let (mut parent, pid, handshake) = provider_under_a_parent("").await;
    assert!(handshake.contains("|grpc|"), "handshake line: {handshake}");
    assert!(alive(pid), "provider {pid} runs");
    parent.start_kill().expect("kill -9 the parent");
    let _ = parent.wait().await;
    let killed = Instant::now();
    while alive(pid) && killed.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let still_alive = alive(pid);
    if still_alive {
        kill9(pid); // leave no orphan behind, whatever the outcome
    }
    assert!(
        !still_alive,
        "provider {pid} still running 2 s after its parent was killed"
    );
    let socket = handshake.split('|').nth(3).unwrap_or_default();
    assert!(
        !std::path::Path::new(socket).exists(),
        "socket {socket} removed"
    );
}

#[tokio::test]
async fn debug_mode_outlives_the_shell_that_started_it() {
    let (mut parent, pid, first) = provider_under_a_parent("--debug").await;
    assert!(first.contains("Provider started"), "{first}");
    parent.start_kill().expect("kill -9 the parent");
    let _ = parent.wait().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let still_alive = alive(pid);
    kill9(pid);
    assert!(
        still_alive,
        "a debug-mode provider has no Terraform parent to follow"
    );
}

// ---- B: no backtrace in diagnostics ---------------------------------------------------

fn thing(name: &str) -> Mp {
    obj(&[
        ("id", Mp::Nil),
        ("name", s(name)),
        ("zone", Mp::Nil),
        ("size", Mp::Nil),
        ("tags", Mp::Nil),
        ("secret", Mp::Nil),
    ])
}

fn assert_no_backtrace(diags: &[pb::Diagnostic]) {
    assert!(!diags.is_empty(), "a diagnostic was expected");
    for d in diags {
        for marker in [
            "backtrace",
            "at src/",
            "at /rustc/",
            "{{closure}}",
            "rust_begin_unwind",
            "   0: ",
            "tf_provider::diagnostics",
        ] {
            assert!(
                !d.detail.contains(marker) && !d.summary.contains(marker),
                "diagnostic carries backtrace text {marker:?}: {}\n{}",
                d.summary,
                d.detail
            );
        }
    }
}

#[tokio::test]
async fn diagnostics_carry_no_backtrace_with_rust_backtrace_set() {
    for env in [
        vec![("RUST_BACKTRACE", "1".to_string())],
        vec![
            ("RUST_BACKTRACE", "full".to_string()),
            ("RUST_LIB_BACKTRACE", "1".to_string()),
        ],
    ] {
        let mut p = Plugin::start(
            &testing_provider(),
            Start {
                env: env.clone(),
                ..Default::default()
            },
        )
        .await;

        // An attribute error from resource validation: the detail is exactly the text.
        let v = p
            .provider
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: "testing_thing".into(),
                config: dv(&thing("bad-name")),
                client_capabilities: None,
            })
            .await
            .expect("validate")
            .into_inner();
        assert_no_backtrace(&v.diagnostics);
        assert_eq!(
            v.diagnostics[0].detail, "`bad-name` starts with `bad`",
            "{env:?}"
        );

        // A provider configuration error.
        let c = p
            .provider
            .configure_provider(pb::configure_provider::Request {
                terraform_version: "1.15.5".into(),
                config: dv(&obj(&[("prefix", s("fail"))])),
                client_capabilities: None,
            })
            .await
            .expect("configure")
            .into_inner();
        assert_no_backtrace(&c.diagnostics);
        assert_eq!(
            c.diagnostics[0].detail,
            "prefix `fail` is refused on purpose"
        );

        // The server's own diagnostics (unknown type, undecodable value).
        let r = p
            .provider
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: "testing_nothing".into(),
                config: dv(&thing("x")),
                client_capabilities: None,
            })
            .await
            .expect("validate unknown type")
            .into_inner();
        assert_no_backtrace(&r.diagnostics);
        let r = p
            .provider
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: "testing_thing".into(),
                config: dv(&Mp::from(42)),
                client_capabilities: None,
            })
            .await
            .expect("validate undecodable")
            .into_inner();
        assert_no_backtrace(&r.diagnostics);
        assert!(r.diagnostics[0]
            .detail
            .ends_with("This is a bug in the provider."));
        let _ = p.controller.shutdown(gp::Empty {}).await;
    }
}

// ---- C: library internals stay out of the provider's log ------------------------------

/// Run a few RPCs under `TF_LOG=TRACE` (plus `extra`), shut down, and return the JSON log
/// lines the provider wrote on stderr.
async fn trace_log(extra: &[(&'static str, String)]) -> Vec<serde_json::Value> {
    let mut env = vec![("TF_LOG", "TRACE".to_string())];
    env.extend(extra.iter().cloned());
    let mut p = Plugin::start(
        &testing_provider(),
        Start {
            env,
            ..Default::default()
        },
    )
    .await;
    p.provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema");
    for name in ["one", "two", "three", "four", "five"] {
        p.provider
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: "testing_thing".into(),
                config: dv(&thing(name)),
                client_capabilities: None,
            })
            .await
            .expect("validate");
    }
    let _ = p.controller.shutdown(gp::Empty {}).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), p.child.wait()).await;
    let text = p.stderr.text();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("hclog JSON line: {l}")))
        .collect()
}

fn is_library_line(line: &serde_json::Value) -> bool {
    line["target"].as_str().is_some_and(|t| {
        ["h2", "hyper", "tonic", "tower", "rustls", "reqwest"]
            .iter()
            .any(|lib| t == *lib || t.starts_with(&format!("{lib}::")))
    })
}

#[tokio::test]
async fn trace_log_keeps_library_internals_out_unless_asked() {
    let default = trace_log(&[]).await;
    assert!(
        default
            .iter()
            .any(|l| l["@message"] == "plugin server listening"),
        "our own events are logged at TRACE: {default:?}"
    );
    let libraries: Vec<_> = default.iter().filter(|l| is_library_line(l)).collect();
    assert!(libraries.is_empty(), "library lines: {libraries:?}");
    // Six RPCs and a shutdown: a handful of our own lines, not the transport's frames.
    assert!(
        default.len() <= 30,
        "{} lines under TRACE for six RPCs; first lines: {:?}",
        default.len(),
        &default[..default.len().min(5)]
    );

    let opted_in = trace_log(&[("TF_PROVIDER_LOG_LIBRARIES", "1".to_string())]).await;
    assert!(
        opted_in.iter().any(is_library_line),
        "TF_PROVIDER_LOG_LIBRARIES=1 logs h2/hyper internals with their target"
    );
    assert!(opted_in.len() > default.len());
}

// ---- D: a provider block known only after apply ----------------------------------------
//
// The comwit provider keeps its client in a `plugin::ConfigSlot`, which names the provider
// settings not known until apply (docs/plugin-server.md); before, planning failed with
// "Set `token` and `api_url` to known values".

fn unknown_project_config(body: &str) -> String {
    format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"terraform_data\" \"p\" {{
  input = \"{}\"
}}

provider \"comwit\" {{
  project_id = terraform_data.p.output
}}
{body}",
        support::LOCAL_PROJECT
    )
}

#[test]
fn provider_project_known_only_after_apply_plans_and_applies() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&unknown_project_config(
        "resource \"comwit_database\" \"db\" {\n  name = \"orders\"\n}\n",
    ));
    let plan = tf.try_plan();
    assert!(plan.success(), "plan: {}", plan.combined());
    assert!(
        !plan.combined().contains("Set `token`"),
        "{}",
        plan.combined()
    );
    tf.apply();
    let db = tf.resource("comwit_database.db");
    assert_eq!(db["project_id"], support::LOCAL_PROJECT, "{db}");
    assert_eq!(tf.plan_detailed_exitcode(), 0);
}

#[test]
fn reading_during_plan_names_the_provider_setting_known_only_after_apply() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&unknown_project_config(
        "data \"comwit_projects\" \"all\" {}\n",
    ));
    let plan = tf.try_plan();
    let text = plan.combined();
    assert!(!plan.success(), "{text}");
    assert!(
        text.contains("`project_id` is not known until apply"),
        "the error names the unknown setting: {text}"
    );
    assert!(!text.contains("Set `token`"), "{text}");
}
