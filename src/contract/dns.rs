//! Comwit's DNS rules (`docs/api/comwit.md`, "Domains and DNS"), as pure functions: domain
//! and record names, each record type's value, TTL and the numbers MX and SRV carry, in
//! their canonical (stored and answered) forms. The provider checks a plan with them on the
//! attribute and compares spellings (`@`, the apex and a trailing-dot FQDN are one name,
//! case never matters in names and host values, TXT quoting and splitting is presentation);
//! the emulator accepts, stores and serves records by them.
//!
//! Canonical forms: names are lowercase without a final dot; a record's name is relative
//! to its zone, `@` for the apex; a name written as the zone's FQDN (with or without the
//! final dot) is the same name. Host targets (CNAME, NS, MX, SRV) are lowercase FQDNs
//! without a final dot; A and AAAA values are the address's canonical text; a TXT value is
//! its text, whole (quoted presentation `"a" "b"` is joined); CAA is `<flags> <tag>
//! "<value>"`.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The record types the API takes. [assumed: the list]
pub const RECORD_TYPES: [&str; 8] = ["A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS"];
/// Inclusive TTL bounds and default. [assumed]
pub const TTL_MIN: i64 = 60;
pub const TTL_MAX: i64 = 86_400;
pub const TTL_DEFAULT: i64 = 300;
/// The longest TXT value, in bytes (split into strings of at most 255 bytes). [assumed]
pub const TXT_MAX_BYTES: usize = 2048;
/// The longest string of one TXT record in DNS. [documented by RFC 1035]
pub const TXT_STRING_MAX: usize = 255;

/// A domain name: lowercase, without final dot, at least two labels of `[a-z0-9-]`, each
/// 1 to 63 characters not starting or ending with `-`, 253 characters at most.
pub fn domain_name(raw: &str) -> Result<String, String> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.split('.').count() < 2 {
        return Err(format!(
            "domain must be a registered domain name such as example.com, got {raw:?}"
        ));
    }
    host(&name, false).map_err(|e| format!("domain {raw:?}: {e}"))?;
    Ok(name)
}

/// Checks a lowercase host name without final dot; `wild` allows `*` and `_` labels.
fn host(name: &str, wild: bool) -> Result<(), String> {
    if name.is_empty() {
        return Err("a name may not be empty".into());
    }
    if !name.is_ascii() {
        return Err(format!(
            "{name:?} is not ASCII: write an internationalised name in its ASCII form \
             (punycode, `xn--...`)"
        ));
    }
    if name.len() > 253 {
        return Err(format!(
            "a name is at most 253 characters, got {}",
            name.len()
        ));
    }
    for (i, label) in name.split('.').enumerate() {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("label {label:?} must be 1 to 63 characters"));
        }
        if wild && label == "*" && i == 0 {
            continue;
        }
        let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let ok = label.chars().all(|c| ok_char(c) || (wild && c == '_'))
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "label {label:?} may hold only letters, digits and inner `-`{}",
                if wild {
                    " (or `_`, or be a leading `*`)"
                } else {
                    ""
                }
            ));
        }
    }
    Ok(())
}

/// A record's name relative to `zone`: `@`, the empty name, the zone's name with or
/// without a final dot are the apex (`@`); a name ending in `.<zone>` (dot or not) loses
/// it; any other name without a final dot is relative. Case is ignored.
pub fn relative_name(raw: &str, zone: &str) -> Result<String, String> {
    let lower = raw.trim().to_ascii_lowercase();
    if lower.is_empty() || lower == "@" {
        return Ok("@".into());
    }
    let fqdn_form = lower.ends_with('.');
    let bare = lower.trim_end_matches('.');
    if bare == zone {
        return Ok("@".into());
    }
    let relative = match bare.strip_suffix(zone).and_then(|p| p.strip_suffix('.')) {
        Some(prefix) => prefix.to_owned(),
        None if fqdn_form => {
            return Err(format!("{raw:?} is not in zone {zone}"));
        }
        None => bare.to_owned(),
    };
    host(&format!("{relative}.{zone}"), true)?;
    Ok(relative)
}

/// The FQDN of a relative name in `zone`.
pub fn fqdn(relative: &str, zone: &str) -> String {
    if relative == "@" {
        zone.to_owned()
    } else {
        format!("{relative}.{zone}")
    }
}

/// A host target (CNAME, NS, MX, SRV): lowercase, without final dot.
fn target(raw: &str) -> Result<String, String> {
    let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    host(&name, true).map_err(|e| format!("must be a host name: {e}"))?;
    Ok(name)
}

