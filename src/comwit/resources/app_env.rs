//! `comwit_app_env`: the environment variables of one app, as one resource.
//!
//! - One `GET /v1/apps/{app}/env` per refresh, whatever the number of variables; apply
//!   sends one PUT per variable that changes and one DELETE per variable that goes.
//! - `vars` are plain (their values are read back, so an out-of-band change shows in the
//!   plan); `secrets` are sensitive and `secrets_wo` write-only (Terraform 1.11+): the
//!   platform never answers a sensitive value, so `versions` (key → the platform's version
//!   of that key, one more at every write) is how an out-of-band change is noticed:
//!   - a secret whose version changed is dropped from `secrets` in state, so the plan
//!     shows an update of `secrets` (still `(sensitive value)`) that writes it again;
//!   - a write-only secret whose version changed is noted in private state, and the plan
//!     writes it again (an update of `versions`);
//!   - a managed variable deleted out of band plans its re-creation.
//! - `authoritative = false` (the default) leaves variables not in the configuration
//!   alone; `true` shows them (plain ones in `vars`, every one in `versions`) so the plan
//!   deletes them.
//! - The plan is exactly what apply stores: `versions` is known for every key that is not
//!   written, unknown for the keys apply writes.
//! - Import by app id: the current plain variables become `vars`; secrets are never read
//!   back, so they must be written in the configuration.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueBool, ValueEmpty, ValueMap, ValueNumber, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};
use tracing::debug;

use crate::client::Secret;
use crate::comwit::client::{EnvValue, EnvVar};
use crate::comwit::common::{api_error, check_id};
use crate::comwit::provider::ProviderData;
use crate::plugin::kit::{attribute, known, sensitive, text};
use crate::plugin::{IdentityAttribute, IdentitySpec};

/// The Terraform type name.
pub const TYPE_NAME: &str = "comwit_app_env";

/// The contract's limits: keys, values and variables per app.
pub const MAX_KEY_CHARS: usize = 128;
pub const MAX_VALUE_BYTES: usize = 65_536;
pub const MAX_VARIABLES: usize = 200;
/// Keys the platform keeps for itself.
pub const RESERVED_PREFIX: &str = "COMWIT_";

/// The attributes that hold variables, in the order a key found in two is reported.
const MAP_ATTRIBUTES: [&str; 3] = ["vars", "secrets", "secrets_wo"];

/// Identity `{ app_id }`.
pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![IdentityAttribute {
            name: "app_id",
            description: "App id (`app_...`) whose environment this is.",
            required_for_import: true,
        }],
    }
}

/// The `comwit_app_env` resource.
pub struct AppEnvResource {
    data: Arc<ProviderData>,
}

impl AppEnvResource {
    /// A resource sharing the provider's configured client.
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

type StringMap<'a> = ValueMap<'a, ValueString<'a>>;

/// State of `comwit_app_env`; field names are the attribute names.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppEnvState<'a> {
    #[serde(borrow, default)]
    pub app_id: ValueString<'a>,
    #[serde(borrow, default)]
    pub vars: StringMap<'a>,
    #[serde(borrow, default)]
    pub secrets: StringMap<'a>,
    /// Write-only: null in every plan and state; its values come from the configuration.
    #[serde(borrow, default)]
    pub secrets_wo: StringMap<'a>,
    #[serde(default)]
    pub secrets_wo_version: crate::plugin::kit::ValueNum,
    #[serde(default)]
    pub authoritative: ValueBool,
    #[serde(borrow, default)]
    pub versions: ValueMap<'a, ValueNumber>,
}

/// Private state: what the state cannot say.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvPrivate {
    /// The keys this resource wrote at its last apply (every key of its configuration):
    /// with `authoritative = false` only these are ever deleted. `None` after import.
    #[serde(default)]
    pub managed: Option<Vec<String>>,
    /// Write-only secrets whose version changed out of band (seen by a refresh): the next
    /// plan writes them again.
    #[serde(default)]
    pub stale_wo: Vec<String>,
}

type PrivateValue = Value<EnvPrivate>;

/// What an apply does: the keys it writes and the keys it deletes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub writes: BTreeSet<String>,
    pub deletes: BTreeSet<String>,
}

fn entries<'s, T>(map: &'s ValueMap<'s, T>) -> impl Iterator<Item = (&'s str, &'s T)> {
    map.as_ref_option()
        .into_iter()
        .flat_map(|m| m.iter().map(|(k, v)| (k.as_ref(), v)))
}

fn has_key<T>(map: &ValueMap<'_, T>, key: &str) -> bool {
    map.as_ref_option().is_some_and(|m| m.contains_key(key))
}

fn get<'s, T>(map: &'s ValueMap<'_, T>, key: &str) -> Option<&'s T> {
    map.as_ref_option().and_then(|m| m.get(key))
}

