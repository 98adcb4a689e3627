//! `cloudsync_database`: a tenant database registered with CloudSync (a "managed
//! database").
//!
//! - Registration and every new `connection_string` are verified by CloudSync against the
//!   tenant database; a failure is a diagnostic on `connection_string` that says what to
//!   fix (`database_auth_failed`, ...), and nothing is registered or changed.
//! - `database_provider` (the API's `provider`; Terraform reserves that name), `flavor`, `database_name` and `schema_name` replace the registration when
//!   changed (the API cannot patch them). `schema_name` is for `postgres` only (checked at
//!   plan time).
//! - The JWT secret: `jwt_secret` (sensitive, kept in state) or `jwt_secret_wo`
//!   (write-only, Terraform 1.11+, never stored; sent again when `jwt_secret_wo_version`
//!   changes). The API never returns the secret, only whether one is set
//!   (`jwt_secret_configured`): a secret removed or set out of band shows as a change of
//!   `jwt_secret_configured`, and the next apply sends the configured secret again (or
//!   clears it). A secret replaced out of band by another value cannot be seen.
//! - The API never returns the connection string: a change made out of band cannot be
//!   seen (the `cloudsync_database_connection` data source shows whether it still works),
//!   and after import the first apply sends it (verified again). It is given either as
//!   `connection_string` (sensitive, kept in state) or as `connection_string_wo`
//!   (write-only, Terraform 1.11+, never stored; sent again, in place, when
//!   `connection_string_wo_version` changes); one of the two is required.
//! - Destroy deletes the registration; CloudSync's cleanup warnings become warnings.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueList, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::cloudsync::client::{Database, DatabasePatch, NewDatabase};
use crate::cloudsync::common::{api_error, api_list, check_database_id, deleted, strings};
use crate::cloudsync::provider::ProviderData;
use crate::plugin::kit::{
    attribute, known, opt, presence, sensitive, text, whole_number, ValueNum,
};
use crate::plugin::{IdentityAttribute, IdentitySpec};

pub const TYPE_NAME: &str = "cloudsync_database";

/// What `jwt_secret_wo_version` and `connection_string_wo_version` may be.
pub const VERSION_RANGE: std::ops::RangeInclusive<i64> = 0..=9_007_199_254_740_991;

/// Identity `{ id }`.
pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![IdentityAttribute {
            name: "id",
            description: "Managed database id (`db_...`).",
            required_for_import: true,
        }],
    }
}

pub struct DatabaseResource {
    data: Arc<ProviderData>,
}

