//! `terraform-provider-testing`: a test-only provider that exercises every path of the plugin
//! server (schema, validation with attribute paths, unknown values, replace paths, sensitive
//! values, import, out-of-band deletion, data sources, provider functions, a list, generated
//! configuration, an action) without any remote API.
//!
//! Objects live in Terraform's state. When `TESTING_PROVIDER_STORE` names a directory, each
//! object is also a file there, so tests can delete one "out of band".

use std::borrow::Cow;
use std::path::PathBuf;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{Value, ValueEmpty, ValueMap, ValueNumber, ValueString};
use tf_provider::{map, AttributePath, DataSource, Diagnostics, Resource};

use platforms::plugin::{
    serve, Action, Args, ConfigRules, EphemeralResource, Function, FunctionError,
    IdentityAttribute, IdentitySpec, ListItem, ListResource, Listed, Page, Parameter, Progress,
    Provider, Registry, SchemaExtras, ServeOptions, Signature,
};

fn main() -> std::process::ExitCode {
    serve(
        ServeOptions {
            address: "comwit/testing",
            binary: "terraform-provider-testing",
        },
        TestingProvider,
    )
}

#[derive(Serialize, Deserialize)]
struct ProviderConfig<'a> {
    #[serde(borrow)]
    prefix: ValueString<'a>,
}

struct TestingProvider;

#[async_trait]
impl Provider for TestingProvider {
    type Config<'a> = ProviderConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain("Test-only provider."),
                attributes: map! {
                    "prefix" => Attribute {
                        attr_type: AttributeType::String,
                        description: Description::plain("Prefix for generated ids. `fail` makes configure fail; `panic` makes it panic (to test that a provider's panic fails a test)."),
                        constraint: AttributeConstraint::Optional,
                        ..Default::default()
                    },
                },
                ..Default::default()
            },
        })
    }

    async fn configure<'a>(
        &self,
        diags: &mut Diagnostics,
        _terraform_version: String,
        config: ProviderConfig<'a>,
    ) -> Option<()> {
        if config.prefix.as_deref_option() == Some("panic") {
            panic!("prefix `panic` panics on purpose");
        }
        if config.prefix.as_deref_option() == Some("fail") {
            diags.error(
                "Invalid provider configuration",
                "prefix `fail` is refused on purpose",
                AttributePath::new("prefix"),
            );
            return None;
        }
        Some(())
    }

    fn register(&self, registry: &mut Registry) {
        registry.resource_with(
            "testing_thing",
            Thing,
            SchemaExtras {
                identity: Some(IdentitySpec {
                    version: 0,
                    attributes: vec![IdentityAttribute {
                        name: "id",
                        description: "Thing id.",
                        required_for_import: true,
                    }],
                }),
                ..Default::default()
            },
        );
        registry.resource("testing_null", Null);
        registry.data_source("testing_echo", Echo);
        registry.data_source("testing_environment", Environment);
        registry.ephemeral_resource("testing_lease", Lease);
        registry.function("upper", Upper);
        registry.function("join", Join);
        registry.function("port_of", PortOf);
        registry.list_resource("testing_thing", ThingList);
        registry.config_rules(
            "testing_thing",
            ConfigRules {
                defaults: vec![("size", 1.into())],
                omit: vec![],
            },
        );
        registry.action("testing_x", Ping);
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ThingState<'a> {
    #[serde(borrow, default)]
    id: ValueString<'a>,
    #[serde(borrow, default)]
    name: ValueString<'a>,
    #[serde(borrow, default)]
    zone: ValueString<'a>,
    #[serde(default)]
    size: ValueNumber,
    #[serde(borrow, default)]
    tags: ValueMap<'a, ValueString<'a>>,
    #[serde(borrow, default)]
    secret: ValueString<'a>,
}

struct Thing;

fn store_path(id: &str) -> Option<PathBuf> {
    std::env::var_os("TESTING_PROVIDER_STORE").map(|d| PathBuf::from(d).join(id))
}

