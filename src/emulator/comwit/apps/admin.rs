//! `GET /_emulator/apps`: every app (deleted ones included) with its builds (and their
//! folders), env keys (a sensitive value never), its worker's pid (or null) and its folder;
//! and every artifact a project holds, with its file. So tests check that a destroy left
//! no app, build, folder or process behind.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::super::error::ApiError;
use super::super::extract::StoreCalls;
use super::super::AppState;
use super::{json, Apps};
use std::sync::Arc;

pub fn routes() -> Router<AppState> {
    Router::new().route("/_emulator/apps", get(list_apps))
}

async fn list_apps(
    State(apps): State<Arc<Apps>>,
    store: StoreCalls,
) -> Result<Json<Value>, ApiError> {
    let workers = apps.running_workers().await;
    store
        .run(move |store| {
            let mut out = Vec::new();
            for inspection in store.inspect_apps()? {
                let app = inspection.app;
                let builds: Vec<Value> = store
                    .inspect_builds(&app.app_id)?
                    .iter()
                    .map(|b| {
                        let folder = store.build_dir(&app.app_id, &b.build_id);
                        let mut v = json::build(b, app.active_build_id.as_deref());
                        v["folder"] = json!(folder.to_string_lossy());
                        v["folder_exists"] = json!(folder.exists());
                        v
                    })
                    .collect();
                let env: Vec<Value> = store
                    .list_env(&app.app_id)?
                    .iter()
                    .map(json::env_var)
                    .collect();
                let worker = workers.get(&app.app_id);
                let mut v = json::app(&apps, &app);
                v["deleted"] = json!(app.deleted_at.is_some());
                v["deleted_at"] = json!(app.deleted_at);
                v["builds"] = json!(builds);
                v["env"] = json!(env);
                v["worker_pid"] = json!(worker.and_then(|w| w.pid));
                v["worker_build_id"] = json!(worker.map(|w| w.build_id.clone()));
                v["worker_port"] = json!(worker.map(|w| w.port));
                v["folder"] = json!(inspection.folder.to_string_lossy());
                v["folder_exists"] = json!(inspection.folder_exists);
                out.push(v);
            }
            let artifacts: Vec<Value> = store
                .inspect_artifacts()?
                .into_iter()
                .map(|a| {
                    json!({
                        "project_id": a.project_id,
                        "sha256": a.sha256,
                        "size": a.size,
                        "created_at": a.created_at,
                        "file_path": a.file_path.to_string_lossy(),
                        "file_exists": a.file_exists,
                    })
                })
                .collect();
            Ok(Json(json!({ "apps": out, "artifacts": artifacts })))
        })
        .await
}
