//! Functions, list resources, generated configuration and actions (protocol 6.10+),
//! through the test-only provider over gRPC, as Terraform drives them.

use crate::support::plugin_client;

use std::time::Duration;

use platforms::proto::tfplugin6 as pb;
use plugin_client::*;
use rmpv::Value as Mp;

async fn start() -> Plugin {
    Plugin::start(&testing_provider(), Start::default()).await
}

fn args(values: &[Mp]) -> Vec<pb::DynamicValue> {
    values.iter().filter_map(dv).collect()
}

async fn call(p: &mut Plugin, name: &str, values: &[Mp]) -> pb::call_function::Response {
    p.provider
        .call_function(pb::call_function::Request {
            name: name.into(),
            arguments: args(values),
        })
        .await
        .expect("rpc")
        .into_inner()
}

#[tokio::test]
async fn functions_are_declared_and_called_with_errors_on_their_argument() {
    let mut p = start().await;
    let schema = p
        .provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    let join = &schema.functions["join"];
    assert_eq!(join.parameters.len(), 1);
    assert_eq!(join.parameters[0].r#type, br#""string""#);
    assert!(join.variadic_parameter.is_some());
    assert_eq!(
        schema.functions["port_of"]
            .r#return
            .as_ref()
            .map(|r| r.r#type.clone()),
        Some(br#""number""#.to_vec())
    );
    assert!(schema.functions["port_of"].parameters[0].allow_null_value);
    let listed = p
        .provider
        .get_functions(pb::get_functions::Request {})
        .await
        .expect("functions")
        .into_inner();
    assert_eq!(listed.functions, schema.functions);
    let md = p
        .provider
        .get_metadata(pb::get_metadata::Request {})
        .await
        .expect("metadata")
        .into_inner();
    let names: Vec<_> = md.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["join", "port_of", "upper"]);

    let up = call(&mut p, "upper", &[s("abc")]).await;
    assert!(up.error.is_none(), "{:?}", up.error);
    assert_eq!(decode(&up.result).as_str(), Some("ABC"));
    let joined = call(&mut p, "join", &[s("-"), s("a"), s("b"), s("c")]).await;
    assert_eq!(decode(&joined.result).as_str(), Some("a-b-c"));
    let port = call(&mut p, "port_of", &[s("postgres://db:5432/x")]).await;
    assert_eq!(decode(&port.result).as_u64(), Some(5432));

    // Bad input: an error on that argument, no result.
    let bad = call(&mut p, "port_of", &[s("no port here")]).await;
    assert!(bad.result.is_none());
    let e = bad.error.expect("error");
    assert_eq!(e.function_argument, Some(0));
    assert!(e.text.contains("no port here"), "{}", e.text);
    let empty = call(&mut p, "join", &[s(","), s("a"), s("")]).await;
    assert_eq!(empty.error.expect("error").function_argument, Some(2));
    let null = call(&mut p, "port_of", &[Mp::Nil]).await;
    assert_eq!(null.error.expect("error").function_argument, Some(0));
    // Wrong types and unknown values are refused on the argument, never a panic.
    for odd in [
        Mp::from(7),
        unknown(),
        Mp::Array(vec![]),
        Mp::Binary(vec![0xff]),
    ] {
        let r = call(&mut p, "upper", std::slice::from_ref(&odd)).await;
        assert_eq!(r.error.expect("error").function_argument, Some(0), "{odd}");
    }
    // Argument counts.
    let few = call(&mut p, "upper", &[]).await.error.expect("error");
    assert_eq!(few.function_argument, None);
    assert!(few.text.contains("takes 1"), "{}", few.text);
    let many = call(&mut p, "upper", &[s("a"), s("b")])
        .await
        .error
        .expect("error");
    assert!(many.text.contains("got 2"), "{}", many.text);
    let raw = p
        .provider
        .call_function(pb::call_function::Request {
            name: "upper".into(),
            arguments: vec![pb::DynamicValue {
                msgpack: vec![0xc1, 0xff],
                json: vec![],
            }],
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(raw.error.expect("error").function_argument, Some(0));
    let nope = call(&mut p, "nope", &[]).await;
    assert!(nope
        .error
        .expect("error")
        .text
        .contains("no function `nope`"));
}

fn list_request(config: Mp, include: bool, limit: i64) -> pb::list_resource::Request {
    pb::list_resource::Request {
        type_name: "testing_thing".into(),
        config: dv(&config),
        include_resource_object: include,
        limit,
    }
}

fn list_config(prefix: &str, count: Option<i64>) -> Mp {
    obj(&[
        ("prefix", s(prefix)),
        ("count", count.map_or(Mp::Nil, Mp::from)),
        ("page_size", Mp::Nil),
    ])
}

async fn collect(p: &mut Plugin, req: pb::list_resource::Request) -> Vec<pb::list_resource::Event> {
    let mut stream = p
        .provider
        .list_resource(req)
        .await
        .expect("rpc")
        .into_inner();
    let mut events = Vec::new();
    while let Some(ev) = stream.message().await.expect("stream") {
        events.push(ev);
    }
    events
}

fn identity_id(ev: &pb::list_resource::Event) -> String {
    let data = ev.identity.as_ref().and_then(|i| i.identity_data.clone());
    get(&decode(&data), "id")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_list_sends_identities_and_objects_only_when_asked() {
    let mut p = start().await;
    let schema = p
        .provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    assert!(schema.list_resource_schemas.contains_key("testing_thing"));
    assert!(
        schema
            .server_capabilities
            .expect("caps")
            .generate_resource_config
    );

    let without = collect(&mut p, list_request(list_config("a", Some(5)), false, 100)).await;
    let ids: Vec<_> = without.iter().map(identity_id).collect();
    assert_eq!(
        ids,
        ["thing-a0", "thing-a1", "thing-a2", "thing-a3", "thing-a4"]
    );
    assert!(
        without.iter().all(|e| e.resource_object.is_none()),
        "no object unless asked"
    );
    assert_eq!(without[0].display_name, "thing a0");

    let with = collect(&mut p, list_request(list_config("a", Some(2)), true, 100)).await;
    assert_eq!(with.len(), 2);
    let object = decode(&with[1].resource_object);
    assert_eq!(get(&object, "name").as_str(), Some("a1"));
    assert_eq!(get(&object, "size").as_u64(), Some(1));

    // The server stops at the limit, whatever the list would give.
    let limited = collect(&mut p, list_request(list_config("a", None), false, 4)).await;
    assert_eq!(limited.len(), 4);

    // An odd object is skipped with a warning naming it; the rest is listed.
    let odd = collect(
        &mut p,
        list_request(list_config("odd", Some(4)), false, 100),
    )
    .await;
    assert_eq!(odd.len(), 4);
    assert!(odd[1].identity.is_none());
    let warning = &odd[1].diagnostic[0];
    assert_eq!(warning.severity, pb::diagnostic::Severity::Warning as i32);
    assert!(warning.summary.contains("thing-odd1"), "{warning:?}");
    // An item without the identity an import needs: skipped by the server, named.
    assert!(odd[2].identity.is_none());
    assert!(
        odd[2].diagnostic[0].summary.contains("thing odd2"),
        "{odd:?}"
    );
    assert!(odd[2].diagnostic[0].detail.contains("no `id`"), "{odd:?}");
    assert_eq!(identity_id(&odd[3]), "thing-odd3");

    // A failing page: the items before it, then one error event, then the end.
    let failed = collect(
        &mut p,
        list_request(list_config("fail", Some(9)), false, 100),
    )
    .await;
    assert_eq!(failed.len(), 4);
    assert!(errors(&failed[3].diagnostic)[0].contains("second page fails"));

    let unknown_type = collect(
        &mut p,
        pb::list_resource::Request {
            type_name: "testing_null".into(),
            ..list_request(Mp::Nil, false, 1)
        },
    )
    .await;
    assert!(errors(&unknown_type[0].diagnostic)[0].contains("no list type `testing_null`"));

    let invalid = p
        .provider
        .validate_list_resource_config(pb::validate_list_resource_config::Request {
            type_name: "testing_thing".into(),
            config: dv(&list_config("a", Some(-1))),
            ..Default::default()
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(path_text(&invalid.diagnostics[0].attribute), "count");
    // An undecodable configuration is a diagnostic, never a panic.
    let garbage = collect(
        &mut p,
        pb::list_resource::Request {
            config: Some(pb::DynamicValue {
                msgpack: vec![0xc1],
                json: vec![],
            }),
            ..list_request(Mp::Nil, false, 1)
        },
    )
    .await;
    assert!(!errors(&garbage[0].diagnostic).is_empty());
}

fn pages_fetched(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[tokio::test]
async fn an_endless_list_stops_fetching_when_the_client_cancels() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = dir.path().join("pages");
    let mut p = Plugin::start(
        &testing_provider(),
        Start {
            env: vec![(
                "TESTING_PROVIDER_LIST_LOG",
                log.to_string_lossy().into_owned(),
            )],
            ..Default::default()
        },
    )
    .await;
    // No limit from the client (0): only cancelling ends this list.
    let mut stream = p
        .provider
        .list_resource(list_request(list_config("a", None), false, 0))
        .await
        .expect("rpc")
        .into_inner();
    for _ in 0..10 {
        stream.message().await.expect("stream").expect("an item");
    }
    drop(stream);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_cancel = pages_fetched(&log);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = pages_fetched(&log);
    assert_eq!(after_cancel, later, "pages were fetched after the cancel");
    // 10 items are 4 pages; the channel lets the list run a few pages ahead, no more.
    assert!(
        (4..=12).contains(&later),
        "{later} pages fetched for 10 items"
    );
    // The server is still fine.
    let more = collect(&mut p, list_request(list_config("b", Some(1)), false, 10)).await;
    assert_eq!(identity_id(&more[0]), "thing-b0");
}

#[tokio::test]
async fn generated_configuration_leaves_out_computed_secret_and_default_values() {
    let mut p = start().await;
    let state = obj(&[
        ("id", s("thing-a")),
        ("name", s("a")),
        ("zone", s("z1")),
        ("size", Mp::from(1)),
        ("tags", Mp::Nil),
        ("secret", s("s3cr3t-a")),
    ]);
    let out = p
        .provider
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: "testing_thing".into(),
            state: dv(&state),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    let config = decode(&out.config);
    assert_eq!(get(&config, "name").as_str(), Some("a"));
    assert_eq!(get(&config, "zone").as_str(), Some("z1"));
    for gone in ["id", "size", "secret", "tags"] {
        assert!(get(&config, gone).is_nil(), "{gone} in {config}");
    }
    // A size that is not the default stays.
    let big = obj(&[
        ("id", s("thing-b")),
        ("name", s("b")),
        ("zone", Mp::Nil),
        ("size", Mp::from(7)),
        ("tags", Mp::Nil),
        ("secret", Mp::Nil),
    ]);
    let out = p
        .provider
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: "testing_thing".into(),
            state: dv(&big),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(get(&decode(&out.config), "size").as_u64(), Some(7));
    // What the type's validation refuses is a warning on the attribute.
    let bad = obj(&[
        ("id", s("thing-bad")),
        ("name", s("bad1")),
        ("zone", Mp::Nil),
        ("size", Mp::from(1)),
        ("tags", Mp::Nil),
        ("secret", Mp::Nil),
    ]);
    let out = p
        .provider
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: "testing_thing".into(),
            state: dv(&bad),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(out.diagnostics.len(), 1);
    assert_eq!(
        out.diagnostics[0].severity,
        pb::diagnostic::Severity::Warning as i32
    );
    assert_eq!(path_text(&out.diagnostics[0].attribute), "name");
    // A null state is an error, not a panic.
    let null_state = p
        .provider
        .generate_resource_config(pb::generate_resource_config::Request {
            type_name: "testing_thing".into(),
            state: null(),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(null_state.config.is_none());
    assert!(!errors(&null_state.diagnostics).is_empty());
}

fn ping(message: &str, steps: Option<i64>) -> Option<pb::DynamicValue> {
    dv(&obj(&[
        ("message", s(message)),
        ("steps", steps.map_or(Mp::Nil, Mp::from)),
    ]))
}

async fn invoke(
    p: &mut Plugin,
    action: &str,
    config: Option<pb::DynamicValue>,
) -> Vec<pb::invoke_action::Event> {
    let mut stream = p
        .provider
        .invoke_action(pb::invoke_action::Request {
            action_type: action.into(),
            config,
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    let mut events = Vec::new();
    while let Some(ev) = stream.message().await.expect("stream") {
        events.push(ev);
    }
    events
}

/// Progress messages, and the completed event's errors (asserting exactly one, last).
fn progress_and_completion(events: &[pb::invoke_action::Event]) -> (Vec<String>, Vec<String>) {
    use pb::invoke_action::event::Type;
    assert!(
        events.iter().all(|e| e.r#type.is_some()),
        "every event has its type"
    );
    let completed: Vec<_> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match &e.r#type {
            Some(Type::Completed(c)) => Some((i, c)),
            _ => None,
        })
        .collect();
    assert_eq!(
        completed.len(),
        1,
        "exactly one completed event: {events:?}"
    );
    assert_eq!(completed[0].0, events.len() - 1, "completed comes last");
    let progress = events
        .iter()
        .filter_map(|e| match &e.r#type {
            Some(Type::Progress(p)) => Some(p.message.clone()),
            _ => None,
        })
        .collect();
    (progress, errors(&completed[0].1.diagnostics))
}

#[tokio::test]
async fn actions_stream_progress_then_one_completion() {
    let store = tempfile::tempdir().expect("tmp");
    let mut p = Plugin::start(
        &testing_provider(),
        Start {
            env: vec![(
                "TESTING_PROVIDER_STORE",
                store.path().to_string_lossy().into_owned(),
            )],
            ..Default::default()
        },
    )
    .await;
    let schema = p
        .provider
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("schema")
        .into_inner();
    assert!(schema.action_schemas["testing_x"].schema.is_some());

    let (progress, errs) =
        progress_and_completion(&invoke(&mut p, "testing_x", ping("hi", Some(3))).await);
    assert_eq!(
        progress,
        [
            "ping hi",
            "step 1 of 3",
            "step 2 of 3",
            "step 3 of 3",
            "done"
        ]
    );
    assert!(errs.is_empty(), "{errs:?}");
    let pings = std::fs::read_to_string(store.path().join("pings")).expect("the action's effect");
    assert_eq!(pings, "hi\n");

    let (progress, errs) =
        progress_and_completion(&invoke(&mut p, "testing_x", ping("fail", Some(1))).await);
    assert_eq!(progress, ["ping fail", "step 1 of 1"]);
    assert!(errs[0].contains("fails on purpose"), "{errs:?}");

    let (progress, errs) = progress_and_completion(&invoke(&mut p, "nope", ping("x", None)).await);
    assert!(progress.is_empty());
    assert!(errs[0].contains("no action type `nope`"), "{errs:?}");
    let garbage = Some(pb::DynamicValue {
        msgpack: vec![0xc1],
        json: vec![],
    });
    let (_, errs) = progress_and_completion(&invoke(&mut p, "testing_x", garbage).await);
    assert!(!errs.is_empty());

    let invalid = p
        .provider
        .validate_action_config(pb::validate_action_config::Request {
            action_type: "testing_x".into(),
            config: ping("bad", None),
        })
        .await
        .expect("rpc")
        .into_inner();
    assert_eq!(path_text(&invalid.diagnostics[0].attribute), "message");
    let planned = p
        .provider
        .plan_action(pb::plan_action::Request {
            action_type: "testing_x".into(),
            config: ping("hi", None),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    assert!(planned.diagnostics.is_empty() && planned.deferred.is_none());

    // A cancelled invocation stops: no more pings recorded.
    let mut stream = p
        .provider
        .invoke_action(pb::invoke_action::Request {
            action_type: "testing_x".into(),
            config: ping("long", Some(1000)),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    stream
        .message()
        .await
        .expect("stream")
        .expect("first progress");
    drop(stream);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let pings = std::fs::read_to_string(store.path().join("pings")).expect("pings");
    assert_eq!(pings, "hi\n", "the cancelled run did not finish");

    // StopProvider (Terraform interrupted) cancels a running action: it says so in its one
    // completed event; a later invocation runs normally.
    let mut stream = p
        .provider
        .invoke_action(pb::invoke_action::Request {
            action_type: "testing_x".into(),
            config: ping("stopped", Some(1000)),
            client_capabilities: None,
        })
        .await
        .expect("rpc")
        .into_inner();
    let mut events = vec![stream
        .message()
        .await
        .expect("stream")
        .expect("first progress")];
    p.provider
        .stop_provider(pb::stop_provider::Request {})
        .await
        .expect("stop");
    let rest = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(ev) = stream.message().await.expect("stream") {
            events.push(ev);
        }
    })
    .await;
    assert!(rest.is_ok(), "the action did not stop");
    let (_, errs) = progress_and_completion(&events);
    assert!(errs[0].contains("Ping cancelled"), "{errs:?}");
    let (progress, errs) =
        progress_and_completion(&invoke(&mut p, "testing_x", ping("again", Some(1))).await);
    assert!(
        errs.is_empty() && progress.last().map(String::as_str) == Some("done"),
        "{errs:?}"
    );
}
