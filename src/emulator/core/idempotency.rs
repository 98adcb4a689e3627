//! The `Idempotency-Key` store, kept in a platform's state file.
//!
//! A key is scoped to (principal, scope, key): the hash of the caller's token, the
//! container the request writes into (a project, ...) and the key itself. It remembers
//! the id of what the first request created and a fingerprint of its body, for
//! [`WINDOW_SECS`]. The table is created by the platform's migrations with
//! [`SCHEMA_V1`] (its column names are those Comwit's v1 schema already had).

use rusqlite::{params, Connection, OptionalExtension};

/// How long a key is remembered. [assumed: 24 hours]
pub const WINDOW_SECS: i64 = 24 * 60 * 60;

/// The idempotency table: `token_hash` = principal, `project_id` = scope, `database_id` =
/// the created object.
pub const SCHEMA_V1: &str = r#"
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

/// Who sent a keyed request, where it writes, and its key.
#[derive(Debug, Clone, Copy)]
pub struct KeyScope<'a> {
    pub principal: &'a str,
    pub scope: &'a str,
    pub key: &'a str,
}

/// What the first request with a key created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remembered {
    pub resource_id: String,
    pub fingerprint: String,
}

/// Forgets the keys older than the window, then looks `scope` up.
pub fn lookup(
    conn: &Connection,
    scope: KeyScope<'_>,
    now_unix: i64,
) -> rusqlite::Result<Option<Remembered>> {
    conn.execute(
        "DELETE FROM idempotency_keys WHERE created_unix <= ?1",
        params![now_unix - WINDOW_SECS],
    )?;
    conn.query_row(
        "SELECT database_id, fingerprint FROM idempotency_keys \
         WHERE token_hash = ?1 AND project_id = ?2 AND key = ?3",
        params![scope.principal, scope.scope, scope.key],
        |r| {
            Ok(Remembered {
                resource_id: r.get(0)?,
                fingerprint: r.get(1)?,
            })
        },
    )
    .optional()
}

/// Remembers what a keyed request created.
pub fn remember(
    conn: &Connection,
    scope: KeyScope<'_>,
    remembered: &Remembered,
    now_unix: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO idempotency_keys \
         (token_hash, project_id, key, database_id, fingerprint, created_unix) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            scope.principal,
            scope.scope,
            scope.key,
            remembered.resource_id,
            remembered.fingerprint,
            now_unix
        ],
    )?;
    Ok(())
}

/// Forgets a key (its object is gone, so the request creates anew).
pub fn forget(conn: &Connection, scope: KeyScope<'_>) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM idempotency_keys \
         WHERE token_hash = ?1 AND project_id = ?2 AND key = ?3",
        params![scope.principal, scope.scope, scope.key],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remember_lookup_expire_forget() -> rusqlite::Result<()> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA_V1)?;
        let scope = KeyScope {
            principal: "h",
            scope: "prj",
            key: "k",
        };
        let r = Remembered {
            resource_id: "db_1".into(),
            fingerprint: "f".into(),
        };
        remember(&conn, scope, &r, 1000)?;
        assert_eq!(lookup(&conn, scope, 1001)?, Some(r.clone()));
        assert_eq!(lookup(&conn, scope, 1000 + WINDOW_SECS)?, None);
        remember(&conn, scope, &r, 2000)?;
        forget(&conn, scope)?;
        assert_eq!(lookup(&conn, scope, 2001)?, None);
        Ok(())
    }
}
