//! What the core does for every platform it starts, so that a platform's `start` gives only
//! its state, routes and extra listeners: the platform's state subdirectory (0700), the
//! admin secret (checked, or random; written to `admin-secret` there), the fault rules, the
//! bound listener (answering 503 "starting" until the platform serves, health included),
//! and, once the platform is built, the serve loop with its stats and the shutdown signal.
//!
//! ```text
//! let launch = Launch::prepare(SPEC, &state_root, ENV_ADMIN_SECRET, common).await?;
//! // open the store in launch.dir(), start extra listeners on launch.shutdown_signal()
//! let served = launch.serve(Arc::new(MyPlatform { state }))?;
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::directory::{Directory, Listed};
use super::faults::{FaultRule, Faults};
use super::files;
use super::hosts::AllowedHosts;
use super::platform::{Platform, PlatformSpec};
use super::secrets::{random_hex, write_secret};
use super::server::{self, CoreState, Stats};
use super::state_admin::StateHome;

/// The file of the admin secret in a platform's state subdirectory (written every start).
pub const ADMIN_SECRET_FILE: &str = "admin-secret";

/// What every platform's configuration holds for the core.
#[derive(Debug, Clone)]
pub struct CoreConfig<'a> {
    /// Address of the API (port 0 picks a free port).
    pub listen: &'a str,
    /// The admin secret (random when `None`).
    pub admin_secret: Option<&'a str>,
    /// Initial fault rules.
    pub faults: &'a [FaultRule],
    /// `Host` names the listener accepts beyond loopback and `localhost`.
    pub allowed_hosts: &'a AllowedHosts,
    /// Other platforms' folders inside this platform's (only when its folder is the state
    /// directory itself): not its state, left out of its export and reset.
    pub neighbours: &'a [&'static str],
    /// The served platforms of this process: the platform registers there when it serves.
    pub directory: &'a Directory,
}

/// A platform being started: its directory made, its secret and faults checked, its
/// listener bound, not yet serving.
pub struct Launch {
    spec: PlatformSpec,
    dir: PathBuf,
    admin_secret: String,
    faults: Faults,
    listener: Arc<TcpListener>,
    addr: SocketAddr,
    base_url: String,
    /// Turns true when the platform serves: the "starting" answers end.
    starting: watch::Sender<bool>,
    allowed_hosts: AllowedHosts,
    neighbours: Vec<&'static str>,
    directory: Directory,
    shutdown: watch::Sender<bool>,
}

impl Launch {
    /// Makes `<state_root>/<subdir>` (0700), checks the admin secret (`env_admin_secret`
    /// names it in the error) and the fault rules, and binds the API's address.
    pub async fn prepare(
        spec: PlatformSpec,
        state_root: &Path,
        env_admin_secret: &str,
        config: CoreConfig<'_>,
    ) -> anyhow::Result<Launch> {
        let dir = spec.state_dir(state_root);
        files::private_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let admin_secret = match config.admin_secret {
            Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic()) => s.to_owned(),
            Some(_) => anyhow::bail!("{env_admin_secret} must be non-empty visible ASCII"),
            None => random_hex(16),
        };
        let faults = Faults::default();
        faults
            .replace(config.faults.to_vec())
            .map_err(|(field, msg)| anyhow::anyhow!("fault rule {field}: {msg}"))?;
        let bound = server::bind(config.listen).await?;
        let listener = Arc::new(bound.listener);
        let (shutdown, _) = watch::channel(false);
        // Until `serve`, the listener answers 503 "starting" (health included), so a
        // client polling a fixed address sees the platform come up.
        let (starting, starting_rx) = watch::channel(false);
        tokio::spawn(server::answer_starting(
            listener.clone(),
            spec.name,
            starting_rx,
        ));
        Ok(Launch {
            spec,
            dir,
            admin_secret,
            faults,
            listener,
            addr: bound.addr,
            base_url: bound.base_url,
            starting,
            allowed_hosts: config.allowed_hosts.clone(),
            neighbours: config.neighbours.to_vec(),
            directory: config.directory.clone(),
            shutdown,
        })
    }

    /// The platform's state subdirectory (made).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `http://host:port` of the API.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The `Host` names every listener of the platform accepts.
    pub fn allowed_hosts(&self) -> &AllowedHosts {
        &self.allowed_hosts
    }

    /// The served platforms of this process (the console lists them).
    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Turns true when the platform stops: extra listeners and background tasks end on it.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Writes the admin secret, serves `platform` in the background and registers it in
    /// the directory.
    pub fn serve(self, platform: Arc<dyn Platform>) -> anyhow::Result<Served> {
        write_secret(&self.dir.join(ADMIN_SECRET_FILE), &self.admin_secret)
            .context("writing admin-secret")?;
        let core = CoreState {
            platform,
            admin_secret: Arc::from(self.admin_secret.as_str()),
            faults: Arc::new(self.faults),
            stats: Arc::new(Stats::default()),
            allowed_hosts: self.allowed_hosts,
            home: Arc::new(StateHome::new(self.dir.clone(), self.neighbours)),
            directory: self.directory.clone(),
        };
        let console = core.platform.serves_console();
        let rx = self.shutdown.subscribe();
        let _ = self.starting.send(true);
        let task = tokio::spawn(server::serve(self.listener, core, rx));
        tracing::info!(platform = self.spec.name, base_url = %self.base_url, state_dir = %self.dir.display(), "emulator started");
        self.directory.add(Listed {
            name: self.spec.name.to_owned(),
            url: self.base_url.clone(),
            console,
        });
        Ok(Served {
            name: self.spec.name,
            directory: self.directory,
            addr: self.addr,
            base_url: self.base_url,
            admin_secret: self.admin_secret,
            dir: self.dir,
            shutdown: self.shutdown,
            task,
        })
    }
}

/// A platform's API being served by the core.
pub struct Served {
    name: &'static str,
    directory: Directory,
    addr: SocketAddr,
    base_url: String,
    admin_secret: String,
    dir: PathBuf,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Served {
    /// The address clients use (loopback when bound to an unspecified address).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The secret of the `X-Emulator-Admin` header.
    pub fn admin_secret(&self) -> &str {
        &self.admin_secret
    }

    /// The platform's state subdirectory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Signals shutdown to the API and every listener on [`Launch::shutdown_signal`], and
    /// waits for the API's open requests to finish (up to 5 seconds).
    pub async fn stop(self) {
        self.directory.remove(self.name);
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!(error = %e, "server task failed");
        }
    }
}
