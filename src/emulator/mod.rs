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
//! The registry ([`PLATFORMS`]) lists every platform, one line each; `--serve` alone decides
//! which run ([`RunConfig::served`]): with no `--serve` (nor `--listen`) Comwit alone, else
//! exactly the named ones, each on its own port ([`run`]). The core ([`core::launch`]) makes
//! each platform's state folder, admin secret, faults, listener and stats; a platform gives
//! its name, default address, routes, state and extra listeners. [`run`] prints one
//! [`Listening`] line per listener. Tests and tools that want an emulator inside their
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
pub mod state_io;
pub mod wayscloud;

use std::collections::BTreeMap;
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
pub use self::core::{PlatformSpec, Registration, StartArgs, Started};
pub use listening::{Listening, LISTENING_PREFIX};

/// Comwit's default listen address.
pub const DEFAULT_LISTEN: &str = comwit::SPEC.default_listen;
/// Default state directory.
pub const DEFAULT_STATE_DIR: &str = "./.emulator";
/// Env: tracing filter for the emulator's logs (stderr); default `info`.
pub const ENV_LOG: &str = "COMWIT_EMULATOR_LOG";

/// The registry: every platform this emulator can serve, in the order their listening
/// lines are printed. Adding a platform is one line here (see `docs/architecture.md`).
pub const PLATFORMS: &[Registration] = &[
    comwit::REGISTRATION,
    wayscloud::REGISTRATION,
    cloudsync::REGISTRATION,
];

/// The platform served when the command names none (no `--serve`, no `--listen`).
/// WaysCloud starts real PostgreSQL and MariaDB servers and CloudSync reaches tenant
/// databases, so each is served only when named.
pub const SERVED_BY_DEFAULT: &str = comwit::SPEC.name;

/// The registration of a platform by name.
pub fn platform(name: &str) -> Option<Registration> {
    PLATFORMS.iter().copied().find(|p| p.spec.name == name)
}

/// What [`run`] serves: one address per platform, one state directory.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// (platform name, listen address), each platform at most once. Empty: the default
    /// platform ([`SERVED_BY_DEFAULT`]) on its default address.
    pub serve: Vec<(String, String)>,
    /// The state directory (each platform keeps its own files in it).
    pub state_dir: PathBuf,
    /// Addresses of the platforms' extra listeners by listening name: Comwit's app
    /// gateway (`comwit-apps`, default `127.0.0.1:8790`) and DNS server (`comwit-dns`,
    /// UDP and TCP, default `127.0.0.1:8753`). Used only when their platform is served.
    pub extra_listen: BTreeMap<String, String>,
    /// `Host` names every listener accepts beyond loopback and `localhost` (`--allow-host`,
    /// added to `COMWIT_EMULATOR_ALLOWED_HOSTS`).
    pub allowed_hosts: Vec<String>,
}

impl RunConfig {
    /// Nothing named yet: serves the default platform on its default address.
    pub fn new(state_dir: impl Into<PathBuf>) -> RunConfig {
        RunConfig {
            serve: Vec::new(),
            state_dir: state_dir.into(),
            extra_listen: BTreeMap::new(),
            allowed_hosts: Vec::new(),
        }
    }

