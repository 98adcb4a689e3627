//! `comwit_dns_record`: one DNS record in a project domain's zone.
//!
//! - Each type's rules are checked at plan time, with the error on the attribute: an A
//!   value that is not IPv4, an MX without `priority`, a `port` on a TXT record, a TTL out
//!   of range; with the domain known, also the name (inside the zone). Records of one name
//!   and type are served with the smallest of their TTLs, as DNS wants one TTL per set.
//! - The zone's records are read at plan time too: a CNAME beside records already in the
//!   zone of the same name (either way round), or a duplicate of one, is a **warning** on
//!   the attribute, and the apply fails (the platform's 409, explained: the record in the
//!   way, and for a duplicate the `terraform import` command). Never an error at plan
//!   time: Terraform plans the create half of a replacement (`-replace`, taint,
//!   `replace_triggered_by`) without the object it replaces, so the record would conflict
//!   with itself, and `terraform destroy` plans a configured record missing from the state
//!   (committed by an interrupted apply) and must not fail. Records of the same
//!   configuration that are not created yet are not seen at plan time (Terraform plans
//!   each resource alone): a new CNAME and a new A of one name fail at apply, after one
//!   of them was made. An unknown `domain_id` is a warning at plan time too.
//! - Spelling is never a change: `@`, the zone's name and its FQDN with a final dot are
//!   one name; case does not matter in names, types and host values; TXT written as quoted
//!   strings is their concatenation; `2001:DB8::1` is `2001:db8::1`. The state keeps the
//!   configuration's spelling while the platform holds the same record; a real change made
//!   outside Terraform shows as a change. A TXT value over 255 bytes is split into strings
//!   as DNS does. The plan is semantically equal too: an argument the configuration spells
//!   differently from the state (the API's canonical spelling after an import, or a
//!   rewritten configuration) plans the state's value, so it is no change.
//! - `domain_id` replaces the record; everything else is updated in place (same id).
//! - Import by `<domain_id>/<record_id>`, or by identity `{ domain_id, id }`.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::comwit::client::{ApiFailure, Client, DnsRecord, RecordRequest};
use crate::comwit::common::{api_error, check_id, deleted};
use crate::comwit::provider::ProviderData;
use crate::contract::dns::{self as dns_rules, RecordSpec};
use crate::plugin::kit::{attribute, known, text, whole_number, Number, ValueNum};
use crate::plugin::{IdentityAttribute, IdentitySpec};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_dns_record";

/// Identity `{ domain_id, id }`; its import id is `<domain_id>/<id>`.
pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "domain_id",
                description: "Project domain (`dom_...`) whose zone holds the record.",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "id",
                description: "DNS record id (`rec_...`).",
                required_for_import: true,
            },
        ],
    }
}

/// The `comwit_dns_record` resource.
pub struct DnsRecordResource {
    data: Arc<ProviderData>,
}

impl DnsRecordResource {
    /// A resource sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `comwit_dns_record`; field names are the attribute names.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsRecordState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain: ValueString<'a>,
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(borrow, default)]
    pub fqdn: ValueString<'a>,
    #[serde(borrow, default, rename = "type")]
    pub rtype: ValueString<'a>,
    #[serde(borrow, default)]
    pub value: ValueString<'a>,
    #[serde(default)]
    pub ttl: ValueNum,
    #[serde(default)]
    pub priority: ValueNum,
    #[serde(default)]
    pub weight: ValueNum,
    #[serde(default)]
    pub port: ValueNum,
}

fn num(v: Option<i64>) -> ValueNum {
    v.map_or(Value::Null, |n| Value::Value(Number::Int(n)))
}

fn whole(v: &ValueNum) -> Option<i64> {
    match v {
        Value::Value(n) => n.whole(),
        _ => None,
    }
}

/// Every argument that decides the record is known (null counts as known).
fn all_known(s: &DnsRecordState<'_>) -> bool {
    !s.name.is_unknown()
        && !s.rtype.is_unknown()
        && !s.value.is_unknown()
        && !s.ttl.is_unknown()
        && !s.priority.is_unknown()
        && !s.weight.is_unknown()
        && !s.port.is_unknown()
}

