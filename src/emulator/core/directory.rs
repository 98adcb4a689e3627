//! The platforms this emulator serves, as the browser console learns them, and the CORS
//! answers that let the console's page call each platform's API on its own origin.
//!
//! Every platform registers itself here when it starts serving ([`super::Launch::serve`]):
//! its name, its API's URL and whether it serves the console (a platform says so with
//! [`super::Platform::serves_console`]). The core answers, on every listener:
//!
//! - `GET /_console/platforms` ([`PLATFORMS_PATH`]): the list, non-secret (names and URLs
//!   only), not counted in the stats and not subject to faults, like the health route;
//! - CORS for the console's origins only: a request whose `Origin` is a loopback origin
//!   (`http://127.0.0.0/8`, `http://localhost`, `http://[::1]`) on the port of a served
//!   platform that serves the console (not the listener's own port) gets
//!   `Access-Control-Allow-Origin: <that origin>`; its preflight (`OPTIONS` with
//!   `Access-Control-Request-Method`) is answered 204 with the methods `GET, HEAD` and the
//!   credential headers (`Authorization`, `X-API-Key`). Any other origin gets no CORS
//!   header, and its preflight goes to the platform's routes like any `OPTIONS` (405).
//!
//! The core names no platform: the list is whatever registered.

use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use serde::Serialize;
use serde_json::json;

/// The listing route every listener answers (no secret).
pub const PLATFORMS_PATH: &str = "/_console/platforms";
/// The methods the console may use across origins: it only reads other platforms.
pub const CORS_METHODS: &str = "GET, HEAD";
/// The request headers the console may send across origins: the platforms' credentials.
pub const CORS_HEADERS: &str = "authorization, x-api-key";
/// How long a browser may keep a preflight answer (seconds).
pub const CORS_MAX_AGE: &str = "600";

/// One served platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// Its name (`--serve NAME=ADDR`).
    pub name: String,
    /// Its API, `http://host:port`.
    pub url: String,
    /// Whether it serves the browser console at its root.
    pub console: bool,
}

/// The served platforms of one emulator process, shared by all of them (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Directory(Arc<RwLock<Vec<Listed>>>);

impl Directory {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Listed>> {
        self.0.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<Listed>> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a platform (replacing an entry of the same name).
    pub fn add(&self, listed: Listed) {
        let mut list = self.write();
        list.retain(|l| l.name != listed.name);
        list.push(listed);
    }

    /// Forgets a platform (it stopped).
    pub fn remove(&self, name: &str) {
        self.write().retain(|l| l.name != name);
    }

    /// Every served platform, in the order they started.
    pub fn list(&self) -> Vec<Listed> {
        self.read().clone()
    }

    /// The API URLs of every served platform but `name`: the origins the console's page
    /// may connect to beside its own (its CSP `connect-src`).
    pub fn others(&self, name: &str) -> Vec<String> {
        self.read()
            .iter()
            .filter(|l| l.name != name)
            .map(|l| l.url.clone())
            .collect()
    }

    /// The listing's body.
    pub fn listing(&self) -> serde_json::Value {
        json!({ "platforms": self.list() })
    }

    /// Whether a browser page of `origin` may read the answers of the listener on
    /// `own_port`: `origin` is a loopback origin on the port of a served platform that
    /// serves the console, and not the listener's own port (same-origin needs no CORS).
    pub fn allows_origin(&self, origin: &str, own_port: u16) -> bool {
        let Some(port) = loopback_origin_port(origin) else {
            return false;
        };
        port != own_port
            && self
                .read()
                .iter()
                .any(|l| l.console && url_port(&l.url) == Some(port))
    }

    /// The `Origin` of a request when [`Directory::allows_origin`] allows it.
    pub fn cors_origin(&self, headers: &HeaderMap, own_port: u16) -> Option<HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.allows_origin(text, own_port).then(|| origin.clone())
    }
}

