//! WaysCloud's provider functions (Terraform 1.8+, OpenTofu 1.7+): parse and build the
//! `postgresql://` and `mysql://` connection strings the databases API answers
//! (`docs/api/wayscloud.md`, "Databases"), with the user and password percent-escaped.
//!
//! Error messages never repeat the connection string or any part of it: it may carry a
//! password, and a password written without escaping can land in any part.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use async_trait::async_trait;
use serde::Serialize;
use tf_provider::schema::AttributeType;

use crate::contract::url::{escape, split, url_host, MAX_LEN};
use crate::plugin::functions::{Args, Function, FunctionError, Parameter, Signature};
use crate::plugin::Registry;

/// Register every function of the provider.
pub fn register(registry: &mut Registry) {
    registry.function("parse_connection_string", ParseConnectionString);
    registry.function("connection_string", BuildConnectionString);
}

/// `postgresql` or `mariadb` for a URL scheme.
fn engine_of(scheme: &str) -> Option<&'static str> {
    match scheme {
        "postgres" | "postgresql" => Some("postgresql"),
        "mysql" | "mariadb" => Some("mariadb"),
        _ => None,
    }
}

fn default_port(engine: &str) -> u16 {
    if engine == "mariadb" {
        3306
    } else {
        5432
    }
}

/// The object `parse_connection_string` returns.
#[derive(Debug, Serialize, PartialEq)]
pub struct ConnectionParts {
    pub engine: String,
    pub host: String,
    pub port: i64,
    pub database: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub options: BTreeMap<String, String>,
}

fn parts_type() -> AttributeType {
    AttributeType::Object(HashMap::from([
        ("engine".to_owned(), AttributeType::String),
        ("host".to_owned(), AttributeType::String),
        ("port".to_owned(), AttributeType::Number),
        ("database".to_owned(), AttributeType::String),
        ("username".to_owned(), AttributeType::String),
        ("password".to_owned(), AttributeType::String),
        (
            "options".to_owned(),
            AttributeType::Map(Box::new(AttributeType::String)),
        ),
    ]))
}

/// Parses a WaysCloud connection string.
pub fn parse(raw: &str) -> Result<ConnectionParts, String> {
    let parts = split(raw)?;
    let Some(engine) = engine_of(&parts.scheme) else {
        return Err(format!(
            "the scheme must be `postgresql://` (or `postgres://`) or `mysql://` (or \
             `mariadb://`), got `{}://`",
            parts.scheme
        ));
    };
    if parts.path.contains('/') {
        return Err("the path names one database: `/<database>` without further `/`".into());
    }
    let mut options = BTreeMap::new();
    for (k, v) in parts.query {
        if options.insert(k.clone(), v).is_some() {
            return Err(format!("the option `{k}` is given twice"));
        }
    }
    Ok(ConnectionParts {
        engine: engine.to_owned(),
        port: i64::from(parts.port.unwrap_or_else(|| default_port(engine))),
        host: parts.host,
        database: (!parts.path.is_empty()).then_some(parts.path),
        username: parts.username,
        password: parts.password,
        options,
    })
}

/// `parse_connection_string(connection_string)`.
pub struct ParseConnectionString;

#[async_trait]
impl Function for ParseConnectionString {
    type Output = ConnectionParts;
    fn signature(&self) -> Signature {
        Signature {
            parameters: vec![Parameter::new(
                "connection_string",
                AttributeType::String,
                "A `postgresql://` or `mysql://` URL, such as a `wayscloud_database`'s \
                 `connection_string`.",
            )],
            variadic: None,
            returns: parts_type(),
            summary: "Split a database connection string into its parts.",
            description: "Parses `scheme://[user[:password]@]host[:port][/database][?options]` \
                 into an object: `engine` (`postgresql` for `postgresql://` and `postgres://`, \
                 `mariadb` for `mysql://` and `mariadb://`), `host` (lowercase; an IPv6 \
                 address in `[...]`), `port` (the engine's default, 5432 or 3306, when the \
                 string has none), `database`, `username` and `password` (percent-escapes \
                 decoded; null when absent) and `options` (the query parameters). The result \
                 is sensitive when the argument is. Errors never repeat the string.",
        }
    }
    async fn call(&self, args: Args) -> Result<ConnectionParts, FunctionError> {
        let raw: String = args.get(0)?;
        parse(&raw).map_err(|e| FunctionError::argument(0, e))
    }
}

