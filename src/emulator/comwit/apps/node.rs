//! The Node.js runtime of apps: which `node` binary, the runner script the emulator writes
//! into the state directory (`runner.mjs`), the build check (`node runner.mjs check ENTRY`,
//! its output is the build log) and worker processes (`node runner.mjs serve ENTRY`).
//!
//! Child processes never get the emulator's own settings (`COMWIT_*`, `PLATFORM_API_*`
//! variables: the admin secret, the bootstrap token), and are killed when dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use super::super::store::builds::LOG_CAP_BYTES;
use crate::emulator::core::files;

/// Env: the `node` binary to run (else `node` on `PATH`).
pub const ENV_NODE: &str = "COMWIT_EMULATOR_NODE";
/// The runner script's name in `<state-dir>/apps/`.
pub const RUNNER_FILE: &str = "runner.mjs";
/// The runner script.
const RUNNER_SOURCE: &str = include_str!("runner.mjs");
/// How long a worker may take to load and listen.
const WORKER_START_TIMEOUT: Duration = Duration::from_secs(20);
/// The line a worker prints once it listens.
const PORT_LINE: &str = "comwit-runner: port ";

/// The runtime: a `node` binary and the runner script.
#[derive(Debug, Clone)]
pub struct Node {
    pub binary: PathBuf,
    pub runner: PathBuf,
}

/// How a build check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// `None` when the entry loads and has `fetch`; else the one-line error.
    pub error: Option<String>,
    /// The runtime's output (stdout then stderr), the build folder's path left out.
    pub log: String,
}

/// A running worker: its process (killed on drop), its stdin (the worker exits when it
/// closes) and its port.
#[derive(Debug)]
pub struct Worker {
    pub child: Child,
    stdin: Option<ChildStdin>,
    pub port: u16,
    pub pid: Option<u32>,
}

impl Worker {
    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Closes its stdin, kills it and waits for it to be gone (reaped).
    pub async fn stop(mut self) {
        drop(self.stdin.take());
        if let Err(e) = self.child.kill().await {
            tracing::debug!(error = %e, "worker already gone");
        }
    }
}

impl Node {
    /// The runtime of a state directory: writes (or rewrites) `<apps_dir>/runner.mjs`.
    pub fn install(binary: PathBuf, apps_dir: &Path) -> std::io::Result<Node> {
        files::private_dir(apps_dir)?;
        let runner = apps_dir.join(RUNNER_FILE);
        let mut file = files::open_private(&runner, true)?;
        std::io::Write::write_all(&mut file, RUNNER_SOURCE.as_bytes())?;
        Ok(Node { binary, runner })
    }

    /// Writes the runner script again (after the state's folder was replaced).
    pub fn reinstall(&self) -> std::io::Result<()> {
        if let Some(dir) = self.runner.parent() {
            files::private_dir(dir)?;
        }
        let mut file = files::open_private(&self.runner, true)?;
        std::io::Write::write_all(&mut file, RUNNER_SOURCE.as_bytes())
    }

