//! Comwit's provider functions (Terraform 1.8+, OpenTofu 1.7+): a `comwit_database`'s
//! `database_url` in the form a libSQL client wants, and DNS names and record values in
//! their canonical forms, by the one copy of the DNS rules (`contract::dns`, the rules the
//! API and the `comwit_dns_record` checks follow; `docs/api/comwit.md`, "Domains and DNS").

use async_trait::async_trait;
use tf_provider::schema::AttributeType;

use crate::contract::dns;
use crate::plugin::functions::{Args, Function, FunctionError, Parameter, Signature};
use crate::plugin::Registry;

/// Inputs longer than this are refused before any rule runs (and never repeated).
const MAX_LEN: usize = 4096;

/// Register every function of the provider.
pub fn register(registry: &mut Registry) {
    registry.function("libsql_url", LibsqlUrl);
    registry.function("dns_name", DnsName);
    registry.function("dns_record_name", DnsRecordName);
    registry.function("dns_record_value", DnsRecordValue);
    registry.function("dns_same_value", DnsSameValue);
}

/// Refuses a huge argument, without repeating it.
fn bounded(text: &str, what: &str) -> Result<(), String> {
    if text.len() > MAX_LEN {
        return Err(format!(
            "the {what} is {} bytes long; at most {MAX_LEN} are taken",
            text.len()
        ));
    }
    Ok(())
}

/// The client URL forms `libsql_url` gives.
const FORMS: [&str; 3] = ["libsql", "http", "websocket"];

/// `database_url` as a libSQL client URL of `form`: `libsql://` (with `?tls=0` when the
/// database is served without TLS), `https://`/`http://` (Hrana over HTTP), `wss://`/`ws://`
/// (Hrana over WebSocket). The path (the emulator's `/db/<id>/`) is kept, with its final `/`.
pub fn libsql_url(database_url: &str, form: &str) -> Result<String, (usize, String)> {
    bounded(database_url, "database URL").map_err(|e| (0, e))?;
    let form_lc = form.trim().to_ascii_lowercase();
    if !FORMS.contains(&form_lc.as_str()) {
        let shown: String = form.chars().take(40).collect();
        return Err((
            1,
            format!(
                "the form must be one of {}, got {shown:?}",
                FORMS.join(", ")
            ),
        ));
    }
    let url = database_url.trim();
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err((
            0,
            "not a URL: expected `libsql://`, `https://`, `http://`, `wss://` or `ws://`".into(),
        ));
    };
    let scheme = scheme.to_ascii_lowercase();
    let mut tls =
        match scheme.as_str() {
            "libsql" | "https" | "wss" => true,
            "http" | "ws" => false,
            _ => return Err((
                0,
                "the scheme must be `libsql://`, `https://`, `http://`, `wss://` or `ws://` (a \
                 `comwit_database`'s `database_url`)"
                    .into(),
            )),
        };
    if rest.contains('#') {
        return Err((0, "a database URL has no `#` fragment".into()));
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, q),
        None => (rest, ""),
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match (k, v) {
            ("tls", "0") if scheme == "libsql" => tls = false,
            ("tls", "1") if scheme == "libsql" => tls = true,
            ("tls", _) => {
                return Err((
                    0,
                    "`tls` is `0` or `1`, and only on a `libsql://` URL".into(),
                ))
            }
            _ => {
                let name: String = k.chars().take(40).collect();
                return Err((
                    0,
                    format!(
                        "the URL's query parameter {name:?} is not taken: a database URL carries \
                         no token or option (pass the token to the client on its own)"
                    ),
                ));
            }
        }
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err((
            0,
            "a database URL carries no user or token before `@` (pass the token to the client \
             on its own)"
                .into(),
        ));
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(end) => {
                let (h, after) = authority.split_at(end + 1);
                match after.strip_prefix(':') {
                    Some(p) => (h, Some(p)),
                    None if after.is_empty() => (h, None),
                    None => {
                        return Err((
                            0,
                            "the host in `[...]` is followed by something else than `:port`".into(),
                        ))
                    }
                }
            }
            None => return Err((0, "the host opens `[` without closing it".into())),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let host = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        inner
            .parse::<std::net::Ipv6Addr>()
            .map(|a| format!("[{a}]"))
            .map_err(|_| (0, "the host in `[...]` is not an IPv6 address".to_owned()))?
    } else if host.parse::<std::net::Ipv4Addr>().is_ok() || host == "localhost" {
        host.to_owned()
    } else {
        // A host name follows the platform's DNS name rules (lowercase, no final dot).
        dns::domain_name(host).map_err(|e| (0, format!("the URL's host: {e}")))?
    };
    let port = match port {
        None | Some("") => String::new(),
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => format!(":{n}"),
            _ => return Err((0, "the URL's port is not a number from 1 to 65535".into())),
        },
    };
    let path = if path.is_empty() || path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    };
    if !path.is_ascii() || path.contains(char::is_whitespace) {
        return Err((0, "the URL's path is not ASCII without spaces".into()));
    }
    Ok(match form_lc.as_str() {
        "libsql" if tls => format!("libsql://{host}{port}{path}"),
        "libsql" => format!("libsql://{host}{port}{path}?tls=0"),
        "http" if tls => format!("https://{host}{port}{path}"),
        "http" => format!("http://{host}{port}{path}"),
        _ if tls => format!("wss://{host}{port}{path}"),
        _ => format!("ws://{host}{port}{path}"),
    })
}

