//! [`Emulator`]: the real `platform-emulator` binary serving any set of platforms
//! ([`Emulator::serving`]`(&[Platform::Comwit, Platform::WaysCloud])`), each on its own
//! free loopback port, with a temporary state directory (or one the test names), stopped on
//! drop. What differs between platforms (names, state files, how a request carries the
//! credential, the provider's environment) is data in [`super::platform`].
//!
//! One implementation for every caller: plain `#[test]` functions use [`Emulator::start`]
//! (Comwit alone) or [`Emulator::serving`] and the blocking HTTP helpers (requests run on a
//! small Tokio runtime the `Emulator` creates on first use, so they also work inside
//! `#[tokio::test(flavor = "multi_thread")]`); [`Emulator::on`] gives the same helpers for
//! one platform of several. Async tests use [`EmulatorBuilder::start_async`] (the same
//! start on a blocking thread) and [`send`] with a client of their own; the benchmarks use
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
use super::platform::{CredentialHeader, Platform};
use super::terraform::keep_test_dirs;

/// The project every bootstrap token belongs to.
pub const LOCAL_PROJECT: &str = "prj_local";

/// The listening name of Comwit's app gateway (its line follows Comwit's own).
pub const APPS_LISTENING_NAME: &str = "comwit-apps";

/// `(name, url)` of one of the emulator's listening lines,
/// `platform-emulator: <name> listening on <url>` (`src/emulator/listening.rs` gives the
/// format); `None` for any other line. The harness's own reading: the tests do not link
/// the emulator's crate.
pub fn listening_line(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix("platform-emulator: ")?;
    let (name, url) = rest.split_once(" listening on ")?;
    let name_ok = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    let url_ok = url.contains("://") && !url.contains(' ');
    (name_ok && url_ok).then(|| (name.to_owned(), url.to_owned()))
}

/// How long a stop with SIGTERM may take before SIGKILL: WaysCloud's engines take the
/// longest (their own clean shutdown).
fn stop_timeout(graceful: bool) -> Duration {
    Duration::from_secs(if graceful { 60 } else { 10 })
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

/// Options for [`Emulator`]: the platforms, extra environment, the state directory.
#[derive(Debug, Clone, Default)]
pub struct EmulatorBuilder {
    platforms: Vec<Platform>,
    envs: Vec<(String, String)>,
    args: Vec<String>,
    state_dir: Option<PathBuf>,
}

impl EmulatorBuilder {
    /// The platforms to serve (each on a free port, in this order; the first is the one
    /// the unqualified helpers such as [`Emulator::api`] talk to). Without it: Comwit.
    pub fn platforms(mut self, platforms: &[Platform]) -> Self {
        for p in platforms {
            if !self.platforms.contains(p) {
                self.platforms.push(*p);
            }
        }
        self
    }

    /// An environment variable for the emulator, e.g.
    /// `("COMWIT_EMULATOR_FAULTS", r#"{"rules": [...]}"#)` or `("COMWIT_EMULATOR_LOG", "debug")`.
    /// Nothing else of [`super::ISOLATED_ENV_PREFIXES`] reaches it from the caller.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_owned(), value.to_owned()));
        self
    }

    /// A command-line argument for the emulator, after the harness's own (`--serve`, ...).
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

    /// Starts the emulator and waits for the listening line of every platform.
    pub fn start(self) -> Emulator {
        let platforms = if self.platforms.is_empty() {
            vec![Platform::Comwit]
        } else {
            self.platforms
        };
        let (tmp, state_dir, log_path) = match self.state_dir {
            Some(dir) => {
                let log = dir.with_extension("log");
                (None, dir, log)
            }
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("platform-emu-")
                    .tempdir()
                    .expect("create temporary emulator directory");
                let state_dir = tmp.path().join("state");
                std::fs::create_dir(&state_dir).expect("create state directory");
                let log = tmp.path().join("emulator.log");
                (Some(tmp), state_dir, log)
            }
        };
        // Each platform's own emulator environment first, so the test's can override it.
        let mut envs: Vec<(String, String)> = platforms
            .iter()
            .flat_map(|p| p.facts().emulator_env)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        envs.extend(self.envs);
        let mut emulator = Emulator {
            child: None,
            log_path,
            tmp,
            state_dir,
            envs,
            args: self.args,
            served: platforms
                .into_iter()
                .map(|platform| Served {
                    platform,
                    url: String::new(),
                    credential: String::new(),
                    admin_secret: String::new(),
                })
                .collect(),
            apps_url: None,
            rt: OnceLock::new(),
        };
        emulator.spawn(None);
        emulator
    }

    /// [`EmulatorBuilder::start`] on a blocking thread, for async tests.
    pub async fn start_async(self) -> Emulator {
        tokio::task::spawn_blocking(move || self.start())
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    }
}

