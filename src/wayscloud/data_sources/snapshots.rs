//! `data "wayscloud_database_snapshots"`: a database's snapshots, newest first.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tf_provider::schema::AttributeType;

use super::{object, Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_database_snapshots";

pub struct DatabaseSnapshots;

#[async_trait]
impl Source for DatabaseSnapshots {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Lists a database's snapshots (`GET .../snapshots`), newest first."
    }
    fn inputs(&self) -> Inputs {
        Inputs::Database
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::{Number, String};
        vec![(
            "snapshots",
            AttributeType::List(Box::new(object(&[
                ("snapshot_id", String),
                ("size_mb", Number),
                ("created_at", String),
                ("description", String),
            ]))),
            "Each snapshot: `snapshot_id`, `size_mb`, `created_at`, `description`.",
        )]
    }
    async fn fetch(
        &self,
        client: &Client,
        ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let list: Vec<Value> = client
            .snapshots(ask.db_type, ask.db_name)
            .await?
            .into_iter()
            .map(|s| json!({"snapshot_id": s.snapshot_id, "size_mb": s.size_mb, "created_at": s.created_at, "description": s.description}))
            .collect();
        let mut out = Map::new();
        out.insert("snapshots".into(), Value::Array(list));
        Ok(out)
    }
}