#[async_trait]
impl Resource for Thing {
    type State<'a> = ThingState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let attr = |t, c, d: &str| Attribute {
            attr_type: t,
            description: Description::plain(d),
            constraint: c,
            ..Default::default()
        };
        use AttributeConstraint::*;
        Some(Schema {
            version: 1,
            block: Block {
                description: Description::plain("A thing that lives in Terraform state."),
                attributes: map! {
                    "id" => attr(AttributeType::String, Computed, "Identifier, derived from the name."),
                    "name" => attr(AttributeType::String, Required, "Name; must not start with `bad`."),
                    "zone" => attr(AttributeType::String, Optional, "Zone; changing it replaces the thing."),
                    "size" => attr(AttributeType::Number, OptionalComputed, "Size, 1 to 100; default 1."),
                    "tags" => attr(AttributeType::Map(Box::new(AttributeType::String)), Optional, "Tags."),
                    "secret" => Attribute { sensitive: true, ..attr(AttributeType::String, Computed, "A generated secret.") },
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: ThingState<'a>) -> Option<()> {
        if let Value::Value(name) = &config.name {
            if name.starts_with("bad") {
                diags.error(
                    "Invalid name",
                    format!("`{name}` starts with `bad`"),
                    AttributePath::new("name"),
                );
            }
        }
        if let Value::Value(size) = config.size {
            if !(1..=100).contains(&size) {
                diags.error(
                    "Invalid size",
                    format!("size must be between 1 and 100, got {size}"),
                    AttributePath::new("size"),
                );
            }
        }
        Some(())
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        state: ThingState<'a>,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ThingState<'a>, ValueEmpty)> {
        if let Some(path) = state.id.as_deref_option().and_then(store_path) {
            if !path.exists() {
                return None; // gone: the server answers a null state
            }
        }
        Some((state, private_state))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: ThingState<'a>,
        _config: ThingState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(ThingState<'a>, ValueEmpty)> {
        proposed.id = Value::Unknown;
        proposed.secret = Value::Unknown;
        if proposed.size.is_null() {
            proposed.size = Value::Value(1);
        }
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: ThingState<'a>,
        mut proposed: ThingState<'a>,
        _config: ThingState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ThingState<'a>, ValueEmpty, Vec<AttributePath>)> {
        let mut replace = vec![];
        if proposed.zone != prior.zone {
            replace.push(AttributePath::new("zone"));
            proposed.id = Value::Unknown;
            proposed.secret = Value::Unknown;
        } else if proposed.name != prior.name {
            proposed.id = Value::Unknown;
        }
        if proposed.size.is_null() {
            proposed.size = Value::Value(1);
        }
        Some((proposed, Value::Null, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: ThingState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        if prior.name.as_deref_option() == Some("keep") {
            diags.error(
                "Thing is protected",
                "a thing named `keep` cannot be destroyed",
                AttributePath::new("name"),
            );
            return None;
        }
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut planned: ThingState<'a>,
        _config: ThingState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ThingState<'a>, ValueEmpty)> {
        let name = planned
            .name
            .as_deref_option()
            .unwrap_or_default()
            .to_owned();
        planned.id = Value::Value(Cow::Owned(format!("thing-{name}")));
        planned.secret = Value::Value(Cow::Owned(format!("s3cr3t-{name}")));
        if let Some(path) = planned.id.as_deref_option().and_then(store_path) {
            let _ = std::fs::write(path, name);
        }
        Some((planned, Value::Null))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: ThingState<'a>,
        mut planned: ThingState<'a>,
        _config: ThingState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(ThingState<'a>, ValueEmpty)> {
        if planned.id.is_unknown() {
            let name = planned
                .name
                .as_deref_option()
                .unwrap_or_default()
                .to_owned();
            planned.id = Value::Value(Cow::Owned(format!("thing-{name}")));
        }
        planned.secret = prior.secret;
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: ThingState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        if let Some(path) = prior.id.as_deref_option().and_then(store_path) {
            let _ = std::fs::remove_file(path);
        }
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(ThingState<'a>, ValueEmpty)> {
        let Some(name) = id.strip_prefix("thing-") else {
            diags.root_error(
                "Invalid import id",
                format!("expected `thing-<name>`, got `{id}`"),
            );
            return None;
        };
        Some((
            ThingState {
                id: Value::Value(Cow::Owned(id.clone())),
                name: Value::Value(Cow::Owned(name.to_owned())),
                zone: Value::Null,
                size: Value::Value(1),
                tags: Value::Null,
                secret: Value::Value(Cow::Owned(format!("s3cr3t-{name}"))),
            },
            Value::Null,
        ))
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct NullState<'a> {
    #[serde(borrow, default)]
    id: ValueString<'a>,
    #[serde(borrow, default)]
    triggers: ValueMap<'a, ValueString<'a>>,
}

/// The shape of the tf-provider crate's null example (`id`, `triggers`), so the plugin
/// benchmark compares servers doing the same work for Terraform.
struct Null;

#[async_trait]
impl Resource for Null {
    type State<'a> = NullState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let attr = |t, d: &str| Attribute {
            attr_type: t,
            description: Description::plain(d),
            constraint: AttributeConstraint::Computed,
            ..Default::default()
        };
        Some(Schema {
            version: 1,
            block: Block {
                description: Description::plain("Nothing, kept in Terraform state."),
                attributes: map! {
                    "id" => attr(AttributeType::String, "Identifier."),
                    "triggers" => attr(AttributeType::Map(Box::new(AttributeType::String)), "Triggers."),
                },
                ..Default::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        state: NullState<'a>,
        private_state: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(NullState<'a>, ValueEmpty)> {
        Some((state, private_state))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut proposed: NullState<'a>,
        _config: NullState<'a>,
        _meta: ValueEmpty,
    ) -> Option<(NullState<'a>, ValueEmpty)> {
        proposed.id = Value::Unknown;
        Some((proposed, Value::Null))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: NullState<'a>,
        proposed: NullState<'a>,
        _config: NullState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(NullState<'a>, ValueEmpty, Vec<AttributePath>)> {
        Some((proposed, Value::Null, vec![]))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: NullState<'a>,
        _prior_private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<ValueEmpty> {
        Some(Value::Null)
    }

    async fn create<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut planned: NullState<'a>,
        _config: NullState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(NullState<'a>, ValueEmpty)> {
        planned.id = Value::Value(Cow::Owned(uuid::Uuid::new_v4().to_string()));
        Some((planned, Value::Null))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: NullState<'a>,
        planned: NullState<'a>,
        _config: NullState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<(NullState<'a>, ValueEmpty)> {
        Some((planned, Value::Null))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: NullState<'a>,
        _private: ValueEmpty,
        _meta: ValueEmpty,
    ) -> Option<()> {
        Some(())
    }
}

#[derive(Serialize, Deserialize)]
struct EnvironmentState<'a> {
    #[serde(borrow)]
    prefix: ValueString<'a>,
    #[serde(borrow)]
    names: ValueString<'a>,
}

/// The names (never the values) of the provider process's environment variables, so tests
/// can check what reaches a provider started by Terraform.
struct Environment;

#[async_trait]
impl DataSource for Environment {
    type State<'a> = EnvironmentState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain(
                    "Names of the provider process's environment variables (never their values).",
                ),
                attributes: map! {
                    "prefix" => Attribute {
                        attr_type: AttributeType::String,
                        description: Description::plain("Only names starting with this (`\"\"` for all)."),
                        constraint: AttributeConstraint::Required,
                        ..Default::default()
                    },
                    "names" => Attribute {
                        attr_type: AttributeType::String,
                        description: Description::plain("The names, sorted, separated by commas."),
                        constraint: AttributeConstraint::Computed,
                        ..Default::default()
                    },
                },
                ..Default::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut config: EnvironmentState<'a>,
        _meta: ValueEmpty,
    ) -> Option<EnvironmentState<'a>> {
        let prefix = config.prefix.as_deref_option().unwrap_or("").to_owned();
        let mut names: Vec<String> = std::env::vars_os()
            .map(|(k, _)| k.to_string_lossy().into_owned())
            .filter(|k| k.starts_with(&prefix))
            .collect();
        names.sort();
        config.names = Value::Value(Cow::Owned(names.join(",")));
        Some(config)
    }
}

#[derive(Serialize, Deserialize)]
struct EchoState<'a> {
    #[serde(borrow)]
    input: ValueString<'a>,
    #[serde(borrow)]
    output: ValueString<'a>,
}

struct Echo;

#[async_trait]
impl DataSource for Echo {
    type State<'a> = EchoState<'a>;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain("Echoes its input in upper case."),
                attributes: map! {
                    "input" => Attribute {
                        attr_type: AttributeType::String,
                        description: Description::plain("Text to echo."),
                        constraint: AttributeConstraint::Required,
                        ..Default::default()
                    },
                    "output" => Attribute {
                        attr_type: AttributeType::String,
                        description: Description::plain("The input, upper-cased."),
                        constraint: AttributeConstraint::Computed,
                        ..Default::default()
                    },
                },
                ..Default::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut config: EchoState<'a>,
        _meta: ValueEmpty,
    ) -> Option<EchoState<'a>> {
        config.output = config
            .input
            .as_deref_option()
            .map(|s| Cow::Owned(s.to_uppercase()))
            .into();
        Some(config)
    }
}

#[derive(Serialize, Deserialize)]
struct LeaseState<'a> {
    #[serde(borrow)]
    name: ValueString<'a>,
    #[serde(borrow)]
    secret: ValueString<'a>,
}

#[derive(Serialize, Deserialize)]
struct LeasePrivate {
    renewals: i64,
}

/// Ephemeral: a lease with a secret, renewed hourly; renewals are counted in private state.
struct Lease;

#[async_trait]
impl EphemeralResource for Lease {
    type State<'a> = LeaseState<'a>;
    type PrivateState<'a> = LeasePrivate;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain("A lease that is never stored."),
                attributes: map! {
                    "name" => Attribute {
                        attr_type: AttributeType::String,
                        description: Description::plain("Lease name; `bad` is refused."),
                        constraint: AttributeConstraint::Required,
                        ..Default::default()
                    },
                    "secret" => Attribute {
                        attr_type: AttributeType::String,
                        description: Description::plain("The leased secret."),
                        constraint: AttributeConstraint::Computed,
                        sensitive: true,
                        ..Default::default()
                    },
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: LeaseState<'a>) -> Option<()> {
        if config.name.as_deref_option() == Some("bad") {
            diags.error(
                "Invalid lease name",
                "`bad` is refused",
                AttributePath::new("name"),
            );
        }
        Some(())
    }

    async fn open<'a>(
        &self,
        _diags: &mut Diagnostics,
        mut config: LeaseState<'a>,
    ) -> Option<(LeaseState<'a>, LeasePrivate, Option<time::OffsetDateTime>)> {
        let name = config.name.as_deref_option().unwrap_or_default().to_owned();
        config.secret = Value::Value(Cow::Owned(format!("lease-{name}")));
        let renew_at = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        Some((config, LeasePrivate { renewals: 0 }, Some(renew_at)))
    }

    async fn renew<'a>(
        &self,
        _diags: &mut Diagnostics,
        private: LeasePrivate,
    ) -> Option<(LeasePrivate, Option<time::OffsetDateTime>)> {
        Some((
            LeasePrivate {
                renewals: private.renewals + 1,
            },
            None,
        ))
    }

    async fn close<'a>(&self, diags: &mut Diagnostics, private: LeasePrivate) -> Option<()> {
        if private.renewals > 5 {
            diags.root_error("Lease renewed too often", "more than 5 renewals");
            return None;
        }
        Some(())
    }
}

/// `upper(text)`: the text in upper case.
struct Upper;

#[async_trait]
impl Function for Upper {
    type Output = String;
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![Parameter::new("text", AttributeType::String, "Any text.")],
            variadic: None,
            returns: AttributeType::String,
            summary: "Upper-case a text.",
            description: "Returns `text` in upper case.",
        }
    }
    async fn call(&self, args: Args) -> Result<String, FunctionError> {
        Ok(args.get::<String>(0)?.to_uppercase())
    }
}

