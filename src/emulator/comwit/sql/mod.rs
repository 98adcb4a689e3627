//! SQL over the database URL: each emulated database's `database_url`
//! (`http://127.0.0.1:<port>/db/<database_id>/`) speaks the libSQL remote protocol over
//! HTTP (Hrana over HTTP v1, and versions 2 and 3 with the JSON and (v3) Protobuf
//! encodings), as sqld does, so the official
//! libSQL clients work against it. `docs/api/comwit.md` ("SQL over the database URL")
//! describes the behaviour; this module implements it:
//!
//! - [`http`]: the routes under `/db/{database}/` (the one route table; the URL without
//!   its final `/` and the database's own host `<id>.db.localhost` are routed to them by
//!   [`normalize_path`]), sqld's status codes and error bodies, and sqld's bounds (response
//!   size per statement and in flight, concurrent requests);
//! - [`ws`]: Hrana over WebSocket on the database URL itself (`hrana3`, `hrana2`, `hrana1`),
//!   with the token of `hello` checked as HTTP checks it and statements run by the same
//!   executor;
//! - [`Namespaces`]: what the server is handed instead of the store, as sqld is handed a
//!   namespace store and an auth strategy: an authenticated context ([`exec::Access`]) for
//!   a bearer token, and the connection maker (the database's file); Comwit's store
//!   implements it at the end of this file;
//! - [`streams`]: baton-carried streams, one SQLite connection each, with idle expiry;
//! - [`exec`]: execute, batch (with conditions), sequence, describe, stored SQL texts;
//! - [`conn`]: the connection fence (no `ATTACH` of other files, read-only tokens only read,
//!   a time limit per request);
//! - [`wal`]: `generation` and `frame_numbers` followed from the real WAL;
//! - [`replica`]: embedded replicas (the clients' sync protocol: `info`, `export`, `sync`),
//!   served from a replication log of page changes beside the file;
//! - [`proto`]: the JSON structures; [`protobuf`]: the Protobuf encoding (`v3-protobuf`)
//!   into and out of them.
//!
//! All SQLite work runs on tokio's blocking pool. Usage counters (`rows_read`,
//! `rows_written`, `queries`) are fed from every statement that runs
//! ([`Namespaces::record_query`]).

mod conn;
mod exec;
mod http;
mod proto;
mod protobuf;
mod replica;
mod streams;
mod wal;
mod ws;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::watch;

use super::store::{SqlAuthError, Store, TokenKind};

use exec::Access;
pub(crate) use http::routes;
use sha2::Digest as _;
pub use wal::WalStatus;

/// How often idle streams are expired.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How often committed WAL frames are checkpointed into the main file (PASSIVE), as a
/// libSQL server does in the background.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);

