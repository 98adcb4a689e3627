//! Builds of an app: their rows (kept until the app is deleted), status changes, logs.

use rusqlite::{params, Connection, OptionalExtension};

use crate::emulator::core::clock::format_ts;
use crate::emulator::core::idempotency::{self, KeyScope, Remembered};
use crate::emulator::core::secrets::random_hex;

use super::apps::require_live_app;
use super::{Store, StoreError};

/// The longest log a build keeps (256 KiB); the rest is cut and `truncated` set.
pub const LOG_CAP_BYTES: usize = 256 * 1024;

/// One build row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub build_id: String,
    pub app_id: String,
    pub artifact_sha256: String,
    pub entry: String,
    pub activate: bool,
    /// `queued`, `building`, `ready` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
}

impl Build {
    /// `ready` or `failed`: the build will not change any more.
    pub fn is_final(&self) -> bool {
        self.status == "ready" || self.status == "failed"
    }
}

/// A validated build request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBuild {
    pub artifact_sha256: String,
    pub entry: String,
    pub activate: bool,
}

impl NewBuild {
    fn fingerprint(&self) -> String {
        format!(
            "{}\n{}\n{}",
            self.artifact_sha256, self.entry, self.activate
        )
    }
}

/// The result of [`Store::create_build`].
#[derive(Debug, Clone)]
pub struct BuildCreateOutcome {
    pub build: Build,
    pub replayed: bool,
}

/// A build's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildLog {
    pub log: String,
    pub truncated: bool,
}

const BUILD_COLUMNS: &str = "build_id, app_id, artifact_sha256, entry, activate, status, error, \
     created_at, started_at, finished_at";

fn build_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Build> {
    Ok(Build {
        build_id: row.get(0)?,
        app_id: row.get(1)?,
        artifact_sha256: row.get(2)?,
        entry: row.get(3)?,
        activate: row.get::<_, i64>(4)? != 0,
        status: row.get(5)?,
        error: row.get(6)?,
        created_at: row.get(7)?,
        started_at: row.get(8)?,
        finished_at: row.get(9)?,
    })
}

fn build_of(conn: &Connection, app_id: &str, build_id: &str) -> Result<Option<Build>, StoreError> {
    let sql = format!("SELECT {BUILD_COLUMNS} FROM builds WHERE build_id = ?1 AND app_id = ?2");
    Ok(conn
        .query_row(&sql, params![build_id, app_id], build_from_row)
        .optional()?)
}

/// `log` cut to at most [`LOG_CAP_BYTES`] (on a character boundary), and whether it was cut.
pub fn cap_log(log: &str) -> (String, bool) {
    if log.len() <= LOG_CAP_BYTES {
        return (log.to_owned(), false);
    }
    let mut end = LOG_CAP_BYTES;
    while !log.is_char_boundary(end) {
        end -= 1;
    }
    (log[..end].to_owned(), true)
}

