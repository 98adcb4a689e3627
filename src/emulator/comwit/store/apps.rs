//! Apps: their rows (live or soft-deleted), names unique among a project's live apps, the
//! active build, the hostname the gateway routes by, and the folders of their builds.

use std::path::PathBuf;

use rusqlite::{params, Connection, OptionalExtension};

use crate::emulator::core::clock::format_ts;
use crate::emulator::core::idempotency::{self, KeyScope, Remembered};
use crate::emulator::core::secrets::random_hex;

use super::{Store, StoreError, APPS_DIR};

/// The domain of every app's default hostname in the emulator. [assumed]
pub const APPS_DOMAIN: &str = "apps.localhost";

/// One app row (live or soft-deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub app_id: String,
    pub project_id: String,
    pub name: String,
    pub default_hostname: String,
    pub active_build_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub deleted_at: Option<String>,
}

/// The result of [`Store::create_app`].
#[derive(Debug, Clone)]
pub struct AppCreateOutcome {
    pub app: App,
    /// True when this was an `Idempotency-Key` replay of an earlier create.
    pub replayed: bool,
}

/// What the admin inspection shows about one app (its builds are listed separately).
#[derive(Debug, Clone)]
pub struct AppInspection {
    pub app: App,
    pub folder: PathBuf,
    pub folder_exists: bool,
}

const APP_COLUMNS: &str = "app_id, project_id, name, default_hostname, active_build_id, \
     created_at, updated_at, deleted_at";

fn app_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<App> {
    Ok(App {
        app_id: row.get(0)?,
        project_id: row.get(1)?,
        name: row.get(2)?,
        default_hostname: row.get(3)?,
        active_build_id: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        deleted_at: row.get(7)?,
    })
}

/// `<name>-<first 8 hex of the app id>.apps.localhost`.
pub fn default_hostname(name: &str, app_id: &str) -> String {
    let hex = app_id.strip_prefix("app_").unwrap_or(app_id);
    let short: String = hex.chars().take(8).collect();
    format!("{name}-{short}.{APPS_DOMAIN}")
}

pub(super) fn live_app(conn: &Connection, app_id: &str) -> Result<Option<App>, StoreError> {
    let sql = format!("SELECT {APP_COLUMNS} FROM apps WHERE app_id = ?1 AND deleted_at IS NULL");
    Ok(conn
        .query_row(&sql, params![app_id], app_from_row)
        .optional()?)
}

pub(super) fn require_live_app(conn: &Connection, app_id: &str) -> Result<App, StoreError> {
    live_app(conn, app_id)?.ok_or_else(|| StoreError::NotFound(format!("app {app_id} not found")))
}

/// The idempotency scope of app creates in a project (apart from database creates).
fn key_scope(project_id: &str) -> String {
    format!("apps/{project_id}")
}

impl Store {
    /// `<state-dir>/apps/<app_id>/`.
    pub fn app_dir(&self, app_id: &str) -> PathBuf {
        self.state_dir.join(APPS_DIR).join(app_id)
    }

    /// `<state-dir>/apps/<app_id>/builds/<build_id>/`.
    pub fn build_dir(&self, app_id: &str, build_id: &str) -> PathBuf {
        self.app_dir(app_id).join("builds").join(build_id)
    }

    /// A live (not deleted) app.
    pub fn get_app(&self, app_id: &str) -> Result<Option<App>, StoreError> {
        live_app(&*self.conn()?, app_id)
    }

