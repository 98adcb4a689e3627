//! Artifacts: the archives of app deploys, stored once by content hash
//! (`<state-dir>/artifacts/<sha256>.tar`, mode 0600) and held by projects (one row each).

use std::io::Write;
use std::path::PathBuf;

use rusqlite::{params, OptionalExtension};

use crate::emulator::core::clock::format_ts;
use crate::emulator::core::files;
use crate::emulator::core::secrets::random_hex;

use super::{Store, StoreError, ARTIFACTS_DIR};

/// What the admin inspection shows about one artifact a project holds.
#[derive(Debug, Clone)]
pub struct ArtifactInspection {
    pub project_id: String,
    pub sha256: String,
    pub size: i64,
    pub created_at: String,
    pub file_path: PathBuf,
    pub file_exists: bool,
}

impl Store {
    /// `<state-dir>/artifacts/<sha256>.tar`.
    pub fn artifact_file(&self, sha256: &str) -> PathBuf {
        self.state_dir
            .join(ARTIFACTS_DIR)
            .join(format!("{sha256}.tar"))
    }

    /// Whether the project holds the artifact (its row and its file).
    pub fn has_artifact(&self, project_id: &str, sha256: &str) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        let held: Option<i64> = conn
            .query_row(
                "SELECT 1 FROM artifacts WHERE project_id = ?1 AND sha256 = ?2",
                params![project_id, sha256],
                |r| r.get(0),
            )
            .optional()?;
        Ok(held.is_some() && self.artifact_file(sha256).exists())
    }

    /// Stores an artifact (already checked: its digest is `sha256`, it is a valid archive)
    /// for a project. Returns true when the project did not hold it before.
    pub fn put_artifact(
        &self,
        project_id: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        let conn = self.conn()?;
        let path = self.artifact_file(sha256);
        if !path.exists() {
            // Written aside, then renamed: a reader never sees half an archive.
            let tmp = path.with_extension(format!("tmp-{}", random_hex(4)));
            let written = (|| -> std::io::Result<()> {
                let mut file = files::open_private(&tmp, true)?;
                file.write_all(bytes)?;
                file.sync_all()?;
                std::fs::rename(&tmp, &path)
            })();
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(e.into());
            }
        }
        let n = conn.execute(
            "INSERT OR IGNORE INTO artifacts (project_id, sha256, size, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![
                project_id,
                sha256,
                i64::try_from(bytes.len()).unwrap_or(i64::MAX),
                format_ts(self.now())
            ],
        )?;
        Ok(n > 0)
    }

    /// Removes artifact files no project holds any more (see [`Store::delete_app`]).
    pub fn remove_artifact_files(&self, hashes: &[String]) {
        for sha in hashes {
            let path = self.artifact_file(sha);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "cannot remove"),
            }
        }
    }

    /// Every artifact row, oldest first.
    pub fn inspect_artifacts(&self) -> Result<Vec<ArtifactInspection>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT project_id, sha256, size, created_at FROM artifacts \
             ORDER BY created_at, rowid",
        )?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<Vec<(String, String, i64, String)>, _>>()?;
        Ok(rows
            .into_iter()
            .map(|(project_id, sha256, size, created_at)| {
                let file_path = self.artifact_file(&sha256);
                ArtifactInspection {
                    file_exists: file_path.exists(),
                    file_path,
                    project_id,
                    sha256,
                    size,
                    created_at,
                }
            })
            .collect())
    }
}
