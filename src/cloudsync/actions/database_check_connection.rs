//! `action "cloudsync_database_check_connection"`: run CloudSync's live check of a
//! database's stored connection (`GET /v1/databases/{id}/connection`) and report the
//! result. A failure CloudSync calls retryable (unreachable, paused) is checked again with
//! backoff until it passes or `timeout` ends; any other failure is an error at once, with
//! CloudSync's code and message and what to fix. Nothing is changed: the action is a gate
//! (in an `action_trigger`, a failed check fails the apply), and safe to run any number of
//! times. `data "cloudsync_database_connection"` is the same check as data, at every plan.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::given;
use crate::cloudsync::client::ConnectionFailure;
use crate::cloudsync::common::{api_error, check_database_id, tenant_remedy, tenant_summary};
use crate::cloudsync::provider::ProviderData;
use crate::plugin::kit::poll::Backoff;
use crate::plugin::kit::timeout::{self, Look, Unfinished};
use crate::plugin::kit::{attribute, text};
use crate::plugin::{Action, Progress};

pub const TYPE_NAME: &str = "cloudsync_database_check_connection";

/// How long an invocation waits by default for a retryable failure to clear.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a retryable failure is checked again: after a second, then twice as long
/// each time, at most every 10 seconds.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_secs(1),
    max: Duration::from_secs(10),
    factor: 2.0,
};

/// The `config` block.
#[derive(Debug, Default, Deserialize)]
pub struct CheckConfig<'a> {
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub timeout: ValueString<'a>,
}

/// Checks a database's connection.
pub struct CheckConnection {
    data: Arc<ProviderData>,
}

impl CheckConnection {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// "tenant database unreachable (database_unreachable): <CloudSync's message>".
fn described(f: &ConnectionFailure) -> String {
    let mut out = format!("{} ({})", tenant_summary(&f.code), f.code);
    if !f.message.is_empty() {
        out.push_str(": ");
        out.push_str(f.message.trim_end_matches('.'));
    }
    out
}

/// What to fix, for a check (the registration's remedies speak of applying again).
fn remedy(code: &str) -> &'static str {
    match code {
        "database_unreachable" => {
            "CloudSync could not reach the tenant database: check the host and port in the \
             database's `connection_string`, and that the database accepts connections from \
             CloudSync (firewall, allow-list)."
        }
        other => tenant_remedy(other),
    }
}

