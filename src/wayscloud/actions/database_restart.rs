//! `action "wayscloud_database_restart"`: end every connection to a database (PostgreSQL
//! `pg_terminate_backend`, MariaDB `KILL CONNECTION`), then read the database's info until
//! it answers again (or `timeout`), reporting how many connections were ended and how many
//! there are now. Safe twice: a restart with no connection ends none.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{db_name, db_type, given};
use crate::plugin::kit::poll::Backoff;
use crate::plugin::kit::timeout::{self, Look, Unfinished};
use crate::plugin::{Action, Progress};
use crate::wayscloud::common::{api_error, check_database_ref};
use crate::wayscloud::provider::ProviderData;

pub const TYPE_NAME: &str = "wayscloud_database_restart";

/// How long an invocation waits by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How often it looks whether the database answers again: after half a second, then
/// twice as long each time, at most every 5 seconds.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    max: Duration::from_secs(5),
    factor: 2.0,
};

/// The `config` block.
#[derive(Debug, Default, Deserialize)]
pub struct RestartConfig<'a> {
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub timeout: ValueString<'a>,
}

/// Restarts a database's connections.
pub struct DatabaseRestart {
    data: Arc<ProviderData>,
}

impl DatabaseRestart {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[async_trait]
impl Action for DatabaseRestart {
    type Config<'a> = RestartConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Restarts a WaysCloud database: every connection to it is ended (clients \
                     reconnect), then the action waits until the database answers again and \
                     reports how many connections were ended. Nothing else changes.",
                ),
                attributes: map! {
                    "db_type" => db_type(),
                    "db_name" => db_name(),
                    "timeout" => timeout::attribute_with_default("2m", "for the database to answer again"),
                },
                ..Default::default()
            },
        })
    }

    /// Terraform validates an action's configuration only where it is used: `plan` checks
    /// it again, so a bad value is an error at plan time with `-invoke` too.
    async fn plan<'a>(&self, diags: &mut Diagnostics, config: RestartConfig<'a>) -> Option<()> {
        self.validate(diags, config).await
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: RestartConfig<'a>) -> Option<()> {
        check_database_ref(diags, &config.db_type, &config.db_name);
        timeout::check(diags, &config.timeout);
        Some(())
    }

    async fn invoke<'a>(
        &self,
        diags: &mut Diagnostics,
        config: RestartConfig<'a>,
        progress: &Progress,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let t = given(diags, &config.db_type, "db_type")?;
        let name = given(diags, &config.db_name, "db_name")?;
        let limit = timeout::of(&config.timeout, DEFAULT_TIMEOUT);
        let deadline = timeout::deadline(limit);
        let doing = format!("database `{name}` ({t}) to restart");

        progress
            .send(format!("restarting database {name} ({t})"))
            .await;
        let message = match timeout::within(progress, deadline, client.restart(&t, &name)).await {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => {
                api_error(diags, &e);
                return None;
            }
            Err(w) => {
                timeout::stopped(diags, w, &doing, limit);
                return None;
            }
        };
        if !message.is_empty() {
            progress.send(format!("WaysCloud: {message}")).await;
        }
        let answered = timeout::poll(progress, deadline, BACKOFF, || async {
            match client.info(&t, &name).await {
                Ok(info) => Ok(Look::Done(info)),
                // Not answering yet (a 5xx while it restarts): look again.
                Err(e) if e.is_ambiguous() => Ok(Look::not_yet(format!(
                    "waiting for database {name} to answer again"
                ))),
                Err(e) => Err(e),
            }
        })
        .await;
        match answered {
            Ok(info) => {
                let now = info
                    .connection_count
                    .map_or_else(|| "an unknown number of".to_owned(), |n| n.to_string());
                progress
                    .send(format!(
                        "database {name} answers again ({now} connections now)"
                    ))
                    .await;
                Some(())
            }
            Err(Unfinished::Failed(e)) => {
                api_error(diags, &e);
                None
            }
            Err(Unfinished::Stopped { wait: w, .. }) => {
                timeout::stopped(diags, w, &doing, limit);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::kit::known;
    use tf_provider::AttributePath;

    #[tokio::test]
    async fn engine_name_and_timeout_are_checked_on_their_attributes() {
        let action = DatabaseRestart::new(Arc::default());
        let mut diags = Diagnostics::default();
        let config = RestartConfig {
            db_type: known("oracle"),
            db_name: known("x y"),
            timeout: known("5"),
        };
        action.validate(&mut diags, config).await;
        let attrs: Vec<_> = diags.errors.iter().map(|d| d.attribute.clone()).collect();
        assert_eq!(
            attrs,
            ["db_type", "db_name", "timeout"].map(AttributePath::new),
            "{diags:?}"
        );
    }
}
