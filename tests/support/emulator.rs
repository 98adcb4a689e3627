//! [`Emulator`]: the real `platform-emulator` binary on `127.0.0.1:<free port>` with a
//! temporary state directory (or one the test names), killed on drop.
//!
//! One implementation for every caller: plain `#[test]` functions use [`Emulator::start`]
//! and the blocking HTTP helpers (requests run on a small Tokio runtime the `Emulator`
//! creates on first use, so they also work inside `#[tokio::test(flavor =
//! "multi_thread")]`); async tests use [`EmulatorBuilder::start_async`] (the same start
//! on a blocking thread) and [`send`] with a client of their own; the benchmarks use
//! [`Emulator::start`] and [`send`] on their runtime.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tempfile::TempDir;

use super::clear_isolated_env;
use super::terraform::keep_test_dirs;

/// The project every bootstrap token belongs to.
pub const LOCAL_PROJECT: &str = "prj_local";

const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The base URL (`http://127.0.0.1:PORT`) in the emulator's first stdout line, `None` when
/// the line is not its listening line. The one place that knows the line's format.
pub fn parse_listening_line(line: &str) -> Option<String> {
    platforms::emulator::Listening::parse(line)
        .filter(|l| l.platform == "comwit")
        .map(|l| l.url)
}

/// The app gateway's URL in the emulator's second stdout line (`comwit-apps`).
pub fn parse_apps_listening_line(line: &str) -> Option<String> {
    platforms::emulator::Listening::parse(line)
        .filter(|l| l.platform == platforms::emulator::APPS_LISTENING_NAME)
        .map(|l| l.url)
}

fn port_of(url: &str) -> Option<u16> {
    url.rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
}

/// What an HTTP request to the emulator answered.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON; `Null` when empty; a JSON string when it is not JSON.
    pub body: Value,
}

