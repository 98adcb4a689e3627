//! The actions of the three providers with the real Terraform (1.15) against the emulator:
//! `terraform apply -invoke=action...` with its progress lines in `-json` output and its
//! effect seen from outside (a database suspended through the API, a page served by the
//! old build, a hostname verified, PostgreSQL and MariaDB connections dropped, a snapshot
//! listed, a connection check passing and failing), run twice; an `action_trigger` firing
//! after an update; a bad `timeout` refused at plan on the attribute; a 5xx a diagnostic.

use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::cloudsync::CloudSync;
use crate::support::wayscloud::WaysCloud;
use crate::support::{Emulator, Output, Terraform, COMWIT_TERRAFORM_BLOCK};

/// `terraform apply -invoke=<action>` with `-json`, whatever its exit code.
fn invoke(tf: &Terraform, action: &str, extra: &[&str]) -> Output {
    let flag = format!("-invoke={action}");
    let mut args = vec!["apply", "-auto-approve", "-json", "-input=false", &flag];
    args.extend_from_slice(extra);
    tf.run(&args)
}

/// The action's progress lines in `-json` output.
fn progress(out: &Output) -> Vec<String> {
    out.json_lines()
        .iter()
        .filter(|m| m["type"] == "action_progress")
        .filter_map(|m| m["hook"]["message"].as_str().map(str::to_owned))
        .collect()
}

