//! Projects.

use rusqlite::{params, OptionalExtension};

use crate::emulator::comwit::validate;
use crate::emulator::core::clock::format_ts;
use crate::emulator::core::secrets::random_hex;

use super::{Principal, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub project_id: String,
    pub name: String,
    pub created_at: String,
}

impl Store {
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
            created_at: format_ts(self.now()),
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
}
