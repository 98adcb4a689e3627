//! [`CannedHttp`]: a tiny HTTP/1.1 server on 127.0.0.1 (plain threads, no runtime) that
//! answers every request the same way: for pointing a provider at an API that misbehaves
//! in one precise way (a hostile header, a body that drips, another service's answers).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Send the body one byte at a time with this pause between bytes (a slow drip).
    pub drip: Option<Duration>,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_owned(),
            drip: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn drip(mut self, pause: Duration) -> Answer {
        self.drip = Some(pause);
        self
    }
}

/// The server; it stops when dropped.
pub struct CannedHttp {
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl CannedHttp {
    pub fn start(answer: Answer) -> CannedHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind canned HTTP server");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (answer, seen, stopped) = (answer.clone(), seen.clone(), stopped.clone());
                std::thread::spawn(move || serve(stream, &answer, &seen, &stopped));
            }
        });
        CannedHttp {
            url,
            requests,
            stop,
        }
    }

    /// The request line of every request received (`GET /v1/projects HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for CannedHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

fn serve(mut stream: TcpStream, answer: &Answer, seen: &Mutex<Vec<String>>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    loop {
        let Some(head) = read_head(&mut stream) else {
            return;
        };
        if let Ok(mut seen) = seen.lock() {
            seen.push(head.lines().next().unwrap_or_default().to_owned());
        }
        let mut out = format!(
            "HTTP/1.1 {} Canned\r\ncontent-length: {}\r\n",
            answer.status,
            answer.body.len()
        );
        for (k, v) in &answer.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        if stream.write_all(out.as_bytes()).is_err() {
            return;
        }
        match answer.drip {
            None => {
                if stream.write_all(answer.body.as_bytes()).is_err() {
                    return;
                }
            }
            Some(pause) => {
                for byte in answer.body.as_bytes() {
                    if stop.load(Ordering::Relaxed) || stream.write_all(&[*byte]).is_err() {
                        return;
                    }
                    std::thread::sleep(pause);
                }
            }
        }
    }
}

/// Reads one request's head and body (by `content-length`); `None` at end of stream.
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length.min(1 << 20)];
    stream.read_exact(&mut body).ok()?;
    Some(head)
}
