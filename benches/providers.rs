//! Provider benchmark (run with `scripts/bench.sh`, or `cargo bench --bench providers`).
//!
//! Measures the `comwit` provider the way Terraform users feel it, next to two references
//! measured in the same run:
//! - the floor: Terraform's built-in `terraform_data` (no plugin, no API);
//! - a Go provider (terraform-plugin-go/sdk, protocol 6) named by `BENCH_GO_PROVIDER`
//!   (`scripts/bench.sh` installs the `workato-terraform-provider` 0.16.0 package and points
//!   this at its linux_amd64 binary), for start-up time and memory.
//!
//! Figures:
//! - plugin start to handshake line (median of many interleaved runs) and the resident
//!   memory right after the handshake line, ours and the Go provider's;
//! - `terraform apply` (each into a fresh workspace and, for ours, a fresh emulator) and a
//!   refreshing `terraform plan` (which must find no changes) of N `comwit_database` (with
//!   `count`) against the local emulator, next to N `terraform_data`, for each N; the two
//!   kinds alternate so that load changes hit both alike;
//! - for each of our runs: API requests by route and new TCP connections (the emulator's
//!   stats), the peak memory (VmHWM) of the `terraform-provider-comwit` processes Terraform
//!   started (polled from /proc every 10 ms), how many the poll saw;
//! - where the CPU went: Terraform's own process, our provider processes, the emulator, and
//!   the state file's size per resource;
//! - the emulator's own throughput on `GET /v1/databases/{database}` under concurrent load.
//!
//! Prints tables and writes the same figures to `target/bench/providers.json`. Everything
//! temporary (emulator state, Terraform workspaces) lives in a temp dir.
//!
//! Knobs (environment): `BENCH_NS` (default `100,500,1000`), `BENCH_RUNS` (timed applies
//! per figure, median; default 3), `BENCH_PLAN_RUNS` (timed plans, default 5), `BENCH_STARTUP_RUNS` (default 41), `BENCH_LOAD_SECS`
//! (default 3), `BENCH_LOAD_CLIENTS` (default 16), `BENCH_GO_PROVIDER`, `TERRAFORM_BIN`
//! (default `.tools/bin/terraform` from `scripts/setup.sh`).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;
#[path = "../tests/support/mod.rs"]
mod support;

use common::{cpu_ticks, median, yes_no, TICKS_PER_S};
use support::plugin_client::{ClientCert, COOKIE};
use support::{terraform_bin, Terraform};

/// What our provider's processes are called (matched in /proc/<pid>/cmdline).
const OUR_BINARY: &str = "terraform-provider-comwit";
const CREATE_ROUTE: &str = "POST /v1/projects/{project}/databases";
const READ_ROUTE: &str = "GET /v1/databases/{database}";
/// Terraform's default `-parallelism`: up to this many connections count as "reused".
const PARALLELISM: u64 = 10;
/// Targets from the issue.
const STARTUP_TARGET: f64 = 0.25;
const MEMORY_TARGET: f64 = 1.0 / 3.0;
const TIME_TARGET: f64 = 1.10;
/// "Linear": the per-resource cost of the last N interval is within this factor of the
/// first interval's.
const LINEAR_TARGET: f64 = 1.25;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

// ---- the machine ----------------------------------------------------------------------

fn loadavg() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut it = text
        .split_whitespace()
        .map(|s| s.parse().unwrap_or(f64::NAN));
    [
        it.next().unwrap_or(f64::NAN),
        it.next().unwrap_or(f64::NAN),
        it.next().unwrap_or(f64::NAN),
    ]
}

/// Clock ticks of the whole machine so far (all CPUs, from /proc/stat): busy (user, nice,
/// system, irq, softirq) and steal (time the hypervisor gave this machine's CPUs to others).
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let f: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let at = |i: usize| f.get(i).copied().unwrap_or(0);
    (at(0) + at(1) + at(2) + at(5) + at(6), at(7))
}

/// Clock ticks used by this process and the children it has waited for (Terraform, the
/// providers Terraform waited for, emulators, the providers started for timing).
fn own_ticks() -> u64 {
    cpu_ticks(std::process::id()).map_or(0, |(own, children)| own + children)
}

fn machine() -> Value {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_total_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let terraform = Command::new(terraform_bin())
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .stderr(Stdio::null())
        .output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    json!({
        "nproc": nproc,
        "mem_total_mib": mem_total_kb / 1024,
        "cpu": cpu,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
        "terraform": terraform,
    })
}

// ---- /proc ------------------------------------------------------------------------------

/// Resident memory of a live process (kB), from /proc/<pid>/status.
#[derive(Default, Clone, Copy)]
struct Mem {
    rss: u64,
    hwm: u64,
    /// Private (anonymous) resident memory; the rest of RSS is file pages, mostly code.
    anon: u64,
}

fn memory(pid: u32) -> Option<Mem> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some(Mem {
        rss: field("VmRSS:")?,
        hwm: field("VmHWM:")?,
        anon: field("RssAnon:").unwrap_or(0),
    })
}

