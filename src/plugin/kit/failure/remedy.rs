//! The remedies of the failures every platform meets, written once over the platform's
//! facts ([`ProviderFacts`]: its name, credential setting and variable, `api_url` variable,
//! default and emulator URLs): rate limited after the retries, a server error, no answer,
//! the operation's deadline, an answer that is not the documented JSON, an answer that is
//! not the platform's at all, a refused or insufficient credential, a stop.
//!
//! [`of`] chooses the remedy of any platform's failure, once: the platform's own when it
//! has one (its codes, Comwit's `not_a_member`, WaysCloud's `quota_exceeded`, CloudSync's
//! tenant codes, and the kinds only it can advise on), else the [`Generic`] failure its
//! common facts say it is, written by [`remedy`], with a sentence of the platform's own
//! after it where it has one (where to get a token, what a request that was not repeated
//! means for that operation). Every failure that may come from a wrong `api_url` (no
//! answer, the deadline, an answer that is not the API's) names the URL the provider
//! asked, the same way on every platform.

use std::time::Duration;

use super::{advice, ClientFailure, FailureKind};
use crate::plugin::kit::settings::ProviderFacts;

/// A failure every platform can meet, with the facts its remedy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generic<'a> {
    /// 429, still answered after the retries. `retries`: how many, when the client says;
    /// `retry_after`: the wait the API last asked for.
    RateLimited {
        retries: Option<u32>,
        retry_after: Option<Duration>,
    },
    /// 5xx, after `retries` retries when the client says. `repeatable: false`: the request
    /// was not safe to repeat (the platform then says what that means for the operation).
    Server {
        repeatable: bool,
        retries: Option<u32>,
    },
    /// No answer: refused, dropped, TLS; `timed_out` when an attempt ran out of time.
    /// `url`: the URL asked.
    Transport {
        timed_out: bool,
        url: Option<&'a str>,
    },
    /// The operation's deadline passed (all attempts and waits together). `url`: the URL
    /// asked.
    Deadline { url: Option<&'a str> },
    /// An answer of the API that is not the JSON it documents.
    Decode,
    /// An answer that is not the platform API's (no documented error body, an unknown
    /// route, far too large): `api_url` points elsewhere. `status`, when one was answered;
    /// `url`: the URL asked.
    NotTheApi {
        status: Option<u16>,
        url: Option<&'a str>,
    },
    /// 401: the credential was refused.
    Unauthorized,
    /// 403: the credential may not do this; `lacks`: what it lacks ("scope
    /// `database:write`", "the `workspace-admin` role"), when the platform says.
    Forbidden { lacks: Option<&'a str> },
    /// Terraform asked the provider to stop.
    Cancelled,
}

/// What the user can do about `failure`: the platform's own remedy when it has one, else
/// the generic one of its kind (an answer that is not the API's before anything else but
/// 429 and 5xx), with the platform's sentence after it; empty when neither has anything
/// to add (a kind only the platform advises on).
pub fn of<F: ClientFailure + ?Sized>(failure: &F) -> String {
    if let Some(own) = failure.own_remedy() {
        return own;
    }
    let common = failure.common();
    let lacks = failure.lacks();
    let url = common.url;
    let generic = match common.kind {
        FailureKind::RateLimited => Generic::RateLimited {
            retries: common.retries,
            retry_after: common.retry_after,
        },
        FailureKind::Server => Generic::Server {
            repeatable: common.repeatable,
            retries: common.retries,
        },
        _ if common.not_the_api => Generic::NotTheApi {
            status: common.status,
            url,
        },
        FailureKind::Transport => Generic::Transport {
            timed_out: common.timed_out,
            url,
        },
        FailureKind::Deadline => Generic::Deadline { url },
        FailureKind::Decode => Generic::Decode,
        FailureKind::Unauthorized => Generic::Unauthorized,
        FailureKind::Forbidden => Generic::Forbidden {
            lacks: lacks.as_deref(),
        },
        FailureKind::Cancelled => Generic::Cancelled,
        FailureKind::NotFound
        | FailureKind::Conflict
        | FailureKind::Validation
        | FailureKind::Other => return String::new(),
    };
    let text = remedy(F::FACTS, generic);
    match failure.and_then(generic) {
        Some(more) => format!("{text} {more}"),
        None => text,
    }
}

/// " (the provider asked <url>)", or nothing without a URL.
fn asked(url: Option<&str>) -> String {
    url.map(|u| format!(" (the provider asked {u})"))
        .unwrap_or_default()
}

/// What the user can do about a generic failure on the platform of `facts`.
pub fn remedy(facts: &ProviderFacts, failure: Generic<'_>) -> String {
    let platform = facts.platform;
    let credential = &facts.credential;
    let noun = credential_noun(credential.attribute);
    let api_url = format!(
        "the provider's `api_url` argument or the {} environment variable (default {})",
        facts.api_url_env, facts.default_api_url
    );
    let set_credential = format!(
        "set `{}` in the provider block or the {} environment variable",
        credential.attribute, credential.env
    );
    match failure {
        Generic::RateLimited {
            retries,
            retry_after,
        } => {
            let asked = retry_after
                .map(|d| format!(" (it last asked to wait {}s)", d.as_secs()))
                .unwrap_or_default();
            let retried = match retries {
                Some(n) => format!("; the provider retried {n} time{}", plural(n)),
                None => "; the provider's retries did not outlast it".to_owned(),
            };
            format!(
                "The {platform} API is rate limiting requests{asked}{retried}. {} Raising \
                 `max_retries` in the provider block lets the provider wait longer.",
                advice::LOWER_PARALLELISM
            )
        }
        Generic::Server {
            repeatable: false, ..
        } => format!("This is a problem on the {platform} side; nothing is assumed done."),
        Generic::Server { retries, .. } => {
            let retried = match retries {
                Some(n) => format!("the provider retried {n} time{}", plural(n)),
                None => "after the provider's retries".to_owned(),
            };
            format!(
                "This is a problem on the {platform} side ({retried}); nothing is assumed \
                 done. Try again later (`terraform plan` shows what exists), or raise \
                 `max_retries` in the provider block to keep trying longer."
            )
        }
        Generic::Transport {
            timed_out: false,
            url,
        } => format!(
            "The {platform} API could not be reached{}: check {api_url}, and your network or \
             proxy. The provider's `request_timeout_seconds` (per attempt) and `max_retries` \
             settings bound how long it waits.",
            asked(url)
        ),
        Generic::Transport {
            timed_out: true,
            url,
        }
        | Generic::Deadline { url } => format!(
            "The {platform} API did not answer in time{}: check {api_url}, and your network \
             or proxy, or raise `request_timeout_seconds` in the provider block (it bounds \
             each attempt, and one operation waits at most twice that, its retries \
             included).",
            asked(url)
        ),
        Generic::Decode => format!(
            "The answer is not the JSON the {platform} API documents: check that {api_url} \
             points at the {platform} API; if it does, the API's answer changed and the \
             provider needs an update."
        ),
        Generic::NotTheApi { status, url } => {
            let answer = status.map(|s| format!(" ({s})")).unwrap_or_default();
            let unjudged = match status {
                Some(401 | 403) => format!(" Its refusal says nothing about the {noun}."),
                _ => String::new(),
            };
            format!(
                "The answer{answer} is not from the {platform} API{}: check {api_url}; it \
                 must be the API's base URL, or the local emulator's address such as {}, with \
                 no extra path. Nothing was changed in Terraform's state.{unjudged}",
                asked(url),
                facts.emulator_url
            )
        }
        Generic::Unauthorized => {
            format!("The {noun} was refused: {set_credential} to a valid {noun}.")
        }
        Generic::Forbidden { lacks } => {
            let what = lacks.map_or_else(|| "the right to do this".to_owned(), str::to_owned);
            format!(
                "Use {} {noun} that has {what} ({set_credential}), or ask your {platform} \
                 administrator to grant it.",
                article(&noun)
            )
        }
        Generic::Cancelled => format!(
            "{} If the request had already been sent it may have taken effect; refresh \
             before trying again.",
            advice::STOPPED
        ),
    }
}

/// The credential as messages name it, from its attribute: `token` is a "token", `api_key`
/// an "API key".
fn credential_noun(attribute: &str) -> String {
    attribute
        .split('_')
        .map(|word| match word {
            "api" => "API",
            word => word,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// "a" or "an" before `noun`.
fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::contract::failure::{Common, CommonFacts};
    use crate::plugin::kit::settings::{CredentialFacts, Message};

    const MISSING: Message = Message {
        summary: "Missing",
        detail: "Set it.",
    };

    /// A platform's facts: `attribute` is its credential setting.
    fn facts(attribute: &'static str) -> ProviderFacts {
        ProviderFacts {
            credential: CredentialFacts {
                attribute,
                ..ACME.credential
            },
            ..ACME
        }
    }

    #[test]
    fn every_remedy_names_the_platforms_settings() {
        let f = facts("api_key");
        let text = |g| remedy(&f, g);
        assert_eq!(
            text(Generic::RateLimited {
                retries: Some(1),
                retry_after: Some(Duration::from_secs(2)),
            }),
            "The Acme API is rate limiting requests (it last asked to wait 2s); the provider \
             retried 1 time. Wait a minute and try again, or run Terraform with a lower \
             `-parallelism`. Raising `max_retries` in the provider block lets the provider \
             wait longer."
        );
        assert_eq!(
            text(Generic::Server {
                repeatable: true,
                retries: Some(3)
            }),
            "This is a problem on the Acme side (the provider retried 3 times); nothing is \
             assumed done. Try again later (`terraform plan` shows what exists), or raise \
             `max_retries` in the provider block to keep trying longer."
        );
        let once = text(Generic::Server {
            repeatable: false,
            retries: Some(0),
        });
        assert!(
            !once.contains("max_retries") && !once.contains("retried"),
            "{once}"
        );
        assert!(text(Generic::RateLimited {
            retries: None,
            retry_after: None
        })
        .contains("the provider's retries did not outlast it"));
        for no_answer in [
            Generic::Transport {
                timed_out: false,
                url: Some("http://wrong.test/v1/x"),
            },
            Generic::Transport {
                timed_out: true,
                url: Some("http://wrong.test/v1/x"),
            },
            Generic::Deadline {
                url: Some("http://wrong.test/v1/x"),
            },
        ] {
            let t = text(no_answer);
            for fact in [
                "`api_url`",
                "ACME_API_URL",
                "https://api.acme.test",
                "`request_timeout_seconds`",
                "(the provider asked http://wrong.test/v1/x)",
            ] {
                assert!(t.contains(fact), "{fact}: {t}");
            }
        }
        let t = text(Generic::Decode);
        assert!(
            t.contains("ACME_API_URL") && t.contains("needs an update"),
            "{t}"
        );
        assert_eq!(
            text(Generic::Unauthorized),
            "The API key was refused: set `api_key` in the provider block or the ACME_SECRET \
             environment variable to a valid API key."
        );
        assert_eq!(
            text(Generic::Forbidden {
                lacks: Some("the `admin` role")
            }),
            "Use an API key that has the `admin` role (set `api_key` in the provider block or \
             the ACME_SECRET environment variable), or ask your Acme administrator to grant \
             it."
        );
        assert!(text(Generic::Cancelled).starts_with(advice::STOPPED));
    }

    #[test]
    fn an_answer_from_elsewhere_blames_api_url_never_the_credential() {
        let f = facts("token");
        let t = remedy(
            &f,
            Generic::NotTheApi {
                status: Some(401),
                url: Some("http://wrong.test/v1/x"),
            },
        );
        assert!(
            t.starts_with(
                "The answer (401) is not from the Acme API (the provider asked \
                 http://wrong.test/v1/x): check"
            ),
            "{t}"
        );
        assert!(t.contains("http://127.0.0.1:8799"), "{t}");
        assert!(t.contains("says nothing about the token"), "{t}");
        assert!(!t.contains("was refused"), "{t}");
        let t = remedy(
            &f,
            Generic::NotTheApi {
                status: None,
                url: None,
            },
        );
        assert!(
            t.starts_with("The answer is not from the Acme API: check"),
            "{t}"
        );
        assert!(!t.contains("says nothing"), "{t}");
    }

    #[test]
    fn a_token_is_a_token_and_an_api_key_an_api_key() {
        assert_eq!(credential_noun("token"), "token");
        assert_eq!(credential_noun("api_key"), "API key");
        assert_eq!(
            remedy(&facts("token"), Generic::Forbidden { lacks: None }),
            "Use a token that has the right to do this (set `token` in the provider block or \
             the ACME_SECRET environment variable), or ask your Acme administrator to grant \
             it."
        );
    }

    /// A failure of a platform whose own remedies are "Own." for conflicts and which adds
    /// "Get a key on the dashboard." after a 401's remedy.
    struct Failed(Common<'static>);

    /// The facts of the kit's tests' platform.
    pub(in crate::plugin::kit::failure) static ACME: ProviderFacts = ProviderFacts {
        platform: "Acme",
        credential: CredentialFacts {
            attribute: "api_key",
            env: "ACME_SECRET",
            is_valid: |_| true,
            missing: MISSING,
            invalid: None,
        },
        api_url_env: "ACME_API_URL",
        default_api_url: "https://api.acme.test",
        emulator_url: "http://127.0.0.1:8799",
        pacing_env: "ACME_RATE_PACING",
        default_limits: (30, 3),
    };

    impl CommonFacts for Failed {
        fn common(&self) -> Common<'_> {
            self.0
        }
    }

    impl ClientFailure for Failed {
        const FACTS: &'static ProviderFacts = &ACME;
        fn summary(&self) -> String {
            "Error".into()
        }
        fn attempt(&self) -> String {
            "do it".into()
        }
        fn own_remedy(&self) -> Option<String> {
            (self.0.kind == FailureKind::Conflict).then(|| "Own.".to_owned())
        }
        fn lacks(&self) -> Option<String> {
            Some("the `admin` role".into())
        }
        fn and_then(&self, generic: Generic<'_>) -> Option<&'static str> {
            (generic == Generic::Unauthorized).then_some("Get a key on the dashboard.")
        }
    }

    fn common(kind: FailureKind, status: Option<u16>) -> Common<'static> {
        Common {
            kind,
            status,
            not_the_api: false,
            retries: Some(2),
            retry_after: Some(Duration::from_secs(5)),
            timed_out: false,
            repeatable: true,
            may_have_taken_effect: false,
            url: Some("http://wrong.test/v1/x"),
        }
    }

    #[test]
    fn the_remedy_of_a_failure_is_the_platforms_own_or_its_kinds() {
        let of = |c: Common<'static>| of(&Failed(c));
        assert_eq!(of(common(FailureKind::Conflict, Some(409))), "Own.");
        for kind in [
            FailureKind::NotFound,
            FailureKind::Validation,
            FailureKind::Other,
        ] {
            assert_eq!(of(common(kind, Some(400))), "", "{kind:?}");
        }
        let f = &ACME;
        let url = Some("http://wrong.test/v1/x");
        let cases = [
            (
                common(FailureKind::RateLimited, Some(429)),
                remedy(
                    f,
                    Generic::RateLimited {
                        retries: Some(2),
                        retry_after: Some(Duration::from_secs(5)),
                    },
                ),
            ),
            (
                Common {
                    repeatable: false,
                    ..common(FailureKind::Server, Some(503))
                },
                remedy(
                    f,
                    Generic::Server {
                        repeatable: false,
                        retries: Some(2),
                    },
                ),
            ),
            (
                Common {
                    timed_out: true,
                    ..common(FailureKind::Transport, None)
                },
                remedy(
                    f,
                    Generic::Transport {
                        timed_out: true,
                        url,
                    },
                ),
            ),
            (
                common(FailureKind::Deadline, None),
                remedy(f, Generic::Deadline { url }),
            ),
            (
                common(FailureKind::Decode, None),
                remedy(f, Generic::Decode),
            ),
            (
                common(FailureKind::Unauthorized, Some(401)),
                format!(
                    "{} Get a key on the dashboard.",
                    remedy(f, Generic::Unauthorized)
                ),
            ),
            (
                common(FailureKind::Forbidden, Some(403)),
                remedy(
                    f,
                    Generic::Forbidden {
                        lacks: Some("the `admin` role"),
                    },
                ),
            ),
            (
                common(FailureKind::Cancelled, None),
                remedy(f, Generic::Cancelled),
            ),
            // An answer that is not the API's blames `api_url` whatever its status says,
            // but for 429 and 5xx (a proxy's own answers to those are still the API's
            // load).
            (
                Common {
                    not_the_api: true,
                    ..common(FailureKind::Unauthorized, Some(401))
                },
                remedy(
                    f,
                    Generic::NotTheApi {
                        status: Some(401),
                        url,
                    },
                ),
            ),
            (
                Common {
                    not_the_api: true,
                    ..common(FailureKind::Other, Some(404))
                },
                remedy(
                    f,
                    Generic::NotTheApi {
                        status: Some(404),
                        url,
                    },
                ),
            ),
            (
                Common {
                    not_the_api: true,
                    ..common(FailureKind::RateLimited, Some(429))
                },
                remedy(
                    f,
                    Generic::RateLimited {
                        retries: Some(2),
                        retry_after: Some(Duration::from_secs(5)),
                    },
                ),
            ),
        ];
        for (c, want) in cases {
            assert_eq!(of(c), want, "{c:?}");
        }
        assert!(
            of(Common {
                not_the_api: true,
                ..common(FailureKind::Other, Some(404))
            })
            .contains("(the provider asked http://wrong.test/v1/x)"),
            "the URL asked is named"
        );
    }
}
