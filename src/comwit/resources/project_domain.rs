//! `comwit_project_domain`: a domain the user owns, onboarded for delegated DNS, so that
//! Comwit hosts its zone (`comwit_dns_record`) and automatic-DNS hostnames
//! (`comwit_app_hostname`) can write into it.
//!
//! - `domain` and `project_id` replace it when changed; case and a final dot are spelling
//!   (`Example.com.` is `example.com`), never a change.
//! - `name_servers` are the ones to set at the registrar; `delegation_status` is what DNS
//!   answers now (`pending` or `delegated`), read at every refresh.
//! - `wait_for_delegation` makes create wait (up to `delegation_timeout_seconds`) until
//!   the domain is delegated; on timeout the domain is kept in state, tainted, with an
//!   error naming the name servers to set.
//! - Destroy removes the domain, its zone and every record in it. The platform refuses
//!   while an automatic-DNS hostname writes into it; destroy asks again for up to 20 s
//!   (such a hostname may be destroyed in the same run), then reports the refusal.
//! - Import by domain id (`dom_...`), or by identity `{ id }`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::comwit::client::{Client, Domain};
use crate::comwit::common::{
    api_error, check_id, default_project_on_update, deleted, planned_project,
};
use crate::comwit::provider::ProviderData;
use crate::contract::dns as dns_rules;
use crate::plugin::kit::poll::{self, Backoff, Polled};
use crate::plugin::kit::{attribute, bounded, known, text, ValueNum};
use crate::plugin::{IdentityAttribute, IdentitySpec};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_project_domain";
/// Bounds and default of `delegation_timeout_seconds`.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 1..=3600;
pub const DEFAULT_TIMEOUT: i64 = 300;
/// How often a wait asks again.
pub const POLL_EVERY: Duration = Duration::from_secs(2);
/// The longest wait between two looks at a domain being delegated.
pub const POLL_AT_MOST: Duration = Duration::from_secs(8);
/// How long destroy keeps asking while the platform refuses because a hostname still
/// writes into the zone.
pub const CONFLICT_PATIENCE: Duration = Duration::from_secs(20);

/// Identity `{ id }`.
pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![IdentityAttribute {
            name: "id",
            description: "Project domain id (`dom_...`).",
            required_for_import: true,
        }],
    }
}

/// The `comwit_project_domain` resource.
pub struct ProjectDomainResource {
    data: Arc<ProviderData>,
}

