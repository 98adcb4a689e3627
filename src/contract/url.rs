//! Connection URLs, the one reading both providers' functions use
//! (`scheme://[user[:password]@]host[:port][/path][?query]`): the WaysCloud databases API
//! answers `postgresql://` and `mysql://` URLs (`docs/api/wayscloud.md`, "Databases") and a
//! CloudSync database takes `sqlitecloud://` and `postgres://` ones (`docs/api/cloudsync.md`,
//! "Databases"). Pure text rules, so they live here rather than in one platform.
//!
//! Error messages never repeat the URL or any part of it: it may carry a password or an API
//! key, and a secret written without escaping can land in any part.

use std::fmt::Write as _;

/// The longest connection string taken (a larger one is refused, not parsed).
pub const MAX_LEN: usize = 4096;

/// Percent-escapes everything but RFC 3986's unreserved characters.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes percent-escapes; `what` names the part in the error (never its text).
pub fn unescape(text: &str, what: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(v) => out.push(v),
                None => {
                    return Err(format!(
                        "the {what} has a `%` that is not followed by two hex digits (write a \
                         literal `%` as `%25`)"
                    ))
                }
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("the {what}'s percent-escapes are not UTF-8"))
}

/// A URL split into its parts, decoded.
#[derive(Debug, Default, PartialEq)]
pub struct Parts {
    pub scheme: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
    pub query: Vec<(String, String)>,
}

pub const ESCAPE_HINT: &str = "characters such as `@`, `:`, `/`, `?`, `#` and `%` in the user \
                           name or password must be percent-escaped";

/// A host as URLs write it: a DNS name or IPv4 address (ASCII letters, digits, `-`, `.`,
/// `_`), or `[IPv6]`. Lowercased.
pub fn check_host(host: &str) -> Result<String, String> {
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner
            .parse::<std::net::Ipv6Addr>()
            .map(|a| format!("[{a}]"))
            .map_err(|_| "the host in `[...]` is not an IPv6 address".into());
    }
    if !host.is_ascii() {
        return Err(
            "the host is not ASCII: write an internationalised name in its ASCII \
                    form (punycode, `xn--...`)"
                .into(),
        );
    }
    if host.len() > 253 {
        return Err(format!(
            "the host is at most 253 characters, got {}",
            host.len()
        ));
    }
    let ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
    if !ok || host.starts_with('.') || host.contains("..") {
        return Err(format!(
            "the host may hold only letters, digits, `-`, `_` and dots between labels \
             (several hosts are not supported; {ESCAPE_HINT})"
        ));
    }
    Ok(host.to_ascii_lowercase())
}

/// A host as a URL carries it: trimmed, an IPv6 address put in `[...]`, then checked
/// ([`check_host`]). The one rule both providers' URL builders use.
pub fn url_host(host: &str) -> Result<String, String> {
    let raw = host.trim();
    if raw.contains(':') && !raw.starts_with('[') {
        check_host(&format!("[{raw}]"))
    } else {
        check_host(raw)
    }
}

/// Splits `scheme://[user[:password]@]host[:port][/path][?query]`.
pub fn split(raw: &str) -> Result<Parts, String> {
    let raw = raw.trim();
    if raw.len() > MAX_LEN {
        return Err(format!(
            "a connection string is at most {MAX_LEN} characters, got {}",
            raw.len()
        ));
    }
    let Some((scheme, rest)) = raw.split_once("://") else {
        return Err("not a URL: expected `<scheme>://...`".into());
    };
    let scheme_ok = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err("not a URL: the scheme before `://` is not a URL scheme".into());
    }
    let scheme = scheme.to_ascii_lowercase();
    if rest.contains('#') {
        return Err(format!(
            "a connection string has no `#` fragment ({ESCAPE_HINT})"
        ));
    }
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(u) => {
            let (user, pass) = match u.split_once(':') {
                Some((user, pass)) => (user, Some(pass)),
                None => (u, None),
            };
            let user = unescape(user, "user name")?;
            let pass = pass.map(|p| unescape(p, "password")).transpose()?;
            (
                (!user.is_empty()).then_some(user),
                pass.filter(|p| !p.is_empty()),
            )
        }
    };
    let (host, port) = if hostport.starts_with('[') {
        match hostport.find(']') {
            Some(end) => {
                let (h, after) = hostport.split_at(end + 1);
                match after.strip_prefix(':') {
                    Some(p) => (h, Some(p)),
                    None if after.is_empty() => (h, None),
                    None => {
                        return Err(
                            "the host in `[...]` is followed by something else than `:port`".into(),
                        )
                    }
                }
            }
            None => return Err("the host opens `[` without closing it".into()),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host = check_host(host)?;
    let port = match port {
        None | Some("") => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => {
                return Err(format!(
                    "the port is not a number from 1 to 65535 ({ESCAPE_HINT})"
                ))
            }
        },
    };
    let path = unescape(path, "path")?;
    let mut pairs = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = unescape(&k.replace('+', " "), "query")?;
        let v = unescape(&v.replace('+', " "), "query")?;
        if k.is_empty() {
            return Err("the query has a parameter without a name".into());
        }
        pairs.push((k, v));
    }
    Ok(Parts {
        scheme,
        username,
        password,
        host,
        port,
        path,
        query: pairs,
    })
}
