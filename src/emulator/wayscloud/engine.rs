//! The two engines behind WaysCloud databases and what the API does to them: databases and
//! users, passwords, connection limits, terminating connections, statistics, dumps and
//! restores, and firewall rules (PostgreSQL `pg_hba.conf` lines, MariaDB accounts by host).
//! Names reaching SQL here were validated (letters, digits, `_`) and are quoted anyway.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::emulator::core::engines::mariadb::{self, MariaDb, MariaDbConfig};
use crate::emulator::core::engines::postgres::{self, Postgres, PostgresConfig};
use crate::emulator::core::engines::run_tool;

/// `postgresql` or `mariadb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbType {
    Postgresql,
    Mariadb,
}

impl DbType {
    pub fn parse(s: &str) -> Option<DbType> {
        match s {
            "postgresql" => Some(DbType::Postgresql),
            "mariadb" => Some(DbType::Mariadb),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DbType::Postgresql => "postgresql",
            DbType::Mariadb => "mariadb",
        }
    }

    /// The tag in database names (`cust_<id>_pg_...`).
    pub fn tag(self) -> &'static str {
        match self {
            DbType::Postgresql => "pg",
            DbType::Mariadb => "my",
        }
    }

    pub fn scheme(self) -> &'static str {
        match self {
            DbType::Postgresql => "postgresql",
            DbType::Mariadb => "mysql",
        }
    }
}

/// A firewall rule as the engines apply it.
#[derive(Debug, Clone)]
pub struct Allowed {
    pub db_name: String,
    pub username: String,
    /// `a.b.c.d/n`.
    pub cidr: String,
}

/// Statistics of one database, from the engine.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub size_bytes: i64,
    pub connections: i64,
    pub total_queries: i64,
    pub cache_hit_ratio: f64,
}

/// Both servers, behind a handle that a state operation (`super::Live`) can stop and start
/// again on the same directory: every call takes the servers running now.
pub struct Engines {
    dir: PathBuf,
    servers: std::sync::RwLock<Servers>,
}

#[derive(Clone)]
struct Servers {
    postgres: Arc<Postgres>,
    mariadb: Arc<MariaDb>,
}

async fn start_servers(dir: &Path, allowed: &[Allowed]) -> anyhow::Result<Servers> {
    let mut pg = PostgresConfig::new(dir.join("postgres"));
    pg.hba_rules = hba_rules(allowed);
    let mut my = MariaDbConfig::new(dir.join("mariadb"));
    my.options.push(("userstat".into(), "1".into()));
    let (postgres, mariadb) = tokio::join!(Postgres::start(pg), MariaDb::start(my));
    let postgres = postgres.context("starting PostgreSQL")?;
    let mariadb = match mariadb {
        Ok(m) => m,
        Err(e) => {
            postgres.stop().await;
            return Err(e.context("starting MariaDB"));
        }
    };
    Ok(Servers {
        postgres: Arc::new(postgres),
        mariadb: Arc::new(mariadb),
    })
}

fn first(rows: &[Vec<String>]) -> Option<&str> {
    rows.first().and_then(|r| r.first()).map(String::as_str)
}

fn int(rows: &[Vec<String>], col: usize) -> i64 {
    rows.first()
        .and_then(|r| r.get(col))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as i64)
        .unwrap_or(0)
}

