//! `comwit` list resources (`terraform query`, Terraform 1.14+): one file per list type,
//! each listing the items of the managed type of the same name with the state its import
//! gives, and the server defaults generated configuration leaves out.
//!
//! `comwit_database_query_token` has no list: it has no identity (a query token is a
//! one-time secret, never importable) and the API has no route that lists query tokens.

pub mod app;
pub mod app_deployment;
pub mod app_env;
pub mod app_hostname;
pub mod database;
pub mod dns_record;
pub mod project_domain;

use std::sync::Arc;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Description};
use tf_provider::Diagnostics;

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use super::client::{Listing, OddItem};
use super::common::{api_error, check_id};
use super::provider::{Configured, ProviderData};
use crate::plugin::kit::text;
use crate::plugin::{
    streamed, ElementSource, Entries, ListItem, Listed, Page, ProviderDefault, Registry,
};
use tf_provider::value::ValueString;

/// Register every list type and the generated-configuration rules of its managed type.
pub fn register(registry: &mut Registry, data: &Arc<ProviderData>) {
    // Generated configuration leaves out a `project_id` that is the provider's own.
    for type_name in [
        super::resources::database::TYPE_NAME,
        super::resources::app::TYPE_NAME,
        super::resources::project_domain::TYPE_NAME,
    ] {
        let data = data.clone();
        let read = move || {
            let mut ignored = Diagnostics::default();
            let project = data.configured(&mut ignored)?.project_id?;
            Some(project.into())
        };
        registry.provider_default(type_name, "project_id", ProviderDefault::new(read));
    }
    registry.list_resource(
        super::resources::database::TYPE_NAME,
        database::DatabaseList::new(data.clone()),
    );
    registry.config_rules(super::resources::database::TYPE_NAME, database::rules());
    registry.list_resource(
        super::resources::dns_record::TYPE_NAME,
        dns_record::DnsRecordList::new(data.clone()),
    );
    registry.config_rules(super::resources::dns_record::TYPE_NAME, dns_record::rules());
    registry.list_resource(
        super::resources::project_domain::TYPE_NAME,
        project_domain::ProjectDomainList::new(data.clone()),
    );
    registry.list_resource(
        super::resources::app::TYPE_NAME,
        app::AppList::new(data.clone()),
    );
    registry.list_resource(
        super::resources::app_env::TYPE_NAME,
        app_env::AppEnvList::new(data.clone()),
    );
    registry.config_rules(super::resources::app_env::TYPE_NAME, app_env::rules());
    registry.list_resource(
        super::resources::app_hostname::TYPE_NAME,
        app_hostname::AppHostnameList::new(data.clone()),
    );
    registry.config_rules(
        super::resources::app_hostname::TYPE_NAME,
        app_hostname::rules(),
    );
    registry.list_resource(
        super::resources::app_deployment::TYPE_NAME,
        app_deployment::AppDeploymentList::new(data.clone()),
    );
    registry.config_rules(
        super::resources::app_deployment::TYPE_NAME,
        app_deployment::rules(),
    );
}

#[async_trait]
impl<T: DeserializeOwned + Send + 'static> ElementSource for Listing<T> {
    type Element = Result<T, OddItem>;

    async fn next_element(&mut self) -> Option<Result<Self::Element, Diagnostics>> {
        match self.next().await? {
            Ok(element) => Some(Ok(element)),
            Err(e) => {
                let mut diags = Diagnostics::default();
                api_error(&mut diags, &e);
                Some(Err(diags))
            }
        }
    }
}

/// The entries of a Comwit list answer, each read from the answer as Terraform takes the
/// one before (the provider never holds the whole list): `item` makes an object's item
/// (`None`: filtered out); an odd element is skipped with a warning naming it as `named`
/// says (given the element's name or place).
fn entries<T, S>(
    listing: Listing<T>,
    named: impl Fn(String) -> String + Send + 'static,
    mut item: impl FnMut(T) -> Option<ListItem<S>> + Send + 'static,
) -> Entries<S>
where
    T: DeserializeOwned + Send + 'static,
    S: Send + 'static,
{
    streamed(listing, move |element| match element {
        Ok(object) => item(object).map(Listed::Item),
        Err(odd) => Some(Listed::Skipped {
            name: named(odd.name),
            reason: odd.reason,
        }),
    })
}

/// An optional string filter of a list's `config` block.
fn filter(description: &str) -> Attribute {
    Attribute {
        attr_type: AttributeType::String,
        description: Description::markdown(description),
        constraint: AttributeConstraint::Optional,
        ..Default::default()
    }
}

/// The project a listing reads: the filter's `project_id`, else the provider's.
fn project_of(
    diags: &mut Diagnostics,
    configured: &Configured,
    project_id: &ValueString<'_>,
) -> Option<String> {
    if let Some(p) = text(project_id) {
        return Some(p.to_owned());
    }
    if let Some(p) = &configured.project_id {
        return Some(p.clone());
    }
    diags.error(
        "No project to list",
        "Set `project_id` in the list's `config` block, or `project_id` in the provider \
         block (or the `COMWIT_PROJECT_ID` environment variable).",
        tf_provider::AttributePath::new("project_id"),
    );
    None
}

/// An app a per-app listing reads (the environments, hostnames or deployments of apps).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AppRef {
    id: String,
    name: String,
    active_build_id: Option<String>,
}

impl AppRef {
    fn of(app: crate::comwit::client::App) -> Self {
        Self {
            id: app.app_id,
            name: app.name,
            active_build_id: app.active_build_id,
        }
    }
}

