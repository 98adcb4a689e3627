//! `wayscloud_database_firewall_rule`: one IPv4 address or CIDR block allowed to connect
//! to a database. WaysCloud has no update route: every change replaces the rule.
//! Import by `db_type/db_name/rule_id`.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block, Description, Schema};
use tf_provider::value::{Value, ValueEmpty, ValueNumber, ValueString};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::plugin::kit::{attribute, known, opt, text};
use crate::plugin::{IdentityAttribute, IdentitySpec};
use crate::wayscloud::client::Rule;
use crate::wayscloud::common::{
    api_error, check_database_ref, check_db_type, check_ip_address, deleted, found,
};
use crate::wayscloud::provider::ProviderData;

pub const TYPE_NAME: &str = "wayscloud_database_firewall_rule";

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
                description: "The database's full name.",
                required_for_import: true,
            },
            IdentityAttribute {
                name: "rule_id",
                description: "The rule's UUID.",
                required_for_import: true,
            },
        ],
    }
}

pub struct DatabaseFirewallRuleResource {
    data: Arc<ProviderData>,
}

impl DatabaseFirewallRuleResource {
    pub fn new(data: Arc<ProviderData>) -> Self {
        Self { data }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseFirewallRuleState<'a> {
    #[serde(borrow, default)]
    pub id: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_type: ValueString<'a>,
    #[serde(borrow, default)]
    pub db_name: ValueString<'a>,
    #[serde(borrow, default)]
    pub ip_address: ValueString<'a>,
    #[serde(borrow, default)]
    pub description: ValueString<'a>,
    #[serde(borrow, default)]
    pub rule_id: ValueString<'a>,
    #[serde(default)]
    pub port: ValueNumber,
    #[serde(borrow, default)]
    pub created_at: ValueString<'a>,
}

pub(crate) fn from_rule<'a>(
    rule: Rule,
    db_type: &str,
    db_name: &str,
    mut state: DatabaseFirewallRuleState<'a>,
) -> DatabaseFirewallRuleState<'a> {
    state.id = known(format!("{db_type}/{db_name}/{}", rule.rule_id));
    state.db_type = known(db_type);
    state.db_name = known(db_name);
    state.ip_address = known(rule.ip_address);
    state.description = opt(rule.description.filter(|d| !d.is_empty()));
    state.port = rule.port.map(Value::Value).unwrap_or(Value::Null);
    state.created_at = opt(rule.created_at);
    state.rule_id = known(rule.rule_id);
    state
}