/// The port of a loopback `http://` origin (80 when it names none); `None` for any other
/// origin (another scheme, a name other than `localhost`, a path, `null`).
fn loopback_origin_port(origin: &str) -> Option<u16> {
    let rest = origin.strip_prefix("http://")?;
    if rest.contains(['/', '?', '#', '@']) {
        return None;
    }
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (ip, after) = inner.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (ip, port)
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return None;
    }
    match port {
        None => Some(80),
        Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
        Some(_) => None,
    }
}

/// The port of a listed `http://host:port` URL.
fn url_port(url: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://")?;
    let (_, port) = rest.rsplit_once(':')?;
    port.parse().ok()
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to an allowed origin's preflight.
pub fn preflight(origin: HeaderValue) -> Response<Body> {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(CORS_METHODS),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(CORS_HEADERS),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(CORS_MAX_AGE),
    );
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    resp
}

/// Marks an answer readable by the allowed `origin`.
pub fn allow(resp: &mut Response<Body>, origin: HeaderValue) {
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        let d = Directory::default();
        d.add(Listed {
            name: "a".into(),
            url: "http://127.0.0.1:8787".into(),
            console: true,
        });
        d.add(Listed {
            name: "b".into(),
            url: "http://127.0.0.1:8788".into(),
            console: false,
        });
        d
    }

    #[test]
    fn only_the_consoles_loopback_origins_are_allowed() {
        let d = directory();
        // On b's listener: the console (a) is allowed under every loopback name.
        for origin in [
            "http://127.0.0.1:8787",
            "http://localhost:8787",
            "http://LOCALHOST:8787",
            "http://127.0.0.2:8787",
            "http://[::1]:8787",
        ] {
            assert!(d.allows_origin(origin, 8788), "{origin}");
        }
        for origin in [
            "http://127.0.0.1:8788",        // b itself serves no console
            "http://127.0.0.1:9999",        // nothing served there
            "https://127.0.0.1:8787",       // another scheme
            "http://evil.example:8787",     // not loopback
            "http://127.0.0.1.nip.io:8787", // a name, not loopback
            "http://a.localhost:8787",      // only `localhost` itself
            "http://127.0.0.1:8787/",       // not an origin
            "http://127.0.0.1:",
            "http://user@127.0.0.1:8787",
            "null",
            "",
        ] {
            assert!(!d.allows_origin(origin, 8788), "{origin}");
        }
        // On the console's own listener: same origin, no CORS.
        assert!(!d.allows_origin("http://127.0.0.1:8787", 8787));
        // A stopped console is no longer allowed.
        d.remove("a");
        assert!(!d.allows_origin("http://127.0.0.1:8787", 8788));
    }

    #[test]
    fn the_listing_and_the_others() {
        let d = directory();
        d.add(Listed {
            name: "b".into(),
            url: "http://127.0.0.1:9000".into(),
            console: false,
        });
        assert_eq!(d.others("a"), vec!["http://127.0.0.1:9000".to_owned()]);
        assert_eq!(
            d.listing(),
            json!({"platforms": [
                {"name": "a", "url": "http://127.0.0.1:8787", "console": true},
                {"name": "b", "url": "http://127.0.0.1:9000", "console": false},
            ]})
        );
        let mut headers = HeaderMap::new();
        assert!(d.cors_origin(&headers, 9000).is_none());
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:8787"),
        );
        assert_eq!(
            d.cors_origin(&headers, 9000),
            Some(HeaderValue::from_static("http://localhost:8787"))
        );
        assert!(is_preflight(&Method::OPTIONS, &{
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCESS_CONTROL_REQUEST_METHOD,
                HeaderValue::from_static("GET"),
            );
            h
        }));
        assert!(!is_preflight(&Method::OPTIONS, &headers));
        let resp = preflight(HeaderValue::from_static("http://localhost:8787"));
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            resp.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS],
            CORS_HEADERS
        );
    }
}
