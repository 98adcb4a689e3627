//! [`Emulator`]: the real `comwit-emulator` binary on `127.0.0.1:<free port>` with a
//! temporary state directory, killed on drop.
//!
//! Its HTTP helpers are blocking: requests run on a small Tokio runtime owned by the
//! `Emulator` and the caller waits for them, so they work from plain `#[test]` functions
//! (the usual case, next to the blocking [`super::Terraform`]) and also from
//! `#[tokio::test(flavor = "multi_thread")]` ones.

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;
use tempfile::TempDir;

use super::terraform::keep_test_dirs;

/// The project every bootstrap token belongs to.
pub const LOCAL_PROJECT: &str = "prj_local";

const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Variables of the emulator that are never inherited from the test's environment.
const EMULATOR_ENV: [&str; 5] = [
    "PLATFORM_API_PROTECTED_TENANTS",
    "COMWIT_EMULATOR_BOOTSTRAP_TOKEN",
    "COMWIT_EMULATOR_ADMIN_SECRET",
    "COMWIT_EMULATOR_FAULTS",
    "COMWIT_EMULATOR_LOG",
];

/// A running `comwit-emulator`.
pub struct Emulator {
    child: Option<Child>,
    tmp: Option<TempDir>,
    state_dir: PathBuf,
    log_path: PathBuf,
    envs: Vec<(String, String)>,
    url: String,
    token: String,
    admin_secret: String,
    rt: Option<tokio::runtime::Runtime>,
    http: reqwest::Client,
}

impl Emulator {
    /// Starts an emulator with a fresh state directory.
    pub fn start() -> Emulator {
        Emulator::start_with_env(&[])
    }

    /// Starts an emulator with extra environment variables, e.g.
    /// `("COMWIT_EMULATOR_FAULTS", r#"{"rules": [...]}"#)` or `("COMWIT_EMULATOR_LOG", "debug")`.
    pub fn start_with_env(envs: &[(&str, &str)]) -> Emulator {
        let tmp = tempfile::Builder::new()
            .prefix("comwit-emu-")
            .tempdir()
            .expect("create temporary emulator directory");
        let state_dir = tmp.path().join("state");
        std::fs::create_dir(&state_dir).expect("create state directory");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("emulator-test-http")
            .enable_all()
            .build()
            .expect("tokio runtime");
        let http = {
            let _guard = rt.enter();
            reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("HTTP client")
        };
        let mut emulator = Emulator {
            child: None,
            log_path: tmp.path().join("emulator.log"),
            tmp: Some(tmp),
            state_dir,
            envs: envs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            url: String::new(),
            token: String::new(),
            admin_secret: String::new(),
            rt: Some(rt),
            http,
        };
        emulator.spawn("127.0.0.1:0");
        emulator
    }

    fn spawn(&mut self, listen: &str) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open emulator log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_comwit-emulator"));
        cmd.arg("--listen")
            .arg(listen)
            .arg("--state-dir")
            .arg(&self.state_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        for var in EMULATOR_ENV {
            cmd.env_remove(var);
        }
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start comwit-emulator");
        let stdout = child.stdout.take().expect("emulator stdout");

        // Read the listening line on a thread (then keep draining stdout so the child never
        // blocks on a full pipe); wait for it here with a timeout.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = tx.send(first.and_then(Result::ok));
            for _ in lines.by_ref() {}
        });
        let started = Instant::now();
        let line = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Some(line)) => break line,
                Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().expect("wait for emulator");
                    panic!(
                        "comwit-emulator exited ({status}) before listening\n--- emulator log ---\n{}",
                        self.log()
                    );
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = child.try_wait().expect("poll emulator") {
                        panic!(
                            "comwit-emulator exited ({status}) before listening\n--- emulator log ---\n{}",
                            self.log()
                        );
                    }
                    if started.elapsed() > START_TIMEOUT {
                        let _ = child.kill();
                        let _ = child.wait();
                        panic!(
                            "comwit-emulator did not print its listening line within {START_TIMEOUT:?}\n--- emulator log ---\n{}",
                            self.log()
                        );
                    }
                }
            }
        };
        let url = match comwit::emulator::Listening::parse(&line) {
            Some(l) if l.platform == "comwit" => l.url,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("unexpected first line from comwit-emulator: {line:?}");
            }
        };
        self.child = Some(child);
        self.url = url;
        self.token = read_secret(&self.state_dir.join("bootstrap-token"));
        self.admin_secret = read_secret(&self.state_dir.join("admin-secret"));
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
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
    /// same port, so [`Emulator::url`] and Terraform workspaces set up for it stay valid.
    /// The admin secret is re-read (it changes on every start unless fixed by env).
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        let port = self
            .url
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse::<u16>().ok())
            .expect("port of the emulator URL");
        // The port can be busy for a moment after the old process exits.
        let started = Instant::now();
        while std::net::TcpListener::bind(("127.0.0.1", port)).is_err()
            && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.spawn(&format!("127.0.0.1:{port}"));
    }

    fn block_on<T: Send + 'static>(&self, fut: impl Future<Output = T> + Send + 'static) -> T {
        let handle = self.rt.as_ref().expect("runtime").spawn(fut);
        futures::executor::block_on(handle).expect("HTTP task panicked")
    }

    /// Any request; `token` becomes `Authorization: Bearer`, `headers` are added as given.
    /// Returns the status and the body (JSON; `Null` when empty; a JSON string when the
    /// body is not JSON). Panics only when the request cannot be made.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.url));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let what = format!("{method} {path}");
        self.block_on(async move {
            let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
            let status = resp.status().as_u16();
            let text = resp
                .text()
                .await
                .unwrap_or_else(|e| panic!("{what}: reading body: {e}"));
            let body = if text.trim().is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or(Value::String(text))
            };
            (status, body)
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
        if let Some(rt) = self.rt.take() {
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
