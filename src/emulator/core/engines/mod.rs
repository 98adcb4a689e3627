//! Real database engines behind a platform part: private servers the emulator initialises
//! in its state directory, starts, supervises and stops. None runs as a system service.
//!
//! - [`postgres`]: a PostgreSQL 15 cluster (`initdb`, `postgres`, `psql`);
//! - [`mariadb`]: a MariaDB server (`mariadb-install-db`, `mariadbd`, `mysql`).
//!
//! What every engine shares lives here:
//!
//! - **The user an engine runs as.** PostgreSQL refuses to run as root (and MariaDB wants
//!   not to). When the emulator runs as root (CI does), an engine runs as an existing
//!   unprivileged system user: `postgres` for PostgreSQL and `mysql` for MariaDB, the users
//!   their Debian packages create ([`RunAs::for_engine`]). The engine's data directory is
//!   chowned to that user, and every directory above it gets the "search" bit for others
//!   (`o+x`, never `o+r`) so that the user can reach its data: a state directory `0700`
//!   becomes `0701` (nobody else can list it, and every file the emulator writes stays
//!   `0600`). When the emulator runs as an ordinary user, engines run as that user and
//!   nothing changes mode.
//! - **No orphans.** An engine process is spawned by a dedicated thread that lives as long
//!   as the process, with `PR_SET_PDEATHSIG = SIGKILL` (set after the user switch, which
//!   would clear it): when the emulator dies, even by `SIGKILL`, the kernel kills the
//!   engine's main process, and its workers follow it (both engines' workers exit when
//!   their postmaster/server dies). A graceful shutdown stops each engine cleanly first.
//!   A server left running by an older emulator on the same data directory (its pid file
//!   names a live process of the engine) is stopped before a new one starts. Each engine
//!   leads its own process group: a stop that has to kill it (it did not stop within its
//!   grace) kills the whole group and returns once none of it is left, and a start kills
//!   workers of an earlier server whose main process is gone (a PostgreSQL checkpointer
//!   outliving its killed postmaster holds the cluster's shared memory, and the next start
//!   would fail).
//! - **Ports.** An engine listens on loopback only, on the port it used last time (kept in
//!   `<dir>/port`) when that port is free, else on a free one.

pub mod mariadb;
pub mod postgres;

use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;

/// Whether an engine answers now: its process runs and its loopback port accepts a TCP
/// connection within a second (`GET /_emulator/health`).
pub async fn probe(engine: &str, exited: Option<String>, port: u16) -> super::platform::Readiness {
    let (ready, detail) = match exited {
        Some(status) => (false, format!("the server process exited ({status})")),
        None => {
            let connect = tokio::net::TcpStream::connect((std::net::Ipv4Addr::LOCALHOST, port));
            match tokio::time::timeout(Duration::from_secs(1), connect).await {
                Ok(Ok(_)) => (true, format!("accepting connections on 127.0.0.1:{port}")),
                Ok(Err(e)) => (false, format!("127.0.0.1:{port} refused: {e}")),
                Err(_) => (false, format!("127.0.0.1:{port} did not answer within 1 s")),
            }
        }
    };
    super::platform::Readiness {
        engine: engine.to_owned(),
        ready,
        detail,
    }
}

/// The system user an engine runs as when the emulator is root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunAs {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    /// `None` when the emulator is not root (the engine runs as the emulator's user);
    /// else the first of `candidates` that exists in `/etc/passwd`, or an error naming them.
    pub fn for_engine(candidates: &[&str]) -> anyhow::Result<Option<RunAs>> {
        if !is_root() {
            return Ok(None);
        }
        let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
        for wanted in candidates {
            if let Some(user) = parse_passwd(&passwd, wanted) {
                return Ok(Some(user));
            }
        }
        anyhow::bail!(
            "the emulator runs as root and the engine refuses root, but none of the users {} exists \
             (install the engine's Debian package, which creates it, or run the emulator as an ordinary user)",
            candidates.join(", ")
        )
    }
}

/// The entry of `name` in an `/etc/passwd` text.
pub fn parse_passwd(passwd: &str, name: &str) -> Option<RunAs> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let user = fields.next()?;
        if user != name {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some(RunAs {
            name: user.to_owned(),
            uid,
            gid,
        })
    })
}

