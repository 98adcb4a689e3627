//! `data "comwit_app_hostname"`: a hostname of an app, verified now: its status, the
//! records it needs and those DNS does not answer yet.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, AttributePath, DataSource, Diagnostics};

use crate::comwit::common::{check_id, data_source_error};
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::app_hostname::{
    canonical, missing_value, record_type, records_value, RecordItem, MISSING_DESCRIPTION,
    RECORDS_DESCRIPTION, STATUS_DESCRIPTION,
};
use crate::contract::dns as dns_rules;
use crate::plugin::kit::{attribute, known, opt, text};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_app_hostname";

/// The `comwit_app_hostname` data source.
pub struct AppHostnameDataSource {
    data: Arc<ProviderData>,
}

impl AppHostnameDataSource {
    /// A data source sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `data "comwit_app_hostname"`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AppHostnameDataState<'a> {
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub hostname: ValueString<'a>,
    #[serde(borrow, default)]
    pub dns_mode: ValueString<'a>,
    #[serde(borrow, default)]
    pub domain_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub status: ValueString<'a>,
    #[serde(borrow, default)]
    pub records: ValueList<Value<RecordItem<'a>>>,
    #[serde(borrow, default)]
    pub missing: ValueList<ValueString<'a>>,
    #[serde(borrow, default)]
    pub verified_at: ValueString<'a>,
}

#[async_trait]
impl DataSource for AppHostnameDataSource {
    type State<'a> = AppHostnameDataState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Required};
        use AttributeType::{List, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Reads a hostname of an app and verifies it now: `status`, the records it \
                     needs, and which of them DNS does not answer yet. Read it after the \
                     records are published (`depends_on`) to see the hostname turn \
                     `verified`.",
                ),
                attributes: map! {
                    "app_id" => attribute(String, Required, "App (`app_...`)."),
                    "hostname" => attribute(String, Required, "The hostname (case and a final dot do not matter)."),
                    "dns_mode" => attribute(String, Computed, "`manual` or `automatic`."),
                    "domain_id" => attribute(String, Computed,
                        "Automatic mode: the project domain whose zone holds the records."),
                    "status" => attribute(String, Computed, STATUS_DESCRIPTION),
                    "records" => attribute(List(Box::new(record_type())), Computed, RECORDS_DESCRIPTION),
                    "missing" => attribute(List(Box::new(String)), Computed, MISSING_DESCRIPTION),
                    "verified_at" => attribute(String, Computed,
                        "When DNS was first seen answering every record (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        if let Some(id) = text(&config.app_id) {
            check_id(diags, id, "app_", "app_id");
        }
        if let Some(h) = text(&config.hostname) {
            if let Err(e) = dns_rules::domain_name(h) {
                diags.error("Invalid hostname", e, AttributePath::new("hostname"));
            }
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
        let app_id = text(&config.app_id)?.to_owned();
        let hostname = canonical(text(&config.hostname)?);
        match client.get_hostname(&app_id, &hostname).await {
            Ok(h) => Some(AppHostnameDataState {
                records: records_value(&h),
                missing: missing_value(&h),
                dns_mode: known(h.dns_mode),
                domain_id: opt(h.domain_id),
                status: known(h.status),
                verified_at: opt(h.verified_at),
                app_id: config.app_id,
                hostname: config.hostname,
            }),
            Err(e) => {
                data_source_error(diags, &e);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bad_hostname_is_an_error_on_it() {
        let ds = AppHostnameDataSource::new(Arc::default());
        let mut diags = Diagnostics::default();
        let config = AppHostnameDataState {
            app_id: known("app_1"),
            hostname: known("bad host"),
            ..Default::default()
        };
        ds.validate(&mut diags, config).await;
        assert_eq!(diags.errors[0].attribute, AttributePath::new("hostname"));
        assert!(Value::<()>::Null.is_null());
    }
}
