//! Embedded replicas: the sync protocol the libSQL clients speak to a `syncUrl` (the
//! `libsql` crate's `sync.rs`, "sync protocol v2"), on the database URL.
//!
//! - `GET info`: `{"current_generation": G}` (a client's builder probes it: a success
//!   chooses this protocol over sqld's gRPC replication);
//! - `GET export/<G>`: the database file at the start of generation `G`;
//! - `GET sync/<G>/<start>/<end>`: the WAL frames `[start, end)` of generation `G` (24-byte
//!   header, then the 4096-byte page), or, past the last one, 400 with
//!   `{"generation": <current>}` (the client's "end of generation").
//!
//! The frames are a replication log the emulator keeps beside the file
//! (`<file>-replica/`), as a libSQL server keeps its own log rather than serve its SQLite
//! WAL: whenever a replica asks, the database is copied page by page (SQLite's backup API,
//! a consistent read) and the pages that differ from the last copy are appended as one
//! transaction (the last frame carries the page count: the commit). A generation's export
//! plus its frames is therefore the database as it was at the last request, whatever wrote
//! it (Hrana over HTTP or WebSocket, the console, a restored state). After
//! [`FRAMES_PER_GENERATION`] frames a new generation starts from the last copy, so a new
//! replica does not replay an unbounded log; the frames of earlier generations stay for
//! replicas that are behind.
//!
//! Pushing frames (`POST sync/...`, a replica written offline) is not served: the clients
//! that take a `syncUrl` send their writes to the database URL over Hrana ("remote writes",
//! their default), which is served.

use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The page size the sync protocol carries (`FRAME_SIZE` of the clients is fixed to it).
pub const PAGE_SIZE: usize = 4096;
/// A WAL frame header: page number, page count after a commit (0 otherwise), salts and
/// checksums (which the clients do not read; zero here).
pub const FRAME_HEADER: usize = 24;
pub const FRAME_SIZE: usize = PAGE_SIZE + FRAME_HEADER;
/// Frames in one generation before the next starts (about 40 MB of log).
pub const FRAMES_PER_GENERATION: u32 = 10_000;
/// Frames answered to one pull at most (the clients ask for 128).
const MAX_PULL_FRAMES: u32 = 1024;

/// What the log says of itself (`state.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogState {
    pub generation: u32,
    /// Frames in the current generation's log.
    pub frames: u32,
}

/// Why a replica request failed.
#[derive(Debug)]
pub enum ReplicaError {
    /// The database's page size is not the protocol's.
    PageSize(usize),
    Sqlite(rusqlite::Error),
    Io(std::io::Error),
}

impl std::fmt::Display for ReplicaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplicaError::PageSize(size) => write!(
                f,
                "embedded replicas need the page size {PAGE_SIZE}; this database has {size}"
            ),
            ReplicaError::Sqlite(e) => write!(f, "copying the database: {e}"),
            ReplicaError::Io(e) => write!(f, "replication log: {e}"),
        }
    }
}

impl std::error::Error for ReplicaError {}

impl From<rusqlite::Error> for ReplicaError {
    fn from(e: rusqlite::Error) -> Self {
        ReplicaError::Sqlite(e)
    }
}

impl From<std::io::Error> for ReplicaError {
    fn from(e: std::io::Error) -> Self {
        ReplicaError::Io(e)
    }
}

/// The answer to a pull.
#[derive(Debug, PartialEq, Eq)]
pub enum Pull {
    Frames(Vec<u8>),
    /// Nothing at `start` in that generation: the current generation, for the client to
    /// move on to (or stop at).
    EndOfGeneration(u32),
    /// A generation the log does not have (never existed).
    UnknownGeneration(u32),
}

/// The replication log of one database file.
pub struct ReplicaLog {
    db: PathBuf,
    dir: PathBuf,
}

