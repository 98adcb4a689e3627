//! The Comwit platform: its public API (`/v1/...`), its admin routes (projects, tokens,
//! databases), its error shape, its store, and the SQL data plane (Hrana over HTTP on each
//! database's URL). It uses the core (`super::core`) and nothing of another platform.

mod admin;
mod api;
mod error;
pub(crate) mod sql;
pub mod store;
pub mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::core::faults::{FaultRule, FaultRules, Faults};
use super::core::secrets::{random_hex, write_secret};
use super::core::server::{self, CoreState, Stats};
use super::core::{CoreError, Platform, PlatformSpec};

pub use error::ApiError;
pub use store::{SqlAuthError, Store, StoreError, TokenKind};

/// Comwit's name and default address.
pub const SPEC: PlatformSpec = PlatformSpec {
    name: "comwit",
    default_listen: "127.0.0.1:8787",
};

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

/// Everything the Comwit emulator needs to start.
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

/// Shared state of Comwit's HTTP handlers.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<Store>,
    pub protected_tenants: Arc<Vec<String>>,
    /// `http://host:port` of this emulator (for `database_url`).
    pub public_base: Arc<str>,
    /// The SQL data plane (`/db/{database}/...`).
    pub sql: Arc<sql::SqlServer>,
}

/// The Comwit [`Platform`]: routes with their state, and the contract's error shape.
pub(crate) struct Comwit {
    state: AppState,
}

impl Platform for Comwit {
    fn spec(&self) -> PlatformSpec {
        SPEC
    }

    fn public_routes(&self) -> Router {
        api::routes()
            .merge(sql::routes())
            .with_state(self.state.clone())
    }

    fn admin_routes(&self) -> Router {
        admin::routes().with_state(self.state.clone())
    }

    fn error_response(&self, error: CoreError) -> Response {
        ApiError::from(error).into_response()
    }

    /// Empty segments are ignored under `/db/` (a client appending `/v2/pipeline` to the
    /// database URL sends `…/<id>//v2/pipeline`), and so is a final `/`.
    fn normalize_path(&self, path: &str) -> Option<String> {
        sql::normalize_path(path)
    }
}

/// A running Comwit emulator.
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

impl Emulator {
    /// Opens the state directory (migrating it), bootstraps it on first start, binds the
    /// listener and starts serving in the background.
    pub async fn start(config: Config) -> anyhow::Result<Emulator> {
        let state_dir = config.state_dir.clone();
        super::core::files::private_dir(&state_dir)
            .with_context(|| format!("creating state dir {}", state_dir.display()))?;

        let admin_secret = match config.admin_secret {
            Some(secret) => {
                if secret.is_empty() || !secret.bytes().all(|b| b.is_ascii_graphic()) {
                    anyhow::bail!("{ENV_ADMIN_SECRET} must be non-empty visible ASCII");
                }
                secret
            }
            None => random_hex(16),
        };
        if let Some(token) = &config.bootstrap_token {
            if !validate::is_user_token(token) {
                anyhow::bail!("{ENV_BOOTSTRAP_TOKEN} must match cwt_[0-9a-f]{{16,}}");
            }
        }
        let rules = Faults::default();
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

        let bound = server::bind(&config.listen).await?;
        let (addr, base_url) = (bound.addr, bound.base_url.clone());

        let store = Arc::new(store);
        let state = AppState {
            store: store.clone(),
            protected_tenants: Arc::new(config.protected_tenants.clone()),
            public_base: Arc::from(base_url.as_str()),
            sql: sql::SqlServer::new(store.clone()),
        };
        let core = CoreState {
            platform: Arc::new(Comwit {
                state: state.clone(),
            }),
            admin_secret: Arc::from(admin_secret.as_str()),
            faults: Arc::new(rules),
            stats: Arc::new(Stats::default()),
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let sql = state.sql.clone();
        let sql_maintenance = tokio::spawn(sql.clone().run_maintenance(shutdown_rx.clone()));
        let task = tokio::spawn(server::serve(bound.listener, core, shutdown_rx));
        tracing::info!(
            platform = SPEC.name,
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
