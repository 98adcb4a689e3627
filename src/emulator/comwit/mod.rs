//! The Comwit platform: its public API (`/v1/...`), its admin routes (projects, tokens,
//! databases), its error shape, its store, and the SQL data plane (Hrana over HTTP on each
//! database's URL). It uses the core (`super::core`) and nothing of another platform.

mod admin;
mod api;
pub mod apps;
mod console;
pub mod dns;
mod error;
mod extract;
pub(crate) mod sql;
pub mod store;
pub mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::FromRef;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::task::JoinHandle;

use super::core::blocking;
use super::core::clock::Clock;
use super::core::faults::{FaultRule, FaultRules};
use super::core::hosts::AllowedHosts;
use super::core::secrets::write_secret;
use super::core::server;
use super::core::{
    BoxFuture, CoreConfig, CoreError, Directory, Launch, LiveState, Platform, PlatformSpec,
    Registration, Served, StartArgs, Started, Starting,
};

pub use error::ApiError;
pub use store::{SqlAuthError, Store, StoreError, TokenKind};

/// Comwit's name and default address.
pub const SPEC: PlatformSpec = PlatformSpec {
    name: "comwit",
    default_listen: "127.0.0.1:8787",
    state_subdir: "",
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
/// Env: the Node.js binary that builds and serves apps (else `node` on `PATH`).
pub const ENV_NODE: &str = apps::node::ENV_NODE;

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
    /// Address of the app gateway (port 0 picks a free port). `Config::new` uses
    /// `127.0.0.1:0`; the command line's default is `127.0.0.1:8790`.
    pub apps_listen: String,
    /// The Node.js binary of apps (`COMWIT_EMULATOR_NODE`, default `node` on `PATH`).
    pub node_binary: PathBuf,
    /// Address of the DNS server, UDP and TCP (port 0 picks a free port). `Config::new`
    /// uses `127.0.0.1:0`; the command line's default is `127.0.0.1:8753`.
    pub dns_listen: String,
    /// The DNS server delegation checks and hostname verification ask
    /// (`COMWIT_EMULATOR_DNS_RESOLVER`); `None`: the emulator's own DNS server.
    pub dns_resolver: Option<SocketAddr>,
    /// Where the state reads the time: the system clock, or one a test controls.
    pub clock: Clock,
    /// `Host` names every listener accepts beyond loopback and `localhost`
    /// (`--allow-host`, `COMWIT_EMULATOR_ALLOWED_HOSTS`).
    pub allowed_hosts: AllowedHosts,
    /// The other platforms' folders inside the state directory (not Comwit's state; from
    /// the registry, `StartArgs::neighbours`). `Config::new`: none.
    pub state_neighbours: Vec<&'static str>,
    /// The served platforms of this process (`StartArgs::directory`); `Config::new`: one
    /// of its own, listing Comwit alone.
    pub directory: Directory,
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
            apps_listen: "127.0.0.1:0".to_owned(),
            node_binary: PathBuf::from("node"),
            dns_listen: "127.0.0.1:0".to_owned(),
            dns_resolver: None,
            clock: Clock::system(),
            allowed_hosts: AllowedHosts::default(),
            state_neighbours: Vec::new(),
            directory: Directory::default(),
        }
    }

    /// A configuration with the defaults overridden by the `PLATFORM_API_PROTECTED_TENANTS`,
    /// `COMWIT_EMULATOR_BOOTSTRAP_TOKEN`, `COMWIT_EMULATOR_ADMIN_SECRET` and
    /// `COMWIT_EMULATOR_FAULTS` and `COMWIT_EMULATOR_NODE` environment variables.
    pub fn from_env(
        listen: impl Into<String>,
        state_dir: impl Into<PathBuf>,
    ) -> anyhow::Result<Config> {
        let mut config = Config::new(listen, state_dir);
        config.allowed_hosts = AllowedHosts::from_env();
        if let Ok(tenants) = std::env::var(ENV_PROTECTED_TENANTS) {
            config.protected_tenants = parse_tenants(&tenants);
        }
        let non_empty = |var: &str| std::env::var(var).ok().filter(|v| !v.trim().is_empty());
        config.bootstrap_token = non_empty(ENV_BOOTSTRAP_TOKEN);
        config.admin_secret = non_empty(ENV_ADMIN_SECRET);
        if let Some(node) = non_empty(ENV_NODE) {
            config.node_binary = PathBuf::from(node);
        }
        if let Some(resolver) = non_empty(dns::ENV_DNS_RESOLVER) {
            config.dns_resolver = Some(resolver.trim().parse().with_context(|| {
                format!(
                    "{} must be ip:port, got {resolver:?}",
                    dns::ENV_DNS_RESOLVER
                )
            })?);
        }
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

/// Shared state of Comwit's HTTP routers. Each handler area receives only its part, by
/// `FromRef`: the database handlers [`Databases`], the SQL data plane `Arc<SqlServer>`, the
/// apps handlers `Arc<Apps>`, the DNS handlers [`dns::DnsInfo`]; every area reaches the
/// store through the core's `StoreCalls` (`Arc<Store>`, `extract.rs`).
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<Store>,
    pub protected_tenants: Arc<Vec<String>>,
    /// `http://host:port` of this emulator (for `database_url`).
    pub public_base: Arc<str>,
    /// The SQL data plane (`/db/{database}/...`).
    pub sql: Arc<sql::SqlServer>,
    /// Apps: builds, workers, the gateway's port.
    pub apps: Arc<apps::Apps>,
    /// The DNS server's address and the resolver lookups ask.
    pub dns: dns::DnsInfo,
    /// The served platforms of this process: the console's CSP `connect-src`.
    pub directory: Directory,
}

