//! Local platform emulator: one core, one module per platform.
//!
//! Layout (every later platform copies it):
//!
//! - [`core`]: platform-neutral. The listener and serve loop, the `/_emulator/` admin
//!   routes every platform has (faults, stats), fault injection, stats labelled from the
//!   router's matched path, the bearer extractor, the idempotency store, secret and
//!   timestamp helpers, the SQLite state-file opener with schema versions and forward
//!   migrations, and the file modes (directories 0700, files 0600). The core never names a
//!   platform; a platform implements [`core::Platform`] (name, default address, routes,
//!   error body shape) and the core answers its own errors (admin auth, unknown route,
//!   injected faults) in that shape.
//! - [`comwit`]: the Comwit platform: its routes, handlers, store tables, validation and
//!   the Hrana SQL server on each database's URL (`docs/api/comwit.md`).
//! - [`wayscloud`]: the WaysCloud databases API on real PostgreSQL and MariaDB servers
//!   (`docs/api/wayscloud.md`), served when asked (`--serve wayscloud=ADDR`).
//! - [`cloudsync`]: SQLite Cloud's CloudSync management API (`docs/api/cloudsync.md`),
//!   served when asked (`--serve cloudsync=ADDR`).
//!
//! The emulator and the API client (`crate::comwit`) never import each other: they are two
//! independent readings of the contract.
//!
//! One command serves every platform it knows, each on its own port ([`run`]), and prints
//! one [`Listening`] line per platform. Tests and tools that want an emulator inside their
//! own runtime use [`Emulator::start`] (Comwit).
//!
//! Comwit's state directory:
//!
//! - `<state-dir>/emulator.sqlite`: projects, user tokens (hashes), databases, query tokens
//!   (hashes), idempotency keys; schema version in `PRAGMA user_version`.
//! - `<state-dir>/databases/<database_id>.db`: one real SQLite file per database.
//! - `<state-dir>/artifacts/<sha256>.tar`: app artifacts, by content hash.
//! - `<state-dir>/apps/runner.mjs` and `<state-dir>/apps/<app_id>/builds/<build_id>/`: the
//!   Node.js runner of apps and the unpacked builds.
//! - DNS: the domains, records and hostnames are rows of `emulator.sqlite` (schema v3);
//!   the DNS server serves them from memory.
//! - `<state-dir>/bootstrap-token`: the raw bootstrap user token (written on first start).
//! - `<state-dir>/admin-secret`: the secret for the `/_emulator/` admin routes (every start).

pub mod cloudsync;
pub mod comwit;
pub mod core;
mod listening;
pub mod wayscloud;

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

pub use self::comwit::apps::{APPS_LISTENING_NAME, DEFAULT_APPS_LISTEN};
pub use self::comwit::dns::server::{DEFAULT_DNS_LISTEN, DNS_LISTENING_NAME};
pub use self::comwit::{store, validate};
pub use self::comwit::{
    ApiError, Config, Emulator, SqlAuthError, Store, StoreError, TokenKind,
    DEFAULT_PROTECTED_TENANTS, ENV_ADMIN_SECRET, ENV_BOOTSTRAP_TOKEN, ENV_FAULTS, ENV_NODE,
    ENV_PROTECTED_TENANTS, RUNNER,
};
pub use self::core::faults;
pub use self::core::faults::{FaultKind, FaultRule, FaultRules};
pub use self::core::hosts::{AllowedHosts, ENV_ALLOWED_HOSTS};
pub use self::core::PlatformSpec;
pub use listening::{Listening, LISTENING_PREFIX};

/// Comwit's default listen address.
pub const DEFAULT_LISTEN: &str = comwit::SPEC.default_listen;
/// Default state directory.
pub const DEFAULT_STATE_DIR: &str = "./.emulator";
/// Env: tracing filter for the emulator's logs (stderr); default `info`.
pub const ENV_LOG: &str = "COMWIT_EMULATOR_LOG";

/// Every platform this emulator serves, in the order their listening lines are printed.
pub const PLATFORMS: &[PlatformSpec] = &[comwit::SPEC, wayscloud::SPEC, cloudsync::SPEC];

/// The platforms served without a `--serve` flag naming them. WaysCloud starts real
/// PostgreSQL and MariaDB servers and CloudSync reaches tenant databases, so each is served
/// only when asked (`--serve wayscloud=127.0.0.1:8788`, `--serve cloudsync=127.0.0.1:8789`).
pub const SERVED_BY_DEFAULT: &[&str] = &[comwit::SPEC.name];

/// The spec of a platform by name.
pub fn platform(name: &str) -> Option<PlatformSpec> {
    PLATFORMS.iter().copied().find(|p| p.name == name)
}

/// What [`run`] serves: one address per platform, one state directory.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// (platform name, listen address), each platform at most once.
    pub serve: Vec<(String, String)>,
    /// The state directory (each platform keeps its own files in it).
    pub state_dir: PathBuf,
    /// Comwit's app gateway address (default `127.0.0.1:8790`).
    pub apps_listen: String,
    /// Comwit's DNS server address, UDP and TCP (default `127.0.0.1:8753`).
    pub dns_listen: String,
    /// `Host` names every listener accepts beyond loopback and `localhost` (`--allow-host`,
    /// added to `COMWIT_EMULATOR_ALLOWED_HOSTS`).
    pub allowed_hosts: Vec<String>,
}