impl AppEnvState<'_> {
    /// Every key of the configuration (all three maps).
    fn config_keys(&self) -> BTreeSet<String> {
        entries(&self.vars)
            .chain(entries(&self.secrets))
            .chain(entries(&self.secrets_wo))
            .map(|(k, _)| k.to_owned())
            .collect()
    }

    /// Every key the state shows: in `vars`, `secrets` or `versions`.
    fn state_keys(&self) -> BTreeSet<String> {
        entries(&self.vars)
            .map(|(k, _)| k)
            .chain(entries(&self.secrets).map(|(k, _)| k))
            .chain(entries(&self.versions).map(|(k, _)| k))
            .map(str::to_owned)
            .collect()
    }

    /// Whether some key set of the configuration is not known yet.
    fn keys_unknown(&self) -> bool {
        [&self.vars, &self.secrets, &self.secrets_wo]
            .iter()
            .any(|m| m.is_unknown())
    }

    fn is_authoritative(&self) -> bool {
        self.authoritative == Value::Value(true)
    }
}

/// The keys an apply writes and deletes, from the prior state (`None` for a create), the
/// configuration and the private state. Plan and apply both call it, so apply does what
/// the plan said. A value not known yet counts as a write.
pub fn changes(
    prior: Option<&AppEnvState<'_>>,
    config: &AppEnvState<'_>,
    private: &EnvPrivate,
) -> Changes {
    let mut out = Changes::default();
    let wanted = config.config_keys();
    let Some(prior) = prior else {
        out.writes = wanted;
        return out;
    };
    let versioned = |k: &str| has_key(&prior.versions, k);
    for (key, value) in entries(&config.vars) {
        if get(&prior.vars, key) != Some(value) || !versioned(key) || value.is_unknown() {
            out.writes.insert(key.to_owned());
        }
    }
    for (key, value) in entries(&config.secrets) {
        if get(&prior.secrets, key) != Some(value) || !versioned(key) || value.is_unknown() {
            out.writes.insert(key.to_owned());
        }
    }
    let wo_version_changed = config.secrets_wo_version != prior.secrets_wo_version;
    for (key, value) in entries(&config.secrets_wo) {
        let moved = has_key(&prior.vars, key) || has_key(&prior.secrets, key);
        if wo_version_changed
            || moved
            || !versioned(key)
            || value.is_unknown()
            || private.stale_wo.iter().any(|k| k == key)
        {
            out.writes.insert(key.to_owned());
        }
    }
    let candidates: BTreeSet<String> = if config.is_authoritative() {
        prior.state_keys()
    } else {
        match &private.managed {
            Some(managed) => managed.iter().cloned().collect(),
            None => prior.state_keys(),
        }
    };
    if !config.keys_unknown() {
        out.deletes = candidates.difference(&wanted).cloned().collect();
    }
    out
}

/// The `versions` a plan promises: the prior version of every configured key apply does
/// not write, unknown for the keys it writes; unknown as a whole when the configured keys
/// are not known yet.
fn planned_versions<'a>(
    prior: Option<&AppEnvState<'_>>,
    config: &AppEnvState<'_>,
    changes: &Changes,
) -> ValueMap<'a, ValueNumber> {
    if config.keys_unknown() {
        return Value::Unknown;
    }
    let mut out = BTreeMap::new();
    for key in config.config_keys() {
        let version = if changes.writes.contains(&key) {
            Value::Unknown
        } else {
            prior
                .and_then(|p| get(&p.versions, &key))
                .copied()
                .unwrap_or(Value::Unknown)
        };
        out.insert(Cow::Owned(key), version);
    }
    Value::Value(out)
}

/// Whether `key` follows the contract: 1 to 128 characters of `[A-Za-z0-9_]`, not starting
/// with a digit nor with `COMWIT_`. The reason when it does not.
pub fn key_problem(key: &str) -> Option<String> {
    if key.is_empty() || key.len() > MAX_KEY_CHARS {
        return Some(format!(
            "a key must be 1 to {MAX_KEY_CHARS} characters long (this one has {})",
            key.chars().count()
        ));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!(
            "a key may hold only letters A-Z and a-z, digits and `_`, not {c:?}"
        ));
    }
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        return Some("a key must not start with a digit".to_owned());
    }
    if key.starts_with(RESERVED_PREFIX) {
        return Some(format!(
            "keys starting with `{RESERVED_PREFIX}` are reserved by the platform"
        ));
    }
    None
}

