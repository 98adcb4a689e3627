//! `comwit_app_hostname`: a hostname attached to one app, in manual or automatic DNS mode.
//!
//! - Manual: the platform writes nothing; `records` lists what to publish at the DNS
//!   provider that hosts the name (first the ownership TXT record, then the route: a CNAME
//!   to the app's default hostname), ready to feed a `comwit_dns_record` of another project
//!   domain, or another provider's record resource.
//! - Automatic: the platform writes the same records into a project domain's zone: the one
//!   `domain_id` names, else the project's domain covering the hostname, checked at plan
//!   time when the hostname and domain are known (a hostname outside every project domain
//!   is a warning on `hostname`: an error would block `terraform destroy`, which plans a
//!   configured hostname missing from the state too), and again at apply before anything
//!   is sent (an error). Destroy detaches the hostname and its records go.
//! - `status` is `verified` only when DNS lookups answer every record; `missing` says which
//!   are not answered yet. `wait_for_verification` makes create wait (up to
//!   `verification_timeout_seconds`); on timeout the hostname stays in state, tainted, and
//!   the error names each missing record and what DNS answers instead.
//! - `app_id`, `hostname`, `dns_mode` and `domain_id` replace it; case and a final dot in
//!   `hostname` are spelling, never a change.
//! - Import by `<app_id>/<hostname>`, or by identity `{ app_id, hostname }`.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::comwit::client::{Client, Hostname, HostnameRequest};
use crate::comwit::common::{api_error, check_id, deleted};
use crate::comwit::provider::ProviderData;
use crate::contract::dns as dns_rules;
use crate::plugin::kit::poll::{self, Backoff, Polled};
use crate::plugin::kit::{attribute, bounded, known, opt, presence, text, Number, ValueNum};
use crate::plugin::{IdentityAttribute, IdentitySpec};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_app_hostname";
/// Bounds and default of `verification_timeout_seconds`.
pub const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 1..=3600;
pub const DEFAULT_TIMEOUT: i64 = 300;
/// How often a wait asks again.
pub const POLL_EVERY: Duration = Duration::from_secs(1);
/// The longest wait between two looks at a hostname being verified.
pub const POLL_AT_MOST: Duration = Duration::from_secs(4);

/// Identity `{ app_id, hostname }`; its import id is `<app_id>/<hostname>`.
pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "app_id",
                description: "App (`app_...`) the hostname is attached to.",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "hostname",
                description: "The hostname.",
                required_for_import: true,
            },
        ],
    }
}

/// The `comwit_app_hostname` resource.
pub struct AppHostnameResource {
    data: Arc<ProviderData>,
}

impl AppHostnameResource {
    /// A resource sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// One element of `records`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordItem<'a> {
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(borrow, default, rename = "type")]
    pub rtype: ValueString<'a>,
    #[serde(borrow, default)]
    pub value: ValueString<'a>,
    #[serde(default)]
    pub ttl: ValueNum,
}

/// State of `comwit_app_hostname`; field names are the attribute names.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppHostnameState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub hostname: ValueString<'a>,
    #[serde(borrow, default)]
    pub dns_mode: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain_id: ValueString<'a>,
    #[serde(default)]
    pub wait_for_verification: ValueBool,
    #[serde(default)]
    pub verification_timeout_seconds: ValueNum,
    #[serde(borrow, default)]
    pub status: ValueString<'a>,
    #[serde(borrow, default)]
    pub records: ValueList<Value<RecordItem<'a>>>,
    #[serde(borrow, default)]
    pub missing: ValueList<ValueString<'a>>,
    #[serde(borrow, default)]
    pub verified_at: ValueString<'a>,
}

/// The object type of `records`, shared with the data source.
pub fn record_type() -> AttributeType {
    AttributeType::Object(map! {
        "name" => AttributeType::String,
        "type" => AttributeType::String,
        "value" => AttributeType::String,
        "ttl" => AttributeType::Number,
    })
}

/// Schema descriptions shared with the data source.
pub const RECORDS_DESCRIPTION: &str =
    "The records the hostname needs, in this order: the ownership TXT record \
     (`_comwit-challenge.<hostname>`), then the route to the app (a CNAME to its default \
     hostname; an A record at a zone apex in automatic mode). Each has `name` (a FQDN), \
     `type`, `value` and `ttl`. In manual mode, publish them at the DNS provider of the \
     name; in automatic mode the platform wrote them.";
