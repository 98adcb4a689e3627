//! A private PostgreSQL 15 server: initialised once (`initdb`) in a directory of the
//! emulator's state, started on loopback with a known superuser password, reused across
//! restarts, stopped with the emulator (see the module docs of [`super`] for the user it
//! runs as and why it never outlives the emulator).
//!
//! Layout of its directory:
//!
//! - `data/`: the cluster (owned by the engine's user, 0700);
//! - `superuser-password`: the password of the superuser `postgres` (0600);
//! - `port`: the port of the last start;
//! - `postgres.log`: the server's output (appended).
//!
//! Authentication is `scram-sha-256` over TCP only (no Unix socket). `pg_hba.conf` is
//! written by the emulator at each start: the superuser from `127.0.0.1`, then the caller's
//! rules ([`PostgresConfig::hba_rules`], replaced later with [`Postgres::set_hba_rules`]).
//! Admin SQL runs through `psql` as the superuser ([`Postgres::query`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::{RunAs, Supervised};

/// Where the Debian package puts the PostgreSQL 15 server binaries.
pub const DEFAULT_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// Env: another directory with `initdb`, `postgres`, `psql`, `pg_dump`.
pub const ENV_BIN_DIR: &str = "EMULATOR_POSTGRES_BIN_DIR";
/// The superuser's name.
pub const SUPERUSER: &str = "postgres";
/// The address the server listens on.
pub const HOST: &str = "127.0.0.1";
/// The users PostgreSQL runs as when the emulator is root, first found wins.
pub const RUN_AS_CANDIDATES: &[&str] = &["postgres"];
/// The hba rule that lets every user in from `127.0.0.1` with a password.
pub const LOOPBACK_RULE: &str = "host all all 127.0.0.1/32 scram-sha-256";

/// How to start a server.
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    /// The server's directory (created if needed).
    pub dir: PathBuf,
    /// The directory of `initdb`, `postgres`, `psql`, `pg_dump`.
    pub bin_dir: PathBuf,
    /// `pg_hba.conf` lines after the superuser's own (default: [`LOOPBACK_RULE`]).
    pub hba_rules: Vec<String>,
    /// Extra `-c name=value` settings.
    pub settings: Vec<(String, String)>,
    /// How long to wait for the server to accept connections.
    pub start_timeout: Duration,
}

impl PostgresConfig {
    /// Defaults: binaries from `EMULATOR_POSTGRES_BIN_DIR` or [`DEFAULT_BIN_DIR`], every
    /// user allowed from `127.0.0.1`.
    pub fn new(dir: impl Into<PathBuf>) -> PostgresConfig {
        let bin_dir = std::env::var(ENV_BIN_DIR)
            .ok()
            .filter(|s| !s.trim().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_BIN_DIR));
        PostgresConfig {
            dir: dir.into(),
            bin_dir,
            hba_rules: vec![LOOPBACK_RULE.to_owned()],
            settings: Vec::new(),
            start_timeout: Duration::from_secs(60),
        }
    }
}

/// A running PostgreSQL server. Dropping it asks the server to stop (fast shutdown) without
/// waiting; [`Postgres::stop`] waits.
#[derive(Debug)]
pub struct Postgres {
    dir: PathBuf,
    data: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    password: String,
    run_as: Option<RunAs>,
    process: Supervised,
}

