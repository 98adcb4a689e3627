//! Apps: create, list, read and delete apps; upload artifacts; start, read and wait for
//! builds, and read their logs; roll back; read, set and delete environment variables
//! (`docs/api/comwit.md`, "Apps").

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::routes;
use super::{code, encode, Client, ExistingObject, Operation, Result, Secret};
use crate::client::FailureKind;
use crate::client::Request;

/// The longest `wait_seconds` one long poll of a build asks for (the contract allows 30):
/// below the per-attempt timeout's default margin, so a slow answer is not cut short.
pub const BUILD_POLL_MAX_WAIT: Duration = Duration::from_secs(25);

/// An app, as `GET /v1/apps/{app}` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct App {
    pub app_id: String,
    pub project_id: String,
    pub name: String,
    pub default_hostname: String,
    pub default_url: String,
    /// `None` until a build has become active.
    #[serde(default)]
    pub active_build_id: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// The body of `POST /v1/projects/{project}/apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAppRequest {
    /// The database name rule: 3 to 32 characters, lowercase letters, digits and `-`,
    /// starting with a letter and not ending with `-`; unique among the project's apps.
    pub name: String,
}

/// A stored artifact: `PUT /v1/projects/{project}/artifacts/{sha256}`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    pub sha256: String,
    pub size: u64,
}

/// A build of an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Build {
    pub build_id: String,
    pub app_id: String,
    pub artifact_sha256: String,
    pub entry: String,
    /// `queued`, `building`, `ready` or `failed` (any other value is kept as it came).
    pub status: String,
    #[serde(default)]
    pub active: bool,
    /// A one-line summary when `failed`.
    #[serde(default)]
    pub error: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
}

impl Build {
    /// `ready`: the build serves (or can, by rollback).
    pub fn is_ready(&self) -> bool {
        self.status == "ready"
    }

    /// `ready` or `failed`: the build will not change any more.
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "ready" | "failed")
    }
}

/// The body of `POST /v1/apps/{app}/builds`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateBuildRequest {
    pub artifact_sha256: String,
    pub entry: String,
    /// Make the build the active one once it is ready.
    pub activate: bool,
}

/// A build's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildLog {
    pub build_id: String,
    pub log: String,
    #[serde(default)]
    pub truncated: bool,
}

/// An environment variable as the API answers it: `value` is `None` for a sensitive one
/// (no route ever answers a sensitive value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub sensitive: bool,
    /// 1 at the first write, one more at every write of that key.
    pub version: u64,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A value to write into an app's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvValue {
    Plain(String),
    /// Write-only on the platform; learned by the client's redactor before it is sent.
    Sensitive(Secret),
}

#[derive(Serialize)]
struct EnvWrite<'a> {
    value: &'a str,
    sensitive: bool,
}

#[derive(Deserialize)]
struct AppList {
    apps: Vec<App>,
}

#[derive(Deserialize)]
struct BuildList {
    builds: Vec<Build>,
}

#[derive(Deserialize)]
struct EnvList {
    env: Vec<EnvVar>,
}

impl Client {
    /// `GET /v1/projects/{project}/apps` (`app:read`).
    pub async fn list_apps(&self, project_id: &str) -> Result<Vec<App>> {
        let op = Operation::on_project(&routes::LIST_APPS, project_id);
        let list: AppList = self.call(op, None, None).await?;
        Ok(list.apps)
    }

    /// `POST /v1/projects/{project}/apps` (`app:write`), with the databases' create
    /// recovery ([`Client::create_named`]): one `Idempotency-Key` on every attempt and
    /// repeat; a create left unsettled or a taken name names the app of that name.
    pub async fn create_app(&self, project_id: &str, request: &CreateAppRequest) -> Result<App> {
        let op = Operation::on_project(&routes::CREATE_APP, project_id)
            .with_app_name(request.name.clone());
        let body = encode(&op, request)?;
        self.create_named(op, body, || self.existing_app(project_id, &request.name))
            .await
    }

    /// The app named `name` in the project, if the API can say now.
    async fn existing_app(&self, project_id: &str, name: &str) -> Option<ExistingObject> {
        if self.cancel_token().is_cancelled() {
            return None;
        }
        let list = self.list_apps(project_id).await.ok()?;
        list.into_iter()
            .find(|app| app.name == name)
            .map(|app| ExistingObject {
                id: app.app_id,
                created_at: app.created_at,
            })
    }

