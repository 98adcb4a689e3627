//! Which `Host` names the emulator answers. A web page in the user's browser can reach a
//! server on loopback through DNS rebinding (its own name, re-pointed at 127.0.0.1); the
//! browser then sends the page's name as `Host`. So every listener answers only:
//!
//! - loopback addresses (`127.0.0.0/8`, `::1`) and `localhost`, `*.localhost`, with or
//!   without a port (`*.localhost` covers the app gateway's `*.apps.localhost`);
//! - the listener's own IP when it is bound to a non-loopback address (any IP literal when
//!   bound to an unspecified address such as `0.0.0.0`: a rebinding page always sends a
//!   name, never an address);
//! - the names allowed with `--allow-host NAME` or `COMWIT_EMULATOR_ALLOWED_HOSTS` (comma
//!   separated; a leading `*.` allows every name under it);
//! - on the app gateway, also the hostnames attached to apps.
//!
//! Others get 421 Misdirected Request, in plain text, naming what is accepted.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode, Uri};

/// Env: more `Host` names to accept, comma separated (`*.example.lan` for every name under
/// it).
pub const ENV_ALLOWED_HOSTS: &str = "COMWIT_EMULATOR_ALLOWED_HOSTS";

/// The names the user allowed beyond the built-in ones (`--allow-host`,
/// `COMWIT_EMULATOR_ALLOWED_HOSTS`), lowercase, without final dot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    /// From names as the user wrote them (empty ones left out).
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> AllowedHosts {
        let mut hosts = AllowedHosts::default();
        hosts.extend(names);
        hosts
    }

    /// Adds names as the user wrote them (empty ones left out).
    pub fn extend<S: AsRef<str>>(&mut self, names: impl IntoIterator<Item = S>) {
        for name in names {
            let name = name
                .as_ref()
                .trim()
                .trim_end_matches('.')
                .to_ascii_lowercase();
            if !name.is_empty() && !self.0.contains(&name) {
                self.0.push(name);
            }
        }
    }

    /// The names of `COMWIT_EMULATOR_ALLOWED_HOSTS` (none when unset).
    pub fn from_env() -> AllowedHosts {
        match std::env::var(ENV_ALLOWED_HOSTS) {
            Ok(list) => AllowedHosts::new(list.split(',')),
            Err(_) => AllowedHosts::default(),
        }
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }

    /// The policy of one listener bound to `bound` (its local address).
    pub fn for_listener(&self, bound: SocketAddr) -> HostPolicy {
        HostPolicy {
            allowed: self.clone(),
            bound: bound.ip(),
        }
    }
}

/// The `Host` names one listener answers (see the module docs).
#[derive(Debug, Clone)]
pub struct HostPolicy {
    allowed: AllowedHosts,
    bound: IpAddr,
}

/// What a `Host` value names: an address or a name (lowercase, without port or final dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Ip(IpAddr),
    Name(String),
}

/// Parses a `Host` value (`name`, `name:port`, `1.2.3.4:port`, `[::1]:port`).
pub fn parse_host(raw: &str) -> Option<Host> {
    let raw = raw.trim();
    let host = if let Some(rest) = raw.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty()
            || after
                .strip_prefix(':')
                .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit())))
        {
            return None;
        }
        return inside.parse().ok().map(Host::Ip);
    } else {
        match raw.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => raw,
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    Some(match host.parse::<IpAddr>() {
        Ok(ip) => Host::Ip(ip),
        Err(_) => Host::Name(host),
    })
}

/// Whether `name` is `pattern`, or under it when the pattern starts with `*.`.
fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => name
            .strip_suffix(suffix)
            .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
        None => pattern == name,
    }
}

impl HostPolicy {
    /// Whether a request with this `Host` value is answered.
    pub fn accepts(&self, host: &Host) -> bool {
        match host {
            Host::Ip(ip) => {
                ip.is_loopback()
                    || ip.to_canonical().is_loopback()
                    || (!self.bound.is_loopback()
                        && (self.bound.is_unspecified() || *ip == self.bound))
                    || self.allowed.0.iter().any(|n| n == &ip.to_string())
            }
            Host::Name(name) => {
                name == "localhost"
                    || name_matches("*.localhost", name)
                    || self.allowed.0.iter().any(|p| name_matches(p, name))
            }
        }
    }

