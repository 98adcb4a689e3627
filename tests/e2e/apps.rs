//! End to end: Comwit apps with the real Terraform CLI against the real `platform-emulator`
//! (builds on Node.js, pages fetched through its app gateway).

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::checks::{self, Check, Import, OutOfBand};
use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};

/// A page that answers `version` and the env variables `NAME`.
fn page(version: &str) -> String {
    format!(
        "export default {{ async fetch(request, env) {{\n  \
         return new Response(`{version} hello ${{env.NAME}}`);\n}} }};\n"
    )
}

/// A page that shows every env variable (as JSON).
fn env_page() -> String {
    "export default { async fetch(request, env) { return new Response(JSON.stringify(env)); } };\n"
        .to_owned()
}

/// `main.tf`: an app, its env (`env` is the body of the `comwit_app_env` block, without
/// `app_id`) and a deployment of `./app` (`deployment` is extra lines of its block).
fn app_config(env: &str, deployment: &str) -> String {
    format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_app\" \"web\" {{
  name = \"web\"
}}

resource \"comwit_app_env\" \"web\" {{
  app_id = comwit_app.web.id
{env}
}}

resource \"comwit_app_deployment\" \"web\" {{
  app_id     = comwit_app.web.id
  source_dir = \"${{path.module}}/app\"
{deployment}
  depends_on = [comwit_app_env.web]
}}

output \"url\" {{
  value = comwit_app.web.default_url
}}
"
    )
}

/// What the app at `default_url` answers, through the emulator's gateway (`Host` header).
pub(crate) fn fetch(emu: &Emulator, default_url: &str) -> (u16, String) {
    let host = default_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let url = format!("{}/", emu.apps_url());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let http = support::emulator::http_client();
        let reply =
            support::emulator::send(&http, Method::GET, &url, None, &[("host", &host)], None)
                .await
                .expect("gateway request");
        let body = match reply.body {
            Value::String(s) => s,
            Value::Null => String::new(),
            other => other.to_string(),
        };
        (reply.status.as_u16(), body)
    })
}

fn admin_apps(emu: &Emulator) -> Vec<Value> {
    emu.admin_get("/_emulator/apps")["apps"]
        .as_array()
        .expect("apps array")
        .clone()
}

fn admin_app(emu: &Emulator, id: &str) -> Value {
    admin_apps(emu)
        .into_iter()
        .find(|a| a["app_id"] == id)
        .unwrap_or_else(|| panic!("emulator has no app {id}"))
}

/// No live app, and nothing of a deleted one: no worker, no build folder.
fn no_app_left(emu: &Emulator) {
    for app in admin_apps(emu) {
        assert_eq!(app["deleted"], true, "app left behind: {app:#}");
        assert_eq!(
            app["worker_pid"],
            Value::Null,
            "worker left behind: {app:#}"
        );
        assert_eq!(app["folder_exists"], false, "folder left behind: {app:#}");
        for build in app["builds"].as_array().into_iter().flatten() {
            assert_eq!(
                build["folder_exists"], false,
                "build left behind: {build:#}"
            );
        }
    }
}

fn str_of<'v>(values: &'v Value, attr: &str) -> &'v str {
    values[attr]
        .as_str()
        .unwrap_or_else(|| panic!("no string {attr} in {values:#}"))
}

fn assert_plan_updates_in_place(tf: &Terraform, address: &str) -> String {
    let plan = tf.try_plan();
    assert!(plan.success(), "{plan}");
    assert!(
        plan.stdout
            .contains(&format!("{address} will be updated in-place")),
        "{address} updated in place\n{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("0 to add, 1 to change, 0 to destroy"),
        "{}",
        plan.stdout
    );
    plan.stdout
}

