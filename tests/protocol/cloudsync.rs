//! Protocol tests of `terraform-provider-cloudsync`: its schema flags as Terraform receives
//! them (sensitive and write-only secrets, identities), and plan-time validation over the
//! wire (no API needed).

use crate::support::plugin_client;

use platforms::proto::tfplugin6 as pb;
use plugin_client::*;
use rmpv::Value as Mp;

fn cloudsync_provider() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-cloudsync"))
}

async fn start() -> Plugin {
    Plugin::start(&cloudsync_provider(), Start::default()).await
}

#[tokio::test]
async fn secrets_are_sensitive_or_write_only_and_ids_have_identities() {
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
        .and_then(|p| p.block.as_ref())
        .expect("provider");
    assert!(provider
        .attributes
        .iter()
        .any(|a| a.name == "api_key" && a.sensitive));
    let attr = |ty: &str, name: &str| -> pb::schema::Attribute {
        let block = schema.resource_schemas[ty].block.as_ref().expect("block");
        block
            .attributes
            .iter()
            .find(|a| a.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{ty}.{name}"))
    };
    let cs = attr("cloudsync_database", "connection_string");
    // Required in one of two forms (checked at plan time): optional in the schema.
    assert!(cs.sensitive && cs.optional && !cs.write_only, "{cs:?}");
    let cs_wo = attr("cloudsync_database", "connection_string_wo");
    assert!(cs_wo.sensitive && cs_wo.write_only, "{cs_wo:?}");
    let secret = attr("cloudsync_database", "jwt_secret");
    assert!(secret.sensitive && !secret.write_only);
    let wo = attr("cloudsync_database", "jwt_secret_wo");
    assert!(wo.sensitive && wo.write_only, "{wo:?}");
    let token = attr("cloudsync_expo_access_token", "token_wo");
    assert!(token.write_only && token.sensitive);
    assert!(attr("cloudsync_expo_access_token", "token").sensitive);
    assert!(attr("cloudsync_database", "schema_name").computed);
    for ds in [
        "cloudsync_organization",
        "cloudsync_databases",
        "cloudsync_database",
        "cloudsync_database_connection",
        "cloudsync_tables",
        "cloudsync_devices",
        "cloudsync_notification_status",
    ] {
        assert!(schema.data_source_schemas.contains_key(ds), "{ds}");
    }
    let ids = p
        .provider
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("identities")
        .into_inner();
    let names = |ty: &str| -> Vec<String> {
        ids.identity_schemas[ty]
            .identity_attributes
            .iter()
            .map(|a| a.name.clone())
            .collect()
    };
    assert_eq!(names("cloudsync_table_sync"), ["database_id", "table"]);
    assert_eq!(names("cloudsync_database"), ["id"]);
    assert_eq!(names("cloudsync_expo_access_token"), ["database_id"]);
}

fn database_config(provider: &str, schema: Mp, version: Mp) -> Mp {
    obj(&[
        ("id", Mp::Nil),
        ("label", s("app")),
        (
            "connection_string",
            s("sqlitecloud://h?apikey=secret-key-1234"),
        ),
        ("database_provider", s(provider)),
        ("flavor", s("sqlitecloud")),
        ("database_name", s("appdb")),
        ("schema_name", schema),
        ("jwt_allowed_issuers", Mp::Nil),
        ("jwt_expected_audiences", Mp::Nil),
        ("jwks_uri", Mp::Nil),
        ("jwt_secret", Mp::Nil),
        ("jwt_secret_wo", Mp::Nil),
        ("jwt_secret_wo_version", version),
        ("jwt_secret_configured", Mp::Nil),
        ("workspace_id", Mp::Nil),
        ("created_at", Mp::Nil),
    ])
}

#[tokio::test]
async fn schema_name_and_fractional_versions_are_judged_on_their_attribute() {
    let mut p = start().await;
    let validate = |cfg: Mp| pb::validate_resource_config::Request {
        type_name: "cloudsync_database".into(),
        config: dv(&cfg),
        client_capabilities: None,
    };
    let r = p
        .provider
        .validate_resource_config(validate(database_config(
            "sqlitecloud",
            s("public"),
            Mp::F64(1.5),
        )))
        .await
        .expect("validate")
        .into_inner();
    let errs = errors(&r.diagnostics);
    assert!(errs.iter().any(|e| e.ends_with("@schema_name")), "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e.contains("whole number") && e.ends_with("@jwt_secret_wo_version")),
        "{errs:?}"
    );
    assert!(
        !errs.iter().any(|e| e.contains("secret-key-1234")),
        "{errs:?}"
    );
    let r = p
        .provider
        .validate_resource_config(validate(database_config("sqlitecloud", Mp::Nil, Mp::Nil)))
        .await
        .expect("validate")
        .into_inner();
    assert!(
        errors(&r.diagnostics).is_empty(),
        "{:?}",
        errors(&r.diagnostics)
    );
}