    fn command(&self, mode: &str, entry: &Path, cwd: &Path) -> Command {
        let mut cmd = Command::new(&self.binary);
        cmd.arg(&self.runner)
            .arg(mode)
            .arg(entry)
            .current_dir(cwd)
            .kill_on_drop(true);
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("COMWIT_") || name.starts_with("PLATFORM_API_") {
                cmd.env_remove(&key);
            }
        }
        cmd
    }

    fn not_runnable(&self, e: &std::io::Error) -> String {
        format!(
            "cannot run the app runtime {} ({e}); install Node.js 18 or newer, or set \
             {ENV_NODE}",
            self.binary.display()
        )
    }

    /// Loads `entry` of the build in `dir` and checks its default export has `fetch`.
    pub async fn check(&self, dir: &Path, entry: &str, timeout: Duration) -> CheckOutcome {
        let entry_path = dir.join(entry);
        if !entry_path.is_file() {
            let msg = format!("entry {entry} not found in the artifact");
            return CheckOutcome {
                log: format!("{msg}\n"),
                error: Some(msg),
            };
        }
        let mut cmd = self.command("check", &entry_path, dir);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = match cmd.spawn() {
            Ok(child) => child,
            Err(e) => {
                let msg = self.not_runnable(&e);
                return CheckOutcome {
                    log: format!("{msg}\n"),
                    error: Some(msg),
                };
            }
        };
        let output = match tokio::time::timeout(timeout, capped_output(child)).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                let msg = format!("the app runtime failed: {e}");
                return CheckOutcome {
                    log: format!("{msg}\n"),
                    error: Some(msg),
                };
            }
            // The child is dropped with the future, and killed (kill_on_drop).
            Err(_) => {
                return CheckOutcome {
                    log: format!(
                        "loading {entry} took longer than {} s\nbuild timed out\n",
                        timeout.as_secs()
                    ),
                    error: Some("build timed out".into()),
                }
            }
        };
        let mut log = String::from_utf8_lossy(&output.stdout).into_owned();
        log.push_str(&String::from_utf8_lossy(&output.stderr));
        let log = relative_paths(&log, dir);
        if output.status.success() {
            return CheckOutcome { error: None, log };
        }
        let error = summarize(&log).unwrap_or_else(|| match output.status.code() {
            Some(code) => format!("loading {entry} failed (exit status {code})"),
            None => format!("loading {entry} failed (killed by a signal)"),
        });
        CheckOutcome {
            error: Some(error),
            log,
        }
    }

    /// Starts a worker serving `entry` of the build in `dir`; its stderr (and what it prints
    /// after its port line) goes to `log_file`. Waits until it listens.
    pub async fn start_worker(
        &self,
        dir: &Path,
        entry: &str,
        log_file: &Path,
    ) -> Result<Worker, String> {
        let log =
            append_log(log_file).map_err(|e| format!("cannot open {}: {e}", log_file.display()))?;
        let mut cmd = self.command("serve", &dir.join(entry), dir);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = cmd.spawn().map_err(|e| self.not_runnable(&e))?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| "the worker has no stdout".to_owned())?;
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(WORKER_START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(port) = line.strip_prefix(PORT_LINE) {
                    return port.trim().parse::<u16>().ok();
                }
            }
            None
        })
        .await;
        let port = match port {
            Ok(Some(port)) => port,
            Ok(None) => {
                let _ = child.kill().await;
                let status = child.try_wait().ok().flatten();
                return Err(format!(
                    "the worker exited before listening ({}); see {}",
                    status.map_or_else(|| "no status".to_owned(), |s| s.to_string()),
                    log_file.display()
                ));
            }
            Err(_) => {
                let _ = child.kill().await;
                return Err(format!(
                    "the worker did not listen within {} s",
                    WORKER_START_TIMEOUT.as_secs()
                ));
            }
        };
        // What the worker prints after its port line goes to its log too (and it never
        // blocks on a full pipe).
        let mut rest = lines.into_inner();
        let sink = append_log(log_file);
        tokio::spawn(async move {
            let copied = match sink {
                Ok(file) => tokio::io::copy(&mut rest, &mut tokio::fs::File::from_std(file)).await,
                Err(_) => tokio::io::copy(&mut rest, &mut tokio::io::sink()).await,
            };
            if let Err(e) = copied {
                tracing::debug!(error = %e, "worker output ended");
            }
        });
        let pid = child.id();
        Ok(Worker {
            child,
            stdin,
            port,
            pid,
        })
    }
}

/// A log file (mode 0600) opened for appending (`O_APPEND`: the worker's stderr and its
/// stdout share it without overwriting each other).
fn append_log(path: &Path) -> std::io::Result<std::fs::File> {
    files::private_file(path)?;
    std::fs::OpenOptions::new().append(true).open(path)
}

/// What a check printed, and how it exited.
struct Output {
    status: std::process::ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Reads all of a pipe, keeping at most [`LOG_CAP_BYTES`] of it (a runtime that prints
/// without end costs no memory).
async fn read_capped(pipe: Option<impl tokio::io::AsyncRead + Unpin>) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return kept;
    };
    let mut buf = [0u8; 8192];
    while let Ok(n) = pipe.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = LOG_CAP_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
    }
    kept
}

/// Waits for `child`, reading its stdout and stderr (each capped) meanwhile.
async fn capped_output(mut child: Child) -> std::io::Result<Output> {
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (stdout, stderr, status) =
        tokio::join!(read_capped(stdout), read_capped(stderr), child.wait());
    Ok(Output {
        status: status?,
        stdout,
        stderr,
    })
}

/// The log with the build folder's path (as a path and as a `file://` URL) left out, so
/// it names files as the archive does (`index.mjs:2`).
fn relative_paths(log: &str, dir: &Path) -> String {
    let dir = dir.to_string_lossy();
    let dir = dir.trim_end_matches('/');
    log.replace(&format!("file://{dir}/"), "")
        .replace(&format!("{dir}/"), "")
}

