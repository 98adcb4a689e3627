//! [`WaysCloud`]: an [`Emulator`] serving WaysCloud alone (its private PostgreSQL and
//! MariaDB servers in the temporary state directory), with WaysCloud's own helpers: keys of
//! new customers, the engines' superuser view, their processes; and the outside clients
//! that check what was made: `psql` and `mysql`, optionally connecting "from" another
//! loopback address through [`Relay`].
//!
//! Start-up, stop, restart, the provider environment and the API and admin requests are
//! the one [`Emulator`]'s (through `Deref`); a test that needs WaysCloud beside another
//! platform uses [`Emulator::serving`] and [`Emulator::on`].

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::ops::{Deref, DerefMut};
use std::path::Path;

use reqwest::Method;
use serde_json::Value;

use super::emulator::Emulator;
use super::platform::Platform;

/// A running emulator serving WaysCloud.
pub struct WaysCloud(Emulator);

impl Deref for WaysCloud {
    type Target = Emulator;
    fn deref(&self) -> &Emulator {
        &self.0
    }
}

impl DerefMut for WaysCloud {
    fn deref_mut(&mut self) -> &mut Emulator {
        &mut self.0
    }
}

impl WaysCloud {
    pub fn start() -> WaysCloud {
        WaysCloud::start_with_env(&[])
    }

    pub fn start_with_env(envs: &[(&str, &str)]) -> WaysCloud {
        WaysCloud(
            envs.iter()
                .fold(
                    Emulator::builder().platforms(&[Platform::WaysCloud]),
                    |b, (k, v)| b.env(k, v),
                )
                .start(),
        )
    }

    /// The bootstrap customer's API key.
    pub fn api_key(&self) -> &str {
        self.token()
    }

    /// A request with `key` (none when `None`) in `X-API-Key`; (status, JSON body).
    pub fn call(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.on(Platform::WaysCloud)
            .request(method, path, key, &[], body)
    }

    /// An admin request with a JSON body (`Null` is sent as `null`).
    pub fn admin(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        self.0.admin(method, path, Some(body))
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

    /// The superuser/root view of an engine: `psql` as `postgres` or `mysql` as root.
    pub fn admin_sql(&self, db_type: &str, sql: &str) -> String {
        let dir = self.state_dir().join("wayscloud");
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
        let dir = self.state_dir().join("wayscloud");
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
