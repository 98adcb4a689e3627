//! The one test harness, shared by every test binary (`tests/e2e`, `tests/emulator`,
//! `tests/protocol`: `#[path = "../support/mod.rs"] mod support;`) and by the benchmarks
//! (`#[path = "../tests/support/mod.rs"] mod support;`).
//!
//! - [`Terraform`]: the real Terraform CLI (`$TERRAFORM_BIN`, else `.tools/bin/terraform`
//!   from `scripts/setup.sh`; a missing CLI fails the test, it never skips) in a temporary
//!   workspace with `dev_overrides`, so no `terraform init` is needed. It never passes on
//!   the caller's variables named in [`ISOLATED_ENV_PREFIXES`].
//! - [`Emulator`]: the real `platform-emulator` binary serving any set of platforms
//!   ([`Emulator::serving`]), each on a free loopback port, with a temporary state
//!   directory; it is the one reader of the listening lines. [`Platform`] holds each
//!   platform's facts as data (emulator name, state files, credential header, provider
//!   source, binary and environment); [`wayscloud::WaysCloud`] and
//!   [`cloudsync::CloudSync`] are an `Emulator` serving that platform plus its own helpers.
//! - [`Terraform::on`]: one workspace with the provider of every platform an emulator
//!   serves (one configuration may use several).
//! - [`checks`]: the standard checks every resource type passes (apply, empty second plan,
//!   import, out-of-band deletion, destroy), written once.
//! - [`plugin_client`]: starts a provider binary the way Terraform does and talks gRPC to
//!   it (protocol tests); the go-plugin cookie is the library's
//!   ([`platforms::plugin::handshake`]).
//!
//! Terraform and the emulator's helpers are blocking (plain `#[test]` functions): Terraform
//! commands are processes, and the emulator's HTTP helpers run on a runtime of their own
//! (so they also work inside `#[tokio::test(flavor = "multi_thread")]`). Async tests start
//! an emulator with [`EmulatorBuilder::start_async`] and send requests with
//! [`emulator::send`].
//!
//! ```ignore
//! #[path = "../support/mod.rs"]
//! mod support;
//! use support::{Emulator, Terraform, COMWIT_TERRAFORM_BLOCK};
//!
//! #[test]
//! fn creates_a_database() {
//!     let emu = Emulator::start();
//!     let tf = Terraform::comwit(&emu);
//!     tf.write_main(&format!("{COMWIT_TERRAFORM_BLOCK}\nresource \"comwit_database\" \"main\" {{ name = \"app\" }}"));
//!     tf.apply();
//!     let db = tf.state_resource(&tf.show_json(), "comwit_database.main");
//!     assert_eq!(db["name"], "app");
//!     assert_eq!(tf.plan_detailed_exitcode(), 0);
//!     let listed = emu.admin_get("/_emulator/databases");
//! }
//! ```
//!
//! Set `COMWIT_KEEP_TEST_DIRS=1` to keep the temporary directories of failing tests.
#![allow(dead_code, unused_imports)]

pub mod canned_http;
pub mod checks;
pub mod cloudsync;
pub mod dns;
pub mod emulator;
pub mod platform;
pub mod plugin_client;
pub mod sql_client;
pub mod terraform;
pub mod wayscloud;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub use emulator::{Emulator, EmulatorBuilder, On, LOCAL_PROJECT};
pub use platform::Platform;
pub use terraform::{
    oldest_terraform_bin, state_resource, terraform_bin, Output, Terraform, TerraformBuilder,
};

/// Environment variables that no process the harness starts (Terraform, and through it the
/// providers; the emulator) inherits from the caller: every provider's credentials and
/// settings and Terraform's own. A test sets what it needs explicitly
/// ([`TerraformBuilder::env`], [`EmulatorBuilder::env`]), so a developer's real
/// `WAYSCLOUD_API_KEY` or `TF_VAR_*` never reaches a test run.
pub const ISOLATED_ENV_PREFIXES: &[&str] = &[
    "TF_",
    "COMWIT_",
    "WAYSCLOUD_",
    "CLOUDSYNC_",
    "PLATFORM_API_",
];

/// Whether `name` is one of the [`ISOLATED_ENV_PREFIXES`] variables.
pub fn is_isolated_env(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    ISOLATED_ENV_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The names of this process's [`ISOLATED_ENV_PREFIXES`] variables, to remove from a child.
pub fn isolated_env_vars() -> Vec<std::ffi::OsString> {
    std::env::vars_os()
        .map(|(key, _)| key)
        .filter(|key| is_isolated_env(key))
        .collect()
}

/// Removes every [`ISOLATED_ENV_PREFIXES`] variable of this process's environment from
/// `cmd` (variables set on `cmd` afterwards are kept).
pub fn clear_isolated_env(cmd: &mut std::process::Command) {
    for key in isolated_env_vars() {
        cmd.env_remove(key);
    }
}

/// Source address of the test-only provider.
pub const TESTING_SOURCE: &str = "comwit/testing";

/// A `terraform` block requiring our provider (needed so that `comwit_*` resources resolve
/// to `comwit/comwit`, which the `dev_overrides` serve).
pub const COMWIT_TERRAFORM_BLOCK: &str = r#"terraform {
  required_providers {
    comwit = {
      source = "comwit/comwit"
    }
  }
}
"#;