/// One platform of a running emulator: its API URL, bootstrap credential and admin secret.
#[derive(Debug, Clone)]
pub struct Served {
    pub platform: Platform,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The bootstrap credential (Comwit's user token, WaysCloud's API key, CloudSync's
    /// management key).
    pub credential: String,
    /// The secret of the platform's `/_emulator/` admin routes (header `X-Emulator-Admin`).
    pub admin_secret: String,
}

/// A running `platform-emulator`.
pub struct Emulator {
    child: Option<Child>,
    tmp: Option<TempDir>,
    state_dir: PathBuf,
    log_path: PathBuf,
    envs: Vec<(String, String)>,
    args: Vec<String>,
    /// The platforms, in the order asked for.
    served: Vec<Served>,
    /// Comwit's app gateway, `http://127.0.0.1:PORT`, when Comwit is served.
    apps_url: Option<String>,
    /// The runtime and client of the blocking HTTP helpers, made on first use.
    rt: OnceLock<(tokio::runtime::Runtime, reqwest::Client)>,
}

impl Emulator {
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// Starts an emulator serving Comwit, with a fresh state directory.
    pub fn start() -> Emulator {
        Emulator::builder().start()
    }

    /// Starts an emulator serving `platforms` (each on a free port), with a fresh state
    /// directory.
    pub fn serving(platforms: &[Platform]) -> Emulator {
        Emulator::builder().platforms(platforms).start()
    }

    /// Starts an emulator serving Comwit with extra environment variables; see
    /// [`EmulatorBuilder::env`].
    pub fn start_with_env(envs: &[(&str, &str)]) -> Emulator {
        envs.iter()
            .fold(Emulator::builder(), |b, (k, v)| b.env(k, v))
            .start()
    }

    /// The platforms served, the first being the one the unqualified helpers use.
    pub fn platforms(&self) -> Vec<Platform> {
        self.served.iter().map(|s| s.platform).collect()
    }

    fn serves(&self, platform: Platform) -> bool {
        self.served.iter().any(|s| s.platform == platform)
    }

    fn primary(&self) -> Platform {
        self.served[0].platform
    }

    /// What the emulator serves of `platform`; panics when it does not serve it.
    pub fn served(&self, platform: Platform) -> &Served {
        self.served
            .iter()
            .find(|s| s.platform == platform)
            .unwrap_or_else(|| {
                panic!(
                    "this emulator does not serve {} (it serves {:?}): start it with Emulator::serving",
                    platform.name(),
                    self.platforms()
                )
            })
    }

    /// The blocking HTTP helpers for one platform of several.
    pub fn on(&self, platform: Platform) -> On<'_> {
        On {
            emu: self,
            served: self.served(platform),
        }
    }

    fn graceful_stop(&self) -> bool {
        self.served.iter().any(|s| s.platform.facts().graceful_stop)
    }

    /// Starts the process. `ports`: each platform's port and the app gateway's, to start
    /// again where a stopped emulator listened; `None` for free ports.
    fn spawn(&mut self, ports: Option<(Vec<u16>, Option<u16>)>) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open emulator log");
        let (ports, apps_port) = ports.unwrap_or_else(|| (vec![0; self.served.len()], None));
        let mut cmd = Command::new(super::emulator_binary("platform-emulator"));
        // Every platform is named with `--serve`, so the command means the same under the
        // rule "the --serve flags alone decide what runs".
        for (served, port) in self.served.iter().zip(&ports) {
            cmd.arg("--serve")
                .arg(format!("{}=127.0.0.1:{port}", served.platform.name()));
        }
        // Comwit's other listeners on free ports (they start only when Comwit is served).
        cmd.arg("--apps-listen")
            .arg(format!("127.0.0.1:{}", apps_port.unwrap_or(0)))
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

