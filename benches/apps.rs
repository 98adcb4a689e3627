//! App deploy benchmark (run with `scripts/bench.sh apps`, or `cargo bench --bench apps`).
//!
//! How long after a build is live does `terraform apply` return, next to how long the
//! build itself takes, against the local emulator (builds on Node.js, served by its app
//! gateway):
//! - **build (API)**, the reference: an artifact uploaded and a build created through the
//!   API, then one long poll (`GET .../builds/{build}?wait_seconds=30`) until `ready`: the
//!   platform's own build-and-switch time, with no Terraform in it;
//! - **apply**: `terraform apply` of a changed `./app` (a new build), while a poller asks
//!   the gateway for the page every 2 ms: when the new page is first served (live), when
//!   apply returns, and the page right after apply returns (it must be the new build).
//!
//! Knobs: `BENCH_APP_ROUNDS` (default 5; medians), `TERRAFORM_BIN`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

#[allow(dead_code)] // the shared helpers this benchmark does not need
mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use common::median;
use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn page(version: &str) -> String {
    format!("export default {{ async fetch() {{ return new Response(\"{version}\"); }} }};\n")
}

/// One `index.mjs` as a ustar archive (what the provider uploads for a directory).
fn archive(source: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(source.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_cksum();
    builder
        .append_data(&mut header, "index.mjs", source.as_bytes())
        .expect("tar entry");
    builder.into_inner().expect("tar")
}

async fn call(
    emu: &Emulator,
    http: &reqwest::Client,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Value {
    let url = format!("{}{path}", emu.url());
    let reply = support::emulator::send(http, method, &url, Some(emu.token()), headers, body)
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        reply.status.is_success(),
        "{path}: {} {}",
        reply.status,
        reply.body
    );
    reply.body
}

/// Milliseconds from creating a build through the API to its `ready` answer (one long
/// poll), after uploading its artifact.
async fn api_build(emu: &Emulator, http: &reqwest::Client, app: &str, version: &str) -> f64 {
    let bytes = archive(&page(version));
    let sha = hex::encode(Sha256::digest(&bytes));
    call(
        emu,
        http,
        Method::PUT,
        &format!("/v1/projects/{}/artifacts/{sha}", support::LOCAL_PROJECT),
        &[("content-type", "application/x-tar")],
        Some(bytes),
    )
    .await;
    let started = Instant::now();
    let body = json!({"artifact_sha256": sha, "entry": "index.mjs", "activate": true});
    let build = call(
        emu,
        http,
        Method::POST,
        &format!("/v1/apps/{app}/builds"),
        &[("content-type", "application/json")],
        Some(body.to_string().into_bytes()),
    )
    .await;
    let id = build["build_id"].as_str().expect("build id").to_owned();
    loop {
        let b = call(
            emu,
            http,
            Method::GET,
            &format!("/v1/apps/{app}/builds/{id}?wait_seconds=30"),
            &[],
            None,
        )
        .await;
        match b["status"].as_str() {
            Some("ready") => break,
            Some("failed") => panic!("build failed: {b}"),
            _ => continue,
        }
    }
    started.elapsed().as_secs_f64() * 1000.0
}

async fn page_of(emu: &Emulator, http: &reqwest::Client, host: &str) -> String {
    let url = format!("{}/", emu.apps_url());
    match support::emulator::send(http, Method::GET, &url, None, &[("host", host)], None).await {
        Ok(r) => match r.body {
            Value::String(s) => s,
            other => other.to_string(),
        },
        Err(_) => String::new(),
    }
}

struct ApplyRound {
    apply_ms: f64,
    /// Apply's return minus the first moment the new page was served.
    after_live_ms: f64,
    new_page_at_return: bool,
}

fn main() {
    let rounds: usize = env_or("BENCH_APP_ROUNDS", 5).max(1);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_app\" \"web\" {{
  name = \"bench\"
}}
resource \"comwit_app_deployment\" \"web\" {{
  app_id     = comwit_app.web.id
  source_dir = \"${{path.module}}/app\"
}}
"
    ));
    tf.write_file("app/index.mjs", &page("v0"));
    tf.apply();
    let app = tf.resource("comwit_app.web");
    let app_id = app["id"].as_str().expect("app id").to_owned();
    let host = app["default_url"]
        .as_str()
        .expect("default_url")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let http = support::emulator::http_client();

    // The reference: the platform's build-and-switch time through the API alone.
    let builds: Vec<f64> = (0..rounds)
        .map(|i| rt.block_on(api_build(&emu, &http, &app_id, &format!("api-{i}"))))
        .collect();

    // Terraform: deploy a new version while a poller watches the page.
    let mut applies = Vec::new();
    for i in 0..rounds {
        let version = format!("tf-{i}");
        tf.write_file("app/index.mjs", &page(&version));
        let live: Arc<Mutex<Option<Instant>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let poller = {
            let (live, stop, host, version) =
                (live.clone(), stop.clone(), host.clone(), version.clone());
            let url_emu = emu.apps_url().to_owned();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                let http = support::emulator::http_client();
                let url = format!("{url_emu}/");
                rt.block_on(async {
                    while !stop.load(Ordering::Relaxed) {
                        let seen = support::emulator::send(
                            &http,
                            Method::GET,
                            &url,
                            None,
                            &[("host", &host)],
                            None,
                        )
                        .await
                        .ok()
                        .map(|r| r.body == Value::String(version.clone()))
                        .unwrap_or(false);
                        if seen {
                            let mut l = live.lock().unwrap_or_else(|p| p.into_inner());
                            l.get_or_insert_with(Instant::now);
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                });
            })
        };
        let started = Instant::now();
        tf.apply();
        let returned = Instant::now();
        let at_return = rt.block_on(page_of(&emu, &http, &host));
        stop.store(true, Ordering::Relaxed);
        let _ = poller.join();
        let live_at = live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or(returned);
        applies.push(ApplyRound {
            apply_ms: (returned - started).as_secs_f64() * 1000.0,
            after_live_ms: returned.saturating_duration_since(live_at).as_secs_f64() * 1000.0
                - live_at.saturating_duration_since(returned).as_secs_f64() * 1000.0,
            new_page_at_return: at_return == version,
        });
    }

    let apply_ms: Vec<f64> = applies.iter().map(|a| a.apply_ms).collect();
    let after: Vec<f64> = applies.iter().map(|a| a.after_live_ms).collect();
    let all_new = applies.iter().all(|a| a.new_page_at_return);
    println!("app deploy benchmark: {rounds} rounds, medians (ms)");
    println!("| measure | median | samples |");
    println!("|---|---|---|");
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!(
        "| build through the API (create to ready, one long poll) | {:.0} | {} |",
        median(&builds),
        fmt(&builds)
    );
    println!(
        "| terraform apply of changed code (plan, upload, build, wait) | {:.0} | {} |",
        median(&apply_ms),
        fmt(&apply_ms)
    );
    println!(
        "| apply returned after the new page was live | {:.0} | {} |",
        median(&after),
        fmt(&after)
    );
    println!(
        "\nnew build served when apply returned: {}; apply returned within 100 ms of live: {}",
        if all_new { "yes" } else { "**no**" },
        if median(&after) <= 100.0 {
            "yes"
        } else {
            "**no**"
        }
    );
}
