//! List answers read as they arrive: [`HttpClient::send_list`](super::HttpClient::send_list)
//! gives a [`ListAnswer`] whose [`next`](ListAnswer::next) yields the elements of the
//! array at one top-level key of the answer's JSON object (`{"databases": [...]}`), one
//! element at a time, each as its own bytes. The whole answer is never held: memory is one
//! chunk of the body plus one element, whatever the length of the list.
//!
//! The answer's shape is still checked as a whole: the rest of the object must be valid
//! JSON, the key must be there once and hold an array, and nothing may follow the object;
//! what breaks it is a [`ListError::Shape`] when the reader reaches it (elements before it
//! have been given by then). The size cap applies to each element (and to each other
//! value of the object), not to the sum: a list may be as long as the platform makes it.
//!
//! Each element is parsed once: the splitter only finds where it ends (a byte scan that
//! skips the inside of strings in bulk), and [`ListAnswer::next_as`] reads those bytes
//! straight into the caller's type, which checks them as JSON on the way. Only an element
//! that does not read as the type is parsed a second time, as a [`serde_json::Value`],
//! for the caller to name it.

use std::collections::VecDeque;
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use super::{transport_message, Failure, Redactor};

/// Why a list answer could not be read to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListError {
    /// The connection broke, the wait for the next part of the answer passed the client's
    /// timeout, an element was larger than the cap, or the call was cancelled.
    Failure(Failure),
    /// The answer is not the documented list (the message names what is wrong, cleaned of
    /// every secret the client knows).
    Shape(String),
}

/// One element of a list answer, read as the caller's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Element<T> {
    /// It reads as the type.
    Read(T),
    /// It is valid JSON but does not read as the type (not an object, a field missing or
    /// of another type): the value, for the caller to name it and say why.
    Odd(serde_json::Value),
}

/// The answer of a list route, read element by element.
pub struct ListAnswer {
    response: reqwest::Response,
    splitter: Splitter,
    ready: VecDeque<Vec<u8>>,
    /// The longest wait for the next part of the body.
    idle: Duration,
    cancel: CancellationToken,
    redactor: Redactor,
    url: String,
    ended: bool,
    /// Why the answer ended early, given once the elements read before it are.
    fault: Option<ListError>,
}

