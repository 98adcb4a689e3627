//! A private MariaDB server: initialised once (`mariadb-install-db`) in a directory of the
//! emulator's state, started on loopback with a known password for `root@127.0.0.1`,
//! reused across restarts, stopped with the emulator (see [`super`] for the user it runs
//! as and why it never outlives the emulator).
//!
//! Layout of its directory:
//!
//! - `data/`: the server's data (owned by the engine's user, 0700), with its pid file and
//!   its Unix socket `mysqld.sock` (the emulator itself connects over TCP only);
//! - `root-password`: the password of `root@127.0.0.1` (0600);
//! - `port`: the port of the last start;
//! - `mariadb.log`: the server's output (appended).
//!
//! At every start an init file (removed once the server is up) makes sure
//! `root@127.0.0.1` exists with the stored password and every privilege. Names are never
//! resolved (`skip-name-resolve`): account hosts are addresses or `address/netmask`. Admin
//! SQL runs through the `mysql` client ([`MariaDb::query`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::{RunAs, Supervised};

/// Env: a directory with `mariadbd`, `mariadb-install-db` and `mysql` (else `/usr/sbin`
/// for the server, `PATH` for the rest).
pub const ENV_BIN_DIR: &str = "EMULATOR_MARIADB_BIN_DIR";
/// The administrator's user name (as `root@127.0.0.1`).
pub const ROOT: &str = "root";
/// The address the server listens on.
pub const HOST: &str = "127.0.0.1";
/// The users MariaDB runs as when the emulator is root, first found wins.
pub const RUN_AS_CANDIDATES: &[&str] = &["mysql"];

/// How to start a server.
#[derive(Debug, Clone)]
pub struct MariaDbConfig {
    /// The server's directory (created if needed).
    pub dir: PathBuf,
    /// Where `mariadbd`, `mariadb-install-db`, `mysql`, `mariadb-dump` are looked for
    /// first (`PATH` and `/usr/sbin` next).
    pub bin_dir: Option<PathBuf>,
    /// Extra `--name=value` server options.
    pub options: Vec<(String, String)>,
    /// How long to wait for the server to accept connections.
    pub start_timeout: Duration,
}

impl MariaDbConfig {
    pub fn new(dir: impl Into<PathBuf>) -> MariaDbConfig {
        MariaDbConfig {
            dir: dir.into(),
            bin_dir: std::env::var(ENV_BIN_DIR)
                .ok()
                .filter(|s| !s.trim().is_empty())
                .map(PathBuf::from),
            options: Vec::new(),
            start_timeout: Duration::from_secs(60),
        }
    }
}

/// A running MariaDB server. Dropping it asks the server to stop without waiting;
/// [`MariaDb::stop`] waits.
#[derive(Debug)]
pub struct MariaDb {
    dir: PathBuf,
    data: PathBuf,
    bin_dir: Option<PathBuf>,
    port: u16,
    password: String,
    process: Supervised,
}