#[test]
fn deploy_change_code_roll_back_set_env_and_destroy() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    let env = "  vars = { NAME = \"world\" }";
    tf.write_file("app/index.mjs", &page("v1"));
    tf.write_main(&app_config(env, ""));
    tf.apply();
    let app = tf.resource("comwit_app.web");
    let url = str_of(&app, "default_url").to_owned();
    let v1 = tf.resource("comwit_app_deployment.web");
    assert_eq!(v1["status"], "ready", "{v1:#}");
    assert_eq!(v1["active_build_id"], v1["build_id"]);
    assert_eq!(fetch(&emu, &url), (200, "v1 hello world".to_owned()));
    assert_eq!(tf.plan_detailed_exitcode(), 0, "a second plan is empty");
    let v1_build = str_of(&v1, "build_id").to_owned();

    // Changed code: an in-place update making a new build that serves.
    tf.write_file("app/index.mjs", &page("v2"));
    let plan = assert_plan_updates_in_place(&tf, "comwit_app_deployment.web");
    assert!(plan.contains("source_sha256"), "{plan}");
    tf.apply();
    let v2 = tf.resource("comwit_app_deployment.web");
    assert_ne!(v2["build_id"], v1["build_id"]);
    assert_ne!(v2["source_sha256"], v1["source_sha256"]);
    assert_eq!(fetch(&emu, &url), (200, "v2 hello world".to_owned()));
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    let builds_before = admin_app(&emu, str_of(&app, "id"))["builds"]
        .as_array()
        .map(Vec::len);

    // Roll back by one line: an in-place update, no new build, v1 serves.
    let rollback = format!("  active_build_id = \"{v1_build}\"");
    tf.write_main(&app_config(env, &rollback));
    let plan = assert_plan_updates_in_place(&tf, "comwit_app_deployment.web");
    assert!(!plan.contains("must be replaced"), "{plan}");
    tf.apply();
    assert_eq!(fetch(&emu, &url), (200, "v1 hello world".to_owned()));
    let rolled = tf.resource("comwit_app_deployment.web");
    assert_eq!(rolled["active_build_id"], v1_build.as_str());
    assert_eq!(rolled["build_id"], v2["build_id"]);
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // Removing the line plans back to the source's build.
    tf.write_main(&app_config(env, ""));
    let plan = assert_plan_updates_in_place(&tf, "comwit_app_deployment.web");
    assert!(plan.contains("active_build_id"), "{plan}");
    tf.apply();
    assert_eq!(fetch(&emu, &url), (200, "v2 hello world".to_owned()));
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    assert_eq!(
        admin_app(&emu, str_of(&app, "id"))["builds"]
            .as_array()
            .map(Vec::len),
        builds_before,
        "rollbacks make no build"
    );

    // An env change reaches the running build without a new build.
    tf.write_main(&app_config("  vars = { NAME = \"there\\n\" }", ""));
    assert_plan_updates_in_place(&tf, "comwit_app_env.web");
    tf.apply();
    assert_eq!(fetch(&emu, &url), (200, "v2 hello there\n".to_owned()));
    assert_eq!(
        tf.resource("comwit_app_deployment.web")["build_id"],
        v2["build_id"]
    );
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // An env variable changed outside Terraform is noticed.
    let app_id = str_of(&app, "id").to_owned();
    let (status, body) = emu.api(
        Method::PUT,
        &format!("/v1/apps/{app_id}/env/NAME"),
        Some(json!({"value": "intruder"})),
    );
    assert_eq!(status, 200, "{body}");
    let plan = assert_plan_updates_in_place(&tf, "comwit_app_env.web");
    assert!(plan.contains("- intruder"), "the value found shows: {plan}");
    tf.apply();
    assert_eq!(fetch(&emu, &url), (200, "v2 hello there\n".to_owned()));

    // Destroy leaves no app, build or worker.
    tf.destroy();
    assert!(tf.state_list().is_empty());
    no_app_left(&emu);
    assert_eq!(fetch(&emu, &url).0, 404);
}

/// The deployment, not the app, sets the serving build: the first refresh after an apply
/// that deployed finds nothing "changed outside of Terraform", even where the whole app
/// object is used (an output), and the app's `active_build_id` stays what it was when the
/// app was made (deprecated: the live value is the deployment's and the data source's).
#[test]
fn a_deployment_leaves_the_app_quiet_on_refresh() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_file("app/index.mjs", &page("v1"));
    let config = format!(
        "{}\noutput \"app\" {{\n  value = comwit_app.web\n}}\n\ndata \"comwit_app\" \"web\" {{\n  id         = comwit_app.web.id\n  depends_on = [comwit_app_deployment.web]\n}}\n\noutput \"serving\" {{\n  value = data.comwit_app.web.active_build_id\n}}\n",
        app_config("", "")
    );
    tf.write_main(&config);
    tf.apply();
    let deployment = tf.resource("comwit_app_deployment.web");
    assert_eq!(deployment["status"], "ready", "{deployment:#}");
    let plan = tf.plan();
    assert!(
        !plan.stdout.contains("changed outside of Terraform"),
        "no drift after the deployment: {}",
        plan.stdout
    );
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let state = tf.show_json();
    let app = tf.state_resource(&state, "comwit_app.web");
    assert_eq!(app["active_build_id"], Value::Null, "{app:#}");
    assert_eq!(tf.output("serving"), deployment["active_build_id"]);
    tf.destroy();
}

