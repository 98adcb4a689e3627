//! The remedies of the failures every platform meets, written once over the platform's
//! facts ([`ProviderFacts`]: its name, credential setting and variable, `api_url` variable,
//! default and emulator URLs): rate limited after the retries, a server error, no answer,
//! the operation's deadline, an answer that is not the documented JSON, an answer that is
//! not the platform's at all, a refused or insufficient credential, a stop.
//!
//! A platform's `remedy` keeps only its own codes (Comwit's `not_a_member`, WaysCloud's
//! `quota_exceeded`, CloudSync's tenant codes) and gives every generic kind to
//! [`remedy`], adding a sentence of its own where it has one (where to get a token, what a
//! request that was not repeated means for that operation). The plugin side never imports
//! a client, so the platform says which [`Generic`] failure it met.

use std::time::Duration;

use super::advice;
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
    Transport { timed_out: bool },
    /// The operation's deadline passed (all attempts and waits together).
    Deadline,
    /// An answer of the API that is not the JSON it documents.
    Decode,
    /// An answer that is not the platform API's (no documented error body, an unknown
    /// route, far too large): `api_url` points elsewhere. `status`, when one was answered.
    NotTheApi { status: Option<u16> },
    /// 401: the credential was refused.
    Unauthorized,
    /// 403: the credential may not do this; `lacks`: what it lacks ("scope
    /// `database:write`", "the `workspace-admin` role"), when the platform says.
    Forbidden { lacks: Option<&'a str> },
    /// Terraform asked the provider to stop.
    Cancelled,
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
        Generic::Transport { timed_out: false } => format!(
            "The {platform} API could not be reached: check {api_url}, and your network or \
             proxy. The provider's `request_timeout_seconds` (per attempt) and `max_retries` \
             settings bound how long it waits."
        ),
        Generic::Transport { timed_out: true } | Generic::Deadline => format!(
            "The {platform} API did not answer in time: check {api_url}, and your network or \
             proxy, or raise `request_timeout_seconds` in the provider block (it bounds each \
             attempt, and one operation waits at most twice that, its retries included)."
        ),
        Generic::Decode => format!(
            "The answer is not the JSON the {platform} API documents: check that {api_url} \
             points at the {platform} API; if it does, the API's answer changed and the \
             provider needs an update."
        ),
        Generic::NotTheApi { status } => {
            let answer = status.map(|s| format!(" ({s})")).unwrap_or_default();
            let unjudged = match status {
                Some(401 | 403) => format!(" Its refusal says nothing about the {noun}."),
                _ => String::new(),
            };
            format!(
                "The answer{answer} is not from the {platform} API: check {api_url}; it must \
                 be the API's base URL, or the local emulator's address such as {}, with no \
                 extra path. Nothing was changed in Terraform's state.{unjudged}",
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
mod tests {
    use super::*;
    use crate::plugin::kit::settings::{CredentialFacts, Message};

    const MISSING: Message = Message {
        summary: "Missing",
        detail: "Set it.",
    };

    /// A platform's facts: `attribute` is its credential setting.
    fn facts(attribute: &'static str) -> ProviderFacts {
        ProviderFacts {
            platform: "Acme",
            credential: CredentialFacts {
                attribute,
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
            Generic::Transport { timed_out: false },
            Generic::Transport { timed_out: true },
            Generic::Deadline,
        ] {
            let t = text(no_answer);
            for fact in [
                "`api_url`",
                "ACME_API_URL",
                "https://api.acme.test",
                "`request_timeout_seconds`",
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
        let t = remedy(&f, Generic::NotTheApi { status: Some(401) });
        assert!(
            t.starts_with("The answer (401) is not from the Acme API"),
            "{t}"
        );
        assert!(t.contains("http://127.0.0.1:8799"), "{t}");
        assert!(t.contains("says nothing about the token"), "{t}");
        assert!(!t.contains("was refused"), "{t}");
        let t = remedy(&f, Generic::NotTheApi { status: None });
        assert!(t.starts_with("The answer is not from the Acme API"), "{t}");
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
}
