//! The provider block every platform has, once: a credential, an API URL, the request
//! limits and the pacing switch, each from the block or the platform's environment
//! variables, resolved into [`Settings`] with errors on their attributes; and
//! [`ProviderData`], what configure leaves for every resource (the configured value in a
//! [`ConfigSlot`], or the settings not known until apply, and the cancellation token that
//! `StopProvider` fires).
//!
//! A provider keeps only its facts ([`ProviderFacts`]: names, environment variables,
//! default URL, the credential's rule and messages), its own extra settings (a default
//! project, a customer) and how its client is built from the settings. The kit knows no
//! platform and no client: the credential type is the provider's (`client::Secret`).

use std::time::Duration;

use serde::Serialize;
use tf_provider::value::ValueString;
use tf_provider::{AttributePath, Diagnostics};
use tokio_util::sync::CancellationToken;

use super::{api_url, credential, env, pacing, request_limits, ValueNum};
use crate::plugin::{unknown_attributes, ConfigSlot};

/// An error's summary and detail.
#[derive(Clone, Copy, Debug)]
pub struct Message {
    /// The diagnostic's summary.
    pub summary: &'static str,
    /// The diagnostic's detail.
    pub detail: &'static str,
}

/// How a platform's credential is given and judged.
#[derive(Clone, Copy, Debug)]
pub struct CredentialFacts {
    /// The block's attribute (`token`, `api_key`).
    pub attribute: &'static str,
    /// The environment variable read when the attribute is null (`COMWIT_TOKEN`).
    pub env: &'static str,
    /// Whether a value (already without surrounding white space) has the credential's form.
    pub is_valid: fn(&str) -> bool,
    /// The error when there is no credential.
    pub missing: Message,
    /// The error when the value is not valid; `None`: an invalid value counts as missing.
    pub invalid: Option<Message>,
}

/// One platform's provider-block facts.
#[derive(Clone, Copy, Debug)]
pub struct ProviderFacts {
    /// The platform's name in messages ("Comwit": "Invalid Comwit API URL").
    pub platform: &'static str,
    /// The credential.
    pub credential: CredentialFacts,
    /// The environment variable of the API URL (`COMWIT_API_URL`).
    pub api_url_env: &'static str,
    /// The API's URL when neither the block nor the environment sets one.
    pub default_api_url: &'static str,
    /// The local emulator's address, named when the URL is wrong.
    pub emulator_url: &'static str,
    /// The environment variable whose `off` stops pacing by the announced rate limit.
    pub pacing_env: &'static str,
    /// `request_timeout_seconds` and `max_retries` when the block leaves them null.
    pub default_limits: (i64, i64),
}

/// The attributes every provider block has, borrowed from the platform's config struct.
#[derive(Clone, Copy, Debug)]
pub struct Block<'c> {
    /// The credential attribute's value.
    pub credential: &'c ValueString<'c>,
    /// `api_url`.
    pub api_url: &'c ValueString<'c>,
    /// `request_timeout_seconds`.
    pub request_timeout_seconds: &'c ValueNum,
    /// `max_retries`.
    pub max_retries: &'c ValueNum,
}

/// The provider block and the environment, resolved. `Cred` is the provider's secret type
/// (its `Debug` never shows the value); `E` the platform's own settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings<Cred, E> {
    /// The credential, without surrounding white space.
    pub credential: Cred,
    /// The API base URL.
    pub api_url: url::Url,
    /// The limit of one request.
    pub timeout: Duration,
    /// Retries of a request (where repeating is safe).
    pub max_retries: u32,
    /// Whether requests are paced by the rate limit the API announces.
    pub pacing: bool,
    /// The platform's own settings.
    pub extra: E,
}

impl<Cred, E> Settings<Cred, E> {
    /// The limit of one operation, its retries included: a hung API holds an operation for
    /// two request timeouts at most, not for every retry's timeout (5 x 30 s).
    pub fn operation_timeout(&self) -> Duration {
        self.timeout.saturating_mul(2)
    }
}

/// Range checks of the request limits only (ValidateProviderConfig): the credential may
/// legitimately come from the environment later.
pub fn validate(diags: &mut Diagnostics, block: Block<'_>) {
    let _ = request_limits(
        diags,
        block.request_timeout_seconds,
        block.max_retries,
        (1, 0),
    );
}

