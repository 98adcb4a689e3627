//! The WaysCloud part of the real `platform-emulator` binary (`--serve wayscloud=127.0.0.1:0`)
//! with a temporary state directory, its private PostgreSQL and MariaDB servers, and the
//! outside clients that check what was made: `psql` and `mysql`, optionally connecting
//! "from" another loopback address through [`Relay`].
//!
//! Blocking helpers (HTTP through a runtime of its own), like [`super::Emulator`].

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use tempfile::TempDir;

const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A running emulator serving WaysCloud.
pub struct WaysCloud {
    child: Option<Child>,
    _tmp: Option<TempDir>,
    state_dir: PathBuf,
    log_path: PathBuf,
    envs: Vec<(String, String)>,
    url: String,
    api_key: String,
    admin_secret: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl WaysCloud {
    pub fn start() -> WaysCloud {
        WaysCloud::start_with_env(&[])
    }

    pub fn start_with_env(envs: &[(&str, &str)]) -> WaysCloud {
        let tmp = tempfile::tempdir().expect("tempdir");
        let state_dir = tmp.path().join("state");
        let log_path = tmp.path().join("emulator.log");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut w = WaysCloud {
            child: None,
            _tmp: Some(tmp),
            state_dir,
            log_path,
            envs: envs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            url: String::new(),
            api_key: String::new(),
            admin_secret: String::new(),
            rt,
            http: super::emulator::http_client(),
        };
        w.spawn("127.0.0.1:0");
        w
    }

    fn spawn(&mut self, listen: &str) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_platform-emulator"));
        cmd.args([
            "--listen",
            "127.0.0.1:0",
            "--apps-listen",
            "127.0.0.1:0",
            "--dns-listen",
            "127.0.0.1:0",
        ])
        .arg("--serve")
        .arg(format!("wayscloud={listen}"))
        .arg("--state-dir")
        .arg(&self.state_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
        super::clear_isolated_env(&mut cmd);
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start platform-emulator");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line
                    .strip_prefix("platform-emulator: wayscloud listening on ")
                    .map(str::to_owned)
                {
                    let _ = tx.send(url);
                }
            }
        });
        let started = Instant::now();
        let url = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(url) => break url,
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!(
                            "emulator exited ({status}) before listening\n{}",
                            self.log()
                        );
                    }
                    if started.elapsed() > START_TIMEOUT {
                        let _ = child.kill();
                        panic!(
                            "emulator did not listen within {START_TIMEOUT:?}\n{}",
                            self.log()
                        );
                    }
                }
            }
        };
        self.child = Some(child);
        self.url = url;
        let dir = self.state_dir.join("wayscloud");
        self.api_key = read(&dir.join("bootstrap-api-key"));
        self.admin_secret = read(&dir.join("admin-secret"));
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `WAYSCLOUD_API_URL` and `WAYSCLOUD_API_KEY` for the provider.
    pub fn provider_env(&self) -> Vec<(String, String)> {
        vec![
            ("WAYSCLOUD_API_URL".into(), self.url.clone()),
            ("WAYSCLOUD_API_KEY".into(), self.api_key.clone()),
        ]
    }

    /// A request with `key` (none when `None`); (status, JSON body or Null).
    pub fn call(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(key) = key {
            req = req.header("X-API-Key", key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.rt.block_on(async move {
            let resp = req.send().await.expect("request");
            let status = resp.status().as_u16();
            let bytes = resp.bytes().await.expect("body");
            (
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )
        })
    }

    /// A request with the bootstrap key.
    pub fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(Some(&self.api_key.clone()), method, path, body)
    }

    pub fn admin(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        let req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("X-Emulator-Admin", &self.admin_secret)
            .json(&body);
        self.rt.block_on(async move {
            let resp = req.send().await.expect("request");
            let status = resp.status().as_u16();
            (status, resp.json().await.unwrap_or(Value::Null))
        })
    }

    /// A new key of a new customer with these permissions.
    pub fn new_key(&self, permissions: &[&str]) -> String {
        let (status, body) = self.admin(
            Method::POST,
            "/_emulator/api-keys",
            serde_json::json!({ "permissions": permissions }),
        );
        assert_eq!(status, 200, "{body}");
        body["api_key"].as_str().expect("api_key").to_owned()
    }

    /// Stops with SIGTERM (the engines stop cleanly with it); the state stays.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) if started.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return false;
                }
            }
        }
    }

    /// SIGKILL (a crash).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same state directory and API address.
    pub fn restart(&mut self) {
        self.stop();
        let listen = self.url.trim_start_matches("http://").to_owned();
        self.spawn(&listen);
    }

    /// The superuser/root view of an engine: `psql` as `postgres` or `mysql` as root.
    pub fn admin_sql(&self, db_type: &str, sql: &str) -> String {
        let dir = self.state_dir.join("wayscloud");
        match db_type {
            "postgresql" => {
                let port = read(&dir.join("postgres/port"));
                let pw = read(&dir.join("postgres/superuser-password"));
                let out = super::outside_tool("psql")
                    .args([
                        "-X",
                        "-A",
                        "-t",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        &port,
                        "-U",
                        "postgres",
                        "-d",
                        "postgres",
                        "-c",
                        sql,
                    ])
                    .env("PGPASSWORD", pw)
                    .output()
                    .expect("psql");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
            _ => {
                let port = read(&dir.join("mariadb/port"));
                let pw = read(&dir.join("mariadb/root-password"));
                let out = super::outside_tool("mysql")
                    .args([
                        "--no-defaults",
                        "--protocol=TCP",
                        "-h",
                        "127.0.0.1",
                        "-P",
                        &port,
                        "-u",
                        "root",
                        "-N",
                        "-B",
                        "-e",
                        sql,
                    ])
                    .env("MYSQL_PWD", pw)
                    .output()
                    .expect("mysql");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                String::from_utf8_lossy(&out.stdout).trim().to_owned()
            }
        }
    }

    /// Every process of the engines (by their pid files' processes), to check none is left.
    pub fn engine_pids(&self) -> Vec<u32> {
        let dir = self.state_dir.join("wayscloud");
        [
            dir.join("postgres/data/postmaster.pid"),
            dir.join("mariadb/data/mariadb.pid"),
        ]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|s| s.lines().next().and_then(|l| l.trim().parse().ok()))
        .collect()
    }
}

