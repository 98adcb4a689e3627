//! Protocol tests of `terraform-provider-comwit` itself: the app and DNS types' schema flags
//! and identities as Terraform receives them, and plan-time validation over the wire (no API
//! needed).

use crate::support::plugin_client;

use platforms::proto::tfplugin6 as pb;
use plugin_client::*;
use rmpv::Value as Mp;

fn comwit_provider() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-comwit"))
}

async fn start() -> Plugin {
    Plugin::start(&comwit_provider(), Start::default()).await
}

#[tokio::test]
async fn app_types_carry_sensitive_write_only_and_computed_flags() {
    let mut p = start().await;
    let schema = p
        .provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    assert!(
        schema.diagnostics.is_empty(),
        "{:?}",
        errors(&schema.diagnostics)
    );
    let attr = |ty: &str, name: &str| -> pb::schema::Attribute {
        let block = schema.resource_schemas[ty].block.as_ref().expect("block");
        block
            .attributes
            .iter()
            .find(|a| a.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{ty}.{name}"))
    };
    let secrets = attr("comwit_app_env", "secrets");
    assert!(secrets.sensitive && !secrets.write_only);
    let wo = attr("comwit_app_env", "secrets_wo");
    assert!(wo.write_only && wo.sensitive, "{wo:?}");
    assert!(!attr("comwit_app_env", "vars").sensitive);
    assert!(attr("comwit_app_deployment", "source_sha256").computed);
    let active = attr("comwit_app_deployment", "active_build_id");
    assert!(active.optional && active.computed);
    assert!(attr("comwit_app", "default_url").computed);
    for ds in ["comwit_app", "comwit_app_builds"] {
        assert!(schema.data_source_schemas.contains_key(ds), "{ds}");
    }
}

#[tokio::test]
async fn fractional_numbers_are_judged_on_their_attribute_over_the_wire() {
    let mut p = start().await;
    // What Terraform sends for `timeout_seconds = 1.5` (a msgpack float).
    let cfg = obj(&[
        ("app_id", s("app_0123456789abcdef")),
        ("source_dir", s("/nonexistent")),
        ("source_archive", Mp::Nil),
        ("entry", Mp::Nil),
        ("timeout_seconds", Mp::F64(1.5)),
        ("source_sha256", Mp::Nil),
        ("build_id", Mp::Nil),
        ("status", Mp::Nil),
        ("active_build_id", Mp::Nil),
    ]);
    let r = p
        .provider
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "comwit_app_deployment".into(),
            config: dv(&cfg),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    let errs = errors(&r.diagnostics);
    assert!(
        errs.iter()
            .any(|e| e.contains("whole number") && e.ends_with("@timeout_seconds")),
        "{errs:?}"
    );
    assert!(
        !errs.iter().any(|e| e.contains("bug in the provider")),
        "{errs:?}"
    );
}

/// A `comwit_dns_record` config as Terraform sends it.
fn record_config(rtype: &str, value: &str, ttl: Mp, priority: Mp) -> Mp {
    obj(&[
        ("id", Mp::Nil),
        ("domain_id", s("dom_0123456789abcdef")),
        ("domain", Mp::Nil),
        ("name", s("www")),
        ("fqdn", Mp::Nil),
        ("type", s(rtype)),
        ("value", s(value)),
        ("ttl", ttl),
        ("priority", priority),
        ("weight", Mp::Nil),
        ("port", Mp::Nil),
    ])
}

#[tokio::test]
async fn dns_types_have_their_schema_and_identities() {
    let mut p = start().await;
    let schema = p
        .provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    let attr = |ty: &str, name: &str| -> pb::schema::Attribute {
        let block = schema.resource_schemas[ty].block.as_ref().expect("block");
        block
            .attributes
            .iter()
            .find(|a| a.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{ty}.{name}"))
    };
    assert!(attr("comwit_project_domain", "name_servers").computed);
    assert!(attr("comwit_project_domain", "domain").required);
    for name in ["domain_id", "name", "type", "value"] {
        assert!(attr("comwit_dns_record", name).required, "{name}");
    }
    let ttl = attr("comwit_dns_record", "ttl");
    assert!(ttl.optional && ttl.computed);
    let records = attr("comwit_app_hostname", "records");
    assert!(records.computed && !records.optional);
    let domain_id = attr("comwit_app_hostname", "domain_id");
    assert!(domain_id.optional && domain_id.computed);
    for ds in [
        "comwit_project_domain",
        "comwit_dns_records",
        "comwit_app_hostname",
    ] {
        assert!(schema.data_source_schemas.contains_key(ds), "{ds}");
    }
    let ids = p
        .provider
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("identity schemas")
        .into_inner();
    let names = |ty: &str| -> Vec<String> {
        ids.identity_schemas[ty]
            .identity_attributes
            .iter()
            .map(|a| a.name.clone())
            .collect()
    };
    assert_eq!(names("comwit_project_domain"), ["id"]);
    assert_eq!(names("comwit_dns_record"), ["domain_id", "id"]);
    assert_eq!(names("comwit_app_hostname"), ["app_id", "hostname"]);
}

#[tokio::test]
async fn dns_record_rules_are_judged_on_their_attribute_over_the_wire() {
    let mut p = start().await;
    for (cfg, want) in [
        (
            record_config("A", "2001:db8::1", Mp::Nil, Mp::Nil),
            ("IPv4 address", "@value"),
        ),
        (
            record_config("MX", "mail.example.com", Mp::Nil, Mp::Nil),
            ("required for a MX record", "@priority"),
        ),
        (
            record_config("A", "192.0.2.1", Mp::F64(300.5), Mp::Nil),
            ("whole number", "@ttl"),
        ),
        (
            record_config("A", "192.0.2.1", Mp::Nil, Mp::from(5)),
            ("has no priority", "@priority"),
        ),
        (
            record_config("SPF", "v=spf1", Mp::Nil, Mp::Nil),
            ("must be one of", "@type"),
        ),
    ] {
        let r = p
            .provider
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: "comwit_dns_record".into(),
                config: dv(&cfg),
                client_capabilities: None,
            })
            .await
            .expect("validate")
            .into_inner();
        let errs = errors(&r.diagnostics);
        assert!(
            errs.iter()
                .any(|e| e.contains(want.0) && e.ends_with(want.1)),
            "{want:?}: {errs:?}"
        );
    }
    // A long TXT value is split, not refused.
    let long = "t".repeat(700);
    let r = p
        .provider
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "comwit_dns_record".into(),
            config: dv(&record_config("TXT", &long, Mp::Nil, Mp::Nil)),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));
}

