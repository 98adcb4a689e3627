//! Hrana over WebSocket on the database URL (`ws://127.0.0.1:<port>/db/<id>`, or
//! `ws://<id>.db.localhost:<port>`), as sqld serves it (`libsql-server/src/hrana/ws/`):
//! subprotocols `hrana3-protobuf` (binary messages, the Protobuf messages of
//! [`protobuf`]), `hrana3`, `hrana2` and `hrana1` (JSON text messages); no subprotocol is
//! `hrana1`. The subprotocol chosen is the first the client offers that is served.
//!
//! The token is the JWT of the `hello` message and follows the rules of Hrana over HTTP
//! ([`http::authorize_token`]); it is checked again before every request that runs SQL, so a
//! rotated token, an expired query token or a suspended database stop an open connection at
//! its next request. Statements run through the same executor as over HTTP
//! ([`http::run_blocking`]): the same authorizer, deadline, response bounds and usage.
//!
//! Streams are those of the connection (`open_stream` / `close_stream`), one SQLite
//! connection each; SQL texts (`store_sql`) belong to the connection; a cursor (`hrana3`)
//! runs its batch at `open_cursor` and hands out the entries at `fetch_cursor`. A protocol
//! error (an unknown stream, a request before `hello`, a malformed message) closes the
//! WebSocket with code 1002 and the reason, as sqld does; a refused `hello` answers
//! `hello_error` and closes.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prost::Message as _;
use serde::{Deserialize, Serialize};

use super::exec::{self, Access, Failure, Version, MAX_STORED_SQLS, MAX_STORED_SQL_BYTES};
use super::http::{self, StartError};
use super::proto::{Batch, CursorEntry, Error, Stmt, StreamRequest, StreamResponse, StreamResult};
use super::protobuf;
use super::streams::{Stream, MAX_STREAMS_PER_TOKEN};
use super::{AuthFailure, SqlServer};

/// The subprotocols served, best first.
pub const SUBPROTOCOLS: [&str; 4] = ["hrana3-protobuf", "hrana3", "hrana2", "hrana1"];
/// Streams one connection may hold open at a time. [assumed]
pub const MAX_STREAMS_PER_CONNECTION: usize = MAX_STREAMS_PER_TOKEN;
/// WebSocket close code of a protocol error (RFC 6455).
const CLOSE_PROTOCOL: u16 = 1002;
/// WebSocket close code of a message of the wrong kind (binary in a JSON subprotocol, text
/// in `hrana3-protobuf`).
const CLOSE_UNSUPPORTED: u16 = 1003;
/// How long a closing connection waits for the client's close.
const CLOSE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// WebSocket close code of a normal end.
const CLOSE_NORMAL: u16 = 1000;

/// Answers a WebSocket upgrade on a database URL: 101 with the chosen subprotocol, or 400
/// when the client offers only unknown ones.
pub(super) fn upgrade(
    server: Arc<SqlServer>,
    database_id: String,
    ws: WebSocketUpgrade,
) -> Response {
    let requested: Vec<String> = ws
        .requested_protocols()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_owned()))
        .filter(|p| !p.is_empty())
        .collect();
    let ws = ws
        .protocols(SUBPROTOCOLS)
        .max_message_size(http::MAX_BODY_BYTES)
        .max_frame_size(http::MAX_BODY_BYTES);
    let (version, encoding) = match ws.selected_protocol().and_then(|p| p.to_str().ok()) {
        Some("hrana3-protobuf") => (3, Encoding::Protobuf),
        Some("hrana3") => (3, Encoding::Json),
        Some("hrana2") => (2, Encoding::Json),
        Some(_) => (1, Encoding::Json),
        None if requested.is_empty() => (1, Encoding::Json),
        None => {
            return (
                StatusCode::BAD_REQUEST,
                [(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))],
                format!(
                    "Only these WebSocket subprotocols are supported: {}",
                    SUBPROTOCOLS.join(", ")
                ),
            )
                .into_response()
        }
    };
    ws.on_upgrade(move |socket| async move {
        let mut conn = Conn {
            server,
            database_id,
            version,
            encoding,
            socket,
            token: None,
            streams: HashMap::new(),
            sqls: HashMap::new(),
            cursors: HashMap::new(),
        };
        conn.serve().await;
    })
}