#[async_trait]
impl Resource for DatabaseFirewallRuleResource {
    type State<'a> = DatabaseFirewallRuleState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        use AttributeConstraint::{Computed, Optional, Required};
        use AttributeType::{Number, String};
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::markdown(
                    "A firewall rule of a WaysCloud database: clients from `ip_address` (an IPv4 address or \
                     CIDR block) may connect. Every change replaces the rule (WaysCloud has no update).",
                ),
                attributes: map! {
                    "id" => attribute(String, Computed, "`db_type/db_name/rule_id`."),
                    "db_type" => attribute(String, Required, "`postgresql` or `mariadb`. Changing it replaces the rule."),
                    "db_name" => attribute(String, Required, "The database's full name (`wayscloud_database.x.db_name`). Changing it replaces the rule."),
                    "ip_address" => attribute(String, Required,
                        "IPv4 address (`192.0.2.10`) or CIDR block without host bits (`10.0.0.0/24`), checked at plan time. Changing it replaces the rule."),
                    "description" => attribute(String, Optional, "Notes (e.g. `Office VPN`). Changing it replaces the rule."),
                    "rule_id" => attribute(String, Computed, "The rule's UUID."),
                    "port" => attribute(Number, Computed, "The database port the rule opens."),
                    "created_at" => attribute(String, Computed, "Creation time."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: DatabaseFirewallRuleState<'a>,
    ) -> Option<()> {
        check_database_ref(diags, &config.db_type, &config.db_name);
        if let Some(ip) = text(&config.ip_address) {
            check_ip_address(diags, ip, "ip_address");
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: DatabaseFirewallRuleState<'a>,
        private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseFirewallRuleState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let (t, n, id) = (
            text(&state.db_type)?.to_owned(),
            text(&state.db_name)?.to_owned(),
            text(&state.rule_id)?.to_owned(),
        );
        found(diags, client.rules(&t, &n).await)?
            .into_iter()
            .find(|r| r.rule_id == id)
            .map(|r| (from_rule(r, &t, &n, state), private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: DatabaseFirewallRuleState<'a>,
        _config: DatabaseFirewallRuleState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseFirewallRuleState<'a>, ValueEmpty)> {
        proposed.id = Value::Unknown;
        proposed.rule_id = Value::Unknown;
        proposed.port = Value::Unknown;
        proposed.created_at = Value::Unknown;
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: DatabaseFirewallRuleState<'a>,
        mut proposed: DatabaseFirewallRuleState<'a>,
        _config: DatabaseFirewallRuleState<'a>,
        _pp: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(
        DatabaseFirewallRuleState<'a>,
        ValueEmpty,
        Vec<AttributePath>,
    )> {
        let mut replace = vec![];
        for (name, changed) in [
            ("db_type", proposed.db_type != prior.db_type),
            ("db_name", proposed.db_name != prior.db_name),
            ("ip_address", proposed.ip_address != prior.ip_address),
            ("description", proposed.description != prior.description),
        ] {
            if changed {
                replace.push(AttributePath::new(name));
            }
        }
        if !replace.is_empty() {
            proposed.id = Value::Unknown;
            proposed.rule_id = Value::Unknown;
            proposed.port = Value::Unknown;
            proposed.created_at = Value::Unknown;
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: DatabaseFirewallRuleState<'a>,
        _pp: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: DatabaseFirewallRuleState<'a>,
        _config: DatabaseFirewallRuleState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseFirewallRuleState<'a>, ValueEmpty)> {
        let client = self.data.configured(diags)?.client;
        let (t, n) = (
            text(&planned.db_type)?.to_owned(),
            text(&planned.db_name)?.to_owned(),
        );
        match client
            .add_rule(
                &t,
                &n,
                text(&planned.ip_address)?,
                text(&planned.description),
            )
            .await
        {
            Ok(rule) => {
                let mut state = from_rule(rule, &t, &n, planned.clone());
                // Keep the address as written (WaysCloud echoes it).
                state.ip_address = planned.ip_address.clone();
                state.description = planned.description.clone();
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
        _prior: DatabaseFirewallRuleState<'a>,
        planned: DatabaseFirewallRuleState<'a>,
        _config: DatabaseFirewallRuleState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(DatabaseFirewallRuleState<'a>, ValueEmpty)> {
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: DatabaseFirewallRuleState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        let client = self.data.configured(diags)?.client;
        deleted(
            diags,
            client
                .delete_rule(
                    text(&prior.db_type)?,
                    text(&prior.db_name)?,
                    text(&prior.rule_id)?,
                )
                .await,
        )
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(DatabaseFirewallRuleState<'a>, ValueEmpty)> {
        let spec = identity();
        let expected = format!("Import this type by `{}`", spec.import_form());
        let parts = spec.parse_import_id(diags, &id, IdentitySpec::no_slash, expected)?;
        check_db_type(diags, parts[0], "db_type");
        if !diags.errors.is_empty() {
            return None;
        }
        let client = self.data.configured(diags)?.client;
        match client.rules(parts[0], parts[1]).await {
            Ok(rules) => match rules.into_iter().find(|r| r.rule_id == parts[2]) {
                Some(r) => Some((
                    from_rule(r, parts[0], parts[1], DatabaseFirewallRuleState::default()),
                    Value::Null,
                )),
                None => {
                    diags.root_error(
                        "Cannot import firewall rule",
                        format!(
                            "Database `{}` has no firewall rule `{}`.",
                            parts[1], parts[2]
                        ),
                    );
                    None
                }
            },
            Err(e) => {
                api_error(diags, &e);
                None
            }
        }
    }
}