/// What the database handlers (`api.rs`) use beside the store.
#[derive(Clone)]
pub(crate) struct Databases {
    pub protected_tenants: Arc<Vec<String>>,
    /// `http://host:port` of this emulator (for `database_url`).
    pub public_base: Arc<str>,
    /// For the WAL numbers of the Database object.
    pub sql: Arc<sql::SqlServer>,
}

impl FromRef<AppState> for Databases {
    fn from_ref(state: &AppState) -> Databases {
        Databases {
            protected_tenants: state.protected_tenants.clone(),
            public_base: state.public_base.clone(),
            sql: state.sql.clone(),
        }
    }
}

impl FromRef<AppState> for Arc<sql::SqlServer> {
    fn from_ref(state: &AppState) -> Arc<sql::SqlServer> {
        state.sql.clone()
    }
}

impl FromRef<AppState> for Arc<apps::Apps> {
    fn from_ref(state: &AppState) -> Arc<apps::Apps> {
        state.apps.clone()
    }
}

impl FromRef<AppState> for dns::DnsInfo {
    fn from_ref(state: &AppState) -> dns::DnsInfo {
        state.dns
    }
}

/// The Comwit [`Platform`]: routes with their state, and the contract's error shape.
pub(crate) struct Comwit {
    state: AppState,
    live: Arc<Live>,
}

/// Comwit's state as the core's state routes replace it (`core::state_admin`): its store,
/// the SQL connections and app workers that keep files open, and the bootstrap token of a
/// fresh state (`COMWIT_EMULATOR_BOOTSTRAP_TOKEN`, else random, written to
/// `bootstrap-token` as on a first start).
struct Live {
    store: Arc<Store>,
    sql: Arc<sql::SqlServer>,
    apps: Arc<apps::Apps>,
    bootstrap_env: Option<String>,
}

impl LiveState for Live {
    fn holds_objects(&self) -> BoxFuture<'static, anyhow::Result<bool>> {
        let store = self.store.clone();
        Box::pin(async move { Ok(blocking::run(&store, |s| s.holds_objects()).await?) })
    }

    fn replace(
        &self,
        change: Box<dyn FnOnce() -> anyhow::Result<()> + Send>,
    ) -> BoxFuture<'static, anyhow::Result<()>> {
        let (store, sql, apps) = (self.store.clone(), self.sql.clone(), self.apps.clone());
        let token = self.bootstrap_env.clone();
        Box::pin(async move {
            apps.release_state().await;
            sql.close_connections().await;
            blocking::run(&store, move |s| {
                s.reopen_after(change)?;
                if let Some(token) = s.bootstrap(token.as_deref())? {
                    write_secret(&s.state_dir().join("bootstrap-token"), &token)?;
                }
                Ok::<_, StoreError>(())
            })
            .await?;
            apps.state_replaced()?;
            Ok(())
        })
    }
}

impl Platform for Comwit {
    fn spec(&self) -> PlatformSpec {
        SPEC
    }

    fn public_routes(&self) -> Router {
        api::routes()
            .merge(apps::api::routes())
            .merge(dns::api::routes())
            .merge(sql::routes())
            .merge(console::routes())
            .with_state(self.state.clone())
    }

