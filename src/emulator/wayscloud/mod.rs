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
mod extract;
pub mod store;
pub mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::core::faults::{FaultRule, FaultRules};
use super::core::hosts::AllowedHosts;
use super::core::secrets::{random_hex, write_secret};
use super::core::{
    blocking, clock, BoxFuture, CoreConfig, CoreError, Directory, Launch, LiveState, Platform,
    PlatformSpec, Registration, Served, StartArgs, Started, Starting,
};

pub use error::ApiError;
pub use store::Store;

/// WaysCloud's name and default address.
pub const SPEC: PlatformSpec = PlatformSpec {
    name: "wayscloud",
    default_listen: "127.0.0.1:8788",
    state_subdir: "wayscloud",
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
    /// The served platforms of this process (`StartArgs::directory`); `Config::new`: one
    /// of its own.
    pub directory: Directory,
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
            directory: Directory::default(),
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
    live: Arc<Live>,
}

/// On a state without API keys (a first start, a reset): the bootstrap key
/// (`WAYSCLOUD_EMULATOR_API_KEY`, else random) with every permission for the bootstrap
/// customer, written to `bootstrap-api-key`; returned when made.
fn bootstrap(
    store: &Store,
    dir: &std::path::Path,
    api_key: Option<&str>,
    quota: i64,
) -> anyhow::Result<Option<String>> {
    if store.has_keys()? {
        return Ok(None);
    }
    let key = api_key.map(str::to_owned).unwrap_or_else(new_api_key);
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
        anyhow::bail!("{ENV_API_KEY} must be non-empty visible ASCII");
    }
    let perms: Vec<String> = PERMISSIONS.iter().map(|p| (*p).to_owned()).collect();
    store.ensure_customer(BOOTSTRAP_CUSTOMER, quota)?;
    store.add_key(&key, BOOTSTRAP_CUSTOMER, &perms, false, &now())?;
    write_secret(&dir.join("bootstrap-api-key"), &key).context("writing bootstrap-api-key")?;
    Ok(Some(key))
}

/// The PostgreSQL firewall: every stored rule of a live PostgreSQL database.
fn firewall(store: &Store) -> anyhow::Result<Vec<engine::Allowed>> {
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
    Ok(allowed)
}

/// WaysCloud's state as the core's state routes handle it (`core::state_admin`): its
/// store, and its two engines, which are stopped cleanly while the folder is copied or
/// replaced and started again after (an export's archive holds their data directories at
/// rest, exactly what `platform-emulator state export` takes from a stopped emulator).
/// The API's lock is held throughout, so no snapshot or restore runs meanwhile.
struct Live {
    state: AppState,
    /// `<state-dir>/wayscloud`.
    dir: PathBuf,
    /// `WAYSCLOUD_EMULATOR_API_KEY`, the bootstrap key of a fresh state.
    api_key: Option<String>,
}

impl Live {
    /// Starts the engines again with the stored firewall.
    async fn start_engines(state: &AppState) -> anyhow::Result<()> {
        let allowed = blocking::run(&state.store, firewall).await?;
        state.engines.start_again(&allowed).await
    }
}

impl LiveState for Live {
    /// Any database ever made (deleted ones still recorded included); the bootstrap
    /// customer and keys of a fresh state do not count.
    fn holds_objects(&self) -> BoxFuture<'static, anyhow::Result<bool>> {
        let store = self.state.store.clone();
        Box::pin(async move { blocking::run(&store, |s| Ok(s.holds_objects()?)).await })
    }

    fn at_rest(
        &self,
        copy: Box<dyn FnOnce() -> anyhow::Result<()> + Send>,
    ) -> BoxFuture<'static, anyhow::Result<()>> {
        let state = self.state.clone();
        Box::pin(async move {
            let _api = state.lock.clone().lock_owned().await;
            state.engines.stop().await;
            let copied = blocking::call(copy).await;
            let started = Self::start_engines(&state).await;
            copied.and(started)
        })
    }

    fn replace(
        &self,
        change: Box<dyn FnOnce() -> anyhow::Result<()> + Send>,
    ) -> BoxFuture<'static, anyhow::Result<()>> {
        let state = self.state.clone();
        let (dir, api_key) = (self.dir.clone(), self.api_key.clone());
        Box::pin(async move {
            let _api = state.lock.clone().lock_owned().await;
            state.engines.stop().await;
            let snapshots = state.snapshots_dir.clone();
            let quota = state.default_quota;
            let changed = blocking::run(&state.store, move |s| {
                s.reopen_after(change)?;
                super::core::files::private_dir(&snapshots)?;
                bootstrap(s, &dir, api_key.as_deref(), quota).map(drop)
            })
            .await;
            let started = Self::start_engines(&state).await;
            changed.and(started)
        })
    }
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

    fn readiness(&self) -> BoxFuture<'static, Vec<super::core::Readiness>> {
        admin::readiness(&self.state)
    }

    fn live_state(&self) -> Option<Arc<dyn LiveState>> {
        Some(self.live.clone())
    }
}

