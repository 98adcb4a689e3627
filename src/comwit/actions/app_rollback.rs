//! `action "comwit_app_rollback"`: make a build of an app the one that serves (an earlier
//! or a later one). A build still `queued` or `building` is waited for (until `timeout`); a
//! `failed` one is refused naming its error. The API answers once the build serves; a
//! build that already serves is reported ("already serving"), not an error.
//!
//! `comwit_app_deployment.active_build_id` is the declarative form: a deployment managed
//! without it plans back to its own build at the next apply.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, AttributePath, Diagnostics};

use super::{given, required};
use crate::comwit::client::Build;
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::poll::Backoff;
use crate::plugin::kit::text;
use crate::plugin::kit::timeout::{self, Look, Unfinished};
use crate::plugin::{Action, Progress};

pub const TYPE_NAME: &str = "comwit_app_rollback";

/// How long an invocation waits by default (a build may still be building).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How often it reads a build still building: after a second, then twice as long each
/// time, at most every 5 seconds.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_secs(1),
    max: Duration::from_secs(5),
    factor: 2.0,
};

/// The `config` block.
#[derive(Debug, Default, Deserialize)]
pub struct RollbackConfig<'a> {
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub build_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub timeout: ValueString<'a>,
}

/// Rolls an app back (or forward) to one of its builds.
pub struct AppRollback {
    data: Arc<ProviderData>,
}

impl AppRollback {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[async_trait]
impl Action for AppRollback {
    type Config<'a> = RollbackConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Makes a build of a Comwit app the active one: the next request to any of \
                     the app's hostnames is served by it. Any `ready` build of the app may be \
                     named (an earlier or a later one); one still building is waited for; a \
                     `failed` one is refused. A build already serving is reported as such. \
                     `comwit_app_deployment.active_build_id` is the declarative form: a \
                     deployment managed without it plans back to its own build at the next \
                     apply.",
                ),
                attributes: map! {
                    "app_id" => required("The app's id (`app_...`)."),
                    "build_id" => required("The build to serve (`bld_...`), a build of that app."),
                    "timeout" => timeout::attribute_with_default("5m", "for the build to be ready and serve"),
                },
                ..Default::default()
            },
        })
    }

    /// Terraform validates an action's configuration only where it is used: `plan` checks
    /// it again, so a bad value is an error at plan time with `-invoke` too.
    async fn plan<'a>(&self, diags: &mut Diagnostics, config: RollbackConfig<'a>) -> Option<()> {
        self.validate(diags, config).await
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: RollbackConfig<'a>,
    ) -> Option<()> {
        if let Some(id) = text(&config.app_id) {
            check_id(diags, id, "app_", "app_id");
        }
        if let Some(id) = text(&config.build_id) {
            check_id(diags, id, "bld_", "build_id");
        }
        timeout::check(diags, &config.timeout);
        Some(())
    }

    async fn invoke<'a>(
        &self,
        diags: &mut Diagnostics,
        config: RollbackConfig<'a>,
        progress: &Progress,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let app_id = given(diags, &config.app_id, "app_id")?;
        let build_id = given(diags, &config.build_id, "build_id")?;
        let limit = timeout::of(&config.timeout, DEFAULT_TIMEOUT);
        let deadline = timeout::deadline(limit);
        let waiting = |status: &str| {
            format!("build `{build_id}` of app `{app_id}` to serve (last seen: {status})")
        };

        progress
            .send(format!("rolling app {app_id} back to build {build_id}"))
            .await;
        let app = match timeout::within(progress, deadline, client.get_app(&app_id)).await {
            Ok(Ok(app)) => app,
            Ok(Err(e)) => {
                api_error(diags, &e);
                return None;
            }
            Err(w) => {
                timeout::stopped(diags, w, &waiting("not read yet"), limit);
                return None;
            }
        };
        if app.active_build_id.as_deref() == Some(build_id.as_str()) {
            progress
                .send(format!(
                    "build {build_id} already serves app `{}`: nothing to do",
                    app.name
                ))
                .await;
            return Some(());
        }
        let previous = app.active_build_id.unwrap_or_else(|| "none".to_owned());

        // Wait for the build to be finished (a build made a moment ago may still build).
        let finished = timeout::poll(progress, deadline, BACKOFF, || async {
            client.get_build(&app_id, &build_id).await.map(|build| {
                if build.is_finished() {
                    Look::Done(build)
                } else {
                    Look::NotYet(
                        format!("waiting for build {build_id}: it is {}", build.status),
                        build.status,
                    )
                }
            })
        })
        .await;
        let build: Build = match finished {
            Ok(build) => build,
            Err(Unfinished::Failed(e)) => {
                api_error(diags, &e);
                return None;
            }
            Err(Unfinished::Stopped { wait, last }) => {
                let last = last.as_deref().unwrap_or("not read yet");
                timeout::stopped(diags, wait, &waiting(last), limit);
                return None;
            }
        };
        if !build.is_ready() {
            diags.error(
                "Build cannot serve",
                format!(
                    "Build `{build_id}` of app `{app_id}` is {}{}: only a ready build can be \
                     rolled back to. Name another build (the `comwit_app_builds` data source \
                     lists them).",
                    build.status,
                    build
                        .error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                ),
                AttributePath::new("build_id"),
            );
            return None;
        }
        progress
            .send(format!(
                "build {build_id} is ready; making it serve (serving now: {previous})"
            ))
            .await;
        match timeout::within(progress, deadline, client.rollback(&app_id, &build_id)).await {
            Ok(Ok(app)) => {
                progress
                    .send(format!(
                        "build {build_id} serves app `{}` (was {previous})",
                        app.name
                    ))
                    .await;
                Some(())
            }
            Ok(Err(e)) => {
                api_error(diags, &e);
                None
            }
            Err(w) => {
                timeout::stopped(diags, w, &waiting("ready"), limit);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::kit::known;

    #[tokio::test]
    async fn ids_and_timeout_are_checked_on_their_attributes() {
        let action = AppRollback::new(Arc::default());
        let mut diags = Diagnostics::default();
        let config = RollbackConfig {
            app_id: known("bld_1"),
            build_id: known("app_1"),
            timeout: known("0s"),
        };
        action.validate(&mut diags, config).await;
        let attrs: Vec<_> = diags.errors.iter().map(|d| d.attribute.clone()).collect();
        assert_eq!(
            attrs,
            ["app_id", "build_id", "timeout"].map(AttributePath::new),
            "{diags:?}"
        );
    }
}
