//! The `provider "wayscloud"` block: API key, API URL, customer for internal keys,
//! timeouts and retries. Configure builds one client every type shares.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::ValueString;
use tf_provider::{map, AttributePath, Diagnostics};

use super::client::{Client, ClientConfig, Secret, DEFAULT_API_URL};
use crate::plugin::kit::settings::{self, CredentialFacts, Message, ProviderFacts};
use crate::plugin::kit::{attribute, ValueNum};
use crate::plugin::{Provider, Registry};

pub const DEFAULT_TIMEOUT_SECONDS: i64 = crate::client::DEFAULT_TIMEOUT.as_secs() as i64;
pub const DEFAULT_MAX_RETRIES: i64 = crate::client::DEFAULT_MAX_RETRIES as i64;

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WaysCloudConfig<'a> {
    #[serde(borrow, default)]
    pub api_key: ValueString<'a>,
    #[serde(borrow, default)]
    pub api_url: ValueString<'a>,
    #[serde(borrow, default)]
    pub customer_id: ValueString<'a>,
    #[serde(default)]
    pub request_timeout_seconds: ValueNum,
    #[serde(default)]
    pub max_retries: ValueNum,
}

impl WaysCloudConfig<'_> {
    /// The attributes every provider block has.
    fn block(&self) -> settings::Block<'_> {
        settings::Block {
            credential: &self.api_key,
            api_url: &self.api_url,
            request_timeout_seconds: &self.request_timeout_seconds,
            max_retries: &self.max_retries,
        }
    }

    /// `customer_id`, an error on it when it is not a customer id.
    fn customer_id(&self, diags: &mut Diagnostics) -> Option<String> {
        let customer_id = self.customer_id.as_deref_option().map(str::to_owned);
        if let Some(c) = &customer_id {
            if c.is_empty() || c.len() > 32 || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
                diags.error(
                    "Invalid customer_id",
                    format!("`customer_id` must be a WaysCloud customer id (letters and digits), got `{c}`."),
                    AttributePath::new("customer_id"),
                );
            }
        }
        customer_id
    }
}

/// Env: `off` stops the provider from pacing its requests by the API's announced rate
/// limit (for comparisons; 429s are still retried).
pub const ENV_RATE_PACING: &str = "WAYSCLOUD_RATE_PACING";

/// WaysCloud's provider-block facts.
pub const FACTS: ProviderFacts = ProviderFacts {
    platform: "WaysCloud",
    credential: CredentialFacts {
        attribute: "api_key",
        env: "WAYSCLOUD_API_KEY",
        is_valid: |k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic()),
        missing: Message {
            summary: "Missing WaysCloud API key",
            detail: "Set `api_key` in the provider block or the WAYSCLOUD_API_KEY environment variable to an API key with the `database:*` permissions your configuration needs.",
        },
        invalid: Some(Message {
            summary: "Invalid WaysCloud API key",
            detail: "The API key has spaces or control characters inside it; copy it again from the WaysCloud console.",
        }),
    },
    api_url_env: "WAYSCLOUD_API_URL",
    default_api_url: DEFAULT_API_URL,
    emulator_url: "http://127.0.0.1:8788",
    pacing_env: ENV_RATE_PACING,
    default_limits: (DEFAULT_TIMEOUT_SECONDS, DEFAULT_MAX_RETRIES),
};

/// Settings resolved from the block and the environment; `extra` is `customer_id`.
pub type Settings = settings::Settings<Secret, Option<String>>;

#[derive(Clone, Debug)]
pub struct Configured {
    pub client: Client,
    /// The customer an internal key acts for (create body, list query).
    pub customer_id: Option<String>,
}

/// The configured client and the stop token, shared with every type.
pub type ProviderData = settings::ProviderData<Configured>;

#[derive(Default, Clone)]
pub struct WaysCloudProvider {
    pub data: Arc<ProviderData>,
}

/// The block and the environment as settings, errors on their attributes; `Some(None)`
/// while a value is unknown.
pub fn resolve(diags: &mut Diagnostics, config: &WaysCloudConfig<'_>) -> Option<Option<Settings>> {
    settings::resolve(diags, &FACTS, config, config.block(), |d| {
        config.customer_id(d)
    })
}

#[async_trait]
impl Provider for WaysCloudProvider {
    type Config<'a> = WaysCloudConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::Optional;
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The WaysCloud provider manages PostgreSQL and MariaDB databases through the whole \
                     WaysCloud databases API: databases with their credentials and connection limits, \
                     firewall rules, snapshots and restores, backup policies, and read-only views of \
                     engines, quota, history, metrics and more. Every setting can also come from the \
                     environment.",
                ),
                attributes: map! {
                    "api_key" => Attribute {
                        sensitive: true,
                        ..attribute(AttributeType::String, Optional,
                            "WaysCloud API key, sent in the `X-API-Key` header. Its permissions \
                             (`database:create`, `database:read`, `database:update`, `database:delete`) \
                             decide what the provider may do. Defaults to the `WAYSCLOUD_API_KEY` \
                             environment variable.")
                    },
                    "api_url" => attribute(AttributeType::String, Optional,
                        "Base URL of the WaysCloud API. Defaults to the `WAYSCLOUD_API_URL` environment \
                         variable, then `https://api.wayscloud.services`. Point it at the local emulator \
                         (for example `http://127.0.0.1:8788`) to try a configuration."),
                    "customer_id" => attribute(AttributeType::String, Optional,
                        "For internal API keys only: the customer to create and list databases for. \
                         A regular customer key always acts for its own customer (WaysCloud ignores \
                         this)."),
                    "request_timeout_seconds" => attribute(AttributeType::Number, Optional,
                        "Timeout of one API request, in seconds (1 to 600). Default 30. One operation, \
                         its retries included, waits at most twice this long."),
                    "max_retries" => attribute(AttributeType::Number, Optional,
                        "How many times a request is retried after a 429 (honouring `Retry-After`) or a \
                         5xx answer, with capped, jittered backoff (0 to 10). Default 4. Rotations, \
                         restarts, restores and creates are never repeated after an answer that may \
                         have done the work."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: WaysCloudConfig<'a>,
    ) -> Option<()> {
        settings::validate(diags, config.block());
        Some(())
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        terraform_version: String,
        config: WaysCloudConfig<'a>,
    ) -> Option<()> {
        self.data.configure(
            diags,
            &FACTS,
            &terraform_version,
            &config,
            config.block(),
            |d| config.customer_id(d),
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
                Client::new(client_config, cancel).map(|client| Configured {
                    client,
                    customer_id: settings.extra,
                })
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

    fn config(key: &str, url: &str) -> WaysCloudConfig<'static> {
        WaysCloudConfig {
            api_key: Value::Value(key.to_owned().into()),
            api_url: Value::Value(url.to_owned().into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_key_from_a_file_keeps_working_and_a_bad_url_points_at_api_url() {
        let mut diags = Diagnostics::default();
        let s = resolve(&mut diags, &config("wcs_abc\n", "http://127.0.0.1:8788"))
            .flatten()
            .expect("settings");
        assert_eq!(s.credential.expose(), "wcs_abc");
        let mut diags = Diagnostics::default();
        assert!(resolve(&mut diags, &config("wcs_abc", "ftp://x")).is_none());
        assert_eq!(diags.errors[0].attribute, AttributePath::new("api_url"));
        let mut diags = Diagnostics::default();
        assert!(resolve(&mut diags, &config("wcs a", "http://x")).is_none());
        assert_eq!(diags.errors[0].attribute, AttributePath::new("api_key"));
    }
}
