//! The tenant databases CloudSync manages, really reached: registration and connection
//! string changes verify the connection, and tables are listed, enabled and disabled in
//! the tenant database itself.
//!
//! - `postgres` / `postgresql://` strings connect to a real PostgreSQL (`tokio-postgres`),
//!   to the database `databaseName` names and the schema `schemaName` (default `public`).
//! - `sqlitecloud://HOST[:PORT][/...]?apikey=KEY` strings map to local SQLite files: HOST
//!   must be a node registered through the emulator-only route
//!   `PUT /_emulator/cloudsync/sqlitecloud/nodes/{host}`, and the database is the file
//!   `<state-dir>/cloudsync/sqlitecloud/<host>/<databaseName>.sqlite`, which must exist.
//!
//! Enabling CloudSync on a table creates its metadata table `<table>_cloudsync` next to
//! it (as the CloudSync extension does); a table is enabled while that table exists, so an
//! outside client sees what the API did, and a metadata table dropped out of band shows as
//! a disabled table. Tables named `*_cloudsync` or `cloudsync_*` are CloudSync's own and
//! never listed.
//!
//! Failure codes (seed 002 names them; the conditions are assumed):
//! `database_auth_failed` (wrong password or API key), `database_unreachable` (no such
//! host or port, refused, timed out), `database_paused` (a PostgreSQL database that does
//! not allow connections, a paused node), `database_permission_denied` (no CREATE on the
//! schema, no TRIGGER on a table, a read-only API key), `database_cloudsync_not_ready`
//! (a table without a primary key), `database_error` (anything else the database said:
//! an unknown database or schema).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use rusqlite::OpenFlags;

use super::store::Store;
use crate::emulator::core::blocking::call;

/// How long connecting to a tenant database may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A tenant failure: one of the documented codes and a message (no credentials in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
    pub retryable: bool,
}

fn fail(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
        retryable: matches!(code, "database_unreachable" | "database_paused"),
    }
}

/// Why enabling tables failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnableError {
    Tenant(Failure),
    UnknownTable { table: String, known: Vec<String> },
}

impl From<Failure> for EnableError {
    fn from(f: Failure) -> Self {
        EnableError::Tenant(f)
    }
}

/// Blocking work on a tenant (`core::blocking::call`) that panicked: `database_error`.
impl From<tokio::task::JoinError> for Failure {
    fn from(e: tokio::task::JoinError) -> Self {
        fail("database_error", e.to_string())
    }
}

impl From<tokio::task::JoinError> for EnableError {
    fn from(e: tokio::task::JoinError) -> Self {
        EnableError::Tenant(e.into())
    }
}

/// A resolved tenant database.
pub enum Tenant {
    Sqlite {
        path: PathBuf,
        read_only: bool,
    },
    Postgres {
        config: Box<tokio_postgres::Config>,
        schema: String,
    },
}

/// Whether `name` is a valid file-name database name for `sqlitecloud`.
pub fn valid_sqlite_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Whether `host` may name a node (and so a folder).
pub fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && !host.starts_with('.')
        && !host.contains("..")
        && host
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
}

/// The folder of a node's database files.
pub fn node_dir(root: &Path, host: &str) -> PathBuf {
    root.join("sqlitecloud").join(host)
}

/// Resolves a connection string (already checked for its scheme) to a tenant; the
/// `sqlitecloud` checks of node, key and file happen here.
pub fn resolve(
    store: &Store,
    root: &Path,
    provider: &str,
    connection_string: &str,
    database_name: &str,
    schema_name: Option<&str>,
) -> Result<Tenant, Failure> {
    if provider == "postgres" {
        let mut config = tokio_postgres::Config::from_str(connection_string).map_err(|_| {
            fail(
                "database_error",
                "the connection string is not a PostgreSQL connection URI",
            )
        })?;
        config.dbname(database_name);
        config.connect_timeout(CONNECT_TIMEOUT);
        return Ok(Tenant::Postgres {
            config: Box::new(config),
            schema: schema_name.unwrap_or("public").to_owned(),
        });
    }
    let url = url::Url::parse(connection_string)
        .map_err(|_| fail("database_error", "the connection string is not a URL"))?;
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let node = store
        .node(&host)
        .map_err(|e| fail("database_error", format!("internal: {e}")))?
        .ok_or_else(|| {
            fail(
                "database_unreachable",
                format!("no SQLite Cloud node answers at {host:?}"),
            )
        })?;
    if node.paused {
        return Err(fail(
            "database_paused",
            format!("the SQLite Cloud node {host} is paused"),
        ));
    }
    let apikey = url
        .query_pairs()
        .find(|(k, _)| k == "apikey")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if apikey.is_empty() || !crate::emulator::core::secrets::constant_time_eq(&apikey, &node.apikey)
    {
        return Err(fail(
            "database_auth_failed",
            format!("the SQLite Cloud node {host} refused the API key"),
        ));
    }
    let path = node_dir(root, &host).join(format!("{database_name}.sqlite"));
    if !path.is_file() {
        return Err(fail(
            "database_error",
            format!("database {database_name:?} does not exist on node {host}"),
        ));
    }
    Ok(Tenant::Sqlite {
        path,
        read_only: node.read_only,
    })
}

