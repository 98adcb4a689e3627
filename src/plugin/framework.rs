//! The small provider framework: providers, resources and data sources are written with
//! `tf-provider`'s public types and traits, and erased here behind a registry that the
//! gRPC service dispatches to.
//!
//! - A provider implements [`Provider`] (ours: `tf-provider`'s own provider trait hands out
//!   resource objects whose methods take a type it keeps private).
//! - Resources implement [`tf_provider::Resource`] and data sources
//!   [`tf_provider::DataSource`], exactly as in any `tf-provider` provider.
//! - Conventions on top of those traits:
//!   - `Resource::read` returning `None` **without** an error diagnostic means the object no
//!     longer exists: the server answers with a null state and Terraform plans to create it
//!     again (out-of-band deletion).
//!   - `UpgradeResourceState` re-reads the stored JSON into the current state type, so new
//!     attributes must be `#[serde(default)]`. A state written by a newer schema version is
//!     refused with a diagnostic.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::Schema;
use tf_provider::{AttributePath, DataSource, Diagnostics, Resource};

use super::actions::{Action, ActionAdapter, ErasedAction};
use super::convert::SchemaExtras;
use super::functions::{ErasedFunction, Function, FunctionAdapter};
use super::generate::{ConfigRules, ProviderDefault};
use super::list::{ErasedList, ListAdapter, ListResource};

/// Msgpack encoding of a null value.
pub const NULL_MSGPACK: &[u8] = &[0xc0];

/// A dynamic value as Terraform sent it: msgpack (the norm) or JSON.
#[derive(Clone, Copy, Debug)]
pub enum Dv<'a> {
    /// Msgpack-encoded value.
    Msgpack(&'a [u8]),
    /// JSON-encoded value.
    Json(&'a [u8]),
}

impl<'a> Dv<'a> {
    /// Pick the encoding that is present (msgpack wins when both are).
    pub fn from_parts(msgpack: &'a [u8], json: &'a [u8]) -> Self {
        if msgpack.is_empty() && !json.is_empty() {
            Dv::Json(json)
        } else {
            Dv::Msgpack(msgpack)
        }
    }

    /// True when the value is null (or absent).
    pub fn is_null(&self) -> bool {
        match self {
            Dv::Msgpack(b) => b.is_empty() || *b == NULL_MSGPACK,
            Dv::Json(b) => b.is_empty() || b.trim_ascii() == b"null",
        }
    }

    /// Decode into `T`, reporting failures as a diagnostic naming `what`.
    pub fn decode<T: Deserialize<'a>>(&self, diags: &mut Diagnostics, what: &str) -> Option<T> {
        let result = match self {
            Dv::Msgpack(b) => {
                let b: &'a [u8] = if b.is_empty() { NULL_MSGPACK } else { b };
                rmp_serde::from_slice::<T>(b).map_err(|e| e.to_string())
            }
            Dv::Json(b) => {
                let b: &'a [u8] = if b.is_empty() { b"null" } else { b };
                serde_json::from_slice::<T>(b).map_err(|e| e.to_string())
            }
        };
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                diags.root_error(
                    "Provider could not decode a value from Terraform",
                    format!("The {what} did not match the provider's schema: {e}. This is a bug in the provider."),
                );
                None
            }
        }
    }
}

/// Top-level attribute names whose value is not known yet (wholly or in part) in a
/// configuration Terraform sent: a `provider` block that refers to a resource not created
/// yet, during plan. Names only, never values.
pub fn unknown_attributes<T: Serialize>(config: &T) -> Vec<String> {
    let Ok(bytes) = rmp_serde::to_vec_named(config) else {
        return Vec::new();
    };
    unknown_in_msgpack(&bytes)
}