    /// The live app whose default hostname is `host` (lowercase, without port).
    pub fn app_by_hostname(&self, host: &str) -> Result<Option<App>, StoreError> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {APP_COLUMNS} FROM apps WHERE default_hostname = ?1 AND deleted_at IS NULL"
        );
        Ok(conn
            .query_row(&sql, params![host], app_from_row)
            .optional()?)
    }

    /// The live apps of a project, oldest first.
    pub fn list_apps(&self, project_id: &str) -> Result<Vec<App>, StoreError> {
        let conn = self.conn()?;
        let sql = format!(
            "SELECT {APP_COLUMNS} FROM apps WHERE project_id = ?1 AND deleted_at IS NULL \
             ORDER BY created_at, rowid"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(params![project_id], app_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Creates an app. With `idempotency = Some((user_token_hash, key))`, a repeat within 24
    /// hours with the same key, token and project creates nothing and returns the same app
    /// (a different name is a validation error on `Idempotency-Key`; a key whose app was
    /// deleted since is forgotten and the request creates anew).
    pub fn create_app(
        &self,
        project_id: &str,
        name: &str,
        idempotency: Option<(&str, &str)>,
    ) -> Result<AppCreateOutcome, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let now = self.now();
        let ts = format_ts(now);
        let scope_name = key_scope(project_id);
        let scope = idempotency.map(|(principal, key)| KeyScope {
            principal,
            scope: &scope_name,
            key,
        });
        if let Some(scope) = scope {
            if let Some(record) = idempotency::lookup(&tx, scope, now.unix_timestamp())? {
                if record.fingerprint != name {
                    return Err(StoreError::Validation {
                        field: "Idempotency-Key",
                        message: "Idempotency-Key was already used with a different request \
                                  body"
                            .into(),
                    });
                }
                if let Some(app) = live_app(&tx, &record.resource_id)? {
                    tx.commit()?;
                    return Ok(AppCreateOutcome {
                        app,
                        replayed: true,
                    });
                }
                idempotency::forget(&tx, scope)?;
            }
        }
        let taken: Option<String> = tx
            .query_row(
                "SELECT app_id FROM apps WHERE project_id = ?1 AND name = ?2 \
                 AND deleted_at IS NULL",
                params![project_id, name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(other) = taken {
            return Err(StoreError::Conflict(format!(
                "an app named {name} already exists in project {project_id} ({other})"
            )));
        }
        let app_id = format!("app_{}", random_hex(8));
        let app = App {
            default_hostname: default_hostname(name, &app_id),
            app_id,
            project_id: project_id.to_owned(),
            name: name.to_owned(),
            active_build_id: None,
            created_at: ts.clone(),
            updated_at: ts,
            deleted_at: None,
        };
        tx.execute(
            "INSERT INTO apps (app_id, project_id, name, default_hostname, created_at, \
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                app.app_id,
                app.project_id,
                app.name,
                app.default_hostname,
                app.created_at,
                app.updated_at
            ],
        )?;
        if let Some(scope) = scope {
            let remembered = Remembered {
                resource_id: app.app_id.clone(),
                fingerprint: name.to_owned(),
            };
            idempotency::remember(&tx, scope, &remembered, now.unix_timestamp())?;
        }
        tx.commit()?;
        Ok(AppCreateOutcome {
            app,
            replayed: false,
        })
    }

    /// Makes `build_id` the active build of a live app. Returns the updated app.
    pub fn set_active_build(&self, app_id: &str, build_id: &str) -> Result<App, StoreError> {
        let conn = self.conn()?;
        require_live_app(&conn, app_id)?;
        conn.execute(
            "UPDATE apps SET active_build_id = ?1, updated_at = ?2 WHERE app_id = ?3",
            params![build_id, format_ts(self.now()), app_id],
        )?;
        require_live_app(&conn, app_id)
    }

    /// Soft-deletes an app (its row stays for inspection, its name becomes free), drops its
    /// environment variables, and forgets the artifacts of its project that no live app's
    /// build uses any more. Returns the artifact hashes no project holds any more (their
    /// files can go). The caller removes the app's folder.
    pub fn delete_app(&self, app_id: &str) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let app = require_live_app(&tx, app_id)?;
        let ts = format_ts(self.now());
        tx.execute(
            "UPDATE apps SET deleted_at = ?1, updated_at = ?1 WHERE app_id = ?2",
            params![ts, app_id],
        )?;
        tx.execute("DELETE FROM app_env WHERE app_id = ?1", params![app_id])?;
        // Its hostnames go with it, and the records they wrote.
        let hostnames: Vec<String> = {
            let mut stmt = tx.prepare("SELECT hostname FROM app_hostnames WHERE app_id = ?1")?;
            let rows = stmt
                .query_map(params![app_id], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            rows
        };
        for hostname in &hostnames {
            super::dns::delete_hostname_rows(&tx, hostname, &ts)?;
        }
        let used: Vec<String> = {
            let mut stmt =
                tx.prepare("SELECT DISTINCT artifact_sha256 FROM builds WHERE app_id = ?1")?;
            let rows = stmt
                .query_map(params![app_id], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            rows
        };
        let mut gone = Vec::new();
        for sha in used {
            let still_used: i64 = tx.query_row(
                "SELECT COUNT(*) FROM builds b JOIN apps a ON a.app_id = b.app_id \
                 WHERE b.artifact_sha256 = ?1 AND a.project_id = ?2 AND a.deleted_at IS NULL",
                params![sha, app.project_id],
                |r| r.get(0),
            )?;
            if still_used > 0 {
                continue;
            }
            tx.execute(
                "DELETE FROM artifacts WHERE project_id = ?1 AND sha256 = ?2",
                params![app.project_id, sha],
            )?;
            let held: i64 = tx.query_row(
                "SELECT COUNT(*) FROM artifacts WHERE sha256 = ?1",
                params![sha],
                |r| r.get(0),
            )?;
            if held == 0 {
                gone.push(sha);
            }
        }
        tx.commit()?;
        drop(conn);
        if !hostnames.is_empty() {
            self.dns_changed();
        }
        Ok(gone)
    }

    /// Every app ever created, deleted ones included, oldest first, with its folder.
    pub fn inspect_apps(&self) -> Result<Vec<AppInspection>, StoreError> {
        let conn = self.conn()?;
        let sql = format!("SELECT {APP_COLUMNS} FROM apps ORDER BY created_at, rowid");
        let mut stmt = conn.prepare_cached(&sql)?;
        let apps = stmt
            .query_map([], app_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(apps
            .into_iter()
            .map(|app| {
                let folder = self.app_dir(&app.app_id);
                AppInspection {
                    folder_exists: folder.exists(),
                    folder,
                    app,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert_eq!(
            default_hostname("web", "app_5c2e9a1b00112233"),
            "web-5c2e9a1b.apps.localhost"
        );
    }
}
