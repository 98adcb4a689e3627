//! Scale benchmark (run with `scripts/bench.sh scale`, or `cargo bench --bench scale`).
//!
//! Two parts against one local emulator (Comwit), with the real Terraform CLI:
//!
//! 1. **`terraform query` of N objects of one type.** `comwit_database` is made in bulk
//!    through the API (`POST /v1/projects/{p}/databases`, 8 clients at once), up to each N
//!    (default 1,000, 5,000 and 10,000). For each N: the same listing through the API alone
//!    (`GET /v1/projects/{p}/databases`: Comwit has no paging, so it is one page of N; a
//!    tiny client that reads and decodes it, median of 3), then `terraform query` of a
//!    `list "comwit_database"` block with `limit = 1` (the fixed cost: start-up, schemas,
//!    the one fetch, one item), `limit = N` (identities and display names, what `terraform
//!    query` shows) and `limit = N` with `include_resource = true` (the full objects, what
//!    `-generate-config-out` needs). The provider runs under `/usr/bin/time` (a wrapper
//!    script in `dev_overrides`): its CPU (user + sys, summed over every start of the
//!    plugin in the command) and its largest maximum RSS.
//! 2. **Refresh of N imported resources under a rate limit.** For each N (default 500,
//!    1,000, 2,000): `terraform query -generate-config-out` of the first N databases, an
//!    apply of the N generated `import` blocks (no limit), then `terraform plan
//!    -refresh-only` without a limit (Terraform's own time for the work) and under R
//!    requests/s per token (default 50, bucket of one second's worth: `PUT
//!    /_emulator/rate_limit`, the provider's pacing on, its default): wall time against
//!    N / R, the requests and 429s the emulator counted, and failed operations (a failed
//!    command, or a plan that is not empty). The limited refresh runs with `-json`, whose
//!    timestamps split its time into before the first `refresh_start`, the refresh calls,
//!    and after; it runs again once the applied `import` blocks are deleted.
//!
//! 3. **Refresh of N resources mixed over the three providers** (`BENCH_SCALE_MIXED_NS`,
//!    none by default; issue 22 asks for 10,000), against one emulator serving all three:
//!    a third each of `comwit_database` (through the API, 8 clients at once),
//!    `cloudsync_database` (through the API, all on one SQLite Cloud tenant database) and
//!    `wayscloud_database_firewall_rule`, 50 on each PostgreSQL database: the databases
//!    and the first rule of each through the API, the other rules written into the
//!    platform's state with the emulator stopped (through the API each rule rewrites and
//!    reloads the engine's access rules: 3.3 a second), then the emulator started again.
//!    One `terraform query -json -generate-config-out` of three `list` blocks with
//!    `include_resource`: each found object's generated `resource` block goes into
//!    `generated.tf` (CloudSync's `connection_string`, a secret the API never returns,
//!    filled in as a user would) and its attributes and identity into a state file written
//!    directly (format 4; provider addresses, schema versions and sensitive attributes from
//!    `terraform providers schema -json`): what an import leaves, without Terraform's
//!    import apply, which is superlinear in the number of `import` blocks. Then `plan
//!    -refresh-only -detailed-exitcode -json` without a limit, and under two readings of a
//!    limit of R requests/s: R in all (each platform limited to its share of N times R, so
//!    that every provider's floor, and the whole refresh's, is N / R) and R on each
//!    platform (three vendors, one limit each). Each beside the same reads through the API
//!    alone, each read at its slot of its platform's limit, 10 at a time. Per platform:
//!    requests (the ideal is one read per resource), 429s; per provider (`/usr/bin/time`):
//!    CPU and max RSS; the emulator's CPU; and each type's window of refresh calls from
//!    the `-json` timestamps.
//!
//! Targets (issue 22, "Scale"): the query streams at least as fast as the API's page
//! arrives; refresh within 1.1x of N / R with 0 failed operations; provider memory flat in
//! N.
//!
//! Knobs: `BENCH_SCALE_NS` (1000,5000,10000), `BENCH_SCALE_QUERY_RUNS` (3 runs of each query,
//! interleaved; the median by wall time), `BENCH_SCALE_REFRESH_NS` (500,1000,2000; empty
//! skips part 2), `BENCH_SCALE_RPS` (50), `BENCH_SCALE_MIXED_NS` (none; 10000 for issue 22),
//! `BENCH_SCALE_MIXED_PARALLELISM` (Terraform's `-parallelism` for part 3's refreshes;
//! unset: its default, 10), `BENCH_SCALE_BASELINE` (the path of another build of the
//! Comwit provider, whose queries run interleaved with this build's in part 1),
//! `BENCH_SCALE_PROVIDER_PREFIX` (a command every provider start runs under, e.g. `perf
//! record -g -o /tmp/p/$$.data --`; its CPU counts as the provider's), `TERRAFORM_BIN`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use reqwest::Method;
use serde_json::json;

#[path = "../tests/support/mod.rs"]
mod support;

#[allow(dead_code)] // the shared helpers this benchmark does not need
mod common;

use support::{Emulator, Platform, Terraform, COMWIT_TERRAFORM_BLOCK};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    match std::env::var(name) {
        Ok(v) => v.split(',').filter_map(|s| s.trim().parse().ok()).collect(),
        Err(_) => default.to_vec(),
    }
}

/// The project every database goes to (the emulator's bootstrap project).
const PROJECT: &str = "prj_local";

/// Makes Comwit databases `db-<from>` .. `db-<to - 1>` through the API with 8 clients at
/// once (each is a real SQLite file on the emulator): (seconds, the read path of each).
fn comwit_databases(emu: &Emulator, from: usize, to: usize) -> (f64, Vec<String>) {
    let reads = std::sync::Mutex::new(Vec::with_capacity(to.saturating_sub(from)));
    let comwit = emu.on(Platform::Comwit);
    let started = Instant::now();
    parallel(to.saturating_sub(from), 8, |k| {
        let i = from + k;
        let (code, body) = comwit.api(
            Method::POST,
            &format!("/v1/projects/{PROJECT}/databases"),
            Some(json!({ "name": format!("db-{i:05}") })),
        );
        assert!(code == 200 || code == 201, "create db-{i}: {code} {body}");
        let id = body["database"]["database_id"]
            .as_str()
            .expect("database_id")
            .to_owned();
        reads
            .lock()
            .expect("reads")
            .push(format!("/v1/databases/{id}"));
    });
    let secs = started.elapsed().as_secs_f64();
    (secs, reads.into_inner().expect("reads"))
}

