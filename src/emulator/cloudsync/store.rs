//! CloudSync's state file (`<state-dir>/cloudsync/cloudsync.sqlite`): the organization,
//! workspaces, management API keys (SHA-256 hashes only), managed databases, Expo access
//! tokens, push status, devices, and the emulated SQLite Cloud nodes that `sqlitecloud://`
//! connection strings name.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

use crate::emulator::core::secrets::{random_hex, sha256_hex};
use crate::emulator::core::state::{self, Migration};
use crate::emulator::core::{clock, secrets};

/// The role a management key needs (seed 002: "a management API key with the
/// workspace-admin role").
pub const ADMIN_ROLE: &str = "workspace-admin";

/// The schema, step by step (`core::state`).
pub const MIGRATIONS: &[Migration] = &[Migration {
    description: "cloudsync: orgs, workspaces, keys, databases, notifications, devices, nodes",
    sql: &["
        CREATE TABLE IF NOT EXISTS orgs (
            org_id TEXT PRIMARY KEY, slug TEXT NOT NULL, name TEXT NOT NULL,
            status TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS workspaces (
            workspace_id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(org_id),
            name TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS api_keys (
            key_hash TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(workspace_id),
            role TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS databases (
            database_id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL REFERENCES workspaces(workspace_id),
            label TEXT NOT NULL, connection_string TEXT NOT NULL, provider TEXT NOT NULL,
            flavor TEXT NOT NULL, database_name TEXT NOT NULL, schema_name TEXT,
            jwt_allowed_issuers TEXT NOT NULL DEFAULT '[]',
            jwt_expected_audiences TEXT NOT NULL DEFAULT '[]',
            jwks_uri TEXT, jwt_secret TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS expo_tokens (
            database_id TEXT PRIMARY KEY REFERENCES databases(database_id) ON DELETE CASCADE,
            token TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS push_pauses (
            database_id TEXT PRIMARY KEY REFERENCES databases(database_id) ON DELETE CASCADE,
            reason TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS devices (
            database_id TEXT NOT NULL REFERENCES databases(database_id) ON DELETE CASCADE,
            site_id TEXT NOT NULL, platform TEXT NOT NULL, push_token TEXT,
            app_version TEXT, created_at TEXT NOT NULL, last_seen_at TEXT NOT NULL,
            PRIMARY KEY (database_id, site_id));
        CREATE TABLE IF NOT EXISTS sqlitecloud_nodes (
            host TEXT PRIMARY KEY, apikey TEXT NOT NULL,
            read_only INTEGER NOT NULL DEFAULT 0, paused INTEGER NOT NULL DEFAULT 0);
    "],
}];

/// Who a key speaks for.
#[derive(Debug, Clone)]
pub struct Principal {
    pub org_id: String,
    pub workspace_id: String,
    pub role: String,
}

/// One managed database, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Database {
    pub database_id: String,
    pub workspace_id: String,
    pub label: String,
    pub connection_string: String,
    pub provider: String,
    pub flavor: String,
    pub database_name: String,
    pub schema_name: Option<String>,
    pub jwt_allowed_issuers: Vec<String>,
    pub jwt_expected_audiences: Vec<String>,
    pub jwks_uri: Option<String>,
    pub jwt_secret: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Database {
    /// The public view: everything but the connection string and the JWT secret, which
    /// read endpoints never return (seed: `jwtSecret` documented; connection string
    /// assumed).
    pub fn public(&self) -> Value {
        json!({
            "managedDatabaseId": self.database_id,
            "workspaceId": self.workspace_id,
            "label": self.label,
            "provider": self.provider,
            "flavor": self.flavor,
            "databaseName": self.database_name,
            "schemaName": self.schema_name,
            "jwtAllowedIssuers": self.jwt_allowed_issuers,
            "jwtExpectedAudiences": self.jwt_expected_audiences,
            "jwksUri": self.jwks_uri,
            "jwtSecretConfigured": self.jwt_secret.is_some(),
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        })
    }
}

/// An emulated SQLite Cloud node (`sqlitecloud://HOST`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub host: String,
    pub apikey: String,
    pub read_only: bool,
    pub paused: bool,
}

/// One registered device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub site_id: String,
    pub platform: String,
    pub push_token: Option<String>,
    pub app_version: Option<String>,
    pub created_at: String,
    pub last_seen_at: String,
}

impl Device {
    /// The public view: the push token itself is never returned, only whether there is one
    /// [assumed].
    pub fn public(&self) -> Value {
        json!({
            "siteId": self.site_id,
            "platform": self.platform,
            "hasPushToken": self.push_token.is_some(),
            "appVersion": self.app_version,
            "createdAt": self.created_at,
            "lastSeenAt": self.last_seen_at,
        })
    }
}

/// The state store (one connection, behind a mutex; callers run on the blocking pool).
pub struct Store {
    conn: Mutex<Connection>,
    /// The state file.
    path: PathBuf,
}

fn strings(json: String) -> Vec<String> {
    serde_json::from_str(&json).unwrap_or_default()
}

const DB_COLUMNS: &str = "database_id, workspace_id, label, connection_string, provider, \
    flavor, database_name, schema_name, jwt_allowed_issuers, jwt_expected_audiences, \
    jwks_uri, jwt_secret, created_at, updated_at";

fn row_database(r: &rusqlite::Row<'_>) -> rusqlite::Result<Database> {
    Ok(Database {
        database_id: r.get(0)?,
        workspace_id: r.get(1)?,
        label: r.get(2)?,
        connection_string: r.get(3)?,
        provider: r.get(4)?,
        flavor: r.get(5)?,
        database_name: r.get(6)?,
        schema_name: r.get(7)?,
        jwt_allowed_issuers: strings(r.get(8)?),
        jwt_expected_audiences: strings(r.get(9)?),
        jwks_uri: r.get(10)?,
        jwt_secret: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
    })
}

/// A new random id: `prefix` + 24 lowercase hex characters (the seed's `db_` + 24).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", random_hex(12))
}

/// Whether `raw` has the shape of a management key: `csk_` + 32 or more lowercase hex
/// [assumed: the seed does not show the format].
pub fn is_key(raw: &str) -> bool {
    raw.strip_prefix("csk_")
        .is_some_and(|h| h.len() >= 32 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Store {
    /// Opens (migrating) the state file in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<Store> {
        let path = dir.join("cloudsync.sqlite");
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
        let mut conn = self.conn();
        let open = std::mem::replace(&mut *conn, Connection::open_in_memory()?);
        if let Err((_, e)) = open.close() {
            tracing::warn!(error = %e, "closing the CloudSync state file");
        }
        let changed = change();
        *conn = state::open(&self.path, MIGRATIONS)?;
        changed
    }

    /// Whether the state holds a managed database or an SQLite Cloud node (with its
    /// files); the bootstrap organization, workspace and key of a fresh state do not count.
    pub fn holds_objects(&self) -> rusqlite::Result<bool> {
        self.conn().query_row(
            "SELECT (SELECT count(*) FROM databases) + (SELECT count(*) FROM sqlitecloud_nodes)",
            [],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// On first start: the organization `acme`'s local twin, its workspace and a
    /// workspace-admin key (`raw` or a random one), returned raw. `None` when the state
    /// was bootstrapped before.
    pub fn bootstrap(&self, raw: Option<&str>) -> anyhow::Result<Option<String>> {
        let conn = self.conn();
        let orgs: i64 = conn.query_row("SELECT count(*) FROM orgs", [], |r| r.get(0))?;
        if orgs > 0 {
            return Ok(None);
        }
        let key = raw
            .map(str::to_owned)
            .unwrap_or_else(|| format!("csk_{}", random_hex(20)));
        conn.execute(
            "INSERT INTO orgs VALUES ('org_local0000000000000000', 'local', 'Local Organization', 'active')",
            [],
        )?;
        conn.execute(
            "INSERT INTO workspaces VALUES ('ws_local', 'org_local0000000000000000', 'Local workspace')",
            [],
        )?;
        conn.execute(
            "INSERT INTO api_keys VALUES (?1, 'ws_local', ?2, ?3)",
            params![sha256_hex(&key), ADMIN_ROLE, clock::format_ts(clock::now())],
        )?;
        Ok(Some(key))
    }

    /// A new key for `workspace` (created in the organization when missing) with `role`.
    pub fn create_key(&self, workspace: &str, role: &str) -> rusqlite::Result<String> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO workspaces VALUES (?1, 'org_local0000000000000000', ?1)",
            [workspace],
        )?;
        let key = format!("csk_{}", random_hex(20));
        conn.execute(
            "INSERT INTO api_keys VALUES (?1, ?2, ?3, ?4)",
            params![
                sha256_hex(&key),
                workspace,
                role,
                clock::format_ts(clock::now())
            ],
        )?;
        Ok(key)
    }

    pub fn authenticate(&self, raw: &str) -> rusqlite::Result<Option<Principal>> {
        if !is_key(raw) {
            return Ok(None);
        }
        let hash = sha256_hex(raw);
        let conn = self.conn();
        let found: Option<(String, String, String)> = conn
            .query_row(
                "SELECT k.key_hash, w.workspace_id, w.org_id || char(0) || k.role
                 FROM api_keys k JOIN workspaces w ON w.workspace_id = k.workspace_id
                 WHERE k.key_hash = ?1",
                [&hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        Ok(found.and_then(|(stored, workspace_id, rest)| {
            if !secrets::constant_time_eq(&stored, &hash) {
                return None;
            }
            let (org_id, role) = rest.split_once('\0')?;
            Some(Principal {
                org_id: org_id.to_owned(),
                workspace_id,
                role: role.to_owned(),
            })
        }))
    }

    pub fn org(&self, org_id: &str) -> rusqlite::Result<Option<Value>> {
        self.conn()
            .query_row(
                "SELECT org_id, slug, name, status FROM orgs WHERE org_id = ?1",
                [org_id],
                |r| {
                    Ok(json!({
                        "organizationId": r.get::<_, String>(0)?,
                        "slug": r.get::<_, String>(1)?,
                        "name": r.get::<_, String>(2)?,
                        "status": r.get::<_, String>(3)?,
                    }))
                },
            )
            .optional()
    }

    pub fn insert_database(&self, db: &Database) -> rusqlite::Result<()> {
        self.conn().execute(
            &format!("INSERT INTO databases ({DB_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"),
            params![
                db.database_id,
                db.workspace_id,
                db.label,
                db.connection_string,
                db.provider,
                db.flavor,
                db.database_name,
                db.schema_name,
                serde_json::to_string(&db.jwt_allowed_issuers).unwrap_or_default(),
                serde_json::to_string(&db.jwt_expected_audiences).unwrap_or_default(),
                db.jwks_uri,
                db.jwt_secret,
                db.created_at,
                db.updated_at
            ],
        )?;
        Ok(())
    }

    /// Replaces the mutable fields of a stored database.
    pub fn update_database(&self, db: &Database) -> rusqlite::Result<bool> {
        let n = self.conn().execute(
            "UPDATE databases SET label = ?2, connection_string = ?3, jwt_allowed_issuers = ?4,
                jwt_expected_audiences = ?5, jwks_uri = ?6, jwt_secret = ?7, updated_at = ?8
             WHERE database_id = ?1",
            params![
                db.database_id,
                db.label,
                db.connection_string,
                serde_json::to_string(&db.jwt_allowed_issuers).unwrap_or_default(),
                serde_json::to_string(&db.jwt_expected_audiences).unwrap_or_default(),
                db.jwks_uri,
                db.jwt_secret,
                db.updated_at
            ],
        )?;
        Ok(n == 1)
    }

    /// A database of `workspace` (`None` for another workspace's too: the same 404).
    pub fn get_database(&self, workspace: &str, id: &str) -> rusqlite::Result<Option<Database>> {
        self.conn()
            .query_row(
                &format!(
                    "SELECT {DB_COLUMNS} FROM databases WHERE database_id = ?1 AND workspace_id = ?2"
                ),
                [id, workspace],
                row_database,
            )
            .optional()
    }

    /// Every database (`workspace`: only its own), oldest first.
    pub fn list_databases(&self, workspace: Option<&str>) -> rusqlite::Result<Vec<Database>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {DB_COLUMNS} FROM databases WHERE ?1 IS NULL OR workspace_id = ?1
             ORDER BY created_at, database_id"
        ))?;
        let rows = stmt.query_map([workspace], row_database)?;
        rows.collect()
    }

    pub fn delete_database(&self, id: &str) -> rusqlite::Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM databases WHERE database_id = ?1", [id])?
            == 1)
    }

    /// (token, created_at, updated_at) of a database's Expo access token.
    pub fn expo_token(&self, id: &str) -> rusqlite::Result<Option<(String, String, String)>> {
        self.conn()
            .query_row(
                "SELECT token, created_at, updated_at FROM expo_tokens WHERE database_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
    }

    /// Sets or rotates the token; a pause for `expo_unauthorized` ends with a new token.
    pub fn set_expo_token(&self, id: &str, token: &str) -> rusqlite::Result<()> {
        let now = clock::format_ts(clock::now());
        let conn = self.conn();
        conn.execute(
            "INSERT INTO expo_tokens VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(database_id) DO UPDATE SET token = ?2, updated_at = ?3",
            params![id, token, now],
        )?;
        conn.execute(
            "DELETE FROM push_pauses WHERE database_id = ?1 AND reason = 'expo_unauthorized'",
            [id],
        )?;
        Ok(())
    }

    pub fn delete_expo_token(&self, id: &str) -> rusqlite::Result<bool> {
        Ok(self
            .conn()
            .execute("DELETE FROM expo_tokens WHERE database_id = ?1", [id])?
            == 1)
    }

    pub fn pause_reason(&self, id: &str) -> rusqlite::Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT reason FROM push_pauses WHERE database_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()
    }

    pub fn set_pause(&self, id: &str, reason: Option<&str>) -> rusqlite::Result<()> {
        let conn = self.conn();
        match reason {
            Some(reason) => conn.execute(
                "INSERT INTO push_pauses VALUES (?1, ?2)
                 ON CONFLICT(database_id) DO UPDATE SET reason = ?2",
                [id, reason],
            )?,
            None => conn.execute("DELETE FROM push_pauses WHERE database_id = ?1", [id])?,
        };
        Ok(())
    }

    /// Adds or replaces devices (emulator-only seeding).
    pub fn upsert_devices(&self, id: &str, devices: &[Device]) -> rusqlite::Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for d in devices {
            tx.execute(
                "INSERT INTO devices VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT(database_id, site_id) DO UPDATE SET platform = ?3,
                    push_token = ?4, app_version = ?5, last_seen_at = ?7",
                params![
                    id,
                    d.site_id,
                    d.platform,
                    d.push_token,
                    d.app_version,
                    d.created_at,
                    d.last_seen_at
                ],
            )?;
        }
        tx.commit()
    }

    /// One page of devices ordered by site id, and the total count.
    pub fn devices(
        &self,
        id: &str,
        page: u64,
        page_size: u64,
    ) -> rusqlite::Result<(Vec<Device>, u64)> {
        let conn = self.conn();
        let total: i64 = conn.query_row(
            "SELECT count(*) FROM devices WHERE database_id = ?1",
            [id],
            |r| r.get(0),
        )?;
        let offset = page.saturating_sub(1).saturating_mul(page_size);
        let mut stmt = conn.prepare(
            "SELECT site_id, platform, push_token, app_version, created_at, last_seen_at
             FROM devices WHERE database_id = ?1 ORDER BY site_id LIMIT ?2 OFFSET ?3",
        )?;
        let rows = stmt.query_map(
            params![
                id,
                i64::try_from(page_size).unwrap_or(i64::MAX),
                i64::try_from(offset).unwrap_or(i64::MAX)
            ],
            |r| {
                Ok(Device {
                    site_id: r.get(0)?,
                    platform: r.get(1)?,
                    push_token: r.get(2)?,
                    app_version: r.get(3)?,
                    created_at: r.get(4)?,
                    last_seen_at: r.get(5)?,
                })
            },
        )?;
        Ok((rows.collect::<Result<_, _>>()?, total.max(0) as u64))
    }

    pub fn delete_device(&self, id: &str, site_id: &str) -> rusqlite::Result<bool> {
        Ok(self.conn().execute(
            "DELETE FROM devices WHERE database_id = ?1 AND site_id = ?2",
            [id, site_id],
        )? == 1)
    }

    pub fn put_node(&self, node: &Node) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO sqlitecloud_nodes VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(host) DO UPDATE SET apikey = ?2, read_only = ?3, paused = ?4",
            params![node.host, node.apikey, node.read_only, node.paused],
        )?;
        Ok(())
    }

    pub fn node(&self, host: &str) -> rusqlite::Result<Option<Node>> {
        self.conn()
            .query_row(
                "SELECT host, apikey, read_only, paused FROM sqlitecloud_nodes WHERE host = ?1",
                [host],
                |r| {
                    Ok(Node {
                        host: r.get(0)?,
                        apikey: r.get(1)?,
                        read_only: r.get(2)?,
                        paused: r.get(3)?,
                    })
                },
            )
            .optional()
    }
}
