//! Provider functions, `terraform query` with a list, generated configuration and actions
//! with the real Terraform (1.15), through the test-only provider.

use crate::support;

use std::path::Path;

use support::{Terraform, TESTING_TERRAFORM_BLOCK};

fn testing(store: &Path) -> Terraform {
    Terraform::builder()
        .testing_provider()
        .env("TESTING_PROVIDER_STORE", store)
        .build()
}

#[test]
fn provider_functions_from_hcl_with_good_and_bad_input() {
    let store = tempfile::tempdir().expect("tmp");
    let tf = testing(store.path());
    tf.write_main(&format!(
        r#"{TESTING_TERRAFORM_BLOCK}
output "up" {{ value = provider::testing::upper("abc") }}
output "port" {{ value = provider::testing::port_of("postgres://db:5432/app") }}
output "joined" {{ value = provider::testing::join("-", "a", "b", "c") }}
"#
    ));
    tf.apply();
    let outputs = tf.output_json();
    assert_eq!(outputs["up"]["value"], "ABC");
    assert_eq!(outputs["port"]["value"], 5432);
    assert_eq!(outputs["joined"]["value"], "a-b-c");

    // Bad input: Terraform names the parameter, with the provider's text.
    tf.write_main(&format!(
        r#"{TESTING_TERRAFORM_BLOCK}
output "port" {{ value = provider::testing::port_of("no port") }}
"#
    ));
    let out = tf.try_plan();
    assert_eq!(out.code, 1, "{out}");
    let text = out.combined();
    assert!(text.contains("Invalid function argument"), "{text}");
    assert!(text.contains(r#""url" parameter"#), "{text}");
    assert!(
        text.contains("`no port` is not a URL with a port"),
        "{text}"
    );
}

const QUERY: &str = r#"
list "testing_thing" "found" {
  provider = testing
  limit    = 4
  config {
    prefix = "q"
  }
}
"#;

#[test]
fn query_lists_then_generated_configuration_plans_only_imports() {
    let store = tempfile::tempdir().expect("tmp");
    // Objects made outside Terraform: the list yields q0, q1, ... without end; Terraform
    // stops at its limit.
    for i in 0..4 {
        std::fs::write(store.path().join(format!("thing-q{i}")), format!("q{i}")).expect("write");
    }
    let tf = testing(store.path());
    tf.write_main(TESTING_TERRAFORM_BLOCK);
    tf.write_file("things.tfquery.hcl", QUERY);
    let out = tf.run_ok(&["query", "-no-color"]);
    let lines: Vec<_> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("list.testing_thing.found"))
        .collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(
        lines[0].contains("id=thing-q0") && lines[0].contains("thing q0"),
        "{out}"
    );
    assert!(lines[3].contains("id=thing-q3"), "{out}");

    tf.run_ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let generated = std::fs::read_to_string(tf.dir().join("generated.tf")).expect("generated.tf");
    assert_eq!(
        generated.matches("resource \"testing_thing\"").count(),
        4,
        "{generated}"
    );
    assert_eq!(generated.matches("import {").count(), 4, "{generated}");
    assert!(generated.contains(r#"id = "thing-q2""#), "{generated}");
    assert!(generated.contains(r#"name     = "q2""#), "{generated}");
    // Computed-only values, secrets and server defaults are left out.
    for absent in ["s3cr3t", "secret", "size"] {
        assert!(!generated.contains(absent), "{absent} in {generated}");
    }

    // The generated configuration plans the imports and nothing else.
    tf.remove_file("things.tfquery.hcl");
    let plan = tf.plan();
    assert!(
        plan.stdout
            .contains("Plan: 4 to import, 0 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    tf.apply();
    assert_eq!(
        tf.plan_detailed_exitcode(),
        0,
        "nothing left to do after the imports"
    );
}

#[test]
fn plan_generates_configuration_for_an_import_block_that_then_plans_no_change() {
    let store = tempfile::tempdir().expect("tmp");
    std::fs::write(store.path().join("thing-made-outside"), "made-outside").expect("write");
    let tf = testing(store.path());
    tf.write_main(&format!(
        r#"{TESTING_TERRAFORM_BLOCK}
import {{
  to = testing_thing.imported
  id = "thing-made-outside"
}}
"#
    ));
    let out = tf.run_ok(&["plan", "-no-color", "-generate-config-out=generated.tf"]);
    assert!(
        out.stdout.contains("1 to import, 0 to add, 0 to change"),
        "{out}"
    );
    let generated = std::fs::read_to_string(tf.dir().join("generated.tf")).expect("generated.tf");
    assert!(
        generated.contains(r#"name = "made-outside""#),
        "{generated}"
    );
    assert!(
        !generated.contains("s3cr3t") && !generated.contains("size"),
        "{generated}"
    );
    tf.apply();
    assert_eq!(tf.plan_detailed_exitcode(), 0, "{}", tf.plan());
    assert_eq!(
        tf.resource("testing_thing.imported")["id"],
        "thing-made-outside"
    );
}

const ACTION: &str = r#"
action "testing_x" "a" {
  config {
    message = "hello"
    steps   = 2
  }
}

resource "testing_thing" "t" {
  name = var.name
  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.testing_x.a]
    }
  }
}

variable "name" {
  type    = string
  default = "first"
}
"#;

fn pings(store: &Path) -> String {
    std::fs::read_to_string(store.join("pings")).unwrap_or_default()
}

#[test]
fn actions_run_from_the_cli_and_from_triggers_with_their_progress() {
    let store = tempfile::tempdir().expect("tmp");
    let tf = testing(store.path());
    tf.write_main(&format!("{TESTING_TERRAFORM_BLOCK}{ACTION}"));

    // Triggered after create.
    let out = tf.apply();
    assert!(out.stdout.contains("Actions: 1 invoked"), "{out}");
    assert!(
        out.stdout
            .contains("Action action.testing_x.a (triggered by testing_thing.t): step 2 of 2"),
        "{out}"
    );
    assert_eq!(pings(store.path()), "hello\n");
    let state_before = tf.show_json();

    // Invoked from the CLI: progress lines in -json output, no change to state.
    let messages = tf
        .run_ok(&[
            "apply",
            "-auto-approve",
            "-json",
            "-input=false",
            "-invoke=action.testing_x.a",
        ])
        .json_lines();
    let progress: Vec<_> = messages
        .iter()
        .filter(|m| m["type"] == "action_progress")
        .filter_map(|m| m["hook"]["message"].as_str())
        .collect();
    assert_eq!(
        progress,
        ["ping hello", "step 1 of 2", "step 2 of 2", "done"]
    );
    assert!(
        messages.iter().any(|m| m["type"] == "action_complete"),
        "{messages:#?}"
    );
    assert_eq!(pings(store.path()), "hello\nhello\n");
    assert_eq!(
        tf.show_json()["values"],
        state_before["values"],
        "an action changes no state"
    );

    // Triggered after an update.
    tf.write_file("terraform.tfvars", "name = \"second\"\n");
    let out = tf.apply();
    assert!(
        out.stdout.contains("1 changed") && out.stdout.contains("Actions: 1 invoked"),
        "{out}"
    );
    assert_eq!(pings(store.path()), "hello\nhello\nhello\n");

    // A configuration the action refuses fails at plan, naming the attribute.
    tf.write_main(&format!(
        "{TESTING_TERRAFORM_BLOCK}{}",
        ACTION.replace("\"hello\"", "\"bad\"")
    ));
    let out = tf.try_plan();
    assert_eq!(out.code, 1, "{out}");
    assert!(out.combined().contains("Invalid message"), "{out}");
}

#[test]
fn terraform_1_6_without_these_features_works_as_before() {
    // Terraform 1.6 knows no functions, lists or actions: it never calls those RPCs, and
    // the schema's new fields and the generate_resource_config capability are ignored.
    let store = tempfile::tempdir().expect("tmp");
    let tf = Terraform::builder()
        .testing_provider()
        .bin(support::oldest_terraform_bin())
        .env("TESTING_PROVIDER_STORE", store.path())
        .build();
    tf.write_main(&format!(
        r#"{TESTING_TERRAFORM_BLOCK}
resource "testing_thing" "t" {{
  name = "old"
}}
data "testing_echo" "e" {{
  input = testing_thing.t.id
}}
output "echo" {{ value = data.testing_echo.e.output }}
"#
    ));
    tf.apply();
    assert_eq!(tf.output("echo"), "THING-OLD");
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    tf.destroy();
}

#[test]
fn query_skips_odd_objects_with_a_warning_and_lists_the_rest() {
    let store = tempfile::tempdir().expect("tmp");
    let tf = testing(store.path());
    tf.write_main(TESTING_TERRAFORM_BLOCK);
    tf.write_file(
        "odd.tfquery.hcl",
        r#"
list "testing_thing" "odd" {
  provider = testing
  config {
    prefix = "odd"
    count  = 4
  }
}
"#,
    );
    let out = tf.run_ok(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    let text = out.combined();
    assert!(text.contains("Skipped `thing-odd1`"), "{text}");
    assert!(text.contains("Skipped `thing odd2`"), "{text}");
    assert!(
        text.contains("id=thing-odd0") && text.contains("id=thing-odd3"),
        "{text}"
    );
    let generated = std::fs::read_to_string(tf.dir().join("generated.tf")).expect("generated.tf");
    assert_eq!(generated.matches("import {").count(), 2, "{generated}");
}