/// The listing through the API alone: (seconds, items, body bytes), median of 3 by time.
fn api_listing(emu: &Emulator) -> (f64, usize, usize) {
    let mut runs: Vec<(f64, usize, usize)> = (0..3)
        .map(|_| {
            let started = Instant::now();
            let body = emu.api_get(&format!("/v1/projects/{PROJECT}/databases"));
            let secs = started.elapsed().as_secs_f64();
            let items = body["databases"].as_array().map_or(0, Vec::len);
            (secs, items, body.to_string().len())
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs[1]
}

/// The Comwit provider binary wrapped in `/usr/bin/time`, which appends one line per start
/// (`user sys maxrss_kb`) to `log`.
fn timed_provider(dir: &Path, log: &Path) -> PathBuf {
    let real = Platform::Comwit.facts().provider_binary;
    timed_binary(dir, log, real)
}

/// `real` (a provider binary) wrapped in `/usr/bin/time` as `dir/<its file name>`; written
/// again, the wrapper runs another binary from the next start on.
fn timed_binary(dir: &Path, log: &Path, real: &str) -> PathBuf {
    let name = Path::new(Platform::Comwit.facts().provider_binary)
        .file_name()
        .map(|n| n.to_owned());
    let real = std::path::absolute(real).expect("absolute provider path");
    let file = if real
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("terraform-provider-"))
    {
        real.file_name().map(|n| n.to_owned())
    } else {
        name
    };
    let wrapper = dir.join(file.expect("a provider file name"));
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec /usr/bin/time -a -o '{}' -f '%U %S %M' {}'{}' \"$@\"\n",
            log.display(),
            // A profiler to run the provider under (`perf record -o DIR/$$.data --`).
            std::env::var("BENCH_SCALE_PROVIDER_PREFIX")
                .map(|p| format!("{p} "))
                .unwrap_or_default(),
            real.display()
        ),
    )
    .expect("write the provider wrapper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
        .expect("chmod the provider wrapper");
    wrapper
}

/// What `/usr/bin/time` logged since it was last read: (starts, CPU s, max RSS KiB).
fn provider_usage(log: &Path) -> (usize, f64, u64) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let _ = std::fs::remove_file(log);
    let mut starts = 0;
    let mut cpu = 0.0;
    let mut rss = 0;
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 3 {
            continue; // "Command exited with non-zero status ..." and the like
        }
        let (Ok(u), Ok(s), Ok(m)) = (f[0].parse::<f64>(), f[1].parse::<f64>(), f[2].parse()) else {
            continue;
        };
        starts += 1;
        cpu += u + s;
        rss = rss.max(m);
    }
    (starts, cpu, rss)
}

/// The emulator's (requests, 429s, connections) so far.
fn counters(emu: &Emulator) -> (u64, u64, u64) {
    let stats = emu.admin_get("/_emulator/stats");
    (
        stats["requests"].as_u64().unwrap_or(0),
        stats["rate_limited"].as_u64().unwrap_or(0),
        stats["connections"].as_u64().unwrap_or(0),
    )
}

/// CPU seconds (user + sys) of `who` (`RUSAGE_SELF` or `RUSAGE_CHILDREN`) so far.
fn rusage_cpu(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// CPU seconds (user + sys) of the children this process has waited for, and theirs:
/// Terraform, and the plugins Terraform waited for.
fn children_cpu() -> f64 {
    rusage_cpu(libc::RUSAGE_CHILDREN)
}

/// Seconds since midnight of a `-json` message's `@timestamp` (`...THH:MM:SS.ffffff...`).
fn time_of_day(stamp: &str) -> Option<f64> {
    let t = stamp.split_once('T')?.1;
    let t = t.trim_end_matches('Z');
    let t = t.split(['+', '-']).next()?;
    let mut parts = t.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// Where the time of a `-json` refresh went, from the messages' timestamps: (before the
/// first `refresh_start`, from it to the last `refresh_complete`, after that to the last
/// message). The time from spawn to Terraform's first message counts as "before".
fn refresh_phases(stdout: &str, wall: f64) -> Option<(f64, f64, f64)> {
    let mut first = None;
    let mut last = None;
    let mut start = None;
    let mut done = None;
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let Some(t) = v["@timestamp"].as_str().and_then(time_of_day) else {
            continue;
        };
        first.get_or_insert(t);
        last = Some(t);
        match v["type"].as_str() {
            Some("refresh_start") => {
                start.get_or_insert(t);
            }
            Some("refresh_complete") => done = Some(t),
            _ => {}
        }
    }
    let day = |a: f64, b: f64| if b >= a { b - a } else { b + 86400.0 - a };
    let (first, last, start, done) = (first?, last?, start?, done?);
    let logged = day(first, last);
    let window = day(start, done);
    let after = day(done, last);
    Some(((wall - logged).max(0.0) + day(first, start), window, after))
}

struct Run {
    ok: bool,
    /// For a `-json` refresh: before, during and after the refresh calls, in seconds.
    phases: Option<(f64, f64, f64)>,
    secs: f64,
    /// Terraform's own CPU: the command's and its children's, less the provider's.
    terraform_cpu: f64,
    starts: usize,
    cpu: f64,
    rss_kb: u64,
    requests: u64,
    limited: u64,
    /// Connections the emulator accepted during the command.
    connections: u64,
    listed: usize,
}

/// Runs one Terraform command: (its output, wall s, the CPU of the command and of the
/// children it waited for). A failure prints the last lines of its output.
fn timed_command(tf: &Terraform, args: &[&str]) -> (support::terraform::Output, f64, f64) {
    let cpu0 = children_cpu();
    let started = Instant::now();
    let out = tf.run(args);
    let secs = started.elapsed().as_secs_f64();
    let cpu = children_cpu() - cpu0;
    if !out.success() {
        let text = out.combined();
        let tail: Vec<&str> = text.lines().rev().take(12).collect();
        eprintln!("terraform {} failed; last lines:", args.join(" "));
        for l in tail.iter().rev() {
            eprintln!("  {l}");
        }
    }
    (out, secs, cpu)
}

fn run(emu: &Emulator, tf: &Terraform, log: &Path, args: &[&str]) -> Run {
    let _ = std::fs::remove_file(log);
    let (r0, l0, c0) = counters(emu);
    let (out, secs, all_cpu) = timed_command(tf, args);
    let (r1, l1, c1) = counters(emu);
    let ok = out.success();
    // `terraform query` prints one line per listed item: `list.<type>.<name>  <identity>  <display name>`.
    let listed = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("list.comwit_database."))
        .count();
    let (starts, cpu, rss_kb) = provider_usage(log);
    let phases = if args.contains(&"-json") {
        refresh_phases(&out.stdout, secs)
    } else {
        None
    };
    Run {
        ok,
        phases,
        secs,
        terraform_cpu: (all_cpu - cpu).max(0.0),
        starts,
        cpu,
        rss_kb,
        requests: r1 - r0,
        limited: l1 - l0,
        // The admin call that read the first counters opened one of them.
        connections: (c1 - c0).saturating_sub(1),
        listed,
    }
}

