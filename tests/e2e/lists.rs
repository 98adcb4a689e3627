//! List resources with the real Terraform (1.15) against the emulator: objects made
//! through the API (outside Terraform), `terraform query` with a filter listing exactly the
//! matching ones, then `-generate-config-out`, a plan of only imports, apply, and an empty
//! plan.

use crate::query::{listed, query, query_fails};
use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};

fn created(emu: &Emulator, path: &str, body: Value) -> Value {
    let (code, answer) = emu.api(Method::POST, path, Some(body));
    assert!(code == 200 || code == 201, "{code} {answer}");
    answer
}

/// The generated configuration plans the imports and nothing else; after the apply,
/// nothing is left to do.
fn generated_round_trip(tf: &Terraform, query_file: &str, imports: usize) -> String {
    tf.run_ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = std::fs::read_to_string(tf.dir().join("generated.tf")).expect("generated.tf");
    assert_eq!(
        generated.matches("import {").count(),
        imports,
        "{generated}"
    );
    tf.remove_file(query_file);
    let plan = tf.plan();
    assert!(
        plan.stdout.contains(&format!(
            "Plan: {imports} to import, 0 to add, 0 to change, 0 to destroy."
        )),
        "{plan}\n{generated}"
    );
    tf.apply();
    assert_eq!(
        tf.plan_detailed_exitcode(),
        0,
        "nothing left after the imports"
    );
    generated
}

