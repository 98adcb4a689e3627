//! The list routes read entry by entry, for list resources (`terraform query`): an entry
//! that does not read as its type (a missing field, an empty or unusable id) is an
//! [`OddEntry`] naming it, and the other entries are still read. The whole answer must
//! still be the documented list (else the call fails as any other).

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::{
    routes, ApiFailure, Client, DatabaseEntry, FailureKind, Ids, Operation, Result, Route, Rule,
    Snapshot,
};
use crate::client::{Element, ListAnswer, ListError, Request};

/// A list answer being read entry by entry, as the caller asks (the provider never holds
/// the whole list): each entry parsed once; an odd one is an [`OddEntry`] and the others
/// are still read.
pub struct Listing<T> {
    answer: ListAnswer,
    client: Client,
    route: &'static Route,
    ids: Ids,
    /// The field that names an entry, and how to read it from a `T`.
    id: &'static str,
    id_of: fn(&T) -> &str,
    read: usize,
}

impl<T: DeserializeOwned> Listing<T> {
    /// The next entry; `None` once the answer has been read whole. An answer that breaks
    /// part way (the connection, or not the documented list) ends with its error.
    pub async fn next(&mut self) -> Option<Result<std::result::Result<T, OddEntry>>> {
        let element = match self.answer.next_as::<T>().await? {
            Ok(element) => element,
            Err(ListError::Failure(f)) => {
                return Some(Err(self.client.failure(self.route, &self.ids, f)))
            }
            Err(ListError::Shape(message)) => {
                let op = Operation {
                    route: self.route,
                    describe: self.ids.fill(self.route.describe),
                };
                return Some(Err(ApiFailure::new(op, FailureKind::Decode, message)));
            }
        };
        let i = self.read;
        self.read += 1;
        Some(Ok(match element {
            Element::Read(item) => {
                let name = (self.id_of)(&item);
                match self.client.odd_id(i, Some(name), self.id) {
                    Some(odd) => Err(odd),
                    None => Ok(item),
                }
            }
            Element::Odd(value) => self.client.entry(i, value, self.id),
        }))
    }
}

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

