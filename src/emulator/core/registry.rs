//! The platform registry's parts: what a platform registers ([`Registration`]), what the
//! command gives it to start ([`StartArgs`]) and what it hands back ([`Started`]). The list
//! itself is `emulator::PLATFORMS`, one line per platform (the core never names one).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

use super::directory::Directory;
use super::hosts::AllowedHosts;
use super::platform::PlatformSpec;

/// A boxed future, as a registration's `start` returns it.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a registration's `start` returns: the started platform, or why it could not start.
pub type Starting = BoxFuture<'static, anyhow::Result<Box<dyn Started>>>;

/// One platform the emulator knows: its facts and how to start it.
#[derive(Clone, Copy)]
pub struct Registration {
    /// Name, default address, state folder.
    pub spec: PlatformSpec,
    /// Starts the platform: state, listeners, serving in the background.
    pub start: fn(StartArgs) -> Starting,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

/// What the command gives a platform to start.
#[derive(Debug, Clone)]
pub struct StartArgs {
    /// The API's address (port 0 picks a free port).
    pub listen: String,
    /// The emulator's `--state-dir` (the platform's folder is `spec.state_dir(..)` of it).
    pub state_root: PathBuf,
    /// `Host` names every listener accepts (`--allow-host` added to the environment's).
    pub allowed_hosts: Vec<String>,
    /// The folders of every platform that has one under `--state-dir` (a platform whose
    /// folder is the state directory itself leaves them out of its state; `neighbours`).
    pub neighbours: Vec<&'static str>,
    /// Addresses of extra listeners by listening name (`comwit-apps` from
    /// `--apps-listen`); a platform uses its default for a name not given.
    pub extra_listen: BTreeMap<String, String>,
    /// The served platforms of this process, shared by all of them: each registers there
    /// when it serves (the console's listing and CORS, `super::directory`).
    pub directory: Directory,
}

impl StartArgs {
    /// The address of the extra listener `name`, or `default`.
    pub fn extra(&self, name: &str, default: &str) -> String {
        self.extra_listen
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }

    /// The other platforms' folders inside the folder of `spec`: every one when its folder
    /// is the state directory itself, else none.
    pub fn neighbours(&self, spec: &PlatformSpec) -> Vec<&'static str> {
        if spec.state_subdir.is_empty() {
            self.neighbours
                .iter()
                .copied()
                .filter(|s| *s != spec.state_subdir)
                .collect()
        } else {
            Vec::new()
        }
    }

    /// Adds the `--allow-host` names to `hosts`.
    pub fn extend_hosts(&self, hosts: &mut AllowedHosts) {
        hosts.extend(&self.allowed_hosts);
    }
}

/// A started platform as the command holds it.
pub trait Started: Send {
    /// Its listeners in the order their lines are printed, the API first:
    /// (listening name, URL).
    fn listening(&self) -> Vec<(String, String)>;

    /// Stops serving (open requests finish) and everything the platform runs.
    fn stop(self: Box<Self>) -> BoxFuture<'static, ()>;
}
