//! SQLite connections of the SQL data plane: opening (never creating) a database file, the
//! authorizer that keeps a connection inside its own database (no `ATTACH` of other files)
//! and enforces read-only access, the per-request time limit, and the column declared types
//! (which rusqlite only exposes behind a feature this crate does not enable).
//!
//! The authorizer and the progress handler are plain C callbacks without user data: what
//! they enforce is read from thread-locals set by the thread that runs the statements (the
//! SQL work of one HTTP request runs start to end on one blocking thread).

use std::cell::Cell;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{ffi, Connection, OpenFlags};

/// How long a statement waits for a lock held by another connection.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// What the authorizer lets statements prepared on this thread do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// The emulator's own statements (checkpoints): everything.
    Internal,
    /// A database token or a read-write query token: anything but `ATTACH` of a file.
    ReadWrite,
    /// A read-only query token: reads, transaction control and read-only pragmas.
    ReadOnly,
}

thread_local! {
    static MODE: Cell<AuthMode> = const { Cell::new(AuthMode::ReadOnly) };
    static DENIED: Cell<Option<c_int>> = const { Cell::new(None) };
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Sets the authorizer mode (and optionally a deadline) for this thread until dropped.
pub struct ThreadPolicy {
    mode: AuthMode,
    deadline: Option<Instant>,
}

impl ThreadPolicy {
    pub fn enter(mode: AuthMode, deadline: Option<Instant>) -> ThreadPolicy {
        let prev = ThreadPolicy {
            mode: MODE.with(Cell::get),
            deadline: DEADLINE.with(Cell::get),
        };
        MODE.with(|m| m.set(mode));
        DEADLINE.with(|d| d.set(deadline));
        DENIED.with(|d| d.set(None));
        prev
    }

    /// Changes only the authorizer mode (the deadline stays) until dropped.
    pub fn switch_mode(mode: AuthMode) -> ThreadPolicy {
        ThreadPolicy::enter(mode, DEADLINE.with(Cell::get))
    }
}

impl Drop for ThreadPolicy {
    fn drop(&mut self) {
        MODE.with(|m| m.set(self.mode));
        DEADLINE.with(|d| d.set(self.deadline));
    }
}

/// The current authorizer mode of this thread.
pub fn current_mode() -> AuthMode {
    MODE.with(Cell::get)
}

/// Forgets an earlier denial (call before preparing a statement).
pub fn clear_denied() {
    DENIED.with(|d| d.set(None));
}

/// The authorizer action code denied since the last [`clear_denied`], if any.
pub fn take_denied() -> Option<c_int> {
    DENIED.with(|d| d.take())
}

/// Pragmas a read-only session may run with an argument (they only read).
const READ_ONLY_PRAGMAS: [&str; 10] = [
    "table_info",
    "table_xinfo",
    "table_list",
    "index_info",
    "index_xinfo",
    "index_list",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
];

/// The policy itself, separate from the C callback so that it can be tested.
fn denies(mode: AuthMode, action: c_int, arg1: Option<&str>, arg2: Option<&str>) -> bool {
    if mode == AuthMode::Internal {
        return false;
    }
    if action == ffi::SQLITE_ATTACH {
        // `VACUUM` attaches a temporary database with an empty file name; any other file
        // (another database, the emulator's state, a new file) is refused.
        return arg1 != Some("");
    }
    if action == ffi::SQLITE_PRAGMA
        && arg2.is_some()
        && arg1.is_some_and(|name| name.to_ascii_lowercase().ends_with("_store_directory"))
    {
        // `temp_store_directory` / `data_store_directory` would put files anywhere.
        return true;
    }
    if mode == AuthMode::ReadWrite {
        return false;
    }
    match action {
        ffi::SQLITE_CREATE_INDEX..=ffi::SQLITE_INSERT
        | ffi::SQLITE_UPDATE
        | ffi::SQLITE_ALTER_TABLE
        | ffi::SQLITE_REINDEX
        | ffi::SQLITE_ANALYZE
        | ffi::SQLITE_CREATE_VTABLE
        | ffi::SQLITE_DROP_VTABLE => true,
        ffi::SQLITE_PRAGMA => {
            arg2.is_some()
                && !arg1.is_some_and(|name| {
                    READ_ONLY_PRAGMAS
                        .iter()
                        .any(|p| p.eq_ignore_ascii_case(name))
                })
        }
        _ => false,
    }
}

/// # Safety
/// Called by SQLite with NUL-terminated strings (or null pointers) valid for the call.
unsafe extern "C" fn authorize(
    _user: *mut c_void,
    action: c_int,
    arg1: *const c_char,
    arg2: *const c_char,
    _database: *const c_char,
    _trigger: *const c_char,
) -> c_int {
    let text = |p: *const c_char| -> Option<&str> {
        if p.is_null() {
            None
        } else {
            // SAFETY: SQLite passes a valid NUL-terminated string for the call's duration.
            unsafe { CStr::from_ptr(p) }.to_str().ok()
        }
    };
    if denies(MODE.with(Cell::get), action, text(arg1), text(arg2)) {
        DENIED.with(|d| d.set(Some(action)));
        ffi::SQLITE_DENY
    } else {
        ffi::SQLITE_OK
    }
}

/// Interrupts a statement once this thread's deadline has passed.
unsafe extern "C" fn progress(_user: *mut c_void) -> c_int {
    let late = DEADLINE.with(|d| d.get().is_some_and(|t| Instant::now() >= t));
    c_int::from(late)
}

/// Opens an existing database file for the data plane (never creates one: a deleted
/// database's file is gone and must stay gone), with the busy timeout, the authorizer and
/// the progress handler installed.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // SAFETY: the handle is valid while `conn` lives; the callbacks are `extern "C"`
    // functions with the signatures SQLite expects and use no user data.
    unsafe {
        let db = conn.handle();
        ffi::sqlite3_set_authorizer(db, Some(authorize), std::ptr::null_mut());
        ffi::sqlite3_progress_handler(db, 1000, Some(progress), std::ptr::null_mut());
    }
    Ok(conn)
}