/// `text` without its top-level `import { ... }` blocks (what a user may delete once the
/// imports are applied).
fn strip_imports(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for line in text.lines() {
        if depth == 0 && line.trim_start().starts_with("import {") {
            depth = 1;
        } else if depth > 0 {
            depth += line.matches('{').count();
            depth = depth.saturating_sub(line.matches('}').count());
        } else {
            out.push_str(line);
            out.push('\n');
        }
        if depth == 1 && line.trim_start().starts_with("import {") && line.contains('}') {
            depth = 0; // a one-line block
        }
    }
    out
}

fn query_config(limit: usize, include_resource: bool) -> String {
    format!(
        "list \"comwit_database\" \"all\" {{\n  provider         = comwit\n  limit            = {limit}\n  include_resource = {include_resource}\n}}\n"
    )
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn main() {
    let ns = env_list("BENCH_SCALE_NS", &[1000, 5000, 10000]);
    let refresh_ns = env_list("BENCH_SCALE_REFRESH_NS", &[500, 1000, 2000]);
    let rps: f64 = env_or("BENCH_SCALE_RPS", 50.0);
    let query_runs: usize = env_or("BENCH_SCALE_QUERY_RUNS", 3).max(1);
    // Another build of the Comwit provider whose queries run beside this one's.
    let baseline: Option<String> = std::env::var("BENCH_SCALE_BASELINE")
        .ok()
        .filter(|b| !b.is_empty());
    let mixed_ns = env_list("BENCH_SCALE_MIXED_NS", &[]);
    if std::env::var_os("TERRAFORM_TIMEOUT_SECS").is_none() {
        std::env::set_var("TERRAFORM_TIMEOUT_SECS", "3600");
    }
    let profile = support::target_profile_dir();
    println!(
        "scale benchmark: comwit_database, {}, {} build of the provider and emulator, {} CPUs",
        Terraform::new().version().lines().next().unwrap_or("?"),
        profile
            .file_name()
            .map_or("?".into(), |n| n.to_string_lossy().into_owned()),
        std::thread::available_parallelism().map_or(0, usize::from),
    );

    let emu = Emulator::start();
    let tmp = tempfile::tempdir().expect("temporary directory");
    let log = tmp.path().join("provider-time.log");
    let wrapper = timed_provider(tmp.path(), &log);
    let mut builder = Terraform::builder()
        .provider("comwit/comwit", &wrapper)
        .without_provider_log();
    for (k, v) in emu.provider_env_of(Platform::Comwit) {
        builder = builder.env(k, v);
    }
    let tf = builder.build();
    tf.write_main(COMWIT_TERRAFORM_BLOCK);
    tf.run_ok(&["init", "-no-color", "-input=false"]);

    // Part 1: terraform query next to the API's page.
    let mut made = 0;
    let mut rows = Vec::new();
    for &n in &ns {
        if n > made {
            let (secs, _) = comwit_databases(&emu, made, n);
            println!(
                "made databases {made}..{n} through the API in {secs:.1} s ({:.0}/s)",
                (n - made) as f64 / secs
            );
            made = n;
        }
        let (api_s, api_items, api_bytes) = api_listing(&emu);
        let variants = [
            ("limit = 1", 1, false),
            ("limit = N", n, false),
            ("limit = N, include_resource", n, true),
        ];
        // QUERY_RUNS rounds, the three variants interleaved; the median run by wall time.
        let mut all: Vec<Vec<Run>> = variants.iter().map(|_| Vec::new()).collect();
        let mut base: Vec<Vec<Run>> = variants.iter().map(|_| Vec::new()).collect();
        for _ in 0..query_runs {
            for (i, (_, limit, include)) in variants.iter().enumerate() {
                tf.write_file("all.tfquery.hcl", &query_config(*limit, *include));
                all[i].push(run(&emu, &tf, &log, &["query", "-no-color"]));
                if let Some(b) = &baseline {
                    timed_binary(tmp.path(), &log, b);
                    base[i].push(run(&emu, &tf, &log, &["query", "-no-color"]));
                    timed_provider(tmp.path(), &log);
                }
            }
        }
        let labels: Vec<String> = variants
            .iter()
            .map(|v| v.0.to_owned())
            .chain(variants.iter().map(|v| format!("{} (baseline)", v.0)))
            .collect();
        let runs: Vec<(String, Run)> = labels
            .into_iter()
            .zip(all.into_iter().chain(base))
            .filter(|(_, rs)| !rs.is_empty())
            .map(|(label, mut rs)| {
                rs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
                let mid = rs.len() / 2;
                (label, rs.swap_remove(mid))
            })
            .collect();
        rows.push((n, api_s, api_items, api_bytes, runs));
    }
    if !rows.is_empty() {
        tf.remove_file("all.tfquery.hcl");
        println!("\n`terraform query` of N comwit_database, next to the API's one page of N");
        println!("| N | API page s | API items/s | API MiB | query | ok | listed | wall s | items/s beyond limit = 1 | provider starts | provider CPU s | provider max RSS MiB | Terraform CPU s | API requests |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    }
    for (n, api_s, api_items, api_bytes, runs) in &rows {
        let fixed = runs[0].1.secs;
        for (label, r) in runs {
            let beyond = if r.listed > 1 && r.secs > fixed {
                format!("{:.0}", (r.listed - 1) as f64 / (r.secs - fixed))
            } else {
                "".into()
            };
            println!(
                "| {n} | {api_s:.3} | {:.0} | {:.1} | {label} | {} | {} | {:.2} | {beyond} | {} | {:.2} | {:.1} | {:.2} | {} |",
                *api_items as f64 / api_s,
                *api_bytes as f64 / 1048576.0,
                common::yes_no(r.ok),
                r.listed,
                r.secs,
                r.starts,
                r.cpu,
                mib(r.rss_kb),
                r.terraform_cpu,
                r.requests,
            );
        }
    }

    // Part 2: refresh of N imported resources under the rate limit.
    let mut refresh_rows = Vec::new();
    for &n in &refresh_ns {
        if n > made {
            comwit_databases(&emu, made, n);
            made = n;
        }
        let tfr = {
            let mut b = Terraform::builder()
                .provider("comwit/comwit", &wrapper)
                .without_provider_log();
            for (k, v) in emu.provider_env_of(Platform::Comwit) {
                b = b.env(k, v);
            }
            b.build()
        };
        tfr.write_main(COMWIT_TERRAFORM_BLOCK);
        tfr.run_ok(&["init", "-no-color", "-input=false"]);
        tfr.write_file("all.tfquery.hcl", &query_config(n, false));
        let generate = run(
            &emu,
            &tfr,
            &log,
            &["query", "-no-color", "-generate-config-out=generated.tf"],
        );
        tfr.remove_file("all.tfquery.hcl");
        let generated = std::fs::read_to_string(tfr.dir().join("generated.tf")).unwrap_or_default();
        let imports = generated.matches("import {").count();
        let import = run(
            &emu,
            &tfr,
            &log,
            &["apply", "-auto-approve", "-no-color", "-input=false"],
        );
        let refresh = [
            "plan",
            "-refresh-only",
            "-detailed-exitcode",
            "-no-color",
            "-input=false",
            "-lock=false",
        ];
        let free = run(&emu, &tfr, &log, &refresh);
        emu.admin_put(
            "/_emulator/rate_limit",
            json!({ "requests_per_second": rps }),
        );
        let mut json = refresh.to_vec();
        json.push("-json");
        let limited = run(&emu, &tfr, &log, &json);
        // The same refresh once the applied import blocks are deleted: what the blocks cost.
        tfr.write_file("generated.tf", &strip_imports(&generated));
        let stripped = run(&emu, &tfr, &log, &json);
        emu.admin(Method::DELETE, "/_emulator/rate_limit", None);
        refresh_rows.push((n, generate, imports, import, free, limited, stripped));
    }
    if !refresh_rows.is_empty() {
        println!("\nrefresh (`plan -refresh-only`) of N comwit_database imported from the query's generated blocks, {rps} requests/s per token");
        println!("| N | generate s | imports | import apply s | refresh no limit s | refresh limited s | N/R s | x N/R | requests | 429s | failed | provider CPU s | provider max RSS MiB | Terraform CPU s | limited: before refresh s | refresh calls s | x N/R | after s |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (n, generate, imports, import, free, limited, _) in &refresh_rows {
            let floor = *n as f64 / rps;
            let failed =
                usize::from(!limited.ok) + usize::from(!import.ok) + n.saturating_sub(*imports);
            println!(
                "| {n} | {:.1} | {imports} | {:.1} | {:.1} | {:.1} | {floor:.1} | {:.2}x | {} | {} | {failed} | {:.2} | {:.1} | {:.2} | {} |",
                generate.secs,
                import.secs,
                free.secs,
                limited.secs,
                limited.secs / floor,
                limited.requests,
                limited.limited,
                limited.cpu,
                mib(limited.rss_kb),
                limited.terraform_cpu,
                limited.phases.map_or("| | |".into(), |(b, w, a)| format!(
                    "{b:.1} | {w:.1} | {:.2}x | {a:.1}",
                    w / floor
                )),
            );
        }
    }

    if !refresh_rows.is_empty() {
        println!("\nwhere the limited refresh's time goes (`-json` timestamps), with the import blocks kept and deleted");
        println!("| N | import blocks | ok | wall s | x N/R | before first refresh s | refresh calls s | x N/R | after s | 429s | provider CPU s (no limit) | provider CPU s | Terraform CPU s | API connections (no limit) | API connections |");
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (n, _, _, _, free, limited, stripped) in &refresh_rows {
            let floor = *n as f64 / rps;
            for (label, r) in [("kept", limited), ("deleted", stripped)] {
                let (b, w, a) = r.phases.unwrap_or((f64::NAN, f64::NAN, f64::NAN));
                println!(
                    "| {n} | {label} | {} | {:.1} | {:.2}x | {b:.1} | {w:.1} | {:.2}x | {a:.1} | {} | {:.2} | {:.2} | {:.2} | {} | {} |",
                    common::yes_no(r.ok),
                    r.secs,
                    r.secs / floor,
                    w / floor,
                    r.limited,
                    free.cpu,
                    r.cpu,
                    r.terraform_cpu,
                    free.connections,
                    r.connections,
                );
            }
        }
    }

    println!("\ntargets");
    for (n, api_s, _, _, runs) in &rows {
        let r = &runs[1].1;
        let fixed = runs[0].1.secs;
        let stream = (r.secs - fixed).max(0.0);
        println!(
            "- query N={n}: streamed {} items in {stream:.2} s beyond limit = 1 against the API's page in {api_s:.3} s: {}",
            r.listed,
            common::yes_no(r.ok && r.listed == *n && stream <= *api_s)
        );
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last()) {
        let (a, b) = (first.4[1].1.rss_kb, last.4[1].1.rss_kb);
        println!(
            "- provider max RSS flat in N: {:.1} MiB at N={} against {:.1} MiB at N={} ({:+.0} %): {}",
            mib(a),
            first.0,
            mib(b),
            last.0,
            100.0 * (b as f64 - a as f64) / (a.max(1) as f64),
            common::yes_no(b as f64 <= a as f64 * 1.1)
        );
    }
    for (n, _, imports, import, _, limited, stripped) in &refresh_rows {
        for (label, r) in [("import blocks kept", limited), ("deleted", stripped)] {
            let x = r.secs / (*n as f64 / rps);
            let failed = usize::from(!r.ok) + usize::from(!import.ok) + n.saturating_sub(*imports);
            println!(
                "- refresh N={n}, {label}: {x:.2}x of N/R ({}), {failed} failed ({})",
                common::yes_no(x <= 1.1),
                common::yes_no(failed == 0)
            );
        }
    }
    drop(emu);
    for &n in &mixed_ns {
        mixed_refresh(n, rps, tmp.path());
    }
}

/// Runs `work(i)` for every `i` in `0..count` on `threads` threads.
fn parallel(count: usize, threads: usize, work: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                work(i);
            });
        }
    });
}

