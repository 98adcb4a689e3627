//! `comwit_app_deployment`: a build of an app from a local directory or tar archive.
//!
//! - An update's plan without the source on disk warns and keeps the deployment's build,
//!   so a checkout without it can still destroy (a create needs it).
//! - At plan time the provider writes the deterministic archive of `source_dir` (see
//!   `comwit::bundle`) or reads `source_archive`, and plans its SHA-256 as
//!   `source_sha256`: changed code plans an in-place update that makes a new build;
//!   unchanged code plans nothing.
//! - Apply: `HEAD` the artifact, `PUT` it only when the project lacks it, `POST` a build
//!   with an `Idempotency-Key`, then long-poll the build until it is `ready` (and serves)
//!   or `failed`, or `timeout_seconds` pass. No sleeps: apply returns as soon as the API
//!   answers that the build finished.
//! - A failed build is an error that quotes the build's `error` and the tail of its log;
//!   the resource is saved with `status = "failed"` (a create's is then tainted), and the
//!   next plan makes a new build, so fixing the code and applying again succeeds.
//! - `active_build_id`: unset, the build from the source serves; set to another ready
//!   build of the app, that build serves (rollback, an in-place update); removing it again
//!   plans back to the source's build.
//! - Destroy removes the deployment from state only: builds live until the app is deleted,
//!   and the active build keeps serving.
//! - Import `app_id/build_id`, or by identity `{ app_id, build_id }`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueString};

use crate::plugin::kit::ValueNum;
use tf_provider::{map, AttributePath, Diagnostics, Resource};
use tracing::debug;

use crate::comwit::bundle::{self, Bundle};
use crate::comwit::client::{Build, Client, CreateBuildRequest};
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::failure::ClientFailure;
use crate::plugin::kit::{attribute, bounded, known, opt, text};
use crate::plugin::{IdentityAttribute, IdentitySpec};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_app_deployment";

/// The contract's default entry point.
pub const DEFAULT_ENTRY: &str = "index.mjs";
/// How long apply waits for a build by default, and the bounds of `timeout_seconds`.
pub const DEFAULT_TIMEOUT_SECONDS: i64 = 300;
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 1..=3600;
/// How many log lines a failed build's error quotes.
pub const FAILED_LOG_LINES: u32 = 30;

/// Identity `{ app_id, build_id }`; its import id is `app_id/build_id`.
pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "app_id",
                description: "App id (`app_...`).",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "build_id",
                description: "Build id (`bld_...`).",
                required_for_import: true,
            },
        ],
    }
}

/// The `comwit_app_deployment` resource.
pub struct AppDeploymentResource {
    data: Arc<ProviderData>,
}

impl AppDeploymentResource {
    /// A resource sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `comwit_app_deployment`; field names are the attribute names.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppDeploymentState<'a> {
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub source_dir: ValueString<'a>,
    #[serde(borrow, default)]
    pub source_archive: ValueString<'a>,
    #[serde(borrow, default)]
    pub entry: ValueString<'a>,
    #[serde(default)]
    pub timeout_seconds: ValueNum,
    #[serde(borrow, default)]
    pub source_sha256: ValueString<'a>,
    #[serde(borrow, default)]
    pub build_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub status: ValueString<'a>,
    #[serde(borrow, default)]
    pub active_build_id: ValueString<'a>,
}

/// Where the code comes from, when the configuration says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Dir(PathBuf),
    Archive(PathBuf),
}

impl Source {
    fn of(state: &AppDeploymentState<'_>) -> Option<Source> {
        match (text(&state.source_dir), text(&state.source_archive)) {
            (Some(dir), None) => Some(Source::Dir(PathBuf::from(dir))),
            (None, Some(archive)) => Some(Source::Archive(PathBuf::from(archive))),
            _ => None,
        }
    }

