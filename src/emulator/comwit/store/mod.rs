//! Comwit's state: one SQLite file (`<state-dir>/emulator.sqlite`, schema in [`schema`],
//! migrated forward at open) plus one real SQLite file per database
//! (`<state-dir>/databases/<database_id>.db`), the artifacts of apps by content hash
//! (`<state-dir>/artifacts/<sha256>.tar`) and the unpacked builds
//! (`<state-dir>/apps/<app_id>/builds/<build_id>/`).
//!
//! Raw user, database and query tokens are never stored: only their SHA-256 hex hashes.
//! All access goes through one `Mutex<Connection>`; every call is short and is run by the
//! HTTP layer on the blocking pool. One file per job: [`tokens`] (user tokens, bootstrap,
//! SQL token checks), [`projects`], [`databases`] (rows and files, usage), [`query_tokens`],
//! [`apps`], [`builds`], [`app_env`], [`artifacts`], [`dns`] (domains, records,
//! hostnames); idempotency keys are the core's
//! (`core::idempotency`).

pub mod app_env;
pub mod apps;
pub mod artifacts;
pub mod builds;
pub mod databases;
pub mod dns;
pub mod projects;
pub mod query_tokens;
pub mod schema;
pub mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

use crate::emulator::core::clock::Clock;
use crate::emulator::core::files;
use crate::emulator::core::state::{self, StateError};

pub use app_env::EnvVar;
pub use apps::{App, AppCreateOutcome, AppInspection};
pub use artifacts::ArtifactInspection;
pub use builds::{Build, BuildCreateOutcome, BuildLog, NewBuild};
pub use databases::{CreateOutcome, Database, DatabaseInspection, NewDatabase, Usage};
pub use dns::{DnsRecord, Domain, Hostname, Zone};
pub use projects::Project;
pub use query_tokens::IssuedQueryToken;
pub use tokens::{Principal, SqlAuthError, TokenKind};

/// How long an `Idempotency-Key` is remembered. [assumed: 24 hours]
pub const IDEMPOTENCY_WINDOW_SECS: i64 = crate::emulator::core::idempotency::WINDOW_SECS;

/// The bootstrap project.
pub const LOCAL_PROJECT_ID: &str = "prj_local";
/// The bootstrap project's name.
pub const LOCAL_PROJECT_NAME: &str = "local";

/// The state file's name in the state directory.
pub const STATE_FILE: &str = "emulator.sqlite";
/// The artifacts' folder in the state directory.
pub const ARTIFACTS_DIR: &str = "artifacts";
/// The apps' folder in the state directory (runner script, one folder per app).
pub const APPS_DIR: &str = "apps";

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

impl From<tokio::task::JoinError> for StoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        StoreError::Internal(anyhow::anyhow!("store task failed: {e}"))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Internal(anyhow::Error::new(e).context("state files"))
    }
}

impl From<StateError> for StoreError {
    fn from(e: StateError) -> Self {
        StoreError::Internal(anyhow::Error::new(e))
    }
}

/// The emulator's state store.
pub struct Store {
    conn: Mutex<Connection>,
    state_dir: PathBuf,
    databases_dir: PathBuf,
    /// Bumped at every change of a zone (see [`dns`]).
    dns_generation: std::sync::atomic::AtomicU64,
    /// Where every timestamp and window of the state reads the time.
    clock: Clock,
}

impl Store {
    /// Opens (creating if needed) `<state_dir>/emulator.sqlite`, `<state_dir>/databases/`,
    /// `<state_dir>/artifacts/` and `<state_dir>/apps/` (directories 0700, files 0600),
    /// migrating the schema forward; refuses a state file written by a newer emulator.
    /// Builds a previous run left unfinished are marked failed.
    pub fn open(state_dir: &Path) -> Result<Store, StoreError> {
        Store::open_with_clock(state_dir, Clock::system())
    }

    /// [`Store::open`] with the time read from `clock`.
    pub fn open_with_clock(state_dir: &Path, clock: Clock) -> Result<Store, StoreError> {
        files::private_dir(state_dir)?;
        let databases_dir = state_dir.join("databases");
        files::private_dir(&databases_dir)?;
        files::private_dir(&state_dir.join(ARTIFACTS_DIR))?;
        files::private_dir(&state_dir.join(APPS_DIR))?;
        let conn = state::open(&state_dir.join(STATE_FILE), schema::MIGRATIONS)?;
        let store = Store {
            conn: Mutex::new(conn),
            state_dir: state_dir.to_owned(),
            databases_dir,
            dns_generation: std::sync::atomic::AtomicU64::new(1),
            clock,
        };
        store.fail_interrupted_builds()?;
        Ok(store)
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The current time, from the store's clock.
    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// The store's clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The schema version of the open state file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(state::user_version(&*self.conn()?)?)
    }

    /// Closes the state file, runs `change` on the state directory (store calls wait
    /// meanwhile), and opens it again as a start does: folders made, schema migrated,
    /// interrupted builds failed, the DNS server told to reload. It is opened again even
    /// when `change` failed (then its error is returned).
    pub fn reopen_after(
        &self,
        change: impl FnOnce() -> anyhow::Result<()>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let open = std::mem::replace(&mut *conn, Connection::open_in_memory()?);
        if let Err((_, e)) = open.close() {
            tracing::warn!(error = %e, "closing the state file");
        }
        let changed = change();
        for dir in [
            &self.databases_dir,
            &self.state_dir.join(ARTIFACTS_DIR),
            &self.state_dir.join(APPS_DIR),
        ] {
            files::private_dir(dir)?;
        }
        *conn = state::open(&self.state_dir.join(STATE_FILE), schema::MIGRATIONS)?;
        drop(conn);
        self.fail_interrupted_builds()?;
        self.dns_changed();
        changed.map_err(StoreError::Internal)
    }

    /// Whether the state holds any object a user made: a database, app, artifact or domain
    /// (deleted ones still recorded count too). Projects and tokens are not counted: a
    /// fresh state has its bootstrap project and token.
    pub fn holds_objects(&self) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        let n: i64 = conn.query_row(
            "SELECT (SELECT COUNT(*) FROM databases) + (SELECT COUNT(*) FROM apps)
                  + (SELECT COUNT(*) FROM artifacts) + (SELECT COUNT(*) FROM domains)",
            [],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    pub(crate) fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::comwit::validate;

    fn new_db(name: &str) -> NewDatabase {
        NewDatabase {
            name: name.into(),
            group: "default".into(),
            size_limit_mb: 1024,
        }
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
