//! The authoritative DNS server: hickory-server answers, over UDP and TCP on one port,
//! every zone the store holds. Each zone is written as zone-file text (SOA with the zone's
//! serial, the platform's NS records, then every record) and parsed by hickory's own zone
//! parser into an in-memory authority; the catalog is rebuilt whenever the store's DNS
//! generation moves, so an answer always shows the latest committed change.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use hickory_proto::op::{Edns, Header, MessageType, Metadata, OpCode, ResponseCode};
use hickory_proto::rr::{LowerName, Name, RData, Record, RecordSet, RecordType, RrKey};
use hickory_proto::serialize::txt::Parser;
use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, MessageResponseBuilder, ZoneType};
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;

use super::{NAME_SERVERS, SOA_MINIMUM, ZONE_TTL};
use crate::contract::dns as rules;
use crate::emulator::comwit::store::{Store, Zone};
use crate::emulator::core::blocking;

/// The listening-line name of the DNS server.
pub const DNS_LISTENING_NAME: &str = "comwit-dns";
/// The DNS server's default address (CLI flag `--dns-listen`), UDP and TCP.
pub const DEFAULT_DNS_LISTEN: &str = "127.0.0.1:8753";
/// Responses a TCP connection may have queued (hickory-server 0.24's fixed channel size).
const TCP_RESPONSE_BUFFER: usize = 32;

/// Quotes one TXT string for zone-file text.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\{:03}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A zone as zone-file text (names relative to `$ORIGIN`).
pub fn zone_text(zone: &Zone) -> String {
    let d = &zone.domain;
    let mut text = format!(
        "$ORIGIN {name}.\n@ {ZONE_TTL} IN SOA {ns}. hostmaster.{name}. {serial} 3600 600 604800 {SOA_MINIMUM}\n",
        name = d.name,
        ns = NAME_SERVERS[0],
        serial = d.serial,
    );
    for ns in NAME_SERVERS {
        text.push_str(&format!("@ {ZONE_TTL} IN NS {ns}.\n"));
    }
    // One TTL per set: the smallest of its records'.
    let mut set_ttl: std::collections::HashMap<(&str, &str), i64> = Default::default();
    for r in &zone.records {
        let ttl = set_ttl
            .entry((r.name.as_str(), r.rtype.as_str()))
            .or_insert(r.ttl);
        *ttl = (*ttl).min(r.ttl);
    }
    for r in &zone.records {
        let ttl = set_ttl
            .get(&(r.name.as_str(), r.rtype.as_str()))
            .copied()
            .unwrap_or(r.ttl);
        let rdata = match r.rtype.as_str() {
            "CNAME" | "NS" => format!("{}.", r.value),
            "MX" => format!("{} {}.", r.priority.unwrap_or(0), r.value),
            "SRV" => format!(
                "{} {} {} {}.",
                r.priority.unwrap_or(0),
                r.weight.unwrap_or(0),
                r.port.unwrap_or(0),
                r.value
            ),
            "TXT" => rules::txt_strings(&r.value)
                .iter()
                .map(|s| quoted(s))
                .collect::<Vec<_>>()
                .join(" "),
            _ => r.value.clone(),
        };
        text.push_str(&format!("{} {ttl} IN {} {rdata}\n", r.name, r.rtype));
    }
    text
}

/// The delegations of one zone: the NS records of each delegation point (the topmost ones:
/// a delegation below another is occluded by it), and the glue a referral carries, the
/// A/AAAA records the zone holds for the in-zone name servers of its delegations.
#[derive(Debug, Default)]
struct Cuts {
    ns: HashMap<LowerName, Vec<Record>>,
    glue: HashMap<LowerName, Vec<Record>>,
}

/// A zone's records, split: what the zone answers with authority (occluded names left out)
/// and its delegations.
fn split_cuts(origin: &LowerName, records: &mut BTreeMap<RrKey, RecordSet>) -> Cuts {
    let below = |name: &LowerName, top: &LowerName| top.zone_of(name) && name != top;
    let points: Vec<LowerName> = records
        .keys()
        .filter(|k| k.record_type == RecordType::NS && &k.name != origin)
        .map(|k| k.name.clone())
        .collect();
    // Only the topmost delegation points: those under no other one.
    let points: Vec<LowerName> = points
        .iter()
        .filter(|p| !points.iter().any(|q| below(p, q)))
        .cloned()
        .collect();
    let mut cuts = Cuts::default();
    for point in &points {
        let key = RrKey::new(point.clone(), RecordType::NS);
        let Some(set) = records.get(&key) else {
            continue;
        };
        let ns: Vec<Record> = set.records_without_rrsigs().cloned().collect();
        for target in ns.iter().filter_map(|r| match &r.data {
            RData::NS(n) => Some(LowerName::new(&n.0)),
            _ => None,
        }) {
            if !origin.zone_of(&target) || cuts.glue.contains_key(&target) {
                continue;
            }
            let glue: Vec<Record> = [RecordType::A, RecordType::AAAA]
                .into_iter()
                .filter_map(|t| records.get(&RrKey::new(target.clone(), t)))
                .flat_map(|set| set.records_without_rrsigs().cloned())
                .collect();
            if !glue.is_empty() {
                cuts.glue.insert(target, glue);
            }
        }
        cuts.ns.insert(point.clone(), ns);
    }
    // Data at or under a delegation point is not the zone's to answer (RFC 1034 4.2.1):
    // only the point's NS (and DS) records stay, for the referral.
    records.retain(|k, _| {
        !points.iter().any(|p| {
            below(&k.name, p)
                || (&k.name == p && !matches!(k.record_type, RecordType::NS | RecordType::DS))
        })
    });
    cuts
}

