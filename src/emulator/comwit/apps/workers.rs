//! One worker slot per app: the worker process serving its active build, if any. A slot's
//! async lock orders what happens to an app's worker: activation (start the new worker,
//! commit, switch, stop the old one), the gateway's lazy start, and delete.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::node::Worker;

/// The worker of one app, and the build it serves.
#[derive(Debug, Default)]
pub struct Slot {
    pub running: Option<(String, Worker)>,
}

impl Slot {
    /// The port of the worker serving `build_id`, if it runs.
    pub fn port_for(&mut self, build_id: &str) -> Option<u16> {
        match &mut self.running {
            Some((serving, worker)) if serving == build_id => {
                worker.is_alive().then_some(worker.port)
            }
            _ => None,
        }
    }

    /// Puts `worker` in, returning the one it replaces.
    pub fn replace(&mut self, build_id: &str, worker: Worker) -> Option<Worker> {
        self.running
            .replace((build_id.to_owned(), worker))
            .map(|(_, w)| w)
    }

    /// Takes the worker out.
    pub fn take(&mut self) -> Option<Worker> {
        self.running.take().map(|(_, w)| w)
    }
}

/// Every app's slot.
#[derive(Debug, Default)]
pub struct Workers {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
}

/// What the admin inspection shows about a running worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    pub build_id: String,
    pub pid: Option<u32>,
    pub port: u16,
}

impl Workers {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::Mutex<Slot>>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The slot of an app (created empty on first use).
    pub fn slot(&self, app_id: &str) -> Arc<tokio::sync::Mutex<Slot>> {
        self.map().entry(app_id.to_owned()).or_default().clone()
    }

    /// The running workers by app id.
    pub async fn running(&self) -> HashMap<String, WorkerInfo> {
        let slots: Vec<(String, Arc<tokio::sync::Mutex<Slot>>)> = self
            .map()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut out = HashMap::new();
        for (app_id, slot) in slots {
            let mut slot = slot.lock().await;
            if let Some((build_id, worker)) = &mut slot.running {
                if worker.is_alive() {
                    out.insert(
                        app_id,
                        WorkerInfo {
                            build_id: build_id.clone(),
                            pid: worker.pid,
                            port: worker.port,
                        },
                    );
                }
            }
        }
        out
    }

    /// Stops every worker (at shutdown).
    pub async fn stop_all(&self) {
        let slots: Vec<Arc<tokio::sync::Mutex<Slot>>> = self.map().values().cloned().collect();
        for slot in slots {
            let worker = slot.lock().await.take();
            if let Some(worker) = worker {
                worker.stop().await;
            }
        }
    }
}