/// `a.b.c.d/n` as MariaDB's account host (`a.b.c.d` for /32, else `net/netmask`).
pub fn mariadb_host(cidr: &str) -> String {
    let (addr, bits) = cidr.split_once('/').unwrap_or((cidr, "32"));
    let bits: u32 = bits.parse().unwrap_or(32).min(32);
    if bits == 32 {
        return addr.to_owned();
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    let mask = std::net::Ipv4Addr::from(mask);
    format!("{addr}/{mask}")
}

impl Engines {
    /// Starts both engines under `dir` (`postgres/`, `mariadb/`), PostgreSQL with the
    /// firewall rules in `allowed`.
    pub async fn start(dir: &Path, allowed: &[Allowed]) -> anyhow::Result<Engines> {
        let servers = start_servers(dir, allowed).await?;
        Ok(Engines {
            dir: dir.to_path_buf(),
            servers: std::sync::RwLock::new(servers),
        })
    }

    fn servers(&self) -> Servers {
        self.servers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The PostgreSQL server running now.
    pub fn pg(&self) -> Arc<Postgres> {
        self.servers().postgres
    }

    /// The MariaDB server running now.
    pub fn my(&self) -> Arc<MariaDb> {
        self.servers().mariadb
    }

    /// Stops both servers cleanly and waits for them: their data directories are at rest
    /// until [`Engines::start_again`].
    pub async fn stop(&self) {
        let servers = self.servers();
        tokio::join!(servers.postgres.halt(), servers.mariadb.halt());
    }

    /// Starts both servers again on the directory (initialising a data directory that is
    /// not there, as a first start does), PostgreSQL with the firewall rules in `allowed`.
    /// On failure the stopped servers stay in place (health names them not ready).
    pub async fn start_again(&self, allowed: &[Allowed]) -> anyhow::Result<()> {
        self.stop().await;
        let servers = start_servers(&self.dir, allowed).await?;
        *self.servers.write().unwrap_or_else(|p| p.into_inner()) = servers;
        Ok(())
    }

    pub fn host(&self) -> &'static str {
        postgres::HOST
    }

    pub fn port(&self, t: DbType) -> u16 {
        match t {
            DbType::Postgresql => self.pg().port(),
            DbType::Mariadb => self.my().port(),
        }
    }

    pub async fn version(&self, t: DbType) -> anyhow::Result<String> {
        let rows = match t {
            DbType::Postgresql => self.pg().query("postgres", "SHOW server_version").await?,
            DbType::Mariadb => self.my().query("SELECT VERSION()").await?,
        };
        Ok(first(&rows).unwrap_or_default().to_owned())
    }

    /// The server's main process (for CPU and memory figures).
    pub fn pid(&self, t: DbType) -> u32 {
        match t {
            DbType::Postgresql => self.pg().pid(),
            DbType::Mariadb => self.my().pid(),
        }
    }

    /// Makes the user (with `password` and the connection limit) and its database.
    pub async fn create(
        &self,
        t: DbType,
        name: &str,
        user: &str,
        password: &str,
        limit: i64,
    ) -> anyhow::Result<()> {
        match t {
            DbType::Postgresql => {
                let (u, n) = (postgres::quote_ident(user), postgres::quote_ident(name));
                let pw = postgres::quote_literal(password);
                self.pg()
                    .execute(&format!(
                        "CREATE ROLE {u} LOGIN PASSWORD {pw} CONNECTION LIMIT {limit};\n\
                         CREATE DATABASE {n} OWNER {u} CONNECTION LIMIT {limit};\n\
                         REVOKE ALL ON DATABASE {n} FROM PUBLIC;\n\
                         GRANT ALL ON DATABASE {n} TO {u};\n"
                    ))
                    .await
            }
            DbType::Mariadb => {
                let (u, n) = (mariadb::quote_literal(user), mariadb::quote_ident(name));
                let pw = mariadb::quote_literal(password);
                self.my()
                    .execute(&format!(
                        "CREATE DATABASE {n};\n\
                         CREATE USER {u}@'127.0.0.1' IDENTIFIED BY {pw} WITH MAX_USER_CONNECTIONS {limit};\n\
                         GRANT ALL PRIVILEGES ON {n}.* TO {u}@'127.0.0.1';\n"
                    ))
                    .await
            }
        }
    }

    /// Drops the database (after ending its sessions) and, when `user` is given, the user
    /// (every account of it on MariaDB).
    pub async fn drop_database(
        &self,
        t: DbType,
        name: &str,
        user: Option<&str>,
    ) -> anyhow::Result<()> {
        self.terminate(t, name, user.unwrap_or(name)).await?;
        match t {
            DbType::Postgresql => {
                let n = postgres::quote_ident(name);
                let mut sql = format!("DROP DATABASE IF EXISTS {n} WITH (FORCE);\n");
                if let Some(user) = user {
                    sql.push_str(&format!(
                        "DROP ROLE IF EXISTS {};\n",
                        postgres::quote_ident(user)
                    ));
                }
                self.pg().execute(&sql).await
            }
            DbType::Mariadb => {
                let mut sql = format!("DROP DATABASE IF EXISTS {};\n", mariadb::quote_ident(name));
                if let Some(user) = user {
                    for host in self.mariadb_hosts(user).await? {
                        sql.push_str(&format!(
                            "DROP USER IF EXISTS {}@{};\n",
                            mariadb::quote_literal(user),
                            mariadb::quote_literal(&host)
                        ));
                    }
                }
                self.my().execute(&sql).await
            }
        }
    }

    /// The hosts of every MariaDB account of `user`.
    async fn mariadb_hosts(&self, user: &str) -> anyhow::Result<Vec<String>> {
        let rows = self
            .my()
            .query(&format!(
                "SELECT Host FROM mysql.user WHERE User = {} ORDER BY Host",
                mariadb::quote_literal(user)
            ))
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect())
    }

    /// True when the engine has this user.
    pub async fn user_exists(&self, t: DbType, user: &str) -> anyhow::Result<bool> {
        match t {
            DbType::Postgresql => {
                let rows = self
                    .pg()
                    .query(
                        "postgres",
                        &format!(
                            "SELECT count(*) FROM pg_roles WHERE rolname = {}",
                            postgres::quote_literal(user)
                        ),
                    )
                    .await?;
                Ok(int(&rows, 0) > 0)
            }
            DbType::Mariadb => Ok(!self.mariadb_hosts(user).await?.is_empty()),
        }
    }

    /// True when the engine has this database.
    pub async fn database_exists(&self, t: DbType, name: &str) -> anyhow::Result<bool> {
        let rows = match t {
            DbType::Postgresql => {
                self.pg()
                    .query(
                        "postgres",
                        &format!(
                            "SELECT count(*) FROM pg_database WHERE datname = {}",
                            postgres::quote_literal(name)
                        ),
                    )
                    .await?
            }
            DbType::Mariadb => {
                self.my()
                    .query(&format!(
                        "SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {}",
                        mariadb::quote_literal(name)
                    ))
                    .await?
            }
        };
        Ok(int(&rows, 0) > 0)
    }

    /// Sets a new password (every account of the user on MariaDB); the old one is refused
    /// from now on.
    pub async fn set_password(&self, t: DbType, user: &str, password: &str) -> anyhow::Result<()> {
        match t {
            DbType::Postgresql => {
                self.pg()
                    .execute(&format!(
                        "ALTER ROLE {} PASSWORD {};",
                        postgres::quote_ident(user),
                        postgres::quote_literal(password)
                    ))
                    .await
            }
            DbType::Mariadb => {
                let mut sql = String::new();
                for host in self.mariadb_hosts(user).await? {
                    sql.push_str(&format!(
                        "ALTER USER {}@{} IDENTIFIED BY {};\n",
                        mariadb::quote_literal(user),
                        mariadb::quote_literal(&host),
                        mariadb::quote_literal(password)
                    ));
                }
                self.my().execute(&sql).await
            }
        }
    }

    /// Applies the connection limit (database and role on PostgreSQL, every account of the
    /// user on MariaDB).
    pub async fn set_connection_limit(
        &self,
        t: DbType,
        name: &str,
        user: &str,
        limit: i64,
    ) -> anyhow::Result<()> {
        match t {
            DbType::Postgresql => {
                self.pg()
                    .execute(&format!(
                        "ALTER DATABASE {} CONNECTION LIMIT {limit};\nALTER ROLE {} CONNECTION LIMIT {limit};",
                        postgres::quote_ident(name),
                        postgres::quote_ident(user)
                    ))
                    .await
            }
            DbType::Mariadb => {
                let mut sql = String::new();
                for host in self.mariadb_hosts(user).await? {
                    sql.push_str(&format!(
                        "ALTER USER {}@{} WITH MAX_USER_CONNECTIONS {limit};\n",
                        mariadb::quote_literal(user),
                        mariadb::quote_literal(&host)
                    ));
                }
                self.my().execute(&sql).await
            }
        }
    }

    /// Ends every session of the database (and, on MariaDB, of its user); how many.
    pub async fn terminate(&self, t: DbType, name: &str, user: &str) -> anyhow::Result<i64> {
        match t {
            DbType::Postgresql => {
                let rows = self
                    .pg()
                    .query(
                        "postgres",
                        &format!(
                            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                             WHERE datname = {} AND pid <> pg_backend_pid()",
                            postgres::quote_literal(name)
                        ),
                    )
                    .await?;
                Ok(int(&rows, 0))
            }
            DbType::Mariadb => {
                let rows = self
                    .my()
                    .query(&format!(
                        "SELECT ID FROM information_schema.PROCESSLIST WHERE (DB = {} OR USER = {}) AND ID <> CONNECTION_ID()",
                        mariadb::quote_literal(name),
                        mariadb::quote_literal(user)
                    ))
                    .await?;
                let mut sql = String::new();
                for id in rows.iter().filter_map(|r| r.first()) {
                    if id.bytes().all(|b| b.is_ascii_digit()) {
                        sql.push_str(&format!("KILL CONNECTION {id};\n"));
                    }
                }
                if !sql.is_empty() {
                    // A session that ended meanwhile is not an error worth failing for.
                    if let Err(e) = self.my().execute(&sql).await {
                        tracing::debug!(error = %format!("{e:#}"), "KILL CONNECTION");
                    }
                }
                Ok(i64::try_from(rows.len()).unwrap_or(i64::MAX))
            }
        }
    }

    /// Size, sessions, queries and cache hits of one database.
    pub async fn stats(&self, t: DbType, name: &str, user: &str) -> anyhow::Result<Stats> {
        match t {
            DbType::Postgresql => {
                let lit = postgres::quote_literal(name);
                let rows = self
                    .pg()
                    .query(
                        "postgres",
                        &format!(
                            "SELECT pg_database_size({lit}), \
                             (SELECT count(*) FROM pg_stat_activity WHERE datname = {lit}), \
                             COALESCE(xact_commit + xact_rollback, 0), COALESCE(blks_hit, 0), COALESCE(blks_read, 0) \
                             FROM pg_stat_database WHERE datname = {lit}"
                        ),
                    )
                    .await?;
                let (hit, read) = (int(&rows, 3), int(&rows, 4));
                Ok(Stats {
                    size_bytes: int(&rows, 0),
                    connections: int(&rows, 1),
                    total_queries: int(&rows, 2),
                    cache_hit_ratio: ratio(hit, read),
                })
            }
            DbType::Mariadb => {
                let (n, u) = (mariadb::quote_literal(name), mariadb::quote_literal(user));
                let rows = self
                    .my()
                    .query(&format!(
                        "SELECT \
                         (SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = {n}), \
                         (SELECT count(*) FROM information_schema.PROCESSLIST WHERE USER = {u}), \
                         (SELECT COALESCE(SUM(SELECT_COMMANDS + UPDATE_COMMANDS + OTHER_COMMANDS), 0) FROM information_schema.USER_STATISTICS WHERE USER = {u}), \
                         (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_READ_REQUESTS'), \
                         (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_READS')"
                    ))
                    .await?;
                let (requests, reads) = (int(&rows, 3), int(&rows, 4));
                Ok(Stats {
                    size_bytes: int(&rows, 0),
                    connections: int(&rows, 1),
                    total_queries: int(&rows, 2),
                    cache_hit_ratio: ratio(requests - reads, reads),
                })
            }
        }
    }

    /// Dumps the database into `file`.
    pub async fn dump(&self, t: DbType, name: &str, file: &Path) -> anyhow::Result<()> {
        match t {
            DbType::Postgresql => {
                let mut cmd = self.pg().client("pg_dump");
                cmd.args(["-Fc", "--no-owner", "--no-acl", "-d", name, "-f"])
                    .arg(file);
                run_tool(cmd, None, "pg_dump").await.map(|_| ())
            }
            DbType::Mariadb => {
                let mut cmd = self.my().client("mariadb-dump");
                cmd.args([
                    "--single-transaction",
                    "--routines",
                    "--triggers",
                    "--skip-comments",
                ])
                .arg(format!("--result-file={}", file.display()))
                .arg(name);
                run_tool(cmd, None, "mariadb-dump").await.map(|_| ())
            }
        }
    }

    /// Replaces the database with the dump in `file`: sessions ended, database dropped and
    /// made again for `user` with `limit`, dump loaded as that user's objects.
    pub async fn restore(
        &self,
        t: DbType,
        name: &str,
        user: &str,
        limit: i64,
        file: &Path,
    ) -> anyhow::Result<()> {
        self.terminate(t, name, user).await?;
        match t {
            DbType::Postgresql => {
                let (u, n) = (postgres::quote_ident(user), postgres::quote_ident(name));
                self.pg()
                    .execute(&format!(
                        "DROP DATABASE IF EXISTS {n} WITH (FORCE);\n\
                         CREATE DATABASE {n} OWNER {u} CONNECTION LIMIT {limit};\n\
                         REVOKE ALL ON DATABASE {n} FROM PUBLIC;\n\
                         GRANT ALL ON DATABASE {n} TO {u};\n"
                    ))
                    .await?;
                let mut cmd = self.pg().client("pg_restore");
                cmd.args([
                    "--no-owner",
                    "--no-acl",
                    "--exit-on-error",
                    "--single-transaction",
                ])
                .arg(format!("--role={user}"))
                .args(["-d", name])
                .arg(file);
                run_tool(cmd, None, "pg_restore").await.map(|_| ())
            }
            DbType::Mariadb => {
                let n = mariadb::quote_ident(name);
                let dump = tokio::fs::read_to_string(file)
                    .await
                    .with_context(|| format!("reading {}", file.display()))?;
                self.my()
                    .execute(&format!(
                        "DROP DATABASE IF EXISTS {n};\nCREATE DATABASE {n};\n"
                    ))
                    .await?;
                let mut cmd = self.my().client("mysql");
                cmd.arg(name);
                run_tool(cmd, Some(&dump), "mysql (restore)")
                    .await
                    .map(|_| ())
            }
        }
    }

    /// Applies the firewall: PostgreSQL's `pg_hba.conf` is rewritten from `allowed` (every
    /// rule of every database); a MariaDB user gets exactly one account per rule of its
    /// database besides `127.0.0.1`.
    pub async fn apply_firewall(
        &self,
        t: DbType,
        user: &str,
        db_name: &str,
        limit: i64,
        allowed: &[Allowed],
    ) -> anyhow::Result<()> {
        match t {
            DbType::Postgresql => self.pg().set_hba_rules(&hba_rules(allowed)).await,
            DbType::Mariadb => {
                let wanted: Vec<String> = allowed
                    .iter()
                    .filter(|a| a.username == user)
                    .map(|a| mariadb_host(&a.cidr))
                    .collect();
                let have = self.mariadb_hosts(user).await?;
                let u = mariadb::quote_literal(user);
                let hash_rows = self
                    .my()
                    .query(&format!(
                        "SELECT authentication_string FROM mysql.user WHERE User = {u} AND Host = '127.0.0.1'"
                    ))
                    .await?;
                let hash = first(&hash_rows).unwrap_or_default().to_owned();
                let n = mariadb::quote_ident(db_name);
                let mut sql = String::new();
                for host in &have {
                    if host != "127.0.0.1" && !wanted.contains(host) {
                        sql.push_str(&format!(
                            "DROP USER IF EXISTS {u}@{};\n",
                            mariadb::quote_literal(host)
                        ));
                    }
                }
                for host in &wanted {
                    if !have.contains(host) {
                        let h = mariadb::quote_literal(host);
                        sql.push_str(&format!(
                            "CREATE USER {u}@{h} IDENTIFIED BY PASSWORD {} WITH MAX_USER_CONNECTIONS {limit};\n\
                             GRANT ALL PRIVILEGES ON {n}.* TO {u}@{h};\n",
                            mariadb::quote_literal(&hash)
                        ));
                    }
                }
                if sql.is_empty() {
                    return Ok(());
                }
                self.my().execute(&sql).await
            }
        }
    }
}