/// True when the emulator's effective user is root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Creates `dir` (mode 0700, or 0711 when an engine user must pass through it) owned by the
/// emulator, and, when `run_as` is given, makes every directory above it passable for that
/// user (adds `o+x` where missing).
pub fn engine_dir(dir: &Path, run_as: Option<&RunAs>) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    match run_as {
        None => super::files::set_mode(dir, 0o700),
        Some(_) => {
            super::files::set_mode(dir, 0o711)?;
            let absolute = std::path::absolute(dir)?;
            let mut ancestor = absolute.parent();
            while let Some(path) = ancestor {
                add_search_bit(path)?;
                ancestor = path.parent();
            }
            Ok(())
        }
    }
}

fn add_search_bit(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    if mode & 0o001 == 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode | 0o001))?;
    }
    Ok(())
}

/// Creates `dir` with mode 0700 owned by `run_as` (or by the emulator).
pub fn owned_dir(dir: &Path, run_as: Option<&RunAs>) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    super::files::set_mode(dir, 0o700)?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(dir, Some(user.uid), Some(user.gid))?;
    }
    Ok(())
}

/// Chowns `path` and everything under it to `run_as` (nothing when `None`).
pub fn chown_tree(path: &Path, run_as: Option<&RunAs>) -> io::Result<()> {
    let Some(user) = run_as else { return Ok(()) };
    std::os::unix::fs::lchown(path, Some(user.uid), Some(user.gid))?;
    if std::fs::symlink_metadata(path)?.is_dir() {
        for entry in std::fs::read_dir(path)? {
            chown_tree(&entry?.path(), run_as)?;
        }
    }
    Ok(())
}

/// The port to listen on: the one remembered in `port_file` when it is free on loopback,
/// else a free one. The choice is written back to `port_file`.
pub fn pick_port(port_file: &Path) -> io::Result<u16> {
    let remembered = std::fs::read_to_string(port_file)
        .ok()
        .and_then(|s| s.trim().parse::<u16>().ok())
        .filter(|p| *p != 0);
    let port = match remembered {
        Some(port) if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() => port,
        _ => std::net::TcpListener::bind(("127.0.0.1", 0))?
            .local_addr()?
            .port(),
    };
    std::fs::write(port_file, format!("{port}\n"))?;
    Ok(port)
}

/// An engine's main process, spawned and reaped by a dedicated thread (see the module
/// docs: it dies with the emulator).
#[derive(Debug)]
pub struct Supervised {
    pid: u32,
    label: String,
    exit: watch::Receiver<Option<String>>,
}