/// The block and the environment into settings, every error on its attribute, in the
/// order credential, `api_url`, the platform's own settings (`extra`, which reports its
/// errors in `diags`), request limits. `Some(None)` while an attribute of `config` is
/// unknown; `None` after an error.
pub fn resolve<Cred: From<String>, E>(
    diags: &mut Diagnostics,
    facts: &ProviderFacts,
    config: &impl Serialize,
    block: Block<'_>,
    extra: impl FnOnce(&mut Diagnostics) -> E,
) -> Option<Option<Settings<Cred, E>>> {
    if !unknown_attributes(config).is_empty() {
        return Some(None);
    }
    let errors_before = diags.errors.len();
    let rule = &facts.credential;
    // Surrounding white space (the newline of `file("token.txt")`) is not part of it.
    let given = block
        .credential
        .as_deref_option()
        .map(credential)
        .or_else(|| env(rule.env).as_deref().map(credential));
    let cred = match given {
        Some(c) if (rule.is_valid)(&c) => Some(c),
        given => {
            let m = match (given, rule.invalid) {
                (Some(_), Some(invalid)) => invalid,
                _ => rule.missing,
            };
            diags.error(m.summary, m.detail, AttributePath::new(rule.attribute));
            None
        }
    };
    let url = api_url(
        diags,
        block.api_url.as_deref_option(),
        facts.api_url_env,
        facts.default_api_url,
        facts.platform,
        facts.emulator_url,
    );
    let extra = extra(diags);
    let (timeout_seconds, max_retries) = request_limits(
        diags,
        block.request_timeout_seconds,
        block.max_retries,
        facts.default_limits,
    );
    if diags.errors.len() > errors_before {
        return None;
    }
    Some(Some(Settings {
        credential: Cred::from(cred?),
        api_url: url?,
        timeout: Duration::from_secs(timeout_seconds),
        max_retries,
        pacing: pacing(facts.pacing_env),
        extra,
    }))
}

/// State shared by a provider and every resource and data source: what configure made
/// (`C`: the API client, with the platform's defaults beside it) and a cancellation token
/// that `StopProvider` fires.
pub struct ProviderData<C> {
    configured: ConfigSlot<C>,
    /// Fired when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

impl<C> Default for ProviderData<C> {
    fn default() -> Self {
        Self {
            configured: ConfigSlot::default(),
            cancel: CancellationToken::new(),
        }
    }
}

impl<C: Clone> ProviderData<C> {
    /// The configured value, or an error diagnostic naming the provider settings that are
    /// not known until apply (or saying the configuration was invalid).
    pub fn configured(&self, diags: &mut Diagnostics) -> Option<C> {
        self.configured.get(diags)
    }

    /// Provider settings not known until apply (empty once configured).
    pub fn unknown_settings(&self) -> Vec<String> {
        self.configured.unknown()
    }

    /// Cancels in-flight work (StopProvider).
    pub fn stop(&self) {
        self.cancel.cancel();
    }

    /// ConfigureProvider for every platform: with an attribute unknown, records which (plans
    /// go on; what needs the API during plan names the setting); else [`resolve`]s the
    /// settings and `connect`s them into `C`, given the User-Agent suffix
    /// (`terraform/1.15.5`) and a child of the stop token. A `connect` failure is an error
    /// on `api_url`.
    #[allow(clippy::too_many_arguments)]
    pub fn configure<Cred: From<String>, E, X: std::fmt::Display>(
        &self,
        diags: &mut Diagnostics,
        facts: &ProviderFacts,
        terraform_version: &str,
        config: &impl Serialize,
        block: Block<'_>,
        extra: impl FnOnce(&mut Diagnostics) -> E,
        connect: impl FnOnce(Settings<Cred, E>, String, CancellationToken) -> Result<C, X>,
    ) -> Option<()> {
        let unknown = unknown_attributes(config);
        if !unknown.is_empty() {
            self.configured.set_unknown(unknown);
            return Some(());
        }
        let Some(settings) = resolve(diags, facts, config, block, extra)? else {
            return Some(()); // unknown until apply: resources report it if they need the API
        };
        let user_agent_suffix = format!("terraform/{terraform_version}");
        match connect(settings, user_agent_suffix, self.cancel.child_token()) {
            Ok(value) => {
                self.configured.set(value);
                Some(())
            }
            Err(e) => {
                diags.error(
                    "Invalid provider configuration",
                    format!("The {} API client cannot be set up: {e}.", facts.platform),
                    AttributePath::new("api_url"),
                );
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::value::Value;

    const FACTS: ProviderFacts = ProviderFacts {
        platform: "Test",
        credential: CredentialFacts {
            attribute: "token",
            env: "PLATFORMS_KIT_TEST_TOKEN_UNSET",
            is_valid: |t| t.starts_with("tt_"),
            missing: Message {
                summary: "Missing token",
                detail: "Set `token`.",
            },
            invalid: Some(Message {
                summary: "Invalid token",
                detail: "Tokens start with `tt_`.",
            }),
        },
        api_url_env: "PLATFORMS_KIT_TEST_URL_UNSET",
        default_api_url: "https://api.example.com",
        emulator_url: "http://127.0.0.1:1",
        pacing_env: "PLATFORMS_KIT_TEST_PACING_UNSET",
        default_limits: (30, 4),
    };

    #[derive(Default, Serialize)]
    struct Config<'a> {
        token: ValueString<'a>,
        api_url: ValueString<'a>,
        request_timeout_seconds: ValueNum,
        max_retries: ValueNum,
    }

    impl Config<'_> {
        fn block(&self) -> Block<'_> {
            Block {
                credential: &self.token,
                api_url: &self.api_url,
                request_timeout_seconds: &self.request_timeout_seconds,
                max_retries: &self.max_retries,
            }
        }
    }