/// `libsql_url(database_url, form)`.
pub struct LibsqlUrl;

#[async_trait]
impl Function for LibsqlUrl {
    type Output = String;
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new(
                    "database_url",
                    AttributeType::String,
                    "A `comwit_database`'s `database_url` (`libsql://...`, or the emulator's \
                     `http://127.0.0.1:<port>/db/<id>/`).",
                ),
                Parameter::new(
                    "form",
                    AttributeType::String,
                    "`libsql`, `http` (Hrana over HTTP) or `websocket` (Hrana over WebSocket).",
                ),
            ],
            variadic: None,
            returns: AttributeType::String,
            summary: "A database URL in the form a libSQL client wants.",
            description: "Returns the database's URL for a libSQL client: form `libsql` gives \
                 `libsql://host[/path]` (with `?tls=0` when the database is served without TLS, \
                 as the emulator's `http://` URLs are), `http` gives `https://` (or `http://` \
                 without TLS), `websocket` gives `wss://` (or `ws://`). TLS follows the given \
                 URL: `libsql://`, `https://` and `wss://` have it, `http://`, `ws://` and \
                 `libsql://...?tls=0` do not. The host is lowercased (DNS names follow the \
                 platform's DNS rules), the path is kept with its final `/` (libSQL clients \
                 resolve `v2/pipeline` relative to it). A URL carrying a token (in a user part \
                 or a query parameter) is refused without repeating it: pass the \
                 `database_token` to the client on its own.",
        }
    }
    async fn call(&self, args: Args) -> Result<String, FunctionError> {
        let url: String = args.get(0)?;
        let form: String = args.get(1)?;
        libsql_url(&url, &form).map_err(|(i, e)| FunctionError::argument(i, e))
    }
}

/// `dns_name(name)`: a domain or host name in its canonical form.
pub struct DnsName;

#[async_trait]
impl Function for DnsName {
    type Output = String;
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![Parameter::new(
                "name",
                AttributeType::String,
                "A domain or host name, any case, with or without the final dot.",
            )],
            variadic: None,
            returns: AttributeType::String,
            summary: "A domain or host name in Comwit's canonical form.",
            description: "Returns the name as the Comwit API stores and answers it: lowercase, \
                 without the final dot, surrounding spaces removed. The name must have at least \
                 two labels of letters, digits and inner `-` (1 to 63 characters each, 253 in \
                 all). An internationalised name is refused: write it in its ASCII (punycode, \
                 `xn--...`) form, which is what DNS and the API take.",
        }
    }
    async fn call(&self, args: Args) -> Result<String, FunctionError> {
        let name: String = args.get(0)?;
        bounded(&name, "name").map_err(|e| FunctionError::argument(0, e))?;
        dns::domain_name(&name).map_err(|e| FunctionError::argument(0, e))
    }
}

/// `dns_record_name(name, zone)`: a record name relative to its zone.
pub struct DnsRecordName;

