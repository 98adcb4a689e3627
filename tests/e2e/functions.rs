//! The three providers' functions called from HCL by the real Terraform (1.15): good input
//! in `output`s, bad input an error naming the argument (and never repeating a secret),
//! and the oldest Terraform (1.6, no provider functions) still reading the providers.

use crate::support;

use support::platform::Platform;
use support::Terraform;

fn all_providers(bin: Option<std::path::PathBuf>) -> Terraform {
    let mut b = Terraform::builder();
    for p in Platform::ALL {
        b = b.platform_provider(p);
    }
    if let Some(bin) = bin {
        b = b.bin(bin);
    }
    b.build()
}

const GOOD: &str = r#"
output "libsql" {
  value = provider::comwit::libsql_url("http://127.0.0.1:8787/db/db_0123", "libsql")
}
output "https" {
  value = provider::comwit::libsql_url("libsql://orders-prj-6f1c.db.cloud.comwit.io", "http")
}
output "name" { value = provider::comwit::dns_name("WWW.Example.COM.") }
output "record_name" {
  value = provider::comwit::dns_record_name("_comwit-challenge.WWW.example.com.", "example.com")
}
output "record_value" { value = provider::comwit::dns_record_value("aaaa", "2001:DB8:0::1") }
output "same" { value = provider::comwit::dns_same_value("TXT", "\"a\" \"b\"", "ab") }

variable "pg_password" {
  type      = string
  sensitive = true
  default   = "p@ss:w/rd%ä"
}
output "ways_url" {
  value     = provider::wayscloud::connection_string("postgresql", "db.example.com", 5432, "cust_1_pg_app", "cust_1_pg_app", var.pg_password)
  sensitive = true
}
output "ways_parts" {
  value = provider::wayscloud::parse_connection_string("mysql://u%40x@DB.example.com/shop?ssl-mode=REQUIRED")
}
output "ways_round_trip" {
  value = nonsensitive(provider::wayscloud::parse_connection_string(
    provider::wayscloud::connection_string("mariadb", "::1", 3306, "d", "u", var.pg_password)
  ).password == var.pg_password)
}
output "sync_parts" {
  value = provider::cloudsync::parse_connection_string("sqlitecloud://project.sqlite.cloud:8860?apikey=xxxx")
}
output "sync_url" {
  value = provider::cloudsync::sqlitecloud_connection_string("node.example", 8860, "notes", "a+b/c")
}
output "sync_pg" {
  value = provider::cloudsync::postgres_connection_string("h.example", 5432, "app", "ü", null)
}
"#;

#[test]
fn every_function_from_hcl_with_good_input() {
    let tf = all_providers(None);
    tf.write_main(&format!(
        "{}{GOOD}",
        Platform::terraform_block(&Platform::ALL)
    ));
    tf.apply();
    let o = tf.output_json();
    let v = |name: &str| o[name]["value"].clone();
    assert_eq!(v("libsql"), "libsql://127.0.0.1:8787/db/db_0123/?tls=0");
    assert_eq!(v("https"), "https://orders-prj-6f1c.db.cloud.comwit.io");
    assert_eq!(v("name"), "www.example.com");
    assert_eq!(v("record_name"), "_comwit-challenge.www");
    assert_eq!(v("record_value"), "2001:db8::1");
    assert_eq!(v("same"), true);
    assert_eq!(
        v("ways_url"),
        "postgresql://cust_1_pg_app:p%40ss%3Aw%2Frd%25%C3%A4@db.example.com:5432/cust_1_pg_app"
    );
    assert_eq!(o["ways_url"]["sensitive"], true, "{o:#}");
    let parts = v("ways_parts");
    assert_eq!(parts["engine"], "mariadb");
    assert_eq!(parts["host"], "db.example.com");
    assert_eq!(parts["port"], 3306);
    assert_eq!(parts["database"], "shop");
    assert_eq!(parts["username"], "u@x");
    assert!(parts["password"].is_null(), "{parts}");
    assert_eq!(parts["options"]["ssl-mode"], "REQUIRED");
    assert_eq!(v("ways_round_trip"), true);
    let sync = v("sync_parts");
    assert_eq!(sync["provider"], "sqlitecloud");
    assert_eq!(sync["port"], 8860);
    assert_eq!(sync["apikey"], "xxxx");
    assert!(sync["database"].is_null(), "{sync}");
    assert_eq!(
        v("sync_url"),
        "sqlitecloud://node.example:8860/notes?apikey=a%2Bb%2Fc"
    );
    assert_eq!(v("sync_pg"), "postgres://%C3%BC@h.example:5432/app");
}

