//! Test helpers for every platform's client: a scripted axum mock of an API, a raw TCP
//! server that drops connections, and the failures a wrong `api_url` gives.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;

/// The failures of `op` asked at `url` where the platform's API is not, read by the
/// platform's `kind_of`: a 404 and a 401 without its error body (another server), a
/// documented 404 `route_not_found` (an unknown route), no answer, the deadline.
pub fn wrong_url_failures<Op: Clone, D: Default>(
    op: &Op,
    url: &str,
    kind_of: fn(u16, &super::ErrorFields) -> super::FailureKind,
) -> Vec<super::ApiFailure<Op, D>> {
    use super::{ErrorFields, Failure};
    let answer = |status, fields| Failure::Status {
        status,
        retry_after: None,
        fields: Box::new(fields),
        body_len: 20,
        retries: 0,
        url: url.to_owned(),
    };
    let route_not_found = ErrorFields {
        json: true,
        documented: true,
        code: Some("route_not_found".into()),
        message: Some("no such route".into()),
        ..ErrorFields::default()
    };
    [
        answer(404, ErrorFields::default()),
        answer(401, ErrorFields::default()),
        answer(404, route_not_found),
        Failure::Transport {
            message: "connection failed".into(),
            timed_out: false,
            retries: 2,
            url: url.to_owned(),
        },
        Failure::Deadline {
            after: Duration::from_secs(8),
            attempts: 3,
            url: url.to_owned(),
        },
    ]
    .into_iter()
    .map(|failure| super::ApiFailure::from_failure(op.clone(), failure, kind_of))
    .collect()
}

/// One scripted answer.
pub struct Canned {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: CannedBody,
    delay: Duration,
}

enum CannedBody {
    Text(String),
    /// Sends the head and a bit of body, then breaks the connection.
    Abort,
    /// Sends the head at once, then the body one byte per pause (a slow drip).
    Drip(String, Duration),
}

impl Canned {
    pub fn json(status: u16, body: &str) -> Canned {
        Canned {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: CannedBody::Text(body.to_owned()),
            delay: Duration::ZERO,
        }
    }

    pub fn text(status: u16, body: &str) -> Canned {
        Canned {
            status,
            headers: vec![("content-type", "text/html".to_owned())],
            body: CannedBody::Text(body.to_owned()),
            delay: Duration::ZERO,
        }
    }

    pub fn empty(status: u16) -> Canned {
        Canned {
            status,
            headers: Vec::new(),
            body: CannedBody::Text(String::new()),
            delay: Duration::ZERO,
        }
    }

    /// The head of a `status` answer, then a broken connection mid-body.
    pub fn abort_body(status: u16) -> Canned {
        Canned {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: CannedBody::Abort,
            delay: Duration::ZERO,
        }
    }

    /// A `status` answer whose body drips in one byte per `pause`.
    pub fn drip(status: u16, body: &str, pause: Duration) -> Canned {
        Canned {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body: CannedBody::Drip(body.to_owned(), pause),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Canned {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Canned {
        self.delay = delay;
        self
    }
}

/// One request the mock received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The raw (still percent-encoded) path.
    pub path: String,
    /// The raw query, if any.
    pub query: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct MockState {
    script: Mutex<VecDeque<Canned>>,
    calls: Mutex<Vec<Recorded>>,
}

/// An axum server on 127.0.0.1:0 that answers every request with the next [`Canned`]
/// (a 500 once the script runs out) and records what it got.
pub struct Mock {
    pub base: Url,
    state: Arc<MockState>,
    task: JoinHandle<()>,
}

impl Mock {
    pub async fn start(script: Vec<Canned>) -> Mock {
        Mock::start_with_prefix(script, "").await
    }

    /// `prefix` (e.g. `/api`) is added to [`Mock::base`], not to what the server routes.
    pub async fn start_with_prefix(script: Vec<Canned>, prefix: &str) -> Mock {
        let state = Arc::new(MockState::default());
        state.script.lock().unwrap().extend(script);
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let base = Url::parse(&format!("http://{addr}{prefix}")).unwrap();
        Mock { base, state, task }
    }

    pub fn calls(&self) -> Vec<Recorded> {
        self.state.calls.lock().unwrap().clone()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(state): State<Arc<MockState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    state.calls.lock().unwrap().push(Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body,
    });
    let canned = state.script.lock().unwrap().pop_front().unwrap_or_else(|| {
        Canned::json(
            500,
            "{\"error\":{\"code\":\"internal\",\"message\":\"mock script exhausted\"}}",
        )
    });
    if !canned.delay.is_zero() {
        tokio::time::sleep(canned.delay).await;
    }
    let body = match canned.body {
        CannedBody::Text(text) => Body::from(text),
        CannedBody::Abort => {
            let chunks = futures::stream::iter(0..2).then(|i| async move {
                if i == 0 {
                    Ok(b"{\"database\": {".to_vec())
                } else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::other("mock broke the connection"))
                }
            });
            Body::from_stream(chunks)
        }
        CannedBody::Drip(text, pause) => {
            let bytes: Vec<u8> = text.into_bytes();
            let chunks = futures::stream::iter(bytes).then(move |b| async move {
                tokio::time::sleep(pause).await;
                Ok::<_, std::io::Error>(vec![b])
            });
            Body::from_stream(chunks)
        }
    };
    let mut response = Response::builder().status(canned.status);
    for (name, value) in canned.headers {
        response = response.header(name, value);
    }
    response.body(body).unwrap()
}

use futures::StreamExt as _;

/// A raw TCP server: it reads each request, closes the first `drops` connections without
/// answering, then answers every later one with `status` and `body`.
pub struct RawServer {
    pub base: Url,
    requests: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl RawServer {
    pub async fn start(drops: usize, status: u16, body: &str) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        let task = tokio::spawn(async move {
            let mut served = 0usize;
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let request = read_request(&mut socket).await;
                seen.lock().unwrap().push(request);
                if served < drops {
                    drop(socket);
                } else {
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                }
                served += 1;
            }
        });
        RawServer {
            base: Url::parse(&format!("http://{addr}")).unwrap(),
            requests,
            task,
        }
    }

    /// The raw text (head and body) of every request received.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                break;
            }
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A URL on which nothing listens (connections are refused).
pub async fn refused_url() -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    Url::parse(&format!("http://{addr}")).unwrap()
}