impl RunConfig {
    /// Every known platform on its default address.
    pub fn new(state_dir: impl Into<PathBuf>) -> RunConfig {
        RunConfig {
            serve: PLATFORMS
                .iter()
                .filter(|p| SERVED_BY_DEFAULT.contains(&p.name))
                .map(|p| (p.name.to_owned(), p.default_listen.to_owned()))
                .collect(),
            state_dir: state_dir.into(),
            apps_listen: DEFAULT_APPS_LISTEN.to_owned(),
            dns_listen: DEFAULT_DNS_LISTEN.to_owned(),
            allowed_hosts: Vec::new(),
        }
    }

    /// Sets the address of one platform (it must be known).
    pub fn listen(&mut self, platform_name: &str, addr: &str) -> Result<(), String> {
        if platform(platform_name).is_none() {
            let known: Vec<&str> = PLATFORMS.iter().map(|p| p.name).collect();
            return Err(format!(
                "unknown platform {platform_name:?} (this emulator serves: {})",
                known.join(", ")
            ));
        }
        match self.serve.iter_mut().find(|(p, _)| p == platform_name) {
            Some(entry) => entry.1 = addr.to_owned(),
            None => self.serve.push((platform_name.to_owned(), addr.to_owned())),
        }
        Ok(())
    }
}

/// One started platform, as [`run`] holds it.
enum Running {
    Comwit(Emulator),
    WaysCloud(wayscloud::Emulator),
    CloudSync(cloudsync::Emulator),
}

impl Running {
    /// The listening lines of the platform: its API, then its other listeners (comwit's
    /// app gateway, `comwit-apps`).
    fn listening(&self, name: &str) -> Vec<Listening> {
        match self {
            Running::Comwit(e) => vec![
                Listening {
                    platform: name.to_owned(),
                    url: e.base_url().to_owned(),
                },
                Listening {
                    platform: APPS_LISTENING_NAME.to_owned(),
                    url: e.apps_url().to_owned(),
                },
                Listening {
                    platform: DNS_LISTENING_NAME.to_owned(),
                    url: format!("dns://{}", e.dns_addr()),
                },
            ],
            Running::WaysCloud(e) => vec![Listening {
                platform: name.to_owned(),
                url: e.base_url().to_owned(),
            }],
            Running::CloudSync(e) => vec![Listening {
                platform: name.to_owned(),
                url: e.base_url().to_owned(),
            }],
        }
    }

    async fn shutdown(self) {
        match self {
            Running::Comwit(e) => e.shutdown().await,
            Running::WaysCloud(e) => e.shutdown().await,
            Running::CloudSync(e) => e.shutdown().await,
        }
    }
}

async fn start_platform(name: &str, listen: &str, config: &RunConfig) -> anyhow::Result<Running> {
    match name {
        n if n == comwit::SPEC.name => {
            let mut comwit = Config::from_env(listen, &config.state_dir)?;
            comwit.apps_listen = config.apps_listen.clone();
            comwit.dns_listen = config.dns_listen.clone();
            comwit.allowed_hosts.extend(&config.allowed_hosts);
            Ok(Running::Comwit(Emulator::start(comwit).await?))
        }
        n if n == wayscloud::SPEC.name => {
            let mut ways = wayscloud::Config::from_env(listen, &config.state_dir)?;
            ways.allowed_hosts.extend(&config.allowed_hosts);
            Ok(Running::WaysCloud(wayscloud::Emulator::start(ways).await?))
        }
        n if n == cloudsync::SPEC.name => {
            let mut sync = cloudsync::Config::from_env(listen, &config.state_dir)?;
            sync.allowed_hosts.extend(&config.allowed_hosts);
            Ok(Running::CloudSync(cloudsync::Emulator::start(sync).await?))
        }
        other => anyhow::bail!("unknown platform {other:?}"),
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

/// Runs every platform of `config` until SIGINT or SIGTERM: builds its own tokio runtime,
/// logs to stderr, and prints one [`Listening`] line per listener to stdout once they all
/// listen: `platform-emulator: comwit listening on http://127.0.0.1:PORT`, then
/// `platform-emulator: comwit-apps listening on http://127.0.0.1:PORT` (the app gateway),
/// `platform-emulator: comwit-dns listening on dns://127.0.0.1:PORT` (the DNS server, UDP
/// and TCP).
pub fn run(config: RunConfig) -> anyhow::Result<()> {
    init_tracing();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    runtime.block_on(async move {
        let mut running = Vec::new();
        for (name, listen) in &config.serve {
            match start_platform(name, listen, &config).await {
                Ok(r) => running.push((name.clone(), r)),
                Err(e) => {
                    for (_, r) in running {
                        r.shutdown().await;
                    }
                    return Err(e.context(format!("starting {name}")));
                }
            }
        }
        {
            let mut stdout = std::io::stdout().lock();
            for (name, r) in &running {
                for line in r.listening(name) {
                    writeln!(stdout, "{line}")?;
                }
            }
            stdout.flush()?;
        }
        wait_for_signal().await;
        tracing::info!("shutting down");
        for (_, r) in running {
            r.shutdown().await;
        }
        Ok::<(), anyhow::Error>(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

#[cfg(test)]
mod cloudsync_serving_tests {
    use super::*;

    #[test]
    fn cloudsync_is_served_only_when_named() {
        let mut config = RunConfig::new("/tmp/x");
        assert_eq!(
            config.serve,
            vec![("comwit".to_owned(), "127.0.0.1:8787".to_owned())]
        );
        config.listen("cloudsync", "127.0.0.1:0").unwrap();
        assert!(config
            .serve
            .contains(&("cloudsync".to_owned(), "127.0.0.1:0".to_owned())));
        let err = config.listen("nope", "x").unwrap_err();
        assert!(err.contains("comwit") && err.contains("cloudsync"), "{err}");
        assert_eq!(
            platform("cloudsync").map(|p| p.default_listen),
            Some("127.0.0.1:8789")
        );
    }
}
