//! The state archive, one format for the command line (`platform-emulator state ...`,
//! `emulator::state_io`) and the admin API of a running platform (`state_admin`): an
//! uncompressed tar, `manifest.json` first (format, emulator version, the platforms in
//! it), then each platform's folder under its name. Written here once: which files of a
//! platform's folder are its state ([`platform_entries`]), the writer ([`write`]), the
//! manifest reader ([`read_manifest`]), the unpacker ([`unpack`]), and the consistent copy
//! of a running platform's folder ([`snapshot`]: SQLite files through SQLite itself).

use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::json;

use super::files;

/// The lock file an emulator holds while it runs on a state directory.
pub const LOCK_FILE: &str = ".emulator.lock";
/// The first entry of every export.
pub const MANIFEST: &str = "manifest.json";
/// The export format this emulator writes and reads.
pub const FORMAT: u64 = 1;
/// The prefix of the staging folders of an import (never state, never exported).
pub const STAGING_PREFIX: &str = ".import-";
/// The prefix of the copies a running export streams from (never state, never exported).
pub const EXPORT_PREFIX: &str = ".export-";

/// Names never exported nor counted as a platform's state: the lock, what the scripts
/// write beside the state (pid, URLs, logs), engine pid files, and staging folders.
const TRANSIENT: &[&str] = &[
    LOCK_FILE,
    "emulator.pid",
    "emulator.url",
    "emulator.dns",
    "emulator.urls",
    "emulator.stdout",
    "emulator.log",
    "postmaster.pid",
    "mariadb.pid",
    "mysqld.sock.lock",
];

/// Whether `name` is never state (see [`TRANSIENT`] and the staging prefixes).
pub fn transient(name: &str) -> bool {
    TRANSIENT.contains(&name) || name.starts_with(STAGING_PREFIX) || name.starts_with(EXPORT_PREFIX)
}

/// One platform's part of an archive: its name (the top folder in the tar), its folder, and
/// the folders of the other platforms inside it (only when its folder is the state
/// directory itself, as Comwit's), which are not its state.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: &'static str,
    pub dir: PathBuf,
    pub neighbours: Vec<&'static str>,
}

/// What an export or import moved for one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub platform: &'static str,
    pub files: u64,
    pub bytes: u64,
}

impl std::fmt::Display for Moved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} files, {} bytes",
            self.platform, self.files, self.bytes
        )
    }
}

/// The top-level entries of `dir` that are a platform's state (sorted): everything but the
/// transient names and the `neighbours` folders.
pub fn platform_entries(dir: &Path, neighbours: &[&str]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let read = match std::fs::read_dir(dir) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in read {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if transient(&name) || neighbours.contains(&&*name) {
            continue;
        }
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

fn add_tree<W: Write>(
    builder: &mut tar::Builder<W>,
    path: &Path,
    name: &Path,
    moved: &mut Moved,
) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    let kind = meta.file_type();
    if kind.is_dir() {
        builder.append_dir(name, path)?;
        let mut children: Vec<_> = std::fs::read_dir(path)?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|e| !transient(&e.file_name().to_string_lossy()))
            .collect();
        children.sort_by_key(|e| e.file_name());
        for child in children {
            add_tree(builder, &child.path(), &name.join(child.file_name()), moved)?;
        }
    } else if kind.is_file() || kind.is_symlink() {
        builder.append_path_with_name(path, name)?;
        moved.files += 1;
        moved.bytes += meta.len();
    }
    // Sockets and FIFOs (an engine's socket left by a crash) are not state.
    Ok(())
}