/// Plan-time checks of the contract's rules, each on the attribute and key it is about.
/// Values are never quoted (a secret's must not reach a diagnostic).
pub fn check(diags: &mut Diagnostics, config: &AppEnvState<'_>) {
    if let Some(id) = text(&config.app_id) {
        check_id(diags, id, "app_", "app_id");
    }
    let maps = [&config.vars, &config.secrets, &config.secrets_wo];
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    let mut count = 0;
    for (attr, map) in MAP_ATTRIBUTES.into_iter().zip(maps) {
        for (key, value) in entries(map) {
            count += 1;
            let path = AttributePath::new(attr).key(key.to_owned());
            if let Some(problem) = key_problem(key) {
                diags.error(
                    "Invalid environment variable key",
                    format!(
                        "`{attr}` key `{key}` is not a valid key: {problem}. Rename the \
                         variable (keys are 1 to 128 characters of letters, digits and `_`, \
                         not starting with a digit or `COMWIT_`)."
                    ),
                    path.clone(),
                );
            }
            if let Some(first) = seen.get(key) {
                diags.error(
                    "Environment variable set twice",
                    format!(
                        "Key `{key}` is in both `{first}` and `{attr}`; a variable is either \
                         plain (`vars`), sensitive (`secrets`) or write-only (`secrets_wo`). \
                         Remove it from one of them."
                    ),
                    path.clone(),
                );
            } else {
                seen.insert(key, attr);
            }
            if let Some(v) = text(value) {
                if v.len() > MAX_VALUE_BYTES {
                    diags.error(
                        "Environment variable value too long",
                        format!(
                            "The value of `{attr}` key `{key}` is {} bytes of UTF-8; the \
                             platform takes at most {MAX_VALUE_BYTES} bytes. Shorten it.",
                            v.len()
                        ),
                        path,
                    );
                }
            }
        }
    }
    if count > MAX_VARIABLES {
        diags.error(
            "Too many environment variables",
            format!(
                "This configuration sets {count} variables; an app has at most \
                 {MAX_VARIABLES}. Remove some from `vars`, `secrets` or `secrets_wo`."
            ),
            AttributePath::new("vars"),
        );
    }
}

/// A refreshed state from the platform's variables (see the module's rules), and the
/// private state with the write-only secrets that changed out of band.
pub fn refresh<'a>(
    state: AppEnvState<'a>,
    private: EnvPrivate,
    env: Vec<EnvVar>,
) -> (AppEnvState<'a>, EnvPrivate) {
    let platform: BTreeMap<String, EnvVar> = env.into_iter().map(|v| (v.key.clone(), v)).collect();
    let mut out = AppEnvState {
        vars: state.vars.clone(),
        secrets: state.secrets.clone(),
        versions: Value::Null,
        ..state.clone()
    };
    let mut versions = BTreeMap::new();
    let mut private = private;
    let prior_version = |k: &str| get(&state.versions, k).and_then(|v| v.as_ref_option().copied());

    if let Value::Value(vars) = &mut out.vars {
        vars.retain(|k, _| platform.get(k.as_ref()).is_some_and(|v| !v.sensitive));
        for (k, v) in vars.iter_mut() {
            if let Some(found) = platform.get(k.as_ref()) {
                *v = found.value.clone().map(known).unwrap_or(Value::Null);
                versions.insert(Cow::Owned(k.to_string()), number(found.version));
            }
        }
    }
    if let Value::Value(secrets) = &mut out.secrets {
        secrets.retain(|k, _| {
            platform
                .get(k.as_ref())
                .is_some_and(|v| v.sensitive && Some(v.version as i64) == prior_version(k.as_ref()))
        });
        for (k, _) in entries(&state.secrets) {
            // Still there (changed or not): its version is the platform's now.
            if let Some(found) = platform.get(k).filter(|v| v.sensitive) {
                versions.insert(Cow::Owned(k.to_owned()), number(found.version));
            }
        }
    }
    // Write-only secrets: keys only `versions` knows.
    for (key, _) in entries(&state.versions) {
        if has_key(&state.vars, key) || has_key(&state.secrets, key) {
            continue;
        }
        let Some(found) = platform.get(key) else {
            continue; // deleted out of band: the plan writes it again
        };
        let changed = !found.sensitive || Some(found.version as i64) != prior_version(key);
        if changed && !private.stale_wo.iter().any(|k| k == key) {
            private.stale_wo.push(key.to_owned());
        }
        versions.insert(Cow::Owned(key.to_owned()), number(found.version));
    }
    if state.is_authoritative() {
        for (key, found) in &platform {
            if versions.contains_key(key.as_str()) || out.state_keys().contains(key) {
                continue;
            }
            if !found.sensitive {
                if !out.vars.is_value() {
                    out.vars = Value::Value(BTreeMap::new());
                }
                if let Value::Value(vars) = &mut out.vars {
                    vars.insert(
                        Cow::Owned(key.clone()),
                        found.value.clone().map(known).unwrap_or(Value::Null),
                    );
                }
            }
            versions.insert(Cow::Owned(key.clone()), number(found.version));
        }
    }
    out.versions = Value::Value(versions);
    (out, private)
}

