//! Plugin server benchmark (run with `scripts/bench.sh`, or `cargo bench --bench plugin_server`).
//!
//! Prints, and writes to `target/bench/plugin_server.json`:
//! - plugin start to handshake line (median of many runs) for our test provider and, when
//!   `BENCH_REFERENCE_PROVIDER` names it, the tf-provider crate's null example;
//! - `terraform plan -refresh=false` (median of `BENCH_SERVER_PLAN_RUNS`, default 11, interleaved)
//!   and `terraform apply` over N resources (`BENCH_N`, default 500), wall time and the CPU of
//!   Terraform with its plugins, for: Terraform's built-in `terraform_data` (no plugin at
//!   all, the floor), bare and with an `input`; our test provider's `testing_null`, which has the shape of the
//!   tf-provider null example's resource; that example itself with TCP_NODELAY set on its
//!   accepted sockets, when `BENCH_REFERENCE_NODELAY_PROVIDER` names it (same work, the
//!   other server); and our `testing_thing`, a richer resource (six attributes, a
//!   sensitive one, resource identity) whose extra cost is Terraform's;
//! - the same plan of one `testing_null` and one `terraform_data`, which splits the plugin's
//!   gap into a fixed part (plugin starts) and a part per resource.
//!
//! Needs the Terraform shim from `scripts/setup.sh` (`TERRAFORM_BIN` or `.tools/bin/terraform`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use common::{cpu_ticks, median, yes_no, TICKS_PER_S};
use support::plugin_client::{ClientCert, COOKIE};
use support::Terraform;

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

/// CPU seconds of the children this process has waited for: each Terraform command and,
/// through it, the plugin processes it started and reaped.
fn children_cpu_s() -> f64 {
    cpu_ticks(std::process::id()).map_or(0.0, |(_, children)| children as f64 / TICKS_PER_S)
}

/// One kind of resource, N times, in a workspace of its own (the harness's Terraform
/// runner, rooted at `target/bench/plugin_server/<label>`).
struct Workload {
    label: &'static str,
    tf: Terraform,
}

/// A plugin behind `dev_overrides`: provider address and binary.
struct Plugin<'a> {
    address: &'static str,
    path: &'a Path,
}

impl Workload {
    fn new(label: &'static str, plugin: Option<Plugin>, main_tf: String) -> Self {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/bench/plugin_server")
            .join(label);
        let _ = std::fs::remove_dir_all(&root);
        let mut builder = Terraform::builder().root(&root).without_provider_log();
        if let Some(p) = &plugin {
            builder = builder.provider(p.address, p.path);
        }
        let tf = builder.build();
        tf.write_main(&main_tf);
        Workload { label, tf }
    }

