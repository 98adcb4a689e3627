//! The official libSQL clients, run as the user's program would:
//!
//! - `@libsql/client` (npm, installed by `scripts/setup.sh` into
//!   `tests/sql_client/node_modules`) through `node tests/sql_client/client.mjs`:
//!   `node(&[url, token, sql...])` (or with `--batch` / `--transaction` first);
//! - the Python clients `libsql-client` and `libsql` (installed by `scripts/setup.sh` into
//!   `.venv`) through `.venv/bin/python tests/sql_client/client.py`:
//!   `python(PyClient::LibsqlClient, &[url, token, sql...])`.
//!
//! Each returns what the client printed; a missing installation fails the test with the
//! command to run.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql_client")
}

/// What `node client.mjs` or `python client.py` printed.
pub struct NodeRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl NodeRun {
    pub fn results(&self) -> Value {
        assert!(self.ok, "the client failed: {}", self.stderr);
        let parsed: Value = serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("the client's output {:?}: {e}", self.stdout));
        parsed["results"].clone()
    }

    pub fn refused(&self, what: &str) {
        assert!(!self.ok, "expected a refusal, got {}", self.stdout);
        assert!(
            self.stderr.contains(what),
            "{what:?} not in the client's error: {}",
            self.stderr
        );
    }
}

/// A Python libSQL client of `client.py`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PyClient {
    /// PyPI `libsql-client` 0.3: Hrana over HTTP v1, and over WebSocket (`hrana2`).
    LibsqlClient,
    /// PyPI `libsql` 0.1: the Rust `libsql` crate's remote client (Hrana over HTTP v3).
    Libsql,
}

impl PyClient {
    pub const ALL: [PyClient; 2] = [PyClient::LibsqlClient, PyClient::Libsql];

    pub fn name(self) -> &'static str {
        match self {
            PyClient::LibsqlClient => "libsql-client",
            PyClient::Libsql => "libsql",
        }
    }
}

/// Runs `client.py --client <client> args...` with the project's `.venv` Python (or
/// `$PYTHON`).
pub fn python(client: PyClient, args: &[&str]) -> NodeRun {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = std::env::var_os("PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    let out = super::outside_tool(&bin)
        .arg("client.py")
        .args(["--client", client.name()])
        .args(args)
        .current_dir(client_dir())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "running {} (the project's venv; run `scripts/setup.sh`, or set PYTHON): {e}",
                bin.display()
            )
        });
    let run = NodeRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    // client.py exits 3 when the client is not installed.
    assert!(
        out.status.code() != Some(3),
        "{}: run `scripts/setup.sh` (it installs the Python clients into .venv)",
        run.stderr.trim()
    );
    run
}

pub fn node(args: &[&str]) -> NodeRun {
    let dir = client_dir();
    let installed = dir.join("node_modules/@libsql/client/package.json");
    assert!(
        installed.is_file(),
        "the official libSQL client is not installed in {}: run `scripts/setup.sh` (it runs \
         `npm ci` there)",
        dir.display()
    );
    let bin = std::env::var("NODE").unwrap_or_else(|_| "node".to_owned());
    let out = super::outside_tool(&bin)
        .arg("client.mjs")
        .args(args)
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("running {bin} (Node.js 18+ is needed; set NODE): {e}"));
    NodeRun {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