fn number(n: u64) -> ValueNumber {
    Value::Value(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The state an import makes: the plain variables in `vars`, their versions; secrets are
/// not read back.
pub fn imported<'a>(app_id: String, env: Vec<EnvVar>) -> (AppEnvState<'a>, EnvPrivate) {
    let mut vars = BTreeMap::new();
    let mut versions = BTreeMap::new();
    for var in env.into_iter().filter(|v| !v.sensitive) {
        versions.insert(Cow::Owned(var.key.clone()), number(var.version));
        vars.insert(
            Cow::Owned(var.key),
            var.value.map(known).unwrap_or(Value::Null),
        );
    }
    let state = AppEnvState {
        app_id: known(app_id),
        vars: if vars.is_empty() {
            Value::Null
        } else {
            Value::Value(vars)
        },
        authoritative: Value::Value(false),
        versions: Value::Value(versions),
        ..Default::default()
    };
    (state, EnvPrivate::default())
}

fn private_of(p: PrivateValue) -> EnvPrivate {
    p.as_option().unwrap_or_default()
}

#[async_trait]
impl Resource for AppEnvResource {
    type State<'a> = AppEnvState<'a>;
    type PrivateState<'a> = PrivateValue;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Bool, Map, Number, String};
        let strings = || Map(Box::new(String));
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "The environment variables of one app, as one resource: one read per \
                     refresh, one write per variable that changes. The running build sees a \
                     change at once (no new build). Plain `vars` are read back, so a value \
                     changed outside Terraform shows in the plan. Sensitive values are never \
                     read back: `versions` notices when one was written outside Terraform, \
                     and the plan writes it again. Importing (by app id) brings the current \
                     plain variables into `vars`; secrets must be written in the \
                     configuration. Destroying it deletes the variables it manages (all of \
                     them with `authoritative = true`).",
                ),
                attributes: map! {
                    "app_id" => attribute(String, Required,
                        "App (`app_...`) whose environment this is. Changing it replaces the resource."),
                    "vars" => attribute(strings(), Optional,
                        "Plain variables, key to value. Keys: 1 to 128 letters, digits and `_`, \
                         not starting with a digit or `COMWIT_`; values: at most 65,536 bytes of \
                         UTF-8, kept exactly (newlines and any characters included)."),
                    "secrets" => sensitive(strings(), Optional,
                        "Sensitive variables, key to value, same rules as `vars`. Kept in state \
                         (marked sensitive); the platform never returns their values."),
                    "secrets_wo" => sensitive(strings(), Optional,
                        "Write-only sensitive variables (Terraform 1.11 or later), never stored \
                         in plan or state. They are sent when a key is added or written \
                         elsewhere, and all again when `secrets_wo_version` changes."),
                    "secrets_wo_version" => attribute(Number, Optional,
                        "Any number; changing it sends every `secrets_wo` value again (change it \
                         when you change a write-only value)."),
                    "authoritative" => attribute(Bool, OptionalComputed,
                        "`false` (default): variables not in this resource are left alone. \
                         `true`: every other variable of the app shows in the plan (in \
                         `versions`, and plain ones in `vars`) and is deleted on apply."),
                    "versions" => attribute(Map(Box::new(Number)), Computed,
                        "The platform's version of each variable (one more at every write), so \
                         a secret written outside Terraform is noticed."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: AppEnvState<'a>) -> Option<()> {
        check(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: AppEnvState<'a>,
        private: PrivateValue,
        _meta: ValueEmpty,
    ) -> Option<(AppEnvState<'a>, PrivateValue)> {
        let client = self.data.configured(diags)?.client;
        let app = text(&state.app_id)?.to_owned();
        match client.get_env(&app).await {
            Ok(env) => {
                let (state, private) = refresh(state, private_of(private), env);
                Some((state, Value::Value(private)))
            }
            Err(e) if e.is_not_found() => {
                debug!(app_id = %app, "app no longer exists; so does its environment");
                None
            }
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        mut proposed: AppEnvState<'a>,
        config: AppEnvState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(AppEnvState<'a>, PrivateValue)> {
        check(diags, &config);
        if !diags.errors.is_empty() {
            return None;
        }
        let changes = changes(None, &config, &EnvPrivate::default());
        proposed.versions = planned_versions(None, &config, &changes);
        proposed.secrets_wo = Value::Null;
        if proposed.authoritative.is_null() {
            proposed.authoritative = Value::Value(false);
        }
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AppEnvState<'a>,
        mut proposed: AppEnvState<'a>,
        config: AppEnvState<'a>,
        prior_private: PrivateValue,
        _meta: ValueEmpty,
    ) -> Option<(AppEnvState<'a>, PrivateValue, Vec<AttributePath>)> {
        check(diags, &config);
        if !diags.errors.is_empty() {
            return None;
        }
        if proposed.app_id != prior.app_id {
            proposed.versions = Value::Unknown;
            proposed.secrets_wo = Value::Null;
            if proposed.authoritative.is_null() {
                proposed.authoritative = Value::Value(false);
            }
            return Some((proposed, Value::Null, vec![AttributePath::new("app_id")]));
        }
        let private = private_of(prior_private);
        let changes = changes(Some(&prior), &config, &private);
        let newly_unmanaged = self
            .turning_authoritative(diags, &prior, &config, &changes)
            .await?;
        if !newly_unmanaged.is_empty() {
            let keys: Vec<String> = newly_unmanaged.iter().map(|k| format!("`{k}`")).collect();
            diags.warning(
                "Variables will be deleted",
                format!(
                    "With `authoritative = true`, apply deletes the app's variables that are \
                     not in this resource: {}. Remove `authoritative` to leave them alone.",
                    keys.join(", ")
                ),
                AttributePath::new("authoritative"),
            );
        }
        proposed.versions = planned_versions(Some(&prior), &config, &changes);
        proposed.secrets_wo = Value::Null;
        if config.authoritative.is_null() {
            proposed.authoritative = Value::Value(false);
        }
        Some((proposed, Value::Value(private), vec![]))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: AppEnvState<'a>,
        prior_private: PrivateValue,
        _meta: ValueEmpty,
    ) -> Option<PrivateValue> {
        // Destroy deletes the keys the private state says this resource manages.
        Some(prior_private)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: AppEnvState<'a>,
        config: AppEnvState<'a>,
        _private: PrivateValue,
        _meta: ValueEmpty,
    ) -> Option<(AppEnvState<'a>, PrivateValue)> {
        let changes = changes(None, &config, &EnvPrivate::default());
        self.apply(
            diags,
            None,
            planned,
            &config,
            changes,
            EnvPrivate::default(),
        )
        .await
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AppEnvState<'a>,
        planned: AppEnvState<'a>,
        config: AppEnvState<'a>,
        private: PrivateValue,
        _meta: ValueEmpty,
    ) -> Option<(AppEnvState<'a>, PrivateValue)> {
        let private = private_of(private);
        let mut changes = changes(Some(&prior), &config, &private);
        let newly_unmanaged = self
            .turning_authoritative(diags, &prior, &config, &changes)
            .await?;
        changes.deletes.extend(newly_unmanaged);
        self.apply(diags, Some(prior), planned, &config, changes, private)
            .await
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: AppEnvState<'a>,
        private: PrivateValue,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        let app = text(&prior.app_id)?.to_owned();
        let private = private_of(private);
        let keys: BTreeSet<String> = match (&private.managed, prior.is_authoritative()) {
            (Some(managed), false) => managed.iter().cloned().collect(),
            _ => prior.state_keys(),
        };
        for key in keys {
            match client.delete_env(&app, &key).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                Err(e) => {
                    api_error(diags, &e);
                    return None;
                }
            }
        }
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(AppEnvState<'a>, PrivateValue)> {
        check_id(diags, &id, "app_", "app_id");
        if !diags.errors.is_empty() {
            diags.errors[0].detail = format!(
                "Import an app's environment by the app's id, for example `terraform import \
                 comwit_app_env.web app_5c2e9a1b00112233` (got `{id}`)."
            )
            .into();
            return None;
        }
        let client = self.data.configured(diags)?.client;
        match client.get_env(&id).await {
            Ok(env) => {
                if env.iter().any(|v| v.sensitive) {
                    diags.root_warning(
                        "Secrets are not imported",
                        "The platform never returns a sensitive value, so only the plain \
                         variables were imported (into `vars`). Write the app's secrets in \
                         `secrets` or `secrets_wo`: the next apply writes them.",
                    );
                }
                let (state, private) = imported(id, env);
                Some((state, Value::Value(private)))
            }
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}

impl AppEnvResource {
    /// When `authoritative` is turned on, the state knows nothing of the variables it did
    /// not manage: the app's variables that neither the configuration nor `changes` has,
    /// read from the platform (empty otherwise). Apply deletes them too.
    async fn turning_authoritative(
        &self,
        diags: &mut Diagnostics,
        prior: &AppEnvState<'_>,
        config: &AppEnvState<'_>,
        changes: &Changes,
    ) -> Option<BTreeSet<String>> {
        if !config.is_authoritative() || prior.is_authoritative() || config.keys_unknown() {
            return Some(BTreeSet::new());
        }
        let client = self.data.configured(diags)?.client;
        let app = text(&prior.app_id)?;
        let env = match client.get_env(app).await {
            Ok(env) => env,
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        let wanted = config.config_keys();
        Some(
            env.into_iter()
                .map(|v| v.key)
                .filter(|k| !wanted.contains(k) && !changes.deletes.contains(k))
                .collect(),
        )
    }

    /// Writes and deletes what `changes` says, then the state: `planned` with the
    /// versions the writes answered. On a failure, the prior state and private state (a
    /// refresh then sees what was written, and the next plan writes the rest).
    async fn apply<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Option<AppEnvState<'a>>,
        planned: AppEnvState<'a>,
        config: &AppEnvState<'a>,
        changes: Changes,
        prior_private: EnvPrivate,
    ) -> Option<(AppEnvState<'a>, PrivateValue)> {
        let client = self.data.configured(diags)?.client;
        let app = text(&planned.app_id)?.to_owned();
        let mut versions: BTreeMap<Cow<'a, str>, ValueNumber> = match &planned.versions {
            Value::Value(v) => v.clone(),
            _ => BTreeMap::new(),
        };
        // Keys not written keep their prior version (a plan unknown as a whole is
        // settled here).
        for key in config.config_keys() {
            if !changes.writes.contains(&key) {
                let prior_version = prior
                    .as_ref()
                    .and_then(|p| get(&p.versions, &key))
                    .copied()
                    .unwrap_or(Value::Null);
                versions.insert(Cow::Owned(key), prior_version);
            }
        }
        let mut failed = false;
        for key in &changes.writes {
            let value = if let Some(v) = get(&config.vars, key) {
                text(v).map(|v| EnvValue::Plain(v.to_owned()))
            } else if let Some(v) = get(&config.secrets, key) {
                text(v).map(|v| EnvValue::Sensitive(Secret::new(v)))
            } else {
                get(&config.secrets_wo, key)
                    .and_then(text)
                    .map(|v| EnvValue::Sensitive(Secret::new(v)))
            };
            let Some(value) = value else {
                diags.error(
                    "Environment variable value missing",
                    format!(
                        "Key `{key}` has no value at apply time (a null value?). Give it a \
                         string value, or remove the key."
                    ),
                    AttributePath::new("vars").key(key.clone()),
                );
                failed = true;
                break;
            };
            match client.put_env(&app, key, &value).await {
                Ok(var) => {
                    versions.insert(Cow::Owned(key.clone()), number(var.version));
                }
                Err(e) => {
                    api_error(diags, &e);
                    failed = true;
                    break;
                }
            }
        }
        if !failed {
            for key in &changes.deletes {
                match client.delete_env(&app, key).await {
                    Ok(()) => {}
                    Err(e) if e.is_not_found() => {}
                    Err(e) => {
                        api_error(diags, &e);
                        failed = true;
                        break;
                    }
                }
            }
        }
        if failed {
            // A create keeps nothing (the next apply writes every key again).
            return prior.map(|p| (p, Value::Value(prior_private)));
        }
        let mut state = planned;
        state.versions = Value::Value(versions);
        state.secrets_wo = Value::Null;
        let private = EnvPrivate {
            managed: Some(config.config_keys().into_iter().collect()),
            stale_wo: Vec::new(),
        };
        Some((state, Value::Value(private)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smap<'a>(pairs: &[(&str, &str)]) -> StringMap<'a> {
        Value::Value(
            pairs
                .iter()
                .map(|(k, v)| (Cow::Owned(k.to_string()), known(*v)))
                .collect(),
        )
    }

    fn nmap<'a>(pairs: &[(&str, i64)]) -> ValueMap<'a, ValueNumber> {
        Value::Value(
            pairs
                .iter()
                .map(|(k, v)| (Cow::Owned(k.to_string()), Value::Value(*v)))
                .collect(),
        )
    }

    fn var(key: &str, value: Option<&str>, version: u64) -> EnvVar {
        EnvVar {
            key: key.into(),
            value: value.map(str::to_owned),
            sensitive: value.is_none(),
            version,
            updated_at: None,
        }
    }

    fn applied() -> AppEnvState<'static> {
        AppEnvState {
            app_id: known("app_1"),
            vars: smap(&[("NAME", "world\n"), ("GREETING", "héllo ✓")]),
            secrets: smap(&[("TOKEN", "s3cret")]),
            secrets_wo: Value::Null,
            secrets_wo_version: Value::Value(1.into()),
            authoritative: Value::Value(false),
            versions: nmap(&[("NAME", 1), ("GREETING", 1), ("TOKEN", 1), ("WO", 1)]),
        }
    }

    fn config() -> AppEnvState<'static> {
        AppEnvState {
            secrets_wo: smap(&[("WO", "write-only")]),
            versions: Value::Null,
            ..applied()
        }
    }

    fn managed() -> EnvPrivate {
        EnvPrivate {
            managed: Some(
                ["GREETING", "NAME", "TOKEN", "WO"]
                    .map(String::from)
                    .to_vec(),
            ),
            stale_wo: vec![],
        }
    }

    fn platform() -> Vec<EnvVar> {
        vec![
            var("GREETING", Some("héllo ✓"), 1),
            var("NAME", Some("world\n"), 1),
            var("TOKEN", None, 1),
            var("WO", None, 1),
        ]
    }

    #[test]
    fn nothing_changed_means_no_writes_and_the_same_versions() {
        let c = changes(Some(&applied()), &config(), &managed());
        assert_eq!(c, Changes::default());
        let v = planned_versions(Some(&applied()), &config(), &c);
        assert_eq!(v, applied().versions);
        let (state, private) = refresh(applied(), managed(), platform());
        assert_eq!(
            state,
            applied(),
            "values with newlines and non-ASCII kept as they are"
        );
        assert_eq!(private, managed());
    }

    #[test]
    fn a_create_writes_every_key_and_promises_unknown_versions() {
        let c = changes(None, &config(), &EnvPrivate::default());
        assert_eq!(
            c.writes.iter().map(String::as_str).collect::<Vec<_>>(),
            ["GREETING", "NAME", "TOKEN", "WO"]
        );
        let v = planned_versions(None, &config(), &c);
        let v = v.as_ref_option().expect("known map");
        assert!(v.values().all(|n| n.is_unknown()));
    }

    #[test]
    fn a_plain_value_changed_out_of_band_shows_and_is_written_back() {
        let mut env = platform();
        env[1] = var("NAME", Some("changed"), 2);
        let (state, private) = refresh(applied(), managed(), env);
        assert_eq!(get(&state.vars, "NAME"), Some(&known("changed")));
        assert_eq!(get(&state.versions, "NAME"), Some(&Value::Value(2)));
        let c = changes(Some(&state), &config(), &private);
        assert_eq!(c.writes, BTreeSet::from(["NAME".to_owned()]));
        let v = planned_versions(Some(&state), &config(), &c);
        assert_eq!(get(&v, "NAME"), Some(&Value::Unknown));
        assert_eq!(get(&v, "TOKEN"), Some(&Value::Value(1)));
    }

    #[test]
    fn a_secret_written_out_of_band_leaves_secrets_so_the_plan_updates_it() {
        let mut env = platform();
        env[2] = var("TOKEN", None, 4);
        let (state, private) = refresh(applied(), managed(), env);
        assert!(
            !has_key(&state.secrets, "TOKEN"),
            "dropped: its value is unknown now"
        );
        assert_eq!(get(&state.versions, "TOKEN"), Some(&Value::Value(4)));
        assert_ne!(state.secrets, config().secrets, "so `secrets` shows a diff");
        let c = changes(Some(&state), &config(), &private);
        assert_eq!(c.writes, BTreeSet::from(["TOKEN".to_owned()]));
    }

    #[test]
    fn a_write_only_secret_written_out_of_band_is_sent_again() {
        let mut env = platform();
        env[3] = var("WO", None, 2);
        let (state, private) = refresh(applied(), managed(), env);
        assert_eq!(private.stale_wo, ["WO"]);
        let c = changes(Some(&state), &config(), &private);
        assert_eq!(c.writes, BTreeSet::from(["WO".to_owned()]));
        // And changing secrets_wo_version sends every write-only value.
        let mut cfg = config();
        cfg.secrets_wo_version = Value::Value(2.into());
        let c = changes(Some(&applied()), &cfg, &managed());
        assert_eq!(c.writes, BTreeSet::from(["WO".to_owned()]));
    }

    #[test]
    fn a_managed_var_deleted_out_of_band_plans_its_re_creation() {
        let env: Vec<_> = platform().into_iter().filter(|v| v.key != "NAME").collect();
        let (state, private) = refresh(applied(), managed(), env);
        assert!(!has_key(&state.vars, "NAME"));
        assert!(!has_key(&state.versions, "NAME"));
        let c = changes(Some(&state), &config(), &private);
        assert_eq!(c.writes, BTreeSet::from(["NAME".to_owned()]));
        assert!(c.deletes.is_empty());
    }

    #[test]
    fn others_are_left_alone_unless_authoritative() {
        let mut env = platform();
        env.push(var("OTHER", Some("x"), 3));
        env.push(var("OTHER_SECRET", None, 2));
        let (state, private) = refresh(applied(), managed(), env.clone());
        assert_eq!(state, applied());
        assert!(changes(Some(&state), &config(), &private)
            .deletes
            .is_empty());

        let mut auth = applied();
        auth.authoritative = Value::Value(true);
        let (state, private) = refresh(auth, managed(), env);
        assert_eq!(
            get(&state.vars, "OTHER"),
            Some(&known("x")),
            "drift shows in vars"
        );
        assert_eq!(get(&state.versions, "OTHER_SECRET"), Some(&Value::Value(2)));
        let mut cfg = config();
        cfg.authoritative = Value::Value(true);
        let c = changes(Some(&state), &cfg, &private);
        assert!(c.writes.is_empty());
        assert_eq!(
            c.deletes,
            BTreeSet::from(["OTHER".to_owned(), "OTHER_SECRET".to_owned()])
        );
        let v = planned_versions(Some(&state), &cfg, &c);
        assert!(!has_key(&v, "OTHER_SECRET"), "the plan shows it leaving");
    }

    #[test]
    fn a_key_removed_from_the_configuration_is_deleted() {
        let mut cfg = config();
        cfg.vars = smap(&[("NAME", "world\n")]);
        let c = changes(Some(&applied()), &cfg, &managed());
        assert_eq!(c.deletes, BTreeSet::from(["GREETING".to_owned()]));
        assert!(c.writes.is_empty());
    }

    #[test]
    fn moving_a_key_between_kinds_writes_it() {
        let mut cfg = config();
        cfg.vars = smap(&[("GREETING", "héllo ✓")]);
        cfg.secrets = smap(&[("TOKEN", "s3cret"), ("NAME", "world\n")]);
        let c = changes(Some(&applied()), &cfg, &managed());
        assert_eq!(c.writes, BTreeSet::from(["NAME".to_owned()]));
        assert!(c.deletes.is_empty());
    }

    #[test]
    fn unknown_values_are_writes_and_unknown_key_sets_make_versions_unknown() {
        let mut cfg = config();
        if let Value::Value(vars) = &mut cfg.vars {
            vars.insert(Cow::Borrowed("NAME"), Value::Unknown);
        }
        let c = changes(Some(&applied()), &cfg, &managed());
        assert!(c.writes.contains("NAME"));
        let mut cfg = config();
        cfg.secrets = Value::Unknown;
        let c = changes(Some(&applied()), &cfg, &managed());
        assert!(
            c.deletes.is_empty(),
            "nothing deleted while the keys are unknown"
        );
        assert_eq!(planned_versions(Some(&applied()), &cfg, &c), Value::Unknown);
    }

    fn errors(cfg: &AppEnvState<'_>) -> Vec<(String, AttributePath)> {
        let mut d = Diagnostics::default();
        check(&mut d, cfg);
        d.errors
            .iter()
            .map(|e| (e.detail.to_string(), e.attribute.clone()))
            .collect()
    }

    #[test]
    fn a_key_in_two_maps_is_an_error_on_the_second() {
        let mut cfg = config();
        cfg.secrets_wo = smap(&[("TOKEN", "x")]);
        let e = errors(&cfg);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].1, AttributePath::new("secrets_wo").key("TOKEN"));
        assert!(
            e[0].0.contains("both `secrets` and `secrets_wo`"),
            "{}",
            e[0].0
        );
    }

    #[test]
    fn keys_follow_the_contract() {
        for good in ["A", "_x", "a1_B", &"K".repeat(128)] {
            assert_eq!(key_problem(good), None, "{good}");
        }
        for (bad, says) in [
            ("", "1 to 128"),
            (&"K".repeat(129) as &str, "1 to 128"),
            ("1A", "digit"),
            ("A-B", "'-'"),
            ("CLÉ", "'É'"),
            ("COMWIT_X", "reserved"),
        ] {
            let problem = key_problem(bad).unwrap_or_default();
            assert!(problem.contains(says), "{bad}: {problem}");
        }
        let mut cfg = config();
        cfg.secrets = smap(&[("COMWIT_TOKEN", "secret-value-1")]);
        let e = errors(&cfg);
        assert_eq!(e[0].1, AttributePath::new("secrets").key("COMWIT_TOKEN"));
        assert!(
            !e[0].0.contains("secret-value-1"),
            "values are never quoted"
        );
    }

    #[test]
    fn values_are_counted_in_bytes_and_variables_per_app() {
        let mut cfg = config();
        let at_limit = "é".repeat(MAX_VALUE_BYTES / 2);
        cfg.vars = smap(&[("OK", &at_limit)]);
        assert!(errors(&cfg).is_empty());
        let over = format!("{at_limit}x");
        cfg.vars = smap(&[("BIG", &over)]);
        let e = errors(&cfg);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].1, AttributePath::new("vars").key("BIG"));
        assert!(e[0].0.contains("65537 bytes"), "{}", e[0].0);
        let many: Vec<(String, String)> = (0..199).map(|i| (format!("K{i}"), "v".into())).collect();
        let pairs: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        cfg.vars = smap(&pairs);
        // 199 + TOKEN + WO = 201.
        let e = errors(&cfg);
        assert_eq!(e.len(), 1);
        assert!(e[0].0.contains("201 variables"), "{}", e[0].0);
    }

    #[test]
    fn import_takes_plain_vars_only() {
        let (state, _) = imported("app_1".into(), platform());
        assert_eq!(
            state.vars,
            smap(&[("GREETING", "héllo ✓"), ("NAME", "world\n")])
        );
        assert_eq!(state.secrets, Value::Null);
        assert_eq!(state.versions, nmap(&[("GREETING", 1), ("NAME", 1)]));
        assert_eq!(state.authoritative, Value::Value(false));
    }
}
