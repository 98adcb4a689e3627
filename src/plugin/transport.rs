//! Sockets the plugin listens on: a unix socket (go-plugin's default on unix) or loopback
//! TCP. Every accepted TCP socket gets `TCP_NODELAY`: gRPC answers are small, and with
//! Nagle's algorithm each one waits for the peer's delayed ACK (tens of milliseconds).
//! TLS handshakes run in their own tasks so one slow peer never blocks the accept loop.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, Result};
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tracing::{debug, warn};

/// Which kind of socket to listen on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// A unix domain socket in `PLUGIN_UNIX_SOCKET_DIR` (or the temp dir).
    Unix,
    /// Loopback TCP, in `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT` when those are set.
    Tcp,
}

impl Network {
    /// The name used in the handshake line and in `TF_REATTACH_PROVIDERS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Unix => "unix",
            Network::Tcp => "tcp",
        }
    }
}

/// A bound listener and the address Terraform should dial.
pub enum Listener {
    /// Unix socket and its path (removed on drop).
    Unix(UnixListener, PathBuf),
    /// TCP socket.
    Tcp(TcpListener),
}

impl Listener {
    /// Bind a listener of the requested kind.
    pub async fn bind(network: Network) -> Result<Self> {
        match network {
            Network::Unix => {
                let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
                    .map(PathBuf::from)
                    .unwrap_or_else(std::env::temp_dir);
                let path = dir.join(format!("plugin{}", rand::random::<u64>()));
                let listener = UnixListener::bind(&path)
                    .with_context(|| format!("binding unix socket {}", path.display()))?;
                Ok(Listener::Unix(listener, path))
            }
            Network::Tcp => {
                let min = env_port("PLUGIN_MIN_PORT")?;
                let max = env_port("PLUGIN_MAX_PORT")?;
                let ports: Vec<u16> = match (min, max) {
                    (Some(a), Some(b)) => (a.min(b)..=a.max(b)).collect(),
                    (Some(a), None) => (a..=u16::MAX).collect(),
                    (None, Some(b)) => (1024..=b).collect(),
                    (None, None) => vec![0],
                };
                let mut last_err = None;
                for port in ports {
                    match TcpListener::bind(("127.0.0.1", port)).await {
                        Ok(l) => return Ok(Listener::Tcp(l)),
                        Err(e) => last_err = Some(e),
                    }
                }
                Err(last_err.map_or_else(
                    || anyhow::anyhow!("empty port range"),
                    |e| {
                        anyhow::Error::new(e)
                            .context("no free port in PLUGIN_MIN_PORT..PLUGIN_MAX_PORT")
                    },
                ))
            }
        }
    }

    /// The network kind.
    pub fn network(&self) -> Network {
        match self {
            Listener::Unix(..) => Network::Unix,
            Listener::Tcp(_) => Network::Tcp,
        }
    }

    /// The address Terraform dials (socket path or `127.0.0.1:port`).
    pub fn address(&self) -> Result<String> {
        Ok(match self {
            Listener::Unix(_, path) => path.display().to_string(),
            Listener::Tcp(l) => l.local_addr()?.to_string(),
        })
    }

    /// The unix socket path, if any (to remove it on exit).
    pub fn socket_path(&self) -> Option<&Path> {
        match self {
            Listener::Unix(_, path) => Some(path),
            Listener::Tcp(_) => None,
        }
    }

    /// Accept connections forever, optionally wrapping them in TLS, as a stream for tonic.
    pub fn incoming(self, tls: Option<Arc<ServerConfig>>) -> ReceiverStream<io::Result<Conn>> {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let acceptor = tls.map(TlsAcceptor::from);
        tokio::spawn(async move {
            loop {
                let accepted = match &self {
                    Listener::Unix(l, _) => l.accept().await.map(|(s, _)| Plain::Unix(s)),
                    Listener::Tcp(l) => l.accept().await.and_then(|(s, _)| {
                        s.set_nodelay(true)?;
                        Ok(Plain::Tcp(s))
                    }),
                };
                let plain = match accepted {
                    Ok(p) => p,
                    Err(e) => {
                        warn!(error = %e, "accepting a connection failed");
                        continue;
                    }
                };
                let tx = tx.clone();
                match &acceptor {
                    None => {
                        if tx.send(Ok(plain.into_conn())).await.is_err() {
                            return;
                        }
                    }
                    Some(acceptor) => {
                        let acceptor = acceptor.clone();
                        tokio::spawn(async move {
                            let handshake =
                                tokio::time::timeout(Duration::from_secs(10), plain.tls(&acceptor));
                            match handshake.await {
                                Ok(Ok(conn)) => {
                                    let _ = tx.send(Ok(conn)).await;
                                }
                                Ok(Err(e)) => debug!(error = %e, "TLS handshake refused"),
                                Err(_) => debug!("TLS handshake timed out"),
                            }
                        });
                    }
                }
            }
        });
        ReceiverStream::new(rx)
    }
}

fn env_port(name: &str) -> Result<Option<u16>> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => {
            Ok(Some(v.parse().with_context(|| {
                format!("{name}={v:?} is not a port number")
            })?))
        }
        _ => Ok(None),
    }
}

enum Plain {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Plain {
    fn into_conn(self) -> Conn {
        match self {
            Plain::Unix(s) => Conn::Unix(s),
            Plain::Tcp(s) => Conn::Tcp(s),
        }
    }

    async fn tls(self, acceptor: &TlsAcceptor) -> io::Result<Conn> {
        Ok(match self {
            Plain::Unix(s) => Conn::TlsUnix(Box::new(acceptor.accept(s).await?)),
            Plain::Tcp(s) => Conn::TlsTcp(Box::new(acceptor.accept(s).await?)),
        })
    }
}

/// One accepted connection, plain or TLS, over either socket kind.
pub enum Conn {
    /// Plain unix socket (debug mode).
    Unix(UnixStream),
    /// Plain TCP (debug mode).
    Tcp(TcpStream),
    /// TLS over a unix socket.
    TlsUnix(Box<TlsStream<UnixStream>>),
    /// TLS over TCP.
    TlsTcp(Box<TlsStream<TcpStream>>),
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Conn::Unix($s) => {
                let $s = Pin::new($s);
                $e
            }
            Conn::Tcp($s) => {
                let $s = Pin::new($s);
                $e
            }
            Conn::TlsUnix($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
            Conn::TlsTcp($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
        }
    };
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_read(cx, buf))
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write_vectored(cx, bufs))
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Conn::Unix(s) => s.is_write_vectored(),
            Conn::Tcp(s) => s.is_write_vectored(),
            Conn::TlsUnix(s) => s.is_write_vectored(),
            Conn::TlsTcp(s) => s.is_write_vectored(),
        }
    }
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}