/// A checkout without the app's directory (a CI job that only tears down, a deleted build
/// folder) can still destroy: the deployment's plan-time hash is not needed to delete.
#[test]
fn destroy_works_without_the_source_directory() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_file("app/index.mjs", &page("v1"));
    tf.write_main(&app_config("", ""));
    tf.apply();
    tf.remove_file("app/index.mjs");
    std::fs::remove_dir(tf.dir().join("app")).expect("remove app/");
    // A plan warns and keeps the build; it changes nothing.
    let plan = tf.try_plan();
    assert!(plan.success(), "{plan}");
    assert!(
        plan.combined().contains("The app's source is not here"),
        "{plan}"
    );
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let out = tf.run(&["destroy", "-auto-approve", "-no-color", "-input=false"]);
    assert!(out.success(), "{out}");
    assert!(tf.state_list().is_empty());
    no_app_left(&emu);
}

#[test]
fn a_failed_build_shows_its_log_and_fixing_the_code_succeeds() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    let env = "  vars = { NAME = \"world\" }";
    tf.write_main(&app_config(env, "  timeout_seconds = 60"));

    // A first deployment that fails: the error quotes the build's error and log.
    tf.write_file(
        "app/index.mjs",
        "export default { fetch( { return broken; } };\n",
    );
    let failed = tf.try_apply();
    assert!(!failed.success(), "{failed}");
    let text = failed.combined();
    assert!(text.contains("App build failed"), "{text}");
    assert!(text.contains("SyntaxError"), "the log tail: {text}");
    assert!(text.contains("index.mjs"), "{text}");
    let saved = tf.resource("comwit_app_deployment.web");
    assert_eq!(
        saved["status"], "failed",
        "saved with its status: {saved:#}"
    );

    // Fixed: the next apply succeeds and serves.
    tf.write_file("app/index.mjs", &page("v1"));
    tf.apply();
    let app = tf.resource("comwit_app.web");
    let url = str_of(&app, "default_url").to_owned();
    assert_eq!(fetch(&emu, &url), (200, "v1 hello world".to_owned()));
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // A failed update: v1 keeps serving; the state says failed; fixing it succeeds.
    tf.write_file("app/index.mjs", "export default { nofetch() {} };\n");
    let failed = tf.try_apply();
    assert!(!failed.success(), "{failed}");
    assert!(failed.combined().contains("App build failed"), "{failed}");
    assert_eq!(fetch(&emu, &url), (200, "v1 hello world".to_owned()));
    assert_eq!(tf.resource("comwit_app_deployment.web")["status"], "failed");
    assert_eq!(
        tf.plan_detailed_exitcode(),
        2,
        "a failed build plans a new one"
    );
    tf.write_file("app/index.mjs", &page("v3"));
    tf.apply();
    assert_eq!(fetch(&emu, &url), (200, "v3 hello world".to_owned()));
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // The data sources: the app by name, and its builds with their log tails.
    let data = "
