//! `action "comwit_database_suspend"` and `action "comwit_database_resume"`: suspend a
//! database once (it serves no SQL until resumed), or resume it. Safe twice: a database
//! already in the wanted state is reported ("already suspended"), not an error, and a 409
//! from a run racing another is read again. The API answers once the change is made; the
//! action then reads the database until it shows the wanted status (or `timeout`).
//!
//! `comwit_database.suspended` is the declarative form: suspending a database that a
//! configuration manages with `suspended = false` plans it back at the next apply.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{given, required};
use crate::comwit::client::{Database, DatabaseStatus};
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::poll::Backoff;
use crate::plugin::kit::text;
use crate::plugin::kit::timeout::{self, Look, Unfinished};
use crate::plugin::{Action, Progress};

/// The action type names.
pub const SUSPEND: &str = "comwit_database_suspend";
pub const RESUME: &str = "comwit_database_resume";

/// How long an invocation waits by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How often it reads the database until it shows the new status: after half a second,
/// then twice as long each time, at most every 5 seconds.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    max: Duration::from_secs(5),
    factor: 2.0,
};

/// Which way the action goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Suspend,
    Resume,
}

impl Direction {
    fn target(self) -> DatabaseStatus {
        match self {
            Direction::Suspend => DatabaseStatus::Suspended,
            Direction::Resume => DatabaseStatus::Active,
        }
    }
    fn doing(self) -> &'static str {
        match self {
            Direction::Suspend => "suspending",
            Direction::Resume => "resuming",
        }
    }
    fn done(self) -> &'static str {
        match self {
            Direction::Suspend => "suspended",
            Direction::Resume => "resumed (active)",
        }
    }
}

/// The `config` block of both actions.
#[derive(Debug, Default, Deserialize)]
pub struct DatabaseActionConfig<'a> {
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub timeout: ValueString<'a>,
}

/// Suspends or resumes a database.
pub struct DatabaseSuspend {
    data: Arc<ProviderData>,
    direction: Direction,
}

impl DatabaseSuspend {
    pub fn new(data: Arc<ProviderData>, direction: Direction) -> Self {
        Self { data, direction }
    }
}

fn described(db: &Database) -> String {
    format!("database `{}` ({})", db.name, db.database_id)
}

#[async_trait]
impl Action for DatabaseSuspend {
    type Config<'a> = DatabaseActionConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let what = match self.direction {
            Direction::Suspend => {
                "Suspends a Comwit database: it keeps its data and can still be read, rotated \
                 and deleted, but serves no SQL until resumed. A database already suspended \
                 is reported as such, not an error. `comwit_database.suspended` is the \
                 declarative form: a database managed with `suspended = false` is resumed \
                 by the next apply."
            }
            Direction::Resume => {
                "Resumes a suspended Comwit database: it serves SQL again. A database already \
                 active is reported as such, not an error. `comwit_database.suspended` is the \
                 declarative form: a database managed with `suspended = true` is suspended \
                 again by the next apply."
            }
        };
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(what),
                attributes: map! {
                    "database_id" => required("The database's id (`db_...`)."),
                    "timeout" => timeout::attribute_with_default("2m", "for the database to show the new status"),
                },
                ..Default::default()
            },
        })
    }

    /// Terraform validates an action's configuration only where it is used: `plan` checks
    /// it again, so a bad value is an error at plan time with `-invoke` too.
    async fn plan<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseActionConfig<'a>,
    ) -> Option<()> {
        self.validate(diags, config).await
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseActionConfig<'a>,
    ) -> Option<()> {
        if let Some(id) = text(&config.database_id) {
            check_id(diags, id, "db_", "database_id");
        }
        timeout::check(diags, &config.timeout);
        Some(())
    }

    async fn invoke<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseActionConfig<'a>,
        progress: &Progress,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let id = given(diags, &config.database_id, "database_id")?;
        let limit = timeout::of(&config.timeout, DEFAULT_TIMEOUT);
        let deadline = timeout::deadline(limit);
        let target = self.direction.target();
        let waiting = |last: &str| format!("database `{id}` to be {target} (last seen: {last})");

        progress
            .send(format!("{} database {id}", self.direction.doing()))
            .await;
        let db = match timeout::within(progress, deadline, client.get_database(&id)).await {
            Ok(Ok(db)) => db,
            Ok(Err(e)) => {
                api_error(diags, &e);
                return None;
            }
            Err(w) => {
                timeout::stopped(diags, w, &waiting("not read yet"), limit);
                return None;
            }
        };
        if db.status == target {
            progress
                .send(format!(
                    "{} is already {target}: nothing to do",
                    described(&db)
                ))
                .await;
            return Some(());
        }
        let call = match self.direction {
            Direction::Suspend => {
                timeout::within(progress, deadline, client.suspend_database(&id)).await
            }
            Direction::Resume => {
                timeout::within(progress, deadline, client.resume_database(&id)).await
            }
        };
        let before = db.status.clone();
        let answered = match call {
            Ok(Ok(db)) => db,
            // Another run (or a user) changed it in between: read what it is now.
            Ok(Err(e)) if e.is_conflict() => db,
            Ok(Err(e)) => {
                api_error(diags, &e);
                return None;
            }
            Err(w) => {
                timeout::stopped(diags, w, &waiting(db.status.as_str()), limit);
                return None;
            }
        };
        // The first look is the answer at hand; every later one reads the database again.
        let mut at_hand = Some(answered);
        let shown = timeout::poll(progress, deadline, BACKOFF, || {
            let known = at_hand.take();
            let (client, id, target) = (&client, &id, &target);
            async move {
                let db = match known {
                    Some(db) => db,
                    None => match client.get_database(id).await {
                        Ok(db) => db,
                        Err(e) => return Err(e),
                    },
                };
                Ok(if db.status == *target {
                    Look::Done(db)
                } else {
                    Look::NotYet(
                        format!(
                            "waiting for {} to be {target}: it is {}",
                            described(&db),
                            db.status
                        ),
                        db.status,
                    )
                })
            }
        })
        .await;
        match shown {
            Ok(db) => {
                progress
                    .send(format!("{} is {}", described(&db), self.direction.done()))
                    .await;
                Some(())
            }
            Err(Unfinished::Failed(e)) => {
                api_error(diags, &e);
                None
            }
            Err(Unfinished::Stopped { wait, last }) => {
                let last = last.as_ref().unwrap_or(&before);
                timeout::stopped(diags, wait, &waiting(last.as_str()), limit);
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
    async fn a_bad_id_or_timeout_is_an_error_on_its_attribute() {
        let action = DatabaseSuspend::new(Arc::default(), Direction::Suspend);
        let mut diags = Diagnostics::default();
        let config = DatabaseActionConfig {
            database_id: known("prj_1"),
            timeout: known("soon"),
        };
        action.validate(&mut diags, config).await;
        let attrs: Vec<_> = diags.errors.iter().map(|d| d.attribute.clone()).collect();
        assert_eq!(
            attrs,
            [
                tf_provider::AttributePath::new("database_id"),
                tf_provider::AttributePath::new("timeout")
            ],
            "{diags:?}"
        );
        let mut diags = Diagnostics::default();
        let unknown = DatabaseActionConfig::default();
        action.validate(&mut diags, unknown).await;
        assert!(diags.errors.is_empty(), "null and unknown are not set");
    }
}