/// The error diagnostics in `-json` output, as "summary: detail".
fn errors(out: &Output) -> Vec<String> {
    out.json_lines()
        .iter()
        .filter(|m| m["type"] == "diagnostic" && m["diagnostic"]["severity"] == "error")
        .map(|m| {
            format!(
                "{}: {}",
                m["diagnostic"]["summary"].as_str().unwrap_or_default(),
                m["diagnostic"]["detail"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// Invokes `action`, which must succeed and complete; its progress lines.
fn invoke_ok(tf: &Terraform, action: &str, extra: &[&str]) -> Vec<String> {
    let out = invoke(tf, action, extra);
    assert!(out.success(), "{out}");
    assert!(
        out.json_lines()
            .iter()
            .any(|m| m["type"] == "action_complete"),
        "{out}"
    );
    progress(&out)
}

/// A `-invoke` of an action running in the background, its `-json` lines read as they come.
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    reader: std::thread::JoinHandle<()>,
    printed: String,
}

impl Running {
    /// Starts `-invoke` of `action` and waits (at most 120 s) for a progress line with
    /// `seen`.
    fn until(tf: &Terraform, action: &str, extra: &[&str], seen: &str) -> Running {
        use std::io::BufRead;
        let flag = format!("-invoke={action}");
        let mut args = vec!["apply", "-auto-approve", "-json", "-input=false", &flag];
        args.extend_from_slice(extra);
        let mut child = tf.command(&args).spawn().expect("terraform");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        let mut running = Running {
            child,
            lines,
            reader,
            printed: String::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let Ok(line) = running
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            else {
                let _ = running.child.kill();
                panic!("no progress line with {seen:?}: {}", running.printed)
            };
            running.printed.push_str(&line);
            running.printed.push('\n');
            if line.contains("action_progress") && line.contains(seen) {
                return running;
            }
        }
    }

    /// Waits (at most `within`) for Terraform to exit: its exit status and all it printed.
    fn finish(mut self, within: Duration) -> (std::process::ExitStatus, String) {
        let from = Instant::now();
        let exited = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if from.elapsed() > within {
                let _ = self.child.kill();
                panic!("Terraform did not stop within {within:?}: {}", self.printed);
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let _ = self.reader.join();
        let mut printed = self.printed;
        printed.extend(self.lines.try_iter().map(|l| l + "\n"));
        (exited, printed)
    }
}

/// Runs `-invoke` of `action`, sends Terraform SIGINT (Ctrl-C) once a progress line shows
/// `seen`, and returns all it printed; Terraform must exit within 60 s of the interrupt.
fn interrupted(tf: &Terraform, action: &str, extra: &[&str], seen: &str) -> String {
    let running = Running::until(tf, action, extra, seen);
    let status = std::process::Command::new("kill")
        .args(["-INT", &running.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let (exited, printed) = running.finish(Duration::from_secs(60));
    assert!(!exited.success(), "{printed}");
    printed
}

fn has(lines: &[String], needle: &str) -> bool {
    lines.iter().any(|l| l.contains(needle))
}

fn str_of<'v>(v: &'v Value, k: &str) -> &'v str {
    v[k].as_str().unwrap_or_else(|| panic!("no {k} in {v:#}"))
}

const DATABASE_ACTIONS: &str = r#"
variable "database_id" {
  type = string
}

variable "timeout" {
  type    = string
  default = "1m"
}

action "comwit_database_suspend" "db" {
  config {
    database_id = var.database_id
    timeout     = var.timeout
  }
}

action "comwit_database_resume" "db" {
  config {
    database_id = var.database_id
  }
}
"#;

/// Suspend and resume a database made outside Terraform: the status the API answers
/// changes, a second run reports "already", no state is written, a 5xx is a diagnostic
/// and a bad `timeout` is refused at plan on the attribute.
#[test]
fn comwit_database_suspend_and_resume() {
    let emu = Emulator::start();
    let (status, made) = emu.api(
        Method::POST,
        &format!("/v1/projects/{}/databases", emu.project_id()),
        Some(json!({"name": "acted-on"})),
    );
    assert_eq!(status, 201, "{made}");
    let id = str_of(&made["database"], "database_id").to_owned();
    let status_of = |emu: &Emulator| emu.api_get(&format!("/v1/databases/{id}"))["status"].clone();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!("{COMWIT_TERRAFORM_BLOCK}{DATABASE_ACTIONS}"));
    let var = format!("-var=database_id={id}");

    let lines = invoke_ok(&tf, "action.comwit_database_suspend.db", &[&var]);
    assert_eq!(
        lines.first().map(String::as_str),
        Some(format!("suspending database {id}").as_str()),
        "{lines:?}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.ends_with("is suspended") && l.contains("acted-on")),
        "{lines:?}"
    );
    assert_eq!(status_of(&emu), "suspended");

    // Twice: reported, not an error; nothing sent but the read.
    let lines = invoke_ok(&tf, "action.comwit_database_suspend.db", &[&var]);
    assert!(
        has(&lines, "is already suspended: nothing to do"),
        "{lines:?}"
    );
    assert_eq!(status_of(&emu), "suspended");

    let lines = invoke_ok(&tf, "action.comwit_database_resume.db", &[&var]);
    assert!(has(&lines, "is resumed (active)"), "{lines:?}");
    assert_eq!(status_of(&emu), "active");
    let lines = invoke_ok(&tf, "action.comwit_database_resume.db", &[&var]);
    assert!(has(&lines, "is already active"), "{lines:?}");
    assert!(tf.state_list().is_empty(), "an action writes no state");

    // A 5xx on the suspend (not retried: it may have taken effect) is a diagnostic
    // naming the operation and the database.
    emu.admin_put(
        "/_emulator/faults",
        json!({"rules": [{"method": "POST", "path_prefix": format!("/v1/databases/{id}/suspend"), "kind": "error", "status": 500, "times": 1}]}),
    );
    let out = invoke(&tf, "action.comwit_database_suspend.db", &[&var]);
    assert!(!out.success(), "{out}");
    let errs = errors(&out);
    assert!(
        errs.iter()
            .any(|e| e.contains("Error suspending database") && e.contains(&id)),
        "{errs:?}\n{out}"
    );
    assert_eq!(status_of(&emu), "active", "the faulted request did no work");
    emu.admin(Method::DELETE, "/_emulator/faults", None);

    // A `timeout` shorter than the API takes to answer (3 s): the action stops at its
    // timeout with an error on the attribute saying what it waited for and what it last
    // saw; the database is left in one of its two states, and a second run finishes the
    // job.
    emu.admin_put(
        "/_emulator/faults",
        json!({"rules": [{"method": "POST", "path_prefix": format!("/v1/databases/{id}/suspend"), "kind": "latency", "latency_ms": 3000, "times": 1}]}),
    );
    let out = invoke(
        &tf,
        "action.comwit_database_suspend.db",
        &[&var, "-var=timeout=1s"],
    );
    assert!(!out.success(), "{out}");
    let errs = errors(&out);
    assert!(
        errs.iter().any(|e| e.contains("Action timed out: ")
            && e.contains(&format!(
                "Stopped waiting for database `{id}` to be suspended (last seen: active) after 1s"
            ))
            && e.contains("raise `timeout` or run the action again")),
        "{errs:?}\n{out}"
    );
    assert!(
        out.json_lines()
            .iter()
            .any(|m| m["type"] == "action_errored"),
        "{out}"
    );
    std::thread::sleep(Duration::from_secs(3));
    let after = status_of(&emu);
    assert!(after == "active" || after == "suspended", "{after}");
    emu.admin(Method::DELETE, "/_emulator/faults", None);
    let lines = invoke_ok(&tf, "action.comwit_database_suspend.db", &[&var]);
    assert!(
        lines.last().is_some_and(|l| l.contains("suspended")),
        "{lines:?}"
    );
    assert_eq!(status_of(&emu), "suspended");
    assert!(tf.state_list().is_empty(), "an action writes no state");
    invoke_ok(&tf, "action.comwit_database_resume.db", &[&var]);
    assert_eq!(status_of(&emu), "active");

    // A bad timeout or id: refused at plan, on the attribute, before anything is sent.
    let suspend = "-invoke=action.comwit_database_suspend.db";
    let out = tf.run(&[
        "plan",
        "-no-color",
        "-input=false",
        suspend,
        "-var=timeout=ten minutes",
        &var,
    ]);
    assert!(!out.success(), "{out}");
    let text = out.combined();
    assert!(text.contains("Invalid timeout"), "{text}");
    assert!(
        text.contains("timeout     = var.timeout"),
        "on the attribute: {text}"
    );
    let out = tf.run(&[
        "plan",
        "-no-color",
        "-input=false",
        suspend,
        "-var=database_id=prj_local",
    ]);
    assert!(!out.success(), "{out}");
    assert!(out.combined().contains("Invalid id"), "{out}");
    assert_eq!(status_of(&emu), "active");
}

/// A page that answers `version`.
fn page(version: &str) -> String {
    format!(
        "export default {{ async fetch(request) {{ return new Response(`{version} from ${{new URL(request.url).hostname}}`); }} }};\n"
    )
}

/// An app with a manual hostname in a project domain (its DNS records not published).
const APP_HOSTNAME: &str = r#"
resource "comwit_app" "web" {
  name = "web"
}

resource "comwit_project_domain" "publish" {
  domain = "publish.test"
}

resource "comwit_app_hostname" "shop" {
  app_id     = comwit_app.web.id
  hostname   = "shop.publish.test"
  depends_on = [comwit_project_domain.publish]
}
"#;

/// With [`APP_HOSTNAME`]: the app's deployment and the actions on them.
const APP: &str = r#"
resource "comwit_app_deployment" "web" {
  app_id     = comwit_app.web.id
  source_dir = "${path.module}/app"
}

variable "build" {
  type    = string
  default = "bld_none"
}

variable "verify_timeout" {
  type    = string
  default = "1m"
}

action "comwit_app_rollback" "back" {
  config {
    app_id   = comwit_app.web.id
    build_id = var.build
  }
}

action "comwit_app_hostname_verify" "shop" {
  config {
    app_id   = comwit_app.web.id
    hostname = "Shop.Publish.Test."
    timeout  = var.verify_timeout
  }
}
"#;

/// Roll an app back to its first build (the old page is served), twice; re-check a
/// manual hostname until its DNS is published (a timeout first, naming the missing
/// records, then verified once they are in the zone).
#[test]
fn comwit_app_rollback_and_hostname_verify() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!("{COMWIT_TERRAFORM_BLOCK}{APP_HOSTNAME}{APP}"));
    tf.write_file("app/index.mjs", &page("v1"));
    tf.apply();
    let v1 = str_of(&tf.resource("comwit_app_deployment.web"), "build_id").to_owned();
    tf.write_file("app/index.mjs", &page("v2"));
    tf.apply();
    let app = tf.resource("comwit_app.web");
    let url = str_of(&app, "default_url").to_owned();
    let app_id = str_of(&app, "id").to_owned();
    assert!(crate::apps::fetch(&emu, &url).1.starts_with("v2"));

    let var = format!("-var=build={v1}");
    let lines = invoke_ok(&tf, "action.comwit_app_rollback.back", &[&var]);
    assert!(
        has(&lines, &format!("rolling app {app_id} back to build {v1}")),
        "{lines:?}"
    );
    assert!(
        has(&lines, &format!("build {v1} is ready; making it serve")),
        "{lines:?}"
    );
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with(&format!("build {v1} serves app `web` (was bld_"))),
        "{lines:?}"
    );
    let (status, body) = crate::apps::fetch(&emu, &url);
    assert_eq!(status, 200);
    assert!(body.starts_with("v1 from"), "the old build serves: {body}");
    let lines = invoke_ok(&tf, "action.comwit_app_rollback.back", &[&var]);
    assert!(
        has(&lines, "already serves app `web`: nothing to do"),
        "{lines:?}"
    );
    assert!(crate::apps::fetch(&emu, &url).1.starts_with("v1"));

    // A build that does not exist: the API's 404, as a diagnostic naming it.
    let out = invoke(
        &tf,
        "action.comwit_app_rollback.back",
        &["-var=build=bld_0000000000000000"],
    );
    assert!(!out.success(), "{out}");
    let errs = errors(&out);
    assert!(
        errs.iter().any(|e| e.contains("bld_0000000000000000")),
        "{errs:?}"
    );

    // A failed build (made outside Terraform, its entry missing) is refused, with its
    // error; the app keeps serving the build it had.
    let artifact =
        emu.api_get(&format!("/v1/apps/{app_id}/builds/{v1}"))["artifact_sha256"].clone();
    let (status, bad) = emu.api(
        Method::POST,
        &format!("/v1/apps/{app_id}/builds"),
        Some(json!({"artifact_sha256": artifact, "entry": "missing.mjs", "activate": false})),
    );
    assert_eq!(status, 202, "{bad}");
    let bad = str_of(&bad, "build_id").to_owned();
    let failed = emu.api_get(&format!("/v1/apps/{app_id}/builds/{bad}?wait_seconds=30"));
    assert_eq!(failed["status"], "failed", "{failed}");
    let out = invoke(
        &tf,
        "action.comwit_app_rollback.back",
        &[&format!("-var=build={bad}")],
    );
    assert!(!out.success(), "{out}");
    let errs = errors(&out);
    assert!(
        errs.iter().any(|e| e.contains("Build cannot serve")
            && e.contains(&format!(
                "Build `{bad}` of app `{app_id}` is failed (entry missing.mjs"
            ))),
        "{errs:?}"
    );
    assert!(crate::apps::fetch(&emu, &url).1.starts_with("v1"));

    // The manual hostname is pending: checked again and again until the timeout, each
    // progress line naming the missing records.
    let started = Instant::now();
    let out = invoke(
        &tf,
        "action.comwit_app_hostname_verify.shop",
        &["-var=verify_timeout=3s"],
    );
    assert!(!out.success(), "{out}");
    assert!(started.elapsed() < Duration::from_secs(60));
    let lines = progress(&out);
    assert!(lines.len() >= 3, "{lines:?}");
    assert!(
        has(
            &lines,
            "shop.publish.test is pending: missing TXT _comwit-challenge.shop.publish.test"
        ),
        "{lines:?}"
    );
    let errs = errors(&out);
    assert!(
        errs.iter().any(|e| e.contains("Action timed out")
            && e.contains("after 3s")
            && e.contains("CNAME shop.publish.test")),
        "{errs:?}"
    );

    // Published in the zone while the action polls: it sees the records at its next
    // check and reports the hostname verified; the gateway serves it.
    let running = Running::until(
        &tf,
        "action.comwit_app_hostname_verify.shop",
        &["-var=verify_timeout=2m"],
        "shop.publish.test is pending",
    );
    let hostname = emu.api_get(&format!("/v1/apps/{app_id}/hostnames/shop.publish.test"));
    let domain = str_of(&tf.resource("comwit_project_domain.publish"), "id").to_owned();
    for r in hostname["records"].as_array().expect("records") {
        let (status, body) = emu.api(
            Method::POST,
            &format!("/v1/domains/{domain}/records"),
            Some(json!({"name": r["name"], "type": r["type"], "value": r["value"]})),
        );
        assert_eq!(status, 201, "{body}");
    }
    let (exited, printed) = running.finish(Duration::from_secs(120));
    assert!(exited.success(), "{printed}");
    let out = Output {
        code: 0,
        stdout: printed,
        stderr: String::new(),
    };
    let lines = progress(&out);
    assert!(
        lines
            .last()
            .is_some_and(|l| l.starts_with("shop.publish.test is verified (after ")),
        "{lines:?}"
    );
    let lines = invoke_ok(&tf, "action.comwit_app_hostname_verify.shop", &[]);
    assert!(
        has(&lines, "shop.publish.test is already verified"),
        "{lines:?}"
    );
    let (status, body) = crate::apps::fetch(&emu, "http://shop.publish.test/");
    assert_eq!((status, body.as_str()), (200, "v1 from shop.publish.test"));
}