impl DatabaseResource {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

type Strings<'a> = ValueList<ValueString<'a>>;

/// State of `cloudsync_database`; field names are the attribute names.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub label: ValueString<'a>,
    #[serde(borrow, default)]
    pub connection_string: ValueString<'a>,
    #[serde(borrow, default)]
    pub connection_string_wo: ValueString<'a>,
    #[serde(default)]
    pub connection_string_wo_version: ValueNum,
    #[serde(borrow, default)]
    pub database_provider: ValueString<'a>,
    #[serde(borrow, default)]
    pub flavor: ValueString<'a>,
    #[serde(borrow, default)]
    pub database_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub schema_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub jwt_allowed_issuers: Strings<'a>,
    #[serde(borrow, default)]
    pub jwt_expected_audiences: Strings<'a>,
    #[serde(borrow, default)]
    pub jwks_uri: ValueString<'a>,
    #[serde(borrow, default)]
    pub jwt_secret: ValueString<'a>,
    #[serde(borrow, default)]
    pub jwt_secret_wo: ValueString<'a>,
    #[serde(default)]
    pub jwt_secret_wo_version: ValueNum,
    #[serde(default)]
    pub jwt_secret_configured: ValueBool,
    #[serde(borrow, default)]
    pub workspace_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

fn is_set(v: &ValueString<'_>) -> bool {
    text(v).is_some_and(|s| !s.is_empty())
}

/// Whether the configuration wants a secret set (`Unknown` while a value is unknown).
fn wants_secret(config: &DatabaseState<'_>) -> Option<bool> {
    if config.jwt_secret.is_unknown() || config.jwt_secret_wo_version.is_unknown() {
        return None;
    }
    Some(is_set(&config.jwt_secret) || config.jwt_secret_wo_version.is_value())
}

fn strings_attr(c: AttributeConstraint, description: &str) -> Attribute {
    attribute(
        AttributeType::List(Box::new(AttributeType::String)),
        c,
        description,
    )
}

/// Plan-time rules of the contract, each on its attribute.
pub fn check_config(diags: &mut Diagnostics, config: &DatabaseState<'_>) {
    let provider = text(&config.database_provider);
    if let Some(p) = provider {
        if p != "postgres" && p != "sqlitecloud" {
            diags.error(
                "Invalid database_provider",
                format!("`database_provider` must be `postgres` or `sqlitecloud`, got `{p}`."),
                AttributePath::new("database_provider"),
            );
        }
    }
    if provider == Some("sqlitecloud") && config.schema_name.is_value() {
        diags.error(
            "schema_name is for PostgreSQL only",
            "`schema_name` applies to the `postgres` provider only: a SQLite Cloud database has \
             no schemas. Remove it, or set `database_provider = \"postgres\"`.",
            AttributePath::new("schema_name"),
        );
    }
    if let Some(s) = text(&config.schema_name) {
        if s.trim().is_empty() || s.len() > 63 {
            diags.error(
                "Invalid schema_name",
                "`schema_name` must be 1 to 63 characters (a PostgreSQL identifier).",
                AttributePath::new("schema_name"),
            );
        }
    }
    if let Some(f) = text(&config.flavor) {
        let valid = !f.is_empty()
            && f.len() <= 32
            && f.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'));
        if !valid {
            diags.error(
                "Invalid flavor",
                format!(
                    "`flavor` is a lowercase name such as `vanilla`, `supabase` or \
                     `sqlitecloud`, got `{f}`."
                ),
                AttributePath::new("flavor"),
            );
        } else if let Some(p) = provider {
            if (p == "sqlitecloud") != (f == "sqlitecloud") {
                diags.error(
                    "Flavor does not match the provider",
                    "The `sqlitecloud` flavor goes with `database_provider = \"sqlitecloud\"`, and only \
                     with it; PostgreSQL flavors are for example `vanilla` or `supabase`.",
                    AttributePath::new("flavor"),
                );
            }
        }
    }
    // One of the two forms of the connection string, not both, each checked the same way.
    match (
        presence(&config.connection_string),
        presence(&config.connection_string_wo),
    ) {
        (Some(false), Some(false)) => diags.error(
            "Missing connection string",
            "Set `connection_string`, or the write-only `connection_string_wo` (Terraform 1.11+) \
             with `connection_string_wo_version`: CloudSync needs it to reach the tenant \
             database.",
            AttributePath::new("connection_string"),
        ),
        (Some(true), Some(true)) => diags.error(
            "Conflicting connection strings",
            "Set either `connection_string` or the write-only `connection_string_wo`, not both.",
            AttributePath::new("connection_string_wo"),
        ),
        _ => {}
    }
    if presence(&config.connection_string_wo) == Some(true)
        && presence(&config.connection_string_wo_version) == Some(false)
    {
        diags.error(
            "Missing connection_string_wo_version",
            "A write-only value is never stored, so Terraform cannot see when it changes: set \
             `connection_string_wo_version` too, and change it whenever you change \
             `connection_string_wo`.",
            AttributePath::new("connection_string_wo_version"),
        );
    }
    whole_number(
        diags,
        &config.connection_string_wo_version,
        "connection_string_wo_version",
        VERSION_RANGE,
    );
    for (name, value) in [
        ("connection_string", &config.connection_string),
        ("connection_string_wo", &config.connection_string_wo),
    ] {
        if let (Some(p), Some(c)) = (provider, text(value)) {
            check_connection_prefix(diags, p, c, name);
        }
    }
    if let Some(l) = text(&config.label) {
        if l.trim().is_empty() {
            diags.error(
                "Invalid label",
                "`label` must not be empty.",
                AttributePath::new("label"),
            );
        }
    }
    if let Some(u) = text(&config.jwks_uri) {
        let ok = url::Url::parse(u)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        if !ok {
            diags.error(
                "Invalid jwks_uri",
                format!("`jwks_uri` must be an absolute http(s) URL, got `{u}`."),
                AttributePath::new("jwks_uri"),
            );
        }
    }
    // Null and unknown are not set (`x = var.x` with the variable null, or unknown in
    // `terraform validate`).
    if presence(&config.jwt_secret) == Some(true) && presence(&config.jwt_secret_wo) == Some(true) {
        diags.error(
            "Conflicting JWT secrets",
            "Set either `jwt_secret` or the write-only `jwt_secret_wo`, not both.",
            AttributePath::new("jwt_secret_wo"),
        );
    }
    if presence(&config.jwt_secret_wo) == Some(true)
        && presence(&config.jwt_secret_wo_version) == Some(false)
    {
        diags.error(
            "Missing jwt_secret_wo_version",
            "A write-only value is never stored, so Terraform cannot see when it changes: set \
             `jwt_secret_wo_version` too, and change it whenever you change `jwt_secret_wo`.",
            AttributePath::new("jwt_secret_wo_version"),
        );
    }
    whole_number(
        diags,
        &config.jwt_secret_wo_version,
        "jwt_secret_wo_version",
        VERSION_RANGE,
    );
}

/// A connection string must match `database_provider` (the value is sensitive: never shown).
fn check_connection_prefix(diags: &mut Diagnostics, p: &str, c: &str, name: &'static str) {
    let ok = match p {
        "postgres" => c.starts_with("postgres://") || c.starts_with("postgresql://"),
        "sqlitecloud" => c.starts_with("sqlitecloud://"),
        _ => true,
    };
    if !ok {
        diags.error(
            "Connection string does not match the provider",
            format!(
                "A `{p}` connection string starts with {}. (The value is sensitive and not \
                 shown.)",
                if p == "postgres" {
                    "`postgres://` or `postgresql://`"
                } else {
                    "`sqlitecloud://`"
                }
            ),
            AttributePath::new(name),
        );
    }
}

/// The API's answer into a state: the API owns what it returns; the state keeps what it
/// never returns (connection string, secret, version).
pub(crate) fn from_api<'a>(db: Database, mut state: DatabaseState<'a>) -> DatabaseState<'a> {
    state.id = known(db.managed_database_id);
    state.label = known(db.label);
    state.database_provider = known(db.provider);
    state.flavor = known(db.flavor);
    state.database_name = known(db.database_name);
    state.schema_name = opt(db.schema_name);
    state.jwt_allowed_issuers =
        api_list(db.jwt_allowed_issuers.as_ref(), &state.jwt_allowed_issuers);
    state.jwt_expected_audiences = api_list(
        db.jwt_expected_audiences.as_ref(),
        &state.jwt_expected_audiences,
    );
    state.jwks_uri = opt(db.jwks_uri.filter(|u| !u.is_empty()));
    state.jwt_secret_configured = match db.jwt_secret_configured {
        Some(b) => Value::Value(b),
        None => Value::Null,
    };
    state.workspace_id = opt(db.workspace_id);
    state.created_at = opt(db.created_at);
    state.jwt_secret_wo = Value::Null;
    state.connection_string_wo = Value::Null;
    state
}

