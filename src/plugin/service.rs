//! The `tfplugin6.Provider` gRPC service: decodes requests, dispatches to the registry,
//! encodes answers. Every RPC of protocol 6.11 is served: functions, list resources,
//! generated configuration and actions through their registries (`functions.rs`,
//! `list.rs`, `generate.rs`, `actions.rs`); the ones no provider of ours uses yet (state
//! stores, moved blocks) answer with an explicit "not supported" diagnostic instead of a
//! gRPC error, so Terraform shows the user a readable message.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use tf_provider::Diagnostics;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, instrument};

use super::actions::ErasedAction;
use super::convert::{self, SchemaExtras};
use super::framework::{
    Dv, ErasedDataSource, ErasedEphemeral, ErasedProvider, ErasedResource, Registry, NULL_MSGPACK,
};
use super::functions::{self, ErasedFunction};
use super::generate::{self, ConfigRules, ProviderDefault};
use super::list::ErasedList;
use crate::proto::tfplugin6 as pb;
use crate::proto::tfplugin6::provider_server::Provider as GrpcProvider;

/// Shared state of one plugin process.
pub(crate) struct PluginServer {
    provider: Box<dyn ErasedProvider>,
    // Ordered maps: GetMetadata lists types in name order, the same on every start.
    resources: BTreeMap<String, Arc<dyn ErasedResource>>,
    data_sources: BTreeMap<String, Arc<dyn ErasedDataSource>>,
    ephemeral: BTreeMap<String, Arc<dyn ErasedEphemeral>>,
    schema: OnceLock<pb::get_provider_schema::Response>,
    extras: BTreeMap<String, SchemaExtras>,
    functions: BTreeMap<String, Arc<dyn ErasedFunction>>,
    lists: BTreeMap<String, Arc<dyn ErasedList>>,
    actions: BTreeMap<String, Arc<dyn ErasedAction>>,
    config_rules: BTreeMap<String, ConfigRules>,
    provider_defaults: BTreeMap<String, Vec<(&'static str, ProviderDefault)>>,
    /// Cancelled when the host asks the plugin process to exit.
    pub(crate) shutdown: CancellationToken,
    /// Cancels the actions running now (StopProvider); replaced by a fresh one after.
    stop_actions: std::sync::Mutex<CancellationToken>,
}

impl PluginServer {
    pub(crate) fn new(provider: Box<dyn ErasedProvider>) -> Self {
        let mut registry = Registry::default();
        provider.register(&mut registry);
        let mut resources = BTreeMap::new();
        let mut extras = BTreeMap::new();
        for (name, (res, ext)) in registry.resources {
            extras.insert(name.clone(), ext);
            resources.insert(name, res);
        }
        Self {
            provider,
            resources,
            data_sources: registry.data_sources.into_iter().collect(),
            ephemeral: registry.ephemeral_resources.into_iter().collect(),
            schema: OnceLock::new(),
            extras,
            functions: registry.functions,
            lists: registry.list_resources,
            actions: registry.actions,
            config_rules: registry.config_rules,
            provider_defaults: registry.provider_defaults,
            shutdown: CancellationToken::new(),
            stop_actions: std::sync::Mutex::new(CancellationToken::new()),
        }
    }

    /// Ask the provider to cancel its in-flight work (as StopProvider does).
    pub(crate) fn stop(&self) {
        self.cancel_actions();
        self.provider.stop();
    }

