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
//!    a third each of `comwit_database`, `wayscloud_database_firewall_rule` (50 on each
//!    PostgreSQL database: the cheapest WaysCloud object, a database being a real one) and
//!    `cloudsync_database` (all on one SQLite Cloud tenant database), made through the
//!    API; one `terraform query -generate-config-out` of three `list` blocks, the apply of
//!    the import blocks, which are then deleted; `plan -refresh-only` without a limit,
//!    then under R requests/s in all (each platform limited to its share of N times R, so
//!    that every provider's floor, and the whole refresh's, is N / R); then the same reads
//!    through the API alone, paced at each platform's limit, 10 at a time. Each provider
//!    runs under `/usr/bin/time`: CPU and max RSS per provider.
//!
//! Targets (issue 22, "Scale"): the query streams at least as fast as the API's page
//! arrives; refresh within 1.1x of N / R with 0 failed operations; provider memory flat in
//! N.
//!
//! Knobs: `BENCH_SCALE_QUERY_TYPE` (`comwit_database`; `cloudsync_database` queries
//! CloudSync databases instead, registered on one SQLite Cloud node, with an emulator serving
//! CloudSync alone, and skips part 2), `BENCH_SCALE_NS` (1000,5000,10000),
//! `BENCH_SCALE_QUERY_RUNS` (3 runs of each query,
//! interleaved; the median by wall time), `BENCH_SCALE_REFRESH_NS` (500,1000,2000; empty
//! skips part 2), `BENCH_SCALE_RPS` (50), `BENCH_SCALE_MIXED_NS` (none; 10000 for issue 22),
//! `BENCH_SCALE_BASELINE` (the path of another build of the Comwit provider, whose
//! queries run interleaved with this build's in part 1), `BENCH_SCALE_PROVIDER_PREFIX` (a
//! command every provider start runs under, e.g. `perf record -g -o /tmp/p/$$.data --`;
//! its CPU counts as the provider's), `TERRAFORM_BIN`.

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

/// The list type part 1 queries (`BENCH_SCALE_QUERY_TYPE`).
static QUERY_TYPE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn query_type() -> &'static str {
    QUERY_TYPE.get_or_init(|| {
        std::env::var("BENCH_SCALE_QUERY_TYPE")
            .ok()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "comwit_database".into())
    })
}

/// The platform of the queried list type.
fn query_platform() -> Platform {
    if query_type().starts_with("cloudsync_") {
        Platform::CloudSync
    } else {
        Platform::Comwit
    }
}

/// Makes the objects `from` .. `to - 1` of the queried type through the API.
fn create_objects(emu: &Emulator, from: usize, to: usize) -> f64 {
    match query_platform() {
        Platform::CloudSync => create_sync_databases(emu, from, to),
        _ => create_databases(emu, from, to),
    }
}

/// Registers CloudSync databases `s<from>` .. `s<to - 1>` (all on one SQLite Cloud node)
/// through the API with 8 clients at once.
fn create_sync_databases(emu: &Emulator, from: usize, to: usize) -> f64 {
    let sync = emu.on(Platform::CloudSync);
    let started = Instant::now();
    if from == 0 {
        let dir = sync.admin_put(
            &format!("/_emulator/cloudsync/sqlitecloud/nodes/{SQLITE_NODE}"),
            json!({ "apikey": SQLITE_NODE_KEY }),
        );
        let dir = PathBuf::from(dir["dir"].as_str().expect("node dir"));
        rusqlite::Connection::open(dir.join("appdb.sqlite"))
            .and_then(|c| {
                c.execute_batch("CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY);")
            })
            .expect("the tenant SQLite database");
    }
    parallel(to - from, 8, |i| {
        let i = from + i;
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
    });
    started.elapsed().as_secs_f64()
}

/// Makes databases `db-<from>` .. `db-<to - 1>` through the API with 8 clients at once.
fn create_databases(emu: &Emulator, from: usize, to: usize) -> f64 {
    let next = AtomicUsize::new(from);
    let started = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= to {
                    break;
                }
                let (code, body) = emu.api(
                    Method::POST,
                    &format!("/v1/projects/{PROJECT}/databases"),
                    Some(json!({ "name": format!("db-{i:05}") })),
                );
                assert!(code == 200 || code == 201, "create db-{i}: {code} {body}");
            });
        }
    });
    started.elapsed().as_secs_f64()
}

