//! Logging through `tracing` to the place Terraform reads: the plugin's stderr, one
//! hclog-style JSON object per line (`@level`, `@message`, `@timestamp`, `@module`, plus
//! the event's fields). go-plugin parses those lines and Terraform writes them to its log
//! at the given level when `TF_LOG_PROVIDER` (or `TF_LOG`) asks for it. Nothing is ever
//! written to stdout, which carries the handshake line.
//!
//! Only our own code is logged at the level Terraform asks for: the `comwit` library's
//! targets and those of the provider binary. Libraries (hyper, h2, tonic, rustls, reqwest,
//! ...) log warnings and errors only, unless `TF_PROVIDER_LOG_LIBRARIES` asks for their
//! internals: under `TF_LOG=TRACE` they wrote about a thousand lines per dozen RPCs (every
//! HTTP/2 frame), burying the provider's own lines. A library line carries its `target`.
//!
//! Never log a token, password or connection string: resource code logs ids and names only.

use std::fmt::Write as _;
use std::io::Write as _;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{filter_fn, LevelFilter};
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

/// The environment variable that lets library internals into the provider's log: `1`
/// (or `true`, `yes`, `on`) at the level Terraform asks for, or a level name (`debug`) for
/// libraries at that level. Unset: libraries log warnings and errors only. A neutral name,
/// since every provider binary of this crate is served by this server.
pub const LIBRARIES_ENV: &str = "TF_PROVIDER_LOG_LIBRARIES";

/// The level at which library targets are logged, given the provider's level and the value
/// of [`LIBRARIES_ENV`].
fn libraries_level(level: LevelFilter, raw: Option<&str>) -> LevelFilter {
    let raw = raw.unwrap_or_default().trim().to_ascii_lowercase();
    match raw.as_str() {
        "1" | "true" | "yes" | "on" => level,
        "trace" | "debug" | "info" | "warn" | "error" => parse_level(&raw).min(level),
        _ => level.min(LevelFilter::WARN),
    }
}

/// Crate names whose targets are ours: this library and the provider binary
/// (`terraform-provider-comwit` logs as `terraform_provider_comwit`).
fn our_crates(binary: &str) -> Vec<String> {
    vec![
        env!("CARGO_CRATE_NAME").to_owned(),
        binary.replace('-', "_"),
    ]
}

fn is_ours(crates: &[String], target: &str) -> bool {
    crates.iter().any(|c| {
        target
            .strip_prefix(c.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// Install the global subscriber (once; later calls are ignored). `module` is hclog's
/// `@module`, `binary` the provider binary's name.
pub fn init(module: &str, binary: &str) {
    let level = level_from_env();
    if level == LevelFilter::OFF {
        return;
    }
    let libraries = libraries_level(level, std::env::var(LIBRARIES_ENV).ok().as_deref());
    let ours: std::sync::Arc<[String]> = our_crates(binary).into();
    let filter = {
        let ours = ours.clone();
        // Decided once per callsite (its metadata is static), not per event.
        filter_fn(move |meta| {
            let max = if is_ours(&ours, meta.target()) {
                level
            } else {
                libraries
            };
            *meta.level() <= max
        })
    };
    let subscriber = Registry::default().with(
        HclogLayer {
            module: module.to_owned(),
            ours,
        }
        .with_filter(filter),
    );
    let _ = tracing::subscriber::set_global_default(subscriber);
}

struct HclogLayer {
    module: String,
    ours: std::sync::Arc<[String]>,
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
        let target = event.metadata().target();
        if !is_ours(&self.ours, target) {
            map.insert("target".into(), target.into());
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

    #[test]
    fn libraries_log_warnings_unless_asked() {
        use LevelFilter as L;
        assert_eq!(libraries_level(L::TRACE, None), L::WARN);
        assert_eq!(libraries_level(L::TRACE, Some("0")), L::WARN);
        assert_eq!(libraries_level(L::ERROR, None), L::ERROR);
        assert_eq!(libraries_level(L::TRACE, Some("1")), L::TRACE);
        assert_eq!(libraries_level(L::DEBUG, Some("true")), L::DEBUG);
        assert_eq!(libraries_level(L::TRACE, Some("debug")), L::DEBUG);
        assert_eq!(libraries_level(L::INFO, Some("trace")), L::INFO);
    }

    #[test]
    fn our_targets_are_the_library_and_the_binary() {
        let ours = our_crates("terraform-provider-comwit");
        assert!(is_ours(&ours, "platforms"));
        assert!(is_ours(&ours, "platforms::plugin::service"));
        assert!(is_ours(&ours, "terraform_provider_comwit"));
        assert!(!is_ours(&ours, "platformsx::y"));
        assert!(!is_ours(&ours, "h2::codec::framed_write"));
        assert!(!is_ours(&ours, "hyper_util::client"));
    }
}
