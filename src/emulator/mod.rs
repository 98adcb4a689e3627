//! Local Comwit platform emulator.
//!
//! Serves the Comwit product API of `docs/api/comwit.md` over HTTP, and SQL (libSQL's Hrana
//! over HTTP) on each database's `database_url` (`sql`), with its state in SQLite under a
//! state directory so that it survives a restart:
//!
//! - `<state-dir>/emulator.sqlite`: projects, user tokens (hashes), databases, query tokens
//!   (hashes), idempotency keys.
//! - `<state-dir>/databases/<database_id>.db`: one real SQLite file per database.
//! - `<state-dir>/bootstrap-token`: the raw bootstrap user token (written on first start).
//! - `<state-dir>/admin-secret`: the secret for the `/_emulator/` admin routes (every start).
//!
//! The binary `comwit-emulator` parses its arguments and calls [`run`]. Tests and tools
//! that want an emulator inside their own runtime use [`Emulator::start`].

mod admin;
mod api;
mod error;
pub mod faults;
mod server;
mod sql;
pub mod store;
pub mod validate;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use error::ApiError;
pub use faults::{FaultKind, FaultRule, FaultRules};
pub use store::{SqlAuthError, Store, StoreError, TokenKind};

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// Default state directory.
pub const DEFAULT_STATE_DIR: &str = "./.emulator";
/// Default protected tenants when `PLATFORM_API_PROTECTED_TENANTS` is unset. [documented]
pub const DEFAULT_PROTECTED_TENANTS: &str = "louhi-app,comwit-db-synthetic";
/// The runner every emulated database reports.
pub const RUNNER: &str = "louhi-local-1";

/// Env: protected tenants (comma separated).
pub const ENV_PROTECTED_TENANTS: &str = "PLATFORM_API_PROTECTED_TENANTS";
/// Env: raw bootstrap user token (`cwt_[0-9a-f]{16,}`), used on first start only.
pub const ENV_BOOTSTRAP_TOKEN: &str = "COMWIT_EMULATOR_BOOTSTRAP_TOKEN";
/// Env: admin secret for the `/_emulator/` routes.
pub const ENV_ADMIN_SECRET: &str = "COMWIT_EMULATOR_ADMIN_SECRET";
/// Env: initial fault rules, JSON `{"rules": [...]}`.
pub const ENV_FAULTS: &str = "COMWIT_EMULATOR_FAULTS";
/// Env: tracing filter for the emulator's logs (stderr); default `info`.
pub const ENV_LOG: &str = "COMWIT_EMULATOR_LOG";

/// Everything the emulator needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8787` (port 0 picks a free port).
    pub listen: String,
    /// State directory.
    pub state_dir: PathBuf,
    /// Database names or ids guarded by the protected-tenant rule.
    pub protected_tenants: Vec<String>,
    /// Raw bootstrap token to use on first start (random when `None`).
    pub bootstrap_token: Option<String>,
    /// Admin secret (random when `None`).
    pub admin_secret: Option<String>,
    /// Initial fault rules.
    pub faults: Vec<FaultRule>,
}

impl Config {
    /// A configuration with the defaults, ignoring the environment.
    pub fn new(listen: impl Into<String>, state_dir: impl Into<PathBuf>) -> Config {
        Config {
            listen: listen.into(),
            state_dir: state_dir.into(),
            protected_tenants: parse_tenants(DEFAULT_PROTECTED_TENANTS),
            bootstrap_token: None,
            admin_secret: None,
            faults: Vec::new(),
        }
    }

    /// A configuration with the defaults overridden by the `PLATFORM_API_PROTECTED_TENANTS`,
    /// `COMWIT_EMULATOR_BOOTSTRAP_TOKEN`, `COMWIT_EMULATOR_ADMIN_SECRET` and
    /// `COMWIT_EMULATOR_FAULTS` environment variables.
    pub fn from_env(
        listen: impl Into<String>,
        state_dir: impl Into<PathBuf>,
    ) -> anyhow::Result<Config> {
        let mut config = Config::new(listen, state_dir);
        if let Ok(tenants) = std::env::var(ENV_PROTECTED_TENANTS) {
            config.protected_tenants = parse_tenants(&tenants);
        }
        let non_empty = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
        config.bootstrap_token = non_empty(ENV_BOOTSTRAP_TOKEN);
        config.admin_secret = non_empty(ENV_ADMIN_SECRET);
        if let Some(faults) = non_empty(ENV_FAULTS) {
            let rules: FaultRules =
                serde_json::from_str(&faults).with_context(|| format!("parsing {ENV_FAULTS}"))?;
            config.faults = rules.rules;
        }
        Ok(config)
    }
}

fn parse_tenants(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<Store>,
    pub protected_tenants: Arc<Vec<String>>,
    /// `http://host:port` of this emulator (for `database_url`).
    pub public_base: Arc<str>,
    pub admin_secret: Arc<str>,
    pub faults: Arc<faults::Faults>,
    pub stats: Arc<server::Stats>,
    /// The SQL data plane (`/db/{database}/...`).
    pub sql: Arc<sql::SqlServer>,
}