data \"comwit_app\" \"by_name\" {
  name       = \"web\"
  depends_on = [comwit_app_deployment.web]
}
data \"comwit_app_builds\" \"all\" {
  app_id         = comwit_app.web.id
  log_tail_lines = 5
  depends_on     = [comwit_app_deployment.web]
}
output \"by_name\" {
  value = data.comwit_app.by_name
}
output \"builds\" {
  value = data.comwit_app_builds.all.builds
}
";
    tf.write_main(&format!(
        "{}{data}",
        app_config(env, "  timeout_seconds = 60")
    ));
    tf.apply();
    let deployed = tf.resource("comwit_app_deployment.web");
    let by_name = tf.output("by_name");
    assert_eq!(by_name["id"], app["id"]);
    assert_eq!(by_name["active_build_id"], deployed["build_id"]);
    assert_eq!(by_name["default_url"], url.as_str());
    let builds = tf.output("builds");
    let builds = builds.as_array().expect("builds");
    assert_eq!(builds.len(), 4, "two failed, then v1 and v3: {builds:#?}");
    assert_eq!(builds[0]["id"], deployed["build_id"], "newest first");
    assert_eq!(builds[0]["active"], true);
    assert_eq!(builds[0]["status"], "ready");
    assert!(builds[0]["finished_at"].is_string());
    let failed: Vec<_> = builds.iter().filter(|b| b["status"] == "failed").collect();
    assert_eq!(failed.len(), 2);
    for b in &failed {
        assert!(b["error"].is_string(), "{b:#}");
        assert!(
            b["log_tail"].as_str().is_some_and(|l| !l.is_empty()),
            "{b:#}"
        );
        assert!(b["log_tail"].as_str().unwrap_or_default().lines().count() <= 5);
    }
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    tf.destroy();
    no_app_left(&emu);
}