fn ratio(hit: i64, miss: i64) -> f64 {
    let total = hit.saturating_add(miss);
    if total <= 0 {
        return 100.0;
    }
    ((hit as f64) * 10000.0 / (total as f64)).round() / 100.0
}

/// The `pg_hba.conf` rules: the platform's own network, then one line per rule.
pub fn hba_rules(allowed: &[Allowed]) -> Vec<String> {
    let mut rules = vec![postgres::LOOPBACK_RULE.to_owned()];
    for a in allowed {
        rules.push(format!(
            "host {} {} {} scram-sha-256",
            hba_word(&a.db_name),
            hba_word(&a.username),
            a.cidr
        ));
    }
    rules
}

/// A database or user name in `pg_hba.conf` (quoted, so case and keywords are kept).
fn hba_word(name: &str) -> String {
    format!("\"{}\"", name.replace('"', ""))
}

/// CPU percent (of one core, since the process started) and memory percent (resident of
/// total) of a process, from `/proc`.
pub fn process_usage(pid: u32) -> (f64, f64) {
    let cpu = (|| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let after = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        // Fields after the command: state is index 0, utime 11, stime 12, starttime 19.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        let start: f64 = fields.get(19)?.parse().ok()?;
        let uptime: f64 = std::fs::read_to_string("/proc/uptime")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        let ticks = 100.0;
        let alive = uptime - start / ticks;
        if alive <= 0.0 {
            return Some(0.0);
        }
        Some((((utime + stime) / ticks) / alive * 10000.0).round() / 100.0)
    })()
    .unwrap_or(0.0);
    let mem = (|| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let rss: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        let total: f64 = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some((rss / total * 10000.0).round() / 100.0)
    })()
    .unwrap_or(0.0);
    (cpu, mem)
}