    fn admin_routes(&self) -> Router {
        admin::routes()
            .merge(apps::admin::routes())
            .merge(dns::api::admin_routes())
            .with_state(self.state.clone())
    }

    fn error_response(&self, error: CoreError) -> Response {
        ApiError::from(error).into_response()
    }

    fn live_state(&self) -> Option<Arc<dyn LiveState>> {
        Some(self.live.clone())
    }

    /// The browser console at `/` (`console.rs`).
    fn serves_console(&self) -> bool {
        true
    }

    /// Empty segments are ignored under `/db/` (a client appending `/v2/pipeline` to the
    /// database URL sends `…/<id>//v2/pipeline`), and so is a final `/`; a database's own
    /// host (`<id>.db.localhost`) serves its `/db/<id>/` (`sql::normalize_path`).
    fn normalize_path(&self, host: Option<&str>, path: &str) -> Option<String> {
        sql::normalize_path(host, path)
    }
}

/// Comwit in the emulator's registry: its API, then its app gateway (`comwit-apps`,
/// `--apps-listen`) and DNS server (`comwit-dns`, `--dns-listen`).
pub const REGISTRATION: Registration = Registration {
    spec: SPEC,
    start: start_registered,
};

fn start_registered(args: StartArgs) -> Starting {
    Box::pin(async move {
        let mut config = Config::from_env(&args.listen, &args.state_root)?;
        config.apps_listen = args.extra(apps::APPS_LISTENING_NAME, apps::DEFAULT_APPS_LISTEN);
        config.dns_listen = args.extra(
            dns::server::DNS_LISTENING_NAME,
            dns::server::DEFAULT_DNS_LISTEN,
        );
        args.extend_hosts(&mut config.allowed_hosts);
        config.state_neighbours = args.neighbours(&SPEC);
        config.directory = args.directory.clone();
        Ok(Box::new(Emulator::start(config).await?) as Box<dyn Started>)
    })
}

impl Started for Emulator {
    fn listening(&self) -> Vec<(String, String)> {
        vec![
            (SPEC.name.to_owned(), self.base_url().to_owned()),
            (
                apps::APPS_LISTENING_NAME.to_owned(),
                self.apps_url().to_owned(),
            ),
            (
                dns::server::DNS_LISTENING_NAME.to_owned(),
                format!("dns://{}", self.dns_addr()),
            ),
        ]
    }

    fn stop(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(self.shutdown())
    }
}

/// A running Comwit emulator.
pub struct Emulator {
    served: Served,
    bootstrap_token: Option<String>,
    store: Arc<Store>,
    sql: Arc<sql::SqlServer>,
    sql_maintenance: JoinHandle<()>,
    apps_url: String,
    apps: Arc<apps::Apps>,
    gateway: JoinHandle<()>,
    dns_server: dns::server::DnsServer,
}