#[test]
fn secrets_stay_secret_and_out_of_band_changes_are_planned() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    let secret = "s3cr3t-token-Zq81x";
    let wo_secret = "wo-signing-key-Pv27y";
    let env = |secret: &str, wo_version: u32| {
        format!(
            "  vars = {{ NAME = \"héllo ✓\", KEEP = \"k\" }}
  secrets = {{ TOKEN = \"{secret}\" }}
  secrets_wo = {{ SIGNING = \"{wo_secret}\" }}
  secrets_wo_version = {wo_version}"
        )
    };
    tf.write_file("app/index.mjs", &env_page());
    tf.write_main(&app_config(&env(secret, 1), ""));
    tf.apply();
    let app = tf.resource("comwit_app.web");
    let app_id = str_of(&app, "id").to_owned();
    let url = str_of(&app, "default_url").to_owned();
    let (status, body) = fetch(&emu, &url);
    assert_eq!(status, 200);
    let seen: Value = serde_json::from_str(&body).expect("env JSON");
    assert_eq!(seen["NAME"], "héllo ✓");
    assert_eq!(seen["TOKEN"], secret);
    assert_eq!(seen["SIGNING"], wo_secret);
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    let state = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).expect("state");
    assert!(
        !state.contains(wo_secret),
        "a write-only value is never stored"
    );

    // A new secret value: the plan shows `(sensitive value)`, never the value.
    let new_secret = "n3w-s3cr3t-Hk55w";
    tf.write_main(&app_config(&env(new_secret, 1), ""));
    let plan = assert_plan_updates_in_place(&tf, "comwit_app_env.web");
    assert!(plan.contains("(sensitive value)"), "{plan}");
    assert!(
        !plan.contains(new_secret) && !plan.contains(secret),
        "{plan}"
    );
    tf.apply();
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // A secret written outside Terraform: an update of `secrets`, still masked.
    let (status, body) = emu.api(
        Method::PUT,
        &format!("/v1/apps/{app_id}/env/TOKEN"),
        Some(json!({"value": "outsider", "sensitive": true})),
    );
    assert_eq!(status, 200, "{body}");
    let plan = assert_plan_updates_in_place(&tf, "comwit_app_env.web");
    assert!(plan.contains("~ secrets"), "{plan}");
    assert!(plan.contains("(sensitive value)"), "{plan}");
    assert!(!plan.contains(new_secret), "{plan}");
    tf.apply();
    let (_, body) = fetch(&emu, &url);
    let seen: Value = serde_json::from_str(&body).expect("env JSON");
    assert_eq!(seen["TOKEN"], new_secret, "written back");
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // A write-only secret written outside Terraform is sent again.
    let (status, _) = emu.api(
        Method::PUT,
        &format!("/v1/apps/{app_id}/env/SIGNING"),
        Some(json!({"value": "outsider", "sensitive": true})),
    );
    assert_eq!(status, 200);
    assert_plan_updates_in_place(&tf, "comwit_app_env.web");
    tf.apply();
    let (_, body) = fetch(&emu, &url);
    let seen: Value = serde_json::from_str(&body).expect("env JSON");
    assert_eq!(seen["SIGNING"], wo_secret);
    // So is every write-only value when secrets_wo_version changes.
    tf.write_main(&app_config(&env(new_secret, 2), ""));
    assert_plan_updates_in_place(&tf, "comwit_app_env.web");
    tf.apply();
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // A managed variable deleted outside Terraform is planned again.
    let (status, _) = emu.api(Method::DELETE, &format!("/v1/apps/{app_id}/env/KEEP"), None);
    assert_eq!(status, 204);
    let plan = assert_plan_updates_in_place(&tf, "comwit_app_env.web");
    assert!(plan.contains("+ \"KEEP\""), "{plan}");
    tf.apply();
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // Others are left alone; authoritative deletes them, showing them in the plan.
    let (status, _) = emu.api(
        Method::PUT,
        &format!("/v1/apps/{app_id}/env/OTHER"),
        Some(json!({"value": "x"})),
    );
    assert_eq!(status, 200);
    assert_eq!(tf.plan_detailed_exitcode(), 0, "not managed: left alone");
    tf.write_main(&app_config(
        &format!("{}\n  authoritative = true", env(new_secret, 2)),
        "",
    ));
    let plan = tf.try_plan();
    assert!(
        plan.combined().contains("Variables will be deleted")
            && plan.combined().contains("`OTHER`"),
        "{plan}"
    );
    assert_plan_updates_in_place(&tf, "comwit_app_env.web");
    tf.apply();
    let (_, body) = fetch(&emu, &url);
    let seen: Value = serde_json::from_str(&body).expect("env JSON");
    assert_eq!(seen.get("OTHER"), None, "deleted: {seen}");
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    // Now one more appears outside Terraform: it shows as drift, and apply deletes it.
    let (status, _) = emu.api(
        Method::PUT,
        &format!("/v1/apps/{app_id}/env/LATECOMER"),
        Some(json!({"value": "y"})),
    );
    assert_eq!(status, 200);
    let plan = assert_plan_updates_in_place(&tf, "comwit_app_env.web");
    assert!(plan.contains("- \"LATECOMER\""), "{plan}");
    tf.apply();
    let (_, body) = fetch(&emu, &url);
    let seen: Value = serde_json::from_str(&body).expect("env JSON");
    assert_eq!(seen.get("LATECOMER"), None, "deleted: {seen}");
    assert_eq!(tf.plan_detailed_exitcode(), 0);

    // No secret ever reached the provider's TRACE log.
    let log = tf.log();
    assert!(
        log.contains("provider.terraform-provider-comwit"),
        "log present"
    );
    for s in [secret, new_secret, wo_secret, emu.token()] {
        assert!(!log.contains(s), "{s} leaked into the provider log");
    }
    tf.destroy();
    no_app_left(&emu);
}

#[test]
fn a_token_without_app_deploy_is_told_the_scope() {
    let emu = Emulator::start();
    let token = emu.admin_post(
        "/_emulator/tokens",
        json!({"scopes": ["project:read", "app:read", "app:write"], "projects": ["prj_local"]}),
    )["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut tf = Terraform::comwit(&emu);
    tf.set_env("COMWIT_TOKEN", &token);
    tf.write_file("app/index.mjs", &page("v1"));
    tf.write_main(&app_config("  vars = { NAME = \"world\" }", ""));
    let out = tf.try_apply();
    assert!(!out.success(), "{out}");
    let text = out.combined();
    assert!(text.contains("`app:deploy`"), "the scope is named: {text}");
    assert!(
        text.contains("Use a token that has scope `app:deploy`"),
        "{text}"
    );
    assert!(!text.contains(&token));
    tf.destroy();
    no_app_left(&emu);
}

#[test]
fn apps_and_envs_pass_the_standard_checks() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    let config = format!(
        "{COMWIT_TERRAFORM_BLOCK}\nresource \"comwit_app\" \"main\" {{\n  name = \"site\"\n}}\n"
    );
    let outcome = checks::lifecycle(
        &tf,
        &Check {
            address: "comwit_app.main",
            config: &config,
            import: Import::Verify {
                id: Box::new(|v| str_of(v, "id").to_owned()),
                not_importable: &[],
            },
            exists: Box::new(|v| {
                let app = admin_app(&emu, str_of(v, "id"));
                assert_eq!(app["deleted"], false, "{app:#}");
                assert_eq!(app["name"], "site");
            }),
            out_of_band: OutOfBand::Delete(Box::new(|v| {
                let (status, body) = emu.api(
                    Method::DELETE,
                    &format!("/v1/apps/{}", str_of(v, "id")),
                    None,
                );
                assert_eq!(status, 204, "{body}");
            })),
            nothing_left: Box::new(|| no_app_left(&emu)),
        },
    );
    assert_ne!(outcome.recreated["id"], outcome.created["id"]);
    assert!(str_of(&outcome.created, "default_hostname").starts_with("site-"));

    // The environment of an app made outside this configuration: apply, empty plan,
    // import (plain vars) into a fresh workspace, destroy deletes what it managed only.
    let (status, app) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/apps",
        Some(json!({"name": "other"})),
    );
    assert_eq!(status, 201, "{app}");
    let app_id = str_of(&app, "app_id").to_owned();
    let (status, _) = emu.api(
        Method::PUT,
        &format!("/v1/apps/{app_id}/env/UNMANAGED"),
        Some(json!({"value": "stays"})),
    );
    assert_eq!(status, 200);
    let config = format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_app_env\" \"main\" {{
  app_id = \"{app_id}\"
  vars = {{ A = \"1\", MULTI = \"line one\\nline two\\n\" }}
}}
"
    );
    let env_keys = || -> Vec<String> {
        admin_app(&emu, &app_id)["env"]
            .as_array()
            .expect("env")
            .iter()
            .map(|v| str_of(v, "key").to_owned())
            .collect()
    };
    let check = Check {
        address: "comwit_app_env.main",
        config: &config,
        import: Import::Verify {
            id: Box::new(|v| str_of(v, "app_id").to_owned()),
            not_importable: &[],
        },
        exists: Box::new(|_| assert_eq!(env_keys(), ["A", "MULTI", "UNMANAGED"])),
        out_of_band: OutOfBand::Change(Box::new(|_| {
            let (status, _) = emu.api(Method::DELETE, &format!("/v1/apps/{app_id}/env/A"), None);
            assert_eq!(status, 204);
        })),
        nothing_left: Box::new(|| assert_eq!(env_keys(), ["UNMANAGED"])),
    };
    let created = checks::apply_then_empty_plan(&tf, &check);
    assert_eq!(created["vars"]["MULTI"], "line one\nline two\n");
    // Import brings every plain variable: with UNMANAGED removed first, the imported state
    // is the applied one.
    let (status, _) = emu.api(
        Method::DELETE,
        &format!("/v1/apps/{app_id}/env/UNMANAGED"),
        None,
    );
    assert_eq!(status, 204);
    checks::import_matches(&tf, &check, &created);
    let (status, _) = emu.api(
        Method::PUT,
        &format!("/v1/apps/{app_id}/env/UNMANAGED"),
        Some(json!({"value": "stays"})),
    );
    assert_eq!(status, 200);
    checks::out_of_band_drift_is_noticed(&tf, &check, &created);
    checks::destroy_leaves_nothing(&tf, &check);
}