/// What the data plane keeps per database: a connection that holds the file open (so the
/// WAL is not folded back every time a stream closes) and the WAL tracker.
struct DbEntry {
    path: PathBuf,
    keeper: Mutex<Option<Connection>>,
    wal: Mutex<wal::WalTracker>,
    /// The frame numbers last saved beside the file.
    saved: Mutex<Option<wal::Saved>>,
    /// Held while the replication log of embedded replicas is read or appended to.
    replica: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl DbEntry {
    /// Opens the keeper connection if it is not open yet (blocking).
    fn ensure_keeper(&self) -> rusqlite::Result<()> {
        let mut keeper = lock(&self.keeper);
        if keeper.is_none() {
            let conn = conn::open(&self.path)?;
            let _policy = conn::ThreadPolicy::switch_mode(conn::AuthMode::Internal);
            // A first read maps the WAL index, which is what keeps the WAL alive.
            conn.query_row("PRAGMA schema_version", [], |_| Ok(()))?;
            *keeper = Some(conn);
        }
        Ok(())
    }

    /// Reads the WAL index and folds it into the tracker (blocking: file reads).
    fn observe(&self) -> WalStatus {
        // Read under the lock, so that snapshots are folded in the order they were taken.
        let mut tracker = lock(&self.wal);
        tracker.observe(wal::read_snapshot(&self.path));
        tracker.status()
    }

    /// Saves the frame numbers beside the file (blocking), when they changed since the
    /// last save.
    fn save(&self) {
        let saved = lock(&self.wal).saved();
        let mut last = lock(&self.saved);
        if last.as_ref() == Some(&saved) || !self.path.exists() {
            return;
        }
        match wal::store(&self.path, &saved) {
            Ok(()) => *last = Some(saved),
            Err(e) => {
                tracing::warn!(path = %self.path.display(), error = %e, "frame numbers not saved")
            }
        }
    }

    /// Checkpoints (PASSIVE) through the keeper when some frames are not in the main file
    /// yet, and saves the frame numbers (blocking).
    fn checkpoint(&self) {
        self.save();
        if !lock(&self.wal).has_unbackfilled() {
            return;
        }
        {
            let keeper = lock(&self.keeper);
            let Some(conn) = keeper.as_ref() else {
                return;
            };
            let _policy = conn::ThreadPolicy::switch_mode(conn::AuthMode::Internal);
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::debug!(path = %self.path.display(), error = %e, "checkpoint failed");
            }
        }
        self.observe();
    }
}

/// The SQL data plane's state, shared by the handlers.
pub(crate) struct SqlServer {
    namespaces: Arc<dyn Namespaces>,
    streams: Arc<streams::Streams>,
    databases: Mutex<HashMap<String, Arc<DbEntry>>>,
    /// Bytes of statement results being built right now, by every request
    /// ([`http::MAX_TOTAL_RESPONSE_BYTES`]).
    in_flight: Arc<AtomicUsize>,
    /// One permit per request whose SQL work runs ([`http::MAX_CONCURRENT_REQUESTS`]).
    permits: Arc<tokio::sync::Semaphore>,
    /// Requests waiting for a permit.
    waiting: AtomicUsize,
}

impl SqlServer {
    pub fn new(namespaces: Arc<dyn Namespaces>) -> Arc<SqlServer> {
        Arc::new(SqlServer {
            namespaces,
            streams: Arc::new(streams::Streams::default()),
            databases: Mutex::new(HashMap::new()),
            in_flight: Arc::new(AtomicUsize::new(0)),
            permits: Arc::new(tokio::sync::Semaphore::new(http::MAX_CONCURRENT_REQUESTS)),
            waiting: AtomicUsize::new(0),
        })
    }

    fn entry(&self, database_id: &str, generation: i64) -> Arc<DbEntry> {
        lock(&self.databases)
            .entry(database_id.to_owned())
            .or_insert_with(|| {
                let path = self.namespaces.database_path(database_id);
                let saved = wal::load(&path);
                let tracker = match saved {
                    Some(saved) => wal::WalTracker::resume(generation, saved),
                    None => wal::WalTracker::new(generation),
                };
                Arc::new(DbEntry {
                    path,
                    keeper: Mutex::new(None),
                    wal: Mutex::new(tracker),
                    saved: Mutex::new(saved),
                    replica: Mutex::new(()),
                })
            })
            .clone()
    }

    /// `generation` and `frame_numbers` of a database for the status route (blocking: it
    /// reads the WAL index). `generation` is the stored one until the WAL restarts.
    pub fn wal_status(&self, database_id: &str, generation: i64) -> WalStatus {
        self.entry(database_id, generation).observe()
    }