impl Emulator {
    /// Opens the state directory (migrating it), bootstraps it on first start, binds the
    /// listeners and starts serving in the background.
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
                neighbours: &config.state_neighbours,
                directory: &config.directory,
            },
        )
        .await?;
        if let Some(token) = &config.bootstrap_token {
            if !validate::is_user_token(token) {
                anyhow::bail!("{ENV_BOOTSTRAP_TOKEN} must match cwt_[0-9a-f]{{16,}}");
            }
        }
        let state_dir = launch.dir().to_path_buf();
        let dir = state_dir.clone();
        let bootstrap_env = config.bootstrap_token.clone();
        let clock = config.clock.clone();
        let (store, bootstrap_token) =
            tokio::task::spawn_blocking(move || -> anyhow::Result<(Store, Option<String>)> {
                let store = Store::open_with_clock(&dir, clock)
                    .with_context(|| format!("opening state in {}", dir.display()))?;
                let token = store.bootstrap(bootstrap_env.as_deref())?;
                if let Some(token) = &token {
                    write_secret(&dir.join("bootstrap-token"), token)
                        .context("writing bootstrap-token")?;
                }
                Ok((store, token))
            })
            .await??;

        let apps_bound = server::bind(&config.apps_listen)
            .await
            .context("binding the app gateway (--apps-listen)")?;
        let apps_url = apps_bound.base_url.clone();

        let store = Arc::new(store);
        let shutdown_rx = launch.shutdown_signal();
        let dns_server =
            dns::server::DnsServer::start(&config.dns_listen, store.clone(), shutdown_rx.clone())
                .await
                .context("starting the DNS server (--dns-listen)")?;
        let dns_info = dns::DnsInfo {
            server: dns_server.addr,
            resolver: config.dns_resolver.unwrap_or(dns_server.addr),
        };
        let apps = Arc::new(apps::Apps::new(
            store.clone(),
            config.node_binary.clone(),
            apps_bound.addr.port(),
        )?);
        let state = AppState {
            store: store.clone(),
            protected_tenants: Arc::new(config.protected_tenants.clone()),
            public_base: Arc::from(launch.base_url()),
            sql: sql::SqlServer::new(store.clone()),
            apps: apps.clone(),
            dns: dns_info,
            directory: launch.directory().clone(),
        };
        let sql = state.sql.clone();
        let sql_maintenance = tokio::spawn(sql.clone().run_maintenance(shutdown_rx.clone()));
        let gateway = tokio::spawn(apps::gateway::serve(
            apps_bound.listener,
            apps::gateway::Gateway::new(apps.clone(), dns_info, config.allowed_hosts.clone())?,
            shutdown_rx,
        ));
        let live = Arc::new(Live {
            store: store.clone(),
            sql: sql.clone(),
            apps: apps.clone(),
            bootstrap_env: config.bootstrap_token.clone(),
        });
        let served = launch.serve(Arc::new(Comwit { state, live }))?;
        tracing::info!(
            platform = SPEC.name,
            %apps_url,
            dns = %dns_info.server,
            protected_tenants = ?config.protected_tenants,
            bootstrapped = bootstrap_token.is_some(),
            "listeners started"
        );
        Ok(Emulator {
            served,
            bootstrap_token,
            store,
            sql,
            sql_maintenance,
            apps_url,
            apps,
            gateway,
            dns_server,
        })
    }

    /// The DNS server's address (UDP and TCP).
    pub fn dns_addr(&self) -> SocketAddr {
        self.dns_server.addr
    }

    /// `http://host:port` of the app gateway.
    pub fn apps_url(&self) -> &str {
        &self.apps_url
    }

    /// The address the emulator listens on (loopback when bound to an unspecified address).
    pub fn local_addr(&self) -> SocketAddr {
        self.served.addr()
    }

    /// `http://host:port`.
    pub fn base_url(&self) -> &str {
        self.served.base_url()
    }

    /// The admin secret for the `X-Emulator-Admin` header.
    pub fn admin_secret(&self) -> &str {
        self.served.admin_secret()
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
        self.served.stop().await;
        if let Err(e) = self.sql_maintenance.await {
            tracing::warn!(error = %e, "SQL maintenance task failed");
        }
        if let Err(e) = self.gateway.await {
            tracing::warn!(error = %e, "app gateway task failed");
        }
        self.dns_server.stopped().await;
        // Closes the SQL connections once the open requests are done.
        self.sql.shutdown().await;
        self.apps.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                copy_dir(&entry.path(), &target)?;
            } else {
                std::fs::copy(entry.path(), &target)?;
            }
        }
        Ok(())
    }

    /// A state directory written by the emulator before schema versioning (fixture from
    /// fec6ca6) opens, migrates to the latest version, and still serves its data.
    #[tokio::test]
    async fn a_state_dir_from_before_versioning_migrates() -> Result<(), Box<dyn std::error::Error>>
    {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/emulator-state-v0");
        let facts: Value =
            serde_json::from_str(&std::fs::read_to_string(fixture.join("fixture.json"))?)?;
        let dir = tempfile::tempdir()?;
        let state = dir.path().join("state");
        copy_dir(&fixture, &state)?;
        std::fs::remove_file(state.join("fixture.json"))?;
        let old = rusqlite::Connection::open(state.join(store::STATE_FILE))?;
        assert_eq!(crate::emulator::core::state::user_version(&old)?, 0);

        // The emulator's clock stands an hour after the fixture's idempotency key was
        // written (whatever today's date), so the key is inside its replay window.
        let key_written: i64 = old.query_row(
            "SELECT created_unix FROM idempotency_keys WHERE key = ?1",
            [facts["idempotency_key"].as_str().ok_or("key")?],
            |r| r.get(0),
        )?;
        drop(old);
        let clock = Clock::fixed(time::OffsetDateTime::from_unix_timestamp(key_written)?);
        clock.advance(time::Duration::hours(1));
        let mut config = Config::new("127.0.0.1:0", &state);
        config.clock = clock.clone();
        let emu = Emulator::start(config).await?;
        assert_eq!(
            emu.store().schema_version()?,
            crate::emulator::core::state::latest_version(store::schema::MIGRATIONS)
        );
        assert!(emu.bootstrap_token().is_none(), "the old token is kept");
        // The v2 step added the apps tables, empty; v3 the DNS tables.
        assert!(emu.store().list_apps("prj_local")?.is_empty());
        assert!(emu.store().list_domains("prj_local")?.is_empty());
        let migrated = rusqlite::Connection::open(state.join(store::STATE_FILE))?;
        for table in [
            "apps",
            "artifacts",
            "builds",
            "app_env",
            "domains",
            "dns_records",
            "app_hostnames",
        ] {
            let n: i64 = migrated.query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |r| r.get(0),
            )?;
            assert_eq!(n, 1, "table {table}");
        }
        drop(migrated);
        let http = reqwest::Client::new();
        let user = facts["user_token"].as_str().ok_or("user_token")?;
        let db = facts["database_id"].as_str().ok_or("database_id")?;
        let resp = http
            .get(format!("{}/v1/databases/{db}", emu.base_url()))
            .bearer_auth(user)
            .send()
            .await?;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await?;
        assert_eq!(body["name"], facts["database_name"]);

        let sql = json!({"requests": [
            {"type": "execute", "stmt": {"sql": "SELECT name FROM items ORDER BY id"}},
            {"type": "close"}
        ]});
        let resp = http
            .post(format!("{}/db/{db}/v2/pipeline", emu.base_url()))
            .bearer_auth(facts["database_token"].as_str().ok_or("database_token")?)
            .json(&sql)
            .send()
            .await?;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await?;
        let rows = &body["results"][0]["response"]["result"]["rows"];
        assert_eq!(rows[0][0]["value"], "apple", "{body}");
        assert_eq!(rows[1][0]["value"], "pear", "{body}");

        // The idempotency key of the fixture still replays the same database.
        let key = facts["idempotency_key"].as_str().ok_or("key")?;
        let create_again = || {
            http.post(format!(
                "{}/v1/projects/prj_local/databases",
                emu.base_url()
            ))
            .bearer_auth(user)
            .header("Idempotency-Key", key)
            .json(&json!({"name": "orders"}))
            .send()
        };
        let resp = create_again().await?;
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await?;
        assert_eq!(body["database"]["database_id"], db);

        // A day later the key is forgotten: the same request is a new create, refused
        // because the name is taken (it is not replayed).
        clock.advance(time::Duration::hours(24));
        let resp = create_again().await?;
        assert_eq!(resp.status(), 409, "{}", resp.text().await?);
        emu.shutdown().await;

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: std::path::PathBuf| {
                std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777)
            };
            assert_eq!(mode(state.clone())?, 0o700);
            assert_eq!(mode(state.join("databases"))?, 0o700);
            assert_eq!(mode(state.join(store::STATE_FILE))?, 0o600);
        }
        Ok(())
    }

    /// A state file with a newer schema version than this emulator knows is refused.
    #[tokio::test]
    async fn a_newer_state_file_is_refused() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        {
            let conn = rusqlite::Connection::open(dir.path().join(store::STATE_FILE))?;
            conn.pragma_update(None, "user_version", 99)?;
        }
        let err = match Emulator::start(Config::new("127.0.0.1:0", dir.path())).await {
            Ok(emu) => {
                emu.shutdown().await;
                return Err("a newer state file was accepted".into());
            }
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains("schema version 99"), "{err}");
        assert!(err.contains("newer than this emulator knows"), "{err}");
        Ok(())
    }

    /// A fresh state directory: directories 0700, SQLite files 0600 (database files and
    /// their WAL included), whatever the umask.
    #[cfg(unix)]
    #[tokio::test]
    async fn state_files_are_private() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let state = dir.path().join("fresh");
        let emu = Emulator::start(Config::new("127.0.0.1:0", &state)).await?;
        let created = emu.store().create_database(
            store::LOCAL_PROJECT_ID,
            &store::NewDatabase {
                name: "modes".into(),
                group: "default".into(),
                size_limit_mb: 1,
            },
            None,
        )?;
        let file = emu.store().database_file(&created.database.database_id);
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode(&state)?, 0o700);
        assert_eq!(mode(&state.join("databases"))?, 0o700);
        for name in [
            "emulator.sqlite",
            "emulator.sqlite-wal",
            "bootstrap-token",
            "admin-secret",
        ] {
            assert_eq!(mode(&state.join(name))?, 0o600, "{name}");
        }
        assert_eq!(mode(&file)?, 0o600);
        emu.shutdown().await;
        Ok(())
    }
}
