//! Comwit domains, DNS records and app hostnames on the real `platform-emulator` binary,
//! checked over HTTP and with `dig` against its DNS server (UDP and TCP).

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::dns::{dig, query, soa_serial, status, Answer};
use crate::support::Emulator;

fn create_domain(emu: &Emulator, name: &str) -> Value {
    let (code, body) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/domains",
        Some(json!({ "domain": name })),
    );
    assert_eq!(code, 201, "{body}");
    body
}

fn id(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {v}"))
        .to_owned()
}

fn add(emu: &Emulator, domain: &str, body: Value) -> (u16, Value) {
    emu.api(
        Method::POST,
        &format!("/v1/domains/{domain}/records"),
        Some(body),
    )
}

#[test]
fn domains_onboard_and_are_delegated_through_dns() {
    let emu = Emulator::start();
    let d = create_domain(&emu, "Example.TEST.");
    assert_eq!(d["domain"], "example.test");
    assert_eq!(d["delegation_status"], "delegated", "{d}");
    assert_eq!(
        d["name_servers"],
        json!(["ns1.dns.comwit.localhost", "ns2.dns.comwit.localhost"])
    );
    // The same name again, anywhere: 409; not a domain: 422 on `domain`.
    let (code, body) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/domains",
        Some(json!({"domain": "example.test"})),
    );
    assert_eq!(code, 409, "{body}");
    let (code, body) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/domains",
        Some(json!({"domain": "no_tld"})),
    );
    assert_eq!(
        (code, body["error"]["field"].as_str()),
        (422, Some("domain"))
    );
    let dns = emu.dns_addr();
    let ns = dig(&dns, "example.test", "NS", false);
    assert_eq!(ns.len(), 2, "{ns:?}");
    let soa = dig(&dns, "example.test", "SOA", false);
    assert_eq!(soa[0].ttl, 3600, "{soa:?}");
    assert!(
        soa[0]
            .data
            .starts_with("ns1.dns.comwit.localhost. hostmaster.example.test. "),
        "{soa:?}"
    );
    assert_eq!(status(&dns, "not-held.test", "A"), "REFUSED");
    let list = emu.api_get("/v1/projects/prj_local/domains");
    assert_eq!(list["domains"].as_array().map(Vec::len), Some(1));
    // A token without domain:write may not onboard.
    let reader = emu.admin_post(
        "/_emulator/tokens",
        json!({"scopes": ["domain:read"], "projects": ["prj_local"]}),
    );
    let (code, body) = emu.request(
        Method::POST,
        "/v1/projects/prj_local/domains",
        reader["token"].as_str(),
        &[],
        Some(json!({"domain": "other.test"})),
    );
    assert_eq!(code, 403, "{body}");
    assert_eq!(body["error"]["required_scope"], "domain:write");
    // Delete: the zone goes.
    let (code, _) = emu.api(
        Method::DELETE,
        &format!("/v1/domains/{}", id(&d, "domain_id")),
        None,
    );
    assert_eq!(code, 204);
    assert_eq!(status(&dns, "example.test", "SOA"), "REFUSED");
}

#[test]
fn a_resolver_that_does_not_answer_leaves_delegation_pending() {
    // A UDP port nobody answers on.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr").to_string();
    let emu = Emulator::builder()
        .env("COMWIT_EMULATOR_DNS_RESOLVER", &addr)
        .start();
    let d = create_domain(&emu, "pending.test");
    assert_eq!(d["delegation_status"], "pending", "{d}");
    assert_eq!(d["delegated_name_servers"], json!([]));
}

