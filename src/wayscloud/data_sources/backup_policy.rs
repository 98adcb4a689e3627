//! `data "wayscloud_database_backup_policy"`: a database's automated backup policy.

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use tf_provider::schema::AttributeType;

use super::{Ask, Inputs, Source};
use crate::wayscloud::client::{ApiFailure, Client};

pub const TYPE_NAME: &str = "wayscloud_database_backup_policy";

pub struct DatabaseBackupPolicy;

#[async_trait]
impl Source for DatabaseBackupPolicy {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }
    fn description(&self) -> &'static str {
        "Reads a database's automated backup policy (`GET .../backup-policy`)."
    }
    fn inputs(&self) -> Inputs {
        Inputs::Database
    }
    fn outputs(&self) -> Vec<(&'static str, AttributeType, &'static str)> {
        use AttributeType::{Bool, Number, String};
        vec![
            ("enabled", Bool, "Whether automated backups run."),
            ("frequency", String, "`hourly`, `daily` or `weekly`."),
            ("retention_days", Number, "Days backups are kept."),
            ("time_of_day", String, "`HH:MM` (UTC)."),
            ("last_backup", String, "The last automated backup."),
            ("next_backup", String, "The next automated backup."),
        ]
    }
    async fn fetch(
        &self,
        client: &Client,
        ask: &Ask<'_>,
    ) -> Result<Map<String, Value>, ApiFailure> {
        let p = client.backup_policy(ask.db_type, ask.db_name).await?;
        let v = json!({
            "enabled": p.enabled, "frequency": p.frequency, "retention_days": p.retention_days,
            "time_of_day": p.time_of_day, "last_backup": p.last_backup, "next_backup": p.next_backup,
        });
        Ok(v.as_object().cloned().unwrap_or_default())
    }
}
