//! Protocol tests of the plugin server, driven through the test-only provider
//! (`tests/provider/testing.rs`) exactly as Terraform drives a plugin.

use crate::support::plugin_client;

use std::time::Duration;

use platforms::proto::plugin as gp;
use platforms::proto::tfplugin6 as pb;
use plugin_client::*;
use rmpv::Value as Mp;

fn thing(name: &str, zone: Option<&str>) -> Mp {
    obj(&[
        ("id", Mp::Nil),
        ("name", s(name)),
        ("zone", zone.map(s).unwrap_or(Mp::Nil)),
        ("size", Mp::Nil),
        ("tags", Mp::Nil),
        ("secret", Mp::Nil),
    ])
}

/// Resource type names GetMetadata lists, in its order.
fn resource_names(md: &pb::get_metadata::Response) -> Vec<&str> {
    md.resources.iter().map(|r| r.type_name.as_str()).collect()
}

async fn start() -> Plugin {
    Plugin::start(&testing_provider(), Start::default()).await
}

#[tokio::test]
async fn handshake_line_announces_unix_socket_protocol_6_and_certificate() {
    let p = start().await;
    let h = &p.handshake;
    assert_eq!((h.core.as_str(), h.app.as_str()), ("1", "6"));
    assert_eq!(h.network, "unix");
    assert_eq!(h.protocol, "grpc");
    assert!(
        std::path::Path::new(&h.address).exists(),
        "socket {} exists",
        h.address
    );
    assert!(
        !h.cert_der.is_empty(),
        "AutoMTLS certificate in the handshake line"
    );
}

#[tokio::test]
async fn running_by_hand_explains_what_the_binary_is() {
    let out = tokio::process::Command::new(testing_provider())
        .env_remove(COOKIE.0)
        .output()
        .await
        .expect("run");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Terraform provider plugin") && err.contains("--debug"),
        "{err}"
    );
}

#[tokio::test]
async fn unsupported_protocol_versions_are_refused_with_a_message() {
    let out = tokio::process::Command::new(testing_provider())
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "4,5")
        .output()
        .await
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[4,5]") && err.contains("version 6"), "{err}");
}

#[tokio::test]
async fn a_client_with_another_certificate_is_refused() {
    let cert = ClientCert::generate();
    let env = vec![
        (COOKIE.0, COOKIE.1.to_string()),
        ("PLUGIN_CLIENT_CERT", cert.pem.clone()),
    ];
    let (_child, line, _stderr) = spawn(&testing_provider(), &env, &[]).await;
    let h = Handshake::parse(&line);
    let stranger = ClientCert::generate();
    let refused = match connect(&h, Some(&stranger)).await {
        Err(_) => true,
        Ok(ch) => {
            let mut c = pb::provider_client::ProviderClient::new(ch);
            c.get_metadata(pb::get_metadata::Request {}).await.is_err()
        }
    };
    assert!(
        refused,
        "a certificate other than PLUGIN_CLIENT_CERT must be refused"
    );
    // The announced certificate works.
    let ch = connect(&h, Some(&cert))
        .await
        .expect("connect with the announced cert");
    let mut c = pb::provider_client::ProviderClient::new(ch);
    c.get_metadata(pb::get_metadata::Request {})
        .await
        .expect("metadata");
}