/// A one-line error from a runtime's output: its `...Error: message` line, with the
/// `file:line` it names before it.
fn summarize(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let index = lines.iter().position(|l| {
        let head = l.split(':').next().unwrap_or("");
        l.contains(": ") && head.ends_with("Error") && !head.contains(' ')
    });
    let Some(index) = index else {
        return lines
            .iter()
            .find(|l| l.contains("no fetch function"))
            .map(|l| l.trim().to_owned());
    };
    let message = lines[index].trim();
    let location = lines[..index].iter().find_map(|l| {
        let l = l.trim();
        let (file, line) = l.rsplit_once(':')?;
        (!file.is_empty() && !file.contains(' ') && line.parse::<u32>().is_ok()).then_some(l)
    });
    let mut out = match location {
        Some(at) => format!("{message} ({at})"),
        None => message.to_owned(),
    };
    if out.len() > 300 {
        let mut end = 300;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Result<(tempfile::TempDir, Node), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let binary =
            std::env::var_os(ENV_NODE).map_or_else(|| PathBuf::from("node"), PathBuf::from);
        let node = Node::install(binary, &dir.path().join("apps"))?;
        Ok((dir, node))
    }

    #[tokio::test]
    async fn a_slow_entry_times_out_and_is_killed() -> Result<(), Box<dyn std::error::Error>> {
        let (dir, node) = node()?;
        let build = dir.path().join("build");
        std::fs::create_dir_all(&build)?;
        std::fs::write(
            build.join("index.mjs"),
            "await new Promise((r) => setTimeout(r, 30000));\nexport default { fetch() {} };\n",
        )?;
        let started = std::time::Instant::now();
        let outcome = node
            .check(&build, "index.mjs", Duration::from_secs(1))
            .await;
        assert_eq!(outcome.error.as_deref(), Some("build timed out"));
        assert!(outcome.log.contains("build timed out"), "{}", outcome.log);
        assert!(started.elapsed() < Duration::from_secs(10));
        Ok(())
    }

    #[tokio::test]
    async fn a_good_entry_passes_and_a_worker_serves() -> Result<(), Box<dyn std::error::Error>> {
        let (dir, node) = node()?;
        let build = dir.path().join("build");
        std::fs::create_dir_all(&build)?;
        std::fs::write(
            build.join("index.mjs"),
            "export default { fetch(req, env) { return new Response(`${env.A}:${new URL(req.url).host}:${String(process.env.COMWIT_SECRET_FOR_TEST)}`); } };\n",
        )?;
        let outcome = node
            .check(&build, "index.mjs", Duration::from_secs(30))
            .await;
        assert_eq!(outcome.error, None, "{}", outcome.log);
        assert!(
            outcome.log.contains("has a fetch function"),
            "{}",
            outcome.log
        );
        let worker = node
            .start_worker(&build, "index.mjs", &dir.path().join("worker.log"))
            .await?;
        let pid = worker.pid.ok_or("pid")?;
        let env = br#"{"A":"x"}"#;
        let mut body = env.to_vec();
        body.extend_from_slice(b"ignored");
        let resp = reqwest::Client::builder()
            .no_proxy()
            .build()?
            .post(format!("http://127.0.0.1:{}/p", worker.port))
            .header("x-comwit-emulator-url", "http://web.apps.localhost:1/p")
            .header("x-comwit-emulator-env-bytes", env.len().to_string())
            .body(body)
            .send()
            .await?;
        assert_eq!(resp.text().await?, "x:web.apps.localhost:1:undefined");
        worker.stop().await;
        assert!(!Path::new(&format!("/proc/{pid}")).exists());
        Ok(())
    }

    #[test]
    fn summaries_name_the_error_and_the_place() {
        let log = "index.mjs:2\nexport default { fetch( {\n\n\nSyntaxError: Unexpected end \
                   of input\n    at compileSourceTextModule (node:internal/x:346:16)\n";
        assert_eq!(
            summarize(log).as_deref(),
            Some("SyntaxError: Unexpected end of input (index.mjs:2)")
        );
        let log = "index.mjs:1\nthrow new Error(\"boom\")\n      ^\n\nError: boom\n    at index.mjs:1:7\n";
        assert_eq!(summarize(log).as_deref(), Some("Error: boom (index.mjs:1)"));
        assert_eq!(summarize("nothing useful"), None);
        let dir = Path::new("/s/apps/a/builds/b");
        assert_eq!(
            relative_paths(
                "file:///s/apps/a/builds/b/index.mjs:2 /s/apps/a/builds/b/x",
                dir
            ),
            "index.mjs:2 x"
        );
    }
}
