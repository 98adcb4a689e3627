//! `data "wayscloud_database_metrics"`: a database's performance metrics.

use async_trait::async_trait;
use serde_json::{Map, Value};
use tf_provider::schema::AttributeType;

use super::{Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_database_metrics";

pub struct DatabaseMetrics;

#[async_trait]
impl Source for DatabaseMetrics {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Reads a database's metrics (`GET .../metrics`): storage, backups, connections, queries, cache hits, CPU and memory."
    }
    fn inputs(&self) -> Inputs {
        Inputs::Database
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::{Number, String};
        vec![
            ("storage_gb", Number, "Storage used in GB."),
            ("backup_gb", Number, "Backup storage in GB."),
            ("active_connections", Number, "Current active connections."),
            ("max_connections", Number, "Most connections allowed."),
            ("total_queries", Number, "Queries executed."),
            ("queries_per_sec", Number, "Queries per second."),
            ("cache_hit_ratio", Number, "Cache hit ratio, percent."),
            ("cpu_percent", Number, "CPU use, percent."),
            ("memory_percent", Number, "Memory use, percent."),
            ("measured_at", String, "When measured."),
        ]
    }
    async fn fetch(
        &self,
        client: &Client,
        ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let m = client.metrics(ask.db_type, ask.db_name).await?;
        let mut out = Map::new();
        let num = |v: Option<f64>| v.map(Value::from).unwrap_or(Value::Null);
        out.insert("storage_gb".into(), num(m.storage_gb));
        out.insert("backup_gb".into(), num(m.backup_gb));
        out.insert("active_connections".into(), m.active_connections.into());
        out.insert("max_connections".into(), m.max_connections.into());
        out.insert("total_queries".into(), m.total_queries.into());
        out.insert("queries_per_sec".into(), num(m.queries_per_sec));
        out.insert("cache_hit_ratio".into(), num(m.cache_hit_ratio));
        out.insert("cpu_percent".into(), num(m.cpu_percent));
        out.insert("memory_percent".into(), num(m.memory_percent));
        out.insert("measured_at".into(), m.measured_at.into());
        Ok(out)
    }
}
