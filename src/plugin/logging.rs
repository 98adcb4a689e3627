//! Logging through `tracing` to the place Terraform reads: the plugin's stderr, one
//! hclog-style JSON object per line (`@level`, `@message`, `@timestamp`, `@module`, plus
//! the event's fields). go-plugin parses those lines and Terraform writes them to its log
//! at the given level when `TF_LOG_PROVIDER` (or `TF_LOG`) asks for it. Nothing is ever
//! written to stdout, which carries the handshake line.
//!
//! Never log a token, password or connection string: resource code logs ids and names only.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// The level asked for by `TF_LOG_PROVIDER`, else `TF_LOG` (off when neither is set).
pub fn level_from_env() -> LevelFilter {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("TF_LOG").ok())
        .unwrap_or_default();
    parse_level(&raw)
}

fn parse_level(raw: &str) -> LevelFilter {
    match raw.trim().to_ascii_lowercase().as_str() {
        "trace" | "json" => LevelFilter::TRACE,
        "debug" => LevelFilter::DEBUG,
        "info" => LevelFilter::INFO,
        "warn" => LevelFilter::WARN,
        "error" => LevelFilter::ERROR,
        _ => LevelFilter::OFF,
    }
}

/// Install the global subscriber (once; later calls are ignored).
pub fn init(module: &str) {
    let level = level_from_env();
    if level == LevelFilter::OFF {
        return;
    }
    let subscriber = Registry::default().with(
        HclogLayer {
            module: module.to_owned(),
        }
        .with_filter(level),
    );
    let _ = tracing::subscriber::set_global_default(subscriber);
}

struct HclogLayer {
    module: String,
}

struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        self.0.insert(key(field), Value::String(s));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(key(field), Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(key(field), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(key(field), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(key(field), Value::from(value));
    }
}

fn key(field: &Field) -> String {
    match field.name() {
        "message" => "@message".to_owned(),
        other => other.to_owned(),
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut map = Map::new();
        map.insert("@level".into(), level_name(event.metadata().level()).into());
        map.insert("@module".into(), self.module.as_str().into());
        if let Ok(ts) =
            time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)
        {
            map.insert("@timestamp".into(), ts.into());
        }
        if let Some(scope) = ctx.event_scope(event) {
            let names: Vec<_> = scope.from_root().map(|s| s.name()).collect();
            map.insert("rpc".into(), names.join(":").into());
        }
        event.record(&mut JsonVisitor(&mut map));
        map.entry("@message").or_insert_with(|| "".into());
        if let Ok(mut line) = serde_json::to_vec(&map) {
            line.push(b'\n');
            let _ = std::io::stderr().lock().write_all(&line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_terraform_names() {
        assert_eq!(parse_level("TRACE"), LevelFilter::TRACE);
        assert_eq!(parse_level("json"), LevelFilter::TRACE);
        assert_eq!(parse_level("Debug"), LevelFilter::DEBUG);
        assert_eq!(parse_level("warn"), LevelFilter::WARN);
        assert_eq!(parse_level(""), LevelFilter::OFF);
        assert_eq!(parse_level("off"), LevelFilter::OFF);
    }
}
