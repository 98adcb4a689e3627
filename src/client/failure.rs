//! [`ApiFailure`]: a failed call of any platform, in one type. What every platform's failure
//! holds is here, once: the operation (the platform's own `Op`: its route and the ids of the
//! call), the common [`FailureKind`], the HTTP status, the platform's error `code`, the
//! redacted message, the refused field, the retries, `Retry-After` and URL where known. A
//! platform keeps its finer facts in its code (`not_a_member`, `quota_exceeded`, the
//! tenant-database codes) and, when a code is not enough, in its small `detail` type `D`
//! (Comwit's lost create and taken name, WaysCloud's missing permission).
//!
//! Resources ask predicates (`is_not_found()`, `is_conflict()`, `code() == Some(..)`),
//! never match on a platform's variants. How a failure reads (the platform's words) and
//! what to do about it (its remedy) stay with each platform, over these facts.

use std::ops::{Deref, DerefMut};
use std::time::Duration;

use reqwest::Method;

use super::{ErrorFields, Failure, FailureKind, Route};
use crate::contract::failure::{Common, CommonFacts};

/// A platform's operation (its `Op`): the route it called, whose method and `Retry` class
/// the common rules read.
pub trait Called {
    /// The route of the call.
    fn route(&self) -> &'static Route;
}

/// Whether a failed request of `route` may have taken effect though no answer said it did:
/// the one rule of every platform, read from the route and the failure's kind (and status).
///
/// | failure | a write (POST, PUT, PATCH, DELETE) | a read (GET, HEAD) |
/// |---|---|---|
/// | 5xx ([`FailureKind::Server`]), but 501 | maybe | no |
/// | no answer: transport failure, deadline | maybe | no |
/// | an answer that could not be read ([`FailureKind::Decode`]) | maybe | no |
/// | a stop ([`FailureKind::Cancelled`]), the request perhaps sent | maybe | no |
/// | 429, 401, 403, 404, 409, 422, another answer, an argument refused | no | no |
///
/// The route's [`super::Retry`] class does not change the answer: a request repeated after
/// an ambiguous failure may have taken effect at any attempt, and one never repeated at
/// its only one; the class only says whether it was repeated
/// (the `repeatable` of its [`Common`] facts). A 429 or a refused connection did no work.
pub fn may_have_taken_effect(route: &Route, kind: FailureKind, status: Option<u16>) -> bool {
    if route.method == Method::GET || route.method == Method::HEAD {
        return false;
    }
    match kind {
        FailureKind::Server => status != Some(501),
        FailureKind::Transport
        | FailureKind::Deadline
        | FailureKind::Decode
        | FailureKind::Cancelled => true,
        FailureKind::NotFound
        | FailureKind::Conflict
        | FailureKind::RateLimited
        | FailureKind::Unauthorized
        | FailureKind::Forbidden
        | FailureKind::Validation
        | FailureKind::Other => false,
    }
}

/// The facts of a failed call (see [`ApiFailure`], which boxes them to keep
/// `Result<T, ApiFailure>` small). Every text in it has been through the client's
/// redactor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts<Op, D = ()> {
    /// What was attempted: the platform's operation (its route, so its summary and
    /// template, and the ids of the call).
    pub op: Op,
    /// The common kind.
    pub kind: FailureKind,
    /// The HTTP status, when the API answered.
    pub status: Option<u16>,
    /// The answer had the platform's documented error body (so the platform itself
    /// answered, not a proxy or another server at the wrong URL).
    pub documented: bool,
    /// The `code` of the platform's documented error body.
    pub code: Option<String>,
    /// The platform's message, or the transport's or decoder's words; empty when none.
    pub message: String,
    /// The request field the platform refused (or the argument refused before sending).
    pub field: Option<String>,
    /// The attempts made (1 + the retries); 0 when nothing was sent.
    pub attempts: u32,
    /// The wait the API last asked for (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// The URL asked (no query, no credentials), when a request was sent.
    pub url: Option<String>,
    /// An attempt ran out of time (a transport failure).
    pub timed_out: bool,
    /// How long the operation waited before its deadline passed ([`FailureKind::Deadline`]).
    pub waited: Option<Duration>,
    /// The answer was larger than this many bytes, the most the client reads.
    pub too_large: Option<usize>,
    /// The platform's own facts beyond these.
    pub detail: D,
}

