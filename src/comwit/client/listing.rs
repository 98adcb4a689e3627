//! List answers read element by element ([`Listing`]): the provider holds one element at
//! a time, never the whole list, however many objects a project has.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use super::apps::{one, OddItem};
use super::{error, routes, ApiFailure, Client, Database, Operation, Result};
use crate::client::{FailureKind, ListAnswer, ListError, Request};

/// A list answer being read: each element is read on its own as it is asked for; an odd
/// one is an [`OddItem`] and the others are still read.
pub struct Listing<T> {
    answer: ListAnswer,
    op: Operation,
    /// The fields that name an element in an [`OddItem`], the first one it has.
    names: &'static [&'static str],
    read: usize,
    _item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Listing<T> {
    /// The next element; `None` once the answer has been read whole. An answer that breaks
    /// part way (the connection, or not the documented list) ends with its error.
    pub async fn next(&mut self) -> Option<Result<std::result::Result<T, OddItem>>> {
        let bytes = match self.answer.next().await? {
            Ok(bytes) => bytes,
            Err(ListError::Failure(failure)) => {
                return Some(Err(error::from_failure(self.op.clone(), failure)))
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
        // The splitter gave a valid JSON value: it reads as one.
        let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        Some(Ok(one(i, value, self.names)))
    }
}

impl Client {
    /// Sends `op` and reads the array at `key` of its answer element by element.
    async fn listing<T>(
        &self,
        op: Operation,
        key: &'static str,
        names: &'static [&'static str],
    ) -> Result<Listing<T>> {
        let answer = self
            .http
            .send_list(op.route, &op, Request::default(), key)
            .await
            .map_err(|failure| error::from_failure(op.clone(), failure))?;
        Ok(Listing {
            answer,
            op,
            names,
            read: 0,
            _item: PhantomData,
        })
    }

    /// `GET /v1/projects/{project}/databases` (`database:read`) for a listing, read
    /// database by database as the caller goes.
    pub async fn database_listing(&self, project_id: &str) -> Result<Listing<Database>> {
        let op = Operation::on_project(&routes::LIST_DATABASES, project_id);
        self.listing(op, "databases", &["name", "database_id"])
            .await
    }
}
