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
//! Targets (issue 22, "Scale"): the query streams at least as fast as the API's page
//! arrives; refresh within 1.1x of N / R with 0 failed operations; provider memory flat in
//! N.
//!
//! Knobs: `BENCH_SCALE_NS` (1000,5000,10000), `BENCH_SCALE_QUERY_RUNS` (3 runs of each query,
//! interleaved; the median by wall time), `BENCH_SCALE_REFRESH_NS` (500,1000,2000; empty
//! skips part 2), `BENCH_SCALE_RPS` (50), `TERRAFORM_BIN`.

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
            let body = emu.api_get(&format!("/v1/projects/{PROJECT}/databases"));
            let secs = started.elapsed().as_secs_f64();
            let items = body["databases"].as_array().map_or(0, Vec::len);
            (secs, items, body.to_string().len())
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    runs[1]
}

/// The provider binary wrapped in `/usr/bin/time`, which appends one line per start
/// (`user sys maxrss_kb`) to `log`.
fn timed_provider(dir: &Path, log: &Path) -> PathBuf {
    let real = Platform::Comwit.facts().provider_binary;
    let real = std::path::absolute(real).expect("absolute provider path");
    let wrapper = dir.join("terraform-provider-comwit");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec /usr/bin/time -a -o '{}' -f '%U %S %M' '{}' \"$@\"\n",
            log.display(),
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
            let secs = create_databases(&emu, made, n);
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
        for _ in 0..query_runs {
            for (i, (_, limit, include)) in variants.iter().enumerate() {
                tf.write_file("all.tfquery.hcl", &query_config(*limit, *include));
                all[i].push(run(&emu, &tf, &log, &["query", "-no-color"]));
            }
        }
        let runs: Vec<(&str, Run)> = variants
            .iter()
            .zip(all)
            .map(|((label, _, _), mut rs)| {
                rs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
                let mid = rs.len() / 2;
                (*label, rs.swap_remove(mid))
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
}