/// TXT text as users write it: plain text is taken whole; a value that is a sequence of
/// quoted strings (`"a" "b"`, backslash escapes) is their concatenation.
pub fn txt_text(raw: &str) -> String {
    let t = raw.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        let mut out = String::new();
        let mut chars = t.chars();
        let mut inside = false;
        while let Some(c) = chars.next() {
            match (inside, c) {
                (false, '"') => inside = true,
                (false, c) if c.is_whitespace() => {}
                (false, _) => return raw.to_owned(),
                (true, '"') => inside = false,
                (true, '\\') => match chars.next() {
                    Some(n) => out.push(n),
                    None => return raw.to_owned(),
                },
                (true, c) => out.push(c),
            }
        }
        if inside {
            return raw.to_owned();
        }
        return out;
    }
    raw.to_owned()
}

/// TXT text split into DNS strings of at most 255 bytes (on character boundaries).
pub fn txt_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if current.len() + c.len_utf8() > TXT_STRING_MAX {
            out.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out
}

/// A record as asked for, and as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    pub name: String,
    pub rtype: String,
    pub value: String,
    pub ttl: i64,
    pub priority: Option<i64>,
    pub weight: Option<i64>,
    pub port: Option<i64>,
}

/// A failed rule: the field it is about, and why.
pub type RuleError = (&'static str, String);

fn u16_field(field: &'static str, v: Option<i64>, rtype: &str) -> Result<i64, RuleError> {
    match v {
        Some(n) if (0..=65535).contains(&n) => Ok(n),
        Some(n) => Err((field, format!("{field} must be 0 to 65535, got {n}"))),
        None => Err((field, format!("{field} is required for a {rtype} record"))),
    }
}

/// Checks a record against its type's rules and returns its canonical form.
#[allow(clippy::too_many_arguments)]
pub fn record(
    zone: &str,
    name: &str,
    rtype: &str,
    value: &str,
    ttl: Option<i64>,
    priority: Option<i64>,
    weight: Option<i64>,
    port: Option<i64>,
) -> Result<RecordSpec, RuleError> {
    let rtype = rtype.trim().to_ascii_uppercase();
    if !RECORD_TYPES.contains(&rtype.as_str()) {
        return Err((
            "type",
            format!(
                "type must be one of {}, got {rtype:?}",
                RECORD_TYPES.join(", ")
            ),
        ));
    }
    let name = relative_name(name, zone).map_err(|e| ("name", e))?;
    let ttl = ttl.unwrap_or(TTL_DEFAULT);
    if !(TTL_MIN..=TTL_MAX).contains(&ttl) {
        return Err((
            "ttl",
            format!("ttl must be {TTL_MIN} to {TTL_MAX} seconds, got {ttl}"),
        ));
    }
    let (has_priority, has_weight_port) = match rtype.as_str() {
        "MX" => (true, false),
        "SRV" => (true, true),
        _ => (false, false),
    };
    if !has_priority && priority.is_some() {
        return Err(("priority", format!("a {rtype} record has no priority")));
    }
    if !has_weight_port && weight.is_some() {
        return Err(("weight", format!("a {rtype} record has no weight")));
    }
    if !has_weight_port && port.is_some() {
        return Err(("port", format!("a {rtype} record has no port")));
    }
    let value_err = |e: String| ("value", e);
    let value = match rtype.as_str() {
        "A" => value
            .trim()
            .parse::<Ipv4Addr>()
            .map(|a| a.to_string())
            .map_err(|_| {
                value_err(format!(
                    "an A record's value must be an IPv4 address, got {value:?}"
                ))
            })?,
        "AAAA" => value
            .trim()
            .parse::<Ipv6Addr>()
            .map(|a| a.to_string())
            .map_err(|_| {
                value_err(format!(
                    "an AAAA record's value must be an IPv6 address, got {value:?}"
                ))
            })?,
        "CNAME" | "NS" | "MX" | "SRV" => {
            target(value).map_err(|e| value_err(format!("a {rtype} record's value {e}")))?
        }
        "TXT" => {
            let text = txt_text(value);
            if text.is_empty() {
                return Err(value_err("a TXT record's value may not be empty".into()));
            }
            if text.len() > TXT_MAX_BYTES {
                return Err(value_err(format!(
                    "a TXT record's value is at most {TXT_MAX_BYTES} bytes, got {}",
                    text.len()
                )));
            }
            text
        }
        "CAA" => caa(value).map_err(value_err)?,
        _ => unreachable!("type checked above"),
    };
    if rtype == "CNAME" && name == "@" {
        return Err((
            "name",
            "a CNAME record cannot be at the zone apex (it would sit beside the zone's SOA and NS)"
                .into(),
        ));
    }
    if rtype == "NS" && name == "@" {
        return Err((
            "name",
            "the apex NS records are the platform's name servers; NS records may only delegate a subdomain".into(),
        ));
    }
    let (priority, weight, port) = match rtype.as_str() {
        "MX" => (Some(u16_field("priority", priority, "MX")?), None, None),
        "SRV" => (
            Some(u16_field("priority", priority, "SRV")?),
            Some(u16_field("weight", weight, "SRV")?),
            Some(u16_field("port", port, "SRV")?),
        ),
        _ => (None, None, None),
    };
    Ok(RecordSpec {
        name,
        rtype,
        value,
        ttl,
        priority,
        weight,
        port,
    })
}

/// CAA as `<flags> <tag> <value>`: flags 0 to 255, tag `issue`, `issuewild` or `iodef`.
pub fn caa(raw: &str) -> Result<String, String> {
    let t = raw.trim();
    let mut parts = t.splitn(3, char::is_whitespace);
    let (Some(flags), Some(tag), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "a CAA record's value is `<flags> <tag> \"<value>\"`, e.g. `0 issue \"letsencrypt.org\"`, got {raw:?}"
        ));
    };
    let flags: u8 = flags
        .parse()
        .map_err(|_| format!("a CAA record's flags must be 0 to 255, got {flags:?}"))?;
    let tag = tag.to_ascii_lowercase();
    if !["issue", "issuewild", "iodef"].contains(&tag.as_str()) {
        return Err(format!(
            "a CAA record's tag must be issue, issuewild or iodef, got {tag:?}"
        ));
    }
    let value = value.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    if value.contains('"') {
        return Err("a CAA record's value may not contain `\"`".into());
    }
    Ok(format!("{flags} {tag} \"{value}\""))
}

