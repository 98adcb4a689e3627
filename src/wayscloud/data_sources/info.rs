//! `data "wayscloud_database_info"`: size, connections, limit, owner of a database.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tf_provider::schema::AttributeType;

use super::{Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_database_info";

pub struct DatabaseInfo;

#[async_trait]
impl Source for DatabaseInfo {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Reads a database's info (`GET .../info`): size, current connections, connection limit, creation time and owner."
    }
    fn inputs(&self) -> Inputs {
        Inputs::Database
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::{Number, String};
        vec![
            ("size_mb", Number, "Size in MB."),
            ("connection_count", Number, "Current connections."),
            ("connection_limit", Number, "Most simultaneous connections."),
            ("created_at", String, "Creation time."),
            ("owner", String, "The owning user."),
        ]
    }
    async fn fetch(
        &self,
        client: &Client,
        ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let i = client.info(ask.db_type, ask.db_name).await?;
        let v = json!({
            "size_mb": i.size_mb, "connection_count": i.connection_count, "connection_limit": i.connection_limit,
            "created_at": i.created_at, "owner": i.owner,
        });
        Ok(v.as_object().cloned().unwrap_or_default())
    }
}