impl std::fmt::Debug for ListAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListAnswer")
            .field("url", &self.url)
            .field("ready", &self.ready.len())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl ListAnswer {
    pub(super) fn new(
        response: reqwest::Response,
        key: &'static str,
        cap: usize,
        idle: Duration,
        cancel: CancellationToken,
        redactor: Redactor,
        url: String,
    ) -> ListAnswer {
        ListAnswer {
            response,
            // Elements are checked as they are parsed (`next_as`), or by `next`.
            splitter: Splitter::new(key, cap).elements_unchecked(),
            ready: VecDeque::new(),
            idle,
            cancel,
            redactor,
            url,
            ended: false,
            fault: None,
        }
    }

    /// The answer may leave the key out: a list with no elements (for the routes whose
    /// answer documents the list as optional).
    pub fn key_optional(mut self) -> ListAnswer {
        self.splitter.key_optional = true;
        self
    }

    /// The next element's bytes, checked as JSON; `None` once the answer has been read to
    /// its end and found whole. A fault (a broken connection, an element over the cap, not
    /// the documented list) comes after the elements read before it, then `None`.
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, ListError>> {
        let bytes = match self.next_raw().await? {
            Ok(bytes) => bytes,
            Err(e) => return Some(Err(e)),
        };
        match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
            Ok(_) => Some(Ok(bytes)),
            Err(e) => Some(Err(self.broken(&e))),
        }
    }

    /// The next element read as a `T`, parsed once from the bytes the splitter delimited
    /// (an element that does not read as a `T` is parsed again as a JSON value, and given
    /// as [`Element::Odd`]); `None` once the answer has been read to its end and found
    /// whole. An element that is not valid JSON ends the answer with a
    /// [`ListError::Shape`], as any other fault does.
    pub async fn next_as<T: DeserializeOwned>(&mut self) -> Option<Result<Element<T>, ListError>> {
        let bytes = match self.next_raw().await? {
            Ok(bytes) => bytes,
            Err(e) => return Some(Err(e)),
        };
        // Only an object is read as the type (serde would read some types from an array).
        if bytes.first() == Some(&b'{') {
            match serde_json::from_slice::<T>(&bytes) {
                Ok(item) => return Some(Ok(Element::Read(item))),
                // Not JSON: no second parse.
                Err(e) if e.is_syntax() || e.is_eof() => return Some(Err(self.broken(&e))),
                Err(_) => {}
            }
        }
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(value) => Some(Ok(Element::Odd(value))),
            Err(e) => Some(Err(self.broken(&e))),
        }
    }

    /// An element that is not valid JSON: the answer ends there.
    fn broken(&mut self, e: &serde_json::Error) -> ListError {
        self.ready.clear();
        self.ended = true;
        self.fault = None;
        ListError::Shape(
            self.redactor
                .clean(&format!("the answer is not valid JSON: {e}")),
        )
    }

    /// The next element's bytes as the splitter delimited them (not checked as JSON).
    async fn next_raw(&mut self) -> Option<Result<Vec<u8>, ListError>> {
        loop {
            if let Some(element) = self.ready.pop_front() {
                return Some(Ok(element));
            }
            if self.ended {
                return self.fault.take().map(Err);
            }
            let chunk = tokio::select! {
                biased;
                _ = self.cancel.cancelled() => Err(ListError::Failure(Failure::Cancelled)),
                read = tokio::time::timeout(self.idle, self.response.chunk()) => match read {
                    Err(_) => Err(ListError::Failure(Failure::Transport {
                        message: "timed out while reading the answer".into(),
                        timed_out: true,
                        retries: 0,
                        url: self.url.clone(),
                    })),
                    Ok(Err(err)) => Err(ListError::Failure(Failure::Transport {
                        message: self.redactor.clean(&transport_message(&err)),
                        timed_out: err.is_timeout(),
                        retries: 0,
                        url: self.url.clone(),
                    })),
                    Ok(Ok(chunk)) => Ok(chunk),
                },
            };
            let outcome = match chunk {
                Ok(Some(bytes)) => Ok(self.splitter.feed(&bytes, &mut self.ready)),
                Ok(None) => {
                    self.ended = true;
                    Ok(self.splitter.finish())
                }
                Err(e) => Err(e),
            };
            // The elements completed before a fault are still given, then the fault.
            self.fault = match outcome {
                Ok(Ok(())) => None,
                Ok(Err(Broken::TooLarge(limit))) => Some(ListError::Failure(Failure::TooLarge {
                    limit,
                    url: self.url.clone(),
                })),
                Ok(Err(Broken::Shape(message))) => {
                    Some(ListError::Shape(self.redactor.clean(&message)))
                }
                Err(e) => Some(e),
            };
            if self.fault.is_some() {
                self.ended = true;
            }
        }
    }
}

/// Why the splitter stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Broken {
    /// One value was larger than the cap (the cap is given).
    TooLarge(usize),
    /// Not the documented shape.
    Shape(String),
}

/// Where the splitter is in the top-level object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Before the object's `{`.
    Start,
    /// After `{`: a key or `}`.
    FirstKey,
    /// After `,`: a key.
    Key,
    /// Inside a key's string.
    InKey,
    /// After a key: `:`.
    Colon,
    /// After `:`: the value.
    Value,
    /// After a value of the object: `,` or `}`.
    AfterValue,
    /// After `[` of the listed array: an element or `]`.
    FirstElement,
    /// After `,` in the array: an element.
    Element,
    /// After an element: `,` or `]`.
    AfterElement,
    /// After the object's `}`: only white space.
    Done,
}

/// What a value being read belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// An element of the listed array: given out.
    Element,
    /// Another value of the object: checked, then dropped.
    Other,
}

/// One value being read, byte by byte, to its end.
#[derive(Debug)]
struct Capture {
    owner: Owner,
    bytes: Vec<u8>,
    /// Open `{` and `[` (0 for a string or a scalar).
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// A number, `true`, `false` or `null`: ends at the first byte that cannot continue it.
    scalar: bool,
}

