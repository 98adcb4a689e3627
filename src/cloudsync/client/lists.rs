//! The list routes read entry by entry, for list resources (`terraform query`): an entry
//! that does not read as its type (a missing field, an empty or unusable id) is an
//! [`OddEntry`] naming it, and the other entries are still read. The whole answer must
//! still be the documented `{"data": [...]}` (else the call fails as any other).

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{routes, Client, Database, Operation, Result, Table};

/// An entry of a list answer that could not be read as its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OddEntry {
    /// Its id when it has one, else its place in the answer (`entry 3`).
    pub name: String,
    /// Why it could not be read (cleaned of every secret the client knows).
    pub reason: String,
}

/// The entries of a list answer, in its order.
pub type Entries<T> = Vec<std::result::Result<T, OddEntry>>;

impl Client {
    /// Each value as a `T`; `id` is the field that names an entry: it must be a non-empty
    /// string. `slash` says whether it may hold a `/` (a table's may: the last part of an
    /// import id takes the rest).
    fn entries<T: DeserializeOwned>(
        &self,
        values: Vec<Value>,
        id: &str,
        slash: bool,
    ) -> Entries<T> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let name = v.get(id).and_then(Value::as_str).map(str::to_owned);
                let odd = |reason: String| OddEntry {
                    name: self.clean(
                        &name
                            .clone()
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| format!("entry {}", i + 1)),
                    ),
                    reason: self.clean(&reason),
                };
                match name.as_deref() {
                    None | Some("") => return Err(odd(format!("it has no `{id}`"))),
                    Some(n) if !slash && n.contains('/') => {
                        return Err(odd(format!("its `{id}` holds a `/`")))
                    }
                    Some(_) => {}
                }
                serde_json::from_value::<T>(v).map_err(|e| odd(e.to_string()))
            })
            .collect()
    }

    /// `GET /v1/databases`, entry by entry.
    pub async fn database_entries(&self) -> Result<Entries<Database>> {
        let values: Vec<Value> = self
            .data(Operation::new(&routes::LIST_DATABASES), None)
            .await?;
        Ok(self.entries(values, "managedDatabaseId", false))
    }

    /// `GET /v1/databases/{id}/cloudsync/tables`, entry by entry.
    pub async fn table_entries(&self, id: &str) -> Result<Entries<Table>> {
        let values: Vec<Value> = self
            .data(Operation::on(&routes::LIST_TABLES, id), None)
            .await?;
        Ok(self.entries(values, "name", true))
    }
}

#[cfg(test)]
mod tests {
    use tokio_util::sync::CancellationToken;

    use super::super::ClientConfig;
    use super::*;
    use crate::client::testutil::{Canned, Mock};
    use crate::client::FailureKind;

    fn test_client(base: &url::Url) -> Client {
        Client::with_cancel_token(
            ClientConfig {
                max_retries: 0,
                ..ClientConfig::new(base.clone(), "csk_0123456789abcdef0123456789abcdef".into())
            },
            CancellationToken::new(),
        )
        .expect("client")
    }

    #[tokio::test]
    async fn an_odd_entry_is_named_and_the_others_are_read() {
        let mock = Mock::start(vec![
            Canned::json(
                200,
                r#"{"data":[
                    {"managedDatabaseId":"db_1","label":"one","provider":"postgres","flavor":"vanilla","databaseName":"a"},
                    {"managedDatabaseId":"db_2","provider":"postgres","flavor":"vanilla","databaseName":"b"},
                    {"label":"nameless"},
                    {"managedDatabaseId":"db_3","label":"three","provider":"sqlitecloud","flavor":"sqlitecloud","databaseName":"c"}
                ],"meta":{"total":4}}"#,
            ),
            Canned::json(200, r#"{"data":[{"name":"a/b","enabled":true},{"name":"t","enabled":"yes"}]}"#),
            Canned::json(200, r#"{"data":{"name":"t"}}"#),
        ])
        .await;
        let client = test_client(&mock.base);
        let entries = client.database_entries().await.expect("list");
        let read: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.as_ref().ok())
            .map(|d| d.label.as_str())
            .collect();
        assert_eq!(read, ["one", "three"]);
        let odd: Vec<&OddEntry> = entries.iter().filter_map(|e| e.as_ref().err()).collect();
        assert_eq!(odd.len(), 2, "{odd:?}");
        assert_eq!(odd[0].name, "db_2");
        assert!(odd[0].reason.contains("label"), "{odd:?}");
        assert_eq!(odd[1].name, "entry 3");

        let tables = client.table_entries("db_1").await.expect("tables");
        assert_eq!(
            tables[0].as_ref().map(|t| t.name.as_str()),
            Ok("a/b"),
            "a table may hold a slash"
        );
        assert_eq!(tables[1].as_ref().map_err(|o| o.name.as_str()), Err("t"));
        assert_eq!(mock.calls()[1].path, "/v1/databases/db_1/cloudsync/tables");

        let failure = client.table_entries("db_1").await.expect_err("not a list");
        assert_eq!(failure.kind(), FailureKind::Decode);
    }
}