/// User + system CPU seconds of a live process.
fn cpu_seconds(pid: u32) -> f64 {
    cpu_ticks(pid).map_or(0.0, |(own, _)| own as f64 / TICKS_PER_S)
}

/// Direct children of `pid` (every thread's `children` file: a Go program forks from any
/// of its threads).
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        if let Ok(text) = std::fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

fn is_ours(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(OUR_BINARY))
        .unwrap_or(false)
}

/// What the /proc sampler saw during one Terraform command.
#[derive(Default, Clone, Copy)]
struct Sampled {
    /// Highest VmHWM of any of our provider processes (kB).
    peak_kb: u64,
    /// Highest RssAnon of any of our provider processes (kB).
    peak_anon_kb: u64,
    /// How many of our provider processes the sampler saw.
    starts: usize,
    /// CPU seconds of Terraform's own process (last poll before it exited).
    terraform_cpu_s: f64,
    /// CPU seconds of our provider processes (each one's last poll).
    provider_cpu_s: f64,
}

/// Longest a Terraform command may run before the sampler kills it (a hang fails the
/// benchmark instead of stalling it).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

/// Polls the children of `terraform` every 10 ms until `stop`, keeping the highest VmHWM
/// and the CPU time of our provider processes, and Terraform's own CPU time.
fn sample_providers(terraform: u32, stop: &AtomicBool) -> Sampled {
    let started = Instant::now();
    let mut killed = false;
    let mut seen: HashMap<u32, bool> = HashMap::new();
    let mut provider_ticks: HashMap<u32, u64> = HashMap::new();
    let mut terraform_ticks = 0;
    let mut peak = 0;
    let mut peak_anon = 0;
    loop {
        if let Some((own, _)) = cpu_ticks(terraform) {
            terraform_ticks = own;
        }
        for pid in children(terraform) {
            let ours = *seen.entry(pid).or_insert_with(|| is_ours(pid));
            if ours {
                if let Some(m) = memory(pid) {
                    peak = peak.max(m.rss).max(m.hwm);
                    peak_anon = peak_anon.max(m.anon);
                }
                if let Some((own, _)) = cpu_ticks(pid) {
                    provider_ticks.insert(pid, own);
                }
            }
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if !killed && started.elapsed() > COMMAND_TIMEOUT {
            eprintln!("terraform ran past {COMMAND_TIMEOUT:?}: killing it");
            let _ = Command::new("kill")
                .args(["-KILL", &terraform.to_string()])
                .status();
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Sampled {
        peak_kb: peak,
        peak_anon_kb: peak_anon,
        starts: seen.values().filter(|o| **o).count(),
        terraform_cpu_s: terraform_ticks as f64 / TICKS_PER_S,
        provider_cpu_s: provider_ticks.values().sum::<u64>() as f64 / TICKS_PER_S,
    }
}

// ---- plugin start-up --------------------------------------------------------------------

struct Startup {
    ms: f64,
    rss_kb: u64,
    anon_kb: u64,
}

/// Starts `bin` with the environment Terraform gives a plugin; milliseconds from spawn to
/// the first stdout line, and VmRSS read right after it.
fn start_to_handshake(bin: &Path, cert: &str, socket_dir: &Path) -> Startup {
    let started = Instant::now();
    let mut child = Command::new(bin)
        .env(COOKIE.0, COOKIE.1)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", cert)
        .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir)
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("handshake line");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let mem = memory(child.id()).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with("1|6|") && line.contains("|grpc|"),
        "{} did not print a protocol-6 handshake line: {line:?}",
        bin.display()
    );
    Startup {
        ms,
        rss_kb: mem.rss,
        anon_kb: mem.anon,
    }
}

// ---- the emulator -----------------------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct Stats {
    requests: u64,
    by_route: BTreeMap<String, u64>,
    connections: u64,
}

