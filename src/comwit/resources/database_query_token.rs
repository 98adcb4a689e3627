//! `comwit_database_query_token`: a short-lived SQL token for one database.
//!
//! Every argument replaces the token (a token cannot be changed). There is no route to read
//! or revoke a query token, so:
//! - read checks the expiry locally (and that the database still exists): once expired, or
//!   within `renew_before_seconds` of expiring, the token is dropped from state and the next
//!   plan mints a new one;
//! - destroy only forgets the token; it stops working at `expires_at` on its own;
//! - import is refused: the platform never returns a token's value again.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};
use tracing::debug;

use crate::comwit::client::QueryTokenRequest;
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::{attribute, known, parse_time, sensitive, text, whole_number, ValueNum};

/// Bounds of `ttl_seconds` (seed 000).
pub const TTL_RANGE: std::ops::RangeInclusive<i64> = 1..=3600;
/// Default audience (contract).
pub const DEFAULT_AUDIENCE: &str = "sql";

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_database_query_token";

/// The `comwit_database_query_token` resource.
pub struct DatabaseQueryTokenResource {
    data: Arc<ProviderData>,
}

impl DatabaseQueryTokenResource {
    /// A resource sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

/// State of `comwit_database_query_token`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseQueryTokenState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(default)]
    pub ttl_seconds: ValueNum,
    #[serde(borrow, default)]
    pub audience: ValueString<'a>,
    #[serde(borrow, default)]
    pub reason: ValueString<'a>,
    #[serde(default)]
    pub renew_before_seconds: ValueNum,
    #[serde(borrow, default)]
    pub query_token: ValueString<'a>,
    #[serde(borrow, default)]
    pub expires_at: ValueString<'a>,
}

impl DatabaseQueryTokenState<'_> {
    /// The database and the API request these (known) arguments ask for.
    pub(crate) fn request(&self) -> Option<(String, QueryTokenRequest)> {
        let ttl = self.ttl_seconds.as_ref_option()?.whole()?;
        Some((
            text(&self.database_id)?.to_owned(),
            QueryTokenRequest {
                ttl_seconds: u32::try_from(ttl).ok()?,
                audience: text(&self.audience).map(str::to_owned),
                reason: text(&self.reason).map(str::to_owned),
            },
        ))
    }
}

/// Plan-time checks of the documented rules (shared with the ephemeral variant).
pub(crate) fn check(diags: &mut Diagnostics, s: &DatabaseQueryTokenState<'_>) {
    let ttl = whole_number(diags, &s.ttl_seconds, "ttl_seconds", TTL_RANGE);
    if let Some(audience) = text(&s.audience) {
        let ok = (1..=64).contains(&audience.chars().count())
            && audience
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !ok {
            diags.error(
                "Invalid audience",
                format!(
                    "`{audience}` is not a valid audience: use 1 to 64 letters, digits, `-`, `_` or `.`."
                ),
                AttributePath::new("audience"),
            );
        }
    }
    if let Some(reason) = text(&s.reason) {
        // The API counts characters, not bytes: 200 x "ü" is 200 characters.
        if reason.chars().count() > 256 {
            diags.error(
                "Invalid reason",
                "`reason` must be at most 256 characters.",
                AttributePath::new("reason"),
            );
        }
    }
    if let Some(ttl) = ttl {
        whole_number(
            diags,
            &s.renew_before_seconds,
            "renew_before_seconds",
            0..=ttl - 1,
        );
    }
    if let Some(id) = text(&s.database_id) {
        check_id(diags, id, "db_", "database_id");
    }
}

