//! The emulator's state: one SQLite file (`<state-dir>/emulator.sqlite`) plus one real
//! SQLite file per database (`<state-dir>/databases/<database_id>.db`).
//!
//! Raw user, database and query tokens are never stored: only their SHA-256 hex hashes.
//! All access goes through one `Mutex<Connection>`; every call is short and is run by the
//! HTTP layer on the blocking pool.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rand::RngCore;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::validate;

/// How long an `Idempotency-Key` is remembered. [assumed: 24 hours]
pub const IDEMPOTENCY_WINDOW_SECS: i64 = 24 * 60 * 60;

/// The bootstrap project.
pub const LOCAL_PROJECT_ID: &str = "prj_local";
/// The bootstrap project's name.
pub const LOCAL_PROJECT_NAME: &str = "local";

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS projects (
    project_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS user_tokens (
    token_id   TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS token_projects (
    token_id   TEXT NOT NULL REFERENCES user_tokens(token_id),
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    PRIMARY KEY (token_id, project_id)
);
CREATE TABLE IF NOT EXISTS databases (
    database_id      TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects(project_id),
    name             TEXT NOT NULL,
    group_name       TEXT NOT NULL,
    size_limit_mb    INTEGER NOT NULL,
    status           TEXT NOT NULL,
    token_hash       TEXT NOT NULL,
    token_rotated_at TEXT NOT NULL,
    generation       INTEGER NOT NULL DEFAULT 1,
    rows_read        INTEGER NOT NULL DEFAULT 0,
    rows_written     INTEGER NOT NULL DEFAULT 0,
    queries          INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS databases_live_name
    ON databases(project_id, name) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS query_tokens (
    token_id        TEXT PRIMARY KEY,
    database_id     TEXT NOT NULL REFERENCES databases(database_id),
    token_hash      TEXT NOT NULL UNIQUE,
    audience        TEXT NOT NULL,
    reason          TEXT,
    ttl_seconds     INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    expires_at_unix INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS query_tokens_db ON query_tokens(database_id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    token_hash   TEXT NOT NULL,
    project_id   TEXT NOT NULL,
    key          TEXT NOT NULL,
    database_id  TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    created_unix INTEGER NOT NULL,
    PRIMARY KEY (token_hash, project_id, key)
);
"#;

/// A failure of a store operation, mapped 1:1 onto contract errors by the HTTP layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("{field}: {message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Internal(anyhow::Error::new(e).context("state database"))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Internal(anyhow::Error::new(e).context("state files"))
    }
}

/// What kind of token [`Store::authorize_sql_token`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// The database's current long-lived database token (`cdt_`).
    Database,
    /// An unexpired query token (`cqt_`) issued for this database.
    Query {
        token_id: String,
        audience: String,
        expires_at: String,
    },
}

/// Why [`Store::authorize_sql_token`] refused a token.
#[derive(Debug, thiserror::Error)]
pub enum SqlAuthError {
    /// No such database, or it was deleted.
    #[error("database not found")]
    NotFound,
    /// The database is suspended: SQL is refused until it is resumed.
    #[error("database is suspended")]
    Suspended,
    /// The token is neither the current database token nor an unexpired query token of
    /// this database.
    #[error("invalid token")]
    Unauthorized,
    /// The token is a query token of this database whose time is up.
    #[error("expired query token")]
    Expired,
    #[error(transparent)]
    Internal(#[from] StoreError),
}

/// An authenticated user token.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: String,
    pub token_hash: String,
    pub scopes: Vec<String>,
    pub projects: Vec<String>,
}

impl Principal {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    pub fn is_member(&self, project_id: &str) -> bool {
        self.projects.iter().any(|p| p == project_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub project_id: String,
    pub name: String,
    pub created_at: String,
}

/// One database row (live or soft-deleted).
#[derive(Debug, Clone)]
pub struct Database {
    pub database_id: String,
    pub project_id: String,
    pub name: String,
    pub group: String,
    pub size_limit_mb: i64,
    pub status: String,
    pub generation: i64,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
    pub token_hash: String,
    pub token_rotated_at: String,
    pub rows_read: i64,
    pub rows_written: i64,
    pub queries: i64,
}

/// A validated create request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDatabase {
    pub name: String,
    pub group: String,
    pub size_limit_mb: i64,
}

impl NewDatabase {
    fn fingerprint(&self) -> String {
        format!("{}\n{}\n{}", self.name, self.group, self.size_limit_mb)
    }
}

/// The result of [`Store::create_database`].
#[derive(Debug, Clone)]
pub struct CreateOutcome {
    pub database: Database,
    /// The raw database token, issued now (never stored).
    pub database_token: String,
    /// True when this was an `Idempotency-Key` replay of an earlier create.
    pub replayed: bool,
}

/// A freshly issued query token.
#[derive(Debug, Clone)]
pub struct IssuedQueryToken {
    pub token_id: String,
    pub query_token: String,
    pub database_id: String,
    pub audience: String,
    pub reason: Option<String>,
    pub ttl_seconds: i64,
    pub expires_at: String,
}

/// Usage counters and storage of one database.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    pub rows_read: i64,
    pub rows_written: i64,
    pub queries: i64,
    pub storage_bytes: u64,
}

/// What the admin inspection route shows about one database.
#[derive(Debug, Clone)]
pub struct DatabaseInspection {
    pub database: Database,
    pub file_path: PathBuf,
    pub file_exists: bool,
    pub query_token_hashes: Vec<String>,
}

/// SHA-256 of `s`, lowercase hex.
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// `n` random bytes as lowercase hex (2n characters).
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Compares two strings without an early exit on the first differing byte.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
pub fn format_ts(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The calendar month (UTC) containing `t`, as (`period_start`, `period_end`).
pub fn month_period(t: OffsetDateTime) -> (String, String) {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (year, month) = (t.year(), t.month());
    let (next_year, next_month) = if month == time::Month::December {
        (year + 1, time::Month::January)
    } else {
        (year, month.next())
    };
    let at = |y: i32, m: time::Month| {
        time::Date::from_calendar_date(y, m, 1)
            .map(|d| format_ts(d.midnight().assume_utc()))
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
    };
    (at(year, month), at(next_year, next_month))
}

const DB_COLUMNS: &str = "database_id, project_id, name, group_name, size_limit_mb, status, \
     generation, created_at, updated_at, deleted_at, token_hash, token_rotated_at, rows_read, \
     rows_written, queries";

fn db_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Database> {
    Ok(Database {
        database_id: row.get(0)?,
        project_id: row.get(1)?,
        name: row.get(2)?,
        group: row.get(3)?,
        size_limit_mb: row.get(4)?,
        status: row.get(5)?,
        generation: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
        deleted_at: row.get(9)?,
        token_hash: row.get(10)?,
        token_rotated_at: row.get(11)?,
        rows_read: row.get(12)?,
        rows_written: row.get(13)?,
        queries: row.get(14)?,
    })
}

fn live_database(conn: &Connection, database_id: &str) -> Result<Option<Database>, StoreError> {
    let sql =
        format!("SELECT {DB_COLUMNS} FROM databases WHERE database_id = ?1 AND deleted_at IS NULL");
    Ok(conn
        .query_row(&sql, params![database_id], db_from_row)
        .optional()?)
}

fn require_live(conn: &Connection, database_id: &str) -> Result<Database, StoreError> {
    live_database(conn, database_id)?
        .ok_or_else(|| StoreError::NotFound(format!("database {database_id} not found")))
}

/// The emulator's state store.
pub struct Store {
    conn: Mutex<Connection>,
    databases_dir: PathBuf,
}

impl Store {
    /// Opens (creating if needed) `<state_dir>/emulator.sqlite` and `<state_dir>/databases/`.
    pub fn open(state_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(state_dir)?;
        let databases_dir = state_dir.join("databases");
        std::fs::create_dir_all(&databases_dir)?;
        let conn = Connection::open(state_dir.join("emulator.sqlite"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(%mode, "state database is not in WAL mode");
        }
        conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
            databases_dir,
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Internal(anyhow::anyhow!("state lock poisoned")))
    }

    /// The directory holding the per-database SQLite files.
    pub fn databases_dir(&self) -> &Path {
        &self.databases_dir
    }

    /// The SQLite file of a database: `<state-dir>/databases/<database_id>.db`.
    pub fn database_file(&self, database_id: &str) -> PathBuf {
        self.databases_dir.join(format!("{database_id}.db"))
    }

    fn database_files(&self, database_id: &str) -> [PathBuf; 3] {
        let main = self.database_file(database_id);
        let mut wal = main.clone().into_os_string();
        wal.push("-wal");
        let mut shm = main.clone().into_os_string();
        shm.push("-shm");
        [main, PathBuf::from(wal), PathBuf::from(shm)]
    }

    // ---- bootstrap, projects, user tokens ------------------------------------------------

    /// On first start (no user token exists yet): creates `prj_local` and a user token with
    /// every scope, member of it. Returns the raw token, or `None` when already bootstrapped.
    pub fn bootstrap(&self, raw_token: Option<&str>) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let users: i64 = tx.query_row("SELECT COUNT(*) FROM user_tokens", [], |r| r.get(0))?;
        if users > 0 {
            return Ok(None);
        }
        let token = match raw_token {
            Some(t) if validate::is_user_token(t) => t.to_owned(),
            Some(_) => {
                return Err(StoreError::Validation {
                    field: "COMWIT_EMULATOR_BOOTSTRAP_TOKEN",
                    message: "must match cwt_[0-9a-f]{16,}".into(),
                })
            }
            None => format!("cwt_{}", random_hex(16)),
        };
        tx.execute(
            "INSERT OR IGNORE INTO projects (project_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![LOCAL_PROJECT_ID, LOCAL_PROJECT_NAME, format_ts(now())],
        )?;
        let scopes: Vec<String> = validate::ALL_SCOPES.iter().map(|s| s.to_string()).collect();
        insert_user_token(&tx, &token, &scopes, &[LOCAL_PROJECT_ID.to_owned()])?;
        tx.commit()?;
        Ok(Some(token))
    }

    /// Creates a project. `project_id` defaults to `prj_` + 16 hex.
    pub fn create_project(
        &self,
        name: &str,
        project_id: Option<&str>,
    ) -> Result<Project, StoreError> {
        validate::project_name(name).map_err(|message| StoreError::Validation {
            field: "name",
            message,
        })?;
        let project_id = match project_id {
            Some(id) => {
                validate::project_id(id).map_err(|message| StoreError::Validation {
                    field: "project_id",
                    message,
                })?;
                id.to_owned()
            }
            None => format!("prj_{}", random_hex(8)),
        };
        let conn = self.conn()?;
        let project = Project {
            project_id,
            name: name.to_owned(),
            created_at: format_ts(now()),
        };
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO projects (project_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![project.project_id, project.name, project.created_at],
        )?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "project {} already exists",
                project.project_id
            )));
        }
        Ok(project)
    }

    /// Creates a user token with `scopes`, member of `projects`. Returns the raw token.
    pub fn create_user_token(
        &self,
        scopes: &[String],
        projects: &[String],
    ) -> Result<String, StoreError> {
        for scope in scopes {
            validate::scope(scope).map_err(|message| StoreError::Validation {
                field: "scopes",
                message,
            })?;
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        for project in projects {
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM projects WHERE project_id = ?1",
                    params![project],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_none() {
                return Err(StoreError::Validation {
                    field: "projects",
                    message: format!("unknown project {project}"),
                });
            }
        }
        let token = format!("cwt_{}", random_hex(16));
        insert_user_token(&tx, &token, scopes, projects)?;
        tx.commit()?;
        Ok(token)
    }

    /// Resolves a raw user token. `None` when unknown.
    pub fn authenticate(&self, raw_token: &str) -> Result<Option<Principal>, StoreError> {
        if !validate::is_user_token(raw_token) {
            return Ok(None);
        }
        let hash = sha256_hex(raw_token);
        let conn = self.conn()?;
        let row: Option<(String, String)> = conn
            .query_row(
                "SELECT token_id, scopes FROM user_tokens WHERE token_hash = ?1",
                params![hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((token_id, scopes)) = row else {
            return Ok(None);
        };
        let scopes: Vec<String> =
            serde_json::from_str(&scopes).map_err(|e| StoreError::Internal(e.into()))?;
        let mut stmt = conn.prepare_cached(
            "SELECT project_id FROM token_projects WHERE token_id = ?1 ORDER BY project_id",
        )?;
        let projects = stmt
            .query_map(params![token_id], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(Some(Principal {
            token_id,
            token_hash: hash,
            scopes,
            projects,
        }))
    }

    pub fn get_project(&self, project_id: &str) -> Result<Option<Project>, StoreError> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT project_id, name, created_at FROM projects WHERE project_id = ?1",
                params![project_id],
                |r| {
                    Ok(Project {
                        project_id: r.get(0)?,
                        name: r.get(1)?,
                        created_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    /// The projects `principal` is a member of, oldest first.
    pub fn list_projects(&self, principal: &Principal) -> Result<Vec<Project>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT p.project_id, p.name, p.created_at FROM projects p \
             JOIN token_projects t ON t.project_id = p.project_id \
             WHERE t.token_id = ?1 ORDER BY p.created_at, p.project_id",
        )?;
        let rows = stmt
            .query_map(params![principal.token_id], |r| {
                Ok(Project {
                    project_id: r.get(0)?,
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    // ---- databases -----------------------------------------------------------------------

    /// A live (not deleted) database.
    pub fn get_database(&self, database_id: &str) -> Result<Option<Database>, StoreError> {
        let conn = self.conn()?;
        live_database(&conn, database_id)
    }

    /// The live databases of a project, oldest first.
    pub fn list_databases(&self, project_id: &str) -> Result<Vec<Database>, StoreError> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {DB_COLUMNS} FROM databases WHERE project_id = ?1 AND deleted_at IS NULL \
             ORDER BY created_at, rowid"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params![project_id], db_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Creates a database (row and SQLite file) and issues its database token.
    ///
    /// With `idempotency = Some((user_token_hash, key))`, a repeat within 24 hours of a
    /// create with the same key, user token and project creates nothing: it returns the
    /// same database with a freshly issued token (the previous one stops working). A repeat
    /// whose body differs answers a validation error on `Idempotency-Key`. A key whose
    /// database was deleted since is forgotten, and the request creates anew.
    pub fn create_database(
        &self,
        project_id: &str,
        new: &NewDatabase,
        idempotency: Option<(&str, &str)>,
    ) -> Result<CreateOutcome, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let now = now();
        let now_unix = now.unix_timestamp();
        let ts = format_ts(now);

        if let Some((token_hash, key)) = idempotency {
            tx.execute(
                "DELETE FROM idempotency_keys WHERE created_unix <= ?1",
                params![now_unix - IDEMPOTENCY_WINDOW_SECS],
            )?;
            let record: Option<(String, String)> = tx
                .query_row(
                    "SELECT database_id, fingerprint FROM idempotency_keys \
                     WHERE token_hash = ?1 AND project_id = ?2 AND key = ?3",
                    params![token_hash, project_id, key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((database_id, fingerprint)) = record {
                if fingerprint != new.fingerprint() {
                    return Err(StoreError::Validation {
                        field: "Idempotency-Key",
                        message: "Idempotency-Key was already used with a different request \
                                  body"
                            .into(),
                    });
                }
                if let Some(mut database) = live_database(&tx, &database_id)? {
                    let token = format!("cdt_{}", random_hex(24));
                    let hash = sha256_hex(&token);
                    tx.execute(
                        "UPDATE databases SET token_hash = ?1, token_rotated_at = ?2 \
                         WHERE database_id = ?3",
                        params![hash, ts, database_id],
                    )?;
                    tx.commit()?;
                    database.token_hash = hash;
                    database.token_rotated_at = ts;
                    return Ok(CreateOutcome {
                        database,
                        database_token: token,
                        replayed: true,
                    });
                }
                tx.execute(
                    "DELETE FROM idempotency_keys \
                     WHERE token_hash = ?1 AND project_id = ?2 AND key = ?3",
                    params![token_hash, project_id, key],
                )?;
            }
        }

        let taken: Option<String> = tx
            .query_row(
                "SELECT database_id FROM databases \
                 WHERE project_id = ?1 AND name = ?2 AND deleted_at IS NULL",
                params![project_id, new.name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(other) = taken {
            return Err(StoreError::Conflict(format!(
                "a database named {} already exists in project {project_id} ({other})",
                new.name
            )));
        }

        let database_id = format!("db_{}", random_hex(8));
        let token = format!("cdt_{}", random_hex(24));
        let database = Database {
            database_id: database_id.clone(),
            project_id: project_id.to_owned(),
            name: new.name.clone(),
            group: new.group.clone(),
            size_limit_mb: new.size_limit_mb,
            status: "active".into(),
            generation: 1,
            created_at: ts.clone(),
            updated_at: ts.clone(),
            deleted_at: None,
            token_hash: sha256_hex(&token),
            token_rotated_at: ts.clone(),
            rows_read: 0,
            rows_written: 0,
            queries: 0,
        };
        tx.execute(
            "INSERT INTO databases (database_id, project_id, name, group_name, size_limit_mb, \
             status, token_hash, token_rotated_at, generation, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                database.database_id,
                database.project_id,
                database.name,
                database.group,
                database.size_limit_mb,
                database.status,
                database.token_hash,
                database.token_rotated_at,
                database.generation,
                database.created_at,
                database.updated_at,
            ],
        )?;
        if let Some((token_hash, key)) = idempotency {
            tx.execute(
                "INSERT INTO idempotency_keys \
                 (token_hash, project_id, key, database_id, fingerprint, created_unix) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    token_hash,
                    project_id,
                    key,
                    database_id,
                    new.fingerprint(),
                    now_unix
                ],
            )?;
        }
        self.create_database_file(&database_id)?;
        if let Err(e) = tx.commit() {
            self.remove_database_files(&database_id);
            return Err(e.into());
        }
        Ok(CreateOutcome {
            database,
            database_token: token,
            replayed: false,
        })
    }

    fn create_database_file(&self, database_id: &str) -> Result<(), StoreError> {
        self.remove_database_files(database_id);
        let path = self.database_file(database_id);
        let db = Connection::open(&path)?;
        let mode: String = db.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Internal(anyhow::anyhow!(
                "{} refused WAL mode ({mode})",
                path.display()
            )));
        }
        db.close().map_err(|(_, e)| StoreError::from(e))?;
        Ok(())
    }

    fn remove_database_files(&self, database_id: &str) {
        for path in self.database_files(database_id) {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove"),
            }
        }
    }

    /// Deletes a database: the row is kept (soft-deleted, for inspection) and its files are
    /// removed. Its name becomes free again.
    pub fn delete_database(&self, database_id: &str) -> Result<(), StoreError> {
        {
            let conn = self.conn()?;
            let changed = conn.execute(
                "UPDATE databases SET deleted_at = ?1, updated_at = ?1 \
                 WHERE database_id = ?2 AND deleted_at IS NULL",
                params![format_ts(now()), database_id],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!(
                    "database {database_id} not found"
                )));
            }
        }
        self.remove_database_files(database_id);
        Ok(())
    }

    /// Issues a fresh database token; the previous one stops working at once.
    /// Returns (raw token, rotated_at).
    pub fn rotate_token(&self, database_id: &str) -> Result<(String, String), StoreError> {
        let conn = self.conn()?;
        let token = format!("cdt_{}", random_hex(24));
        let ts = format_ts(now());
        let changed = conn.execute(
            "UPDATE databases SET token_hash = ?1, token_rotated_at = ?2 \
             WHERE database_id = ?3 AND deleted_at IS NULL",
            params![sha256_hex(&token), ts, database_id],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!(
                "database {database_id} not found"
            )));
        }
        Ok((token, ts))
    }

    /// Issues a query token valid for `ttl_seconds`. Refused (conflict) on a suspended
    /// database.
    pub fn issue_query_token(
        &self,
        database_id: &str,
        ttl_seconds: i64,
        audience: &str,
        reason: Option<&str>,
    ) -> Result<IssuedQueryToken, StoreError> {
        let conn = self.conn()?;
        let database = require_live(&conn, database_id)?;
        if database.status != "active" {
            return Err(StoreError::Conflict(format!(
                "database {database_id} is {}; resume it to issue query tokens",
                database.status
            )));
        }
        let now = now();
        let expires = now + time::Duration::seconds(ttl_seconds);
        let issued = IssuedQueryToken {
            token_id: format!("qt_{}", random_hex(8)),
            query_token: format!("cqt_{}", random_hex(24)),
            database_id: database_id.to_owned(),
            audience: audience.to_owned(),
            reason: reason.map(str::to_owned),
            ttl_seconds,
            expires_at: format_ts(expires),
        };
        conn.execute(
            "INSERT INTO query_tokens (token_id, database_id, token_hash, audience, reason, \
             ttl_seconds, created_at, expires_at, expires_at_unix) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                issued.token_id,
                issued.database_id,
                sha256_hex(&issued.query_token),
                issued.audience,
                issued.reason,
                issued.ttl_seconds,
                format_ts(now),
                issued.expires_at,
                expires.unix_timestamp(),
            ],
        )?;
        Ok(issued)
    }

    /// Moves a database from status `from` to status `to`; conflict when it is not in
    /// `from`. Returns the updated database.
    pub fn transition(
        &self,
        database_id: &str,
        from: &str,
        to: &str,
    ) -> Result<Database, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let database = require_live(&tx, database_id)?;
        if database.status != from {
            return Err(StoreError::Conflict(format!(
                "database {database_id} is {}, not {from}",
                database.status
            )));
        }
        tx.execute(
            "UPDATE databases SET status = ?1, updated_at = ?2 WHERE database_id = ?3",
            params![to, format_ts(now()), database_id],
        )?;
        let database = require_live(&tx, database_id)?;
        tx.commit()?;
        Ok(database)
    }

    /// Usage counters and on-disk size of a live database.
    pub fn usage(&self, database_id: &str) -> Result<Usage, StoreError> {
        let database = {
            let conn = self.conn()?;
            require_live(&conn, database_id)?
        };
        Ok(Usage {
            rows_read: database.rows_read,
            rows_written: database.rows_written,
            queries: database.queries,
            storage_bytes: self.storage_bytes(database_id),
        })
    }

    /// Total size of the database's files (`.db`, `-wal`, `-shm`) on disk.
    pub fn storage_bytes(&self, database_id: &str) -> u64 {
        self.database_files(database_id)
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// WAL frame numbers of the database file, from `PRAGMA wal_checkpoint(PASSIVE)`:
    /// `current` = frames in the WAL (`log`), `durable` = frames checkpointed into the main
    /// file (`checkpointed`). Both are 0 when the WAL is empty (as after the last
    /// connection closed) or the file cannot be opened.
    pub fn frame_numbers(&self, database_id: &str) -> (i64, i64) {
        let path = self.database_file(database_id);
        let open = || -> rusqlite::Result<(i64, i64)> {
            let db = Connection::open_with_flags(
                &path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            db.busy_timeout(std::time::Duration::from_millis(200))?;
            let (log, checkpointed): (i64, i64) =
                db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((r.get(1)?, r.get(2)?))
                })?;
            Ok((log.max(0), checkpointed.max(0)))
        };
        if !path.exists() {
            return (0, 0);
        }
        open().unwrap_or_else(|e| {
            tracing::warn!(%database_id, error = %e, "cannot read frame numbers");
            (0, 0)
        })
    }

    // ---- SQL data plane hooks --------------------------------------------------------------

    /// Checks a raw token presented to the SQL endpoint of `database_id`: it must be the
    /// database's current database token, or an unexpired query token issued for it. A
    /// deleted (or unknown) database is `NotFound`; a query token of this database whose time
    /// is up is `Expired`; any other token is `Unauthorized`; a valid token for a suspended
    /// database is `Suspended` (the token is checked first, so that an unauthenticated caller
    /// learns nothing about the database's state).
    pub fn authorize_sql_token(
        &self,
        database_id: &str,
        raw_token: &str,
    ) -> Result<TokenKind, SqlAuthError> {
        let conn = self.conn()?;
        let database = live_database(&conn, database_id)?.ok_or(SqlAuthError::NotFound)?;
        let hash = sha256_hex(raw_token);
        let kind = if raw_token.starts_with("cdt_") && constant_time_eq(&hash, &database.token_hash)
        {
            TokenKind::Database
        } else if raw_token.starts_with("cqt_") {
            let row: Option<(String, String, String, i64)> = conn
                .query_row(
                    "SELECT token_id, audience, expires_at, expires_at_unix FROM query_tokens \
                     WHERE database_id = ?1 AND token_hash = ?2",
                    params![database_id, hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()
                .map_err(StoreError::from)?;
            match row {
                Some((token_id, audience, expires_at, expires_unix)) => {
                    if expires_unix <= now().unix_timestamp() {
                        return Err(SqlAuthError::Expired);
                    }
                    TokenKind::Query {
                        token_id,
                        audience,
                        expires_at,
                    }
                }
                None => return Err(SqlAuthError::Unauthorized),
            }
        } else {
            return Err(SqlAuthError::Unauthorized);
        };
        if database.status != "active" {
            return Err(SqlAuthError::Suspended);
        }
        Ok(kind)
    }

    /// Adds one query and its row counts to a database's usage counters.
    pub fn record_query(
        &self,
        database_id: &str,
        rows_read: u64,
        rows_written: u64,
    ) -> Result<(), StoreError> {
        let conn = self.conn()?;
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let changed = conn.execute(
            "UPDATE databases SET rows_read = rows_read + ?1, rows_written = rows_written + ?2, \
             queries = queries + 1 WHERE database_id = ?3 AND deleted_at IS NULL",
            params![to_i64(rows_read), to_i64(rows_written), database_id],
        )?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!(
                "database {database_id} not found"
            )));
        }
        Ok(())
    }

    // ---- admin inspection ------------------------------------------------------------------

    /// Every database ever created, deleted ones included, oldest first.
    pub fn inspect_databases(&self) -> Result<Vec<DatabaseInspection>, StoreError> {
        let conn = self.conn()?;
        let sql = format!("SELECT {DB_COLUMNS} FROM databases ORDER BY created_at, rowid");
        let mut stmt = conn.prepare_cached(&sql)?;
        let databases = stmt
            .query_map([], db_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        let mut tokens = conn.prepare_cached(
            "SELECT token_hash FROM query_tokens WHERE database_id = ?1 ORDER BY rowid",
        )?;
        let mut out = Vec::with_capacity(databases.len());
        for database in databases {
            let query_token_hashes = tokens
                .query_map(params![database.database_id], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            let file_path = self.database_file(&database.database_id);
            out.push(DatabaseInspection {
                file_exists: file_path.exists(),
                file_path,
                query_token_hashes,
                database,
            });
        }
        Ok(out)
    }
}

fn insert_user_token(
    tx: &Transaction<'_>,
    raw_token: &str,
    scopes: &[String],
    projects: &[String],
) -> Result<(), StoreError> {
    let token_id = format!("ut_{}", random_hex(8));
    let scopes_json = serde_json::to_string(scopes).map_err(|e| StoreError::Internal(e.into()))?;
    tx.execute(
        "INSERT INTO user_tokens (token_id, token_hash, scopes, created_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![
            token_id,
            sha256_hex(raw_token),
            scopes_json,
            format_ts(now())
        ],
    )?;
    for project in projects {
        tx.execute(
            "INSERT OR IGNORE INTO token_projects (token_id, project_id) VALUES (?1, ?2)",
            params![token_id, project],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_db(name: &str) -> NewDatabase {
        NewDatabase {
            name: name.into(),
            group: "default".into(),
            size_limit_mb: 1024,
        }
    }

    #[test]
    fn timestamps_and_periods() {
        let t = time::macros::datetime!(2026-12-23 19:00:00.123 UTC);
        assert_eq!(format_ts(t), "2026-12-23T19:00:00Z");
        let (start, end) = month_period(t);
        assert_eq!(start, "2026-12-01T00:00:00Z");
        assert_eq!(end, "2027-01-01T00:00:00Z");
        let (start, end) = month_period(time::macros::datetime!(2026-11-23 19:00 UTC));
        assert_eq!(start, "2026-11-01T00:00:00Z");
        assert_eq!(end, "2026-12-01T00:00:00Z");
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }

    #[test]
    fn sql_token_authorization() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path())?;
        let token = store.bootstrap(None)?.ok_or("no bootstrap token")?;
        assert!(validate::is_user_token(&token));
        assert!(store.bootstrap(None)?.is_none(), "bootstrap runs once");

        let created = store.create_database(LOCAL_PROJECT_ID, &new_db("orders"), None)?;
        let id = created.database.database_id.clone();
        assert!(store.database_file(&id).exists());
        assert_eq!(
            store.authorize_sql_token(&id, &created.database_token)?,
            TokenKind::Database
        );
        assert!(matches!(
            store.authorize_sql_token(&id, "cdt_nope"),
            Err(SqlAuthError::Unauthorized)
        ));
        let qt = store.issue_query_token(&id, 60, "sql", None)?;
        assert!(matches!(
            store.authorize_sql_token(&id, &qt.query_token)?,
            TokenKind::Query { .. }
        ));
        let (rotated, _) = store.rotate_token(&id)?;
        assert!(matches!(
            store.authorize_sql_token(&id, &created.database_token),
            Err(SqlAuthError::Unauthorized)
        ));
        assert_eq!(
            store.authorize_sql_token(&id, &rotated)?,
            TokenKind::Database
        );

        store.record_query(&id, 3, 1)?;
        let usage = store.usage(&id)?;
        assert_eq!(
            (usage.rows_read, usage.rows_written, usage.queries),
            (3, 1, 1)
        );
        assert!(usage.storage_bytes > 0);

        store.transition(&id, "active", "suspended")?;
        assert!(matches!(
            store.authorize_sql_token(&id, &rotated),
            Err(SqlAuthError::Suspended)
        ));
        store.delete_database(&id)?;
        assert!(matches!(
            store.authorize_sql_token(&id, &rotated),
            Err(SqlAuthError::NotFound)
        ));
        assert!(!store.database_file(&id).exists());
        Ok(())
    }
}
