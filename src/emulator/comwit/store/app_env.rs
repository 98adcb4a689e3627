//! Environment variables of apps. Sensitive values are kept (the runtime needs them) but
//! never leave the store through an answer: [`EnvVar::public_value`] is `None` for them.

use rusqlite::{params, OptionalExtension};

use crate::emulator::core::clock::format_ts;

use super::apps::require_live_app;
use super::{Store, StoreError};

/// At most this many variables per app. [assumed]
pub const MAX_VARS_PER_APP: i64 = 200;

/// One variable.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub key: String,
    value: String,
    pub sensitive: bool,
    pub version: i64,
    pub updated_at: String,
}

impl std::fmt::Debug for EnvVar {
    /// Never prints the value of a sensitive variable.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvVar")
            .field("key", &self.key)
            .field("value", &self.public_value())
            .field("sensitive", &self.sensitive)
            .field("version", &self.version)
            .finish()
    }
}

impl EnvVar {
    /// The value an answer may carry: the value of a plain variable, `None` for a sensitive
    /// one.
    pub fn public_value(&self) -> Option<&str> {
        (!self.sensitive).then_some(self.value.as_str())
    }

    /// The value, for the runtime only (the `env` of a request).
    pub fn runtime_value(&self) -> &str {
        &self.value
    }
}

fn var_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<EnvVar> {
    Ok(EnvVar {
        key: row.get(0)?,
        value: row.get(1)?,
        sensitive: row.get::<_, i64>(2)? != 0,
        version: row.get(3)?,
        updated_at: row.get(4)?,
    })
}

impl Store {
    /// The variables of an app, ordered by key.
    pub fn list_env(&self, app_id: &str) -> Result<Vec<EnvVar>, StoreError> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT key, value, sensitive, version, updated_at FROM app_env \
             WHERE app_id = ?1 ORDER BY key",
        )?;
        let rows = stmt
            .query_map(params![app_id], var_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Writes a variable of a live app (value and sensitivity); its `version` starts at 1
    /// and grows by one on every write. A new key beyond the 200th is a validation error.
    pub fn put_env(
        &self,
        app_id: &str,
        key: &str,
        value: &str,
        sensitive: bool,
    ) -> Result<EnvVar, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        require_live_app(&tx, app_id)?;
        let version: Option<i64> = tx
            .query_row(
                "SELECT version FROM app_env WHERE app_id = ?1 AND key = ?2",
                params![app_id, key],
                |r| r.get(0),
            )
            .optional()?;
        if version.is_none() {
            let count: i64 = tx.query_row(
                "SELECT COUNT(*) FROM app_env WHERE app_id = ?1",
                params![app_id],
                |r| r.get(0),
            )?;
            if count >= MAX_VARS_PER_APP {
                return Err(StoreError::Validation {
                    field: "key",
                    message: format!("an app has at most {MAX_VARS_PER_APP} variables"),
                });
            }
        }
        let var = EnvVar {
            key: key.to_owned(),
            value: value.to_owned(),
            sensitive,
            version: version.unwrap_or(0) + 1,
            updated_at: format_ts(self.now()),
        };
        tx.execute(
            "INSERT INTO app_env (app_id, key, value, sensitive, version, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (app_id, key) DO UPDATE SET value = excluded.value, \
             sensitive = excluded.sensitive, version = excluded.version, \
             updated_at = excluded.updated_at",
            params![
                app_id,
                var.key,
                var.value,
                i64::from(sensitive),
                var.version,
                var.updated_at
            ],
        )?;
        tx.commit()?;
        Ok(var)
    }

    /// Deletes a variable; not found when the app has no such key.
    pub fn delete_env(&self, app_id: &str, key: &str) -> Result<(), StoreError> {
        let conn = self.conn()?;
        let n = conn.execute(
            "DELETE FROM app_env WHERE app_id = ?1 AND key = ?2",
            params![app_id, key],
        )?;
        if n == 0 {
            return Err(StoreError::NotFound(format!(
                "app {app_id} has no variable {key}"
            )));
        }
        Ok(())
    }
}