#[tokio::test]
async fn tcp_transport_works_too() {
    let p = Plugin::start(
        &testing_provider(),
        Start {
            env: vec![("TF_PROVIDER_PLUGIN_NETWORK", "tcp".into())],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(p.handshake.network, "tcp");
    assert!(
        p.handshake.address.starts_with("127.0.0.1:"),
        "{}",
        p.handshake.address
    );
    let mut c = p.provider.clone();
    let md = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("metadata")
        .into_inner();
    assert_eq!(resource_names(&md), ["testing_null", "testing_thing"]);
}

#[tokio::test]
async fn schema_carries_descriptions_sensitive_flags_and_capabilities() {
    let mut p = start().await;
    let schema = p
        .provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    assert!(schema.diagnostics.is_empty());
    let caps = schema.server_capabilities.expect("capabilities");
    assert!(caps.plan_destroy && caps.get_provider_schema_optional);
    let thing = &schema.resource_schemas["testing_thing"];
    assert_eq!(thing.version, 1);
    let block = thing.block.as_ref().expect("block");
    let attr = |n: &str| block.attributes.iter().find(|a| a.name == n).expect(n);
    assert!(attr("secret").sensitive && attr("secret").computed);
    assert!(!attr("name").sensitive && attr("name").required);
    assert!(attr("size").optional && attr("size").computed);
    assert_eq!(attr("tags").r#type, br#"["map","string"]"#);
    assert!(attr("zone").description.contains("replaces"));
    assert!(schema.data_source_schemas.contains_key("testing_echo"));
    let provider = schema.provider.expect("provider schema");
    assert_eq!(provider.block.expect("block").attributes[0].name, "prefix");
    let md = p
        .provider
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("md")
        .into_inner();
    assert_eq!(resource_names(&md), ["testing_null", "testing_thing"]);
    assert_eq!(md.data_sources[0].type_name, "testing_echo");
    let ephemeral: Vec<_> = md
        .ephemeral_resources
        .iter()
        .map(|e| e.type_name.as_str())
        .collect();
    assert_eq!(
        ephemeral,
        ["testing_lease"],
        "GetMetadata lists ephemeral resources"
    );
}

#[tokio::test]
async fn configure_errors_point_at_the_attribute() {
    let mut p = start().await;
    let r = p
        .provider
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: dv(&obj(&[("prefix", s("fail"))])),
            client_capabilities: None,
        })
        .await
        .expect("configure")
        .into_inner();
    let errs = errors(&r.diagnostics);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].ends_with("@prefix"), "{errs:?}");
    let ok = p
        .provider
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: dv(&obj(&[("prefix", Mp::Nil)])),
            client_capabilities: None,
        })
        .await
        .expect("configure")
        .into_inner();
    assert!(ok.diagnostics.is_empty());
}

#[tokio::test]
async fn a_provider_panic_is_caught_from_its_stderr_and_fails_the_test() {
    let mut p = start().await;
    let answer = p
        .provider
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.15.5".into(),
            config: dv(&obj(&[("prefix", s("panic"))])),
            client_capabilities: None,
        })
        .await;
    assert!(answer.is_err(), "a panicking RPC has no answer: {answer:?}");
    let report = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(report) = p.stderr.panic_report() {
                return report;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the panic reaches the provider's stderr");
    assert!(
        report.contains("prefix `panic` panics on purpose"),
        "{report}"
    );

    // Dropping what the provider wrote fails the test ...
    let stderr = std::mem::take(&mut p.stderr);
    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(stderr)))
        .expect_err("a provider's panic fails the test");
    let message = failed.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("the provider panicked"), "{message}");
    assert!(message.contains("panics on purpose"), "{message}");
    // ... unless the test said it expects it.
    let mut expected = std::mem::take(&mut p.stderr);
    std::fs::write(expected.path(), "thread 'x' panicked at here\n").expect("write");
    expected.allow_panic();
    drop(expected);
}

#[tokio::test]
async fn validation_errors_carry_attribute_paths() {
    let mut p = start().await;
    let mut cfg = thing("bad-name", None);
    if let Mp::Map(m) = &mut cfg {
        for (k, v) in m.iter_mut() {
            if k.as_str() == Some("size") {
                *v = Mp::from(500);
            }
        }
    }
    let r = p
        .provider
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "testing_thing".into(),
            config: dv(&cfg),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    let errs = errors(&r.diagnostics);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(errs.iter().any(|e| e.ends_with("@name")), "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e.ends_with("@size") && e.contains("500")),
        "{errs:?}"
    );

    // Unknown values pass validation untouched.
    let mut unknown_cfg = thing("x", None);
    if let Mp::Map(m) = &mut unknown_cfg {
        m[1].1 = unknown();
    }
    let r = p
        .provider
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "testing_thing".into(),
            config: dv(&unknown_cfg),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    assert!(r.diagnostics.is_empty(), "{:?}", errors(&r.diagnostics));

    let r = p
        .provider
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "testing_nope".into(),
            config: dv(&cfg),
            client_capabilities: None,
        })
        .await
        .expect("validate")
        .into_inner();
    assert!(errors(&r.diagnostics)[0].contains("testing_nope"));
}