    fn config(token: &str) -> Config<'static> {
        Config {
            token: Value::Value(token.to_owned().into()),
            ..Default::default()
        }
    }

    type S = Settings<String, u8>;

    #[test]
    fn settings_resolve_with_defaults_and_errors_on_their_attributes() {
        let mut d = Diagnostics::default();
        let c = config(" tt_1\n");
        let s: S = resolve(&mut d, &FACTS, &c, c.block(), |_| 7)
            .flatten()
            .expect("settings");
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(s.credential, "tt_1");
        assert_eq!(s.api_url.as_str(), "https://api.example.com/");
        assert_eq!((s.timeout, s.max_retries), (Duration::from_secs(30), 4));
        assert_eq!(s.operation_timeout(), Duration::from_secs(60));
        assert!(s.pacing);
        assert_eq!(s.extra, 7);

        let c = config("xx");
        assert!(resolve::<String, _>(&mut d, &FACTS, &c, c.block(), |_| ()).is_none());
        assert_eq!(d.errors[0].summary, "Invalid token");
        assert_eq!(d.errors[0].attribute, AttributePath::new("token"));

        let mut d = Diagnostics::default();
        let c = Config::default();
        assert!(resolve::<String, _>(&mut d, &FACTS, &c, c.block(), |_| ()).is_none());
        assert_eq!(d.errors[0].summary, "Missing token");

        // An extra setting's error fails resolve too.
        let mut d = Diagnostics::default();
        let c = config("tt_1");
        let r = resolve::<String, _>(&mut d, &FACTS, &c, c.block(), |d| {
            d.root_error("extra", "bad")
        });
        assert!(r.is_none());
    }

    #[test]
    fn an_unknown_attribute_is_not_an_error_until_apply() {
        let mut d = Diagnostics::default();
        let c = Config {
            api_url: Value::Unknown,
            ..config("xx")
        };
        let r = resolve::<String, _>(&mut d, &FACTS, &c, c.block(), |_| ());
        assert_eq!(r, Some(None));
        assert!(d.errors.is_empty());

        let data = ProviderData::<u32>::default();
        let out = data.configure(
            &mut d,
            &FACTS,
            "1.15.5",
            &c,
            c.block(),
            |_| (),
            |_: S2, _, _| Ok::<_, String>(1),
        );
        assert_eq!(out, Some(()));
        assert_eq!(data.unknown_settings(), ["api_url"]);
        assert_eq!(data.configured(&mut d), None);
    }

    type S2 = Settings<String, ()>;

    #[test]
    fn configure_connects_or_blames_api_url() {
        let mut d = Diagnostics::default();
        let data = ProviderData::<String>::default();
        let c = config("tt_1");
        let out = data.configure(
            &mut d,
            &FACTS,
            "1.15.5",
            &c,
            c.block(),
            |_| (),
            |s: S2, ua, cancel| {
                assert!(!cancel.is_cancelled());
                Ok::<_, String>(format!("{} {ua}", s.api_url))
            },
        );
        assert_eq!(out, Some(()));
        assert_eq!(
            data.configured(&mut d).as_deref(),
            Some("https://api.example.com/ terraform/1.15.5")
        );
        let child_of_stop = data.cancel.child_token();
        data.stop();
        assert!(child_of_stop.is_cancelled());

        let failing = ProviderData::<String>::default();
        let out = failing.configure(
            &mut d,
            &FACTS,
            "1.15.5",
            &c,
            c.block(),
            |_| (),
            |_: S2, _, _| Err("no TLS"),
        );
        assert_eq!(out, None);
        assert_eq!(d.errors[0].attribute, AttributePath::new("api_url"));
        assert!(d.errors[0]
            .detail
            .starts_with("The Test API client cannot be set up: no TLS."));
    }
}
