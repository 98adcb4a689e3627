//! `data "comwit_app_builds"`: the builds of an app, newest first, each with the tail of
//! its log.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::{attribute, bounded, known, opt, text};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_app_builds";

/// Default and bounds of `log_tail_lines` (the contract's `tail_lines` is 1 to 1000; 0
/// reads no log).
pub const DEFAULT_LOG_TAIL_LINES: i64 = 20;
pub const LOG_TAIL_RANGE: std::ops::RangeInclusive<i64> = 0..=1000;

/// The `comwit_app_builds` data source.
pub struct AppBuildsDataSource {
    data: Arc<ProviderData>,
}

impl AppBuildsDataSource {
    /// A data source sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// One element of `builds`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct BuildItem<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub status: ValueString<'a>,
    #[serde(default)]
    pub active: ValueBool,
    #[serde(borrow, default)]
    pub artifact_sha256: ValueString<'a>,
    #[serde(borrow, default)]
    pub entry: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
    #[serde(borrow, default)]
    pub finished_at: ValueString<'a>,
    #[serde(borrow, default)]
    pub error: ValueString<'a>,
    #[serde(borrow, default)]
    pub log_tail: ValueString<'a>,
}

/// State of `data "comwit_app_builds"`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AppBuildsState<'a> {
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
    #[serde(default)]
    pub log_tail_lines: crate::plugin::kit::ValueNum,
    #[serde(borrow, default)]
    pub builds: ValueList<Value<BuildItem<'a>>>,
}

#[async_trait]
impl DataSource for AppBuildsDataSource {
    type State<'a> = AppBuildsState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, OptionalComputed, Required};
        use AttributeType::{Bool, Number, String};
        let item = map! {
            "id" => String,
            "status" => String,
            "active" => Bool,
            "artifact_sha256" => String,
            "entry" => String,
            "created_at" => String,
            "finished_at" => String,
            "error" => String,
            "log_tail" => String,
        };
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Lists the builds of an app, newest first: the history a rollback \
                     (`comwit_app_deployment`'s `active_build_id`) chooses from, and the tail \
                     of each build's log for debugging.",
                ),
                attributes: map! {
                    "app_id" => attribute(String, Required, "App (`app_...`)."),
                    "log_tail_lines" => attribute(Number, OptionalComputed,
                        "How many last lines of each build's log to read into `log_tail`, 0 to \
                         1000. Default 20; 0 reads no log (`log_tail` is null)."),
                    "builds" => attribute(
                        AttributeType::List(Box::new(AttributeType::Object(item))),
                        Computed,
                        "The builds, newest first: `id` (`bld_...`), `status` (`queued`, \
                         `building`, `ready` or `failed`), `active` (it serves the app), \
                         `artifact_sha256`, `entry`, `created_at`, `finished_at` (null until \
                         finished), `error` (a one-line summary when failed) and `log_tail`.",
                    ),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = text(&config.app_id) {
            check_id(diags, id, "app_", "app_id");
        }
        bounded(
            diags,
            &config.log_tail_lines,
            "log_tail_lines",
            LOG_TAIL_RANGE,
            DEFAULT_LOG_TAIL_LINES,
        );
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: ValueEmpty,
    ) -> Option<Self::State<'a>> {
        let client = self.data.configured(diags)?.client;
        let app_id = text(&config.app_id)?.to_owned();
        let lines = bounded(
            diags,
            &config.log_tail_lines,
            "log_tail_lines",
            LOG_TAIL_RANGE,
            DEFAULT_LOG_TAIL_LINES,
        );
        let builds = match client.list_builds(&app_id).await {
            Ok(b) => b,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let mut items = Vec::with_capacity(builds.len());
        for build in builds {
            let log_tail = if lines == 0 {
                Value::Null
            } else {
                match client
                    .build_log(&app_id, &build.build_id, Some(lines as u32))
                    .await
                {
                    Ok(log) => known(log.log),
                    Err(e) => {
                        api_error(diags, &e);
                        return None;
                    }
                }
            };
            items.push(Value::Value(BuildItem {
                id: known(build.build_id),
                status: known(build.status),
                active: Value::Value(build.active),
                artifact_sha256: known(build.artifact_sha256),
                entry: known(build.entry),
                created_at: known(build.created_at),
                finished_at: opt(build.finished_at),
                error: opt(build.error),
                log_tail,
            }));
        }
        Some(AppBuildsState {
            app_id: known(app_id),
            log_tail_lines: Value::Value(lines.into()),
            builds: Value::Value(items),
        })
    }
}
