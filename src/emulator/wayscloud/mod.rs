//! The WaysCloud platform: the databases API (`docs/api/wayscloud.md`) on real PostgreSQL
//! and MariaDB servers that this part initialises in its state directory, starts and stops
//! (`super::core::engines`). It uses the core and nothing of another platform.
//!
//! State directory: `<state-dir>/wayscloud/` with `wayscloud.sqlite`, `postgres/`,
//! `mariadb/`, `snapshots/`, `bootstrap-api-key` and `admin-secret`.

mod admin;
mod api;
pub mod engine;
mod error;
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
use super::core::hosts::AllowedHosts;
use super::core::secrets::{random_hex, write_secret};
use super::core::server::{self, CoreState, Stats};
use super::core::{clock, CoreError, Platform, PlatformSpec};

pub use error::ApiError;
pub use store::Store;

/// WaysCloud's name and default address.
pub const SPEC: PlatformSpec = PlatformSpec {
    name: "wayscloud",
    default_listen: "127.0.0.1:8788",
};

/// Every permission a key can hold. [documented]
pub const PERMISSIONS: &[&str] = &[
    "database:create",
    "database:read",
    "database:update",
    "database:delete",
];

/// Env: the bootstrap API key (first start only).
pub const ENV_API_KEY: &str = "WAYSCLOUD_EMULATOR_API_KEY";
/// Env: admin secret for the `/_emulator/` routes.
pub const ENV_ADMIN_SECRET: &str = "WAYSCLOUD_EMULATOR_ADMIN_SECRET";
/// Env: databases a customer may have (default 5).
pub const ENV_QUOTA: &str = "WAYSCLOUD_EMULATOR_QUOTA";
/// Env: initial fault rules, JSON `{"rules": [...]}`.
pub const ENV_FAULTS: &str = "WAYSCLOUD_EMULATOR_FAULTS";
/// The default database quota. [assumed]
pub const DEFAULT_QUOTA: i64 = 5;
/// The customer of the bootstrap key.
pub const BOOTSTRAP_CUSTOMER: &str = "6dd1d906";

/// Everything the WaysCloud emulator needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: String,
    /// The emulator's state directory (this part uses `wayscloud/` in it).
    pub state_dir: PathBuf,
    pub api_key: Option<String>,
    pub admin_secret: Option<String>,
    pub default_quota: i64,
    pub faults: Vec<FaultRule>,
    /// `Host` names the listener accepts beyond loopback and `localhost`
    /// (`--allow-host`, `COMWIT_EMULATOR_ALLOWED_HOSTS`).
    pub allowed_hosts: AllowedHosts,
}

impl Config {
    pub fn new(listen: impl Into<String>, state_dir: impl Into<PathBuf>) -> Config {
        Config {
            listen: listen.into(),
            state_dir: state_dir.into(),
            api_key: None,
            admin_secret: None,
            default_quota: DEFAULT_QUOTA,
            faults: Vec::new(),
            allowed_hosts: AllowedHosts::default(),
        }
    }

    pub fn from_env(
        listen: impl Into<String>,
        state_dir: impl Into<PathBuf>,
    ) -> anyhow::Result<Config> {
        let mut config = Config::new(listen, state_dir);
        config.allowed_hosts = AllowedHosts::from_env();
        let non_empty = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
        config.api_key = non_empty(ENV_API_KEY);
        config.admin_secret = non_empty(ENV_ADMIN_SECRET);
        if let Some(q) = non_empty(ENV_QUOTA) {
            config.default_quota = q
                .trim()
                .parse()
                .ok()
                .filter(|q: &i64| (0..=10_000).contains(q))
                .with_context(|| format!("{ENV_QUOTA} must be a whole number from 0 to 10000"))?;
        }
        if let Some(faults) = non_empty(ENV_FAULTS) {
            let rules: FaultRules =
                serde_json::from_str(&faults).with_context(|| format!("parsing {ENV_FAULTS}"))?;
            config.faults = rules.rules;
        }
        Ok(config)
    }
}

/// A new API key.
pub fn new_api_key() -> String {
    format!("wcs_{}", random_hex(16))
}

pub(crate) fn now() -> String {
    clock::format_ts(clock::now())
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<Store>,
    pub engines: Arc<engine::Engines>,
    pub lock: Arc<tokio::sync::Mutex<()>>,
    pub snapshots_dir: PathBuf,
    pub default_quota: i64,
}

struct WaysCloud {
    state: AppState,
}

impl Platform for WaysCloud {
    fn spec(&self) -> PlatformSpec {
        SPEC
    }

    fn public_routes(&self) -> Router {
        api::routes().with_state(self.state.clone())
    }

    fn admin_routes(&self) -> Router {
        admin::routes().with_state(self.state.clone())
    }

