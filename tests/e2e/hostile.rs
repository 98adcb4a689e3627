//! Hostile and misdirected APIs: a provider pointed at a server that answers in ways the
//! platform never should (huge `Retry-After`, answers that drip) or at another service
//! altogether. Each must end with a diagnostic that says what happened, never a panic
//! (the harness fails a test whose provider panicked) and never "Request cancelled".

use crate::support;

use support::canned_http::{Answer, CannedHttp};
use support::{Platform, Terraform, COMWIT_TERRAFORM_BLOCK};

/// Terraform wraps diagnostics at 80 columns: compare text on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The comwit provider pointed at `url` with a well-formed token.
fn comwit_at(url: &str) -> Terraform {
    Terraform::builder()
        .comwit_provider()
        .env("COMWIT_API_URL", url)
        .env("COMWIT_TOKEN", "cwt_00112233445566778899aabb")
        .env("COMWIT_PROJECT_ID", "prj_local")
        .build()
}

#[test]
fn a_429_with_the_largest_retry_after_is_a_diagnostic_not_a_crash() {
    let server = CannedHttp::start(
        Answer::json(
            429,
            r#"{"error":{"code":"rate_limited","message":"slow down"}}"#,
        )
        .header("retry-after", "18446744073709551615"),
    );
    let tf = comwit_at(&server.url);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}\ndata \"comwit_projects\" \"all\" {{}}\n"
    ));
    let out = tf.try_plan();
    let text = one_line(&out.combined());
    assert_eq!(out.code, 1, "{out}");
    assert!(!text.contains("Request cancelled"), "{out}");
    assert!(text.contains("rate limiting"), "{out}");
    assert!(!server.requests().is_empty(), "the API was asked");
}

/// `terraform apply` of a create against an API whose answers drip: it fails (code 1)
/// within one operation deadline (2 x request_timeout_seconds = 4 s) for the create, its
/// replays and the lookups, plus Terraform's own start-up; each request used to get its
/// own. Returns the output and its text on one line.
fn apply_against_a_dripping_api(tf: &Terraform) -> (support::Output, String) {
    let started = std::time::Instant::now();
    let out = tf.try_apply();
    let took = started.elapsed();
    let text = one_line(&out.combined());
    eprintln!("apply against a dripping API took {took:?}:\n{text}");
    assert_eq!(out.code, 1, "{out}");
    assert!(
        took < std::time::Duration::from_secs(12),
        "took {took:?}\n{out}"
    );
    (out, text)
}

#[test]
fn a_create_whose_answers_drip_ends_within_one_operation_deadline() {
    // Every answer drips one byte every 200 ms: no attempt ever completes in time.
    let server = CannedHttp::start(
        Answer::json(201, &format!("{{\"padding\":\"{}\"}}", "x".repeat(400)))
            .drip(std::time::Duration::from_millis(200)),
    );
    let tf = comwit_at(&server.url);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
provider \"comwit\" {{
  request_timeout_seconds = 2
}}
resource \"comwit_database\" \"main\" {{
  name = \"orders\"
}}
"
    ));
    let (out, text) = apply_against_a_dripping_api(&tf);
    assert!(
        text.contains("whether the create took effect is unknown"),
        "{out}"
    );
    assert!(text.contains("attempts in"), "{out}");
    assert!(text.contains("create database timed out after"), "{out}");
}

#[test]
fn wayscloud_pointed_at_another_service_names_api_url_not_the_key() {
    // What the Comwit API answers a request without its bearer token.
    let server = CannedHttp::start(Answer::json(
        401,
        r#"{"error":{"code":"unauthorized","message":"missing or invalid bearer token"}}"#,
    ));
    let tf = Terraform::builder()
        .platform_provider(Platform::WaysCloud)
        .env("WAYSCLOUD_API_URL", &server.url)
        .env("WAYSCLOUD_API_KEY", "wc_test_0123456789abcdef")
        .build();
    tf.write_main(
        r#"
terraform {
  required_providers {
    wayscloud = { source = "wayscloud/wayscloud" }
  }
}
provider "wayscloud" {}
data "wayscloud_quota" "q" {}
"#,
    );
    let out = tf.try_plan();
    let text = one_line(&out.combined());
    assert_eq!(out.code, 1, "{out}");
    assert!(text.contains("is not from the WaysCloud API"), "{out}");
    assert!(text.contains("WAYSCLOUD_API_URL"), "{out}");
    assert!(!text.contains("API key was refused"), "{out}");
    assert!(!text.contains("wc_test_0123456789abcdef"), "{out}");
    assert!(!server.requests().is_empty(), "the API was asked");
}