/// The record's canonical spec in `zone` (errors on their attributes).
fn spec(diags: &mut Diagnostics, s: &DnsRecordState<'_>, zone: &str) -> Option<RecordSpec> {
    let nums = [
        ("ttl", &s.ttl, dns_rules::TTL_MIN..=dns_rules::TTL_MAX),
        ("priority", &s.priority, 0..=65535),
        ("weight", &s.weight, 0..=65535),
        ("port", &s.port, 0..=65535),
    ];
    let before = diags.errors.len();
    let mut values = [None; 4];
    for (i, (name, v, range)) in nums.into_iter().enumerate() {
        values[i] = whole_number(diags, v, name, range);
    }
    if diags.errors.len() > before {
        return None;
    }
    match dns_rules::record(
        zone,
        text(&s.name)?,
        text(&s.rtype)?,
        text(&s.value)?,
        values[0],
        values[1],
        values[2],
        values[3],
    ) {
        Ok(spec) => Some(spec),
        Err((field, message)) => {
            let field = if field == "type" { "type" } else { field };
            diags.error(
                format!("Invalid DNS record {field}"),
                message,
                AttributePath::new(field),
            );
            None
        }
    }
}

fn request(spec: &RecordSpec) -> RecordRequest {
    RecordRequest {
        name: spec.name.clone(),
        rtype: spec.rtype.clone(),
        value: spec.value.clone(),
        ttl: spec.ttl,
        priority: spec.priority,
        weight: spec.weight,
        port: spec.port,
    }
}

/// The placeholder for the resource's address in an import command: the plugin protocol
/// never tells a provider the address of the resource it plans or applies.
pub const ADDRESS: &str = "comwit_dns_record.<name>";

/// Why `spec` cannot join the zone's records (skipping `own`), and on which attribute.
pub fn conflict(
    records: &[DnsRecord],
    spec: &RecordSpec,
    own: Option<&str>,
) -> Option<(&'static str, String)> {
    let same_name: Vec<&DnsRecord> = records
        .iter()
        .filter(|r| Some(r.record_id.as_str()) != own && r.name == spec.name)
        .collect();
    if spec.rtype == "CNAME" {
        if let Some(other) = same_name.first() {
            return Some((
                "type",
                format!(
                    "A CNAME record cannot sit beside other records, and `{}` already has a {} \
                     record (`{}`). Use another name, or remove the other records.",
                    other.fqdn, other.rtype, other.record_id
                ),
            ));
        }
    } else if let Some(c) = same_name.iter().find(|r| r.rtype == "CNAME") {
        return Some((
            "name",
            format!(
                "`{}` has a CNAME record (`{}`), and a CNAME cannot sit beside other records.",
                c.fqdn, c.record_id
            ),
        ));
    }
    for r in same_name.iter().filter(|r| r.rtype == spec.rtype) {
        if r.value == spec.value
            && r.priority == spec.priority
            && r.weight == spec.weight
            && r.port == spec.port
        {
            let advice = match r.managed_by.as_deref() {
                Some(m) => format!(
                    ", written by {m}: it is changed and removed only through that hostname. \
                     Remove this resource, or detach the hostname."
                ),
                None => format!(
                    ". If an interrupted apply (or anyone) created it, bring it under \
                     Terraform instead of creating it again: `terraform import {ADDRESS} \
                     {}/{}` (or an `import {{ to = {ADDRESS}, id = \"{}/{}\" }}` block), \
                     with this resource's address.",
                    r.domain_id, r.record_id, r.domain_id, r.record_id
                ),
            };
            return Some((
                "value",
                format!(
                    "The zone already has this {} record for `{}` (`{}`){advice}",
                    spec.rtype, r.fqdn, r.record_id,
                ),
            ));
        }
    }
    None
}

/// The plan-time form of a conflict with the zone's records: a warning. A plan cannot tell
/// a conflict from the record it replaces (Terraform plans the create half of a
/// replacement without the object it replaces), and `terraform destroy` plans (and must
/// not fail on) a configured record that is missing from the state.
pub fn conflict_warning(diags: &mut Diagnostics, field: &'static str, message: String) {
    diags.warning(
        "Possible DNS record conflict",
        format!(
            "{message} Unless that record is gone by then, the apply fails here. It is \
             expected when this plan replaces or destroys that record (`-replace`, a taint, \
             `replace_triggered_by`, a removed resource): Terraform deletes it first."
        ),
        AttributePath::new(field),
    );
}