impl Store {
    /// Queues a build of a live app. With `idempotency`, a repeat within 24 hours with the
    /// same key and token returns the same build (a different body is a validation error on
    /// `Idempotency-Key`). The app's project must hold the artifact (else a validation
    /// error on `artifact_sha256`).
    pub fn create_build(
        &self,
        app_id: &str,
        new: &NewBuild,
        idempotency: Option<(&str, &str)>,
    ) -> Result<BuildCreateOutcome, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let app = require_live_app(&tx, app_id)?;
        let now = self.now();
        let ts = format_ts(now);
        let scope_name = format!("builds/{app_id}");
        let scope = idempotency.map(|(principal, key)| KeyScope {
            principal,
            scope: &scope_name,
            key,
        });
        if let Some(scope) = scope {
            if let Some(record) = idempotency::lookup(&tx, scope, now.unix_timestamp())? {
                if record.fingerprint != new.fingerprint() {
                    return Err(StoreError::Validation {
                        field: "Idempotency-Key",
                        message: "Idempotency-Key was already used with a different request \
                                  body"
                            .into(),
                    });
                }
                if let Some(build) = build_of(&tx, app_id, &record.resource_id)? {
                    tx.commit()?;
                    return Ok(BuildCreateOutcome {
                        build,
                        replayed: true,
                    });
                }
                idempotency::forget(&tx, scope)?;
            }
        }
        let held: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM artifacts WHERE project_id = ?1 AND sha256 = ?2",
                params![app.project_id, new.artifact_sha256],
                |r| r.get(0),
            )
            .optional()?;
        if held.is_none() || !self.artifact_file(&new.artifact_sha256).exists() {
            return Err(StoreError::Validation {
                field: "artifact_sha256",
                message: format!(
                    "project {} holds no artifact {} (upload it first)",
                    app.project_id, new.artifact_sha256
                ),
            });
        }
        let build = Build {
            build_id: format!("bld_{}", random_hex(8)),
            app_id: app_id.to_owned(),
            artifact_sha256: new.artifact_sha256.clone(),
            entry: new.entry.clone(),
            activate: new.activate,
            status: "queued".into(),
            error: None,
            created_at: ts,
            started_at: None,
            finished_at: None,
        };
        tx.execute(
            "INSERT INTO builds (build_id, app_id, artifact_sha256, entry, activate, status, \
             created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                build.build_id,
                build.app_id,
                build.artifact_sha256,
                build.entry,
                i64::from(build.activate),
                build.status,
                build.created_at
            ],
        )?;
        if let Some(scope) = scope {
            let remembered = Remembered {
                resource_id: build.build_id.clone(),
                fingerprint: new.fingerprint(),
            };
            idempotency::remember(&tx, scope, &remembered, now.unix_timestamp())?;
        }
        tx.commit()?;
        Ok(BuildCreateOutcome {
            build,
            replayed: false,
        })
    }

    /// A build of an app (any status); `None` when the app has no such build.
    pub fn get_build(&self, app_id: &str, build_id: &str) -> Result<Option<Build>, StoreError> {
        build_of(&*self.conn()?, app_id, build_id)
    }

    /// The builds of an app, newest first.
    pub fn list_builds(&self, app_id: &str) -> Result<Vec<Build>, StoreError> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM builds WHERE app_id = ?1 \
             ORDER BY created_at DESC, rowid DESC"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params![app_id], build_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// The log of a build of an app.
    pub fn build_log(&self, app_id: &str, build_id: &str) -> Result<Option<BuildLog>, StoreError> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT log, log_truncated FROM builds WHERE build_id = ?1 AND app_id = ?2",
                params![build_id, app_id],
                |r| {
                    Ok(BuildLog {
                        log: r.get(0)?,
                        truncated: r.get::<_, i64>(1)? != 0,
                    })
                },
            )
            .optional()?)
    }

    /// `queued` → `building`.
    pub fn start_build(&self, build_id: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        conn.execute(
            "UPDATE builds SET status = 'building', started_at = ?1 \
             WHERE build_id = ?2 AND status = 'queued'",
            params![format_ts(self.now()), build_id],
        )?;
        Ok(())
    }

    /// Ends a build: `ready` (error `None`) or `failed`, with its log (capped at 256 KiB).
    /// With `activate`, the build becomes its app's active build in the same transaction.
    pub fn finish_build(
        &self,
        build_id: &str,
        error: Option<&str>,
        log: &str,
        activate: bool,
    ) -> Result<(), StoreError> {
        let (log, truncated) = cap_log(log);
        let status = if error.is_none() { "ready" } else { "failed" };
        let ts = format_ts(self.now());
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE builds SET status = ?1, error = ?2, log = ?3, log_truncated = ?4, \
             finished_at = ?5, started_at = COALESCE(started_at, ?5) WHERE build_id = ?6",
            params![status, error, log, i64::from(truncated), ts, build_id],
        )?;
        if activate && error.is_none() {
            tx.execute(
                "UPDATE apps SET active_build_id = ?1, updated_at = ?2 \
                 WHERE app_id = (SELECT app_id FROM builds WHERE build_id = ?1) \
                 AND deleted_at IS NULL",
                params![build_id, ts],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks the builds a previous run left `queued` or `building` as failed.
    pub(super) fn fail_interrupted_builds(&self) -> Result<(), StoreError> {
        let conn = self.conn()?;
        let n = conn.execute(
            "UPDATE builds SET status = 'failed', \
             error = 'build interrupted: the emulator stopped before it finished', \
             log = log || 'build interrupted: the emulator stopped before it finished\n', \
             finished_at = ?1 WHERE status IN ('queued', 'building')",
            params![format_ts(self.now())],
        )?;
        if n > 0 {
            tracing::info!(builds = n, "marked interrupted builds failed");
        }
        Ok(())
    }

    /// Every build of an app (for the admin inspection), oldest first.
    pub fn inspect_builds(&self, app_id: &str) -> Result<Vec<Build>, StoreError> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM builds WHERE app_id = ?1 ORDER BY created_at, rowid"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params![app_id], build_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_capped_on_a_char_boundary() {
        assert_eq!(cap_log("short"), ("short".to_owned(), false));
        let long = "é".repeat(LOG_CAP_BYTES);
        let (cut, truncated) = cap_log(&long);
        assert!(truncated);
        assert!(cut.len() <= LOG_CAP_BYTES && cut.len() > LOG_CAP_BYTES - 2);
    }
}