/// With [`APP_HOSTNAME`]: a hostname check with a short `timeout`.
const VERIFY_SHORTLY: &str = r#"
action "comwit_app_hostname_verify" "x" {
  config {
    app_id   = comwit_app.web.id
    hostname = comwit_app_hostname.shop.hostname
    timeout  = "5s"
  }
}
"#;

/// A hostname check still running at the `timeout` (each read of the hostname takes 2 s
/// here: checks at 0 s and 4 s, the second cut short at 5 s): the error still names every
/// record missing (type, name and value) from the last check that finished. (Before the
/// poll helper gave the last look back, this error named none: checked against the old
/// provider binary.)
#[test]
fn comwit_hostname_verify_cut_short_names_the_missing_records() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}{APP_HOSTNAME}{VERIFY_SHORTLY}"
    ));
    tf.apply();
    let app_id = str_of(&tf.resource("comwit_app.web"), "id").to_owned();
    let path = format!("/v1/apps/{app_id}/hostnames/shop.publish.test");
    let needed = emu.api_get(&path);
    assert_eq!(needed["status"], "pending", "{needed}");
    let records: Vec<(String, String, String)> = needed["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            (
                str_of(r, "type").to_owned(),
                str_of(r, "name").to_owned(),
                str_of(r, "value").to_owned(),
            )
        })
        .collect();
    assert!(records.len() >= 2, "{needed}");

    emu.admin_put(
        "/_emulator/faults",
        json!({"rules": [{"method": "GET", "path_prefix": path, "kind": "latency", "latency_ms": 2000, "times": 1000}]}),
    );
    let out = invoke(&tf, "action.comwit_app_hostname_verify.x", &[]);
    emu.admin(Method::DELETE, "/_emulator/faults", None);
    assert!(!out.success(), "{out}");
    let lines = progress(&out);
    assert!(
        has(&lines, "shop.publish.test is pending: missing "),
        "{lines:?}"
    );
    let errs = errors(&out);
    let timed_out: Vec<_> = errs
        .iter()
        .filter(|e| e.contains("Action timed out") && e.contains("after 5s"))
        .collect();
    assert_eq!(timed_out.len(), 1, "{errs:?}\n{out}");
    for (rtype, name, value) in &records {
        let named = format!("{rtype} {name} = {value}");
        assert!(timed_out[0].contains(&named), "{named} not in {errs:?}");
    }
}

