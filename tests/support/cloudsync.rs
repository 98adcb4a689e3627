//! [`CloudSync`]: the real `platform-emulator` binary serving CloudSync
//! (`--serve cloudsync=127.0.0.1:0`, next to comwit on free ports) with a temporary state
//! directory, killed on drop; blocking HTTP helpers with the bootstrap management key and
//! the admin secret; [`CloudSync::sqlite_node`] for `sqlitecloud://` tenant databases.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};
use tempfile::TempDir;

use super::clear_isolated_env;

/// A running emulator serving CloudSync.
pub struct CloudSync {
    child: Option<Child>,
    _tmp: TempDir,
    state_dir: PathBuf,
    log_path: PathBuf,
    url: String,
    api_key: String,
    admin_secret: String,
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
}

impl CloudSync {
    /// Starts the emulator and waits for CloudSync's listening line.
    pub fn start() -> CloudSync {
        let tmp = tempfile::Builder::new()
            .prefix("cloudsync-emu-")
            .tempdir()
            .expect("temporary directory");
        let state_dir = tmp.path().join("state");
        let log_path = tmp.path().join("emulator.log");
        let (child, url) = spawn(&state_dir, &log_path, "127.0.0.1:0");
        let root = state_dir.join("cloudsync");
        let api_key = read_trimmed(&root.join("api-key"));
        let admin_secret = read_trimmed(&root.join("admin-secret"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        CloudSync {
            child: Some(child),
            _tmp: tmp,
            state_dir,
            log_path,
            url,
            api_key,
            admin_secret,
            rt,
            http: super::emulator::http_client(),
        }
    }

    /// Stops the emulator (SIGTERM) and starts it again on the same state and port; the
    /// admin secret is read again (a new one every start).
    pub fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
        let port = self.url.rsplit(':').next().unwrap_or("0").to_owned();
        let started = Instant::now();
        while std::net::TcpListener::bind(format!("127.0.0.1:{port}")).is_err()
            && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        let (child, url) = spawn(
            &self.state_dir,
            &self.log_path,
            &format!("127.0.0.1:{port}"),
        );
        self.child = Some(child);
        self.url = url;
        self.admin_secret = read_trimmed(&self.state_dir.join("cloudsync").join("admin-secret"));
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// `<state-dir>/cloudsync`.
    pub fn root(&self) -> PathBuf {
        self.state_dir.join("cloudsync")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// `CLOUDSYNC_API_URL` and `CLOUDSYNC_API_KEY` for a provider.
    pub fn provider_env(&self) -> Vec<(String, String)> {
        vec![
            ("CLOUDSYNC_API_URL".into(), self.url.clone()),
            ("CLOUDSYNC_API_KEY".into(), self.api_key.clone()),
        ]
    }

    /// One request; `key` is sent as the bearer key; answers (status, JSON body or Null).
    pub fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        admin: bool,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let mut headers = Vec::new();
        if admin {
            headers.push(("x-emulator-admin", self.admin_secret.as_str()));
        }
        let body = body.map(|b| serde_json::to_vec(&b).expect("json"));
        let reply = self
            .rt
            .block_on(super::emulator::send(
                &self.http, method, &url, key, &headers, body,
            ))
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        (reply.status.as_u16(), reply.body)
    }

    /// A public API call with the bootstrap key.
    pub fn api(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.request(method, path, Some(&self.api_key), false, body)
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

fn read_trimmed(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_owned()
}

/// Starts `platform-emulator` serving CloudSync on `listen` (comwit on free ports) and
/// waits for CloudSync's listening line.
fn spawn(state_dir: &Path, log_path: &Path, listen: &str) -> (Child, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .expect("emulator log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_platform-emulator"));
    cmd.args([
        "--listen",
        "127.0.0.1:0",
        "--apps-listen",
        "127.0.0.1:0",
        "--dns-listen",
        "127.0.0.1:0",
        "--serve",
    ])
    .arg(format!("cloudsync={listen}"))
    .arg("--state-dir")
    .arg(state_dir)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::from(log));
    clear_isolated_env(&mut cmd);
    cmd.env("COMWIT_EMULATOR_LOG", "debug");
    let mut child = cmd.spawn().expect("start platform-emulator");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let started = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) => {
                if let Some(l) = platforms::emulator::Listening::parse(&line) {
                    if l.platform == "cloudsync" {
                        return (child, l.url);
                    }
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) if started.elapsed() < Duration::from_secs(60) => {
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "no cloudsync listening line\n{}",
                    std::fs::read_to_string(log_path).unwrap_or_default()
                );
            }
        }
    }
}

impl Drop for CloudSync {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
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
