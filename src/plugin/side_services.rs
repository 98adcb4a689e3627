//! go-plugin's side services: controller (shutdown), stdio and broker.
//!
//! Terraform opens the stdio and broker streams when it starts a plugin. We never write to
//! stdout after the handshake line and never broker connections, so both streams simply
//! stay open until the plugin shuts down.

use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};
use tracing::debug;

use super::service::PluginServer;
use crate::proto::plugin as pb;

type Pending<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A stream that yields nothing and ends when the plugin shuts down.
fn until_shutdown<T: Send + 'static>(server: &Arc<PluginServer>) -> Pending<T> {
    let token = server.shutdown.clone();
    Box::pin(
        futures::stream::once(async move { token.cancelled().await })
            .filter_map(|_| async { None }),
    )
}

#[tonic::async_trait]
impl pb::grpc_controller_server::GrpcController for Arc<PluginServer> {
    async fn shutdown(&self, _request: Request<pb::Empty>) -> Result<Response<pb::Empty>, Status> {
        debug!("controller asked the plugin to shut down");
        self.shutdown.cancel();
        Ok(Response::new(pb::Empty {}))
    }
}

#[tonic::async_trait]
impl pb::grpc_stdio_server::GrpcStdio for Arc<PluginServer> {
    type StreamStdioStream = Pending<pb::StdioData>;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(until_shutdown(self)))
    }
}

#[tonic::async_trait]
impl pb::grpc_broker_server::GrpcBroker for Arc<PluginServer> {
    type StartStreamStream = Pending<pb::ConnInfo>;

    async fn start_stream(
        &self,
        _request: Request<Streaming<pb::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Ok(Response::new(until_shutdown(self)))
    }
}