#[test]
fn a_deployment_imports_by_id_and_by_identity() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_file("app/index.mjs", &page("v1"));
    tf.write_main(&app_config("  vars = { NAME = \"world\" }", ""));
    tf.apply();
    let app = tf.resource("comwit_app.web");
    let app_id = str_of(&app, "id").to_owned();
    let deployed = tf.resource("comwit_app_deployment.web");
    let build_id = str_of(&deployed, "build_id").to_owned();
    let builds = || admin_app(&emu, &app_id)["builds"].as_array().map(Vec::len);
    let before = builds();

    // By id, into a fresh workspace with the same code: the plan only records the source.
    for by_identity in [false, true] {
        let fresh = tf.fresh();
        fresh.write_file("app/index.mjs", &page("v1"));
        let only_deployment = format!(
            "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_app_deployment\" \"web\" {{
  app_id     = \"{app_id}\"
  source_dir = \"${{path.module}}/app\"
}}
"
        );
        if by_identity {
            fresh.write_main(&format!(
                "{only_deployment}
import {{
  to       = comwit_app_deployment.web
  identity = {{ app_id = \"{app_id}\", build_id = \"{build_id}\" }}
}}
"
            ));
        } else {
            fresh.write_main(&only_deployment);
            let out = fresh.import("comwit_app_deployment.web", &format!("{app_id}/{build_id}"));
            assert!(out.combined().contains("Source not imported"), "{out}");
            let imported = fresh.resource("comwit_app_deployment.web");
            for attr in [
                "build_id",
                "source_sha256",
                "status",
                "entry",
                "active_build_id",
            ] {
                assert_eq!(imported[attr], deployed[attr], "{attr}");
            }
            let plan = assert_plan_updates_in_place(&fresh, "comwit_app_deployment.web");
            assert!(!plan.contains("build_id"), "no new build: {plan}");
        }
        fresh.apply();
        assert_eq!(
            fresh.resource("comwit_app_deployment.web")["build_id"],
            build_id.as_str()
        );
        assert_eq!(fresh.plan_detailed_exitcode(), 0);
        assert_eq!(builds(), before, "importing made no build");
    }
    let bad = tf.run(&[
        "import",
        "-no-color",
        "-input=false",
        "comwit_app_deployment.web",
        &build_id,
    ]);
    assert!(!bad.success());
    assert!(bad.combined().contains("app_id/build_id"), "{bad}");
    tf.destroy();
    no_app_left(&emu);
}