/// Caps the database file at `bytes` (rounded down to whole pages, at least the pages it
/// already has): a write past it fails with `SQLITE_FULL`, "database or disk is full", as
/// a libSQL server answers a full database.
pub fn limit_size(conn: &Connection, bytes: u64) -> rusqlite::Result<()> {
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let pages = bytes / u64::try_from(page_size.max(512)).unwrap_or(4096);
    // SQLite never sets the limit below the current page count; that is what we want
    // too (a database that is already over its limit stays readable, and cannot grow).
    conn.query_row(
        &format!("PRAGMA max_page_count = {}", pages.max(1)),
        [],
        |_| Ok(()),
    )?;
    Ok(())
}

/// The declared types of the result columns of the first statement of `sql` (`None` for a
/// column that is an expression). Empty when the statement does not prepare.
pub fn column_decltypes(conn: &Connection, sql: &str) -> Vec<Option<String>> {
    let Ok(len) = c_int::try_from(sql.len()) else {
        return Vec::new();
    };
    let mut stmt: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
    let mut tail: *const c_char = std::ptr::null();
    // SAFETY: the handle is valid while `conn` lives; `sql` outlives the call and `len` is
    // its length; the statement is finalized before returning and its strings are copied
    // before that.
    unsafe {
        let rc = ffi::sqlite3_prepare_v2(
            conn.handle(),
            sql.as_ptr().cast::<c_char>(),
            len,
            &mut stmt,
            &mut tail,
        );
        if rc != ffi::SQLITE_OK || stmt.is_null() {
            if !stmt.is_null() {
                ffi::sqlite3_finalize(stmt);
            }
            return Vec::new();
        }
        let n = ffi::sqlite3_column_count(stmt);
        let out = (0..n)
            .map(|i| {
                let p = ffi::sqlite3_column_decltype(stmt, i);
                if p.is_null() {
                    None
                } else {
                    Some(CStr::from_ptr(p).to_string_lossy().into_owned())
                }
            })
            .collect();
        ffi::sqlite3_finalize(stmt);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        use AuthMode::*;
        // ATTACH: only VACUUM's temporary database.
        for mode in [ReadWrite, ReadOnly] {
            assert!(denies(mode, ffi::SQLITE_ATTACH, Some("/tmp/x.db"), None));
            assert!(denies(mode, ffi::SQLITE_ATTACH, Some(":memory:"), None));
            assert!(!denies(mode, ffi::SQLITE_ATTACH, Some(""), None));
        }
        assert!(!denies(
            Internal,
            ffi::SQLITE_ATTACH,
            Some("/tmp/x.db"),
            None
        ));
        for action in [
            ffi::SQLITE_INSERT,
            ffi::SQLITE_UPDATE,
            ffi::SQLITE_DELETE,
            ffi::SQLITE_CREATE_TABLE,
            ffi::SQLITE_DROP_TABLE,
            ffi::SQLITE_CREATE_TEMP_TABLE,
            ffi::SQLITE_ALTER_TABLE,
        ] {
            assert!(denies(ReadOnly, action, Some("t"), None), "{action}");
            assert!(!denies(ReadWrite, action, Some("t"), None), "{action}");
        }
        for action in [
            ffi::SQLITE_SELECT,
            ffi::SQLITE_READ,
            ffi::SQLITE_TRANSACTION,
            ffi::SQLITE_FUNCTION,
        ] {
            assert!(!denies(ReadOnly, action, None, None), "{action}");
        }
        assert!(!denies(
            ReadOnly,
            ffi::SQLITE_PRAGMA,
            Some("user_version"),
            None
        ));
        assert!(denies(
            ReadOnly,
            ffi::SQLITE_PRAGMA,
            Some("user_version"),
            Some("3")
        ));
        assert!(!denies(
            ReadOnly,
            ffi::SQLITE_PRAGMA,
            Some("table_info"),
            Some("t")
        ));
        assert!(!denies(
            ReadWrite,
            ffi::SQLITE_PRAGMA,
            Some("user_version"),
            Some("3")
        ));
        assert!(denies(
            ReadWrite,
            ffi::SQLITE_PRAGMA,
            Some("temp_store_directory"),
            Some("/tmp")
        ));
    }

    #[test]
    fn connection_is_fenced() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("a.db");
        assert!(open(&path).is_err(), "open never creates a file");
        Connection::open(&path)?.execute_batch(
            "PRAGMA journal_mode=WAL; CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT);",
        )?;
        let conn = open(&path)?;
        {
            let _policy = ThreadPolicy::enter(AuthMode::ReadWrite, None);
            conn.execute("INSERT INTO t (b) VALUES ('x')", [])?;
            let other = dir.path().join("b.db");
            let sql = format!("ATTACH DATABASE '{}' AS other", other.display());
            assert!(conn.execute_batch(&sql).is_err());
            assert_eq!(take_denied(), Some(ffi::SQLITE_ATTACH));
            assert!(!other.exists());
            conn.execute_batch("VACUUM")?;
            assert_eq!(
                column_decltypes(&conn, "SELECT a, b, a + 1 FROM t"),
                vec![Some("INTEGER".into()), Some("TEXT".into()), None]
            );
        }
        {
            let _policy = ThreadPolicy::enter(AuthMode::ReadOnly, None);
            assert!(conn.execute("INSERT INTO t (b) VALUES ('y')", []).is_err());
            assert_eq!(take_denied(), Some(ffi::SQLITE_INSERT));
            let n: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
            assert_eq!(n, 1);
        }
        {
            let _policy = ThreadPolicy::enter(
                AuthMode::ReadWrite,
                Some(Instant::now() + Duration::from_millis(50)),
            );
            let err = conn.query_row(
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                 SELECT count(*) FROM c",
                [],
                |r| r.get::<_, i64>(0),
            );
            assert!(err.is_err(), "the deadline interrupts a runaway query");
        }
        Ok(())
    }
}
