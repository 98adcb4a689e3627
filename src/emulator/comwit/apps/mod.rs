//! Comwit apps in the emulator (`docs/api/comwit.md`, "Apps" and "Apps in the emulator"):
//! the `/v1` routes of apps, artifacts, builds and env; the builder (unpack, check on
//! Node.js); one Node worker per app with an active build; the app gateway (a second
//! listener routing by `Host`); the admin inspection.
//!
//! - [`archive`]: the tar checks and unpacking;
//! - [`node`]: the runtime (runner script, build check, worker processes);
//! - [`workers`]: one worker slot per app;
//! - [`builder`]: a build from `queued` to `ready` (live) or `failed`;
//! - [`gateway`]: the app gateway;
//! - [`json`]: the App, Build and EnvVar objects;
//! - [`api`], [`builds_api`], [`env_api`]: the routes; [`admin`]: `GET /_emulator/apps`.

pub(crate) mod admin;
pub(crate) mod api;
pub mod archive;
mod builder;
mod builds_api;
mod env_api;
pub(crate) mod gateway;
pub(crate) mod json;
pub mod node;
mod workers;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::store::{App, Build, Store, StoreError};
use crate::emulator::core::extract::StoreCalls;
use node::Node;
use workers::Workers;

pub use workers::WorkerInfo;

/// The gateway's default address (CLI flag `--apps-listen`).
pub const DEFAULT_APPS_LISTEN: &str = "127.0.0.1:8790";
/// The platform name of the gateway's listening line.
pub const APPS_LISTENING_NAME: &str = "comwit-apps";
/// How long a build may take. [documented in the contract: 60 s]
pub const BUILD_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the gateway cannot hand a request to a worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServeError {
    /// The app is gone (deleted meanwhile).
    Gone,
    /// The app has no active build (503).
    NoActiveBuild(String),
    /// The worker could not start (502).
    Worker(String),
}

/// The apps part of the Comwit emulator: the store, the runtime, the workers, and the
/// notification of finished builds (for long polls).
pub struct Apps {
    /// Store calls on the blocking pool (the core's), failing as [`StoreError`].
    pub(crate) calls: StoreCalls<Store, StoreError>,
    pub(crate) store: Arc<Store>,
    node: Node,
    workers: Workers,
    /// Bumped every time a build ends.
    builds_changed: watch::Sender<u64>,
    /// One lock per app: its builds run one at a time, in order.
    build_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The gateway's port (for `default_url`).
    gateway_port: u16,
}

impl Apps {
    pub fn new(store: Arc<Store>, node_binary: PathBuf, gateway_port: u16) -> anyhow::Result<Apps> {
        let apps_dir = store.state_dir().join(super::store::APPS_DIR);
        let node = Node::install(node_binary, &apps_dir)?;
        Ok(Apps {
            calls: StoreCalls::of(&store),
            store,
            node,
            workers: Workers::default(),
            builds_changed: watch::channel(0).0,
            build_locks: Mutex::new(HashMap::new()),
            gateway_port,
        })
    }

    /// `http://<default_hostname>:<gateway port>/`.
    pub fn default_url(&self, app: &App) -> String {
        format!("http://{}:{}/", app.default_hostname, self.gateway_port)
    }

