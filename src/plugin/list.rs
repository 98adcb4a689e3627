//! List resources (protocol 6.10, Terraform 1.14+): `list` blocks in `*.tfquery.hcl` files,
//! run by `terraform query`. A list type has the name of a managed resource type that
//! declares an identity; each item found is sent as one event carrying the identity the
//! server derives from the item's state (as for any resource), a display name, and the
//! state itself only when Terraform asked for it (`include_resource`).
//!
//! A type implements [`ListResource`] with a paged fetch: `page` is called with the cursor
//! the previous page returned, only when Terraform is still reading. Terraform stops
//! reading at its `limit` by cancelling the stream; the server then drops the page being
//! fetched and asks for no other. An item that cannot be listed (an odd object on the
//! platform) is [`Listed::Skipped`]: a warning naming it, and the listing goes on.
//!
//! A page may also give its entries as they are read ([`Page::streamed`]): each is sent
//! to Terraform before the next is read from the API, so the provider never holds a whole
//! list (memory flat in its length); a stream that breaks part way ends with
//! [`Listed::Failed`], an error after the items already sent.

use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::Diagnostics;
use tokio::sync::mpsc;

use super::convert;
use super::framework::{encode, Dv};
use super::identity::IdentitySpec;
use crate::proto::tfplugin6 as pb;

/// One object found.
pub struct ListItem<S> {
    /// What `terraform query` prints for it (its name, and what tells it apart).
    pub display_name: String,
    /// Its full state, as `read` would return it (the identity is derived from it).
    pub state: S,
}

/// One entry of a page: an item, or an object that could not be listed.
pub enum Listed<S> {
    /// The rest of the page could not be read (a streamed page whose answer broke part
    /// way): the error is sent and the listing ends.
    Failed(Diagnostics),
    /// An object found.
    Item(ListItem<S>),
    /// An object seen but not listed: a warning naming it, the listing goes on.
    Skipped {
        /// How the user recognises it (a name, an id).
        name: String,
        /// Why it was skipped.
        reason: String,
    },
}

/// Entries read as they are asked for (a list answer read element by element).
pub type Entries<S> = futures::stream::BoxStream<'static, Listed<S>>;

/// One page of results.
pub struct Page<S> {
    /// The entries, in order.
    pub items: Vec<Listed<S>>,
    /// The cursor of the next page; `None` when this page was the last.
    pub next: Option<String>,
    /// More entries, after `items`, read one by one as they are sent.
    pub rest: Option<Entries<S>>,
}

impl<S> Page<S> {
    /// The last page.
    pub fn last(items: Vec<Listed<S>>) -> Self {
        Self {
            items,
            next: None,
            rest: None,
        }
    }

    /// A page of `items`, then `next` (`None`: the last page).
    pub fn new(items: Vec<Listed<S>>, next: Option<String>) -> Self {
        Self {
            items,
            next,
            rest: None,
        }
    }

    /// The last page, its entries read one by one as they are sent.
    pub fn streamed(entries: Entries<S>) -> Self {
        Self {
            items: Vec::new(),
            next: None,
            rest: Some(entries),
        }
    }
}

/// A list resource type.
#[async_trait]
pub trait ListResource: Send + Sync + 'static {
    /// The list block's `config { ... }` (its filters).
    type Config<'a>: Deserialize<'a> + Send + Sync;
    /// The managed resource type's state (owned: items outlive the request).
    type State: Serialize + Send;

    /// Schema of the `config` block.
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;

    /// Validate the `config` block (values may be unknown here).
    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        _ = (diags, config);
        Some(())
    }

    /// Fetch one page: the first with `cursor` `None`, then each `next` the previous page
    /// gave. `limit` is how many items Terraform wants at most in all (use it as a page size
    /// hint). An error diagnostic ends the listing.
    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &Self::Config<'a>,
        cursor: Option<String>,
        limit: usize,
    ) -> Option<Page<Self::State>>;
}

/// A list type with its types erased.
#[async_trait]
pub(crate) trait ErasedList: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()>;
    /// Send every item as an event until done, an error, `limit` items, or the receiver
    /// is gone (Terraform cancelled the stream).
    async fn run(
        &self,
        config: Vec<u8>,
        include_resource: bool,
        limit: usize,
        identity: IdentitySpec,
        tx: mpsc::Sender<pb::list_resource::Event>,
    );
}

pub(crate) struct ListAdapter<L>(pub(crate) L);

