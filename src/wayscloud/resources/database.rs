//! `wayscloud_database`: a PostgreSQL or MariaDB database with its user.
//!
//! - `db_type` and `requested_name` replace the database (no rename route); without
//!   `requested_name` WaysCloud picks a dated name, kept in state.
//! - `connection_limit` and `description` change in place (PATCH).
//! - `password` and `connection_string` come only from create and rotation and are kept in
//!   state; changing `password_version` from one number to another rotates them in place.
//!   Setting it where state has none (after an import) records it without rotating, so
//!   an import of a configuration that sets it never rotates a live password. An
//!   `idempotent` create (the database already existed) returns no password: a warning
//!   says so.
//! - Import by `db_type/db_name`; the password is then unknown until a rotation.
//! - Create is never repeated blindly (a second create of the same name answers
//!   `idempotent`, without password). When its answer is lost, the provider looks: a named
//!   database that did not exist before and exists now was made by this apply, and its
//!   password reached nobody, so it is rotated to store one (with a warning).

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueNumber, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::plugin::kit::failure::ClientFailure;
use crate::plugin::kit::{attribute, known, opt, sensitive, text, whole_number, Number, ValueNum};
use crate::plugin::{IdentityAttribute, IdentitySpec};
use crate::wayscloud::client::{Client, Created, DatabaseEntry};
use crate::wayscloud::common::{api_error, check_db_type, check_requested_name, deleted, found};
use crate::wayscloud::provider::ProviderData;

pub const TYPE_NAME: &str = "wayscloud_database";
pub const CONNECTION_LIMIT_RANGE: std::ops::RangeInclusive<i64> = 10..=1000;
pub const PASSWORD_VERSION_RANGE: std::ops::RangeInclusive<i64> = 0..=9_007_199_254_740_991;

/// Identity `{ db_type, db_name }`; the import id is `db_type/db_name`.
pub fn identity() -> IdentitySpec {
    IdentitySpec {
        version: 0,
        attributes: vec![
            IdentityAttribute {
                name: "db_type",
                description: "`postgresql` or `mariadb`.",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "db_name",
                description: "The database's full name (`cust_..._pg_...`).",
                required_for_import: true,
            },
        ],
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

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub requested_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub username: ValueString<'a>,
    #[serde(borrow, default)]
    pub host: ValueString<'a>,
    #[serde(default)]
    pub port: ValueNumber,
    #[serde(default)]
    pub connection_limit: ValueNum,
    #[serde(borrow, default)]
    pub description: ValueString<'a>,
    #[serde(default)]
    pub password_version: ValueNum,
    #[serde(borrow, default)]
    pub password: ValueString<'a>,
    #[serde(borrow, default)]
    pub connection_string: ValueString<'a>,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

/// The part of a WaysCloud name after `cust_<customer>_<pg|my>_`.
pub fn requested_part(db_name: &str) -> Option<&str> {
    let mut parts = db_name.splitn(4, '_');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("cust"), Some(_), Some("pg" | "my"), Some(rest)) if !rest.is_empty() => Some(rest),
        _ => None,
    }
}

/// Whether a plan from `prior` to `proposed` rotates the password: the version changes from
/// one number to another. Setting one where state has none (an import) records it, and
/// removing it does nothing.
fn rotates(prior: &ValueNum, proposed: &ValueNum) -> bool {
    prior.is_value() && proposed.is_value() && prior != proposed
}

fn rotation_warning(diags: &mut Diagnostics, name: &str, imported: bool) {
    let why = if imported {
        "Terraform does not hold this database's password (imported, or created by an idempotent answer): applying this plan rotates it to store one. "
    } else {
        ""
    };
    diags.warning(
        "This plan rotates a database password",
        format!(
            "{why}Applying it gives database `{name}` a new password and the current one stops working at once: every client connecting with it is refused until it gets the new `password` or `connection_string`."
        ),
        AttributePath::new("password_version"),
    );
}