impl Supervised {
    /// Spawns `cmd` in its own process group, with `PR_SET_PDEATHSIG = SIGKILL`, from a
    /// thread that waits for it. The label names it in logs and errors.
    pub fn spawn(mut cmd: std::process::Command, label: &str) -> io::Result<Supervised> {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        // SAFETY: the closure only calls async-signal-safe functions (prctl, getppid, kill
        // of itself) between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let (exit_tx, exit_rx) = watch::channel(None);
        let thread_label = label.to_owned();
        std::thread::Builder::new()
            .name(format!("engine-{label}"))
            .spawn(move || match cmd.spawn() {
                Err(e) => {
                    let _ = started_tx.send(Err(e));
                }
                Ok(mut child) => {
                    let _ = started_tx.send(Ok(child.id()));
                    let status = match child.wait() {
                        Ok(status) => status.to_string(),
                        Err(e) => format!("wait failed: {e}"),
                    };
                    tracing::info!(engine = %thread_label, %status, "engine process exited");
                    let _ = exit_tx.send(Some(status));
                }
            })?;
        let pid = started_rx
            .recv()
            .map_err(|_| io::Error::other("the engine's supervisor thread ended early"))??;
        Ok(Supervised {
            pid,
            label: label.to_owned(),
            exit: exit_rx,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status, once the process has exited.
    pub fn exited(&self) -> Option<String> {
        self.exit.borrow().clone()
    }

    /// Sends `signal` to the process (nothing once it has exited).
    pub fn signal(&self, signal: i32) {
        if self.exited().is_none() {
            send_signal(self.pid, signal);
        }
    }

    /// Waits until the process has exited, at most `timeout`; true when it has.
    pub async fn wait_exit(&self, timeout: Duration) -> bool {
        let mut rx = self.exit.clone();
        let done = tokio::time::timeout(timeout, rx.wait_for(|s| s.is_some()))
            .await
            .is_ok();
        done
    }

    /// Sends `signal`, waits up to `grace`, then kills the process (`SIGKILL`) and waits
    /// for it.
    ///
    /// The kill goes to the whole process group (the engine's workers are in it): a
    /// PostgreSQL checkpointer killed with its postmaster gone would otherwise go on
    /// holding the cluster's shared memory, and the next start on the directory fails
    /// ("pre-existing shared memory block is still in use"). The stop returns once no
    /// process of the group is left (at most 10 seconds after the kill).
    pub async fn stop(&self, signal: i32, grace: Duration) {
        self.signal(signal);
        if !self.wait_exit(grace).await {
            tracing::warn!(engine = %self.label, "engine did not stop in time; killing it");
            send_group_signal(self.pid, libc::SIGKILL);
            self.wait_exit(Duration::from_secs(5)).await;
        }
        // Workers outlive a main process that exits first only for a moment, unless it
        // was killed: wait them out either way.
        wait_group_gone(self.pid, None, Duration::from_secs(10)).await;
    }
}

/// `kill(-pgid, signal)`: every process of the group `pgid`, ignoring a group that is gone.
pub fn send_group_signal(pgid: u32, signal: i32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// The live processes of process group `pgid` (from `/proc/<pid>/stat`), each with its
/// command name; with `names`, only those called one of them.
pub fn group_members(pgid: u32, names: Option<&[&str]>) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (comm, group) = stat_comm_and_group(&stat)?;
            (group == pgid && names.is_none_or(|n| n.contains(&comm)))
                .then(|| (pid, comm.to_owned()))
        })
        .collect()
}

/// The command name and process group of a live process's `/proc/<pid>/stat` line: `pid
/// (comm) state ppid pgrp ...`; the name may hold spaces and parentheses, so it ends at the
/// last `)`. `None` for a process that has exited (state `Z` or `X`) or a line of another
/// shape.
fn stat_comm_and_group(stat: &str) -> Option<(&str, u32)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?;
    let mut rest = stat.get(close + 1..)?.split_whitespace();
    if matches!(rest.next()?, "Z" | "X") {
        return None;
    }
    let group = rest.nth(1)?.parse().ok()?;
    Some((comm, group))
}

/// Waits until process group `pgid` has no live member (called one of `names`, when
/// given), at most `timeout`; true when none is left.
pub async fn wait_group_gone(pgid: u32, names: Option<&[&str]>, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let left = group_members(pgid, names);
        if left.is_empty() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(pgid, ?left, "engine processes still running");
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `kill(pid, signal)`, ignoring a process that is gone.
pub fn send_signal(pid: u32, signal: i32) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    if pid <= 0 {
        return;
    }
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// True when `pid` is a live process whose command name (`/proc/<pid>/comm`) is one of
/// `names`.
pub fn is_live_process(pid: u32, names: &[&str]) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| names.contains(&comm.trim()))
        .unwrap_or(false)
}

