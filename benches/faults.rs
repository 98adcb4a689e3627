//! Fault benchmark (run with `scripts/bench.sh faults`, or `cargo bench --bench faults`).
//!
//! Applies and destroys N `comwit_database` (default 200) with the real Terraform CLI
//! against the local emulator, once with no faults (the reference, same run) and once
//! with about 20 % of API requests faulted (`every` rules of the emulator, deterministic):
//! 500s, lost answers (the work committed, the answer never sent), 429s and dropped
//! connections. After each apply and each destroy it compares Terraform's state with the
//! emulator's inventory (`GET /_emulator/databases`) and prints:
//! - duplicates: database records beyond one per name (a create that ran twice);
//! - orphans: live databases that state does not hold (a user would pay for them and get
//!   409 on the next apply);
//! - ghosts: databases in state that the platform does not have;
//! - whether the first apply and the first destroy succeeded (convergence), a second plan's
//!   changes, and the requests and faults the emulator counted.
//!
//! Knobs: `BENCH_FAULT_N` (default 200), `BENCH_FAULT_EVERY` (default `20,19,18,17`: a 500
//! every 20th request, then a lost answer every 19th of the rest, a 429 every 18th, a
//! dropped connection every 17th; about 20 % in all), `TERRAFORM_BIN`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::{json, Value};

#[path = "../tests/support/mod.rs"]
mod support;

use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The emulator's view against Terraform's state.
#[derive(Debug, Default)]
struct Inventory {
    live: usize,
    in_state: usize,
    duplicates: usize,
    orphans: usize,
    ghosts: usize,
}

impl Inventory {
    fn clean(&self, expected: usize) -> bool {
        self.live == expected
            && self.in_state == expected
            && self.duplicates == 0
            && self.orphans == 0
            && self.ghosts == 0
    }
}