/// One page of a per-app listing: the app this page reads, the apps still to read after it
/// (the next cursor), and the apps the project's list answered that could not be read
/// (skipped with a warning, on the first page).
struct AppStep<S> {
    current: Option<AppRef>,
    rest: Vec<AppRef>,
    skipped: Vec<Listed<S>>,
}

impl<S> AppStep<S> {
    /// The cursor of the apps still to read: `id:name:active_build_id` (ids and app names
    /// hold no `:` or `,`), comma-separated; `None` when this page reads the last app.
    fn next(&self) -> Option<String> {
        (!self.rest.is_empty()).then(|| {
            self.rest
                .iter()
                .map(|a| {
                    format!(
                        "{}:{}:{}",
                        a.id,
                        a.name,
                        a.active_build_id.as_deref().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(",")
        })
    }
}

fn parse_cursor(cursor: &str) -> Vec<AppRef> {
    cursor
        .split(',')
        .filter_map(|entry| {
            let mut parts = entry.splitn(3, ':');
            let id = parts.next().filter(|s| !s.is_empty())?.to_owned();
            let name = parts.next().unwrap_or_default().to_owned();
            let active = parts.next().filter(|s| !s.is_empty()).map(str::to_owned);
            Some(AppRef {
                id,
                name,
                active_build_id: active,
            })
        })
        .collect()
}

/// The apps a per-app listing goes through, lazily: the first page reads the one app of
/// `app_id` (a clear error when it does not exist), or lists the project's apps; each page
/// then reads one app, and the cursor carries the others, so nothing is fetched once
/// Terraform stops reading.
async fn app_step<S>(
    diags: &mut Diagnostics,
    configured: &Configured,
    project_id: &ValueString<'_>,
    app_id: &ValueString<'_>,
    cursor: Option<String>,
) -> Option<AppStep<S>> {
    let mut skipped = Vec::new();
    let mut apps = match (cursor, text(app_id)) {
        (Some(c), _) => parse_cursor(&c),
        (None, Some(id)) => match configured.client.get_app(id).await {
            Ok(app) => vec![AppRef::of(app)],
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        },
        (None, None) => {
            let project = project_of(diags, configured, project_id)?;
            let answered = match configured.client.list_apps_each(&project).await {
                Ok(a) => a,
                Err(e) => {
                    api_error(diags, &e);
                    return None;
                }
            };
            let mut apps = Vec::new();
            for app in answered {
                match app {
                    Ok(app) => apps.push(AppRef::of(app)),
                    Err(odd) => skipped.push(Listed::Skipped {
                        name: format!("app {}", odd.name),
                        reason: odd.reason,
                    }),
                }
            }
            apps
        }
    };
    let current = (!apps.is_empty()).then(|| apps.remove(0));
    Some(AppStep {
        current,
        rest: apps,
        skipped,
    })
}

/// The two filters every per-app list has (`project_id`, `app_id`), each checked on its
/// attribute when set.
fn check_app_filters(
    diags: &mut Diagnostics,
    project_id: &ValueString<'_>,
    app_id: &ValueString<'_>,
) {
    if let Some(project) = text(project_id) {
        check_id(diags, project, "prj_", "project_id");
    }
    if let Some(app) = text(app_id) {
        check_id(diags, app, "app_", "app_id");
    }
}

/// One page of a per-app listing (environments, hostnames, deployments): the app this
/// page reads ([`app_step`], with the apps skipped before it), `read` of that app's items
/// (read as Terraform takes them), and the cursor of the apps after it. An app gone since
/// the project's list was read lists nothing; with `app_id` set, a not-found is an error
/// like any other failure.
async fn per_app_page<S, Fut>(
    diags: &mut Diagnostics,
    data: &ProviderData,
    (project_id, app_id): (&ValueString<'_>, &ValueString<'_>),
    cursor: Option<String>,
    read: impl FnOnce(Configured, AppRef) -> Fut,
) -> Option<Page<S>>
where
    Fut: std::future::Future<Output = crate::comwit::client::Result<Entries<S>>>,
{
    let configured = data.configured(diags)?;
    let step = app_step(diags, &configured, project_id, app_id, cursor).await?;
    let next = step.next();
    let items = step.skipped;
    let Some(app) = step.current else {
        return Some(Page::last(items));
    };
    let rest = match read(configured, app).await {
        Ok(entries) => Some(entries),
        Err(e) if e.is_not_found() && text(app_id).is_none() => None,
        Err(e) => {
            api_error(diags, &e);
            return None;
        }
    };
    Some(Page { items, next, rest })
}

/// Entries already read (a per-app listing whose item is not one element of a list).
fn ready<S: Send + 'static>(items: Vec<Listed<S>>) -> Entries<S> {
    Box::pin(futures::stream::iter(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_carries_every_app_still_to_read() {
        let apps = vec![
            AppRef {
                id: "app_1".into(),
                name: "web".into(),
                active_build_id: Some("bld_1".into()),
            },
            AppRef {
                id: "app_2".into(),
                name: "api".into(),
                active_build_id: None,
            },
        ];
        let step: AppStep<()> = AppStep {
            current: None,
            rest: apps.clone(),
            skipped: vec![],
        };
        let cursor = step.next().expect("a cursor");
        assert_eq!(cursor, "app_1:web:bld_1,app_2:api:");
        assert_eq!(parse_cursor(&cursor), apps);
        let last: AppStep<()> = AppStep {
            current: apps.first().cloned(),
            rest: vec![],
            skipped: vec![],
        };
        assert_eq!(last.next(), None);
        assert_eq!(parse_cursor(",:x:"), vec![]);
    }
}
