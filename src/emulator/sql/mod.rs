//! SQL over the database URL: each emulated database's `database_url`
//! (`http://127.0.0.1:<port>/db/<database_id>/`) speaks the libSQL remote protocol over
//! HTTP (Hrana over HTTP, JSON encoding, versions 2 and 3), as sqld does, so the official
//! libSQL clients work against it. `docs/api/comwit.md` ("SQL over the database URL")
//! describes the behaviour; this module implements it:
//!
//! - [`http`]: the routes under `/db/{database}/`, authorisation with the database token or
//!   a query token ([`Store::authorize_sql_token`]), sqld's status codes and error bodies,
//!   body and statement caps;
//! - [`streams`]: baton-carried streams, one SQLite connection each, with idle expiry;
//! - [`exec`]: execute, batch (with conditions), sequence, describe, stored SQL texts;
//! - [`conn`]: the connection fence (no `ATTACH` of other files, read-only tokens only read,
//!   a time limit per request);
//! - [`wal`]: `generation` and `frame_numbers` followed from the real WAL;
//! - [`proto`]: the JSON structures.
//!
//! All SQLite work runs on tokio's blocking pool. Usage counters (`rows_read`,
//! `rows_written`, `queries`) are fed from every statement that runs
//! ([`Store::record_query`]).

mod conn;
mod exec;
mod http;
mod proto;
mod streams;
mod wal;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tokio::sync::watch;

use super::store::Store;

pub(crate) use http::routes;
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

    /// Checkpoints (PASSIVE) through the keeper when some frames are not in the main file
    /// yet (blocking).
    fn checkpoint(&self) {
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
    store: Arc<Store>,
    streams: Arc<streams::Streams>,
    databases: Mutex<HashMap<String, Arc<DbEntry>>>,
}

impl SqlServer {
    pub fn new(store: Arc<Store>) -> Arc<SqlServer> {
        Arc::new(SqlServer {
            store,
            streams: Arc::new(streams::Streams::default()),
            databases: Mutex::new(HashMap::new()),
        })
    }

    fn entry(&self, database_id: &str, generation: i64) -> Arc<DbEntry> {
        lock(&self.databases)
            .entry(database_id.to_owned())
            .or_insert_with(|| {
                Arc::new(DbEntry {
                    path: self.store.database_file(database_id),
                    keeper: Mutex::new(None),
                    wal: Mutex::new(wal::WalTracker::new(generation)),
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
        }
    }
}

/// The stats template of a `/db/{database}/...` path, from the segments after the
/// database id (empty segments ignored). `None` for paths the data plane does not serve.
pub(crate) fn route_template(rest: &[&str]) -> Option<&'static str> {
    let rest: Vec<&str> = rest.iter().copied().filter(|s| !s.is_empty()).collect();
    Some(match rest.as_slice() {
        [] => "/db/{database}",
        ["v2"] => "/db/{database}/v2",
        ["v3"] => "/db/{database}/v3",
        ["v2", "pipeline"] => "/db/{database}/v2/pipeline",
        ["v3", "pipeline"] => "/db/{database}/v3/pipeline",
        ["v3", "cursor"] => "/db/{database}/v3/cursor",
        ["health"] => "/db/{database}/health",
        ["version"] => "/db/{database}/version",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_templates() {
        assert_eq!(
            route_template(&["v2", "pipeline"]),
            Some("/db/{database}/v2/pipeline")
        );
        assert_eq!(
            route_template(&["", "v3", "cursor"]),
            Some("/db/{database}/v3/cursor")
        );
        assert_eq!(route_template(&[""]), Some("/db/{database}"));
        assert_eq!(route_template(&["v9"]), None);
    }
}