    /// Expires idle streams every second and checkpoints every five, until `shutdown`.
    pub async fn run_maintenance(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(SWEEP_EVERY);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_checkpoint = Instant::now();
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        return;
                    }
                    continue;
                }
            }
            let expired = self.streams.sweep(Instant::now());
            let checkpoint = last_checkpoint.elapsed() >= CHECKPOINT_EVERY;
            if checkpoint {
                last_checkpoint = Instant::now();
            }
            if expired.is_empty() && !checkpoint {
                continue;
            }
            let server = self.clone();
            let work = tokio::task::spawn_blocking(move || {
                if !expired.is_empty() {
                    tracing::debug!(count = expired.len(), "SQL streams expired");
                }
                drop(expired);
                if checkpoint {
                    server.checkpoint_all();
                }
            });
            if let Err(e) = work.await {
                tracing::warn!(error = %e, "SQL maintenance failed");
            }
        }
    }

    /// Closes every idle stream and keeper connection, once no request is served any more
    /// (the last close of a file folds its WAL back into it).
    pub async fn shutdown(self: Arc<Self>) {
        self.close_connections().await;
    }

    /// Closes every stream and connection (their numbers saved); the next request opens
    /// its database again. Before the state's files are replaced (`LiveState::replace`).
    pub async fn close_connections(self: Arc<Self>) {
        if let Err(e) = tokio::task::spawn_blocking(move || self.close_all()).await {
            tracing::warn!(error = %e, "closing SQL connections failed");
        }
    }

    /// Checkpoints every followed database, and forgets those whose file is gone (deleted).
    fn checkpoint_all(&self) {
        let entries: Vec<(String, Arc<DbEntry>)> = lock(&self.databases)
            .iter()
            .map(|(id, e)| (id.clone(), e.clone()))
            .collect();
        for (id, entry) in entries {
            if entry.path.exists() {
                entry.checkpoint();
            } else {
                lock(&self.databases).remove(&id);
                drop(lock(&entry.keeper).take());
                // The database was deleted: its numbers go with it.
                if let Err(e) = std::fs::remove_file(wal::saved_path(&entry.path)) {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        tracing::debug!(error = %e, "frame numbers of a deleted database kept");
                    }
                }
                // And so does the replication log of its embedded replicas.
                let _guard = lock(&entry.replica);
                if let Err(e) = std::fs::remove_dir_all(replica::log_dir(&entry.path)) {
                    if e.kind() != std::io::ErrorKind::NotFound {
                        tracing::debug!(error = %e, "replication log of a deleted database kept");
                    }
                }
            }
        }
    }

    /// Closes every idle stream and keeper connection (blocking). The last close of a file
    /// folds its WAL back into it.
    fn close_all(&self) {
        drop(self.streams.drain());
        let entries: Vec<Arc<DbEntry>> = lock(&self.databases).drain().map(|(_, e)| e).collect();
        for entry in entries {
            drop(lock(&entry.keeper).take());
            // The last close folded the WAL back: numbers as of now, then saved.
            entry.observe();
            entry.save();
        }
    }
}

/// The database segment of a path whose database is found from its token: a database URL
/// without its final `/` (`http://HOST:PORT/db/<id>`) makes a libSQL client resolve
/// `v2/pipeline` to `/db/v2/pipeline`, which names no database.
pub(crate) const BY_TOKEN: &str = "~";

/// The name under which a database has a host of its own: `<id>.db.localhost`
/// (`http://<id>.db.localhost:<port>` serves what `/db/<id>/` serves).
pub(crate) const DB_HOST_SUFFIX: &str = ".db.localhost";

/// The path to route for a database request:
/// - on a database's own host (`<id>.db.localhost`, lowercase, without port), every path is
///   under that database (`/v2/pipeline` is `/db/<id>/v2/pipeline`); `db-<hex>` names the
///   database `db_<hex>` too, for tools that refuse `_` in host names;
/// - under `/db/`, empty segments and a final `/` are removed (`/db/<id>//v2/pipeline` is
///   `/db/<id>/v2/pipeline`), and a protocol segment right after `/db/` (`/db/v2/pipeline`)
///   gets the [`BY_TOKEN`] database in front of it.
///
/// `None` for other paths, or when nothing changes.
pub(crate) fn normalize_path(host: Option<&str>, path: &str) -> Option<String> {
    let rest = match host.and_then(|h| h.strip_suffix(DB_HOST_SUFFIX)) {
        Some(label) if !label.is_empty() && !label.contains('.') => {
            let id = match label.strip_prefix("db-") {
                Some(hex) => format!("db_{hex}"),
                None => label.to_owned(),
            };
            format!("{id}/{path}")
        }
        _ => path.strip_prefix("/db/")?.to_owned(),
    };
    let mut segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    if segments
        .first()
        .is_some_and(|s| matches!(*s, "v1" | "v2" | "v3" | "v3-protobuf"))
    {
        segments.insert(0, BY_TOKEN);
    }
    let normal = format!("/db/{}", segments.join("/"));
    (normal != path).then_some(normal)
}