/// Merge a list entry into a state: WaysCloud owns names, host, port, limit, description
/// and creation time; the state keeps the password, connection string and version.
pub(crate) fn from_entry<'a>(
    entry: DatabaseEntry,
    db_type: &str,
    mut state: DatabaseState<'a>,
) -> DatabaseState<'a> {
    state.id = known(format!("{db_type}/{}", entry.db_name));
    state.db_type = known(db_type);
    if let Some(rest) = requested_part(&entry.db_name) {
        state.requested_name = known(rest);
    }
    state.username = known(
        entry
            .username
            .clone()
            .unwrap_or_else(|| entry.db_name.clone()),
    );
    if let Some(host) = entry.host {
        state.host = known(host);
    }
    if let Some(port) = entry.port {
        state.port = Value::Value(port);
    }
    if let Some(limit) = entry.connection_limit {
        state.connection_limit = Value::Value(Number::Int(limit));
    }
    state.description = opt(entry.description.filter(|d| !d.is_empty()));
    if let Some(created) = entry.created_at {
        state.created_at = known(created);
    }
    state.db_name = known(entry.db_name);
    // The server may have moved (a new host or port): the connection string follows.
    if let (Some(pw), Some(user), Some(host), Value::Value(port), Some(db)) = (
        text(&state.password),
        text(&state.username),
        text(&state.host),
        &state.port,
        text(&state.db_name),
    ) {
        let scheme = if db_type == "mariadb" {
            "mysql"
        } else {
            "postgresql"
        };
        state.connection_string = known(format!("{scheme}://{user}:{pw}@{host}:{port}/{db}"));
    }
    state
}

fn limit_of(v: &ValueNum) -> Option<i64> {
    match v {
        Value::Value(n) => n.whole(),
        _ => None,
    }
}

async fn refresh<'a>(
    client: &Client,
    customer: Option<&str>,
    db_type: &str,
    db_name: &str,
    state: DatabaseState<'a>,
    diags: &mut Diagnostics,
) -> DatabaseState<'a> {
    match client.find_database(db_type, db_name, customer).await {
        Ok(Some(entry)) => from_entry(entry, db_type, state),
        Ok(None) => state,
        Err(e) => {
            api_error(diags, &e);
            state
        }
    }
}

/// The live database whose name ends in `_<requested>` after the customer and type tag;
/// `None` when the lookup itself fails (nothing can be concluded).
async fn find_requested(
    client: &Client,
    customer: Option<&str>,
    db_type: &str,
    requested: &str,
) -> Option<Option<DatabaseEntry>> {
    let list = client.list_databases(db_type, customer).await.ok()?;
    Some(
        list.into_iter()
            .find(|d| requested_part(&d.db_name) == Some(requested)),
    )
}

/// After a create whose outcome is unknown, of a database that did not exist before: if it
/// exists now, this apply made it, and the password in the lost answer reached nobody, so
/// a rotation gives the provider one. `None` when it does not exist (or cannot be told).
async fn recover_lost_create(
    client: &Client,
    customer: Option<&str>,
    db_type: &str,
    requested: &str,
) -> Option<Created> {
    let entry = find_requested(client, customer, db_type, requested).await??;
    let rotated = client.rotate(db_type, &entry.db_name).await.ok()?;
    Some(Created {
        db_type: db_type.to_owned(),
        db_name: rotated.db_name,
        username: rotated.username,
        password: Some(rotated.password),
        host: rotated.host,
        port: rotated.port,
        connection_string: rotated.connection_string,
        message: String::new(),
        password_generated: Some(true),
        idempotent: Some(false),
    })
}