/// Whether two spellings of a record name are the same name in `zone`.
pub fn same_name(a: &str, b: &str, zone: &str) -> bool {
    match (relative_name(a, zone), relative_name(b, zone)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// A value in its canonical form for `rtype` (the value as given when it breaks a rule).
pub fn canonical_value(rtype: &str, value: &str) -> String {
    let rtype = rtype.trim().to_ascii_uppercase();
    let (priority, weight, port) = match rtype.as_str() {
        "MX" => (Some(0), None, None),
        "SRV" => (Some(0), Some(0), Some(0)),
        _ => (None, None, None),
    };
    record(
        "zone.invalid",
        "x",
        &rtype,
        value,
        None,
        priority,
        weight,
        port,
    )
    .map(|r| r.value)
    .unwrap_or_else(|_| value.to_owned())
}

/// Whether two spellings of a value are the same value for `rtype`.
pub fn same_value(rtype: &str, a: &str, b: &str) -> bool {
    a == b || canonical_value(rtype, a) == canonical_value(rtype, b)
}

/// Whether two spellings of a domain or host name are the same name.
pub fn same_host(a: &str, b: &str) -> bool {
    a.trim()
        .trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim().trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented cases of `docs/api/comwit.md` ("Names", "Record types and their
    /// rules"), one row each: (name, type, value, ttl, priority, weight, port) in zone
    /// `example.com`, and the canonical value or the field a refusal is on. The provider
    /// and the emulator both read records through [`record`], so this table holds for both.
    #[test]
    fn the_documented_cases() {
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Result<(&'a str, &'a str), &'a str>,
        );
        let cases: &[Case] = &[
            // Names: relative, `@` for the apex, the zone's own name, any case, final dot.
            (
                "@",
                "A",
                "192.0.2.1",
                None,
                None,
                None,
                None,
                Ok(("@", "192.0.2.1")),
            ),
            (
                "example.com.",
                "A",
                "192.0.2.1",
                None,
                None,
                None,
                None,
                Ok(("@", "192.0.2.1")),
            ),
            (
                "WWW.Example.COM",
                "A",
                "192.0.2.1",
                None,
                None,
                None,
                None,
                Ok(("www", "192.0.2.1")),
            ),
            (
                "_dmarc",
                "TXT",
                "v=DMARC1",
                None,
                None,
                None,
                None,
                Ok(("_dmarc", "v=DMARC1")),
            ),
            (
                "*",
                "A",
                "192.0.2.1",
                None,
                None,
                None,
                None,
                Ok(("*", "192.0.2.1")),
            ),
            (
                "www.other.org.",
                "A",
                "192.0.2.1",
                None,
                None,
                None,
                None,
                Err("name"),
            ),
            // A and AAAA: canonical text.
            (
                "v6",
                "AAAA",
                "2001:DB8:0:0::1",
                None,
                None,
                None,
                None,
                Ok(("v6", "2001:db8::1")),
            ),
            ("v4", "A", "300.1.1.1", None, None, None, None, Err("value")),
            (
                "v6",
                "AAAA",
                "192.0.2.1",
                None,
                None,
                None,
                None,
                Err("value"),
            ),
            // CNAME: a host, not at the apex.
            (
                "www",
                "CNAME",
                "Target.Example.NET.",
                None,
                None,
                None,
                None,
                Ok(("www", "target.example.net")),
            ),
            (
                "@",
                "CNAME",
                "target.example.net",
                None,
                None,
                None,
                None,
                Err("name"),
            ),
            // TXT: quoted strings are their concatenation; 1 to 2048 bytes.
            (
                "t",
                "TXT",
                "\"a\" \"b\"",
                None,
                None,
                None,
                None,
                Ok(("t", "ab")),
            ),
            ("t", "TXT", "", None, None, None, None, Err("value")),
            // MX: priority required, 0 to 65535.
            (
                "@",
                "MX",
                "Mail.example.com.",
                None,
                Some(10),
                None,
                None,
                Ok(("@", "mail.example.com")),
            ),
            (
                "@",
                "MX",
                "mail.example.com",
                None,
                None,
                None,
                None,
                Err("priority"),
            ),
            (
                "@",
                "MX",
                "mail.example.com",
                None,
                Some(65536),
                None,
                None,
                Err("priority"),
            ),
            // SRV: priority, weight and port required.
            (
                "_sip._tcp",
                "SRV",
                "sip.example.com",
                None,
                Some(1),
                Some(2),
                Some(5060),
                Ok(("_sip._tcp", "sip.example.com")),
            ),
            (
                "_sip._tcp",
                "SRV",
                "sip.example.com",
                None,
                Some(1),
                Some(2),
                None,
                Err("port"),
            ),
            // CAA: flags, tag, quoted value.
            (
                "@",
                "CAA",
                "0 ISSUE letsencrypt.org",
                None,
                None,
                None,
                None,
                Ok(("@", "0 issue \"letsencrypt.org\"")),
            ),
            (
                "@",
                "CAA",
                "0 bogus x",
                None,
                None,
                None,
                None,
                Err("value"),
            ),
            // NS: only below the apex.
            (
                "sub",
                "NS",
                "ns1.example.net",
                None,
                None,
                None,
                None,
                Ok(("sub", "ns1.example.net")),
            ),
            (
                "@",
                "NS",
                "ns1.example.net",
                None,
                None,
                None,
                None,
                Err("name"),
            ),
            // TTL 60 to 86400; a field the type does not have is refused on it.
            (
                "w",
                "A",
                "192.0.2.1",
                Some(59),
                None,
                None,
                None,
                Err("ttl"),
            ),
            (
                "w",
                "A",
                "192.0.2.1",
                Some(86_401),
                None,
                None,
                None,
                Err("ttl"),
            ),
            (
                "w",
                "A",
                "192.0.2.1",
                None,
                Some(10),
                None,
                None,
                Err("priority"),
            ),
            // Types the API does not take.
            (
                "w",
                "PTR",
                "x.example.com",
                None,
                None,
                None,
                None,
                Err("type"),
            ),
        ];
        for (name, rtype, value, ttl, priority, weight, port, want) in cases {
            let got = record(
                "example.com",
                name,
                rtype,
                value,
                *ttl,
                *priority,
                *weight,
                *port,
            );
            match (want, got) {
                (Ok((n, v)), Ok(spec)) => {
                    assert_eq!(
                        (spec.name.as_str(), spec.value.as_str()),
                        (*n, *v),
                        "{name} {rtype} {value}"
                    );
                    assert_eq!(spec.ttl, ttl.unwrap_or(TTL_DEFAULT));
                }
                (Err(field), Err((got_field, message))) => {
                    assert_eq!(*field, got_field, "{name} {rtype} {value}: {message}")
                }
                (want, got) => panic!("{name} {rtype} {value:?}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn names_are_relative_and_case_free() {
        for (raw, want) in [
            ("@", "@"),
            ("", "@"),
            ("Example.COM", "@"),
            ("example.com.", "@"),
            ("WWW", "www"),
            ("www.example.com", "www"),
            ("www.Example.com.", "www"),
            ("_acme.www", "_acme.www"),
            ("*.dev", "*.dev"),
        ] {
            assert_eq!(
                relative_name(raw, "example.com").as_deref(),
                Ok(want),
                "{raw}"
            );
        }
        assert!(relative_name("www.other.org.", "example.com").is_err());
        assert!(relative_name("bad_label!", "example.com").is_err());
        assert!(domain_name("bücher.example").is_err_and(|e| e.contains("punycode")));
        assert!(domain_name("xn--bcher-kva.example").is_ok());
        assert_eq!(fqdn("@", "example.com"), "example.com");
        assert_eq!(fqdn("www", "example.com"), "www.example.com");
        assert!(domain_name("com").is_err());
        assert_eq!(domain_name("Example.COM.").as_deref(), Ok("example.com"));
    }

    #[test]
    fn values_follow_their_type() {
        let r = |t: &str, v: &str| record("example.com", "x", t, v, None, None, None, None);
        assert_eq!(
            r("a", " 192.0.2.1 ").map(|s| s.value),
            Ok("192.0.2.1".into())
        );
        assert_eq!(r("A", "2001:db8::1").map_err(|e| e.0), Err("value"));
        assert_eq!(
            r("AAAA", "2001:DB8:0:0::1").map(|s| s.value),
            Ok("2001:db8::1".into())
        );
        assert_eq!(
            r("CNAME", "Target.Example.NET.").map(|s| s.value),
            Ok("target.example.net".into())
        );
        assert_eq!(
            r("MX", "mail.example.com").map_err(|e| e.0),
            Err("priority")
        );
        assert_eq!(r("A", "192.0.2.1").map(|s| s.ttl), Ok(TTL_DEFAULT));
        assert_eq!(
            r("CAA", "0 ISSUE letsencrypt.org").map(|s| s.value),
            Ok("0 issue \"letsencrypt.org\"".into())
        );
        assert_eq!(
            r("TXT", "\"a b\" \"c\"").map(|s| s.value),
            Ok("a bc".into())
        );
        assert_eq!(
            r("TXT", "plain \"x\"").map(|s| s.value),
            Ok("plain \"x\"".into())
        );
        assert_eq!(r("SPF", "x").map_err(|e| e.0), Err("type"));
        assert_eq!(r("A", "192.0.2.1").map(|s| s.priority), Ok(None));
        let cname_apex = record("example.com", "@", "CNAME", "x.net", None, None, None, None);
        assert_eq!(cname_apex.map_err(|e| e.0), Err("name"));
        let ttl = record(
            "example.com",
            "x",
            "A",
            "192.0.2.1",
            Some(5),
            None,
            None,
            None,
        );
        assert_eq!(ttl.map_err(|e| e.0), Err("ttl"));
        let srv = record(
            "example.com",
            "_sip._tcp",
            "SRV",
            "sip.example.com",
            None,
            Some(1),
            Some(2),
            Some(5060),
        );
        assert_eq!(
            srv.map(|s| (s.priority, s.weight, s.port)),
            Ok((Some(1), Some(2), Some(5060)))
        );
        let prio = record(
            "example.com",
            "x",
            "A",
            "192.0.2.1",
            None,
            Some(1),
            None,
            None,
        );
        assert_eq!(prio.map_err(|e| e.0), Err("priority"));
    }

    #[test]
    fn spellings_of_one_thing_are_the_same() {
        assert!(same_name("@", "Example.COM.", "example.com"));
        assert!(same_name("www", "WWW.example.com.", "example.com"));
        assert!(!same_name("www", "web", "example.com"));
        assert!(same_value("AAAA", "2001:DB8:0:0::1", "2001:db8::1"));
        assert!(same_value("TXT", "\"a\" \"b\"", "ab"));
        assert!(!same_value("TXT", "AB", "ab"));
        assert!(same_value(
            "CNAME",
            "Target.Example.net.",
            "target.example.net"
        ));
        assert!(same_value(
            "CAA",
            "0 ISSUE letsencrypt.org",
            "0 issue \"letsencrypt.org\""
        ));
        assert!(same_host("Example.com.", "example.com"));
    }

    #[test]
    fn txt_splits_at_255_bytes_on_character_boundaries() {
        let long = "é".repeat(200); // 400 bytes
        let parts = txt_strings(&long);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.len() <= 255));
        assert_eq!(parts.concat(), long);
        assert_eq!(txt_strings("x"), vec!["x".to_owned()]);
        assert_eq!(txt_strings(&"a".repeat(255)).len(), 1);
        assert_eq!(txt_strings(&"a".repeat(256)).len(), 2);
    }
}