#[async_trait]
impl Function for DnsRecordName {
    type Output = String;
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new(
                    "name",
                    AttributeType::String,
                    "A record name: relative (`www`), `@` or empty for the apex, or a name in the \
                     zone with or without the final dot (`www.example.com.`).",
                ),
                Parameter::new(
                    "zone",
                    AttributeType::String,
                    "The zone: a `comwit_project_domain`'s `domain`.",
                ),
            ],
            variadic: None,
            returns: AttributeType::String,
            summary: "A DNS record name relative to its zone, as Comwit answers it.",
            description: "Returns the record name the way a `comwit_dns_record` stores it: \
                 relative to the zone, lowercase, `@` for the apex. The zone's own name and any \
                 name ending in `.<zone>` (with or without the final dot) lose the zone; a name \
                 with a final dot outside the zone is refused. Labels may be `_names` and the \
                 first may be `*`. Useful to turn the FQDNs of a `comwit_app_hostname`'s \
                 `records` into `comwit_dns_record` names.",
        }
    }
    async fn call(&self, args: Args) -> Result<String, FunctionError> {
        let name: String = args.get(0)?;
        let zone: String = args.get(1)?;
        bounded(&name, "name").map_err(|e| FunctionError::argument(0, e))?;
        bounded(&zone, "zone").map_err(|e| FunctionError::argument(1, e))?;
        let zone = dns::domain_name(&zone).map_err(|e| FunctionError::argument(1, e))?;
        dns::relative_name(&name, &zone).map_err(|e| FunctionError::argument(0, e))
    }
}

/// The record type argument, checked.
fn record_type(raw: &str) -> Result<String, String> {
    let rtype = raw.trim().to_ascii_uppercase();
    if dns::RECORD_TYPES.contains(&rtype.as_str()) {
        Ok(rtype)
    } else {
        let shown: String = raw.chars().take(20).collect();
        Err(format!(
            "the type must be one of {}, got {shown:?}",
            dns::RECORD_TYPES.join(", ")
        ))
    }
}

/// A value in its canonical form for `rtype`, or why it breaks the type's rules.
pub fn record_value(rtype: &str, value: &str) -> Result<String, (usize, String)> {
    let rtype = record_type(rtype).map_err(|e| (0, e))?;
    bounded(value, "value").map_err(|e| (1, e))?;
    let (priority, weight, port) = match rtype.as_str() {
        "MX" => (Some(0), None, None),
        "SRV" => (Some(0), Some(0), Some(0)),
        _ => (None, None, None),
    };
    dns::record(
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
    .map_err(|(field, e)| (if field == "type" { 0 } else { 1 }, e))
}

/// `dns_record_value(type, value)`.
pub struct DnsRecordValue;

#[async_trait]
impl Function for DnsRecordValue {
    type Output = String;
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new(
                    "type",
                    AttributeType::String,
                    "Record type: A, AAAA, CNAME, TXT, MX, SRV, CAA or NS (any case).",
                ),
                Parameter::new("value", AttributeType::String, "The record's value."),
            ],
            variadic: None,
            returns: AttributeType::String,
            summary: "A DNS record value in Comwit's canonical form.",
            description: "Checks the value against its type's rules and returns it as Comwit \
                 stores and answers it: an IPv4 or IPv6 address in its canonical text \
                 (`2001:db8::1`), a host target (CNAME, NS, MX, SRV) lowercase without the final \
                 dot, TXT text whole (quoted strings `\"a\" \"b\"` joined, at most 2048 bytes), CAA \
                 as `<flags> <tag> \"<value>\"`. A value that breaks the rules is an error on \
                 `value`.",
        }
    }
    async fn call(&self, args: Args) -> Result<String, FunctionError> {
        let rtype: String = args.get(0)?;
        let value: String = args.get(1)?;
        record_value(&rtype, &value).map_err(|(i, e)| FunctionError::argument(i, e))
    }
}

/// `dns_same_value(type, a, b)`.
pub struct DnsSameValue;