#[async_trait]
impl Resource for DnsRecordResource {
    type State<'a> = DnsRecordState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "One DNS record in a project domain's zone (`comwit_project_domain`), \
                     served by the platform's name servers. Types: A, AAAA, CNAME, TXT, MX, \
                     SRV, CAA and NS, each type's rules checked at plan time (an error on the \
                     attribute). A CNAME beside other records of its name, or a duplicate \
                     record, is refused by the platform at apply; at plan time only the \
                     records already in the zone are seen, and a conflict with one of them is \
                     a warning (it is expected when the plan replaces or destroys that \
                     record), so two new records of one configuration that conflict (a new \
                     CNAME and a new A of one name) fail at apply, after one of them was \
                     made. A duplicate's error names the `terraform import` command. `@`, the \
                     zone's name and its FQDN with a final dot are one name, and case never \
                     matters in names and host values: spelling never plans a change.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "DNS record id (`rec_...`)."),
                    "domain_id" => attribute(String, Required,
                        "Project domain (`dom_...`) whose zone holds the record. Changing it \
                         replaces the record."),
                    "domain" => attribute(String, Computed, "The zone's name."),
                    "name" => attribute(String, Required,
                        "Name in the zone: `@` (or the zone's name) for the apex, a relative \
                         name such as `www` or `_sip._tcp`, or a FQDN inside the zone (with or \
                         without the final dot). `*` may be the first label. The state keeps \
                         the spelling the record was created with (the API's after an \
                         import); another spelling of the same name plans no change."),
                    "fqdn" => attribute(String, Computed, "The record's full name."),
                    "type" => attribute(String, Required,
                        "`A`, `AAAA`, `CNAME`, `TXT`, `MX`, `SRV`, `CAA` or `NS` (any case). A \
                         CNAME cannot be at the apex (an error at plan time) or beside other \
                         records of its name (refused at apply; a plan warns about the records \
                         already in the zone, not about new ones of the same configuration); \
                         NS only delegates a subdomain."),
                    "value" => attribute(String, Required,
                        "The value: an IPv4 (A) or IPv6 (AAAA) address; a host name (CNAME, NS, \
                         MX and SRV targets; a final dot does not matter); text (TXT, up to \
                         2048 bytes, split into 255-byte strings as DNS does; `\"a\" \"b\"` is \
                         `ab`); `<flags> <tag> \"<value>\"` (CAA, e.g. `0 issue \
                         \"letsencrypt.org\"`)."),
                    "ttl" => attribute(Number, OptionalComputed,
                        "Time to live, 60 to 86400 seconds (default 300). Records of one name \
                         and type are served with the smallest TTL among them."),
                    "priority" => attribute(Number, Optional,
                        "Priority, 0 to 65535: required for MX and SRV, refused on other \
                         types."),
                    "weight" => attribute(Number, Optional,
                        "Weight, 0 to 65535: required for SRV, refused on other types."),
                    "port" => attribute(Number, Optional,
                        "Port, 0 to 65535: required for SRV, refused on other types."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DnsRecordState<'a>,
    ) -> Option<()> {
        if let Some(id) = text(&config.domain_id) {
            check_id(diags, id, "dom_", "domain_id");
        }
        if all_known(&config) && text(&config.name).is_some() {
            // The zone is not known here: the value's rules only (the name is checked at
            // plan time, in its zone).
            let mut probe = config.clone();
            probe.name = known("x");
            spec(diags, &probe, "zone.invalid");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: DnsRecordState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DnsRecordState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let domain_id = text(&state.domain_id)?.to_owned();
        let id = text(&state.id)?.to_owned();
        match client.get_record(&domain_id, &id).await {
            Ok(r) => Some((keep_spelling(from_api(r), &state), private)),
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
        mut proposed: DnsRecordState<'a>,
        _config: DnsRecordState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(DnsRecordState<'a>, ValueEmpty)> {
        proposed.id = Value::Unknown;
        if proposed.ttl.is_null() {
            proposed.ttl = num(Some(dns_rules::TTL_DEFAULT));
        }
        proposed.domain = Value::Unknown;
        proposed.fqdn = Value::Unknown;
        self.check_in_zone(diags, &mut proposed, None).await;
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DnsRecordState<'a>,
        mut proposed: DnsRecordState<'a>,
        _config: DnsRecordState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DnsRecordState<'a>, ValueEmpty, Vec<AttributePath>)> {
        if proposed.ttl.is_null() {
            proposed.ttl = num(Some(dns_rules::TTL_DEFAULT));
        }
        if proposed.domain_id != prior.domain_id {
            proposed.id = Value::Unknown;
            proposed.domain = Value::Unknown;
            proposed.fqdn = Value::Unknown;
            self.check_in_zone(diags, &mut proposed, None).await;
            return Some((proposed, Value::Null, vec![AttributePath::new("domain_id")]));
        }
        let zone = text(&prior.domain).map(str::to_owned);
        // Semantic equality: an argument the configuration spells differently from the
        // state (after an import the state holds the API's canonical spelling) plans the
        // state's value, so another spelling of the same record is no change.
        proposed = keep_prior_spelling(proposed, &prior);
        let same = match (&zone, all_known(&proposed)) {
            (Some(zone), true) => {
                let mut quiet = Diagnostics::default();
                spec(&mut quiet, &prior, zone) == spec(&mut quiet, &proposed, zone)
            }
            _ => false,
        };
        if !same {
            let own = text(&prior.id).map(str::to_owned);
            proposed.fqdn = Value::Unknown;
            self.check_in_zone(diags, &mut proposed, own.as_deref())
                .await;
        }
        Some((proposed, Value::Null, vec![]))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DnsRecordState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: DnsRecordState<'a>,
        _config: DnsRecordState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DnsRecordState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let domain_id = text(&planned.domain_id)?.to_owned();
        let zone = zone_of(diags, &client, &domain_id).await?;
        let spec = spec(diags, &planned, &zone)?;
        match client.create_record(&domain_id, &request(&spec)).await {
            Ok(r) => Some((keep_spelling(from_api(r), &planned), Value::Null)),
            Err(e) => {
                refused(diags, &client, &e, &domain_id, &spec, None).await;
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DnsRecordState<'a>,
        planned: DnsRecordState<'a>,
        _config: DnsRecordState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DnsRecordState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let domain_id = text(&planned.domain_id)?.to_owned();
        let id = text(&prior.id)?.to_owned();
        let zone = match text(&prior.domain) {
            Some(z) => z.to_owned(),
            None => zone_of(diags, &client, &domain_id).await?,
        };
        let want = spec(diags, &planned, &zone)?;
        let mut quiet = Diagnostics::default();
        if spec(&mut quiet, &prior, &zone).as_ref() == Some(&want) {
            // Only the spelling changed: the platform holds this record already.
            let mut state = planned;
            state.fqdn = prior.fqdn;
            return Some((state, Value::Null));
        }
        match client.update_record(&domain_id, &id, &request(&want)).await {
            Ok(r) => Some((keep_spelling(from_api(r), &planned), Value::Null)),
            Err(e) => {
                refused(diags, &client, &e, &domain_id, &want, Some(&id)).await;
                None
            }
        }
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DnsRecordState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let domain_id = text(&prior.domain_id)?.to_owned();
        let id = text(&prior.id)?.to_owned();
        deleted(diags, client.delete_record(&domain_id, &id).await)
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DnsRecordState<'a>, ValueEmpty)> {
        let parts = identity().parse_import_id(
            diags,
            &id,
            |p| {
                matches!(p, [d, r] if {
                    let mut probe = Diagnostics::default();
                    check_id(&mut probe, d, "dom_", "id");
                    check_id(&mut probe, r, "rec_", "id");
                    probe.errors.is_empty()
                })
            },
            "Import a DNS record by `<domain_id>/<record_id>`, for example `terraform import \
             comwit_dns_record.www dom_5c2e9a1b00112233/rec_0a1b2c3d4e5f6a7b`",
        )?;
        let &[domain_id, record_id] = parts.as_slice() else {
            return None;
        };
        let client = self.data.configured(diags)?.client;
        match client.get_record(domain_id, record_id).await {
            Ok(r) => Some((from_api(r), Value::Null)),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}

impl DnsRecordResource {
    /// With the domain known: the name inside the zone and the type's rules (errors on
    /// their attribute), and the zone's other records (CNAME beside others, duplicate:
    /// warnings, the apply refuses); fills `domain` and `fqdn`.
    async fn check_in_zone(
        &self,
        diags: &mut Diagnostics,
        planned: &mut DnsRecordState<'_>,
        own: Option<&str>,
    ) {
        let Some(domain_id) = text(&planned.domain_id).map(str::to_owned) else {
            return;
        };
        let mut quiet = Diagnostics::default();
        let Some(client) = self.data.configured(&mut quiet).map(|c| c.client) else {
            return;
        };
        let zone = match client.get_domain(&domain_id).await {
            Ok(d) => d.domain,
            Err(e) if e.is_not_found() => {
                // A warning: `terraform destroy` plans the configured records missing from
                // the state too, and must not fail on a domain deleted outside Terraform.
                diags.warning(
                    "Unknown project domain",
                    format!(
                        "Project domain `{domain_id}` does not exist (or the token is not a \
                         member of its project): creating this record will fail."
                    ),
                    AttributePath::new("domain_id"),
                );
                return;
            }
            Err(e) => {
                api_error(diags, &e);
                return;
            }
        };
        planned.domain = known(zone.clone());
        if !all_known(planned) {
            return;
        }
        let Some(spec) = spec(diags, planned, &zone) else {
            return;
        };
        planned.fqdn = known(dns_rules::fqdn(&spec.name, &zone));
        match client.list_records(&domain_id).await {
            Ok(records) => {
                if let Some((field, message)) = conflict(&records, &spec, own) {
                    conflict_warning(diags, field, message);
                }
            }
            Err(e) => api_error(diags, &e),
        }
    }
}

/// A failed create or update: on a 409, the zone's record it conflicts with and what to
/// do (the import command for a duplicate), on its attribute; otherwise the API's error.
async fn refused(
    diags: &mut Diagnostics,
    client: &Client,
    failure: &ApiFailure,
    domain_id: &str,
    spec: &RecordSpec,
    own: Option<&str>,
) {
    if failure.is_conflict() {
        if let Ok(records) = client.list_records(domain_id).await {
            if let Some((field, message)) = conflict(&records, spec, own) {
                diags.error(
                    failure.summary(),
                    format!("DNS record conflict (the API answered 409): {message}"),
                    AttributePath::new(field),
                );
                return;
            }
        }
    }
    api_error(diags, failure);
}

async fn zone_of(diags: &mut Diagnostics, client: &Client, domain_id: &str) -> Option<String> {
    match client.get_domain(domain_id).await {
        Ok(d) => Some(d.domain),
        Err(e) => {
            api_error(diags, &e);
            None
        }
    }
}

/// The state of a record as the API answers it (canonical spellings).
pub fn from_api<'a>(r: DnsRecord) -> DnsRecordState<'a> {
    DnsRecordState {
        id: known(r.record_id),
        domain_id: known(r.domain_id),
        domain: known(r.domain),
        name: known(r.name),
        fqdn: known(r.fqdn),
        rtype: known(r.rtype),
        value: known(r.value),
        ttl: num(Some(r.ttl)),
        priority: num(r.priority),
        weight: num(r.weight),
        port: num(r.port),
    }
}

/// The plan of an in-place update: `proposed` (the configuration's values) with the prior
/// state's value for each argument that is another spelling of it. Terraform takes a
/// planned value equal to the prior state in place of a differing configuration value.
pub fn keep_prior_spelling<'a>(
    proposed: DnsRecordState<'a>,
    prior: &DnsRecordState<'a>,
) -> DnsRecordState<'a> {
    let same_type = match (text(&proposed.rtype), text(&prior.rtype)) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    let mut planned = keep_spelling(proposed.clone(), prior);
    if !same_type {
        // A value is only the same value within one type.
        planned.value = proposed.value;
    }
    planned
}

/// `fresh` with the spellings of `known_state` where they name the same thing.
pub fn keep_spelling<'a>(
    mut fresh: DnsRecordState<'a>,
    ks: &DnsRecordState<'a>,
) -> DnsRecordState<'a> {
    let zone = text(&fresh.domain).unwrap_or("").to_owned();
    let rtype = text(&fresh.rtype).unwrap_or("").to_owned();
    if let (Some(a), Some(b)) = (text(&fresh.name), text(&ks.name)) {
        if dns_rules::same_name(a, b, &zone) {
            fresh.name = ks.name.clone();
        }
    }
    if let (Some(a), Some(b)) = (text(&fresh.rtype), text(&ks.rtype)) {
        if a.eq_ignore_ascii_case(b) {
            fresh.rtype = ks.rtype.clone();
        }
    }
    if let (Some(a), Some(b)) = (text(&fresh.value), text(&ks.value)) {
        if dns_rules::same_value(&rtype, a, b) {
            fresh.value = ks.value.clone();
        }
    }
    // A number written as 300.0 stays as written.
    for (f, k) in [
        (&mut fresh.ttl, &ks.ttl),
        (&mut fresh.priority, &ks.priority),
        (&mut fresh.weight, &ks.weight),
        (&mut fresh.port, &ks.port),
    ] {
        if whole(f).is_some() && whole(f) == whole(k) {
            *f = k.clone();
        }
    }
    fresh
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(name: &str, t: &str, v: &str) -> DnsRecord {
        DnsRecord {
            record_id: "rec_1".into(),
            domain_id: "dom_1".into(),
            domain: "example.com".into(),
            name: name.into(),
            fqdn: dns_rules::fqdn(name, "example.com"),
            rtype: t.into(),
            value: v.into(),
            ttl: 300,
            priority: None,
            weight: None,
            port: None,
            managed_by: None,
        }
    }

    fn config(name: &str, t: &str, v: &str) -> DnsRecordState<'static> {
        DnsRecordState {
            domain_id: known("dom_1"),
            name: known(name.to_owned()),
            rtype: known(t.to_owned()),
            value: known(v.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn spellings_are_kept_and_real_changes_are_not() {
        for (name, t, v, api_name, api_value) in [
            ("@", "a", "192.0.2.1", "@", "192.0.2.1"),
            ("example.com", "A", "192.0.2.1", "@", "192.0.2.1"),
            ("Example.COM.", "A", "192.0.2.1", "@", "192.0.2.1"),
            (
                "WWW.example.com.",
                "CNAME",
                "Target.Example.NET.",
                "www",
                "target.example.net",
            ),
            ("txt", "TXT", "\"a\" \"b\"", "txt", "ab"),
            ("v6", "AAAA", "2001:DB8:0::1", "v6", "2001:db8::1"),
        ] {
            let state = config(name, t, v);
            let fresh = keep_spelling(
                from_api(api(api_name, &t.to_uppercase(), api_value)),
                &state,
            );
            assert_eq!(
                (fresh.name, fresh.rtype, fresh.value),
                (state.name, state.rtype, state.value)
            );
        }
        // Out-of-band: another address is a change.
        let state = config("www", "A", "192.0.2.1");
        let fresh = keep_spelling(from_api(api("www", "A", "192.0.2.9")), &state);
        assert_eq!(fresh.value, known("192.0.2.9"));
        // TXT is case-sensitive.
        let state = config("t", "TXT", "Hello");
        let fresh = keep_spelling(from_api(api("t", "TXT", "hello")), &state);
        assert_eq!(fresh.value, known("hello"));
    }

    #[tokio::test]
    async fn each_type_rule_is_an_error_on_its_attribute() {
        let r = DnsRecordResource::new(Arc::default());
        for (c, field) in [
            (config("x", "A", "2001:db8::1"), "value"),
            (config("x", "AAAA", "10.0.0.1"), "value"),
            (config("x", "MX", "mail.example.com"), "priority"),
            (config("x", "SPF", "v=spf1"), "type"),
            (config("x", "TXT", &"x".repeat(3000)), "value"),
            (
                DnsRecordState {
                    port: Value::Value(Number::Int(80)),
                    ..config("x", "A", "192.0.2.1")
                },
                "port",
            ),
            (
                DnsRecordState {
                    ttl: Value::Value(Number::Float(300.5)),
                    ..config("x", "A", "192.0.2.1")
                },
                "ttl",
            ),
        ] {
            let mut diags = Diagnostics::default();
            r.validate(&mut diags, c.clone()).await;
            assert_eq!(
                diags
                    .errors
                    .iter()
                    .map(|e| e.attribute.clone())
                    .collect::<Vec<_>>(),
                vec![AttributePath::new(field)],
                "{c:?}"
            );
        }
        let mut diags = Diagnostics::default();
        r.validate(&mut diags, config("x", "TXT", &"x".repeat(600)))
            .await;
        assert!(diags.errors.is_empty(), "long TXT is split, not refused");
    }

    #[test]
    fn a_cname_beside_other_records_conflicts_either_way() {
        let records = vec![api("www", "A", "192.0.2.1")];
        let spec = dns_rules::record(
            "example.com",
            "WWW",
            "cname",
            "x.net",
            None,
            None,
            None,
            None,
        )
        .expect("spec");
        assert_eq!(conflict(&records, &spec, None).map(|c| c.0), Some("type"));
        assert_eq!(conflict(&records, &spec, Some("rec_1")), None);
        let records = vec![api("www", "CNAME", "x.net")];
        let spec = dns_rules::record("example.com", "www", "TXT", "hi", None, None, None, None)
            .expect("spec");
        assert_eq!(conflict(&records, &spec, None).map(|c| c.0), Some("name"));
        let records = vec![api("a", "A", "192.0.2.1")];
        let spec = dns_rules::record("example.com", "a", "A", "192.0.2.1", None, None, None, None)
            .expect("spec");
        assert_eq!(conflict(&records, &spec, None).map(|c| c.0), Some("value"));
        // Another TTL for the same set is no conflict (the set is served with the smallest).
        let spec = dns_rules::record(
            "example.com",
            "a",
            "A",
            "192.0.2.2",
            Some(60),
            None,
            None,
            None,
        )
        .expect("spec");
        assert_eq!(conflict(&records, &spec, None), None);
    }

    #[test]
    fn an_update_plans_the_prior_spelling_of_each_equal_argument() {
        // After an import: the API's spelling in state, the user's in the configuration.
        for (name, t, v, api_name, api_value) in [
            (
                "Example.COM.",
                "mx",
                "Mail.Example.com.",
                "@",
                "mail.example.com",
            ),
            ("@", "TXT", "\"a\" \"b\"", "@", "ab"),
            ("Alias", "cname", "T.example.NET.", "alias", "t.example.net"),
            ("_sip._TCP", "SRV", "SIP.x.net.", "_sip._tcp", "sip.x.net"),
            ("Sub.example.com", "NS", "NS1.x.net", "sub", "ns1.x.net"),
            ("v6", "AAAA", "2001:DB8:0::1", "v6", "2001:db8::1"),
            (
                "c",
                "CAA",
                "0 ISSUE letsencrypt.org",
                "c",
                "0 issue \"letsencrypt.org\"",
            ),
        ] {
            let prior = from_api(api(api_name, &t.to_uppercase(), api_value));
            let mut proposed = config(name, t, v);
            proposed.domain = prior.domain.clone();
            proposed.ttl = Value::Value(Number::Float(300.0));
            let planned = keep_prior_spelling(proposed, &prior);
            assert_eq!(
                (&planned.name, &planned.rtype, &planned.value, &planned.ttl),
                (&prior.name, &prior.rtype, &prior.value, &prior.ttl),
                "{name} {t} {v}"
            );
        }
        // A real change stays a change; a value is the same only within one type.
        let prior = from_api(api("www", "A", "192.0.2.1"));
        let mut proposed = config("WWW", "A", "192.0.2.2");
        proposed.domain = prior.domain.clone();
        let planned = keep_prior_spelling(proposed, &prior);
        assert_eq!(
            (planned.name, planned.value),
            (prior.name, known("192.0.2.2"))
        );
        let prior = from_api(api("t", "TXT", "x.net"));
        let mut proposed = config("t", "CNAME", "x.net.");
        proposed.domain = prior.domain.clone();
        assert_eq!(keep_prior_spelling(proposed, &prior).value, known("x.net."));
    }

    #[test]
    fn a_duplicate_names_the_import_command_unless_a_hostname_wrote_it() {
        let spec = dns_rules::record("example.com", "a", "A", "192.0.2.1", None, None, None, None)
            .expect("spec");
        let records = vec![api("a", "A", "192.0.2.1")];
        let (field, message) = conflict(&records, &spec, None).expect("duplicate");
        assert_eq!(field, "value");
        assert!(
            message.contains("`terraform import comwit_dns_record.<name> dom_1/rec_1`"),
            "{message}"
        );
        let mut written = api("a", "A", "192.0.2.1");
        written.managed_by = Some("hostname:a.example.com".into());
        let (_, message) = conflict(&[written], &spec, None).expect("duplicate");
        assert!(!message.contains("terraform import"), "{message}");
        assert!(message.contains("hostname:a.example.com"), "{message}");
        // At plan time a conflict is a warning on the attribute, never an error.
        let mut diags = Diagnostics::default();
        conflict_warning(&mut diags, field, "x".into());
        assert!(diags.errors.is_empty());
        assert_eq!(diags.warnings[0].attribute, AttributePath::new("value"));
    }
}
