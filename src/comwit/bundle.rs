//! The app bundle (`docs/api/comwit.md`, "The bundle"): the deterministic POSIX `ustar`
//! archive the provider writes from a directory, so that the same files always give the
//! same bytes and the same SHA-256 (the artifact's id).
//!
//! Entries are the directory's regular files, in byte order of their relative paths
//! (`/`-separated), directories omitted; mode 0644 (0755 when any execute bit is set),
//! uid/gid 0, empty user and group names, mtime 0. Symlinks and other special files are
//! refused, as the platform refuses them. At most [`MAX_ENTRIES`] entries and
//! [`MAX_ARCHIVE_BYTES`] bytes.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The largest artifact the platform takes.
pub const MAX_ARCHIVE_BYTES: usize = 32 << 20;

/// The most entries an artifact may hold.
pub const MAX_ENTRIES: usize = 10_000;

/// An archive ready to upload.
#[derive(Clone, PartialEq, Eq)]
pub struct Bundle {
    pub bytes: Vec<u8>,
    /// Lowercase hex SHA-256 of `bytes`.
    pub sha256: String,
    /// The relative paths of its files, in archive order (empty for a given archive).
    pub paths: Vec<String>,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("bytes", &self.bytes.len())
            .field("sha256", &self.sha256)
            .field("paths", &self.paths.len())
            .finish()
    }
}

/// Why a bundle could not be made. Each message names the path and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("`{0}` is not a directory")]
    NotADirectory(String),
    #[error("could not read `{path}`: {message}")]
    Io { path: String, message: String },
    #[error("`{0}` is a symbolic link; the platform takes regular files only: copy the file it points to instead")]
    Symlink(String),
    #[error("`{0}` is not a regular file or directory (a socket, device or pipe?); remove it from the directory")]
    Special(String),
    #[error("the path `{0}` is not valid UTF-8; rename the file")]
    NotUtf8(String),
    #[error("the path `{0}` is too long for a ustar archive (at most 100 bytes of file name and 155 of directory); shorten it")]
    PathTooLong(String),
    #[error("the directory holds more than {MAX_ENTRIES} files ({0} so far); the platform takes at most {MAX_ENTRIES}")]
    TooManyEntries(usize),
    #[error("the archive would be larger than 32 MiB ({0} bytes so far); the platform takes at most 32 MiB")]
    TooLarge(usize),
}

