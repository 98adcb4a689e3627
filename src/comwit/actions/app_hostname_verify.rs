//! `action "comwit_app_hostname_verify"`: re-check a hostname's DNS until it is verified
//! or `timeout` passes. Every read of a hostname is a fresh DNS check on Comwit's side
//! (`GET /v1/apps/{app}/hostnames/{hostname}`), so the action reads it with backoff and
//! reports, each time, the records still missing and what DNS answered. A hostname already
//! verified is reported at once. Nothing is written.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::{Block, Description, Schema};
use tf_provider::value::ValueString;
use tf_provider::{map, AttributePath, Diagnostics};

use super::{given, required};
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::contract::dns;
use crate::plugin::kit::poll::Backoff;
use crate::plugin::kit::text;
use crate::plugin::kit::timeout::{self, Look, Unfinished};
use crate::plugin::{Action, Progress};

pub const TYPE_NAME: &str = "comwit_app_hostname_verify";

/// How long an invocation waits by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How often it checks again: after 2 seconds, then half as long again each time, at most
/// every 15 seconds.
const BACKOFF: Backoff = Backoff::growing(Duration::from_secs(2), Duration::from_secs(15));

/// The `config` block.
#[derive(Debug, Default, Deserialize)]
pub struct VerifyConfig<'a> {
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub hostname: ValueString<'a>,
    #[serde(borrow, default)]
    pub timeout: ValueString<'a>,
}

/// Re-checks a hostname until verified.
pub struct HostnameVerify {
    data: Arc<ProviderData>,
}

impl HostnameVerify {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[async_trait]
impl Action for HostnameVerify {
    type Config<'a> = VerifyConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "Re-checks an app hostname's DNS records until Comwit sees every one \
                     (the hostname is `verified` and the app gateway serves it) or `timeout` \
                     passes. Each check's progress line names the records still missing and \
                     what DNS answered. Run it after publishing a manual-DNS hostname's \
                     records at your DNS provider. Nothing is changed.",
                ),
                attributes: map! {
                    "app_id" => required("The app's id (`app_...`)."),
                    "hostname" => required("The attached hostname (any case, with or without the final dot)."),
                    "timeout" => timeout::attribute_with_default("5m", "for the hostname to be verified"),
                },
                ..Default::default()
            },
        })
    }

    /// Terraform validates an action's configuration only where it is used: `plan` checks
    /// it again, so a bad value is an error at plan time with `-invoke` too.
    async fn plan<'a>(&self, diags: &mut Diagnostics, config: VerifyConfig<'a>) -> Option<()> {
        self.validate(diags, config).await
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: VerifyConfig<'a>) -> Option<()> {
        if let Some(id) = text(&config.app_id) {
            check_id(diags, id, "app_", "app_id");
        }
        if let Some(name) = text(&config.hostname) {
            if let Err(e) = dns::domain_name(name) {
                diags.error(
                    "Invalid hostname",
                    format!("`hostname`: {e}"),
                    AttributePath::new("hostname"),
                );
            }
        }
        timeout::check(diags, &config.timeout);
        Some(())
    }

    async fn invoke<'a>(
        &self,
        diags: &mut Diagnostics,
        config: VerifyConfig<'a>,
        progress: &Progress,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let app_id = given(diags, &config.app_id, "app_id")?;
        let raw = given(diags, &config.hostname, "hostname")?;
        let hostname = dns::domain_name(&raw).unwrap_or(raw);
        let limit = timeout::of(&config.timeout, DEFAULT_TIMEOUT);
        let deadline = timeout::deadline(limit);

        progress
            .send(format!("checking the DNS records of {hostname}"))
            .await;
        let mut checks = 0u32;
        let verified = timeout::poll(progress, deadline, BACKOFF, || {
            checks += 1;
            let n = checks;
            let (client, app_id, hostname) = (&client, &app_id, &hostname);
            async move {
                client.get_hostname(app_id, hostname).await.map(|h| {
                    if h.is_verified() {
                        return Look::Done(n);
                    }
                    let missing = h.missing_summary();
                    Look::NotYet(
                        format!("{hostname} is {}: missing {missing}", h.status),
                        missing,
                    )
                })
            }
        })
        .await;
        match verified {
            Ok(n) => {
                let line = if n == 1 {
                    format!("{hostname} is already verified: nothing to do")
                } else {
                    format!("{hostname} is verified (after {n} checks)")
                };
                progress.send(line).await;
                Some(())
            }
            Err(Unfinished::Failed(e)) => {
                api_error(diags, &e);
                None
            }
            Err(Unfinished::Stopped { wait, last }) => {
                timeout::stopped(diags, wait, &unverified(&hostname, last.as_deref()), limit);
                None
            }
        }
    }
}

/// What the action waited for, for its error: the records the last check found missing
/// (type, name, value and what DNS answered), when a check finished.
fn unverified(hostname: &str, missing: Option<&str>) -> String {
    match missing {
        Some(missing) => format!(
            "hostname `{hostname}` to be verified (still missing: {missing}); publish those \
             records at the DNS provider of the name"
        ),
        None => format!("hostname `{hostname}` to be verified (no check finished)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::kit::known;

    #[tokio::test]
    async fn a_bad_hostname_is_an_error_on_it() {
        let action = HostnameVerify::new(Arc::default());
        let mut diags = Diagnostics::default();
        let config = VerifyConfig {
            app_id: known("app_1"),
            hostname: known("not a name"),
            timeout: known("1m"),
        };
        action.validate(&mut diags, config).await;
        assert_eq!(diags.errors.len(), 1, "{diags:?}");
        assert_eq!(diags.errors[0].attribute, AttributePath::new("hostname"));
        let mut diags = Diagnostics::default();
        let good = VerifyConfig {
            app_id: known("app_1"),
            hostname: known("WWW.Example.com."),
            timeout: known("1m"),
        };
        action.validate(&mut diags, good).await;
        assert!(diags.errors.is_empty(), "{diags:?}");
    }
}