#[async_trait]
impl Resource for DatabaseQueryTokenResource {
    type State<'a> = DatabaseQueryTokenState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A short-lived query token for transient SQL access to one database, instead \
                     of exposing the long-lived `database_token`. Once it expires (or comes within \
                     `renew_before_seconds` of expiring) the next plan replaces it with a new one. \
                     Destroying it only removes it from state: it stops working at `expires_at`.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "Query token id (`qt_...`)."),
                    "database_id" => attribute(String, Required,
                        "Database (`db_...`) the token gives SQL access to. Changing it replaces the token."),
                    "ttl_seconds" => attribute(Number, Required,
                        "Lifetime in seconds, 1 to 3600 (checked at plan time). Changing it replaces the token."),
                    "audience" => attribute(String, OptionalComputed,
                        "Who the token is for, for example `sql-console`: 1 to 64 letters, digits, \
                         `-`, `_` or `.`. Default `sql`. Changing it replaces the token."),
                    "reason" => attribute(String, Optional,
                        "Why the token is issued, kept by Comwit for audit (at most 256 characters). \
                         Changing it replaces the token."),
                    "renew_before_seconds" => attribute(Number, Optional,
                        "When set, the token is replaced once fewer than this many seconds of its \
                         lifetime remain (0 up to `ttl_seconds`). Default 0: replaced once expired."),
                    "query_token" => sensitive(String, Computed, "The query token."),
                    "expires_at" => attribute(String, Computed, "When the token stops working (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseQueryTokenState<'a>,
    ) -> Option<()> {
        check(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: DatabaseQueryTokenState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseQueryTokenState<'a>, ValueEmpty)> {
        let expires = text(&state.expires_at).and_then(parse_time);
        let renew = state
            .renew_before_seconds
            .as_ref_option()
            .and_then(|n| n.whole())
            .unwrap_or(0);
        let now = time::OffsetDateTime::now_utc();
        match expires {
            Some(at) if now + time::Duration::seconds(renew) < at => {}
            _ => {
                debug!("query token expired or due for renewal; dropping it from state");
                return None;
            }
        }
        let client = self.data.configured(diags)?.client;
        let db = text(&state.database_id)?.to_owned();
        match client.get_database(&db).await {
            Ok(_) => Some((state, private)),
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        mut proposed: DatabaseQueryTokenState<'a>,
        _config: DatabaseQueryTokenState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseQueryTokenState<'a>, ValueEmpty)> {
        check(diags, &proposed);
        if !diags.errors.is_empty() {
            return None;
        }
        proposed.id = Value::Unknown;
        proposed.query_token = Value::Unknown;
        proposed.expires_at = Value::Unknown;
        if proposed.audience.is_null() {
            proposed.audience = known(DEFAULT_AUDIENCE);
        }
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseQueryTokenState<'a>,
        mut proposed: DatabaseQueryTokenState<'a>,
        config: DatabaseQueryTokenState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseQueryTokenState<'a>, ValueEmpty, Vec<AttributePath>)> {
        check(diags, &proposed);
        if !diags.errors.is_empty() {
            return None;
        }
        if config.audience.is_null() {
            proposed.audience = known(DEFAULT_AUDIENCE);
        }
        let replace: Vec<_> = [
            ("database_id", prior.database_id != proposed.database_id),
            ("ttl_seconds", prior.ttl_seconds != proposed.ttl_seconds),
            ("audience", prior.audience != proposed.audience),
            ("reason", prior.reason != proposed.reason),
        ]
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(name, _)| AttributePath::new(name))
        .collect();
        if !replace.is_empty() {
            proposed.id = Value::Unknown;
            proposed.query_token = Value::Unknown;
            proposed.expires_at = Value::Unknown;
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseQueryTokenState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: DatabaseQueryTokenState<'a>,
        _config: DatabaseQueryTokenState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseQueryTokenState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let (db, request) = planned.request()?;
        match client.create_query_token(&db, &request).await {
            Ok(token) => {
                let mut state = planned;
                state.id = known(token.token_id);
                state.query_token = known(token.query_token.expose());
                state.expires_at = known(token.expires_at);
                state.audience = known(token.audience);
                Some((state, Value::Null))
            }
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseQueryTokenState<'a>,
        planned: DatabaseQueryTokenState<'a>,
        _config: DatabaseQueryTokenState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseQueryTokenState<'a>, ValueEmpty)> {
        // Only `renew_before_seconds` changes in place; it lives in state alone.
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseQueryTokenState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DatabaseQueryTokenState<'a>, ValueEmpty)> {
        diags.root_error(
            "Query tokens cannot be imported",
            format!(
                "Comwit never returns a query token's value after it is issued, so `{id}` cannot \
                 be brought under Terraform. Declare a new `comwit_database_query_token` instead; \
                 the old token stops working when it expires."
            ),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(ttl: i64) -> DatabaseQueryTokenState<'static> {
        DatabaseQueryTokenState {
            database_id: known("db_1"),
            ttl_seconds: Value::Value(ttl.into()),
            ..Default::default()
        }
    }

    #[test]
    fn ttl_is_checked_against_the_documented_bounds() {
        for (ttl, ok) in [(0, false), (1, true), (3600, true), (3601, false)] {
            let mut d = Diagnostics::default();
            check(&mut d, &state(ttl));
            assert_eq!(d.errors.is_empty(), ok, "ttl {ttl}");
            if !ok {
                assert_eq!(d.errors[0].attribute, AttributePath::new("ttl_seconds"));
            }
        }
        let mut d = Diagnostics::default();
        check(
            &mut d,
            &DatabaseQueryTokenState {
                ttl_seconds: Value::Unknown,
                ..state(1)
            },
        );
        assert!(d.errors.is_empty(), "unknown passes");
    }

    #[test]
    fn audience_and_renewal_rules() {
        let mut d = Diagnostics::default();
        check(
            &mut d,
            &DatabaseQueryTokenState {
                audience: known("sql console"),
                ..state(60)
            },
        );
        assert_eq!(d.errors[0].attribute, AttributePath::new("audience"));
        let mut d = Diagnostics::default();
        check(
            &mut d,
            &DatabaseQueryTokenState {
                renew_before_seconds: Value::Value(60.into()),
                ..state(60)
            },
        );
        assert_eq!(
            d.errors[0].attribute,
            AttributePath::new("renew_before_seconds")
        );
    }

    #[test]
    fn reason_counts_characters_and_numbers_must_be_whole() {
        use crate::plugin::kit::Number;
        let mut d = Diagnostics::default();
        check(
            &mut d,
            &DatabaseQueryTokenState {
                reason: known("ü".repeat(200)),
                audience: known("sql"),
                ..state(60)
            },
        );
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        let mut d = Diagnostics::default();
        check(
            &mut d,
            &DatabaseQueryTokenState {
                reason: known("ü".repeat(257)),
                ..state(60)
            },
        );
        assert_eq!(d.errors[0].attribute, AttributePath::new("reason"));
        for bad in [Number::Float(60.5), Number::Float(1e20)] {
            let mut d = Diagnostics::default();
            check(
                &mut d,
                &DatabaseQueryTokenState {
                    ttl_seconds: Value::Value(bad),
                    ..state(60)
                },
            );
            assert_eq!(d.errors.len(), 1);
            assert_eq!(d.errors[0].attribute, AttributePath::new("ttl_seconds"));
            assert!(d.errors[0]
                .detail
                .contains("whole number between 1 and 3600"));
        }
    }

    #[tokio::test]
    async fn expired_tokens_are_dropped_on_read_without_any_request() {
        let r = DatabaseQueryTokenResource::new(Arc::default());
        let mut d = Diagnostics::default();
        let expired = DatabaseQueryTokenState {
            expires_at: known("2020-01-01T00:00:00Z"),
            ..state(60)
        };
        // Unconfigured provider: a request would add an error; dropping needs none.
        assert!(r
            .read(&mut d, expired, Value::Null, Value::Null)
            .await
            .is_none());
        assert!(d.errors.is_empty(), "{:?}", d.errors);
    }

    #[tokio::test]
    async fn changing_any_argument_replaces() {
        let r = DatabaseQueryTokenResource::new(Arc::default());
        let prior = DatabaseQueryTokenState {
            id: known("qt_1"),
            audience: known("sql"),
            query_token: known("cqt_x"),
            expires_at: known("2030-01-01T00:00:00Z"),
            ..state(60)
        };
        let proposed = DatabaseQueryTokenState {
            ttl_seconds: Value::Value(120.into()),
            ..prior.clone()
        };
        let mut d = Diagnostics::default();
        let (planned, _, replace) = r
            .plan_update(
                &mut d,
                prior,
                proposed.clone(),
                proposed,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        assert_eq!(replace, vec![AttributePath::new("ttl_seconds")]);
        assert!(planned.query_token.is_unknown());
    }
}