impl Postgres {
    /// Initialises the cluster on first use, stops a server an earlier emulator left on it,
    /// writes `pg_hba.conf`, starts the server and waits until the superuser can connect.
    pub async fn start(config: PostgresConfig) -> anyhow::Result<Postgres> {
        let run_as = RunAs::for_engine(RUN_AS_CANDIDATES)?;
        let dir = std::path::absolute(&config.dir)
            .with_context(|| format!("resolving {}", config.dir.display()))?;
        super::engine_dir(&dir, run_as.as_ref())
            .with_context(|| format!("preparing {}", dir.display()))?;
        let data = dir.join("data");
        let password = super::stored_password(&dir.join("superuser-password"))
            .context("reading or writing the PostgreSQL superuser password")?;
        let bin = |name: &str| super::engine_binary(&config.bin_dir, name);

        if !data.join("PG_VERSION").is_file() {
            init_cluster(&dir, &data, &password, run_as.as_ref(), &bin("initdb")).await?;
        }
        super::owned_dir(&data, run_as.as_ref())
            .with_context(|| format!("securing {}", data.display()))?;
        super::stop_stale(&data.join("postmaster.pid"), &["postgres", "postmaster"]).await;

        let port = super::pick_port(&dir.join("port")).context("choosing a port")?;
        let this_hba = hba_text(&config.hba_rules);
        write_engine_file(&data.join("pg_hba.conf"), &this_hba, run_as.as_ref())?;

        let log_path = dir.join("postgres.log");
        let log = super::super::files::open_private(&log_path, false)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let log = append(log)?;
        let mut cmd = std::process::Command::new(bin("postgres"));
        cmd.arg("-D")
            .arg(&data)
            .args(["-c", &format!("port={port}")])
            .args(["-c", &format!("listen_addresses={HOST}")])
            .args(["-c", "unix_socket_directories="])
            .args(["-c", "shared_buffers=16MB"])
            .args(["-c", "max_connections=200"])
            .args(["-c", "synchronous_commit=off"])
            .args(["-c", "password_encryption=scram-sha-256"])
            .args(["-c", "track_counts=on"])
            .args(["-c", "log_connections=on"]);
        for (name, value) in &config.settings {
            cmd.args(["-c", &format!("{name}={value}")]);
        }
        cmd.current_dir(&dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if let Some(user) = &run_as {
            use std::os::unix::process::CommandExt;
            cmd.uid(user.uid).gid(user.gid);
        }
        let process = Supervised::spawn(cmd, "postgres")
            .with_context(|| format!("starting {}", bin("postgres").display()))?;
        let server = Postgres {
            dir,
            data,
            bin_dir: config.bin_dir.clone(),
            port,
            password,
            run_as,
            process,
        };
        server.wait_ready(config.start_timeout, &log_path).await?;
        tracing::info!(port, dir = %server.dir.display(), pid = server.process.pid(), "PostgreSQL started");
        Ok(server)
    }

    async fn wait_ready(&self, timeout: Duration, log_path: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.process.exited() {
                anyhow::bail!(
                    "PostgreSQL exited while starting ({status}); its log ({}) ends with:\n{}",
                    log_path.display(),
                    super::log_tail(log_path, 20)
                );
            }
            match self.query("postgres", "SELECT 1").await {
                Ok(rows) if rows == [vec!["1".to_owned()]] => return Ok(()),
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Ok(rows) => anyhow::bail!("PostgreSQL answered SELECT 1 with {rows:?}"),
                Err(e) => {
                    return Err(e.context(format!(
                        "PostgreSQL did not accept connections within {timeout:?}; its log ends with:\n{}",
                        super::log_tail(log_path, 20)
                    )))
                }
            }
        }
    }

    /// The loopback address it listens on.
    pub fn host(&self) -> &str {
        HOST
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn superuser(&self) -> &str {
        SUPERUSER
    }

    pub fn superuser_password(&self) -> &str {
        &self.password
    }

    /// The server's directory (its data is in `data/`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The postmaster's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// A binary next to the server's (`psql`, `pg_dump`, ...).
    pub fn binary(&self, name: &str) -> PathBuf {
        super::engine_binary(&self.bin_dir, name)
    }

    /// A client command (`psql`, `pg_dump`, `pg_restore`) connected as the superuser:
    /// host, port and user in `PG*` variables, the password in `PGPASSWORD`.
    pub fn client(&self, binary: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(self.binary(binary));
        cmd.env("PGHOST", HOST)
            .env("PGPORT", self.port.to_string())
            .env("PGUSER", SUPERUSER)
            .env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "5")
            .env("PGAPPNAME", "emulator")
            .env_remove("PGSERVICE")
            .env_remove("PGDATABASE");
        cmd
    }

