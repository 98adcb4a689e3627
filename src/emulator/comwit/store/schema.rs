//! Comwit's state schema as ordered forward migrations (see `core::state`). Version 1 is
//! the schema every emulator wrote before versioning existed, exactly (with `IF NOT
//! EXISTS`, so it is a no-op on such a file). Append new steps; never edit a released one.

use crate::emulator::core::idempotency;
use crate::emulator::core::state::Migration;

/// v1: projects, user tokens and their projects, databases, query tokens (Comwit's tables).
pub const V1_TABLES: &str = r#"
CREATE TABLE IF NOT EXISTS projects (
    project_id TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS user_tokens (
    token_id   TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    scopes     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS token_projects (
    token_id   TEXT NOT NULL REFERENCES user_tokens(token_id),
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    PRIMARY KEY (token_id, project_id)
);
CREATE TABLE IF NOT EXISTS databases (
    database_id      TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects(project_id),
    name             TEXT NOT NULL,
    group_name       TEXT NOT NULL,
    size_limit_mb    INTEGER NOT NULL,
    status           TEXT NOT NULL,
    token_hash       TEXT NOT NULL,
    token_rotated_at TEXT NOT NULL,
    generation       INTEGER NOT NULL DEFAULT 1,
    rows_read        INTEGER NOT NULL DEFAULT 0,
    rows_written     INTEGER NOT NULL DEFAULT 0,
    queries          INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS databases_live_name
    ON databases(project_id, name) WHERE deleted_at IS NULL;
CREATE TABLE IF NOT EXISTS query_tokens (
    token_id        TEXT PRIMARY KEY,
    database_id     TEXT NOT NULL REFERENCES databases(database_id),
    token_hash      TEXT NOT NULL UNIQUE,
    audience        TEXT NOT NULL,
    reason          TEXT,
    ttl_seconds     INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    expires_at_unix INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS query_tokens_db ON query_tokens(database_id);
"#;

/// Every schema step, oldest first; the file's `user_version` is the number applied.
pub const MIGRATIONS: &[Migration] = &[Migration {
    description: "v1: projects, user tokens, databases, query tokens, idempotency keys",
    sql: &[V1_TABLES, idempotency::SCHEMA_V1],
}];
