//! `dig` (Debian package bind9-dnsutils, installed by `scripts/setup.sh`) against the
//! emulator's DNS server: what an outside resolver sees of the zones.

use std::process::Command;

/// One answer record as `dig +noall +answer` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub name: String,
    pub ttl: u32,
    pub rtype: String,
    pub data: String,
}

/// `dig @server -p port name rtype` (`tcp`: over TCP); the answer section's records.
/// Panics when dig is missing or fails.
pub fn dig(server: &str, name: &str, rtype: &str, tcp: bool) -> Vec<Answer> {
    let (host, port) = server.rsplit_once(':').expect("ip:port");
    let mut cmd = super::outside_tool("dig");
    cmd.args([
        "+noall",
        "+answer",
        "+time=2",
        "+tries=2",
        &format!("@{host}"),
        "-p",
        port,
        name,
        rtype,
    ]);
    if tcp {
        cmd.arg("+tcp");
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running dig (scripts/setup.sh installs bind9-dnsutils): {e}"));
    assert!(
        out.status.success(),
        "dig {name} {rtype} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
        .map(|l| {
            let mut parts = l.split_whitespace();
            let name = parts.next().unwrap_or_default().to_owned();
            let ttl = parts.next().and_then(|t| t.parse().ok()).unwrap_or(0);
            let _class = parts.next();
            let rtype = parts.next().unwrap_or_default().to_owned();
            let data = parts.collect::<Vec<_>>().join(" ");
            Answer {
                name,
                ttl,
                rtype,
                data,
            }
        })
        .collect()
}

/// The SOA serial of `zone`.
pub fn soa_serial(server: &str, zone: &str) -> u64 {
    let answers = dig(server, zone, "SOA", false);
    let soa = answers
        .iter()
        .find(|a| a.rtype == "SOA")
        .unwrap_or_else(|| panic!("no SOA for {zone}: {answers:?}"));
    soa.data
        .split_whitespace()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("SOA serial in {soa:?}"))
}

/// dig's status line word (`NOERROR`, `NXDOMAIN`, `REFUSED`).
pub fn status(server: &str, name: &str, rtype: &str) -> String {
    let (host, port) = server.rsplit_once(':').expect("ip:port");
    let out = super::outside_tool("dig")
        .args([
            "+time=2",
            "+tries=2",
            &format!("@{host}"),
            "-p",
            port,
            name,
            rtype,
        ])
        .output()
        .expect("dig");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("status: ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap_or("")
        .to_owned()
}