    /// Runs `sql` (one or more statements, each in its own transaction unless the text
    /// says otherwise) in `database` as the superuser, and returns the rows of the
    /// statements' results, fields as text (NULL as ""), stopping at the first error.
    pub async fn query(&self, database: &str, sql: &str) -> anyhow::Result<Vec<Vec<String>>> {
        let mut cmd = self.client("psql");
        cmd.args([
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-F",
            "\u{1f}",
            "-d",
            database,
            "-f",
            "-",
        ]);
        let out = super::run_tool(cmd, Some(sql), "psql").await?;
        Ok(out
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| l.split('\u{1f}').map(str::to_owned).collect())
            .collect())
    }

    /// [`Postgres::query`] in the `postgres` database, rows ignored.
    pub async fn execute(&self, sql: &str) -> anyhow::Result<()> {
        self.query("postgres", sql).await.map(|_| ())
    }

    /// Replaces the caller's `pg_hba.conf` rules (the superuser's stays first) and makes
    /// the server reload it; new connections follow the new rules at once.
    pub async fn set_hba_rules(&self, rules: &[String]) -> anyhow::Result<()> {
        write_engine_file(
            &self.data.join("pg_hba.conf"),
            &hba_text(rules),
            self.run_as.as_ref(),
        )?;
        let rows = self.query("postgres", "SELECT pg_reload_conf()").await?;
        if rows != [vec!["t".to_owned()]] {
            anyhow::bail!("pg_reload_conf() answered {rows:?}");
        }
        // The reload is asynchronous (a signal to the postmaster, which reads the file
        // between accepting connections): give it a moment before the next connection.
        tokio::time::sleep(Duration::from_millis(200)).await;
        Ok(())
    }

    /// The exit status of the server process, once it has exited (`None` while it runs).
    pub fn exited(&self) -> Option<String> {
        self.process.exited()
    }

    /// Stops the server (fast shutdown: open sessions are ended, data is flushed) and waits
    /// for it, killing it after 30 seconds.
    pub async fn stop(self) {
        self.halt().await;
    }

    /// [`Postgres::stop`] through a shared handle: the server stops (nothing once it has
    /// exited), its data directory is at rest after it, and this handle only reports its
    /// exit from then on (a state operation starts a new server on the directory).
    pub async fn halt(&self) {
        self.process
            .stop(libc::SIGINT, Duration::from_secs(30))
            .await;
        tracing::info!(dir = %self.dir.display(), "PostgreSQL stopped");
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.process.signal(libc::SIGINT);
    }
}

async fn init_cluster(
    dir: &Path,
    data: &Path,
    password: &str,
    run_as: Option<&RunAs>,
    initdb: &Path,
) -> anyhow::Result<()> {
    // A half-made cluster from an interrupted first start is made again.
    if data.exists() {
        std::fs::remove_dir_all(data)
            .with_context(|| format!("removing the unfinished cluster {}", data.display()))?;
    }
    super::owned_dir(data, run_as).with_context(|| format!("creating {}", data.display()))?;
    let pwfile = dir.join("initdb-pwfile");
    write_engine_file(&pwfile, password, run_as)?;
    let mut cmd = tokio::process::Command::new(initdb);
    cmd.arg("-D")
        .arg(data)
        .args(["-U", SUPERUSER, "-E", "UTF8", "--locale=C"])
        .args(["--auth=scram-sha-256", "--no-instructions"])
        .arg(format!("--pwfile={}", pwfile.display()))
        .current_dir(dir)
        .env("LC_ALL", "C");
    if let Some(user) = run_as {
        cmd.uid(user.uid).gid(user.gid);
    }
    let result = super::run_tool(cmd, None, &format!("{} (initdb)", initdb.display())).await;
    let _ = std::fs::remove_file(&pwfile);
    result?;
    Ok(())
}

