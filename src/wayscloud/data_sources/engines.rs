//! `data "wayscloud_database_engines"`: the engines WaysCloud offers, with their versions.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tf_provider::schema::AttributeType;

use super::{object, Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_database_engines";

pub struct DatabaseEngines;

#[async_trait]
impl Source for DatabaseEngines {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Lists the database engines WaysCloud offers (`GET /v1/databases/engines`): type, name, version and port."
    }
    fn inputs(&self) -> Inputs {
        Inputs::None
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::{Number, String};
        vec![(
            "engines",
            AttributeType::List(Box::new(object(&[
                ("db_type", String),
                ("name", String),
                ("version", String),
                ("port", Number),
            ]))),
            "Each engine: `db_type` (`postgresql`, `mariadb`), `name`, `version`, `port`.",
        )]
    }
    async fn fetch(
        &self,
        client: &Client,
        _ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let engines: Vec<Value> = client
            .engines()
            .await?
            .into_iter()
            .map(|e| json!({"db_type": e.db_type, "name": e.name, "version": e.version, "port": e.port}))
            .collect();
        let mut out = Map::new();
        out.insert("engines".into(), Value::Array(engines));
        Ok(out)
    }
}
