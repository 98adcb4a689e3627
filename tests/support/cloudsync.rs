//! [`CloudSync`]: an [`Emulator`] serving CloudSync alone, with CloudSync's own helpers:
//! requests with a key or the admin secret, [`CloudSync::sqlite_node`] for `sqlitecloud://`
//! tenant databases, the stored databases; and [`TenantPostgres`], a real PostgreSQL for
//! tenant databases.
//!
//! Start-up, restart, the provider environment and the state directory are the one
//! [`Emulator`]'s (through `Deref`); a test that needs CloudSync beside another platform
//! uses [`Emulator::serving`] and [`Emulator::on`].

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};

use reqwest::Method;
use serde_json::{json, Value};

use super::emulator::Emulator;
use super::platform::Platform;

/// A running emulator serving CloudSync.
pub struct CloudSync(Emulator);

impl Deref for CloudSync {
    type Target = Emulator;
    fn deref(&self) -> &Emulator {
        &self.0
    }
}

impl DerefMut for CloudSync {
    fn deref_mut(&mut self) -> &mut Emulator {
        &mut self.0
    }
}

impl CloudSync {
    /// Starts the emulator and waits for CloudSync's listening line.
    pub fn start() -> CloudSync {
        CloudSync(Emulator::serving(&[Platform::CloudSync]))
    }

    /// The bootstrap management key.
    pub fn api_key(&self) -> &str {
        self.token()
    }

    /// `<state-dir>/cloudsync`.
    pub fn root(&self) -> PathBuf {
        self.state_dir().join("cloudsync")
    }

    /// One request; `key` is sent as the bearer key, `admin` adds the admin secret;
    /// answers (status, JSON body or Null).
    pub fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        admin: bool,
        body: Option<Value>,
    ) -> (u16, Value) {
        let on = self.on(Platform::CloudSync);
        let secret = on.admin_secret().to_owned();
        let headers: &[(&str, &str)] = if admin {
            &[("x-emulator-admin", &secret)]
        } else {
            &[]
        };
        on.request(method, path, key, headers, body)
    }

    /// An admin call; panics unless 2xx.
    pub fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.request(method, path, None, true, body);
        assert!((200..300).contains(&status), "{path}: {status} {value}");
        value
    }

    /// Registers the SQLite Cloud node `host` with `apikey` and returns the folder its
    /// database files go in (`<databaseName>.sqlite`).
    pub fn sqlite_node(&self, host: &str, apikey: &str) -> PathBuf {
        let v = self.admin(
            Method::PUT,
            &format!("/_emulator/cloudsync/sqlitecloud/nodes/{host}"),
            Some(json!({ "apikey": apikey })),
        );
        PathBuf::from(v["dir"].as_str().expect("dir"))
    }

    /// A SQLite database file `name` on node dir `dir`, made with `sql`.
    pub fn sqlite_database(dir: &Path, name: &str, sql: &str) -> PathBuf {
        let path = dir.join(format!("{name}.sqlite"));
        let conn = rusqlite::Connection::open(&path).expect("open tenant sqlite");
        conn.execute_batch(sql).expect("tenant schema");
        path
    }

    /// The stored databases, with connection strings and secrets (admin view).
    pub fn stored(&self) -> Vec<Value> {
        self.admin(Method::GET, "/_emulator/cloudsync/databases", None)["databases"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// A real PostgreSQL 15 for tenant databases, one per test process (the emulator core's
/// engine runner, `platforms::emulator::core::engines::postgres`), its cluster kept under
/// `target/tmp/` so `initdb` runs once; it dies with the test process. Tests talk to it
/// with `psql` as the superuser (an outside client).
pub struct TenantPostgres {
    rt: tokio::runtime::Runtime,
    pg: platforms::emulator::core::engines::postgres::Postgres,
}

static TENANT_PG: std::sync::OnceLock<TenantPostgres> = std::sync::OnceLock::new();

impl TenantPostgres {
    /// The process's tenant server, started on first use.
    pub fn get() -> &'static TenantPostgres {
        TENANT_PG.get_or_init(|| {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            let exe = std::env::current_exe().expect("test executable");
            let name = exe
                .file_stem()
                .and_then(|s| s.to_str())
                .and_then(|s| s.split('-').next())
                .unwrap_or("tests")
                .to_owned();
            let dir = super::crate_dir()
                .join("target")
                .join("tmp")
                .join(format!("cloudsync-tenant-postgres-{name}"));
            let config = platforms::emulator::core::engines::postgres::PostgresConfig::new(dir);
            let pg = rt
                .block_on(platforms::emulator::core::engines::postgres::Postgres::start(config))
                .unwrap_or_else(|e| panic!("starting the tenant PostgreSQL: {e:#}"));
            TenantPostgres { rt, pg }
        })
    }

    pub fn port(&self) -> u16 {
        self.pg.port()
    }

    /// Runs `sql` in `database` as the superuser; rows as text.
    pub fn sql(&self, database: &str, sql: &str) -> Vec<Vec<String>> {
        self.rt
            .block_on(self.pg.query(database, sql))
            .unwrap_or_else(|e| panic!("psql in {database}: {e:#}\n{sql}"))
    }

    /// A fresh database owned by a fresh login role: (database, role, password). Names are
    /// unique per call.
    pub fn database(&self, tables_sql: &str) -> (String, String, String) {
        let tag = format!(
            "{}_{}",
            std::process::id(),
            uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .get(..8)
                .unwrap_or("x")
        );
        let (db, role) = (format!("tenant_{tag}"), format!("app_{tag}"));
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        self.sql(
            "postgres",
            &format!("CREATE ROLE {role} LOGIN PASSWORD '{password}';"),
        );
        self.sql("postgres", &format!("CREATE DATABASE {db} OWNER {role};"));
        if !tables_sql.is_empty() {
            self.sql(&db, &format!("SET ROLE {role};\n{tables_sql}"));
        }
        (db, role, password)
    }

    /// `postgres://role:password@127.0.0.1:PORT/database`.
    pub fn url(&self, role: &str, password: &str, database: &str) -> String {
        format!(
            "postgres://{role}:{password}@127.0.0.1:{}/{database}",
            self.port()
        )
    }
}