fn find_binary(bin_dir: Option<&Path>, name: &str) -> PathBuf {
    if let Some(dir) = bin_dir {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"] {
        let candidate = Path::new(dir).join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    PathBuf::from(name)
}

impl MariaDb {
    /// Initialises the data directory on first use, stops a server an earlier emulator
    /// left on it, starts the server and waits until `root@127.0.0.1` can connect.
    pub async fn start(config: MariaDbConfig) -> anyhow::Result<MariaDb> {
        let run_as = RunAs::for_engine(RUN_AS_CANDIDATES)?;
        let dir = std::path::absolute(&config.dir)
            .with_context(|| format!("resolving {}", config.dir.display()))?;
        super::engine_dir(&dir, run_as.as_ref())
            .with_context(|| format!("preparing {}", dir.display()))?;
        let data = dir.join("data");
        let password = super::stored_password(&dir.join("root-password"))
            .context("reading or writing the MariaDB root password")?;
        let bin = |name: &str| find_binary(config.bin_dir.as_deref(), name);

        if !data.join("mysql").join("user.frm").is_file()
            && !data.join("mysql").join("global_priv.frm").is_file()
        {
            init_data(&dir, &data, run_as.as_ref(), &bin("mariadb-install-db")).await?;
        }
        super::owned_dir(&data, run_as.as_ref())
            .with_context(|| format!("securing {}", data.display()))?;
        let pid_file = data.join("mariadb.pid");
        super::stop_stale(&pid_file, &["mariadbd", "mysqld"]).await;

        let port = super::pick_port(&dir.join("port")).context("choosing a port")?;
        let init_file = dir.join("init.sql");
        let init = format!(
            "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY {pw};\n\
             ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY {pw};\n\
             GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n\
             FLUSH PRIVILEGES;\n",
            pw = quote_literal(&password)
        );
        super::super::secrets::write_secret(&init_file, &init)
            .with_context(|| format!("writing {}", init_file.display()))?;
        if let Some(user) = &run_as {
            std::os::unix::fs::chown(&init_file, Some(user.uid), Some(user.gid))?;
        }

        let log_path = dir.join("mariadb.log");
        let log = super::super::files::open_private(&log_path, false)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let log = append(log)?;
        let mut cmd = std::process::Command::new(bin("mariadbd"));
        let tmp = private_tmp(&dir, run_as.as_ref())?;
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--tmpdir={}", tmp.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--bind-address={HOST}"))
            .arg(format!("--socket={}", data.join("mysqld.sock").display()))
            .arg(format!("--pid-file={}", pid_file.display()))
            .arg(format!("--init-file={}", init_file.display()))
            .args([
                "--skip-name-resolve",
                "--skip-log-bin",
                "--performance-schema=OFF",
                "--innodb-buffer-pool-size=32M",
                "--innodb-flush-log-at-trx-commit=2",
                // Many test servers at once exhaust the kernel's async I/O contexts.
                "--innodb-use-native-aio=0",
                "--max-connections=300",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
            ]);
        for (name, value) in &config.options {
            cmd.arg(format!("--{name}={value}"));
        }
        cmd.current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if let Some(user) = &run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(user.uid).gid(user.gid);
        }
        let process = Supervised::spawn(cmd, "mariadb")
            .with_context(|| format!("starting {}", bin("mariadbd").display()))?;
        let server = MariaDb {
            dir,
            data,
            bin_dir: config.bin_dir.clone(),
            port,
            password,
            process,
        };
        let ready = server.wait_ready(config.start_timeout, &log_path).await;
        let _ = std::fs::remove_file(&init_file);
        ready?;
        tracing::info!(port, dir = %server.dir.display(), pid = server.process.pid(), "MariaDB started");
        Ok(server)
    }

    async fn wait_ready(&self, timeout: Duration, log_path: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.process.exited() {
                anyhow::bail!(
                    "MariaDB exited while starting ({status}); its log ({}) ends with:\n{}",
                    log_path.display(),
                    super::log_tail(log_path, 20)
                );
            }
            match self.query("SELECT 1").await {
                Ok(rows) if rows == [vec!["1".to_owned()]] => return Ok(()),
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Ok(rows) => anyhow::bail!("MariaDB answered SELECT 1 with {rows:?}"),
                Err(e) => {
                    return Err(e.context(format!(
                    "MariaDB did not accept connections within {timeout:?}; its log ends with:\n{}",
                    super::log_tail(log_path, 20)
                )))
                }
            }
        }
    }

    pub fn host(&self) -> &str {
        HOST
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn root_password(&self) -> &str {
        &self.password
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// A client binary (`mysql`, `mariadb-dump`, ...).
    pub fn binary(&self, name: &str) -> PathBuf {
        find_binary(self.bin_dir.as_deref(), name)
    }

    /// A client command connected as `root@127.0.0.1` over TCP (password in `MYSQL_PWD`),
    /// options files ignored (`mysql` also gets a 5-second connect timeout; the dump tool
    /// has no such option).
    pub fn client(&self, binary: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(self.binary(binary));
        cmd.arg("--no-defaults")
            .args(["--protocol=TCP", "-h", HOST])
            .arg(format!("--port={}", self.port))
            .args(["-u", ROOT])
            .env("MYSQL_PWD", &self.password);
        if matches!(binary, "mysql" | "mariadb") {
            cmd.arg("--connect-timeout=5");
        }
        cmd
    }

    /// Runs `sql` (statements separated by `;`) as root, and returns the rows of the
    /// results, fields as text (`NULL` as "NULL", tabs and newlines escaped by the
    /// client's batch mode), stopping at the first error.
    pub async fn query(&self, sql: &str) -> anyhow::Result<Vec<Vec<String>>> {
        let mut cmd = self.client("mysql");
        cmd.args(["-N", "-B"]);
        let out = super::run_tool(cmd, Some(sql), "mysql").await?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect())
    }

    /// The exit status of the server process, once it has exited (`None` while it runs).
    pub fn exited(&self) -> Option<String> {
        self.process.exited()
    }

    /// [`MariaDb::query`], rows ignored.
    pub async fn execute(&self, sql: &str) -> anyhow::Result<()> {
        self.query(sql).await.map(|_| ())
    }

    /// Stops the server (a clean shutdown) and waits for it, killing it after 30 seconds.
    pub async fn stop(self) {
        self.halt().await;
    }

    /// [`MariaDb::stop`] through a shared handle (see [`super::postgres::Postgres::halt`]).
    pub async fn halt(&self) {
        self.process
            .stop(libc::SIGTERM, Duration::from_secs(30))
            .await;
        tracing::info!(dir = %self.dir.display(), "MariaDB stopped");
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.process.signal(libc::SIGTERM);
    }
}