/// Every zone the server answers: hickory's catalog of in-memory authorities, and each
/// zone's delegations, which the catalog of hickory-server 0.24 does not know (it answers
/// a name under a delegation NXDOMAIN with authority).
pub struct Served {
    catalog: Catalog,
    cuts: HashMap<LowerName, Cuts>,
}

impl Served {
    /// Whether a zone of this origin is served.
    pub fn contains(&self, origin: &LowerName) -> bool {
        self.catalog.contains(origin)
    }

    /// The referral for `name` `rtype` (NS records of the delegation point, glue) when the
    /// name is at or under a delegation point of the zone that holds it. A DS query at the
    /// point itself is the parent's to answer, as an ordinary query.
    fn referral(&self, name: &LowerName, rtype: RecordType) -> Option<(&[Record], Vec<&Record>)> {
        let origin = self.catalog.find(name)?.first()?.origin();
        let cuts = self.cuts.get(origin)?;
        let (point, ns) = cuts.ns.iter().find(|(p, _)| p.zone_of(name))?;
        if point == name && rtype == RecordType::DS {
            return None;
        }
        let glue = ns
            .iter()
            .filter_map(|r| match &r.data {
                RData::NS(n) => cuts.glue.get(&LowerName::new(&n.0)),
                _ => None,
            })
            .flatten()
            .collect();
        Some((ns.as_slice(), glue))
    }
}

/// Builds the catalog of every zone; a zone that does not parse is left out and logged.
pub fn catalog(zones: &[Zone]) -> Served {
    let mut catalog = Catalog::new();
    let mut all_cuts = HashMap::new();
    for zone in zones {
        let built = (|| -> anyhow::Result<(LowerName, InMemoryZoneHandler, Cuts)> {
            let origin = Name::from_ascii(format!("{}.", zone.domain.name))?;
            let (origin, mut records) = Parser::new(zone_text(zone), None, Some(origin)).parse()?;
            // hickory's zone parser gives the SOA the TTL of its `expire` field: give it
            // the zone's TTL, as written.
            for (key, set) in records.iter_mut() {
                if key.record_type == RecordType::SOA {
                    set.set_ttl(ZONE_TTL as u32);
                }
            }
            let lower = LowerName::new(&origin);
            let cuts = split_cuts(&lower, &mut records);
            let authority =
                InMemoryZoneHandler::new(origin, records, ZoneType::Primary, AxfrPolicy::Deny)
                    .map_err(|e| anyhow::anyhow!(e))?;
            Ok((lower, authority, cuts))
        })();
        match built {
            Ok((origin, authority, cuts)) => {
                all_cuts.insert(origin.clone(), cuts);
                catalog.upsert(origin, vec![Arc::new(authority)]);
            }
            Err(e) => tracing::error!(zone = %zone.domain.name, error = %e, "zone left out"),
        }
    }
    Served {
        catalog,
        cuts: all_cuts,
    }
}

/// The request handler: the catalog of the latest DNS generation.
struct Zones {
    store: Arc<Store>,
    current: tokio::sync::Mutex<(u64, Arc<Served>)>,
}

impl Zones {
    async fn served(&self) -> Arc<Served> {
        let mut current = self.current.lock().await;
        let generation = self.store.dns_generation();
        if current.0 != generation {
            match blocking::run(&self.store, |store| store.zones()).await {
                Ok(zones) => *current = (generation, Arc::new(catalog(&zones))),
                Err(e) => tracing::error!(error = %e, "cannot read the zones"),
            }
        }
        current.1.clone()
    }
}

struct Handler(Arc<Zones>);

/// Answers a query under a delegation with a referral, as BIND does: NOERROR without the
/// authoritative flag, the delegation's NS records in the authority section, glue in the
/// additional section. `None` when the request is not such a query (the catalog answers).
async fn refer<R: ResponseHandler>(
    served: &Served,
    request: &Request,
    mut response_handle: R,
) -> Option<ResponseInfo> {
    if request.metadata.message_type != MessageType::Query
        || request.metadata.op_code != OpCode::Query
    {
        return None;
    }
    if request.edns.as_ref().is_some_and(|e| e.version() > 0) {
        return None; // the catalog answers BADVERS
    }
    let query = request.request_info().ok()?.query;
    let (ns, glue) = served.referral(query.name(), query.query_type())?;
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.authoritative = false;
    metadata.response_code = ResponseCode::NoError;
    let edns = request.edns.as_ref().map(|req_edns| {
        let mut edns = Edns::new();
        edns.set_max_payload(req_edns.max_payload().max(512));
        edns.set_version(0);
        edns
    });
    let mut builder = MessageResponseBuilder::from_message_request(request);
    if let Some(edns) = &edns {
        builder.edns(edns);
    }
    let response = builder.build(metadata, [], ns.iter(), [], glue);
    Some(match response_handle.send_response(response).await {
        Ok(info) => info,
        Err(e) => {
            tracing::debug!(error = %e, "sending a referral");
            let mut failed = Metadata::response_from_request(&request.metadata);
            failed.response_code = ResponseCode::ServFail;
            Header {
                metadata: failed,
                counts: Default::default(),
            }
            .into()
        }
    })
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        let served = self.0.served().await;
        if let Some(info) = refer(&served, request, response_handle.clone()).await {
            return info;
        }
        served
            .catalog
            .handle_request::<R, T>(request, response_handle)
            .await
    }
}