impl Stats {
    fn from_json(v: &Value) -> Stats {
        Stats {
            requests: v["requests"].as_u64().unwrap_or(0),
            by_route: v["by_route"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default(),
            connections: v["connections"].as_u64().unwrap_or(0),
        }
    }

    fn routes_text(&self) -> String {
        if self.by_route.is_empty() {
            return "-".into();
        }
        self.by_route
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Exactly `n` requests, all on `route`, over at most [`PARALLELISM`] connections.
    fn ideal(&self, route: &str, n: u64) -> bool {
        self.requests == n
            && self.by_route.len() == 1
            && self.by_route.get(route) == Some(&n)
            && self.connections <= PARALLELISM
    }
}

/// The harness's emulator (`support::Emulator`: spawn, listening line, secrets) with the
/// bench's admin client.
struct Emulator {
    inner: support::Emulator,
    url: String,
    token: String,
    admin_secret: String,
    /// Admin client without connection reuse: each admin call opens exactly one connection
    /// (counted in `connections`), which [`Emulator::admin_connections`] measures.
    admin: reqwest::Client,
    admin_connections: u64,
}

impl Emulator {
    fn start(rt: &tokio::runtime::Runtime) -> Emulator {
        let inner = support::Emulator::start();
        let admin = {
            let _guard = rt.enter();
            reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client")
        };
        let mut emulator = Emulator {
            url: inner.url().to_owned(),
            token: inner.token().to_owned(),
            admin_secret: inner.admin_secret().to_owned(),
            inner,
            admin,
            admin_connections: 0,
        };
        // How many connections reading the stats itself adds (its own connection).
        emulator.reset_stats(rt);
        emulator.admin_connections = emulator.raw_stats(rt).connections;
        emulator
    }

    fn pid(&self) -> u32 {
        self.inner.pid().expect("the emulator runs")
    }

    fn admin_call(
        &self,
        rt: &tokio::runtime::Runtime,
        method: reqwest::Method,
        path: &str,
    ) -> Value {
        let url = format!("{}{path}", self.url);
        let headers = [("X-Emulator-Admin", self.admin_secret.as_str())];
        let reply = rt
            .block_on(support::emulator::send(
                &self.admin,
                method,
                &url,
                None,
                &headers,
                None,
            ))
            .expect("admin request");
        assert!(
            reply.status.is_success(),
            "{path}: {} {}",
            reply.status,
            reply.body
        );
        reply.body
    }

    fn reset_stats(&self, rt: &tokio::runtime::Runtime) {
        self.admin_call(rt, reqwest::Method::POST, "/_emulator/stats/reset");
    }

    fn raw_stats(&self, rt: &tokio::runtime::Runtime) -> Stats {
        Stats::from_json(&self.admin_call(rt, reqwest::Method::GET, "/_emulator/stats"))
    }

    /// Stats since the last reset, without the admin call's own connection.
    fn stats(&self, rt: &tokio::runtime::Runtime) -> Stats {
        let mut s = self.raw_stats(rt);
        s.connections = s.connections.saturating_sub(self.admin_connections);
        s
    }

    fn database_ids(&self, rt: &tokio::runtime::Runtime) -> Vec<String> {
        let v = self.admin_call(rt, reqwest::Method::GET, "/_emulator/databases");
        v["databases"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|d| d["deleted"] == Value::Bool(false))
                    .filter_map(|d| d["database_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

// ---- Terraform workspaces ---------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Comwit,
    TerraformData,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Comwit => "comwit_database",
            Kind::TerraformData => "terraform_data",
        }
    }

    fn config(self, n: usize) -> String {
        match self {
            Kind::Comwit => format!(
                "terraform {{\n  required_providers {{\n    comwit = {{ source = \"comwit/comwit\" }}\n  }}\n}}\n\n\
                 resource \"comwit_database\" \"db\" {{\n  count = {n}\n  name  = \"db-${{count.index}}\"\n}}\n"
            ),
            Kind::TerraformData => format!(
                "resource \"terraform_data\" \"db\" {{\n  count = {n}\n  input = \"db-${{count.index}}\"\n}}\n"
            ),
        }
    }
}

/// A workspace of the harness's Terraform runner under the bench's temp dir.
struct Workspace {
    tf: Terraform,
}

/// One timed Terraform command.
#[derive(Clone)]
struct Run {
    secs: f64,
    sampled: Sampled,
    stats: Option<Stats>,
    emulator_cpu_s: f64,
    /// Size of `terraform.tfstate` afterwards.
    state_bytes: u64,
}

impl Workspace {
    /// A workspace under `root` whose CLI config serves `comwit/comwit` from our binary
    /// (used for both kinds, so both pay the same CLI-config cost).
    fn new(root: &Path, name: &str, kind: Kind, n: usize, emulator: &Emulator) -> Workspace {
        let mut builder = Terraform::builder()
            .root(root.join(name))
            .comwit_provider()
            .without_provider_log();
        if kind == Kind::Comwit {
            builder = builder.emulator_env(&emulator.inner);
        }
        let tf = builder.build();
        tf.write_main(&kind.config(n));
        Workspace { tf }
    }

    /// Runs `terraform <args>`, expecting one of `codes`; times it from spawn to exit while
    /// a thread samples our provider processes; reads the emulator's stats when given.
    fn run(
        &self,
        args: &[&str],
        codes: &[i32],
        emulator: Option<(&Emulator, &tokio::runtime::Runtime)>,
    ) -> Run {
        if let Some((emu, rt)) = emulator {
            emu.reset_stats(rt);
        }
        let cpu_before = emulator.map_or(0.0, |(e, _)| cpu_seconds(e.pid()));
        let out_path = self.tf.dir().join("terraform.out");
        let out = std::fs::File::create(&out_path).expect("output file");
        let err = out.try_clone().expect("output file");
        let stop = AtomicBool::new(false);
        let (secs, status, sampled) = std::thread::scope(|s| {
            let started = Instant::now();
            let mut child = self
                .tf
                .command(args)
                .stdin(Stdio::null())
                .stdout(Stdio::from(out))
                .stderr(Stdio::from(err))
                .spawn()
                .expect("start terraform");
            let pid = child.id();
            let stop = &stop;
            let sampler = s.spawn(move || sample_providers(pid, stop));
            let status = child.wait();
            let secs = started.elapsed().as_secs_f64();
            stop.store(true, Ordering::Relaxed);
            let status = status.expect("wait for terraform");
            (secs, status, sampler.join().expect("sampler"))
        });
        let code = status.code().unwrap_or(-1);
        if !codes.contains(&code) {
            let mut text = String::new();
            let _ = std::fs::File::open(&out_path).and_then(|mut f| f.read_to_string(&mut text));
            panic!(
                "terraform {} exited {code} in {}:\n{text}",
                args.join(" "),
                self.tf.dir().display()
            );
        }
        let stats = emulator.map(|(e, rt)| e.stats(rt));
        let emulator_cpu_s = emulator.map_or(0.0, |(e, _)| cpu_seconds(e.pid()) - cpu_before);
        let state_bytes =
            std::fs::metadata(self.tf.dir().join("terraform.tfstate")).map_or(0, |m| m.len());
        Run {
            secs,
            sampled,
            stats,
            emulator_cpu_s,
            state_bytes,
        }
    }
}

const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false", "-no-color"];
/// A refreshing plan that must find no changes (exit code 0 with `-detailed-exitcode`).
const PLAN: &[&str] = &[
    "plan",
    "-input=false",
    "-no-color",
    "-lock=false",
    "-detailed-exitcode",
];

/// All timed runs of one (kind, N, command).
struct Series {
    kind: Kind,
    n: usize,
    command: &'static str,
    runs: Vec<Run>,
}

impl Series {
    /// The median of `f` over the runs.
    fn med(&self, f: impl Fn(&Run) -> f64) -> f64 {
        median(&self.runs.iter().map(f).collect::<Vec<_>>())
    }

    fn median_s(&self) -> f64 {
        self.med(|r| r.secs)
    }

    fn peak_anon_kb(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| r.sampled.peak_anon_kb)
            .max()
            .unwrap_or(0)
    }

    fn peak_kb(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| r.sampled.peak_kb)
            .max()
            .unwrap_or(0)
    }

    fn starts(&self) -> usize {
        self.runs
            .iter()
            .map(|r| r.sampled.starts)
            .max()
            .unwrap_or(0)
    }

    /// The stats of the run with the most requests (all runs should be equal).
    fn worst_stats(&self) -> Option<Stats> {
        self.runs
            .iter()
            .filter_map(|r| r.stats.clone())
            .max_by_key(|s| (s.requests, s.connections))
    }

    fn all_ideal(&self) -> bool {
        let route = if self.command == "apply" {
            CREATE_ROUTE
        } else {
            READ_ROUTE
        };
        self.runs.iter().all(|r| {
            r.stats
                .as_ref()
                .is_some_and(|s| s.ideal(route, self.n as u64))
        })
    }

    fn json(&self) -> Value {
        json!({
            "kind": self.kind.name(),
            "n": self.n,
            "command": self.command,
            "median_s": self.median_s(),
            "samples_s": self.runs.iter().map(|r| r.secs).collect::<Vec<_>>(),
            "provider_peak_kb": (self.kind == Kind::Comwit).then(|| self.peak_kb()),
            "provider_peak_anon_kb": (self.kind == Kind::Comwit).then(|| self.peak_anon_kb()),
            "plugin_starts": (self.kind == Kind::Comwit).then(|| self.starts()),
            "terraform_cpu_s": self.med(|r| r.sampled.terraform_cpu_s),
            "provider_cpu_s": (self.kind == Kind::Comwit).then(|| self.med(|r| r.sampled.provider_cpu_s)),
            "emulator_cpu_s": (self.kind == Kind::Comwit).then(|| self.med(|r| r.emulator_cpu_s)),
            "state_bytes": self.med(|r| r.state_bytes as f64),
            "api": self.worst_stats().map(|s| json!({
                "requests": s.requests,
                "by_route": s.by_route,
                "connections": s.connections,
                "ideal": self.all_ideal(),
            })),
        })
    }
}

/// Applies N resources of both kinds `runs` times (each time into a fresh workspace, and
/// for ours a fresh emulator, so no destroy is needed), then plans the last ones `runs`
/// times; the kinds alternate so that load changes hit both alike. Returns the last
/// emulator (it holds N databases).
fn measure_n(
    rt: &tokio::runtime::Runtime,
    root: &Path,
    n: usize,
    runs: usize,
    plan_runs: usize,
) -> (Emulator, Vec<Series>) {
    let kinds = [Kind::Comwit, Kind::TerraformData];
    let mut applies: Vec<Vec<Run>> = vec![vec![]; kinds.len()];
    let mut plans: Vec<Vec<Run>> = vec![vec![]; kinds.len()];
    let mut last = None;
    for round in 0..runs {
        let emulator = Emulator::start(rt);
        let spaces: Vec<Workspace> = kinds
            .iter()
            .map(|k| {
                let name = format!("{}-{n}-{round}", k.name());
                Workspace::new(root, &name, *k, n, &emulator)
            })
            .collect();
        for (i, (kind, ws)) in kinds.iter().zip(&spaces).enumerate() {
            eprintln!("  N={n} {}: apply {}/{runs}", kind.name(), round + 1);
            let emu = (*kind == Kind::Comwit).then_some((&emulator, rt));
            applies[i].push(ws.run(APPLY, &[0], emu));
        }
        last = Some((emulator, spaces));
    }
    let (emulator, spaces) = last.expect("at least one run");
    for round in 0..plan_runs {
        for (i, (kind, ws)) in kinds.iter().zip(&spaces).enumerate() {
            eprintln!("  N={n} {}: plan {}/{plan_runs}", kind.name(), round + 1);
            let emu = (*kind == Kind::Comwit).then_some((&emulator, rt));
            plans[i].push(ws.run(PLAN, &[0], emu));
        }
    }
    let mut series = Vec::new();
    for (i, kind) in kinds.iter().enumerate() {
        series.push(Series {
            kind: *kind,
            n,
            command: "apply",
            runs: std::mem::take(&mut applies[i]),
        });
        series.push(Series {
            kind: *kind,
            n,
            command: "plan",
            runs: std::mem::take(&mut plans[i]),
        });
    }
    (emulator, series)
}

// ---- emulator load ----------------------------------------------------------------------

struct Load {
    clients: usize,
    secs: f64,
    requests: u64,
    errors: u64,
    p50_ms: f64,
    p99_ms: f64,
    counted: u64,
}

/// `clients` tasks, each with its own keep-alive connection, read databases round robin
/// for `secs` seconds (after one warm-up request each).
fn emulator_load(rt: &tokio::runtime::Runtime, emu: &Emulator, clients: usize, secs: f64) -> Load {
    let ids = Arc::new(emu.database_ids(rt));
    assert!(!ids.is_empty(), "no databases to read");
    let window = Duration::from_secs_f64(secs);
    let barrier = Arc::new(tokio::sync::Barrier::new(clients));
    let url = emu.url.clone();
    let token = emu.token.clone();
    let tasks = (0..clients).map(|c| {
        let ids = ids.clone();
        let barrier = barrier.clone();
        let url = url.clone();
        let token = token.clone();
        async move {
            let http = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client");
            let get = |i: usize| {
                http.get(format!("{url}/v1/databases/{}", ids[i % ids.len()]))
                    .bearer_auth(&token)
                    .send()
            };
            let _ = get(c).await.map(|r| r.status());
            barrier.wait().await;
            let started = Instant::now();
            let mut latencies_us = Vec::new();
            let mut errors = 0u64;
            let mut i = c * 7919;
            while started.elapsed() < window {
                let t = Instant::now();
                match get(i).await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies_us.push(t.elapsed().as_micros() as u64);
                    }
                    _ => errors += 1,
                }
                i += 1;
            }
            (latencies_us, errors, started.elapsed().as_secs_f64())
        }
    });
    emu.reset_stats(rt);
    let results = rt.block_on(futures::future::join_all(tasks));
    let counted = emu.stats(rt).requests;
    let mut all: Vec<u64> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    let elapsed = results.iter().map(|r| r.2).fold(0.0, f64::max);
    Load {
        clients,
        secs: elapsed,
        requests: all.len() as u64,
        errors: results.iter().map(|r| r.1).sum(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        counted,
    }
}