#[async_trait]
impl Resource for DatabaseResource {
    type State<'a> = DatabaseState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A PostgreSQL or MariaDB database on WaysCloud, with its own user. Clients connect \
                     with `connection_string` (or `host`, `port`, `username`, `password`). Deleting it \
                     drops the database and its user for good.",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "`db_type/db_name`."),
                    "db_type" => attribute(String, Required,
                        "`postgresql` or `mariadb`. Changing it replaces the database."),
                    "requested_name" => attribute(String, OptionalComputed,
                        "Name suffix: 1 to 30 ASCII letters, digits or underscores. The database is named \
                         `cust_<customer>_<pg|my>_<requested_name>`. Unset, WaysCloud picks a dated name \
                         (kept in state). Changing it replaces the database."),
                    "db_name" => attribute(String, Computed, "The database's full name, also its user's name."),
                    "username" => attribute(String, Computed, "The database user."),
                    "host" => attribute(String, Computed, "Server host name."),
                    "port" => attribute(Number, Computed, "Server port."),
                    "connection_limit" => attribute(Number, OptionalComputed,
                        "Most simultaneous connections (10 to 1000), enforced by the engine; changed in \
                         place. Unset, WaysCloud's default (100) is kept in state."),
                    "description" => attribute(String, Optional, "Notes on the database (at most 500 characters); changed in place."),
                    "password_version" => attribute(Number, Optional,
                        "A whole number (0 to 2^53 - 1); changing it from one number to another rotates the \
                         password in place: a new `password` and `connection_string` are issued and the old \
                         password is refused at once. Where state has no version (after an import), the \
                         configured one is recorded without rotating; change it afterwards to rotate."),
                    "password" => sensitive(String, Computed,
                        "The user's password. WaysCloud returns it only at create and rotation, so it is \
                         kept in state; null after import (or an `idempotent` create) until the next rotation."),
                    "connection_string" => sensitive(String, Computed,
                        "`postgresql://` or `mysql://` URL with user and password; null while `password` \
                         is (after import or an `idempotent` create). Host and port follow the server on refresh."),
                    "created_at" => attribute(String, Computed, "Creation time (RFC 3339)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: DatabaseState<'a>) -> Option<()> {
        if let Some(t) = text(&config.db_type) {
            check_db_type(diags, t, "db_type");
        }
        if let Some(n) = text(&config.requested_name) {
            check_requested_name(diags, n, "requested_name");
        }
        whole_number(
            diags,
            &config.connection_limit,
            "connection_limit",
            CONNECTION_LIMIT_RANGE,
        );
        whole_number(
            diags,
            &config.password_version,
            "password_version",
            PASSWORD_VERSION_RANGE,
        );
        if let Some(d) = text(&config.description) {
            if d.chars().count() > 500 {
                diags.error(
                    "Invalid description",
                    format!(
                        "`description` must be at most 500 characters, got {}.",
                        d.chars().count()
                    ),
                    AttributePath::new("description"),
                );
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: DatabaseState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let configured = self.data.configured(diags)?;
        let db_type = text(&state.db_type)?.to_owned();
        let db_name = text(&state.db_name)?.to_owned();
        let listed = configured
            .client
            .find_database(&db_type, &db_name, configured.customer_id.as_deref())
            .await;
        let entry = found(diags, listed)??;
        Some((from_entry(entry, &db_type, state), private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: DatabaseState<'a>,
        _config: DatabaseState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        proposed.id = Value::Unknown;
        proposed.db_name = Value::Unknown;
        proposed.username = Value::Unknown;
        proposed.host = Value::Unknown;
        proposed.port = Value::Unknown;
        proposed.password = Value::Unknown;
        proposed.connection_string = Value::Unknown;
        proposed.created_at = Value::Unknown;
        if proposed.requested_name.is_null() {
            proposed.requested_name = Value::Unknown;
        }
        if proposed.connection_limit.is_null() {
            proposed.connection_limit = Value::Unknown;
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
        let mut replace = vec![];
        if proposed.db_type != prior.db_type {
            replace.push(AttributePath::new("db_type"));
        }
        if config.requested_name.is_null() {
            proposed.requested_name = prior.requested_name.clone();
        } else if proposed.requested_name != prior.requested_name {
            replace.push(AttributePath::new("requested_name"));
        }
        if config.connection_limit.is_null() {
            proposed.connection_limit = prior.connection_limit.clone();
        }
        if !replace.is_empty() {
            proposed.id = Value::Unknown;
            proposed.db_name = Value::Unknown;
            proposed.username = Value::Unknown;
            proposed.host = Value::Unknown;
            proposed.port = Value::Unknown;
            proposed.password = Value::Unknown;
            proposed.connection_string = Value::Unknown;
            proposed.created_at = Value::Unknown;
            if config.requested_name.is_null() {
                proposed.requested_name = Value::Unknown;
            }
            if config.connection_limit.is_null() {
                proposed.connection_limit = Value::Unknown;
            }
        } else if rotates(&prior.password_version, &proposed.password_version) {
            proposed.password = Value::Unknown;
            proposed.connection_string = Value::Unknown;
            let name = text(&prior.db_name).unwrap_or_default().to_owned();
            rotation_warning(diags, &name, prior.password.is_null());
        } else if prior.password_version.is_null() && proposed.password_version.is_value() {
            // After an import, the configured version is adopted, not acted on.
            diags.warning(
                "password_version is recorded, not acted on",
                "State has no `password_version` (an imported database, or one created without \
                 it), so this plan \
                 records the configured one without rotating the password. Change it later to \
                 rotate the password and store the new one.",
                AttributePath::new("password_version"),
            );
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: DatabaseState<'a>,
        _config: DatabaseState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let configured = self.data.configured(diags)?;
        let client = &configured.client;
        let customer = configured.customer_id.as_deref();
        let db_type = text(&planned.db_type)?.to_owned();
        let requested = text(&planned.requested_name).map(str::to_owned);
        // One operation: the look before, the create and the lookups that settle a lost
        // answer share one deadline (the settling keeps a part of it), and an error says
        // what each attempt gave.
        let (outcome, tally) = client
            .operation(async {
                // Whether the named database exists before the create, so that a create
                // whose answer is lost can be told apart from one that found it there.
                let existed_before = match &requested {
                    Some(r) => find_requested(client, customer, &db_type, r)
                        .await
                        .map(|d| d.is_some()),
                    None => None,
                };
                let created = client
                    .leaving_time_to_settle(client.create_database(
                        &db_type,
                        requested.as_deref(),
                        customer,
                    ))
                    .await;
                match created {
                    Ok(c) => Ok((c, None)),
                    Err(e) if e.may_have_taken_effect() && existed_before == Some(false) => {
                        let name = requested.as_deref().unwrap_or_default();
                        match recover_lost_create(client, customer, &db_type, name).await {
                            Some(c) => Ok((c, Some(ClientFailure::detail(&e)))),
                            None => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            })
            .await;
        let created = match outcome {
            Ok((c, None)) => c,
            Ok((c, Some(lost))) => {
                diags.root_warning(
                    "The create's answer was lost",
                    format!(
                        "WaysCloud made database `{}` but its answer did not arrive ({lost}), so \
                         the password it sent is lost. The database did not exist before this \
                         apply, so nobody holds that password: the provider rotated it to store \
                         a new one.",
                        c.db_name
                    ),
                );
                c
            }
            Err(e) => {
                let tried = tally.describe();
                let detail = if tried.is_empty() {
                    ClientFailure::detail(&e)
                } else {
                    format!("{}\n\nTried: {tried}.", ClientFailure::detail(&e))
                };
                diags.root_error(e.summary(), detail);
                return None;
            }
        };
        let mut state = planned.clone();
        state.id = known(format!("{db_type}/{}", created.db_name));
        state.db_name = known(created.db_name.clone());
        state.username = known(created.username.clone());
        state.host = known(created.host.clone());
        state.port = Value::Value(created.port);
        match created.password.as_deref() {
            Some(pw) if !pw.is_empty() && created.idempotent != Some(true) => {
                state.password = known(pw);
                state.connection_string = known(created.connection_string.clone());
            }
            _ => {
                state.password = Value::Null;
                state.connection_string = Value::Null;
                diags.root_warning(
                    "The database already existed",
                    format!(
                        "WaysCloud answered that database `{}` already existed (`idempotent`), so it \
                         returned no password: `password` and `connection_string` are null. \
                         Terraform now manages the existing database and its data. To get a password, \
                         change `password_version` and apply (where it is not set yet, setting it only \
                         records it: set it, then change it); the current password then stops working.",
                        created.db_name
                    ),
                );
            }
        }
        state.created_at = Value::Null;
        let want_limit = limit_of(&planned.connection_limit);
        let want_description = text(&planned.description).map(str::to_owned);
        if want_limit.is_some() || want_description.is_some() {
            if let Err(e) = client
                .update_database(
                    &db_type,
                    &created.db_name,
                    want_limit,
                    want_description.as_deref(),
                )
                .await
            {
                // The database exists: keep it in state and report.
                api_error(diags, &e);
            }
        }
        let mut state = refresh(client, customer, &db_type, &created.db_name, state, diags).await;
        if state.connection_limit.is_unknown() {
            state.connection_limit = Value::Null;
        }
        if state.requested_name.is_unknown() {
            state.requested_name = Value::Null;
        }
        if state.created_at.is_null() {
            state.created_at = known("");
        }
        Some((state, Value::Null))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseState<'a>,
        planned: DatabaseState<'a>,
        _config: DatabaseState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let configured = self.data.configured(diags)?;
        let client = &configured.client;
        let db_type = text(&prior.db_type)?.to_owned();
        let db_name = text(&prior.db_name)?.to_owned();
        let mut state = planned.clone();
        if planned.password.is_unknown() {
            match client.rotate(&db_type, &db_name).await {
                Ok(r) => {
                    state.password = known(r.password);
                    state.connection_string = known(r.connection_string);
                }
                Err(e) => {
                    api_error(diags, &e);
                    return None;
                }
            }
        }
        let limit_changed = planned.connection_limit != prior.connection_limit;
        let description_changed = planned.description != prior.description;
        if limit_changed || description_changed {
            let limit = if limit_changed {
                limit_of(&planned.connection_limit)
            } else {
                None
            };
            // Removing the description clears it ("" on the wire; null leaves it as it is).
            let description = if description_changed {
                Some(text(&planned.description).unwrap_or("").to_owned())
            } else {
                None
            };
            if let Err(e) = client
                .update_database(&db_type, &db_name, limit, description.as_deref())
                .await
            {
                api_error(diags, &e);
                // Keep what changed (a rotated password must not be lost).
                let kept = DatabaseState {
                    password: state.password.clone(),
                    connection_string: state.connection_string.clone(),
                    password_version: state.password_version.clone(),
                    ..prior
                };
                return Some((kept, Value::Null));
            }
        }
        let state = refresh(
            client,
            configured.customer_id.as_deref(),
            &db_type,
            &db_name,
            state,
            diags,
        )
        .await;
        Some((state, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let configured = self.data.configured(diags)?;
        let db_type = text(&prior.db_type)?.to_owned();
        let db_name = text(&prior.db_name)?.to_owned();
        let username = text(&prior.username).unwrap_or(&db_name).to_owned();
        deleted(
            diags,
            configured
                .client
                .delete_database(&db_type, &db_name, &username)
                .await,
        )
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DatabaseState<'a>, ValueEmpty)> {
        let spec = identity();
        let expected = format!(
            "Import this type by `{}, e.g. postgresql/cust_6dd1d906_pg_webapp`",
            spec.import_form()
        );
        let parts = spec.parse_import_id(diags, &id, IdentitySpec::no_slash, expected)?;
        check_db_type(diags, parts[0], "db_type");
        if !diags.errors.is_empty() {
            return None;
        }
        let configured = self.data.configured(diags)?;
        let entry = match configured
            .client
            .find_database(parts[0], parts[1], configured.customer_id.as_deref())
            .await
        {
            Ok(Some(e)) => e,
            Ok(None) => {
                diags.root_error(
                    "Cannot import database",
                    format!(
                        "WaysCloud has no {} database `{}` for this API key's customer.",
                        parts[0], parts[1]
                    ),
                );
                return None;
            }
            Err(e) => {
                api_error(diags, &e);
                return None;
            }
        };
        diags.root_warning(
            "Database password unknown after import",
            "WaysCloud never returns a database's password after create, so `password` and \
             `connection_string` are null. A `password_version` in the configuration is recorded \
             at the next apply without rotating; change it after that and apply to rotate the \
             password and store both.",
        );
        Some((
            from_entry(entry, parts[0], DatabaseState::default()),
            Value::Null,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in state: `postgresql/cust_a_pg_x`, no password, no version.
    fn in_state() -> DatabaseState<'static> {
        DatabaseState {
            id: known("postgresql/cust_a_pg_x"),
            db_type: known("postgresql"),
            requested_name: known("x"),
            db_name: known("cust_a_pg_x"),
            connection_limit: Value::Value(Number::Int(100)),
            ..Default::default()
        }
    }

    /// The plan from `prior` to `proposed` (also the configuration), with its diagnostics.
    async fn plan<'a>(
        prior: DatabaseState<'a>,
        proposed: DatabaseState<'a>,
    ) -> (DatabaseState<'a>, Vec<AttributePath>, Diagnostics) {
        let r = DatabaseResource::new(Arc::default());
        let mut diags = Diagnostics::default();
        let (planned, _, replace) = r
            .plan_update(
                &mut diags,
                prior,
                proposed.clone(),
                proposed,
                Value::Null,
                Value::Null,
            )
            .await
            .expect("plan");
        (planned, replace, diags)
    }

    #[test]
    fn the_requested_part_of_a_name() {
        assert_eq!(
            requested_part("cust_6dd1d906_pg_webapp_prod_db"),
            Some("webapp_prod_db")
        );
        assert_eq!(
            requested_part("cust_6dd1d906_my_20261202_abc123"),
            Some("20261202_abc123")
        );
        assert_eq!(requested_part("other"), None);
    }

    #[tokio::test]
    async fn a_new_version_rotates_and_a_new_name_replaces() {
        let prior = DatabaseState {
            password: known("secret"),
            password_version: Value::Value(Number::Int(1)),
            ..in_state()
        };
        let mut proposed = prior.clone();
        proposed.password_version = Value::Value(Number::Int(2));
        let (planned, replace, diags) = plan(prior.clone(), proposed).await;
        assert!(replace.is_empty());
        assert!(planned.password.is_unknown());
        assert_eq!(diags.warnings.len(), 1);

        let mut proposed = prior.clone();
        proposed.requested_name = known("y");
        let (_, replace, _) = plan(prior, proposed).await;
        assert_eq!(replace, vec![AttributePath::new("requested_name")]);
    }

    #[tokio::test]
    async fn an_imported_database_adopts_the_configured_version() {
        // What an import stores: no password, no version.
        let mut proposed = in_state();
        proposed.password_version = Value::Value(Number::Int(3));
        let (planned, replace, diags) = plan(in_state(), proposed).await;
        assert!(replace.is_empty());
        assert!(planned.password.is_null(), "no rotation: {planned:?}");
        assert!(planned.connection_string.is_null());
        assert_eq!(planned.password_version, Value::Value(Number::Int(3)));
        assert_eq!(diags.warnings.len(), 1);
        assert!(diags.warnings[0].summary.contains("not acted on"));

        // Removing a version does nothing either; changing one rotates.
        let one = Value::Value(Number::Int(1));
        assert!(!rotates(&one, &Value::Null));
        assert!(!rotates(&Value::Null, &one));
        assert!(!rotates(&one, &one.clone()));
        assert!(rotates(&one, &Value::Value(Number::Int(2))));
        assert!(!rotates(&one, &Value::Unknown));
    }
}