// ---- messages ------------------------------------------------------------------------------

/// How messages travel: JSON in text messages, or Protobuf in binary ones (`hrana3-protobuf`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    Protobuf,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMsg {
    Hello {
        #[serde(default)]
        jwt: Option<String>,
    },
    Request {
        request_id: i32,
        request: Request,
    },
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Request {
    OpenStream {
        stream_id: i32,
    },
    CloseStream {
        stream_id: i32,
    },
    Execute {
        stream_id: i32,
        stmt: Stmt,
    },
    Batch {
        stream_id: i32,
        batch: Batch,
    },
    OpenCursor {
        stream_id: i32,
        cursor_id: i32,
        batch: Batch,
    },
    CloseCursor {
        cursor_id: i32,
    },
    FetchCursor {
        cursor_id: i32,
        max_count: u32,
    },
    Sequence {
        stream_id: i32,
        #[serde(default)]
        sql: Option<String>,
        #[serde(default)]
        sql_id: Option<i32>,
    },
    Describe {
        stream_id: i32,
        #[serde(default)]
        sql: Option<String>,
        #[serde(default)]
        sql_id: Option<i32>,
    },
    StoreSql {
        sql_id: i32,
        sql: String,
    },
    CloseSql {
        sql_id: i32,
    },
    GetAutocommit {
        stream_id: i32,
    },
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMsg {
    HelloOk {},
    HelloError {
        error: Error,
    },
    ResponseOk {
        request_id: i32,
        response: Response_,
    },
    ResponseError {
        request_id: i32,
        error: Error,
    },
}

/// A response: one of a stream request's ([`StreamResponse`]) or one of WebSocket's own.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Response_ {
    Stream(StreamResponse),
    Own(OwnResponse),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OwnResponse {
    OpenStream {},
    CloseStream {},
    OpenCursor {},
    CloseCursor {},
    FetchCursor {
        entries: Vec<CursorEntry>,
        done: bool,
    },
}

/// Why a request got no response: an error response, or a protocol error that ends the
/// connection.
enum Fault {
    Response(Error),
    Protocol(String),
}

impl From<Error> for Fault {
    fn from(e: Error) -> Fault {
        Fault::Response(e)
    }
}

fn refused_error(r: &http::Refused) -> Error {
    Error::new(r.code, r.message())
}

/// A `hrana3-protobuf` client message as the JSON one (a missing `oneof`, a message or
/// request of a kind this server does not know, is a protocol error, as an unknown JSON
/// `type`).
fn from_protobuf(msg: protobuf::WsClientMsg) -> Result<ClientMsg, String> {
    use protobuf::{missing, WsClientKind, WsRequest};
    let stmt = |s: Option<protobuf::Stmt>| protobuf::stmt(s.ok_or_else(|| missing("stmt"))?);
    let batch = |b: Option<protobuf::Batch>| protobuf::batch(b.ok_or_else(|| missing("batch"))?);
    let request = match msg.msg.ok_or_else(|| missing("client message"))? {
        WsClientKind::Hello(hello) => return Ok(ClientMsg::Hello { jwt: hello.jwt }),
        WsClientKind::Request(request) => request,
    };
    let request_id = request.request_id;
    let request = match request.request.ok_or_else(|| missing("request"))? {
        WsRequest::OpenStream(r) => Request::OpenStream {
            stream_id: r.stream_id,
        },
        WsRequest::CloseStream(r) => Request::CloseStream {
            stream_id: r.stream_id,
        },
        WsRequest::Execute(r) => Request::Execute {
            stream_id: r.stream_id,
            stmt: stmt(r.stmt)?,
        },
        WsRequest::Batch(r) => Request::Batch {
            stream_id: r.stream_id,
            batch: batch(r.batch)?,
        },
        WsRequest::OpenCursor(r) => Request::OpenCursor {
            stream_id: r.stream_id,
            cursor_id: r.cursor_id,
            batch: batch(r.batch)?,
        },
        WsRequest::CloseCursor(r) => Request::CloseCursor {
            cursor_id: r.cursor_id,
        },
        WsRequest::FetchCursor(r) => Request::FetchCursor {
            cursor_id: r.cursor_id,
            max_count: r.max_count,
        },
        WsRequest::Sequence(r) => Request::Sequence {
            stream_id: r.stream_id,
            sql: r.sql,
            sql_id: r.sql_id,
        },
        WsRequest::Describe(r) => Request::Describe {
            stream_id: r.stream_id,
            sql: r.sql,
            sql_id: r.sql_id,
        },
        WsRequest::StoreSql(r) => Request::StoreSql {
            sql_id: r.sql_id,
            sql: r.sql,
        },
        WsRequest::CloseSql(r) => Request::CloseSql { sql_id: r.sql_id },
        WsRequest::GetAutocommit(r) => Request::GetAutocommit {
            stream_id: r.stream_id,
        },
    };
    Ok(ClientMsg::Request {
        request_id,
        request,
    })
}

/// A server message in `hrana3-protobuf`.
fn to_protobuf(msg: ServerMsg) -> protobuf::WsServerMsg {
    use protobuf::{Empty, WsResponse, WsServerKind};
    let kind = match msg {
        ServerMsg::HelloOk {} => WsServerKind::HelloOk(Empty {}),
        ServerMsg::HelloError { error } => WsServerKind::HelloError(protobuf::WsHelloErrorMsg {
            error: Some(protobuf::error(error)),
        }),
        ServerMsg::ResponseError { request_id, error } => {
            WsServerKind::ResponseError(protobuf::WsResponseErrorMsg {
                request_id,
                error: Some(protobuf::error(error)),
            })
        }
        ServerMsg::ResponseOk {
            request_id,
            response,
        } => {
            let response = match response {
                Response_::Stream(r) => protobuf::ws_stream_response(r),
                Response_::Own(OwnResponse::OpenStream {}) => WsResponse::OpenStream(Empty {}),
                Response_::Own(OwnResponse::CloseStream {}) => WsResponse::CloseStream(Empty {}),
                Response_::Own(OwnResponse::OpenCursor {}) => WsResponse::OpenCursor(Empty {}),
                Response_::Own(OwnResponse::CloseCursor {}) => WsResponse::CloseCursor(Empty {}),
                Response_::Own(OwnResponse::FetchCursor { entries, done }) => {
                    WsResponse::FetchCursor(protobuf::WsFetchCursorResp {
                        entries: entries.into_iter().map(protobuf::cursor_entry).collect(),
                        done,
                    })
                }
            };
            WsServerKind::ResponseOk(protobuf::WsResponseOkMsg {
                request_id,
                response: Some(response),
            })
        }
    };
    protobuf::WsServerMsg { msg: Some(kind) }
}

// ---- the connection ------------------------------------------------------------------------

/// A cursor: the entries of its batch, or why the batch did not run.
enum Cursor {
    Open {
        stream_id: i32,
        entries: VecDeque<CursorEntry>,
    },
    Failed,
}

struct Conn {
    server: Arc<SqlServer>,
    database_id: String,
    /// 1, 2 or 3.
    version: u8,
    encoding: Encoding,
    socket: WebSocket,
    /// The JWT of the last accepted `hello` (kept in memory only, never logged).
    token: Option<String>,
    streams: HashMap<i32, Box<Stream>>,
    sqls: HashMap<i32, String>,
    cursors: HashMap<i32, Cursor>,
}

impl Conn {
    async fn serve(&mut self) {
        while let Some(received) = self.socket.recv().await {
            let decoded = match (received, self.encoding) {
                (Ok(Message::Text(text)), Encoding::Json) => {
                    serde_json::from_str::<ClientMsg>(text.as_str())
                        .map_err(|e| format!("Cannot deserialize client message from JSON: {e}"))
                }
                (Ok(Message::Binary(bytes)), Encoding::Protobuf) => {
                    protobuf::WsClientMsg::decode(bytes.as_ref())
                        .map_err(|e| format!("Cannot decode client message from Protobuf: {e}"))
                        .and_then(from_protobuf)
                }
                (Ok(Message::Binary(_)), Encoding::Json) => {
                    self.close(
                        CLOSE_UNSUPPORTED,
                        "Only text messages are accepted with JSON encoding",
                    )
                    .await;
                    break;
                }
                (Ok(Message::Text(_)), Encoding::Protobuf) => {
                    self.close(
                        CLOSE_UNSUPPORTED,
                        "Only binary messages are accepted with Protobuf encoding",
                    )
                    .await;
                    break;
                }
                (Ok(Message::Ping(_) | Message::Pong(_)), _) => continue,
                (Ok(Message::Close(_)) | Err(_), _) => break,
            };
            let msg = match decoded {
                Ok(msg) => msg,
                Err(reason) => {
                    self.close(CLOSE_PROTOCOL, &reason).await;
                    break;
                }
            };
            let keep_going = match msg {
                ClientMsg::Hello { jwt } => self.hello(jwt).await,
                ClientMsg::Request {
                    request_id,
                    request,
                } => self.request(request_id, request).await,
            };
            if !keep_going {
                break;
            }
        }
        // Closing SQLite connections is I/O: on the blocking pool.
        let streams: Vec<Box<Stream>> = self.streams.drain().map(|(_, s)| s).collect();
        if !streams.is_empty() {
            let _ = tokio::task::spawn_blocking(move || drop(streams)).await;
        }
    }

    async fn send(&mut self, msg: ServerMsg) -> bool {
        let message = match self.encoding {
            Encoding::Protobuf => Message::Binary(to_protobuf(msg).encode_to_vec().into()),
            Encoding::Json => match serde_json::to_string(&msg) {
                Ok(text) => Message::Text(text.into()),
                Err(e) => {
                    tracing::error!(error = %e, "cannot encode a Hrana message");
                    return false;
                }
            },
        };
        self.socket.send(message).await.is_ok()
    }

    async fn close(&mut self, code: u16, reason: &str) {
        // A close reason is at most 123 bytes.
        let mut end = reason.len().min(123);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let frame = CloseFrame {
            code,
            reason: reason.get(..end).unwrap_or_default().into(),
        };
        if self.socket.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        // Read on until the client's close (what it sent meanwhile unread, the socket would be
        // reset, and the client could lose the last message before reading it).
        let drain = async {
            while let Some(Ok(msg)) = self.socket.recv().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
    }

    /// `hello`: checks the token; a refusal answers `hello_error` and ends the connection.
    async fn hello(&mut self, jwt: Option<String>) -> bool {
        if self.token.is_some() && self.version < 2 {
            self.close(
                CLOSE_PROTOCOL,
                "Repeated hello message is only supported in protocol version hrana2 and higher",
            )
            .await;
            return false;
        }
        // An empty JWT is no JWT (clients send `""` when they have no token).
        let token = jwt
            .filter(|t| !t.is_empty())
            .ok_or(AuthFailure::HeaderMissing);
        match http::authorize_token(&self.server, &self.database_id, token.clone()).await {
            Ok(_) => {
                self.token = token.ok();
                self.send(ServerMsg::HelloOk {}).await
            }
            Err(refused) => {
                let error = refused_error(&refused);
                self.send(ServerMsg::HelloError { error }).await;
                self.close(CLOSE_NORMAL, "hello refused").await;
                false
            }
        }
    }

    async fn request(&mut self, request_id: i32, request: Request) -> bool {
        if self.token.is_none() {
            self.close(CLOSE_PROTOCOL, "Received a request before hello")
                .await;
            return false;
        }
        let msg = match self.answer(request).await {
            Ok(response) => ServerMsg::ResponseOk {
                request_id,
                response,
            },
            Err(Fault::Response(error)) => ServerMsg::ResponseError { request_id, error },
            Err(Fault::Protocol(reason)) => {
                tracing::debug!(database_id = %self.database_id, %reason, "Hrana connection ended by a protocol error");
                self.close(CLOSE_PROTOCOL, &reason).await;
                return false;
            }
        };
        self.send(msg).await
    }

    fn ensure_version(&self, min: u8, what: &str) -> Result<(), Fault> {
        if self.version < min {
            return Err(Fault::Protocol(format!(
                "{what} is only supported in protocol version hrana{min} and higher"
            )));
        }
        Ok(())
    }

    /// The token checked again (rotated, expired, suspended since `hello`).
    fn access(&self) -> impl std::future::Future<Output = Result<Access, Fault>> + Send + 'static {
        let server = self.server.clone();
        let database_id = self.database_id.clone();
        let token = self.token.clone().ok_or(AuthFailure::HeaderMissing);
        async move {
            http::authorize_token(&server, &database_id, token)
                .await
                .map_err(|r| Fault::Response(refused_error(&r)))
        }
    }

    async fn answer(&mut self, request: Request) -> Result<Response_, Fault> {
        let own = |r| Ok(Response_::Own(r));
        match request {
            Request::OpenStream { stream_id } => {
                if self.streams.contains_key(&stream_id) {
                    return Err(Fault::Protocol(format!(
                        "Stream {stream_id} already exists"
                    )));
                }
                if self.streams.len() >= MAX_STREAMS_PER_CONNECTION {
                    return Err(Fault::Response(Error::new(
                        "TOO_MANY_STREAMS",
                        format!(
                            "Too many open streams on this connection (at most \
                             {MAX_STREAMS_PER_CONNECTION}); close streams when done"
                        ),
                    )));
                }
                let access = self.access().await?;
                // The connection opens with the stream's first statement.
                self.streams.insert(
                    stream_id,
                    Box::new(Stream {
                        database_id: access.database_id,
                        owner: access.owner,
                        conn: None,
                        closed: false,
                        sqls: HashMap::new(),
                    }),
                );
                own(OwnResponse::OpenStream {})
            }
            Request::CloseStream { stream_id } => {
                let stream = self
                    .streams
                    .remove(&stream_id)
                    .ok_or_else(|| Fault::Protocol(format!("Stream {stream_id} not found")))?;
                self.cursors.retain(
                    |_, c| !matches!(c, Cursor::Open { stream_id: s, .. } if *s == stream_id),
                );
                // Dropping the connection rolls back an open transaction (I/O: blocking pool).
                let _ = tokio::task::spawn_blocking(move || drop(stream)).await;
                own(OwnResponse::CloseStream {})
            }
            Request::Execute { stream_id, stmt } => {
                self.on_stream(stream_id, StreamRequest::Execute { stmt })
                    .await
            }
            Request::Batch { stream_id, batch } => {
                self.on_stream(stream_id, StreamRequest::Batch { batch })
                    .await
            }
            Request::Sequence {
                stream_id,
                sql,
                sql_id,
            } => {
                self.ensure_version(2, "The `sequence` request")?;
                self.on_stream(stream_id, StreamRequest::Sequence { sql, sql_id })
                    .await
            }
            Request::Describe {
                stream_id,
                sql,
                sql_id,
            } => {
                self.ensure_version(2, "The `describe` request")?;
                self.on_stream(stream_id, StreamRequest::Describe { sql, sql_id })
                    .await
            }
            Request::GetAutocommit { stream_id } => {
                self.ensure_version(3, "The `get_autocommit` request")?;
                self.on_stream(stream_id, StreamRequest::GetAutocommit {})
                    .await
            }
            Request::StoreSql { sql_id, sql } => {
                self.ensure_version(2, "The `store_sql` request")?;
                if self.sqls.contains_key(&sql_id) {
                    return Err(Fault::Protocol(format!("SQL text {sql_id} already exists")));
                }
                if self.sqls.len() >= MAX_STORED_SQLS {
                    return Err(Fault::Response(Error::new(
                        "SQL_STORE_TOO_MANY",
                        format!(
                            "The server already stores {} SQL texts, it cannot store more",
                            self.sqls.len()
                        ),
                    )));
                }
                if sql.len() > MAX_STORED_SQL_BYTES {
                    return Err(Fault::Response(Error::new(
                        "SQL_STORE_TOO_LARGE",
                        format!(
                            "The statement is too large to be stored: {} bytes (at most \
                             {MAX_STORED_SQL_BYTES})",
                            sql.len()
                        ),
                    )));
                }
                self.sqls.insert(sql_id, sql);
                Ok(Response_::Stream(StreamResponse::StoreSql {}))
            }
            Request::CloseSql { sql_id } => {
                self.ensure_version(2, "The `close_sql` request")?;
                self.sqls.remove(&sql_id);
                Ok(Response_::Stream(StreamResponse::CloseSql {}))
            }
            Request::OpenCursor {
                stream_id,
                cursor_id,
                batch,
            } => {
                self.ensure_version(3, "The `open_cursor` request")?;
                if self.cursors.contains_key(&cursor_id) {
                    return Err(Fault::Protocol(format!(
                        "Cursor {cursor_id} already exists"
                    )));
                }
                let ran = self
                    .run(stream_id, move |session, stream| {
                        match stream.conn.as_ref() {
                            Some(conn) => session
                                .batch(conn, &stream.sqls, &batch)
                                .map(exec::cursor_entries),
                            None => Err(Failure::Protocol("closed".into())),
                        }
                    })
                    .await;
                match ran {
                    Ok(entries) => {
                        self.cursors.insert(
                            cursor_id,
                            Cursor::Open {
                                stream_id,
                                entries: entries.into(),
                            },
                        );
                        own(OwnResponse::OpenCursor {})
                    }
                    Err(fault) => {
                        if matches!(fault, Fault::Response(_)) {
                            self.cursors.insert(cursor_id, Cursor::Failed);
                        }
                        Err(fault)
                    }
                }
            }
            Request::FetchCursor {
                cursor_id,
                max_count,
            } => {
                self.ensure_version(3, "The `fetch_cursor` request")?;
                match self.cursors.get_mut(&cursor_id) {
                    Some(Cursor::Open { entries, .. }) => {
                        let n = usize::try_from(max_count)
                            .unwrap_or(usize::MAX)
                            .min(entries.len());
                        let page: Vec<CursorEntry> = entries.drain(..n).collect();
                        let done = entries.is_empty();
                        own(OwnResponse::FetchCursor {
                            entries: page,
                            done,
                        })
                    }
                    Some(Cursor::Failed) => Err(Fault::Response(Error::new(
                        "CURSOR_NOT_OPEN",
                        format!("Cursor {cursor_id} has failed to open"),
                    ))),
                    None => Err(Fault::Protocol(format!("Cursor {cursor_id} not found"))),
                }
            }
            Request::CloseCursor { cursor_id } => {
                self.ensure_version(3, "The `close_cursor` request")?;
                self.cursors
                    .remove(&cursor_id)
                    .ok_or_else(|| Fault::Protocol(format!("Cursor {cursor_id} not found")))?;
                own(OwnResponse::CloseCursor {})
            }
        }
    }

    /// Runs one stream request through the executor shared with Hrana over HTTP.
    async fn on_stream(
        &mut self,
        stream_id: i32,
        request: StreamRequest,
    ) -> Result<Response_, Fault> {
        let result = self
            .run(stream_id, move |session, stream| {
                session.handle(&mut stream.conn, &mut stream.sqls, request)
            })
            .await?;
        match result {
            StreamResult::Ok { response } => Ok(Response_::Stream(response)),
            StreamResult::Error { error } => Err(Fault::Response(error)),
        }
    }

    /// Runs `work` on a stream of the connection (its connection opened on first use), with
    /// the token checked again and a permit of the server's concurrency bound.
    async fn run<T: Send + 'static>(
        &mut self,
        stream_id: i32,
        work: impl FnOnce(&mut exec::Session, &mut Stream) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Fault> {
        let not_open = || {
            Fault::Response(Error::new(
                "STREAM_NOT_OPEN",
                format!("Stream {stream_id} has failed to open"),
            ))
        };
        match self.streams.get(&stream_id) {
            None => return Err(Fault::Protocol(format!("Stream {stream_id} not found"))),
            Some(s) if s.closed => return Err(not_open()),
            Some(_) => {}
        }
        let access = self.access().await?;
        let _permit = http::admit(&self.server).await.map_err(|_| {
            Fault::Response(Error::new(
                "TOO_MANY_REQUESTS",
                "Too many concurrent requests",
            ))
        })?;
        let mut stream = self.streams.remove(&stream_id).ok_or_else(not_open)?;
        // SQL texts belong to the connection: lent to the stream for this request.
        stream.sqls = std::mem::take(&mut self.sqls);
        let server = self.server.clone();
        let version = if self.version >= 3 {
            Version::Hrana3
        } else {
            Version::Hrana2
        };
        let joined = tokio::task::spawn_blocking(move || {
            http::run_blocking(&server, access, version, stream, work)
        })
        .await;
        let (mut stream, outcome) = match joined {
            Ok(x) => x,
            // The stream is lost with the task; its id answers "not found" from now on.
            Err(e) => return Err(refused_error(&http::internal_refused(e)).into()),
        };
        self.sqls = std::mem::take(&mut stream.sqls);
        self.streams.insert(stream_id, stream);
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(Failure::Stmt(error))) => Err(error.into()),
            Ok(Err(Failure::Forbidden(message))) => Err(Error::new("FORBIDDEN", message).into()),
            Ok(Err(Failure::Protocol(message))) => Err(Fault::Protocol(message)),
            Err(StartError::Gone) => Err(Error::new(
                "NAMESPACE_DOESNT_EXIST",
                format!("Namespace `{}` doesn't exist", self.database_id),
            )
            .into()),
            Err(StartError::Open(e)) => Err(refused_error(&http::internal_refused(e)).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_messages_parse() -> Result<(), serde_json::Error> {
        let hello: ClientMsg = serde_json::from_value(json!({"type": "hello", "jwt": "cdt_x"}))?;
        assert!(matches!(hello, ClientMsg::Hello { jwt: Some(ref t) } if t == "cdt_x"));
        let hello: ClientMsg = serde_json::from_value(json!({"type": "hello"}))?;
        assert!(matches!(hello, ClientMsg::Hello { jwt: None }));
        let req: ClientMsg = serde_json::from_value(json!({
            "type": "request", "request_id": 7,
            "request": {"type": "open_cursor", "stream_id": 1, "cursor_id": 2,
                        "batch": {"steps": [{"stmt": {"sql": "SELECT 1"}}]}}
        }))?;
        assert!(matches!(
            req,
            ClientMsg::Request { request_id: 7, request: Request::OpenCursor { stream_id: 1, cursor_id: 2, ref batch } }
                if batch.steps.len() == 1
        ));
        for bad in [
            json!({"type": "request", "request_id": 1, "request": {"type": "nope"}}),
            json!({"type": "request", "request": {"type": "open_stream", "stream_id": 1}}),
            json!({"type": "goodbye"}),
        ] {
            assert!(
                serde_json::from_value::<ClientMsg>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        Ok(())
    }

    #[test]
    fn protobuf_messages_convert_both_ways() -> Result<(), Box<dyn std::error::Error>> {
        use protobuf::{WsClientKind, WsRequest, WsResponse, WsServerKind};
        let hello = protobuf::WsClientMsg {
            msg: Some(WsClientKind::Hello(protobuf::WsHelloMsg {
                jwt: Some("cdt_x".into()),
            })),
        };
        let decoded = protobuf::WsClientMsg::decode(hello.encode_to_vec().as_slice())?;
        assert!(matches!(
            from_protobuf(decoded)?,
            ClientMsg::Hello { jwt: Some(ref t) } if t == "cdt_x"
        ));
        let request = protobuf::WsClientMsg {
            msg: Some(WsClientKind::Request(protobuf::WsRequestMsg {
                request_id: 9,
                request: Some(WsRequest::OpenCursor(protobuf::WsOpenCursorReq {
                    stream_id: 2,
                    cursor_id: 3,
                    batch: Some(protobuf::Batch {
                        steps: vec![protobuf::BatchStep {
                            condition: None,
                            stmt: Some(protobuf::Stmt {
                                sql: Some("SELECT ?".into()),
                                args: vec![protobuf::Value {
                                    value: Some(protobuf::ValueKind::Integer(i64::MIN)),
                                }],
                                ..Default::default()
                            }),
                        }],
                    }),
                })),
            })),
        };
        let decoded = protobuf::WsClientMsg::decode(request.encode_to_vec().as_slice())?;
        match from_protobuf(decoded)? {
            ClientMsg::Request {
                request_id: 9,
                request:
                    Request::OpenCursor {
                        stream_id: 2,
                        cursor_id: 3,
                        batch,
                    },
            } => {
                assert_eq!(batch.steps[0].stmt.sql.as_deref(), Some("SELECT ?"));
                assert_eq!(
                    batch.steps[0].stmt.args,
                    vec![super::super::proto::Value::Integer(i64::MIN)]
                );
            }
            other => panic!("{other:?}"),
        }
        // A message or request of no known kind, or a statement missing, is refused.
        for bad in [
            protobuf::WsClientMsg { msg: None },
            protobuf::WsClientMsg {
                msg: Some(WsClientKind::Request(protobuf::WsRequestMsg {
                    request_id: 1,
                    request: None,
                })),
            },
            protobuf::WsClientMsg {
                msg: Some(WsClientKind::Request(protobuf::WsRequestMsg {
                    request_id: 1,
                    request: Some(WsRequest::Execute(protobuf::WsExecuteReq {
                        stream_id: 1,
                        stmt: None,
                    })),
                })),
            },
        ] {
            assert!(from_protobuf(bad.clone()).is_err(), "{bad:?}");
        }

        let answer = to_protobuf(ServerMsg::ResponseOk {
            request_id: 3,
            response: Response_::Own(OwnResponse::FetchCursor {
                entries: vec![CursorEntry::StepEnd {
                    affected_row_count: 1,
                    last_insert_rowid: Some("5".into()),
                }],
                done: true,
            }),
        });
        let back = protobuf::WsServerMsg::decode(answer.encode_to_vec().as_slice())?;
        let Some(WsServerKind::ResponseOk(ok)) = back.msg else {
            panic!("{back:?}");
        };
        assert_eq!(ok.request_id, 3);
        let Some(WsResponse::FetchCursor(fetch)) = ok.response else {
            panic!("{ok:?}");
        };
        assert!(fetch.done);
        assert_eq!(
            fetch.entries[0].entry,
            Some(protobuf::Entry::StepEnd(protobuf::StepEndEntry {
                affected_row_count: 1,
                last_insert_rowid: Some(5),
            }))
        );
        let refused = to_protobuf(ServerMsg::HelloError {
            error: Error::new("AUTH_JWT_INVALID", "Unauthorized"),
        });
        let back = protobuf::WsServerMsg::decode(refused.encode_to_vec().as_slice())?;
        assert!(matches!(
            back.msg,
            Some(WsServerKind::HelloError(protobuf::WsHelloErrorMsg { error: Some(ref e) }))
                if e.code == "AUTH_JWT_INVALID" && e.message == "Unauthorized"
        ));
        Ok(())
    }

    #[test]
    fn server_messages_serialize_as_sqld() -> Result<(), serde_json::Error> {
        assert_eq!(
            serde_json::to_value(ServerMsg::HelloOk {})?,
            json!({"type": "hello_ok"})
        );
        assert_eq!(
            serde_json::to_value(ServerMsg::ResponseOk {
                request_id: 3,
                response: Response_::Own(OwnResponse::FetchCursor {
                    entries: vec![CursorEntry::StepEnd {
                        affected_row_count: 1,
                        last_insert_rowid: Some("5".into()),
                    }],
                    done: true,
                }),
            })?,
            json!({"type": "response_ok", "request_id": 3, "response": {
                "type": "fetch_cursor", "done": true,
                "entries": [{"type": "step_end", "affected_row_count": 1, "last_insert_rowid": "5"}]}})
        );
        assert_eq!(
            serde_json::to_value(ServerMsg::ResponseOk {
                request_id: 4,
                response: Response_::Stream(StreamResponse::GetAutocommit {
                    is_autocommit: false
                }),
            })?,
            json!({"type": "response_ok", "request_id": 4,
                   "response": {"type": "get_autocommit", "is_autocommit": false}})
        );
        assert_eq!(
            serde_json::to_value(ServerMsg::HelloError {
                error: Error::new("AUTH_JWT_INVALID", "Unauthorized")
            })?,
            json!({"type": "hello_error", "error": {"message": "Unauthorized", "code": "AUTH_JWT_INVALID"}})
        );
        Ok(())
    }
}
