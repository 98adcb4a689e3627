//! `cloudsync_expo_access_token`: the Expo access token a database's push notifications
//! are sent with. The API returns only metadata (whether one is set, its last four
//! characters, when it was set), never the token:
//!
//! - `token` (sensitive, kept in state) or `token_wo` (write-only, never stored, sent
//!   again when `token_wo_version` changes);
//! - drift that can be seen: the token removed outside Terraform (the resource leaves the
//!   state and the next apply sets it again), and a token replaced outside Terraform when
//!   its last four characters or its `updated_at` change (planned to be set again). A
//!   replacement with the same last four characters, done within the same second as a
//!   read, cannot be seen.
//! - Destroy removes the token. Import by database id: the token is then null in state and
//!   the next apply sets the configured one.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::cloudsync::client::{ExpoToken, Secret};
use crate::cloudsync::common::{api_error, check_database_id, deleted};
use crate::cloudsync::provider::ProviderData;
use crate::plugin::kit::{
    attribute, known, opt, presence, sensitive, text, whole_number, ValueNum,
};
use crate::plugin::{IdentityAttribute, IdentitySpec};

pub const TYPE_NAME: &str = "cloudsync_expo_access_token";

pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![IdentityAttribute {
            name: "database_id",
            description: "Managed database id (`db_...`).",
            required_for_import: true,
        }],
    }
}

pub struct ExpoAccessTokenResource {
    data: Arc<ProviderData>,
}

impl ExpoAccessTokenResource {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpoAccessTokenState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub database_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub token: ValueString<'a>,
    #[serde(borrow, default)]
    pub token_wo: ValueString<'a>,
    #[serde(default)]
    pub token_wo_version: ValueNum,
    #[serde(borrow, default)]
    pub token_suffix: ValueString<'a>,
    #[serde(borrow, default)]
    pub updated_at: ValueString<'a>,
}

fn suffix(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

pub(crate) fn with_meta<'a>(
    mut state: ExpoAccessTokenState<'a>,
    meta: ExpoToken,
) -> ExpoAccessTokenState<'a> {
    state.token_suffix = opt(meta.token_suffix);
    state.updated_at = opt(meta.updated_at);
    state.token_wo = Value::Null;
    state
}