    /// `GET /v1/apps/{app}` (`app:read`).
    pub async fn get_app(&self, app_id: &str) -> Result<App> {
        let op = Operation::on_app(&routes::GET_APP, app_id);
        self.call(op, None, None).await
    }

    /// `DELETE /v1/apps/{app}` (`app:write`): the app stops serving at once; its builds,
    /// env and artifact references go with it. A missing app is `NotFound`.
    pub async fn delete_app(&self, app_id: &str) -> Result<()> {
        let op = Operation::on_app(&routes::DELETE_APP, app_id);
        self.call_no_content(op).await
    }

    /// `HEAD /v1/projects/{project}/artifacts/{sha256}` (`app:deploy`): whether the project
    /// holds that artifact. An answer to `HEAD` has no body, so any 404 means "not held"
    /// here (a wrong `api_url` then shows at the upload that follows, whose 404 has a body).
    /// For the same reason a 403 cannot say why: the caller has just read the app of this
    /// project, so it is the route's scope (`app:deploy`) the token lacks, and the error
    /// says so.
    pub async fn artifact_exists(&self, project_id: &str, sha256: &str) -> Result<bool> {
        let op = Operation::on_project(&routes::HEAD_ARTIFACT, project_id).with_sha256(sha256);
        match self.call_no_content(op).await {
            Ok(()) => Ok(true),
            Err(f) if f.status() == Some(404) => Ok(false),
            Err(mut f) => {
                let known = [
                    code::MISSING_SCOPE,
                    code::NOT_A_MEMBER,
                    code::PROTECTED_TENANT,
                ];
                if f.kind() == FailureKind::Forbidden
                    && !f.code().is_some_and(|c| known.contains(&c))
                {
                    f.code = Some(code::MISSING_SCOPE.to_owned());
                }
                Err(f)
            }
        }
    }

    /// `PUT /v1/projects/{project}/artifacts/{sha256}` (`app:deploy`): uploads a tar
    /// archive under its SHA-256 (201, or 200 when it was already held).
    pub async fn put_artifact(
        &self,
        project_id: &str,
        sha256: &str,
        archive: Vec<u8>,
    ) -> Result<Artifact> {
        let op = Operation::on_project(&routes::PUT_ARTIFACT, project_id).with_sha256(sha256);
        let request = Request {
            body: Some(archive),
            content_type: Some("application/x-tar"),
            ..Request::default()
        };
        self.call_with(op, request).await
    }

    /// `POST /v1/apps/{app}/builds` (`app:deploy`): 202 with the queued build (200 for a
    /// replay). One `Idempotency-Key` on every attempt, and repeats while the outcome is
    /// unknown, so a lost answer never starts a second build.
    pub async fn create_build(&self, app_id: &str, request: &CreateBuildRequest) -> Result<Build> {
        let op = Operation::on_app(&routes::CREATE_BUILD, app_id)
            .with_sha256(request.artifact_sha256.clone());
        let body = encode(&op, request)?;
        self.create_keyed(op, body).await
    }

    /// `GET /v1/apps/{app}/builds` (`app:read`), newest first.
    pub async fn list_builds(&self, app_id: &str) -> Result<Vec<Build>> {
        let op = Operation::on_app(&routes::LIST_BUILDS, app_id);
        let list: BuildList = self.call(op, None, None).await?;
        Ok(list.builds)
    }

    /// `GET /v1/apps/{app}/builds/{build}` (`app:read`).
    pub async fn get_build(&self, app_id: &str, build_id: &str) -> Result<Build> {
        self.poll_build(app_id, build_id, Duration::ZERO).await
    }

