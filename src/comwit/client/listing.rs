//! List answers read element by element ([`Listing`]): the provider holds one element at
//! a time, never the whole list, however many objects a project has.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use super::apps::{one, OddItem};
use super::{
    error, routes, ApiFailure, App, Client, Database, DnsRecord, Domain, Hostname, Operation,
    Result,
};
use crate::client::{Element, FailureKind, ListAnswer, ListError, Request};

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
        let element = match self.answer.next_as::<T>().await? {
            Ok(element) => element,
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
        // Parsed once; only an odd element is looked at again, to name it.
        Some(Ok(match element {
            Element::Read(item) => Ok(item),
            Element::Odd(value) => one(i, value, self.names),
        }))
    }
}

impl Client {
    /// Sends `op` and reads the array at `key` of its answer element by element (an
    /// answer without `key`, when `optional`: no elements).
    async fn listing<T>(
        &self,
        op: Operation,
        key: &'static str,
        optional: bool,
        names: &'static [&'static str],
    ) -> Result<Listing<T>> {
        let answer = self
            .http
            .send_list(op.route, &op, Request::default(), key)
            .await
            .map_err(|failure| error::from_failure(op.clone(), failure))?;
        let answer = if optional {
            answer.key_optional()
        } else {
            answer
        };
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
        self.listing(op, "databases", false, &["name", "database_id"])
            .await
    }

    /// `GET /v1/projects/{project}/apps` (`app:read`) for a listing, app by app.
    pub async fn app_listing(&self, project_id: &str) -> Result<Listing<App>> {
        let op = Operation::on_project(&routes::LIST_APPS, project_id);
        self.listing(op, "apps", true, &["name", "app_id"]).await
    }

    /// `GET /v1/apps/{app}/hostnames` (`app:read`) for a listing, hostname by hostname.
    pub async fn hostname_listing(&self, app_id: &str) -> Result<Listing<Hostname>> {
        let op = Operation::on_app(&routes::LIST_HOSTNAMES, app_id);
        self.listing(op, "hostnames", true, &["hostname"]).await
    }

    /// `GET /v1/projects/{project}/domains` (`domain:read`) for a listing, domain by
    /// domain.
    pub async fn domain_listing(&self, project_id: &str) -> Result<Listing<Domain>> {
        let op = Operation::on_project(&routes::LIST_DOMAINS, project_id);
        self.listing(op, "domains", false, &["domain", "domain_id"])
            .await
    }

    /// `GET /v1/domains/{domain}/records` (`domain:read`) for a listing, record by record.
    pub async fn record_listing(&self, domain_id: &str) -> Result<Listing<DnsRecord>> {
        let op = Operation::on_domain(&routes::LIST_DNS_RECORDS, domain_id);
        self.listing(op, "records", false, &["fqdn", "record_id"])
            .await
    }
}
