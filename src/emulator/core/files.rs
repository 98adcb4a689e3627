//! File modes of the state directory: directories 0700, files 0600, whatever the umask.
//! Existing directories and files the emulator owns are tightened when opened, so a state
//! directory written by an older emulator (0755 / 0644) is private after its first start.

use std::fs::File;
use std::path::Path;

/// Mode of every state directory.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every state file (SQLite files, their `-wal`/`-shm`, secrets).
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its parents) if needed and sets it to mode 0700.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)?;
    set_mode(dir, DIR_MODE)
}

/// Opens `path` for writing with mode 0600, creating it if needed (truncating it when
/// `truncate`), and sets the mode also when the file already existed.
pub fn open_private(path: &Path, truncate: bool) -> std::io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(FILE_MODE);
    }
    let file = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    Ok(file)
}

/// Creates `path` empty with mode 0600 when it does not exist, else sets its mode to 0600;
/// SQLite then gives its `-wal` and `-shm` files the same mode.
pub fn private_file(path: &Path) -> std::io::Result<()> {
    open_private(path, false).map(drop)
}

/// Sets the permission bits of `path` (no-op off Unix).
pub fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
