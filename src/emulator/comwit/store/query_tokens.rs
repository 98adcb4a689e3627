//! Short-lived query tokens (`cqt_`).

use rusqlite::params;

use crate::emulator::core::clock::format_ts;
use crate::emulator::core::secrets::{random_hex, sha256_hex};

use super::databases::require_live;
use super::{Store, StoreError};

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

impl Store {
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
        let now = self.now();
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
}
