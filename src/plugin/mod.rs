//! Our protocol-6 plugin server and the small provider framework on top of it.
//!
//! - [`handshake`]: magic cookie, version negotiation, the handshake line.
//! - [`tls`]: AutoMTLS with the certificate Terraform passes in `PLUGIN_CLIENT_CERT`.
//! - [`transport`]: unix socket or loopback TCP with `TCP_NODELAY`.
//! - `service` / `side_services`: the `tfplugin6.Provider` gRPC service and go-plugin's
//!   controller, stdio and broker services.
//! - [`framework`]: the [`Provider`] trait and the registry that erases `tf-provider`
//!   resources and data sources.
//! - [`convert`]: `tf-provider` schema/diagnostic types to protocol types.
//! - [`logging`]: `tracing` to Terraform's provider log.
//!
//! See `docs/plugin-server.md` for the design.

pub mod actions;
pub mod convert;
pub mod framework;
pub mod functions;
pub mod generate;
pub mod handshake;
pub mod identity;
pub mod kit;
pub mod list;
pub mod logging;
mod service;
mod side_services;
pub mod tls;
pub mod transport;

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use tracing::{debug, info};

pub use actions::{Action, Progress, Wait};
pub use convert::SchemaExtras;
pub use framework::{unknown_attributes, ConfigSlot, EphemeralResource, Provider, Registry};
pub use functions::{Args, Function, FunctionError, Parameter, Signature};
pub use generate::{ConfigRules, ProviderDefault};
pub use identity::{IdentityAttribute, IdentitySpec};
pub use list::{streamed, ElementSource, Entries, ListItem, ListResource, Listed, Page};

use crate::proto::plugin::grpc_broker_server::GrpcBrokerServer;
use crate::proto::plugin::grpc_controller_server::GrpcControllerServer;
use crate::proto::plugin::grpc_stdio_server::GrpcStdioServer;
use crate::proto::tfplugin6::provider_server::ProviderServer;
use service::PluginServer;
use transport::{Listener, Network};

/// How a provider binary presents itself.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Provider source address, e.g. `comwit/comwit` (debug mode).
    pub address: &'static str,
    /// Binary name, for messages (`terraform-provider-comwit`).
    pub binary: &'static str,
}

/// Entry point for `main`: parse the command line, run the server, map errors to an exit
/// code. `--debug` starts the provider for `TF_REATTACH_PROVIDERS`.
pub fn serve<P: Provider>(options: ServeOptions, provider: P) -> ExitCode {
    let debug = std::env::args()
        .skip(1)
        .any(|a| a == "--debug" || a == "-debug");
    if !debug && !handshake::cookie_ok() {
        eprintln!("{}", handshake::not_started_by_terraform(options.binary));
        return ExitCode::FAILURE;
    }
    // `tf_provider::Diagnostic::new` captures (and resolves) a backtrace for every
    // diagnostic when RUST_BACKTRACE is set; `convert` cuts it from what Terraform shows, so
    // the capture is pure cost. RUST_LIB_BACKTRACE=0 turns off library captures and leaves
    // panic backtraces to RUST_BACKTRACE. Set before the runtime starts: one thread here.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    // One thread: a provider's work is waiting on Terraform and on its API, not computing.
    // Measured over a 500-resource plan, the multi-threaded runtime cost about 1,250 context
    // switches per plugin process (each h2 stream is a task that wakes another worker)
    // against about 440 here, and more CPU (docs/performance.md). Provider code must
    // therefore never block the thread: every lifecycle method is async.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}: cannot start the async runtime: {e}", options.binary);
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options.clone(), Box::new(provider), debug)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e:#}", options.binary);
            ExitCode::FAILURE
        }
    }
}

/// Env: `tcp` makes every provider of this crate listen on loopback TCP instead of a unix
/// socket (for hosts without unix sockets, and the protocol tests).
pub const ENV_PLUGIN_NETWORK: &str = "TF_PROVIDER_PLUGIN_NETWORK";

fn network_from_env() -> Network {
    match std::env::var(ENV_PLUGIN_NETWORK).as_deref() {
        Ok("tcp") => Network::Tcp,
        _ => Network::Unix,
    }
}