/// A running emulator.
pub struct Emulator {
    addr: SocketAddr,
    base_url: String,
    admin_secret: String,
    bootstrap_token: Option<String>,
    store: Arc<Store>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    sql: Arc<sql::SqlServer>,
    sql_maintenance: JoinHandle<()>,
}

/// Writes a secret file with mode 0600 (also when it already existed).
fn write_secret(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// The address clients should use: an unspecified bind address becomes loopback.
fn public_addr(bound: SocketAddr) -> SocketAddr {
    match bound.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), bound.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), bound.port())
        }
        _ => bound,
    }
}

impl Emulator {
    /// Opens the state directory, bootstraps it on first start, binds the listener and
    /// starts serving in the background.
    pub async fn start(config: Config) -> anyhow::Result<Emulator> {
        let state_dir = config.state_dir.clone();
        std::fs::create_dir_all(&state_dir)
            .with_context(|| format!("creating state dir {}", state_dir.display()))?;

        let admin_secret = match config.admin_secret {
            Some(secret) => {
                if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_graphic()) {
                    anyhow::bail!("{ENV_ADMIN_SECRET} must be non-empty visible ASCII");
                }
                secret
            }
            None => store::random_hex(16),
        };
        if let Some(token) = &config.bootstrap_token {
            if !validate::is_user_token(token) {
                anyhow::bail!("{ENV_BOOTSTRAP_TOKEN} must match cwt_[0-9a-f]{{16,}}");
            }
        }
        let rules = faults::Faults::default();
        rules
            .replace(config.faults.clone())
            .map_err(|(field, msg)| anyhow::anyhow!("fault rule {field}: {msg}"))?;

        let dir = state_dir.clone();
        let bootstrap_env = config.bootstrap_token.clone();
        let (store, bootstrap_token) =
            tokio::task::spawn_blocking(move || -> anyhow::Result<(Store, Option<String>)> {
                let store = Store::open(&dir)
                    .with_context(|| format!("opening state in {}", dir.display()))?;
                let token = store.bootstrap(bootstrap_env.as_deref())?;
                if let Some(token) = &token {
                    write_secret(&dir.join("bootstrap-token"), token)
                        .context("writing bootstrap-token")?;
                }
                Ok((store, token))
            })
            .await??;
        write_secret(&state_dir.join("admin-secret"), &admin_secret)
            .context("writing admin-secret")?;

        let listener = TcpListener::bind(config.listen.as_str())
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        let addr = public_addr(listener.local_addr()?);
        let base_url = format!("http://{addr}");

        let store = Arc::new(store);
        let state = AppState {
            store: store.clone(),
            protected_tenants: Arc::new(config.protected_tenants.clone()),
            public_base: Arc::from(base_url.as_str()),
            admin_secret: Arc::from(admin_secret.as_str()),
            faults: Arc::new(rules),
            stats: Arc::new(server::Stats::default()),
            sql: sql::SqlServer::new(store.clone()),
        };
        let router = api::routes()
            .merge(admin::routes())
            .merge(sql::routes())
            .fallback(api::not_found_fallback)
            .method_not_allowed_fallback(api::method_not_allowed_fallback)
            .with_state(state.clone());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let sql = state.sql.clone();
        let sql_maintenance = tokio::spawn(sql.clone().run_maintenance(shutdown_rx.clone()));
        let task = tokio::spawn(server::serve(listener, router, state, shutdown_rx));
        tracing::info!(
            %base_url,
            state_dir = %state_dir.display(),
            protected_tenants = ?config.protected_tenants,
            bootstrapped = bootstrap_token.is_some(),
            "emulator started"
        );
        Ok(Emulator {
            addr,
            base_url,
            admin_secret,
            bootstrap_token,
            store,
            shutdown,
            task,
            sql,
            sql_maintenance,
        })
    }

    /// The address the emulator listens on (loopback when bound to an unspecified address).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The admin secret for the `X-Emulator-Admin` header.
    pub fn admin_secret(&self) -> &str {
        &self.admin_secret
    }

    /// The raw bootstrap token, when this start bootstrapped the state directory.
    pub fn bootstrap_token(&self) -> Option<&str> {
        self.bootstrap_token.as_deref()
    }

    /// The state store (for in-process data-plane work and inspection).
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Stops accepting, lets open requests finish (up to 5 seconds) and returns.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "server task failed");
        }
        if let Err(e) = self.sql_maintenance.await {
            tracing::warn!(error = %e, "SQL maintenance task failed");
        }
        // Closes the SQL connections once the open requests are done.
        self.sql.shutdown().await;
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env(ENV_LOG)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {},
                    _ = term.recv() => {},
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs the emulator until SIGINT or SIGTERM: builds its own tokio runtime, logs to stderr,
/// and prints exactly one line to stdout once listening:
/// `comwit-emulator listening on http://127.0.0.1:PORT`.
pub fn run(config: Config) -> anyhow::Result<()> {
    init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    runtime.block_on(async move {
        let emulator = Emulator::start(config).await?;
        {
            let mut stdout = std::io::stdout().lock();
            writeln!(
                stdout,
                "comwit-emulator listening on {}",
                emulator.base_url()
            )?;
            stdout.flush()?;
        }
        wait_for_signal().await;
        tracing::info!("shutting down");
        emulator.shutdown().await;
        Ok::<(), anyhow::Error>(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}