#[test]
fn comwit_databases_by_name_prefix_list_generate_and_import() {
    let emu = Emulator::start();
    for name in ["app-one", "app-two", "other"] {
        created(
            &emu,
            "/v1/projects/prj_local/databases",
            json!({ "name": name }),
        );
    }
    let suspended = created(
        &emu,
        "/v1/projects/prj_local/databases",
        json!({ "name": "app-old" }),
    );
    let id = suspended["database"]["database_id"]
        .as_str()
        .expect("database_id");
    let (code, body) = emu.api(Method::POST, &format!("/v1/databases/{id}/suspend"), None);
    assert_eq!(code, 200, "{body}");

    let tf = Terraform::comwit(&emu);
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let out = query(
        &tf,
        "databases.tfquery.hcl",
        r#"
list "comwit_database" "apps" {
  provider = comwit
  config {
    name_prefix = "app-"
  }
}
"#,
    );
    let lines = listed(&out, "list.comwit_database.apps");
    assert_eq!(lines.len(), 3, "{out}");
    for name in ["app-one", "app-two", "app-old"] {
        assert!(lines.iter().any(|l| l.contains(name)), "{name}: {out}");
    }
    assert!(!out.stdout.contains("other"), "{out}");

    let generated = generated_round_trip(&tf, "databases.tfquery.hcl", 3);
    // Computed values, the token, server defaults and the provider's own project are left
    // out; a suspended database says so.
    for absent in [
        "database_token",
        "database_url",
        "created_at",
        "deletion_protection",
        "project_id",
    ] {
        assert!(!generated.contains(absent), "{absent} in {generated}");
    }
    assert_eq!(generated.matches("suspended").count(), 1, "{generated}");
    assert!(generated.contains(r#""app-old""#), "{generated}");
    let db = tf
        .state_list()
        .iter()
        .map(|address| tf.resource(address))
        .find(|r| r["name"] == "app-old")
        .expect("app-old imported");
    assert_eq!(db["suspended"], true, "{db:#}");
    assert!(db["database_token"].is_null(), "{db:#}");
}

#[test]
fn comwit_dns_records_by_domain_type_and_name_list_generate_and_import() {
    let emu = Emulator::start();
    let mut domains = vec![];
    for zone in ["one.test", "two.test"] {
        let d = created(
            &emu,
            "/v1/projects/prj_local/domains",
            json!({ "domain": zone }),
        );
        domains.push(d["domain_id"].as_str().expect("domain_id").to_owned());
    }
    let record = |domain: &str, body: Value| {
        created(&emu, &format!("/v1/domains/{domain}/records"), body);
    };
    record(
        &domains[0],
        json!({"name": "www", "type": "A", "value": "192.0.2.1"}),
    );
    record(
        &domains[0],
        json!({"name": "www", "type": "AAAA", "value": "2001:db8::1"}),
    );
    record(
        &domains[0],
        json!({"name": "@", "type": "MX", "value": "mail.one.test", "priority": 10, "ttl": 600}),
    );
    record(
        &domains[1],
        json!({"name": "www", "type": "A", "value": "192.0.2.2"}),
    );
    record(
        &domains[1],
        json!({"name": "api", "type": "A", "value": "192.0.2.3"}),
    );

    let tf = Terraform::comwit(&emu);
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let query = format!(
        r#"
list "comwit_dns_record" "www_a" {{
  provider = comwit
  config {{
    type = "a"
    name = "WWW"
  }}
}}

list "comwit_dns_record" "one" {{
  provider = comwit
  config {{
    domain_id = "{}"
  }}
}}

list "comwit_dns_record" "two" {{
  provider = comwit
  config {{
    domain = "Two.Test."
  }}
}}
"#,
        domains[0]
    );
    tf.write_file("records.tfquery.hcl", &query);
    let out = tf.run_ok(&["query", "-no-color"]);
    // Every domain of the project, A records named www only.
    let www = listed(&out, "list.comwit_dns_record.www_a");
    assert_eq!(www.len(), 2, "{out}");
    assert!(
        www.iter().any(|l| l.contains("www.one.test A 192.0.2.1")),
        "{out}"
    );
    assert!(
        www.iter().any(|l| l.contains("www.two.test A 192.0.2.2")),
        "{out}"
    );
    let one = listed(&out, "list.comwit_dns_record.one");
    assert_eq!(one.len(), 3, "{out}");
    assert!(one.iter().all(|l| l.contains("one.test")), "{out}");
    let two = listed(&out, "list.comwit_dns_record.two");
    assert_eq!(two.len(), 2, "{out}");
    assert!(two.iter().all(|l| l.contains("two.test")), "{out}");

    // Generate from one domain only: its three records.
    tf.write_file(
        "records.tfquery.hcl",
        &format!(
            r#"
list "comwit_dns_record" "one" {{
  provider = comwit
  config {{
    domain_id = "{}"
  }}
}}
"#,
            domains[0]
        ),
    );
    let generated = generated_round_trip(&tf, "records.tfquery.hcl", 3);
    // The default TTL is left out, the MX's own TTL and priority are kept.
    assert_eq!(generated.matches("ttl").count(), 1, "{generated}");
    assert!(
        generated.contains("600") && generated.contains("priority"),
        "{generated}"
    );
    for absent in ["fqdn", "two.test"] {
        assert!(!generated.contains(absent), "{absent} in {generated}");
    }
}

#[test]
fn comwit_project_domains_by_suffix_list_generate_and_import() {
    let emu = Emulator::start();
    for zone in ["shop.example.test", "blog.example.test", "other.test"] {
        created(
            &emu,
            "/v1/projects/prj_local/domains",
            json!({ "domain": zone }),
        );
    }
    let tf = Terraform::comwit(&emu);
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let out = query(
        &tf,
        "domains.tfquery.hcl",
        r#"
list "comwit_project_domain" "example" {
  provider = comwit
  config {
    domain_suffix = "Example.Test."
  }
}
"#,
    );
    let lines = listed(&out, "list.comwit_project_domain.example");
    assert_eq!(lines.len(), 2, "{out}");
    assert!(!out.stdout.contains("other.test"), "{out}");
    let generated = generated_round_trip(&tf, "domains.tfquery.hcl", 2);
    for absent in [
        "name_servers",
        "delegation_status",
        "created_at",
        "other.test",
    ] {
        assert!(!generated.contains(absent), "{absent} in {generated}");
    }
}

#[test]
fn a_bad_filter_is_an_error_on_its_attribute() {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let text = query_fails(
        &tf,
        "bad.tfquery.hcl",
        r#"
list "comwit_dns_record" "bad" {
  provider = comwit
  config {
    type = "PTR"
  }
}
"#,
    );
    assert!(
        text.contains("Invalid record type") && text.contains("PTR"),
        "{text}"
    );
}

/// An app made through the API; its id.
fn app(emu: &Emulator, name: &str) -> String {
    let app = created(emu, "/v1/projects/prj_local/apps", json!({ "name": name }));
    app["app_id"].as_str().expect("app_id").to_owned()
}

#[test]
fn comwit_apps_by_name_prefix_list_generate_and_import() {
    let emu = Emulator::start();
    for name in ["web-one", "web-two", "other"] {
        app(&emu, name);
    }
    let tf = Terraform::comwit(&emu);
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let out = query(
        &tf,
        "apps.tfquery.hcl",
        r#"
list "comwit_app" "web" {
  provider = comwit
  config {
    name_prefix = "web-"
  }
}
"#,
    );
    let lines = listed(&out, "list.comwit_app.web");
    assert_eq!(lines.len(), 2, "{out}");
    for name in ["web-one", "web-two"] {
        assert!(lines.iter().any(|l| l.contains(name)), "{name}: {out}");
    }
    assert!(!out.stdout.contains("other"), "{out}");

    let generated = generated_round_trip(&tf, "apps.tfquery.hcl", 2);
    for absent in [
        "default_url",
        "default_hostname",
        "active_build_id",
        "created_at",
        "other",
    ] {
        assert!(!generated.contains(absent), "{absent} in {generated}");
    }
    let mut names: Vec<String> = tf
        .state_list()
        .iter()
        .map(|address| {
            tf.resource(address)["name"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["web-one", "web-two"]);
    // Importing made nothing new.
    let apps = emu.api_get("/v1/projects/prj_local/apps");
    assert_eq!(apps["apps"].as_array().map(Vec::len), Some(3), "{apps}");
}

#[test]
fn comwit_envs_and_hostnames_of_one_app_list_generate_and_import() {
    let emu = Emulator::start();
    let shop = app(&emu, "shop");
    let blog = app(&emu, "blog");
    // An app without variables has no environment to list.
    app(&emu, "bare");
    let put = |app: &str, key: &str, body: Value| {
        let (code, answer) = emu.api(
            Method::PUT,
            &format!("/v1/apps/{app}/env/{key}"),
            Some(body),
        );
        assert_eq!(code, 200, "{answer}");
    };
    put(&shop, "NAME", json!({"value": "wörld"}));
    put(&shop, "MODE", json!({"value": "live"}));
    put(
        &shop,
        "API_TOKEN",
        json!({"value": "s3cret-never-shown", "sensitive": true}),
    );
    put(&blog, "THEME", json!({"value": "dark"}));
    for (app, host) in [
        (&shop, "www.shop.test"),
        (&shop, "api.shop.test"),
        (&blog, "www.blog.test"),
    ] {
        created(
            &emu,
            &format!("/v1/apps/{app}/hostnames"),
            json!({"hostname": host, "dns_mode": "manual"}),
        );
    }
    // One in automatic mode: the platform writes its records into the project's zone.
    let zone = created(
        &emu,
        "/v1/projects/prj_local/domains",
        json!({"domain": "shop.example"}),
    );
    let zone_id = zone["domain_id"].as_str().expect("domain_id").to_owned();
    created(
        &emu,
        &format!("/v1/apps/{shop}/hostnames"),
        json!({"hostname": "auto.shop.example", "dns_mode": "automatic"}),
    );

    let tf = Terraform::comwit(&emu);
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let out = query(
        &tf,
        "apps.tfquery.hcl",
        &format!(
            r#"
list "comwit_app_env" "all" {{
  provider = comwit
  config {{}}
}}

list "comwit_app_env" "shop" {{
  provider = comwit
  config {{
    app_id = "{shop}"
  }}
}}

list "comwit_app_hostname" "shop" {{
  provider = comwit
  config {{
    app_id = "{shop}"
  }}
}}

list "comwit_app_hostname" "blog" {{
  provider = comwit
  config {{
    hostname_suffix = "Blog.Test."
  }}
}}
"#
        ),
    );
    let all = listed(&out, "list.comwit_app_env.all");
    assert_eq!(
        all.len(),
        2,
        "one environment per app with variables: {out}"
    );
    assert!(!out.stdout.contains("bare"), "{out}");
    let env = listed(&out, "list.comwit_app_env.shop");
    assert_eq!(env.len(), 1, "{out}");
    assert!(
        env[0].contains("shop: 2 plain variables, 1 secret"),
        "{out}"
    );
    let hosts = listed(&out, "list.comwit_app_hostname.shop");
    assert_eq!(hosts.len(), 3, "{out}");
    assert!(hosts.iter().all(|l| l.contains(".shop.")), "{out}");
    let blog_hosts = listed(&out, "list.comwit_app_hostname.blog");
    assert_eq!(blog_hosts.len(), 1, "{out}");
    assert!(blog_hosts[0].contains("www.blog.test"), "{out}");
    assert!(!out.combined().contains("s3cret"), "{out}");

    // Generate from the shop app only: its environment and its two hostnames.
    tf.write_file(
        "apps.tfquery.hcl",
        &format!(
            r#"
list "comwit_app_env" "shop" {{
  provider = comwit
  config {{
    app_id = "{shop}"
  }}
}}

list "comwit_app_hostname" "shop" {{
  provider = comwit
  config {{
    app_id = "{shop}"
  }}
}}
"#
        ),
    );
    let generated = generated_round_trip(&tf, "apps.tfquery.hcl", 4);
    assert!(
        generated.contains("wörld") && generated.contains("MODE"),
        "{generated}"
    );
    // Only the automatic hostname says its mode, and the zone it writes into.
    assert_eq!(generated.matches("dns_mode").count(), 1, "{generated}");
    assert!(generated.contains(r#""automatic""#), "{generated}");
    assert_eq!(generated.matches(&zone_id).count(), 1, "{generated}");
    // The secret is never returned, so never written; defaults and computed values are
    // left out.
    for absent in [
        "API_TOKEN",
        "s3cret",
        "authoritative",
        "versions",
        "records",
        "status",
        "blog",
    ] {
        assert!(!generated.contains(absent), "{absent} in {generated}");
    }
    // The secret is still there: the imported environment leaves what it does not name.
    let apps = emu.admin_get("/_emulator/apps");
    let keys: Vec<&str> = apps["apps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["app_id"] == shop.as_str())
        .flat_map(|a| a["env"].as_array().into_iter().flatten())
        .filter_map(|v| v["key"].as_str())
        .collect();
    assert!(keys.contains(&"API_TOKEN"), "{apps}");
}

#[test]
fn comwit_deployments_list_the_serving_build_and_import_without_a_new_build() {
    let emu = Emulator::start();
    let site = app(&emu, "site");
    app(&emu, "undeployed");
    // The build comes from another workspace (a directory outside the querying one).
    let source = tempfile::tempdir().expect("source directory");
    std::fs::write(
        source.path().join("index.mjs"),
        "export default { async fetch() { return new Response('v1'); } };\n",
    )
    .expect("write page");
    let first = Terraform::comwit(&emu);
    first.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_app_deployment\" \"site\" {{
  app_id     = \"{site}\"
  source_dir = \"{}\"
}}
",
        source.path().display()
    ));
    first.apply();
    let build_id = first.resource("comwit_app_deployment.site")["build_id"]
        .as_str()
        .expect("build_id")
        .to_owned();
    let builds = || {
        emu.api_get(&format!("/v1/apps/{site}/builds"))["builds"]
            .as_array()
            .map(Vec::len)
    };
    assert_eq!(builds(), Some(1));

    let tf = Terraform::comwit(&emu);
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let out = query(
        &tf,
        "deployments.tfquery.hcl",
        r#"
list "comwit_app_deployment" "all" {
  provider = comwit
  config {}
}
"#,
    );
    let lines = listed(&out, "list.comwit_app_deployment.all");
    assert_eq!(lines.len(), 1, "only the app with a serving build: {out}");
    assert!(
        lines[0].contains("site") && lines[0].contains(&build_id),
        "{out}"
    );

    // The source is never returned: the generated block has none, and a plan of it says
    // so on `source_dir`.
    tf.run_ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = std::fs::read_to_string(tf.dir().join("generated.tf")).expect("generated.tf");
    assert!(
        generated.contains("source_dir     = null"),
        "left for the user: {generated}"
    );
    tf.remove_file("deployments.tfquery.hcl");
    let out = tf.try_plan();
    assert!(!out.success(), "{out}");
    let text = out.combined();
    assert!(
        text.contains("Missing source") && text.contains("source_dir"),
        "{out}\n{generated}"
    );
    assert_eq!(generated.matches("import {").count(), 1, "{generated}");
    for absent in [
        "active_build_id",
        "source_sha256",
        "status",
        "entry",
        "timeout_seconds",
        "undeployed",
    ] {
        assert!(!generated.contains(absent), "{absent} in {generated}");
    }
    // With the source added (the same code), the plan imports it and records the source
    // in place; no new build.
    let with_source = generated.replace(
        "source_dir     = null",
        &format!("source_dir     = \"{}\"", source.path().display()),
    );
    tf.write_file("generated.tf", &with_source);
    let plan = tf.plan();
    assert!(
        plan.stdout
            .contains("Plan: 1 to import, 0 to add, 1 to change, 0 to destroy."),
        "{plan}\n{with_source}"
    );
    tf.apply();
    assert_eq!(
        tf.plan_detailed_exitcode(),
        0,
        "nothing left after the import"
    );
    let imported = tf
        .state_list()
        .first()
        .map(|address| tf.resource(address))
        .expect("imported");
    assert_eq!(imported["build_id"], build_id.as_str(), "{imported:#}");
    assert_eq!(builds(), Some(1), "importing made no build");
}

#[test]
fn a_list_names_a_wrong_api_url_and_survives_a_5xx() {
    let emu = Emulator::start();
    let shop = app(&emu, "shop");
    let (code, body) = emu.api(
        Method::PUT,
        &format!("/v1/apps/{shop}/env/NAME"),
        Some(json!({"value": "x"})),
    );
    assert_eq!(code, 200, "{body}");
    let tf = Terraform::comwit(&emu);
    let lists = r#"
list "comwit_app_env" "all" {
  provider = comwit
  config {}
}
"#;

    // The same emulator under a wrong path prefix: every route is unknown there.
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
provider \"comwit\" {{
  api_url = \"{}/api\"
}}
",
        emu.url().trim_end_matches('/')
    ));
    let text = query_fails(&tf, "env.tfquery.hcl", lists);
    assert!(text.contains("api_url"), "the setting is named: {text}");
    assert!(
        text.contains("/api/v1/projects/"),
        "the URL is named: {text}"
    );

    // A 5xx on the second request of the listing (the app's environment), retries off:
    // a diagnostic, no panic (the harness fails the test on one).
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
provider \"comwit\" {{
  max_retries = 0
}}
"
    ));
    emu.admin_put(
        "/_emulator/faults",
        json!({"rules": [{"method": "GET", "path_prefix": "/v1/apps/", "kind": "error", "status": 503, "times": 5}]}),
    );
    let text = query_fails(&tf, "env.tfquery.hcl", lists);
    assert!(text.contains("503"), "the answer is named: {text}");
    assert!(text.contains(&shop), "the app is named: {text}");
    emu.admin(Method::DELETE, "/_emulator/faults", None);
    let out = query(&tf, "env.tfquery.hcl", lists);
    assert_eq!(listed(&out, "list.comwit_app_env.all").len(), 1, "{out}");
}

