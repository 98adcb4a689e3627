//! The SQLite state file of a platform, with its schema version and forward migrations.
//!
//! Every platform keeps its state in one SQLite file under the state directory and lists
//! its schema as an ordered list of [`Migration`]s: step `i` (1-based) takes the file from
//! version `i - 1` to version `i`. The version is the file's `PRAGMA user_version`; a file
//! written before versioning existed has version 0. On open, every step after the file's
//! version runs, each in its own transaction that also sets `user_version`. A file whose
//! version is newer than the last step is refused: an older emulator must not write a
//! schema it does not know.
//!
//! Step 1 of a platform is its schema as it was before versioning, written with `IF NOT
//! EXISTS`, so that it is a no-op on such a file and creates a fresh one.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use super::files;

/// One forward schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// What the step does (logged when it runs).
    pub description: &'static str,
    /// The SQL batches of the step, run in order in one transaction.
    pub sql: &'static [&'static str],
}

/// Why a state file could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file was written by a newer emulator.
    #[error(
        "{path} has schema version {found}, newer than this emulator knows (at most \
         {known}): use a newer platform-emulator, or another --state-dir"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("{path}: migration to schema version {version} ({description}) failed: {source}")]
    Migration {
        path: String,
        version: i64,
        description: &'static str,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// The schema version a list of migrations leads to.
pub fn latest_version(migrations: &[Migration]) -> i64 {
    i64::try_from(migrations.len()).unwrap_or(i64::MAX)
}

/// The `user_version` of an open connection.
pub fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Opens (creating it with mode 0600 if needed) a platform's state file in WAL mode with
/// foreign keys on, and brings its schema to the latest version.
pub fn open(path: &Path, migrations: &[Migration]) -> Result<Connection, StateError> {
    if let Some(dir) = path.parent() {
        files::private_dir(dir)?;
    }
    files::private_file(path)?;
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(%mode, path = %path.display(), "state database is not in WAL mode");
    }
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")?;
    migrate(&mut conn, &path.display().to_string(), migrations)?;
    Ok(conn)
}

/// Runs the steps after the connection's `user_version`; refuses a newer file.
pub fn migrate(
    conn: &mut Connection,
    path: &str,
    migrations: &[Migration],
) -> Result<(), StateError> {
    let known = latest_version(migrations);
    let found = user_version(conn)?;
    if found > known {
        return Err(StateError::TooNew {
            path: path.to_owned(),
            found,
            known,
        });
    }
    for (index, step) in migrations.iter().enumerate().skip(found.max(0) as usize) {
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        let run = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            for batch in step.sql {
                tx.execute_batch(batch)?;
            }
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()
        };
        run(conn).map_err(|source| StateError::Migration {
            path: path.to_owned(),
            version,
            description: step.description,
            source,
        })?;
        tracing::info!(%path, version, description = step.description, "state schema migrated");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STEPS: [Migration; 2] = [
        Migration {
            description: "t",
            sql: &["CREATE TABLE IF NOT EXISTS t (a TEXT);"],
        },
        Migration {
            description: "t.b",
            sql: &["ALTER TABLE t ADD COLUMN b INTEGER NOT NULL DEFAULT 7;"],
        },
    ];

    #[test]
    fn migrates_forward_once_and_refuses_newer() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("state").join("x.sqlite");
        {
            let conn = open(&path, &STEPS[..1])?;
            assert_eq!(user_version(&conn)?, 1);
            conn.execute("INSERT INTO t (a) VALUES ('x')", [])?;
        }
        {
            let conn = open(&path, &STEPS)?;
            assert_eq!(user_version(&conn)?, 2);
            let b: i64 = conn.query_row("SELECT b FROM t", [], |r| r.get(0))?;
            assert_eq!(b, 7);
        }
        // Opening again runs nothing (ALTER TABLE would fail a second time).
        assert_eq!(user_version(&open(&path, &STEPS)?)?, 2);
        match open(&path, &STEPS[..1]) {
            Err(StateError::TooNew { found, known, .. }) => assert_eq!((found, known), (2, 1)),
            other => panic!("expected TooNew, got {:?}", other.map(|_| ())),
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode(&path)?, 0o600);
            assert_eq!(mode(path.parent().ok_or("no parent")?)?, 0o700);
        }
        Ok(())
    }

    #[test]
    fn a_failed_step_leaves_the_version() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("x.sqlite");
        let bad = [
            STEPS[0],
            Migration {
                description: "broken",
                sql: &["ALTER TABLE nope ADD COLUMN c INTEGER;"],
            },
        ];
        assert!(matches!(
            open(&path, &bad),
            Err(StateError::Migration { version: 2, .. })
        ));
        assert_eq!(user_version(&Connection::open(&path)?)?, 1);
        Ok(())
    }
}