// ---- report -----------------------------------------------------------------------------

/// The time at the largest N over the straight line through the first two points: 1.0 is
/// exactly linear, above 1 grows faster than linear.
fn beyond_linear(points: &[(usize, f64)]) -> f64 {
    let ((n0, t0), (n1, t1)) = (points[0], points[1]);
    let (n, t) = points[points.len() - 1];
    let slope = (t1 - t0) / (n1 - n0) as f64;
    t / (t0 + slope * (n - n0) as f64).max(1e-9)
}

/// Milliseconds per resource between consecutive N (the marginal cost).
fn slopes(points: &[(usize, f64)]) -> Vec<f64> {
    points
        .windows(2)
        .map(|w| (w[1].1 - w[0].1) * 1000.0 / (w[1].0 - w[0].0) as f64)
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / test harness probing
    }
    let mut ns: Vec<usize> = std::env::var("BENCH_NS")
        .unwrap_or_else(|_| "100,500,1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .filter(|n| *n > 0)
        .collect();
    ns.sort_unstable();
    ns.dedup();
    assert!(!ns.is_empty(), "BENCH_NS names no N");
    let runs: usize = env_or("BENCH_RUNS", 3).max(1);
    let plan_runs: usize = env_or("BENCH_PLAN_RUNS", 5).max(1);
    let startup_runs: usize = env_or("BENCH_STARTUP_RUNS", 41).max(1);
    let load_secs: f64 = env_or("BENCH_LOAD_SECS", 3.0);
    let load_clients: usize = env_or("BENCH_LOAD_CLIENTS", 16).max(1);
    let go = std::env::var_os("BENCH_GO_PROVIDER")
        .map(PathBuf::from)
        .filter(|p| !p.as_os_str().is_empty());
    if let Some(go) = &go {
        assert!(
            go.is_file(),
            "BENCH_GO_PROVIDER {} is missing",
            go.display()
        );
    }
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-comwit"));
    let load_start = loadavg();
    let (machine_start, own_start) = (machine_ticks(), own_ticks());
    let bench_started = Instant::now();
    let machine = machine();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let tmp = tempfile::Builder::new()
        .prefix("comwit-bench-")
        .tempdir()
        .expect("temp dir");

    // 1. Start-up: interleaved, so that load changes hit both alike.
    eprintln!("providers bench: start-up ({startup_runs} runs each)");
    let cert = ClientCert::generate().pem;
    let mut ours_up = Vec::new();
    let mut go_up = Vec::new();
    for _ in 0..startup_runs {
        ours_up.push(start_to_handshake(&ours, &cert, tmp.path()));
        if let Some(go) = &go {
            go_up.push(start_to_handshake(go, &cert, tmp.path()));
        }
    }
    let ms = |v: &[Startup]| median(&v.iter().map(|s| s.ms).collect::<Vec<_>>());
    let rss = |v: &[Startup]| median(&v.iter().map(|s| s.rss_kb as f64).collect::<Vec<_>>());
    let anon = |v: &[Startup]| median(&v.iter().map(|s| s.anon_kb as f64).collect::<Vec<_>>());
    let ours_start_ms = ms(&ours_up);
    let ours_start_rss = rss(&ours_up);
    let go_start_ms = (!go_up.is_empty()).then(|| ms(&go_up));
    let go_start_rss = (!go_up.is_empty()).then(|| rss(&go_up));
    let ours_start_anon = anon(&ours_up);
    let go_start_anon = (!go_up.is_empty()).then(|| anon(&go_up));

    // 2. Terraform runs, one fresh emulator per N.
    let mut series: Vec<Series> = Vec::new();
    let mut last_emulator = None;
    for &n in &ns {
        eprintln!("providers bench: N = {n}");
        let (emu, s) = measure_n(&rt, tmp.path(), n, runs, plan_runs);
        series.extend(s);
        last_emulator = Some(emu);
    }
    let find = |kind: Kind, n: usize, command: &str| {
        series
            .iter()
            .find(|s| s.kind == kind && s.n == n && s.command == command)
            .expect("series")
    };

    // 3. The emulator under load, on the largest N's databases.
    eprintln!("providers bench: emulator load ({load_clients} clients, {load_secs} s)");
    let emu = last_emulator.expect("an emulator");
    let load = emulator_load(&rt, &emu, load_clients, load_secs);
    drop(emu);
    let load_rate = load.requests as f64 / load.secs;
    let busiest_rate = series
        .iter()
        .filter(|s| s.kind == Kind::Comwit)
        .map(|s| s.worst_stats().map_or(0, |st| st.requests) as f64 / s.median_s())
        .fold(0.0, f64::max);

    let load_end = loadavg();
    let total_s = bench_started.elapsed().as_secs_f64();
    // How busy the machine was besides this benchmark: CPU that other processes took (the
    // machine's busy time less this process tree's; per-process and per-CPU accounting
    // differ by a little, so about 0 means idle), and steal (the host running others).
    let (machine_end, own_end) = (machine_ticks(), own_ticks());
    let cpus = |ticks: f64| ticks / TICKS_PER_S / total_s;
    let others_cpus =
        cpus((machine_end.0 - machine_start.0) as f64 - (own_end - own_start) as f64).max(0.0);
    let own_cpus = cpus((own_end - own_start) as f64);
    let steal_cpus = cpus((machine_end.1 - machine_start.1) as f64);

    // ---- targets ----
    let largest = *ns.last().expect("n");
    let ours_peak_kb = find(Kind::Comwit, largest, "apply").peak_kb();
    let ours_peak_anon_kb = find(Kind::Comwit, largest, "apply").peak_anon_kb();
    let mut targets: Vec<(String, String, String, bool)> = Vec::new();
    if let (Some(go_ms), Some(go_rss)) = (go_start_ms, go_start_rss) {
        let r = ours_start_ms / go_ms;
        targets.push((
            "start-up vs Go provider".into(),
            format!("{r:.2}x"),
            format!("<= {STARTUP_TARGET:.2}x"),
            r <= STARTUP_TARGET,
        ));
        let r = ours_peak_kb as f64 / go_rss;
        targets.push((
            format!("memory (our peak, apply N={largest}) vs Go provider after handshake"),
            format!("{r:.2}x"),
            format!("<= {MEMORY_TARGET:.2}x"),
            r <= MEMORY_TARGET,
        ));
    }
    for &n in &ns {
        for command in ["apply", "plan"] {
            let r = find(Kind::Comwit, n, command).median_s()
                / find(Kind::TerraformData, n, command).median_s();
            targets.push((
                format!("{command} N={n} vs terraform_data"),
                format!("{r:.2}x"),
                format!("<= {TIME_TARGET:.2}x"),
                r <= TIME_TARGET,
            ));
        }
    }
    for &n in &ns {
        for command in ["apply", "plan"] {
            let s = find(Kind::Comwit, n, command);
            let st = s.worst_stats().unwrap_or_default();
            targets.push((
                format!("API requests, {command} N={n}"),
                format!("{} requests, {} connections", st.requests, st.connections),
                format!("{n} requests, <= {PARALLELISM} connections"),
                s.all_ideal(),
            ));
        }
    }
    let mut linearity = Vec::new();
    if ns.len() >= 3 {
        for kind in [Kind::Comwit, Kind::TerraformData] {
            for command in ["apply", "plan"] {
                let points: Vec<(usize, f64)> = ns
                    .iter()
                    .map(|&n| (n, find(kind, n, command).median_s()))
                    .collect();
                let sl = slopes(&points);
                let growth = beyond_linear(&points);
                linearity.push((kind, command, sl, growth));
            }
        }
        for (kind, command, _, growth) in &linearity {
            if *kind == Kind::Comwit {
                targets.push((
                    format!(
                        "{command} time linear in N (N={largest} measured / extrapolated from the first two N)"
                    ),
                    format!("{growth:.2}x"),
                    format!("<= {LINEAR_TARGET:.2}x"),
                    *growth <= LINEAR_TARGET,
                ));
            }
        }
    }

    // ---- print ----
    let load_text = |l: [f64; 3]| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]);
    println!();
    println!(
        "providers benchmark: {}, {} CPUs, {} MiB; load average {} at start, {} at end (this benchmark included); this benchmark used {own_cpus:.2} CPUs on average, other processes {others_cpus:.2}, steal {steal_cpus:.2}; medians of {} applies and {plan_runs} plans; {:.0} s",
        machine["terraform"].as_str().unwrap_or("terraform"),
        machine["nproc"],
        machine["mem_total_mib"],
        load_text(load_start),
        load_text(load_end),
        runs,
        total_s
    );
    println!();
    println!("| measure | comwit (ours) | reference | ratio |");
    println!("|---|---|---|---|");
    match (go_start_ms, go_start_rss) {
        (Some(go_ms), Some(go_rss)) => {
            println!(
                "| start to handshake line (median of {startup_runs}) | {ours_start_ms:.1} ms | {go_ms:.1} ms (Go provider) | {:.2}x |",
                ours_start_ms / go_ms
            );
            println!(
                "| provider memory (RSS) | {:.1} MiB peak during apply N={largest} ({:.1} MiB after handshake) | {:.1} MiB after handshake (Go provider) | {:.2}x |",
                mib(ours_peak_kb),
                ours_start_rss / 1024.0,
                go_rss / 1024.0,
                ours_peak_kb as f64 / go_rss
            );
            let go_anon = go_start_anon.unwrap_or(0.0);
            println!(
                "| of which private (RssAnon) | {:.1} MiB peak during apply N={largest} ({:.1} MiB after handshake) | {:.1} MiB after handshake (Go provider) | {:.2}x |",
                mib(ours_peak_anon_kb),
                ours_start_anon / 1024.0,
                go_anon / 1024.0,
                ours_peak_anon_kb as f64 / go_anon.max(1.0)
            );
        }
        _ => {
            println!(
                "| start to handshake line (median of {startup_runs}) | {ours_start_ms:.1} ms | (set BENCH_GO_PROVIDER) | - |"
            );
            println!(
                "| provider memory | {:.1} MiB peak during apply N={largest} ({:.1} MiB after handshake) | (set BENCH_GO_PROVIDER) | - |",
                mib(ours_peak_kb),
                ours_start_rss / 1024.0
            );
        }
    }
    for &n in &ns {
        for (command, label) in [("apply", "apply"), ("plan", "plan (refresh)")] {
            let ours = find(Kind::Comwit, n, command).median_s();
            let floor = find(Kind::TerraformData, n, command).median_s();
            println!(
                "| {label}, N={n} | {ours:.2} s | {floor:.2} s (terraform_data) | {:.2}x |",
                ours / floor
            );
        }
    }
    println!();
    println!("| our run | API requests (by route) | ideal | new connections | plugin starts seen | provider peak |");
    println!("|---|---|---|---|---|---|");
    for &n in &ns {
        for command in ["apply", "plan"] {
            let s = find(Kind::Comwit, n, command);
            let st = s.worst_stats().unwrap_or_default();
            let ideal = if command == "apply" {
                format!("{n} creates")
            } else {
                format!("{n} reads")
            };
            println!(
                "| {command} N={n} | {} ({}) | {ideal}: {} | {} (<= {PARALLELISM}) | {} | {:.1} MiB |",
                st.requests,
                st.routes_text(),
                yes_no(s.all_ideal()),
                st.connections,
                s.starts(),
                mib(s.peak_kb()),
            );
        }
    }
    println!();
    println!("| seconds (medians) | wall | Terraform CPU | our provider CPU | emulator CPU | Terraform's extra CPU per resource vs terraform_data | state bytes per resource |");
    println!("|---|---|---|---|---|---|---|");
    for &n in &ns {
        for command in ["apply", "plan"] {
            let ours = find(Kind::Comwit, n, command);
            let floor = find(Kind::TerraformData, n, command);
            let tf = |s: &Series| s.med(|r| r.sampled.terraform_cpu_s);
            let per = |s: &Series| s.med(|r| r.state_bytes as f64) / n as f64;
            println!(
                "| {command} N={n}, comwit_database | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} ms | {:.0} |",
                ours.median_s(),
                tf(ours),
                ours.med(|r| r.sampled.provider_cpu_s),
                ours.med(|r| r.emulator_cpu_s),
                (tf(ours) - tf(floor)) * 1000.0 / n as f64,
                per(ours),
            );
            println!(
                "| {command} N={n}, terraform_data | {:.2} | {:.2} | - | - | - | {:.0} |",
                floor.median_s(),
                tf(floor),
                per(floor),
            );
        }
    }
    if !linearity.is_empty() {
        println!();
        let header: Vec<String> = ns
            .windows(2)
            .map(|w| format!("{}→{}", w[0], w[1]))
            .collect();
        println!(
            "| ms per extra resource | {} | N={largest}: measured / extrapolated |",
            header.join(" | ")
        );
        println!("|---|{}---|", "---|".repeat(header.len()));
        for (kind, command, sl, growth) in &linearity {
            let cells: Vec<String> = sl.iter().map(|v| format!("{v:.2}")).collect();
            println!(
                "| {} {command} | {} | {growth:.2}x |",
                kind.name(),
                cells.join(" | ")
            );
        }
    }
    println!();
    println!(
        "emulator: {load_rate:.0} req/s on {READ_ROUTE} ({} clients, {:.1} s, {} requests, {} errors, p50 {:.2} ms, p99 {:.2} ms; it counted {}), {:.0}x the busiest benchmark run's average rate ({busiest_rate:.0} req/s)",
        load.clients,
        load.secs,
        load.requests,
        load.errors,
        load.p50_ms,
        load.p99_ms,
        load.counted,
        load_rate / busiest_rate.max(1e-9),
    );
    println!();
    println!("| target | measured | wanted | met |");
    println!("|---|---|---|---|");
    for (name, value, wanted, met) in &targets {
        println!("| {name} | {value} | {wanted} | {} |", yes_no(*met));
    }

    // ---- JSON ----
    let json = json!({
        "machine": {
            "info": machine,
            "load_average_start": load_start,
            "load_average_end": load_end,
            "this_benchmark_cpus": own_cpus,
            "other_processes_cpus": others_cpus,
            "steal_cpus": steal_cpus,
        },
        "config": {
            "ns": ns,
            "apply_runs": runs,
            "plan_runs": plan_runs,
            "startup_runs": startup_runs,
            "terraform_parallelism": PARALLELISM,
            "go_provider": go.as_ref().map(|p| p.display().to_string()),
        },
        "total_s": total_s,
        "startup": {
            "ours_ms": ours_start_ms,
            "go_ms": go_start_ms,
            "ratio": go_start_ms.map(|g| ours_start_ms / g),
            "ours_rss_kb": ours_start_rss,
            "go_rss_kb": go_start_rss,
            "ours_anon_kb": ours_start_anon,
            "go_anon_kb": go_start_anon,
            "ours_samples_ms": ours_up.iter().map(|s| s.ms).collect::<Vec<_>>(),
            "go_samples_ms": go_up.iter().map(|s| s.ms).collect::<Vec<_>>(),
        },
        "memory": {
            "ours_peak_kb_largest_apply": ours_peak_kb,
            "ours_peak_anon_kb_largest_apply": ours_peak_anon_kb,
            "go_rss_kb_after_handshake": go_start_rss,
            "ratio": go_start_rss.map(|g| ours_peak_kb as f64 / g),
        },
        "runs": series.iter().map(Series::json).collect::<Vec<_>>(),
        "ratios": ns.iter().map(|&n| json!({
            "n": n,
            "apply": find(Kind::Comwit, n, "apply").median_s() / find(Kind::TerraformData, n, "apply").median_s(),
            "plan": find(Kind::Comwit, n, "plan").median_s() / find(Kind::TerraformData, n, "plan").median_s(),
        })).collect::<Vec<_>>(),
        "linearity_ms_per_resource": linearity.iter().map(|(k, c, sl, g)| json!({
            "kind": k.name(), "command": c, "slopes": sl, "last_over_first": g,
        })).collect::<Vec<_>>(),
        "emulator_load": {
            "route": READ_ROUTE,
            "clients": load.clients,
            "secs": load.secs,
            "requests": load.requests,
            "errors": load.errors,
            "requests_per_s": load_rate,
            "p50_ms": load.p50_ms,
            "p99_ms": load.p99_ms,
            "emulator_counted": load.counted,
            "busiest_run_requests_per_s": busiest_rate,
        },
        "targets": targets.iter().map(|(name, value, wanted, met)| json!({
            "target": name, "measured": value, "wanted": wanted, "met": met,
        })).collect::<Vec<_>>(),
    });
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    std::fs::create_dir_all(&dir).expect("mkdir target/bench");
    let out = dir.join("providers.json");
    std::fs::write(&out, serde_json::to_string_pretty(&json).expect("json")).expect("write json");
    println!();
    println!("figures written to {}", out.display());
}