    fn attribute(&self) -> &'static str {
        match self {
            Source::Dir(_) => "source_dir",
            Source::Archive(_) => "source_archive",
        }
    }

    fn path(&self) -> &std::path::Path {
        match self {
            Source::Dir(p) | Source::Archive(p) => p,
        }
    }

    /// Whether the directory or archive is there (a plan of an update without it keeps the
    /// deployment's build).
    fn exists(&self) -> bool {
        self.path().exists()
    }

    /// The bundle, made on a blocking thread (the plugin's own thread never blocks).
    async fn bundle(&self, diags: &mut Diagnostics) -> Option<Bundle> {
        let source = self.clone();
        let made = tokio::task::spawn_blocking(move || match &source {
            Source::Dir(dir) => bundle::from_dir(dir),
            Source::Archive(path) => bundle::from_archive(path),
        })
        .await;
        match made {
            Ok(Ok(bundle)) => Some(bundle),
            Ok(Err(e)) => {
                diags.error(
                    "Cannot bundle the app's code",
                    format!("`{}`: {e}.", self.attribute()),
                    AttributePath::new(self.attribute()),
                );
                None
            }
            Err(e) => {
                diags.root_error(
                    "Cannot bundle the app's code",
                    format!("The bundling task failed: {e}. This is a bug in the provider."),
                );
                None
            }
        }
    }
}

/// Plan-time checks: exactly one source, the entry point, the timeout.
pub fn check(diags: &mut Diagnostics, config: &AppDeploymentState<'_>) {
    if let Some(id) = text(&config.app_id) {
        check_id(diags, id, "app_", "app_id");
    }
    match (&config.source_dir, &config.source_archive) {
        (Value::Null, Value::Null) => diags.error(
            "Missing source",
            "Set `source_dir` (a directory the provider archives) or `source_archive` (a tar \
             archive you made).",
            AttributePath::new("source_dir"),
        ),
        (Value::Value(_), Value::Value(_)) => diags.error(
            "Two sources",
            "Set only one of `source_dir` and `source_archive`.",
            AttributePath::new("source_archive"),
        ),
        _ => {}
    }
    if let Some(entry) = text(&config.entry) {
        let bad = entry.is_empty()
            || entry.chars().count() > 256
            || entry.starts_with('/')
            || entry.split('/').any(|part| part.is_empty() || part == "..");
        if bad {
            diags.error(
                "Invalid entry",
                format!(
                    "`entry` must be a relative path inside the bundle of 1 to 256 characters, \
                     such as `index.mjs` or `src/main.mjs` (no leading `/`, no `..`), got \
                     `{entry}`."
                ),
                AttributePath::new("entry"),
            );
        }
    }
    bounded(
        diags,
        &config.timeout_seconds,
        "timeout_seconds",
        TIMEOUT_RANGE,
        DEFAULT_TIMEOUT_SECONDS,
    );
    if let Some(build) = text(&config.active_build_id) {
        check_id(diags, build, "bld_", "active_build_id");
    }
}

/// What a plan decides for an existing deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// A new build is made (new code, a new entry, or the last build failed).
    pub rebuild: bool,
}

/// Fills the computed attributes of `planned` (its arguments are the configuration's;
/// `source_sha256` the fresh hash, or unknown) against the prior state, if any.
pub fn plan<'a>(
    prior: Option<&AppDeploymentState<'a>>,
    mut planned: AppDeploymentState<'a>,
    config: &AppDeploymentState<'a>,
) -> (AppDeploymentState<'a>, Decision) {
    if planned.entry.is_null() {
        planned.entry = known(DEFAULT_ENTRY);
    }
    if planned.timeout_seconds.is_null() {
        planned.timeout_seconds = Value::Value(DEFAULT_TIMEOUT_SECONDS.into());
    }
    let rebuild = match prior {
        None => true,
        Some(prior) => {
            planned.source_sha256.is_unknown()
                || planned.source_sha256 != prior.source_sha256
                || planned.entry != prior.entry
                || prior.status.as_deref_option() == Some("failed")
        }
    };
    match (prior, rebuild) {
        (Some(prior), false) => {
            planned.build_id = prior.build_id.clone();
            planned.status = prior.status.clone();
        }
        _ => {
            planned.build_id = Value::Unknown;
            planned.status = Value::Unknown;
        }
    }
    // Unset: the build from the source serves (a removed rollback plans back to it, so
    // the diff shows); set: that build serves.
    planned.active_build_id = match &config.active_build_id {
        Value::Null => planned.build_id.clone(),
        other => other.clone(),
    };
    (planned, Decision { rebuild })
}