/// Where a snapshot's dump lives.
pub fn snapshot_file(dir: &Path, snapshot_id: &str, t: DbType) -> PathBuf {
    let ext = match t {
        DbType::Postgresql => "dump",
        DbType::Mariadb => "sql",
    };
    dir.join(format!("{snapshot_id}.{ext}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_become_mariadb_hosts() {
        assert_eq!(mariadb_host("127.0.0.2/32"), "127.0.0.2");
        assert_eq!(mariadb_host("10.0.0.0/24"), "10.0.0.0/255.255.255.0");
        assert_eq!(mariadb_host("0.0.0.0/0"), "0.0.0.0/0.0.0.0");
    }

    #[test]
    fn hba_rules_name_database_user_and_network() {
        let rules = hba_rules(&[Allowed {
            db_name: "cust_a_pg_x".into(),
            username: "cust_a_pg_x".into(),
            cidr: "127.0.0.2/32".into(),
        }]);
        assert_eq!(rules[0], postgres::LOOPBACK_RULE);
        assert_eq!(
            rules[1],
            "host \"cust_a_pg_x\" \"cust_a_pg_x\" 127.0.0.2/32 scram-sha-256"
        );
    }

    #[test]
    fn ratios_are_percentages() {
        assert_eq!(ratio(0, 0), 100.0);
        assert_eq!(ratio(3, 1), 75.0);
    }
}