fn unknown_in_msgpack(bytes: &[u8]) -> Vec<String> {
    fn has_unknown(v: &rmpv::Value) -> bool {
        match v {
            rmpv::Value::Ext(0, _) => true,
            rmpv::Value::Array(items) => items.iter().any(has_unknown),
            rmpv::Value::Map(entries) => entries.iter().any(|(_, v)| has_unknown(v)),
            _ => false,
        }
    }
    match rmpv::decode::read_value(&mut &bytes[..]) {
        Ok(rmpv::Value::Map(entries)) => entries
            .iter()
            .filter(|(_, v)| has_unknown(v))
            .filter_map(|(k, _)| k.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

impl Dv<'_> {
    /// Top-level attributes of this (msgpack) object whose value is not known yet.
    pub fn unknown_attributes(&self) -> Vec<String> {
        match self {
            Dv::Msgpack(b) => unknown_in_msgpack(b),
            Dv::Json(_) => Vec::new(), // JSON cannot carry unknown values
        }
    }
}

/// What `configure` left for the provider's resources and data sources: the configured
/// value (an API client, say), or the names of provider attributes that are not known
/// until apply. A provider keeps one in the data it shares with its resources; a resource
/// that needs the client asks with [`ConfigSlot::get`], which explains what is missing.
///
/// Terraform calls ConfigureProvider during plan even when the `provider` block depends on
/// values known only after apply (`project_id = terraform_data.p.output`). Planning can then
/// go on wherever nothing is needed until apply (a create's plan marks what depends on the
/// provider's settings as known after apply); what does need the API gets an error naming
/// the unknown attribute instead of blaming settings that are fine.
#[derive(Debug)]
pub struct ConfigSlot<T> {
    state: std::sync::RwLock<SlotState<T>>,
}

#[derive(Debug)]
enum SlotState<T> {
    NotConfigured,
    Unknown(Vec<String>),
    Configured(T),
}

impl<T> Default for ConfigSlot<T> {
    fn default() -> Self {
        Self {
            state: std::sync::RwLock::new(SlotState::NotConfigured),
        }
    }
}

impl<T: Clone> ConfigSlot<T> {
    /// Configure succeeded.
    pub fn set(&self, value: T) {
        if let Ok(mut s) = self.state.write() {
            *s = SlotState::Configured(value);
        }
    }

    /// Configure saw these provider attributes unknown (see [`unknown_attributes`]).
    pub fn set_unknown(&self, attributes: Vec<String>) {
        if let Ok(mut s) = self.state.write() {
            *s = SlotState::Unknown(attributes);
        }
    }

    /// The configured value, if there is one (no diagnostic).
    pub fn try_get(&self) -> Option<T> {
        match &*self.state.read().ok()? {
            SlotState::Configured(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// The provider attributes not known until apply (empty when configured or not yet).
    pub fn unknown(&self) -> Vec<String> {
        match self.state.read().as_deref() {
            Ok(SlotState::Unknown(names)) => names.clone(),
            _ => Vec::new(),
        }
    }

    /// True when `attribute` of the provider block is not known until apply.
    pub fn is_unknown(&self, attribute: &str) -> bool {
        self.unknown().iter().any(|n| n == attribute)
    }

    /// The configured value, or an error diagnostic that says why there is none: which
    /// provider attributes are not known until apply, or that configuration failed.
    pub fn get(&self, diags: &mut Diagnostics) -> Option<T> {
        if let Some(v) = self.try_get() {
            return Some(v);
        }
        let unknown = self.unknown();
        if unknown.is_empty() {
            diags.root_error(
                "Provider not configured",
                "The provider's configuration was invalid (see the error reported for the \
                 provider block), so this operation cannot run.",
            );
        } else {
            let names = unknown
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let (noun, verb) = if unknown.len() == 1 {
                ("setting", "is")
            } else {
                ("settings", "are")
            };
            diags.root_error(
                "Provider configuration not known until apply",
                format!(
                    "The provider's {names} {verb} not known until apply (the provider block \
                     refers to values of resources not created yet), and this operation needs \
                     the configured provider during plan. Set the {noun} to a known value, or \
                     create what it refers to first (`terraform apply -target=...`)."
                ),
            );
        }
        None
    }
}

/// Encode a value as msgpack (named fields), reporting failures as a diagnostic.
pub fn encode<T: Serialize>(diags: &mut Diagnostics, value: &T) -> Option<Vec<u8>> {
    match rmp_serde::to_vec_named(value) {
        Ok(v) => Some(v),
        Err(e) => {
            diags.root_error(
                "Provider could not encode a value for Terraform",
                format!("{e}. This is a bug in the provider."),
            );
            None
        }
    }
}

/// Encode a resource's private state. None (msgpack nil) goes out as no bytes, as
/// terraform-plugin-go providers send it: Terraform keeps the bytes of every instance in the
/// state file (`"private": "wA=="`, which it rewrites after each resource it applies) and
/// sends them back with every call for that instance.
fn encode_private<T: Serialize>(diags: &mut Diagnostics, value: &T) -> Option<Vec<u8>> {
    let bytes = encode(diags, value)?;
    Some(if bytes == NULL_MSGPACK {
        Vec::new()
    } else {
        bytes
    })
}

/// A provider: its configuration schema, configuration, and the types it registers.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Provider configuration, as declared in the `provider` block.
    type Config<'a>: Serialize + Deserialize<'a> + Send;

    /// Schema of the `provider` block.
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;

    /// Validate the configuration (values may be unknown here).
    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        _ = (diags, config);
        Some(())
    }

    /// Configure the provider before any resource call.
    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: Self::Config<'a>,
    ) -> Option<()>;

    /// Register resources and data sources (full type names, e.g. `comwit_database`).
    fn register(&self, registry: &mut Registry);

    /// Terraform asked the provider to stop (interrupt): cancel in-flight work.
    fn stop(&self) {}
}

/// An ephemeral resource (protocol 6.7+): opened during plan and apply, its result is never
/// stored in plan or state. `tf-provider` has no trait for these, so this one follows the
/// shape of its `Resource` trait.
#[async_trait]
pub trait EphemeralResource: Send + Sync {
    /// Configuration and result (the same object: arguments plus computed values).
    type State<'a>: Serialize + Deserialize<'a> + Send;
    /// Opaque data carried from open to renew and close.
    type PrivateState<'a>: Serialize + Deserialize<'a> + Send;

    /// Schema of the `ephemeral` block.
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;

    /// Validate the configuration (values may be unknown here).
    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        _ = (diags, config);
        Some(())
    }

    /// Open: produce the result. A `renew_at` asks Terraform to call `renew` by then.
    async fn open<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
    ) -> Option<(
        Self::State<'a>,
        Self::PrivateState<'a>,
        Option<time::OffsetDateTime>,
    )>;

    /// Renew before `renew_at`; returns the new private state and next `renew_at`.
    async fn renew<'a>(
        &self,
        diags: &mut Diagnostics,
        private: Self::PrivateState<'a>,
    ) -> Option<(Self::PrivateState<'a>, Option<time::OffsetDateTime>)> {
        _ = diags;
        Some((private, None))
    }

    /// Close: release whatever open acquired.
    async fn close<'a>(
        &self,
        diags: &mut Diagnostics,
        private: Self::PrivateState<'a>,
    ) -> Option<()> {
        _ = (diags, private);
        Some(())
    }
}