#[async_trait]
impl Resource for AppDeploymentResource {
    type State<'a> = AppDeploymentState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A build of an app's code, from a local directory (`source_dir`, archived \
                     by the provider into a deterministic tar whose SHA-256 is planned as \
                     `source_sha256`) or a tar archive (`source_archive`). Changed code plans \
                     an in-place update that makes a new build; unchanged code plans nothing. \
                     Apply uploads the archive only when the project lacks it, starts a build \
                     and waits for it to be ready and serving. A failed build is an error \
                     showing the build's error and the tail of its log, and the next apply \
                     makes a new build. Set `active_build_id` to an earlier build of the app to \
                     roll back; remove it to serve the source's build again. Destroying it \
                     only removes it from state: builds live until the app is deleted, and the \
                     active build keeps serving.",
                ),
                attributes: map! {
                    "app_id" => attribute(String, Required,
                        "App (`app_...`) to deploy. Changing it replaces the deployment."),
                    "source_dir" => attribute(String, Optional,
                        "Directory with the app's files (for example `${path.module}/app`). \
                         Every regular file in it is deployed (hidden ones included); symlinks \
                         are refused. Exactly one of `source_dir` and `source_archive`."),
                    "source_archive" => attribute(String, Optional,
                        "Path of an uncompressed POSIX tar archive of the app's files, uploaded \
                         as it is (at most 32 MiB). Exactly one of `source_dir` and \
                         `source_archive`."),
                    "entry" => attribute(String, OptionalComputed,
                        "The ES module whose default export has `fetch(request, env)`, relative \
                         to the bundle's root. Default `index.mjs`. Changing it makes a new build."),
                    "timeout_seconds" => attribute(Number, OptionalComputed,
                        "How long apply waits for the build to be ready, 1 to 3600. Default 300."),
                    "source_sha256" => attribute(String, Computed,
                        "SHA-256 of the archive (the artifact's id), computed at plan time."),
                    "build_id" => attribute(String, Computed, "The build (`bld_...`) made from the source."),
                    "status" => attribute(String, Computed,
                        "The build's status: `queued`, `building`, `ready` or `failed`."),
                    "active_build_id" => attribute(String, OptionalComputed,
                        "The build that serves the app. Unset: the build from the source. Set it to \
                         an earlier ready build of the app to roll back (an in-place update); \
                         remove it to serve the source's build again."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: AppDeploymentState<'a>,
    ) -> Option<()> {
        check(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: AppDeploymentState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppDeploymentState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let app_id = text(&state.app_id)?.to_owned();
        let build_id = text(&state.build_id)?.to_owned();
        let build = match client.get_build(&app_id, &build_id).await {
            Ok(b) => b,
            Err(e) if e.is_not_found() => {
                debug!(app_id, build_id, "build (or its app) no longer exists");
                return None;
            }
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let app = match client.get_app(&app_id).await {
            Ok(a) => a,
            Err(e) if e.is_not_found() => return None,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let mut state = state;
        state.status = known(build.status);
        state.source_sha256 = known(build.artifact_sha256);
        state.entry = known(build.entry);
        state.active_build_id = opt(app.active_build_id);
        Some((state, private))
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        mut proposed: AppDeploymentState<'a>,
        config: AppDeploymentState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(AppDeploymentState<'a>, ValueEmpty)> {
        check(diags, &config);
        if !diags.errors.is_empty() {
            return None;
        }
        proposed.source_sha256 = planned_sha(diags, &config).await?;
        let (planned, _) = plan(None, proposed, &config);
        Some((planned, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AppDeploymentState<'a>,
        mut proposed: AppDeploymentState<'a>,
        config: AppDeploymentState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppDeploymentState<'a>, ValueEmpty, Vec<AttributePath>)> {
        check(diags, &config);
        if !diags.errors.is_empty() {
            return None;
        }
        proposed.source_sha256 = match Source::of(&config).filter(|s| !s.exists()) {
            // A checkout without the source (a job that only tears down, a deleted build
            // folder) must still plan, or it could not even destroy: the deployment keeps
            // its build, and an apply that needs the source says so.
            Some(missing) => {
                diags.warning(
                    "The app's source is not here",
                    format!(
                        "`{}` does not exist, so this plan cannot tell whether the code \
                         changed: the deployment keeps its current build. Apply with the \
                         source present to deploy it; `terraform destroy` does not need it.",
                        missing.path().display()
                    ),
                    AttributePath::new(missing.attribute()),
                );
                prior.source_sha256.clone()
            }
            None => planned_sha(diags, &config).await?,
        };
        // Proposed values of optional+computed attributes left unset are the prior ones;
        // the plan decides them from the configuration.
        proposed.entry = config.entry.clone();
        proposed.timeout_seconds = config.timeout_seconds.clone();
        if proposed.app_id != prior.app_id {
            let (planned, _) = plan(None, proposed, &config);
            return Some((planned, Value::Null, vec![AttributePath::new("app_id")]));
        }
        let (planned, _) = plan(Some(&prior), proposed, &config);
        Some((planned, Value::Null, vec![]))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: AppDeploymentState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: AppDeploymentState<'a>,
        config: AppDeploymentState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppDeploymentState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let state = deploy(diags, &client, planned, &config, None).await?;
        Some((state, Value::Null))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AppDeploymentState<'a>,
        planned: AppDeploymentState<'a>,
        config: AppDeploymentState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppDeploymentState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        if planned.build_id.is_unknown() {
            let state = deploy(diags, &client, planned, &config, Some(&prior)).await?;
            return Some((state, Value::Null));
        }
        // The same build: only which build serves may change.
        let mut state = planned;
        let app_id = text(&state.app_id)?.to_owned();
        let target = text(&state.active_build_id)?.to_owned();
        if prior.active_build_id.as_deref_option() != Some(target.as_str()) {
            if let Err(e) = client.rollback(&app_id, &target).await {
                api_error(diags, &e);
                return Some((prior, Value::Null));
            }
        }
        state.status = prior.status;
        Some((state, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: AppDeploymentState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        // There is no route to delete a build: builds are the history rollback uses and
        // live until the app is deleted, and the active build keeps serving.
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(AppDeploymentState<'a>, ValueEmpty)> {
        let parts = identity().parse_import_id(
            diags,
            &id,
            |_| true,
            "Import a deployment as `app_id/build_id`, for example `terraform import \
             comwit_app_deployment.web app_5c2e9a1b00112233/bld_0a1b2c3d4e5f6071`",
        )?;
        let &[app_id, build_id] = parts.as_slice() else {
            return None;
        };
        check_id(diags, app_id, "app_", "app_id");
        check_id(diags, build_id, "bld_", "build_id");
        if !diags.errors.is_empty() {
            return None;
        }
        let client = self.data.configured(diags)?.client;
        let build = match client.get_build(app_id, build_id).await {
            Ok(b) => b,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let app = match client.get_app(app_id).await {
            Ok(a) => a,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        diags.root_warning(
            "Source not imported",
            "The platform keeps the build's archive, not where it came from: set `source_dir` \
             or `source_archive` in the configuration. When the code there is the build's, \
             the next apply records the source without making a new build.",
        );
        Some((imported(build, app.active_build_id), Value::Null))
    }
}

/// The state an import gives: the build's, the app's serving build, no source (the
/// platform keeps the archive, not where it came from).
pub(crate) fn imported<'a>(
    build: Build,
    active_build_id: Option<String>,
) -> AppDeploymentState<'a> {
    AppDeploymentState {
        app_id: known(build.app_id),
        entry: known(build.entry),
        timeout_seconds: Value::Value(DEFAULT_TIMEOUT_SECONDS.into()),
        source_sha256: known(build.artifact_sha256),
        build_id: known(build.build_id),
        status: known(build.status),
        active_build_id: opt(active_build_id),
        ..Default::default()
    }
}

/// The hash of the configured source, or unknown while its path is unknown.
async fn planned_sha<'a>(
    diags: &mut Diagnostics,
    config: &AppDeploymentState<'_>,
) -> Option<ValueString<'a>> {
    let Some(source) = Source::of(config) else {
        return Some(Value::Unknown);
    };
    let bundle = source.bundle(diags).await?;
    if let (Source::Dir(_), Some(entry)) = (&source, text(&config.entry).or(Some(DEFAULT_ENTRY))) {
        if !bundle.paths.iter().any(|p| p == entry) {
            diags.error(
                "Entry point not found",
                format!(
                    "`{entry}` is not a file of `source_dir`; the build would fail. Add it, or \
                     set `entry` to the module whose default export has `fetch`."
                ),
                AttributePath::new("entry"),
            );
            return None;
        }
    }
    Some(known(bundle.sha256))
}

/// Uploads the source (when the project lacks it), starts a build and waits for it, then
/// makes the wanted build serve. Returns the state to save (also after a failed build,
/// with its status), or `None` when nothing was built.
async fn deploy<'a>(
    diags: &mut Diagnostics,
    client: &Client,
    planned: AppDeploymentState<'a>,
    config: &AppDeploymentState<'_>,
    prior: Option<&AppDeploymentState<'a>>,
) -> Option<AppDeploymentState<'a>> {
    let source = Source::of(config)?;
    let bundle = source.bundle(diags).await?;
    if let Some(planned_sha) = text(&planned.source_sha256) {
        if planned_sha != bundle.sha256 {
            diags.error(
                "The app's code changed after the plan",
                format!(
                    "The plan was made for code with SHA-256 `{planned_sha}`, but `{}` now gives \
                     `{}`. Run the plan again.",
                    source.attribute(),
                    bundle.sha256
                ),
                AttributePath::new(source.attribute()),
            );
            return None;
        }
    }
    let app_id = text(&planned.app_id)?.to_owned();
    let app = match client.get_app(&app_id).await {
        Ok(app) => app,
        Err(e) => {
            api_error(diags, &e);
            return None;
        }
    };
    let project = app.project_id.clone();
    let held = match client.artifact_exists(&project, &bundle.sha256).await {
        Ok(held) => held,
        Err(e) => {
            api_error(diags, &e);
            return None;
        }
    };
    if !held {
        if let Err(e) = client
            .put_artifact(&project, &bundle.sha256, bundle.bytes)
            .await
        {
            api_error(diags, &e);
            return None;
        }
    }
    let entry = text(&planned.entry).unwrap_or(DEFAULT_ENTRY).to_owned();
    let rollback_to = text(&config.active_build_id).map(str::to_owned);
    let request = CreateBuildRequest {
        artifact_sha256: bundle.sha256.clone(),
        entry,
        activate: rollback_to.is_none(),
    };
    let build = match client.create_build(&app_id, &request).await {
        Ok(b) => b,
        Err(e) => {
            api_error(diags, &e);
            return None;
        }
    };
    let timeout = planned
        .timeout_seconds
        .as_ref_option()
        .and_then(|n| n.whole())
        .unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    let waited = client
        .wait_for_build(
            &app_id,
            &build.build_id,
            Duration::from_secs(timeout.max(1) as u64),
        )
        .await;
    let build = match waited {
        Ok(b) => b,
        Err(e) => {
            api_error(diags, &e);
            // The build exists: keep it, as last seen.
            build
        }
    };
    let mut state = planned;
    state.source_sha256 = known(bundle.sha256);
    state.build_id = known(build.build_id.clone());
    state.status = known(build.status.clone());
    if !build.is_finished() {
        if diags.errors.is_empty() {
            diags.error(
                "App build did not finish in time",
                format!(
                    "Build `{}` of app `{app_id}` is still `{}` after {timeout} s. Raise \
                     `timeout_seconds`, or apply again later: the next refresh reads its status.",
                    build.build_id, build.status
                ),
                AttributePath::new("timeout_seconds"),
            );
        }
        state.active_build_id = opt(app.active_build_id);
        return Some(state);
    }
    if !build.is_ready() {
        build_failed(diags, client, &build, source.attribute()).await;
        // The previous active build keeps serving.
        state.active_build_id = opt(app
            .active_build_id
            .or_else(|| prior.and_then(|p| text(&p.active_build_id).map(str::to_owned))));
        return Some(state);
    }
    match rollback_to {
        None => state.active_build_id = known(build.build_id),
        Some(target) => {
            if app.active_build_id.as_deref() != Some(target.as_str()) {
                if let Err(e) = client.rollback(&app_id, &target).await {
                    api_error(diags, &e);
                    state.active_build_id = opt(app.active_build_id);
                    return Some(state);
                }
            }
            state.active_build_id = known(target);
        }
    }
    Some(state)
}

/// The error of a failed build: its one-line `error` and the tail of its log.
async fn build_failed(diags: &mut Diagnostics, client: &Client, build: &Build, attr: &'static str) {
    let log = match client
        .build_log(&build.app_id, &build.build_id, Some(FAILED_LOG_LINES))
        .await
    {
        Ok(log) => log.log,
        Err(e) => format!("(the log could not be read: {})", ClientFailure::detail(&e)),
    };
    let error = build.error.as_deref().unwrap_or("no error summary");
    diags.error(
        "App build failed",
        format!(
            "Build `{}` of app `{}` failed: {error}. The previous active build keeps serving. \
             Fix the code in `{attr}` and apply again (a new build is made).\n\nLast lines of \
             the build log:\n{}",
            build.build_id,
            build.app_id,
            log.trim_end()
        ),
        AttributePath::new(attr),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dir: &str) -> AppDeploymentState<'static> {
        AppDeploymentState {
            app_id: known("app_1"),
            source_dir: known(dir.to_owned()),
            ..Default::default()
        }
    }

    fn prior() -> AppDeploymentState<'static> {
        AppDeploymentState {
            app_id: known("app_1"),
            source_dir: known("./app"),
            entry: known(DEFAULT_ENTRY),
            timeout_seconds: Value::Value(DEFAULT_TIMEOUT_SECONDS.into()),
            source_sha256: known("aaa"),
            build_id: known("bld_2"),
            status: known("ready"),
            active_build_id: known("bld_2"),
            ..Default::default()
        }
    }

    fn proposed(sha: &str, cfg: &AppDeploymentState<'static>) -> AppDeploymentState<'static> {
        AppDeploymentState {
            source_sha256: known(sha.to_owned()),
            entry: cfg.entry.clone(),
            timeout_seconds: cfg.timeout_seconds.clone(),
            ..cfg.clone()
        }
    }

    #[test]
    fn unchanged_code_plans_nothing_and_changed_code_a_new_build() {
        let cfg = config("./app");
        let (planned, d) = plan(Some(&prior()), proposed("aaa", &cfg), &cfg);
        assert!(!d.rebuild);
        assert_eq!(planned, prior());
        let (planned, d) = plan(Some(&prior()), proposed("bbb", &cfg), &cfg);
        assert!(d.rebuild);
        assert!(planned.build_id.is_unknown() && planned.status.is_unknown());
        assert!(
            planned.active_build_id.is_unknown(),
            "the new build will serve"
        );
        assert_eq!(planned.source_sha256, known("bbb"));
    }

    #[test]
    fn a_rollback_is_an_update_and_removing_it_plans_back_to_the_source() {
        let mut cfg = config("./app");
        cfg.active_build_id = known("bld_1");
        let (planned, d) = plan(Some(&prior()), proposed("aaa", &cfg), &cfg);
        assert!(!d.rebuild, "a rollback makes no build");
        assert_eq!(planned.build_id, known("bld_2"));
        assert_eq!(planned.active_build_id, known("bld_1"));

        // Rolled back; then the line is removed from the configuration. Terraform proposes
        // the prior value of an optional+computed attribute: the plan must move it back.
        let mut rolled_back = prior();
        rolled_back.active_build_id = known("bld_1");
        let cfg = config("./app");
        let mut prop = proposed("aaa", &cfg);
        prop.active_build_id = known("bld_1");
        let (planned, d) = plan(Some(&rolled_back), prop, &cfg);
        assert!(!d.rebuild);
        assert_eq!(planned.active_build_id, known("bld_2"));
        assert_ne!(planned, rolled_back, "so the plan shows a diff");
    }

    #[test]
    fn a_failed_build_or_a_new_entry_builds_again() {
        let cfg = config("./app");
        let mut failed = prior();
        failed.status = known("failed");
        let (planned, d) = plan(Some(&failed), proposed("aaa", &cfg), &cfg);
        assert!(d.rebuild);
        assert!(planned.build_id.is_unknown());
        let mut cfg = config("./app");
        cfg.entry = known("main.mjs");
        let (_, d) = plan(Some(&prior()), proposed("aaa", &cfg), &cfg);
        assert!(d.rebuild);
    }

    #[test]
    fn defaults_are_planned() {
        let cfg = config("./app");
        let (planned, d) = plan(None, proposed("aaa", &cfg), &cfg);
        assert!(d.rebuild);
        assert_eq!(planned.entry, known(DEFAULT_ENTRY));
        assert_eq!(planned.timeout_seconds, Value::Value(300.into()));
    }

    fn errors(cfg: &AppDeploymentState<'_>) -> Vec<AttributePath> {
        let mut d = Diagnostics::default();
        check(&mut d, cfg);
        d.errors.iter().map(|e| e.attribute.clone()).collect()
    }

    #[test]
    fn exactly_one_source_and_a_relative_entry() {
        assert!(errors(&config("./app")).is_empty());
        let mut none = config("./app");
        none.source_dir = Value::Null;
        assert_eq!(errors(&none), [AttributePath::new("source_dir")]);
        let mut unknown = none.clone();
        unknown.source_archive = Value::Unknown;
        assert!(errors(&unknown).is_empty(), "unknown may still be set");
        let mut both = config("./app");
        both.source_archive = known("app.tar");
        assert_eq!(errors(&both), [AttributePath::new("source_archive")]);
        let long = "x".repeat(257);
        for bad in ["/index.mjs", "../x.mjs", "", "a//b.mjs", &long] {
            let mut cfg = config("./app");
            cfg.entry = known(bad);
            assert_eq!(errors(&cfg), [AttributePath::new("entry")], "{bad}");
        }
        let mut cfg = config("./app");
        cfg.timeout_seconds = Value::Value(0.into());
        assert_eq!(errors(&cfg), [AttributePath::new("timeout_seconds")]);
    }

    #[tokio::test]
    async fn the_plan_hashes_the_directory_and_checks_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.mjs"), "export default {};").unwrap();
        let cfg = config(dir.path().to_str().unwrap());
        let mut d = Diagnostics::default();
        let sha = planned_sha(&mut d, &cfg).await.expect("sha");
        assert_eq!(
            text(&sha),
            Some(bundle::from_dir(dir.path()).unwrap().sha256.as_str())
        );
        let mut cfg = cfg;
        cfg.entry = known("main.mjs");
        assert!(planned_sha(&mut d, &cfg).await.is_none());
        assert_eq!(d.errors[0].attribute, AttributePath::new("entry"));
        let missing = config("/nonexistent/app");
        let mut d = Diagnostics::default();
        assert!(planned_sha(&mut d, &missing).await.is_none());
        assert_eq!(d.errors[0].attribute, AttributePath::new("source_dir"));
        assert!(d.errors[0].detail.contains("/nonexistent/app"));
    }
}
