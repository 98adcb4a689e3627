//! The contract's objects: App, Build, EnvVar (a sensitive value is always `null`).

use serde_json::{json, Value};

use super::super::store::{App, Build, EnvVar};
use super::Apps;

/// The App object.
pub fn app(apps: &Apps, app: &App) -> Value {
    json!({
        "app_id": app.app_id,
        "project_id": app.project_id,
        "name": app.name,
        "default_hostname": app.default_hostname,
        "default_url": apps.default_url(app),
        "active_build_id": app.active_build_id,
        "created_at": app.created_at,
        "updated_at": app.updated_at,
    })
}

/// The Build object; `active` when it is the app's active build.
pub fn build(build: &Build, active_build_id: Option<&str>) -> Value {
    json!({
        "build_id": build.build_id,
        "app_id": build.app_id,
        "artifact_sha256": build.artifact_sha256,
        "entry": build.entry,
        "activate": build.activate,
        "status": build.status,
        "active": active_build_id == Some(build.build_id.as_str()),
        "error": build.error,
        "created_at": build.created_at,
        "started_at": build.started_at,
        "finished_at": build.finished_at,
    })
}

/// The EnvVar object: `value` is `null` for a sensitive variable.
pub fn env_var(var: &EnvVar) -> Value {
    json!({
        "key": var.key,
        "value": var.public_value(),
        "sensitive": var.sensitive,
        "version": var.version,
        "updated_at": var.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_say_whether_they_are_active() {
        let b = Build {
            build_id: "bld_1".into(),
            app_id: "app_1".into(),
            artifact_sha256: "00".into(),
            entry: "index.mjs".into(),
            activate: true,
            status: "ready".into(),
            error: None,
            created_at: "t".into(),
            started_at: None,
            finished_at: None,
        };
        assert_eq!(build(&b, Some("bld_1"))["active"], true);
        assert_eq!(build(&b, Some("bld_2"))["active"], false);
        assert_eq!(build(&b, None)["active"], false);
    }
}
