//! The `comwit` provider block: API token, API URL, default project, timeouts and retries.
//! Configure builds one API client that every resource and data source shares.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::ValueString;
use tf_provider::{map, AttributePath, Diagnostics};
use tokio_util::sync::CancellationToken;

use super::client::{Client, ClientConfig, Secret};
use crate::plugin::kit::{api_url, attribute, credential, env, pacing, request_limits, ValueNum};
use crate::plugin::{unknown_attributes, ConfigSlot, Provider, Registry};

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

/// Env: `off` stops the provider from pacing its requests by the API's announced rate
/// limit (for comparisons; 429s are still retried).
pub const ENV_RATE_PACING: &str = "COMWIT_RATE_PACING";

/// Settings resolved from the block and the environment.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// API token (never logged).
    pub token: String,
    /// Product API base URL.
    pub api_url: url::Url,
    /// Default project.
    pub project_id: Option<String>,
    /// Per-request timeout.
    pub timeout_seconds: u64,
    /// Retries.
    pub max_retries: u32,
}

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
#[derive(Default)]
pub struct ProviderData {
    configured: ConfigSlot<Configured>,
    /// Fired when Terraform asks the provider to stop.
    pub cancel: CancellationToken,
}

impl ProviderData {
    /// The configured client, or an error diagnostic naming the provider settings that are
    /// not known until apply (or saying the configuration was invalid).
    pub fn configured(&self, diags: &mut Diagnostics) -> Option<Configured> {
        self.configured.get(diags)
    }

    /// Provider settings not known until apply (empty once configured).
    pub fn unknown_settings(&self) -> Vec<String> {
        self.configured.unknown()
    }
}

/// The `comwit` provider.
#[derive(Default, Clone)]
pub struct ComwitProvider {
    /// Shared with every resource and data source.
    pub data: Arc<ProviderData>,
}

/// Resolve the block and the environment into settings, with attribute-scoped errors.
/// Returns `Ok(None)` when a needed value is still unknown.
pub fn resolve(diags: &mut Diagnostics, config: &ComwitConfig<'_>) -> Option<Option<Settings>> {
    if config.token.is_unknown() || config.api_url.is_unknown() || config.project_id.is_unknown() {
        return Some(None);
    }
    let errors_before = diags.errors.len();
    // Surrounding whitespace (the newline of `file("token.txt")`) is not part of a token.
    let token = config
        .token
        .as_deref_option()
        .map(credential)
        .or_else(|| env("COMWIT_TOKEN").as_deref().map(credential));
    let token = match token {
        Some(t) if t.starts_with("cwt_") && t.len() > 4 => Some(t),
        Some(_) => {
            diags.error(
                "Invalid Comwit API token",
                "The token is not a Comwit user token: user tokens start with `cwt_`. Create \
                 one with `comwit login` or in the console (Settings → Tokens).",
                AttributePath::new("token"),
            );
            None
        }
        None => {
            diags.error(
                "Missing Comwit API token",
                "Set `token` in the provider block or the COMWIT_TOKEN environment variable to a \
                 `cwt_` user token with the scopes your configuration needs.",
                AttributePath::new("token"),
            );
            None
        }
    };
    let api_url = api_url(
        diags,
        config.api_url.as_deref_option(),
        "COMWIT_API_URL",
        DEFAULT_API_URL,
        "Comwit",
        "http://127.0.0.1:8787",
    );
    let project_id = config
        .project_id
        .as_deref_option()
        .map(str::to_owned)
        .or_else(|| env("COMWIT_PROJECT_ID"));
    let (timeout_seconds, max_retries) = request_limits(
        diags,
        &config.request_timeout_seconds,
        &config.max_retries,
        (DEFAULT_TIMEOUT_SECONDS, DEFAULT_MAX_RETRIES),
    );
    if diags.errors.len() > errors_before {
        return None;
    }
    Some(Some(Settings {
        token: token?,
        api_url: api_url?,
        project_id,
        timeout_seconds,
        max_retries,
    }))
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
        // Range checks only; the token may legitimately come from the environment later.
        let _ = request_limits(
            diags,
            &config.request_timeout_seconds,
            &config.max_retries,
            (1, 0),
        );
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: ComwitConfig<'a>,
    ) -> Option<()> {
        let unknown = unknown_attributes(&config);
        if !unknown.is_empty() {
            // Known at apply. Plans go on; what needs the API during plan names the setting.
            self.data.configured.set_unknown(unknown);
            return Some(());
        }
        let Some(settings) = resolve(diags, &config)? else {
            return Some(()); // unknown until apply: resources report it if they need the API
        };
        let client_config = ClientConfig {
            base_url: settings.api_url.clone(),
            token: Secret::new(settings.token.clone()),
            timeout: std::time::Duration::from_secs(settings.timeout_seconds),
            max_retries: settings.max_retries,
            user_agent_suffix: Some(format!("terraform/{terraform_version}")),
            // A hung API holds one operation for two request timeouts at most, not for
            // every retry's timeout (5 x 30 s).
            operation_timeout: Some(std::time::Duration::from_secs(
                settings.timeout_seconds.saturating_mul(2),
            )),
            pacing: pacing(ENV_RATE_PACING),
        };
        let client = match Client::with_cancel_token(client_config, self.data.cancel.child_token())
        {
            Ok(c) => c,
            Err(e) => {
                diags.error(
                    "Invalid provider configuration",
                    format!("The Comwit API client cannot be set up: {e}."),
                    AttributePath::new("api_url"),
                );
                return None;
            }
        };
        self.data.configured.set(Configured {
            client,
            project_id: settings.project_id,
        });
        Some(())
    }

    fn register(&self, registry: &mut Registry) {
        super::resources::register(registry, &self.data);
        super::data_sources::register(registry, &self.data);
        super::ephemeral::register(registry, &self.data);
    }

    fn stop(&self) {
        self.data.cancel.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::value::Value;

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
        assert_eq!(settings.token, "cwt_0011223344556677");
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