#[test]
fn records_of_every_type_resolve_with_their_ttl_and_bump_the_serial() {
    let emu = Emulator::start();
    let dns = emu.dns_addr();
    let d = id(&create_domain(&emu, "zone.test"), "domain_id");
    let serial0 = soa_serial(&dns, "zone.test");
    let long_txt = format!("v=long {}", "x".repeat(300));
    let cases = [
        (
            json!({"name": "www", "type": "A", "value": "192.0.2.10", "ttl": 120}),
            "www.zone.test",
            "A",
            "192.0.2.10",
            120,
        ),
        (
            json!({"name": "v6", "type": "AAAA", "value": "2001:DB8:0::1", "ttl": 180}),
            "v6.zone.test",
            "AAAA",
            "2001:db8::1",
            180,
        ),
        (
            json!({"name": "alias.zone.test.", "type": "CNAME", "value": "WWW.zone.test.", "ttl": 240}),
            "alias.zone.test",
            "CNAME",
            "www.zone.test.",
            240,
        ),
        (
            json!({"name": "@", "type": "MX", "value": "mx.zone.test", "priority": 10, "ttl": 300}),
            "zone.test",
            "MX",
            "10 mx.zone.test.",
            300,
        ),
        (
            json!({"name": "_sip._tcp", "type": "SRV", "value": "sip.zone.test", "priority": 1, "weight": 2, "port": 5060, "ttl": 360}),
            "_sip._tcp.zone.test",
            "SRV",
            "1 2 5060 sip.zone.test.",
            360,
        ),
        (
            json!({"name": "zone.test", "type": "CAA", "value": "0 issue letsencrypt.org", "ttl": 420}),
            "zone.test",
            "CAA",
            "0 issue \"letsencrypt.org\"",
            420,
        ),
        (
            json!({"name": "sub", "type": "NS", "value": "ns.elsewhere.test", "ttl": 480}),
            "sub.zone.test",
            "NS",
            "ns.elsewhere.test.",
            480,
        ),
        (
            json!({"name": "txt", "type": "TXT", "value": "\"hello\" \"world\"", "ttl": 540}),
            "txt.zone.test",
            "TXT",
            "\"helloworld\"",
            540,
        ),
    ];
    for (body, name, rtype, data, ttl) in &cases {
        let (code, created) = add(&emu, &d, body.clone());
        assert_eq!(code, 201, "{body} -> {created}");
        // An NS record below the apex delegates: it comes back as a referral.
        let answers = if *rtype == "NS" {
            query(&dns, name, rtype).authority
        } else {
            dig(&dns, name, rtype, false)
        };
        let found = answers.iter().find(|a| a.rtype == *rtype);
        let found = found.unwrap_or_else(|| panic!("{name} {rtype}: {answers:?}"));
        assert_eq!(
            (found.data.as_str(), found.ttl),
            (*data, *ttl),
            "{name} {rtype}"
        );
    }
    assert_eq!(soa_serial(&dns, "zone.test"), serial0 + cases.len() as u64);

    // A TXT value over 255 bytes is split into strings as DNS does, and whole over TCP.
    let (code, txt) = add(
        &emu,
        &d,
        json!({"name": "long", "type": "TXT", "value": long_txt}),
    );
    assert_eq!(code, 201, "{txt}");
    for tcp in [false, true] {
        let answers = dig(&dns, "long.zone.test", "TXT", tcp);
        let data = &answers[0].data;
        assert!(data.starts_with("\"v=long x"), "{data}");
        assert_eq!(data.matches("\" \"").count(), 1, "two strings: {data}");
        assert_eq!(data.replace("\" \"", "").trim_matches('"'), long_txt);
    }

    // Each type's rules, on their field.
    for (body, field) in [
        (
            json!({"name": "bad", "type": "A", "value": "1.2.3"}),
            "value",
        ),
        (
            json!({"name": "bad", "type": "AAAA", "value": "192.0.2.1"}),
            "value",
        ),
        (
            json!({"name": "bad", "type": "MX", "value": "mx.zone.test"}),
            "priority",
        ),
        (
            json!({"name": "bad", "type": "A", "value": "192.0.2.1", "ttl": 5}),
            "ttl",
        ),
        (json!({"name": "bad", "type": "SPF", "value": "x"}), "type"),
        (
            json!({"name": "@", "type": "CNAME", "value": "x.test"}),
            "name",
        ),
        (
            json!({"name": "x.other.test.", "type": "A", "value": "192.0.2.1"}),
            "name",
        ),
        (
            json!({"name": "bad", "type": "TXT", "value": "x".repeat(3000)}),
            "value",
        ),
    ] {
        let (code, err) = add(&emu, &d, body.clone());
        assert_eq!(code, 422, "{body} -> {err}");
        assert_eq!(err["error"]["field"], field, "{body} -> {err}");
    }
    // Two records of one set with other TTLs: both kept, served with the smallest.
    let (code, body) = add(
        &emu,
        &d,
        json!({"name": "pair", "type": "A", "value": "192.0.2.1", "ttl": 600}),
    );
    assert_eq!(code, 201, "{body}");
    let (code, body) = add(
        &emu,
        &d,
        json!({"name": "pair", "type": "A", "value": "192.0.2.2", "ttl": 120}),
    );
    assert_eq!(code, 201, "{body}");
    let pair = dig(&dns, "pair.zone.test", "A", false);
    assert_eq!(pair.len(), 2, "{pair:?}");
    assert!(pair.iter().all(|a| a.ttl == 120), "{pair:?}");
    // A CNAME beside other records, either way round: 409.
    let (code, err) = add(
        &emu,
        &d,
        json!({"name": "alias", "type": "A", "value": "192.0.2.1"}),
    );
    assert_eq!(code, 409, "{err}");
    let (code, err) = add(
        &emu,
        &d,
        json!({"name": "www", "type": "CNAME", "value": "x.test"}),
    );
    assert_eq!(code, 409, "{err}");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("CNAME"),
        "{err}"
    );

    // An edit shows at once, with a new serial; a delete removes the answer.
    let list = emu.api_get(&format!("/v1/domains/{d}/records"));
    let www = list["records"]
        .as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == "www"))
        .cloned()
        .expect("www");
    let before = soa_serial(&dns, "zone.test");
    let (code, updated) = emu.api(
        Method::PUT,
        &format!("/v1/domains/{d}/records/{}", id(&www, "record_id")),
        Some(json!({"name": "www", "type": "A", "value": "192.0.2.99", "ttl": 60})),
    );
    assert_eq!(code, 200, "{updated}");
    let answers = dig(&dns, "www.zone.test", "A", false);
    assert_eq!(
        (answers[0].data.as_str(), answers[0].ttl),
        ("192.0.2.99", 60)
    );
    assert_eq!(soa_serial(&dns, "zone.test"), before + 1);
    let (code, _) = emu.api(
        Method::DELETE,
        &format!("/v1/domains/{d}/records/{}", id(&www, "record_id")),
        None,
    );
    assert_eq!(code, 204);
    assert!(dig(&dns, "www.zone.test", "A", false).is_empty());
    assert_eq!(status(&dns, "www.zone.test", "A"), "NXDOMAIN");
}