/// Stops a server left running on this data directory by an earlier emulator: the first
/// line of `pid_file` names a live process called one of `names`. `SIGTERM`, then
/// `SIGKILL` after 15 seconds.
pub async fn stop_stale(pid_file: &Path, names: &[&str]) {
    let Some(pid) = std::fs::read_to_string(pid_file)
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()))
    else {
        return;
    };
    if is_live_process(pid, names) {
        tracing::warn!(pid, pid_file = %pid_file.display(), "stopping an engine left running");
        send_signal(pid, libc::SIGTERM);
        for step in 0..300 {
            if !is_live_process(pid, names) {
                break;
            }
            if step == 150 {
                send_signal(pid, libc::SIGKILL);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // The emulator starts each engine as the leader of its own process group, so the pid
    // file's pid is also the group's: workers of a main process that was killed (by an
    // emulator that was itself killed, or one that gave up waiting) may still hold the
    // engine's files or shared memory. Those called one of `names` are killed and waited
    // for; a group whose pid is now someone else's holds no process of these names.
    if !group_members(pid, Some(names)).is_empty() {
        tracing::warn!(pid, pid_file = %pid_file.display(), "stopping the workers of an engine left running");
        for (member, _) in group_members(pid, Some(names)) {
            send_signal(member, libc::SIGKILL);
        }
        wait_group_gone(pid, Some(names), Duration::from_secs(15)).await;
    }
}

/// The last `lines` lines of a log file (for an error that says why an engine failed).
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs a tool to completion (stdin from `input`), and returns its stdout; an error carries
/// `what`, the exit status and stderr.
pub async fn run_tool(
    mut cmd: tokio::process::Command,
    input: Option<&str>,
    what: &str,
) -> anyhow::Result<String> {
    use tokio::io::AsyncWriteExt;
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let mut child = cmd.spawn().with_context(|| format!("{what}: starting"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        let text = text.to_owned();
        tokio::spawn(async move {
            let _ = stdin.write_all(text.as_bytes()).await;
            let _ = stdin.shutdown().await;
        });
    }
    let out = child
        .wait_with_output()
        .await
        .with_context(|| format!("{what}: waiting"))?;
    if !out.status.success() {
        anyhow::bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A random password of `n` characters from `[A-Za-z0-9]` (safe in every engine's SQL
/// literal, URL and option file without escaping).
pub fn random_password(n: usize) -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Reads the secret in `path`, or writes a new random password there (mode 0600) first.
pub fn stored_password(path: &Path) -> io::Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    let password = random_password(32);
    super::secrets::write_secret(path, &password)?;
    Ok(password)
}

/// A binary of an engine: `dir/name` when that file exists, else `name` (from `PATH`).
pub fn engine_binary(dir: &Path, name: &str) -> PathBuf {
    let candidate = dir.join(name);
    if candidate.is_file() {
        candidate
    } else {
        PathBuf::from(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_entries_are_found_by_name() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\npostgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n";
        assert_eq!(
            parse_passwd(passwd, "postgres"),
            Some(RunAs {
                name: "postgres".into(),
                uid: 101,
                gid: 104
            })
        );
        assert_eq!(parse_passwd(passwd, "post"), None);
        assert_eq!(parse_passwd("broken:x:y:z", "broken"), None);
    }

    #[test]
    fn passwords_are_alphanumeric_and_differ() {
        let (a, b) = (random_password(32), random_password(32));
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn a_remembered_free_port_is_kept_and_a_taken_one_replaced() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("port");
        let first = pick_port(&file)?;
        assert_eq!(pick_port(&file)?, first, "a free remembered port is reused");
        let _taken = std::net::TcpListener::bind(("127.0.0.1", first))?;
        let second = pick_port(&file)?;
        assert_ne!(second, first);
        assert_eq!(std::fs::read_to_string(&file)?.trim(), second.to_string());
        Ok(())
    }

    #[test]
    fn stat_lines_give_name_and_group() {
        let line = "4242 (postgres: checkpointer (x)) S 4200 4200 4200 0 -1 4194560 0";
        assert_eq!(
            stat_comm_and_group(line),
            Some(("postgres: checkpointer (x)", 4200))
        );
        assert_eq!(stat_comm_and_group("4242 (sleep) S 1"), None);
        assert_eq!(stat_comm_and_group("4243 (sleep) Z 4200 4200 4200"), None);
        assert_eq!(stat_comm_and_group("garbage"), None);
    }

    /// A main process that ignores the stop signal leaves a worker in its group: the stop
    /// kills both, and returns only once the group is gone.
    #[tokio::test]
    async fn a_killed_engine_takes_its_workers_with_it() -> io::Result<()> {
        let mut cmd = std::process::Command::new("sh");
        cmd.args(["-c", "trap '' INT; sleep 60 & wait"]);
        let process = Supervised::spawn(cmd, "sh")?;
        let pid = process.pid();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while group_members(pid, Some(&["sleep"])).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the worker never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        process.stop(libc::SIGINT, Duration::from_millis(300)).await;
        assert!(process.exited().is_some());
        assert!(
            group_members(pid, None).is_empty(),
            "{:?}",
            group_members(pid, None)
        );
        Ok(())
    }

    #[tokio::test]
    async fn a_supervised_process_is_stopped_and_reaped() -> io::Result<()> {
        let mut cmd = std::process::Command::new("sleep");
        cmd.arg("60");
        let process = Supervised::spawn(cmd, "sleep")?;
        assert!(is_live_process(process.pid(), &["sleep"]));
        assert!(!process.wait_exit(Duration::from_millis(100)).await);
        process.stop(libc::SIGTERM, Duration::from_secs(5)).await;
        assert!(process.exited().is_some());
        assert!(!is_live_process(process.pid(), &["sleep"]));
        Ok(())
    }
}
