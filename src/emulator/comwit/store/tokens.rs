//! User tokens (`cwt_`: bootstrap, admin-created, authentication) and the check of the
//! tokens presented to a database's SQL endpoint (`cdt_`, `cqt_`).

use rusqlite::{params, OptionalExtension, Transaction};

use crate::emulator::comwit::validate;
use crate::emulator::core::clock::format_ts;
use crate::emulator::core::secrets::{constant_time_eq, random_hex, sha256_hex};

use super::databases::live_database;
use super::{Store, StoreError, LOCAL_PROJECT_ID, LOCAL_PROJECT_NAME};

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

impl Store {
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
            params![LOCAL_PROJECT_ID, LOCAL_PROJECT_NAME, format_ts(self.now())],
        )?;
        let scopes: Vec<String> = validate::ALL_SCOPES.iter().map(|s| s.to_string()).collect();
        insert_user_token(
            &tx,
            &token,
            &scopes,
            &[LOCAL_PROJECT_ID.to_owned()],
            &format_ts(self.now()),
        )?;
        tx.commit()?;
        Ok(Some(token))
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
        insert_user_token(&tx, &token, scopes, projects, &format_ts(self.now()))?;
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
                    if expires_unix <= self.now().unix_timestamp() {
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
}

fn insert_user_token(
    tx: &Transaction<'_>,
    raw_token: &str,
    scopes: &[String],
    projects: &[String],
    ts: &str,
) -> Result<(), StoreError> {
    let token_id = format!("ut_{}", random_hex(8));
    let scopes_json = serde_json::to_string(scopes).map_err(|e| StoreError::Internal(e.into()))?;
    tx.execute(
        "INSERT INTO user_tokens (token_id, token_hash, scopes, created_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![token_id, sha256_hex(raw_token), scopes_json, ts],
    )?;
    for project in projects {
        tx.execute(
            "INSERT OR IGNORE INTO token_projects (token_id, project_id) VALUES (?1, ?2)",
            params![token_id, project],
        )?;
    }
    Ok(())
}