/// Binds UDP and TCP on one address (port 0: a free port both take, tried a few times).
async fn bind(listen: &str) -> anyhow::Result<(UdpSocket, TcpListener, SocketAddr)> {
    let mut last = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(listen)
            .await
            .with_context(|| format!("binding the DNS server (UDP) on {listen}"))?;
        let addr = udp.local_addr()?;
        match TcpListener::bind(addr).await {
            Ok(tcp) => return Ok((udp, tcp, addr)),
            Err(e) => last = Some(e),
        }
        if !listen.ends_with(":0") {
            break;
        }
    }
    Err(anyhow::anyhow!(
        "binding the DNS server (TCP) on {listen}: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    ))
}

/// A running DNS server.
pub struct DnsServer {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl DnsServer {
    /// Binds `listen` (UDP and TCP) and serves the store's zones until `shutdown` is true.
    pub async fn start(
        listen: &str,
        store: Arc<Store>,
        mut shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<DnsServer> {
        let (udp, tcp, addr) = bind(listen).await?;
        let zones = Arc::new(Zones {
            store,
            current: tokio::sync::Mutex::new((
                0,
                Arc::new(Served {
                    catalog: Catalog::new(),
                    cuts: HashMap::new(),
                }),
            )),
        });
        let mut server = Server::new(Handler(zones));
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(10), TCP_RESPONSE_BUFFER);
        let task = tokio::spawn(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
            if let Err(e) = server.shutdown_gracefully().await {
                tracing::debug!(error = %e, "DNS server shutdown");
            }
        });
        Ok(DnsServer { addr, task })
    }

    /// Waits for the server to stop (after the shutdown signal).
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::comwit::store::{DnsRecord, Domain};

    fn rec(name: &str, t: &str, v: &str) -> DnsRecord {
        DnsRecord {
            record_id: "rec_1".into(),
            domain_id: "dom_1".into(),
            name: name.into(),
            rtype: t.into(),
            value: v.into(),
            ttl: 120,
            priority: (t == "MX" || t == "SRV").then_some(10),
            weight: (t == "SRV").then_some(5),
            port: (t == "SRV").then_some(443),
            managed_by: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn every_type_parses_as_a_zone() {
        let zone = Zone {
            domain: Domain {
                domain_id: "dom_1".into(),
                project_id: "prj_local".into(),
                name: "example.test".into(),
                serial: 7,
                created_at: String::new(),
                updated_at: String::new(),
            },
            records: vec![
                rec("@", "A", "192.0.2.1"),
                rec("v6", "AAAA", "2001:db8::1"),
                rec("www", "CNAME", "example.test"),
                rec("@", "TXT", &format!("say \"hi\" \\ é {}", "x".repeat(300))),
                rec("@", "MX", "mail.example.test"),
                rec("_sip._tcp", "SRV", "sip.example.test"),
                rec("@", "CAA", "0 issue \"letsencrypt.org\""),
                rec("sub", "NS", "ns.elsewhere.test"),
            ],
        };
        let origin = Name::from_ascii("example.test.").expect("name");
        let (_, records) = Parser::new(zone_text(&zone), None, Some(origin))
            .parse()
            .expect("zone text parses");
        // SOA, NS, and the 8 records, one set each.
        assert_eq!(records.len(), 10, "{}", zone_text(&zone));
        let txt = records
            .iter()
            .find(|(k, _)| k.record_type == hickory_proto::rr::RecordType::TXT)
            .and_then(|(_, v)| v.records_without_rrsigs().next().cloned())
            .expect("txt");
        let hickory_proto::rr::RData::TXT(data) = &txt.data else {
            panic!("not TXT")
        };
        let joined: Vec<u8> = data
            .txt_data
            .iter()
            .flat_map(|b| b.iter().copied())
            .collect();
        assert_eq!(
            String::from_utf8(joined).expect("utf8"),
            format!("say \"hi\" \\ é {}", "x".repeat(300))
        );
        assert!(data.txt_data.iter().all(|s| s.len() <= 255));
        assert!(
            catalog(std::slice::from_ref(&zone)).contains(&LowerName::new(
                &Name::from_ascii("example.test.").expect("name")
            ))
        );
    }
}
