//! `data "wayscloud_quota"`: databases used and allowed, storage used and allowed.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tf_provider::schema::AttributeType;

use super::{Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_quota";

pub struct Quota;

#[async_trait]
impl Source for Quota {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Reads the customer's database quota (`GET /v1/quota`): databases used and allowed, storage used and allowed."
    }
    fn inputs(&self) -> Inputs {
        Inputs::None
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::Number;
        vec![
            ("used", Number, "Databases in use."),
            ("limit", Number, "Databases allowed."),
            ("storage_used_gb", Number, "Storage used in GB."),
            ("storage_limit_gb", Number, "Storage allowed in GB."),
        ]
    }
    async fn fetch(
        &self,
        client: &Client,
        _ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let q = client.quota().await?;
        let v = json!({"used": q.used, "limit": q.limit, "storage_used_gb": q.storage_used_gb, "storage_limit_gb": q.storage_limit_gb});
        Ok(v.as_object().cloned().unwrap_or_default())
    }
}
