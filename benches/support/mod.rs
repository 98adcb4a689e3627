//! What both benchmarks need: the Terraform shim, a plugin's start-up environment, medians,
//! and CPU time from /proc.

use std::path::{Path, PathBuf};

/// go-plugin's magic cookie, as Terraform sets it for a provider.
pub const COOKIE: (&str, &str) = (
    "TF_PLUGIN_MAGIC_COOKIE",
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
);

/// Linux reports CPU time in clock ticks of 1/100 s (USER_HZ).
pub const TICKS_PER_S: f64 = 100.0;

/// The Terraform shim from `scripts/setup.sh` (`TERRAFORM_BIN` or `.tools/bin/terraform`).
pub fn terraform_bin() -> PathBuf {
    std::env::var_os("TERRAFORM_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform"))
}

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

/// A client certificate like the one Terraform passes (self-signed ECDSA P-521).
pub fn client_cert_pem() -> String {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).expect("key");
    rcgen::CertificateParams::new(vec!["localhost".into()])
        .expect("params")
        .self_signed(&key)
        .expect("cert")
        .pem()
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