    fn notify_builds(&self) {
        self.builds_changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn build_lock(&self, app_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.build_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(app_id.to_owned())
            .or_default()
            .clone()
    }

    fn worker_log(&self, app_id: &str) -> PathBuf {
        self.store.app_dir(app_id).join("worker.log")
    }

    /// Makes `build` serve `app_id`: under the app's slot lock, starts a worker on the build
    /// (the app must still be live), runs `commit` (the store change that makes it active),
    /// switches the gateway to it, then stops the previous worker.
    async fn switch_to<F>(&self, app_id: &str, build: &Build, commit: F) -> Result<App, String>
    where
        F: FnOnce(&Store) -> Result<(), StoreError> + Send + 'static,
    {
        let slot = self.workers.slot(app_id);
        let mut slot = slot.lock().await;
        let id = app_id.to_owned();
        let live = self
            .calls
            .run(move |s| s.get_app(&id))
            .await
            .map_err(|e| e.to_string())?;
        if live.is_none() {
            return Err("the app was deleted".into());
        }
        let dir = self.store.build_dir(app_id, &build.build_id);
        let worker = self
            .node
            .start_worker(&dir, &build.entry, &self.worker_log(app_id))
            .await?;
        let id = app_id.to_owned();
        let committed = self
            .calls
            .run(move |s| {
                commit(s)?;
                s.get_app(&id)
            })
            .await;
        let app = match committed {
            Ok(Some(app)) => app,
            Ok(None) => {
                worker.stop().await;
                return Err("the app was deleted".into());
            }
            Err(e) => {
                worker.stop().await;
                return Err(e.to_string());
            }
        };
        let old = slot.replace(&build.build_id, worker);
        drop(slot);
        if let Some(old) = old {
            old.stop().await;
        }
        Ok(app)
    }

    /// Makes a `ready` build of the app active (rollback): returns the app once it serves.
    pub async fn rollback(&self, app: &App, build: &Build) -> Result<App, String> {
        let (app_id, build_id) = (app.app_id.clone(), build.build_id.clone());
        self.switch_to(&app.app_id, build, move |s| {
            s.set_active_build(&app_id, &build_id).map(drop)
        })
        .await
    }

    /// The port of the worker serving the app's active build, starting it if needed (after
    /// a restart, or when it died).
    pub async fn worker_port(&self, app_id: &str) -> Result<u16, ServeError> {
        let slot = self.workers.slot(app_id);
        let mut slot = slot.lock().await;
        let id = app_id.to_owned();
        let app = self
            .calls
            .run(move |s| s.get_app(&id))
            .await
            .map_err(|e| ServeError::Worker(e.to_string()))?
            .ok_or(ServeError::Gone)?;
        let Some(build_id) = app.active_build_id.clone() else {
            return Err(ServeError::NoActiveBuild(app.name));
        };
        if let Some(port) = slot.port_for(&build_id) {
            return Ok(port);
        }
        let (id, bid) = (app_id.to_owned(), build_id.clone());
        let build = self
            .calls
            .run(move |s| s.get_build(&id, &bid))
            .await
            .map_err(|e| ServeError::Worker(e.to_string()))?
            .ok_or_else(|| ServeError::Worker(format!("build {build_id} not found")))?;
        let dir = self.store.build_dir(app_id, &build_id);
        let worker = self
            .node
            .start_worker(&dir, &build.entry, &self.worker_log(app_id))
            .await
            .map_err(ServeError::Worker)?;
        let port = worker.port;
        tracing::info!(%app_id, %build_id, pid = ?worker.pid, "worker started");
        if let Some(old) = slot.replace(&build_id, worker) {
            old.stop().await;
        }
        Ok(port)
    }

    /// Deletes an app: marks it deleted, stops its worker, removes its folders and the
    /// artifacts no project holds any more.
    pub async fn delete(&self, app_id: &str) -> Result<(), StoreError> {
        let slot = self.workers.slot(app_id);
        let mut slot = slot.lock().await;
        let id = app_id.to_owned();
        let gone = self.calls.run(move |s| s.delete_app(&id)).await?;
        if let Some(worker) = slot.take() {
            worker.stop().await;
        }
        drop(slot);
        let dir = self.store.app_dir(app_id);
        self.calls
            .run(move |store| {
                match std::fs::remove_dir_all(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => tracing::warn!(path = %dir.display(), error = %e, "cannot remove"),
                }
                store.remove_artifact_files(&gone);
                Ok(())
            })
            .await
    }

    /// The build, once it is `ready` or `failed` or after `wait` (its state then).
    pub async fn wait_build(
        &self,
        app_id: &str,
        build_id: &str,
        wait: Duration,
    ) -> Result<Option<Build>, StoreError> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut changed = self.builds_changed.subscribe();
        loop {
            changed.borrow_and_update();
            let (id, bid) = (app_id.to_owned(), build_id.to_owned());
            let build = self.calls.run(move |s| s.get_build(&id, &bid)).await?;
            match build {
                Some(b) if !b.is_final() && tokio::time::Instant::now() < deadline => {}
                other => return Ok(other),
            }
            if tokio::time::timeout_at(deadline, changed.changed())
                .await
                .is_err()
            {
                // Time is up: answer the state as it is now (the loop's last read).
                let (id, bid) = (app_id.to_owned(), build_id.to_owned());
                return self.calls.run(move |s| s.get_build(&id, &bid)).await;
            }
        }
    }

    /// The running workers by app id (admin).
    pub async fn running_workers(&self) -> HashMap<String, WorkerInfo> {
        self.workers.running().await
    }

    /// Stops every worker (emulator shutdown).
    pub async fn shutdown(&self) {
        self.workers.stop_all().await;
    }

    /// Before the state's folder is replaced: stops every worker (they start again on the
    /// next request to their app, from the new state).
    pub async fn release_state(&self) {
        self.workers.stop_all().await;
    }

    /// After the state's folder was replaced: the runner script is back in it.
    pub fn state_replaced(&self) -> std::io::Result<()> {
        self.node.reinstall()
    }
}
