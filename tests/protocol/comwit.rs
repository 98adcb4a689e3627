//! Protocol tests of `terraform-provider-comwit` itself: the app types' schema flags as
//! Terraform receives them, and plan-time validation over the wire (no API needed).

use crate::support::plugin_client;

use comwit::proto::tfplugin6 as pb;
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
        errs.iter()
            .any(|e| e.contains("Terraform 1.11 or later") && e.ends_with("@secrets_wo")),
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
