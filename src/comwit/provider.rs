//! The `comwit` provider block: API token, API URL, default project, timeouts and retries.
//! Configure builds one API client that every resource and data source shares.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::client::{Client, ClientConfig, Secret};
use crate::plugin::kit::settings::{self, CredentialFacts, Message, ProviderFacts};
use crate::plugin::kit::{attribute, env, ValueNum};
use crate::plugin::{Provider, Registry};

pub use super::client::DEFAULT_API_URL;
/// Default per-request timeout (the client core's).
pub const DEFAULT_TIMEOUT_SECONDS: i64 = crate::client::DEFAULT_TIMEOUT.as_secs() as i64;
/// Default number of retries for rate-limited or unavailable answers (the client core's).
pub const DEFAULT_MAX_RETRIES: i64 = crate::client::DEFAULT_MAX_RETRIES as i64;

/// The `provider "comwit"` block.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ComwitConfig<'a> {
    /// API token (`cwt_...`).
    #[serde(borrow, default)]
    pub token: ValueString<'a>,
    /// Product API base URL.
    #[serde(borrow, default)]
    pub api_url: ValueString<'a>,
    /// Default project for resources that do not set one.
    #[serde(borrow, default)]
    pub project_id: ValueString<'a>,
    /// Per-request timeout in seconds.
    #[serde(default)]
    pub request_timeout_seconds: ValueNum,
    /// Retries on 429 and 5xx (where repeating is safe).
    #[serde(default)]
    pub max_retries: ValueNum,
}

impl ComwitConfig<'_> {
    /// The attributes every provider block has.
    fn block(&self) -> settings::Block<'_> {
        settings::Block {
            credential: &self.token,
            api_url: &self.api_url,
            request_timeout_seconds: &self.request_timeout_seconds,
            max_retries: &self.max_retries,
        }
    }

    /// The default project: the block's, else `COMWIT_PROJECT_ID`.
    fn project_id(&self) -> Option<String> {
        self.project_id
            .as_deref_option()
            .map(str::to_owned)
            .or_else(|| env("COMWIT_PROJECT_ID"))
    }
}

/// Env: `off` stops the provider from pacing its requests by the API's announced rate
/// limit (for comparisons; 429s are still retried).
pub const ENV_RATE_PACING: &str = "COMWIT_RATE_PACING";

/// Comwit's provider-block facts.
pub const FACTS: ProviderFacts = ProviderFacts {
    platform: "Comwit",
    credential: CredentialFacts {
        attribute: "token",
        env: "COMWIT_TOKEN",
        is_valid: |t| t.starts_with("cwt_") && t.len() > 4,
        missing: Message {
            summary: "Missing Comwit API token",
            detail: "Set `token` in the provider block or the COMWIT_TOKEN environment variable \
                     to a `cwt_` user token with the scopes your configuration needs.",
        },
        invalid: Some(Message {
            summary: "Invalid Comwit API token",
            detail: "The token is not a Comwit user token: user tokens start with `cwt_`. \
                     Create one with `comwit login` or in the console (Settings → Tokens).",
        }),
    },
    api_url_env: "COMWIT_API_URL",
    default_api_url: DEFAULT_API_URL,
    emulator_url: "http://127.0.0.1:8787",
    pacing_env: ENV_RATE_PACING,
    default_limits: (DEFAULT_TIMEOUT_SECONDS, DEFAULT_MAX_RETRIES),
};

/// Settings resolved from the block and the environment; `extra` is the default project.
pub type Settings = settings::Settings<Secret, Option<String>>;

/// What configure produced: the client every resource shares, and the default project.
#[derive(Clone, Debug)]
pub struct Configured {
    /// The API client (one connection pool for the whole run).
    pub client: Client,
    /// The provider's default project.
    pub project_id: Option<String>,
}

/// State shared by the provider and every resource: the configured client and a
/// cancellation token that `StopProvider` fires.
pub type ProviderData = settings::ProviderData<Configured>;

/// The `comwit` provider.
#[derive(Default, Clone)]
pub struct ComwitProvider {
    /// Shared with every resource and data source.
    pub data: Arc<ProviderData>,
}

/// Resolve the block and the environment into settings, with attribute-scoped errors.
/// Returns `Some(None)` when a needed value is still unknown.
pub fn resolve(diags: &mut Diagnostics, config: &ComwitConfig<'_>) -> Option<Option<Settings>> {
    settings::resolve(diags, &FACTS, config, config.block(), |_| {
        config.project_id()
    })
}

