//! WaysCloud's state: API keys (hashes), customers and their quotas, databases (live and
//! deleted, for the history), firewall rules, snapshots and backup policies, in
//! `<state-dir>/wayscloud/wayscloud.sqlite`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::emulator::core::secrets::sha256_hex;
use crate::emulator::core::state::{self, Migration};

pub const STATE_FILE: &str = "wayscloud.sqlite";

pub const MIGRATIONS: &[Migration] = &[Migration {
    description: "WaysCloud keys, customers, databases, firewall rules, snapshots, backup policies",
    sql: &["
        CREATE TABLE IF NOT EXISTS customers (
            customer_id TEXT PRIMARY KEY,
            quota_limit INTEGER NOT NULL,
            storage_limit_gb REAL NOT NULL
        );
        CREATE TABLE IF NOT EXISTS api_keys (
            key_hash TEXT PRIMARY KEY,
            customer_id TEXT NOT NULL,
            permissions TEXT NOT NULL,
            internal INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS databases (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            db_type TEXT NOT NULL,
            db_name TEXT NOT NULL,
            username TEXT NOT NULL,
            customer_id TEXT NOT NULL,
            connection_limit INTEGER NOT NULL,
            description TEXT,
            created_at TEXT NOT NULL,
            deleted_at TEXT
        );
        CREATE UNIQUE INDEX IF NOT EXISTS databases_live ON databases (db_name) WHERE deleted_at IS NULL;
        CREATE TABLE IF NOT EXISTS firewall_rules (
            rule_id TEXT PRIMARY KEY,
            db_id INTEGER NOT NULL REFERENCES databases(id),
            ip_address TEXT NOT NULL,
            cidr TEXT NOT NULL,
            description TEXT,
            created_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS snapshots (
            snapshot_id TEXT PRIMARY KEY,
            db_id INTEGER NOT NULL REFERENCES databases(id),
            description TEXT,
            size_bytes INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS backup_policies (
            db_id INTEGER PRIMARY KEY REFERENCES databases(id),
            enabled INTEGER NOT NULL,
            frequency TEXT NOT NULL,
            retention_days INTEGER NOT NULL,
            time_of_day TEXT
        );
    "],
}];

/// Who a key is.
#[derive(Debug, Clone)]
pub struct Principal {
    pub customer_id: String,
    pub permissions: Vec<String>,
    pub internal: bool,
}

impl Principal {
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission || p == "*")
    }
}

#[derive(Debug, Clone)]
pub struct Database {
    pub id: i64,
    pub db_type: String,
    pub db_name: String,
    pub username: String,
    pub customer_id: String,
    pub connection_limit: i64,
    pub description: Option<String>,
    pub created_at: String,
    pub deleted_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub rule_id: String,
    pub db_id: i64,
    pub ip_address: String,
    pub cidr: String,
    pub description: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct Snapshot {
    pub snapshot_id: String,
    pub db_id: i64,
    pub description: Option<String>,
    pub size_bytes: i64,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub enabled: bool,
    pub frequency: String,
    pub retention_days: i64,
    pub time_of_day: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            enabled: false,
            frequency: "daily".into(),
            retention_days: 7,
            time_of_day: Some("02:00".into()),
        }
    }
}

pub struct Store {
    conn: Mutex<Connection>,
    /// The state file.
    path: PathBuf,
}

const DB_COLUMNS: &str = "id, db_type, db_name, username, customer_id, connection_limit, description, created_at, deleted_at";

fn database(row: &Row<'_>) -> rusqlite::Result<Database> {
    Ok(Database {
        id: row.get(0)?,
        db_type: row.get(1)?,
        db_name: row.get(2)?,
        username: row.get(3)?,
        customer_id: row.get(4)?,
        connection_limit: row.get(5)?,
        description: row.get(6)?,
        created_at: row.get(7)?,
        deleted_at: row.get(8)?,
    })
}

fn rule(row: &Row<'_>) -> rusqlite::Result<Rule> {
    Ok(Rule {
        rule_id: row.get(0)?,
        db_id: row.get(1)?,
        ip_address: row.get(2)?,
        cidr: row.get(3)?,
        description: row.get(4)?,
        created_at: row.get(5)?,
    })
}

fn snapshot(row: &Row<'_>) -> rusqlite::Result<Snapshot> {
    Ok(Snapshot {
        snapshot_id: row.get(0)?,
        db_id: row.get(1)?,
        description: row.get(2)?,
        size_bytes: row.get(3)?,
        created_at: row.get(4)?,
    })
}

impl Store {
    pub fn open(dir: &Path) -> anyhow::Result<Store> {
        let path = dir.join(STATE_FILE);
        let conn = state::open(&path, MIGRATIONS)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// Closes the state file, runs `change` (which empties or refills the folder), and
    /// opens the file again (made and migrated when it is gone); `change`'s error is
    /// returned after the file is open again.
    pub fn reopen_after(&self, change: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let open = std::mem::replace(&mut *conn, Connection::open_in_memory()?);
        if let Err((_, e)) = open.close() {
            tracing::warn!(error = %e, "closing the WaysCloud state file");
        }
        let changed = change();
        *conn = state::open(&self.path, MIGRATIONS)?;
        changed
    }

    /// Whether any database was ever made (deleted ones still recorded count; customers
    /// and keys do not: a fresh state has its bootstrap key).
    pub fn holds_objects(&self) -> rusqlite::Result<bool> {
        self.with(|c| {
            c.query_row("SELECT count(*) FROM databases", [], |r| r.get::<_, i64>(0))
                .map(|n| n > 0)
        })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    pub fn has_keys(&self) -> rusqlite::Result<bool> {
        self.with(|c| {
            c.query_row("SELECT count(*) FROM api_keys", [], |r| r.get::<_, i64>(0))
                .map(|n| n > 0)
        })
    }

    pub fn ensure_customer(&self, customer_id: &str, quota: i64) -> rusqlite::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO customers (customer_id, quota_limit, storage_limit_gb) VALUES (?1, ?2, 10.0)",
                params![customer_id, quota],
            )
            .map(|_| ())
        })
    }

    pub fn set_quota(&self, customer_id: &str, limit: i64) -> rusqlite::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO customers (customer_id, quota_limit, storage_limit_gb) VALUES (?1, ?2, 10.0)
                 ON CONFLICT(customer_id) DO UPDATE SET quota_limit = excluded.quota_limit",
                params![customer_id, limit],
            )
            .map(|_| ())
        })
    }

    /// (database limit, storage limit in GB).
    pub fn quota(&self, customer_id: &str, default: i64) -> rusqlite::Result<(i64, f64)> {
        self.with(|c| {
            Ok(c.query_row(
                "SELECT quota_limit, storage_limit_gb FROM customers WHERE customer_id = ?1",
                [customer_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((default, 10.0)))
        })
    }

    pub fn add_key(
        &self,
        raw: &str,
        customer_id: &str,
        permissions: &[String],
        internal: bool,
        now: &str,
    ) -> rusqlite::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO api_keys (key_hash, customer_id, permissions, internal, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![sha256_hex(raw), customer_id, permissions.join(" "), internal, now],
            )
            .map(|_| ())
        })
    }

    pub fn authenticate(&self, raw: &str) -> rusqlite::Result<Option<Principal>> {
        self.with(|c| {
            c.query_row(
                "SELECT customer_id, permissions, internal FROM api_keys WHERE key_hash = ?1",
                [sha256_hex(raw)],
                |r| {
                    let perms: String = r.get(1)?;
                    Ok(Principal {
                        customer_id: r.get(0)?,
                        permissions: perms.split_whitespace().map(str::to_owned).collect(),
                        internal: r.get(2)?,
                    })
                },
            )
            .optional()
        })
    }

    pub fn live_database(&self, db_name: &str) -> rusqlite::Result<Option<Database>> {
        self.with(|c| {
            c.query_row(
                &format!(
                    "SELECT {DB_COLUMNS} FROM databases WHERE db_name = ?1 AND deleted_at IS NULL"
                ),
                [db_name],
                database,
            )
            .optional()
        })
    }

    pub fn live_databases(
        &self,
        customer_id: &str,
        db_type: Option<&str>,
    ) -> rusqlite::Result<Vec<Database>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {DB_COLUMNS} FROM databases WHERE customer_id = ?1 AND deleted_at IS NULL
                 AND (?2 IS NULL OR db_type = ?2) ORDER BY db_name"
            ))?;
            let rows = stmt.query_map(params![customer_id, db_type], database)?;
            rows.collect()
        })
    }

    /// Every live database (the firewall of PostgreSQL is written from all of them).
    pub fn all_live(&self) -> rusqlite::Result<Vec<Database>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {DB_COLUMNS} FROM databases WHERE deleted_at IS NULL ORDER BY id"
            ))?;
            let rows = stmt.query_map([], database)?;
            rows.collect()
        })
    }

    pub fn history(&self, customer_id: &str) -> rusqlite::Result<Vec<Database>> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {DB_COLUMNS} FROM databases WHERE customer_id = ?1 ORDER BY id DESC"
            ))?;
            let rows = stmt.query_map([customer_id], database)?;
            rows.collect()
        })
    }

    pub fn insert_database(&self, db: &Database) -> rusqlite::Result<i64> {
        self.with(|c| {
            c.execute(
                "INSERT INTO databases (db_type, db_name, username, customer_id, connection_limit, description, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![db.db_type, db.db_name, db.username, db.customer_id, db.connection_limit, db.description, db.created_at],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    pub fn update_database(
        &self,
        id: i64,
        connection_limit: i64,
        description: Option<&str>,
    ) -> rusqlite::Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE databases SET connection_limit = ?2, description = ?3 WHERE id = ?1",
                params![id, connection_limit, description],
            )
            .map(|_| ())
        })
    }

    /// Marks the database deleted and forgets its rules, snapshots and policy.
    pub fn delete_database(&self, id: i64, now: &str) -> rusqlite::Result<()> {
        self.with(|c| {
            c.execute("DELETE FROM firewall_rules WHERE db_id = ?1", [id])?;
            c.execute("DELETE FROM snapshots WHERE db_id = ?1", [id])?;
            c.execute("DELETE FROM backup_policies WHERE db_id = ?1", [id])?;
            c.execute(
                "UPDATE databases SET deleted_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map(|_| ())
        })
    }

    pub fn rules(&self, db_id: Option<i64>) -> rusqlite::Result<Vec<Rule>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT rule_id, db_id, ip_address, cidr, description, created_at FROM firewall_rules
                 WHERE (?1 IS NULL OR db_id = ?1) ORDER BY created_at, rowid",
            )?;
            let rows = stmt.query_map([db_id], rule)?;
            rows.collect()
        })
    }

    pub fn insert_rule(&self, r: &Rule) -> rusqlite::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO firewall_rules (rule_id, db_id, ip_address, cidr, description, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![r.rule_id, r.db_id, r.ip_address, r.cidr, r.description, r.created_at],
            )
            .map(|_| ())
        })
    }

    pub fn delete_rule(&self, db_id: i64, rule_id: &str) -> rusqlite::Result<bool> {
        self.with(|c| {
            c.execute(
                "DELETE FROM firewall_rules WHERE db_id = ?1 AND rule_id = ?2",
                params![db_id, rule_id],
            )
            .map(|n| n > 0)
        })
    }

    pub fn snapshots(&self, db_id: i64) -> rusqlite::Result<Vec<Snapshot>> {
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT snapshot_id, db_id, description, size_bytes, created_at FROM snapshots
                 WHERE db_id = ?1 ORDER BY created_at DESC, rowid DESC",
            )?;
            let rows = stmt.query_map([db_id], snapshot)?;
            rows.collect()
        })
    }

    pub fn insert_snapshot(&self, s: &Snapshot) -> rusqlite::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO snapshots (snapshot_id, db_id, description, size_bytes, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![s.snapshot_id, s.db_id, s.description, s.size_bytes, s.created_at],
            )
            .map(|_| ())
        })
    }

    pub fn delete_snapshot(&self, db_id: i64, snapshot_id: &str) -> rusqlite::Result<bool> {
        self.with(|c| {
            c.execute(
                "DELETE FROM snapshots WHERE db_id = ?1 AND snapshot_id = ?2",
                params![db_id, snapshot_id],
            )
            .map(|n| n > 0)
        })
    }

    pub fn policy(&self, db_id: i64) -> rusqlite::Result<Option<Policy>> {
        self.with(|c| {
            c.query_row(
                "SELECT enabled, frequency, retention_days, time_of_day FROM backup_policies WHERE db_id = ?1",
                [db_id],
                |r| {
                    Ok(Policy {
                        enabled: r.get(0)?,
                        frequency: r.get(1)?,
                        retention_days: r.get(2)?,
                        time_of_day: r.get(3)?,
                    })
                },
            )
            .optional()
        })
    }

    pub fn set_policy(&self, db_id: i64, p: &Policy) -> rusqlite::Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO backup_policies (db_id, enabled, frequency, retention_days, time_of_day) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(db_id) DO UPDATE SET enabled = excluded.enabled, frequency = excluded.frequency,
                 retention_days = excluded.retention_days, time_of_day = excluded.time_of_day",
                params![db_id, p.enabled, p.frequency, p.retention_days, p.time_of_day],
            )
            .map(|_| ())
        })
    }
}
