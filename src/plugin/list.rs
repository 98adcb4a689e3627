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

/// A list answer read element by element (each platform's client gives one): the source
/// of [`streamed`] entries.
#[async_trait]
pub trait ElementSource: Send + 'static {
    /// What one element reads as (an object, or why it could not be read).
    type Element: Send;
    /// The next element; `None` once the answer has been read whole; an error (the answer
    /// broke part way) ends the listing.
    async fn next_element(&mut self) -> Option<Result<Self::Element, Diagnostics>>;
}

/// The entries of a list answer, each read from the answer only when Terraform takes the
/// one before: `entry` turns an element into its entry (`None`: filtered out). An error
/// is [`Listed::Failed`], the last entry.
pub fn streamed<Src, S>(
    source: Src,
    entry: impl FnMut(Src::Element) -> Option<Listed<S>> + Send + 'static,
) -> Entries<S>
where
    Src: ElementSource,
    S: Send + 'static,
{
    let stream = futures::stream::unfold(Some((source, entry)), |state| async move {
        let (mut source, mut entry) = state?;
        loop {
            match source.next_element().await? {
                Ok(element) => {
                    if let Some(listed) = entry(element) {
                        return Some((listed, Some((source, entry))));
                    }
                }
                Err(diags) => return Some((Listed::Failed(diags), None)),
            }
        }
    });
    Box::pin(stream)
}

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
        // The page after the one being sent is fetched meanwhile, from the moment this
        // page's first item is sent while Terraform still wants more: Terraform's reading
        // of one page overlaps the API's answer of the next, and a `limit` reached at a
        // page's first item asks for nothing more. Dropped, with its request, the moment
        // Terraform cancels.
        let fetch = |cursor: Option<String>| {
            let config = &config;
            async move {
                let mut diags = Diagnostics::default();
                let page = self.0.page(&mut diags, config, cursor, limit).await;
                (diags, page)
            }
        };
        let mut upcoming = Box::pin(futures::future::maybe_done(fetch(None)));
        loop {
            // A cancelled stream drops the page being fetched.
            tokio::select! {
                () = upcoming.as_mut() => {},
                () = tx.closed() => return,
            };
            let Some((diags, page)) = upcoming.as_mut().take_output() else {
                return;
            };
            let said = !diags.errors.is_empty() || !diags.warnings.is_empty();
            if said && tx.send(diagnostic_event(&diags)).await.is_err() {
                return;
            }
            let Some(page) = page else { return };
            if !diags.errors.is_empty() {
                return;
            }
            let Page { items, next, rest } = page;
            // The next page's cursor until its fetch starts.
            let mut ahead = next;
            // Whether `upcoming` is the next page's fetch (or its answer).
            let mut fetching = false;
            let mut items = items.into_iter();
            let mut rest = rest;
            loop {
                let entry = match items.next() {
                    Some(entry) => entry,
                    None => {
                        let Some(stream) = rest.as_mut() else { break };
                        // A cancelled stream stops the reading of the answer (and the
                        // fetch of the next page); the next page comes meanwhile.
                        let next = loop {
                            tokio::select! {
                                next = stream.next() => break next,
                                () = upcoming.as_mut(), if fetching && !is_done(&upcoming) => {},
                                () = tx.closed() => return,
                            }
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
                // Terraform takes the event; the next page comes meanwhile.
                let taken = loop {
                    tokio::select! {
                        permit = tx.reserve() => break permit.map(|p| p.send(event)).is_ok(),
                        () = upcoming.as_mut(), if fetching && !is_done(&upcoming) => {},
                    }
                };
                if !taken {
                    return;
                }
                if is_item {
                    sent += 1;
                    if limit > 0 && sent >= limit {
                        return;
                    }
                    if let Some(cursor) = ahead.take() {
                        upcoming.set(futures::future::maybe_done(fetch(Some(cursor))));
                        fetching = true;
                    }
                }
            }
            if let Some(cursor) = ahead.take() {
                upcoming.set(futures::future::maybe_done(fetch(Some(cursor))));
                fetching = true;
            }
            if !fetching || tx.is_closed() {
                return;
            }
        }
    }
}

/// Whether a page fetched ahead has come.
fn is_done<F: std::future::Future>(
    upcoming: &std::pin::Pin<Box<futures::future::MaybeDone<F>>>,
) -> bool {
    matches!(**upcoming, futures::future::MaybeDone::Done(_))
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
fn missing_identity(state: Option<&rmpv::Value>, identity: &IdentitySpec) -> Vec<&'static str> {
    let map = state.and_then(|v| v.as_map());
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
    // Decoded once, for both the check and the identity.
    let value = rmpv::decode::read_value(&mut &state[..]).ok();
    let missing = missing_identity(value.as_ref(), identity);
    if !missing.is_empty() {
        return skipped(
            &item.display_name,
            &format!("its identity has no `{}`", missing.join("`, `")),
        );
    }
    let Some(id) = value.as_ref().and_then(|v| identity.from_value(v)) else {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::super::identity::IdentityAttribute;
    use super::*;

    #[derive(Deserialize)]
    struct NoConfig {}

    #[derive(Serialize)]
    struct Thing {
        id: String,
    }

    /// Two pages: the first's entries wait, after its first item, until the second page is
    /// being fetched. Only a listing that fetches the next page while it sends the one
    /// before ever ends.
    struct Chained {
        second_asked: Arc<tokio::sync::Notify>,
    }

    fn item(name: &str) -> Listed<Thing> {
        Listed::Item(ListItem {
            display_name: name.into(),
            state: Thing { id: name.into() },
        })
    }

    #[async_trait]
    impl ListResource for Chained {
        type Config<'a> = NoConfig;
        type State = Thing;

        fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
            None
        }

        async fn page<'a>(
            &self,
            _diags: &mut Diagnostics,
            _config: &NoConfig,
            cursor: Option<String>,
            _limit: usize,
        ) -> Option<Page<Thing>> {
            if cursor.is_some() {
                self.second_asked.notify_one();
                return Some(Page::last(vec![item("c")]));
            }
            let asked = self.second_asked.clone();
            let rest = futures::stream::unfold(0, move |i| {
                let asked = asked.clone();
                async move {
                    match i {
                        0 => Some((item("a"), 1)),
                        1 => {
                            asked.notified().await;
                            Some((item("b"), 2))
                        }
                        _ => None,
                    }
                }
            });
            Some(Page {
                items: Vec::new(),
                next: Some("2".into()),
                rest: Some(Box::pin(rest)),
            })
        }
    }

    fn identity() -> IdentitySpec {
        IdentitySpec {
            version: 0,
            attributes: vec![IdentityAttribute {
                name: "id",
                description: "The id.",
                required_for_import: true,
            }],
        }
    }

    /// The display names a listing sends with `limit`, or `None` if it does not end.
    async fn listed(limit: usize) -> Option<Vec<String>> {
        let list = ListAdapter(Chained {
            second_asked: Arc::new(tokio::sync::Notify::new()),
        });
        let (tx, mut rx) = mpsc::channel(16);
        // An empty msgpack map: the config block.
        let run = list.run(vec![0x80], false, limit, identity(), tx);
        tokio::time::timeout(Duration::from_secs(10), async {
            run.await;
            let mut got = Vec::new();
            while let Some(event) = rx.recv().await {
                assert!(event.diagnostic.is_empty(), "{event:?}");
                got.push(event.display_name);
            }
            got
        })
        .await
        .ok()
    }

    #[tokio::test]
    async fn the_next_page_is_fetched_while_the_one_before_is_sent() {
        assert_eq!(
            listed(0)
                .await
                .expect("the listing ends: the second page was fetched ahead"),
            ["a", "b", "c"]
        );
        // A limit reached at a page's first item asks for no other page: the first page's
        // entries are not read on (their wait never ends), nor is the second page fetched.
        assert_eq!(
            listed(1).await.expect("the listing ends at its limit"),
            ["a"]
        );
    }
}
