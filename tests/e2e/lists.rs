//! List resources with the real Terraform (1.15) against the emulator: objects made
//! through the API (outside Terraform), `terraform query` with a filter listing exactly the
//! matching ones, then `-generate-config-out`, a plan of only imports, apply, and an empty
//! plan.

use crate::support;

use reqwest::Method;
use serde_json::{json, Value};
use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};

/// The lines `terraform query` prints for one list block.
fn listed(out: &support::Output, address: &str) -> Vec<String> {
    out.stdout
        .lines()
        .filter(|l| l.starts_with(address))
        .map(str::to_owned)
        .collect()
}

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
    tf.write_file(
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
    let out = tf.run_ok(&["query", "-no-color"]);
    let lines = listed(&out, "list.comwit_database.apps");
    assert_eq!(lines.len(), 3, "{out}");
    for name in ["app-one", "app-two", "app-old"] {
        assert!(lines.iter().any(|l| l.contains(name)), "{name}: {out}");
    }
    assert!(!out.stdout.contains("other"), "{out}");

    let generated = generated_round_trip(&tf, "databases.tfquery.hcl", 3);
    // Computed values, the token and server defaults are left out; a suspended database
    // says so.
    for absent in [
        "database_token",
        "database_url",
        "created_at",
        "deletion_protection",
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
    tf.write_file(
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
    let out = tf.run_ok(&["query", "-no-color"]);
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
    tf.write_file(
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
    let out = tf.run(&["query", "-no-color"]);
    assert!(!out.success(), "{out}");
    let text = out.combined();
    assert!(
        text.contains("Invalid record type") && text.contains("PTR"),
        "{text}"
    );
}