/// Why a SQL request was refused before any SQL ran.
pub(crate) enum Refusal {
    /// Unknown or deleted database (404).
    NotFound,
    /// No usable token (401).
    Unauthorized(AuthFailure),
    /// A valid token of a suspended database (403).
    Suspended,
    Internal(String),
}

/// Why a token was refused, as sqld's `AuthError` says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    HeaderMissing,
    HeaderNotAscii,
    HeaderMalformed,
    Scheme,
    JwtInvalid,
    JwtExpired,
}

impl AuthFailure {
    /// sqld's words for it (`Unauthorized: `...``).
    pub fn reason(self) -> &'static str {
        match self {
            AuthFailure::HeaderMissing => "Expected authorization header but none given",
            AuthFailure::HeaderNotAscii => "Non-ASCII auth header",
            AuthFailure::HeaderMalformed => {
                "Auth string does not conform to '<scheme> <token>' form"
            }
            AuthFailure::Scheme => {
                "The authentication scheme in the `Authorization` HTTP header is not supported"
            }
            AuthFailure::JwtInvalid => "The JWT is invalid",
            AuthFailure::JwtExpired => "The JWT has expired",
        }
    }

    /// sqld's code for it (`AuthError::code`, the code of its WebSocket errors).
    pub fn code(self) -> &'static str {
        match self {
            AuthFailure::HeaderMissing => "AUTH_HEADER_NOT_FOUND",
            AuthFailure::HeaderNotAscii | AuthFailure::HeaderMalformed => "AUTH_HEADER_MALFORMED",
            AuthFailure::Scheme => "AUTH_HTTP_HEADER_UNSUPPORTED_SCHEME",
            AuthFailure::JwtInvalid => "AUTH_JWT_INVALID",
            AuthFailure::JwtExpired => "AUTH_JWT_EXPIRED",
        }
    }
}

/// What the Hrana server needs from its platform (never the store itself).
pub(crate) trait Namespaces: Send + Sync + 'static {
    /// Whether the database exists and is not deleted (no token needed).
    fn exists(&self, database_id: &str) -> Result<bool, String>;
    /// The database a bearer token belongs to (its database token or one of its query
    /// tokens), if any; for URLs that name no database ([`BY_TOKEN`]).
    fn database_of_token(&self, token: &str) -> Result<Option<String>, String>;
    /// The authenticated context of a bearer token for this database, or the refusal.
    fn authenticate(&self, database_id: &str, token: &str) -> Result<Access, Refusal>;
    /// The connection maker: the SQLite file the database's connections open.
    fn database_path(&self, database_id: &str) -> PathBuf;
    /// Adds one statement's row counts to the database's usage.
    fn record_query(
        &self,
        database_id: &str,
        rows_read: u64,
        rows_written: u64,
    ) -> Result<(), String>;
}

/// Comwit's binding: the database token or a query token of this database.
impl Namespaces for Store {
    fn exists(&self, database_id: &str) -> Result<bool, String> {
        self.get_database(database_id)
            .map(|d| d.is_some())
            .map_err(|e| e.to_string())
    }

