//! The state routes of a running platform, under `/_emulator/state/` behind the admin
//! secret like every admin route; each platform's acts on its own state only
//! (`docs/emulator.md`, "State of a running emulator"):
//!
//! - `GET /_emulator/state/export`: the platform's state as the command line's export
//!   file (`archive`), streamed. New requests are held at the write gate (open ones
//!   finish first) while the platform's folder is copied (SQLite files by SQLite, WAL
//!   included; a platform with engines stops them around the copy,
//!   [`LiveState::at_rest`]) into a copy beside it; the gate opens and the archive streams from the
//!   copy, which is removed when the stream ends, finished or not. The state is only read:
//!   a failed or dropped export leaves it as it was, and serving.
//! - `POST /_emulator/state/reset`: under the gate, the platform closes its files, its
//!   folder is emptied, and it opens a fresh state (bootstrapped as on a first start).
//! - `POST /_emulator/state/import` (the archive as the body): only into a platform that
//!   holds no objects (else 409 `state_not_empty`). The archive is stored and unpacked beside
//!   the folder first (a bad archive is refused before anything changes), then, under the
//!   gate, the platform's entries are replaced by the unpacked ones and it opens them.
//!
//! A platform takes part through [`Platform::live_state`]; one without it answers 501.
//! The admin secret file is written again after a reset or import (the running secret
//! stays; an imported `admin-secret` is not used).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt;
use serde_json::json;
use tokio::sync::{mpsc, Mutex, RwLock};

use super::archive::{self, Part, EXPORT_PREFIX, STAGING_PREFIX};
use super::blocking;
use super::files;
use super::launch::ADMIN_SECRET_FILE;
use super::platform::{CoreError, LiveState};
use super::secrets::write_secret;
use super::server::CoreState;

/// A platform's state folder as the core holds it while serving: where it is, what in it is
/// not its own, and the gate every public request passes.
#[derive(Debug)]
pub struct StateHome {
    /// The platform's folder.
    pub dir: PathBuf,
    /// Other platforms' folders inside it (Comwit's folder is the state directory).
    pub neighbours: Vec<&'static str>,
    /// Public requests hold it shared; export, reset and import take it exclusive: new
    /// requests wait, open ones finish first.
    pub gate: RwLock<()>,
    /// One state operation at a time.
    ops: Mutex<()>,
    /// Numbers the copies and uploads of this process.
    seq: AtomicU64,
}

impl StateHome {
    pub fn new(dir: PathBuf, neighbours: Vec<&'static str>) -> StateHome {
        StateHome {
            dir,
            neighbours,
            gate: RwLock::new(()),
            ops: Mutex::new(()),
            seq: AtomicU64::new(0),
        }
    }

    /// A path in the folder, named with `prefix` (never state, never exported).
    fn scratch(&self, prefix: &str, suffix: &str) -> PathBuf {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        self.dir
            .join(format!("{prefix}{}-{n}{suffix}", std::process::id()))
    }
}

pub fn routes(core: CoreState) -> Router {
    Router::new()
        .route("/_emulator/state/export", get(export))
        .route("/_emulator/state/reset", post(reset))
        .route("/_emulator/state/import", post(import))
        .with_state(core)
}

fn refused(core: &CoreState, status: StatusCode, code: &'static str, message: String) -> Response {
    core.error(CoreError::State {
        status,
        code,
        message,
    })
}

fn failed(core: &CoreState, what: &str, e: anyhow::Error) -> Response {
    tracing::error!(platform = core.platform.spec().name, error = %format!("{e:#}"), "state {what} failed");
    refused(
        core,
        StatusCode::INTERNAL_SERVER_ERROR,
        "state_failed",
        format!("state {what} failed: {e:#}"),
    )
}

fn live(core: &CoreState) -> Result<Arc<dyn LiveState>, Response> {
    core.platform.live_state().ok_or_else(|| {
        refused(
            core,
            StatusCode::NOT_IMPLEMENTED,
            "state_unsupported",
            format!(
                "{} does not export, reset or import its state while running; stop it and use `platform-emulator state`",
                core.platform.spec().name
            ),
        )
    })
}

fn remove_quietly(path: &Path) {
    let gone = match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(_) => Ok(()),
    };
    if let Err(e) = gone {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove");
    }
}

/// Writes the running admin secret back (a reset removed it, an import brought another).
fn rewrite_secret(core: &CoreState) -> anyhow::Result<()> {
    write_secret(&core.home.dir.join(ADMIN_SECRET_FILE), &core.admin_secret)?;
    Ok(())
}

/// Sends what it is written as chunks of the response body; a dropped receiver (the client
/// went away) is a write error, which ends the export.
struct ChunkWriter {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 64 * 1024;

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

async fn export(State(core): State<CoreState>) -> Response {
    let live = match live(&core) {
        Ok(live) => live,
        Err(resp) => return resp,
    };
    let name = core.platform.spec().name;
    let home = core.home.clone();
    let copy = home.scratch(EXPORT_PREFIX, "");
    {
        let _one = home.ops.lock().await;
        let _quiet = home.gate.write().await;
        let (dir, neighbours, to) = (home.dir.clone(), home.neighbours.clone(), copy.clone());
        let copied = live
            .at_rest(Box::new(move || archive::snapshot(&dir, &neighbours, &to)))
            .await;
        if let Err(e) = copied {
            remove_quietly(&copy);
            return failed(&core, "export", e);
        }
    }
    let (tx, rx) = mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let part = Part {
            name,
            dir: copy.clone(),
            neighbours: Vec::new(),
        };
        let mut writer = ChunkWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let written = archive::write(&mut writer, &[part])
            .map(drop)
            .and_then(|()| Ok(writer.flush()?));
        match written {
            Ok(()) => tracing::info!(platform = name, "state exported"),
            Err(e) => {
                tracing::warn!(platform = name, error = %format!("{e:#}"), "state export ended early");
                // The client sees a cut body, never a complete-looking archive.
                let _ = tx.blocking_send(Err(std::io::Error::other("export failed")));
            }
        }
        remove_quietly(&copy);
    });
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    (
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}-state.tar\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// An error carried through the blocking pool (`JoinError` becomes one too).
struct Failed(anyhow::Error);

