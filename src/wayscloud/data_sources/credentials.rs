//! `data "wayscloud_database_credentials"`: connection metadata of a database, never the
//! password (WaysCloud does not return it; neither does this type).

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tf_provider::schema::AttributeType;

use super::{Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_database_credentials";

pub struct DatabaseCredentials;

#[async_trait]
impl Source for DatabaseCredentials {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Reads a database's connection metadata (`GET .../credentials`): host, port, database, user and a \
         connection string **without** the password. The password is never read: take it from \
         `wayscloud_database.x.password` (create or rotation)."
    }
    fn inputs(&self) -> Inputs {
        Inputs::Database
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::{Number, String};
        vec![
            ("host", String, "Server host name."),
            ("port", Number, "Server port."),
            ("database", String, "Database name."),
            ("username", String, "Database user."),
            (
                "connection_string",
                String,
                "Connection URL without password.",
            ),
        ]
    }
    async fn fetch(
        &self,
        client: &Client,
        ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let c = client.credentials(ask.db_type, ask.db_name).await?;
        let v = json!({"host": c.host, "port": c.port, "database": c.database, "username": c.username, "connection_string": c.connection_string});
        Ok(v.as_object().cloned().unwrap_or_default())
    }
}
