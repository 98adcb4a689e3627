//! CloudSync's provider functions (Terraform 1.8+, OpenTofu 1.7+): parse and build the
//! connection strings a `cloudsync_database` takes (`docs/api/cloudsync.md`, "Databases"):
//! `sqlitecloud://HOST[:PORT][/DATABASE]?apikey=KEY` and `postgres://` (or
//! `postgresql://`) URLs, with the API key, user and password percent-escaped.
//!
//! Error messages never repeat the connection string or any part of it: it carries an API
//! key or a password, and a secret written without escaping can land in any part.
//! (WaysCloud's functions read URLs the same way; a platform never imports another.)

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use async_trait::async_trait;
use serde::Serialize;
use tf_provider::schema::AttributeType;

use crate::contract::url::{escape, split, url_host, MAX_LEN};
use crate::plugin::functions::{Args, Function, FunctionError, Parameter, Signature};
use crate::plugin::Registry;

/// SQLite Cloud's port when a string names none.
const SQLITECLOUD_PORT: u16 = 8860;
const POSTGRES_PORT: u16 = 5432;

/// Register every function of the provider.
pub fn register(registry: &mut Registry) {
    registry.function("parse_connection_string", ParseConnectionString);
    registry.function("sqlitecloud_connection_string", SqliteCloudConnectionString);
    registry.function("postgres_connection_string", PostgresConnectionString);
}

/// The object `parse_connection_string` returns.
#[derive(Debug, Serialize, PartialEq)]
pub struct ConnectionParts {
    pub provider: String,
    pub host: String,
    pub port: i64,
    pub database: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub apikey: Option<String>,
    pub options: BTreeMap<String, String>,
}

fn parts_type() -> AttributeType {
    let mut fields = HashMap::new();
    for name in [
        "provider", "host", "database", "username", "password", "apikey",
    ] {
        fields.insert(name.to_owned(), AttributeType::String);
    }
    fields.insert("port".to_owned(), AttributeType::Number);
    fields.insert(
        "options".to_owned(),
        AttributeType::Map(Box::new(AttributeType::String)),
    );
    AttributeType::Object(fields)
}

/// Parses a CloudSync connection string.
pub fn parse(raw: &str) -> Result<ConnectionParts, String> {
    let parts = split(raw)?;
    let (provider, default_port) = match parts.scheme.as_str() {
        "sqlitecloud" => ("sqlitecloud", SQLITECLOUD_PORT),
        "postgres" | "postgresql" => ("postgres", POSTGRES_PORT),
        other => {
            return Err(format!(
                "the scheme must be `sqlitecloud://`, `postgres://` or `postgresql://`, got \
                 `{other}://`"
            ))
        }
    };
    if parts.path.contains('/') {
        return Err("the path names one database: `/<database>` without further `/`".into());
    }
    let mut options = BTreeMap::new();
    let mut apikey = None;
    for (k, v) in parts.query {
        if provider == "sqlitecloud" && k == "apikey" {
            if apikey.replace(v).is_some() {
                return Err("the option `apikey` is given twice".into());
            }
        } else if options.insert(k.clone(), v).is_some() {
            return Err(format!("the option `{k}` is given twice"));
        }
    }
    if provider == "sqlitecloud" && apikey.as_deref().is_none_or(str::is_empty) {
        if parts.username.is_none() {
            return Err(
                "a `sqlitecloud://` string needs `?apikey=<key>` (or a user and password)".into(),
            );
        }
        apikey = None;
    }
    Ok(ConnectionParts {
        provider: provider.to_owned(),
        host: parts.host,
        port: i64::from(parts.port.unwrap_or(default_port)),
        database: (!parts.path.is_empty()).then_some(parts.path),
        username: parts.username,
        password: parts.password,
        apikey,
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
                "A `sqlitecloud://` or `postgres://` connection string, as a \
                 `cloudsync_database`'s `connection_string` takes it.",
            )],
            variadic: None,
            returns: parts_type(),
            summary: "Split a CloudSync connection string into its parts.",
            description: "Parses `sqlitecloud://host[:port][/database]?apikey=KEY` and \
                 `postgres://[user[:password]@]host[:port][/database][?options]` (also \
                 `postgresql://`) into an object: `provider` (`sqlitecloud` or `postgres`, the \
                 value a `cloudsync_database`'s `provider` takes), `host` (lowercase), `port` \
                 (8860 or 5432 when the string has none), `database`, `username`, `password` and \
                 `apikey` (percent-escapes decoded; null when absent) and `options` (the other \
                 query parameters). The result is sensitive when the argument is. Errors never \
                 repeat the string.",
        }
    }
    async fn call(&self, args: Args) -> Result<ConnectionParts, FunctionError> {
        let raw: String = args.get(0)?;
        parse(&raw).map_err(|e| FunctionError::argument(0, e))
    }
}

