//! [`CloudSync`]: an [`Emulator`] serving CloudSync alone, with CloudSync's own helpers:
//! requests with a key or the admin secret, [`CloudSync::sqlite_node`] for `sqlitecloud://`
//! tenant databases, the stored databases; and [`TenantPostgres`], a real PostgreSQL for
//! tenant databases.
//!
//! Start-up, restart, the provider environment and the state directory are the one
//! [`Emulator`]'s (through `Deref`); a test that needs CloudSync beside another platform
//! uses [`Emulator::serving`] and [`Emulator::on`].

use std::io::Write as _;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

/// A real PostgreSQL 15 for tenant databases, one per test process, its cluster kept under
/// `target/tmp/` so `initdb` runs once; it dies with the test process. The harness's own
/// reading (`initdb`, `postgres`, `psql` as outside tools), not the emulator's engine
/// runner: the tests do not link the emulator's crate. Tests talk to it with `psql` as the
/// superuser (an outside client). `EMULATOR_POSTGRES_BIN_DIR` names another directory
/// of the PostgreSQL programs (default `/usr/lib/postgresql/15/bin`), as for the emulator.
pub struct TenantPostgres {
    dir: PathBuf,
    port: u16,
    password: String,
    bin_dir: PathBuf,
}

static TENANT_PG: std::sync::OnceLock<TenantPostgres> = std::sync::OnceLock::new();

/// The superuser the cluster is made with.
const TENANT_SUPERUSER: &str = "postgres";

impl TenantPostgres {
    /// The process's tenant server, started on first use.
    pub fn get() -> &'static TenantPostgres {
        TENANT_PG.get_or_init(|| {
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
                .join(format!("tenant-postgres-{name}"));
            TenantPostgres::start(dir)
        })
    }

    fn start(dir: PathBuf) -> TenantPostgres {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        let bin_dir = std::env::var_os("EMULATOR_POSTGRES_BIN_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql/15/bin"));
        // PostgreSQL refuses to run as root: then it runs as the `postgres` user.
        let run_as = run_as_postgres();
        std::fs::create_dir_all(&dir).expect("tenant PostgreSQL directory");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .expect("chmod tenant PostgreSQL directory");
        let chown = |path: &Path| {
            if let Some((uid, gid)) = run_as {
                std::os::unix::fs::chown(path, Some(uid), Some(gid))
                    .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
            }
        };
        chown(&dir);
        let data = dir.join("data");
        let password_file = dir.join("superuser-password");
        let password = match std::fs::read_to_string(&password_file) {
            Ok(p) if data.join("PG_VERSION").is_file() => p.trim().to_owned(),
            _ => {
                let password = format!("pg-{}", uuid::Uuid::new_v4().simple());
                if data.exists() {
                    std::fs::remove_dir_all(&data).expect("remove an unfinished cluster");
                }
                std::fs::write(&password_file, &password).expect("write the password");
                chown(&password_file);
                let mut initdb = Command::new(bin_dir.join("initdb"));
                initdb
                    .arg("-D")
                    .arg(&data)
                    .args(["-U", TENANT_SUPERUSER, "-E", "UTF8", "--locale=C"])
                    .args(["--auth=scram-sha-256", "--no-instructions"])
                    .arg(format!("--pwfile={}", password_file.display()))
                    .current_dir(&dir)
                    .env("LC_ALL", "C");
                if let Some((uid, gid)) = run_as {
                    initdb.uid(uid).gid(gid);
                }
                let out = initdb
                    .output()
                    .unwrap_or_else(|e| panic!("running {}/initdb: {e}", bin_dir.display()));
                assert!(
                    out.status.success(),
                    "initdb failed ({}):\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr)
                );
                password
            }
        };
        // A server an earlier test process left on this cluster (it dies with its process,
        // but not if that process was killed first) is stopped.
        if let Ok(pid) = std::fs::read_to_string(data.join("postmaster.pid")) {
            if let Some(pid) = pid
                .lines()
                .next()
                .and_then(|l| l.trim().parse::<u32>().ok())
            {
                let _ = Command::new("kill").arg(pid.to_string()).status();
                let deadline = Instant::now() + Duration::from_secs(20);
                while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = std::fs::File::create(dir.join("postgres.log")).expect("postgres log");
        chown(&dir.join("postgres.log"));
        let mut cmd = Command::new(bin_dir.join("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .args(["-c", &format!("port={port}")])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", "unix_socket_directories="])
            .args(["-c", "shared_buffers=16MB"])
            .args(["-c", "max_connections=200"])
            .args(["-c", "synchronous_commit=off"])
            .current_dir(&dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0);
        if let Some((uid, gid)) = run_as {
            cmd.uid(uid).gid(gid);
        }
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        // Spawned from a thread that lives as long as the process: the death signal is
        // sent when the spawning thread ends, not only the process.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || match cmd.spawn() {
            Ok(mut child) => {
                let _ = tx.send(Ok(()));
                let _ = child.wait();
            }
            Err(e) => {
                let _ = tx.send(Err(e));
            }
        });
        rx.recv()
            .expect("the PostgreSQL thread")
            .unwrap_or_else(|e| panic!("starting {}/postgres: {e}", bin_dir.display()));
        let pg = TenantPostgres {
            dir,
            port,
            password,
            bin_dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match pg.try_sql("postgres", "SELECT 1") {
                Ok(rows) if rows == [vec!["1".to_owned()]] => return pg,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                other => panic!(
                    "the tenant PostgreSQL did not answer SELECT 1 within 60 s ({other:?}); its log:\n{}",
                    std::fs::read_to_string(pg.dir.join("postgres.log")).unwrap_or_default()
                ),
            }
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `psql` as the superuser in `database`: rows as text (NULL as ""), or psql's error.
    fn try_sql(&self, database: &str, sql: &str) -> Result<Vec<Vec<String>>, String> {
        let mut child = super::outside_tool(self.bin_dir.join("psql"))
            .env("PGHOST", "127.0.0.1")
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", TENANT_SUPERUSER)
            .env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "5")
            .env_remove("PGSERVICE")
            .env_remove("PGDATABASE")
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-F",
                "\u{1f}",
            ])
            .args(["-d", database, "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("psql: {e}"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(sql.as_bytes())
                .map_err(|e| format!("psql stdin: {e}"))?;
        }
        let out = child.wait_with_output().map_err(|e| format!("psql: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "psql ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\u{1f}').map(str::to_owned).collect())
            .collect())
    }

    /// Runs `sql` in `database` as the superuser; rows as text.
    pub fn sql(&self, database: &str, sql: &str) -> Vec<Vec<String>> {
        self.try_sql(database, sql)
            .unwrap_or_else(|e| panic!("psql in {database}: {e}\n{sql}"))
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

/// `(uid, gid)` of the `postgres` user when this process is root (PostgreSQL refuses root),
/// else `None` (it runs as this process's user).
fn run_as_postgres() -> Option<(u32, u32)> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").expect("reading /etc/passwd");
    let found = passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == "postgres").then_some(())?;
        let _password = fields.next()?;
        Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
    });
    Some(found.expect("running as root, and no `postgres` user for the tenant PostgreSQL"))
}