/// Sends one request with `http`: `token` becomes `Authorization: Bearer`, `headers` are
/// added as given, `body` (JSON bytes) is sent with `content-type: application/json`.
/// The one request helper: [`Emulator::request`] blocks on it, async tests await it.
pub async fn send(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Result<Reply, reqwest::Error> {
    let mut req = http.request(method, url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(body) = body {
        req = req.header("content-type", "application/json").body(body);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await?;
    let body = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// An HTTP client for tests: never goes through a proxy from the environment.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_else(|e| panic!("building the HTTP client: {e}"))
}

/// Options for [`Emulator`]: extra environment, the state directory.
#[derive(Debug, Clone, Default)]
pub struct EmulatorBuilder {
    envs: Vec<(String, String)>,
    args: Vec<String>,
    state_dir: Option<PathBuf>,
}

impl EmulatorBuilder {
    /// An environment variable for the emulator, e.g.
    /// `("COMWIT_EMULATOR_FAULTS", r#"{"rules": [...]}"#)` or `("COMWIT_EMULATOR_LOG", "debug")`.
    /// Nothing else of [`super::ISOLATED_ENV_PREFIXES`] reaches it from the caller.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// A command-line argument for the emulator, after the harness's own (`--allow-host`).
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Keeps the state in `dir` (the emulator creates it), which outlives the emulator, so
    /// a second emulator can start on it; the log goes to `<dir>.log`. Without this, state
    /// and log live in a temporary directory removed on drop.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Starts the emulator and waits for its listening line.
    pub fn start(self) -> Emulator {
        let (tmp, state_dir, log_path) = match self.state_dir {
            Some(dir) => {
                let log = dir.with_extension("log");
                (None, dir, log)
            }
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("comwit-emu-")
                    .tempdir()
                    .expect("create temporary emulator directory");
                let state_dir = tmp.path().join("state");
                std::fs::create_dir(&state_dir).expect("create state directory");
                let log = tmp.path().join("emulator.log");
                (Some(tmp), state_dir, log)
            }
        };
        let mut emulator = Emulator {
            child: None,
            log_path,
            tmp,
            state_dir,
            envs: self.envs,
            args: self.args,
            url: String::new(),
            apps_url: String::new(),
            token: String::new(),
            admin_secret: String::new(),
            rt: OnceLock::new(),
        };
        emulator.spawn("127.0.0.1:0", "127.0.0.1:0");
        emulator
    }

    /// [`EmulatorBuilder::start`] on a blocking thread, for async tests.
    pub async fn start_async(self) -> Emulator {
        tokio::task::spawn_blocking(move || self.start())
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }
}

/// A running `platform-emulator`.
pub struct Emulator {
    child: Option<Child>,
    tmp: Option<TempDir>,
    state_dir: PathBuf,
    log_path: PathBuf,
    envs: Vec<(String, String)>,
    args: Vec<String>,
    url: String,
    /// The app gateway, `http://127.0.0.1:PORT`.
    apps_url: String,
    token: String,
    admin_secret: String,
    /// The runtime and client of the blocking HTTP helpers, made on first use.
    rt: OnceLock<(tokio::runtime::Runtime, reqwest::Client)>,
}

impl Emulator {
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Starts an emulator with a fresh state directory.
    pub fn start() -> Emulator {
        Emulator::builder().start()
    }

    /// Starts an emulator with extra environment variables; see [`EmulatorBuilder::env`].
    pub fn start_with_env(envs: &[(&str, &str)]) -> Emulator {
        envs.iter()
            .fold(Emulator::builder(), |b, (k, v)| b.env(k, v))
            .start()
    }

    fn spawn(&mut self, listen: &str, apps_listen: &str) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open emulator log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_platform-emulator"));
        cmd.arg("--listen")
            .arg(listen)
            .arg("--apps-listen")
            .arg(apps_listen)
            .arg("--dns-listen")
            .arg("127.0.0.1:0")
            .arg("--state-dir")
            .arg(&self.state_dir)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        clear_isolated_env(&mut cmd);
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start platform-emulator");
        let stdout = child.stdout.take().expect("emulator stdout");

        // Read the two listening lines (comwit, then its app gateway) on a thread (then keep
        // draining stdout so the child never blocks on a full pipe); wait for them here with
        // a timeout.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok);
            let second = first
                .as_ref()
                .and_then(|_| lines.next().and_then(Result::ok));
            let _ = tx.send(first.map(|f| (f, second.unwrap_or_default())));
            for _ in lines.by_ref() {}
        });
        let started = Instant::now();
        let (line, apps_line) = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Some(lines)) => break lines,
                Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait for emulator");
                    panic!(
                        "platform-emulator exited ({status}) before listening\n--- emulator log ---\n{}",
                        self.log()
                    );
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = child.try_wait().expect("poll emulator") {
                        panic!(
                            "platform-emulator exited ({status}) before listening\n--- emulator log ---\n{}",
                            self.log()
                        );
                    }
                    if started.elapsed() > START_TIMEOUT {
                        let _ = child.kill();
                        let _ = child.wait();
                        panic!(
                            "platform-emulator did not print its listening line within {START_TIMEOUT:?}\n--- emulator log ---\n{}",
                            self.log()
                        );
                    }
                }
            }
        };
        let Some(url) = parse_listening_line(&line) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "unexpected first line from platform-emulator: {line:?}\n--- emulator log ---\n{}",
                self.log()
            );
        };
        let Some(apps_url) = parse_apps_listening_line(&apps_line) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "unexpected second line from platform-emulator: {apps_line:?}\n--- emulator log ---\n{}",
                self.log()
            );
        };
        self.child = Some(child);
        self.url = url;
        self.apps_url = apps_url;
        self.token = read_secret(&self.state_dir.join("bootstrap-token"));
        self.admin_secret = read_secret(&self.state_dir.join("admin-secret"));
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The app gateway, `http://127.0.0.1:PORT` (an app answers there to its
    /// `default_hostname` in the `Host` header).
    pub fn apps_url(&self) -> &str {
        &self.apps_url
    }

    /// The bootstrap user token (all scopes, member of [`LOCAL_PROJECT`]).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The secret for the `/_emulator/` admin routes (header `X-Emulator-Admin`).
    pub fn admin_secret(&self) -> &str {
        &self.admin_secret
    }

    /// [`LOCAL_PROJECT`].
    pub fn project_id(&self) -> &str {
        LOCAL_PROJECT
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The emulator's stderr (its logs) so far, across restarts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// What the provider needs to use this emulator: `COMWIT_API_URL`, `COMWIT_TOKEN`,
    /// `COMWIT_PROJECT_ID`.
    pub fn provider_env(&self) -> Vec<(String, String)> {
        vec![
            ("COMWIT_API_URL".into(), self.url.clone()),
            ("COMWIT_TOKEN".into(), self.token.clone()),
            ("COMWIT_PROJECT_ID".into(), LOCAL_PROJECT.into()),
        ]
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Stops the emulator with SIGTERM (SIGKILL after 10 s) and returns whether it exited
    /// successfully. The state directory stays.
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
                Ok(None) if started.elapsed() < Duration::from_secs(10) => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return false;
                }
            }
        }
    }

    /// Kills the emulator with SIGKILL (a crash); the state directory stays.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the emulator (SIGTERM) and starts it again on the same state directory and the
    /// same ports (API and app gateway), so [`Emulator::url`], [`Emulator::apps_url`] and
    /// Terraform workspaces set up for it stay valid. The admin secret is re-read (it
    /// changes on every start unless fixed by env).
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        let port = port_of(&self.url).expect("port of the emulator URL");
        let apps_port = port_of(&self.apps_url).expect("port of the app gateway URL");
        // The ports can be busy for a moment after the old process exits.
        let started = Instant::now();
        while (std::net::TcpListener::bind(("127.0.0.1", port)).is_err()
            || std::net::TcpListener::bind(("127.0.0.1", apps_port)).is_err())
            && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.spawn(
            &format!("127.0.0.1:{port}"),
            &format!("127.0.0.1:{apps_port}"),
        );
    }

    /// The DNS server's `ip:port` (UDP and TCP), from `GET /_emulator/dns` (a restart may
    /// move it).
    pub fn dns_addr(&self) -> String {
        self.admin_get("/_emulator/dns")["server"]
            .as_str()
            .expect("server in /_emulator/dns")
            .to_owned()
    }

    /// The process id (while running).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `url()` followed by `path` (which starts with `/`).
    pub fn url_of(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn runtime(&self) -> &(tokio::runtime::Runtime, reqwest::Client) {
        self.rt.get_or_init(|| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("emulator-test-http")
                .enable_all()
                .build()
                .expect("tokio runtime");
            let http = {
                let _guard = rt.enter();
                http_client()
            };
            (rt, http)
        })
    }

    fn block_on<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
        let handle = self.runtime().0.spawn(fut);
        futures::executor::block_on(handle).expect("HTTP task panicked")
    }

    /// Any request, blocking; `token` becomes `Authorization: Bearer`, `headers` are added
    /// as given. Returns the status and the body (JSON; `Null` when empty; a JSON string
    /// when the body is not JSON). Panics only when the request cannot be made.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let http = self.runtime().1.clone();
        let what = format!("{method} {path}");
        let url = self.url_of(path);
        let token = token.map(str::to_owned);
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let body = body.map(|b| b.to_string().into_bytes());
        self.block_on(async move {
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let reply = send(&http, method, &url, token.as_deref(), &headers, body)
                .await
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            (reply.status.as_u16(), reply.body)
        })
    }

    /// A product API request with the bootstrap token; see [`Emulator::request`].
    pub fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.request(method, path, Some(&self.token), &[], body)
    }

    /// `GET path` with the bootstrap token; panics unless 2xx.
    pub fn api_get(&self, path: &str) -> Value {
        expect_success("GET", path, self.api(Method::GET, path, None))
    }

    /// An admin request (header `X-Emulator-Admin`). A `path` without a leading `/` is
    /// taken relative to `/_emulator/` (`"stats"` is `/_emulator/stats`).
    pub fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let path = admin_path(path);
        self.request(
            method,
            &path,
            None,
            &[("X-Emulator-Admin", &self.admin_secret)],
            body,
        )
    }

    /// `GET` an admin route (e.g. `/_emulator/databases`); panics unless 2xx.
    pub fn admin_get(&self, path: &str) -> Value {
        expect_success("GET", path, self.admin(Method::GET, path, None))
    }

    /// `PUT` an admin route (e.g. `/_emulator/faults`); panics unless 2xx. A `Null` body is
    /// not sent.
    pub fn admin_put(&self, path: &str, body: Value) -> Value {
        expect_success("PUT", path, self.admin(Method::PUT, path, non_null(body)))
    }

    /// `POST` an admin route (e.g. `/_emulator/tokens`); panics unless 2xx.
    pub fn admin_post(&self, path: &str, body: Value) -> Value {
        expect_success("POST", path, self.admin(Method::POST, path, non_null(body)))
    }

    /// `DELETE` an admin route (e.g. `/_emulator/faults`); panics unless 2xx. Pass
    /// `Value::Null` for no body.
    pub fn admin_delete(&self, path: &str, body: Value) -> Value {
        expect_success(
            "DELETE",
            path,
            self.admin(Method::DELETE, path, non_null(body)),
        )
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.kill();
        if let Some((rt, _)) = self.rt.take() {
            // Never blocks, so dropping an Emulator inside an async test is fine.
            rt.shutdown_background();
        }
        if std::thread::panicking() && keep_test_dirs() {
            if let Some(tmp) = self.tmp.take() {
                eprintln!("kept emulator directory {}", tmp.keep().display());
            }
        }
    }
}

fn admin_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/_emulator/{path}")
    }
}

fn non_null(body: Value) -> Option<Value> {
    (!body.is_null()).then_some(body)
}

fn expect_success(method: &str, path: &str, (status, body): (u16, Value)) -> Value {
    assert!(
        (200..300).contains(&status),
        "{method} {path} answered {status}: {body:#}"
    );
    body
}

fn read_secret(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_owned()
}