    fn server_capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            // Terraform calls PlanResourceChange for destroy too (deletion protection).
            plan_destroy: true,
            // Terraform may reuse a cached schema instead of asking each time it starts us.
            get_provider_schema_optional: true,
            move_resource_state: false,
            // Terraform asks us for the configuration it writes for imported and listed
            // objects (generate.rs) instead of guessing from state.
            generate_resource_config: true,
        }
    }

    /// The full schema answer, built once per process.
    pub(crate) fn provider_schema(&self) -> &pb::get_provider_schema::Response {
        self.schema.get_or_init(|| {
            let mut diags = Diagnostics::default();
            let none = SchemaExtras::default();
            let provider = self
                .provider
                .schema(&mut diags)
                .map(|s| convert::schema(&s, &none));
            let resource_schemas = self
                .resources
                .iter()
                .filter_map(|(name, r)| {
                    let extras = self.extras.get(name).unwrap_or(&none);
                    Some((
                        name.clone(),
                        convert::schema(&r.schema(&mut diags)?, extras),
                    ))
                })
                .collect();
            let data_source_schemas = self
                .data_sources
                .iter()
                .filter_map(|(name, d)| {
                    Some((name.clone(), convert::schema(&d.schema(&mut diags)?, &none)))
                })
                .collect();
            let ephemeral_resource_schemas = self
                .ephemeral
                .iter()
                .filter_map(|(name, e)| {
                    Some((name.clone(), convert::schema(&e.schema(&mut diags)?, &none)))
                })
                .collect();
            let list_resource_schemas = self
                .lists
                .iter()
                .filter_map(|(name, l)| {
                    Some((name.clone(), convert::schema(&l.schema(&mut diags)?, &none)))
                })
                .collect();
            let action_schemas = self
                .actions
                .iter()
                .filter_map(|(name, a)| {
                    Some((
                        name.clone(),
                        pb::ActionSchema {
                            schema: Some(convert::schema(&a.schema(&mut diags)?, &none)),
                        },
                    ))
                })
                .collect();
            let functions = self
                .functions
                .iter()
                .map(|(name, f)| (name.clone(), functions::declaration(&f.signature())))
                .collect();
            pb::get_provider_schema::Response {
                provider,
                functions,
                list_resource_schemas,
                action_schemas,
                resource_schemas,
                data_source_schemas,
                ephemeral_resource_schemas,
                diagnostics: convert::diagnostics(&diags),
                provider_meta: Some(pb::Schema {
                    version: 0,
                    block: Some(pb::schema::Block::default()),
                }),
                server_capabilities: Some(Self::server_capabilities()),
                ..Default::default()
            }
        })
    }

    fn resource(&self, diags: &mut Diagnostics, name: &str) -> Option<Arc<dyn ErasedResource>> {
        let found = self.resources.get(name).cloned();
        if found.is_none() {
            diags.root_error(
                "Unknown resource type",
                format!("This provider has no resource type `{name}`."),
            );
        }
        found
    }

    fn data_source(
        &self,
        diags: &mut Diagnostics,
        name: &str,
    ) -> Option<Arc<dyn ErasedDataSource>> {
        let found = self.data_sources.get(name).cloned();
        if found.is_none() {
            diags.root_error(
                "Unknown data source type",
                format!("This provider has no data source type `{name}`."),
            );
        }
        found
    }

    fn identity(&self, type_name: &str) -> Option<&super::identity::IdentitySpec> {
        self.extras.get(type_name)?.identity.as_ref()
    }

    /// Cancel every running action; later invocations get a fresh token.
    fn cancel_actions(&self) {
        if let Ok(mut token) = self.stop_actions.lock() {
            token.cancel();
            *token = CancellationToken::new();
        }
    }

    /// The cancellation of one invocation: at shutdown or at the next StopProvider.
    fn action_token(&self) -> CancellationToken {
        let invocation = self.shutdown.child_token();
        if let Ok(stop) = self.stop_actions.lock() {
            let (stop, token) = (stop.clone(), invocation.clone());
            tokio::spawn(async move {
                tokio::select! {
                    () = stop.cancelled() => token.cancel(),
                    () = token.cancelled() => {}
                }
            });
        }
        invocation
    }

    fn list(&self, diags: &mut Diagnostics, name: &str) -> Option<Arc<dyn ErasedList>> {
        let found = self.lists.get(name).cloned();
        if found.is_none() {
            diags.root_error(
                "Unknown list type",
                format!("This provider has no list type `{name}`."),
            );
        }
        found
    }

    fn action(&self, diags: &mut Diagnostics, name: &str) -> Option<Arc<dyn ErasedAction>> {
        let found = self.actions.get(name).cloned();
        if found.is_none() {
            diags.root_error(
                "Unknown action type",
                format!("This provider has no action type `{name}`."),
            );
        }
        found
    }

    fn ephemeral(&self, diags: &mut Diagnostics, name: &str) -> Option<Arc<dyn ErasedEphemeral>> {
        let found = self.ephemeral.get(name).cloned();
        if found.is_none() {
            diags.root_error(
                "Unknown ephemeral resource type",
                format!("This provider has no ephemeral resource type `{name}`."),
            );
        }
        found
    }
}

fn timestamp(t: Option<time::OffsetDateTime>) -> Option<prost_types::Timestamp> {
    t.map(|t| prost_types::Timestamp {
        seconds: t.unix_timestamp(),
        nanos: i32::try_from(t.nanosecond()).unwrap_or(0),
    })
}

