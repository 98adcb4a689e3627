//! A build, from `queued` to `ready` or `failed`: the artifact is unpacked into
//! `<state-dir>/apps/<app_id>/builds/<build_id>/`, the entry is loaded on Node.js (its
//! output is the log), and a build with `activate` becomes `ready` only once a worker
//! serves it and the gateway routes to it. An app's builds run one at a time, in order.

use std::sync::Arc;
use std::time::Instant;

use super::super::store::Build;
use super::{archive, Apps, BUILD_TIMEOUT};

impl Apps {
    /// Runs `build` in the background.
    pub fn spawn_build(self: &Arc<Self>, build: Build) {
        let apps = self.clone();
        tokio::spawn(async move {
            let build_id = build.build_id.clone();
            let app_id = build.app_id.clone();
            let (error, _log) = apps.run_build(&build).await;
            // An app deleted while its build ran leaves no folder behind.
            let id = app_id.clone();
            if let Ok(None) = apps.calls.run(move |s| s.get_app(&id)).await {
                let dir = apps.store.app_dir(&app_id);
                let _ = tokio::task::spawn_blocking(move || std::fs::remove_dir_all(dir)).await;
            }
            match &error {
                None => tracing::info!(%app_id, %build_id, "build ready"),
                Some(e) => tracing::info!(%app_id, %build_id, error = %e, "build failed"),
            }
            apps.notify_builds();
        });
    }

    /// Ends the build in the store as failed (when it was not ended yet); returns the error.
    async fn fail(&self, build: &Build, error: String, log: String) -> (Option<String>, String) {
        let (bid, e, l) = (build.build_id.clone(), error.clone(), log.clone());
        if let Err(err) = self
            .calls
            .run(move |s| s.finish_build(&bid, Some(&e), &l, false))
            .await
        {
            tracing::error!(build_id = %build.build_id, error = %err, "cannot record a failed build");
        }
        (Some(error), log)
    }

    /// The whole build; returns (error, log) as recorded.
    async fn run_build(&self, build: &Build) -> (Option<String>, String) {
        let lock = self.build_lock(&build.app_id);
        let _one_at_a_time = lock.lock().await;
        let started = Instant::now();
        let bid = build.build_id.clone();
        if let Err(e) = self.calls.run(move |s| s.start_build(&bid)).await {
            return self
                .fail(build, format!("cannot start the build: {e}"), String::new())
                .await;
        }
        let mut log = format!(
            "build {} of artifact {} (entry {})\n",
            build.build_id, build.artifact_sha256, build.entry
        );

        // Unpack (checked again: the artifact file is trusted only as far as it is read).
        let dir = self.store.build_dir(&build.app_id, &build.build_id);
        let artifact = self.store.artifact_file(&build.artifact_sha256);
        let target = dir.clone();
        let unpacked = tokio::task::spawn_blocking(move || -> Result<usize, String> {
            let bytes =
                std::fs::read(&artifact).map_err(|e| format!("cannot read the artifact: {e}"))?;
            let entries = archive::read(&bytes).map_err(|e| format!("invalid archive: {e}"))?;
            archive::unpack(&entries, &target).map_err(|e| format!("cannot unpack: {e}"))?;
            Ok(entries.len())
        })
        .await
        .unwrap_or_else(|e| Err(format!("unpack task failed: {e}")));
        match unpacked {
            Ok(n) => log.push_str(&format!("unpacked {n} entries\n")),
            Err(e) => {
                log.push_str(&format!("{e}\n"));
                return self.fail(build, e, log).await;
            }
        }

        // Check the entry on the runtime.
        let left = BUILD_TIMEOUT.saturating_sub(started.elapsed());
        let outcome = self.node.check(&dir, &build.entry, left).await;
        log.push_str(&outcome.log);
        if !log.ends_with('\n') {
            log.push('\n');
        }
        if let Some(error) = outcome.error {
            return self.fail(build, error, log).await;
        }

        if !build.activate {
            log.push_str("ready (not activated: make it active with a rollback)\n");
            let (bid, l) = (build.build_id.clone(), log.clone());
            if let Err(e) = self
                .calls
                .run(move |s| s.finish_build(&bid, None, &l, false))
                .await
            {
                return self.fail(build, e.to_string(), log).await;
            }
            return (None, log);
        }

        // Activate: the new worker serves before the build reads `ready`.
        log.push_str("ready: serving as the app's active build\n");
        let (bid, l) = (build.build_id.clone(), log.clone());
        match self
            .switch_to(&build.app_id, build, move |s| {
                s.finish_build(&bid, None, &l, true)
            })
            .await
        {
            Ok(_) => (None, log),
            Err(e) => {
                let removed = log.trim_end_matches("ready: serving as the app's active build\n");
                let log = format!("{removed}the worker did not start: {e}\n");
                self.fail(build, format!("the worker did not start: {e}"), log)
                    .await
            }
        }
    }
}