fn is_cloudsync_table(name: &str) -> bool {
    name.ends_with("_cloudsync") || name.starts_with("cloudsync_")
}

fn companion(table: &str) -> String {
    format!("{table}_cloudsync")
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

// ---- SQLite ---------------------------------------------------------------------------------

fn sqlite_open(path: &Path) -> Result<rusqlite::Connection, Failure> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| fail("database_error", format!("cannot open the database: {e}")))?;
    let _ = conn.busy_timeout(Duration::from_secs(5));
    Ok(conn)
}

fn sqlite_err(e: rusqlite::Error) -> Failure {
    fail("database_error", format!("the database answered: {e}"))
}

fn sqlite_tables(conn: &rusqlite::Connection) -> Result<Vec<(String, bool)>, Failure> {
    let mut stmt = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
             ORDER BY name",
        )
        .map_err(sqlite_err)?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .map_err(sqlite_err)?
        .collect::<Result<_, _>>()
        .map_err(sqlite_err)?;
    Ok(names
        .iter()
        .filter(|n| !is_cloudsync_table(n))
        .map(|n| (n.clone(), names.contains(&companion(n))))
        .collect())
}

fn sqlite_has_pk(conn: &rusqlite::Connection, table: &str) -> Result<bool, Failure> {
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({})", quote(table)))
        .map_err(sqlite_err)?;
    let pks: Vec<i64> = stmt
        .query_map([], |r| r.get::<_, i64>(5))
        .map_err(sqlite_err)?
        .collect::<Result<_, _>>()
        .map_err(sqlite_err)?;
    Ok(pks.iter().any(|pk| *pk > 0))
}

const SQLITE_META: &str = "(pk BLOB NOT NULL, col_name TEXT NOT NULL, col_version INTEGER, \
    db_version INTEGER, site_id INTEGER, seq INTEGER, PRIMARY KEY (pk, col_name))";

fn read_only_failure() -> Failure {
    fail(
        "database_permission_denied",
        "the API key is read-only: CloudSync needs a key that may create tables",
    )
}

// ---- PostgreSQL -----------------------------------------------------------------------------

fn pg_failure(e: &tokio_postgres::Error) -> Failure {
    use tokio_postgres::error::SqlState;
    let Some(db) = e.as_db_error() else {
        let message = if e.to_string().contains("timed out") {
            "connecting to the tenant database timed out".to_owned()
        } else {
            format!("cannot reach the tenant database: {e}")
        };
        return fail("database_unreachable", message);
    };
    let code = db.code();
    let message = db.message().to_owned();
    if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
    {
        fail("database_auth_failed", message)
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        fail("database_permission_denied", message)
    } else if *code == SqlState::OBJECT_NOT_IN_PREREQUISITE_STATE
        || *code == SqlState::CANNOT_CONNECT_NOW
    {
        fail("database_paused", message)
    } else {
        fail("database_error", message)
    }
}

async fn pg_connect(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client, Failure> {
    let connect = config.connect(tokio_postgres::NoTls);
    let (client, connection) = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| fail("database_unreachable", "connecting timed out"))?
        .map_err(|e| pg_failure(&e))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "tenant connection ended");
        }
    });
    Ok(client)
}

async fn pg_tables(
    client: &tokio_postgres::Client,
    schema: &str,
) -> Result<Vec<(String, bool)>, Failure> {
    let rows = client
        .query(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name",
            &[&schema],
        )
        .await
        .map_err(|e| pg_failure(&e))?;
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok(names
        .iter()
        .filter(|n| !is_cloudsync_table(n))
        .map(|n| (n.clone(), names.contains(&companion(n))))
        .collect())
}

const PG_META: &str = "(pk bytea NOT NULL, col_name text NOT NULL, col_version bigint, \
    db_version bigint, site_id bigint, seq bigint, PRIMARY KEY (pk, col_name))";

// ---- operations -----------------------------------------------------------------------------