#[async_trait]
impl Resource for ExpoAccessTokenResource {
    type State<'a> = ExpoAccessTokenState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The Expo access token CloudSync sends a database's push notifications with. \
                     CloudSync returns only metadata, never the token: a token removed outside \
                     Terraform, or replaced by one with other last four characters or a newer \
                     `updated_at`, is planned to be set again; a replacement that keeps both \
                     cannot be seen. Set `token` (sensitive, kept in state) or `token_wo` \
                     (write-only, never stored) with `token_wo_version`.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "The database id."),
                    "database_id" => attribute(String, Required,
                        "The `cloudsync_database`'s id. Changing it replaces this resource."),
                    "token" => sensitive(String, Optional,
                        "The Expo access token (sensitive, kept in state). Changing it rotates the \
                         token in place. Surrounding whitespace (a newline from `file()`) is not \
                         sent."),
                    "token_wo" => Attribute {
                        sensitive: true,
                        ..attribute(String, Optional,
                            "Write-only token (Terraform 1.11+): sent on create and whenever \
                             `token_wo_version` changes; never stored. Conflicts with `token`.")
                    },
                    "token_wo_version" => attribute(Number, Optional,
                        "A whole number; change it to send `token_wo` again (rotation)."),
                    "token_suffix" => attribute(String, Computed,
                        "The token's last four characters, as CloudSync reports them."),
                    "updated_at" => attribute(String, Computed, "When the token was last set (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: ExpoAccessTokenState<'a>,
    ) -> Option<()> {
        if let Some(id) = text(&config.database_id) {
            check_database_id(diags, id, "database_id");
        }
        // Null and unknown are not set (`token = var.token` with the variable null, or
        // unknown in `terraform validate`): a rule fires only on what is known.
        let has_token = presence(&config.token);
        let has_wo = presence(&config.token_wo);
        if has_token == Some(true) && has_wo == Some(true) {
            diags.error(
                "Conflicting tokens",
                "Set either `token` or the write-only `token_wo`, not both.",
                AttributePath::new("token_wo"),
            );
        } else if has_token == Some(false) && has_wo == Some(false) {
            diags.root_error(
                "Missing token",
                "Set `token`, or `token_wo` with `token_wo_version`.",
            );
        }
        if has_wo == Some(true) && presence(&config.token_wo_version) == Some(false) {
            diags.error(
                "Missing token_wo_version",
                "A write-only value is never stored, so Terraform cannot see when it changes: set \
                 `token_wo_version` too, and change it whenever you change `token_wo`.",
                AttributePath::new("token_wo_version"),
            );
        }
        if text(&config.token).is_some_and(|t| t.trim().is_empty()) {
            diags.error(
                "Empty token",
                "`token` must not be empty; to remove the token, destroy this resource.",
                AttributePath::new("token"),
            );
        }
        whole_number(
            diags,
            &config.token_wo_version,
            "token_wo_version",
            0..=9_007_199_254_740_991,
        );
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: ExpoAccessTokenState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ExpoAccessTokenState<'a>, ValueEmpty)> {
        let client = self.data.client(diags)?;
        let db = text(&state.database_id)?.to_owned();
        match client.get_expo_token(&db).await {
            Ok(meta) if !meta.configured => None,
            Ok(meta) => {
                let mut next = with_meta(state.clone(), meta);
                // Replaced outside Terraform: the stored token no longer matches, so the
                // plan sets it again.
                let changed = (state.updated_at.is_value() && next.updated_at != state.updated_at)
                    || (state.token_suffix.is_value() && next.token_suffix != state.token_suffix);
                if changed {
                    next.token = Value::Null;
                    if next.token_wo_version.is_value() {
                        next.token_wo_version = Value::Null;
                    }
                }
                Some((next, private))
            }
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                api_error(diags, &e);
                Some((state, private))
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: ExpoAccessTokenState<'a>,
        config: ExpoAccessTokenState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(ExpoAccessTokenState<'a>, ValueEmpty)> {
        proposed.id = proposed.database_id.clone();
        proposed.token_wo = Value::Null;
        proposed.token_suffix = match (&config.token, &config.token_wo) {
            (Value::Value(t), _) | (_, Value::Value(t)) => known(suffix(t.trim())),
            _ => Value::Unknown,
        };
        proposed.updated_at = Value::Unknown;
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: ExpoAccessTokenState<'a>,
        mut proposed: ExpoAccessTokenState<'a>,
        config: ExpoAccessTokenState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ExpoAccessTokenState<'a>, ValueEmpty, Vec<AttributePath>)> {
        proposed.token_wo = Value::Null;
        let mut replace = vec![];
        if proposed.database_id != prior.database_id {
            replace.push(AttributePath::new("database_id"));
            proposed.id = proposed.database_id.clone();
        }
        let rotate =
            proposed.token != prior.token || proposed.token_wo_version != prior.token_wo_version;
        if rotate || !replace.is_empty() {
            proposed.token_suffix = match (&config.token, &config.token_wo) {
                (Value::Value(t), _) | (_, Value::Value(t)) => known(suffix(t.trim())),
                _ => Value::Unknown,
            };
            proposed.updated_at = Value::Unknown;
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: ExpoAccessTokenState<'a>,
        config: ExpoAccessTokenState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ExpoAccessTokenState<'a>, ValueEmpty)> {
        let client = self.data.client(diags)?;
        let db = text(&planned.database_id)?.to_owned();
        let token = text(&planned.token)
            .or_else(|| text(&config.token_wo))?
            .trim()
            .to_owned();
        match client.put_expo_token(&db, &Secret::new(token)).await {
            Ok(meta) => Some((with_meta(planned, meta), Value::Null)),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ExpoAccessTokenState<'a>,
        planned: ExpoAccessTokenState<'a>,
        config: ExpoAccessTokenState<'a>,
        private: ValueEmpty,
        meta: ValueEmpty,
    ) -> Option<(ExpoAccessTokenState<'a>, ValueEmpty)> {
        if planned.updated_at.is_unknown() {
            return self.create(diags, planned, config, private, meta).await;
        }
        let _ = prior;
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ExpoAccessTokenState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.client(diags)?;
        let db = text(&prior.database_id)?.to_owned();
        deleted(diags, client.delete_expo_token(&db).await)
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(ExpoAccessTokenState<'a>, ValueEmpty)> {
        check_database_id(diags, &id, "database_id");
        if !diags.errors.is_empty() {
            return None;
        }
        let client = self.data.client(diags)?;
        match client.get_expo_token(&id).await {
            Ok(meta) if meta.configured => {
                diags.root_warning(
                    "Expo access token not imported",
                    "CloudSync never returns the token, so `token` is null after import: the \
                     next apply sets the configured token.",
                );
                let state = ExpoAccessTokenState {
                    id: known(id.clone()),
                    database_id: known(id),
                    ..Default::default()
                };
                Some((with_meta(state, meta), Value::Null))
            }
            Ok(_) => {
                diags.root_error(
                    "No Expo access token",
                    format!(
                        "Database `{id}` has no Expo access token, so there is nothing to import."
                    ),
                );
                None
            }
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_is_the_last_four_characters() {
        assert_eq!(suffix("expo-access-token-value"), "alue");
        assert_eq!(suffix("ab"), "ab");
        assert_eq!(suffix("ääää-ö"), "ää-ö");
    }
}