/// The directory of the log of the database file `db`.
pub fn log_dir(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-replica");
    PathBuf::from(name)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = private_file(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}

/// A new file only the emulator's user reads (the database's own files are so).
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Makes a copy's first page say what the database's says, and the same for the same
/// content: the schema cookie of the source (a backup sets its own, which would hide schema
/// changes from a replica's open connections: they would keep their cached schema and
/// answer "no such table"), the change counter and its "valid for" twin (which every copy
/// bumps) set to 1, and the WAL file format (what a libSQL server's file says; the replica
/// runs in WAL mode).
fn normalize(image: &mut [u8], schema_cookie: u32) {
    if image.len() >= 100 {
        image[18] = 2;
        image[19] = 2;
        image[24..28].copy_from_slice(&1u32.to_be_bytes());
        image[40..44].copy_from_slice(&schema_cookie.to_be_bytes());
        image[92..96].copy_from_slice(&1u32.to_be_bytes());
    }
}

/// The frames that turn `old` into `new` (both whole pages): the pages that differ or are
/// new, in page order, the last one marked as the commit with `new`'s page count. Empty
/// when nothing differs. A shrunk file always re-sends page 1 (its header holds the size).
pub fn diff_frames(old: &[u8], new: &[u8]) -> Vec<u8> {
    let new_pages = new.len() / PAGE_SIZE;
    let old_pages = old.len() / PAGE_SIZE;
    let mut changed: Vec<usize> = (0..new_pages)
        .filter(|&i| {
            let page = &new[i * PAGE_SIZE..(i + 1) * PAGE_SIZE];
            old.get(i * PAGE_SIZE..(i + 1) * PAGE_SIZE) != Some(page)
        })
        .collect();
    if changed.is_empty() && new_pages != old_pages && new_pages > 0 {
        changed.push(0);
    }
    let mut out = Vec::with_capacity(changed.len() * FRAME_SIZE);
    let count = changed.len();
    for (n, i) in changed.into_iter().enumerate() {
        let pgno = u32::try_from(i + 1).unwrap_or(u32::MAX);
        out.extend_from_slice(&pgno.to_be_bytes());
        let size_after = if n + 1 == count {
            u32::try_from(new_pages).unwrap_or(u32::MAX)
        } else {
            0
        };
        out.extend_from_slice(&size_after.to_be_bytes());
        out.extend_from_slice(&[0u8; FRAME_HEADER - 8]);
        out.extend_from_slice(&new[i * PAGE_SIZE..(i + 1) * PAGE_SIZE]);
    }
    out
}

impl ReplicaLog {
    pub fn new(db: &Path) -> ReplicaLog {
        ReplicaLog {
            db: db.to_owned(),
            dir: log_dir(db),
        }
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    fn base_path(&self, generation: u32) -> PathBuf {
        self.dir.join(format!("gen-{generation}.base"))
    }

    fn frames_path(&self, generation: u32) -> PathBuf {
        self.dir.join(format!("gen-{generation}.frames"))
    }

    fn last_path(&self, state: LogState) -> PathBuf {
        self.dir
            .join(format!("last-{}-{}", state.generation, state.frames))
    }

    fn read_state(&self) -> Option<LogState> {
        let bytes = std::fs::read(self.state_path()).ok()?;
        let state: LogState = serde_json::from_slice(&bytes).ok()?;
        (state.generation > 0 && self.last_path(state).exists()).then_some(state)
    }

    fn write_state(&self, state: LogState) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(&state).map_err(std::io::Error::other)?;
        write_atomic(&self.state_path(), &bytes)
    }

    /// A consistent copy of the database, page by page (blocking).
    fn copy(&self) -> Result<Vec<u8>, ReplicaError> {
        let tmp = self.dir.join("copy.tmp");
        let _ = std::fs::remove_file(&tmp);
        let cookie = {
            let conn = super::conn::open(&self.db)?;
            let _policy = super::conn::ThreadPolicy::switch_mode(super::conn::AuthMode::Internal);
            let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let page_size = usize::try_from(page_size).unwrap_or(0);
            if page_size != PAGE_SIZE {
                return Err(ReplicaError::PageSize(page_size));
            }
            // One read transaction for the schema cookie and the copy: the backup reads in
            // the transaction it finds open, so both are of the same snapshot.
            conn.execute_batch("BEGIN")?;
            let cookie: i64 = conn.query_row("PRAGMA schema_version", [], |r| r.get(0))?;
            conn.backup(rusqlite::MAIN_DB, &tmp, rusqlite::backup::NO_PROGRESS)?;
            conn.execute_batch("COMMIT")?;
            cookie
        };
        let mut image = std::fs::read(&tmp)?;
        let _ = std::fs::remove_file(&tmp);
        image.truncate(image.len() / PAGE_SIZE * PAGE_SIZE);
        normalize(&mut image, u32::try_from(cookie).unwrap_or(0));
        Ok(image)
    }

    /// Brings the log up to the database as it is now (blocking): appends the pages changed
    /// since the last copy as one transaction, starting a generation when the current one is
    /// full. The caller holds the database's replica lock.
    pub fn refresh(&self) -> Result<LogState, ReplicaError> {
        // Only the emulator's user reads the log (and the copies made in it).
        let mut dir = std::fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            dir.mode(0o700);
        }
        dir.create(&self.dir)?;
        let image = self.copy()?;
        let Some(mut state) = self.read_state() else {
            // A first request (or a log that was lost): a generation that starts here.
            let generation = self.highest_generation().map_or(1, |g| g.saturating_add(1));
            let state = LogState {
                generation,
                frames: 0,
            };
            write_atomic(&self.base_path(generation), &image)?;
            write_atomic(&self.frames_path(generation), &[])?;
            write_atomic(&self.last_path(state), &image)?;
            self.write_state(state)?;
            return Ok(state);
        };
        let last_path = self.last_path(state);
        let last = std::fs::read(&last_path)?;
        let frames = diff_frames(&last, &image);
        if frames.is_empty() {
            return Ok(state);
        }
        if state.frames >= FRAMES_PER_GENERATION {
            let next = LogState {
                generation: state.generation.saturating_add(1),
                frames: 0,
            };
            write_atomic(&self.base_path(next.generation), &last)?;
            write_atomic(&self.frames_path(next.generation), &[])?;
            write_atomic(&self.last_path(next), &last)?;
            self.write_state(next)?;
            let _ = std::fs::remove_file(&last_path);
            state = next;
        }
        let old_last = self.last_path(state);
        let mut log = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.frames_path(state.generation))?;
        // Frames past the recorded count are from an append that did not finish.
        let recorded = u64::from(state.frames) * FRAME_SIZE as u64;
        log.set_len(recorded)?;
        log.seek(std::io::SeekFrom::Start(recorded))?;
        log.write_all(&frames)?;
        log.sync_all()?;
        let added = u32::try_from(frames.len() / FRAME_SIZE).unwrap_or(u32::MAX);
        let next = LogState {
            generation: state.generation,
            frames: state.frames.saturating_add(added),
        };
        write_atomic(&self.last_path(next), &image)?;
        self.write_state(next)?;
        let _ = std::fs::remove_file(old_last);
        Ok(next)
    }

    fn highest_generation(&self) -> Option<u32> {
        std::fs::read_dir(&self.dir)
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_prefix("gen-")?
                    .strip_suffix(".base")?
                    .parse::<u32>()
                    .ok()
            })
            .max()
    }

    /// The database file at the start of `generation`, if the log has it (blocking).
    pub fn export(&self, generation: u32) -> Result<Option<Vec<u8>>, ReplicaError> {
        match std::fs::read(self.base_path(generation)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The frames `[start, end)` of `generation` (numbered from 1), given the log's state.
    pub fn pull(
        &self,
        state: LogState,
        generation: u32,
        start: u32,
        end: u32,
    ) -> Result<Pull, ReplicaError> {
        let count = if generation == state.generation {
            state.frames
        } else if generation < state.generation && generation > 0 {
            match std::fs::metadata(self.frames_path(generation)) {
                Ok(m) => u32::try_from(m.len() / FRAME_SIZE as u64).unwrap_or(u32::MAX),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Pull::UnknownGeneration(state.generation))
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            return Ok(Pull::UnknownGeneration(state.generation));
        };
        let start = start.max(1);
        let end = end
            .min(count.saturating_add(1))
            .min(start.saturating_add(MAX_PULL_FRAMES));
        if start >= end {
            return Ok(Pull::EndOfGeneration(state.generation));
        }
        let mut log = std::fs::File::open(self.frames_path(generation))?;
        log.seek(std::io::SeekFrom::Start(
            u64::from(start - 1) * FRAME_SIZE as u64,
        ))?;
        let mut out = vec![0u8; (end - start) as usize * FRAME_SIZE];
        log.read_exact(&mut out)?;
        Ok(Pull::Frames(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Applies frames to an image as a replica does (page images, the commit's size).
    fn apply(image: &mut Vec<u8>, frames: &[u8]) {
        for frame in frames.chunks(FRAME_SIZE) {
            let pgno = u32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
            let size = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]) as usize;
            let at = (pgno - 1) * PAGE_SIZE;
            if image.len() < at + PAGE_SIZE {
                image.resize(at + PAGE_SIZE, 0);
            }
            image[at..at + PAGE_SIZE].copy_from_slice(&frame[FRAME_HEADER..]);
            if size > 0 {
                image.truncate(size * PAGE_SIZE);
            }
        }
    }

    fn page(fill: u8) -> Vec<u8> {
        vec![fill; PAGE_SIZE]
    }

    #[test]
    fn diff_frames_send_changed_pages_and_the_commit() {
        let old = [page(1), page(2), page(3)].concat();
        let new = [page(1), page(9), page(3), page(4)].concat();
        let frames = diff_frames(&old, &new);
        assert_eq!(frames.len(), 2 * FRAME_SIZE);
        assert_eq!(&frames[0..4], &2u32.to_be_bytes());
        assert_eq!(&frames[4..8], &0u32.to_be_bytes(), "not the commit");
        assert_eq!(&frames[FRAME_SIZE..FRAME_SIZE + 4], &4u32.to_be_bytes());
        assert_eq!(&frames[FRAME_SIZE + 4..FRAME_SIZE + 8], &4u32.to_be_bytes());
        let mut replica = old.clone();
        apply(&mut replica, &frames);
        assert_eq!(replica, new);
        assert!(diff_frames(&new, &new).is_empty());
        // A shrink with identical remaining pages still commits the new size.
        let shrunk = [page(1), page(9)].concat();
        let frames = diff_frames(&new, &shrunk);
        assert_eq!(frames.len(), FRAME_SIZE);
        let mut replica = new.clone();
        apply(&mut replica, &frames);
        assert_eq!(replica, shrunk);
    }

    #[test]
    fn the_log_follows_the_database() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("x.db");
        let conn = rusqlite::Connection::open(&path)?;
        conn.execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (a);")?;
        let log = ReplicaLog::new(&path);
        let first = log.refresh()?;
        assert_eq!(
            first,
            LogState {
                generation: 1,
                frames: 0
            }
        );
        let base = log.export(1)?.ok_or("no export")?;
        assert_eq!(log.pull(first, 1, 1, 129)?, Pull::EndOfGeneration(1));
        conn.execute("INSERT INTO t VALUES (zeroblob(10000))", [])?;
        let second = log.refresh()?;
        assert!(second.frames > 0);
        assert_eq!(log.refresh()?, second, "nothing changed, nothing appended");
        let Pull::Frames(frames) = log.pull(second, 1, 1, 129)? else {
            return Err("no frames".into());
        };
        assert_eq!(frames.len(), second.frames as usize * FRAME_SIZE);
        // The export plus the frames is the database now: open it and read the row.
        let mut replica = base.clone();
        apply(&mut replica, &frames);
        let copy = dir.path().join("replica.db");
        replica[18] = 1;
        replica[19] = 1;
        std::fs::write(&copy, &replica)?;
        let r = rusqlite::Connection::open(&copy)?;
        let len: i64 = r.query_row("SELECT length(a) FROM t", [], |row| row.get(0))?;
        assert_eq!(len, 10000);
        assert_eq!(
            log.pull(second, 1, second.frames + 1, second.frames + 10)?,
            Pull::EndOfGeneration(1)
        );
        // The replica's schema cookie is the database's, so that open connections notice a
        // schema change.
        let version: i64 = r.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
        let source: i64 = conn.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
        assert_eq!(version, source);
        conn.execute_batch("CREATE TABLE u (b); CREATE TABLE v (c);")?;
        let third = log.refresh()?;
        let Pull::Frames(more) = log.pull(third, 1, second.frames + 1, third.frames + 1)? else {
            return Err("no frames for the schema change".into());
        };
        apply(&mut replica, &more);
        let cookie = u32::from_be_bytes([replica[40], replica[41], replica[42], replica[43]]);
        let source: i64 = conn.query_row("PRAGMA schema_version", [], |row| row.get(0))?;
        assert_eq!(i64::from(cookie), source);
        assert!(i64::from(cookie) > version);
        assert_eq!(log.pull(second, 2, 1, 10)?, Pull::UnknownGeneration(1));
        assert_eq!(log.export(2)?, None);
        Ok(())
    }
}