async fn init_data(
    dir: &Path,
    data: &Path,
    run_as: Option<&RunAs>,
    install_db: &Path,
) -> anyhow::Result<()> {
    if data.exists() {
        std::fs::remove_dir_all(data)
            .with_context(|| format!("removing the unfinished data {}", data.display()))?;
    }
    super::owned_dir(data, run_as).with_context(|| format!("creating {}", data.display()))?;
    let tmp = private_tmp(dir, run_as)?;
    let mut cmd = tokio::process::Command::new(install_db);
    cmd.arg("--no-defaults")
        .arg(format!("--datadir={}", data.display()))
        .arg(format!("--tmpdir={}", tmp.display()))
        .args([
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ])
        .current_dir(dir);
    if let Some(user) = run_as {
        cmd.arg(format!("--user={}", user.name));
    }
    super::run_tool(cmd, None, &format!("{}", install_db.display())).await?;
    super::chown_tree(data, run_as).context("chowning the MariaDB data")?;
    Ok(())
}

/// The server's own temporary directory (`<dir>/tmp`): with the shared `/tmp`, servers
/// bootstrapped at the same moment name their temporary tables alike and remove each
/// other's (`Unknown table 'mysql.tmp_proxies_priv'`).
fn private_tmp(dir: &Path, run_as: Option<&RunAs>) -> anyhow::Result<PathBuf> {
    let tmp = dir.join("tmp");
    super::owned_dir(&tmp, run_as).with_context(|| format!("creating {}", tmp.display()))?;
    Ok(tmp)
}

fn append(file: std::fs::File) -> anyhow::Result<std::fs::File> {
    use std::io::Seek;
    let mut file = file;
    file.seek(std::io::SeekFrom::End(0))?;
    Ok(file)
}

/// `name` as a quoted MariaDB identifier.
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `text` as a MariaDB string literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_literal("it's \\"), "'it''s \\\\'");
    }

    /// A real server: initialised, started, a database and user made and used with the
    /// password, a wrong password refused; stopped, started again on the same data (rows
    /// and root password kept); no server left after the stop.
    #[tokio::test]
    async fn a_private_server_starts_keeps_its_data_and_stops() -> anyhow::Result<()> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("state").join("mariadb");
        let server = MariaDb::start(MariaDbConfig::new(&dir)).await?;
        let first_port = server.port();
        let password = server.root_password().to_owned();
        server
            .execute(
                "CREATE DATABASE app; CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'secret1'; \
                 GRANT ALL ON app.* TO 'app'@'127.0.0.1';",
            )
            .await?;
        let as_app = |pw: &str| {
            let mut cmd = tokio::process::Command::new(server.binary("mysql"));
            cmd.args(["--no-defaults", "--protocol=TCP", "-h", HOST])
                .arg(format!("--port={}", server.port()))
                .args(["-u", "app", "-N", "-B", "app"])
                .env("MYSQL_PWD", pw);
            cmd
        };
        let mut cmd = as_app("secret1");
        cmd.args([
            "-e",
            "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept');",
        ]);
        super::super::run_tool(cmd, None, "mysql as app").await?;
        let mut wrong = as_app("wrong");
        wrong.args(["-e", "SELECT 1"]);
        let err = super::super::run_tool(wrong, None, "mysql wrong password")
            .await
            .err()
            .ok_or_else(|| anyhow::anyhow!("a wrong password was accepted"))?;
        assert!(format!("{err:#}").contains("Access denied"), "{err:#}");
        let pid = server.pid();
        server.stop().await;
        assert!(!super::super::is_live_process(pid, &["mariadbd"]));

        let again = MariaDb::start(MariaDbConfig::new(&dir)).await?;
        assert_eq!(again.port(), first_port);
        assert_eq!(again.root_password(), password);
        assert_eq!(
            again.query("SELECT v FROM app.t").await?,
            [vec!["kept".to_owned()]]
        );
        let pid = again.pid();
        again.stop().await;
        assert!(!super::super::is_live_process(pid, &["mariadbd"]));
        Ok(())
    }
}