impl From<tokio::task::JoinError> for Failed {
    fn from(e: tokio::task::JoinError) -> Self {
        Failed(anyhow::anyhow!("task failed: {e}"))
    }
}

async fn reset(State(core): State<CoreState>) -> Response {
    let live = match live(&core) {
        Ok(live) => live,
        Err(resp) => return resp,
    };
    let home = core.home.clone();
    let _one = home.ops.lock().await;
    let _quiet = home.gate.write().await;
    let (dir, neighbours) = (home.dir.clone(), home.neighbours.clone());
    let replaced = live
        .replace(Box::new(move || archive::remove_entries(&dir, &neighbours)))
        .await
        .and_then(|()| rewrite_secret(&core));
    if let Err(e) = replaced {
        return failed(&core, "reset", e);
    }
    tracing::info!(platform = core.platform.spec().name, "state reset");
    Json(json!({ "platform": core.platform.spec().name, "reset": true })).into_response()
}

async fn import(State(core): State<CoreState>, body: Body) -> Response {
    let live = match live(&core) {
        Ok(live) => live,
        Err(resp) => return resp,
    };
    let name = core.platform.spec().name;
    let home = core.home.clone();
    let _one = home.ops.lock().await;
    let not_empty = || {
        refused(
            &core,
            StatusCode::CONFLICT,
            "state_not_empty",
            format!("{name} holds objects; POST /_emulator/state/reset first"),
        )
    };
    match live.holds_objects().await {
        Ok(false) => {}
        Ok(true) => return not_empty(),
        Err(e) => return failed(&core, "import", e),
    }
    let upload = home.scratch(STAGING_PREFIX, ".tar");
    let staging = home.scratch(STAGING_PREFIX, "");
    let unpacked = receive(body, &upload).await.map_err(Failed);
    let unpacked = match unpacked {
        Ok(()) => {
            let (upload, staging) = (upload.clone(), staging.clone());
            blocking::call(move || unpack_one(&upload, &staging, name).map_err(Failed)).await
        }
        Err(e) => Err(e),
    };
    remove_quietly(&upload);
    let moved = match unpacked {
        Ok(moved) => moved,
        Err(Failed(e)) => {
            remove_quietly(&staging);
            return refused(
                &core,
                StatusCode::BAD_REQUEST,
                "bad_export",
                format!("not an import of {name}: {e:#}"),
            );
        }
    };
    let quiet = home.gate.write().await;
    let replaced = match live.holds_objects().await {
        Ok(true) => {
            drop(quiet);
            remove_quietly(&staging);
            return not_empty();
        }
        Ok(false) => {
            let (dir, neighbours, from) = (
                home.dir.clone(),
                home.neighbours.clone(),
                staging.join(name),
            );
            live.replace(Box::new(move || {
                archive::remove_entries(&dir, &neighbours)?;
                archive::move_entries(&from, &dir)
            }))
            .await
            .and_then(|()| rewrite_secret(&core))
        }
        Err(e) => Err(e),
    };
    drop(quiet);
    remove_quietly(&staging);
    if let Err(e) = replaced {
        return failed(&core, "import", e);
    }
    tracing::info!(
        platform = name,
        files = moved.files,
        bytes = moved.bytes,
        "state imported"
    );
    Json(json!({ "platform": name, "files": moved.files, "bytes": moved.bytes })).into_response()
}

/// Stores the request body in `to` (0600).
async fn receive(body: Body, to: &Path) -> anyhow::Result<()> {
    use tokio::io::AsyncWriteExt;
    let file = files::open_private(to, true)?;
    let mut file = tokio::fs::File::from_std(file);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        file.write_all(&chunk?).await?;
    }
    file.flush().await?;
    file.sync_all().await?;
    Ok(())
}

/// Unpacks `name`'s folder of the archive `from` into `staging` (the archive must hold it).
fn unpack_one(from: &Path, staging: &Path, name: &'static str) -> anyhow::Result<archive::Moved> {
    let file = std::fs::File::open(from)?;
    let mut reader = archive::reader(std::io::BufReader::new(file));
    let mut entries = reader.entries()?;
    let mut first = entries
        .next()
        .ok_or_else(|| anyhow::anyhow!("the export is empty"))??;
    let held = archive::read_manifest(&mut first)?;
    drop(first);
    if !held.iter().any(|h| h == name) {
        anyhow::bail!(
            "the export holds no state of {name} (it holds: {})",
            held.join(", ")
        );
    }
    let mut moved = archive::unpack(&mut entries, staging, &[name])?;
    moved
        .pop()
        .ok_or_else(|| anyhow::anyhow!("nothing unpacked"))
}