impl Tenant {
    /// Checks that CloudSync can work with the database: it connects, the schema exists,
    /// and CloudSync may create its metadata tables there.
    pub async fn verify(&self) -> Result<(), Failure> {
        match self {
            Tenant::Sqlite { path, read_only } => {
                let (path, read_only) = (path.clone(), *read_only);
                call(move || {
                    let conn = sqlite_open(&path)?;
                    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .map_err(sqlite_err)?;
                    if read_only {
                        return Err(read_only_failure());
                    }
                    Ok(())
                })
                .await
            }
            Tenant::Postgres { config, schema } => {
                let client = pg_connect(config).await?;
                let row = client
                    .query_opt(
                        "SELECT has_schema_privilege(current_user, nspname, 'USAGE'),
                                has_schema_privilege(current_user, nspname, 'CREATE'),
                                current_user::text
                         FROM pg_namespace WHERE nspname = $1",
                        &[schema],
                    )
                    .await
                    .map_err(|e| pg_failure(&e))?;
                let Some(row) = row else {
                    return Err(fail(
                        "database_error",
                        format!("schema {schema:?} does not exist in the tenant database"),
                    ));
                };
                let (usage, create, user): (bool, bool, String) =
                    (row.get(0), row.get(1), row.get(2));
                if !usage || !create {
                    return Err(fail(
                        "database_permission_denied",
                        format!(
                            "role {user:?} lacks USAGE and CREATE on schema {schema:?}: \
                             CloudSync creates its metadata tables there"
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Every table of the schema and whether CloudSync is enabled on it, by name.
    pub async fn tables(&self) -> Result<Vec<(String, bool)>, Failure> {
        match self {
            Tenant::Sqlite { path, .. } => {
                let path = path.clone();
                call(move || sqlite_tables(&sqlite_open(&path)?)).await
            }
            Tenant::Postgres { config, schema } => {
                let client = pg_connect(config).await?;
                pg_tables(&client, schema).await
            }
        }
    }

    /// Enables CloudSync on every table of `tables` (all or none).
    pub async fn enable(&self, tables: &[String]) -> Result<(), EnableError> {
        let tables = tables.to_vec();
        match self {
            Tenant::Sqlite { path, read_only } => {
                let (path, read_only) = (path.clone(), *read_only);
                call(move || -> Result<(), EnableError> {
                    let mut conn = sqlite_open(&path)?;
                    let known: Vec<String> =
                        sqlite_tables(&conn)?.into_iter().map(|(n, _)| n).collect();
                    check_known(&tables, &known)?;
                    for t in &tables {
                        if !sqlite_has_pk(&conn, t)? {
                            return Err(not_ready(t).into());
                        }
                    }
                    if read_only {
                        return Err(read_only_failure().into());
                    }
                    let tx = conn.transaction().map_err(sqlite_err)?;
                    for t in &tables {
                        tx.execute_batch(&format!(
                            "CREATE TABLE IF NOT EXISTS {} {SQLITE_META};",
                            quote(&companion(t))
                        ))
                        .map_err(sqlite_err)?;
                    }
                    tx.commit().map_err(sqlite_err)?;
                    Ok(())
                })
                .await
            }
            Tenant::Postgres { config, schema } => {
                let mut client = pg_connect(config).await?;
                let known: Vec<String> = pg_tables(&client, schema)
                    .await?
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect();
                check_known(&tables, &known)?;
                for t in &tables {
                    let row = client
                        .query_one(
                            "SELECT EXISTS (SELECT 1 FROM pg_index i
                                 WHERE i.indrelid = c.oid AND i.indisprimary),
                                    has_table_privilege(c.oid, 'TRIGGER')
                             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname = $1 AND c.relname = $2",
                            &[schema, t],
                        )
                        .await
                        .map_err(|e| EnableError::Tenant(pg_failure(&e)))?;
                    let (has_pk, trigger): (bool, bool) = (row.get(0), row.get(1));
                    if !has_pk {
                        return Err(not_ready(t).into());
                    }
                    if !trigger {
                        return Err(fail(
                            "database_permission_denied",
                            format!(
                                "the role lacks the TRIGGER privilege on table {t:?}: CloudSync \
                                 tracks changes with triggers"
                            ),
                        )
                        .into());
                    }
                }
                let tx = client
                    .transaction()
                    .await
                    .map_err(|e| EnableError::Tenant(pg_failure(&e)))?;
                for t in &tables {
                    tx.batch_execute(&format!(
                        "CREATE TABLE IF NOT EXISTS {}.{} {PG_META}",
                        quote(schema),
                        quote(&companion(t))
                    ))
                    .await
                    .map_err(|e| EnableError::Tenant(pg_failure(&e)))?;
                }
                tx.commit()
                    .await
                    .map_err(|e| EnableError::Tenant(pg_failure(&e)))?;
                Ok(())
            }
        }
    }

    /// Disables CloudSync on every table of `tables` (a table not enabled is left as is).
    pub async fn disable(&self, tables: &[String]) -> Result<(), EnableError> {
        let tables = tables.to_vec();
        match self {
            Tenant::Sqlite { path, read_only } => {
                let (path, read_only) = (path.clone(), *read_only);
                call(move || -> Result<(), EnableError> {
                    let conn = sqlite_open(&path)?;
                    let known: Vec<String> =
                        sqlite_tables(&conn)?.into_iter().map(|(n, _)| n).collect();
                    check_known(&tables, &known)?;
                    if read_only {
                        return Err(read_only_failure().into());
                    }
                    for t in &tables {
                        conn.execute_batch(&format!(
                            "DROP TABLE IF EXISTS {};",
                            quote(&companion(t))
                        ))
                        .map_err(sqlite_err)?;
                    }
                    Ok(())
                })
                .await
            }
            Tenant::Postgres { config, schema } => {
                let client = pg_connect(config).await?;
                let known: Vec<String> = pg_tables(&client, schema)
                    .await?
                    .into_iter()
                    .map(|(n, _)| n)
                    .collect();
                check_known(&tables, &known)?;
                for t in &tables {
                    client
                        .batch_execute(&format!(
                            "DROP TABLE IF EXISTS {}.{}",
                            quote(schema),
                            quote(&companion(t))
                        ))
                        .await
                        .map_err(|e| EnableError::Tenant(pg_failure(&e)))?;
                }
                Ok(())
            }
        }
    }

    /// Delete's best-effort cleanup: disables every enabled table; what went wrong becomes
    /// a warning.
    pub async fn cleanup(&self) -> Vec<String> {
        let enabled: Vec<String> = match self.tables().await {
            Ok(tables) => tables
                .into_iter()
                .filter(|(_, on)| *on)
                .map(|(n, _)| n)
                .collect(),
            Err(f) => {
                return vec![format!(
                    "could not list CloudSync-managed tenant tables ({}: {}); their \
                     `<table>_cloudsync` metadata tables were left in the tenant database",
                    f.code, f.message
                )]
            }
        };
        let mut warnings = Vec::new();
        for table in enabled {
            if let Err(e) = self.disable(std::slice::from_ref(&table)).await {
                let why = match e {
                    EnableError::Tenant(f) => format!("{}: {}", f.code, f.message),
                    EnableError::UnknownTable { .. } => "the table disappeared".to_owned(),
                };
                warnings.push(format!("could not disable table {table:?} ({why})"));
            }
        }
        warnings
    }
}

fn check_known(tables: &[String], known: &[String]) -> Result<(), EnableError> {
    match tables.iter().find(|t| !known.contains(t)) {
        Some(t) => Err(EnableError::UnknownTable {
            table: t.clone(),
            known: known.to_vec(),
        }),
        None => Ok(()),
    }
}

fn not_ready(table: &str) -> Failure {
    fail(
        "database_cloudsync_not_ready",
        format!(
            "table {table:?} has no primary key: CloudSync syncs rows by primary key (add one, \
             for example a TEXT or UUID column, then enable it again)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_hosts() {
        assert!(valid_sqlite_name("appdb"));
        assert!(!valid_sqlite_name("../x"));
        assert!(!valid_sqlite_name(".hidden"));
        assert!(valid_host("project.sqlite.cloud"));
        assert!(!valid_host("a/../b"));
        assert!(!valid_host("UPPER"));
        assert!(is_cloudsync_table("users_cloudsync"));
        assert!(!is_cloudsync_table("users"));
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }

    #[tokio::test]
    async fn sqlite_tables_enable_and_disable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id TEXT PRIMARY KEY); CREATE TABLE logs (line TEXT);",
        )
        .unwrap();
        drop(conn);
        let t = Tenant::Sqlite {
            path: path.clone(),
            read_only: false,
        };
        t.verify().await.unwrap();
        assert_eq!(
            t.tables().await.unwrap(),
            vec![("logs".into(), false), ("users".into(), false)]
        );
        t.enable(&["users".into()]).await.unwrap();
        assert_eq!(
            t.tables().await.unwrap(),
            vec![("logs".into(), false), ("users".into(), true)]
        );
        match t.enable(&["logs".into()]).await {
            Err(EnableError::Tenant(f)) => assert_eq!(f.code, "database_cloudsync_not_ready"),
            other => panic!("{other:?}"),
        }
        match t.enable(&["nope".into()]).await {
            Err(EnableError::UnknownTable { table, known }) => {
                assert_eq!(table, "nope");
                assert_eq!(known, vec!["logs".to_owned(), "users".to_owned()]);
            }
            other => panic!("{other:?}"),
        }
        assert!(t.cleanup().await.is_empty());
        assert_eq!(t.tables().await.unwrap()[1], ("users".into(), false));
        let ro = Tenant::Sqlite {
            path,
            read_only: true,
        };
        assert_eq!(
            ro.verify().await.unwrap_err().code,
            "database_permission_denied"
        );
    }
}
