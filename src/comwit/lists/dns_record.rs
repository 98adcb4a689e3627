//! `list "comwit_dns_record"`: the DNS records of one project domain (`domain_id`, or its
//! name `domain`) or of every domain of a project, optionally of one `type` and one `name`.
//! The API has no paging: each domain's records are one fetch, and the listing goes domain
//! by domain, fetching the next only while Terraform is still reading.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, AttributePath, Diagnostics};

use super::{entries, filter, project_of};
use crate::comwit::client::DnsRecord;
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::dns_record::{from_api, DnsRecordState};
use crate::plugin::kit::text;
use crate::plugin::{ConfigRules, ListItem, ListResource, Page};

/// The record types a zone holds.
const TYPES: [&str; 8] = ["A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA", "NS"];

/// The `config` block of `list "comwit_dns_record"`.
#[derive(Debug, Default, Deserialize)]
pub struct DnsRecordFilter<'a> {
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain: ValueString<'a>,
    #[serde(borrow, default, rename = "type")]
    pub rtype: ValueString<'a>,
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
}

/// Lists `comwit_dns_record`.
pub struct DnsRecordList {
    data: Arc<ProviderData>,
}

impl DnsRecordList {
    /// A list sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// Server defaults: a record's TTL is 300 seconds unless told otherwise.
pub fn rules() -> ConfigRules {
    ConfigRules {
        defaults: vec![("ttl", 300.into())],
        omit: vec![],
    }
}

/// A name or FQDN, compared without case and final dot.
fn canonical(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether a record passes the `type` and `name` filters. `name` matches the record's
/// name in the zone (`@` for the apex) or its FQDN, in any spelling.
fn matches(record: &DnsRecord, rtype: Option<&str>, name: Option<&str>) -> bool {
    let type_ok = rtype.is_none_or(|t| record.rtype.eq_ignore_ascii_case(t));
    let name_ok = name.is_none_or(|n| {
        let n = canonical(n);
        n == canonical(&record.name)
            || n == canonical(&record.fqdn)
            || (n == "@" && canonical(&record.fqdn) == canonical(&record.domain))
    });
    type_ok && name_ok
}

#[async_trait]
impl ListResource for DnsRecordList {
    type Config<'a> = DnsRecordFilter<'a>;
    type State = DnsRecordState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The DNS records of a project's domains (`comwit_project_domain`), each \
                     with the state its import gives (the API's spellings).",
                ),
                attributes: map! {
                    "project_id" => filter("Project (`prj_...`) whose domains are listed when neither `domain_id` nor `domain` is set. Defaults to the provider's `project_id`."),
                    "domain_id" => filter("Only the records of this project domain (`dom_...`)."),
                    "domain" => filter("Only the records of the project domain of this name (any case, final dot or not)."),
                    "type" => filter("Only records of this type (`A`, `AAAA`, `CNAME`, `TXT`, `MX`, `SRV`, `CAA` or `NS`; any case)."),
                    "name" => filter("Only records of this name: its name in the zone (`@` for the apex, `www`) or its FQDN; any case, final dot or not."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DnsRecordFilter<'a>,
    ) -> Option<()> {
        if let Some(project) = text(&config.project_id) {
            check_id(diags, project, "prj_", "project_id");
        }
        if let Some(id) = text(&config.domain_id) {
            check_id(diags, id, "dom_", "domain_id");
        }
        if let Some(t) = text(&config.rtype) {
            if !TYPES.iter().any(|k| k.eq_ignore_ascii_case(t)) {
                diags.error(
                    "Invalid record type",
                    format!(
                        "`{t}` is not a record type: use one of {}.",
                        TYPES.join(", ")
                    ),
                    AttributePath::new("type"),
                );
            }
        }
        if text(&config.domain_id).is_some() && text(&config.domain).is_some() {
            diags.error(
                "Conflicting filters",
                "Set `domain_id` or `domain`, not both.",
                AttributePath::new("domain"),
            );
        }
        Some(())
    }

    /// The cursor is the ids of the domains still to list, comma-separated.
    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &DnsRecordFilter<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<DnsRecordState<'static>>> {
        let configured = self.data.configured(diags)?;
        let client = &configured.client;
        let mut pending: Vec<String> = match (cursor, text(&config.domain_id)) {
            (Some(c), _) => c.split(',').map(str::to_owned).collect(),
            (None, Some(id)) => vec![id.to_owned()],
            (None, None) => {
                let project = project_of(diags, &configured, &config.project_id)?;
                let domains = match client.list_domains(&project).await {
                    Ok(d) => d,
                    Err(e) => {
                        api_error(diags, &e);
                        return None;
                    }
                };
                let wanted = text(&config.domain).map(canonical);
                domains
                    .into_iter()
                    .filter(|d| wanted.as_ref().is_none_or(|w| *w == canonical(&d.domain)))
                    .map(|d| d.domain_id)
                    .collect()
            }
        };
        if pending.is_empty() {
            return Some(Page::last(Vec::new()));
        }
        let domain_id = pending.remove(0);
        let listing = match client.record_listing(&domain_id).await {
            Ok(r) => r,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let rtype = text(&config.rtype).map(str::to_owned);
        let name = text(&config.name).map(str::to_owned);
        let named = move |n| format!("record {n} of domain {domain_id}");
        let rest = entries(listing, named, move |r| {
            matches(&r, rtype.as_deref(), name.as_deref()).then(|| ListItem {
                display_name: format!("{} {} {}", r.fqdn, r.rtype, r.value),
                state: from_api(r),
            })
        });
        Some(Page {
            items: Vec::new(),
            next: (!pending.is_empty()).then(|| pending.join(",")),
            rest: Some(rest),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, fqdn: &str, rtype: &str) -> DnsRecord {
        serde_json::from_value(serde_json::json!({
            "record_id": "rec_1", "domain_id": "dom_1", "domain": "example.test",
            "name": name, "fqdn": fqdn, "type": rtype, "value": "x", "ttl": 300,
        }))
        .expect("record")
    }

    #[test]
    fn name_and_type_filters_match_any_spelling_and_nothing_else() {
        let www = record("www", "www.example.test", "A");
        assert!(matches(&www, None, None));
        assert!(matches(&www, Some("a"), Some("WWW")));
        assert!(matches(&www, Some("A"), Some("www.Example.test.")));
        assert!(!matches(&www, Some("AAAA"), None));
        assert!(!matches(&www, None, Some("mail")));
        let apex = record("@", "example.test", "MX");
        assert!(matches(&apex, Some("MX"), Some("@")));
        assert!(matches(&apex, None, Some("example.test.")));
        assert!(!matches(&apex, None, Some("www")));
    }
}