    /// `GET /v1/apps/{app}/builds/{build}?wait_seconds=N` (`app:read`): a long poll that
    /// answers as soon as the build is `ready` (and live) or `failed`, or after `wait`
    /// (whole seconds, at most [`BUILD_POLL_MAX_WAIT`]) with its current state.
    pub async fn poll_build(&self, app_id: &str, build_id: &str, wait: Duration) -> Result<Build> {
        let op = Operation::on_app(&routes::GET_BUILD, app_id).with_build(build_id);
        let wait = wait.min(BUILD_POLL_MAX_WAIT);
        let secs = wait.as_secs();
        let request = Request {
            query: if secs == 0 {
                Vec::new()
            } else {
                vec![("wait_seconds", secs.to_string())]
            },
            extra_timeout: Duration::from_secs(secs),
            ..Request::default()
        };
        self.call_with(op, request).await
    }

    /// Long-polls the build until it is `ready` or `failed`, or `timeout` has passed
    /// (then the build as last seen, still `queued` or `building`). It returns as soon as
    /// the API answers that the build finished: there is no sleep between polls.
    pub async fn wait_for_build(
        &self,
        app_id: &str,
        build_id: &str,
        timeout: Duration,
    ) -> Result<Build> {
        // A timeout too long for the clock waits "forever" (a year), never panics.
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .unwrap_or_else(|| now + Duration::from_secs(366 * 86_400));
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // Whole seconds; the last poll may overrun the timeout by under a second.
            let wait = Duration::from_secs(left.as_secs_f64().ceil() as u64);
            let build = self.poll_build(app_id, build_id, wait).await?;
            if build.is_finished() || Instant::now() >= deadline {
                return Ok(build);
            }
            if self.cancel_token().is_cancelled() {
                return Err(super::ApiFailure::new(
                    Operation::on_app(&routes::GET_BUILD, app_id).with_build(build_id),
                    FailureKind::Cancelled,
                    "",
                ));
            }
        }
    }

    /// `GET /v1/apps/{app}/builds/{build}/log` (`app:read`); `tail_lines` (1 to 1000) asks
    /// for the last lines only.
    pub async fn build_log(
        &self,
        app_id: &str,
        build_id: &str,
        tail_lines: Option<u32>,
    ) -> Result<BuildLog> {
        let op = Operation::on_app(&routes::GET_BUILD_LOG, app_id).with_build(build_id);
        let request = Request {
            query: tail_lines
                .map(|n| vec![("tail_lines", n.clamp(1, 1000).to_string())])
                .unwrap_or_default(),
            ..Request::default()
        };
        self.call_with(op, request).await
    }

    /// `POST /v1/apps/{app}/rollback` (`app:deploy`): makes a `ready` build the active one;
    /// the answer (the app) comes once it serves. 409 when the build is not ready.
    pub async fn rollback(&self, app_id: &str, build_id: &str) -> Result<App> {
        let op = Operation::on_app(&routes::ROLLBACK_APP, app_id).with_build(build_id);
        let body = encode(&op, &serde_json::json!({ "build_id": build_id }))?;
        self.call(op, Some(body), None).await
    }

    /// `GET /v1/apps/{app}/env` (`app:read`), ordered by key.
    pub async fn get_env(&self, app_id: &str) -> Result<Vec<EnvVar>> {
        let op = Operation::on_app(&routes::GET_APP_ENV, app_id);
        let list: EnvList = self.call(op, None, None).await?;
        Ok(list.env)
    }

    /// `PUT /v1/apps/{app}/env/{key}` (`app:write`): the running build sees the value
    /// before the answer is sent. A sensitive value is learned by the redactor first.
    pub async fn put_env(&self, app_id: &str, key: &str, value: &EnvValue) -> Result<EnvVar> {
        let op = Operation::on_app(&routes::PUT_APP_ENV, app_id).with_env_key(key);
        let write = match value {
            EnvValue::Plain(value) => EnvWrite {
                value,
                sensitive: false,
            },
            EnvValue::Sensitive(secret) => {
                self.learn(secret);
                EnvWrite {
                    value: secret.expose(),
                    sensitive: true,
                }
            }
        };
        let body = encode(&op, &write)?;
        self.call(op, Some(body), None).await
    }

    /// `DELETE /v1/apps/{app}/env/{key}` (`app:write`); an unknown key is `NotFound`.
    pub async fn delete_env(&self, app_id: &str, key: &str) -> Result<()> {
        let op = Operation::on_app(&routes::DELETE_APP_ENV, app_id).with_env_key(key);
        self.call_no_content(op).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{test_client, test_client_with, TEST_TOKEN};
    use super::*;
    use crate::client::testutil::{Canned, Mock};
    use crate::comwit::client::Detail;

    const APP: &str = "app_5c2e9a1b00112233";
    const BLD: &str = "bld_0a1b2c3d4e5f6071";
    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn app_json() -> String {
        serde_json::json!({
            "app_id": APP, "project_id": "prj_local", "name": "web",
            "default_hostname": "web-5c2e9a1b.apps.comwit.app",
            "default_url": "https://web-5c2e9a1b.apps.comwit.app/",
            "active_build_id": null,
            "created_at": "2026-11-23T19:00:00Z", "updated_at": "2026-11-23T19:00:00Z"
        })
        .to_string()
    }

    fn build_json(status: &str) -> String {
        serde_json::json!({
            "build_id": BLD, "app_id": APP, "artifact_sha256": SHA, "entry": "index.mjs",
            "status": status, "active": status == "ready",
            "error": if status == "failed" { serde_json::json!("SyntaxError in index.mjs") } else { serde_json::Value::Null },
            "created_at": "2026-11-23T19:00:00Z", "started_at": null, "finished_at": null
        })
        .to_string()
    }

    #[tokio::test]
    async fn apps_list_get_and_delete() {
        let mock = Mock::start(vec![
            Canned::json(200, &format!("{{\"apps\": [{}]}}", app_json())),
            Canned::json(200, &app_json()),
            Canned::empty(204),
            Canned::json(404, include_str!("fixtures/error_not_found.json")),
        ])
        .await;
        let client = test_client(&mock.base);
        let apps = client.list_apps("prj_local").await.unwrap();
        assert_eq!(apps[0].name, "web");
        assert_eq!(apps[0].active_build_id, None);
        let app = client.get_app(APP).await.unwrap();
        assert_eq!(app.default_hostname, "web-5c2e9a1b.apps.comwit.app");
        client.delete_app(APP).await.unwrap();
        let gone = client.get_app(APP).await.unwrap_err();
        assert!(gone.is_not_found());
        assert!(gone
            .to_string()
            .contains(&format!("app `{APP}` does not exist")));
        let calls = mock.calls();
        let routes: Vec<_> = calls
            .iter()
            .map(|c| format!("{} {}", c.method, c.path))
            .collect();
        assert_eq!(
            routes,
            [
                "GET /v1/projects/prj_local/apps".to_owned(),
                format!("GET /v1/apps/{APP}"),
                format!("DELETE /v1/apps/{APP}"),
                format!("GET /v1/apps/{APP}"),
            ]
        );
    }

    #[tokio::test]
    async fn create_app_is_keyed_and_recovers_a_lost_answer() {
        let mock = Mock::start(vec![
            Canned::abort_body(201),
            Canned::json(200, &app_json()),
        ])
        .await;
        let app = test_client(&mock.base)
            .create_app("prj_local", &CreateAppRequest { name: "web".into() })
            .await
            .unwrap();
        assert_eq!(app.app_id, APP);
        let calls = mock.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].json(), serde_json::json!({"name": "web"}));
        let key = calls[0].header("idempotency-key").unwrap();
        assert_eq!(calls[1].header("idempotency-key"), Some(key));
    }

    #[tokio::test]
    async fn a_taken_app_name_names_the_app_and_the_import_command() {
        let mock = Mock::start(vec![
            Canned::json(
                409,
                "{\"error\":{\"code\":\"conflict\",\"message\":\"an app named web exists\"}}",
            ),
            Canned::json(200, &format!("{{\"apps\": [{}]}}", app_json())),
        ])
        .await;
        let failure = test_client(&mock.base)
            .create_app("prj_local", &CreateAppRequest { name: "web".into() })
            .await
            .unwrap_err();
        assert!(matches!(
            failure.detail,
            Detail::NameTaken {
                existing: Some(ref e),
            } if e.id == APP
        ));
        // The facts; the import command is the provider side's (`comwit::common`).
        let text = failure.to_string();
        assert!(
            text.starts_with("Could not create app `web` in project `prj_local`"),
            "{text}"
        );
        assert!(text.contains(&format!("`{APP}`")), "{text}");
        assert!(!text.contains("token_version"), "{text}");
    }

    #[tokio::test]
    async fn an_unsettled_app_create_says_so_with_the_app_noun() {
        let internal = || Canned::json(500, include_str!("fixtures/error_internal.json"));
        let mut script: Vec<Canned> = (0..9).map(|_| internal()).collect();
        script.push(Canned::json(200, "{\"apps\": []}"));
        let mock = Mock::start(script).await;
        let failure = test_client(&mock.base)
            .create_app("prj_local", &CreateAppRequest { name: "web".into() })
            .await
            .unwrap_err();
        assert!(matches!(
            failure.detail,
            Detail::CreateUnresolved { existing: None, .. }
        ));
        let text = failure.to_string();
        assert!(
            text.contains("whether the create took effect is unknown"),
            "{text}"
        );
        let posts: Vec<_> = mock
            .calls()
            .into_iter()
            .filter(|c| c.method == "POST")
            .collect();
        assert_eq!(posts.len(), 9);
        let key = posts[0].header("idempotency-key");
        assert!(posts.iter().all(|c| c.header("idempotency-key") == key));
    }

    #[tokio::test]
    async fn artifacts_head_then_put_as_tar() {
        let mock = Mock::start(vec![
            Canned::empty(404),
            Canned::json(201, &format!("{{\"sha256\": \"{SHA}\", \"size\": 3}}")),
            Canned::empty(200),
        ])
        .await;
        let client = test_client(&mock.base);
        assert!(!client.artifact_exists("prj_local", SHA).await.unwrap());
        let stored = client
            .put_artifact("prj_local", SHA, b"tar".to_vec())
            .await
            .unwrap();
        assert_eq!(stored.size, 3);
        assert!(client.artifact_exists("prj_local", SHA).await.unwrap());
        let calls = mock.calls();
        assert_eq!(calls[0].method, "HEAD");
        assert_eq!(
            calls[0].path,
            format!("/v1/projects/prj_local/artifacts/{SHA}")
        );
        assert_eq!(calls[1].method, "PUT");
        assert_eq!(
            calls[1].header("content-type").as_deref(),
            Some("application/x-tar")
        );
        assert_eq!(calls[1].body, b"tar");
        assert_eq!(calls.len(), 3, "a 404 of HEAD is an answer, not retried");
    }

    #[tokio::test]
    async fn artifact_put_is_repeated_after_a_503_with_the_same_bytes() {
        let mock = Mock::start(vec![
            Canned::json(503, include_str!("fixtures/error_unavailable.json")),
            Canned::json(200, &format!("{{\"sha256\": \"{SHA}\", \"size\": 3}}")),
        ])
        .await;
        test_client(&mock.base)
            .put_artifact("prj_local", SHA, b"tar".to_vec())
            .await
            .unwrap();
        let calls = mock.calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].body, calls[1].body);
    }

    #[tokio::test]
    async fn builds_are_created_with_a_key_and_long_polled() {
        let mock = Mock::start(vec![
            Canned::json(503, include_str!("fixtures/error_unavailable.json")),
            Canned::json(202, &build_json("queued")),
            Canned::json(200, &build_json("building")),
            Canned::json(200, &build_json("ready")),
        ])
        .await;
        let client = test_client(&mock.base);
        let request = CreateBuildRequest {
            artifact_sha256: SHA.into(),
            entry: "index.mjs".into(),
            activate: true,
        };
        let build = client.create_build(APP, &request).await.unwrap();
        assert_eq!(build.status, "queued");
        let build = client
            .wait_for_build(APP, BLD, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(build.is_ready() && build.active);
        let calls = mock.calls();
        assert_eq!(calls.len(), 4);
        assert_eq!(
            calls[0].json(),
            serde_json::json!({"artifact_sha256": SHA, "entry": "index.mjs", "activate": true})
        );
        assert!(calls[0].header("idempotency-key").is_some());
        assert_eq!(
            calls[0].header("idempotency-key"),
            calls[1].header("idempotency-key")
        );
        assert_eq!(calls[2].path, format!("/v1/apps/{APP}/builds/{BLD}"));
        assert_eq!(calls[2].query.as_deref(), Some("wait_seconds=25"));
    }

    #[tokio::test]
    async fn a_long_poll_is_not_cut_by_the_per_attempt_timeout() {
        // The answer takes longer than the client's per-attempt timeout, but not longer
        // than that plus the wait it asked for.
        let mock = Mock::start(vec![
            Canned::json(200, &build_json("ready")).delayed(Duration::from_millis(1500))
        ])
        .await;
        let client = test_client_with(&mock.base, |c| {
            c.timeout = Duration::from_secs(1);
            c.max_retries = 0;
        });
        let build = client
            .poll_build(APP, BLD, Duration::from_secs(2))
            .await
            .unwrap();
        assert!(build.is_ready());
        assert_eq!(mock.calls()[0].query.as_deref(), Some("wait_seconds=2"));
    }

    #[tokio::test]
    async fn waiting_never_sleeps_between_polls() {
        // Each poll answers at once (as a long poll does when the build moves on): the wait
        // ends as soon as the answer says ready, with no sleep in between.
        let mock = Mock::start(vec![
            Canned::json(200, &build_json("queued")),
            Canned::json(200, &build_json("building")),
            Canned::json(200, &build_json("ready")),
        ])
        .await;
        let client = test_client(&mock.base);
        let started = Instant::now();
        // Duration::MAX: a timeout no clock can add, which must not panic.
        let build = client
            .wait_for_build(APP, BLD, Duration::MAX)
            .await
            .unwrap();
        assert!(build.is_ready());
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(mock.calls().len(), 3);
    }

    #[tokio::test]
    async fn waiting_stops_at_the_timeout_with_the_build_as_last_seen() {
        let mock = Mock::start(vec![Canned::json(200, &build_json("building"))]).await;
        let client = test_client(&mock.base);
        let build = client
            .wait_for_build(APP, BLD, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(build.status, "building");
        assert_eq!(mock.calls().len(), 1);
        assert_eq!(mock.calls()[0].query, None, "no wait left: a plain read");
    }

    #[tokio::test]
    async fn build_list_log_and_rollback() {
        let mock = Mock::start(vec![
            Canned::json(200, &format!("{{\"builds\": [{}]}}", build_json("failed"))),
            Canned::json(
                200,
                &format!("{{\"build_id\": \"{BLD}\", \"log\": \"line 1\\nline 2\\n\", \"truncated\": false}}"),
            ),
            Canned::json(200, &app_json()),
            Canned::json(
                409,
                "{\"error\":{\"code\":\"build_not_ready\",\"message\":\"build is failed\"}}",
            ),
        ])
        .await;
        let client = test_client(&mock.base);
        let builds = client.list_builds(APP).await.unwrap();
        assert_eq!(builds[0].error.as_deref(), Some("SyntaxError in index.mjs"));
        assert!(builds[0].is_finished() && !builds[0].is_ready());
        let log = client.build_log(APP, BLD, Some(30)).await.unwrap();
        assert_eq!(log.log, "line 1\nline 2\n");
        client.rollback(APP, BLD).await.unwrap();
        let refused = client.rollback(APP, BLD).await.unwrap_err();
        assert_eq!(refused.detail, Detail::None);
        assert!(refused.is_conflict() && refused.op.is(&routes::ROLLBACK_APP));
        let calls = mock.calls();
        assert_eq!(calls[1].path, format!("/v1/apps/{APP}/builds/{BLD}/log"));
        assert_eq!(calls[1].query.as_deref(), Some("tail_lines=30"));
        assert_eq!(calls[2].method, "POST");
        assert_eq!(calls[2].path, format!("/v1/apps/{APP}/rollback"));
        assert_eq!(calls[2].json(), serde_json::json!({"build_id": BLD}));
        assert!(calls[2].header("idempotency-key").is_none());
    }

    #[tokio::test]
    async fn rollback_is_repeated_after_a_503() {
        let mock = Mock::start(vec![
            Canned::json(503, include_str!("fixtures/error_unavailable.json")),
            Canned::json(200, &app_json()),
        ])
        .await;
        test_client(&mock.base).rollback(APP, BLD).await.unwrap();
        assert_eq!(mock.calls().len(), 2);
    }

    #[tokio::test]
    async fn env_get_put_and_delete_and_secrets_are_learned() {
        let secret = "s3cr3t-value-never-shown";
        let mock = Mock::start(vec![
            Canned::json(
                200,
                r#"{"env": [{"key": "NAME", "value": "world\n", "sensitive": false, "version": 2, "updated_at": "t"},
                            {"key": "TOKEN", "value": null, "sensitive": true, "version": 5, "updated_at": "t"}]}"#,
            ),
            Canned::json(
                200,
                r#"{"key": "TOKEN", "value": null, "sensitive": true, "version": 6, "updated_at": "t"}"#,
            ),
            Canned::json(
                422,
                &format!("{{\"error\":{{\"code\":\"validation\",\"message\":\"bad value {secret}\",\"field\":\"value\"}}}}"),
            ),
            Canned::empty(204),
        ])
        .await;
        let client = test_client(&mock.base);
        let env = client.get_env(APP).await.unwrap();
        assert_eq!(env[0].value.as_deref(), Some("world\n"));
        assert_eq!(env[1].value, None);
        assert_eq!(env[1].version, 5);
        let written = client
            .put_env(APP, "TOKEN", &EnvValue::Sensitive(Secret::new(secret)))
            .await
            .unwrap();
        assert_eq!(written.version, 6);
        let failure = client
            .put_env(APP, "TOKEN", &EnvValue::Sensitive(Secret::new(secret)))
            .await
            .unwrap_err();
        assert!(!failure.to_string().contains(secret), "{failure}");
        client.delete_env(APP, "NAME").await.unwrap();
        let calls = mock.calls();
        assert_eq!(calls[1].method, "PUT");
        assert_eq!(calls[1].path, format!("/v1/apps/{APP}/env/TOKEN"));
        assert_eq!(
            calls[1].json(),
            serde_json::json!({"value": secret, "sensitive": true})
        );
        assert_eq!(calls[3].method, "DELETE");
        assert_eq!(calls[3].path, format!("/v1/apps/{APP}/env/NAME"));
        assert_eq!(
            client
                .put_env(APP, "A", &EnvValue::Plain("x".into()))
                .await
                .map(|_| ())
                .unwrap_err()
                .status(),
            Some(500),
            "script exhausted"
        );
        assert_eq!(
            mock.calls()[4].json(),
            serde_json::json!({"value": "x", "sensitive": false})
        );
    }

    #[tokio::test]
    async fn a_missing_deploy_scope_is_named() {
        let mock = Mock::start(vec![Canned::json(
            403,
            r#"{"error": {"code": "forbidden", "message": "token lacks scope app:deploy", "required_scope": "app:deploy"}}"#,
        )])
        .await;
        let client = test_client(&mock.base);
        let request = CreateBuildRequest {
            artifact_sha256: SHA.into(),
            entry: "index.mjs".into(),
            activate: true,
        };
        let failure = client.create_build(APP, &request).await.unwrap_err();
        assert_eq!(
            (failure.kind(), failure.code()),
            (FailureKind::Forbidden, Some(code::MISSING_SCOPE))
        );
        let text = failure.to_string();
        assert!(text.contains("lacks scope `app:deploy`"), "{text}");
        assert!(!text.contains(TEST_TOKEN));
        assert_eq!(failure.summary(), "Error starting app build");
        assert_eq!(mock.calls().len(), 1, "a 403 is not retried");
    }

    #[tokio::test]
    async fn a_head_refused_without_a_body_names_the_deploy_scope() {
        let mock = Mock::start(vec![Canned::empty(403)]).await;
        let failure = test_client(&mock.base)
            .artifact_exists("prj_local", SHA)
            .await
            .unwrap_err();
        let text = failure.to_string();
        assert!(text.contains("this operation needs `app:deploy`"), "{text}");
    }

    #[tokio::test]
    async fn a_scope_missing_from_the_body_is_named_from_the_route() {
        let mock = Mock::start(vec![Canned::json(
            403,
            r#"{"error": {"code": "forbidden", "message": "forbidden"}}"#,
        )])
        .await;
        let failure = test_client(&mock.base)
            .rollback(APP, BLD)
            .await
            .unwrap_err();
        assert!(failure.to_string().contains("`app:deploy`"), "{failure}");
    }
}