/// Builds a connection string: every part checked, user and password escaped.
pub fn build(
    engine: &str,
    host: &str,
    port: i64,
    database: &str,
    username: &str,
    password: Option<&str>,
) -> Result<String, (usize, String)> {
    let scheme = match engine {
        "postgresql" => "postgresql",
        "mariadb" => "mysql",
        _ => {
            let shown: String = engine.chars().take(40).collect();
            return Err((
                0,
                format!("the engine must be `postgresql` or `mariadb`, got {shown:?}"),
            ));
        }
    };
    let host = url_host(host).map_err(|e| (1, e))?;
    let port = u16::try_from(port)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| (2, format!("the port must be 1 to 65535, got {port}")))?;
    if database.is_empty() {
        return Err((3, "the database name may not be empty".into()));
    }
    if database.len() > MAX_LEN {
        return Err((3, format!("the database name is at most {MAX_LEN} bytes")));
    }
    if username.is_empty() {
        return Err((4, "the user name may not be empty".into()));
    }
    if username.len() > MAX_LEN {
        return Err((4, format!("the user name is at most {MAX_LEN} bytes")));
    }
    let mut out = format!("{scheme}://{}", escape(username));
    match password {
        Some(p) if p.len() > MAX_LEN => {
            return Err((5, format!("the password is at most {MAX_LEN} bytes")))
        }
        Some(p) if !p.is_empty() => {
            out.push(':');
            out.push_str(&escape(p));
        }
        _ => {}
    }
    let _ = write!(out, "@{host}:{port}/{}", escape(database));
    Ok(out)
}

/// `connection_string(engine, host, port, database, username, password)`.
pub struct BuildConnectionString;