fn diagnostic_event(diags: &Diagnostics) -> pb::list_resource::Event {
    pb::list_resource::Event {
        diagnostic: convert::diagnostics(diags),
        ..Default::default()
    }
}

#[async_trait]
impl<L: ListResource> ErasedList for ListAdapter<L> {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        self.0.schema(diags)
    }

    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()> {
        let config = config.decode(diags, "list configuration")?;
        self.0.validate(diags, config).await
    }

    async fn run(
        &self,
        config: Vec<u8>,
        include_resource: bool,
        limit: usize,
        identity: IdentitySpec,
        tx: mpsc::Sender<pb::list_resource::Event>,
    ) {
        let mut diags = Diagnostics::default();
        let Some(config) =
            Dv::Msgpack(&config).decode::<L::Config<'_>>(&mut diags, "list configuration")
        else {
            let _ = tx.send(diagnostic_event(&diags)).await;
            return;
        };
        let mut sent = 0usize;
        let mut cursor = None;
        loop {
            let mut diags = Diagnostics::default();
            // A cancelled stream drops the page being fetched.
            let page = tokio::select! {
                page = self.0.page(&mut diags, &config, cursor.take(), limit) => page,
                () = tx.closed() => return,
            };
            let said = !diags.errors.is_empty() || !diags.warnings.is_empty();
            if said && tx.send(diagnostic_event(&diags)).await.is_err() {
                return;
            }
            let Some(page) = page else { return };
            if !diags.errors.is_empty() {
                return;
            }
            let mut items = page.items.into_iter();
            let mut rest = page.rest;
            loop {
                let entry = match items.next() {
                    Some(entry) => entry,
                    None => {
                        let Some(stream) = rest.as_mut() else { break };
                        // A cancelled stream stops the reading of the answer.
                        let next = tokio::select! {
                            next = stream.next() => next,
                            () = tx.closed() => return,
                        };
                        match next {
                            Some(entry) => entry,
                            None => break,
                        }
                    }
                };
                let event = match entry {
                    Listed::Item(item) => item_event(item, include_resource, &identity),
                    Listed::Skipped { name, reason } => skipped(&name, &reason),
                    Listed::Failed(diags) => {
                        let _ = tx.send(diagnostic_event(&diags)).await;
                        return;
                    }
                };
                let is_item = event.identity.is_some();
                if tx.send(event).await.is_err() {
                    return;
                }
                if is_item {
                    sent += 1;
                    if limit > 0 && sent >= limit {
                        return;
                    }
                }
            }
            match page.next {
                Some(next) if !tx.is_closed() => cursor = Some(next),
                _ => return,
            }
        }
    }
}

/// A warning event, without identity: Terraform shows it and goes on.
fn skipped(name: &str, reason: &str) -> pb::list_resource::Event {
    let mut diags = Diagnostics::default();
    diags.root_warning(
        format!("Skipped `{name}`"),
        format!("`{name}` is not listed: {reason}."),
    );
    diagnostic_event(&diags)
}

/// The identity attributes an import needs that the state leaves null, unknown or empty
/// (all of them when the state is not an object).
fn missing_identity(state: &[u8], identity: &IdentitySpec) -> Vec<&'static str> {
    let value = rmpv::decode::read_value(&mut &state[..]).ok();
    let map = value.as_ref().and_then(|v| v.as_map());
    identity
        .attributes
        .iter()
        .filter(|a| a.required_for_import)
        .filter(|a| {
            !map.is_some_and(|m| {
                m.iter().any(|(k, v)| {
                    k.as_str() == Some(a.name) && v.as_str().is_some_and(|s| !s.is_empty())
                })
            })
        })
        .map(|a| a.name)
        .collect()
}

fn item_event<S: Serialize>(
    item: ListItem<S>,
    include_resource: bool,
    identity: &IdentitySpec,
) -> pb::list_resource::Event {
    let mut diags = Diagnostics::default();
    let Some(state) = encode(&mut diags, &item.state) else {
        return skipped(&item.display_name, "its state could not be encoded");
    };
    let missing = missing_identity(&state, identity);
    if !missing.is_empty() {
        return skipped(
            &item.display_name,
            &format!("its identity has no `{}`", missing.join("`, `")),
        );
    }
    let Some(id) = identity.from_state(&state) else {
        return skipped(&item.display_name, "its identity is not known");
    };
    pb::list_resource::Event {
        identity: Some(id),
        display_name: item.display_name,
        resource_object: include_resource.then_some(pb::DynamicValue {
            msgpack: state,
            json: Vec::new(),
        }),
        diagnostic: Vec::new(),
    }
}