    /// Whether a request (URI and headers) is answered; an absolute-form URI and the
    /// `Host` header must both be accepted.
    pub fn accepts_request(&self, uri: &Uri, headers: &HeaderMap) -> bool {
        let header_ok = match headers.get(header::HOST) {
            Some(v) => v
                .to_str()
                .ok()
                .and_then(parse_host)
                .is_some_and(|h| self.accepts(&h)),
            None => false,
        };
        let uri_ok = match uri.authority() {
            Some(a) => parse_host(a.as_str()).is_some_and(|h| self.accepts(&h)),
            None => true,
        };
        header_ok && uri_ok
    }

    /// The 421 answer to a request whose `Host` is not accepted.
    pub fn refusal(&self, headers: &HeaderMap, also: &str) -> Response<Body> {
        let got = headers
            .get(header::HOST)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_else(|| "(none)".to_owned());
        let mut accepted = vec![
            "localhost".to_owned(),
            "*.localhost".to_owned(),
            "127.0.0.0/8".to_owned(),
            "[::1]".to_owned(),
        ];
        if !self.bound.is_loopback() {
            accepted.push(if self.bound.is_unspecified() {
                "any IP address".to_owned()
            } else {
                self.bound.to_string()
            });
        }
        accepted.extend(self.allowed.0.iter().cloned());
        let body = format!(
            "Host {got:?} is not served here (a guard against DNS rebinding). Accepted: {}{also} \
             (any port). Allow more with --allow-host NAME or {ENV_ALLOWED_HOSTS}=NAME,...\n",
            accepted.join(", ")
        );
        let mut resp = Response::new(Body::from(body));
        *resp.status_mut() = StatusCode::MISDIRECTED_REQUEST;
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(bound: &str, allowed: &[&str]) -> HostPolicy {
        AllowedHosts::new(allowed.iter().copied())
            .for_listener(bound.parse().expect("socket address"))
    }

    fn accepts(p: &HostPolicy, raw: &str) -> bool {
        parse_host(raw).is_some_and(|h| p.accepts(&h))
    }

    #[test]
    fn loopback_and_localhost_names_only() {
        let p = policy("127.0.0.1:8787", &[]);
        for ok in [
            "127.0.0.1:8787",
            "127.0.0.1",
            "127.1.2.3:80",
            "localhost",
            "LOCALHOST:8787",
            "localhost.:8787",
            "[::1]:8787",
            "[::1]",
            "[::ffff:127.0.0.1]:8787",
            "app.apps.localhost:8790",
            "x.localhost",
        ] {
            assert!(accepts(&p, ok), "{ok} accepted");
        }
        for refused in [
            "evil.example",
            "evil.example:8787",
            "localhost.evil.example",
            "evillocalhost",
            ".localhost",
            "192.168.1.5:8787",
            "[2001:db8::1]:8787",
            "[::1]x",
            "",
            "10.0.0.1",
        ] {
            assert!(!accepts(&p, refused), "{refused} refused");
        }
    }

    #[test]
    fn allowed_names_and_the_listen_address() {
        let p = policy("192.168.1.5:8787", &["Dev.Example.LAN.", "*.lab.test"]);
        assert!(accepts(&p, "192.168.1.5:8787"));
        assert!(!accepts(&p, "192.168.1.6:8787"));
        assert!(accepts(&p, "dev.example.lan:8787"));
        assert!(accepts(&p, "a.lab.test"));
        assert!(accepts(&p, "a.b.lab.test"));
        assert!(!accepts(&p, "lab.test"));
        assert!(!accepts(&p, "xlab.test"));
        assert!(!accepts(&p, "evil.example"));
        // Bound everywhere: any address literal, still no foreign name.
        let p = policy("0.0.0.0:8787", &[]);
        assert!(accepts(&p, "10.1.2.3:8787"));
        assert!(!accepts(&p, "evil.example"));
        // Bound on loopback: its listen address does not open other addresses.
        let p = policy("127.0.0.1:0", &[]);
        assert!(!accepts(&p, "10.1.2.3"));
    }

    #[test]
    fn requests_check_the_header_and_an_absolute_uri() {
        let p = policy("127.0.0.1:8787", &[]);
        let mut headers = HeaderMap::new();
        let origin: Uri = "/v1/projects".parse().expect("uri");
        assert!(!p.accepts_request(&origin, &headers), "no Host");
        headers.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8787"));
        assert!(p.accepts_request(&origin, &headers));
        let absolute: Uri = "http://evil.example/v1/projects".parse().expect("uri");
        assert!(!p.accepts_request(&absolute, &headers));
        headers.insert(header::HOST, HeaderValue::from_static("evil.example"));
        assert!(!p.accepts_request(&origin, &headers));
        let resp = p.refusal(&headers, "");
        assert_eq!(resp.status(), StatusCode::MISDIRECTED_REQUEST);
    }
}
