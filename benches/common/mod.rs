//! What both benchmarks need beyond the test harness (`tests/support`, which they share
//! for the Terraform runner and shim path, the emulator, the plugin cookie and client
//! certificate): medians, yes/no, and CPU time from /proc.

/// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ).
pub const TICKS_PER_S: f64 = 100.0;

pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub fn yes_no(met: bool) -> &'static str {
    if met {
        "yes"
    } else {
        "**no**"
    }
}

/// Clock ticks of a live process from /proc/<pid>/stat: (utime + stime, cutime + cstime).
/// The second counts the children the process has waited for, and theirs.
pub fn cpu_ticks(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the parenthesised command name the fields start at field 3 (state); utime,
    // stime, cutime and cstime are fields 14 to 17.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(14 - 3)
        .take(4)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    (fields.len() == 4).then(|| (fields[0] + fields[1], fields[2] + fields[3]))
}