#[async_trait]
impl Provider for ComwitProvider {
    type Config<'a> = ComwitConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::Optional;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The Comwit provider manages Comwit Cloud projects' libSQL databases through \
                     the Comwit product API. Every setting can also come from the environment.",
                ),
                attributes: map! {
                    "token" => Attribute {
                        sensitive: true,
                        ..attribute(AttributeType::String, Optional,
                            "Comwit user API token (`cwt_...`), sent as a bearer token. Its scopes decide \
                             what the provider may do (`project:read`, `database:read`, `database:write`). \
                             Defaults to the `COMWIT_TOKEN` environment variable.")
                    },
                    "api_url" => attribute(AttributeType::String, Optional,
                        "Base URL of the Comwit product API. Defaults to the `COMWIT_API_URL` \
                         environment variable, then `https://api.cloud.comwit.io`. Point it at the \
                         local emulator (for example `http://127.0.0.1:8787`) to try a configuration."),
                    "project_id" => attribute(AttributeType::String, Optional,
                        "Default project (`prj_...`) for resources and data sources that do not set \
                         `project_id`. Defaults to the `COMWIT_PROJECT_ID` environment variable."),
                    "request_timeout_seconds" => attribute(AttributeType::Number, Optional,
                        "Timeout of one API request, in seconds (1 to 600). Default 30. One operation, \
                         its retries included, waits at most twice this long (a create, the repeats \
                         that settle a lost answer and the lookup after them are one operation)."),
                    "max_retries" => attribute(AttributeType::Number, Optional,
                        "How many times a request is retried after a 429 (honouring `Retry-After`) \
                         or a 5xx answer, with capped, jittered backoff (0 to 10). Default 4. \
                         Creates are retried only with an idempotency key, never into a duplicate."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: ComwitConfig<'a>) -> Option<()> {
        settings::validate(diags, config.block());
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: ComwitConfig<'a>,
    ) -> Option<()> {
        self.data.configure(
            diags,
            &FACTS,
            &terraform_version,
            &config,
            config.block(),
            |_| config.project_id(),
            |settings: Settings, user_agent_suffix, cancel| {
                let client_config = ClientConfig {
                    operation_timeout: Some(settings.operation_timeout()),
                    base_url: settings.api_url,
                    token: settings.credential,
                    timeout: settings.timeout,
                    max_retries: settings.max_retries,
                    user_agent_suffix: Some(user_agent_suffix),
                    pacing: settings.pacing,
                };
                Client::with_cancel_token(client_config, cancel).map(|client| Configured {
                    client,
                    project_id: settings.extra,
                })
            },
        )
    }

    fn register(&self, registry: &mut Registry) {
        super::resources::register(registry, &self.data);
        super::data_sources::register(registry, &self.data);
        super::functions::register(registry);
        super::ephemeral::register(registry, &self.data);
        super::lists::register(registry, &self.data);
        super::actions::register(registry, &self.data);
    }

    fn stop(&self) {
        self.data.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::value::Value;
    use tf_provider::AttributePath;

    fn config(token: &str) -> ComwitConfig<'static> {
        ComwitConfig {
            token: Value::Value(token.to_owned().into()),
            api_url: Value::Value("http://127.0.0.1:8787".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_token_read_from_a_file_keeps_working() {
        let mut diags = Diagnostics::default();
        let settings = resolve(&mut diags, &config("cwt_0011223344556677\n"))
            .flatten()
            .expect("settings");
        assert!(diags.errors.is_empty(), "{:?}", diags.errors);
        assert_eq!(settings.credential.expose(), "cwt_0011223344556677");
        // The settings are a Secret's holder: their Debug never shows the token.
        assert!(!format!("{settings:?}").contains("cwt_"), "{settings:?}");
        let mut diags = Diagnostics::default();
        assert!(resolve(&mut diags, &config("  \tcwt_00112233\r\n")).is_some());
        assert!(diags.errors.is_empty());
    }

    #[test]
    fn a_token_that_is_not_one_points_at_token() {
        let mut diags = Diagnostics::default();
        assert!(resolve(&mut diags, &config("abc")).is_none());
        assert_eq!(diags.errors[0].attribute, AttributePath::new("token"));
    }
}