/// A port argument (a Terraform number): 1 to 65535.
fn port_arg(port: f64) -> Result<u16, String> {
    if port.fract() == 0.0 && (1.0..=65535.0).contains(&port) {
        Ok(port as u16)
    } else {
        Err("the port must be a whole number from 1 to 65535".into())
    }
}

/// A text argument that must not be empty nor huge.
fn text_arg(text: &str, what: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err(format!("the {what} may not be empty"));
    }
    if text.len() > MAX_LEN {
        return Err(format!("the {what} is at most {MAX_LEN} bytes"));
    }
    Ok(())
}

/// Builds `sqlitecloud://host:port[/database]?apikey=KEY`.
pub fn build_sqlitecloud(
    host: &str,
    port: f64,
    database: Option<&str>,
    apikey: &str,
) -> Result<String, (usize, String)> {
    let host = url_host(host).map_err(|e| (0, e))?;
    let port = port_arg(port).map_err(|e| (1, e))?;
    let mut out = format!("sqlitecloud://{host}:{port}");
    if let Some(db) = database.filter(|d| !d.is_empty()) {
        text_arg(db, "database name").map_err(|e| (2, e))?;
        let _ = write!(out, "/{}", escape(db));
    }
    text_arg(apikey, "API key").map_err(|e| (3, e))?;
    let _ = write!(out, "?apikey={}", escape(apikey));
    Ok(out)
}

/// Builds `postgres://user[:password]@host:port/database`.
pub fn build_postgres(
    host: &str,
    port: f64,
    database: &str,
    username: &str,
    password: Option<&str>,
) -> Result<String, (usize, String)> {
    let host = url_host(host).map_err(|e| (0, e))?;
    let port = port_arg(port).map_err(|e| (1, e))?;
    text_arg(database, "database name").map_err(|e| (2, e))?;
    text_arg(username, "user name").map_err(|e| (3, e))?;
    let mut out = format!("postgres://{}", escape(username));
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        text_arg(p, "password").map_err(|e| (4, e))?;
        let _ = write!(out, ":{}", escape(p));
    }
    let _ = write!(out, "@{host}:{port}/{}", escape(database));
    Ok(out)
}

/// `sqlitecloud_connection_string(host, port, database, apikey)`.
pub struct SqliteCloudConnectionString;

#[async_trait]
impl Function for SqliteCloudConnectionString {
    type Output = String;
    fn signature(&self) -> Signature {
        let mut database = Parameter::new(
            "database",
            AttributeType::String,
            "Database name put in the path; null or empty for none.",
        );
        database.allow_null = true;
        Signature {
            parameters: vec![
                Parameter::new(
                    "host",
                    AttributeType::String,
                    "SQLite Cloud node host name.",
                ),
                Parameter::new(
                    "port",
                    AttributeType::Number,
                    "Port, 1 to 65535 (SQLite Cloud's is 8860).",
                ),
                database,
                Parameter::new("apikey", AttributeType::String, "The node's API key."),
            ],
            variadic: None,
            returns: AttributeType::String,
            summary: "Build a `sqlitecloud://` connection string with an escaped API key.",
            description: "Returns `sqlitecloud://host:port/database?apikey=KEY` (without \
                 `/database` when it is null or empty), the form a `cloudsync_database` with \
                 `provider = \"sqlitecloud\"` takes, with the database name and API key \
                 percent-escaped. The result is sensitive when the key is.",
        }
    }
    async fn call(&self, args: Args) -> Result<String, FunctionError> {
        let host: String = args.get(0)?;
        let port: f64 = args.get(1)?;
        let database: Option<String> = args.get(2)?;
        let apikey: String = args.get(3)?;
        build_sqlitecloud(&host, port, database.as_deref(), &apikey)
            .map_err(|(i, e)| FunctionError::argument(i, e))
    }
}

/// `postgres_connection_string(host, port, database, username, password)`.
pub struct PostgresConnectionString;