/// A Terraform that does not announce write-only attributes (Terraform before 1.11,
/// OpenTofu before 1.11) would keep their values in plan and state: a value set on one
/// (known or not yet known) is refused on its attribute, before anything is planned. The
/// error names the attribute's sensitive counterpart (`x` beside `x_wo`) when `has` says
/// the type has one.
fn refuse_write_only(
    diags: &mut Diagnostics,
    extras: &SchemaExtras,
    config: Option<&pb::DynamicValue>,
    has: impl Fn(&str) -> bool,
) {
    if extras.write_only.is_empty() {
        return;
    }
    let Some(config) = config else { return };
    // The top-level attributes the configuration sets (not null).
    let set: Vec<String> = match Dv::from_parts(&config.msgpack, &config.json) {
        Dv::Json(bytes) => {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(bytes)
                .map(|o| {
                    o.into_iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, _)| k)
                        .collect()
                })
                .unwrap_or_default()
        }
        Dv::Msgpack(bytes) => match rmpv::decode::read_value(&mut &bytes[..]) {
            Ok(rmpv::Value::Map(entries)) => entries
                .into_iter()
                .filter(|(_, v)| !v.is_nil())
                .filter_map(|(k, _)| k.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        },
    };
    for name in set {
        if extras.write_only.contains(&name) {
            let instead = match name.strip_suffix("_wo").filter(|plain| has(plain)) {
                Some(plain) => format!(
                    "set `{plain}` instead (its sensitive form: kept in state, marked \
                     sensitive, so protect the state)"
                ),
                None => "leave it unset".to_owned(),
            };
            diags.error(
                "Write-only attribute not supported by this Terraform",
                format!(
                    "`{name}` is write-only: its value is sent to the provider and never kept in \
                     plan or state. This Terraform (or OpenTofu) does not support write-only \
                     attributes and would store the value in the state file. Upgrade to \
                     Terraform 1.11 or later (or OpenTofu 1.11 or later), or {instead}."
                ),
                tf_provider::AttributePath::new(name.clone()),
            );
        }
    }
}

fn dv(v: &Option<pb::DynamicValue>) -> Dv<'_> {
    match v {
        Some(v) => Dv::from_parts(&v.msgpack, &v.json),
        None => Dv::Msgpack(&[]),
    }
}

fn msgpack(bytes: Vec<u8>) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: bytes,
        json: Vec::new(),
    })
}

fn null_value() -> Option<pb::DynamicValue> {
    msgpack(NULL_MSGPACK.to_vec())
}

/// Diagnostics for an RPC the server knows but no provider of ours implements yet.
fn not_supported(what: &str) -> Vec<pb::Diagnostic> {
    let mut diags = Diagnostics::default();
    diags.root_error(
        format!("{what} is not supported"),
        format!(
            "This provider does not implement {what} yet. Upgrade the provider, or remove the \
             configuration that uses it."
        ),
    );
    convert::diagnostics(&diags)
}

type EventStream<T> = tokio_stream::Iter<std::vec::IntoIter<Result<T, Status>>>;

/// A stream of events a spawned task produces; dropping it (the client cancelled) closes
/// the channel, which the task sees at its next send or `closed()`.
type TaskStream<T> = std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send>>;

fn task_stream<T: Send + 'static>(rx: tokio::sync::mpsc::Receiver<T>) -> TaskStream<T> {
    use tokio_stream::StreamExt;
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok))
}

fn task_one<T: Send + 'static>(event: T) -> TaskStream<T> {
    Box::pin(tokio_stream::iter(vec![Ok(event)]))
}

fn one_event<T>(event: T) -> Response<EventStream<T>> {
    Response::new(tokio_stream::iter(vec![Ok(event)]))
}

