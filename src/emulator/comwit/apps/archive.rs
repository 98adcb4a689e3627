//! The bundle archive of a deploy: checked at upload (POSIX ustar, relative paths without
//! `..`, regular files and directories only, at most 10,000 entries) and unpacked into a
//! build's folder (directories 0700, files 0600).

use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::emulator::core::files;

/// The largest artifact accepted (32 MiB).
pub const MAX_ARCHIVE_BYTES: usize = 32 * 1024 * 1024;
/// The most entries an archive may have.
pub const MAX_ENTRIES: usize = 10_000;

/// Why an archive was refused (the message of a 422 `invalid_archive`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidArchive(pub String);

/// One entry of a checked archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    Dir(PathBuf),
    File(PathBuf, Vec<u8>),
}

/// A checked relative path: no root, no `..`, `.` components dropped, not empty.
fn safe_path(raw: &[u8]) -> Result<PathBuf, InvalidArchive> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| InvalidArchive("an entry's path is not UTF-8".into()))?;
    let shown: String = text.chars().take(120).collect();
    if text.starts_with('/') || text.contains('\\') || text.contains('\0') {
        return Err(InvalidArchive(format!(
            "entry {shown:?}: paths must be relative (no leading '/', no '\\')"
        )));
    }
    let mut out = PathBuf::new();
    for component in Path::new(text).components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(InvalidArchive(format!(
                    "entry {shown:?}: paths must not contain '..'"
                )))
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(InvalidArchive(format!(
                    "entry {shown:?}: paths must be relative"
                )))
            }
        }
    }
    if out.as_os_str().is_empty() {
        return Err(InvalidArchive(format!("entry {shown:?}: empty path")));
    }
    Ok(out)
}

/// Reads and checks a whole archive; its entries in archive order.
pub fn read(bytes: &[u8]) -> Result<Vec<Entry>, InvalidArchive> {
    if bytes.is_empty() {
        return Err(InvalidArchive("the archive is empty".into()));
    }
    if !bytes.len().is_multiple_of(512) {
        return Err(InvalidArchive(format!(
            "a tar archive is a whole number of 512-byte blocks, got {} bytes",
            bytes.len()
        )));
    }
    let mut archive = tar::Archive::new(bytes);
    let entries = archive
        .entries()
        .map_err(|e| InvalidArchive(format!("not a tar archive: {e}")))?;
    let mut out = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| InvalidArchive(format!("not a tar archive: {e}")))?;
        if out.len() >= MAX_ENTRIES {
            return Err(InvalidArchive(format!(
                "the archive has more than {MAX_ENTRIES} entries"
            )));
        }
        let header = entry.header();
        if header.as_ustar().is_none() {
            return Err(InvalidArchive(
                "only POSIX ustar archives are accepted (an entry has another header format)"
                    .into(),
            ));
        }
        let kind = header.entry_type();
        let path = safe_path(&entry.path_bytes())?;
        if kind.is_dir() {
            out.push(Entry::Dir(path));
        } else if kind.is_file() {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(|e| {
                InvalidArchive(format!("entry {}: cannot read: {e}", path.display()))
            })?;
            out.push(Entry::File(path, data));
        } else {
            return Err(InvalidArchive(format!(
                "entry {}: only regular files and directories are accepted",
                path.display()
            )));
        }
    }
    Ok(out)
}

/// Writes checked entries under `dir` (created; directories 0700, files 0600).
pub fn unpack(entries: &[Entry], dir: &Path) -> std::io::Result<()> {
    files::private_dir(dir)?;
    for entry in entries {
        match entry {
            Entry::Dir(path) => files::private_dir(&dir.join(path))?,
            Entry::File(path, data) => {
                let target = dir.join(path);
                if let Some(parent) = target.parent() {
                    files::private_dir(parent)?;
                }
                let mut file = files::open_private(&target, true)?;
                std::io::Write::write_all(&mut file, data)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ustar(entries: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, data) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            // set_path refuses '..'; write the name field raw to test the reader.
            let name = &mut header.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_cksum();
            builder.append(&header, *data).ok();
        }
        builder.into_inner().unwrap_or_default()
    }

    #[test]
    fn accepts_files_and_dirs() -> Result<(), InvalidArchive> {
        let bytes = ustar(&[
            ("lib", tar::EntryType::Directory, b""),
            ("./lib/a.mjs", tar::EntryType::Regular, b"export {}"),
            ("index.mjs", tar::EntryType::Regular, b"x"),
        ]);
        let entries = read(&bytes)?;
        assert_eq!(entries.len(), 3);
        assert_eq!(
            entries[1],
            Entry::File("lib/a.mjs".into(), b"export {}".to_vec())
        );
        Ok(())
    }

    #[test]
    fn refuses_bad_archives() {
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (Vec::new(), "empty"),
            (vec![7u8; 1000], "512-byte"),
            (vec![7u8; 1024], "not a tar"),
            (ustar(&[("../x", tar::EntryType::Regular, b"x")]), "'..'"),
            (
                ustar(&[("/etc/x", tar::EntryType::Regular, b"x")]),
                "relative",
            ),
            (
                ustar(&[("l", tar::EntryType::Symlink, b"")]),
                "only regular files",
            ),
        ];
        for (bytes, want) in cases {
            match read(&bytes) {
                Err(InvalidArchive(msg)) => assert!(msg.contains(want), "{msg} vs {want}"),
                Ok(e) => panic!("accepted {e:?}, expected {want}"),
            }
        }
        let mut gnu = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        let _ = header.set_path("a");
        header.set_cksum();
        gnu.append(&header, &b"x"[..]).ok();
        let bytes = gnu.into_inner().unwrap_or_default();
        assert!(matches!(read(&bytes), Err(InvalidArchive(m)) if m.contains("ustar")));
    }

    #[test]
    fn too_many_entries() {
        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("f{i}")).collect();
        let entries: Vec<(&str, tar::EntryType, &[u8])> = names
            .iter()
            .map(|n| (n.as_str(), tar::EntryType::Directory, &b""[..]))
            .collect();
        let bytes = ustar(&entries);
        assert!(matches!(read(&bytes), Err(InvalidArchive(m)) if m.contains("10000")));
    }

    #[test]
    fn unpacks_privately() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("b");
        unpack(
            &[
                Entry::File("a/b/c.mjs".into(), b"hi".to_vec()),
                Entry::Dir("d".into()),
            ],
            &target,
        )?;
        assert_eq!(std::fs::read(target.join("a/b/c.mjs"))?, b"hi");
        assert!(target.join("d").is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(target.join("a/b/c.mjs"))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        Ok(())
    }
}