/// The types a provider registered, keyed by full type name.
#[derive(Default)]
pub struct Registry {
    pub(crate) resources: BTreeMap<String, (Arc<dyn ErasedResource>, SchemaExtras)>,
    pub(crate) data_sources: BTreeMap<String, Arc<dyn ErasedDataSource>>,
    pub(crate) ephemeral_resources: BTreeMap<String, Arc<dyn ErasedEphemeral>>,
    pub(crate) functions: BTreeMap<String, Arc<dyn ErasedFunction>>,
    pub(crate) list_resources: BTreeMap<String, Arc<dyn ErasedList>>,
    pub(crate) actions: BTreeMap<String, Arc<dyn ErasedAction>>,
    pub(crate) config_rules: BTreeMap<String, ConfigRules>,
    pub(crate) provider_defaults: BTreeMap<String, Vec<(&'static str, ProviderDefault)>>,
}

impl Registry {
    /// Register a resource type.
    pub fn resource<R: Resource + 'static>(&mut self, type_name: &str, resource: R) {
        self.resource_with(type_name, resource, SchemaExtras::default());
    }

    /// Register a resource type with protocol extras (write-only attributes, ...).
    pub fn resource_with<R: Resource + 'static>(
        &mut self,
        type_name: &str,
        resource: R,
        extras: SchemaExtras,
    ) {
        self.resources.insert(
            type_name.to_owned(),
            (Arc::new(ResourceAdapter(resource)), extras),
        );
    }

    /// Register an ephemeral resource type.
    pub fn ephemeral_resource<E: EphemeralResource + 'static>(&mut self, type_name: &str, e: E) {
        self.ephemeral_resources
            .insert(type_name.to_owned(), Arc::new(EphemeralAdapter(e)));
    }

    /// Register a data source type.
    pub fn data_source<D: DataSource + 'static>(&mut self, type_name: &str, data_source: D) {
        self.data_sources.insert(
            type_name.to_owned(),
            Arc::new(DataSourceAdapter(data_source)),
        );
    }

    /// Register a provider function (`provider::<provider>::<name>(...)` in HCL; the name
    /// has no provider prefix).
    pub fn function<F: Function>(&mut self, name: &str, function: F) {
        self.functions
            .insert(name.to_owned(), Arc::new(FunctionAdapter(function)));
    }

    /// Register a list type: `type_name` is a managed resource type registered with an
    /// identity; its items are that type's states.
    pub fn list_resource<L: ListResource>(&mut self, type_name: &str, list: L) {
        self.list_resources
            .insert(type_name.to_owned(), Arc::new(ListAdapter(list)));
    }

    /// Register an action type.
    pub fn action<A: Action>(&mut self, type_name: &str, action: A) {
        self.actions
            .insert(type_name.to_owned(), Arc::new(ActionAdapter(action)));
    }

    /// What the generated configuration of a resource type leaves out besides what its
    /// schema says (server defaults, creation-only arguments).
    pub fn config_rules(&mut self, type_name: &str, rules: ConfigRules) {
        self.config_rules.insert(type_name.to_owned(), rules);
    }

    /// A top-level attribute of a resource type whose default the configured provider
    /// gives (a provider-level `project_id`): generated configuration leaves it out when
    /// the object holds exactly that value.
    pub fn provider_default(
        &mut self,
        type_name: &str,
        attribute: &'static str,
        read: ProviderDefault,
    ) {
        self.provider_defaults
            .entry(type_name.to_owned())
            .or_default()
            .push((attribute, read));
    }
}