impl Client {
    /// Each value as a `T`; `id` is the field that names an entry: it must be a non-empty
    /// string without `/` (an import id could not carry it).
    fn entries<T: DeserializeOwned>(&self, values: Vec<Value>, id: &str) -> Entries<T> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| self.entry(i, v, id))
            .collect()
    }

    /// Entry `i` (from 0) of a list answer as a `T` (see [`Client::entries`]).
    fn entry<T: DeserializeOwned>(
        &self,
        i: usize,
        v: Value,
        id: &str,
    ) -> std::result::Result<T, OddEntry> {
        let name = v.get(id).and_then(Value::as_str);
        if let Some(odd) = self.odd_id(i, name, id) {
            return Err(odd);
        }
        let name = name.unwrap_or_default().to_owned();
        serde_json::from_value::<T>(v).map_err(|e| self.odd(i, &name, &e.to_string()))
    }

    /// The [`OddEntry`] of entry `i` whose `id` is `name`, when that id is unusable.
    fn odd_id(&self, i: usize, name: Option<&str>, id: &str) -> Option<OddEntry> {
        match name {
            None | Some("") => Some(self.odd(i, "", &format!("it has no `{id}`"))),
            Some(n) if n.contains('/') => Some(self.odd(i, n, &format!("its `{id}` holds a `/`"))),
            Some(_) => None,
        }
    }

    /// Entry `i`, named `name` (its place when empty), is odd for `reason`.
    fn odd(&self, i: usize, name: &str, reason: &str) -> OddEntry {
        let clean = |s: &str| self.http.redactor().clean(s);
        let name = if name.is_empty() {
            format!("entry {}", i + 1)
        } else {
            name.to_owned()
        };
        OddEntry {
            name: clean(&name),
            reason: clean(reason),
        }
    }

    /// Sends `route` and reads the array at `key` of its answer entry by entry.
    async fn listing<T>(
        &self,
        route: &'static Route,
        ids: Ids,
        query: Vec<(&'static str, String)>,
        key: &'static str,
        id: &'static str,
        id_of: fn(&T) -> &str,
    ) -> Result<Listing<T>> {
        let request = Request {
            query,
            ..Request::default()
        };
        let answer = self
            .http
            .send_list(route, &ids, request, key)
            .await
            .map_err(|f| self.failure(route, &ids, f))?;
        Ok(Listing {
            answer,
            client: self.clone(),
            route,
            ids,
            id,
            id_of,
            read: 0,
        })
    }

    /// `GET /v1/databases/{db_type}` for a listing, database by database.
    pub async fn database_listing(
        &self,
        db_type: &str,
        customer_id: Option<&str>,
    ) -> Result<Listing<DatabaseEntry>> {
        let ids = Ids::default().with("db_type", db_type);
        let query = customer_id
            .map(|c| vec![("customer_id", c.to_owned())])
            .unwrap_or_default();
        let id_of: fn(&DatabaseEntry) -> &str = |d| &d.db_name;
        self.listing(
            &routes::LIST_DATABASES,
            ids,
            query,
            "databases",
            "db_name",
            id_of,
        )
        .await
    }

    /// `GET .../firewall` for a listing, rule by rule.
    pub async fn rule_listing(&self, db_type: &str, db_name: &str) -> Result<Listing<Rule>> {
        let id_of: fn(&Rule) -> &str = |r| &r.rule_id;
        let ids = Ids::db(db_type, db_name);
        self.listing(&routes::LIST_RULES, ids, vec![], "rules", "rule_id", id_of)
            .await
    }

    /// `GET .../snapshots` for a listing, snapshot by snapshot.
    pub async fn snapshot_listing(
        &self,
        db_type: &str,
        db_name: &str,
    ) -> Result<Listing<Snapshot>> {
        let id_of: fn(&Snapshot) -> &str = |s| &s.snapshot_id;
        let ids = Ids::db(db_type, db_name);
        self.listing(
            &routes::LIST_SNAPSHOTS,
            ids,
            vec![],
            "snapshots",
            "snapshot_id",
            id_of,
        )
        .await
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
        let databases = r#"{"db_type":"postgresql","databases":[
                    {"db_name":"cust_a_pg_one","port":5432},
                    {"db_name":"cust_a_pg_two","port":"not a number"},
                    {"port":5432},
                    {"db_name":"a/b"},
                    {"db_name":"cust_a_pg_three"}]}"#;
        let mock = Mock::start(vec![
            Canned::json(200, databases),
            Canned::json(200, r#"{"rules":[{"rule_id":"r1"},{"rule_id":"r2","ip_address":"10.0.0.1"}],"total":2}"#),
            Canned::json(200, r#"{"db_name":"x","snapshots":"none"}"#),
            Canned::json(200, databases),
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

        // Read as a listing, entry by entry: the same entries, the same names.
        let mut rules = client
            .rule_listing("postgresql", "cust_a_pg_one")
            .await
            .expect("rules");
        let first = rules.next().await.expect("one").expect("read");
        assert!(first.is_err(), "no ip_address: {first:?}");
        let second = rules.next().await.expect("two").expect("read");
        assert_eq!(second.as_ref().map(|r| r.rule_id.as_str()), Ok("r2"));
        assert!(rules.next().await.is_none());

        // An answer that is not the documented list fails (after the entries before it).
        let mut snapshots = client
            .snapshot_listing("postgresql", "x")
            .await
            .expect("the call");
        let failure = snapshots
            .next()
            .await
            .expect("an error")
            .expect_err("not a list");
        assert_eq!(failure.kind(), crate::client::FailureKind::Decode);

        // The same databases read as a listing: each parsed once, the same entries named
        // the same way as the whole answer's.
        let mut listing = client
            .database_listing("postgresql", None)
            .await
            .expect("the call");
        let mut streamed = Vec::new();
        while let Some(entry) = listing.next().await {
            streamed.push(entry.expect("read"));
        }
        let names = |entries: &Entries<DatabaseEntry>| -> Vec<String> {
            entries
                .iter()
                .map(|e| match e {
                    Ok(d) => format!("ok {}", d.db_name),
                    Err(odd) => format!("odd {}", odd.name),
                })
                .collect()
        };
        assert_eq!(names(&streamed), names(&entries));
    }
}
