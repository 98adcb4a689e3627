//! The browser console at the Comwit listener's root, in a real headless browser: Debian's
//! `chromium` driven by `playwright-core` (`tests/console/console.mjs`, installed by
//! `scripts/setup.sh`). The test serves all three platforms and makes the objects through
//! each one's public API, then the page signs in, runs SQL, is refused on a suspended
//! database, follows a build's log and lists hostnames, domains and records, then signs in
//! to WaysCloud and CloudSync on their own origins and lists their objects; a failure
//! carries the script's output. Beside it, the core's CORS answers over plain HTTP.

use crate::support;

use std::path::{Path, PathBuf};

use reqwest::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, VARY,
};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::emulator::Reply;
use support::platform::Platform;
use support::Emulator;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn console_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console")
}

/// An uncompressed ustar archive of one `index.mjs`.
fn archive(entry: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_path("index.mjs").expect("path");
    header.set_size(entry.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    builder.append(&header, entry.as_bytes()).expect("append");
    builder.into_inner().expect("archive")
}

async fn call(
    emu: &Emulator,
    http: &reqwest::Client,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let reply = support::emulator::send(
        http,
        method.clone(),
        &emu.url_of(path),
        Some(emu.token()),
        &[],
        body.map(|b| b.to_string().into_bytes()),
    )
    .await
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert!(
        reply.status.is_success(),
        "{method} {path} answered {}: {}",
        reply.status,
        reply.body
    );
    reply.body
}

/// A request to one platform's API; `headers` as given (the credential among them).
async fn send_to(
    http: &reqwest::Client,
    method: Method,
    url: String,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    support::emulator::send(
        http,
        method.clone(),
        &url,
        token,
        headers,
        body.map(|b| b.to_string().into_bytes()),
    )
    .await
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

/// Like [`send_to`], and the answer must be a success.
async fn ok(
    http: &reqwest::Client,
    method: Method,
    url: String,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Value {
    let what = format!("{method} {url}");
    let reply = send_to(http, method, url, token, headers, body).await;
    assert!(
        reply.status.is_success(),
        "{what} answered {}: {}",
        reply.status,
        reply.body
    );
    reply.body
}

fn header<'a>(reply: &'a Reply, name: &reqwest::header::HeaderName) -> Option<&'a str> {
    reply.headers.get(name).and_then(|v| v.to_str().ok())
}

fn str_of(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_works_in_a_headless_browser() -> TestResult {
    let dir = console_dir();
    assert!(
        dir.join("node_modules/playwright-core/package.json")
            .is_file(),
        "playwright-core is not installed in {}: run `scripts/setup.sh` (it runs `npm ci` there)",
        dir.display()
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&chromium).is_file(),
        "{chromium} is missing: run `scripts/setup.sh` (it installs Debian's chromium package)"
    );

    let emu = Emulator::builder()
        .platforms(&[Platform::Comwit, Platform::WaysCloud, Platform::CloudSync])
        .start_async()
        .await;
    let http = support::emulator::http_client();
    let wayscloud = emu.served(Platform::WaysCloud).clone();
    let cloudsync = emu.served(Platform::CloudSync).clone();

    // The page and its assets: static, no credential in them, connecting only to this
    // origin and the two other platforms' APIs.
    let page = http.get(emu.url_of("/")).send().await?;
    assert_eq!(page.status(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        csp.contains(&format!(
            "connect-src 'self' {} {};",
            wayscloud.url, cloudsync.url
        )),
        "{csp}"
    );
    let html = page.text().await?;
    assert!(html.contains("/_console/console.js") && !html.contains(emu.token()));
    for credential in [&wayscloud.credential, &cloudsync.credential] {
        assert!(!html.contains(credential.as_str()));
    }
    for asset in ["/_console/console.js", "/_console/console.css"] {
        let resp = http.get(emu.url_of(asset)).send().await?;
        assert_eq!(resp.status(), 200, "{asset}");
    }
    let missing = http.get(emu.url_of("/_console/nope.js")).send().await?;
    assert_eq!(missing.status(), 404);

    // What the page will show: a database, a domain with a record, an app with a hostname.
    let db = call(
        &emu,
        &http,
        Method::POST,
        "/v1/projects/prj_local/databases",
        Some(json!({"name": "console-db"})),
    )
    .await;
    let database_id = str_of(&db["database"], "database_id");
    let domain = call(
        &emu,
        &http,
        Method::POST,
        "/v1/projects/prj_local/domains",
        Some(json!({"domain": "console.test"})),
    )
    .await;
    let domain_id = str_of(&domain, "domain_id");
    call(
        &emu,
        &http,
        Method::POST,
        &format!("/v1/domains/{domain_id}/records"),
        Some(json!({"name": "info", "type": "TXT", "value": "shown-in-the-console"})),
    )
    .await;
    let app = call(
        &emu,
        &http,
        Method::POST,
        "/v1/projects/prj_local/apps",
        Some(json!({"name": "web"})),
    )
    .await;
    let app_id = str_of(&app, "app_id");
    let hostname = call(
        &emu,
        &http,
        Method::POST,
        &format!("/v1/apps/{app_id}/hostnames"),
        Some(json!({"hostname": "www.console.test", "dns_mode": "automatic"})),
    )
    .await;
    let hostname_status = str_of(&hostname, "status");

    // A build that takes a few seconds (a top-level await), started just before the
    // browser, so the page finds it going and follows its log.
    let entry = "await new Promise((r) => setTimeout(r, 3000));\n\
                 export default { fetch() { return new Response('console'); } };\n";
    let bytes = archive(entry);
    let sha = hex::encode(Sha256::digest(&bytes));
    let put = http
        .put(emu.url_of(&format!("/v1/projects/prj_local/artifacts/{sha}")))
        .bearer_auth(emu.token())
        .header("content-type", "application/x-tar")
        .body(bytes)
        .send()
        .await?;
    assert_eq!(put.status(), 201);
    let build = call(
        &emu,
        &http,
        Method::POST,
        &format!("/v1/apps/{app_id}/builds"),
        Some(json!({"artifact_sha256": sha, "activate": true})),
    )
    .await;
    let build_id = str_of(&build, "build_id");

    // WaysCloud: a PostgreSQL database with a firewall rule and a snapshot.
    let wc_key = [("x-api-key", wayscloud.credential.as_str())];
    let wc_db = ok(
        &http,
        Method::POST,
        format!("{}/v1/databases", wayscloud.url),
        None,
        &wc_key,
        Some(json!({"db_type": "postgresql", "requested_name": "console_db"})),
    )
    .await;
    let wc_name = str_of(&wc_db, "db_name");
    let wc_base = format!("{}/v1/databases/postgresql/{wc_name}", wayscloud.url);
    ok(
        &http,
        Method::POST,
        format!("{wc_base}/firewall"),
        None,
        &wc_key,
        Some(json!({"ip_address": "127.0.0.2", "description": "console rule"})),
    )
    .await;
    let snapshot = ok(
        &http,
        Method::POST,
        format!("{wc_base}/snapshots"),
        None,
        &wc_key,
        Some(json!({"description": "console snapshot"})),
    )
    .await;
    let snapshot_id = str_of(&snapshot, "snapshot_id");

    // CloudSync: a database on an emulated SQLite Cloud node, one of its two tables synced.
    let node = ok(
        &http,
        Method::PUT,
        format!(
            "{}/_emulator/cloudsync/sqlitecloud/nodes/console.sqlite.cloud",
            cloudsync.url
        ),
        None,
        &[("x-emulator-admin", cloudsync.admin_secret.as_str())],
        Some(json!({"apikey": "console-node-key"})),
    )
    .await;
    let node_dir = PathBuf::from(str_of(&node, "dir"));
    rusqlite::Connection::open(node_dir.join("appdb.sqlite"))?.execute_batch(
        "CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT); CREATE TABLE drafts (id TEXT PRIMARY KEY);",
    )?;
    let cs_db = ok(
        &http,
        Method::POST,
        format!("{}/v1/databases", cloudsync.url),
        Some(&cloudsync.credential),
        &[],
        Some(json!({
            "label": "Console DB",
            "connectionString": "sqlitecloud://console.sqlite.cloud:8860?apikey=console-node-key",
            "provider": "sqlitecloud",
            "flavor": "sqlitecloud",
            "databaseName": "appdb",
        })),
    )
    .await;
    let cs_id = str_of(&cs_db["data"], "managedDatabaseId");
    ok(
        &http,
        Method::POST,
        format!("{}/v1/databases/{cs_id}/cloudsync/enable", cloudsync.url),
        Some(&cloudsync.credential),
        &[],
        Some(json!({"tables": ["notes"]})),
    )
    .await;

    let bin = std::env::var("NODE").unwrap_or_else(|_| "node".to_owned());
    let mut cmd = support::outside_tool(&bin);
    cmd.arg("console.mjs")
        .current_dir(&dir)
        .env("CONSOLE_URL", emu.url())
        .env("COMWIT_TOKEN", emu.token())
        .env("DATABASE_ID", &database_id)
        .env("APP_ID", &app_id)
        .env("BUILD_ID", &build_id)
        .env("HOSTNAME", "www.console.test")
        .env("HOSTNAME_STATUS", &hostname_status)
        .env("DOMAIN_ID", &domain_id)
        .env("RECORD_VALUE", "shown-in-the-console")
        .env("WAYSCLOUD_URL", &wayscloud.url)
        .env("WAYSCLOUD_KEY", &wayscloud.credential)
        .env("WAYSCLOUD_DB", &wc_name)
        .env("WAYSCLOUD_SNAPSHOT", &snapshot_id)
        .env("CLOUDSYNC_URL", &cloudsync.url)
        .env("CLOUDSYNC_KEY", &cloudsync.credential)
        .env("CLOUDSYNC_DB_ID", &cs_id)
        .env("CHROMIUM", &chromium);
    if let Ok(path) = std::env::var("CONSOLE_SCREENSHOT") {
        cmd.env("SCREENSHOT", path);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output()).await??;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("console test: ok"), "{stdout}\n{stderr}");

    // The server saw the page's calls, and its log holds no token.
    let stats = support::emulator::send(
        &http,
        Method::GET,
        &emu.url_of("/_emulator/stats"),
        None,
        &[("x-emulator-admin", emu.admin_secret())],
        None,
    )
    .await?
    .body;
    for route in [
        "GET /",
        "POST /v1/databases/{database}/query-token",
        "POST /v1/databases/{database}/suspend",
        "GET /v1/apps/{app}/builds/{build}/log",
    ] {
        assert!(
            stats["by_route"][route].as_u64().unwrap_or(0) >= 1,
            "{route} not in {stats}"
        );
    }
    let log = emu.log();
    assert!(
        !log.contains(emu.token()),
        "the emulator logged the user token"
    );
    for credential in [&wayscloud.credential, &cloudsync.credential] {
        assert!(
            !log.contains(credential.as_str()),
            "the emulator logged a key"
        );
    }
    assert!(!log.contains("cqt_"), "the emulator logged a query token");
    Ok(())
}

/// The core's CORS on another platform's listener: the console's origin (Comwit's listener,
/// under any loopback name) may read its answers and preflight its key header; a foreign
/// origin, the platform's own and a platform without a console get no CORS header. The
/// listing names every served platform.
#[tokio::test(flavor = "multi_thread")]
async fn cors_is_given_to_the_console_origin_only() -> TestResult {
    let emu = Emulator::builder()
        .platforms(&[Platform::Comwit, Platform::CloudSync])
        .start_async()
        .await;
    let http = support::emulator::http_client();
    let comwit = emu.served(Platform::Comwit).clone();
    let cloudsync = emu.served(Platform::CloudSync).clone();
    let port = |url: &str| url.rsplit(':').next().unwrap_or_default().to_owned();
    let orgs = format!("{}/v1/orgs", cloudsync.url);
    let key = Some(cloudsync.credential.as_str());

    // The listing, on either listener.
    for url in [&comwit.url, &cloudsync.url] {
        let listing = ok(
            &http,
            Method::GET,
            format!("{url}/_console/platforms"),
            None,
            &[],
            None,
        )
        .await;
        assert_eq!(
            listing,
            json!({"platforms": [
                {"name": "comwit", "url": comwit.url, "console": true},
                {"name": "cloudsync", "url": cloudsync.url, "console": false},
            ]})
        );
    }

    // The console's origin, as the browser may spell it: allowed, errors included.
    let localhost = format!("http://localhost:{}", port(&comwit.url));
    for origin in [comwit.url.as_str(), localhost.as_str()] {
        let reply = send_to(
            &http,
            Method::GET,
            orgs.clone(),
            key,
            &[("origin", origin)],
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(header(&reply, &ACCESS_CONTROL_ALLOW_ORIGIN), Some(origin));
        assert!(header(&reply, &VARY).is_some_and(|v| v.contains("Origin")));
        let refused = send_to(
            &http,
            Method::GET,
            orgs.clone(),
            None,
            &[("origin", origin)],
            None,
        )
        .await;
        assert_eq!(refused.status, 401);
        assert_eq!(header(&refused, &ACCESS_CONTROL_ALLOW_ORIGIN), Some(origin));
    }
    let preflight = send_to(
        &http,
        Method::OPTIONS,
        orgs.clone(),
        None,
        &[
            ("origin", comwit.url.as_str()),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "authorization,x-api-key"),
        ],
        None,
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(
        header(&preflight, &ACCESS_CONTROL_ALLOW_ORIGIN),
        Some(comwit.url.as_str())
    );
    assert_eq!(
        header(&preflight, &ACCESS_CONTROL_ALLOW_METHODS),
        Some("GET, HEAD")
    );
    let allowed = header(&preflight, &ACCESS_CONTROL_ALLOW_HEADERS).unwrap_or_default();
    assert!(
        allowed.contains("x-api-key") && allowed.contains("authorization"),
        "{allowed}"
    );

    // Foreign origins, the platform's own, and a port serving no console: no CORS header.
    let own = cloudsync.url.clone();
    let nothing_there = "http://127.0.0.1:9".to_owned();
    for origin in [
        "http://evil.example",
        &format!("http://evil.example:{}", port(&comwit.url)),
        &format!("https://127.0.0.1:{}", port(&comwit.url)),
        own.as_str(),
        nothing_there.as_str(),
        "null",
    ] {
        let reply = send_to(
            &http,
            Method::GET,
            orgs.clone(),
            key,
            &[("origin", origin)],
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "{origin}");
        assert_eq!(
            header(&reply, &ACCESS_CONTROL_ALLOW_ORIGIN),
            None,
            "{origin}"
        );
        let preflight = send_to(
            &http,
            Method::OPTIONS,
            orgs.clone(),
            None,
            &[
                ("origin", origin),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "authorization"),
            ],
            None,
        )
        .await;
        assert_ne!(preflight.status, 204, "{origin}");
        assert_eq!(
            header(&preflight, &ACCESS_CONTROL_ALLOW_ORIGIN),
            None,
            "{origin}"
        );
    }
    // On the console's own listener, nothing changes (same origin; CloudSync has no console).
    for origin in [comwit.url.as_str(), cloudsync.url.as_str()] {
        let reply = send_to(
            &http,
            Method::GET,
            format!("{}/v1/projects", comwit.url),
            Some(emu.token()),
            &[("origin", origin)],
            None,
        )
        .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            header(&reply, &ACCESS_CONTROL_ALLOW_ORIGIN),
            None,
            "{origin}"
        );
    }
    Ok(())
}