const WAYSCLOUD: &str = r#"
terraform {
  required_providers {
    wayscloud = { source = "wayscloud/wayscloud" }
  }
}

variable "limit" {
  type    = number
  default = 20
}

variable "timeout" {
  type    = string
  default = "2m"
}

resource "wayscloud_database" "pg" {
  db_type          = "postgresql"
  requested_name   = "acts"
  connection_limit = var.limit
  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.wayscloud_database_take_snapshot.pg]
    }
  }
}

resource "wayscloud_database" "my" {
  db_type        = "mariadb"
  requested_name = "acts"
}

action "wayscloud_database_restart" "pg" {
  config {
    db_type = wayscloud_database.pg.db_type
    db_name = wayscloud_database.pg.db_name
    timeout = var.timeout
  }
}

action "wayscloud_database_restart" "my" {
  config {
    db_type = "mariadb"
    db_name = wayscloud_database.my.db_name
  }
}

# Triggered by the database it names: the name is written out (deterministic), not
# referenced, so the trigger and the action's configuration make no cycle.
action "wayscloud_database_take_snapshot" "pg" {
  config {
    db_type     = "postgresql"
    db_name     = "cust_6dd1d906_pg_acts"
    description = "taken by an action ✓"
  }
}
"#;

/// A session held open on `db` (PostgreSQL `pg_sleep`, MariaDB `SLEEP`) for a minute.
fn held_session(db: &Value) -> std::process::Child {
    let port = db["port"].to_string();
    let (user, name, pw) = (
        str_of(db, "username"),
        str_of(db, "db_name"),
        str_of(db, "password"),
    );
    let mut cmd = if str_of(db, "db_type") == "postgresql" {
        let mut c = crate::support::outside_tool("psql");
        c.args([
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            user,
            "-d",
            name,
            "-c",
            "SELECT pg_sleep(60)",
        ])
        .env("PGPASSWORD", pw);
        c
    } else {
        let mut c = crate::support::outside_tool("mysql");
        c.args([
            "--no-defaults",
            "--protocol=TCP",
            "-h",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            user,
            name,
            "-e",
            "SELECT SLEEP(60)",
        ])
        .env("MYSQL_PWD", pw);
        c
    };
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("session")
}