/// `join(separator, parts...)`: variadic; an empty part is an error on that argument.
struct Join;

#[async_trait]
impl Function for Join {
    type Output = String;
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![Parameter::new(
                "separator",
                AttributeType::String,
                "Between parts.",
            )],
            variadic: Some(Parameter::new(
                "part",
                AttributeType::String,
                "A non-empty part.",
            )),
            returns: AttributeType::String,
            summary: "Join parts.",
            description: "Joins the parts with the separator; an empty part is refused.",
        }
    }
    async fn call(&self, args: Args) -> Result<String, FunctionError> {
        let separator: String = args.get(0)?;
        let parts: Vec<String> = args.rest(1)?;
        if let Some(i) = parts.iter().position(String::is_empty) {
            return Err(FunctionError::argument(i + 1, "a part must not be empty"));
        }
        Ok(parts.join(&separator))
    }
}

/// `port_of(url)`: the port of a `scheme://host:port` URL; bad input is an argument error.
struct PortOf;

#[async_trait]
impl Function for PortOf {
    type Output = i64;
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![Parameter {
                allow_null: true,
                ..Parameter::new("url", AttributeType::String, "A URL with a port.")
            }],
            variadic: None,
            returns: AttributeType::Number,
            summary: "The port of a URL.",
            description: "Returns the port of `scheme://host:port/...`.",
        }
    }
    async fn call(&self, args: Args) -> Result<i64, FunctionError> {
        let Some(url) = args.get::<Option<String>>(0)? else {
            return Err(FunctionError::argument(0, "the URL is null"));
        };
        let port = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split('/').next())
            .and_then(|host| host.rsplit_once(':'))
            .and_then(|(_, port)| port.parse::<u16>().ok());
        match port {
            Some(p) => Ok(i64::from(p)),
            None => Err(FunctionError::argument(
                0,
                format!("`{url}` is not a URL with a port (scheme://host:port)"),
            )),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ThingListConfig<'a> {
    #[serde(borrow, default)]
    prefix: ValueString<'a>,
    #[serde(default)]
    count: ValueNumber,
    #[serde(default)]
    page_size: ValueNumber,
}