        // Read the listening lines on a thread (which keeps draining stdout so the child
        // never blocks on a full pipe); wait here, with a timeout, until every platform
        // (and Comwit's app gateway) has its line.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(listening) = listening_line(&line) {
                    let _ = tx.send(listening);
                }
            }
        });
        let timeout = self
            .served
            .iter()
            .map(|s| s.platform.facts().start_timeout)
            .max()
            .unwrap_or(Duration::from_secs(60));
        let mut wanted: Vec<&str> = self.served.iter().map(|s| s.platform.name()).collect();
        if self.serves(Platform::Comwit) {
            wanted.push(APPS_LISTENING_NAME);
        }
        let mut urls: Vec<(String, String)> = Vec::new();
        let started = Instant::now();
        while !wanted.iter().all(|w| urls.iter().any(|(p, _)| p == w)) {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => urls.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait for emulator");
                    panic!(
                        "platform-emulator exited ({status}) before listening for {wanted:?} (got {urls:?})\n--- emulator log ---\n{}",
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
                    if started.elapsed() > timeout {
                        let _ = child.kill();
                        let _ = child.wait();
                        panic!(
                            "platform-emulator did not print the listening lines of {wanted:?} within {timeout:?} (got {urls:?})\n--- emulator log ---\n{}",
                            self.log()
                        );
                    }
                }
            }
        }
        let url_of = |name: &str| -> Option<String> {
            urls.iter()
                .find(|(p, _)| p == name)
                .map(|(_, url)| url.clone())
        };
        self.apps_url = url_of(APPS_LISTENING_NAME).filter(|_| self.serves(Platform::Comwit));
        for served in &mut self.served {
            let facts = served.platform.facts();
            served.url = url_of(facts.name).unwrap_or_default();
            served.credential = read_secret(&self.state_dir.join(facts.credential_file));
            served.admin_secret = read_secret(&self.state_dir.join(facts.admin_secret_file));
        }
        self.child = Some(child);
    }

    /// The first platform's API, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.served[0].url
    }

    /// Comwit's app gateway, `http://127.0.0.1:PORT` (an app answers there to its
    /// `default_hostname` in the `Host` header).
    pub fn apps_url(&self) -> &str {
        self.apps_url
            .as_deref()
            .expect("the app gateway is Comwit's: serve Platform::Comwit")
    }

    /// The first platform's bootstrap credential (Comwit's: the user token with all
    /// scopes, member of [`LOCAL_PROJECT`]).
    pub fn token(&self) -> &str {
        &self.served[0].credential
    }

    /// The first platform's secret for the `/_emulator/` admin routes (header
    /// `X-Emulator-Admin`).
    pub fn admin_secret(&self) -> &str {
        &self.served[0].admin_secret
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

    /// What the providers of every served platform need to use this emulator: each
    /// platform's URL and credential variables (Comwit's: `COMWIT_API_URL`, `COMWIT_TOKEN`,
    /// `COMWIT_PROJECT_ID`).
    pub fn provider_env(&self) -> Vec<(String, String)> {
        self.served
            .iter()
            .flat_map(|s| self.provider_env_of(s.platform))
            .collect()
    }

    /// [`Emulator::provider_env`] of one platform.
    pub fn provider_env_of(&self, platform: Platform) -> Vec<(String, String)> {
        let served = self.served(platform);
        let facts = platform.facts();
        let mut env = vec![
            (facts.url_env.to_owned(), served.url.clone()),
            (facts.credential_env.to_owned(), served.credential.clone()),
        ];
        env.extend(
            facts
                .extra_provider_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        env
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Stops the emulator with SIGTERM (SIGKILL after 10 s, 60 s with WaysCloud's engines)
    /// and returns whether it exited successfully. The state directory stays.
    pub fn stop(&mut self) -> bool {
        let timeout = stop_timeout(self.graceful_stop());
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
                Ok(None) if started.elapsed() < timeout => {
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
    /// same ports (every platform's API and the app gateway), so the URLs and Terraform
    /// workspaces set up for it stay valid. The admin secrets are re-read (they change on
    /// every start unless fixed by env).
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        let ports: Vec<u16> = self
            .served
            .iter()
            .map(|s| port_of(&s.url).expect("port of a platform's URL"))
            .collect();
        let apps_port = self
            .apps_url
            .as_deref()
            .map(|u| port_of(u).expect("port of the app gateway URL"));
        // The ports can be busy for a moment after the old process exits.
        let started = Instant::now();
        while ports
            .iter()
            .chain(&apps_port)
            .any(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_err())
            && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.spawn(Some((ports, apps_port)));
    }

    /// Comwit's DNS server's `ip:port` (UDP and TCP), from `GET /_emulator/dns` (a restart
    /// may move it).
    pub fn dns_addr(&self) -> String {
        self.on(Platform::Comwit).admin_get("/_emulator/dns")["server"]
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
        format!("{}{path}", self.url())
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

    /// [`On::request`] to the first platform.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        self.on(self.primary())
            .request(method, path, token, headers, body)
    }

    /// [`On::api`] to the first platform.
    pub fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.on(self.primary()).api(method, path, body)
    }

    /// [`On::api_get`] to the first platform.
    pub fn api_get(&self, path: &str) -> Value {
        self.on(self.primary()).api_get(path)
    }

    /// [`On::admin`] to the first platform.
    pub fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.on(self.primary()).admin(method, path, body)
    }

    /// [`On::admin_get`] to the first platform.
    pub fn admin_get(&self, path: &str) -> Value {
        self.on(self.primary()).admin_get(path)
    }

    /// [`On::admin_put`] to the first platform.
    pub fn admin_put(&self, path: &str, body: Value) -> Value {
        self.on(self.primary()).admin_put(path, body)
    }

    /// [`On::admin_post`] to the first platform.
    pub fn admin_post(&self, path: &str, body: Value) -> Value {
        self.on(self.primary()).admin_post(path, body)
    }

    /// [`On::admin_delete`] to the first platform.
    pub fn admin_delete(&self, path: &str, body: Value) -> Value {
        self.on(self.primary()).admin_delete(path, body)
    }
}

/// The blocking HTTP helpers for one platform of an [`Emulator`] ([`Emulator::on`]).
#[derive(Clone, Copy)]
pub struct On<'a> {
    emu: &'a Emulator,
    served: &'a Served,
}

impl On<'_> {
    /// `http://127.0.0.1:PORT` of this platform.
    pub fn url(&self) -> &str {
        &self.served.url
    }

    /// This platform's bootstrap credential.
    pub fn credential(&self) -> &str {
        &self.served.credential
    }

    /// This platform's admin secret (header `X-Emulator-Admin`).
    pub fn admin_secret(&self) -> &str {
        &self.served.admin_secret
    }

    /// Any request, blocking; `credential` goes where the platform wants it
    /// (`Authorization: Bearer`, or WaysCloud's `X-API-Key`), `headers` are added as given.
    /// Returns the status and the body (JSON; `Null` when empty; a JSON string when the
    /// body is not JSON). Panics only when the request cannot be made.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        credential: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let http = self.emu.runtime().1.clone();
        let what = format!("{method} {path}");
        let url = format!("{}{path}", self.served.url);
        let mut headers: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let token = match (credential, self.served.platform.facts().credential_header) {
            (Some(c), CredentialHeader::Bearer) => Some(c.to_owned()),
            (Some(c), CredentialHeader::Named(name)) => {
                headers.push((name.to_owned(), c.to_owned()));
                None
            }
            (None, _) => None,
        };
        let body = body.map(|b| b.to_string().into_bytes());
        self.emu.block_on(async move {
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

    /// A product API request with the bootstrap credential; see [`On::request`].
    pub fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.request(method, path, Some(&self.served.credential), &[], body)
    }

    /// `GET path` with the bootstrap credential; panics unless 2xx.
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
            &[("X-Emulator-Admin", &self.served.admin_secret)],
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
        if self.graceful_stop() {
            self.stop();
        } else {
            self.kill();
        }
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