/// The WaysCloud customer of the emulator's bootstrap key.
const WAYSCLOUD_CUSTOMER: &str = "6dd1d906";

/// The SQLite Cloud node CloudSync's databases point to (files under the emulator's state).
const SQLITE_NODE: &str = "scale.sqlite.cloud";
const SQLITE_NODE_KEY: &str = "scale-node-key";

/// Firewall rules per WaysCloud database (the platform's limit).
const RULES_PER_DB: usize = 50;

/// Part 3's objects: (platform, the API path one refresh of it reads).
type Reads = Vec<(Platform, String)>;

/// Makes `nc` Comwit databases, `nw` WaysCloud firewall rules and `ns` CloudSync databases
/// (all on one SQLite Cloud tenant database). Returns the read path of each, in order.
fn mixed_objects(emu: &mut Emulator, nc: usize, nw: usize, ns: usize) -> Reads {
    let (secs, comwit) = comwit_databases(emu, 0, nc);
    println!("made {nc} Comwit databases through the API in {secs:.1} s");
    let mut reads: Reads = comwit.into_iter().map(|r| (Platform::Comwit, r)).collect();

    let started = Instant::now();
    let sync = emu.on(Platform::CloudSync);
    let dir = sync.admin_put(
        &format!("/_emulator/cloudsync/sqlitecloud/nodes/{SQLITE_NODE}"),
        json!({ "apikey": SQLITE_NODE_KEY }),
    );
    let dir = PathBuf::from(dir["dir"].as_str().expect("node dir"));
    rusqlite::Connection::open(dir.join("appdb.sqlite"))
        .and_then(|c| c.execute_batch("CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY);"))
        .expect("the tenant SQLite database");
    let sync_reads = std::sync::Mutex::new(Vec::with_capacity(ns));
    parallel(ns, 8, |i| {
        let (code, body) = sync.api(
            Method::POST,
            "/v1/databases",
            Some(json!({
                "label": format!("s{i:05}"),
                "connectionString": format!("sqlitecloud://{SQLITE_NODE}:8860?apikey={SQLITE_NODE_KEY}"),
                "provider": "sqlitecloud",
                "flavor": "sqlitecloud",
                "databaseName": "appdb",
            })),
        );
        assert_eq!(code, 201, "register CloudSync database {i}: {body}");
        let id = body["data"]["managedDatabaseId"]
            .as_str()
            .expect("managedDatabaseId")
            .to_owned();
        sync_reads
            .lock()
            .expect("reads")
            .push((Platform::CloudSync, format!("/v1/databases/{id}")));
    });
    println!(
        "made {ns} CloudSync databases through the API in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    reads.extend(
        wayscloud_rules(emu, nw)
            .into_iter()
            .map(|r| (Platform::WaysCloud, r)),
    );
    reads.extend(sync_reads.into_inner().expect("reads"));
    reads
}