async fn run(
    options: ServeOptions,
    provider: Box<dyn framework::ErasedProvider>,
    debug_mode: bool,
) -> Result<()> {
    // Read first, before anything can take time: the process that started us.
    let parent = std::os::unix::process::parent_id();
    logging::init(&format!("provider.{}", options.binary), options.binary);
    let version = handshake::negotiate(std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok().as_deref())
        .map_err(anyhow::Error::msg)?;

    let listener = Listener::bind(network_from_env()).await?;
    let network = listener.network();
    let address = listener.address()?;
    let socket_path = listener.socket_path().map(|p| p.to_path_buf());

    // AutoMTLS whenever the host hands us its certificate (never in debug mode).
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.trim().is_empty() && !debug_mode => Some(tls::setup(&pem, options.binary)?),
        _ => None,
    };

    let server = Arc::new(PluginServer::new(provider));
    let shutdown = server.shutdown.clone();
    let incoming = listener.incoming(tls.as_ref().map(|t| t.config.clone()));

    let grpc = tonic::transport::Server::builder()
        .add_service(ProviderServer::new(server.clone()))
        .add_service(GrpcControllerServer::new(server.clone()))
        .add_service(GrpcStdioServer::new(server.clone()))
        .add_service(GrpcBrokerServer::new(server.clone()))
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    let grpc = tokio::spawn(grpc);

    // The server is accepting: tell the host where to connect.
    {
        let mut out = std::io::stdout().lock();
        if debug_mode {
            writeln!(
                out,
                "Provider started. To attach Terraform, set in the shell that runs it:\n\n\
                 \tTF_REATTACH_PROVIDERS='{}'\n\nStop the provider with Ctrl-C.",
                handshake::reattach_json(options.address, network.as_str(), &address)
            )?;
        } else {
            writeln!(
                out,
                "{}",
                handshake::line(
                    version,
                    network.as_str(),
                    &address,
                    tls.as_ref().map(|t| t.server_cert_der.as_slice()),
                )
            )?;
        }
        out.flush()?;
    }
    info!(
        network = network.as_str(),
        version, "plugin server listening"
    );

    // Terraform forwards Ctrl-C to the whole process group and then calls StopProvider and
    // Shutdown itself, so an interrupt must not kill the plugin mid-operation. In debug
    // mode Ctrl-C is how the developer stops it.
    let signals = {
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            loop {
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
                if debug_mode {
                    shutdown.cancel();
                    return;
                }
                debug!("interrupt received; waiting for Terraform to stop the provider");
            }
        })
    };

    // Terraform killed (kill -9, OOM, a crashed CI runner) never calls Shutdown, and
    // go-plugin's stdin is no reliable signal, so without this the plugin would live on with
    // its socket. In debug mode there is no Terraform parent to follow.
    let orphan_watch = (!debug_mode).then(|| {
        tokio::spawn(exit_when_orphaned(
            parent,
            server.clone(),
            socket_path.clone(),
        ))
    });

    let result = grpc.await.context("gRPC server task")?;
    signals.abort();
    if let Some(watch) = orphan_watch {
        watch.abort();
    }
    if let Some(path) = socket_path {
        let _ = std::fs::remove_file(path);
    }
    result.context("gRPC server")?;
    Ok(())
}

/// How often the plugin checks that the process that started it is still there.
const PARENT_POLL: std::time::Duration = std::time::Duration::from_millis(250);
/// How long in-flight calls may finish after the parent died before the process exits.
const ORPHAN_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

/// Poll the parent pid (a `getppid` system call every 250 ms, nothing that blocks): when it
/// changes, the host that started us died and we were re-parented. Stop the provider's
/// in-flight work, shut the server down, and exit after a short grace period even if a
/// connection is still open. Exits within about 0.75 s of the parent's death.
async fn exit_when_orphaned(
    parent: u32,
    server: Arc<PluginServer>,
    socket_path: Option<std::path::PathBuf>,
) {
    let mut tick = tokio::time::interval(PARENT_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if std::os::unix::process::parent_id() != parent {
            break;
        }
    }
    info!(
        parent,
        "the process that started the plugin is gone; shutting down"
    );
    server.stop();
    server.shutdown.cancel();
    tokio::time::sleep(ORPHAN_GRACE).await;
    if let Some(path) = socket_path {
        let _ = std::fs::remove_file(path);
    }
    std::process::exit(1);
}

/// The identity schemas a provider declares, by resource type (for documentation).
pub fn identity_schemas<P: Provider + Clone>(
    provider: &P,
) -> std::collections::BTreeMap<String, crate::proto::tfplugin6::ResourceIdentitySchema> {
    let mut registry = Registry::default();
    provider.register(&mut registry);
    registry
        .resources
        .into_iter()
        .filter_map(|(name, (_, extras))| Some((name, extras.identity?.schema())))
        .collect()
}

/// The schema answer a provider gives Terraform (for documentation generation and tests).
pub fn provider_schema<P: Provider + Clone>(
    provider: &P,
) -> crate::proto::tfplugin6::get_provider_schema::Response {
    PluginServer::new(Box::new(provider.clone()))
        .provider_schema()
        .clone()
}
