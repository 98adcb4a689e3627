//! The list routes read entry by entry, for list resources (`terraform query`): an entry
//! that does not read as its type (a missing field, an empty or unusable id) is an
//! [`OddEntry`] naming it, and the other entries are still read. The whole answer must
//! still be the documented `{"data": [...]}` (else the call fails as any other).

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{kind_of, routes, ApiFailure, Client, Database, Operation, Result, Table};
use crate::client::{Element, FailureKind, ListAnswer, ListError, Request};

/// A list answer (`{"data": [...]}`) being read entry by entry, as the caller asks (the
/// provider never holds the whole list): each entry parsed once; an odd one is an
/// [`OddEntry`] and the others are still read.
pub struct Listing<T> {
    answer: ListAnswer,
    client: Client,
    op: Operation,
    /// The field that names an entry, how to read it from a `T`, and whether it may hold
    /// a `/`.
    id: &'static str,
    id_of: fn(&T) -> &str,
    slash: bool,
    read: usize,
}

impl<T: DeserializeOwned> Listing<T> {
    /// The next entry; `None` once the answer has been read whole. An answer that breaks
    /// part way (the connection, or not the documented list) ends with its error.
    pub async fn next(&mut self) -> Option<Result<std::result::Result<T, OddEntry>>> {
        let element = match self.answer.next_as::<T>().await? {
            Ok(element) => element,
            Err(ListError::Failure(f)) => {
                return Some(Err(ApiFailure::from_failure(self.op.clone(), f, kind_of)))
            }
            Err(ListError::Shape(message)) => {
                return Some(Err(ApiFailure::new(
                    self.op.clone(),
                    FailureKind::Decode,
                    message,
                )))
            }
        };
        let i = self.read;
        self.read += 1;
        Some(Ok(match element {
            Element::Read(item) => {
                let name = (self.id_of)(&item);
                match self.client.odd_id(i, Some(name), self.id, self.slash) {
                    Some(odd) => Err(odd),
                    None => Ok(item),
                }
            }
            Element::Odd(value) => self.client.entry(i, value, self.id, self.slash),
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
            .map(|(i, v)| self.entry(i, v, id, slash))
            .collect()
    }

    /// Entry `i` (from 0) of a list answer as a `T` (see [`Client::entries`]).
    fn entry<T: DeserializeOwned>(
        &self,
        i: usize,
        v: Value,
        id: &str,
        slash: bool,
    ) -> std::result::Result<T, OddEntry> {
        let name = v.get(id).and_then(Value::as_str);
        if let Some(odd) = self.odd_id(i, name, id, slash) {
            return Err(odd);
        }
        let name = name.unwrap_or_default().to_owned();
        serde_json::from_value::<T>(v).map_err(|e| self.odd(i, &name, &e.to_string()))
    }

    /// The [`OddEntry`] of entry `i` whose `id` is `name`, when that id is unusable.
    fn odd_id(&self, i: usize, name: Option<&str>, id: &str, slash: bool) -> Option<OddEntry> {
        match name {
            None | Some("") => Some(self.odd(i, "", &format!("it has no `{id}`"))),
            Some(n) if !slash && n.contains('/') => {
                Some(self.odd(i, n, &format!("its `{id}` holds a `/`")))
            }
            Some(_) => None,
        }
    }

    /// Entry `i`, named `name` (its place when empty), is odd for `reason`.
    fn odd(&self, i: usize, name: &str, reason: &str) -> OddEntry {
        let name = if name.is_empty() {
            format!("entry {}", i + 1)
        } else {
            name.to_owned()
        };
        OddEntry {
            name: self.clean(&name),
            reason: self.clean(reason),
        }
    }

    /// Sends `op` and reads the array at `data` of its answer entry by entry.
    async fn listing<T>(
        &self,
        op: Operation,
        id: &'static str,
        id_of: fn(&T) -> &str,
        slash: bool,
    ) -> Result<Listing<T>> {
        let answer = self
            .http
            .send_list(op.route, &op, Request::default(), "data")
            .await
            .map_err(|f| ApiFailure::from_failure(op.clone(), f, kind_of))?;
        Ok(Listing {
            answer,
            client: self.clone(),
            op,
            id,
            id_of,
            slash,
            read: 0,
        })
    }

    /// `GET /v1/databases` for a listing, database by database.
    pub async fn database_listing(&self) -> Result<Listing<Database>> {
        let id_of: fn(&Database) -> &str = |d| &d.managed_database_id;
        let op = Operation::new(&routes::LIST_DATABASES);
        self.listing(op, "managedDatabaseId", id_of, false).await
    }

    /// `GET /v1/databases/{id}/cloudsync/tables` for a listing, table by table.
    pub async fn table_listing(&self, id: &str) -> Result<Listing<Table>> {
        let id_of: fn(&Table) -> &str = |t| &t.name;
        let op = Operation::on(&routes::LIST_TABLES, id);
        self.listing(op, "name", id_of, true).await
    }

    /// `GET /v1/databases`, entry by entry.
    pub async fn database_entries(&self) -> Result<Entries<Database>> {
        let values: Vec<Value> = self
            .data(Operation::new(&routes::LIST_DATABASES), None)
            .await?;
        Ok(self.entries(values, "managedDatabaseId", false))
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
        let databases = r#"{"data":[
                    {"managedDatabaseId":"db_1","label":"one","provider":"postgres","flavor":"vanilla","databaseName":"a"},
                    {"managedDatabaseId":"db_2","provider":"postgres","flavor":"vanilla","databaseName":"b"},
                    {"label":"nameless"},
                    {"managedDatabaseId":"db_3","label":"three","provider":"sqlitecloud","flavor":"sqlitecloud","databaseName":"c"}
                ],"meta":{"total":4}}"#;
        let mock = Mock::start(vec![
            Canned::json(200, databases),
            Canned::json(
                200,
                r#"{"data":[{"name":"a/b","enabled":true},{"name":"t","enabled":"yes"}]}"#,
            ),
            Canned::json(200, r#"{"data":{"name":"t"}}"#),
            Canned::json(200, databases),
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

        let mut tables = client.table_listing("db_1").await.expect("tables");
        let first = tables.next().await.expect("one").expect("read");
        assert_eq!(
            first.as_ref().map(|t| t.name.as_str()),
            Ok("a/b"),
            "a table may hold a slash"
        );
        let second = tables.next().await.expect("two").expect("read");
        assert_eq!(second.as_ref().map_err(|o| o.name.as_str()), Err("t"));
        assert!(tables.next().await.is_none());
        assert_eq!(mock.calls()[1].path, "/v1/databases/db_1/cloudsync/tables");

        let mut tables = client.table_listing("db_1").await.expect("the call");
        let failure = tables
            .next()
            .await
            .expect("an error")
            .expect_err("not a list");
        assert_eq!(failure.kind(), FailureKind::Decode);

        // The same databases read as a listing: each parsed once, the same entries named
        // the same way as the whole answer's.
        let mut listing = client.database_listing().await.expect("the call");
        let mut streamed = Vec::new();
        while let Some(entry) = listing.next().await {
            streamed.push(entry.expect("read"));
        }
        assert_eq!(streamed, entries);
    }
}