#[tonic::async_trait]
impl GrpcProvider for Arc<PluginServer> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(PluginServer::server_capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .data_sources
                .keys()
                .map(|n| pb::get_metadata::DataSourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|n| pb::get_metadata::ResourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            ephemeral_resources: self
                .ephemeral
                .keys()
                .map(|n| pb::get_metadata::EphemeralResourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            functions: self
                .functions
                .keys()
                .map(|n| pb::get_metadata::FunctionMetadata { name: n.clone() })
                .collect(),
            list_resources: self
                .lists
                .keys()
                .map(|n| pb::get_metadata::ListResourceMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            actions: self
                .actions
                .keys()
                .map(|n| pb::get_metadata::ActionMetadata {
                    type_name: n.clone(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        Ok(Response::new(self.provider_schema().clone()))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas: self
                .extras
                .iter()
                .filter_map(|(name, e)| Some((name.clone(), e.identity.as_ref()?.schema())))
                .collect(),
            diagnostics: Vec::new(),
        }))
    }

    #[instrument(skip_all)]
    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        self.provider.validate(&mut diags, dv(&req.config)).await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(r) = self.resource(&mut diags, &req.type_name) {
            let allowed = req
                .client_capabilities
                .as_ref()
                .is_some_and(|c| c.write_only_attributes_allowed);
            if !allowed {
                if let Some(extras) = self.extras.get(&req.type_name) {
                    let has = |name: &str| {
                        r.schema(&mut Diagnostics::default())
                            .is_some_and(|s| s.block.attributes.contains_key(name))
                    };
                    refuse_write_only(&mut diags, extras, req.config.as_ref(), has);
                }
            }
            r.validate(&mut diags, dv(&req.config)).await;
        }
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(d) = self.data_source(&mut diags, &req.type_name) {
            d.validate(&mut diags, dv(&req.config)).await;
        }
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut upgraded_state = None;
        if let Some(r) = self.resource(&mut diags, &req.type_name) {
            let current = r.schema(&mut diags).map(|s| s.version).unwrap_or_default();
            let json = req
                .raw_state
                .as_ref()
                .map(|s| s.json.as_slice())
                .unwrap_or(b"");
            if req.version > current {
                diags.root_error(
                    "State was written by a newer provider",
                    format!(
                        "The stored `{}` state has schema version {}, but this provider only \
                         knows version {current}. Upgrade the provider.",
                        req.type_name, req.version
                    ),
                );
            } else if json.is_empty() {
                diags.root_error(
                    "Unsupported state format",
                    "The stored state has no JSON form (flatmap states from Terraform 0.11 are not supported).",
                );
            } else {
                upgraded_state = r.upgrade_json(&mut diags, json).and_then(msgpack);
            }
        }
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut upgraded_identity = None;
        if self.resource(&mut diags, &req.type_name).is_some() {
            let json = req
                .raw_identity
                .as_ref()
                .map(|s| s.json.as_slice())
                .unwrap_or(b"");
            match self
                .extras
                .get(&req.type_name)
                .and_then(|e| e.identity.as_ref())
            {
                None => diags.root_error(
                    "Resource has no identity",
                    format!(
                        "`{}` does not declare a resource identity, so there is none to upgrade.",
                        req.type_name
                    ),
                ),
                Some(spec) => match spec.upgrade(req.version, json) {
                    Ok(identity) => upgraded_identity = Some(identity),
                    Err(detail) => diags.root_error("Cannot upgrade the stored identity", detail),
                },
            }
        }
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity,
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    #[instrument(skip_all)]
    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let unknown = dv(&req.config).unknown_attributes();
        if !unknown.is_empty() {
            // Names only: values of a provider block may be secrets.
            debug!(
                unknown = %unknown.join(","),
                "provider configuration has values known only after apply"
            );
        }
        self.provider
            .configure(&mut diags, req.terraform_version, dv(&req.config))
            .await;
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut resp = pb::read_resource::Response::default();
        if let Some(r) = self.resource(&mut diags, &req.type_name) {
            match r
                .read(
                    &mut diags,
                    dv(&req.current_state),
                    &req.private,
                    dv(&req.provider_meta),
                )
                .await
            {
                Some(Some((state, private))) => {
                    resp.new_identity = self
                        .identity(&req.type_name)
                        .and_then(|i| i.from_state(&state));
                    resp.new_state = msgpack(state);
                    resp.private = private;
                }
                Some(None) => {
                    debug!("object no longer exists; answering a null state");
                    resp.new_state = null_value();
                }
                // On error keep what Terraform had, so nothing is lost from state.
                None => {
                    resp.new_state = req.current_state;
                    resp.private = req.private;
                    resp.new_identity = req.current_identity;
                }
            }
        }
        resp.diagnostics = convert::diagnostics(&diags);
        Ok(Response::new(resp))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut resp = pb::plan_resource_change::Response::default();
        if let Some(r) = self.resource(&mut diags, &req.type_name) {
            let (prior, proposed) = (dv(&req.prior_state), dv(&req.proposed_new_state));
            let (config, meta) = (dv(&req.config), dv(&req.provider_meta));
            if proposed.is_null() {
                if let Some(private) = r
                    .plan_destroy(&mut diags, prior, &req.prior_private, meta)
                    .await
                {
                    resp.planned_state = null_value();
                    resp.planned_private = private;
                }
            } else if prior.is_null() {
                if let Some((state, private)) =
                    r.plan_create(&mut diags, proposed, config, meta).await
                {
                    resp.planned_state = msgpack(state);
                    resp.planned_private = private;
                }
            } else if let Some((state, private, replace)) = r
                .plan_update(
                    &mut diags,
                    prior,
                    proposed,
                    config,
                    &req.prior_private,
                    meta,
                )
                .await
            {
                resp.planned_identity = if replace.is_empty() {
                    req.prior_identity.clone()
                } else {
                    None
                }
                .or_else(|| {
                    self.identity(&req.type_name)
                        .and_then(|i| i.from_state(&state))
                });
                resp.planned_state = msgpack(state);
                resp.planned_private = private;
                resp.requires_replace = replace.iter().map(convert::attribute_path).collect();
            }
        }
        resp.diagnostics = convert::diagnostics(&diags);
        Ok(Response::new(resp))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut resp = pb::apply_resource_change::Response::default();
        if let Some(r) = self.resource(&mut diags, &req.type_name) {
            let (prior, planned) = (dv(&req.prior_state), dv(&req.planned_state));
            let (config, meta) = (dv(&req.config), dv(&req.provider_meta));
            if planned.is_null() {
                if r.destroy(&mut diags, prior, &req.planned_private, meta)
                    .await
                    .is_some()
                {
                    resp.new_state = null_value();
                } else {
                    // The object still exists: keep it in state.
                    resp.new_state = req.prior_state.clone();
                }
            } else if prior.is_null() {
                if let Some((state, private)) = r
                    .create(&mut diags, planned, config, &req.planned_private, meta)
                    .await
                {
                    resp.new_identity = self
                        .identity(&req.type_name)
                        .and_then(|i| i.from_state(&state));
                    resp.new_state = msgpack(state);
                    resp.private = private;
                } else {
                    resp.new_state = null_value();
                }
            } else if let Some((state, private)) = r
                .update(
                    &mut diags,
                    prior,
                    planned,
                    config,
                    &req.planned_private,
                    meta,
                )
                .await
            {
                resp.new_identity = self
                    .identity(&req.type_name)
                    .and_then(|i| i.from_state(&state));
                resp.new_state = msgpack(state);
                resp.private = private;
            } else {
                resp.new_state = req.prior_state.clone();
                resp.new_identity = req.planned_identity.clone();
            }
        }
        resp.diagnostics = convert::diagnostics(&diags);
        Ok(Response::new(resp))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut resp = pb::import_resource_state::Response::default();
        if let Some(r) = self.resource(&mut diags, &req.type_name) {
            let spec = self.identity(&req.type_name);
            // `import { identity = {...} }` sends an identity instead of an id string.
            let id = match (&req.identity, spec) {
                (Some(identity), Some(spec)) if req.id.is_empty() => {
                    spec.import_id(identity).unwrap_or_default()
                }
                _ => req.id.clone(),
            };
            if id.is_empty() {
                diags.root_error(
                    "Missing import id",
                    format!("Importing `{}` needs an id or an identity.", req.type_name),
                );
            } else if let Some((state, private)) = r.import(&mut diags, id).await {
                resp.imported_resources
                    .push(pb::import_resource_state::ImportedResource {
                        identity: spec.and_then(|i| i.from_state(&state)),
                        type_name: req.type_name,
                        state: msgpack(state),
                        private,
                    });
            }
        }
        resp.diagnostics = convert::diagnostics(&diags);
        Ok(Response::new(resp))
    }

    async fn move_resource_state(
        &self,
        _request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: not_supported("Moving state between resource types (moved blocks)"),
            ..Default::default()
        }))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut resp = pb::read_data_source::Response::default();
        if let Some(d) = self.data_source(&mut diags, &req.type_name) {
            resp.state = d
                .read(&mut diags, dv(&req.config), dv(&req.provider_meta))
                .await
                .and_then(msgpack);
        }
        resp.diagnostics = convert::diagnostics(&diags);
        Ok(Response::new(resp))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut config = None;
        if let Some(r) = self.resource(&mut diags, &req.type_name) {
            let schema = self.provider_schema().resource_schemas.get(&req.type_name);
            let state = req.state.as_ref().map_or(&[][..], |s| s.msgpack.as_slice());
            match schema.map(|schema| {
                let rules = generate::Rules {
                    rules: self.config_rules.get(&req.type_name),
                    provider_defaults: self
                        .provider_defaults
                        .get(&req.type_name)
                        .map_or(&[], Vec::as_slice),
                };
                generate::from_state(state, schema, rules)
            }) {
                Some(Ok(bytes)) => {
                    // Generated configuration must pass the type's own validation: what
                    // it refuses is said, on the attribute, as a warning to edit it.
                    let mut checked = Diagnostics::default();
                    r.validate(&mut checked, Dv::Msgpack(&bytes)).await;
                    for e in checked.errors {
                        diags.warning(
                            format!("Generated configuration needs editing: {}", e.summary),
                            convert::user_detail(&e.detail).to_owned(),
                            e.attribute,
                        );
                    }
                    config = msgpack(bytes);
                }
                Some(Err(detail)) => diags.root_error(
                    "Cannot generate configuration",
                    format!(
                        "The state of this `{}` could not be read: {detail}.",
                        req.type_name
                    ),
                ),
                None => {}
            }
        }
        Ok(Response::new(pb::generate_resource_config::Response {
            config,
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(e) = self.ephemeral(&mut diags, &req.type_name) {
            e.validate(&mut diags, dv(&req.config)).await;
        }
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: convert::diagnostics(&diags),
            },
        ))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut resp = pb::open_ephemeral_resource::Response::default();
        if let Some(e) = self.ephemeral(&mut diags, &req.type_name) {
            if let Some((result, private, renew_at)) = e.open(&mut diags, dv(&req.config)).await {
                resp.result = msgpack(result);
                resp.private = Some(private);
                resp.renew_at = timestamp(renew_at);
            }
        }
        resp.diagnostics = convert::diagnostics(&diags);
        Ok(Response::new(resp))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let mut resp = pb::renew_ephemeral_resource::Response::default();
        if let Some(e) = self.ephemeral(&mut diags, &req.type_name) {
            let private = req.private.unwrap_or_default();
            if let Some((private, renew_at)) = e.renew(&mut diags, &private).await {
                resp.private = Some(private);
                resp.renew_at = timestamp(renew_at);
            }
        }
        resp.diagnostics = convert::diagnostics(&diags);
        Ok(Response::new(resp))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(e) = self.ephemeral(&mut diags, &req.type_name) {
            e.close(&mut diags, &req.private.unwrap_or_default()).await;
        }
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    type ListResourceStream = TaskStream<pb::list_resource::Event>;

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let Some(list) = self.list(&mut diags, &req.type_name) else {
            return Ok(Response::new(task_one(pb::list_resource::Event {
                diagnostic: convert::diagnostics(&diags),
                ..Default::default()
            })));
        };
        let Some(identity) = self.identity(&req.type_name).cloned() else {
            diags.root_error(
                "List type without identity",
                format!(
                    "`{}` is listed but its resource type declares no identity. This is a bug \
                     in the provider.",
                    req.type_name
                ),
            );
            return Ok(Response::new(task_one(pb::list_resource::Event {
                diagnostic: convert::diagnostics(&diags),
                ..Default::default()
            })));
        };
        let config = req.config.map(|c| c.msgpack).unwrap_or_default();
        let limit = usize::try_from(req.limit).unwrap_or(0);
        // Small buffer: the list fetches ahead of Terraform's reading by a page at most.
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let include = req.include_resource_object;
        tokio::spawn(async move { list.run(config, include, limit, identity, tx).await });
        Ok(Response::new(task_stream(rx)))
    }

    #[instrument(skip_all, fields(type_name = %request.get_ref().type_name))]
    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(list) = self.list(&mut diags, &req.type_name) {
            list.validate(&mut diags, dv(&req.config)).await;
        }
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response {
            functions: self.provider_schema().functions.clone(),
            diagnostics: Vec::new(),
        }))
    }

    #[instrument(skip_all, fields(name = %request.get_ref().name))]
    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = request.into_inner();
        let Some(f) = self.functions.get(&req.name).cloned() else {
            return Ok(Response::new(pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: format!("This provider has no function `{}`.", req.name),
                    function_argument: None,
                }),
            }));
        };
        Ok(Response::new(
            match functions::call(&req.name, f.as_ref(), req.arguments).await {
                Ok(result) => pb::call_function::Response {
                    result: msgpack(result),
                    error: None,
                },
                Err(e) => pb::call_function::Response {
                    result: None,
                    error: Some(e.to_pb()),
                },
            },
        ))
    }

    #[instrument(skip_all, fields(action_type = %request.get_ref().action_type))]
    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(a) = self.action(&mut diags, &req.action_type) {
            a.validate(&mut diags, dv(&req.config)).await;
        }
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics: convert::diagnostics(&diags),
        }))
    }

    #[instrument(skip_all, fields(action_type = %request.get_ref().action_type))]
    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        if let Some(a) = self.action(&mut diags, &req.action_type) {
            a.plan(&mut diags, dv(&req.config)).await;
        }
        Ok(Response::new(pb::plan_action::Response {
            diagnostics: convert::diagnostics(&diags),
            deferred: None,
        }))
    }

    type InvokeActionStream = TaskStream<pb::invoke_action::Event>;

    #[instrument(skip_all, fields(action_type = %request.get_ref().action_type))]
    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        use pb::invoke_action::event::{Completed, Type};
        let req = request.into_inner();
        let mut diags = Diagnostics::default();
        let Some(action) = self.action(&mut diags, &req.action_type) else {
            return Ok(Response::new(task_one(pb::invoke_action::Event {
                r#type: Some(Type::Completed(Completed {
                    diagnostics: convert::diagnostics(&diags),
                })),
            })));
        };
        let config = req.config.unwrap_or_default();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let cancel = self.action_token();
        tokio::spawn(async move {
            action.run(config, tx, cancel.clone()).await;
            cancel.cancel(); // ends the watcher of StopProvider
        });
        Ok(Response::new(task_stream(rx)))
    }

    async fn validate_state_store_config(
        &self,
        _request: Request<pb::validate_state_store_config::Request>,
    ) -> Result<Response<pb::validate_state_store_config::Response>, Status> {
        Ok(Response::new(pb::validate_state_store_config::Response {
            diagnostics: not_supported("State stores"),
        }))
    }

    async fn configure_state_store(
        &self,
        _request: Request<pb::configure_state_store::Request>,
    ) -> Result<Response<pb::configure_state_store::Response>, Status> {
        Ok(Response::new(pb::configure_state_store::Response {
            diagnostics: not_supported("State stores"),
            capabilities: None,
        }))
    }

    type ReadStateBytesStream = EventStream<pb::read_state_bytes::ResponseChunk>;

    async fn read_state_bytes(
        &self,
        _request: Request<pb::read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        Ok(one_event(pb::read_state_bytes::ResponseChunk {
            diagnostics: not_supported("State stores"),
            ..Default::default()
        }))
    }

    async fn write_state_bytes(
        &self,
        _request: Request<Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<pb::write_state_bytes::Response>, Status> {
        Ok(Response::new(pb::write_state_bytes::Response {
            diagnostics: not_supported("State stores"),
        }))
    }

    async fn lock_state(
        &self,
        _request: Request<pb::lock_state::Request>,
    ) -> Result<Response<pb::lock_state::Response>, Status> {
        Ok(Response::new(pb::lock_state::Response {
            lock_id: String::new(),
            diagnostics: not_supported("State stores"),
        }))
    }

    async fn unlock_state(
        &self,
        _request: Request<pb::unlock_state::Request>,
    ) -> Result<Response<pb::unlock_state::Response>, Status> {
        Ok(Response::new(pb::unlock_state::Response {
            diagnostics: not_supported("State stores"),
        }))
    }

    async fn get_states(
        &self,
        _request: Request<pb::get_states::Request>,
    ) -> Result<Response<pb::get_states::Response>, Status> {
        Ok(Response::new(pb::get_states::Response {
            state_ids: Vec::new(),
            diagnostics: not_supported("State stores"),
        }))
    }

    async fn delete_state(
        &self,
        _request: Request<pb::delete_state::Request>,
    ) -> Result<Response<pb::delete_state::Response>, Status> {
        Ok(Response::new(pb::delete_state::Response {
            diagnostics: not_supported("State stores"),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        debug!("StopProvider: cancelling in-flight work");
        self.cancel_actions();
        self.provider.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}