/// Provider with its configuration type erased.
#[async_trait]
pub(crate) trait ErasedProvider: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()>;
    async fn configure(
        &self,
        diags: &mut Diagnostics,
        tf_version: String,
        config: Dv<'_>,
    ) -> Option<()>;
    fn register(&self, registry: &mut Registry);
    fn stop(&self);
}

#[async_trait]
impl<P: Provider> ErasedProvider for P {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        Provider::schema(self, diags)
    }
    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()> {
        let config = config.decode(diags, "provider configuration")?;
        Provider::validate(self, diags, config).await
    }
    async fn configure(
        &self,
        diags: &mut Diagnostics,
        tf_version: String,
        config: Dv<'_>,
    ) -> Option<()> {
        let config = config.decode(diags, "provider configuration")?;
        Provider::configure(self, diags, tf_version, config).await
    }
    fn register(&self, registry: &mut Registry) {
        Provider::register(self, registry)
    }
    fn stop(&self) {
        Provider::stop(self)
    }
}

/// Encoded (state, private state) pair.
pub(crate) type Encoded = (Vec<u8>, Vec<u8>);

/// Resource with its state types erased: values travel as msgpack.
#[async_trait]
pub(crate) trait ErasedResource: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()>;
    /// `Some(None)` means the object is gone.
    async fn read(
        &self,
        diags: &mut Diagnostics,
        state: Dv<'_>,
        private: &[u8],
        meta: Dv<'_>,
    ) -> Option<Option<Encoded>>;
    async fn plan_create(
        &self,
        diags: &mut Diagnostics,
        proposed: Dv<'_>,
        config: Dv<'_>,
        meta: Dv<'_>,
    ) -> Option<Encoded>;
    async fn plan_update(
        &self,
        diags: &mut Diagnostics,
        prior: Dv<'_>,
        proposed: Dv<'_>,
        config: Dv<'_>,
        prior_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<(Vec<u8>, Vec<u8>, Vec<AttributePath>)>;
    async fn plan_destroy(
        &self,
        diags: &mut Diagnostics,
        prior: Dv<'_>,
        prior_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<Vec<u8>>;
    async fn create(
        &self,
        diags: &mut Diagnostics,
        planned: Dv<'_>,
        config: Dv<'_>,
        planned_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<Encoded>;
    #[allow(clippy::too_many_arguments)]
    async fn update(
        &self,
        diags: &mut Diagnostics,
        prior: Dv<'_>,
        planned: Dv<'_>,
        config: Dv<'_>,
        planned_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<Encoded>;
    async fn destroy(
        &self,
        diags: &mut Diagnostics,
        prior: Dv<'_>,
        planned_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<()>;
    async fn import(&self, diags: &mut Diagnostics, id: String) -> Option<Encoded>;
    /// Re-encode a stored JSON state (same or older schema version) as msgpack.
    fn upgrade_json(&self, diags: &mut Diagnostics, json: &[u8]) -> Option<Vec<u8>>;
}

/// Private state arrives as raw bytes: empty means null.
fn private<'a>(bytes: &'a [u8]) -> Dv<'a> {
    Dv::Msgpack(bytes)
}

struct ResourceAdapter<R>(R);

#[async_trait]
impl<R: Resource> ErasedResource for ResourceAdapter<R> {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        self.0.schema(diags)
    }

    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()> {
        let config = config.decode(diags, "resource configuration")?;
        self.0.validate(diags, config).await
    }

    async fn read(
        &self,
        diags: &mut Diagnostics,
        state: Dv<'_>,
        private_state: &[u8],
        meta: Dv<'_>,
    ) -> Option<Option<Encoded>> {
        let state = state.decode(diags, "current state")?;
        let private_state = private(private_state).decode(diags, "private state")?;
        let meta = meta.decode(diags, "provider_meta")?;
        match self.0.read(diags, state, private_state, meta).await {
            Some((s, p)) => Some(Some((encode(diags, &s)?, encode_private(diags, &p)?))),
            None if diags.errors.is_empty() => Some(None),
            None => None,
        }
    }

    async fn plan_create(
        &self,
        diags: &mut Diagnostics,
        proposed: Dv<'_>,
        config: Dv<'_>,
        meta: Dv<'_>,
    ) -> Option<Encoded> {
        let proposed = proposed.decode(diags, "proposed state")?;
        let config = config.decode(diags, "configuration")?;
        let meta = meta.decode(diags, "provider_meta")?;
        let (s, p) = self.0.plan_create(diags, proposed, config, meta).await?;
        Some((encode(diags, &s)?, encode_private(diags, &p)?))
    }

    async fn plan_update(
        &self,
        diags: &mut Diagnostics,
        prior: Dv<'_>,
        proposed: Dv<'_>,
        config: Dv<'_>,
        prior_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<(Vec<u8>, Vec<u8>, Vec<AttributePath>)> {
        let prior = prior.decode(diags, "prior state")?;
        let proposed = proposed.decode(diags, "proposed state")?;
        let config = config.decode(diags, "configuration")?;
        let prior_private = private(prior_private).decode(diags, "private state")?;
        let meta = meta.decode(diags, "provider_meta")?;
        let (s, p, replace) = self
            .0
            .plan_update(diags, prior, proposed, config, prior_private, meta)
            .await?;
        Some((encode(diags, &s)?, encode_private(diags, &p)?, replace))
    }

    async fn plan_destroy(
        &self,
        diags: &mut Diagnostics,
        prior: Dv<'_>,
        prior_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<Vec<u8>> {
        let prior = prior.decode(diags, "prior state")?;
        let prior_private = private(prior_private).decode(diags, "private state")?;
        let meta = meta.decode(diags, "provider_meta")?;
        let p = self
            .0
            .plan_destroy(diags, prior, prior_private, meta)
            .await?;
        encode_private(diags, &p)
    }

    async fn create(
        &self,
        diags: &mut Diagnostics,
        planned: Dv<'_>,
        config: Dv<'_>,
        planned_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<Encoded> {
        let planned = planned.decode(diags, "planned state")?;
        let config = config.decode(diags, "configuration")?;
        let planned_private = private(planned_private).decode(diags, "private state")?;
        let meta = meta.decode(diags, "provider_meta")?;
        let (s, p) = self
            .0
            .create(diags, planned, config, planned_private, meta)
            .await?;
        Some((encode(diags, &s)?, encode_private(diags, &p)?))
    }

    async fn update(
        &self,
        diags: &mut Diagnostics,
        prior: Dv<'_>,
        planned: Dv<'_>,
        config: Dv<'_>,
        planned_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<Encoded> {
        let prior = prior.decode(diags, "prior state")?;
        let planned = planned.decode(diags, "planned state")?;
        let config = config.decode(diags, "configuration")?;
        let planned_private = private(planned_private).decode(diags, "private state")?;
        let meta = meta.decode(diags, "provider_meta")?;
        let (s, p) = self
            .0
            .update(diags, prior, planned, config, planned_private, meta)
            .await?;
        Some((encode(diags, &s)?, encode_private(diags, &p)?))
    }

    async fn destroy(
        &self,
        diags: &mut Diagnostics,
        prior: Dv<'_>,
        planned_private: &[u8],
        meta: Dv<'_>,
    ) -> Option<()> {
        let prior = prior.decode(diags, "prior state")?;
        let planned_private = private(planned_private).decode(diags, "private state")?;
        let meta = meta.decode(diags, "provider_meta")?;
        self.0.destroy(diags, prior, planned_private, meta).await
    }

    async fn import(&self, diags: &mut Diagnostics, id: String) -> Option<Encoded> {
        let (s, p) = self.0.import(diags, id).await?;
        Some((encode(diags, &s)?, encode_private(diags, &p)?))
    }

    fn upgrade_json(&self, diags: &mut Diagnostics, json: &[u8]) -> Option<Vec<u8>> {
        let state: R::State<'_> = Dv::Json(json).decode(diags, "stored state")?;
        encode(diags, &state)
    }
}

/// Data source with its state type erased.
#[async_trait]
pub(crate) trait ErasedDataSource: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()>;
    async fn read(&self, diags: &mut Diagnostics, config: Dv<'_>, meta: Dv<'_>) -> Option<Vec<u8>>;
}

struct DataSourceAdapter<D>(D);

#[async_trait]
impl<D: DataSource> ErasedDataSource for DataSourceAdapter<D> {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        self.0.schema(diags)
    }
    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()> {
        let config = config.decode(diags, "data source configuration")?;
        self.0.validate(diags, config).await
    }
    async fn read(&self, diags: &mut Diagnostics, config: Dv<'_>, meta: Dv<'_>) -> Option<Vec<u8>> {
        let config = config.decode(diags, "data source configuration")?;
        let meta = meta.decode(diags, "provider_meta")?;
        let state = self.0.read(diags, config, meta).await?;
        encode(diags, &state)
    }
}

/// Ephemeral resource with its types erased.
#[async_trait]
pub(crate) trait ErasedEphemeral: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()>;
    async fn open(
        &self,
        diags: &mut Diagnostics,
        config: Dv<'_>,
    ) -> Option<(Vec<u8>, Vec<u8>, Option<time::OffsetDateTime>)>;
    async fn renew(
        &self,
        diags: &mut Diagnostics,
        private: &[u8],
    ) -> Option<(Vec<u8>, Option<time::OffsetDateTime>)>;
    async fn close(&self, diags: &mut Diagnostics, private: &[u8]) -> Option<()>;
}

struct EphemeralAdapter<E>(E);

#[async_trait]
impl<E: EphemeralResource> ErasedEphemeral for EphemeralAdapter<E> {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        self.0.schema(diags)
    }
    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()> {
        let config = config.decode(diags, "ephemeral resource configuration")?;
        self.0.validate(diags, config).await
    }
    async fn open(
        &self,
        diags: &mut Diagnostics,
        config: Dv<'_>,
    ) -> Option<(Vec<u8>, Vec<u8>, Option<time::OffsetDateTime>)> {
        let config = config.decode(diags, "ephemeral resource configuration")?;
        let (result, private, renew_at) = self.0.open(diags, config).await?;
        Some((encode(diags, &result)?, encode(diags, &private)?, renew_at))
    }
    async fn renew(
        &self,
        diags: &mut Diagnostics,
        private_state: &[u8],
    ) -> Option<(Vec<u8>, Option<time::OffsetDateTime>)> {
        let p = private(private_state).decode(diags, "private state")?;
        let (p, renew_at) = self.0.renew(diags, p).await?;
        Some((encode(diags, &p)?, renew_at))
    }
    async fn close(&self, diags: &mut Diagnostics, private_state: &[u8]) -> Option<()> {
        let p = private(private_state).decode(diags, "private state")?;
        self.0.close(diags, p).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::value::{Value, ValueString};

    #[derive(Serialize, Deserialize, Default)]
    struct Config<'a> {
        #[serde(borrow, default)]
        token: ValueString<'a>,
        #[serde(borrow, default)]
        project_id: ValueString<'a>,
        #[serde(borrow, default)]
        api_url: ValueString<'a>,
    }

    #[test]
    fn unknown_attributes_are_named() {
        let config = Config {
            token: Value::Value("cwt_x".into()),
            project_id: Value::Unknown,
            api_url: Value::Null,
        };
        assert_eq!(unknown_attributes(&config), ["project_id"]);
        assert!(unknown_attributes(&Config::default()).is_empty());
        let bytes = rmp_serde::to_vec_named(&config).expect("encode");
        assert_eq!(Dv::Msgpack(&bytes).unknown_attributes(), ["project_id"]);
        assert!(Dv::Msgpack(NULL_MSGPACK).unknown_attributes().is_empty());
    }

    #[test]
    fn config_slot_names_what_is_unknown() {
        let slot = ConfigSlot::<u32>::default();
        let mut diags = Diagnostics::default();
        assert_eq!(slot.get(&mut diags), None);
        assert_eq!(diags.errors[0].summary, "Provider not configured");

        slot.set_unknown(vec!["project_id".into()]);
        assert!(slot.is_unknown("project_id") && !slot.is_unknown("token"));
        let mut diags = Diagnostics::default();
        assert_eq!(slot.get(&mut diags), None);
        let detail = &diags.errors[0].detail;
        assert!(
            detail.contains("provider's `project_id` is not known until apply"),
            "{detail}"
        );
        assert!(
            !detail.contains("token") && !detail.contains("api_url"),
            "{detail}"
        );

        slot.set_unknown(vec!["token".into(), "api_url".into()]);
        let mut diags = Diagnostics::default();
        slot.get(&mut diags);
        assert!(diags.errors[0]
            .detail
            .contains("`token`, `api_url` are not known until apply"));

        slot.set(7);
        let mut diags = Diagnostics::default();
        assert_eq!(slot.get(&mut diags), Some(7));
        assert!(diags.errors.is_empty() && slot.unknown().is_empty());
    }
}