/// The standard checks for `comwit_app_deployment`, on an app made through the API with a
/// first build of its own: apply and empty plan, import (`app_id/build_id`; the source is
/// not imported, so the plan after it records the source in place without a new build),
/// an out-of-band rollback to the first build is noticed and undone, and destroy only
/// forgets the deployment (its builds live until the app is deleted).
#[test]
fn a_deployment_passes_the_standard_checks() {
    let emu = Emulator::start();
    let (status, app) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/apps",
        Some(json!({"name": "checked"})),
    );
    assert_eq!(status, 201, "{app}");
    let app_id = str_of(&app, "app_id").to_owned();
    // An absolute source directory, so the fresh workspace of the import step reads the
    // same code.
    let source = tempfile::tempdir().expect("source directory");
    let config = |version: &str| {
        std::fs::write(source.path().join("index.mjs"), page(version)).expect("write page");
        format!(
            "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_app_deployment\" \"main\" {{
  app_id     = \"{app_id}\"
  source_dir = \"{}\"
}}
",
            source.path().display()
        )
    };
    // The first build, from a workspace that is then forgotten.
    let first = Terraform::comwit(&emu);
    first.write_main(&config("v0"));
    first.apply();
    let first_build = str_of(&first.resource("comwit_app_deployment.main"), "build_id").to_owned();
    let builds = || -> Vec<String> {
        admin_app(&emu, &app_id)["builds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|b| b["build_id"].as_str().map(str::to_owned))
            .collect()
    };
    let active = || emu.api_get(&format!("/v1/apps/{app_id}"))["active_build_id"].clone();

    let config = config("v1");
    let tf = Terraform::comwit(&emu);
    let outcome = checks::lifecycle(
        &tf,
        &Check {
            address: "comwit_app_deployment.main",
            config: &config,
            import: Import::VerifyThenUpdate {
                id: Box::new(|v| format!("{}/{}", str_of(v, "app_id"), str_of(v, "build_id"))),
                not_importable: &["source_dir"],
            },
            exists: Box::new(|v| {
                assert_eq!(active(), v["build_id"], "the deployment's build serves");
                assert_eq!(v["status"], "ready", "{v:#}");
            }),
            out_of_band: OutOfBand::Change(Box::new(|_| {
                let (status, body) = emu.api(
                    Method::POST,
                    &format!("/v1/apps/{app_id}/rollback"),
                    Some(json!({"build_id": first_build})),
                );
                assert_eq!(status, 200, "{body}");
            })),
            nothing_left: Box::new(|| {
                assert_eq!(
                    builds().len(),
                    2,
                    "destroy deletes no build: {:?}",
                    builds()
                );
                assert_ne!(active(), Value::Null, "the active build keeps serving");
            }),
        },
    );
    assert_ne!(outcome.created["build_id"], first_build.as_str());
    assert_eq!(outcome.recreated["build_id"], outcome.created["build_id"]);
}
