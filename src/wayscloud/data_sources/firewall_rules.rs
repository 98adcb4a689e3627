//! `data "wayscloud_database_firewall_rules"`: a database's firewall rules.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tf_provider::schema::AttributeType;

use super::{object, Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_database_firewall_rules";

pub struct DatabaseFirewallRules;

#[async_trait]
impl Source for DatabaseFirewallRules {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Lists a database's firewall rules (`GET .../firewall`): the addresses allowed to connect."
    }
    fn inputs(&self) -> Inputs {
        Inputs::Database
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::{Number, String};
        vec![(
            "rules",
            AttributeType::List(Box::new(object(&[
                ("rule_id", String),
                ("ip_address", String),
                ("port", Number),
                ("description", String),
                ("created_at", String),
            ]))),
            "Each rule: `rule_id`, `ip_address`, `port`, `description`, `created_at`.",
        )]
    }
    async fn fetch(
        &self,
        client: &Client,
        ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let list: Vec<Value> = client
            .rules(ask.db_type, ask.db_name)
            .await?
            .into_iter()
            .map(|r| json!({"rule_id": r.rule_id, "ip_address": r.ip_address, "port": r.port, "description": r.description, "created_at": r.created_at}))
            .collect();
        let mut out = Map::new();
        out.insert("rules".into(), Value::Array(list));
        Ok(out)
    }
}
