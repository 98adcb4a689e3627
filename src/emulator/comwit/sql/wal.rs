//! The libSQL "internals" of a database (`generation`, `frame_numbers`), followed from the
//! real WAL of its SQLite file without touching it.
//!
//! The WAL index (`<file>-shm`) says how many frames the current WAL holds (`mxFrame`) and
//! how many of them were checkpointed into the main file (`nBackfill`); its salt changes
//! every time SQLite restarts the WAL from the beginning (after a complete checkpoint) or
//! the WAL is created anew (after the last connection folded it back). A [`WalTracker`]
//! turns successive snapshots into numbers that only grow:
//!
//! - `current`: frames committed since the database was first served SQL;
//! - `durable`: the part of them that is checkpointed into the main database file;
//! - `generation`: starts at the stored generation (1) and grows by one each time a WAL that
//!   held frames is replaced by a new one.
//!
//! The numbers outlive the emulator: [`WalTracker::saved`] is written beside the database
//! file (`<file>-frames`, JSON) at every checkpoint and on stop, and read back when the
//! database is next served ([`load`], [`store`]), so they go on growing after a restart as
//! they do on a libSQL server.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One consistent reading of the WAL index header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalSnapshot {
    pub salt: (u32, u32),
    pub max_frame: u32,
    pub backfilled: u32,
}

/// `iVersion` of the WAL index header SQLite writes.
const WAL_INDEX_VERSION: u32 = 3_007_000;
/// Two copies of the 48-byte header, then the checkpoint info (`nBackfill` first).
const HEADER_LEN: usize = 48;
const READ_LEN: usize = 2 * HEADER_LEN + 4;

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    buf.get(at..at + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_ne_bytes)
}

/// Parses the first bytes of a `-shm` file. `None` when it holds no valid, consistent
/// header (not initialised, or caught in the middle of an update).
pub fn parse_wal_index(buf: &[u8]) -> Option<WalSnapshot> {
    let first = buf.get(..HEADER_LEN)?;
    let second = buf.get(HEADER_LEN..2 * HEADER_LEN)?;
    if first != second || u32_at(first, 0)? != WAL_INDEX_VERSION || first.get(12) != Some(&1) {
        return None;
    }
    let max_frame = u32_at(first, 16)?;
    let backfilled = u32_at(buf, 2 * HEADER_LEN)?.min(max_frame);
    Some(WalSnapshot {
        salt: (u32_at(first, 32)?, u32_at(first, 36)?),
        max_frame,
        backfilled,
    })
}

/// Reads the WAL index of the database file `db`. `None` when there is no WAL (no
/// connection has the file open, so every frame is in the main file).
pub fn read_snapshot(db: &Path) -> Option<WalSnapshot> {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let mut shm = db.as_os_str().to_owned();
    shm.push("-shm");
    if !Path::new(&wal).exists() {
        return None;
    }
    for _ in 0..5 {
        let mut buf = [0u8; READ_LEN];
        let read = std::fs::File::open(&shm).and_then(|mut f| {
            use std::io::Read;
            let mut filled = 0;
            while filled < buf.len() {
                match f.read(&mut buf[filled..])? {
                    0 => break,
                    n => filled += n,
                }
            }
            Ok(filled)
        });
        match read {
            Ok(n) if n == READ_LEN => {
                if let Some(snap) = parse_wal_index(&buf) {
                    return Some(snap);
                }
            }
            Ok(_) => return None,
            Err(_) => return None,
        }
        std::thread::yield_now();
    }
    None
}

/// What a [`WalTracker`] keeps across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub generation: i64,
    pub current: u64,
    pub frames_in_generation: u64,
    /// The last WAL seen: if the same WAL is still there (the emulator was stopped without
    /// folding it back), its frames are not counted twice.
    pub last: Option<WalSnapshot>,
}

/// The file beside the database that holds its [`Saved`] numbers.
pub fn saved_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-frames");
    PathBuf::from(name)
}

/// The numbers saved for the database file `db`, if any (an unreadable file counts as
/// none: the numbers then start again, as before they were kept).
pub fn load(db: &Path) -> Option<Saved> {
    let bytes = std::fs::read(saved_path(db)).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(saved) => Some(saved),
        Err(e) => {
            tracing::warn!(path = %db.display(), error = %e, "frame numbers not read back");
            None
        }
    }
}

/// Saves the numbers of the database file `db` (written to a temporary file, then renamed
/// over the old one, so a crash leaves the old numbers or the new ones).
pub fn store(db: &Path, saved: &Saved) -> std::io::Result<()> {
    let path = saved_path(db);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let bytes = serde_json::to_vec(saved).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)
}

/// Monotonic frame numbers and generation of one database.
#[derive(Debug, Clone)]
pub struct WalTracker {
    generation: i64,
    current: u64,
    unbackfilled: u64,
    frames_in_generation: u64,
    last: Option<WalSnapshot>,
}

/// What the status route shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalStatus {
    pub generation: i64,
    pub current: u64,
    pub durable: u64,
}

impl WalTracker {
    pub fn new(generation: i64) -> WalTracker {
        WalTracker {
            generation,
            current: 0,
            unbackfilled: 0,
            frames_in_generation: 0,
            last: None,
        }
    }

    /// Goes on from saved numbers (the stored generation, if larger, wins).
    pub fn resume(generation: i64, saved: Saved) -> WalTracker {
        WalTracker {
            generation: generation.max(saved.generation),
            current: saved.current,
            unbackfilled: 0,
            frames_in_generation: saved.frames_in_generation,
            last: saved.last,
        }
    }

    /// What to keep across a restart.
    pub fn saved(&self) -> Saved {
        Saved {
            generation: self.generation,
            current: self.current,
            frames_in_generation: self.frames_in_generation,
            last: self.last,
        }
    }

