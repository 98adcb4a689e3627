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
        .map(record)
        .collect()
}

/// One record line as dig prints it.
fn record(line: &str) -> Answer {
    let mut parts = line.split_whitespace();
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
}

/// A whole reply as dig prints it: status, header flags and the three record sections.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub status: String,
    pub flags: Vec<String>,
    pub answer: Vec<Answer>,
    pub authority: Vec<Answer>,
    pub additional: Vec<Answer>,
}

impl Reply {
    /// Whether the header has `flag` (`aa`, `qr`, ...).
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// `dig @server -p port name rtype` (`+norecurse`, as a resolver asks an authority): the
/// whole reply. Panics when dig is missing or fails.
pub fn query(server: &str, name: &str, rtype: &str) -> Reply {
    let (host, port) = server.rsplit_once(':').expect("ip:port");
    let out = super::outside_tool("dig")
        .args([
            "+norecurse",
            "+nocookie",
            "+time=2",
            "+tries=2",
            &format!("@{host}"),
            "-p",
            port,
            name,
            rtype,
        ])
        .output()
        .unwrap_or_else(|e| panic!("running dig (scripts/setup.sh installs bind9-dnsutils): {e}"));
    assert!(
        out.status.success(),
        "dig {name} {rtype} failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut reply = Reply::default();
    let mut section = None;
    for line in text.lines() {
        if let Some(rest) = line.split("status: ").nth(1) {
            reply.status = rest.split(',').next().unwrap_or("").to_owned();
        } else if let Some(rest) = line.strip_prefix(";; flags: ") {
            reply.flags = rest
                .split(';')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_owned)
                .collect();
        } else if line.starts_with(";; ") && line.ends_with("SECTION:") {
            section = match line {
                ";; ANSWER SECTION:" => Some(0),
                ";; AUTHORITY SECTION:" => Some(1),
                ";; ADDITIONAL SECTION:" => Some(2),
                _ => None,
            };
        } else if line.trim().is_empty() || line.starts_with(';') {
            if line.trim().is_empty() {
                section = None;
            }
        } else {
            match section {
                Some(0) => reply.answer.push(record(line)),
                Some(1) => reply.authority.push(record(line)),
                Some(2) => reply.additional.push(record(line)),
                _ => {}
            }
        }
    }
    reply
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

/// dig's status line word (`NOERROR`, `NXDOMAIN`, `REFUSED`), from [`query`].
pub fn status(server: &str, name: &str, rtype: &str) -> String {
    query(server, name, rtype).status
}