/// `nw` WaysCloud firewall rules, [`RULES_PER_DB`] on each of the fewest PostgreSQL
/// databases that hold them. The databases (real ones in the engine) and the first rule of
/// each are made through the API; the other rules are written into the platform's state
/// (`wayscloud/wayscloud.sqlite`, the table the API writes) with the emulator stopped, then
/// it starts again on that state. Through the API each rule rewrites and reloads the
/// engine's access rules under one lock (3.3 rules a second on a loaded machine: 17
/// minutes for 3,333), which a refresh never reads: it reads the rules from the state.
/// Returns the read path of each rule.
fn wayscloud_rules(emu: &mut Emulator, nw: usize) -> Vec<String> {
    let started = Instant::now();
    let dbs = nw.div_ceil(RULES_PER_DB);
    let ways = emu.on(Platform::WaysCloud);
    ways.admin_put(
        &format!("/_emulator/customers/{WAYSCLOUD_CUSTOMER}/quota"),
        json!({ "limit": dbs.clamp(5, 10_000) }),
    );
    let names = std::sync::Mutex::new(vec![String::new(); dbs]);
    parallel(dbs, 4, |j| {
        let (code, body) = ways.api(
            Method::POST,
            "/v1/databases",
            Some(json!({ "db_type": "postgresql", "requested_name": format!("r{j}") })),
        );
        assert_eq!(code, 201, "create WaysCloud database r{j}: {body}");
        names.lock().expect("names")[j] = body["db_name"].as_str().expect("db_name").to_owned();
    });
    let names = names.into_inner().expect("names");
    let rule_ip = |j: usize, k: usize| format!("10.{}.{}.{}/32", j / 256, j % 256, k + 1);
    parallel(dbs, 4, |j| {
        let (code, body) = ways.api(
            Method::POST,
            &format!("/v1/databases/postgresql/{}/firewall", names[j]),
            Some(json!({ "ip_address": rule_ip(j, 0) })),
        );
        assert_eq!(code, 201, "add the first rule on {}: {body}", names[j]);
    });
    println!(
        "made {dbs} WaysCloud PostgreSQL databases and a rule on each through the API in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    emu.stop();
    let file = emu.state_dir().join("wayscloud").join("wayscloud.sqlite");
    let mut conn = rusqlite::Connection::open(&file)
        .unwrap_or_else(|e| panic!("open {}: {e}", file.display()));
    let tx = conn.transaction().expect("a transaction");
    let mut written = 0;
    for (j, name) in names.iter().enumerate() {
        // The rule the API made: its database's id, and the form of its fields.
        let (db_id, ip, cidr, created): (i64, String, String, String) = tx
            .query_row(
                "SELECT r.db_id, r.ip_address, r.cidr, r.created_at FROM firewall_rules r \
                 JOIN databases d ON d.id = r.db_id WHERE d.db_name = ?1 AND d.deleted_at IS NULL",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap_or_else(|e| panic!("the API's rule on {name}: {e}"));
        assert_eq!(ip, cidr, "the API stores a /32 rule's CIDR as given");
        let here = RULES_PER_DB.min(nw - j * RULES_PER_DB);
        for k in 1..here {
            let ip = rule_ip(j, k);
            tx.execute(
                "INSERT INTO firewall_rules (rule_id, db_id, ip_address, cidr, description, created_at) \
                 VALUES (?1, ?2, ?3, ?3, NULL, ?4)",
                rusqlite::params![uuid::Uuid::new_v4().to_string(), db_id, ip, created],
            )
            .expect("insert a firewall rule");
            written += 1;
        }
    }
    tx.commit().expect("commit the rules");
    drop(conn);
    // The emulator kills a PostgreSQL that has not stopped within its time (its shutdown
    // checkpoint of many databases on a loaded machine); a new one cannot start while the
    // old one's processes (whose working directory is its data directory) remain.
    let engines = emu.state_dir().join("wayscloud");
    let waited = Instant::now();
    while processes_under(&engines) > 0 && waited.elapsed().as_secs() < 300 {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    emu.restart();
    println!(
        "wrote {written} more rules into the stopped emulator's state and started it again in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    names
        .iter()
        .enumerate()
        .flat_map(|(j, name)| {
            let here = RULES_PER_DB.min(nw - j * RULES_PER_DB);
            std::iter::repeat_n(format!("/v1/databases/postgresql/{name}/firewall"), here)
        })
        .collect()
}

/// How many processes have their working directory under `dir`.
fn processes_under(dir: &Path) -> usize {
    std::fs::read_dir("/proc").map_or(0, |entries| {
        entries
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            })
            .filter_map(|e| std::fs::read_link(e.path().join("cwd")).ok())
            .filter(|cwd| cwd.starts_with(dir))
            .count()
    })
}

/// Every platform's (requests, 429s) so far, in `Platform::ALL` order.
fn mixed_counters(emu: &Emulator) -> Vec<(u64, u64)> {
    Platform::ALL
        .iter()
        .map(|p| {
            let stats = emu.on(*p).admin_get("/_emulator/stats");
            (
                stats["requests"].as_u64().unwrap_or(0),
                stats["rate_limited"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// CPU seconds (user + sys) of the emulator process so far (its engines not counted).
fn emulator_cpu(emu: &Emulator) -> f64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    emu.pid()
        .and_then(common::cpu_ticks)
        .map_or(0.0, |(own, _)| own as f64 / hz)
}

/// CPU seconds (user + sys) of this process so far: the API-alone client's threads.
fn own_cpu() -> f64 {
    rusage_cpu(libc::RUSAGE_SELF)
}

/// One command of part 3, and each provider's usage in it.
struct MixedRun {
    ok: bool,
    secs: f64,
    phases: Option<(f64, f64, f64)>,
    terraform_cpu: f64,
    emulator_cpu: f64,
    /// Per provider (in `Platform::ALL` order): starts, CPU s, max RSS KiB.
    providers: Vec<(usize, f64, u64)>,
    /// Per platform (in `Platform::ALL` order): requests during the command.
    requests: Vec<u64>,
    limited: u64,
    /// For a refresh with `-detailed-exitcode`: exit code 0, nothing changed.
    unchanged: bool,
    stdout: String,
}

fn run_mixed(emu: &Emulator, tf: &Terraform, logs: &[PathBuf], args: &[&str]) -> MixedRun {
    for log in logs {
        let _ = std::fs::remove_file(log);
    }
    let before = mixed_counters(emu);
    let emu0 = emulator_cpu(emu);
    let (out, secs, all_cpu) = timed_command(tf, args);
    let emulator_cpu = emulator_cpu(emu) - emu0;
    let after = mixed_counters(emu);
    let providers: Vec<(usize, f64, u64)> = logs.iter().map(|l| provider_usage(l)).collect();
    let provider_cpu: f64 = providers.iter().map(|p| p.1).sum();
    MixedRun {
        ok: out.success(),
        secs,
        phases: args
            .contains(&"-json")
            .then(|| refresh_phases(&out.stdout, secs))
            .flatten(),
        terraform_cpu: (all_cpu - provider_cpu).max(0.0),
        emulator_cpu,
        providers,
        requests: after.iter().zip(&before).map(|(a, b)| a.0 - b.0).collect(),
        limited: after.iter().zip(&before).map(|(a, b)| a.1 - b.1).sum(),
        unchanged: out.code == 0,
        stdout: out.stdout,
    }
}

/// The same reads through the API alone: one client per platform sending each of its
/// reads at its slot (`i / rate` after the start, the rate its limit allows), 10 at a time
/// in all (Terraform's parallelism). Returns (wall s, 429s, failed reads, the client's CPU
/// s).
fn api_alone(emu: &Emulator, reads: &Reads, rates: &[(Platform, f64)]) -> (f64, u64, usize, f64) {
    let mut slots: Vec<(f64, Platform, &str)> = Vec::with_capacity(reads.len());
    for (p, rate) in rates {
        slots.extend(
            reads
                .iter()
                .filter(|(q, _)| q == p)
                .enumerate()
                .map(|(i, (q, path))| (i as f64 / rate, *q, path.as_str())),
        );
    }
    slots.sort_by(|a, b| a.0.total_cmp(&b.0));
    let limited = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let cpu0 = own_cpu();
    let started = Instant::now();
    parallel(slots.len(), 10, |i| {
        let (at, p, path) = slots[i];
        let wait = at - started.elapsed().as_secs_f64();
        if wait > 0.0 {
            std::thread::sleep(std::time::Duration::from_secs_f64(wait));
        }
        // A refused read waits its Retry-After (or a second) and goes again, 5 times.
        for _ in 0..5 {
            let (code, _) = emu.on(p).api(Method::GET, path, None);
            if code == 429 {
                limited.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(std::time::Duration::from_secs(1));
                continue;
            }
            if code != 200 {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            return;
        }
        failed.fetch_add(1, Ordering::Relaxed);
    });
    (
        started.elapsed().as_secs_f64(),
        limited.into_inner() as u64,
        failed.into_inner(),
        own_cpu() - cpu0,
    )
}

/// The Terraform configuration and state file (format 4) an import of every object a
/// `terraform query -json` found would leave, from its `list_resource_found` events with
/// `include_resource` and `-generate-config-out`: each event's `config` (the generated
/// `resource` block, its import block dropped: it has done its work once the state holds
/// the object), and its `resource_object` and `identity` as the instance's attributes and
/// identity. The provider addresses, schema versions and sensitive attributes come from
/// `terraform providers schema -json`. Returns (type, block, state resource) of each.
fn workspace_from_query(events: &str, schemas: &serde_json::Value) -> Vec<Found> {
    let mut found_all = Vec::new();
    for line in events.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let found = &v["list_resource_found"];
        let (Some(kind), Some(block)) = (found["resource_type"].as_str(), found["config"].as_str())
        else {
            continue;
        };
        // `resource "<type>" "<name>" {`
        let Some(name) = block.split('"').nth(3) else {
            continue;
        };
        let Some((address, provider)) = schemas["provider_schemas"].as_object().and_then(|all| {
            all.iter()
                .find(|(_, p)| p["resource_schemas"].get(kind).is_some())
        }) else {
            continue;
        };
        let schema = &provider["resource_schemas"][kind];
        let sensitive: Vec<serde_json::Value> = schema["block"]["attributes"]
            .as_object()
            .map(|attrs| {
                attrs
                    .iter()
                    .filter(|(_, a)| a["sensitive"].as_bool() == Some(true))
                    .map(|(n, _)| json!([{ "type": "get_attr", "value": n }]))
                    .collect()
            })
            .unwrap_or_default();
        let resource = json!({
            "mode": "managed",
            "type": kind,
            "name": name,
            "provider": format!("provider[\"{address}\"]"),
            "instances": [{
                "schema_version": schema["version"].as_u64().unwrap_or(0),
                "attributes": found["resource_object"],
                "sensitive_attributes": sensitive,
                "identity_schema_version": found["identity_version"].as_u64().unwrap_or(0),
                "identity": found["identity"],
            }],
        });
        found_all.push((kind.to_owned(), block.to_owned(), resource));
    }
    found_all
}

/// What [`workspace_from_query`] gives for one object: (type, `resource` block, state).
type Found = (String, String, serde_json::Value);

/// The configuration and the state file of `found`.
fn workspace_files(found: &[Found]) -> (String, String) {
    let mut config = String::new();
    for f in found {
        config.push_str(&f.1);
        config.push_str("\n\n");
    }
    let resources: Vec<&serde_json::Value> = found.iter().map(|f| &f.2).collect();
    let state = json!({
        "version": 4,
        "terraform_version": "1.15.5",
        "serial": 1,
        "lineage": uuid::Uuid::new_v4().to_string(),
        "outputs": {},
        "resources": resources,
        "check_results": null,
    });
    (config, state.to_string())
}

/// When each resource type was refreshed in a `-json` refresh, from the first
/// `refresh_start` of any: (type, instances, first start s, last completion s), by first
/// start.
fn type_windows(stdout: &str) -> Vec<(String, usize, f64, f64)> {
    let mut origin: Option<f64> = None;
    let mut windows: Vec<(String, usize, f64, f64)> = Vec::new();
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let kind = v["type"].as_str().unwrap_or_default();
        if kind != "refresh_start" && kind != "refresh_complete" {
            continue;
        }
        let (Some(t), Some(rtype)) = (
            v["@timestamp"].as_str().and_then(time_of_day),
            v["hook"]["resource"]["resource_type"].as_str(),
        ) else {
            continue;
        };
        let t = t - *origin.get_or_insert(t);
        let at = match windows.iter().position(|w| w.0 == rtype) {
            Some(at) => at,
            None => {
                windows.push((rtype.to_owned(), 0, t, t));
                windows.len() - 1
            }
        };
        let w = &mut windows[at];
        if kind == "refresh_complete" {
            w.1 += 1;
            w.3 = w.3.max(t);
        }
    }
    windows
}

/// `config` with every `<attribute> = null # sensitive` line of the generated blocks set to
/// `value`.
fn fill_secret(config: &str, attribute: &str, value: &str) -> String {
    let mut out = String::with_capacity(config.len());
    for line in config.lines() {
        let trimmed = line.trim_start();
        match trimmed.strip_prefix(attribute) {
            Some(rest) if rest.starts_with(' ') && rest.trim_start() == "= null # sensitive" => {
                let indent = &line[..line.len() - trimmed.len()];
                out.push_str(&format!("{indent}{attribute} = {value:?}\n"));
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Part 3: a refresh of N resources mixed over the three providers, under a limit of `rps`
/// requests/s in all: each platform's limit is its share of N times `rps`, so each
/// provider's floor, and the whole refresh's, is N / rps.
fn mixed_refresh(n: usize, rps: f64, tmp: &Path) {
    let mut emu = Emulator::serving(&Platform::ALL);
    let (nw, ns) = (n / 3, n / 3);
    let nc = n - nw - ns;
    let reads = mixed_objects(&mut emu, nc, nw, ns);
    let logs: Vec<PathBuf> = Platform::ALL
        .iter()
        .map(|p| tmp.join(format!("{}-time.log", p.name())))
        .collect();
    let mut builder = Terraform::builder().without_provider_log();
    for (p, log) in Platform::ALL.iter().zip(&logs) {
        let dir = tmp.join(format!("wrap-{}", p.name()));
        std::fs::create_dir_all(&dir).expect("wrapper folder");
        let wrapper = timed_binary(&dir, log, p.facts().provider_binary);
        builder = builder.provider(p.facts().provider_source, wrapper);
    }
    for (k, v) in emu.provider_env() {
        builder = builder.env(k, v);
    }
    let tf = builder.build();
    tf.write_main(&Platform::terraform_block(&Platform::ALL));
    tf.run_ok(&["init", "-no-color", "-input=false"]);
    tf.write_file(
        "all.tfquery.hcl",
        &format!(
            "list \"comwit_database\" \"c\" {{\n  provider = comwit\n  limit = {nc}\n  include_resource = true\n}}\n\
             list \"wayscloud_database_firewall_rule\" \"w\" {{\n  provider = wayscloud\n  limit = {nw}\n  include_resource = true\n}}\n\
             list \"cloudsync_database\" \"s\" {{\n  provider = cloudsync\n  limit = {ns}\n  include_resource = true\n}}\n"
        ),
    );
    let query = run_mixed(
        &emu,
        &tf,
        &logs,
        &["query", "-json", "-generate-config-out=generated.tf"],
    );
    tf.remove_file("all.tfquery.hcl");
    tf.remove_file("generated.tf");
    let started = Instant::now();
    let schemas: serde_json::Value =
        serde_json::from_str(&tf.run_ok(&["providers", "schema", "-json"]).stdout)
            .expect("the providers' schemas");
    let found = workspace_from_query(&query.stdout, &schemas);
    let written = found.len();
    // The one secret a user fills in: the generated blocks leave out what the API never
    // returns (`connection_string = null # sensitive`), which CloudSync's validation needs.
    let write = || {
        let (config, state) = workspace_files(&found);
        let config = fill_secret(
            &config,
            "connection_string",
            &format!("sqlitecloud://{SQLITE_NODE}:8860?apikey={SQLITE_NODE_KEY}"),
        );
        tf.write_file("generated.tf", &config);
        tf.write_file("terraform.tfstate", &state);
        state.len()
    };
    let bytes = write();
    println!(
        "queried {n} objects (include_resource) in {:.1} s (ok: {}); wrote the configuration and a state of {written} resources ({:.1} MiB) in {:.1} s",
        query.secs,
        common::yes_no(query.ok),
        bytes as f64 / 1048576.0,
        started.elapsed().as_secs_f64()
    );
    drop(query);
    // Terraform's `-parallelism` for the refreshes (`BENCH_SCALE_MIXED_PARALLELISM`; its
    // default, 10, when unset).
    let parallelism = std::env::var("BENCH_SCALE_MIXED_PARALLELISM")
        .ok()
        .and_then(|p| p.trim().parse::<usize>().ok())
        .map(|p| format!("-parallelism={p}"));
    let mut refresh = vec![
        "plan",
        "-refresh-only",
        "-detailed-exitcode",
        "-no-color",
        "-input=false",
        "-lock=false",
        "-json",
    ];
    if let Some(p) = &parallelism {
        println!("refreshes with {p}");
        refresh.push(p);
    }
    let free = run_mixed(&emu, &tf, &logs, &refresh);
    println!(
        "refresh without a limit in {:.1} s (ok: {}, no changes: {})",
        free.secs,
        common::yes_no(free.ok),
        common::yes_no(free.unchanged)
    );
    let shares = [
        (Platform::Comwit, nc),
        (Platform::WaysCloud, nw),
        (Platform::CloudSync, ns),
    ];
    // Two readings of "a limit of R requests/s". R in all: each platform's limit is its
    // share of N times R, so every provider's floor, and the whole refresh's, is N / R.
    // R on each platform's token (three vendors, each with its own limit): the floor is
    // the largest share over R if the providers' calls overlap.
    let split: Vec<(Platform, f64)> = shares
        .iter()
        .map(|(p, k)| (*p, rps * *k as f64 / n as f64))
        .collect();
    let each: Vec<(Platform, f64)> = shares.iter().map(|(p, _)| (*p, rps)).collect();
    let set_limits = |rates: &[(Platform, f64)]| {
        for (p, rate) in rates {
            emu.on(*p).admin_put(
                "/_emulator/rate_limit",
                json!({ "requests_per_second": rate }),
            );
        }
    };
    let clear_limits = || {
        for p in Platform::ALL {
            emu.on(p)
                .admin(Method::DELETE, "/_emulator/rate_limit", None);
        }
    };
    let floor = n as f64 / rps;
    let failed_of =
        |r: &MixedRun| usize::from(!r.ok) + usize::from(!r.unchanged) + n.saturating_sub(written);
    // (label, the run, its own floor, failed, the API alone: wall s, 429s, failed, CPU s
    // of the client and of the emulator).
    type Limited = (
        &'static str,
        MixedRun,
        f64,
        usize,
        (f64, u64, usize, f64, f64),
    );
    let mut limited: Vec<Limited> = Vec::new();
    for (label, rates) in [
        ("R in all, each platform its share", &split),
        ("R on each platform", &each),
    ] {
        // Setting a limit fills its bucket: each run starts with a full one.
        set_limits(rates);
        let r = run_mixed(&emu, &tf, &logs, &refresh);
        clear_limits();
        set_limits(rates);
        let emu0 = emulator_cpu(&emu);
        let (api_s, api_429, api_failed, api_cpu) = api_alone(&emu, &reads, rates);
        let api_emu = emulator_cpu(&emu) - emu0;
        clear_limits();
        let own = shares
            .iter()
            .zip(rates)
            .map(|((_, k), (_, rate))| *k as f64 / rate)
            .fold(0.0, f64::max);
        let failed = failed_of(&r);
        limited.push((
            label,
            r,
            own,
            failed,
            (api_s, api_429, api_failed, api_cpu, api_emu),
        ));
    }

    println!(
        "\nrefresh of {n} resources over three providers ({nc} comwit_database, {nw} wayscloud_database_firewall_rule, {ns} cloudsync_database), R = {rps} requests/s; N/R = {floor:.1} s"
    );
    println!("| run | limits (comwit / wayscloud / cloudsync) | ok, no changes | wall s | x N/R | floor s | x floor | before first refresh s | refresh calls s | requests (comwit / wayscloud / cloudsync) | 429s | failed | Terraform CPU s | emulator CPU s | comwit CPU s / max RSS MiB | wayscloud | cloudsync |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let rates_of = |rates: &[(Platform, f64)]| {
        rates
            .iter()
            .map(|(_, r)| format!("{r:.2}/s"))
            .collect::<Vec<_>>()
            .join(" / ")
    };
    let mut runs: Vec<(&str, String, &MixedRun, f64, Option<usize>)> =
        vec![("no limit", "none".into(), &free, floor, None)];
    for ((label, r, own, failed, _), rates) in limited.iter().zip([&split, &each]) {
        runs.push((label, rates_of(rates), r, *own, Some(*failed)));
    }
    for (label, rates, r, own, failed) in &runs {
        let (b, w, _) = r.phases.unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        let each: Vec<String> = r
            .providers
            .iter()
            .map(|(_, cpu, rss)| format!("{cpu:.2} / {:.1}", mib(*rss)))
            .collect();
        let requests: Vec<String> = r.requests.iter().map(u64::to_string).collect();
        println!(
            "| {label} | {rates} | {} | {:.1} | {:.2}x | {own:.1} | {:.2}x | {b:.1} | {w:.1} | {} | {} | {} | {:.2} | {:.2} | {} |",
            common::yes_no(r.ok && r.unchanged),
            r.secs,
            r.secs / floor,
            r.secs / own,
            requests.join(" / "),
            r.limited,
            failed.map_or(String::new(), |f| f.to_string()),
            r.terraform_cpu,
            r.emulator_cpu,
            each.join(" | "),
        );
    }
    for ((label, _, own, _, (api_s, api_429, api_failed, api_cpu, api_emu)), rates) in
        limited.iter().zip([&split, &each])
    {
        println!(
            "| API alone, {label} (each read at its slot, 10 at a time) | {} | {} | {api_s:.1} | {:.2}x | {own:.1} | {:.2}x | | | {nc} / {nw} / {ns} | {api_429} | {api_failed} | client {api_cpu:.2} | {api_emu:.2} | | | |",
            rates_of(rates),
            common::yes_no(*api_failed == 0),
            api_s / floor,
            api_s / own,
        );
    }
    let ideal = [nc as u64, nw as u64, ns as u64];
    for (label, _, r, _, _) in &runs {
        let windows: Vec<String> = type_windows(&r.stdout)
            .iter()
            .map(|(t, k, a, b)| format!("{t} {k} from {a:.1} to {b:.1} s"))
            .collect();
        println!(
            "- {label}: one read per resource and nothing else on every platform: {}; each type's refresh calls: {}",
            common::yes_no(r.requests == ideal),
            windows.join("; ")
        );
    }
    for (label, _, r, _, failed) in &runs[1..] {
        let failed = failed.unwrap_or(0);
        println!(
            "- mixed refresh N={n}, {label}: {:.2}x of N/R ({}), {failed} failed ({})",
            r.secs / floor,
            common::yes_no(r.secs / floor <= 1.1),
            common::yes_no(failed == 0)
        );
    }
}
