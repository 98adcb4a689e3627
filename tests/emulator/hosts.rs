//! The `Host` check of every listener (a guard against DNS rebinding): a foreign name is
//! refused with 421 on the Comwit API, its admin and SQL paths, the app gateway, WaysCloud
//! and CloudSync; loopback addresses and `localhost` names, with or without a port, are
//! served; `--allow-host` and `COMWIT_EMULATOR_ALLOWED_HOSTS` add names.

use std::io::{Read, Write};

use crate::support::cloudsync::CloudSync;
use crate::support::wayscloud::WaysCloud;
use crate::support::Emulator;

/// One plain HTTP/1.1 request: `GET target` with `host` (none: no `Host` header) and extra
/// header lines; the status and body.
fn raw(
    base_url: &str,
    target: &str,
    host: Option<&str>,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let addr = base_url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("read timeout");
    let mut head = format!("GET {target} HTTP/1.1\r\nConnection: close\r\n");
    if let Some(host) = host {
        head.push_str(&format!("Host: {host}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write");
    let mut text = String::new();
    let _ = stream.read_to_string(&mut text);
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

fn port(base_url: &str) -> String {
    base_url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .expect("port")
        .to_owned()
}

/// The refusal: 421, naming what is accepted and how to allow more.
fn assert_refused(what: &str, (status, body): (u16, String)) {
    assert_eq!(status, 421, "{what}: {body}");
    assert!(
        body.contains("localhost") && body.contains("--allow-host"),
        "{what}: {body}"
    );
}

/// The names every listener serves, with the listener's port.
fn loopback_hosts(base_url: &str) -> Vec<String> {
    let port = port(base_url);
    vec![
        format!("127.0.0.1:{port}"),
        "127.0.0.1".to_owned(),
        format!("localhost:{port}"),
        "localhost".to_owned(),
        format!("[::1]:{port}"),
    ]
}

#[test]
fn comwit_listeners_refuse_a_foreign_host() {
    let emu = Emulator::start();
    let url = emu.url().to_owned();
    let bearer = format!("Bearer {}", emu.token());
    let auth = [("Authorization", bearer.as_str())];
    let admin = [("X-Emulator-Admin", emu.admin_secret())];
    // The API, the admin API and a database URL (the SQL data plane).
    for (target, headers) in [
        ("/v1/projects", &auth[..]),
        ("/_emulator/stats", &admin[..]),
        ("/db/nothing/v2", &auth[..]),
    ] {
        for host in ["evil.example", "evil.example:80", "localhost.evil.example"] {
            assert_refused(
                &format!("{host} {target}"),
                raw(&url, target, Some(host), headers),
            );
        }
        for host in loopback_hosts(&url) {
            let (status, body) = raw(&url, target, Some(&host), headers);
            assert_ne!(status, 421, "{host} {target}: {body}");
        }
    }
    for host in loopback_hosts(&url) {
        let (status, body) = raw(&url, "/v1/projects", Some(&host), &auth);
        assert_eq!(status, 200, "{host}: {body}");
        let (status, body) = raw(&url, "/_emulator/stats", Some(&host), &admin);
        assert_eq!(status, 200, "{host}: {body}");
    }
    // No Host at all, or an absolute URI naming another host: refused too.
    assert_refused("no Host", raw(&url, "/v1/projects", None, &auth));
    assert_refused(
        "absolute URI",
        raw(
            &url,
            "http://evil.example/v1/projects",
            Some("127.0.0.1"),
            &auth,
        ),
    );
    // The refused requests were not served: the stats count only the served ones.
    let stats = emu.admin_get("/_emulator/stats");
    assert_eq!(
        stats["by_route"]["GET /v1/projects"],
        loopback_hosts(&url).len() * 2,
        "{stats}"
    );

    // The app gateway: a foreign name is refused; a name under apps.localhost is its to
    // answer (here: no such app).
    let apps = emu.apps_url().to_owned();
    let (status, body) = raw(&apps, "/", Some("evil.example"), &[]);
    assert_refused("gateway evil.example", (status, body.clone()));
    assert!(body.contains("app hostnames"), "{body}");
    let (status, body) = raw(
        &apps,
        "/",
        Some(&format!("nope.apps.localhost:{}", port(&apps))),
        &[],
    );
    assert_eq!(status, 404, "{body}");
    assert_eq!(body.trim(), "no app serves nope.apps.localhost");
}

#[test]
fn allowed_hosts_add_names() {
    let emu = Emulator::builder()
        .env(
            "COMWIT_EMULATOR_ALLOWED_HOSTS",
            "dev.example.lan, *.lab.test",
        )
        .arg("--allow-host")
        .arg("Other.Example.")
        .start();
    let url = emu.url().to_owned();
    let bearer = format!("Bearer {}", emu.token());
    let auth = [("Authorization", bearer.as_str())];
    for host in [
        "dev.example.lan",
        "dev.example.lan:8787",
        "a.lab.test",
        "other.example",
    ] {
        let (status, body) = raw(&url, "/v1/projects", Some(host), &auth);
        assert_eq!(status, 200, "{host}: {body}");
    }
    for host in ["evil.example", "lab.test", "example.lan"] {
        let (status, body) = raw(&url, "/v1/projects", Some(host), &auth);
        assert_refused(host, (status, body.clone()));
        assert!(body.contains("dev.example.lan"), "{body}");
    }
    let (status, body) = raw(emu.apps_url(), "/", Some("nope.lab.test"), &[]);
    assert_eq!(
        status, 404,
        "the gateway takes the allowed names too: {body}"
    );
}

#[test]
fn cloudsync_refuses_a_foreign_host() {
    let emu = CloudSync::start();
    let url = emu.url().to_owned();
    let bearer = format!("Bearer {}", emu.api_key());
    let auth = [("Authorization", bearer.as_str())];
    assert_refused(
        "cloudsync",
        raw(&url, "/v1/orgs", Some("evil.example"), &auth),
    );
    for host in loopback_hosts(&url) {
        let (status, body) = raw(&url, "/v1/orgs", Some(&host), &auth);
        assert_eq!(status, 200, "{host}: {body}");
    }
}

#[test]
fn wayscloud_refuses_a_foreign_host() {
    let emu = WaysCloud::start();
    let url = emu.url().to_owned();
    let key = [("X-API-Key", emu.api_key())];
    assert_refused(
        "wayscloud",
        raw(&url, "/v1/databases/engines", Some("evil.example"), &key),
    );
    for host in loopback_hosts(&url) {
        let (status, body) = raw(&url, "/v1/databases/engines", Some(&host), &key);
        assert_eq!(status, 200, "{host}: {body}");
    }
}
