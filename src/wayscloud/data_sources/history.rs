//! `data "wayscloud_database_history"`: every database the customer ever created.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tf_provider::schema::AttributeType;

use super::{object, Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_database_history";

pub struct DatabaseHistory;

#[async_trait]
impl Source for DatabaseHistory {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Lists every database the customer ever created, deleted ones included (`GET /v1/databases/history`), newest first."
    }
    fn inputs(&self) -> Inputs {
        Inputs::None
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::String;
        vec![(
            "databases",
            AttributeType::List(Box::new(object(&[
                ("db_name", String),
                ("db_type", String),
                ("created_at", String),
                ("deleted_at", String),
                ("status", String),
            ]))),
            "Each database: `db_name`, `db_type`, `created_at`, `deleted_at` (null while it lives), `status` (`active` or `deleted`).",
        )]
    }
    async fn fetch(
        &self,
        client: &Client,
        _ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let list: Vec<Value> = client
            .history()
            .await?
            .into_iter()
            .map(|h| json!({"db_name": h.db_name, "db_type": h.db_type, "created_at": h.created_at, "deleted_at": h.deleted_at, "status": h.status}))
            .collect();
        let mut out = Map::new();
        out.insert("databases".into(), Value::Array(list));
        Ok(out)
    }
}
