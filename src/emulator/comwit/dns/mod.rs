//! Comwit's DNS in the emulator (`docs/api/comwit.md`, "Domains and DNS"): project
//! domains with one zone each, DNS records, app hostnames in manual and automatic DNS
//! mode, and a real authoritative DNS server for every zone.
//!
//! - [`rules`]: names and each record type's values, in canonical form;
//! - [`server`]: the authoritative server (hickory-server, UDP and TCP, `--dns-listen`);
//! - [`lookup`]: a stub resolver, so delegation and verification ask real DNS;
//! - [`api`]: the `/v1` routes of domains, records and hostnames.
//!
//! Delegation [assumed]: a domain is `delegated` when an NS lookup of its name through the
//! resolver (`COMWIT_EMULATOR_DNS_RESOLVER`, by default the emulator's own DNS server)
//! answers every name server the platform assigned; `pending` otherwise. Verification of a
//! hostname: every record it needs is looked up through the same resolver and must be
//! answered with the expected value.

pub(crate) mod api;
pub mod lookup;
pub mod server;

use std::net::SocketAddr;

use hickory_proto::rr::RecordType;
use serde_json::{json, Value};

use super::store::{App, Domain, Hostname};

/// The name servers every project domain is delegated to in the emulator. [assumed]
pub const NAME_SERVERS: [&str; 2] = ["ns1.dns.comwit.localhost", "ns2.dns.comwit.localhost"];
/// TTL of the SOA and apex NS records.
pub const ZONE_TTL: i64 = 3600;
/// The SOA minimum (negative-answer TTL).
pub const SOA_MINIMUM: i64 = 60;
/// The label of a hostname's ownership TXT record: `_comwit-challenge.<hostname>`. [assumed]
pub const CHALLENGE_LABEL: &str = "_comwit-challenge";
/// The address an apex hostname's A record points at: the emulator's app gateway. [assumed]
pub const GATEWAY_IPV4: &str = "127.0.0.1";
/// Env: the DNS server (`ip:port`) delegation and verification ask.
pub const ENV_DNS_RESOLVER: &str = "COMWIT_EMULATOR_DNS_RESOLVER";

/// Where the DNS server listens and whom lookups ask.
#[derive(Debug, Clone, Copy)]
pub struct DnsInfo {
    pub server: SocketAddr,
    pub resolver: SocketAddr,
}

/// One record a hostname needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needed {
    /// FQDN.
    pub name: String,
    pub rtype: &'static str,
    pub value: String,
    pub ttl: i64,
}

impl Needed {
    pub fn json(&self) -> Value {
        json!({"name": self.name, "type": self.rtype, "value": self.value, "ttl": self.ttl})
    }
}

/// The records of a hostname: its ownership TXT record, and its route to the app: a CNAME
/// to the app's default hostname, or an A record to the gateway at a zone apex (automatic
/// mode only).
pub fn needed_records(hostname: &Hostname, app: &App, domain: Option<&Domain>) -> Vec<Needed> {
    let apex = domain.is_some_and(|d| d.name == hostname.hostname);
    let route = if apex {
        Needed {
            name: hostname.hostname.clone(),
            rtype: "A",
            value: GATEWAY_IPV4.to_owned(),
            ttl: crate::contract::dns::TTL_DEFAULT,
        }
    } else {
        Needed {
            name: hostname.hostname.clone(),
            rtype: "CNAME",
            value: app.default_hostname.clone(),
            ttl: crate::contract::dns::TTL_DEFAULT,
        }
    };
    vec![
        Needed {
            name: format!("{CHALLENGE_LABEL}.{}", hostname.hostname),
            rtype: "TXT",
            value: format!("comwit-verify={}", hostname.token),
            ttl: crate::contract::dns::TTL_DEFAULT,
        },
        route,
    ]
}

/// What a lookup of a needed record found when it was not the expected value.
#[derive(Debug, Clone)]
pub struct Missing {
    pub needed: Needed,
    pub found: Vec<String>,
    pub error: Option<String>,
}

impl Missing {
    pub fn json(&self) -> Value {
        let mut v = self.needed.json();
        v["found"] = json!(self.found);
        v["error"] = json!(self.error);
        v
    }
}

fn rtype(t: &str) -> RecordType {
    match t {
        "A" => RecordType::A,
        "CNAME" => RecordType::CNAME,
        "NS" => RecordType::NS,
        _ => RecordType::TXT,
    }
}

/// Looks every needed record up through `resolver`; returns those not answered as needed.
pub async fn verify(resolver: SocketAddr, needed: &[Needed]) -> Vec<Missing> {
    let mut missing = Vec::new();
    for n in needed {
        match lookup::lookup(resolver, &n.name, rtype(n.rtype)).await {
            Ok(found) if found.iter().any(|f| f.eq_ignore_ascii_case(&n.value)) => {}
            Ok(found) => missing.push(Missing {
                needed: n.clone(),
                found,
                error: None,
            }),
            Err(e) => missing.push(Missing {
                needed: n.clone(),
                found: vec![],
                error: Some(e),
            }),
        }
    }
    missing
}

/// The delegation of `domain`: (`delegated` or `pending`, the name servers DNS answers).
pub async fn delegation(resolver: SocketAddr, domain: &str) -> (&'static str, Vec<String>) {
    let found = lookup::lookup(resolver, domain, RecordType::NS)
        .await
        .unwrap_or_default();
    let all = NAME_SERVERS
        .iter()
        .all(|ns| found.iter().any(|f| f.eq_ignore_ascii_case(ns)));
    (if all { "delegated" } else { "pending" }, found)
}
