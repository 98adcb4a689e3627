//! What the core needs from one platform: its name, its default address, its routes and
//! its error body shape.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;

use super::registry::BoxFuture;

/// The facts of a platform known before it starts (for the command line and the docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformSpec {
    /// The platform's name as the command line and the listening line spell it (`comwit`).
    pub name: &'static str,
    /// Where it listens unless told otherwise (`127.0.0.1:8787` for comwit).
    pub default_listen: &'static str,
    /// Its folder in the state directory (`wayscloud`). Empty: the state directory itself
    /// (Comwit's files were there before any other platform existed, and the documented
    /// paths such as `.emulator/bootstrap-token` keep working).
    pub state_subdir: &'static str,
}

impl PlatformSpec {
    /// The platform's state directory under the emulator's `--state-dir`.
    pub fn state_dir(&self, root: &Path) -> PathBuf {
        if self.state_subdir.is_empty() {
            root.to_path_buf()
        } else {
            root.join(self.state_subdir)
        }
    }
}

/// An error the core answers itself, which the platform renders in its own error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// An `/_emulator/` request without the right `X-Emulator-Admin` header (401).
    AdminUnauthorized,
    /// No route has this path (404).
    NotFound,
    /// A route has this path, not this method (405; the `Allow` header is added by the
    /// router).
    MethodNotAllowed,
    /// An injected `rate_limit` fault (429 with `Retry-After`).
    RateLimited { retry_after: u64 },
    /// An injected `error` fault (500, 502, 503 or 504, `Retry-After` when given).
    Injected {
        status: StatusCode,
        retry_after: Option<u64>,
    },
    /// An admin body that is not JSON (400).
    BadRequest(String),
    /// An admin body with a bad field (422 naming it).
    Validation { field: String, message: String },
    /// A state route (`/_emulator/state/...`) refused or failed: 409 `state_not_empty`,
    /// 400 `bad_export`, 501 `state_unsupported`, 500 `state_failed`.
    State {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

/// A running platform's state as the admin state routes handle it (`state_admin`): the
/// core holds new requests at its gate, copies, empties and fills the folder; the platform
/// says whether it holds objects and closes and reopens what it keeps open on its files.
pub trait LiveState: Send + Sync + 'static {
    /// Whether the platform holds objects now (an import is refused then).
    fn holds_objects(&self) -> BoxFuture<'static, anyhow::Result<bool>>;

    /// Runs `copy` (a copy of the platform's folder, on the blocking pool) while the
    /// platform's files agree with one another on disk. Called with new requests held. The
    /// default runs it as is: SQLite files are copied by SQLite, consistent while open. A
    /// platform with engines stops them cleanly first and starts them again after, whether
    /// the copy worked or not.
    fn at_rest(
        &self,
        copy: Box<dyn FnOnce() -> anyhow::Result<()> + Send>,
    ) -> BoxFuture<'static, anyhow::Result<()>> {
        Box::pin(async move { super::blocking::call(copy).await })
    }

    /// Closes what the platform keeps open on its folder, runs `change` (which empties or
    /// refills it) on the blocking pool, then opens the state again (bootstrapped as on a
    /// first start when empty). Called with new requests held.
    fn replace(
        &self,
        change: Box<dyn FnOnce() -> anyhow::Result<()> + Send>,
    ) -> BoxFuture<'static, anyhow::Result<()>>;
}

/// One engine's readiness, as `GET /_emulator/health` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Readiness {
    /// The engine's name (`state`, `postgresql`, `mariadb`).
    pub engine: String,
    /// Whether it answers now.
    pub ready: bool,
    /// What was seen: the port it answers on, or why it is not ready.
    pub detail: String,
}

impl Readiness {
    /// The platform's own state file: opened before the platform serves, so ready whenever
    /// the listener answers.
    pub fn state_file() -> Readiness {
        Readiness {
            engine: "state".into(),
            ready: true,
            detail: "SQLite state file open".into(),
        }
    }
}

/// One emulated platform, served by the core on its own port.
///
/// The core puts in front of [`Platform::public_routes`]: the request counters (labelled
/// from the matched route), fault injection, the 404/405 fallbacks; and serves
/// [`Platform::admin_routes`] under `/_emulator/` next to its own (faults, stats), behind
/// the admin secret. Every answer the core makes itself goes through
/// [`Platform::error_response`].
pub trait Platform: Send + Sync + 'static {
    /// Name and default address.
    fn spec(&self) -> PlatformSpec;

    /// The public API (state already applied). Route templates use axum's `{param}`
    /// syntax, which the stats print as is. A wildcard route (`{*rest}`) counts as
    /// `(unmatched)`: keep wildcards for catch-alls that answer 404.
    fn public_routes(&self) -> Router;

    /// Platform-specific admin routes, all under `/_emulator/`.
    fn admin_routes(&self) -> Router;

    /// The platform's error body for a core error.
    fn error_response(&self, error: CoreError) -> Response;

    /// Each engine's readiness now, for `GET /_emulator/health` (200 when every one is
    /// ready, else 503). A platform without a server of its own has its state file only.
    fn readiness(&self) -> BoxFuture<'static, Vec<Readiness>> {
        Box::pin(async { vec![Readiness::state_file()] })
    }

    /// How its state is exported, reset and imported while it runs; `None`: the state routes
    /// answer 501 (the command line, emulator stopped, still does).
    fn live_state(&self) -> Option<std::sync::Arc<dyn LiveState>> {
        None
    }

    /// Whether the platform serves the browser console at its root: the core then gives
    /// the console's origin CORS on every other platform's listener (`super::directory`).
    fn serves_console(&self) -> bool {
        false
    }

    /// A path to route instead of the request's own (faults still see the original), for
    /// platforms that ignore empty path segments somewhere or route by host name. `host` is
    /// the request's `Host` name (lowercase, without port), when it is a name. `None`: route
    /// as sent.
    fn normalize_path(&self, host: Option<&str>, path: &str) -> Option<String> {
        let _ = (host, path);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_is_the_subdir_or_the_root() {
        let mut spec = PlatformSpec {
            name: "p",
            default_listen: "127.0.0.1:0",
            state_subdir: "p",
        };
        assert_eq!(spec.state_dir(Path::new("/s")), PathBuf::from("/s/p"));
        spec.state_subdir = "";
        assert_eq!(spec.state_dir(Path::new("/s")), PathBuf::from("/s"));
    }
}
