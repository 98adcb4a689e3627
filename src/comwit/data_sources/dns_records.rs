//! `data "comwit_dns_records"`: the records of a project domain's zone, optionally only
//! those of one name and type.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, DataSource, Diagnostics};

use crate::comwit::common::{check_id, data_source_error};
use crate::comwit::provider::ProviderData;
use crate::contract::dns as dns_rules;
use crate::plugin::kit::{attribute, known, opt, text, Number, ValueNum};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_dns_records";

/// The `comwit_dns_records` data source.
pub struct DnsRecordsDataSource {
    data: Arc<ProviderData>,
}

impl DnsRecordsDataSource {
    /// A data source sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// One element of `records`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RecordItem<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
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
    #[serde(borrow, default)]
    pub managed_by: ValueString<'a>,
}

/// State of `data "comwit_dns_records"`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DnsRecordsState<'a> {
    #[serde(borrow, default)]
    pub domain_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub name: ValueString<'a>,
    #[serde(borrow, default, rename = "type")]
    pub rtype: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain: ValueString<'a>,
    #[serde(borrow, default)]
    pub records: ValueList<Value<RecordItem<'a>>>,
}

fn num(v: Option<i64>) -> ValueNum {
    v.map_or(Value::Null, |n| Value::Value(Number::Int(n)))
}

#[async_trait]
impl DataSource for DnsRecordsDataSource {
    type State<'a> = DnsRecordsState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, Required};
        use AttributeType::{List, Number, Object, String};
        let item = map! {
            "id" => String,
            "name" => String,
            "fqdn" => String,
            "type" => String,
            "value" => String,
            "ttl" => Number,
            "priority" => Number,
            "weight" => Number,
            "port" => Number,
            "managed_by" => String,
        };
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Lists the DNS records of a project domain's zone, those written by \
                     automatic-DNS hostnames included (`managed_by`).",
                ),
                attributes: map! {
                    "domain_id" => attribute(String, Required, "Project domain (`dom_...`)."),
                    "name" => attribute(String, Optional,
                        "Only records of this name (`@`, relative, or a FQDN in the zone; case \
                         and a final dot do not matter)."),
                    "type" => attribute(String, Optional, "Only records of this type (any case)."),
                    "domain" => attribute(String, Computed, "The zone's name."),
                    "records" => attribute(List(Box::new(Object(item))), Computed,
                        "The records, by name and type: `id` (`rec_...`), `name` (relative, `@` \
                         for the apex), `fqdn`, `type`, `value` (canonical form), `ttl`, \
                         `priority`, `weight`, `port` (null where the type has none) and \
                         `managed_by` (`hostname:<hostname>` for records a hostname wrote)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = text(&config.domain_id) {
            check_id(diags, id, "dom_", "domain_id");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: ValueEmpty,
    ) -> Option<Self::State<'a>> {
        let client = self.data.configured(diags)?.client;
        let domain_id = text(&config.domain_id)?.to_owned();
        let domain = match client.get_domain(&domain_id).await {
            Ok(d) => d.domain,
            Err(e) => {
                data_source_error(diags, &e);
                return None;
            }
        };
        let records = match client.list_records(&domain_id).await {
            Ok(r) => r,
            Err(e) => {
                data_source_error(diags, &e);
                return None;
            }
        };
        let name = text(&config.name).map(str::to_owned);
        let rtype = text(&config.rtype).map(str::to_owned);
        let items = records
            .into_iter()
            .filter(|r| {
                name.as_deref()
                    .is_none_or(|n| dns_rules::same_name(n, &r.name, &domain))
            })
            .filter(|r| {
                rtype
                    .as_deref()
                    .is_none_or(|t| t.eq_ignore_ascii_case(&r.rtype))
            })
            .map(|r| {
                Value::Value(RecordItem {
                    id: known(r.record_id),
                    name: known(r.name),
                    fqdn: known(r.fqdn),
                    rtype: known(r.rtype),
                    value: known(r.value),
                    ttl: num(Some(r.ttl)),
                    priority: num(r.priority),
                    weight: num(r.weight),
                    port: num(r.port),
                    managed_by: opt(r.managed_by),
                })
            })
            .collect();
        Some(DnsRecordsState {
            domain: known(domain),
            records: Value::Value(items),
            ..config
        })
    }
}