    fn database_of_token(&self, token: &str) -> Result<Option<String>, String> {
        use rusqlite::OptionalExtension as _;
        let sql = if token.starts_with("cdt_") {
            "SELECT database_id FROM databases WHERE token_hash = ?1"
        } else if token.starts_with("cqt_") {
            "SELECT database_id FROM query_tokens WHERE token_hash = ?1"
        } else {
            return Ok(None);
        };
        let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
        let conn = self.conn().map_err(|e| e.to_string())?;
        conn.query_row(sql, [hash], |row| row.get(0))
            .optional()
            .map_err(|e| e.to_string())
    }

    fn authenticate(&self, database_id: &str, token: &str) -> Result<Access, Refusal> {
        let read_only_audience = match self.authorize_sql_token(database_id, token) {
            Ok(TokenKind::Database) => None,
            Ok(TokenKind::Query { audience, .. }) => {
                http::is_read_only_audience(&audience).then_some(audience)
            }
            Err(SqlAuthError::NotFound) => return Err(Refusal::NotFound),
            Err(SqlAuthError::Suspended) => return Err(Refusal::Suspended),
            Err(SqlAuthError::Expired) => {
                return Err(Refusal::Unauthorized(AuthFailure::JwtExpired))
            }
            Err(SqlAuthError::Unauthorized) => {
                return Err(Refusal::Unauthorized(AuthFailure::JwtInvalid))
            }
            Err(SqlAuthError::Internal(e)) => return Err(Refusal::Internal(e.to_string())),
        };
        let size_limit_bytes = match self.get_database(database_id) {
            Ok(Some(db)) => u64::try_from(db.size_limit_mb)
                .ok()
                .map(|mb| mb * 1024 * 1024),
            Ok(None) => return Err(Refusal::NotFound),
            Err(e) => return Err(Refusal::Internal(e.to_string())),
        };
        let digest = sha2::Sha256::digest(token.as_bytes());
        Ok(Access {
            database_id: database_id.to_owned(),
            read_only_audience,
            size_limit_bytes,
            owner: hex::encode(&digest[..8]),
        })
    }

    fn database_path(&self, database_id: &str) -> PathBuf {
        self.database_file(database_id)
    }

    fn record_query(
        &self,
        database_id: &str,
        rows_read: u64,
        rows_written: u64,
    ) -> Result<(), String> {
        Store::record_query(self, database_id, rows_read, rows_written).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_paths() {
        assert_eq!(
            normalize_path(None, "/db/db_1//v3/cursor").as_deref(),
            Some("/db/db_1/v3/cursor")
        );
        assert_eq!(
            normalize_path(None, "/db/db_1/").as_deref(),
            Some("/db/db_1")
        );
        assert_eq!(normalize_path(None, "/db/db_1/v2/pipeline"), None);
        assert_eq!(normalize_path(None, "/v1/databases/"), None);
        assert_eq!(normalize_path(Some("localhost"), "/v1/databases"), None);
        // Without the database URL's final slash: the database comes from the token.
        assert_eq!(
            normalize_path(None, "/db/v2/pipeline").as_deref(),
            Some("/db/~/v2/pipeline")
        );
        assert_eq!(normalize_path(None, "/db/v3").as_deref(), Some("/db/~/v3"));
        assert_eq!(normalize_path(None, "/db/v4"), None);
        // A database's own host.
        assert_eq!(
            normalize_path(Some("db_1a.db.localhost"), "/v2/pipeline").as_deref(),
            Some("/db/db_1a/v2/pipeline")
        );
        assert_eq!(
            normalize_path(Some("db-1a.db.localhost"), "/").as_deref(),
            Some("/db/db_1a")
        );
        assert_eq!(
            normalize_path(Some("db_1a.db.localhost"), "/db/db_1a/v2").as_deref(),
            Some("/db/db_1a/db/db_1a/v2")
        );
        assert_eq!(
            normalize_path(Some("a.b.db.localhost"), "/v2/pipeline"),
            None
        );
        assert_eq!(normalize_path(Some(".db.localhost"), "/v2"), None);
    }
}
