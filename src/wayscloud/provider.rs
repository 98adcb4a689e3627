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
use tokio_util::sync::CancellationToken;

use super::client::{Client, ClientConfig, Secret, DEFAULT_API_URL};
use crate::plugin::kit::{api_url, attribute, credential, env, pacing, request_limits, ValueNum};
use crate::plugin::{unknown_attributes, ConfigSlot, Provider, Registry};

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

/// Env: `off` stops the provider from pacing its requests by the API's announced rate
/// limit (for comparisons; 429s are still retried).
pub const ENV_RATE_PACING: &str = "WAYSCLOUD_RATE_PACING";

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub api_key: String,
    pub api_url: url::Url,
    pub customer_id: Option<String>,
    pub timeout_seconds: u64,
    pub max_retries: u32,
}

#[derive(Clone, Debug)]
pub struct Configured {
    pub client: Client,
    /// The customer an internal key acts for (create body, list query).
    pub customer_id: Option<String>,
}

#[derive(Default)]
pub struct ProviderData {
    configured: ConfigSlot<Configured>,
    pub cancel: CancellationToken,
}

impl ProviderData {
    pub fn configured(&self, diags: &mut Diagnostics) -> Option<Configured> {
        self.configured.get(diags)
    }
}

#[derive(Default, Clone)]
pub struct WaysCloudProvider {
    pub data: Arc<ProviderData>,
}

/// The block and the environment as settings, errors on their attributes; `Some(None)`
/// while a value is unknown.
pub fn resolve(diags: &mut Diagnostics, config: &WaysCloudConfig<'_>) -> Option<Option<Settings>> {
    if config.api_key.is_unknown() || config.api_url.is_unknown() || config.customer_id.is_unknown()
    {
        return Some(None);
    }
    let errors_before = diags.errors.len();
    let api_key = config
        .api_key
        .as_deref_option()
        .map(credential)
        .or_else(|| env("WAYSCLOUD_API_KEY").as_deref().map(credential));
    let api_key = match api_key {
        Some(k) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_graphic()) => Some(k),
        Some(_) => {
            diags.error(
                "Invalid WaysCloud API key",
                "The API key has spaces or control characters inside it; copy it again from the WaysCloud console.",
                AttributePath::new("api_key"),
            );
            None
        }
        None => {
            diags.error(
                "Missing WaysCloud API key",
                "Set `api_key` in the provider block or the WAYSCLOUD_API_KEY environment variable to an API key with the `database:*` permissions your configuration needs.",
                AttributePath::new("api_key"),
            );
            None
        }
    };
    let api_url = api_url(
        diags,
        config.api_url.as_deref_option(),
        "WAYSCLOUD_API_URL",
        DEFAULT_API_URL,
        "WaysCloud",
        "http://127.0.0.1:8788",
    );
    let customer_id = config.customer_id.as_deref_option().map(str::to_owned);
    if let Some(c) = &customer_id {
        if c.is_empty() || c.len() > 32 || !c.bytes().all(|b| b.is_ascii_alphanumeric()) {
            diags.error(
                "Invalid customer_id",
                format!("`customer_id` must be a WaysCloud customer id (letters and digits), got `{c}`."),
                AttributePath::new("customer_id"),
            );
        }
    }
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
        api_key: api_key?,
        api_url: api_url?,
        customer_id,
        timeout_seconds,
        max_retries,
    }))
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
        config: WaysCloudConfig<'a>,
    ) -> Option<()> {
        let unknown = unknown_attributes(&config);
        if !unknown.is_empty() {
            self.data.configured.set_unknown(unknown);
            return Some(());
        }
        let Some(settings) = resolve(diags, &config)? else {
            return Some(());
        };
        let client_config = ClientConfig {
            base_url: settings.api_url.clone(),
            api_key: Secret::new(settings.api_key.clone()),
            timeout: std::time::Duration::from_secs(settings.timeout_seconds),
            max_retries: settings.max_retries,
            user_agent_suffix: Some(format!("terraform/{terraform_version}")),
            operation_timeout: Some(std::time::Duration::from_secs(
                settings.timeout_seconds.saturating_mul(2),
            )),
            pacing: pacing(ENV_RATE_PACING),
        };
        let client = match Client::new(client_config, self.data.cancel.child_token()) {
            Ok(c) => c,
            Err(e) => {
                diags.error(
                    "Invalid provider configuration",
                    format!("The WaysCloud API client cannot be set up: {e}."),
                    AttributePath::new("api_url"),
                );
                return None;
            }
        };
        self.data.configured.set(Configured {
            client,
            customer_id: settings.customer_id,
        });
        Some(())
    }

    fn register(&self, registry: &mut Registry) {
        super::resources::register(registry, &self.data);
        super::data_sources::register(registry, &self.data);
    }

    fn stop(&self) {
        self.data.cancel.cancel();
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
        assert_eq!(s.api_key, "wcs_abc");
        let mut diags = Diagnostics::default();
        assert!(resolve(&mut diags, &config("wcs_abc", "ftp://x")).is_none());
        assert_eq!(diags.errors[0].attribute, AttributePath::new("api_url"));
        let mut diags = Diagnostics::default();
        assert!(resolve(&mut diags, &config("wcs a", "http://x")).is_none());
        assert_eq!(diags.errors[0].attribute, AttributePath::new("api_key"));
    }
}
