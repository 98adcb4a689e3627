//! The browser console at the Comwit listener's root, in a real headless browser: Debian's
//! `chromium` driven by `playwright-core` (`tests/console/console.mjs`, installed by
//! `scripts/setup.sh`). The test makes the objects through the public API, then the page
//! signs in, runs SQL, is refused on a suspended database, follows a build's log and lists
//! hostnames, domains and records; a failure carries the script's output.

use crate::support;

use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
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

    let emu = Emulator::builder().start_async().await;
    let http = support::emulator::http_client();

    // The page and its assets: static, no token in them, locked to this origin.
    let page = http.get(emu.url_of("/")).send().await?;
    assert_eq!(page.status(), 200);
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    let html = page.text().await?;
    assert!(html.contains("/_console/console.js") && !html.contains(emu.token()));
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
    assert!(!log.contains("cqt_"), "the emulator logged a query token");
    Ok(())
}
