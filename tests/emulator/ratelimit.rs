//! The per-token rate limit every platform's emulator offers (off by default): set through
//! the admin API, announced on every answer with `RateLimit-*` headers, enforced with 429
//! and `Retry-After` in the platform's error shape, one bucket per token.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::json;

use crate::support::Emulator;

/// A raw HTTP/1.1 GET: (status, headers lower-cased, body).
fn get(emu: &Emulator, path: &str, token: &str) -> (u16, Vec<(String, String)>, String) {
    let addr = emu
        .url()
        .strip_prefix("http://")
        .expect("http url")
        .to_owned();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .expect("write request");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read answer");
    let (head, body) = raw.split_once("\r\n\r\n").expect("head and body");
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn a_token_bucket_limits_each_token_and_announces_itself() {
    let emu = Emulator::start();
    let token = emu.token().to_owned();
    // Off by default: no headers, no limit.
    let (status, headers, _) = get(&emu, "/v1/projects", &token);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "ratelimit-limit"), None);

    // Bad settings are refused on their field, and nothing changes.
    let (status, body) = emu.admin(
        reqwest::Method::PUT,
        "/_emulator/rate_limit",
        Some(json!({"requests_per_second": 0})),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        emu.admin_get("/_emulator/rate_limit")["rate_limit"],
        json!(null)
    );

    // 0.5 request/s with a bucket of 3: three go, the fourth is refused for 2 s.
    emu.admin_put(
        "/_emulator/rate_limit",
        json!({"requests_per_second": 0.5, "burst": 3}),
    );
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let (status, headers, body) = get(&emu, "/v1/projects", &token);
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            header(&headers, "ratelimit-policy"),
            Some("0.5;w=1;burst=3")
        );
        assert_eq!(header(&headers, "ratelimit-limit"), Some("3"));
        assert_eq!(header(&headers, "x-ratelimit-limit"), Some("3"));
        remaining.push(header(&headers, "ratelimit-remaining").map(str::to_owned));
    }
    assert_eq!(
        remaining,
        vec![Some("2".into()), Some("1".into()), Some("0".into())]
    );
    let (status, headers, body) = get(&emu, "/v1/projects", &token);
    assert_eq!(status, 429, "{body}");
    assert_eq!(header(&headers, "retry-after"), Some("2"));
    assert_eq!(header(&headers, "ratelimit-remaining"), Some("0"));
    let error: serde_json::Value = serde_json::from_str(&body).expect("JSON error body");
    assert_eq!(error["error"]["code"], "rate_limited", "{error}");

    // Another token has its own bucket.
    let (_, other) = emu.admin(
        reqwest::Method::POST,
        "/_emulator/tokens",
        Some(json!({"scopes": ["project:read"], "projects": ["prj_local"]})),
    );
    let other = other["token"].as_str().expect("token").to_owned();
    assert_eq!(get(&emu, "/v1/projects", &other).0, 200);

    let stats = emu.admin_get("/_emulator/stats");
    assert_eq!(stats["rate_limited"], 1, "{stats}");

    // Turned off again: no limit, no headers.
    emu.admin_delete("/_emulator/rate_limit", json!({}));
    let (status, headers, _) = get(&emu, "/v1/projects", &token);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "ratelimit-policy"), None);
}