/// A `terraform` block requiring the test-only provider.
pub const TESTING_TERRAFORM_BLOCK: &str = r#"terraform {
  required_providers {
    testing = {
      source = "comwit/testing"
    }
  }
}
"#;

/// The cargo-built test-only provider `terraform-provider-testing` (a `[[bin]]` of
/// `tests/provider/testing.rs`, so cargo builds it before integration tests).
pub fn testing_provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-testing"))
}

/// `target/<profile>/` of this test run, derived from the test executable
/// (`target/<profile>/deps/<test>-<hash>`).
pub fn target_profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current test executable");
    let deps = exe.parent().expect("deps directory");
    let dir = if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("profile directory")
    } else {
        deps
    };
    dir.to_owned()
}

/// A cargo example binary of this test run's profile (`target/<profile>/examples/<name>`).
/// Cargo does not build examples for `cargo test --test X`; panics saying so when missing.
pub fn example_binary(name: &str) -> PathBuf {
    let path = target_profile_dir().join("examples").join(name);
    assert!(
        path.is_file(),
        "example binary {} is missing: build it with `cargo build --example {name}` \
         (or run `cargo test --all-targets`)",
        path.display()
    );
    path
}

/// A binary of the emulator's package (`src/emulator`): `platform-emulator`, or its old name
/// `comwit-emulator`, in this test run's `target/<profile>/`. The emulator is a crate of its
/// own that the tests do not depend on (an emulator edit rebuilds no test binary, a provider
/// edit never relinks the emulator), so `env!("CARGO_BIN_EXE_...")` cannot name it: cargo
/// builds it for a plain `cargo test` (every package of the workspace), not for
/// `cargo test --test e2e` alone. A missing binary, or one older than a source file of the
/// emulator, fails the test with the command that builds it.
pub fn emulator_binary(name: &str) -> PathBuf {
    let path = target_profile_dir().join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let build = "build it with `cargo build -p platform-emulator` (a plain `cargo test` or \
                 `scripts/test.sh` builds it; `cargo test --test X` alone does not)";
    let Ok(built) = std::fs::metadata(&path).and_then(|m| m.modified()) else {
        panic!("the emulator binary {} is missing: {build}", path.display());
    };
    if let Some((_, newer)) = newest_emulator_source().filter(|(at, _)| *at > built) {
        panic!(
            "the emulator binary {} is older than {}: {build}",
            path.display(),
            newer.display()
        );
    }
    path
}

/// The most recently modified file of the emulator's sources (`src/emulator/`,
/// `src/contract/`, `src/bin/platform-emulator.rs`), read once per process. The emulator
/// crate's own tests (`src/emulator/tests/`) are not part of its binaries: an edit there
/// relinks nothing.
fn newest_emulator_source() -> Option<(std::time::SystemTime, PathBuf)> {
    fn walk(path: &Path, newest: &mut Option<(std::time::SystemTime, PathBuf)>) {
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        if meta.is_dir() {
            if path.ends_with("emulator/tests") {
                return;
            }
            for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
                walk(&entry.path(), newest);
            }
        } else if let Ok(at) = meta.modified() {
            if newest.as_ref().is_none_or(|(t, _)| at > *t) {
                *newest = Some((at, path.to_owned()));
            }
        }
    }
    static NEWEST: std::sync::OnceLock<Option<(std::time::SystemTime, PathBuf)>> =
        std::sync::OnceLock::new();
    NEWEST
        .get_or_init(|| {
            let src = crate_dir().join("src");
            let mut newest = None;
            for part in ["emulator", "contract", "bin/platform-emulator.rs"] {
                walk(&src.join(part), &mut newest);
            }
            newest
        })
        .clone()
}

/// The crate root (`CARGO_MANIFEST_DIR`).
pub fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A command for a tool outside the project (`dig`, `psql`, `mysql`, Node.js clients), run
/// on the real clock. The year-ahead check (`scripts/test.sh`) runs the test binaries under
/// libfaketime, which is preloaded into every child; only the project's own code needs the
/// moved clock, and some tools hang under it (`dig`).
pub fn outside_tool(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for var in ["LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC"] {
        cmd.env_remove(var);
    }
    cmd
}