fn inventory(emu: &Emulator, tf: &Terraform) -> Inventory {
    let records = emu.admin_get("/_emulator/databases")["databases"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut per_name: BTreeMap<String, usize> = BTreeMap::new();
    let mut live = BTreeSet::new();
    for r in &records {
        let name = r["name"].as_str().unwrap_or_default().to_owned();
        *per_name.entry(name).or_default() += 1;
        if r["deleted"] != json!(true) {
            live.insert(r["database_id"].as_str().unwrap_or_default().to_owned());
        }
    }
    let show = tf.show_json();
    let in_state: BTreeSet<String> = show["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|r| r["type"] == "comwit_database")
        .filter_map(|r| r["values"]["id"].as_str().map(str::to_owned))
        .collect();
    Inventory {
        live: live.len(),
        in_state: in_state.len(),
        duplicates: per_name.values().map(|n| n.saturating_sub(1)).sum(),
        orphans: live.difference(&in_state).count(),
        ghosts: in_state.difference(&live).count(),
    }
}

/// How many times the fault rules fired so far.
fn faults_fired(emu: &Emulator) -> u64 {
    emu.admin_get("/_emulator/faults")["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| u64::from(u32::MAX) - r["remaining_times"].as_u64().unwrap_or(u64::from(u32::MAX)))
        .sum()
}

fn requests(emu: &Emulator) -> u64 {
    emu.admin_get("/_emulator/stats")["requests"]
        .as_u64()
        .unwrap_or(0)
}

struct Phase {
    name: &'static str,
    ok: bool,
    secs: f64,
    requests: u64,
    faults: u64,
    inventory: Inventory,
    expected: usize,
}

fn phase(
    name: &'static str,
    emu: &Emulator,
    tf: &Terraform,
    args: &[&str],
    expected: usize,
) -> Phase {
    let (req0, f0) = (requests(emu), faults_fired(emu));
    let started = Instant::now();
    let out = tf.run(args);
    let secs = started.elapsed().as_secs_f64();
    if !out.success() {
        let text = out.combined();
        let tail: Vec<&str> = text.lines().rev().take(15).collect();
        eprintln!("{name} failed; last lines:");
        for l in tail.iter().rev() {
            eprintln!("  {l}");
        }
    }
    Phase {
        name,
        ok: out.success(),
        secs,
        requests: requests(emu) - req0,
        faults: faults_fired(emu) - f0,
        inventory: inventory(emu, tf),
        expected,
    }
}

/// One full round: apply N, plan again, destroy; `rules` are the faults (none for the
/// reference).
fn round(n: usize, rules: &[Value]) -> Vec<Phase> {
    let emu = Emulator::start();
    let tf = Terraform::comwit(&emu);
    tf.write_main(&format!(
        "{COMWIT_TERRAFORM_BLOCK}
resource \"comwit_database\" \"many\" {{
  count = {n}
  name  = \"fault-${{count.index}}\"
}}
"
    ));
    // Faults only for the platform's public API; Terraform's own steps are untouched.
    if !rules.is_empty() {
        emu.admin_put("/_emulator/faults", json!({ "rules": rules }));
    }
    let apply = ["apply", "-auto-approve", "-no-color", "-input=false"];
    let mut phases = vec![phase("apply", &emu, &tf, &apply, n)];
    let plan = [
        "plan",
        "-no-color",
        "-input=false",
        "-detailed-exitcode",
        "-lock=false",
    ];
    phases.push(phase("plan (0 = no changes)", &emu, &tf, &plan, n));
    if !phases[0].ok {
        phases.push(phase("apply again", &emu, &tf, &apply, n));
    }
    let destroy = ["destroy", "-auto-approve", "-no-color", "-input=false"];
    phases.push(phase("destroy", &emu, &tf, &destroy, 0));
    if !phases.last().is_some_and(|p| p.ok) {
        phases.push(phase("destroy again", &emu, &tf, &destroy, 0));
    }
    phases
}

fn print(title: &str, phases: &[Phase]) {
    println!("\n{title}");
    println!(
        "| step | ok | s | requests | faults | live | in state | duplicates | orphans | ghosts | clean |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for p in phases {
        let i = &p.inventory;
        println!(
            "| {} | {} | {:.1} | {} | {} | {} | {} | {} | {} | {} | {} |",
            p.name,
            if p.ok { "yes" } else { "**no**" },
            p.secs,
            p.requests,
            p.faults,
            i.live,
            i.in_state,
            i.duplicates,
            i.orphans,
            i.ghosts,
            if i.clean(p.expected) { "yes" } else { "**no**" }
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let n: usize = env_or("BENCH_FAULT_N", 200);
    let every: Vec<u32> = std::env::var("BENCH_FAULT_EVERY")
        .unwrap_or_else(|_| "20,19,18,17".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let kinds = [
        json!({"kind": "error", "status": 500}),
        json!({"kind": "lose_response"}),
        json!({"kind": "rate_limit", "retry_after": 1}),
        json!({"kind": "drop"}),
    ];
    let rules: Vec<Value> = kinds
        .iter()
        .zip(&every)
        .map(|(k, e)| {
            let mut r = k.clone();
            r["path_prefix"] = json!("/v1/");
            r["every"] = json!(e);
            r
        })
        .collect();
    let share = 1.0
        - every
            .iter()
            .take(rules.len())
            .map(|e| 1.0 - 1.0 / f64::from(*e))
            .product::<f64>();
    println!(
        "fault benchmark: {n} comwit_database, Terraform {}",
        support::Terraform::new().version()
    );
    let reference = round(n, &[]);
    print("reference: no faults", &reference);
    let faulted = round(n, &rules);
    print(
        &format!(
            "faulted: {:.0} % of API requests (500 every {}, lost answer, 429, dropped connection)",
            share * 100.0,
            every.first().copied().unwrap_or(0)
        ),
        &faulted,
    );
    let converged = faulted.len() == 3 && faulted.iter().all(|p| p.ok);
    let clean = faulted.iter().all(|p| {
        p.inventory.duplicates == 0 && p.inventory.orphans == 0 && p.inventory.ghosts == 0
    });
    let requests = |ps: &[Phase]| ps.iter().map(|p| p.requests).sum::<u64>() as f64;
    println!(
        "\nconverged within one apply and one destroy: {}; duplicates, orphans, ghosts all 0: {}; requests {:.2}x of the reference",
        if converged { "yes" } else { "**no**" },
        if clean { "yes" } else { "**no**" },
        requests(&faulted) / requests(&reference).max(1.0)
    );
}