/// The connection string to send: the stored one, else the write-only one of the configuration.
fn connection_value(planned: &DatabaseState<'_>, config: &DatabaseState<'_>) -> Option<String> {
    text(&planned.connection_string)
        .or_else(|| text(&config.connection_string_wo))
        .map(str::to_owned)
}

fn secret_value(planned: &DatabaseState<'_>, config: &DatabaseState<'_>) -> Option<String> {
    text(&planned.jwt_secret)
        .or_else(|| text(&config.jwt_secret_wo))
        .map(str::to_owned)
}

#[async_trait]
impl Resource for DatabaseResource {
    type State<'a> = DatabaseState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Bool, Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A tenant database registered with CloudSync. CloudSync verifies the \
                     connection before it registers the database (and before it stores a new \
                     `connection_string`); when verification fails nothing is registered and \
                     the error says what to fix. Destroying it deletes the registration (the \
                     tenant database itself stays; CloudSync disables its tables first and \
                     reports what it could not clean up as warnings). CloudSync never returns the \
                     connection string or the JWT secret: their attributes say what drift can \
                     and cannot be seen.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "Managed database id (`db_...`), CloudSync's `managedDatabaseId`."),
                    "label" => attribute(String, Required, "Display name. Changed in place."),
                    "connection_string" => sensitive(String, Optional,
                        "How CloudSync connects to the tenant database: `postgres://user:password@host:5432/db` \
                         or `sqlitecloud://host:8860?apikey=...`. Kept in state (sensitive). Changed in place \
                         (CloudSync verifies the new one first). CloudSync never returns it, so a change made \
                         outside Terraform cannot be seen; the `cloudsync_database_connection` data source \
                         checks it live. This or `connection_string_wo` is required; use \
                         `connection_string_wo` to keep it out of state."),
                    "connection_string_wo" => Attribute {
                        sensitive: true,
                        ..attribute(String, Optional,
                            "Write-only connection string (Terraform 1.11+), the same form as \
                             `connection_string`: sent on create and whenever \
                             `connection_string_wo_version` changes (in place, verified by CloudSync \
                             first), never stored in plan or state. Conflicts with `connection_string`.")
                    },
                    "connection_string_wo_version" => attribute(Number, Optional,
                        "A whole number; change it to send `connection_string_wo` again (in place). \
                         Required with `connection_string_wo`."),
                    "database_provider" => attribute(String, Required,
                        "The API's `provider`: `postgres` or `sqlitecloud` (named \
                         `database_provider` because Terraform reserves `provider` in resource \
                         blocks). Changing it replaces the registration."),
                    "flavor" => attribute(String, Required,
                        "Flavor of the tenant database, for example `vanilla` or `supabase` (PostgreSQL), \
                         `sqlitecloud`. Changing it replaces the registration."),
                    "database_name" => attribute(String, Required,
                        "Database name in the tenant server. Changing it replaces the registration."),
                    "schema_name" => attribute(String, OptionalComputed,
                        "PostgreSQL schema CloudSync works in (PostgreSQL only: an error at plan time \
                         with `sqlitecloud`). Changing it replaces the registration."),
                    "jwt_allowed_issuers" => strings_attr(Optional,
                        "JWT issuers CloudSync accepts from client apps. Removing it clears the list."),
                    "jwt_expected_audiences" => strings_attr(Optional,
                        "JWT audiences CloudSync expects. Removing it clears the list."),
                    "jwks_uri" => attribute(String, Optional,
                        "URL of the JWKS that signs client JWTs. Removing it clears it."),
                    "jwt_secret" => sensitive(String, Optional,
                        "Shared JWT secret (HS256). Kept in state (sensitive). The API never returns it: \
                         removing or setting a secret outside Terraform shows as a change of \
                         `jwt_secret_configured` and is undone by the next apply; replacing it by another \
                         value outside Terraform cannot be seen. Removing the argument clears the secret. \
                         Use `jwt_secret_wo` to keep it out of state."),
                    "jwt_secret_wo" => Attribute {
                        sensitive: true,
                        ..attribute(String, Optional,
                            "Write-only JWT secret (Terraform 1.11+): sent on create and whenever \
                             `jwt_secret_wo_version` changes, never stored in plan or state. Conflicts \
                             with `jwt_secret`.")
                    },
                    "jwt_secret_wo_version" => attribute(Number, Optional,
                        "A whole number; change it to send `jwt_secret_wo` again (rotation). Removing \
                         it (with `jwt_secret_wo`) clears the secret."),
                    "jwt_secret_configured" => attribute(Bool, Computed,
                        "Whether CloudSync holds a JWT secret for this database (the API's \
                         `jwtSecretConfigured`; null when the API does not say)."),
                    "workspace_id" => attribute(String, Computed, "The workspace (the API key's)."),
                    "created_at" => attribute(String, Computed, "Registration time (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: DatabaseState<'a>) -> Option<()> {
        check_config(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: DatabaseState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let client = self.data.client(diags)?;
        let id = text(&state.id)?.to_owned();
        match client.get_database(&id).await {
            Ok(db) => Some((from_api(db, state), private)),
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
        mut proposed: DatabaseState<'a>,
        config: DatabaseState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        proposed.id = Value::Unknown;
        proposed.workspace_id = Value::Unknown;
        proposed.created_at = Value::Unknown;
        proposed.jwt_secret_wo = Value::Null;
        proposed.connection_string_wo = Value::Null;
        proposed.jwt_secret_configured = Value::Unknown;
        if config.schema_name.is_null() {
            proposed.schema_name = match text(&proposed.database_provider) {
                Some("sqlitecloud") => Value::Null,
                _ => Value::Unknown,
            };
        }
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseState<'a>,
        mut proposed: DatabaseState<'a>,
        config: DatabaseState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty, Vec<AttributePath>)> {
        proposed.jwt_secret_wo = Value::Null;
        proposed.connection_string_wo = Value::Null;
        let mut replace = vec![];
        for (name, old, new) in [
            (
                "database_provider",
                &prior.database_provider,
                &proposed.database_provider,
            ),
            ("flavor", &prior.flavor, &proposed.flavor),
            (
                "database_name",
                &prior.database_name,
                &proposed.database_name,
            ),
        ] {
            if old != new {
                replace.push(AttributePath::new(name));
            }
        }
        if !config.schema_name.is_null() && proposed.schema_name != prior.schema_name {
            replace.push(AttributePath::new("schema_name"));
        }
        if !replace.is_empty() {
            let names: Vec<String> = replace.iter().map(|p| format!("`{p}`")).collect();
            diags.warning(
                "This plan replaces a CloudSync registration",
                format!(
                    "CloudSync cannot change {} in place, so this plan deletes the registration \
                     `{}` (CloudSync disables sync on its tables and drops their metadata) and \
                     registers the database again under a new id; the `cloudsync_table_sync` \
                     and `cloudsync_expo_access_token` resources of the old id are replaced \
                     too. Devices registered with the old id do not move.",
                    names.join(", "),
                    text(&prior.id).unwrap_or_default()
                ),
                replace[0].clone(),
            );
            proposed.id = Value::Unknown;
            proposed.workspace_id = Value::Unknown;
            proposed.created_at = Value::Unknown;
            proposed.jwt_secret_configured = Value::Unknown;
            if config.schema_name.is_null() {
                proposed.schema_name = Value::Unknown;
            }
            return Some((proposed, Value::Null, replace));
        }
        // The secret: a changed value or version is sent again; a presence that differs
        // from the configuration (changed outside Terraform) is planned back, visibly.
        let secret_changed = proposed.jwt_secret != prior.jwt_secret
            || proposed.jwt_secret_wo_version != prior.jwt_secret_wo_version;
        match (wants_secret(&config), &prior.jwt_secret_configured) {
            // The API does not report it: nothing to plan.
            (_, Value::Null) => {}
            (None, _) => proposed.jwt_secret_configured = Value::Unknown,
            (Some(want), Value::Value(have)) if want != *have => {
                proposed.jwt_secret_configured = Value::Value(want)
            }
            (Some(want), _) if secret_changed => {
                proposed.jwt_secret_configured = Value::Value(want)
            }
            _ => {}
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
        planned: DatabaseState<'a>,
        config: DatabaseState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let client = self.data.client(diags)?;
        let request = NewDatabase {
            label: text(&planned.label)?.to_owned(),
            connection_string: match connection_value(&planned, &config) {
                Some(c) => c,
                None => {
                    diags.error(
                        "Missing connection string",
                        "Set `connection_string` or `connection_string_wo`: CloudSync needs it to \
                         reach the tenant database.",
                        AttributePath::new("connection_string"),
                    );
                    return None;
                }
            },
            provider: text(&planned.database_provider)?.to_owned(),
            flavor: text(&planned.flavor)?.to_owned(),
            database_name: text(&planned.database_name)?.to_owned(),
            schema_name: text(&config.schema_name).map(str::to_owned),
            jwt_allowed_issuers: strings(&planned.jwt_allowed_issuers).filter(|l| !l.is_empty()),
            jwt_expected_audiences: strings(&planned.jwt_expected_audiences)
                .filter(|l| !l.is_empty()),
            jwks_uri: text(&planned.jwks_uri).map(str::to_owned),
            jwt_secret: secret_value(&planned, &config).filter(|s| !s.is_empty()),
        };
        // One operation: the registration and, when its answer is lost, the list that
        // looks for it share one deadline (the list keeps a part of it), and the error says
        // what each attempt gave.
        let mut lookup = Diagnostics::default();
        let (outcome, tally) = client
            .operation(async {
                let created = client
                    .leaving_time_to_settle(client.create_database(&request))
                    .await;
                if let Err(e) = &created {
                    if e.may_have_taken_effect() {
                        registration_unknown(&mut lookup, &client, &request).await;
                    }
                }
                created
            })
            .await;
        let id = match outcome {
            Ok(id) => id,
            Err(e) => {
                api_error(diags, &e);
                let tried = tally.describe();
                if let (true, Some(last)) = (
                    e.may_have_taken_effect() && !tried.is_empty(),
                    diags.errors.last_mut(),
                ) {
                    last.detail = format!("{}\n\nTried: {tried}.", last.detail).into();
                }
                diags.errors.append(&mut lookup.errors);
                diags.warnings.append(&mut lookup.warnings);
                return None;
            }
        };
        let mut state = planned.clone();
        state.id = known(id.clone());
        match client.get_database(&id).await {
            Ok(db) => Some((from_api(db, state), Value::Null)),
            Err(e) => {
                // Registered: keep it in state (tainted by the error) so nothing is orphaned.
                api_error(diags, &e);
                state.workspace_id = Value::Null;
                state.created_at = Value::Null;
                state.jwt_secret_configured = Value::Null;
                if state.schema_name.is_unknown() {
                    state.schema_name = Value::Null;
                }
                Some((state, Value::Null))
            }
        }
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseState<'a>,
        planned: DatabaseState<'a>,
        config: DatabaseState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let client = self.data.client(diags)?;
        let id = text(&prior.id)?.to_owned();
        let mut patch = DatabasePatch::default();
        if planned.label != prior.label {
            patch.label = text(&planned.label).map(str::to_owned);
        }
        // A new value, a new version of the write-only one, or a switch between the two
        // forms: sent again (CloudSync verifies it before storing it).
        if planned.connection_string != prior.connection_string
            || planned.connection_string_wo_version != prior.connection_string_wo_version
        {
            patch.connection_string = connection_value(&planned, &config);
        }
        if planned.jwt_allowed_issuers != prior.jwt_allowed_issuers {
            patch.jwt_allowed_issuers =
                Some(strings(&planned.jwt_allowed_issuers).unwrap_or_default());
        }
        if planned.jwt_expected_audiences != prior.jwt_expected_audiences {
            patch.jwt_expected_audiences =
                Some(strings(&planned.jwt_expected_audiences).unwrap_or_default());
        }
        if planned.jwks_uri != prior.jwks_uri {
            patch.jwks_uri = Some(text(&planned.jwks_uri).map(str::to_owned));
        }
        let secret_changed = planned.jwt_secret != prior.jwt_secret
            || planned.jwt_secret_wo_version != prior.jwt_secret_wo_version
            || (planned.jwt_secret_configured.is_value()
                && planned.jwt_secret_configured != prior.jwt_secret_configured);
        if secret_changed {
            // "" clears (seed 002).
            patch.jwt_secret = Some(secret_value(&planned, &config).unwrap_or_default());
        }
        if patch.is_empty() {
            let mut state = planned;
            if state.jwt_secret_configured.is_unknown() {
                state.jwt_secret_configured = prior.jwt_secret_configured;
            }
            return Some((state, Value::Null));
        }
        match client.patch_database(&id, &patch).await {
            Ok(db) => Some((from_api(db, planned), Value::Null)),
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.client(diags)?;
        let id = text(&prior.id)?.to_owned();
        match client.delete_database(&id).await {
            Ok(result) => {
                for warning in result.warnings {
                    diags.root_warning(
                        "CloudSync cleanup warning",
                        format!(
                            "Database `{id}` was deleted, but CloudSync reported: {}. Check the \
                             tenant database for CloudSync's `<table>_cloudsync` metadata tables \
                             and drop them if you no longer need them.",
                            client.clean(&warning)
                        ),
                    );
                }
                Some(())
            }
            other => deleted(diags, other),
        }
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        check_database_id(diags, &id, "id");
        if !diags.errors.is_empty() {
            return None;
        }
        let client = self.data.client(diags)?;
        match client.get_database(&id).await {
            Ok(db) => {
                diags.root_warning(
                    "Connection string and JWT secret are not imported",
                    "CloudSync never returns a database's connection string or JWT secret, so \
                     they are null after import: the next apply sends the configured \
                     `connection_string` or `connection_string_wo` (CloudSync verifies it again) \
                     and secret.",
                );
                Some((from_api(db, DatabaseState::default()), Value::Null))
            }
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}

/// After a create whose answer was lost: what the workspace now holds of the same
/// registration, so the error can name it and the import command.
async fn registration_unknown(
    diags: &mut Diagnostics,
    client: &crate::cloudsync::client::Client,
    request: &NewDatabase,
) {
    let Ok(all) = client.list_databases().await else {
        return;
    };
    let matching: Vec<String> = all
        .into_iter()
        .filter(|d| {
            d.label == request.label
                && d.provider == request.provider
                && d.database_name == request.database_name
        })
        .map(|d| d.managed_database_id)
        .collect();
    if !matching.is_empty() {
        diags.root_error(
            "The registration may have been made",
            format!(
                "The answer to the registration was lost. The workspace holds {} with the same \
                 label, provider and database name: if one of them is this one, import it \
                 (`terraform import <address> {}`) instead of applying again, which would \
                 register it twice.",
                matching
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                matching[0]
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DatabaseState<'static> {
        DatabaseState {
            label: known("L"),
            connection_string: known("postgres://u:p@h/db"),
            database_provider: known("postgres"),
            flavor: known("vanilla"),
            database_name: known("db"),
            ..Default::default()
        }
    }

    #[test]
    fn schema_name_is_for_postgres_only_at_plan_time() {
        let mut d = Diagnostics::default();
        check_config(&mut d, &cfg());
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        let mut c = cfg();
        c.database_provider = known("sqlitecloud");
        c.flavor = known("sqlitecloud");
        c.connection_string = known("sqlitecloud://h?apikey=k");
        c.schema_name = known("public");
        let mut d = Diagnostics::default();
        check_config(&mut d, &c);
        assert_eq!(d.errors.len(), 1);
        assert_eq!(d.errors[0].attribute, AttributePath::new("schema_name"));
    }

    #[test]
    fn bad_values_point_at_their_attributes() {
        let mut c = cfg();
        c.database_provider = known("mysql");
        c.jwks_uri = known("not a url");
        c.jwt_secret = known("a");
        c.jwt_secret_wo = known("b");
        c.jwt_secret_wo_version = Value::Value(crate::plugin::kit::Number::Float(1.5));
        let mut d = Diagnostics::default();
        check_config(&mut d, &c);
        let attrs: Vec<_> = d.errors.iter().map(|e| e.attribute.clone()).collect();
        for a in [
            "database_provider",
            "jwks_uri",
            "jwt_secret_wo",
            "jwt_secret_wo_version",
        ] {
            assert!(attrs.contains(&AttributePath::new(a)), "{a}: {attrs:?}");
        }
        let mut c = cfg();
        c.connection_string = known("sqlitecloud://x");
        let mut d = Diagnostics::default();
        check_config(&mut d, &c);
        assert_eq!(
            d.errors[0].attribute,
            AttributePath::new("connection_string")
        );
        assert!(!d.errors[0].detail.contains("sqlitecloud://x"));
    }

    #[test]
    fn one_connection_string_form_is_required_and_checked() {
        // Neither: an error on `connection_string`.
        let mut c = cfg();
        c.connection_string = Value::Null;
        let mut d = Diagnostics::default();
        check_config(&mut d, &c);
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert_eq!(
            d.errors[0].attribute,
            AttributePath::new("connection_string")
        );
        // Unknown (a variable in `terraform validate`): not decided, no error.
        c.connection_string = Value::Unknown;
        let mut d = Diagnostics::default();
        check_config(&mut d, &c);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        // The write-only form with its version: valid.
        c.connection_string = Value::Null;
        c.connection_string_wo = known("postgresql://u:p@h/db");
        c.connection_string_wo_version = Value::Value(crate::plugin::kit::Number::Int(1));
        let mut d = Diagnostics::default();
        check_config(&mut d, &c);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        // Both forms, no version, the wrong prefix: each on its attribute, value not shown.
        let mut c = cfg();
        c.connection_string_wo = known("sqlitecloud://h?apikey=secretkey");
        let mut d = Diagnostics::default();
        check_config(&mut d, &c);
        let attrs: Vec<_> = d.errors.iter().map(|e| e.attribute.clone()).collect();
        assert_eq!(
            attrs,
            vec![
                AttributePath::new("connection_string_wo"),
                AttributePath::new("connection_string_wo_version"),
                AttributePath::new("connection_string_wo"),
            ]
        );
        assert!(d.errors.iter().all(|e| !e.detail.contains("secretkey")));
        // A fractional version.
        let mut c = cfg();
        c.connection_string = Value::Null;
        c.connection_string_wo = known("postgres://u:p@h/db");
        c.connection_string_wo_version = Value::Value(crate::plugin::kit::Number::Float(0.5));
        let mut d = Diagnostics::default();
        check_config(&mut d, &c);
        assert_eq!(d.errors.len(), 1, "{:?}", d.errors);
        assert_eq!(
            d.errors[0].attribute,
            AttributePath::new("connection_string_wo_version")
        );
    }

    #[tokio::test]
    async fn write_only_connection_string_is_never_planned() {
        let r = DatabaseResource::new(Arc::default());
        let with_wo = |version: i64| {
            let mut c = prior();
            c.connection_string = Value::Null;
            c.connection_string_wo = known("postgres://u:p@h/db");
            c.connection_string_wo_version = Value::Value(crate::plugin::kit::Number::Int(version));
            c
        };
        let (planned, _) = r
            .plan_create(
                &mut Diagnostics::default(),
                with_wo(1),
                with_wo(1),
                Value::Null,
            )
            .await
            .unwrap();
        assert!(planned.connection_string_wo.is_null());
        let mut p = with_wo(1);
        p.connection_string_wo = Value::Null;
        // A version bump: in place, the value still null in the plan.
        let (planned, _, replace) = r
            .plan_update(
                &mut Diagnostics::default(),
                p,
                with_wo(2),
                with_wo(2),
                Value::Null,
                Value::Null,
            )
            .await
            .unwrap();
        assert!(replace.is_empty());
        assert!(planned.connection_string_wo.is_null());
        assert_eq!(
            planned.connection_string_wo_version,
            Value::Value(crate::plugin::kit::Number::Int(2))
        );
        assert_eq!(
            connection_value(&planned, &with_wo(2)).as_deref(),
            Some("postgres://u:p@h/db")
        );
    }

    fn prior() -> DatabaseState<'static> {
        DatabaseState {
            id: known("db_1"),
            schema_name: Value::Null,
            jwt_secret: known("s"),
            jwt_secret_configured: Value::Value(true),
            workspace_id: known("ws"),
            created_at: known("t"),
            ..cfg()
        }
    }

    #[tokio::test]
    async fn secret_presence_drift_is_planned_back() {
        let r = DatabaseResource::new(Arc::default());
        // Cleared outside Terraform while the configuration sets one.
        let mut p = prior();
        p.jwt_secret_configured = Value::Value(false);
        let config = prior();
        let (planned, _, replace) = r
            .plan_update(
                &mut Diagnostics::default(),
                p,
                prior(),
                config,
                Value::Null,
                Value::Null,
            )
            .await
            .unwrap();
        assert!(replace.is_empty());
        assert_eq!(planned.jwt_secret_configured, Value::Value(true));
        // Nothing changed: nothing planned.
        let (planned, _, _) = r
            .plan_update(
                &mut Diagnostics::default(),
                prior(),
                prior(),
                prior(),
                Value::Null,
                Value::Null,
            )
            .await
            .unwrap();
        assert_eq!(planned, prior());
        // Removing the secret plans it cleared.
        let mut c = prior();
        c.jwt_secret = Value::Null;
        let (planned, _, _) = r
            .plan_update(
                &mut Diagnostics::default(),
                prior(),
                c.clone(),
                c,
                Value::Null,
                Value::Null,
            )
            .await
            .unwrap();
        assert_eq!(planned.jwt_secret_configured, Value::Value(false));
    }

    #[tokio::test]
    async fn fixed_fields_replace() {
        let r = DatabaseResource::new(Arc::default());
        let mut c = prior();
        c.database_name = known("other");
        c.schema_name = known("app");
        let (planned, _, replace) = r
            .plan_update(
                &mut Diagnostics::default(),
                prior(),
                c.clone(),
                c,
                Value::Null,
                Value::Null,
            )
            .await
            .unwrap();
        assert_eq!(
            replace,
            vec![
                AttributePath::new("database_name"),
                AttributePath::new("schema_name")
            ]
        );
        assert!(planned.id.is_unknown());
        let mut diags = Diagnostics::default();
        let mut c = prior();
        c.flavor = known("supabase");
        r.plan_update(&mut diags, prior(), c.clone(), c, Value::Null, Value::Null)
            .await
            .unwrap();
        assert_eq!(diags.warnings.len(), 1);
        assert!(
            diags.warnings[0].detail.contains("db_1"),
            "{}",
            diags.warnings[0].detail
        );
    }
}