    /// Serves one platform (it must be known) on `addr`; once any is named, exactly the
    /// named platforms run.
    pub fn listen(&mut self, platform_name: &str, addr: &str) -> Result<(), String> {
        if platform(platform_name).is_none() {
            let known: Vec<&str> = PLATFORMS.iter().map(|p| p.spec.name).collect();
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

    /// Sets the address of an extra listener (`comwit-apps`, `comwit-dns`).
    pub fn extra(&mut self, listening_name: &str, addr: &str) {
        self.extra_listen
            .insert(listening_name.to_owned(), addr.to_owned());
    }

    /// The platforms to start with their addresses, in the registry's order.
    pub fn served(&self) -> Vec<(Registration, String)> {
        PLATFORMS
            .iter()
            .filter_map(|p| {
                let named = self.serve.iter().find(|(n, _)| n == p.spec.name);
                match named {
                    Some((_, addr)) => Some((*p, addr.clone())),
                    None if self.serve.is_empty() && p.spec.name == SERVED_BY_DEFAULT => {
                        Some((*p, p.spec.default_listen.to_owned()))
                    }
                    None => None,
                }
            })
            .collect()
    }

    fn start_args(&self, listen: String, directory: &core::Directory) -> StartArgs {
        StartArgs {
            directory: directory.clone(),
            neighbours: PLATFORMS
                .iter()
                .map(|p| p.spec.state_subdir)
                .filter(|s| !s.is_empty())
                .collect(),
            listen,
            state_root: self.state_dir.clone(),
            allowed_hosts: self.allowed_hosts.clone(),
            extra_listen: self.extra_listen.clone(),
        }
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
    // Held until the process ends: `state export/import/reset` refuse while it is.
    let _lock = state_io::lock(&config.state_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("building the tokio runtime")?;
    runtime.block_on(async move {
        let mut running: Vec<Box<dyn Started>> = Vec::new();
        // Every platform registers there as it serves: the console lists them.
        let directory = core::Directory::default();
        for (registration, listen) in config.served() {
            let name = registration.spec.name;
            match (registration.start)(config.start_args(listen, &directory)).await {
                Ok(r) => running.push(r),
                Err(e) => {
                    for r in running {
                        r.stop().await;
                    }
                    return Err(e.context(format!("starting {name}")));
                }
            }
        }
        {
            let mut stdout = std::io::stdout().lock();
            for r in &running {
                for (platform, url) in r.listening() {
                    writeln!(stdout, "{}", Listening { platform, url })?;
                }
            }
            stdout.flush()?;
        }
        wait_for_signal().await;
        tracing::info!("shutting down");
        for r in running {
            r.stop().await;
        }
        Ok::<(), anyhow::Error>(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}

#[cfg(test)]
mod serving_tests {
    use super::*;

    fn served(config: &RunConfig) -> Vec<(&'static str, String)> {
        config
            .served()
            .into_iter()
            .map(|(r, addr)| (r.spec.name, addr))
            .collect()
    }

    #[test]
    fn no_serve_flag_serves_comwit_alone() {
        let config = RunConfig::new("/tmp/x");
        assert_eq!(
            served(&config),
            vec![("comwit", "127.0.0.1:8787".to_owned())]
        );
    }

    #[test]
    fn serve_flags_serve_exactly_the_named_platforms() {
        let mut config = RunConfig::new("/tmp/x");
        config.listen("cloudsync", "127.0.0.1:0").unwrap();
        assert_eq!(
            served(&config),
            vec![("cloudsync", "127.0.0.1:0".to_owned())]
        );
        config.listen("comwit", "127.0.0.1:1").unwrap();
        config.listen("wayscloud", "127.0.0.1:2").unwrap();
        config.listen("cloudsync", "127.0.0.1:3").unwrap();
        assert_eq!(
            served(&config),
            vec![
                ("comwit", "127.0.0.1:1".to_owned()),
                ("wayscloud", "127.0.0.1:2".to_owned()),
                ("cloudsync", "127.0.0.1:3".to_owned()),
            ],
            "registry order, the last address given"
        );
        let err = config.listen("nope", "x").unwrap_err();
        assert!(err.contains("comwit") && err.contains("cloudsync"), "{err}");
        assert_eq!(
            platform("cloudsync").map(|p| p.spec.default_listen),
            Some("127.0.0.1:8789")
        );
    }

    #[test]
    fn platform_names_are_unique_and_state_folders_distinct() {
        for (i, a) in PLATFORMS.iter().enumerate() {
            for b in &PLATFORMS[i + 1..] {
                assert_ne!(a.spec.name, b.spec.name);
                assert_ne!(a.spec.state_subdir, b.spec.state_subdir);
                assert_ne!(a.spec.default_listen, b.spec.default_listen);
            }
        }
    }
}