/// Lists things `<prefix>0`, `<prefix>1`, ... in pages of `page_size` (default 3): `count` of them, or without
/// end when `count` is null (to test that a cancelled listing stops). Each page fetched is
/// a line in the file `TESTING_PROVIDER_LIST_LOG` names. With a prefix `odd`, the item at
/// index 1 is skipped by the list and the one at index 2 has no id (the server skips it);
/// a prefix `fail` fails the second page.
struct ThingList;

#[async_trait]
impl ListResource for ThingList {
    type Config<'a> = ThingListConfig<'a>;
    type State = ThingState<'static>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let attr = |t, d: &str| Attribute {
            attr_type: t,
            description: Description::plain(d),
            constraint: AttributeConstraint::Optional,
            ..Default::default()
        };
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain("Things, listed."),
                attributes: map! {
                    "prefix" => attr(AttributeType::String, "Names start with this."),
                    "count" => attr(AttributeType::Number, "How many (null: without end)."),
                    "page_size" => attr(AttributeType::Number, "Items per page (default 3)."),
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(
        &self,
        diags: &mut Diagnostics,
        config: ThingListConfig<'a>,
    ) -> Option<()> {
        if let Value::Value(n) = config.count {
            if n < 0 {
                diags.error(
                    "Invalid count",
                    "count must not be negative",
                    AttributePath::new("count"),
                );
            }
        }
        Some(())
    }

    async fn page<'a>(
        &self,
        diags: &mut Diagnostics,
        config: &ThingListConfig<'a>,
        cursor: Option<String>,
        _limit: usize,
    ) -> Option<Page<ThingState<'static>>> {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        if let Some(log) = std::env::var_os("TESTING_PROVIDER_LIST_LOG") {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
            {
                let _ = writeln!(f, "page {}", cursor.as_deref().unwrap_or("0"));
            }
        }
        let prefix = config.prefix.as_deref_option().unwrap_or("t").to_owned();
        let start: i64 = cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
        if prefix == "fail" && start > 0 {
            diags.root_error("Listing failed", "the second page fails on purpose");
            return None;
        }
        let size = match config.page_size {
            Value::Value(n) if n > 0 => n,
            _ => 3,
        };
        let end = match config.count {
            Value::Value(n) => n.min(start + size),
            _ => start + size,
        };
        let items = (start..end)
            .map(|i| {
                let name = format!("{prefix}{i}");
                if prefix == "odd" && i == 1 {
                    return Listed::Skipped {
                        name: format!("thing-{name}"),
                        reason: "it has no name on purpose".into(),
                    };
                }
                // An object the platform answers oddly: no id.
                let id = if prefix == "odd" && i == 2 {
                    Value::Null
                } else {
                    Value::Value(Cow::Owned(format!("thing-{name}")))
                };
                Listed::Item(ListItem {
                    display_name: format!("thing {name}"),
                    state: ThingState {
                        id,
                        name: Value::Value(Cow::Owned(name.clone())),
                        zone: Value::Null,
                        size: Value::Value(1),
                        tags: Value::Null,
                        secret: Value::Value(Cow::Owned(format!("s3cr3t-{name}"))),
                    },
                })
            })
            .collect();
        let more = match config.count {
            Value::Value(n) => end < n,
            _ => true,
        };
        Some(Page::new(items, more.then(|| end.to_string())))
    }
}