    /// Folds a new snapshot (or the absence of a WAL) into the numbers.
    pub fn observe(&mut self, snap: Option<WalSnapshot>) {
        match (self.last, snap) {
            (_, None) => self.unbackfilled = 0,
            (Some(prev), Some(now)) if prev.salt == now.salt => {
                let grown = u64::from(now.max_frame.saturating_sub(prev.max_frame));
                self.current += grown;
                self.frames_in_generation += grown;
                self.unbackfilled = u64::from(now.max_frame - now.backfilled);
            }
            (_, Some(now)) => {
                // A new WAL: restarted after a complete checkpoint, or created anew.
                if self.frames_in_generation > 0 {
                    self.generation += 1;
                }
                self.frames_in_generation = u64::from(now.max_frame);
                self.current += u64::from(now.max_frame);
                self.unbackfilled = u64::from(now.max_frame - now.backfilled);
            }
        }
        self.last = snap;
    }

    pub fn status(&self) -> WalStatus {
        WalStatus {
            generation: self.generation,
            current: self.current,
            durable: self.current.saturating_sub(self.unbackfilled),
        }
    }

    /// Whether some committed frames are not checkpointed yet.
    pub fn has_unbackfilled(&self) -> bool {
        self.unbackfilled > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(salt: u32, max_frame: u32, backfilled: u32) -> Option<WalSnapshot> {
        Some(WalSnapshot {
            salt: (salt, 7),
            max_frame,
            backfilled,
        })
    }

    #[test]
    fn tracker_counts_frames_across_restarts() {
        let mut t = WalTracker::new(1);
        t.observe(None);
        assert_eq!(
            t.status(),
            WalStatus {
                generation: 1,
                current: 0,
                durable: 0
            }
        );
        t.observe(snap(10, 3, 0));
        t.observe(snap(10, 8, 0));
        assert_eq!(t.status().current, 8);
        assert_eq!(t.status().durable, 0);
        assert!(t.has_unbackfilled());
        t.observe(snap(10, 8, 8));
        assert_eq!(t.status().durable, 8);
        assert!(!t.has_unbackfilled());
        // The WAL restarts: a new salt, frames counted from 1 again.
        t.observe(snap(11, 2, 0));
        assert_eq!(
            t.status(),
            WalStatus {
                generation: 2,
                current: 10,
                durable: 8
            }
        );
        // Folded back on the last close, then created anew.
        t.observe(None);
        assert_eq!(t.status().durable, 10);
        t.observe(snap(99, 1, 0));
        assert_eq!(t.status().generation, 3);
        assert_eq!(t.status().current, 11);
    }

    #[test]
    fn saved_numbers_go_on_after_a_restart() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("x.db");
        assert_eq!(load(&db), None);
        let mut t = WalTracker::new(1);
        t.observe(snap(10, 5, 5));
        t.observe(snap(11, 3, 0));
        store(&db, &t.saved())?;
        let saved = load(&db).ok_or("nothing saved")?;
        assert_eq!(saved, t.saved());
        // Stopped cleanly: the WAL was folded back, a new one comes.
        let mut again = WalTracker::resume(1, saved);
        assert_eq!(again.status().current, 8);
        assert_eq!(again.status().generation, 2);
        again.observe(None);
        again.observe(snap(12, 2, 0));
        assert_eq!(again.status().current, 10);
        assert_eq!(again.status().generation, 3);
        // Stopped without folding: the same WAL grew by one frame, counted once.
        let mut same = WalTracker::resume(1, saved);
        same.observe(snap(11, 4, 0));
        assert_eq!(same.status().current, 9);
        assert_eq!(same.status().generation, 2);
        // A damaged file is no numbers (they start again), not a failure.
        std::fs::write(saved_path(&db), b"{")?;
        assert_eq!(load(&db), None);
        Ok(())
    }

    #[test]
    fn wal_index_parsing() {
        let mut buf = vec![0u8; READ_LEN];
        let mut header = [0u8; HEADER_LEN];
        header[0..4].copy_from_slice(&WAL_INDEX_VERSION.to_ne_bytes());
        header[12] = 1;
        header[16..20].copy_from_slice(&5u32.to_ne_bytes());
        header[32..36].copy_from_slice(&42u32.to_ne_bytes());
        header[36..40].copy_from_slice(&43u32.to_ne_bytes());
        buf[..HEADER_LEN].copy_from_slice(&header);
        buf[HEADER_LEN..2 * HEADER_LEN].copy_from_slice(&header);
        buf[2 * HEADER_LEN..].copy_from_slice(&3u32.to_ne_bytes());
        assert_eq!(
            parse_wal_index(&buf),
            Some(WalSnapshot {
                salt: (42, 43),
                max_frame: 5,
                backfilled: 3
            })
        );
        buf[HEADER_LEN + 16] = 9; // torn: the two copies differ
        assert_eq!(parse_wal_index(&buf), None);
        assert_eq!(parse_wal_index(&buf[..10]), None);
    }

    #[test]
    fn reads_a_real_wal() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("x.db");
        assert_eq!(read_snapshot(&path), None);
        let conn = rusqlite::Connection::open(&path)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (a);")?;
        let first = read_snapshot(&path).ok_or("no snapshot")?;
        assert!(first.max_frame > 0);
        conn.execute("INSERT INTO t VALUES (1)", [])?;
        let second = read_snapshot(&path).ok_or("no snapshot")?;
        assert!(second.max_frame > first.max_frame);
        assert_eq!(second.salt, first.salt);
        drop(conn);
        assert_eq!(
            read_snapshot(&path),
            None,
            "the last close folds the WAL back"
        );
        Ok(())
    }
}
