//! Rate-limit benchmark (run with `scripts/bench.sh ratelimit`, or `cargo bench --bench
//! ratelimit`).
//!
//! Applies N `comwit_database` (default 1000) with the real Terraform CLI against the local
//! emulator under a per-token limit of R requests per second (default 50, bucket of one
//! second's worth: `PUT /_emulator/rate_limit`), then refreshes them all (`plan`), twice in
//! the same run: once with the provider's pacing on (the default: one limiter per provider
//! process that learns the limit from the answers' `RateLimit-*` headers and `Retry-After`),
//! once with it off (`COMWIT_RATE_PACING=off`: every call goes at once and backs off alone
//! on 429). Prints per step: wall time, the floor (requests the step needed / R, and
//! N / R), requests, 429s the emulator answered and their share, and failed operations
//! (resources missing from state, or a step that failed).
//!
//! A first round without any limit gives Terraform's own time for the same work, since at
//! N = 1000 an apply takes longer than N / R with no limit at all.
//!
//! Targets (issue "fast under a rate-limited API"): wall time within 1.1x of N / R, zero
//! failed operations, at most 1 % of requests answered 429.
//!
//! Knobs: `BENCH_RATE_N` (1000), `BENCH_RATE_RPS` (50), `TERRAFORM_BIN`.

use std::time::Instant;

use serde_json::json;

#[path = "../tests/support/mod.rs"]
mod support;

#[allow(dead_code)] // the shared helpers this benchmark does not need
mod common;

use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

struct Step {
    name: &'static str,
    ok: bool,
    secs: f64,
    requests: u64,
    limited: u64,
    in_state: usize,
}

fn counters(emu: &Emulator) -> (u64, u64) {
    let stats = emu.admin_get("/_emulator/stats");
    (
        stats["requests"].as_u64().unwrap_or(0),
        stats["rate_limited"].as_u64().unwrap_or(0),
    )
}

fn in_state(tf: &Terraform) -> usize {
    tf.show_json()["values"]["root_module"]["resources"]
        .as_array()
        .map_or(0, |rs| {
            rs.iter()
                .filter(|r| r["type"] == "comwit_database" && r["values"]["id"].is_string())
                .count()
        })
}

fn step(name: &'static str, emu: &Emulator, tf: &Terraform, args: &[&str]) -> Step {
    let (r0, l0) = counters(emu);
    let started = Instant::now();
    let out = tf.run(args);
    let secs = started.elapsed().as_secs_f64();
    // `plan -detailed-exitcode` exits 2 when it has changes: a failure here too.
    let ok = out.success();
    if !ok {
        let text = out.combined();
        let tail: Vec<&str> = text.lines().rev().take(12).collect();
        eprintln!("{name} failed; last lines:");
        for l in tail.iter().rev() {
            eprintln!("  {l}");
        }
    }
    let (r1, l1) = counters(emu);
    Step {
        name,
        ok,
        secs,
        requests: r1 - r0,
        limited: l1 - l0,
        in_state: in_state(tf),
    }
}

/// One round; `rps` `None` runs without any limit (Terraform's own time for the work).
fn round(n: usize, rps: Option<f64>, pacing: bool) -> Vec<Step> {
    let emu = Emulator::start();
    let mut tf = Terraform::comwit(&emu);
    if !pacing {
        tf.set_env("COMWIT_RATE_PACING", "off");
    }
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"many\" {{
  count = {n}
  name  = \"rate-${{count.index}}\"
}}
"
    ));
    if let Some(rps) = rps {
        emu.admin_put(
            "/_emulator/rate_limit",
            json!({ "requests_per_second": rps }),
        );
    }
    let apply = ["apply", "-auto-approve", "-no-color", "-input=false"];
    let plan = [
        "plan",
        "-no-color",
        "-input=false",
        "-detailed-exitcode",
        "-lock=false",
    ];
    vec![
        step("apply", &emu, &tf, &apply),
        step("refresh (plan)", &emu, &tf, &plan),
    ]
}

fn print(title: &str, steps: &[Step], n: usize, rps: f64) {
    println!("\n{title}");
    println!("| step | ok | wall s | floor N/R s | x N/R | requests | floor requests/R s | 429s | 429 share | failed ops |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for s in steps {
        let floor = n as f64 / rps;
        println!(
            "| {} | {} | {:.1} | {:.1} | {:.2}x | {} | {:.1} | {} | {:.2} % | {} |",
            s.name,
            if s.ok { "yes" } else { "**no**" },
            s.secs,
            floor,
            s.secs / floor,
            s.requests,
            s.requests as f64 / rps,
            s.limited,
            100.0 * s.limited as f64 / (s.requests.max(1) as f64),
            n.saturating_sub(s.in_state) + usize::from(!s.ok),
        );
    }
}

fn main() {
    let n: usize = env_or("BENCH_RATE_N", 1000);
    let rps: f64 = env_or("BENCH_RATE_RPS", 50.0);
    println!(
        "rate-limit benchmark: {n} comwit_database under {rps} requests/s per token (burst {}), Terraform {}",
        rps.ceil(),
        Terraform::new().version()
    );
    let free = round(n, None, true);
    print(
        "reference: no rate limit (Terraform's and the provider's own time)",
        &free,
        n,
        rps,
    );
    let paced = round(n, Some(rps), true);
    print("pacing on (default)", &paced, n, rps);
    let unpaced = round(n, Some(rps), false);
    print("pacing off (COMWIT_RATE_PACING=off)", &unpaced, n, rps);

    println!(
        "\ntargets, pacing on: wall within 1.1x of N/R, 0 failed operations, at most 1 % 429s"
    );
    for (s, f) in paced.iter().zip(&free) {
        println!(
            "- {}: {:.2}x of the larger floor, max(N/R, the same step without a limit = {:.1} s)",
            s.name,
            s.secs / (n as f64 / rps).max(f.secs),
            f.secs
        );
    }
    for s in &paced {
        let x = s.secs / (n as f64 / rps);
        let share = 100.0 * s.limited as f64 / (s.requests.max(1) as f64);
        let failed = n.saturating_sub(s.in_state) + usize::from(!s.ok);
        println!(
            "- {}: {:.2}x ({}), {} failed ({}), {:.2} % 429s ({})",
            s.name,
            x,
            common::yes_no(x <= 1.1),
            failed,
            common::yes_no(failed == 0),
            share,
            common::yes_no(share <= 1.0),
        );
    }
}
