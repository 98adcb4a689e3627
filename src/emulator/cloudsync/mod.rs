//! The CloudSync platform (SQLite Cloud's CloudSync management API, seed 002): its public
//! API (`/v1/...`), its emulator-only routes (`/_emulator/cloudsync/...`), its error shape
//! (`{"errors": [{status, code, title, detail}]}`), its store, and the tenant databases it
//! really reaches (PostgreSQL over the network, `sqlitecloud://` as local SQLite files).
//! It uses the core (`super::core`) and nothing of another platform. Contract:
//! `docs/api/cloudsync.md`.
//!
//! State, under `<state-dir>/cloudsync/`: `cloudsync.sqlite` (organization, workspaces,
//! key hashes, databases, Expo tokens, devices, nodes), `api-key` (the bootstrap
//! workspace-admin key, written on first start), `admin-secret` (every start), and
//! `sqlitecloud/<host>/<databaseName>.sqlite` (the emulated SQLite Cloud databases).

mod admin;
mod api;
mod error;
mod extract;
pub mod store;
pub mod tenant;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::core::faults::{FaultRule, FaultRules};
use super::core::hosts::AllowedHosts;
use super::core::secrets::write_secret;
use super::core::{
    blocking, BoxFuture, CoreConfig, CoreError, Directory, Launch, LiveState, Platform,
    PlatformSpec, Registration, Served, StartArgs, Started, Starting,
};

pub use error::ApiError;
pub use store::Store;

/// CloudSync's name and default address.
pub const SPEC: PlatformSpec = PlatformSpec {
    name: "cloudsync",
    default_listen: "127.0.0.1:8789",
    state_subdir: "cloudsync",
};

/// Env: the bootstrap management key (`csk_` + 32+ hex), used on first start only.
pub const ENV_API_KEY: &str = "CLOUDSYNC_EMULATOR_API_KEY";
/// Env: the admin secret of the `/_emulator/` routes.
pub const ENV_ADMIN_SECRET: &str = "CLOUDSYNC_EMULATOR_ADMIN_SECRET";
/// Env: initial fault rules, JSON `{"rules": [...]}`.
pub const ENV_FAULTS: &str = "CLOUDSYNC_EMULATOR_FAULTS";

/// Everything the CloudSync emulator needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    pub listen: String,
    /// The emulator's state directory (CloudSync keeps its files in `cloudsync/` there).
    pub state_dir: PathBuf,
    /// The bootstrap key on first start (random when `None`).
    pub api_key: Option<String>,
    /// The admin secret (random when `None`).
    pub admin_secret: Option<String>,
    /// Initial fault rules.
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
            faults: Vec::new(),
            allowed_hosts: AllowedHosts::default(),
            directory: Directory::default(),
        }
    }

    /// The defaults overridden by `CLOUDSYNC_EMULATOR_API_KEY`,
    /// `CLOUDSYNC_EMULATOR_ADMIN_SECRET` and `CLOUDSYNC_EMULATOR_FAULTS`.
    pub fn from_env(
        listen: impl Into<String>,
        state_dir: impl Into<PathBuf>,
    ) -> anyhow::Result<Config> {
        let mut config = Config::new(listen, state_dir);
        config.allowed_hosts = AllowedHosts::from_env();
        let non_empty = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
        config.api_key = non_empty(ENV_API_KEY);
        config.admin_secret = non_empty(ENV_ADMIN_SECRET);
        if let Some(faults) = non_empty(ENV_FAULTS) {
            let rules: FaultRules =
                serde_json::from_str(&faults).with_context(|| format!("parsing {ENV_FAULTS}"))?;
            config.faults = rules.rules;
        }
        Ok(config)
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<Store>,
    /// `<state-dir>/cloudsync`.
    pub root: PathBuf,
}

struct CloudSync {
    state: AppState,
    live: Arc<Live>,
}

/// CloudSync's state as the core's state routes handle it (`core::state_admin`): its
/// store (the only file it keeps open: a tenant's SQLite file is opened per call, and a
/// PostgreSQL tenant is the user's own server, not in the state), bootstrapped again after
/// a reset as on a first start (`api-key`).
struct Live {
    store: Arc<Store>,
    root: PathBuf,
    /// `CLOUDSYNC_EMULATOR_API_KEY`, the bootstrap key of a fresh state.
    api_key: Option<String>,
}

/// Writes `api-key` when the state was bootstrapped now.
fn bootstrap(
    store: &Store,
    root: &std::path::Path,
    raw: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let key = store.bootstrap(raw)?;
    if let Some(key) = &key {
        write_secret(&root.join("api-key"), key).context("writing api-key")?;
    }
    Ok(key)
}

impl LiveState for Live {
    fn holds_objects(&self) -> BoxFuture<'static, anyhow::Result<bool>> {
        let store = self.store.clone();
        Box::pin(async move { blocking::run(&store, |s| Ok(s.holds_objects()?)).await })
    }

    fn replace(
        &self,
        change: Box<dyn FnOnce() -> anyhow::Result<()> + Send>,
    ) -> BoxFuture<'static, anyhow::Result<()>> {
        let (store, root, raw) = (self.store.clone(), self.root.clone(), self.api_key.clone());
        Box::pin(async move {
            blocking::run(&store, move |s| {
                s.reopen_after(change)?;
                bootstrap(s, &root, raw.as_deref()).map(drop)
            })
            .await
        })
    }
}

impl Platform for CloudSync {
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

    fn live_state(&self) -> Option<Arc<dyn LiveState>> {
        Some(self.live.clone())
    }
}

/// CloudSync in the emulator's registry.
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

/// A running CloudSync emulator.
pub struct Emulator {
    served: Served,
    api_key: Option<String>,
}

impl Emulator {
    /// Opens (migrating) the state, bootstraps it on first start and serves in the
    /// background.
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
        if let Some(key) = &config.api_key {
            if !store::is_key(key) {
                anyhow::bail!("{ENV_API_KEY} must match csk_[0-9a-f]{{32,}}");
            }
        }
        let root = launch.dir().to_path_buf();
        let dir = root.clone();
        let key_env = config.api_key.clone();
        let (store, api_key) =
            tokio::task::spawn_blocking(move || -> anyhow::Result<(Store, Option<String>)> {
                let store = Store::open(&dir)?;
                let key = bootstrap(&store, &dir, key_env.as_deref())?;
                Ok((store, key))
            })
            .await??;
        let store = Arc::new(store);
        let live = Arc::new(Live {
            store: store.clone(),
            root: root.clone(),
            api_key: config.api_key.clone(),
        });
        let state = AppState { store, root };
        let served = launch.serve(Arc::new(CloudSync { state, live }))?;
        Ok(Emulator { served, api_key })
    }

    /// `http://host:port`.
    pub fn base_url(&self) -> &str {
        self.served.base_url()
    }

    /// The admin secret for the `X-Emulator-Admin` header.
    pub fn admin_secret(&self) -> &str {
        self.served.admin_secret()
    }

    /// The bootstrap key, when this start bootstrapped the state (else read `api-key`).
    pub fn api_key(&self) -> Option<&str> {
        self.api_key.as_deref()
    }

    /// `<state-dir>/cloudsync`.
    pub fn root(&self) -> &std::path::Path {
        self.served.dir()
    }

    /// Stops accepting, lets open requests finish, and returns.
    pub async fn shutdown(self) {
        self.served.stop().await;
    }
}
