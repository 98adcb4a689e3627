//! `ephemeral "comwit_database_query_token"`: a short-lived SQL token that never lands in
//! plan or state (protocol 6.7+ ephemeral resources, Terraform 1.10 and later).
//!
//! Opened during plan and apply, it mints a token with `POST /v1/databases/{database}/
//! query-token`. There is no revoke route: close does nothing and the token stops working at
//! `expires_at`. Use it to hand a token to another provider's configuration or to a
//! write-only attribute without storing it anywhere.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueString};
use tf_provider::{map, Diagnostics};

use crate::comwit::common::api_error;
use crate::comwit::provider::ProviderData;
use crate::comwit::resources::database_query_token::{check, DatabaseQueryTokenState};
use crate::plugin::kit::{attribute, known, sensitive};
use crate::plugin::EphemeralResource;

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_database_query_token";

/// The ephemeral `comwit_database_query_token`.
pub struct DatabaseQueryTokenEphemeral {
    data: Arc<ProviderData>,
}

impl DatabaseQueryTokenEphemeral {
    /// An ephemeral resource sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// Arguments and result of the ephemeral query token.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DatabaseQueryTokenEphemeralState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(default)]
    pub ttl_seconds: crate::plugin::kit::ValueNum,
    #[serde(borrow, default)]
    pub audience: ValueString<'a>,
    #[serde(borrow, default)]
    pub reason: ValueString<'a>,
    #[serde(borrow, default)]
    pub query_token: ValueString<'a>,
    #[serde(borrow, default)]
    pub expires_at: ValueString<'a>,
}

impl<'a> DatabaseQueryTokenEphemeralState<'a> {
    /// The same rules as the managed resource, checked through its state shape.
    fn as_managed(&self) -> DatabaseQueryTokenState<'a> {
        DatabaseQueryTokenState {
            database_id: self.database_id.clone(),
            ttl_seconds: self.ttl_seconds.clone(),
            audience: self.audience.clone(),
            reason: self.reason.clone(),
            ..Default::default()
        }
    }
}

#[async_trait]
impl EphemeralResource for DatabaseQueryTokenEphemeral {
    type State<'a> = DatabaseQueryTokenEphemeralState<'a>;
    type PrivateState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A short-lived query token that Terraform never stores in plan or state. A new \
                     token is minted each time Terraform opens it (during plan and during apply).",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "Query token id (`qt_...`)."),
                    "database_id" => attribute(String, Required, "Database (`db_...`) the token gives SQL access to."),
                    "ttl_seconds" => attribute(Number, Required, "Lifetime in seconds, 1 to 3600 (checked at plan time)."),
                    "audience" => attribute(String, OptionalComputed,
                        "Who the token is for: 1 to 64 letters, digits, `-`, `_` or `.`. Default `sql`."),
                    "reason" => attribute(String, Optional, "Why the token is issued, kept by Comwit for audit."),
                    "query_token" => sensitive(String, Computed, "The query token."),
                    "expires_at" => attribute(String, Computed, "When the token stops working (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        check(diags, &config.as_managed());
        Some(())
    }

    async fn open<'a>(
        &self,
        diags: &mut Diagnostics,
        mut config: Self::State<'a>,
    ) -> Option<(Self::State<'a>, ValueEmpty, Option<time::OffsetDateTime>)> {
        check(diags, &config.as_managed());
        if !diags.errors.is_empty() {
            return None;
        }
        let client = self.data.configured(diags)?.client;
        let (db, request) = config.as_managed().request()?;
        match client.create_query_token(&db, &request).await {
            Ok(token) => {
                config.id = known(token.token_id);
                config.query_token = known(token.query_token.expose());
                config.expires_at = known(token.expires_at);
                config.audience = known(token.audience);
                Some((config, Value::Null, None))
            }
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}
