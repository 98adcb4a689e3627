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

/// v2: apps (soft-deleted rows kept), artifacts held by a project, builds (with their log),
/// environment variables (sensitive values are kept for the runtime, never answered).
pub const V2_APPS: &str = r#"
CREATE TABLE apps (
    app_id           TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects(project_id),
    name             TEXT NOT NULL,
    default_hostname TEXT NOT NULL,
    active_build_id  TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    deleted_at       TEXT
);
CREATE UNIQUE INDEX apps_live_name ON apps(project_id, name) WHERE deleted_at IS NULL;
CREATE INDEX apps_hostname ON apps(default_hostname);
CREATE TABLE artifacts (
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    sha256     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (project_id, sha256)
);
CREATE TABLE builds (
    build_id        TEXT PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES apps(app_id),
    artifact_sha256 TEXT NOT NULL,
    entry           TEXT NOT NULL,
    activate        INTEGER NOT NULL,
    status          TEXT NOT NULL,
    error           TEXT,
    log             TEXT NOT NULL DEFAULT '',
    log_truncated   INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    started_at      TEXT,
    finished_at     TEXT
);
CREATE INDEX builds_app ON builds(app_id);
CREATE TABLE app_env (
    app_id     TEXT NOT NULL REFERENCES apps(app_id),
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    sensitive  INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (app_id, key)
);
"#;

/// v3: project domains (their zone's SOA serial), DNS records (those an automatic-DNS
/// hostname wrote carry `managed_by`), app hostnames (manual or automatic DNS).
pub const V3_DNS: &str = r#"
CREATE TABLE domains (
    domain_id  TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(project_id),
    name       TEXT NOT NULL,
    serial     INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX domains_name ON domains(name);
CREATE TABLE dns_records (
    record_id  TEXT PRIMARY KEY,
    domain_id  TEXT NOT NULL REFERENCES domains(domain_id),
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    value      TEXT NOT NULL,
    ttl        INTEGER NOT NULL,
    priority   INTEGER,
    weight     INTEGER,
    port       INTEGER,
    managed_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX dns_records_domain ON dns_records(domain_id, name);
CREATE TABLE app_hostnames (
    hostname    TEXT PRIMARY KEY,
    app_id      TEXT NOT NULL REFERENCES apps(app_id),
    dns_mode    TEXT NOT NULL,
    domain_id   TEXT REFERENCES domains(domain_id),
    token       TEXT NOT NULL,
    verified_at TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX app_hostnames_app ON app_hostnames(app_id);
"#;

/// Every schema step, oldest first; the file's `user_version` is the number applied.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        description: "v1: projects, user tokens, databases, query tokens, idempotency keys",
        sql: &[V1_TABLES, idempotency::SCHEMA_V1],
    },
    Migration {
        description: "v2: apps, artifacts, builds, app environment variables",
        sql: &[V2_APPS],
    },
    Migration {
        description: "v3: project domains, DNS records, app hostnames",
        sql: &[V3_DNS],
    },
];