/// WaysCloud in the emulator's registry.
pub const REGISTRATION: Registration = Registration {
    spec: SPEC,
    start: start_registered,
};

fn start_registered(args: StartArgs) -> Starting {
    Box::pin(async move {
        let mut config = Config::from_env(&args.listen, &args.state_root)?;
        args.extend_hosts(&mut config.allowed_hosts);
        config.directory = args.directory.clone();
        Ok(Box::new(Emulator::start(config).await?) as Box<dyn Started>)
    })
}

impl Started for Emulator {
    fn listening(&self) -> Vec<(String, String)> {
        vec![(SPEC.name.to_owned(), self.base_url().to_owned())]
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(self.shutdown())
    }
}

/// A running WaysCloud emulator with its engines.
pub struct Emulator {
    served: Served,
    api_key: Option<String>,
    state: AppState,
}

impl Emulator {
    /// Opens the state, starts both engines (initialising them on first start), applies
    /// the stored firewall rules and serves in the background.
    pub async fn start(config: Config) -> anyhow::Result<Emulator> {
        let launch = Launch::prepare(
            SPEC,
            &config.state_dir,
            ENV_ADMIN_SECRET,
            CoreConfig {
                listen: &config.listen,
                admin_secret: config.admin_secret.as_deref(),
                faults: &config.faults,
                allowed_hosts: &config.allowed_hosts,
                neighbours: &[],
                directory: &config.directory,
            },
        )
        .await?;
        let dir = launch.dir().to_path_buf();
        let snapshots_dir = dir.join("snapshots");
        super::core::files::private_dir(&snapshots_dir)?;
        let store =
            Store::open(&dir).with_context(|| format!("opening state in {}", dir.display()))?;
        let bootstrap = bootstrap(
            &store,
            &dir,
            config.api_key.as_deref(),
            config.default_quota,
        )?;
        let allowed = firewall(&store)?;
        let engines = engine::Engines::start(&dir, &allowed).await?;
        let state = AppState {
            store: Arc::new(store),
            engines: Arc::new(engines),
            lock: Arc::new(tokio::sync::Mutex::new(())),
            snapshots_dir,
            default_quota: config.default_quota,
        };
        let live = Arc::new(Live {
            state: state.clone(),
            dir,
            api_key: config.api_key.clone(),
        });
        let served = match launch.serve(Arc::new(WaysCloud {
            state: state.clone(),
            live,
        })) {
            Ok(served) => served,
            Err(e) => {
                Self::stop_engines(state).await;
                return Err(e);
            }
        };
        Ok(Emulator {
            served,
            api_key: bootstrap,
            state,
        })
    }

    pub fn base_url(&self) -> &str {
        self.served.base_url()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.served.addr()
    }

    pub fn admin_secret(&self) -> &str {
        self.served.admin_secret()
    }

    /// The bootstrap key, when this start made it.
    pub fn bootstrap_api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// `<state-dir>/wayscloud`.
    pub fn state_dir(&self) -> &std::path::Path {
        self.served.dir()
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
        self.served.stop().await;
        Self::stop_engines(self.state).await;
    }

    async fn stop_engines(state: AppState) {
        state.engines.stop().await;
    }
}