/// What Terraform sends for a `comwit_app_env` with `secrets_wo` set.
fn env_config_with_write_only_secret() -> Mp {
    obj(&[
        ("app_id", s("app_0123456789abcdef")),
        ("vars", Mp::Nil),
        ("secrets", Mp::Nil),
        (
            "secrets_wo",
            Mp::Map(vec![(s("API_KEY"), s("do-not-store-me"))]),
        ),
        ("secrets_wo_version", Mp::from(1)),
        ("authoritative", Mp::Nil),
        ("versions", Mp::Nil),
    ])
}

/// A Terraform before 1.11 (no `write_only_attributes_allowed`) would keep a write-only
/// value in state: the value is refused on its attribute, naming the version that works.
#[tokio::test]
async fn write_only_values_are_refused_by_a_terraform_that_would_store_them() {
    let mut p = start().await;
    let validate = |caps: Option<pb::ClientCapabilities>| pb::validate_resource_config::Request {
        type_name: "comwit_app_env".into(),
        config: dv(&env_config_with_write_only_secret()),
        client_capabilities: caps,
    };
    let old = p
        .provider
        .validate_resource_config(validate(None))
        .await
        .expect("validate")
        .into_inner();
    let errs = errors(&old.diagnostics);
    assert!(
        errs.iter().any(|e| e.contains("Terraform 1.11 or later")
            && e.contains("set `secrets` instead")
            && e.ends_with("@secrets_wo")),
        "{errs:?}"
    );
    assert!(
        !errs.iter().any(|e| e.contains("do-not-store-me")),
        "{errs:?}"
    );
    let new = p
        .provider
        .validate_resource_config(validate(Some(pb::ClientCapabilities {
            deferral_allowed: false,
            write_only_attributes_allowed: true,
        })))
        .await
        .expect("validate")
        .into_inner();
    let errs = errors(&new.diagnostics);
    assert!(!errs.iter().any(|e| e.contains("write-only")), "{errs:?}");
}
