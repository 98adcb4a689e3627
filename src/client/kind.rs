//! [`FailureKind`]: what kind of failure a platform's API call ended in, in one vocabulary
//! for every platform. Each platform's failure type keeps its own facts (ids, the answer,
//! the retry tally) and says its kind (`fn kind(&self) -> FailureKind`) and the platform's
//! own error code (`fn code(&self) -> Option<&str>`), so a question such as "is the object
//! gone?" is written once, here, and asked the same way of every platform.

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
