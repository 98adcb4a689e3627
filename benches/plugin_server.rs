//! Plugin server benchmark (run with `scripts/bench.sh`, or `cargo bench --bench plugin_server`).
//!
//! Prints, and writes to `target/bench/plugin_server.json`:
//! - plugin start to handshake line (median of many runs) for our test provider and, when
//!   `BENCH_REFERENCE_PROVIDER` names it, the tf-provider crate's null example;
//! - `terraform plan -refresh=false` and `terraform apply` over N resources of our test
//!   provider next to N of Terraform's built-in `terraform_data` (no plugin at all).
//!
//! Needs the Terraform shim from `scripts/setup.sh` (`TERRAFORM_BIN` or `.tools/bin/terraform`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const COOKIE: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);

fn terraform_bin() -> PathBuf {
    std::env::var_os("TERRAFORM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform"))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A client certificate like the one Terraform passes (any valid PEM does for timing).
fn client_cert_pem() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("key");
    rcgen::CertificateParams::new(vec!["localhost".into()])
        .expect("params")
        .self_signed(&key)
        .expect("cert")
        .pem()
}

/// Milliseconds from spawn to the first stdout line.
fn start_to_handshake(bin: &Path, cert: &str) -> f64 {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", cert)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("handshake line");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    assert!(line.contains("|grpc|"), "not a handshake line: {line:?}");
    let _ = child.kill();
    let _ = child.wait();
    ms
}

struct Workspace {
    dir: PathBuf,
    cli_config: PathBuf,
}

impl Workspace {
    fn new(name: &str, provider: &Path) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/bench")
            .join(name);
        let _ = std::fs::remove_dir_all(&root);
        let plugins = root.join("plugins");
        std::fs::create_dir_all(&plugins).expect("mkdir");
        std::os::unix::fs::symlink(provider, plugins.join("terraform-provider-testing"))
            .expect("symlink");
        let cli_config = root.join("cli.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{ \"comwit/testing\" = \"{}\" }}\n  direct {{}}\n}}\n",
                plugins.display()
            ),
        )
        .expect("cli config");
        let dir = root.join("work");
        std::fs::create_dir_all(&dir).expect("mkdir");
        Workspace { dir, cli_config }
    }

    fn run(&self, args: &[&str]) -> Duration {
        let started = Instant::now();
        let out = Command::new(terraform_bin())
            .args(args)
            .current_dir(&self.dir)
            .env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env_remove("TF_LOG")
            .output()
            .expect("run terraform");
        let took = started.elapsed();
        assert!(
            out.status.success(),
            "terraform {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        took
    }
}

fn config(kind: &str, n: usize) -> String {
    match kind {
        "testing" => format!(
            "terraform {{\n  required_providers {{\n    testing = {{ source = \"comwit/testing\" }}\n  }}\n}}\n\
             resource \"testing_thing\" \"r\" {{\n  count = {n}\n  name  = \"thing-${{count.index}}\"\n}}\n"
        ),
        _ => format!("resource \"terraform_data\" \"r\" {{\n  count = {n}\n  input = \"thing-${{count.index}}\"\n}}\n"),
    }
}

fn measure(kind: &str, n: usize, provider: &Path, runs: usize) -> (f64, f64) {
    let ws = Workspace::new(&format!("{kind}-{n}"), provider);
    std::fs::write(ws.dir.join("main.tf"), config(kind, n)).expect("main.tf");
    let apply = ws
        .run(&["apply", "-auto-approve", "-input=false", "-no-color"])
        .as_secs_f64();
    let plans: Vec<f64> = (0..runs)
        .map(|_| {
            ws.run(&[
                "plan",
                "-refresh=false",
                "-input=false",
                "-no-color",
                "-lock=false",
            ])
            .as_secs_f64()
        })
        .collect();
    (apply, median(plans))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / test harness probing
    }
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-testing"));
    let reference = std::env::var_os("BENCH_REFERENCE_PROVIDER").map(PathBuf::from);
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let runs = 5;

    let cert = client_cert_pem();
    let samples = 41;
    let ours_start = median(
        (0..samples)
            .map(|_| start_to_handshake(&ours, &cert))
            .collect(),
    );
    let ref_start = reference
        .as_ref()
        .map(|r| median((0..samples).map(|_| start_to_handshake(r, &cert)).collect()));

    let (ours_apply, ours_plan) = measure("testing", n, &ours, runs);
    let (floor_apply, floor_plan) = measure("terraform_data", n, &ours, runs);

    println!("plugin server benchmark (N = {n}, medians)");
    println!("| measure | ours | reference | ratio |");
    println!("|---|---|---|---|");
    match ref_start {
        Some(r) => println!(
            "| start to handshake line | {ours_start:.1} ms | {r:.1} ms (tf-provider null example) | {:.2}x |",
            ours_start / r
        ),
        None => println!("| start to handshake line | {ours_start:.1} ms | (set BENCH_REFERENCE_PROVIDER) | - |"),
    }
    println!(
        "| plan -refresh=false, {n} resources | {ours_plan:.2} s | {floor_plan:.2} s (terraform_data) | {:.2}x |",
        ours_plan / floor_plan
    );
    println!(
        "| apply, {n} resources | {ours_apply:.2} s | {floor_apply:.2} s (terraform_data) | {:.2}x |",
        ours_apply / floor_apply
    );
    let json = serde_json::json!({
        "n": n,
        "start_to_handshake_ms": {"ours": ours_start, "reference": ref_start},
        "plan_refresh_false_s": {"ours": ours_plan, "terraform_data": floor_plan, "ratio": ours_plan / floor_plan},
        "apply_s": {"ours": ours_apply, "terraform_data": floor_apply, "ratio": ours_apply / floor_apply},
    });
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/plugin_server.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).expect("json")).expect("write json");
    println!("figures written to {}", out.display());
}
