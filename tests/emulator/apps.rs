//! Comwit apps on the real `platform-emulator` binary, over HTTP: artifacts, builds on
//! Node.js, the app gateway (by `Host`), env, rollback, scopes, long polls, idempotency,
//! delete and restarts.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::support::emulator::http_client;
use crate::support::{Emulator, EmulatorBuilder};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// An uncompressed ustar archive of `files`, written as the provider does (entries in byte
/// order of their paths, mode 0644, uid/gid 0, mtime 0).
fn ustar(files: &[(&str, &str)]) -> Vec<u8> {
    let mut files = files.to_vec();
    files.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_ustar();
        header.set_path(path).expect("path");
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_cksum();
        builder.append(&header, data.as_bytes()).expect("append");
    }
    builder.into_inner().expect("archive")
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A page that answers `text` followed by the env variables `keys` (JSON).
fn page(text: &str) -> String {
    format!(
        "export default {{ async fetch(request, env) {{\n\
         const url = new URL(request.url);\n\
         return new Response(`{text} ${{url.pathname}} ${{JSON.stringify(env)}}`, \
         {{ headers: {{ 'x-app': 'yes' }} }});\n}} }};\n"
    )
}

struct Apps {
    emu: Emulator,
    http: reqwest::Client,
}

struct Fetched {
    status: u16,
    body: String,
    headers: reqwest::header::HeaderMap,
}

impl Apps {
    async fn start() -> Apps {
        Apps::start_with(Emulator::builder()).await
    }

    async fn start_with(builder: EmulatorBuilder) -> Apps {
        let emu = builder
            .env("COMWIT_EMULATOR_LOG", "debug")
            .start_async()
            .await;
        Apps {
            emu,
            http: http_client(),
        }
    }

    fn token(&self) -> String {
        self.emu.token().to_owned()
    }

