//! Databases: their rows (live or soft-deleted), their SQLite files (mode 0600), status,
//! token rotation, usage counters and the admin inspection.

use std::path::PathBuf;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::emulator::core::clock::format_ts;
use crate::emulator::core::files;
use crate::emulator::core::idempotency::{self, KeyScope, Remembered};
use crate::emulator::core::secrets::{random_hex, sha256_hex};

use super::{Store, StoreError};

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

pub(super) fn live_database(
    conn: &Connection,
    database_id: &str,
) -> Result<Option<Database>, StoreError> {
    let sql =
        format!("SELECT {DB_COLUMNS} FROM databases WHERE database_id = ?1 AND deleted_at IS NULL");
    Ok(conn
        .query_row(&sql, params![database_id], db_from_row)
        .optional()?)
}

pub(super) fn require_live(conn: &Connection, database_id: &str) -> Result<Database, StoreError> {
    live_database(conn, database_id)?
        .ok_or_else(|| StoreError::NotFound(format!("database {database_id} not found")))
}

impl Store {
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
        let now = self.now();
        let now_unix = now.unix_timestamp();
        let ts = format_ts(now);

        let scope = idempotency.map(|(principal, key)| KeyScope {
            principal,
            scope: project_id,
            key,
        });
        if let Some(scope) = scope {
            if let Some(record) = idempotency::lookup(&tx, scope, now_unix)? {
                if record.fingerprint != new.fingerprint() {
                    return Err(StoreError::Validation {
                        field: "Idempotency-Key",
                        message: "Idempotency-Key was already used with a different request \
                                  body"
                            .into(),
                    });
                }
                let database_id = record.resource_id;
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
                idempotency::forget(&tx, scope)?;
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
        if let Some(scope) = scope {
            let remembered = Remembered {
                resource_id: database_id.clone(),
                fingerprint: new.fingerprint(),
            };
            idempotency::remember(&tx, scope, &remembered, now_unix)?;
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
        // Created 0600 before SQLite opens it: its -wal and -shm get the same mode.
        files::private_file(&path)?;
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
                params![format_ts(self.now()), database_id],
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
        let ts = format_ts(self.now());
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
            params![to, format_ts(self.now()), database_id],
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