fn io(path: &Path, e: std::io::Error) -> BundleError {
    BundleError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One file found in the directory.
struct File {
    relative: String,
    full: PathBuf,
    executable: bool,
}

/// Collects every regular file under `dir` (recursively), refusing symlinks and specials.
fn collect(dir: &Path, root: &Path, out: &mut Vec<File>) -> Result<(), BundleError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        let full = entry.path();
        let meta = std::fs::symlink_metadata(&full).map_err(|e| io(&full, e))?;
        let relative = full
            .strip_prefix(root)
            .map_err(|_| BundleError::NotUtf8(full.display().to_string()))?;
        let relative = relative
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_str()
                    .map(str::to_owned)
                    .ok_or_else(|| BundleError::NotUtf8(full.display().to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?
            .join("/");
        let kind = meta.file_type();
        if kind.is_symlink() {
            return Err(BundleError::Symlink(relative));
        } else if kind.is_dir() {
            collect(&full, root, out)?;
        } else if kind.is_file() {
            out.push(File {
                relative,
                full,
                executable: is_executable(&meta),
            });
            if out.len() > MAX_ENTRIES {
                return Err(BundleError::TooManyEntries(out.len()));
            }
        } else {
            return Err(BundleError::Special(relative));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &std::fs::Metadata) -> bool {
    false
}

/// The deterministic archive of the directory `dir` (see the module's rules).
pub fn from_dir(dir: &Path) -> Result<Bundle, BundleError> {
    let meta = std::fs::metadata(dir).map_err(|e| io(dir, e))?;
    if !meta.is_dir() {
        return Err(BundleError::NotADirectory(dir.display().to_string()));
    }
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort_by(|a, b| a.relative.as_bytes().cmp(b.relative.as_bytes()));
    let mut builder = tar::Builder::new(Vec::new());
    let mut size = 0usize;
    for file in &files {
        let data = std::fs::read(&file.full).map_err(|e| io(&file.full, e))?;
        // Header and data, rounded up to whole 512-byte blocks.
        size += 512 + data.len().div_ceil(512) * 512;
        if size + 1024 > MAX_ARCHIVE_BYTES {
            return Err(BundleError::TooLarge(size + 1024));
        }
        let mut header = tar::Header::new_ustar();
        header
            .set_path(&file.relative)
            .map_err(|_| BundleError::PathTooLong(file.relative.clone()))?;
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(if file.executable { 0o755 } else { 0o644 });
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        header.set_cksum();
        builder
            .append(&header, data.as_slice())
            .map_err(|e| io(&file.full, e))?;
    }
    let bytes = builder.into_inner().map_err(|e| io(dir, e))?;
    Ok(Bundle {
        sha256: hex_sha256(&bytes),
        bytes,
        paths: files.into_iter().map(|f| f.relative).collect(),
    })
}

/// A tar archive the user made, uploaded as it is.
pub fn from_archive(path: &Path) -> Result<Bundle, BundleError> {
    let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
    if meta.len() > MAX_ARCHIVE_BYTES as u64 {
        return Err(BundleError::TooLarge(meta.len() as usize));
    }
    let bytes = std::fs::read(path).map_err(|e| io(path, e))?;
    Ok(Bundle {
        sha256: hex_sha256(&bytes),
        bytes,
        paths: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, content: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn app(dir: &Path) {
        write(
            dir,
            "index.mjs",
            "export default { fetch() { return new Response('v1'); } };\n",
        );
        write(dir, "lib/util.mjs", "export const x = 1;\n");
        write(dir, "b.txt", "b");
    }

    #[test]
    fn the_same_files_give_the_same_bytes() {
        let one = tempfile::tempdir().unwrap();
        let two = tempfile::tempdir().unwrap();
        app(one.path());
        // Written in another order, at another time: the archive does not care.
        write(two.path(), "b.txt", "b");
        std::thread::sleep(std::time::Duration::from_millis(20));
        write(two.path(), "lib/util.mjs", "export const x = 1;\n");
        write(
            two.path(),
            "index.mjs",
            "export default { fetch() { return new Response('v1'); } };\n",
        );
        let a = from_dir(one.path()).unwrap();
        let b = from_dir(two.path()).unwrap();
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(a.bytes, b.bytes);
        assert_eq!(
            a.paths,
            ["b.txt", "index.mjs", "lib/util.mjs"],
            "byte order"
        );
        assert_eq!(from_dir(one.path()).unwrap(), a, "and again");
    }

    #[test]
    fn changing_one_byte_changes_the_hash() {
        let dir = tempfile::tempdir().unwrap();
        app(dir.path());
        let before = from_dir(dir.path()).unwrap();
        write(dir.path(), "b.txt", "c");
        let after = from_dir(dir.path()).unwrap();
        assert_ne!(before.sha256, after.sha256);
        write(dir.path(), "b.txt", "b");
        assert_eq!(from_dir(dir.path()).unwrap().sha256, before.sha256);
    }

    #[cfg(unix)]
    #[test]
    fn headers_are_normalised_ustar() {
        use std::io::Read;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        app(dir.path());
        let script = dir.path().join("run.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o700)).unwrap();
        let before = from_dir(dir.path()).unwrap();
        let mut archive = tar::Archive::new(before.bytes.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let h = entry.header();
            assert!(h.as_ustar().is_some(), "ustar headers");
            assert_eq!(h.uid().unwrap(), 0);
            assert_eq!(h.gid().unwrap(), 0);
            assert_eq!(h.mtime().unwrap(), 0);
            assert_eq!(h.username().unwrap(), Some(""));
            assert_eq!(h.groupname().unwrap(), Some(""));
            assert_eq!(h.entry_type(), tar::EntryType::Regular);
            let path = entry.path().unwrap().display().to_string();
            let mode = h.mode().unwrap();
            assert_eq!(mode, if path == "run.sh" { 0o755 } else { 0o644 }, "{path}");
            let mut body = String::new();
            entry.read_to_string(&mut body).unwrap();
            seen.push(path);
        }
        assert_eq!(seen, ["b.txt", "index.mjs", "lib/util.mjs", "run.sh"]);
        // A mode change other than the execute bit does not change the archive.
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(from_dir(dir.path()).unwrap().sha256, before.sha256);
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_ne!(from_dir(dir.path()).unwrap().sha256, before.sha256);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_and_long_paths_are_refused_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        app(dir.path());
        std::os::unix::fs::symlink("index.mjs", dir.path().join("link.mjs")).unwrap();
        assert_eq!(
            from_dir(dir.path()).unwrap_err(),
            BundleError::Symlink("link.mjs".into())
        );
        std::fs::remove_file(dir.path().join("link.mjs")).unwrap();
        let long = format!("{}.mjs", "x".repeat(120));
        write(dir.path(), &long, "");
        assert_eq!(
            from_dir(dir.path()).unwrap_err(),
            BundleError::PathTooLong(long.clone())
        );
        std::fs::remove_file(dir.path().join(&long)).unwrap();
        // A long directory part goes into the ustar prefix.
        let nested = format!("{}/{}/a.mjs", "d".repeat(90), "e".repeat(50));
        write(dir.path(), &nested, "");
        assert!(from_dir(dir.path()).unwrap().paths.contains(&nested));
        assert!(matches!(
            from_dir(&dir.path().join("index.mjs")).unwrap_err(),
            BundleError::NotADirectory(_)
        ));
    }

    #[test]
    fn an_archive_is_taken_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.tar");
        std::fs::write(&path, b"not checked here").unwrap();
        let bundle = from_archive(&path).unwrap();
        assert_eq!(bundle.bytes, b"not checked here");
        assert_eq!(bundle.sha256, hex_sha256(b"not checked here"));
    }
}