fn has(records: &[Answer], name: &str, rtype: &str, data: &str) -> bool {
    records
        .iter()
        .any(|r| r.name == name && r.rtype == rtype && r.data == data)
}

#[test]
fn a_delegated_subdomain_is_answered_with_a_referral() {
    let emu = Emulator::start();
    let dns = emu.dns_addr();
    let d = id(&create_domain(&emu, "parent.test"), "domain_id");
    for body in [
        json!({"name": "sub", "type": "NS", "value": "ns1.sub.parent.test"}),
        json!({"name": "sub", "type": "NS", "value": "ns.elsewhere.test"}),
        // Glue for the in-zone name server, below the delegation point.
        json!({"name": "ns1.sub", "type": "A", "value": "192.0.2.53"}),
        json!({"name": "ns1.sub", "type": "AAAA", "value": "2001:db8::53"}),
        // Occluded by the delegation: never answered with authority.
        json!({"name": "host.sub", "type": "A", "value": "192.0.2.99"}),
        json!({"name": "alias", "type": "CNAME", "value": "host.sub.parent.test"}),
        json!({"name": "www", "type": "A", "value": "192.0.2.80"}),
    ] {
        let (code, created) = add(&emu, &d, body.clone());
        assert_eq!(code, 201, "{body} -> {created}");
    }
    let referral = |name: &str, rtype: &str| {
        let r = query(&dns, name, rtype);
        assert_eq!(r.status, "NOERROR", "{name} {rtype}: {r:?}");
        assert!(
            !r.has_flag("aa"),
            "{name} {rtype}: a referral is not authoritative: {r:?}"
        );
        assert!(r.answer.is_empty(), "{name} {rtype}: {r:?}");
        for ns in ["ns1.sub.parent.test.", "ns.elsewhere.test."] {
            assert!(
                has(&r.authority, "sub.parent.test.", "NS", ns),
                "{name} {rtype}: NS {ns} in the authority section: {r:?}"
            );
        }
        assert!(
            !r.authority.iter().any(|a| a.rtype == "SOA"),
            "{name} {rtype}: {r:?}"
        );
        assert!(
            has(&r.additional, "ns1.sub.parent.test.", "A", "192.0.2.53")
                && has(
                    &r.additional,
                    "ns1.sub.parent.test.",
                    "AAAA",
                    "2001:db8::53"
                ),
            "{name} {rtype}: glue: {r:?}"
        );
        assert!(
            !r.additional.iter().any(|a| a.data == "192.0.2.99"),
            "{name} {rtype}: {r:?}"
        );
    };
    // A name under the delegation, the delegation point itself (RFC 1034 4.3.2), the name
    // server's own name and a name that does not exist under it: all referrals.
    referral("host.sub.parent.test", "A");
    referral("sub.parent.test", "NS");
    referral("sub.parent.test", "A");
    referral("ns1.sub.parent.test", "A");
    referral("a.b.sub.parent.test", "TXT");
    // A glue-less delegation (the name server is elsewhere): NS only, no additional records.
    let (code, created) = add(
        &emu,
        &d,
        json!({"name": "ext", "type": "NS", "value": "ns.elsewhere.test"}),
    );
    assert_eq!(code, 201, "{created}");
    let r = query(&dns, "x.ext.parent.test", "A");
    assert!(!r.has_flag("aa") && r.status == "NOERROR", "{r:?}");
    assert!(
        has(&r.authority, "ext.parent.test.", "NS", "ns.elsewhere.test.") && r.authority.len() == 1,
        "{r:?}"
    );
    assert!(r.additional.iter().all(|a| a.rtype == "OPT"), "{r:?}");

    // Names beside the delegation answer as before, with authority.
    let r = query(&dns, "www.parent.test", "A");
    assert!(r.has_flag("aa") && r.status == "NOERROR", "{r:?}");
    assert!(
        has(&r.answer, "www.parent.test.", "A", "192.0.2.80"),
        "{r:?}"
    );
    for name in ["nothing.parent.test", "hostsub.parent.test"] {
        let r = query(&dns, name, "A");
        assert!(r.has_flag("aa") && r.status == "NXDOMAIN", "{name}: {r:?}");
    }
    // A CNAME into the delegation: the CNAME, never the occluded address.
    let r = query(&dns, "alias.parent.test", "A");
    assert!(r.has_flag("aa"), "{r:?}");
    assert!(
        has(
            &r.answer,
            "alias.parent.test.",
            "CNAME",
            "host.sub.parent.test."
        ),
        "{r:?}"
    );
    assert!(!r.answer.iter().any(|a| a.rtype == "A"), "{r:?}");
    // DS at the delegation point is the parent's: authoritative, no data.
    let r = query(&dns, "sub.parent.test", "DS");
    assert!(r.has_flag("aa") && r.status == "NOERROR", "{r:?}");
    assert!(r.answer.is_empty(), "{r:?}");
    // The apex is unaffected.
    let r = query(&dns, "parent.test", "NS");
    assert!(r.has_flag("aa"), "{r:?}");
    assert_eq!(r.answer.len(), 2, "{r:?}");
    let r = query(&dns, "parent.test", "SOA");
    assert!(
        r.has_flag("aa") && r.answer.iter().any(|a| a.rtype == "SOA"),
        "{r:?}"
    );
    // Removing the delegation un-occludes what was under it.
    let list = emu.api_get(&format!("/v1/domains/{d}/records"));
    for rec in list["records"].as_array().into_iter().flatten() {
        if rec["name"] == "sub" && rec["type"] == "NS" {
            let (code, _) = emu.api(
                Method::DELETE,
                &format!("/v1/domains/{d}/records/{}", id(rec, "record_id")),
                None,
            );
            assert_eq!(code, 204);
        }
    }
    let r = query(&dns, "host.sub.parent.test", "A");
    assert!(r.has_flag("aa"), "{r:?}");
    assert!(
        has(&r.answer, "host.sub.parent.test.", "A", "192.0.2.99"),
        "{r:?}"
    );
}