    /// Runs one Terraform command: (wall seconds, CPU seconds of Terraform and its plugins).
    fn run(&self, args: &[&str]) -> (f64, f64) {
        let cpu_before = children_cpu_s();
        let started = Instant::now();
        let out = self.tf.command(args).output().expect("run terraform");
        let took = started.elapsed();
        assert!(
            out.status.success(),
            "terraform {args:?} in {} failed:\n{}\n{}",
            self.label,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (took.as_secs_f64(), children_cpu_s() - cpu_before)
    }

    fn apply(&self) -> (f64, f64) {
        self.run(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    fn plan(&self) -> (f64, f64) {
        self.run(&[
            "plan",
            "-refresh=false",
            "-input=false",
            "-no-color",
            "-lock=false",
        ])
    }
}

fn required(local: &str, address: &str) -> String {
    format!("terraform {{\n  required_providers {{\n    {local} = {{ source = \"{address}\" }}\n  }}\n}}\n")
}

/// What one workload measured.
struct Figures {
    label: &'static str,
    what: &'static str,
    apply: (f64, f64),
    plan: (f64, f64),
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / test harness probing
    }
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-testing"));
    let reference = std::env::var_os("BENCH_REFERENCE_PROVIDER").map(PathBuf::from);
    let reference_nodelay = std::env::var_os("BENCH_REFERENCE_NODELAY_PROVIDER").map(PathBuf::from);
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let runs: usize = std::env::var("BENCH_SERVER_PLAN_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(11)
        .max(1);

    let cert = ClientCert::generate().pem;
    let samples = 41;
    let ours_start = median(
        &(0..samples)
            .map(|_| start_to_handshake(&ours, &cert))
            .collect::<Vec<_>>(),
    );
    let ref_start = reference.as_ref().map(|r| {
        median(
            &(0..samples)
                .map(|_| start_to_handshake(r, &cert))
                .collect::<Vec<_>>(),
        )
    });

    let testing = |path| Plugin {
        address: "comwit/testing",
        path,
    };
    let mut workloads = vec![
        (
            Workload::new(
                "terraform_data",
                None,
                format!("resource \"terraform_data\" \"r\" {{\n  count = {n}\n}}\n"),
            ),
            "Terraform's built-in terraform_data (no plugin)",
        ),
        (
            Workload::new(
                "terraform_data_input",
                None,
                format!("resource \"terraform_data\" \"r\" {{\n  count = {n}\n  input = \"thing-${{count.index}}\"\n}}\n"),
            ),
            "terraform_data with input = \"thing-${count.index}\"",
        ),
        (
            Workload::new(
                "testing_null",
                Some(testing(&ours)),
                format!(
                    "{}resource \"testing_null\" \"r\" {{\n  count = {n}\n}}\n",
                    required("testing", "comwit/testing")
                ),
            ),
            "ours: testing_null (id, triggers: the null example's shape)",
        ),
    ];
    if let Some(path) = &reference_nodelay {
        workloads.push((
            Workload::new(
                "null_resource",
                Some(Plugin {
                    address: "comwit/null",
                    path,
                }),
                format!(
                    "{}resource \"null_resource\" \"r\" {{\n  count = {n}\n}}\n",
                    required("null", "comwit/null")
                ),
            ),
            "tf-provider null example, accepted sockets set to TCP_NODELAY",
        ));
    }
    workloads.push((
        Workload::new(
            "testing_thing",
            Some(testing(&ours)),
            format!(
                "{}resource \"testing_thing\" \"r\" {{\n  count = {n}\n  name  = \"thing-${{count.index}}\"\n}}\n",
                required("testing", "comwit/testing")
            ),
        ),
        "ours: testing_thing (6 attributes, a sensitive one, resource identity)",
    ));

    // One resource of the floor and of ours: what a plugin costs whatever N (Terraform
    // starts it 3 times per plan), to split the gap into fixed and per-resource parts.
    let singles = [
        Workload::new(
            "terraform_data_1",
            None,
            "resource \"terraform_data\" \"r\" {}\n".to_string(),
        ),
        Workload::new(
            "testing_null_1",
            Some(testing(&ours)),
            format!(
                "{}resource \"testing_null\" \"r\" {{}}\n",
                required("testing", "comwit/testing")
            ),
        ),
    ];

    // Apply each once, then interleave the plans (round i runs every workload once), so a
    // slow moment of the machine is shared instead of landing on one workload.
    let applies: Vec<(f64, f64)> = workloads.iter().map(|(w, _)| w.apply()).collect();
    for w in &singles {
        w.apply();
    }
    let mut plans: Vec<Vec<(f64, f64)>> = vec![Vec::new(); workloads.len()];
    let mut single_plans: Vec<Vec<f64>> = vec![Vec::new(); singles.len()];
    for _ in 0..runs {
        for (i, (w, _)) in workloads.iter().enumerate() {
            plans[i].push(w.plan());
        }
        for (i, w) in singles.iter().enumerate() {
            single_plans[i].push(w.plan().0);
        }
    }
    let [floor_1, ours_1] = [&single_plans[0], &single_plans[1]].map(|v| median(v));
    let figures: Vec<Figures> = workloads
        .iter()
        .zip(applies)
        .zip(plans)
        .map(|(((w, what), apply), plans)| Figures {
            label: w.label,
            what,
            apply,
            plan: (
                median(&plans.iter().map(|p| p.0).collect::<Vec<_>>()),
                median(&plans.iter().map(|p| p.1).collect::<Vec<_>>()),
            ),
        })
        .collect();
    let (floor, floor_input) = (&figures[0], &figures[1]);

    println!("plugin server benchmark (N = {n}; plans: medians of {runs}, interleaved)");
    println!("| measure | ours | reference | ratio |");
    println!("|---|---|---|---|");
    match ref_start {
        Some(r) => println!(
            "| start to handshake line | {ours_start:.1} ms | {r:.1} ms (tf-provider null example) | {:.2}x |",
            ours_start / r
        ),
        None => println!("| start to handshake line | {ours_start:.1} ms | (set BENCH_REFERENCE_PROVIDER) | - |"),
    }
    println!();
    println!("| {n} resources of | plan -refresh=false: wall | CPU (Terraform + plugin) | wall vs terraform_data: bare | with input | apply: wall | CPU | wall vs terraform_data: bare | with input |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for f in &figures {
        println!(
            "| {} | {:.2} s | {:.2} s | {:.2}x | {:.2}x | {:.2} s | {:.2} s | {:.2}x | {:.2}x |",
            f.what,
            f.plan.0,
            f.plan.1,
            f.plan.0 / floor.plan.0,
            f.plan.0 / floor_input.plan.0,
            f.apply.0,
            f.apply.1,
            f.apply.0 / floor.apply.0,
            f.apply.0 / floor_input.apply.0
        );
    }
    // Split ours' plan gap to the bare floor into the plugin's fixed cost (1 resource) and
    // the rest, per resource.
    let ours_null = figures.iter().find(|f| f.label == "testing_null");
    let split = ours_null.map(|o| {
        let fixed = ours_1 - floor_1;
        let per_resource = ((o.plan.0 - ours_1) - (floor.plan.0 - floor_1)) / (n as f64 - 1.0);
        (fixed, per_resource)
    });
    if let Some((fixed, per_resource)) = split {
        println!();
        println!(
            "plan -refresh=false of 1 resource: testing_null {:.0} ms, terraform_data {:.0} ms: a plugin's fixed cost is {:.0} ms; \
             the rest of the gap at N = {n} is {:.0} us per resource",
            ours_1 * 1000.0,
            floor_1 * 1000.0,
            fixed * 1000.0,
            per_resource * 1e6
        );
    }
    // The targets, with the same-work reference beside them.
    let null_ref = figures.iter().find(|f| f.label == "null_resource");
    println!();
    println!("| target | measured | wanted | met |");
    println!("|---|---|---|---|");
    if let Some(r) = ref_start {
        let ratio = ours_start / r;
        println!(
            "| start to handshake vs the tf-provider null example | {ratio:.2}x | <= 2.00x | {} |",
            yes_no(ratio <= 2.0)
        );
    }
    if let Some(o) = ours_null {
        let ratio = o.plan.0 / floor.plan.0;
        println!(
            "| plan -refresh=false, {n} testing_null vs {n} terraform_data | {ratio:.2}x | <= 1.10x | {} |",
            yes_no(ratio <= 1.1)
        );
        if let Some(r) = null_ref {
            println!(
                "| the same, the null example with TCP_NODELAY vs terraform_data (same work, other server) | {:.2}x | - | - |",
                r.plan.0 / floor.plan.0
            );
            println!(
                "| the same, ours vs the null example with TCP_NODELAY | {:.2}x (CPU {:.2}x) | - | - |",
                o.plan.0 / r.plan.0,
                o.plan.1 / r.plan.1
            );
        }
    }
    let json = serde_json::json!({
        "plan_one_resource_s": {"testing_null": ours_1, "terraform_data": floor_1},
        "plan_gap_split": split.map(|(fixed, per)| serde_json::json!({"fixed_s": fixed, "per_resource_s": per})),
        "n": n,
        "plan_runs": runs,
        "start_to_handshake_ms": {"ours": ours_start, "reference": ref_start},
        "workloads": figures.iter().map(|f| serde_json::json!({
            "resource": f.label,
            "what": f.what,
            "plan_refresh_false": {"wall_s": f.plan.0, "cpu_s": f.plan.1, "ratio_to_terraform_data": f.plan.0 / floor.plan.0, "ratio_to_terraform_data_input": f.plan.0 / floor_input.plan.0},
            "apply": {"wall_s": f.apply.0, "cpu_s": f.apply.1, "ratio_to_terraform_data": f.apply.0 / floor.apply.0, "ratio_to_terraform_data_input": f.apply.0 / floor_input.apply.0},
        })).collect::<Vec<_>>(),
    });
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/plugin_server.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).expect("json")).expect("write json");
    println!("figures written to {}", out.display());
}