#[test]
fn importing_an_unknown_id_says_to_check_it_not_to_remove_state() {
    let emu = support::Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}\nresource \"comwit_database\" \"main\" {{\n  name = \"orders\"\n}}\n"
    ));
    let out = tf.run(&[
        "import",
        "-no-color",
        "-input=false",
        "comwit_database.main",
        "db_00000000000000aa",
    ]);
    let text = one_line(&out.combined());
    assert!(!out.success(), "{out}");
    assert!(text.contains("db_00000000000000aa"), "{out}");
    assert!(text.contains("check the id"), "{out}");
    assert!(!text.contains("deleted outside Terraform"), "{out}");
    assert!(!text.contains("state rm"), "{out}");
}

/// A platform's provider pointed at `url` through its two environment variables.
fn provider_at(platform: Platform, env: [(&str, &str); 2]) -> Terraform {
    env.iter()
        .fold(
            Terraform::builder().platform_provider(platform),
            |b, (k, v)| b.env(k, v),
        )
        .build()
}

/// The WaysCloud and CloudSync creates, with the look before and the lookups that settle a
/// lost answer, end by one operation deadline too (2 x request_timeout_seconds), and the
/// error says what was tried.
#[test]
fn wayscloud_and_cloudsync_creates_against_a_dripping_api_end_within_one_deadline() {
    let server = CannedHttp::start(
        Answer::json(201, &format!("{{\"padding\":\"{}\"}}", "x".repeat(400)))
            .drip(std::time::Duration::from_millis(200)),
    );
    let wayscloud = provider_at(
        Platform::WaysCloud,
        [
            ("WAYSCLOUD_API_URL", &server.url),
            ("WAYSCLOUD_API_KEY", "wc_test_0123456789abcdef"),
        ],
    );
    wayscloud.write_main(
        r#"
terraform {
  required_providers {
    wayscloud = { source = "wayscloud/wayscloud" }
  }
}
provider "wayscloud" {
  request_timeout_seconds = 2
}
resource "wayscloud_database" "main" {
  db_type        = "postgresql"
  requested_name = "orders"
}
"#,
    );
    let cloudsync = provider_at(
        Platform::CloudSync,
        [
            ("CLOUDSYNC_API_URL", &server.url),
            ("CLOUDSYNC_API_KEY", "csk_0123456789abcdef0123456789abcdef"),
        ],
    );
    cloudsync.write_main(
        r#"
terraform {
  required_providers {
    cloudsync = { source = "cloudsync/cloudsync" }
  }
}
provider "cloudsync" {
  request_timeout_seconds = 2
}
resource "cloudsync_database" "main" {
  label             = "main"
  connection_string = "sqlitecloud://n.example:8860?apikey=k"
  database_provider = "sqlitecloud"
  flavor            = "sqlitecloud"
  database_name     = "appdb"
}
"#,
    );
    for tf in [&wayscloud, &cloudsync] {
        let (out, text) = apply_against_a_dripping_api(tf);
        assert!(text.contains("Tried:"), "{out}");
        assert!(text.contains("timed out after"), "{out}");
        // The provider's own tally: "N attempts in X s (one operation's limit: 4 s)".
        let spent: f64 = text
            .split(" attempts in ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no tally in {text}"));
        assert!(spent <= 4.5, "one operation took {spent} s: {text}");
    }
}

/// One `api_url` rule for every provider: a URL read from a file keeps its newline, and
/// surrounding white space is not part of it (the comwit provider refused it, the other
/// two trimmed it).
#[test]
fn an_api_url_with_a_trailing_newline_works() {
    let emu = support::Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
provider \"comwit\" {{
  api_url = \"{}\\n\"
}}
data \"comwit_project\" \"p\" {{}}
",
        emu.url()
    ));
    let out = tf.try_plan();
    assert!(out.success(), "{out}");
}
