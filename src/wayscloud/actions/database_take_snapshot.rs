//! `action "wayscloud_database_take_snapshot"`: take a snapshot of a database now (a real
//! dump), then read the database's snapshots until the new one is listed (or `timeout`),
//! reporting its id and size. Each run takes one more snapshot: safe twice, and the
//! snapshots are not in Terraform's state (`wayscloud_database_snapshot` is the resource
//! for one that Terraform keeps and deletes; `data "wayscloud_database_snapshots"` lists
//! them all).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::{db_name, db_type, given};
use crate::plugin::kit::poll::Backoff;
use crate::plugin::kit::timeout::{self, Look, Unfinished};
use crate::plugin::kit::{attribute, text};
use crate::plugin::{Action, Progress};
use crate::wayscloud::client::Snapshot;
use crate::wayscloud::common::{api_error, check_database_ref};
use crate::wayscloud::provider::ProviderData;

pub const TYPE_NAME: &str = "wayscloud_database_take_snapshot";

/// How long an invocation waits by default (a dump of a large database takes a while).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// How often it looks whether the snapshot is listed: after half a second, then twice as
/// long each time, at most every 10 seconds.
const BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(500),
    max: Duration::from_secs(10),
    factor: 2.0,
};

/// The `config` block.
#[derive(Debug, Default, Deserialize)]
pub struct TakeSnapshotConfig<'a> {
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub description: ValueString<'a>,
    #[serde(borrow, default)]
    pub timeout: ValueString<'a>,
}

/// Takes a snapshot now.
pub struct TakeSnapshot {
    data: Arc<ProviderData>,
}

impl TakeSnapshot {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

fn size(s: &Snapshot) -> String {
    s.size_mb
        .map_or_else(|| "size unknown".to_owned(), |mb| format!("{mb} MB"))
}

#[async_trait]
impl Action for TakeSnapshot {
    type Config<'a> = TakeSnapshotConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Takes a snapshot of a WaysCloud database now (a full dump), and waits \
                     until the database's snapshots list it. Each run takes one more \
                     snapshot; they are not in Terraform's state (list them with \
                     `data \"wayscloud_database_snapshots\"`; the resource \
                     `wayscloud_database_snapshot` is for one Terraform keeps and deletes).",
                ),
                attributes: map! {
                    "db_type" => db_type(),
                    "db_name" => db_name(),
                    "description" => attribute(AttributeType::String, AttributeConstraint::Optional,
                        "Why it was taken (e.g. `Before migration`), stored with the snapshot."),
                    "timeout" => timeout::attribute_with_default("10m", "for the snapshot to be taken and listed"),
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
        config: TakeSnapshotConfig<'a>,
    ) -> Option<()> {
        self.validate(diags, config).await
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: TakeSnapshotConfig<'a>,
    ) -> Option<()> {
        check_database_ref(diags, &config.db_type, &config.db_name);
        timeout::check(diags, &config.timeout);
        Some(())
    }

    async fn invoke<'a>(
        &self,
        diags: &mut Diagnostics,
        config: TakeSnapshotConfig<'a>,
        progress: &Progress,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let t = given(diags, &config.db_type, "db_type")?;
        let name = given(diags, &config.db_name, "db_name")?;
        let description = text(&config.description).map(str::to_owned);
        let limit = timeout::of(&config.timeout, DEFAULT_TIMEOUT);
        let deadline = timeout::deadline(limit);

        progress
            .send(format!("taking a snapshot of database {name} ({t})"))
            .await;
        let taken = match timeout::within_reporting(
            progress,
            deadline,
            client.create_snapshot(&t, &name, description.as_deref()),
            timeout::HEARTBEAT,
            |took| {
                format!(
                    "still taking the snapshot of database {name} ({})",
                    timeout::display(Duration::from_secs(took.as_secs()))
                )
            },
        )
        .await
        {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                api_error(diags, &e);
                return None;
            }
            Err(w) => {
                let doing = format!(
                    "the snapshot of database `{name}` ({t}); it may have been taken: \
                     `data \"wayscloud_database_snapshots\"` lists them"
                );
                timeout::stopped(diags, w, &doing, limit);
                return None;
            }
        };
        let id = taken.snapshot_id.clone();
        progress
            .send(format!("snapshot {id} taken ({})", size(&taken)))
            .await;
        let listed = timeout::poll(progress, deadline, BACKOFF, || async {
            let list = client.snapshots(&t, &name).await;
            list.map(|list| match list.iter().find(|s| s.snapshot_id == id) {
                Some(s) => Look::Done(format!(
                    "snapshot {id} is listed ({}; {} snapshots of {name} in all)",
                    size(s),
                    list.len()
                )),
                None => Look::not_yet(format!("waiting for snapshot {id} to be listed")),
            })
        })
        .await;
        match listed {
            Ok(line) => {
                progress.send(line).await;
                Some(())
            }
            Err(Unfinished::Failed(e)) => {
                api_error(diags, &e);
                None
            }
            Err(Unfinished::Stopped { wait: w, .. }) => {
                let doing = format!("snapshot `{id}` of database `{name}` to be listed");
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
    async fn a_bad_engine_and_timeout_are_refused_on_their_attributes() {
        let action = TakeSnapshot::new(Arc::default());
        let mut diags = Diagnostics::default();
        let config = TakeSnapshotConfig {
            db_type: known("postgres"),
            db_name: known("cust_6dd1d906_pg_orders"),
            description: known("Vor der Migration ✓"),
            timeout: known("1d"),
        };
        action.validate(&mut diags, config).await;
        let attrs: Vec<_> = diags.errors.iter().map(|d| d.attribute.clone()).collect();
        assert_eq!(
            attrs,
            ["db_type", "timeout"].map(AttributePath::new),
            "{diags:?}"
        );
    }
}
