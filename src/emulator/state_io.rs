//! State export, import and reset, whole or per platform (`platform-emulator state ...`),
//! with the emulator stopped on that state directory.
//!
//! - **The lock.** [`crate::emulator::run`] holds an exclusive `flock` on
//!   `<state-dir>/.emulator.lock` while it runs; these commands take the same lock and
//!   refuse while an emulator runs there (its engines' files are then copied at rest: no
//!   dump is needed, and the copy is exactly what the engines wrote on their clean stop).
//! - **An export** is one uncompressed tar file: `manifest.json` first (format, emulator
//!   version, the platforms in it), then each platform's folder under its name
//!   (`comwit/...`, `wayscloud/...`, `cloudsync/...`; Comwit's folder is the state directory
//!   itself minus the other platforms' folders). Modes, owners and times are kept (the
//!   engines' data directories belong to their unprivileged user). Left out: the lock,
//!   the scripts' pid/url/log files, engine pid files and sockets. The file is written
//!   next to its destination under a temporary name, synced, then renamed into place: a
//!   failed export leaves no file and never touches the state (it only reads it).
//! - **An import** unpacks into a staging folder inside the state directory (entries
//!   cannot leave it), then moves each platform's folder into place. A platform that
//!   already holds state there is refused: reset it first.
//! - **A reset** removes a platform's folder (Comwit: its files in the state directory).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::core::archive::{self, Part};
use super::core::files;
use super::{PlatformSpec, PLATFORMS};

pub use super::core::archive::{Moved, FORMAT, LOCK_FILE, MANIFEST, STAGING_PREFIX};

/// The exclusive lock on a state directory; released when dropped (or the process ends).
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

/// Takes the lock of `root` (made 0700 if missing), or says that an emulator (pid) runs on
/// it. An existing directory keeps its mode: while engines run, it has the search bit
/// their users need (`core::engines`), and a refused command must not take it away.
pub fn lock(root: &Path) -> anyhow::Result<StateLock> {
    if !root.is_dir() {
        files::private_dir(root).with_context(|| format!("creating {}", root.display()))?;
    }
    let path = root.join(LOCK_FILE);
    let mut file =
        files::open_private(&path, false).with_context(|| format!("opening {}", path.display()))?;
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor this function owns.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        let holder = std::fs::read_to_string(&path).unwrap_or_default();
        let holder = holder.trim();
        bail!(
            "an emulator runs on {} (pid {}); stop it first",
            root.display(),
            if holder.is_empty() { "unknown" } else { holder }
        );
    }
    file.set_len(0)?;
    writeln!(file, "{}", std::process::id())?;
    Ok(StateLock { _file: file })
}

/// The platforms named (every one when empty), each known.
pub fn select(names: &[String]) -> anyhow::Result<Vec<PlatformSpec>> {
    if names.is_empty() {
        return Ok(PLATFORMS.iter().map(|p| p.spec).collect());
    }
    let mut out = Vec::new();
    for name in names {
        let Some(p) = super::platform(name) else {
            let known: Vec<&str> = PLATFORMS.iter().map(|p| p.spec.name).collect();
            bail!(
                "--platform: unknown platform {name:?} (known: {})",
                known.join(", ")
            );
        };
        if !out.contains(&p.spec) {
            out.push(p.spec);
        }
    }
    Ok(out)
}

/// The folders of the other platforms inside `spec`'s folder: when its folder is the state
/// directory itself (Comwit's), every other platform's folder.
pub fn neighbours(spec: &PlatformSpec) -> Vec<&'static str> {
    if !spec.state_subdir.is_empty() {
        return Vec::new();
    }
    PLATFORMS
        .iter()
        .map(|p| p.spec.state_subdir)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The top-level entries of `root` that are `spec`'s state (sorted).
fn platform_entries(root: &Path, spec: &PlatformSpec) -> anyhow::Result<Vec<PathBuf>> {
    archive::platform_entries(&spec.state_dir(root), &neighbours(spec))
}

fn part(root: &Path, spec: &PlatformSpec) -> Part {
    Part {
        name: spec.name,
        dir: spec.state_dir(root),
        neighbours: neighbours(spec),
    }
}

fn temp_path(to: &Path) -> anyhow::Result<PathBuf> {
    let name = to
        .file_name()
        .with_context(|| format!("--to {}: not a file name", to.display()))?;
    let tmp = format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id());
    Ok(to.with_file_name(tmp))
}