#[async_trait]
impl Function for PostgresConnectionString {
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
                    "host",
                    AttributeType::String,
                    "Server host name or IP address.",
                ),
                Parameter::new("port", AttributeType::Number, "Server port, 1 to 65535."),
                Parameter::new("database", AttributeType::String, "Database name."),
                Parameter::new("username", AttributeType::String, "The database user."),
                password,
            ],
            variadic: None,
            returns: AttributeType::String,
            summary: "Build a `postgres://` connection string with escaped user and password.",
            description: "Returns `postgres://user:password@host:port/database`, the form a \
                 `cloudsync_database` with `provider = \"postgres\"` takes, with the user name, \
                 password and database name percent-escaped (every character but letters, \
                 digits, `-`, `.`, `_` and `~`). An IPv6 host is put in `[...]`. The result is \
                 sensitive when the password is.",
        }
    }
    async fn call(&self, args: Args) -> Result<String, FunctionError> {
        let host: String = args.get(0)?;
        let port: f64 = args.get(1)?;
        let database: String = args.get(2)?;
        let username: String = args.get(3)?;
        let password: Option<String> = args.get(4)?;
        build_postgres(&host, port, &database, &username, password.as_deref())
            .map_err(|(i, e)| FunctionError::argument(i, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "k3y-S3CR3T";

    #[test]
    fn parses_the_documented_forms() {
        let p = parse("sqlitecloud://project.sqlite.cloud:8860?apikey=xxxx").expect("seed form");
        assert_eq!(
            p,
            ConnectionParts {
                provider: "sqlitecloud".into(),
                host: "project.sqlite.cloud".into(),
                port: 8860,
                database: None,
                username: None,
                password: None,
                apikey: Some("xxxx".into()),
                options: BTreeMap::new(),
            }
        );
        let d = parse("sqlitecloud://Node.Example/notes?apikey=a%2Bb&timeout=5").expect("db");
        assert_eq!(d.database.as_deref(), Some("notes"));
        assert_eq!(d.apikey.as_deref(), Some("a+b"));
        assert_eq!(d.port, 8860);
        assert_eq!(d.host, "node.example");
        assert_eq!(d.options.get("timeout").map(String::as_str), Some("5"));
        let pg = parse("postgresql://r%C3%B6le:p%40ss@127.0.0.1/app?sslmode=disable").expect("pg");
        assert_eq!(pg.provider, "postgres");
        assert_eq!(pg.port, 5432);
        assert_eq!(pg.username.as_deref(), Some("röle"));
        assert_eq!(pg.password.as_deref(), Some("p@ss"));
        assert_eq!(pg.apikey, None);
    }

    #[test]
    fn bad_strings_are_refused_without_repeating_them() {
        let bad = [
            KEY.to_string(),
            format!("mysql://u:{KEY}@h/d"),
            "sqlitecloud://h:8860".to_string(),
            format!("sqlitecloud://h:88{KEY}?apikey={KEY}"),
            format!("sqlitecloud://h/a/b?apikey={KEY}"),
            format!("sqlitecloud://h?apikey={KEY}&apikey={KEY}"),
            format!("sqlitecloud://h?apikey={KEY}%g1"),
            format!("sqlitecloud://h?apikey={KEY}#x"),
            format!("postgres://u:{KEY}@héllo/d"),
            format!("postgres://u:{KEY}@h/d?{}", "y".repeat(10_000)),
        ];
        for raw in bad {
            let e = parse(&raw).expect_err(&raw);
            assert!(!e.contains("S3CR3T"), "{e}");
        }
        assert!(parse("sqlitecloud://h:8860")
            .expect_err("no key")
            .contains("apikey"));
    }

    #[test]
    fn builds_escaped_strings_that_parse_back() {
        let s = build_sqlitecloud("Node.Example", 8860.0, Some("my db"), "a+b/c=").expect("sc");
        assert_eq!(
            s,
            "sqlitecloud://node.example:8860/my%20db?apikey=a%2Bb%2Fc%3D"
        );
        let back = parse(&s).expect("back");
        assert_eq!(back.apikey.as_deref(), Some("a+b/c="));
        assert_eq!(back.database.as_deref(), Some("my db"));
        assert_eq!(
            build_sqlitecloud("h", 8860.0, None, "k").expect("no db"),
            "sqlitecloud://h:8860?apikey=k"
        );
        let pg = build_postgres("::1", 5432.0, "app", "ü", Some("p@ss:/%")).expect("pg");
        assert_eq!(pg, "postgres://%C3%BC:p%40ss%3A%2F%25@[::1]:5432/app");
        assert_eq!(
            parse(&pg).expect("back").password.as_deref(),
            Some("p@ss:/%")
        );

        for (host, port, key, arg) in [
            ("bad host", 1.0, KEY, 0),
            ("h", 0.0, KEY, 1),
            ("h", 1.5, KEY, 1),
            ("h", 65536.0, KEY, 1),
            ("h", 1.0, "", 3),
        ] {
            let e = build_sqlitecloud(host, port, None, key).expect_err(host);
            assert_eq!(e.0, arg, "{e:?}");
            assert!(!e.1.contains("S3CR3T"), "{e:?}");
        }
        let huge = "z".repeat(1_000_000);
        assert_eq!(
            build_sqlitecloud("h", 1.0, None, &huge)
                .expect_err("huge")
                .0,
            3
        );
        assert_eq!(
            build_postgres("h", 1.0, "d", "u", Some(&huge))
                .expect_err("huge")
                .0,
            4
        );
        assert_eq!(
            build_postgres("h", 1.0, "", "u", None).expect_err("db").0,
            2
        );
        assert_eq!(
            build_postgres("h", 1.0, "d", "", None).expect_err("user").0,
            3
        );
    }
}