impl Drop for WaysCloud {
    fn drop(&mut self) {
        self.stop();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .trim()
        .to_owned()
}

/// Whether a process is alive (and not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
                .unwrap_or(false)
        })
        .unwrap_or(false)
}

/// An outside client's session: `psql` with a connection URI (password inside) or `mysql`
/// with host, port, user, password and database. (status success, stdout + stderr).
pub fn client_sql(
    db_type: &str,
    host: &str,
    port: u16,
    user: &str,
    password: &str,
    db: &str,
    sql: &str,
) -> (bool, String) {
    let out = match db_type {
        "postgresql" => super::outside_tool("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                host,
                "-p",
                &port.to_string(),
                "-U",
                user,
                "-d",
                db,
                "-c",
                sql,
            ])
            .env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "5")
            .output(),
        _ => super::outside_tool("mysql")
            .args([
                "--no-defaults",
                "--protocol=TCP",
                "-h",
                host,
                "-P",
                &port.to_string(),
                "-u",
                user,
                "-N",
                "-B",
                db,
                "-e",
                sql,
            ])
            .env("MYSQL_PWD", password)
            .output(),
    }
    .expect("client");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text.trim().to_owned())
}

/// A TCP relay on `127.0.0.1:<port>` whose connections reach `target` from `source` (e.g.
/// 127.0.0.2): what a client on another network looks like to the engines here.
pub struct Relay {
    pub port: u16,
}

impl Relay {
    pub fn start(source: Ipv4Addr, target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for incoming in listener.incoming() {
                let Ok(client) = incoming else { continue };
                std::thread::spawn(move || {
                    let socket = match socket2_connect(source, target) {
                        Some(s) => s,
                        None => return,
                    };
                    let (mut a, mut b) = (
                        client.try_clone().expect("clone"),
                        socket.try_clone().expect("clone"),
                    );
                    let (mut c, mut d) = (client, socket);
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut a, &mut b);
                        let _ = b.shutdown(std::net::Shutdown::Write);
                    });
                    let _ = std::io::copy(&mut d, &mut c);
                    let _ = c.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Relay { port }
    }
}

/// A TCP connection to `target` whose source address is `source` (bind before connect).
fn socket2_connect(source: Ipv4Addr, target: SocketAddr) -> Option<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.bind(SocketAddr::new(source.into(), 0)).ok()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let stream = rt.block_on(socket.connect(target)).ok()?;
    let std_stream = stream.into_std().ok()?;
    std_stream.set_nonblocking(false).ok()?;
    Some(std_stream)
}