/// The server-side ids of the sessions on database `name`, as the engine's superuser sees
/// them (`pg_stat_activity` / the process list).
fn sessions(w: &WaysCloud, db_type: &str, name: &str) -> Vec<String> {
    let sql = if db_type == "postgresql" {
        format!("SELECT pid FROM pg_stat_activity WHERE datname = '{name}' ORDER BY pid")
    } else {
        format!("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{name}' ORDER BY ID")
    };
    w.admin_sql(db_type, &sql)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Restart drops the held PostgreSQL and MariaDB sessions (their clients fail, the
/// engines no longer list them); take a snapshot now, listed by the API; the snapshot
/// action fires after an update of the database; a 5xx on the restart is a diagnostic.
#[test]
fn wayscloud_restart_drops_connections_and_snapshot_is_listed() {
    let w = WaysCloud::start();
    let tf = Terraform::on(&w);
    tf.write_main(WAYSCLOUD);
    let out = tf.apply();
    assert!(
        !out.stdout.contains("Actions:"),
        "no trigger on create: {out}"
    );

    for (addr, action) in [
        (
            "wayscloud_database.pg",
            "action.wayscloud_database_restart.pg",
        ),
        (
            "wayscloud_database.my",
            "action.wayscloud_database_restart.my",
        ),
    ] {
        let db = tf.resource(addr);
        let (t, name) = (
            str_of(&db, "db_type").to_owned(),
            str_of(&db, "db_name").to_owned(),
        );
        let mut session = held_session(&db);
        let deadline = Instant::now() + Duration::from_secs(20);
        while sessions(&w, &t, &name).is_empty() {
            assert!(Instant::now() < deadline, "the session never showed");
            std::thread::sleep(Duration::from_millis(100));
        }
        let before = sessions(&w, &t, &name);
        let lines = invoke_ok(&tf, action, &[]);
        assert_eq!(
            lines.first().cloned(),
            Some(format!("restarting database {name} ({t})")),
            "{lines:?}"
        );
        assert!(has(&lines, "WaysCloud: "), "{lines:?}");
        assert!(
            lines
                .last()
                .is_some_and(|l| l.starts_with(&format!("database {name} answers again"))),
            "{lines:?}"
        );
        // The held session was dropped: its client ends with an error long before its
        // minute, and the engine lists none of the sessions seen before.
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = session.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "{t}: the held session is still open"
            );
            std::thread::sleep(Duration::from_millis(100));
        };
        assert!(!status.success(), "{t}: the held session ended in error");
        let after = sessions(&w, &t, &name);
        assert!(
            before.iter().all(|pid| !after.contains(pid)),
            "{t}: {before:?} still in {after:?}"
        );
        // Twice: nothing to drop, no error.
        let lines = invoke_ok(&tf, action, &[]);
        assert!(has(&lines, "answers again"), "{lines:?}");
    }

    let pg = tf.resource("wayscloud_database.pg");
    let name = str_of(&pg, "db_name").to_owned();
    let snapshots = |w: &WaysCloud| {
        w.api_get(&format!("/v1/databases/postgresql/{name}/snapshots"))["snapshots"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert!(snapshots(&w).is_empty());
    // A dump that takes a while (11 s of latency before the API answers) is not silent:
    // a progress line every 10 s while the call runs.
    w.admin_put(
        "/_emulator/faults",
        json!({"rules": [{"method": "POST", "path_prefix": format!("/v1/databases/postgresql/{name}/snapshots"), "kind": "latency", "latency_ms": 11000, "times": 1}]}),
    );
    let lines = invoke_ok(&tf, "action.wayscloud_database_take_snapshot.pg", &[]);
    assert!(
        has(
            &lines,
            &format!("still taking the snapshot of database {name} (10s)")
        ),
        "{lines:?}"
    );
    w.admin(Method::DELETE, "/_emulator/faults", Value::Null);
    let listed = snapshots(&w);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let id = str_of(&listed[0], "snapshot_id");
    assert_eq!(listed[0]["description"], "taken by an action ✓");
    assert!(has(&lines, &format!("snapshot {id} taken")), "{lines:?}");
    assert!(
        has(&lines, &format!("snapshot {id} is listed")),
        "{lines:?}"
    );
    assert!(
        tf.state_list().iter().all(|a| !a.contains("snapshot")),
        "no snapshot in state"
    );

    // The trigger: an update of the database takes a snapshot after it.
    tf.write_file("terraform.tfvars", "limit = 30\n");
    let out = tf.apply();
    assert!(
        out.stdout.contains("1 changed") && out.stdout.contains("Actions: 1 invoked"),
        "{out}"
    );
    assert!(
        out.stdout.contains("(triggered by wayscloud_database.pg)"),
        "{out}"
    );
    assert_eq!(snapshots(&w).len(), 2);
    assert_eq!(
        tf.plan_detailed_exitcode(),
        0,
        "the actions left nothing to change"
    );

    // A 5xx on the restart (not retried: it may have taken effect): a diagnostic.
    w.admin_put(
        "/_emulator/faults",
        json!({"rules": [{"method": "POST", "path_prefix": "/v1/databases/postgresql/", "kind": "error", "status": 503, "times": 1}]}),
    );
    let out = invoke(&tf, "action.wayscloud_database_restart.pg", &[]);
    assert!(!out.success(), "{out}");
    let errs = errors(&out);
    assert!(
        errs.iter()
            .any(|e| e.contains("Error restarting database") && e.contains("cust_6dd1d906_pg_acts")),
        "{errs:?}\n{out}"
    );
    w.admin(Method::DELETE, "/_emulator/faults", Value::Null);

    // A bad timeout: refused at plan on the attribute.
    let out = tf.run(&[
        "plan",
        "-no-color",
        "-input=false",
        "-invoke=action.wayscloud_database_restart.pg",
        "-var=timeout=90",
    ]);
    assert!(!out.success(), "{out}");
    let text = out.combined();
    assert!(
        text.contains("Invalid timeout") && text.contains("without a unit"),
        "{text}"
    );
    assert!(
        text.contains("timeout = var.timeout"),
        "on the attribute: {text}"
    );
}

const NODE: &str = "acts.sqlite.cloud";
const NODE_KEY: &str = "node-apikey-7781";

fn cloudsync_config() -> String {
    format!(
        r#"
terraform {{
  required_providers {{
    cloudsync = {{ source = "cloudsync/cloudsync" }}
  }}
}}

variable "timeout" {{
  type    = string
  default = "3s"
}}

resource "cloudsync_database" "edge" {{
  label             = "Edge"
  connection_string = "sqlitecloud://{NODE}:8860?apikey={NODE_KEY}"
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "appdb"
}}

action "cloudsync_database_check_connection" "edge" {{
  config {{
    database_id = cloudsync_database.edge.id
    timeout     = var.timeout
  }}
}}
"#
    )
}

/// The connection check passes; on a paused node it is checked again until the timeout;
/// with a key the node no longer accepts it fails at once, naming the code and the fix.
#[test]
fn cloudsync_check_connection_reports_the_result() {
    let emu = CloudSync::start();
    let dir = emu.sqlite_node(NODE, NODE_KEY);
    CloudSync::sqlite_database(&dir, "appdb", "CREATE TABLE notes (id TEXT PRIMARY KEY);");
    let tf = Terraform::on(&emu);
    tf.write_main(&cloudsync_config());
    tf.apply();
    let id = str_of(&tf.resource("cloudsync_database.edge"), "id").to_owned();

    let lines = invoke_ok(&tf, "action.cloudsync_database_check_connection.edge", &[]);
    assert_eq!(
        lines.first().cloned(),
        Some(format!("checking the connection of database {id}"))
    );
    assert!(
        lines.last().is_some_and(
            |l| l.starts_with(&format!("connection ok: CloudSync reached database {id}"))
        ),
        "{lines:?}"
    );
    let lines = invoke_ok(&tf, "action.cloudsync_database_check_connection.edge", &[]);
    assert!(has(&lines, "connection ok"), "twice: {lines:?}");

    // Paused: retryable, checked again until the timeout.
    emu.admin(
        Method::PUT,
        &format!("/_emulator/cloudsync/sqlitecloud/nodes/{NODE}"),
        Some(json!({"apikey": NODE_KEY, "paused": true})),
    );
    let out = invoke(&tf, "action.cloudsync_database_check_connection.edge", &[]);
    assert!(!out.success(), "{out}");
    let lines = progress(&out);
    assert!(
        lines
            .iter()
            .filter(|l| l.contains("tenant database paused (database_paused)")
                && l.ends_with("checking again"))
            .count()
            >= 2,
        "{lines:?}"
    );
    let errs = errors(&out);
    assert!(
        errs.iter()
            .any(|e| e.contains("Action timed out") && e.contains("after 3s")),
        "{errs:?}"
    );

    // Terraform's interrupt (Ctrl-C) stops the polling at once, long before the timeout.
    let text = interrupted(
        &tf,
        "action.cloudsync_database_check_connection.edge",
        &["-var=timeout=10m"],
        "checking again",
    );
    assert!(text.contains("Action cancelled"), "{text}");

    // A key the node refuses: not retryable, an error at once.
    emu.admin(
        Method::PUT,
        &format!("/_emulator/cloudsync/sqlitecloud/nodes/{NODE}"),
        Some(json!({"apikey": "another-key", "paused": false})),
    );
    let started = Instant::now();
    let out = invoke(
        &tf,
        "action.cloudsync_database_check_connection.edge",
        &["-var=timeout=5m"],
    );
    assert!(!out.success(), "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "not waited for"
    );
    let errs = errors(&out);
    assert!(
        errs.iter().any(|e| e
            .contains("Connection check failed: tenant database refused the credentials")
            && e.contains("database_auth_failed")),
        "{errs:?}"
    );
    assert!(!out.combined().contains(NODE_KEY), "the key never shows");

    // A bad timeout: refused at plan on the attribute.
    let out = tf.run(&[
        "plan",
        "-no-color",
        "-input=false",
        "-invoke=action.cloudsync_database_check_connection.edge",
        "-var=timeout=0s",
    ]);
    assert!(!out.success(), "{out}");
    assert!(out.combined().contains("Invalid timeout"), "{out}");
}

/// The action examples (`examples/actions/`, `examples/wayscloud/actions/`; the CloudSync
/// one is in its provider's examples test) pass `terraform validate` beside the resource
/// examples they name, so the pages' examples stay true to the schema.
#[test]
fn the_action_examples_validate() {
    use crate::support::Platform;
    let root = crate::support::crate_dir().join("examples");
    for (platform, named, actions_dir, count) in [
        (
            Platform::Comwit,
            [
                "provider/provider.tf",
                "resources/comwit_app_hostname/resource.tf",
            ],
            "actions",
            4,
        ),
        (
            Platform::WaysCloud,
            [
                "wayscloud/provider/provider.tf",
                "wayscloud/resources/wayscloud_database/resource.tf",
            ],
            "wayscloud/actions",
            2,
        ),
    ] {
        let tf = Terraform::builder().platform_provider(platform).build();
        let mut files: Vec<_> = named.iter().map(|f| root.join(f)).collect();
        let actions: Vec<_> = std::fs::read_dir(root.join(actions_dir))
            .expect("actions dir")
            .flatten()
            .map(|e| e.path().join("action.tf"))
            .collect();
        assert_eq!(actions.len(), count, "{actions:?}");
        files.extend(actions);
        for (i, file) in files.iter().enumerate() {
            let text =
                std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            tf.write_file(&format!("example_{i}.tf"), &text);
        }
        let out = tf.run(&["validate", "-no-color"]);
        assert!(out.success(), "{out}");
    }
}