#[test]
fn bad_input_is_an_error_naming_the_argument_without_the_secret() {
    let tf = all_providers(None);
    let block = Platform::terraform_block(&Platform::ALL);
    // (call, parameter Terraform names, a piece of the provider's message)
    let cases = [
        (
            r#"provider::comwit::libsql_url("libsql://h.example", "grpc")"#,
            "form",
            "the form must be one of libsql, http, websocket",
        ),
        (
            r#"provider::comwit::dns_name("bücher.example")"#,
            "name",
            "punycode",
        ),
        (
            r#"provider::comwit::dns_record_name("www", "not a zone")"#,
            "zone",
            "domain",
        ),
        (
            r#"provider::comwit::dns_record_value("A", "300.1.2.3")"#,
            "value",
            "IPv4 address",
        ),
        (
            r#"provider::wayscloud::parse_connection_string("postgresql://u:hunter2-SECRET@h:99999/d")"#,
            "connection_string",
            "the port is not a number from 1 to 65535",
        ),
        (
            r#"provider::wayscloud::connection_string("oracle", "h", 1, "d", "u", "hunter2-SECRET")"#,
            "engine",
            "postgresql",
        ),
        (
            r#"provider::cloudsync::parse_connection_string("sqlitecloud://h?apikey=hunter2-SECRET%zz")"#,
            "connection_string",
            "not followed by two hex digits",
        ),
        (
            r#"provider::cloudsync::sqlitecloud_connection_string("h", 70000, null, "hunter2-SECRET")"#,
            "port",
            "1 to 65535",
        ),
    ];
    for (call, parameter, text) in cases {
        tf.write_main(&format!("{block}\noutput \"x\" {{\n  value = {call}\n}}\n"));
        let out = tf.try_plan();
        assert_eq!(out.code, 1, "{call}: {out}");
        let all = out.combined();
        // Terraform wraps long lines: compare with the line breaks and margins removed.
        let flat = all.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("Invalid function argument"), "{call}: {all}");
        assert!(
            flat.contains(&format!(r#"Invalid value for "{parameter}" parameter"#)),
            "{call}: {all}"
        );
        assert!(flat.contains(text), "{call}: {all}");
        // Terraform quotes the configuration line itself; the provider's message must not
        // add the secret anywhere else.
        let mentions = flat.matches("SECRET").count();
        assert!(mentions <= 1, "{call}: the secret is repeated: {all}");
    }
}

#[test]
fn terraform_1_6_reads_the_providers_and_applies_without_function_calls() {
    // Terraform 1.6 has no provider functions: it ignores them in the schema and applies
    // a configuration that does not call them.
    let tf = all_providers(Some(support::oldest_terraform_bin()));
    assert!(tf.version().contains("1.6"), "{}", tf.version());
    tf.write_main(&format!(
        "{}\noutput \"plain\" {{ value = lower(\"OK\") }}\n",
        Platform::terraform_block(&Platform::ALL)
    ));
    tf.apply();
    assert_eq!(tf.output("plain"), "ok");
    let schemas = tf.run_ok(&["providers", "schema", "-json"]);
    for t in [
        "comwit_database",
        "wayscloud_database",
        "cloudsync_database",
    ] {
        assert!(schemas.stdout.contains(&format!("\"{t}\"")), "{t}");
    }
}
