//! The words of a failed API call that the client core and the provider side share:
//! [`FailureKind`], what kind of failure a platform's call ended in, in one vocabulary for
//! every platform (each platform's client reads its answers into it, `kind_of`), and
//! [`Common`], the facts of a failure every remedy may name. Pure data: the client fills
//! them in (`client::ApiFailure`'s [`CommonFacts`]), the plugin kit turns them into the generic
//! remedies (`plugin::kit::failure`), and neither imports the other.

use std::time::Duration;

/// The common kinds of a failed call. A platform's finer distinctions (Comwit's
/// `not_a_member`, WaysCloud's `quota_exceeded`, CloudSync's tenant-database codes) are in
/// its error code, not here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The platform says, in its documented error body, that the object does not exist.
    /// Never a bare 404 from something else (that is [`FailureKind::Other`]).
    NotFound,
    /// 409: a name taken, or a state the change does not apply to.
    Conflict,
    /// 429, still answered after the retries.
    RateLimited,
    /// 5xx, still answered after the retries (or not safe to repeat).
    Server,
    /// No answer: refused, dropped, TLS, a per-attempt timeout.
    Transport,
    /// The whole operation's deadline passed.
    Deadline,
    /// An answer the client cannot read: not the documented JSON, or too large.
    Decode,
    /// 401: the credential is missing, malformed or unknown.
    Unauthorized,
    /// 403: the credential is known but may not do this.
    Forbidden,
    /// 422, or an argument refused before anything was sent.
    Validation,
    /// Terraform asked the provider to stop.
    Cancelled,
    /// Anything else: another status, or an answer not in the platform's shape.
    Other,
}

impl FailureKind {
    /// The object does not exist (the platform's documented "not found").
    pub fn is_not_found(self) -> bool {
        self == FailureKind::NotFound
    }

    /// The platform answered 409.
    pub fn is_conflict(self) -> bool {
        self == FailureKind::Conflict
    }

    /// The platform kept answering 429.
    pub fn is_rate_limited(self) -> bool {
        self == FailureKind::RateLimited
    }

    /// The platform answered 5xx.
    pub fn is_server(self) -> bool {
        self == FailureKind::Server
    }

    /// No answer came: a transport failure or the operation's deadline.
    pub fn is_unanswered(self) -> bool {
        matches!(self, FailureKind::Transport | FailureKind::Deadline)
    }

    /// The credential was refused (401) or may not do this (403).
    pub fn is_refused(self) -> bool {
        matches!(self, FailureKind::Unauthorized | FailureKind::Forbidden)
    }
}

/// The facts of a failed call that the generic remedies read, the same on every platform
/// (filled in by the client core from its failure, `client::ApiFailure`'s [`CommonFacts`]). Every
/// text has been through the client's redactor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Common<'a> {
    /// The common kind.
    pub kind: FailureKind,
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// The answer is not the platform API's: no documented error body (a proxy, another
    /// service at a wrong `api_url`), an unknown route (a 404 that does not say "not
    /// found"), or an answer far larger than any of the API's.
    pub not_the_api: bool,
    /// The retries made after the first attempt, when a request was sent.
    pub retries: Option<u32>,
    /// The wait the API last asked for (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// An attempt ran out of time (a transport failure).
    pub timed_out: bool,
    /// The route may be repeated after a failure that may have done its work (its
    /// `Retry` class): when not, the request was sent once.
    pub repeatable: bool,
    /// The request may have taken effect though no answer said so (the client core's one
    /// rule, `client::may_have_taken_effect`).
    pub may_have_taken_effect: bool,
    /// The URL asked (no query, no credentials), when a request was sent.
    pub url: Option<&'a str>,
}

/// A failure that can give its [`Common`] facts: every platform's, through the client
/// core (`client::ApiFailure`), so the provider side reads them without naming a client.
pub trait CommonFacts {
    /// The facts every generic remedy reads.
    fn common(&self) -> Common<'_>;
}

impl<F: CommonFacts + ?Sized> CommonFacts for &F {
    fn common(&self) -> Common<'_> {
        (**self).common()
    }
}

#[cfg(test)]
mod tests {
    use super::FailureKind::*;

    #[test]
    fn each_predicate_answers_for_its_kinds_only() {
        let all = [
            NotFound,
            Conflict,
            RateLimited,
            Server,
            Transport,
            Deadline,
            Decode,
            Unauthorized,
            Forbidden,
            Validation,
            Cancelled,
            Other,
        ];
        let which = |p: fn(super::FailureKind) -> bool| {
            all.iter().copied().filter(|k| p(*k)).collect::<Vec<_>>()
        };
        assert_eq!(which(super::FailureKind::is_not_found), [NotFound]);
        assert_eq!(which(super::FailureKind::is_conflict), [Conflict]);
        assert_eq!(which(super::FailureKind::is_rate_limited), [RateLimited]);
        assert_eq!(which(super::FailureKind::is_server), [Server]);
        assert_eq!(
            which(super::FailureKind::is_unanswered),
            [Transport, Deadline]
        );
        assert_eq!(
            which(super::FailureKind::is_refused),
            [Unauthorized, Forbidden]
        );
    }
}