    fn error_response(&self, error: CoreError) -> Response {
        ApiError::from(error).into_response()
    }
}

/// A running WaysCloud emulator with its engines.
pub struct Emulator {
    addr: SocketAddr,
    base_url: String,
    admin_secret: String,
    api_key: Option<String>,
    state_dir: PathBuf,
    state: AppState,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Emulator {
    /// Opens the state, starts both engines (initialising them on first start), applies
    /// the stored firewall rules, binds and serves in the background.
    pub async fn start(config: Config) -> anyhow::Result<Emulator> {
        let dir = config.state_dir.join(SPEC.name);
        super::core::files::private_dir(&dir)
            .with_context(|| format!("creating {}", dir.display()))?;
        let snapshots_dir = dir.join("snapshots");
        super::core::files::private_dir(&snapshots_dir)?;
        let admin_secret = match config.admin_secret {
            Some(secret) if !secret.is_empty() && secret.bytes().all(|b| b.is_ascii_graphic()) => {
                secret
            }
            Some(_) => anyhow::bail!("{ENV_ADMIN_SECRET} must be non-empty visible ASCII"),
            None => random_hex(16),
        };
        let faults = Faults::default();
        faults
            .replace(config.faults.clone())
            .map_err(|(field, msg)| anyhow::anyhow!("fault rule {field}: {msg}"))?;
        let store =
            Store::open(&dir).with_context(|| format!("opening state in {}", dir.display()))?;
        let mut bootstrap = None;
        if !store.has_keys()? {
            let key = config.api_key.clone().unwrap_or_else(new_api_key);
            if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
                anyhow::bail!("{ENV_API_KEY} must be non-empty visible ASCII");
            }
            let perms: Vec<String> = PERMISSIONS.iter().map(|p| (*p).to_owned()).collect();
            store.ensure_customer(BOOTSTRAP_CUSTOMER, config.default_quota)?;
            store.add_key(&key, BOOTSTRAP_CUSTOMER, &perms, false, &now())?;
            write_secret(&dir.join("bootstrap-api-key"), &key)
                .context("writing bootstrap-api-key")?;
            bootstrap = Some(key);
        }
        write_secret(&dir.join("admin-secret"), &admin_secret).context("writing admin-secret")?;

        // The PostgreSQL firewall comes from every stored rule.
        let dbs = store.all_live()?;
        let mut allowed = Vec::new();
        for rule in store.rules(None)? {
            if let Some(db) = dbs
                .iter()
                .find(|d| d.id == rule.db_id && d.db_type == "postgresql")
            {
                allowed.push(engine::Allowed {
                    db_name: db.db_name.clone(),
                    username: db.username.clone(),
                    cidr: rule.cidr.clone(),
                });
            }
        }
        let engines = engine::Engines::start(&dir, &allowed).await?;
        let bound = match server::bind(&config.listen).await {
            Ok(b) => b,
            Err(e) => {
                engines.stop().await;
                return Err(e);
            }
        };
        let state = AppState {
            store: Arc::new(store),
            engines: Arc::new(engines),
            lock: Arc::new(tokio::sync::Mutex::new(())),
            snapshots_dir,
            default_quota: config.default_quota,
        };
        let core = CoreState {
            platform: Arc::new(WaysCloud {
                state: state.clone(),
            }),
            admin_secret: Arc::from(admin_secret.as_str()),
            faults: Arc::new(faults),
            stats: Arc::new(Stats::default()),
            allowed_hosts: config.allowed_hosts.clone(),
        };
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(server::serve(bound.listener, core, shutdown_rx));
        tracing::info!(platform = SPEC.name, base_url = %bound.base_url, state_dir = %dir.display(), "emulator started");
        Ok(Emulator {
            addr: bound.addr,
            base_url: bound.base_url,
            admin_secret,
            api_key: bootstrap,
            state_dir: dir,
            state,
            shutdown,
            task,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn admin_secret(&self) -> &str {
        &self.admin_secret
    }

    /// The bootstrap key, when this start made it.
    pub fn bootstrap_api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// `<state-dir>/wayscloud`.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.state_dir
    }

    /// The PostgreSQL server's port.
    pub fn postgres_port(&self) -> u16 {
        self.state.engines.port(engine::DbType::Postgresql)
    }

    /// The MariaDB server's port.
    pub fn mariadb_port(&self) -> u16 {
        self.state.engines.port(engine::DbType::Mariadb)
    }

    /// Stops serving (open requests finish), then stops both engines cleanly.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "server task failed");
        }
        let AppState { engines, .. } = self.state;
        match Arc::try_unwrap(engines) {
            Ok(engines) => engines.stop().await,
            // A request still holds them: dropping the last handle stops them (no wait).
            Err(shared) => drop(shared),
        }
    }
}