#[async_trait]
impl Function for DnsSameValue {
    type Output = bool;
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![
                Parameter::new(
                    "type",
                    AttributeType::String,
                    "Record type: A, AAAA, CNAME, TXT, MX, SRV, CAA or NS (any case).",
                ),
                Parameter::new("a", AttributeType::String, "One spelling of a value."),
                Parameter::new("b", AttributeType::String, "Another spelling."),
            ],
            variadic: None,
            returns: AttributeType::Bool,
            summary: "Whether two spellings of a DNS record value are the same value.",
            description: "Compares two values of a record type the way Comwit does: \
                 `2001:DB8::1` and `2001:db8:0::1` are one AAAA value, `Mail.Example.com.` and \
                 `mail.example.com` one MX target, `\"a\" \"b\"` and `ab` one TXT text. A value \
                 that breaks its type's rules equals only its own exact spelling.",
        }
    }
    async fn call(&self, args: Args) -> Result<bool, FunctionError> {
        let rtype: String = args.get(0)?;
        let a: String = args.get(1)?;
        let b: String = args.get(2)?;
        let rtype = record_type(&rtype).map_err(|e| FunctionError::argument(0, e))?;
        bounded(&a, "value").map_err(|e| FunctionError::argument(1, e))?;
        bounded(&b, "value").map_err(|e| FunctionError::argument(2, e))?;
        Ok(dns::same_value(&rtype, &a, &b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_become_client_urls() {
        let real = "libsql://orders-prj-6f1c.db.cloud.comwit.io";
        assert_eq!(libsql_url(real, "libsql").expect("libsql"), real);
        assert_eq!(
            libsql_url(real, "http").expect("http"),
            "https://orders-prj-6f1c.db.cloud.comwit.io"
        );
        assert_eq!(
            libsql_url(real, "WebSocket").expect("ws"),
            "wss://orders-prj-6f1c.db.cloud.comwit.io"
        );
        let local = "http://127.0.0.1:8787/db/db_0123/";
        assert_eq!(
            libsql_url(local, "libsql").expect("local"),
            "libsql://127.0.0.1:8787/db/db_0123/?tls=0"
        );
        assert_eq!(libsql_url(local, "http").expect("same"), local);
        assert_eq!(
            libsql_url("http://127.0.0.1:8787/db/db_0123", "websocket").expect("slash"),
            "ws://127.0.0.1:8787/db/db_0123/"
        );
        assert_eq!(
            libsql_url("libsql://DB.Example.COM.?tls=0", "http").expect("no tls"),
            "http://db.example.com"
        );
        assert_eq!(
            libsql_url("wss://[::1]:9000/", "libsql").expect("v6"),
            "libsql://[::1]:9000/"
        );
    }

    #[test]
    fn bad_database_urls_are_errors_on_the_argument_without_the_token() {
        let token = "eyJhbGciOi.SECRET";
        for (url, form, arg) in [
            ("orders.db.example", "libsql", 0),
            ("postgres://h/d", "libsql", 0),
            ("libsql://h.example", "grpc", 1),
            ("libsql://h.example", "", 1),
            (&format!("libsql://u:{token}@h.example"), "http", 0),
            (&format!("libsql://h.example?authToken={token}"), "http", 0),
            (&format!("libsql://h.example#{token}"), "http", 0),
            ("libsql://bücher.example", "http", 0),
            ("libsql://h.example:0", "http", 0),
            ("libsql://h.example:99999", "http", 0),
            ("http://h.example?tls=0", "http", 0),
            ("libsql://[::1", "http", 0),
            ("libsql://", "http", 0),
        ] {
            let e = libsql_url(url, form).expect_err(url);
            assert_eq!(e.0, arg, "{url}: {e:?}");
            assert!(!e.1.contains("SECRET"), "{e:?}");
        }
        let huge = format!("libsql://{}.example", "a".repeat(1_000_000));
        let e = libsql_url(&huge, "http").expect_err("huge");
        assert!(e.1.len() < 200, "{e:?}");
    }

    #[test]
    fn dns_names_and_values_by_the_contract() {
        assert_eq!(
            dns::domain_name(" WWW.Example.COM. ").expect("name"),
            "www.example.com"
        );
        assert_eq!(
            record_value("aaaa", "2001:DB8:0::1").expect("v6"),
            "2001:db8::1"
        );
        assert_eq!(
            record_value("MX", "Mail.Example.com.").expect("mx"),
            "mail.example.com"
        );
        assert_eq!(record_value("TXT", r#""a" "b""#).expect("txt"), "ab");
        assert_eq!(record_value("TXT", "häh ✓").expect("utf-8"), "häh ✓");
        assert_eq!(
            record_value("caa", "0 ISSUE letsencrypt.org").expect("caa"),
            "0 issue \"letsencrypt.org\""
        );
        assert_eq!(record_value("PTR", "x").expect_err("type").0, 0);
        assert_eq!(record_value("A", "300.1.1.1").expect_err("value").0, 1);
        assert_eq!(record_value("CNAME", "bad host!").expect_err("host").0, 1);
        let huge = "t".repeat(1_000_000);
        let e = record_value("TXT", &huge).expect_err("huge");
        assert_eq!(e.0, 1);
        assert!(e.1.len() < 200, "{e:?}");
        assert_eq!(
            record_value("TXT", &"t".repeat(2049)).expect_err("txt").0,
            1
        );
    }

    /// Calls `f` as the plugin server does, with string arguments.
    async fn call<F: Function>(f: &F, args: &[&str]) -> Result<F::Output, FunctionError> {
        let values = args
            .iter()
            .map(|a| {
                let mut buf = Vec::new();
                let _ = rmpv::encode::write_value(&mut buf, &rmpv::Value::from(*a));
                crate::proto::tfplugin6::DynamicValue {
                    msgpack: buf,
                    json: Vec::new(),
                }
            })
            .collect();
        f.call(Args::new(values, &f.signature())).await
    }

    #[tokio::test]
    async fn each_function_blames_the_right_argument() {
        assert_eq!(
            call(&DnsName, &[" WWW.Example.COM. "]).await,
            Ok("www.example.com".to_owned())
        );
        let e = call(&DnsName, &["bücher.de"]).await.expect_err("idn");
        assert_eq!(e.argument, Some(0));
        assert!(e.text.contains("punycode"), "{}", e.text);
        let e = call(&DnsName, &[&"n".repeat(1_000_000)])
            .await
            .expect_err("huge");
        assert!(e.text.len() < 200, "{}", e.text);
        assert_eq!(
            call(&DnsName, &["localhost"])
                .await
                .expect_err("one label")
                .argument,
            Some(0)
        );

        assert_eq!(
            call(
                &DnsRecordName,
                &["_comwit-challenge.WWW.example.com.", "Example.com"]
            )
            .await,
            Ok("_comwit-challenge.www".to_owned())
        );
        assert_eq!(
            call(&DnsRecordName, &["example.com.", "example.com"]).await,
            Ok("@".to_owned())
        );
        let e = call(&DnsRecordName, &["www.other.org.", "example.com"]).await;
        assert_eq!(e.expect_err("outside").argument, Some(0));
        let e = call(&DnsRecordName, &["www", "not a zone"]).await;
        assert_eq!(e.expect_err("zone").argument, Some(1));

        assert_eq!(
            call(&DnsRecordValue, &["a", " 192.0.2.1 "]).await,
            Ok("192.0.2.1".to_owned())
        );
        let e = call(&DnsRecordValue, &["A", "2001:db8::1"])
            .await
            .expect_err("v6 in A");
        assert_eq!(e.argument, Some(1));

        assert_eq!(
            call(&DnsSameValue, &["TXT", "\"a\" \"b\"", "ab"]).await,
            Ok(true)
        );
        assert_eq!(
            call(&DnsSameValue, &["cname", "X.example.", "x.example"]).await,
            Ok(true)
        );
        assert_eq!(
            call(&DnsSameValue, &["A", "192.0.2.1", "192.0.2.2"]).await,
            Ok(false)
        );
        let e = call(&DnsSameValue, &["PTR", "a", "a"])
            .await
            .expect_err("type");
        assert_eq!(e.argument, Some(0));

        let e = call(&LibsqlUrl, &["libsql://h.example", "grpc"])
            .await
            .expect_err("form");
        assert_eq!(e.argument, Some(1));
        assert_eq!(
            call(&LibsqlUrl, &["libsql://h.example", "http"]).await,
            Ok("https://h.example".to_owned())
        );
    }
}