/// Writes the archive of `parts` into `out` (a part holding no state is left out of it and
/// of the manifest); returns `out` (to sync it) and what each part moved.
pub fn write<W: Write>(out: W, parts: &[Part]) -> anyhow::Result<(W, Vec<Moved>)> {
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let mut held = Vec::new();
    for part in parts {
        let entries = platform_entries(&part.dir, &part.neighbours)?;
        if !entries.is_empty() {
            held.push((part, entries));
        }
    }
    let manifest = json!({
        "format": FORMAT,
        "emulator_version": super::server::VERSION,
        "platforms": held.iter().map(|(p, _)| p.name).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec_pretty(&manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, MANIFEST, bytes.as_slice())?;
    let mut all = Vec::new();
    for (part, entries) in held {
        let mut moved = Moved {
            platform: part.name,
            files: 0,
            bytes: 0,
        };
        let top = PathBuf::from(part.name);
        builder.append_dir(&top, &part.dir)?;
        for entry in entries {
            let name = top.join(entry.file_name().context("an entry without a name")?);
            add_tree(&mut builder, &entry, &name, &mut moved)
                .with_context(|| format!("adding {}", entry.display()))?;
        }
        all.push(moved);
    }
    Ok((builder.into_inner()?, all))
}

/// The platforms an export holds, from its first entry (which must be the manifest of this
/// format).
pub fn read_manifest<R: Read>(entry: &mut tar::Entry<'_, R>) -> anyhow::Result<Vec<String>> {
    let path = entry.path()?.into_owned();
    if path != Path::new(MANIFEST) {
        bail!(
            "not an emulator export: its first entry is {}, not {MANIFEST}",
            path.display()
        );
    }
    let mut text = String::new();
    entry.take(1 << 20).read_to_string(&mut text)?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).context("reading the export's manifest.json")?;
    if manifest["format"].as_u64() != Some(FORMAT) {
        bail!(
            "export format {} is not this emulator's ({FORMAT})",
            manifest["format"]
        );
    }
    let platforms = manifest["platforms"]
        .as_array()
        .context("manifest.json has no platforms list")?
        .iter()
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    Ok(platforms)
}

/// Whether this process runs as root (then an import keeps the archive's owners).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// An archive reader set up as every import reads: modes and times kept, owners kept when
/// root, nothing overwritten.
pub fn reader<R: Read>(input: R) -> tar::Archive<R> {
    let mut archive = tar::Archive::new(input);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_preserve_ownerships(is_root());
    archive.set_overwrite(false);
    archive
}

/// Unpacks the entries (after the manifest) of the platforms `names` into `staging` (made
/// 0700), each under its name; entries of other platforms are skipped, an entry that would
/// leave `staging` is refused.
pub fn unpack<R: Read>(
    entries: &mut tar::Entries<'_, R>,
    staging: &Path,
    names: &[&'static str],
) -> anyhow::Result<Vec<Moved>> {
    files::private_dir(staging)?;
    let mut moved: Vec<Moved> = names
        .iter()
        .map(|name| Moved {
            platform: name,
            files: 0,
            bytes: 0,
        })
        .collect();
    for entry in entries {
        let mut entry = entry.context("reading the export")?;
        let path = entry.path()?.into_owned();
        if path
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            bail!(
                "the export has an entry outside its folders: {}",
                path.display()
            );
        }
        let Some(top) = path.iter().next().map(|t| t.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some(slot) = moved.iter_mut().find(|m| m.platform == top) else {
            continue;
        };
        let kind = entry.header().entry_type();
        // Engines' preallocated files (InnoDB's log) are stored as GNU sparse entries.
        let counted = kind.is_file() || kind.is_gnu_sparse() || kind.is_symlink();
        if !entry
            .unpack_in(staging)
            .with_context(|| format!("unpacking {}", path.display()))?
        {
            bail!("the export has an unsafe entry: {}", path.display());
        }
        if counted {
            slot.files += 1;
            slot.bytes += std::fs::symlink_metadata(staging.join(&path))
                .map(|m| m.len())
                .unwrap_or(0);
        }
    }
    Ok(moved)
}

/// Removes every state entry of a platform's folder (its transient files and the
/// `neighbours` stay).
pub fn remove_entries(dir: &Path, neighbours: &[&str]) -> anyhow::Result<()> {
    for entry in platform_entries(dir, neighbours)? {
        let meta = std::fs::symlink_metadata(&entry)?;
        if meta.is_dir() {
            std::fs::remove_dir_all(&entry)
        } else {
            std::fs::remove_file(&entry)
        }
        .with_context(|| format!("removing {}", entry.display()))?;
    }
    Ok(())
}

/// Moves every entry of `from` into `to` (same file system: renames).
pub fn move_entries(from: &Path, to: &Path) -> anyhow::Result<()> {
    let read = match std::fs::read_dir(from) {
        Ok(read) => read,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", from.display())),
    };
    for entry in read {
        let entry = entry?;
        let target = to.join(entry.file_name());
        std::fs::rename(entry.path(), &target)
            .with_context(|| format!("moving into {}", target.display()))?;
    }
    Ok(())
}

// ---- the copy of a running platform ---------------------------------------------------------

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const SQLITE_SIDECARS: &[&str] = &["-wal", "-shm", "-journal"];

/// Whether `path` is an SQLite database file (by its header).
fn is_sqlite(path: &Path) -> bool {
    let mut head = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map(|()| &head == SQLITE_MAGIC)
        .unwrap_or(false)
}

/// Whether `name` in `dir` is the WAL, shared-memory or journal file of an SQLite file
/// there (its content is in the copy SQLite makes of that file).
fn is_sidecar(dir: &Path, name: &str) -> bool {
    SQLITE_SIDECARS.iter().any(|suffix| {
        name.strip_suffix(suffix)
            .is_some_and(|base| is_sqlite(&dir.join(base)))
    })
}

/// A consistent copy of the SQLite file `from` (its WAL included) made by SQLite itself
/// (`VACUUM INTO`, one read transaction), with the mode of `from`.
fn copy_sqlite(from: &Path, to: &Path, mode: u32) -> anyhow::Result<()> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        from,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let target = to
        .to_str()
        .with_context(|| format!("{}: not UTF-8", to.display()))?;
    conn.execute("VACUUM INTO ?1", [target])?;
    drop(conn);
    files::set_mode(to, mode)?;
    Ok(())
}

fn mode_of(meta: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        files::FILE_MODE
    }
}

