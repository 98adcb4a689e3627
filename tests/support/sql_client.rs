//! The official libSQL client (`@libsql/client`, installed by `scripts/setup.sh` into
//! `tests/sql_client/node_modules`) run through `node tests/sql_client/client.mjs`.
//!
//! `node(&[url, token, sql...])` (or with `--batch` / `--transaction` first) returns what the
//! client printed; a missing installation fails the test with the command to run.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub fn client_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql_client")
}

/// What `node client.mjs` printed.
pub struct NodeRun {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

impl NodeRun {
    pub fn results(&self) -> Value {
        assert!(self.ok, "node client failed: {}", self.stderr);
        let parsed: Value = serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("node client output {:?}: {e}", self.stdout));
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