/// A failed call of any platform: [`Facts`] behind one box (read and written through
/// `Deref`: `failure.kind`, `failure.op`). Each platform names its instance
/// (`pub type ApiFailure = client::ApiFailure<Operation, Detail>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiFailure<Op, D = ()>(Box<Facts<Op, D>>);

impl<Op, D> Deref for ApiFailure<Op, D> {
    type Target = Facts<Op, D>;
    fn deref(&self) -> &Facts<Op, D> {
        &self.0
    }
}

impl<Op, D> DerefMut for ApiFailure<Op, D> {
    fn deref_mut(&mut self) -> &mut Facts<Op, D> {
        &mut self.0
    }
}

impl<Op, D> From<Facts<Op, D>> for ApiFailure<Op, D> {
    fn from(facts: Facts<Op, D>) -> Self {
        ApiFailure(Box::new(facts))
    }
}

impl<Op, D: Default> Facts<Op, D> {
    /// A failure of `kind` with no other facts yet.
    pub fn new(op: Op, kind: FailureKind) -> Self {
        Facts {
            op,
            kind,
            status: None,
            documented: false,
            code: None,
            message: String::new(),
            field: None,
            attempts: 0,
            retry_after: None,
            url: None,
            timed_out: false,
            waited: None,
            too_large: None,
            detail: D::default(),
        }
    }
}

impl<Op, D: Default> ApiFailure<Op, D> {
    /// A failure of `kind` with `message` and no other facts.
    pub fn new(op: Op, kind: FailureKind, message: impl Into<String>) -> Self {
        Facts {
            message: message.into(),
            ..Facts::new(op, kind)
        }
        .into()
    }

    /// The failure of a request, from the core's [`Failure`]. The kind of an answer is the
    /// platform's reading of its status and error body (`kind_of`); the others are the
    /// same on every platform: no answer is [`FailureKind::Transport`], the deadline
    /// [`FailureKind::Deadline`], an answer too large [`FailureKind::Decode`], an argument
    /// refused before sending [`FailureKind::Validation`], a stop
    /// [`FailureKind::Cancelled`].
    pub fn from_failure(
        op: Op,
        failure: Failure,
        kind_of: impl FnOnce(u16, &ErrorFields) -> FailureKind,
    ) -> Self {
        let mut facts = Facts::new(op, FailureKind::Other);
        match failure {
            Failure::Status {
                status,
                retry_after,
                fields,
                retries,
                url,
                ..
            } => {
                facts.kind = kind_of(status, &fields);
                facts.status = Some(status);
                facts.retry_after = retry_after;
                facts.attempts = retries.saturating_add(1);
                facts.url = Some(url);
                let fields = *fields;
                facts.documented = fields.documented;
                facts.code = fields.code.filter(|_| fields.documented);
                facts.message = fields.message.unwrap_or_default();
                facts.field = fields.field;
            }
            Failure::Transport {
                message,
                timed_out,
                retries,
                url,
            } => {
                facts.kind = FailureKind::Transport;
                facts.message = message;
                facts.timed_out = timed_out;
                facts.attempts = retries.saturating_add(1);
                facts.url = Some(url);
            }
            Failure::Deadline {
                after,
                attempts,
                url,
            } => {
                facts.kind = FailureKind::Deadline;
                facts.waited = Some(after);
                facts.attempts = attempts;
                facts.url = Some(url);
            }
            Failure::TooLarge { limit, url } => {
                facts.kind = FailureKind::Decode;
                facts.too_large = Some(limit);
                facts.attempts = 1;
                facts.url = Some(url);
            }
            Failure::InvalidInput { field, message } => {
                facts.kind = FailureKind::Validation;
                facts.field = Some(field);
                facts.message = message;
            }
            Failure::Cancelled => facts.kind = FailureKind::Cancelled,
        }
        facts.into()
    }
}