#[async_trait]
impl Action for CheckConnection {
    type Config<'a> = CheckConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Runs CloudSync's live check of a database's stored connection and reports \
                     the result. A failure CloudSync calls retryable (`database_unreachable`, \
                     `database_paused`) is checked again until it passes or `timeout` ends; \
                     any other failure is an error at once, with CloudSync's code and what to \
                     fix. Use it as a gate in an `action_trigger`: a failed check fails the \
                     apply. Nothing is changed. `data \"cloudsync_database_connection\"` is \
                     the same check as data, at every plan.",
                ),
                attributes: map! {
                    "database_id" => attribute(AttributeType::String, AttributeConstraint::Required,
                        "The managed database id (`db_...`, the `id` of a `cloudsync_database`)."),
                    "timeout" => timeout::attribute_with_default("1m", "for a retryable failure to clear"),
                },
                ..Default::default()
            },
        })
    }

    /// Terraform validates an action's configuration only where it is used: `plan` checks
    /// it again, so a bad value is an error at plan time with `-invoke` too.
    async fn plan<'a>(&self, diags: &mut Diagnostics, config: CheckConfig<'a>) -> Option<()> {
        self.validate(diags, config).await
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: CheckConfig<'a>) -> Option<()> {
        if let Some(id) = text(&config.database_id) {
            check_database_id(diags, id, "database_id");
        }
        timeout::check(diags, &config.timeout);
        Some(())
    }

    async fn invoke<'a>(
        &self,
        diags: &mut Diagnostics,
        config: CheckConfig<'a>,
        progress: &Progress,
    ) -> Option<()> {
        let client = self.data.client(diags)?;
        let id = given(diags, &config.database_id, "database_id")?;
        let limit = timeout::of(&config.timeout, DEFAULT_TIMEOUT);
        let deadline = timeout::deadline(limit);

        progress
            .send(format!("checking the connection of database {id}"))
            .await;
        let mut checks = 0u32;
        let passed = timeout::poll(progress, deadline, BACKOFF, || {
            checks += 1;
            let n = checks;
            let (client, id) = (&client, &id);
            async move {
                let check = client.check_connection(id).await.map_err(Stopped::Api)?;
                let at = check.checked_at.unwrap_or_else(|| "now".to_owned());
                let failure = match (check.ok, check.failure) {
                    (true, _) => return Ok(Look::Done(at)),
                    // CloudSync's own words, cleaned of every secret the client knows (its
                    // API key; a connection string or JWT secret it sent in this run).
                    (false, Some(f)) => ConnectionFailure {
                        message: client.clean(&f.message),
                        ..f
                    },
                    (false, None) => ConnectionFailure {
                        code: "database_error".to_owned(),
                        message: "CloudSync reported a failed check without saying why".to_owned(),
                        retryable: false,
                    },
                };
                if !failure.retryable {
                    return Err(Stopped::Refused(failure, at));
                }
                let line = format!(
                    "connection failed (check {n}, at {at}): {}; checking again",
                    described(&failure)
                );
                Ok(Look::NotYet(line, failure))
            }
        })
        .await;
        match passed {
            Ok(at) => {
                progress
                    .send(format!(
                        "connection ok: CloudSync reached database {id} (checked at {at})"
                    ))
                    .await;
                Some(())
            }
            Err(Unfinished::Failed(Stopped::Api(e))) => {
                api_error(diags, &e);
                None
            }
            Err(Unfinished::Failed(Stopped::Refused(failure, at))) => {
                let what = described(&failure);
                progress
                    .send(format!("connection failed (checked at {at}): {what}"))
                    .await;
                diags.root_error(
                    format!("Connection check failed: {}", tenant_summary(&failure.code)),
                    format!(
                        "CloudSync could not use the stored connection of database `{id}`: \
                         {what}. {}",
                        remedy(&failure.code)
                    ),
                );
                None
            }
            Err(Unfinished::Stopped { wait, last }) => {
                let doing = match last {
                    Some(failure) => format!(
                        "the connection of database `{id}` to pass (last check: {}). {}",
                        described(&failure),
                        remedy(&failure.code)
                    ),
                    None => format!("the connection check of database `{id}`"),
                };
                timeout::stopped(diags, wait, &doing, limit);
                None
            }
        }
    }
}

/// How a check ended without passing, other than by the time or a cancel.
enum Stopped<E> {
    /// The API call failed.
    Api(E),
    /// CloudSync's check failed in a way it does not call retryable; when it checked.
    Refused(ConnectionFailure, String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::kit::known;
    use tf_provider::AttributePath;

    #[tokio::test]
    async fn id_and_timeout_are_checked_on_their_attributes() {
        let action = CheckConnection::new(Arc::default());
        let mut diags = Diagnostics::default();
        let config = CheckConfig {
            database_id: known("prj_1"),
            timeout: known("forever"),
        };
        action.validate(&mut diags, config).await;
        let attrs: Vec<_> = diags.errors.iter().map(|d| d.attribute.clone()).collect();
        assert_eq!(
            attrs,
            ["database_id", "timeout"].map(AttributePath::new),
            "{diags:?}"
        );
    }

    #[test]
    fn a_failure_is_described_by_code_and_message() {
        let f = ConnectionFailure {
            code: "database_paused".into(),
            message: "the database does not allow connections.".into(),
            retryable: true,
        };
        assert_eq!(
            described(&f),
            "tenant database paused (database_paused): the database does not allow connections"
        );
        assert!(remedy("database_unreachable").contains("host and port"));
        assert!(!remedy("database_unreachable").contains("registered"));
    }
}