pub const STATUS_DESCRIPTION: &str =
    "`verified` when DNS lookups answer every record of `records`, `pending` until then. \
     Read at every refresh.";
pub const MISSING_DESCRIPTION: &str =
    "The records DNS does not answer yet, each as `<type> <name> = <value> (<what DNS \
     answers>)`; empty once verified.";

#[async_trait]
impl Resource for AppHostnameResource {
    type State<'a> = AppHostnameState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Bool, List, Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A hostname attached to an app. `dns_mode = \"manual\"`: publish \
                     `records` yourself at the DNS provider of the name. `dns_mode = \
                     \"automatic\"`: the platform writes them into a project domain's zone \
                     (`comwit_project_domain`), and removes them when the hostname goes. The \
                     app gateway serves the app at the hostname once `status` is \
                     `verified`.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "`<app_id>/<hostname>`."),
                    "app_id" => attribute(String, Required,
                        "App (`app_...`). Changing it replaces the hostname."),
                    "hostname" => attribute(String, Required,
                        "The hostname, e.g. `www.example.com`. Case and a final dot do not \
                         matter. Changing it replaces the hostname."),
                    "dns_mode" => attribute(String, OptionalComputed,
                        "`manual` (default): you publish `records`; `automatic`: the platform \
                         writes them into a project domain covering the hostname. Changing it \
                         replaces the hostname."),
                    "domain_id" => attribute(String, OptionalComputed,
                        "Automatic mode: the project domain (`dom_...`) whose zone gets the \
                         records; it must cover the hostname. Without it, the project's domain \
                         covering the hostname is used (and shown here); set `domain_id` when \
                         the domain is created in the same apply, as it is not seen at plan \
                         time otherwise. A hostname no project domain covers is a warning at \
                         plan time and an error at apply, before anything is sent. Changing it \
                         replaces the hostname."),
                    "wait_for_verification" => attribute(Bool, Optional,
                        "Wait at create until `status` is `verified` (default false). On \
                         timeout the hostname stays in state, tainted, and the error names the \
                         missing records. In manual mode, records published from `records` in \
                         the same configuration come after the hostname: leave this off there \
                         and read `data \"comwit_app_hostname\"` after them instead."),
                    "verification_timeout_seconds" => attribute(Number, Optional,
                        "How long `wait_for_verification` waits, 1 to 3600 seconds (default \
                         300)."),
                    "status" => attribute(String, Computed, STATUS_DESCRIPTION),
                    "records" => attribute(List(Box::new(record_type())), Computed, RECORDS_DESCRIPTION),
                    "missing" => attribute(List(Box::new(String)), Computed, MISSING_DESCRIPTION),
                    "verified_at" => attribute(String, Computed,
                        "When DNS was first seen answering every record (RFC 3339); null \
                         while pending."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: AppHostnameState<'a>,
    ) -> Option<()> {
        if let Some(id) = text(&config.app_id) {
            check_id(diags, id, "app_", "app_id");
        }
        if let Some(h) = text(&config.hostname) {
            if let Err(e) = dns_rules::domain_name(h) {
                diags.error(
                    "Invalid hostname",
                    e.replace("domain", "hostname"),
                    AttributePath::new("hostname"),
                );
            }
        }
        match text(&config.dns_mode) {
            None | Some("manual") | Some("automatic") => {}
            Some(other) => diags.error(
                "Invalid dns_mode",
                format!("`dns_mode` must be `manual` or `automatic`, got `{other}`."),
                AttributePath::new("dns_mode"),
            ),
        }
        if let Some(id) = text(&config.domain_id) {
            check_id(diags, id, "dom_", "domain_id");
        }
        // An unknown `domain_id` (from a domain made in the same apply) is not set yet.
        if presence(&config.domain_id) == Some(true)
            && text(&config.dns_mode) != Some("automatic")
            && !config.dns_mode.is_unknown()
        {
            diags.error(
                "domain_id is for automatic DNS",
                "`domain_id` names the zone automatic DNS writes into: set `dns_mode = \
                 \"automatic\"`, or remove `domain_id` (in manual mode you publish the \
                 records yourself).",
                AttributePath::new("domain_id"),
            );
        }
        bounded(
            diags,
            &config.verification_timeout_seconds,
            "verification_timeout_seconds",
            TIMEOUT_RANGE,
            DEFAULT_TIMEOUT,
        );
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: AppHostnameState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppHostnameState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let app_id = text(&state.app_id)?.to_owned();
        let hostname = text(&state.hostname)?.to_owned();
        match client.get_hostname(&app_id, &hostname).await {
            Ok(h) => Some((merge(from_api(h), &state), private)),
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
        mut proposed: AppHostnameState<'a>,
        _config: AppHostnameState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(AppHostnameState<'a>, ValueEmpty)> {
        if proposed.dns_mode.is_null() {
            proposed.dns_mode = known("manual");
        }
        proposed.id = match (text(&proposed.app_id), text(&proposed.hostname)) {
            (Some(a), Some(h)) => known(format!("{a}/{}", canonical(h))),
            _ => Value::Unknown,
        };
        proposed.status = Value::Unknown;
        proposed.records = Value::Unknown;
        proposed.missing = Value::Unknown;
        proposed.verified_at = Value::Unknown;
        if text(&proposed.dns_mode) == Some("automatic") {
            self.check_covered(diags, &proposed, false).await;
            if proposed.domain_id.is_null() {
                proposed.domain_id = Value::Unknown;
            }
        }
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: AppHostnameState<'a>,
        mut proposed: AppHostnameState<'a>,
        _config: AppHostnameState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppHostnameState<'a>, ValueEmpty, Vec<AttributePath>)> {
        if proposed.dns_mode.is_null() {
            proposed.dns_mode = known("manual");
        }
        let mut replace = vec![];
        if proposed.app_id != prior.app_id {
            replace.push(AttributePath::new("app_id"));
        }
        let same_host = match (text(&prior.hostname), text(&proposed.hostname)) {
            (Some(a), Some(b)) => dns_rules::same_host(a, b),
            _ => prior.hostname == proposed.hostname,
        };
        if same_host {
            // Semantic equality: another spelling of the same name (the API's canonical one
            // after an import) plans the state's value, so it is no change.
            proposed.hostname = prior.hostname.clone();
        } else {
            replace.push(AttributePath::new("hostname"));
        }
        if proposed.dns_mode != prior.dns_mode {
            replace.push(AttributePath::new("dns_mode"));
        }
        if proposed.domain_id != prior.domain_id {
            replace.push(AttributePath::new("domain_id"));
        }
        if !replace.is_empty() {
            proposed.id = Value::Unknown;
            proposed.status = Value::Unknown;
            proposed.records = Value::Unknown;
            proposed.missing = Value::Unknown;
            proposed.verified_at = Value::Unknown;
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: AppHostnameState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: AppHostnameState<'a>,
        _config: AppHostnameState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppHostnameState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let app_id = text(&planned.app_id)?.to_owned();
        if text(&planned.dns_mode) == Some("automatic")
            && !self.check_covered(diags, &planned, true).await
        {
            return None;
        }
        let request = HostnameRequest {
            hostname: canonical(text(&planned.hostname)?),
            dns_mode: text(&planned.dns_mode).unwrap_or("manual").to_owned(),
            domain_id: text(&planned.domain_id).map(str::to_owned),
        };
        let h = match client.create_hostname(&app_id, &request).await {
            Ok(h) => h,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let h = if planned.wait_for_verification == Value::Value(true) {
            let timeout = bounded(
                diags,
                &planned.verification_timeout_seconds,
                "verification_timeout_seconds",
                TIMEOUT_RANGE,
                DEFAULT_TIMEOUT,
            );
            wait_verified(diags, &client, h, timeout).await
        } else {
            h
        };
        Some((merge(from_api(h), &planned), Value::Null))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: AppHostnameState<'a>,
        planned: AppHostnameState<'a>,
        _config: AppHostnameState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(AppHostnameState<'a>, ValueEmpty)> {
        // Only the spelling of `hostname` or the wait settings change in place.
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AppHostnameState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let app_id = text(&prior.app_id)?.to_owned();
        let hostname = canonical(text(&prior.hostname)?);
        deleted(diags, client.delete_hostname(&app_id, &hostname).await)
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(AppHostnameState<'a>, ValueEmpty)> {
        let parts = identity().parse_import_id(
            diags,
            &id,
            |p| {
                matches!(p, [a, h] if {
                    let mut probe = Diagnostics::default();
                    check_id(&mut probe, a, "app_", "id");
                    probe.errors.is_empty() && dns_rules::domain_name(h).is_ok()
                })
            },
            "Import an app hostname by `<app_id>/<hostname>`, for example `terraform import \
             comwit_app_hostname.www app_5c2e9a1b00112233/www.example.com`",
        )?;
        let &[app_id, hostname] = parts.as_slice() else {
            return None;
        };
        let client = self.data.configured(diags)?.client;
        match client.get_hostname(app_id, &canonical(hostname)).await {
            Ok(h) => Some((from_api(h), Value::Null)),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}

impl AppHostnameResource {
    /// Automatic mode: a project domain must cover the hostname. Checked when the hostname
    /// (and `domain_id`, when set) are known; without `domain_id`, in the app's project (or
    /// the provider's default project while the app is not created yet). At plan time
    /// (`at_apply` false) a finding is a warning: `terraform destroy` plans the configured
    /// hostnames missing from the state too (one detached, and its domain deleted, outside
    /// Terraform), and must not fail on them. At apply it is an error, before anything is
    /// sent; returns whether the hostname may be created.
    async fn check_covered(
        &self,
        diags: &mut Diagnostics,
        planned: &AppHostnameState<'_>,
        at_apply: bool,
    ) -> bool {
        let mut found = Diagnostics::default();
        if at_apply && planned.domain_id.is_unknown() {
            // At apply every argument is known: an unknown `domain_id` is one left unset.
            let mut unset = planned.clone();
            unset.domain_id = Value::Null;
            self.find_uncovered(&mut found, &unset).await;
        } else {
            self.find_uncovered(&mut found, planned).await;
        }
        let ok = found.errors.is_empty();
        for d in found.errors {
            if at_apply {
                diags.add_error(d);
            } else {
                let mut d = d;
                d.detail = format!("{} Creating the hostname will fail.", d.detail).into();
                diags.add_warning(d);
            }
        }
        ok
    }

    async fn find_uncovered(&self, diags: &mut Diagnostics, planned: &AppHostnameState<'_>) {
        let Some(hostname) = text(&planned.hostname).map(canonical) else {
            return;
        };
        let mut quiet = Diagnostics::default();
        let Some(configured) = self.data.configured(&mut quiet) else {
            return;
        };
        let client = configured.client;
        if planned.domain_id.is_unknown() {
            return;
        }
        if let Some(domain_id) = text(&planned.domain_id) {
            match client.get_domain(domain_id).await {
                Ok(d) if covers(&d.domain, &hostname) => {}
                Ok(d) => diags.error(
                    "Hostname outside its domain",
                    format!(
                        "`{hostname}` is not in project domain `{}` (`{domain_id}`): automatic \
                         DNS writes the hostname's records into that zone, so the hostname must \
                         be the domain or a name under it.",
                        d.domain
                    ),
                    AttributePath::new("hostname"),
                ),
                Err(e) if e.is_not_found() => diags.error(
                    "Unknown project domain",
                    format!("Project domain `{domain_id}` does not exist (or the token is not a member of its project)."),
                    AttributePath::new("domain_id"),
                ),
                Err(e) => api_error(diags, &e),
            }
            return;
        }
        let project = match text(&planned.app_id) {
            Some(app_id) => match client.get_app(app_id).await {
                Ok(app) => Some(app.project_id),
                Err(_) => None,
            },
            None if planned.app_id.is_unknown() => configured.project_id.clone(),
            None => None,
        };
        let Some(project) = project else {
            return;
        };
        match client.list_domains(&project).await {
            Ok(domains) => {
                if !domains.iter().any(|d| covers(&d.domain, &hostname)) {
                    let names: Vec<String> =
                        domains.iter().map(|d| format!("`{}`", d.domain)).collect();
                    let has = if names.is_empty() {
                        "has no project domains".to_owned()
                    } else {
                        format!("has only {}", names.join(", "))
                    };
                    diags.error(
                        "No project domain covers the hostname",
                        format!(
                            "Automatic DNS writes the records of `{hostname}` into the zone of a \
                             project domain covering it, and project `{project}` {has}. Onboard \
                             its domain with `comwit_project_domain` and set `domain_id` to it \
                             (a domain created in the same apply is not known at plan time \
                             otherwise), or use `dns_mode = \"manual\"` and publish `records` \
                             yourself."
                        ),
                        AttributePath::new("hostname"),
                    );
                }
            }
            Err(e) => api_error(diags, &e),
        }
    }
}

/// Polls (every [`POLL_EVERY`], backing off to [`POLL_AT_MOST`]) until the hostname is
/// verified, `timeout_secs` passed (then an error naming the missing records) or Terraform
/// stops the provider; returns the hostname as last read.
async fn wait_verified(
    diags: &mut Diagnostics,
    client: &Client,
    h: Hostname,
    timeout_secs: i64,
) -> Hostname {
    let (app_id, hostname) = (h.app_id.clone(), h.hostname.clone());
    let (app_id, hostname) = (app_id.as_str(), hostname.as_str());
    let polled = poll::until(
        Backoff::growing(POLL_EVERY, POLL_AT_MOST),
        poll::deadline_in(timeout_secs),
        &client.cancel_token(),
        h,
        Hostname::is_verified,
        move || async move {
            match client.get_hostname(app_id, hostname).await {
                Ok(now) => Ok(Some(now)),
                Err(e) if e.not_answered_yet() => Ok(None),
                Err(e) => Err(e),
            }
        },
    )
    .await;
    match polled {
        Polled::Done(h) => h,
        Polled::TimedOut(h) => {
            diags.root_error(
                "Hostname not verified in time",
                format!(
                    "Hostname `{}` of app `{}` is not verified after {timeout_secs} s. Still \
                     missing in DNS: {}. The hostname is attached and kept in state \
                     (tainted); publish the records (see `records`), raise \
                     `verification_timeout_seconds`, or set `wait_for_verification = false`.",
                    h.hostname,
                    h.app_id,
                    h.missing_summary()
                ),
            );
            h
        }
        Polled::Failed(h, e) => {
            api_error(diags, &e);
            h
        }
        Polled::Cancelled(h) => {
            poll::stopped(
                diags,
                &format!(
                    "hostname `{}` of app `{}` to be verified; it is attached and kept in \
                     state (tainted)",
                    h.hostname, h.app_id
                ),
            );
            h
        }
    }
}

/// A hostname as the API writes it: lowercase, without the final dot.
pub fn canonical(h: &str) -> String {
    h.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Whether the zone `domain` covers `hostname`.
pub fn covers(domain: &str, hostname: &str) -> bool {
    hostname == domain
        || hostname
            .strip_suffix(domain)
            .is_some_and(|p| p.ends_with('.'))
}

/// `records` as Terraform holds them.
pub fn records_value<'a>(h: &Hostname) -> ValueList<Value<RecordItem<'a>>> {
    Value::Value(
        h.records
            .iter()
            .map(|r| {
                Value::Value(RecordItem {
                    name: known(r.name.clone()),
                    rtype: known(r.rtype.clone()),
                    value: known(r.value.clone()),
                    ttl: Value::Value(Number::Int(r.ttl)),
                })
            })
            .collect(),
    )
}

/// `missing` as Terraform holds it.
pub fn missing_value<'a>(h: &Hostname) -> ValueList<ValueString<'a>> {
    Value::Value(
        h.missing
            .iter()
            .map(|m| {
                let found = match (&m.error, m.found.is_empty()) {
                    (Some(e), _) => format!("lookup failed: {e}"),
                    (None, true) => "DNS answers nothing".to_owned(),
                    (None, false) => format!("DNS answers {}", m.found.join(", ")),
                };
                known(format!("{} {} = {} ({found})", m.rtype, m.name, m.value))
            })
            .collect(),
    )
}

/// The state of a hostname as the API answers it (the wait settings null).
pub fn from_api<'a>(h: Hostname) -> AppHostnameState<'a> {
    AppHostnameState {
        id: known(format!("{}/{}", h.app_id, h.hostname)),
        records: records_value(&h),
        missing: missing_value(&h),
        app_id: known(h.app_id),
        hostname: known(h.hostname),
        dns_mode: known(h.dns_mode),
        domain_id: opt(h.domain_id),
        wait_for_verification: Value::Null,
        verification_timeout_seconds: Value::Null,
        status: known(h.status),
        verified_at: opt(h.verified_at),
    }
}

/// Keeps what only the configuration knows (the wait settings) and the user's spelling of
/// `hostname`.
fn merge<'a>(mut fresh: AppHostnameState<'a>, ks: &AppHostnameState<'a>) -> AppHostnameState<'a> {
    if let (Some(a), Some(b)) = (text(&fresh.hostname), text(&ks.hostname)) {
        if dns_rules::same_host(a, b) {
            fresh.hostname = ks.hostname.clone();
        }
    }
    fresh.wait_for_verification = ks.wait_for_verification;
    fresh.verification_timeout_seconds = ks.verification_timeout_seconds.clone();
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comwit::client::NeededRecord;

    fn hostname(status: &str) -> Hostname {
        let rec = |t: &str, v: &str| NeededRecord {
            name: "www.example.com".into(),
            rtype: t.into(),
            value: v.into(),
            ttl: 300,
            found: vec![],
            error: None,
        };
        Hostname {
            hostname: "www.example.com".into(),
            app_id: "app_1".into(),
            dns_mode: "manual".into(),
            domain_id: None,
            status: status.into(),
            records: vec![
                rec("TXT", "comwit-verify=x"),
                rec("CNAME", "web.apps.localhost"),
            ],
            missing: if status == "verified" {
                vec![]
            } else {
                vec![rec("CNAME", "web.apps.localhost")]
            },
            verified_at: None,
            created_at: "t".into(),
        }
    }

    #[test]
    fn state_shows_records_and_what_is_missing() {
        let s = from_api(hostname("pending"));
        let Value::Value(records) = &s.records else {
            panic!("records")
        };
        assert_eq!(records.len(), 2);
        let Value::Value(missing) = &s.missing else {
            panic!("missing")
        };
        assert_eq!(
            missing[0],
            known("CNAME www.example.com = web.apps.localhost (DNS answers nothing)")
        );
        assert_eq!(s.id, known("app_1/www.example.com"));
        let mut prior = s.clone();
        prior.hostname = known("WWW.Example.com.");
        assert_eq!(
            merge(from_api(hostname("verified")), &prior).hostname,
            prior.hostname
        );
    }

    #[tokio::test]
    async fn arguments_are_checked_on_their_attribute() {
        let r = AppHostnameResource::new(Arc::default());
        let mut diags = Diagnostics::default();
        r.validate(
            &mut diags,
            AppHostnameState {
                app_id: known("app_1"),
                hostname: known("not a host"),
                dns_mode: known("auto"),
                domain_id: known("dom_1"),
                ..Default::default()
            },
        )
        .await;
        let paths: Vec<_> = diags.errors.iter().map(|e| e.attribute.clone()).collect();
        assert_eq!(
            paths,
            [
                AttributePath::new("hostname"),
                AttributePath::new("dns_mode"),
                AttributePath::new("domain_id")
            ]
        );
        let mut diags = Diagnostics::default();
        assert!(r
            .import(&mut diags, "www.example.com".into())
            .await
            .is_none());
        assert!(diags.errors[0].detail.contains("<app_id>/<hostname>"));

        // Null and unknown are not set: a manual hostname with `domain_id = var.x` (null,
        // or unknown until apply) is no error; a known one is.
        for domain_id in [Value::Null, Value::Unknown, known("dom_1")] {
            let is_known = domain_id.is_value();
            let mut diags = Diagnostics::default();
            r.validate(
                &mut diags,
                AppHostnameState {
                    app_id: known("app_1"),
                    hostname: known("www.example.com"),
                    dns_mode: known("manual"),
                    domain_id,
                    ..Default::default()
                },
            )
            .await;
            assert_eq!(diags.errors.is_empty(), !is_known, "{:?}", diags.errors);
        }
    }

    #[tokio::test]
    async fn mode_and_hostname_replace_but_spelling_does_not() {
        let r = AppHostnameResource::new(Arc::default());
        let prior = from_api(hostname("verified"));
        let mut diags = Diagnostics::default();
        let mut same = prior.clone();
        same.hostname = known("WWW.EXAMPLE.COM.");
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior.clone(),
                same.clone(),
                same,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert!(replace.is_empty());
        assert_eq!(planned.hostname, prior.hostname, "no change either");
        let mut auto = prior.clone();
        auto.dns_mode = known("automatic");
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior,
                auto.clone(),
                auto,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert_eq!(replace, vec![AttributePath::new("dns_mode")]);
        assert!(planned.records.is_unknown());
        assert!(covers("example.com", "www.example.com"));
        assert!(!covers("example.com", "wwwexample.com"));
    }
}