impl<Op, D> ApiFailure<Op, D> {
    /// The common kind.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The `code` of the platform's documented error body (`not_found`, `not_a_member`,
    /// `quota_exceeded`, `database_auth_failed`, ...).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The HTTP status the API answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The request field the platform refused, if it named one.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The retries made after the first attempt.
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }

    /// The platform says, in its documented error body, that the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind.is_not_found()
    }

    /// The platform answered 409.
    pub fn is_conflict(&self) -> bool {
        self.kind.is_conflict()
    }

    /// The platform kept answering 429.
    pub fn is_rate_limited(&self) -> bool {
        self.kind.is_rate_limited()
    }

    /// The platform answered 5xx.
    pub fn is_server(&self) -> bool {
        self.kind.is_server()
    }

    /// No answer came: a transport failure or the operation's deadline.
    pub fn is_unanswered(&self) -> bool {
        self.kind.is_unanswered()
    }

    /// The credential was refused (401) or may not do this (403).
    pub fn is_refused(&self) -> bool {
        self.kind.is_refused()
    }

    /// The answer, if any, was not the platform's: no documented error body (a proxy, a
    /// wrong `api_url`), or one far larger than any of the API's.
    pub fn is_foreign(&self) -> bool {
        (self.status.is_some() && !self.documented) || self.too_large.is_some()
    }

    /// The answer is not the platform API's: [`ApiFailure::is_foreign`], or a 404 the
    /// platform did not read as "not found" (an unknown route: `api_url` points elsewhere).
    pub fn is_not_the_api(&self) -> bool {
        self.is_foreign() || (self.kind == FailureKind::Other && self.status == Some(404))
    }

    /// The platform's failure with another detail (what a platform learns after the call,
    /// such as what holds a taken name).
    pub fn with_detail<E>(self, detail: E) -> ApiFailure<Op, E> {
        let facts = *self.0;
        Facts {
            op: facts.op,
            kind: facts.kind,
            status: facts.status,
            documented: facts.documented,
            code: facts.code,
            message: facts.message,
            field: facts.field,
            attempts: facts.attempts,
            retry_after: facts.retry_after,
            url: facts.url,
            timed_out: facts.timed_out,
            waited: facts.waited,
            too_large: facts.too_large,
            detail,
        }
        .into()
    }
}

impl<Op: Called, D> ApiFailure<Op, D> {
    /// Whether the request may have taken effect though no answer said so
    /// ([`may_have_taken_effect`], the one rule of every platform).
    pub fn may_have_taken_effect(&self) -> bool {
        may_have_taken_effect(self.op.route(), self.kind, self.status)
    }
}