impl ProjectDomainResource {
    /// A resource sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `comwit_project_domain`; field names are the attribute names.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectDomainState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain: ValueString<'a>,
    #[serde(borrow, default)]
    pub name_servers: ValueList<ValueString<'a>>,
    #[serde(borrow, default)]
    pub delegation_status: ValueString<'a>,
    #[serde(default)]
    pub wait_for_delegation: ValueBool,
    #[serde(default)]
    pub delegation_timeout_seconds: ValueNum,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

/// Schema description of `delegation_status`, shared with the data source.
pub const DELEGATION_DESCRIPTION: &str =
    "`delegated` once DNS answers the platform's name servers for the domain, `pending` \
     until then. Read at every refresh.";

#[async_trait]
impl Resource for ProjectDomainResource {
    type State<'a> = ProjectDomainState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Bool, List, Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A domain you already own, onboarded for delegated DNS: Comwit hosts its \
                     zone, so its records can be managed with `comwit_dns_record` and \
                     automatic-DNS hostnames (`comwit_app_hostname`) can write into it. Set \
                     `name_servers` at your registrar; `delegation_status` turns `delegated` \
                     once DNS answers them. Destroying it removes the zone and every record \
                     in it.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "Project domain id (`dom_...`)."),
                    "project_id" => attribute(String, OptionalComputed,
                        "Project (`prj_...`) that owns the domain. Defaults to the provider's \
                         `project_id`. Changing it replaces the domain."),
                    "domain" => attribute(String, Required,
                        "The domain, e.g. `example.com`. Case and a final dot do not matter. \
                         Changing it replaces the domain."),
                    "name_servers" => attribute(List(Box::new(String)), Computed,
                        "The name servers to delegate the domain to (set them at your \
                         registrar)."),
                    "delegation_status" => attribute(String, Computed, DELEGATION_DESCRIPTION),
                    "wait_for_delegation" => attribute(Bool, Optional,
                        "Wait at create until the domain is delegated (default false). On \
                         timeout the domain stays in state, tainted, and the error names the \
                         name servers to set."),
                    "delegation_timeout_seconds" => attribute(Number, Optional,
                        "How long `wait_for_delegation` waits, 1 to 3600 seconds (default \
                         300)."),
                    "created_at" => attribute(String, Computed, "Onboarding time (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: ProjectDomainState<'a>,
    ) -> Option<()> {
        if let Some(domain) = text(&config.domain) {
            if let Err(e) = dns_rules::domain_name(domain) {
                diags.error("Invalid domain", e, AttributePath::new("domain"));
            }
        }
        if let Some(project) = text(&config.project_id) {
            check_id(diags, project, "prj_", "project_id");
        }
        bounded(
            diags,
            &config.delegation_timeout_seconds,
            "delegation_timeout_seconds",
            TIMEOUT_RANGE,
            DEFAULT_TIMEOUT,
        );
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: ProjectDomainState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ProjectDomainState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let id = text(&state.id)?.to_owned();
        match client.get_domain(&id).await {
            Ok(d) => Some((merge(from_api(d), &state), private)),
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        mut proposed: ProjectDomainState<'a>,
        _config: ProjectDomainState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(ProjectDomainState<'a>, ValueEmpty)> {
        proposed.project_id = planned_project(diags, &self.data, &proposed.project_id)?;
        proposed.id = Value::Unknown;
        proposed.name_servers = Value::Unknown;
        proposed.delegation_status = Value::Unknown;
        proposed.created_at = Value::Unknown;
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: ProjectDomainState<'a>,
        mut proposed: ProjectDomainState<'a>,
        config: ProjectDomainState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ProjectDomainState<'a>, ValueEmpty, Vec<AttributePath>)> {
        proposed.project_id =
            default_project_on_update(&self.data, &config.project_id, proposed.project_id);
        let mut replace = vec![];
        if proposed.project_id != prior.project_id {
            replace.push(AttributePath::new("project_id"));
        }
        let same = match (text(&prior.domain), text(&proposed.domain)) {
            (Some(a), Some(b)) => dns_rules::same_host(a, b),
            _ => proposed.domain == prior.domain,
        };
        if same {
            // Semantic equality: another spelling of the same name (the API's canonical one
            // after an import) plans the state's value, so it is no change.
            proposed.domain = prior.domain.clone();
        } else {
            replace.push(AttributePath::new("domain"));
        }
        if !replace.is_empty() {
            proposed.id = Value::Unknown;
            proposed.name_servers = Value::Unknown;
            proposed.delegation_status = Value::Unknown;
            proposed.created_at = Value::Unknown;
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: ProjectDomainState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: ProjectDomainState<'a>,
        _config: ProjectDomainState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ProjectDomainState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let project = text(&planned.project_id)?.to_owned();
        let name = text(&planned.domain)?.to_owned();
        let domain = match client.create_domain(&project, &name).await {
            Ok(d) => d,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let domain = if planned.wait_for_delegation == Value::Value(true) {
            let timeout = bounded(
                diags,
                &planned.delegation_timeout_seconds,
                "delegation_timeout_seconds",
                TIMEOUT_RANGE,
                DEFAULT_TIMEOUT,
            );
            wait_delegated(diags, &client, domain, timeout).await
        } else {
            domain
        };
        Some((merge(from_api(domain), &planned), Value::Null))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: ProjectDomainState<'a>,
        mut planned: ProjectDomainState<'a>,
        _config: ProjectDomainState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ProjectDomainState<'a>, ValueEmpty)> {
        // Only the spelling of `domain` or the wait settings change in place: nothing to send.
        planned.delegation_status = prior.delegation_status;
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ProjectDomainState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let id = text(&prior.id)?.to_owned();
        // A hostname writing into the zone without naming it in `domain_id` has no
        // dependency on this resource, so Terraform may destroy both at once: while the
        // platform refuses (409, the hostname is still there), ask again for a while.
        let deadline = Instant::now() + CONFLICT_PATIENCE;
        loop {
            match client.delete_domain(&id).await {
                Err(e) if e.is_conflict() && Instant::now() < deadline => {
                    tokio::time::sleep(POLL_EVERY).await;
                }
                other => return deleted(diags, other),
            }
        }
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(ProjectDomainState<'a>, ValueEmpty)> {
        check_id(diags, &id, "dom_", "id");
        if !diags.errors.is_empty() {
            diags.errors[0].detail = format!(
                "Import a project domain by its id, for example `terraform import \
                 comwit_project_domain.main dom_5c2e9a1b00112233` (got `{id}`)."
            )
            .into();
            return None;
        }
        let client = self.data.configured(diags)?.client;
        match client.get_domain(&id).await {
            Ok(d) => Some((from_api(d), Value::Null)),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}

/// Polls (every [`POLL_EVERY`], backing off to [`POLL_AT_MOST`]) until the domain is
/// delegated, `timeout_secs` passed (then an error) or Terraform stops the provider;
/// returns the domain as last read.
async fn wait_delegated(
    diags: &mut Diagnostics,
    client: &Client,
    domain: Domain,
    timeout_secs: i64,
) -> Domain {
    let domain_id = domain.domain_id.clone();
    let domain_id = domain_id.as_str();
    let polled = poll::until(
        Backoff::growing(POLL_EVERY, POLL_AT_MOST),
        poll::deadline_in(timeout_secs),
        &client.cancel_token(),
        domain,
        |d: &Domain| d.delegation_status == "delegated",
        move || async move {
            match client.get_domain(domain_id).await {
                Ok(d) => Ok(Some(d)),
                Err(e) if e.not_answered_yet() => Ok(None),
                Err(e) => Err(e),
            }
        },
    )
    .await;
    match polled {
        Polled::Done(domain) => domain,
        Polled::TimedOut(domain) => {
            let found = if domain.delegated_name_servers.is_empty() {
                "DNS answers no name servers for it".to_owned()
            } else {
                format!("DNS answers {}", domain.delegated_name_servers.join(", "))
            };
            diags.root_error(
                "Domain not delegated in time",
                format!(
                    "Domain `{}` (`{}`) is not delegated after {timeout_secs} s: set its name \
                     servers at your registrar to {} ({found}). The domain is onboarded and \
                     kept in state (tainted); raise `delegation_timeout_seconds`, or set \
                     `wait_for_delegation = false`.",
                    domain.domain,
                    domain.domain_id,
                    domain.name_servers.join(", ")
                ),
            );
            domain
        }
        Polled::Failed(domain, e) => {
            api_error(diags, &e);
            domain
        }
        Polled::Cancelled(domain) => {
            poll::stopped(
                diags,
                &format!(
                    "domain `{}` (`{}`) to be delegated; it is onboarded and kept in state \
                     (tainted)",
                    domain.domain, domain.domain_id
                ),
            );
            domain
        }
    }
}

/// The state of a domain as the API answers it (the wait settings null).
pub fn from_api<'a>(d: Domain) -> ProjectDomainState<'a> {
    ProjectDomainState {
        id: known(d.domain_id),
        project_id: known(d.project_id),
        domain: known(d.domain),
        name_servers: Value::Value(d.name_servers.into_iter().map(known).collect()),
        delegation_status: known(d.delegation_status),
        wait_for_delegation: Value::Null,
        delegation_timeout_seconds: Value::Null,
        created_at: known(d.created_at),
    }
}

/// Keeps what only the configuration knows (the wait settings) and the user's spelling of
/// `domain` when it is the same name.
fn merge<'a>(
    mut fresh: ProjectDomainState<'a>,
    known_state: &ProjectDomainState<'a>,
) -> ProjectDomainState<'a> {
    if let (Some(a), Some(b)) = (text(&fresh.domain), text(&known_state.domain)) {
        if dns_rules::same_host(a, b) {
            fresh.domain = known_state.domain.clone();
        }
    }
    fresh.wait_for_delegation = known_state.wait_for_delegation;
    fresh.delegation_timeout_seconds = known_state.delegation_timeout_seconds.clone();
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> Domain {
        Domain {
            domain_id: "dom_1".into(),
            project_id: "prj_1".into(),
            domain: "example.com".into(),
            name_servers: vec!["ns1.x".into(), "ns2.x".into()],
            delegation_status: "pending".into(),
            delegated_name_servers: vec![],
            soa_serial: Some(1),
            created_at: "t".into(),
        }
    }

    #[test]
    fn the_users_spelling_of_the_domain_is_kept() {
        let mut prior = from_api(domain());
        prior.domain = known("Example.COM.");
        let fresh = merge(from_api(domain()), &prior);
        assert_eq!(fresh.domain, known("Example.COM."));
        let mut other = domain();
        other.domain = "other.com".into();
        assert_eq!(merge(from_api(other), &prior).domain, known("other.com"));
    }

    #[tokio::test]
    async fn case_and_a_final_dot_never_replace() {
        let r = ProjectDomainResource::new(Arc::default());
        let mut diags = Diagnostics::default();
        let prior = from_api(domain());
        let mut proposed = prior.clone();
        proposed.domain = known("EXAMPLE.com.");
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior.clone(),
                proposed.clone(),
                proposed,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert!(replace.is_empty());
        assert_eq!(planned.domain, known("example.com"), "no change either");
        let mut proposed = prior.clone();
        proposed.domain = known("example.org");
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior,
                proposed.clone(),
                proposed,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert_eq!(replace, vec![AttributePath::new("domain")]);
        assert!(planned.id.is_unknown());
    }

    #[tokio::test]
    async fn a_bad_domain_is_an_error_on_the_attribute() {
        let r = ProjectDomainResource::new(Arc::default());
        let mut diags = Diagnostics::default();
        let config = ProjectDomainState {
            domain: known("localhost"),
            delegation_timeout_seconds: Value::Value(crate::plugin::kit::Number::Int(0)),
            ..Default::default()
        };
        r.validate(&mut diags, config).await;
        let paths: Vec<_> = diags.errors.iter().map(|e| e.attribute.clone()).collect();
        assert_eq!(
            paths,
            [
                AttributePath::new("domain"),
                AttributePath::new("delegation_timeout_seconds")
            ]
        );
    }
}