/// The listing through the API alone: (seconds, items, body bytes), median of 3 by time.
fn api_listing(emu: &Emulator) -> (f64, usize, usize) {
    let mut runs: Vec<(f64, usize, usize)> = (0..3)
        .map(|_| {
            let started = Instant::now();
            let (path, key) = match query_platform() {
                Platform::CloudSync => ("/v1/databases".to_owned(), "data"),
                _ => (format!("/v1/projects/{PROJECT}/databases"), "databases"),
            };
            let body = emu.api_get(&path);
            let secs = started.elapsed().as_secs_f64();
            let items = body[key].as_array().map_or(0, Vec::len);
            (secs, items, body.to_string().len())
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs[1]
}

/// The Comwit provider binary wrapped in `/usr/bin/time`, which appends one line per start
/// (`user sys maxrss_kb`) to `log`.
fn timed_provider(dir: &Path, log: &Path) -> PathBuf {
    let real = query_platform().facts().provider_binary;
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

/// CPU seconds (user + sys) of the children this process has waited for, and theirs:
/// Terraform, and the plugins Terraform waited for.
fn children_cpu() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return 0.0;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
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

fn run(emu: &Emulator, tf: &Terraform, log: &Path, args: &[&str]) -> Run {
    let _ = std::fs::remove_file(log);
    let (r0, l0, c0) = counters(emu);
    let cpu0 = children_cpu();
    let started = Instant::now();
    let out = tf.run(args);
    let secs = started.elapsed().as_secs_f64();
    let all_cpu = children_cpu() - cpu0;
    let (r1, l1, c1) = counters(emu);
    let ok = out.success();
    if !ok {
        let text = out.combined();
        let tail: Vec<&str> = text.lines().rev().take(12).collect();
        eprintln!("terraform {} failed; last lines:", args.join(" "));
        for l in tail.iter().rev() {
            eprintln!("  {l}");
        }
    }
    // `terraform query` prints one line per listed item: `list.<type>.<name>  <identity>  <display name>`.
    let listed = out
        .stdout
        .lines()
        .filter(|l| l.starts_with(&format!("list.{}.", query_type())))
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
    let (kind, provider) = (query_type(), query_platform().name());
    format!(
        "list \"{kind}\" \"all\" {{\n  provider         = {provider}\n  limit            = {limit}\n  include_resource = {include_resource}\n}}\n"
    )
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn main() {
    let ns = env_list("BENCH_SCALE_NS", &[1000, 5000, 10000]);
    // Part 2 refreshes Comwit databases: not with another query type.
    let refresh_ns = match query_platform() {
        Platform::Comwit => env_list("BENCH_SCALE_REFRESH_NS", &[500, 1000, 2000]),
        _ => Vec::new(),
    };
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
        "scale benchmark: {}, {}, {} build of the provider and emulator, {} CPUs",
        query_type(),
        Terraform::new().version().lines().next().unwrap_or("?"),
        profile
            .file_name()
            .map_or("?".into(), |n| n.to_string_lossy().into_owned()),
        std::thread::available_parallelism().map_or(0, usize::from),
    );

    let platform = query_platform();
    let emu = match platform {
        Platform::Comwit => Emulator::start(),
        other => Emulator::serving(&[other]),
    };
    let tmp = tempfile::tempdir().expect("temporary directory");
    let log = tmp.path().join("provider-time.log");
    let wrapper = timed_provider(tmp.path(), &log);
    let mut builder = Terraform::builder()
        .provider(platform.facts().provider_source, &wrapper)
        .without_provider_log();
    for (k, v) in emu.provider_env_of(platform) {
        builder = builder.env(k, v);
    }
    let tf = builder.build();
    match platform {
        Platform::Comwit => tf.write_main(COMWIT_TERRAFORM_BLOCK),
        other => tf.write_main(&Platform::terraform_block(&[other])),
    }
    tf.run_ok(&["init", "-no-color", "-input=false"]);

    // Part 1: terraform query next to the API's page.
    let mut made = 0;
    let mut rows = Vec::new();
    for &n in &ns {
        if n > made {
            let secs = create_objects(&emu, made, n);
            println!(
                "made {} {made}..{n} through the API in {secs:.1} s ({:.0}/s)",
                query_type(),
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
        println!(
            "\n`terraform query` of N {}, next to the API's one page of N",
            query_type()
        );
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
            create_databases(&emu, made, n);
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

/// Part 3's objects: (platform, the API path one refresh of it reads).
type Reads = Vec<(Platform, String)>;

/// Makes `nc` Comwit databases, `nw` WaysCloud firewall rules (50 on each of the fewest
/// PostgreSQL databases that hold them) and `ns` CloudSync databases (all on one SQLite
/// Cloud tenant database) through the API. Returns the read path of each, in order.
fn mixed_objects(emu: &Emulator, nc: usize, nw: usize, ns: usize) -> Reads {
    let reads = std::sync::Mutex::new(Vec::with_capacity(nc + nw + ns));
    let started = Instant::now();
    let comwit = emu.on(Platform::Comwit);
    parallel(nc, 8, |i| {
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
            .push((Platform::Comwit, format!("/v1/databases/{id}")));
    });
    println!(
        "made {nc} Comwit databases in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let ways = emu.on(Platform::WaysCloud);
    let per_db = 50;
    let dbs = nw.div_ceil(per_db);
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
    parallel(nw, 8, |i| {
        let (j, k) = (i / per_db, i % per_db);
        let name = &names[j];
        let (code, body) = ways.api(
            Method::POST,
            &format!("/v1/databases/postgresql/{name}/firewall"),
            Some(json!({ "ip_address": format!("10.{}.{}.{}/32", j / 256, j % 256, k + 1) })),
        );
        assert_eq!(code, 201, "add rule {i}: {body}");
        reads.lock().expect("reads").push((
            Platform::WaysCloud,
            format!("/v1/databases/postgresql/{name}/firewall"),
        ));
    });
    println!(
        "made {nw} WaysCloud firewall rules on {dbs} PostgreSQL databases in {:.1} s",
        started.elapsed().as_secs_f64()
    );

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
        reads
            .lock()
            .expect("reads")
            .push((Platform::CloudSync, format!("/v1/databases/{id}")));
    });
    println!(
        "made {ns} CloudSync databases in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    reads.into_inner().expect("reads")
}

/// Every platform's (requests, 429s) so far, summed.
fn mixed_counters(emu: &Emulator) -> (u64, u64) {
    Platform::ALL.iter().fold((0, 0), |(r, l), p| {
        let stats = emu.on(*p).admin_get("/_emulator/stats");
        (
            r + stats["requests"].as_u64().unwrap_or(0),
            l + stats["rate_limited"].as_u64().unwrap_or(0),
        )
    })
}

/// One command of part 3, and each provider's usage in it.
struct MixedRun {
    ok: bool,
    secs: f64,
    phases: Option<(f64, f64, f64)>,
    terraform_cpu: f64,
    /// Per provider (in `Platform::ALL` order): starts, CPU s, max RSS KiB.
    providers: Vec<(usize, f64, u64)>,
    requests: u64,
    limited: u64,
    /// For a refresh with `-detailed-exitcode`: exit code 0, nothing changed.
    unchanged: bool,
}

fn run_mixed(emu: &Emulator, tf: &Terraform, logs: &[PathBuf], args: &[&str]) -> MixedRun {
    for log in logs {
        let _ = std::fs::remove_file(log);
    }
    let (r0, l0) = mixed_counters(emu);
    let cpu0 = children_cpu();
    let started = Instant::now();
    let out = tf.run(args);
    let secs = started.elapsed().as_secs_f64();
    let all_cpu = children_cpu() - cpu0;
    let (r1, l1) = mixed_counters(emu);
    let ok = out.success();
    if !ok {
        let text = out.combined();
        let tail: Vec<&str> = text.lines().rev().take(12).collect();
        eprintln!("terraform {} failed; last lines:", args.join(" "));
        for l in tail.iter().rev() {
            eprintln!("  {l}");
        }
    }
    let providers: Vec<(usize, f64, u64)> = logs.iter().map(|l| provider_usage(l)).collect();
    let provider_cpu: f64 = providers.iter().map(|p| p.1).sum();
    MixedRun {
        ok,
        secs,
        phases: args
            .contains(&"-json")
            .then(|| refresh_phases(&out.stdout, secs))
            .flatten(),
        terraform_cpu: (all_cpu - provider_cpu).max(0.0),
        providers,
        requests: r1 - r0,
        limited: l1 - l0,
        unchanged: out.code == 0,
    }
}

/// The same reads through the API alone: one client per platform sending each of its
/// reads at its slot (`i / rate` after the start, the rate its limit allows), 10 at a time
/// in all (Terraform's parallelism). Returns (wall s, 429s, failed reads).
fn api_alone(emu: &Emulator, reads: &Reads, rates: &[(Platform, f64)]) -> (f64, u64, usize) {
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
    )
}

/// Part 3: a refresh of N resources mixed over the three providers, under a limit of `rps`
/// requests/s in all: each platform's limit is its share of N times `rps`, so each
/// provider's floor, and the whole refresh's, is N / rps.
fn mixed_refresh(n: usize, rps: f64, tmp: &Path) {
    let emu = Emulator::serving(&Platform::ALL);
    let (nw, ns) = (n / 3, n / 3);
    let nc = n - nw - ns;
    let reads = mixed_objects(&emu, nc, nw, ns);
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
            "list \"comwit_database\" \"c\" {{\n  provider = comwit\n  limit = {nc}\n}}\n\
             list \"wayscloud_database_firewall_rule\" \"w\" {{\n  provider = wayscloud\n  limit = {nw}\n}}\n\
             list \"cloudsync_database\" \"s\" {{\n  provider = cloudsync\n  limit = {ns}\n}}\n"
        ),
    );
    let generate = run_mixed(
        &emu,
        &tf,
        &logs,
        &["query", "-no-color", "-generate-config-out=generated.tf"],
    );
    tf.remove_file("all.tfquery.hcl");
    let generated = std::fs::read_to_string(tf.dir().join("generated.tf")).unwrap_or_default();
    let imports = generated.matches("import {").count();
    println!(
        "generated {imports} import blocks in {:.1} s (ok: {})",
        generate.secs,
        common::yes_no(generate.ok)
    );
    let import = run_mixed(
        &emu,
        &tf,
        &logs,
        &["apply", "-auto-approve", "-no-color", "-input=false"],
    );
    println!(
        "applied the imports in {:.1} s (ok: {})",
        import.secs,
        common::yes_no(import.ok)
    );
    tf.write_file("generated.tf", &strip_imports(&generated));
    let refresh = [
        "plan",
        "-refresh-only",
        "-detailed-exitcode",
        "-no-color",
        "-input=false",
        "-lock=false",
        "-json",
    ];
    let free = run_mixed(&emu, &tf, &logs, &refresh);
    println!(
        "refresh without a limit in {:.1} s (ok: {})",
        free.secs,
        common::yes_no(free.ok)
    );
    let shares = [
        (Platform::Comwit, nc),
        (Platform::WaysCloud, nw),
        (Platform::CloudSync, ns),
    ];
    let rates: Vec<(Platform, f64)> = shares
        .iter()
        .map(|(p, k)| (*p, rps * *k as f64 / n as f64))
        .collect();
    let limit_all = |on: bool| {
        for (p, rate) in &rates {
            if on {
                emu.on(*p).admin_put(
                    "/_emulator/rate_limit",
                    json!({ "requests_per_second": rate }),
                );
            } else {
                emu.on(*p)
                    .admin(Method::DELETE, "/_emulator/rate_limit", None);
            }
        }
    };
    limit_all(true);
    let limited = run_mixed(&emu, &tf, &logs, &refresh);
    limit_all(false);
    limit_all(true);
    let (api_s, api_429, api_failed) = api_alone(&emu, &reads, &rates);
    limit_all(false);

    let floor = n as f64 / rps;
    let failed = usize::from(!limited.ok)
        + usize::from(!limited.unchanged)
        + usize::from(!import.ok)
        + n.saturating_sub(imports);
    println!(
        "\nrefresh of {n} resources over three providers ({nc} comwit_database, {nw} wayscloud_database_firewall_rule, {ns} cloudsync_database), {rps} requests/s in all ({})",
        rates
            .iter()
            .map(|(p, r)| format!("{} {r:.2}/s", p.name()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("| run | ok | wall s | N/R s | x N/R | before first refresh s | refresh calls s | x N/R | requests | 429s | failed | Terraform CPU s | comwit CPU s / max RSS MiB | wayscloud | cloudsync |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (label, r) in [("no limit", &free), ("limited", &limited)] {
        let (b, w, _) = r.phases.unwrap_or((f64::NAN, f64::NAN, f64::NAN));
        let each: Vec<String> = r
            .providers
            .iter()
            .map(|(_, cpu, rss)| format!("{cpu:.2} / {:.1}", mib(*rss)))
            .collect();
        println!(
            "| {label} | {} | {:.1} | {floor:.1} | {:.2}x | {b:.1} | {w:.1} | {:.2}x | {} | {} | {} | {:.2} | {} |",
            common::yes_no(r.ok && r.unchanged),
            r.secs,
            r.secs / floor,
            w / floor,
            r.requests,
            r.limited,
            if label == "limited" { failed.to_string() } else { String::new() },
            r.terraform_cpu,
            each.join(" | "),
        );
    }
    println!(
        "| API alone (paced at each limit, 10 at a time) | {} | {api_s:.1} | {floor:.1} | {:.2}x | | | | {} | {api_429} | {api_failed} | | | | |",
        common::yes_no(api_failed == 0),
        api_s / floor,
        reads.len(),
    );
    println!(
        "- mixed refresh N={n}: {:.2}x of N/R ({}), {failed} failed ({})",
        limited.secs / floor,
        common::yes_no(limited.secs / floor <= 1.1),
        common::yes_no(failed == 0)
    );
}
