//! `list "comwit_database"`: the databases of a project, optionally those whose name starts
//! with `name_prefix`. The API has no paging: one fetch, read database by database as
//! Terraform takes them (the provider never holds the whole list).

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::{Value, ValueString};
use tf_provider::{map, Diagnostics};

use super::{entries, filter, project_of};
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::database::{from_api, DatabaseState};
use crate::plugin::kit::text;
use crate::plugin::{ConfigRules, ListItem, ListResource, Page};

/// The `config` block of `list "comwit_database"`.
#[derive(Debug, Default, Deserialize)]
pub struct DatabaseFilter<'a> {
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub name_prefix: ValueString<'a>,
}

/// Lists `comwit_database`.
pub struct DatabaseList {
    data: Arc<ProviderData>,
}

impl DatabaseList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// Server defaults: a database is active and unprotected unless told otherwise.
pub fn rules() -> ConfigRules {
    ConfigRules {
        defaults: vec![
            ("suspended", false.into()),
            ("deletion_protection", false.into()),
        ],
        omit: vec![],
    }
}

/// The state a listed database has: what its import gives (no token, not protected).
pub fn listed_state(db: crate::comwit::client::Database) -> DatabaseState<'static> {
    from_api(
        db,
        DatabaseState {
            deletion_protection: Value::Value(false),
            ..Default::default()
        },
    )
}

#[async_trait]
impl ListResource for DatabaseList {
    type Config<'a> = DatabaseFilter<'a>;
    type State = DatabaseState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The databases of a Comwit project. Each is listed with the state its \
                     import gives: `database_token` is null (Comwit never returns it).",
                ),
                attributes: map! {
                    "project_id" => filter("Project (`prj_...`) to list. Defaults to the provider's `project_id`."),
                    "name_prefix" => filter("Only databases whose name starts with this text."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseFilter<'a>,
    ) -> Option<()> {
        if let Some(project) = text(&config.project_id) {
            check_id(diags, project, "prj_", "project_id");
        }
        Some(())
    }

    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &DatabaseFilter<'a>,
        _cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<DatabaseState<'static>>> {
        let configured = self.data.configured(diags)?;
        let project = project_of(diags, &configured, &config.project_id)?;
        let prefix = text(&config.name_prefix).unwrap_or_default().to_owned();
        let listing = match configured.client.database_listing(&project).await {
            Ok(l) => l,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let entries = entries(
            listing,
            |n| format!("database {n}"),
            move |db| {
                db.name.starts_with(&prefix).then(|| ListItem {
                    display_name: db.name.clone(),
                    state: listed_state(db),
                })
            },
        );
        Some(Page::streamed(entries))
    }
}