#[async_trait]
impl Function for BuildConnectionString {
    type Output = String;
    fn signature(&self) -> Signature {
        let mut password = Parameter::new(
            "password",
            AttributeType::String,
            "The password (escaped in the result); null or empty for none.",
        );
        password.allow_null = true;
        Signature {
            parameters: vec![
                Parameter::new(
                    "engine",
                    AttributeType::String,
                    "`postgresql` or `mariadb` (a `wayscloud_database`'s `db_type`).",
                ),
                Parameter::new(
                    "host",
                    AttributeType::String,
                    "Server host name or IP address.",
                ),
                Parameter::new("port", AttributeType::Number, "Server port, 1 to 65535."),
                Parameter::new(
                    "database",
                    AttributeType::String,
                    "Database name (a `wayscloud_database`'s `db_name`).",
                ),
                Parameter::new("username", AttributeType::String, "The database user."),
                password,
            ],
            variadic: None,
            returns: AttributeType::String,
            summary: "Build a database connection string with escaped user and password.",
            description: "Returns `postgresql://user:password@host:port/database` (engine \
                 `postgresql`) or `mysql://...` (engine `mariadb`), the form the WaysCloud API \
                 answers, with the user name, password and database name percent-escaped (every \
                 character but letters, digits, `-`, `.`, `_` and `~`), so a password holding \
                 `@`, `:`, `/` or `%` reaches the server unchanged. An IPv6 host is put in \
                 `[...]`. The result is sensitive when the password is.",
        }
    }
    async fn call(&self, args: Args) -> Result<String, FunctionError> {
        let engine: String = args.get(0)?;
        let host: String = args.get(1)?;
        let port: f64 = args.get(2)?;
        let database: String = args.get(3)?;
        let username: String = args.get(4)?;
        let password: Option<String> = args.get(5)?;
        if port.fract() != 0.0 || !(-1e9..=1e9).contains(&port) {
            return Err(FunctionError::argument(
                2,
                "the port must be a whole number from 1 to 65535",
            ));
        }
        build(
            &engine,
            &host,
            port as i64,
            &database,
            &username,
            password.as_deref(),
        )
        .map_err(|(i, e)| FunctionError::argument(i, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-P@ss";

    #[test]
    fn parses_both_engines_with_escapes_and_defaults() {
        let p = parse(
            "postgresql://app%40corp:p%40ss%3Aw%2Fd@DB.Example.com:6543/orders?sslmode=require",
        )
        .expect("parses");
        assert_eq!(
            p,
            ConnectionParts {
                engine: "postgresql".into(),
                host: "db.example.com".into(),
                port: 6543,
                database: Some("orders".into()),
                username: Some("app@corp".into()),
                password: Some("p@ss:w/d".into()),
                options: BTreeMap::from([("sslmode".into(), "require".into())]),
            }
        );
        let m = parse("mysql://u@127.0.0.1/shop").expect("mysql");
        assert_eq!((m.engine.as_str(), m.port), ("mariadb", 3306));
        assert_eq!(m.password, None);
        let v6 = parse("postgres://[2001:DB8::1]:5433").expect("ipv6");
        assert_eq!(v6.host, "[2001:db8::1]");
        assert_eq!(v6.database, None);
        assert_eq!(v6.username, None);
        // A password with non-ASCII characters, escaped as UTF-8.
        let u = parse("postgresql://u:%C3%A4%E2%82%AC@h/d").expect("utf-8");
        assert_eq!(u.password.as_deref(), Some("ä€"));
    }

    #[test]
    fn bad_strings_are_refused_without_repeating_them() {
        let bad = [
            SECRET.to_string(),
            format!("http://u:{SECRET}@h/d"),
            format!("postgresql://u:{SECRET}/x@h/d"),
            format!("postgresql://u:{SECRET}@h:99999/d"),
            format!("postgresql://u:{SECRET}@h/d#frag"),
            format!("postgresql://u:{SECRET}%zz@h/d"),
            format!("postgresql://u:{SECRET}%ff@h/d"),
            format!("postgresql://u:{SECRET}@bücher.de/d"),
            format!("postgresql://u:{SECRET}@h/a/b"),
            format!("postgresql://u:{SECRET}@/d"),
            format!("postgresql://u:{SECRET}@h1,h2/d"),
            format!("postgresql://u:{SECRET}@[::1/d"),
            format!("postgresql://u:{SECRET}@h/d?a=1&a=2"),
            format!("postgresql://u:{SECRET}@h/d?{}", "x".repeat(5000)),
        ];
        for raw in bad {
            let e = parse(&raw).expect_err(&raw);
            assert!(!e.contains("s3cr3t"), "{e}");
            assert!(!e.contains("P@ss"), "{e}");
        }
        assert!(parse("http://h").expect_err("scheme").contains("`http://`"));
        assert!(parse(&"a".repeat(1_000_000))
            .expect_err("huge")
            .contains("at most 4096"));
    }

    #[test]
    fn builds_escaped_strings_that_parse_back() {
        let s = build(
            "postgresql",
            "db.example.com",
            5432,
            "cust_1_pg_app",
            "cust_1_pg_app",
            Some("p@ss:w/d%?#ä"),
        )
        .expect("builds");
        assert_eq!(
            s,
            "postgresql://cust_1_pg_app:p%40ss%3Aw%2Fd%25%3F%23%C3%A4@db.example.com:5432/cust_1_pg_app"
        );
        let back = parse(&s).expect("round trip");
        assert_eq!(back.password.as_deref(), Some("p@ss:w/d%?#ä"));
        assert_eq!(
            build("mariadb", "::1", 3306, "d", "u", None).expect("ipv6"),
            "mysql://u@[::1]:3306/d"
        );
        assert_eq!(
            build("mariadb", "h", 3306, "d", "u", Some("")).expect("empty"),
            "mysql://u@h:3306/d"
        );
        let cases: [(&str, &str, i64, &str, &str, usize); 6] = [
            ("oracle", "h", 1, "d", "u", 0),
            ("postgresql", "bad host", 1, "d", "u", 1),
            ("postgresql", "h", 0, "d", "u", 2),
            ("postgresql", "h", 70000, "d", "u", 2),
            ("postgresql", "h", 1, "", "u", 3),
            ("postgresql", "h", 1, "d", "", 4),
        ];
        for (engine, host, port, db, user, arg) in cases {
            let e = build(engine, host, port, db, user, Some(SECRET)).expect_err(engine);
            assert_eq!(e.0, arg, "{e:?}");
            assert!(!e.1.contains(SECRET), "{e:?}");
        }
        let huge = "x".repeat(1_000_000);
        assert_eq!(
            build("postgresql", "h", 1, "d", "u", Some(&huge))
                .expect_err("huge")
                .0,
            5
        );
        assert_eq!(
            build("postgresql", &huge, 1, "d", "u", None)
                .expect_err("huge")
                .0,
            1
        );
    }
}