/// The facts every generic remedy reads, in the words the provider side shares
/// ([`Common`]).
impl<Op: Called, D> CommonFacts for ApiFailure<Op, D> {
    fn common(&self) -> Common<'_> {
        Common {
            kind: self.kind,
            status: self.status,
            // An answer to HEAD has no body to tell the API's from another server's.
            not_the_api: self.op.route().method != Method::HEAD && self.is_not_the_api(),
            retries: (self.attempts > 0).then(|| self.retries()),
            retry_after: self.retry_after,
            timed_out: self.timed_out,
            repeatable: self.op.route().retry.repeats_after_ambiguous_failure(),
            may_have_taken_effect: self.may_have_taken_effect(),
            url: self.url.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Retry;

    fn status(status: u16, body: &ErrorFields) -> Failure {
        Failure::Status {
            status,
            retry_after: Some(Duration::from_secs(3)),
            fields: Box::new(body.clone()),
            body_len: 10,
            retries: 2,
            url: "http://api.test/v1/x".into(),
        }
    }

    fn conflict_unless_gone(status: u16, f: &ErrorFields) -> FailureKind {
        match (status, f.code.as_deref()) {
            (404, Some("not_found")) if f.documented => FailureKind::NotFound,
            (409, _) => FailureKind::Conflict,
            _ => FailureKind::Other,
        }
    }

    #[test]
    fn an_answer_keeps_its_facts_and_the_platform_reads_its_kind() {
        let fields = ErrorFields {
            json: true,
            documented: true,
            code: Some("not_found".into()),
            message: Some("no such thing".into()),
            field: Some("name".into()),
            ..ErrorFields::default()
        };
        let f: ApiFailure<&str> =
            ApiFailure::from_failure("read", status(404, &fields), conflict_unless_gone);
        assert!(f.is_not_found() && !f.is_conflict() && !f.is_foreign());
        assert_eq!(f.code(), Some("not_found"));
        assert_eq!(f.status(), Some(404));
        assert_eq!(f.field(), Some("name"));
        assert_eq!(f.message, "no such thing");
        assert_eq!((f.attempts, f.retries()), (3, 2));
        assert_eq!(f.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(f.url.as_deref(), Some("http://api.test/v1/x"));

        // A code outside the documented shape is not the platform's code.
        let foreign = ErrorFields {
            documented: false,
            ..fields
        };
        let f: ApiFailure<&str> =
            ApiFailure::from_failure("read", status(404, &foreign), conflict_unless_gone);
        assert!(!f.is_not_found() && f.is_foreign());
        assert_eq!((f.kind(), f.code()), (FailureKind::Other, None));
    }

    #[test]
    fn what_is_not_an_answer_has_the_same_kind_on_every_platform() {
        let never = |_: u16, _: &ErrorFields| -> FailureKind { unreachable!() };
        let cases = [
            (
                Failure::Transport {
                    message: "refused".into(),
                    timed_out: true,
                    retries: 1,
                    url: "u".into(),
                },
                FailureKind::Transport,
            ),
            (
                Failure::Deadline {
                    after: Duration::from_secs(5),
                    attempts: 4,
                    url: "u".into(),
                },
                FailureKind::Deadline,
            ),
            (
                Failure::TooLarge {
                    limit: 1024,
                    url: "u".into(),
                },
                FailureKind::Decode,
            ),
            (
                Failure::InvalidInput {
                    field: "id".into(),
                    message: "empty".into(),
                },
                FailureKind::Validation,
            ),
            (Failure::Cancelled, FailureKind::Cancelled),
        ];
        for (failure, kind) in cases {
            let f: ApiFailure<()> = ApiFailure::from_failure((), failure, never);
            assert_eq!(f.kind(), kind);
            assert_eq!(f.status(), None);
        }
        let f: ApiFailure<()> = ApiFailure::from_failure(
            (),
            Failure::Transport {
                message: "m".into(),
                timed_out: true,
                retries: 1,
                url: "u".into(),
            },
            never,
        );
        assert!(f.timed_out && f.is_unanswered() && !f.is_foreign());
        assert_eq!((f.message.as_str(), f.retries()), ("m", 1));
        let f: ApiFailure<()> = ApiFailure::from_failure(
            (),
            Failure::TooLarge {
                limit: 1024,
                url: "u".into(),
            },
            never,
        );
        assert!(f.is_foreign() && f.too_large == Some(1024));
    }

    #[test]
    fn a_detail_learned_later_keeps_every_other_fact() {
        let f: ApiFailure<&str> = ApiFailure::new("create", FailureKind::Conflict, "taken");
        let g = f.clone().with_detail(Some("db_1"));
        assert_eq!(g.detail, Some("db_1"));
        assert_eq!((g.kind, &g.message, g.op), (f.kind, &f.message, f.op));
    }

    const fn route(method: Method, retry: Retry) -> Route {
        Route {
            method,
            template: "/v1/x",
            scope: "",
            retry,
            guard: None,
            label: "x",
            summary: "Error",
            describe: "x",
            missing: "x",
        }
    }

    #[test]
    fn a_write_may_have_taken_effect_only_when_no_answer_said_otherwise() {
        use FailureKind::*;
        // (kind, status, a write may have taken effect)
        let table = [
            (Server, Some(500), true),
            (Server, Some(502), true),
            (Server, Some(503), true),
            (Server, Some(501), false),
            (Transport, None, true),
            (Deadline, None, true),
            (Decode, None, true),
            (Cancelled, None, true),
            (RateLimited, Some(429), false),
            (Unauthorized, Some(401), false),
            (Forbidden, Some(403), false),
            (NotFound, Some(404), false),
            (Conflict, Some(409), false),
            (Validation, Some(422), false),
            (Validation, None, false),
            (Other, Some(400), false),
            (Other, Some(404), false),
        ];
        for retry in [Retry::Never, Retry::WithIdempotencyKey, Retry::Idempotent] {
            for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
                let write = route(method.clone(), retry);
                for (kind, status, maybe) in table {
                    assert_eq!(
                        may_have_taken_effect(&write, kind, status),
                        maybe,
                        "{method} {retry:?} {kind:?} {status:?}"
                    );
                }
            }
            for method in [Method::GET, Method::HEAD] {
                let read = route(method.clone(), retry);
                for (kind, status, _) in table {
                    assert!(
                        !may_have_taken_effect(&read, kind, status),
                        "a read changes nothing: {method} {kind:?}"
                    );
                }
            }
        }
    }

    #[derive(Debug)]
    struct Op(&'static Route);
    impl Called for Op {
        fn route(&self) -> &'static Route {
            self.0
        }
    }

    #[test]
    fn the_common_facts_are_the_failures() {
        static ROTATE: Route = route(Method::POST, Retry::Never);
        static DELETE: Route = route(Method::DELETE, Retry::Idempotent);
        let fields = ErrorFields {
            json: true,
            documented: true,
            code: Some("boom".into()),
            ..ErrorFields::default()
        };
        let f: ApiFailure<Op> =
            ApiFailure::from_failure(Op(&ROTATE), status(503, &fields), |_, _| {
                FailureKind::Server
            });
        let c = f.common();
        assert_eq!(
            c,
            Common {
                kind: FailureKind::Server,
                status: Some(503),
                not_the_api: false,
                retries: Some(2),
                retry_after: Some(Duration::from_secs(3)),
                timed_out: false,
                repeatable: false,
                may_have_taken_effect: true,
                url: Some("http://api.test/v1/x"),
            }
        );
        assert!(f.may_have_taken_effect());
        // An unknown route (a 404 the platform does not read as "not found"), or an
        // undocumented body, is not the API's.
        let f: ApiFailure<Op> =
            ApiFailure::from_failure(Op(&DELETE), status(404, &fields), |_, _| FailureKind::Other);
        let c = f.common();
        assert!(c.not_the_api && c.repeatable && !c.may_have_taken_effect);
        let f: ApiFailure<Op> = ApiFailure::new(Op(&DELETE), FailureKind::Cancelled, "");
        assert_eq!(f.common().retries, None, "nothing was sent");
        // An answer to HEAD has no body: its want of one says nothing.
        static HEAD: Route = route(Method::HEAD, Retry::Idempotent);
        let bodiless = status(403, &ErrorFields::default());
        let f: ApiFailure<Op> =
            ApiFailure::from_failure(Op(&HEAD), bodiless.clone(), |_, _| FailureKind::Forbidden);
        assert!(!f.common().not_the_api, "{f:?}");
        let f: ApiFailure<Op> =
            ApiFailure::from_failure(Op(&DELETE), bodiless, |_, _| FailureKind::Forbidden);
        assert!(f.common().not_the_api, "{f:?}");
    }

    #[test]
    fn the_failure_stays_small() {
        assert_eq!(
            std::mem::size_of::<ApiFailure<(), ()>>(),
            std::mem::size_of::<usize>()
        );
    }
}