    async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (u16, Value) {
        let body = body.map(|b| b.to_string().into_bytes());
        let reply = crate::support::emulator::send(
            &self.http,
            method.clone(),
            &self.emu.url_of(path),
            token,
            headers,
            body,
        )
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        (reply.status.as_u16(), reply.body)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let token = self.token();
        self.call_with(method, path, Some(&token), body, &[]).await
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.call(method.clone(), path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path} answered {status}: {body}"
        );
        body
    }

    async fn put_artifact_with(&self, token: &str, sha: &str, bytes: Vec<u8>) -> (u16, Value) {
        let resp = self
            .http
            .put(
                self.emu
                    .url_of(&format!("/v1/projects/prj_local/artifacts/{sha}")),
            )
            .bearer_auth(token)
            .header("content-type", "application/x-tar")
            .body(bytes)
            .send()
            .await
            .expect("PUT artifact");
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn put_artifact(&self, bytes: Vec<u8>) -> (u16, Value) {
        let sha = sha256_hex(&bytes);
        self.put_artifact_with(&self.token(), &sha, bytes).await
    }

    async fn create_app(&self, name: &str) -> Value {
        self.ok(
            Method::POST,
            "/v1/projects/prj_local/apps",
            Some(json!({ "name": name })),
        )
        .await
    }

    /// Uploads `files`, starts a build and waits for it to end (long poll).
    async fn deploy(&self, app_id: &str, files: &[(&str, &str)], activate: bool) -> Value {
        let bytes = ustar(files);
        let sha = sha256_hex(&bytes);
        let (status, body) = self.put_artifact(bytes).await;
        assert!(status == 201 || status == 200, "{status} {body}");
        let (status, build) = self
            .call(
                Method::POST,
                &format!("/v1/apps/{app_id}/builds"),
                Some(json!({"artifact_sha256": sha, "activate": activate})),
            )
            .await;
        assert_eq!(status, 202, "{build}");
        assert_eq!(build["status"], "queued", "{build}");
        self.wait(app_id, build["build_id"].as_str().expect("build_id"))
            .await
    }

    async fn wait(&self, app_id: &str, build_id: &str) -> Value {
        self.ok(
            Method::GET,
            &format!("/v1/apps/{app_id}/builds/{build_id}?wait_seconds=30"),
            None,
        )
        .await
    }

    async fn log(&self, app_id: &str, build_id: &str) -> String {
        let body = self
            .ok(
                Method::GET,
                &format!("/v1/apps/{app_id}/builds/{build_id}/log"),
                None,
            )
            .await;
        body["log"].as_str().unwrap_or_default().to_owned()
    }

    /// A request to the app gateway for `host` (its `Host` header).
    async fn fetch_host(&self, host: &str, path: &str) -> Fetched {
        let resp = self
            .http
            .get(format!("{}{path}", self.emu.apps_url()))
            .header("host", host)
            .send()
            .await
            .expect("gateway request");
        Fetched {
            status: resp.status().as_u16(),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap_or_default(),
        }
    }

    /// A request to an app through the gateway (`Host: <default_hostname>:<port>`).
    async fn fetch(&self, app: &Value, path: &str) -> Fetched {
        let url = app["default_url"].as_str().expect("default_url");
        let host = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        self.fetch_host(&host, path).await
    }

    async fn admin_app(&self, app_id: &str) -> Value {
        let emu_secret = self.emu.admin_secret().to_owned();
        let (status, body) = self
            .call_with(
                Method::GET,
                "/_emulator/apps",
                None,
                None,
                &[("X-Emulator-Admin", &emu_secret)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["apps"]
            .as_array()
            .and_then(|apps| apps.iter().find(|a| a["app_id"] == app_id).cloned())
            .unwrap_or(Value::Null)
    }

    async fn token_with(&self, scopes: &[&str], projects: &[&str]) -> String {
        let secret = self.emu.admin_secret().to_owned();
        let (status, body) = self
            .call_with(
                Method::POST,
                "/_emulator/tokens",
                None,
                Some(json!({"scopes": scopes, "projects": projects})),
                &[("X-Emulator-Admin", &secret)],
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().expect("token").to_owned()
    }
}

fn process_exists(pid: u64) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_serves_then_a_second_build_then_rollback() -> TestResult {
    let t = Apps::start().await;
    let app = t.create_app("web").await;
    let app_id = app["app_id"].as_str().ok_or("app_id")?.to_owned();
    assert!(app_id.starts_with("app_") && app_id.len() == 20, "{app}");
    let host = format!("web-{}.apps.localhost", &app_id[4..12]);
    assert_eq!(app["default_hostname"], host.as_str());
    let gateway_port = t.emu.apps_url().rsplit(':').next().ok_or("port")?;
    assert_eq!(
        app["default_url"],
        format!("http://{host}:{gateway_port}/").as_str()
    );
    assert_eq!(app["active_build_id"], Value::Null);

    // No build yet: 503 with the contract's text; an unknown host: 404.
    let none = t.fetch(&app, "/").await;
    assert_eq!(none.status, 503);
    assert_eq!(none.body.trim(), "app web has no active build");
    let unknown = t.fetch_host("nope.apps.localhost", "/").await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.body.trim(), "no app serves nope.apps.localhost");
    // Every answer of the gateway, as of every listener, names the emulator's version.
    for answer in [&none, &unknown] {
        assert_eq!(
            answer
                .headers
                .get("x-emulator-version")
                .and_then(|v| v.to_str().ok()),
            Some(env!("CARGO_PKG_VERSION")),
            "{:?}",
            answer.headers
        );
    }

    // The artifact: 201 the first time, 200 after; HEAD knows it.
    let v1 = ustar(&[("index.mjs", &page("v1"))]);
    let sha1 = sha256_hex(&v1);
    let (status, body) = t.put_artifact(v1.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body, json!({"sha256": sha1, "size": v1.len()}));
    assert_eq!(t.put_artifact(v1.clone()).await.0, 200);
    let path = format!("/v1/projects/prj_local/artifacts/{sha1}");
    assert_eq!(t.call(Method::HEAD, &path, None).await.0, 200);
    let other = format!("/v1/projects/prj_local/artifacts/{}", "0".repeat(64));
    assert_eq!(t.call(Method::HEAD, &other, None).await.0, 404);

    let b1 = t.deploy(&app_id, &[("index.mjs", &page("v1"))], true).await;
    assert_eq!(b1["status"], "ready", "{b1}");
    assert_eq!(b1["active"], true, "{b1}");
    assert_eq!(b1["error"], Value::Null);
    assert!(b1["finished_at"].is_string() && b1["started_at"].is_string());
    let b1_id = b1["build_id"].as_str().ok_or("build_id")?.to_owned();
    let got = t.fetch(&app, "/hello?x=1").await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body, "v1 /hello {}");
    assert_eq!(
        got.headers.get("x-app").map(|v| v.as_bytes()),
        Some(&b"yes"[..])
    );
    let again = t.ok(Method::GET, &format!("/v1/apps/{app_id}"), None).await;
    assert_eq!(again["active_build_id"], b1_id.as_str());

    // A second build serves on the very next request once it reads ready.
    let b2 = t
        .deploy(
            &app_id,
            &[("index.mjs", "import { word } from './lib/word.mjs';\nexport default { fetch() { return new Response(word); } };\n"),
              ("lib/word.mjs", "export const word = 'v2';\n")],
            true,
        )
        .await;
    assert_eq!(b2["status"], "ready", "{b2}");
    let b2_id = b2["build_id"].as_str().ok_or("build_id")?.to_owned();
    assert_eq!(t.fetch(&app, "/").await.body, "v2");

    let list = t
        .ok(Method::GET, &format!("/v1/apps/{app_id}/builds"), None)
        .await;
    let ids: Vec<&str> = list["builds"]
        .as_array()
        .ok_or("builds")?
        .iter()
        .filter_map(|b| b["build_id"].as_str())
        .collect();
    assert_eq!(ids, vec![b2_id.as_str(), b1_id.as_str()], "newest first");
    assert_eq!(list["builds"][0]["active"], true);
    assert_eq!(list["builds"][1]["active"], false);

    // Rollback to v1 answers the app once v1 serves.
    let rolled = t
        .ok(
            Method::POST,
            &format!("/v1/apps/{app_id}/rollback"),
            Some(json!({"build_id": b1_id})),
        )
        .await;
    assert_eq!(rolled["active_build_id"], b1_id.as_str());
    assert_eq!(t.fetch(&app, "/").await.body, "v1 / {}");
    // Rolling back to the active build is a no-op; forward to v2 works too.
    let same = t
        .ok(
            Method::POST,
            &format!("/v1/apps/{app_id}/rollback"),
            Some(json!({"build_id": b1_id})),
        )
        .await;
    assert_eq!(same["active_build_id"], b1_id.as_str());
    t.ok(
        Method::POST,
        &format!("/v1/apps/{app_id}/rollback"),
        Some(json!({"build_id": b2_id})),
    )
    .await;
    assert_eq!(t.fetch(&app, "/").await.body, "v2");

    // One worker per app: the admin view names the active build's worker.
    let admin = t.admin_app(&app_id).await;
    assert_eq!(admin["worker_build_id"], b2_id.as_str(), "{admin}");
    assert!(admin["worker_pid"].as_u64().is_some_and(process_exists));

    // A build with activate=false is kept and not served.
    let b3 = t
        .deploy(&app_id, &[("index.mjs", &page("v3"))], false)
        .await;
    assert_eq!(b3["status"], "ready");
    assert_eq!(b3["active"], false);
    assert_eq!(t.fetch(&app, "/").await.body, "v2");

    // Stats are keyed by the matched route.
    let stats = t.emu.admin_get("/_emulator/stats");
    assert!(
        stats["by_route"]["POST /v1/apps/{app}/builds"].as_u64() >= Some(3),
        "{stats}"
    );
    assert!(stats["by_route"]["PUT /v1/projects/{project}/artifacts/{sha256}"].as_u64() >= Some(3));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_builds_say_why_and_the_previous_build_keeps_serving() -> TestResult {
    let t = Apps::start().await;
    let app = t.create_app("fails").await;
    let app_id = app["app_id"].as_str().ok_or("app_id")?.to_owned();
    let good = t
        .deploy(&app_id, &[("index.mjs", &page("good"))], true)
        .await;
    assert_eq!(good["status"], "ready");
    let good_id = good["build_id"].as_str().ok_or("build_id")?.to_owned();

    // A syntax error in an imported file: the log names the file and line.
    let bad = t
        .deploy(
            &app_id,
            &[
                ("index.mjs", "import './broken.mjs';\nexport default { fetch() { return new Response('x'); } };\n"),
                ("broken.mjs", "const x = ;\n"),
            ],
            true,
        )
        .await;
    assert_eq!(bad["status"], "failed", "{bad}");
    assert_eq!(bad["active"], false);
    let error = bad["error"].as_str().ok_or("error")?;
    assert!(!error.contains('\n'), "one line: {error}");
    assert!(error.contains("SyntaxError"), "{error}");
    let bad_id = bad["build_id"].as_str().ok_or("build_id")?;
    let log = t.log(&app_id, bad_id).await;
    assert!(log.contains("broken.mjs:1"), "{log}");
    assert!(log.contains("SyntaxError"), "{log}");
    assert!(
        !log.contains(t.emu.state_dir().to_string_lossy().as_ref()),
        "{log}"
    );
    assert_eq!(t.fetch(&app, "/").await.body, "good / {}");
    let now = t.ok(Method::GET, &format!("/v1/apps/{app_id}"), None).await;
    assert_eq!(now["active_build_id"], good_id.as_str());

    // tail_lines answers the last lines only.
    let tail = t
        .ok(
            Method::GET,
            &format!("/v1/apps/{app_id}/builds/{bad_id}/log?tail_lines=2"),
            None,
        )
        .await;
    let tail_log = tail["log"].as_str().ok_or("log")?;
    assert_eq!(tail_log.lines().count(), 2, "{tail_log}");
    assert!(log.ends_with(tail_log));
    assert_eq!(tail["truncated"], false);
    assert_eq!(tail["build_id"], bad_id);
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/apps/{app_id}/builds/{bad_id}/log?tail_lines=0"),
            None,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &json!("tail_lines"))
    );

    // A failed build cannot be rolled back to.
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/apps/{app_id}/rollback"),
            Some(json!({"build_id": bad_id})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "build_not_ready");

    // No fetch export; a missing entry; an exception at load.
    let no_fetch = t
        .deploy(
            &app_id,
            &[("index.mjs", "export default { hello() {} };\n")],
            true,
        )
        .await;
    assert_eq!(no_fetch["status"], "failed");
    assert!(
        no_fetch["error"]
            .as_str()
            .is_some_and(|e| e.contains("no fetch function")),
        "{no_fetch}"
    );
    let no_entry = t.deploy(&app_id, &[("main.mjs", &page("x"))], true).await;
    assert_eq!(no_entry["status"], "failed");
    assert_eq!(
        no_entry["error"],
        "entry index.mjs not found in the artifact"
    );
    let throws = t
        .deploy(
            &app_id,
            &[("index.mjs", "throw new Error('boom at load');\n")],
            true,
        )
        .await;
    assert_eq!(throws["status"], "failed");
    assert!(
        throws["error"]
            .as_str()
            .is_some_and(|e| e.contains("boom at load")),
        "{throws}"
    );
    assert_eq!(t.fetch(&app, "/").await.body, "good / {}");

    // fetch throwing answers 500 (the app's log keeps the error).
    let thrower = t
        .deploy(
            &app_id,
            &[(
                "index.mjs",
                "export default { fetch() { throw new Error('kaput'); } };\n",
            )],
            true,
        )
        .await;
    assert_eq!(thrower["status"], "ready");
    assert_eq!(t.fetch(&app, "/").await.status, 500);
    let folder = t.admin_app(&app_id).await["folder"]
        .as_str()
        .ok_or("folder")?
        .to_owned();
    let worker_log = std::fs::read_to_string(std::path::Path::new(&folder).join("worker.log"))?;
    assert!(worker_log.contains("kaput"), "{worker_log}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn env_reaches_the_page_and_sensitive_values_never_leave() -> TestResult {
    let t = Apps::start_with(
        Emulator::builder().env("COMWIT_EMULATOR_ADMIN_SECRET", "admin-secret-not-for-apps"),
    )
    .await;
    let app = t.create_app("envy").await;
    let app_id = app["app_id"].as_str().ok_or("app_id")?.to_owned();
    let secret = "s3cr3t-value-9f8e7d";
    let plain = t
        .ok(
            Method::PUT,
            &format!("/v1/apps/{app_id}/env/NAME"),
            Some(json!({"value": "world"})),
        )
        .await;
    assert_eq!(plain["value"], "world");
    assert_eq!(plain["sensitive"], false);
    assert_eq!(plain["version"], 1);
    let hidden = t
        .ok(
            Method::PUT,
            &format!("/v1/apps/{app_id}/env/DB_TOKEN"),
            Some(json!({"value": secret, "sensitive": true})),
        )
        .await;
    assert_eq!(hidden["value"], Value::Null);
    assert_eq!(hidden["sensitive"], true);
    assert_eq!(hidden["version"], 1);

    let build = t
        .deploy(&app_id, &[("index.mjs", &page("env"))], true)
        .await;
    assert_eq!(build["status"], "ready");
    let body = t.fetch(&app, "/").await.body;
    assert!(body.contains("\"NAME\":\"world\""), "{body}");

    // The emulator's own settings never reach an app's process.
    let probe = t.create_app("probe").await;
    let probe_id = probe["app_id"].as_str().ok_or("app_id")?;
    let b = t
        .deploy(
            probe_id,
            &[("index.mjs", "export default { fetch() { return new Response(Object.keys(process.env).filter((k) => k.startsWith('COMWIT_')).join(',') || 'none'); } };\n")],
            true,
        )
        .await;
    assert_eq!(b["status"], "ready");
    assert_eq!(t.fetch(&probe, "/").await.body, "none");
    assert!(
        body.contains(secret),
        "the runtime gets the sensitive value: {body}"
    );

    // A change applies on the next request, without a new build; versions grow.
    let bumped = t
        .ok(
            Method::PUT,
            &format!("/v1/apps/{app_id}/env/NAME"),
            Some(json!({"value": "line1\nline2"})),
        )
        .await;
    assert_eq!(bumped["version"], 2);
    let body = t.fetch(&app, "/").await.body;
    assert!(body.contains("line1\\nline2"), "{body}");
    let again = t
        .ok(
            Method::PUT,
            &format!("/v1/apps/{app_id}/env/DB_TOKEN"),
            Some(json!({"value": secret, "sensitive": true})),
        )
        .await;
    assert_eq!(again["version"], 2);

    let list = t
        .ok(Method::GET, &format!("/v1/apps/{app_id}/env"), None)
        .await;
    let keys: Vec<&str> = list["env"]
        .as_array()
        .ok_or("env")?
        .iter()
        .filter_map(|v| v["key"].as_str())
        .collect();
    assert_eq!(keys, vec!["DB_TOKEN", "NAME"], "ordered by key");
    assert_eq!(list["env"][0]["value"], Value::Null);
    assert_eq!(list["env"][1]["value"], "line1\nline2");

    // Validation.
    for (key, body, field) in [
        ("COMWIT_X", json!({"value": "v"}), "key"),
        ("1ABC", json!({"value": "v"}), "key"),
        ("OK", json!({"value": 5}), "value"),
        ("OK", json!({}), "value"),
        ("OK", json!({"value": "x".repeat(65_537)}), "value"),
        ("OK", json!({"value": "v", "sensitive": "yes"}), "sensitive"),
    ] {
        let (status, reply) = t
            .call(
                Method::PUT,
                &format!("/v1/apps/{app_id}/env/{key}"),
                Some(body),
            )
            .await;
        assert_eq!(status, 422, "{key}: {reply}");
        assert_eq!(reply["error"]["field"], field, "{key}: {reply}");
    }

    // Delete: gone from the page; an unknown key is 404.
    let (status, _) = t
        .call(Method::DELETE, &format!("/v1/apps/{app_id}/env/NAME"), None)
        .await;
    assert_eq!(status, 204);
    let body = t.fetch(&app, "/").await.body;
    assert!(!body.contains("NAME"), "{body}");
    let (status, reply) = t
        .call(Method::DELETE, &format!("/v1/apps/{app_id}/env/NAME"), None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(reply["error"]["code"], "not_found");

    // No route, admin answer or log line carries the sensitive value.
    let build_id = build["build_id"].as_str().ok_or("build_id")?;
    let mut answers = vec![
        t.ok(Method::GET, &format!("/v1/apps/{app_id}/env"), None)
            .await,
        t.ok(Method::GET, &format!("/v1/apps/{app_id}"), None).await,
        t.ok(Method::GET, &format!("/v1/apps/{app_id}/builds"), None)
            .await,
        t.ok(
            Method::GET,
            &format!("/v1/apps/{app_id}/builds/{build_id}"),
            None,
        )
        .await,
        t.ok(
            Method::GET,
            &format!("/v1/apps/{app_id}/builds/{build_id}/log"),
            None,
        )
        .await,
        t.ok(Method::GET, "/v1/projects/prj_local/apps", None).await,
    ];
    answers.push(t.emu.admin_get("/_emulator/apps"));
    for answer in answers {
        assert!(!answer.to_string().contains(secret), "{answer}");
    }
    assert!(
        !t.emu.log().contains(secret),
        "the emulator log names a sensitive value"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn scopes_foreign_apps_and_artifact_checks() -> TestResult {
    let t = Apps::start().await;
    let app = t.create_app("guarded").await;
    let app_id = app["app_id"].as_str().ok_or("app_id")?.to_owned();
    let bytes = ustar(&[("index.mjs", &page("x"))]);
    let sha = sha256_hex(&bytes);

    // No app:deploy: 403 naming the scope, for builds, rollback and artifacts.
    let writer = t
        .token_with(&["app:read", "app:write"], &["prj_local"])
        .await;
    let (status, body) = t
        .call_with(
            Method::POST,
            &format!("/v1/apps/{app_id}/builds"),
            Some(&writer),
            Some(json!({"artifact_sha256": sha})),
            &[],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    assert_eq!(body["error"]["required_scope"], "app:deploy");
    let (status, body) = t.put_artifact_with(&writer, &sha, bytes.clone()).await;
    assert_eq!(
        (status, &body["error"]["required_scope"]),
        (403, &json!("app:deploy"))
    );
    let (status, body) = t
        .call_with(
            Method::POST,
            &format!("/v1/apps/{app_id}/rollback"),
            Some(&writer),
            Some(json!({"build_id": "bld_0"})),
            &[],
        )
        .await;
    assert_eq!(
        (status, &body["error"]["required_scope"]),
        (403, &json!("app:deploy"))
    );
    // app:read only: no env writes, no create.
    let reader = t.token_with(&["app:read"], &["prj_local"]).await;
    let (status, body) = t
        .call_with(
            Method::PUT,
            &format!("/v1/apps/{app_id}/env/A"),
            Some(&reader),
            Some(json!({"value": "v"})),
            &[],
        )
        .await;
    assert_eq!(
        (status, &body["error"]["required_scope"]),
        (403, &json!("app:write"))
    );
    let (status, _) = t
        .call_with(
            Method::GET,
            &format!("/v1/apps/{app_id}/env"),
            Some(&reader),
            None,
            &[],
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = t
        .call_with(Method::GET, &format!("/v1/apps/{app_id}"), None, None, &[])
        .await;
    assert_eq!(status, 401);

    // A token of another project: the app answers as an unknown one.
    let secret = t.emu.admin_secret().to_owned();
    let (status, _) = t
        .call_with(
            Method::POST,
            "/_emulator/projects",
            None,
            Some(json!({"name": "other", "project_id": "prj_other"})),
            &[("X-Emulator-Admin", &secret)],
        )
        .await;
    assert_eq!(status, 201);
    let outsider = t
        .token_with(&["app:read", "app:write", "app:deploy"], &["prj_other"])
        .await;
    let (foreign_status, foreign) = t
        .call_with(
            Method::GET,
            &format!("/v1/apps/{app_id}"),
            Some(&outsider),
            None,
            &[],
        )
        .await;
    let unknown_id = "app_00000000deadbeef";
    let (unknown_status, unknown) = t
        .call_with(
            Method::GET,
            &format!("/v1/apps/{unknown_id}"),
            Some(&outsider),
            None,
            &[],
        )
        .await;
    assert_eq!((foreign_status, unknown_status), (404, 404));
    assert_eq!(foreign["error"]["code"], "not_found");
    assert_eq!(
        foreign["error"]["message"]
            .as_str()
            .map(|m| m.replace(&app_id, "ID")),
        unknown["error"]["message"]
            .as_str()
            .map(|m| m.replace(unknown_id, "ID"))
    );
    let (status, body) = t
        .call_with(
            Method::DELETE,
            &format!("/v1/apps/{app_id}"),
            Some(&outsider),
            None,
            &[],
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    let (status, _) = t.put_artifact_with(&outsider, &sha, bytes.clone()).await;
    assert_eq!(status, 404, "a foreign project");

    // Artifact checks: digest, size, archive, path.
    let (status, body) = t
        .put_artifact_with(&t.token(), &"a".repeat(64), bytes.clone())
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "digest_mismatch");
    assert_eq!(body["error"]["field"], "sha256");
    let huge = vec![0u8; 32 * 1024 * 1024 + 512];
    let (status, body) = t.put_artifact(huge).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    let (status, body) = t.put_artifact(b"not a tar at all".repeat(64)).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("invalid_archive")),
        "{body}"
    );
    assert!(body["error"]["message"].is_string());
    let mut symlink = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_path("index.mjs")?;
    header.set_link_name("/etc/passwd")?;
    header.set_size(0);
    header.set_cksum();
    symlink.append(&header, &b""[..])?;
    let (status, body) = t.put_artifact(symlink.into_inner()?).await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("invalid_archive")),
        "{body}"
    );
    let (status, body) = t.put_artifact_with(&t.token(), "XYZ", bytes.clone()).await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &json!("sha256")),
        "{body}"
    );

    // A build of an artifact the project does not hold.
    let (status, body) = t
        .call(
            Method::POST,
            &format!("/v1/apps/{app_id}/builds"),
            Some(json!({"artifact_sha256": sha})),
        )
        .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &json!("artifact_sha256")),
        "{body}"
    );
    for (body, field) in [
        (json!({"artifact_sha256": 5}), "artifact_sha256"),
        (
            json!({"artifact_sha256": sha, "entry": "../x.mjs"}),
            "entry",
        ),
        (
            json!({"artifact_sha256": sha, "activate": "yes"}),
            "activate",
        ),
    ] {
        let (status, reply) = t
            .call(
                Method::POST,
                &format!("/v1/apps/{app_id}/builds"),
                Some(body),
            )
            .await;
        assert_eq!(
            (status, &reply["error"]["field"]),
            (422, &json!(field)),
            "{reply}"
        );
    }
    // Apps: name rules and conflicts.
    let (status, body) = t
        .call(
            Method::POST,
            "/v1/projects/prj_local/apps",
            Some(json!({"name": "Bad_Name"})),
        )
        .await;
    assert_eq!((status, &body["error"]["field"]), (422, &json!("name")));
    let (status, body) = t
        .call(
            Method::POST,
            "/v1/projects/prj_local/apps",
            Some(json!({"name": "guarded"})),
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (409, &json!("conflict")));

    // Faults apply to the app routes as to every public route.
    t.emu.admin_put(
        "/_emulator/faults",
        json!({"rules": [{"path_prefix": "/v1/apps/", "kind": "error", "status": 503}]}),
    );
    let (status, body) = t
        .call(Method::GET, &format!("/v1/apps/{app_id}"), None)
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (503, &json!("unavailable"))
    );
    assert_eq!(
        t.call(Method::GET, &format!("/v1/apps/{app_id}"), None)
            .await
            .0,
        200
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn long_polls_answer_when_the_build_ends() -> TestResult {
    let t = Apps::start().await;
    let app = t.create_app("slow").await;
    let app_id = app["app_id"].as_str().ok_or("app_id")?.to_owned();
    // Loading takes about 1.5 s (a top-level await).
    let slow = "await new Promise((r) => setTimeout(r, 1500));\nexport default { fetch() { return new Response('slow'); } };\n";
    let bytes = ustar(&[("index.mjs", slow)]);
    let sha = sha256_hex(&bytes);
    assert_eq!(t.put_artifact(bytes).await.0, 201);
    let (status, build) = t
        .call(
            Method::POST,
            &format!("/v1/apps/{app_id}/builds"),
            Some(json!({"artifact_sha256": sha})),
        )
        .await;
    assert_eq!(status, 202);
    let build_id = build["build_id"].as_str().ok_or("build_id")?.to_owned();

    // A short wait answers after about that long with the build still going.
    let started = Instant::now();
    let early = t
        .ok(
            Method::GET,
            &format!("/v1/apps/{app_id}/builds/{build_id}?wait_seconds=1"),
            None,
        )
        .await;
    let waited = started.elapsed();
    assert!(
        early["status"] == "queued" || early["status"] == "building",
        "{early}"
    );
    assert!(waited >= Duration::from_millis(900), "{waited:?}");

    // A long wait answers as soon as the build is ready (not after 30 s), and live.
    let started = Instant::now();
    let done = t.wait(&app_id, &build_id).await;
    let waited = started.elapsed();
    assert_eq!(done["status"], "ready", "{done}");
    assert_eq!(done["active"], true, "{done}");
    assert!(waited < Duration::from_secs(15), "{waited:?}");
    assert_eq!(t.fetch(&app, "/").await.body, "slow");
    // A finished build answers at once even with a wait.
    let started = Instant::now();
    t.wait(&app_id, &build_id).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/apps/{app_id}/builds/{build_id}?wait_seconds=31"),
            None,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &json!("wait_seconds"))
    );
    let (status, body) = t
        .call(
            Method::GET,
            &format!("/v1/apps/{app_id}/builds/bld_0000000000000000"),
            None,
        )
        .await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn creates_replay_with_the_same_idempotency_key() -> TestResult {
    let t = Apps::start().await;
    let token = t.token();
    let key = [("Idempotency-Key", "app-key-1")];
    let (first_status, first) = t
        .call_with(
            Method::POST,
            "/v1/projects/prj_local/apps",
            Some(&token),
            Some(json!({"name": "replay"})),
            &key,
        )
        .await;
    let (second_status, second) = t
        .call_with(
            Method::POST,
            "/v1/projects/prj_local/apps",
            Some(&token),
            Some(json!({"name": "replay"})),
            &key,
        )
        .await;
    assert_eq!((first_status, second_status), (201, 200));
    assert_eq!(first["app_id"], second["app_id"]);
    let (status, body) = t
        .call_with(
            Method::POST,
            "/v1/projects/prj_local/apps",
            Some(&token),
            Some(json!({"name": "other"})),
            &key,
        )
        .await;
    assert_eq!(
        (status, &body["error"]["field"]),
        (422, &json!("Idempotency-Key"))
    );
    let listed = t.ok(Method::GET, "/v1/projects/prj_local/apps", None).await;
    assert_eq!(listed["apps"].as_array().map(Vec::len), Some(1));

    let app_id = first["app_id"].as_str().ok_or("app_id")?;
    let bytes = ustar(&[("index.mjs", &page("r"))]);
    let sha = sha256_hex(&bytes);
    assert_eq!(t.put_artifact(bytes).await.0, 201);
    let build_key = [("Idempotency-Key", "build-key-1")];
    let path = format!("/v1/apps/{app_id}/builds");
    let body = json!({"artifact_sha256": sha});
    let (s1, b1) = t
        .call_with(
            Method::POST,
            &path,
            Some(&token),
            Some(body.clone()),
            &build_key,
        )
        .await;
    let (s2, b2) = t
        .call_with(Method::POST, &path, Some(&token), Some(body), &build_key)
        .await;
    assert_eq!((s1, s2), (202, 200), "{b1} {b2}");
    assert_eq!(b1["build_id"], b2["build_id"]);
    let builds = t.ok(Method::GET, &path, None).await;
    assert_eq!(builds["builds"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_leaves_no_worker_folder_or_artifact() -> TestResult {
    let t = Apps::start().await;
    let app = t.create_app("doomed").await;
    let app_id = app["app_id"].as_str().ok_or("app_id")?.to_owned();
    let build = t
        .deploy(&app_id, &[("index.mjs", &page("bye"))], true)
        .await;
    assert_eq!(build["status"], "ready");
    assert_eq!(t.fetch(&app, "/").await.status, 200);
    let before = t.admin_app(&app_id).await;
    let pid = before["worker_pid"].as_u64().ok_or("worker_pid")?;
    assert!(process_exists(pid));
    let folder = before["builds"][0]["folder"]
        .as_str()
        .ok_or("folder")?
        .to_owned();
    assert!(std::path::Path::new(&folder).is_dir());
    let artifact = t.emu.admin_get("/_emulator/apps")["artifacts"][0]["file_path"]
        .as_str()
        .ok_or("artifact")?
        .to_owned();
    assert!(std::path::Path::new(&artifact).is_file());

    let (status, body) = t
        .call(Method::DELETE, &format!("/v1/apps/{app_id}"), None)
        .await;
    assert_eq!(status, 204, "{body}");
    assert!(!process_exists(pid), "the worker {pid} outlived its app");
    assert!(!std::path::Path::new(&folder).exists());
    assert!(!std::path::Path::new(&artifact).exists());
    let after = t.admin_app(&app_id).await;
    assert_eq!(after["deleted"], true, "{after}");
    assert_eq!(after["worker_pid"], Value::Null);
    assert_eq!(after["folder_exists"], false);
    assert_eq!(after["builds"][0]["folder_exists"], false);
    assert_eq!(t.fetch(&app, "/").await.status, 404);
    let (status, body) = t
        .call(Method::GET, &format!("/v1/apps/{app_id}"), None)
        .await;
    assert_eq!((status, &body["error"]["code"]), (404, &json!("not_found")));
    let (status, _) = t
        .call(
            Method::HEAD,
            &format!(
                "/v1/projects/prj_local/artifacts/{}",
                build["artifact_sha256"].as_str().ok_or("sha")?
            ),
            None,
        )
        .await;
    assert_eq!(status, 404);
    // The name is free again.
    let again = t.create_app("doomed").await;
    assert_ne!(again["app_id"], app_id.as_str());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn apps_serve_again_after_a_restart() -> TestResult {
    let mut t = Apps::start().await;
    let app = t.create_app("durable").await;
    let app_id = app["app_id"].as_str().ok_or("app_id")?.to_owned();
    t.ok(
        Method::PUT,
        &format!("/v1/apps/{app_id}/env/NAME"),
        Some(json!({"value": "kept"})),
    )
    .await;
    let build = t
        .deploy(&app_id, &[("index.mjs", &page("again"))], true)
        .await;
    assert_eq!(build["status"], "ready");
    let pid = t.admin_app(&app_id).await["worker_pid"]
        .as_u64()
        .ok_or("worker_pid")?;

    // A crash (SIGKILL): the emulator cannot stop its workers; they exit as their stdin
    // closes.
    tokio::task::block_in_place(|| {
        t.emu.kill();
        t.emu.restart();
    });

    // The old worker went with the old emulator.
    let started = Instant::now();
    while process_exists(pid) && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!process_exists(pid), "worker {pid} outlived the emulator");
    assert_eq!(t.admin_app(&app_id).await["worker_pid"], Value::Null);
    let got = t.fetch(&app, "/").await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body, "again / {\"NAME\":\"kept\"}");
    let now = t.ok(Method::GET, &format!("/v1/apps/{app_id}"), None).await;
    assert_eq!(now["default_url"], app["default_url"]);
    assert_eq!(now["active_build_id"], build["build_id"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_runtime_fails_the_build_with_a_clear_log() -> TestResult {
    let mut t = Apps::start_with(
        Emulator::builder().env("COMWIT_EMULATOR_NODE", "/nonexistent/node-binary"),
    )
    .await;
    let app = t.create_app("nonode").await;
    let app_id = app["app_id"].as_str().ok_or("app_id")?.to_owned();
    let build = t.deploy(&app_id, &[("index.mjs", &page("x"))], true).await;
    assert_eq!(build["status"], "failed", "{build}");
    let error = build["error"].as_str().ok_or("error")?;
    assert!(error.contains("/nonexistent/node-binary"), "{error}");
    assert!(error.contains("COMWIT_EMULATOR_NODE"), "{error}");
    let log = t
        .log(&app_id, build["build_id"].as_str().ok_or("id")?)
        .await;
    assert!(log.contains("cannot run the app runtime"), "{log}");
    assert!(t.emu.is_running(), "the emulator keeps running");
    Ok(())
}