/// Splits a JSON object, fed in chunks, into the elements of the array at `key`.
#[derive(Debug)]
pub(crate) struct Splitter {
    key: &'static str,
    cap: usize,
    at: At,
    key_bytes: Vec<u8>,
    key_escaped: bool,
    /// The key of the value being read is `key`.
    listed_key: bool,
    seen: bool,
    capture: Option<Capture>,
    /// Each element is checked as JSON when it ends (else its reader checks it).
    check_elements: bool,
    /// An object without the key holds an empty list.
    key_optional: bool,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn shown(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("`{}`", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

impl Splitter {
    pub(crate) fn new(key: &'static str, cap: usize) -> Splitter {
        Splitter {
            key,
            cap,
            at: At::Start,
            key_bytes: Vec::new(),
            key_escaped: false,
            listed_key: false,
            seen: false,
            capture: None,
            check_elements: true,
            key_optional: false,
        }
    }

    /// Elements are given as delimited, not checked as JSON: their reader parses them
    /// (once) and checks them then. The object's other values are still checked.
    pub(crate) fn elements_unchecked(mut self) -> Splitter {
        self.check_elements = false;
        self
    }

    /// Reads `chunk`, pushing each element completed in it to `out`.
    pub(crate) fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<Vec<u8>>) -> Result<(), Broken> {
        let mut i = 0;
        while i < chunk.len() {
            if self.capture.is_some() {
                i += self.capture_bytes(&chunk[i..], out)?;
                continue;
            }
            let b = chunk[i];
            i += 1;
            if self.at == At::InKey {
                self.key_byte(b)?;
                continue;
            }
            if is_space(b) {
                continue;
            }
            self.at = match (self.at, b) {
                (At::Start, b'{') => At::FirstKey,
                (At::Start, _) => {
                    return Err(Broken::Shape(format!(
                        "the answer is not a JSON object (it starts with {})",
                        shown(b)
                    )))
                }
                (At::FirstKey, b'}') | (At::AfterValue, b'}') => At::Done,
                (At::FirstKey | At::Key, b'"') => {
                    self.key_bytes.clear();
                    self.key_bytes.push(b'"');
                    self.key_escaped = false;
                    At::InKey
                }
                (At::Colon, b':') => At::Value,
                (At::Value, b'[') if self.listed_key => At::FirstElement,
                (At::Value, _) if self.listed_key => {
                    return Err(Broken::Shape(format!("`{}` is not a list", self.key)))
                }
                (At::Value, _) => {
                    self.start_capture(Owner::Other, b);
                    At::Value
                }
                (At::AfterValue, b',') => At::Key,
                (At::FirstElement, b']') | (At::AfterElement, b']') => At::AfterValue,
                (At::FirstElement | At::Element, _) => {
                    self.start_capture(Owner::Element, b);
                    At::Element
                }
                (At::AfterElement, b',') => At::Element,
                (At::Done, _) => {
                    return Err(Broken::Shape(format!(
                        "the answer goes on after its object ({})",
                        shown(b)
                    )))
                }
                (at, _) => {
                    return Err(Broken::Shape(format!(
                        "the answer is not valid JSON: unexpected {} ({})",
                        shown(b),
                        match at {
                            At::FirstKey | At::Key => "a key was expected",
                            At::Colon => "`:` was expected",
                            At::AfterValue => "`,` or `}` was expected",
                            At::AfterElement => "`,` or `]` was expected",
                            _ => "in the object",
                        }
                    )))
                }
            };
        }
        Ok(())
    }

    /// The body has ended: it must have been one whole object holding the list.
    pub(crate) fn finish(&mut self) -> Result<(), Broken> {
        // Any value still open (a scalar too: the object's `}` would have ended it) is
        // cut short.
        if self.capture.take().is_some() {
            return Err(Broken::Shape(
                "the answer ends in the middle of a value".into(),
            ));
        }
        match self.at {
            At::Done if self.seen || self.key_optional => Ok(()),
            At::Done => Err(Broken::Shape(format!("the answer has no `{}`", self.key))),
            At::Start => Err(Broken::Shape("the answer is empty".into())),
            _ => Err(Broken::Shape(
                "the answer ends before its object does".into(),
            )),
        }
    }

    fn key_byte(&mut self, b: u8) -> Result<(), Broken> {
        if self.key_bytes.len() >= self.cap {
            return Err(Broken::TooLarge(self.cap));
        }
        self.key_bytes.push(b);
        if self.key_escaped {
            self.key_escaped = false;
        } else if b == b'\\' {
            self.key_escaped = true;
        } else if b == b'"' {
            let key: String = serde_json::from_slice(&self.key_bytes)
                .map_err(|e| Broken::Shape(format!("the answer is not valid JSON: {e}")))?;
            self.listed_key = key == self.key;
            if self.listed_key {
                if self.seen {
                    return Err(Broken::Shape(format!(
                        "the answer has `{}` twice",
                        self.key
                    )));
                }
                self.seen = true;
            }
            self.at = At::Colon;
        }
        Ok(())
    }

    fn start_capture(&mut self, owner: Owner, first: u8) {
        let mut capture = Capture {
            owner,
            bytes: Vec::new(),
            depth: 0,
            in_string: false,
            escaped: false,
            scalar: false,
        };
        capture.bytes.push(first);
        match first {
            b'{' | b'[' => capture.depth = 1,
            b'"' => capture.in_string = true,
            _ => capture.scalar = true,
        }
        self.capture = Some(capture);
        // A one-byte container or string is never complete yet; a scalar ends at the next
        // byte that cannot continue it (read by capture_bytes).
    }

    /// Reads bytes of the value being captured; returns how many it took. A scalar's end
    /// is the first byte not taken. The bytes are copied in one piece, and the inside of a
    /// string is skipped to its next `"` or `\\` in one search.
    fn capture_bytes(
        &mut self,
        bytes: &[u8],
        out: &mut VecDeque<Vec<u8>>,
    ) -> Result<usize, Broken> {
        let cap = self.cap;
        let Some(capture) = self.capture.as_mut() else {
            return Ok(0);
        };
        let mut taken = 0;
        let mut complete = false;
        while taken < bytes.len() {
            let b = bytes[taken];
            if capture.scalar {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.') {
                    taken += 1;
                    continue;
                }
                complete = true;
                break;
            }
            if capture.in_string {
                if capture.escaped {
                    capture.escaped = false;
                    taken += 1;
                    continue;
                }
                // A plain loop: no closure call per byte in a debug build.
                let mut at = taken;
                while at < bytes.len() && bytes[at] != b'"' && bytes[at] != b'\\' {
                    at += 1;
                }
                if at == bytes.len() {
                    taken = at;
                    break;
                }
                taken = at;
                let end = bytes[taken];
                taken += 1;
                if end == b'\\' {
                    capture.escaped = true;
                } else {
                    capture.in_string = false;
                    if capture.depth == 0 {
                        complete = true;
                        break;
                    }
                }
                continue;
            }
            taken += 1;
            match b {
                b'"' => capture.in_string = true,
                b'{' | b'[' => capture.depth += 1,
                b'}' | b']' => {
                    capture.depth = capture.depth.saturating_sub(1);
                    if capture.depth == 0 {
                        complete = true;
                        break;
                    }
                }
                _ => {}
            }
        }
        capture.bytes.extend_from_slice(&bytes[..taken]);
        if capture.bytes.len() > cap {
            return Err(Broken::TooLarge(cap));
        }
        if complete {
            let Some(done) = self.capture.take() else {
                return Ok(taken);
            };
            // The value must be JSON on its own (brackets of the wrong kind, bad escapes,
            // bad numbers, a bare word): checked here for the object's other values, and
            // for elements unless their reader parses them.
            if done.owner == Owner::Other || self.check_elements {
                if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&done.bytes) {
                    return Err(Broken::Shape(format!("the answer is not valid JSON: {e}")));
                }
            }
            match done.owner {
                Owner::Element => {
                    out.push_back(done.bytes);
                    self.at = At::AfterElement;
                }
                Owner::Other => self.at = At::AfterValue,
            }
        }
        Ok(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element the splitter gives for `text` fed in pieces of `step` bytes, or why
    /// it broke.
    fn split(text: &str, step: usize, cap: usize) -> Result<Vec<String>, Broken> {
        let mut s = Splitter::new("items", cap);
        let mut out = VecDeque::new();
        for piece in text.as_bytes().chunks(step.max(1)) {
            s.feed(piece, &mut out)?;
        }
        s.finish()?;
        Ok(out
            .into_iter()
            .map(|b| String::from_utf8(b).expect("utf-8"))
            .collect())
    }

    #[test]
    fn elements_come_out_whole_whatever_the_chunks() {
        let text = r#" {"count": 3, "items": [ {"id":"a","tags":["x,]","}"]} ,
            "b\"]" , 12.5e3,true, null, [1,[2]], {"n":{"m":"\\"}} ], "next": {"k": [1, "]"]} } "#;
        let want = vec![
            r#"{"id":"a","tags":["x,]","}"]}"#,
            r#""b\"]""#,
            "12.5e3",
            "true",
            "null",
            "[1,[2]]",
            r#"{"n":{"m":"\\"}}"#,
        ];
        for step in [1, 2, 3, 7, 64, 10_000] {
            assert_eq!(split(text, step, 1 << 20).unwrap(), want, "step {step}");
        }
        assert_eq!(
            split(r#"{"items":[]}"#, 1, 64).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            split(r#"{"a":1,"items":[-1],"z":false}"#, 1, 64).unwrap(),
            vec!["-1"]
        );
        // A key spelled with an escape is still the key.
        assert_eq!(split(r#"{"it\u0065ms":[1]}"#, 1, 64).unwrap(), vec!["1"]);
        // A key that may be left out: an empty list when it is (and read when it is not).
        for (text, want) in [(r#"{"n":1}"#, vec![]), (r#"{"items":[2]}"#, vec!["2"])] {
            let mut s = Splitter::new("items", 64);
            s.key_optional = true;
            let mut out = VecDeque::new();
            s.feed(text.as_bytes(), &mut out).unwrap();
            s.finish().unwrap();
            let got: Vec<Vec<u8>> = out.into_iter().collect();
            let want: Vec<Vec<u8>> = want.iter().map(|w| w.as_bytes().to_vec()).collect();
            assert_eq!(got, want, "{text}");
        }
    }

    #[test]
    fn a_broken_answer_is_refused_naming_what_is_wrong() {
        let shape = |text: &str| match split(text, 3, 1 << 20) {
            Err(Broken::Shape(m)) => m,
            other => panic!("{text}: {other:?}"),
        };
        assert!(shape("").contains("empty"));
        assert!(shape("[1,2]").contains("not a JSON object"));
        assert!(shape(r#"{"other":[1]}"#).contains("no `items`"));
        assert!(shape(r#"{"items":{"a":1}}"#).contains("`items` is not a list"));
        assert!(shape(r#"{"items":[1],"items":[2]}"#).contains("twice"));
        assert!(shape(r#"{"items":[1,2"#).contains("ends"));
        assert!(shape(r#"{"items":[1,2]"#).contains("ends before"));
        assert!(shape(r#"{"items":[1,2]} x"#).contains("goes on"));
        assert!(shape(r#"{"items":[1 2]}"#).contains("not valid JSON"));
        assert!(shape(r#"{"items":[1,]}"#).contains("not valid JSON"));
        assert!(shape(r#"{"items":[{"a":1]]}"#).contains("not valid JSON"));
        assert!(shape(r#"{"items":[tru]}"#).contains("not valid JSON"));
        assert!(shape(r#"{"items":[1], "x": nope}"#).contains("not valid JSON"));
        assert!(shape(r#"{"items":[1] "x":1}"#).contains("not valid JSON"));
        assert!(shape(r#"{items:[1]}"#).contains("not valid JSON"));
    }

    #[test]
    fn the_cap_holds_for_each_element_not_for_the_list() {
        // 1,000 elements of 20 bytes go through a cap of 64 bytes.
        let many: Vec<String> = (0..1000)
            .map(|i| format!(r#"{{"id":"item-{i:06}"}}"#))
            .collect();
        let text = format!(r#"{{"items":[{}]}}"#, many.join(","));
        assert!(text.len() > 20_000);
        assert_eq!(split(&text, 100, 64).unwrap(), many);
        // One element over the cap is refused, as is any other value over it.
        let big = format!(r#"{{"items":[1,"{}"]}}"#, "a".repeat(100));
        assert_eq!(split(&big, 7, 64), Err(Broken::TooLarge(64)));
        let big = format!(r#"{{"note":"{}","items":[]}}"#, "a".repeat(100));
        assert_eq!(split(&big, 7, 64), Err(Broken::TooLarge(64)));
        let big = format!(r#"{{"{}":1,"items":[]}}"#, "k".repeat(100));
        assert_eq!(split(&big, 7, 64), Err(Broken::TooLarge(64)));
    }

    mod over_http {
        use std::time::Duration;

        use tokio_util::sync::CancellationToken;

        use super::super::super::testutil::{Canned, Mock};
        use super::super::super::{
            Auth, ErrorObject, Failure, HttpClient, HttpConfig, Request, Retry, Route,
        };
        use super::super::ListError;

        const LIST: Route = Route {
            method: reqwest::Method::GET,
            template: "/v1/things",
            scope: "thing:read",
            retry: Retry::Idempotent,
            guard: None,
            label: "list things",
            summary: "Error listing things",
            describe: "list things",
            missing: "things",
        };

        fn client(mock: &Mock, timeout: Duration, cap: usize) -> HttpClient {
            let mut config = HttpConfig::new(
                mock.base.clone(),
                Auth::Header {
                    name: "x-api-key",
                    secret: "key_0123456789abcdef".into(),
                },
                "terraform-provider-test/1",
            );
            config.timeout = timeout;
            config.max_retries = 1;
            config.max_body_bytes = cap;
            HttpClient::new(config, ErrorObject, CancellationToken::new()).unwrap()
        }

        async fn read_all(c: &HttpClient) -> Result<Vec<Result<String, ListError>>, Failure> {
            let mut answer = c
                .send_list(
                    &LIST,
                    &[] as &[(&str, &str); 0],
                    Request::default(),
                    "things",
                )
                .await?;
            let mut got = Vec::new();
            while let Some(next) = answer.next().await {
                got.push(next.map(|b| String::from_utf8(b).expect("utf-8")));
            }
            Ok(got)
        }

        #[tokio::test]
        async fn a_list_longer_than_the_cap_and_slower_than_the_timeout_is_read_whole() {
            // 40 elements of about 12 bytes: 500 bytes in all, against a cap of 32.
            let things: Vec<String> = (0..40).map(|i| format!(r#"{{"id":"t{i:02}"}}"#)).collect();
            let body = format!(r#"{{"things":[{}],"total":40}}"#, things.join(","));
            assert!(body.len() > 400);
            let mock = Mock::start(vec![Canned::json(200, &body)]).await;
            let got = read_all(&client(&mock, Duration::from_secs(5), 32))
                .await
                .unwrap();
            let got: Vec<String> = got.into_iter().map(|r| r.unwrap()).collect();
            assert_eq!(got, things);

            // A body dripping for about 1.5 s, byte by byte, under a 400 ms timeout: each
            // part comes in time, so the answer is read to its end.
            let body = r#"{"things":[{"id":"a"},{"id":"b"}],"total":2}"#;
            let mock = Mock::start(vec![Canned::drip(200, body, Duration::from_millis(35))]).await;
            let started = std::time::Instant::now();
            let got = read_all(&client(&mock, Duration::from_millis(400), 1024))
                .await
                .unwrap();
            assert!(started.elapsed() > Duration::from_millis(400));
            let got: Vec<String> = got.into_iter().map(|r| r.unwrap()).collect();
            assert_eq!(got, [r#"{"id":"a"}"#, r#"{"id":"b"}"#]);
        }

        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Thing {
            id: String,
        }

        async fn read_as(c: &HttpClient) -> Vec<Result<super::super::Element<Thing>, ListError>> {
            let mut answer = c
                .send_list(
                    &LIST,
                    &[] as &[(&str, &str); 0],
                    Request::default(),
                    "things",
                )
                .await
                .expect("the call");
            let mut got = Vec::new();
            while let Some(next) = answer.next_as::<Thing>().await {
                got.push(next);
            }
            got
        }

        #[tokio::test]
        async fn each_element_is_read_as_its_type_and_an_odd_one_is_given_as_its_value() {
            use super::super::Element::{Odd, Read};
            let thing = |id: &str| Ok(Read(Thing { id: id.into() }));
            let body = r#"{"things":[{"id":"a","more":{"x":[1,"]"]}},{"id":5},null,[1],
                {"name":"b"},{"id":"c\"d"}],"total":6}"#;
            let mock = Mock::start(vec![Canned::json(200, body)]).await;
            let got = read_as(&client(&mock, Duration::from_secs(5), 64)).await;
            assert_eq!(
                got,
                vec![
                    thing("a"),
                    Ok(Odd(serde_json::json!({"id": 5}))),
                    Ok(Odd(serde_json::Value::Null)),
                    Ok(Odd(serde_json::json!([1]))),
                    Ok(Odd(serde_json::json!({"name": "b"}))),
                    thing("c\"d"),
                ]
            );
            // An element that is not JSON (in a field the type ignores, or brackets of the
            // wrong kind) ends the answer: the elements before it, then the fault, then
            // nothing (the element after it is not given).
            for bad in [r#"{"id":"b","x":tru}"#, r#"{"id":"b"]"#, r#"{"id":"\q"}"#] {
                let body = format!(r#"{{"things":[{{"id":"a"}},{bad},{{"id":"c"}}]}}"#);
                let mock = Mock::start(vec![Canned::json(200, &body)]).await;
                let got = read_as(&client(&mock, Duration::from_secs(5), 64)).await;
                assert_eq!(got.len(), 2, "{bad}: {got:?}");
                assert_eq!(got[0], thing("a"), "{bad}");
                assert!(
                    matches!(&got[1], Err(ListError::Shape(m)) if m.contains("not valid JSON")),
                    "{bad}: {got:?}"
                );
            }
            // The cap holds for each element read this way too.
            let body = format!(
                r#"{{"things":[{{"id":"a"}},{{"id":"{}"}}]}}"#,
                "x".repeat(100)
            );
            let mock = Mock::start(vec![Canned::json(200, &body)]).await;
            let got = read_as(&client(&mock, Duration::from_secs(5), 64)).await;
            assert!(
                matches!(
                    got.as_slice(),
                    [
                        Ok(_),
                        Err(ListError::Failure(Failure::TooLarge { limit: 64, .. }))
                    ]
                ),
                "{got:?}"
            );
        }

        #[tokio::test]
        async fn a_broken_or_refused_list_says_so() {
            // The connection breaks part way: an error, then nothing.
            let mock = Mock::start(vec![Canned::abort_body(200)]).await;
            let got = read_all(&client(&mock, Duration::from_secs(5), 1024))
                .await
                .unwrap();
            assert!(
                matches!(
                    got.as_slice(),
                    [Err(
                        ListError::Shape(_) | ListError::Failure(Failure::Transport { .. })
                    )]
                ),
                "{got:?}"
            );
            // An element over the cap.
            let body = format!(r#"{{"things":[{{"id":"{}"}}]}}"#, "x".repeat(100));
            let mock = Mock::start(vec![Canned::json(200, &body)]).await;
            let got = read_all(&client(&mock, Duration::from_secs(5), 64))
                .await
                .unwrap();
            assert!(
                matches!(
                    got.as_slice(),
                    [Err(ListError::Failure(Failure::TooLarge { limit: 64, .. }))]
                ),
                "{got:?}"
            );
            // Not the documented list: the elements before the fault, then the fault.
            let mock = Mock::start(vec![Canned::json(200, r#"{"things":[1,2}"#)]).await;
            let got = read_all(&client(&mock, Duration::from_secs(5), 64))
                .await
                .unwrap();
            assert_eq!(got.len(), 3, "{got:?}");
            assert_eq!(got[0], Ok("1".to_owned()));
            assert_eq!(got[1], Ok("2".to_owned()));
            assert!(
                matches!(&got[2], Err(ListError::Shape(m)) if m.contains("not valid JSON")),
                "{got:?}"
            );
            // An error answer is the call's failure, as for any call (a 503 retried once).
            let e503 = || Canned::json(503, r#"{"error":{"code":"busy","message":"later"}}"#);
            let mock = Mock::start(vec![e503(), e503()]).await;
            let failure = read_all(&client(&mock, Duration::from_secs(5), 64))
                .await
                .unwrap_err();
            assert_eq!(failure.status(), Some(503));
            assert_eq!(mock.calls().len(), 2);
        }
    }
}