#[tokio::test]
async fn plan_apply_read_import_and_replace_paths() {
    let store = tempfile::tempdir().expect("tempdir");
    let mut p = Plugin::start(
        &testing_provider(),
        Start {
            env: vec![("TESTING_PROVIDER_STORE", store.path().display().to_string())],
            ..Default::default()
        },
    )
    .await;
    let c = &mut p.provider;
    let cfg = thing("alpha", Some("eu"));

    // Plan create: computed values unknown, default filled in.
    let plan = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "testing_thing".into(),
            prior_state: null(),
            proposed_new_state: dv(&cfg),
            config: dv(&cfg),
            ..Default::default()
        })
        .await
        .expect("plan")
        .into_inner();
    assert!(
        plan.diagnostics.is_empty(),
        "{:?}",
        errors(&plan.diagnostics)
    );
    let planned = decode(&plan.planned_state);
    assert!(is_unknown(get(&planned, "id")));
    assert!(is_unknown(get(&planned, "secret")));
    assert_eq!(get(&planned, "size").as_i64(), Some(1));

    // Apply create.
    let applied = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "testing_thing".into(),
            prior_state: null(),
            planned_state: plan.planned_state.clone(),
            config: dv(&cfg),
            planned_private: plan.planned_private.clone(),
            ..Default::default()
        })
        .await
        .expect("apply")
        .into_inner();
    assert!(applied.diagnostics.is_empty());
    let state = decode(&applied.new_state);
    assert_eq!(get(&state, "id").as_str(), Some("thing-alpha"));
    assert!(store.path().join("thing-alpha").exists());

    // Changing the zone requires replacement, and says which attribute forces it.
    let changed = thing("alpha", Some("us"));
    let plan2 = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "testing_thing".into(),
            prior_state: applied.new_state.clone(),
            proposed_new_state: dv(&changed),
            config: dv(&changed),
            ..Default::default()
        })
        .await
        .expect("plan update")
        .into_inner();
    let replace: Vec<_> = plan2
        .requires_replace
        .iter()
        .map(|p| path_text(&Some(p.clone())))
        .collect();
    assert_eq!(replace, ["zone"]);

    // Read sees it; after an out-of-band delete, read answers a null state.
    let read = c
        .read_resource(pb::read_resource::Request {
            type_name: "testing_thing".into(),
            current_state: applied.new_state.clone(),
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(
        get(&decode(&read.new_state), "name").as_str(),
        Some("alpha")
    );
    std::fs::remove_file(store.path().join("thing-alpha")).expect("delete out of band");
    let gone = c
        .read_resource(pb::read_resource::Request {
            type_name: "testing_thing".into(),
            current_state: applied.new_state.clone(),
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert!(gone.diagnostics.is_empty());
    assert_eq!(decode(&gone.new_state), Mp::Nil);

    // Import, good and bad ids.
    let imp = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "testing_thing".into(),
            id: "thing-beta".into(),
            ..Default::default()
        })
        .await
        .expect("import")
        .into_inner();
    assert_eq!(imp.imported_resources.len(), 1);
    assert_eq!(
        get(&decode(&imp.imported_resources[0].state), "name").as_str(),
        Some("beta")
    );
    let bad = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "testing_thing".into(),
            id: "beta".into(),
            ..Default::default()
        })
        .await
        .expect("import")
        .into_inner();
    assert!(bad.imported_resources.is_empty());
    assert!(errors(&bad.diagnostics)[0].contains("thing-<name>"));

    // Destroy.
    let destroyed = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "testing_thing".into(),
            prior_state: applied.new_state.clone(),
            planned_state: null(),
            config: null(),
            ..Default::default()
        })
        .await
        .expect("destroy")
        .into_inner();
    assert_eq!(decode(&destroyed.new_state), Mp::Nil);
}

