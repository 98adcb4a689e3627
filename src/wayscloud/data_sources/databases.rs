//! `data "wayscloud_databases"`: the customer's databases of one type.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tf_provider::schema::AttributeType;

use super::{object, Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_databases";

pub struct Databases;

#[async_trait]
impl Source for Databases {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Lists the customer's databases of one type (`GET /v1/databases/{db_type}`; permission `database:read`). \
         With an internal API key, the provider's `customer_id` chooses the customer."
    }
    fn inputs(&self) -> Inputs {
        Inputs::DbType
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::{Number, String};
        vec![(
            "databases",
            AttributeType::List(Box::new(object(&[
                ("db_name", String),
                ("username", String),
                ("host", String),
                ("port", Number),
                ("connection_limit", Number),
                ("description", String),
                ("created_at", String),
            ]))),
            "Each database: `db_name`, `username`, `host`, `port`, `connection_limit`, `description`, `created_at`.",
        )]
    }
    async fn fetch(
        &self,
        client: &Client,
        ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let list: Vec<Value> = client
            .list_databases(ask.db_type, ask.customer_id)
            .await?
            .into_iter()
            .map(|d| {
                json!({
                    "db_name": d.db_name, "username": d.username, "host": d.host, "port": d.port,
                    "connection_limit": d.connection_limit, "description": d.description, "created_at": d.created_at,
                })
            })
            .collect();
        let mut out = Map::new();
        out.insert("databases".into(), Value::Array(list));
        Ok(out)
    }
}