/// Gives `to` the owner of `from` when this process is root (an engine's data directory
/// belongs to the engine's user, which must be able to read the imported copy); nothing
/// otherwise (every file is the emulator's user's then).
fn keep_owner(meta: &std::fs::Metadata, to: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    if is_root() {
        use std::os::unix::fs::MetadataExt;
        std::os::unix::fs::lchown(to, Some(meta.uid()), Some(meta.gid()))
            .with_context(|| format!("chowning {}", to.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (meta, to);
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    copy_entry(from, to)?;
    if std::fs::symlink_metadata(to).is_ok() {
        keep_owner(&std::fs::symlink_metadata(from)?, to)?;
    }
    Ok(())
}

fn copy_entry(from: &Path, to: &Path) -> anyhow::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    let kind = meta.file_type();
    if kind.is_dir() {
        std::fs::create_dir(to).with_context(|| format!("creating {}", to.display()))?;
        for child in std::fs::read_dir(from)? {
            let child = child?;
            let name = child.file_name();
            let name = name.to_string_lossy();
            if transient(&name) || is_sidecar(from, &name) {
                continue;
            }
            copy_tree(&child.path(), &to.join(&*name))?;
        }
        files::set_mode(to, mode_of(&meta))?;
    } else if kind.is_symlink() {
        #[cfg(unix)]
        std::os::unix::fs::symlink(std::fs::read_link(from)?, to)?;
    } else if kind.is_file() {
        if is_sqlite(from) {
            copy_sqlite(from, to, mode_of(&meta))
                .with_context(|| format!("copying the SQLite file {}", from.display()))?;
        } else {
            std::fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
        }
    }
    Ok(())
}

/// Copies a running platform's state (the entries of `dir` but `neighbours`) into `to`
/// (made 0700): SQLite files through SQLite (a consistent copy while connections stay
/// open; their `-wal`/`-shm` files are in it), other files as they are, with their modes
/// (and owners, when root: an engine's data directory keeps its user). The caller holds
/// the platform's writers (the core's write gate, engines stopped) so the files agree with
/// one another.
pub fn snapshot(dir: &Path, neighbours: &[&str], to: &Path) -> anyhow::Result<()> {
    files::private_dir(to)?;
    for entry in platform_entries(dir, neighbours)? {
        let name = entry.file_name().context("an entry without a name")?;
        if is_sidecar(dir, &name.to_string_lossy()) {
            continue;
        }
        copy_tree(&entry, &to.join(name))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_copies_sqlite_files_with_their_wal_and_leaves_sidecars_out() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        std::fs::create_dir_all(dir.join("databases")).unwrap();
        std::fs::write(dir.join("note.txt"), "plain").unwrap();
        std::fs::write(dir.join("emulator.pid"), "1").unwrap();
        std::fs::create_dir(dir.join("wayscloud")).unwrap();
        let db = dir.join("databases/a.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('in the wal');")
            .unwrap();
        // The row is only in the WAL while this connection stays open.
        assert!(dir.join("databases/a.db-wal").is_file());

        let to = tmp.path().join("copy");
        snapshot(&dir, &["wayscloud"], &to).unwrap();
        drop(conn);
        assert_eq!(
            std::fs::read_to_string(to.join("note.txt")).unwrap(),
            "plain"
        );
        assert!(!to.join("emulator.pid").exists(), "transient");
        assert!(!to.join("wayscloud").exists(), "another platform's folder");
        assert!(!to.join("databases/a.db-wal").exists());
        assert!(!to.join("databases/a.db-shm").exists());
        let copy = rusqlite::Connection::open(to.join("databases/a.db")).unwrap();
        let v: String = copy.query_row("SELECT v FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(v, "in the wal");
    }
}
