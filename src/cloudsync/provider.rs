//! The `cloudsync` provider block: management API key, API URL, timeouts and retries.
//! Configure builds one API client that every resource and data source shares.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::ValueString;
use tf_provider::{map, Diagnostics};

use super::client::{Client, ClientConfig, Secret, DEFAULT_API_URL};
use crate::plugin::kit::settings::{self, CredentialFacts, Message, ProviderFacts};
use crate::plugin::kit::{attribute, ValueNum};
use crate::plugin::{Provider, Registry};

/// Env: the management API key.
pub const ENV_API_KEY: &str = "CLOUDSYNC_API_KEY";
/// Env: the API base URL.
pub const ENV_API_URL: &str = "CLOUDSYNC_API_URL";

/// The `provider "cloudsync"` block.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CloudSyncConfig<'a> {
    #[serde(borrow, default)]
    pub api_key: ValueString<'a>,
    #[serde(borrow, default)]
    pub api_url: ValueString<'a>,
    #[serde(default)]
    pub request_timeout_seconds: ValueNum,
    #[serde(default)]
    pub max_retries: ValueNum,
}

impl CloudSyncConfig<'_> {
    /// The attributes every provider block has (CloudSync has no others).
    fn block(&self) -> settings::Block<'_> {
        settings::Block {
            credential: &self.api_key,
            api_url: &self.api_url,
            request_timeout_seconds: &self.request_timeout_seconds,
            max_retries: &self.max_retries,
        }
    }
}

/// Env: `off` stops the provider from pacing its requests by the API's announced rate
/// limit (for comparisons; 429s are still retried).
pub const ENV_RATE_PACING: &str = "CLOUDSYNC_RATE_PACING";

/// CloudSync's provider-block facts.
pub const FACTS: ProviderFacts = ProviderFacts {
    platform: "CloudSync",
    credential: CredentialFacts {
        attribute: "api_key",
        env: ENV_API_KEY,
        // Any key; an empty one is a missing one.
        is_valid: |k| !k.is_empty(),
        missing: Message {
            summary: "Missing CloudSync API key",
            detail: "Set `api_key` in the provider block or the CLOUDSYNC_API_KEY environment \
                     variable to a management API key with the `workspace-admin` role (SQLite \
                     Cloud Dashboard: your project, CloudSync > API Keys).",
        },
        invalid: None,
    },
    api_url_env: ENV_API_URL,
    default_api_url: DEFAULT_API_URL,
    emulator_url: "http://127.0.0.1:8789",
    pacing_env: ENV_RATE_PACING,
    default_limits: (
        crate::client::DEFAULT_TIMEOUT.as_secs() as i64,
        crate::client::DEFAULT_MAX_RETRIES as i64,
    ),
};

/// Settings resolved from the block and the environment.
pub type Settings = settings::Settings<Secret, ()>;

/// Shared by the provider and every type: the configured client and the stop token.
pub type ProviderData = settings::ProviderData<Client>;

impl ProviderData {
    /// The configured client, or an error naming what is missing.
    pub fn client(&self, diags: &mut Diagnostics) -> Option<Client> {
        self.configured(diags)
    }
}

/// The `cloudsync` provider.
#[derive(Default, Clone)]
pub struct CloudSyncProvider {
    pub data: Arc<ProviderData>,
}

/// The block and the environment into settings, errors on the attribute. `Some(None)`
/// while a value is unknown.
pub fn resolve(diags: &mut Diagnostics, config: &CloudSyncConfig<'_>) -> Option<Option<Settings>> {
    settings::resolve(diags, &FACTS, config, config.block(), |_| ())
}

#[async_trait]
impl Provider for CloudSyncProvider {
    type Config<'a> = CloudSyncConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::Optional;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The CloudSync provider manages SQLite Cloud's CloudSync: registered tenant \
                     databases (PostgreSQL or SQLite Cloud), sync per table, and push \
                     notifications, through the CloudSync management API. The workspace is the \
                     API key's. Every setting can also come from the environment.",
                ),
                attributes: map! {
                    "api_key" => Attribute {
                        sensitive: true,
                        ..attribute(AttributeType::String, Optional,
                            "Management API key with the `workspace-admin` role, sent as a bearer \
                             token; the workspace is derived from it. Defaults to the \
                             `CLOUDSYNC_API_KEY` environment variable. Surrounding whitespace \
                             (a newline from `file()`) is ignored.")
                    },
                    "api_url" => attribute(AttributeType::String, Optional,
                        "Base URL of the CloudSync management API. Defaults to the \
                         `CLOUDSYNC_API_URL` environment variable, then \
                         `https://cloudsync.sqlite.ai`. Point it at the local emulator (for \
                         example `http://127.0.0.1:8789`) to try a configuration."),
                    "request_timeout_seconds" => attribute(AttributeType::Number, Optional,
                        "Timeout of one API request, in seconds (1 to 600). Default 30. One \
                         operation, its retries included, waits at most twice this long."),
                    "max_retries" => attribute(AttributeType::Number, Optional,
                        "How many times a request is retried after a 429 (honouring \
                         `Retry-After`), a 5xx or a lost answer, with capped, jittered backoff (0 \
                         to 10). Default 4. Registering and updating a database are retried only \
                         when the API surely did nothing (429, refused connection)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: CloudSyncConfig<'a>,
    ) -> Option<()> {
        settings::validate(diags, config.block());
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: CloudSyncConfig<'a>,
    ) -> Option<()> {
        self.data.configure(
            diags,
            &FACTS,
            &terraform_version,
            &config,
            config.block(),
            |_| (),
            |settings: Settings, user_agent_suffix, cancel| {
                let client_config = ClientConfig {
                    operation_timeout: Some(settings.operation_timeout()),
                    base_url: settings.api_url,
                    api_key: settings.credential,
                    timeout: settings.timeout,
                    max_retries: settings.max_retries,
                    user_agent_suffix: Some(user_agent_suffix),
                    pacing: settings.pacing,
                };
                Client::with_cancel_token(client_config, cancel)
            },
        )
    }

    fn register(&self, registry: &mut Registry) {
        super::resources::register(registry, &self.data);
        super::data_sources::register(registry, &self.data);
        super::functions::register(registry);
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

    #[test]
    fn a_key_from_a_file_and_a_bad_url() {
        let mut diags = Diagnostics::default();
        let config = CloudSyncConfig {
            api_key: Value::Value("csk_abc\n".to_owned().into()),
            api_url: Value::Value("http://127.0.0.1:8789".into()),
            ..Default::default()
        };
        let s = resolve(&mut diags, &config).flatten().expect("settings");
        assert_eq!(s.credential.expose(), "csk_abc");
        let config = CloudSyncConfig {
            api_key: Value::Value("k".into()),
            api_url: Value::Value("ftp://x".into()),
            ..Default::default()
        };
        assert!(resolve(&mut diags, &config).is_none());
        assert_eq!(diags.errors[0].attribute, AttributePath::new("api_url"));
    }
}
