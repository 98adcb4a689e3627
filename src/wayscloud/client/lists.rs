//! The list routes read entry by entry, for list resources (`terraform query`): an entry
//! that does not read as its type (a missing field, an empty or unusable id) is an
//! [`OddEntry`] naming it, and the other entries are still read. The whole answer must
//! still be the documented list (else the call fails as any other).

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::{routes, Client, DatabaseEntry, Ids, Result, Rule, Snapshot};

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

#[derive(Deserialize)]
struct Databases {
    databases: Vec<Value>,
}

#[derive(Deserialize)]
struct Rules {
    rules: Vec<Value>,
}

#[derive(Deserialize)]
struct Snapshots {
    snapshots: Vec<Value>,
}

impl Client {
    /// Each value as a `T`; `id` is the field that names an entry: it must be a non-empty
    /// string without `/` (an import id could not carry it).
    fn entries<T: DeserializeOwned>(&self, values: Vec<Value>, id: &str) -> Entries<T> {
        let clean = |s: &str| self.http.redactor().clean(s);
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let name = v.get(id).and_then(Value::as_str).map(str::to_owned);
                let odd = |reason: String| OddEntry {
                    name: clean(
                        &name
                            .clone()
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| format!("entry {}", i + 1)),
                    ),
                    reason: clean(&reason),
                };
                match name.as_deref() {
                    None | Some("") => return Err(odd(format!("it has no `{id}`"))),
                    Some(n) if n.contains('/') => {
                        return Err(odd(format!("its `{id}` holds a `/`")))
                    }
                    Some(_) => {}
                }
                serde_json::from_value::<T>(v).map_err(|e| odd(e.to_string()))
            })
            .collect()
    }

    /// `GET /v1/databases/{db_type}`, entry by entry.
    pub async fn database_entries(
        &self,
        db_type: &str,
        customer_id: Option<&str>,
    ) -> Result<Entries<DatabaseEntry>> {
        let ids = Ids::default().with("db_type", db_type);
        let query = customer_id
            .map(|c| vec![("customer_id", c.to_owned())])
            .unwrap_or_default();
        let list: Databases = self
            .call(&routes::LIST_DATABASES, &ids, None, query)
            .await?;
        Ok(self.entries(list.databases, "db_name"))
    }

    /// `GET .../firewall`, entry by entry.
    pub async fn rule_entries(&self, db_type: &str, db_name: &str) -> Result<Entries<Rule>> {
        let list: Rules = self
            .call(
                &routes::LIST_RULES,
                &Ids::db(db_type, db_name),
                None,
                vec![],
            )
            .await?;
        Ok(self.entries(list.rules, "rule_id"))
    }

    /// `GET .../snapshots`, entry by entry.
    pub async fn snapshot_entries(
        &self,
        db_type: &str,
        db_name: &str,
    ) -> Result<Entries<Snapshot>> {
        let list: Snapshots = self
            .call(
                &routes::LIST_SNAPSHOTS,
                &Ids::db(db_type, db_name),
                None,
                vec![],
            )
            .await?;
        Ok(self.entries(list.snapshots, "snapshot_id"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use super::super::{ClientConfig, Secret};
    use super::*;
    use crate::client::testutil::{Canned, Mock};

    fn test_client(base: &url::Url) -> Client {
        Client::new(
            ClientConfig {
                base_url: base.clone(),
                api_key: Secret::new("wcs_testkey0123456789"),
                timeout: Duration::from_secs(5),
                max_retries: 0,
                user_agent_suffix: None,
                operation_timeout: None,
                pacing: false,
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
                r#"{"db_type":"postgresql","databases":[
                    {"db_name":"cust_a_pg_one","port":5432},
                    {"db_name":"cust_a_pg_two","port":"not a number"},
                    {"port":5432},
                    {"db_name":"a/b"},
                    {"db_name":"cust_a_pg_three"}]}"#,
            ),
            Canned::json(200, r#"{"rules":[{"rule_id":"r1"},{"rule_id":"r2","ip_address":"10.0.0.1"}],"total":2}"#),
            Canned::json(200, r#"{"db_name":"x","snapshots":"none"}"#),
        ])
        .await;
        let client = test_client(&mock.base);
        let entries = client
            .database_entries("postgresql", Some("cafe0001"))
            .await
            .expect("list");
        let read: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.as_ref().ok())
            .map(|d| d.db_name.as_str())
            .collect();
        assert_eq!(read, ["cust_a_pg_one", "cust_a_pg_three"]);
        let odd: Vec<&OddEntry> = entries.iter().filter_map(|e| e.as_ref().err()).collect();
        assert_eq!(odd.len(), 3, "{odd:?}");
        assert_eq!(odd[0].name, "cust_a_pg_two");
        assert!(odd[0].reason.contains("invalid type"), "{odd:?}");
        assert_eq!(odd[1].name, "entry 3");
        assert!(odd[1].reason.contains("no `db_name`"), "{odd:?}");
        assert!(odd[2].reason.contains('/'), "{odd:?}");
        let call = &mock.calls()[0];
        assert_eq!(call.path, "/v1/databases/postgresql");
        assert_eq!(call.query.as_deref(), Some("customer_id=cafe0001"));

        let rules = client
            .rule_entries("postgresql", "cust_a_pg_one")
            .await
            .expect("rules");
        assert!(rules[0].is_err(), "no ip_address: {rules:?}");
        assert_eq!(rules[1].as_ref().map(|r| r.rule_id.as_str()), Ok("r2"));

        // An answer that is not the documented list fails as a whole.
        let failure = client
            .snapshot_entries("postgresql", "x")
            .await
            .expect_err("not a list");
        assert_eq!(failure.kind(), crate::client::FailureKind::Decode);
    }
}