/// An element of a list answer that is not an object of the expected shape (a `null`, a
/// missing field, a field of another type): how the user recognises it (its id or name
/// when it has one, else its place in the list) and why it could not be read. Lists skip
/// it with a warning instead of failing as a whole. The reason never quotes a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OddItem {
    pub name: String,
    pub reason: String,
}

/// Reads each element of a list answer on its own: the objects that read, and an
/// [`OddItem`] for each that does not, named by the first of `keys` it holds as a string.
pub(super) fn each<T: serde::de::DeserializeOwned>(
    items: Vec<serde_json::Value>,
    keys: &[&str],
) -> Vec<std::result::Result<T, OddItem>> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| one(i, item, keys))
        .collect()
}

/// Reads element `i` (from 0) of a list answer on its own (see [`each`]).
pub(super) fn one<T: serde::de::DeserializeOwned>(
    i: usize,
    item: serde_json::Value,
    keys: &[&str],
) -> std::result::Result<T, OddItem> {
    {
        {
            let name = keys
                .iter()
                .find_map(|k| item.get(*k).and_then(serde_json::Value::as_str))
                .filter(|s| !s.is_empty())
                .map_or_else(|| format!("element {} of the list", i + 1), str::to_owned);
            if !item.is_object() {
                let what = if item.is_null() {
                    "null"
                } else {
                    "not an object"
                };
                return Err(OddItem {
                    name,
                    reason: format!("the API answered an element that is {what}"),
                });
            }
            serde_json::from_value(item).map_err(|e| {
                let text = e.to_string();
                // serde's other messages quote the value; a missing field's names the field.
                let reason = match text.strip_prefix("missing field ") {
                    Some(field) => format!(
                        "the API answered it without the field {}",
                        field.split_whitespace().next().unwrap_or(field)
                    ),
                    None => "the API answered a field of it with a value of another type".into(),
                };
                OddItem { name, reason }
            })
        }
    }
}