/// A provider block with a value unknown while Terraform queries (from a resource not made
/// yet: `terraform query` applies nothing) is a clear error naming the setting, never a
/// panic.
#[test]
fn a_provider_value_unknown_during_query_is_a_clear_error() {
    let emu = Emulator::start();
    app(&emu, "shop");
    let tf = Terraform::comwit(&emu);
    let lists = r#"
list "comwit_app" "all" {
  provider = comwit
  config {}
}
"#;
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"terraform_data\" \"url\" {{
  input = \"{}\"
}}

provider \"comwit\" {{
  api_url = terraform_data.url.output
}}
",
        emu.url()
    ));
    let text = query_fails(&tf, "apps.tfquery.hcl", lists);
    assert!(
        text.contains("Provider configuration not known until apply")
            && text.contains("`api_url` is not known"),
        "{text}"
    );

    // Known again: the same query lists the app.
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let out = query(&tf, "apps.tfquery.hcl", lists);
    assert_eq!(listed(&out, "list.comwit_app.all").len(), 1, "{out}");
}

/// Terraform's `limit` stops a per-app listing after the app it needed: the environments
/// of the other apps are never fetched.
#[test]
fn a_per_app_list_fetches_no_further_than_terraform_reads() {
    let emu = Emulator::start();
    for name in ["one", "two", "three"] {
        let id = app(&emu, name);
        let (code, body) = emu.api(
            Method::PUT,
            &format!("/v1/apps/{id}/env/NAME"),
            Some(json!({"value": name})),
        );
        assert_eq!(code, 200, "{body}");
    }
    let tf = Terraform::comwit(&emu);
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    tf.write_file(
        "env.tfquery.hcl",
        r#"
list "comwit_app_env" "first" {
  provider = comwit
  limit    = 1
  config {}
}
"#,
    );
    emu.admin_post("/_emulator/stats/reset", Value::Null);
    let out = tf.run_ok(&["query", "-no-color"]);
    assert_eq!(listed(&out, "list.comwit_app_env.first").len(), 1, "{out}");
    let stats = emu.admin_get("/_emulator/stats");
    let env_reads: u64 = stats["by_route"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(route, _)| route.starts_with("GET ") && route.ends_with("/env"))
        .filter_map(|(_, n)| n.as_u64())
        .sum();
    assert_eq!(env_reads, 1, "one app's environment read: {stats}");
}