/// Exports the state of `platforms` (every one when empty) under `root` into the file `to`.
pub fn export(root: &Path, to: &Path, platforms: &[String]) -> anyhow::Result<Vec<Moved>> {
    let specs = select(platforms)?;
    if !root.is_dir() {
        bail!("--state-dir {}: no such directory", root.display());
    }
    let _lock = lock(root)?;
    let tmp = temp_path(to)?;
    let result = write_export(root, &tmp, &specs).and_then(|moved| {
        std::fs::rename(&tmp, to)
            .with_context(|| format!("renaming {} to {}", tmp.display(), to.display()))?;
        Ok(moved)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn write_export(root: &Path, tmp: &Path, specs: &[PlatformSpec]) -> anyhow::Result<Vec<Moved>> {
    let file =
        files::open_private(tmp, true).with_context(|| format!("creating {}", tmp.display()))?;
    let parts: Vec<Part> = specs.iter().map(|spec| part(root, spec)).collect();
    let (writer, moved) = archive::write(BufWriter::new(file), &parts)?;
    let file = writer.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(moved)
}

/// Imports the state of `platforms` (every one the export holds when empty) from `from`
/// into `root`; each must hold no state there yet.
pub fn import(root: &Path, from: &Path, platforms: &[String]) -> anyhow::Result<Vec<Moved>> {
    let _lock = lock(root)?;
    let file = File::open(from).with_context(|| format!("--from {}", from.display()))?;
    let mut archive = archive::reader(std::io::BufReader::new(file));
    let mut entries = archive.entries()?;
    let mut first = entries
        .next()
        .context("the export is empty")?
        .context("reading the export")?;
    let held = archive::read_manifest(&mut first)?;
    drop(first);
    let specs: Vec<PlatformSpec> = if platforms.is_empty() {
        select(&held)?
    } else {
        let specs = select(platforms)?;
        for s in &specs {
            if !held.iter().any(|h| h == s.name) {
                bail!(
                    "--platform {}: the export holds no state of it (it holds: {})",
                    s.name,
                    held.join(", ")
                );
            }
        }
        specs
    };
    for spec in &specs {
        if !platform_entries(root, spec)?.is_empty() {
            bail!(
                "{} already holds {}'s state; `platform-emulator state reset --platform {} --state-dir {}` first",
                spec.state_dir(root).display(),
                spec.name,
                spec.name,
                root.display()
            );
        }
    }
    let staging = root.join(format!("{STAGING_PREFIX}{}", std::process::id()));
    let names: Vec<&'static str> = specs.iter().map(|s| s.name).collect();
    let result = archive::unpack(&mut entries, &staging, &names).and_then(|mut moved| {
        place(root, &staging, &specs)?;
        moved.retain(|m| specs.iter().any(|s| s.name == m.platform));
        Ok(moved)
    });
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn place(root: &Path, staging: &Path, specs: &[PlatformSpec]) -> anyhow::Result<()> {
    for spec in specs {
        let from = staging.join(spec.name);
        if !from.is_dir() {
            continue;
        }
        if spec.state_subdir.is_empty() {
            for entry in std::fs::read_dir(&from)? {
                let entry = entry?;
                let to = root.join(entry.file_name());
                std::fs::rename(entry.path(), &to)
                    .with_context(|| format!("moving into {}", to.display()))?;
            }
        } else {
            let to = spec.state_dir(root);
            if to.is_dir() {
                // Empty (checked): an empty folder a start left.
                std::fs::remove_dir_all(&to)?;
            }
            std::fs::rename(&from, &to).with_context(|| format!("moving into {}", to.display()))?;
        }
    }
    Ok(())
}

/// Removes the state of `platforms` (every one when empty) under `root`; returns the
/// platforms that held any.
pub fn reset(root: &Path, platforms: &[String]) -> anyhow::Result<Vec<&'static str>> {
    let specs = select(platforms)?;
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    let _lock = lock(root)?;
    let mut removed = Vec::new();
    for spec in specs {
        let entries = platform_entries(root, &spec)?;
        if entries.is_empty() {
            continue;
        }
        for entry in entries {
            let meta = std::fs::symlink_metadata(&entry)?;
            if meta.is_dir() {
                std::fs::remove_dir_all(&entry)
            } else {
                std::fs::remove_file(&entry)
            }
            .with_context(|| format!("removing {}", entry.display()))?;
        }
        removed.push(spec.name);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn tree(root: &Path) -> Vec<(String, String)> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap())
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let p = e.path();
                let rel = p.strip_prefix(base).unwrap().display().to_string();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push((rel, std::fs::read_to_string(&p).unwrap_or_default()));
                }
            }
        }
        let mut out = Vec::new();
        walk(root, root, &mut out);
        out.retain(|(p, _)| !p.ends_with(LOCK_FILE));
        out
    }

    fn sample(root: &Path) {
        write(&root.join("emulator.sqlite"), "comwit rows");
        write(&root.join("databases/db_1.db"), "sqlite pages");
        write(&root.join("emulator.pid"), "123");
        write(&root.join("wayscloud/wayscloud.sqlite"), "ways rows");
        write(&root.join("wayscloud/postgres/data/PG_VERSION"), "15");
        write(&root.join("wayscloud/postgres/data/postmaster.pid"), "9");
        write(&root.join("cloudsync/cloudsync.sqlite"), "cs rows");
    }

    #[test]
    fn export_then_import_gives_back_every_file_and_leaves_out_transients() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        sample(&a);
        let file = tmp.path().join("state.tar");
        let moved = export(&a, &file, &[]).unwrap();
        let names: Vec<_> = moved.iter().map(|m| m.platform).collect();
        assert_eq!(names, ["comwit", "wayscloud", "cloudsync"]);
        assert_eq!(moved[0].files, 2, "emulator.sqlite and the database file");
        let imported = import(&b, &file, &[]).unwrap();
        assert_eq!(imported, moved);
        let mut want = tree(&a);
        want.retain(|(p, _)| !p.ends_with("emulator.pid") && !p.ends_with("postmaster.pid"));
        assert_eq!(tree(&b), want);
        assert!(!b.join("wayscloud/postgres/data/postmaster.pid").exists());
        // Nothing staged is left, and a second import is refused (state already there).
        let err = import(&b, &file, &["cloudsync".into()]).unwrap_err();
        assert!(
            format!("{err:#}").contains("state reset --platform cloudsync"),
            "{err:#}"
        );
        assert!(std::fs::read_dir(&b).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)));
    }

    #[test]
    fn per_platform_export_import_and_reset() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        sample(&a);
        let file = tmp.path().join("ways.tar");
        let moved = export(&a, &file, &["wayscloud".into()]).unwrap();
        assert_eq!(moved.len(), 1);
        let err = import(&b, &file, &["comwit".into()]).unwrap_err();
        assert!(
            format!("{err:#}").contains("holds no state of it"),
            "{err:#}"
        );
        import(&b, &file, &[]).unwrap();
        assert!(b.join("wayscloud/wayscloud.sqlite").is_file());
        assert!(!b.join("emulator.sqlite").exists() && !b.join("cloudsync").exists());

        assert_eq!(reset(&a, &["comwit".into()]).unwrap(), ["comwit"]);
        assert!(!a.join("emulator.sqlite").exists() && !a.join("databases").exists());
        assert!(
            a.join("wayscloud/wayscloud.sqlite").is_file(),
            "other platforms stay"
        );
        assert!(a.join("cloudsync/cloudsync.sqlite").is_file());
        assert_eq!(reset(&a, &[]).unwrap(), ["wayscloud", "cloudsync"]);
        assert!(reset(&a, &["nope".into()]).is_err());
    }

    #[test]
    fn a_failed_export_leaves_no_file_and_a_locked_state_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        sample(&a);
        let missing = tmp.path().join("no-such-dir/state.tar");
        assert!(export(&a, &missing, &[]).is_err());
        assert!(!missing.exists());
        let held = lock(&a).unwrap();
        let file = tmp.path().join("state.tar");
        let err = export(&a, &file, &[]).unwrap_err();
        assert!(format!("{err:#}").contains("stop it first"), "{err:#}");
        assert!(!file.exists());
        assert!(reset(&a, &[]).is_err());
        drop(held);
        assert!(
            a.join("emulator.sqlite").is_file(),
            "refused commands touch nothing"
        );
        export(&a, &file, &[]).unwrap();
        assert!(file.is_file());
    }

    #[test]
    fn an_archive_that_is_not_an_export_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("x.tar");
        let mut builder = tar::Builder::new(File::create(&file).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_mode(0o600);
        builder
            .append_data(&mut header, "comwit/x", &b"x"[..])
            .unwrap();
        builder.finish().unwrap();
        drop(builder);
        let err = import(&tmp.path().join("b"), &file, &[]).unwrap_err();
        assert!(
            format!("{err:#}").contains("not an emulator export"),
            "{err:#}"
        );
    }
}