#[tokio::test]
async fn plan_destroy_can_refuse() {
    let mut p = start().await;
    let mut prior = thing("keep", None);
    if let Mp::Map(m) = &mut prior {
        m[0].1 = s("thing-keep");
    }
    let r = p
        .provider
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "testing_thing".into(),
            prior_state: dv(&prior),
            proposed_new_state: null(),
            config: null(),
            ..Default::default()
        })
        .await
        .expect("plan destroy")
        .into_inner();
    let errs = errors(&r.diagnostics);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].contains("cannot be destroyed") && errs[0].ends_with("@name"));
}

#[tokio::test]
async fn data_source_reads_and_upgrade_state_reencodes_json() {
    let mut p = start().await;
    let r = p
        .provider
        .read_data_source(pb::read_data_source::Request {
            type_name: "testing_echo".into(),
            config: dv(&obj(&[("input", s("hi")), ("output", Mp::Nil)])),
            ..Default::default()
        })
        .await
        .expect("read data")
        .into_inner();
    assert_eq!(get(&decode(&r.state), "output").as_str(), Some("HI"));

    let up = p
        .provider
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "testing_thing".into(),
            version: 1,
            raw_state: Some(pb::RawState {
                json: br#"{"id":"thing-a","name":"a","zone":null,"size":3,"tags":{"k":"v"},"secret":"x"}"#.to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("upgrade")
        .into_inner();
    assert!(up.diagnostics.is_empty(), "{:?}", errors(&up.diagnostics));
    let v = decode(&up.upgraded_state);
    assert_eq!(get(&v, "size").as_i64(), Some(3));
    assert_eq!(get(get(&v, "tags"), "k").as_str(), Some("v"));

    let newer = p
        .provider
        .upgrade_resource_state(pb::upgrade_resource_state::Request {
            type_name: "testing_thing".into(),
            version: 9,
            raw_state: Some(pb::RawState {
                json: b"{}".to_vec(),
                flatmap: Default::default(),
            }),
        })
        .await
        .expect("upgrade")
        .into_inner();
    assert!(errors(&newer.diagnostics)[0].contains("newer provider"));
}

#[tokio::test]
async fn stored_identities_upgrade_and_newer_ones_are_refused() {
    let mut p = start().await;
    let c = &mut p.provider;
    let upgrade =
        |type_name: &str, version: i64, json: &[u8]| pb::upgrade_resource_identity::Request {
            type_name: type_name.into(),
            version,
            raw_identity: Some(pb::RawState {
                json: json.to_vec(),
                flatmap: Default::default(),
            }),
        };
    let ok = c
        .upgrade_resource_identity(upgrade("testing_thing", 0, br#"{"id":"thing-a"}"#))
        .await
        .expect("rpc")
        .into_inner();
    assert!(ok.diagnostics.is_empty(), "{:?}", ok.diagnostics);
    let data = ok
        .upgraded_identity
        .and_then(|i| i.identity_data)
        .expect("identity");
    assert_eq!(get(&decode(&Some(data)), "id").as_str(), Some("thing-a"));

    let newer = c
        .upgrade_resource_identity(upgrade("testing_thing", 3, br#"{"id":"thing-a"}"#))
        .await
        .expect("rpc")
        .into_inner();
    assert!(newer.upgraded_identity.is_none());
    assert!(errors(&newer.diagnostics)[0].contains("version 3"));

    let none = c
        .upgrade_resource_identity(upgrade("testing_null", 0, br#"{"id":"x"}"#))
        .await
        .expect("rpc")
        .into_inner();
    assert!(errors(&none.diagnostics)[0].contains("does not declare a resource identity"));
}

#[tokio::test]
async fn rpcs_not_used_yet_answer_not_supported_diagnostics() {
    let mut p = start().await;
    let c = &mut p.provider;
    let f = c
        .call_function(pb::call_function::Request {
            name: "nope".into(),
            arguments: vec![],
        })
        .await
        .expect("rpc answered")
        .into_inner();
    assert!(f.error.expect("error").text.contains("nope"));
    let mv = c
        .move_resource_state(pb::move_resource_state::Request::default())
        .await
        .expect("rpc answered")
        .into_inner();
    assert!(errors(&mv.diagnostics)[0].contains("not supported"));
    let lock = c
        .lock_state(pb::lock_state::Request::default())
        .await
        .expect("rpc answered")
        .into_inner();
    assert!(errors(&lock.diagnostics)[0].contains("State stores"));
}

#[tokio::test]
async fn stop_provider_then_controller_shutdown_ends_the_process() {
    let mut p = start().await;
    let stop = p
        .provider
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("stop")
        .into_inner();
    assert!(stop.error.is_empty());
    p.controller.shutdown(gp::Empty {}).await.expect("shutdown");
    let status = tokio::time::timeout(Duration::from_secs(10), p.child.wait())
        .await
        .expect("process exits after Shutdown")
        .expect("wait");
    assert!(status.success(), "{status:?}");
    assert!(
        !std::path::Path::new(&p.handshake.address).exists(),
        "socket removed on exit"
    );
}

#[tokio::test]
async fn debug_mode_prints_reattach_config_and_serves_plaintext() {
    let (mut child, first, _stderr) = spawn(&testing_provider(), &[], &["--debug"]).await;
    assert!(first.starts_with("Provider started"), "{first}");
    // The reattach JSON is a few lines further down; read it from a fresh run of the
    // same parser: the address is in the socket dir, so find it via the process' output.
    // Simpler: start with a known socket dir and look for the socket file.
    child.kill().await.expect("kill");

    let dir = tempfile::tempdir().expect("tempdir");
    let env = vec![("PLUGIN_UNIX_SOCKET_DIR", dir.path().display().to_string())];
    let (_child, _first, _stderr) = spawn(&testing_provider(), &env, &["--debug"]).await;
    let socket = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(e) = std::fs::read_dir(dir.path()).expect("dir").flatten().next() {
                return e.path();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("socket appears");
    let h = Handshake::parse(&format!("1|6|unix|{}|grpc|", socket.display()));
    let ch = connect(&h, None).await.expect("plaintext connect");
    let mut c = pb::provider_client::ProviderClient::new(ch);
    let md = c
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("metadata")
        .into_inner();
    assert_eq!(resource_names(&md), ["testing_null", "testing_thing"]);
}

#[tokio::test]
async fn ephemeral_resources_open_renew_and_close() {
    let mut p = start().await;
    let c = &mut p.provider;
    let schema = c
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    let lease = &schema.ephemeral_resource_schemas["testing_lease"];
    let block = lease.block.as_ref().expect("block");
    assert!(block
        .attributes
        .iter()
        .any(|a| a.name == "secret" && a.sensitive));

    let bad = c
        .validate_ephemeral_resource_config(pb::validate_ephemeral_resource_config::Request {
            type_name: "testing_lease".into(),
            config: dv(&obj(&[("name", s("bad")), ("secret", Mp::Nil)])),
        })
        .await
        .expect("validate")
        .into_inner();
    assert!(errors(&bad.diagnostics)[0].ends_with("@name"));

    let opened = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "testing_lease".into(),
            config: dv(&obj(&[("name", s("db")), ("secret", Mp::Nil)])),
            client_capabilities: None,
        })
        .await
        .expect("open")
        .into_inner();
    assert!(
        opened.diagnostics.is_empty(),
        "{:?}",
        errors(&opened.diagnostics)
    );
    assert_eq!(
        get(&decode(&opened.result), "secret").as_str(),
        Some("lease-db")
    );
    let renew_at = opened.renew_at.expect("renew_at");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    assert!(
        (now + 3500..=now + 3700).contains(&renew_at.seconds),
        "{renew_at:?}"
    );

    // Renew carries the private state forward.
    let mut private = opened.private.expect("private");
    for _ in 0..6 {
        let renewed = c
            .renew_ephemeral_resource(pb::renew_ephemeral_resource::Request {
                type_name: "testing_lease".into(),
                private: Some(private.clone()),
            })
            .await
            .expect("renew")
            .into_inner();
        assert!(renewed.diagnostics.is_empty());
        private = renewed.private.expect("private");
    }
    // Six renewals: close reports what the private state counted.
    let closed = c
        .close_ephemeral_resource(pb::close_ephemeral_resource::Request {
            type_name: "testing_lease".into(),
            private: Some(private),
        })
        .await
        .expect("close")
        .into_inner();
    assert!(errors(&closed.diagnostics)[0].contains("renewed too often"));

    let unknown = c
        .open_ephemeral_resource(pb::open_ephemeral_resource::Request {
            type_name: "testing_nope".into(),
            ..Default::default()
        })
        .await
        .expect("rpc answered")
        .into_inner();
    assert!(errors(&unknown.diagnostics)[0].contains("testing_nope"));
}

#[tokio::test]
async fn resource_identity_is_declared_returned_and_importable() {
    let mut p = start().await;
    let c = &mut p.provider;
    let schemas = c
        .get_resource_identity_schemas(pb::get_resource_identity_schemas::Request {})
        .await
        .expect("identity schemas")
        .into_inner();
    let id_schema = &schemas.identity_schemas["testing_thing"];
    assert_eq!(id_schema.identity_attributes[0].name, "id");
    assert!(id_schema.identity_attributes[0].required_for_import);

    let cfg = thing("gamma", None);
    let plan = c
        .plan_resource_change(pb::plan_resource_change::Request {
            type_name: "testing_thing".into(),
            prior_state: null(),
            proposed_new_state: dv(&cfg),
            config: dv(&cfg),
            ..Default::default()
        })
        .await
        .expect("plan")
        .into_inner();
    assert!(
        plan.planned_identity.is_none(),
        "id unknown at plan: no identity yet"
    );
    let applied = c
        .apply_resource_change(pb::apply_resource_change::Request {
            type_name: "testing_thing".into(),
            prior_state: null(),
            planned_state: plan.planned_state,
            config: dv(&cfg),
            ..Default::default()
        })
        .await
        .expect("apply")
        .into_inner();
    let identity = applied.new_identity.expect("identity after create");
    let data = decode(&identity.identity_data);
    assert_eq!(get(&data, "id").as_str(), Some("thing-gamma"));

    // Import by identity alone (no id string), as `import { identity = {...} }` does.
    let imp = c
        .import_resource_state(pb::import_resource_state::Request {
            type_name: "testing_thing".into(),
            id: String::new(),
            identity: Some(identity.clone()),
            ..Default::default()
        })
        .await
        .expect("import")
        .into_inner();
    assert!(imp.diagnostics.is_empty(), "{:?}", errors(&imp.diagnostics));
    let imported = &imp.imported_resources[0];
    assert_eq!(
        get(&decode(&imported.state), "name").as_str(),
        Some("gamma")
    );
    assert_eq!(imported.identity.as_ref(), Some(&identity));

    let read = c
        .read_resource(pb::read_resource::Request {
            type_name: "testing_thing".into(),
            current_state: applied.new_state,
            current_identity: Some(identity.clone()),
            ..Default::default()
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(read.new_identity, Some(identity));
}