/// An API whose list answer holds a `null`, an app without a field and an app with a
/// field of another type: the good app is listed, each odd one is a warning naming it, and
/// no value of it is quoted.
#[test]
fn odd_apps_in_a_list_answer_are_skipped_with_a_warning_naming_them() {
    use support::canned_http::{Answer, CannedHttp};
    let server = CannedHttp::start(Answer::json(
        200,
        r#"{"apps": [
            null,
            {"app_id": "app_0011223344556677", "project_id": "prj_local", "name": "good",
             "default_hostname": "good-00112233.apps.localhost", "default_url": "http://good/",
             "active_build_id": null, "created_at": "2026-11-23T19:00:00Z"},
            {"app_id": "app_8899aabbccddeeff", "name": "partial"},
            {"app_id": "app_0123456789abcdef", "project_id": "prj_local", "name": "typed",
             "default_hostname": "quoted-never", "default_url": 42, "created_at": "t"}
        ]}"#,
    ));
    let tf = Terraform::builder()
        .comwit_provider()
        .env("COMWIT_API_URL", &server.url)
        .env("COMWIT_TOKEN", "cwt_00112233445566778899aabb")
        .env("COMWIT_PROJECT_ID", "prj_local")
        .build();
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let out = query(
        &tf,
        "apps.tfquery.hcl",
        r#"
list "comwit_app" "all" {
  provider = comwit
  config {}
}
"#,
    );
    let lines = listed(&out, "list.comwit_app.all");
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].contains("good"), "{out}");
    let text = out
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for warning in [
        "Skipped `app element 1 of the list`",
        "Skipped `app partial`",
        "without the field `project_id`",
        "Skipped `app typed`",
        "a value of another type",
    ] {
        assert!(text.contains(warning), "{warning}: {text}");
    }
    assert!(!text.contains("quoted-never"), "{text}");
}

/// Every list example (`examples/list-resources/<type>/list.tfquery.hcl`) passes
/// `terraform validate -query` with the provider's schemas; a filter the schema does not
/// have does not.
#[test]
fn the_list_examples_validate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/list-resources");
    let tf = Terraform::builder().comwit_provider().build();
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    let mut types = vec![];
    for entry in std::fs::read_dir(&root)
        .expect("examples/list-resources")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let example = std::fs::read_to_string(entry.path().join("list.tfquery.hcl"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(example.contains(&format!("list \"{name}\"")), "{name}");
        tf.write_file(&format!("{name}.tfquery.hcl"), &example);
        types.push(name);
    }
    assert_eq!(types.len(), 7, "{types:?}");
    tf.run_ok(&["validate", "-query", "-no-color"]);
    tf.write_file(
        "bad.tfquery.hcl",
        "list \"comwit_app\" \"bad\" {\n  provider = comwit\n  config {\n    no_such_filter = \"x\"\n  }\n}\n",
    );
    let out = tf.run(&["validate", "-query", "-no-color"]);
    assert!(!out.success(), "{out}");
    assert!(out.combined().contains("no_such_filter"), "{out}");
}