fn hba_text(rules: &[String]) -> String {
    let mut text = String::from(
        "# Written by the emulator at every start and change; edits are lost.\n\
         # TYPE DATABASE USER ADDRESS METHOD\n",
    );
    text.push_str(&format!(
        "host all {SUPERUSER} 127.0.0.1/32 scram-sha-256\n"
    ));
    for rule in rules {
        text.push_str(rule.trim());
        text.push('\n');
    }
    text
}

/// Writes a file the engine's user must read (mode 0600, owned by that user).
fn write_engine_file(path: &Path, text: &str, run_as: Option<&RunAs>) -> anyhow::Result<()> {
    super::super::secrets::write_secret(path, text)
        .with_context(|| format!("writing {}", path.display()))?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
            .with_context(|| format!("chowning {}", path.display()))?;
    }
    Ok(())
}

fn append(file: std::fs::File) -> anyhow::Result<std::fs::File> {
    use std::io::Seek;
    let mut file = file;
    file.seek(std::io::SeekFrom::End(0))?;
    Ok(file)
}

/// `name` as a quoted PostgreSQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a PostgreSQL string literal (standard conforming strings).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_literals_are_quoted() {
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }

    #[test]
    fn the_superuser_rule_comes_first() {
        let text = hba_text(&["host db1 u1 127.0.0.2/32 scram-sha-256".to_owned()]);
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "host all postgres 127.0.0.1/32 scram-sha-256",
                "host db1 u1 127.0.0.2/32 scram-sha-256"
            ]
        );
    }

    fn psql_as(server: &Postgres, user: &str, password: &str, db: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(server.binary("psql"));
        cmd.env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "5")
            .args(["-X", "-A", "-t", "-h", HOST])
            .args(["-p", &server.port().to_string(), "-U", user, "-d", db]);
        cmd
    }

    /// A real server: initialised, started, a database and a user made and used with the
    /// password, a wrong password refused; stopped, started again on the same data (the
    /// rows and the superuser password kept), and no server left after the stop.
    #[tokio::test]
    async fn a_private_server_starts_keeps_its_data_and_stops() -> anyhow::Result<()> {
        let tmp = tempfile::tempdir()?;
        let dir = tmp.path().join("state").join("postgres");
        let server = Postgres::start(PostgresConfig::new(&dir)).await?;
        let first_port = server.port();
        let password = server.superuser_password().to_owned();
        server
            .execute("CREATE ROLE app LOGIN PASSWORD 'secret1';\nCREATE DATABASE app OWNER app;")
            .await?;
        let mut cmd = psql_as(&server, "app", "secret1", "app");
        cmd.args([
            "-c",
            "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept');",
        ]);
        super::super::run_tool(cmd, None, "psql as app").await?;
        let mut wrong = psql_as(&server, "app", "wrong", "app");
        wrong.args(["-c", "SELECT 1"]);
        let err = super::super::run_tool(wrong, None, "psql wrong password")
            .await
            .err()
            .ok_or_else(|| anyhow::anyhow!("a wrong password was accepted"))?;
        assert!(
            format!("{err:#}").contains("password authentication failed"),
            "{err:#}"
        );
        let pid = server.pid();
        server.stop().await;
        assert!(!super::super::is_live_process(pid, &["postgres"]));

        let again = Postgres::start(PostgresConfig::new(&dir)).await?;
        assert_eq!(again.port(), first_port, "the remembered port is reused");
        assert_eq!(again.superuser_password(), password);
        let rows = again.query("app", "SELECT v FROM t").await?;
        assert_eq!(rows, [vec!["kept".to_owned()]]);
        let pid = again.pid();
        again.stop().await;
        assert!(!super::super::is_live_process(pid, &["postgres"]));
        Ok(())
    }
}