/// `GET /` on the app gateway with `Host: host`: status and body (plain HTTP/1.1).
fn gateway(emu: &Emulator, host: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = emu.apps_url().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect to the gateway");
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn create_app(emu: &Emulator, name: &str) -> Value {
    let (code, app) = emu.api(
        Method::POST,
        "/v1/projects/prj_local/apps",
        Some(json!({ "name": name })),
    );
    assert_eq!(code, 201, "{app}");
    app
}

#[test]
fn hostnames_in_both_modes_are_verified_by_real_lookups() {
    let emu = Emulator::start();
    let dns = emu.dns_addr();
    let app = create_app(&emu, "web");
    let app_id = id(&app, "app_id");
    let auto_zone = id(&create_domain(&emu, "auto.test"), "domain_id");
    let pub_zone = id(&create_domain(&emu, "publish.test"), "domain_id");

    // Automatic DNS: the records land in the zone, resolve, and the hostname is verified.
    let (code, h) = emu.api(
        Method::POST,
        &format!("/v1/apps/{app_id}/hostnames"),
        Some(json!({"hostname": "WWW.auto.test", "dns_mode": "automatic"})),
    );
    assert_eq!(code, 201, "{h}");
    assert_eq!(h["hostname"], "www.auto.test");
    assert_eq!(h["domain_id"], auto_zone.as_str());
    assert_eq!(h["status"], "verified", "{h}");
    let cname = dig(&dns, "www.auto.test", "CNAME", false);
    assert_eq!(cname[0].data, format!("{}.", id(&app, "default_hostname")));
    let txt = dig(&dns, "_comwit-challenge.www.auto.test", "TXT", false);
    assert!(txt[0].data.starts_with("\"comwit-verify="), "{txt:?}");
    // Its records are the hostname's: not editable through the records API.
    let records = emu.api_get(&format!("/v1/domains/{auto_zone}/records"));
    let owned: Vec<&Value> = records["records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["managed_by"] == "hostname:www.auto.test")
        .collect();
    assert_eq!(owned.len(), 2, "{records}");
    let (code, _) = emu.api(
        Method::DELETE,
        &format!(
            "/v1/domains/{auto_zone}/records/{}",
            id(owned[0], "record_id")
        ),
        None,
    );
    assert_eq!(code, 409);
    // The apex gets an A record to the gateway instead of a CNAME.
    let (code, apex) = emu.api(
        Method::POST,
        &format!("/v1/apps/{app_id}/hostnames"),
        Some(json!({"hostname": "auto.test", "dns_mode": "automatic", "domain_id": auto_zone})),
    );
    assert_eq!(code, 201, "{apex}");
    assert_eq!(apex["records"][1]["type"], "A");
    assert_eq!(apex["status"], "verified", "{apex}");

    // Automatic DNS outside every project domain: 422 on `hostname`.
    let (code, err) = emu.api(
        Method::POST,
        &format!("/v1/apps/{app_id}/hostnames"),
        Some(json!({"hostname": "www.nowhere.test", "dns_mode": "automatic"})),
    );
    assert_eq!(
        (code, err["error"]["field"].as_str()),
        (422, Some("hostname")),
        "{err}"
    );
    assert!(err["error"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("covering www.nowhere.test"));

    // Manual DNS: pending, naming what is missing, until the records are published (here
    // in another project domain, through the records API), then verified.
    let (code, m) = emu.api(
        Method::POST,
        &format!("/v1/apps/{app_id}/hostnames"),
        Some(json!({"hostname": "shop.publish.test", "dns_mode": "manual"})),
    );
    assert_eq!(code, 201, "{m}");
    assert_eq!(m["status"], "pending");
    assert_eq!(m["missing"].as_array().map(Vec::len), Some(2), "{m}");
    assert!(
        dig(&dns, "shop.publish.test", "CNAME", false).is_empty(),
        "manual mode writes nothing"
    );
    // The gateway does not serve an unverified hostname: it says what DNS still lacks.
    let (code, body) = gateway(&emu, "shop.publish.test");
    assert_eq!(code, 421, "{body}");
    assert!(body.contains("not verified yet"), "{body}");
    assert!(body.contains("CNAME"), "names what is missing: {body}");
    let needed = m["records"].as_array().cloned().unwrap_or_default();
    // Publish only the TXT first: the CNAME is still missing.
    let publish = |r: &Value| {
        let (code, body) = add(
            &emu,
            &pub_zone,
            json!({"name": r["name"], "type": r["type"], "value": r["value"], "ttl": r["ttl"]}),
        );
        assert_eq!(code, 201, "{body}");
    };
    publish(&needed[0]);
    let now = emu.api_get(&format!("/v1/apps/{app_id}/hostnames/shop.publish.test"));
    assert_eq!(now["status"], "pending");
    assert_eq!(now["missing"].as_array().map(Vec::len), Some(1), "{now}");
    assert_eq!(now["missing"][0]["type"], "CNAME");
    publish(&needed[1]);
    let now = emu.api_get(&format!("/v1/apps/{app_id}/hostnames/shop.publish.test"));
    assert_eq!(now["status"], "verified", "{now}");
    assert!(now["verified_at"].is_string());
    // Verified: the gateway routes it to the app (which has no build yet).
    let (code, body) = gateway(&emu, "SHOP.publish.test.");
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("app web has no active build"), "{body}");

    // Detaching the automatic hostname removes its records from the zone.
    let (code, _) = emu.api(
        Method::DELETE,
        &format!("/v1/apps/{app_id}/hostnames/www.auto.test"),
        None,
    );
    assert_eq!(code, 204);
    assert!(dig(&dns, "www.auto.test", "CNAME", false).is_empty());
    assert!(dig(&dns, "_comwit-challenge.www.auto.test", "TXT", false).is_empty());
    // The domain still used by the apex hostname cannot go; deleting the app frees it.
    let (code, err) = emu.api(Method::DELETE, &format!("/v1/domains/{auto_zone}"), None);
    assert_eq!(code, 409, "{err}");
    let (code, _) = emu.api(Method::DELETE, &format!("/v1/apps/{app_id}"), None);
    assert_eq!(code, 204);
    assert!(dig(&dns, "auto.test", "A", false).is_empty());
    let (code, _) = emu.api(Method::DELETE, &format!("/v1/domains/{auto_zone}"), None);
    assert_eq!(code, 204);
}

#[test]
fn zones_survive_a_restart_and_answer_again() {
    let mut emu = Emulator::start();
    let d = id(&create_domain(&emu, "kept.test"), "domain_id");
    let (code, body) = add(
        &emu,
        &d,
        json!({"name": "www", "type": "A", "value": "192.0.2.5", "ttl": 90}),
    );
    assert_eq!(code, 201, "{body}");
    let serial = soa_serial(&emu.dns_addr(), "kept.test");
    emu.restart();
    let dns = emu.dns_addr();
    let answers = dig(&dns, "www.kept.test", "A", true);
    assert_eq!(
        (answers[0].data.as_str(), answers[0].ttl),
        ("192.0.2.5", 90)
    );
    assert_eq!(soa_serial(&dns, "kept.test"), serial);
}
