//! Protocol tests of `terraform-provider-wayscloud`: schema flags as Terraform receives
//! them, identities, and plan-time validation over the wire (no API needed).

use crate::support::plugin_client;

use platforms::proto::tfplugin6 as pb;
use plugin_client::*;
use rmpv::Value as Mp;

fn wayscloud_provider() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-wayscloud"))
}

async fn start() -> Plugin {
    Plugin::start(&wayscloud_provider(), Start::default()).await
}

#[tokio::test]
async fn secrets_are_sensitive_and_every_type_is_served() {
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
    let provider = schema
        .provider
        .as_ref()
        .and_then(|s| s.block.as_ref())
        .expect("provider block");
    let api_key = provider
        .attributes
        .iter()
        .find(|a| a.name == "api_key")
        .expect("api_key");
    assert!(api_key.sensitive && api_key.optional);
    let attr = |ty: &str, name: &str| -> pb::schema::Attribute {
        let block = schema.resource_schemas[ty].block.as_ref().expect("block");
        block
            .attributes
            .iter()
            .find(|a| a.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{ty}.{name}"))
    };
    for secret in ["password", "connection_string"] {
        let a = attr("wayscloud_database", secret);
        assert!(a.sensitive && a.computed && !a.optional, "{a:?}");
    }
    let limit = attr("wayscloud_database", "connection_limit");
    assert!(limit.optional && limit.computed);
    assert!(!attr("wayscloud_database", "db_name").sensitive);
    for ty in [
        "wayscloud_database",
        "wayscloud_database_firewall_rule",
        "wayscloud_database_snapshot",
        "wayscloud_database_restore",
        "wayscloud_database_backup_policy",
    ] {
        assert!(schema.resource_schemas.contains_key(ty), "{ty}");
    }
    for ds in [
        "wayscloud_database_engines",
        "wayscloud_databases",
        "wayscloud_database_info",
        "wayscloud_database_metrics",
        "wayscloud_database_credentials",
        "wayscloud_quota",
        "wayscloud_database_history",
        "wayscloud_database_snapshots",
        "wayscloud_database_firewall_rules",
        "wayscloud_database_backup_policy",
    ] {
        let block = schema
            .data_source_schemas
            .get(ds)
            .and_then(|s| s.block.as_ref())
            .unwrap_or_else(|| panic!("{ds}"));
        assert!(
            !block.attributes.iter().any(|a| a.name == "password"),
            "{ds} has a password"
        );
    }
    let identities = p
        .provider
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("identities")
        .into_inner();
    let names: Vec<&str> = identities.identity_schemas["wayscloud_database"]
        .identity_attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["db_type", "db_name"]);
}

#[tokio::test]
async fn bad_values_are_judged_on_their_attribute_over_the_wire() {
    let mut p = start().await;
    let cfg = obj(&[
        ("id", Mp::Nil),
        ("db_type", s("postgres")),
        ("requested_name", s("has space")),
        ("db_name", Mp::Nil),
        ("username", Mp::Nil),
        ("host", Mp::Nil),
        ("port", Mp::Nil),
        ("connection_limit", Mp::F64(10.5)),
        ("description", Mp::Nil),
        ("password_version", Mp::from(-1)),
        ("password", Mp::Nil),
        ("connection_string", Mp::Nil),
        ("created_at", Mp::Nil),
    ]);
    let r = p
        .provider
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "wayscloud_database".into(),
            config: dv(&cfg),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    let errs = errors(&r.diagnostics);
    for attribute in [
        "db_type",
        "requested_name",
        "connection_limit",
        "password_version",
    ] {
        assert!(
            errs.iter().any(|e| e.ends_with(&format!("@{attribute}"))),
            "{attribute}: {errs:?}"
        );
    }
    let rule = obj(&[
        ("id", Mp::Nil),
        ("db_type", s("mariadb")),
        ("db_name", s("cust_6dd1d906_my_app")),
        ("ip_address", s("10.0.0.1/24")),
        ("description", Mp::Nil),
        ("rule_id", Mp::Nil),
        ("port", Mp::Nil),
        ("created_at", Mp::Nil),
    ]);
    let r = p
        .provider
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "wayscloud_database_firewall_rule".into(),
            config: dv(&rule),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    let errs = errors(&r.diagnostics);
    assert!(
        errs.iter()
            .any(|e| e.contains("host bits") && e.ends_with("@ip_address")),
        "{errs:?}"
    );
}