#[derive(Serialize, Deserialize)]
struct PingConfig<'a> {
    #[serde(borrow)]
    message: ValueString<'a>,
    #[serde(default)]
    steps: ValueNumber,
}

/// Action `testing_x`: progress `ping <message>`, one line per step, then `done`; each run
/// appends the message to `<TESTING_PROVIDER_STORE>/pings` (its effect, seen from outside).
/// A message `bad` is refused at validation, `fail` fails the run.
struct Ping;

#[async_trait]
impl Action for Ping {
    type Config<'a> = PingConfig<'a>;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain("Pings: progress lines, no state."),
                attributes: map! {
                    "message" => Attribute {
                        attr_type: AttributeType::String,
                        description: Description::plain("What to ping; `bad` is refused, `fail` fails."),
                        constraint: AttributeConstraint::Required,
                        ..Default::default()
                    },
                    "steps" => Attribute {
                        attr_type: AttributeType::Number,
                        description: Description::plain("Progress steps (default 2)."),
                        constraint: AttributeConstraint::Optional,
                        ..Default::default()
                    },
                },
                ..Default::default()
            },
        })
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: PingConfig<'a>) -> Option<()> {
        if config.message.as_deref_option() == Some("bad") {
            diags.error(
                "Invalid message",
                "`bad` is refused",
                AttributePath::new("message"),
            );
        }
        Some(())
    }

    async fn invoke<'a>(
        &self,
        diags: &mut Diagnostics,
        config: PingConfig<'a>,
        progress: &Progress,
    ) -> Option<()> {
        let message = config
            .message
            .as_deref_option()
            .unwrap_or_default()
            .to_owned();
        let steps = match config.steps {
            Value::Value(n) => n,
            _ => 2,
        };
        progress.send(format!("ping {message}")).await;
        for i in 1..=steps {
            if !progress.sleep(std::time::Duration::from_millis(20)).await {
                diags.root_error(
                    "Ping cancelled",
                    format!("stopped after {} of {steps} steps", i - 1),
                );
                return None;
            }
            progress.send(format!("step {i} of {steps}")).await;
        }
        if message == "fail" {
            diags.root_error("Ping failed", "the message `fail` fails on purpose");
            return None;
        }
        if let Some(path) = store_path("pings") {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{message}");
            }
        }
        progress.send("done").await;
        Some(())
    }
}