#[derive(Deserialize)]
struct RawAppList {
    #[serde(default)]
    apps: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawEnvList {
    #[serde(default)]
    env: Vec<serde_json::Value>,
}

impl Client {
    /// `GET /v1/projects/{project}/apps` (`app:read`) for a listing: each app read on its
    /// own, so an odd one is an [`OddItem`] and the others are still listed.
    pub async fn list_apps_each(
        &self,
        project_id: &str,
    ) -> Result<Vec<std::result::Result<App, OddItem>>> {
        let op = Operation::on_project(&routes::LIST_APPS, project_id);
        let list: RawAppList = self.call(op, None, None).await?;
        Ok(each(list.apps, &["name", "app_id"]))
    }

    /// `GET /v1/apps/{app}/env` (`app:read`) for a listing: each variable read on its own.
    pub async fn get_env_each(
        &self,
        app_id: &str,
    ) -> Result<Vec<std::result::Result<EnvVar, OddItem>>> {
        let op = Operation::on_app(&routes::GET_APP_ENV, app_id);
        let list: RawEnvList = self.call(op, None, None).await?;
        Ok(each(list.env, &["key"]))
    }
}

#[cfg(test)]
mod each_tests {
    use super::*;

    #[test]
    fn odd_elements_are_named_and_never_quoted_and_the_rest_reads() {
        let items = serde_json::json!([
            {"key": "A", "value": "1", "sensitive": false, "version": 1},
            null,
            {"key": "B", "value": "x"},
            {"key": "C", "value": "hunter2", "version": "hunter2"},
            7,
        ]);
        let read: Vec<std::result::Result<EnvVar, OddItem>> =
            each(items.as_array().cloned().unwrap_or_default(), &["key"]);
        assert_eq!(read.len(), 5);
        assert_eq!(read[0].as_ref().map(|v| v.key.as_str()), Ok("A"));
        let odd: Vec<&OddItem> = read.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(odd.len(), 4);
        assert_eq!(odd[0].name, "element 2 of the list");
        assert!(odd[0].reason.contains("null"), "{:?}", odd[0]);
        assert_eq!(odd[1].name, "B");
        assert!(odd[1].reason.contains("`version`"), "{:?}", odd[1]);
        assert_eq!(odd[2].name, "C");
        assert!(!odd[2].reason.contains("hunter2"), "{:?}", odd[2]);
        assert!(odd[3].reason.contains("not an object"), "{:?}", odd[3]);
    }
}
