//! The kit every provider's types use: value constructors, schema attributes, plan-time
//! checks that point at an attribute, provider-block settings from the environment, and
//! the documentation renderer ([`docs`]). The configure pattern itself is
//! [`ConfigSlot`](super::ConfigSlot) and [`unknown_attributes`](super::unknown_attributes).

pub mod docs;
pub mod failure;
pub mod poll;
pub mod settings;
pub mod timeout;

use std::borrow::Cow;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Description};
use tf_provider::value::{Value, ValueString};
use tf_provider::{AttributePath, Diagnostics};

/// A known string value.
pub fn known<'a>(s: impl Into<String>) -> ValueString<'a> {
    Value::Value(Cow::Owned(s.into()))
}

/// An optional string as a value (null when absent).
pub fn opt<'a>(s: Option<impl Into<String>>) -> ValueString<'a> {
    s.map(|s| known(s)).unwrap_or(Value::Null)
}

/// The string inside a known value.
pub fn text<'b>(v: &'b ValueString<'_>) -> Option<&'b str> {
    v.as_deref_option()
}

/// Whether a configuration value is set, for the rules that compare attributes: `Some(true)`
/// for a known value, `Some(false)` for null, `None` while unknown (a variable in
/// `terraform validate`, a value from a resource not yet made). Every rule treats null as
/// not set, and decides nothing on an unknown value: "set both" fires only when both are
/// `Some(true)`, "set one" only when both are `Some(false)`.
pub fn presence<T>(v: &Value<T>) -> Option<bool> {
    match v {
        Value::Value(_) => Some(true),
        Value::Null => Some(false),
        Value::Unknown => None,
    }
}

/// A provider's API URL, the one rule of every provider block: the `api_url` argument, else
/// the environment variable `env_var`, else `default`; surrounding white space (a URL read
/// from a file ends in a newline) is not part of it; it must be an absolute http(s) URL with
/// a host. A bad one is an error on `api_url` that names the value, the default and the
/// emulator's address (`platform` names the API in the summary: "Invalid Comwit API URL").
pub fn api_url(
    diags: &mut Diagnostics,
    configured: Option<&str>,
    env_var: &str,
    default: &str,
    platform: &str,
    emulator: &str,
) -> Option<url::Url> {
    let raw = configured
        .map(str::to_owned)
        .or_else(|| env(env_var))
        .unwrap_or_else(|| default.to_owned());
    match url::Url::parse(raw.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
        _ => {
            diags.error(
                format!("Invalid {platform} API URL"),
                format!(
                    "`{}` is not an http(s) URL. Use the default {default}, or the emulator's \
                     address such as {emulator}.",
                    raw.trim()
                ),
                AttributePath::new("api_url"),
            );
            None
        }
    }
}

/// Whether the provider paces its requests by the rate limit the API announces: on unless
/// the environment variable `env_var` says `off`, `false` or `0` (for comparisons; 429s
/// are retried either way).
pub fn pacing(env_var: &str) -> bool {
    pacing_switch(env(env_var).as_deref())
}

/// The pacing switch's value: unset, or anything but `off`, `false`, `0`, leaves it on.
fn pacing_switch(value: Option<&str>) -> bool {
    !value.is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "off" | "false" | "0"
        )
    })
}

/// Schema attribute with a markdown description.
pub fn attribute(t: AttributeType, c: AttributeConstraint, description: &str) -> Attribute {
    Attribute {
        attr_type: t,
        description: Description::markdown(description),
        constraint: c,
        ..Default::default()
    }
}

/// Same, marked sensitive.
pub fn sensitive(t: AttributeType, c: AttributeConstraint, description: &str) -> Attribute {
    Attribute {
        sensitive: true,
        ..attribute(t, c, description)
    }
}

/// A provider setting from the environment: unset and blank are both absent.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A credential as users write it: `file("token.txt")` brings a trailing newline, a pasted
/// value may bring spaces. Surrounding whitespace is never part of a token.
pub fn credential(value: &str) -> String {
    value.trim().to_owned()
}

/// Any number Terraform can send for a `number` attribute. Terraform encodes a whole number
/// that fits in 64 bits as an integer, a fraction or a larger number as a float, and a
/// number beyond a float as its decimal text; `ValueNumber` (`i64`) decodes only the first,
/// so `1.5` or `1e20` would fail as "could not decode a value". Attributes users set are
/// [`ValueNum`], checked at plan time with [`whole_number`] or [`bounded`].
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    Text(String),
}

/// A `number` attribute a user sets.
pub type ValueNum = Value<Number>;

impl Number {
    /// The number, when it is a whole number that fits in an `i64`.
    pub fn whole(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            // 2^63 as f64 is the first value out of range; every whole f64 below it fits.
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_776e18 => {
                Some(*f as i64)
            }
            Number::Float(_) => None,
            Number::Text(t) => t.parse().ok(),
        }
    }
}

impl std::fmt::Display for Number {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) => write!(f, "{x}"),
            Number::Text(t) => f.write_str(t),
        }
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Self {
        Number::Int(i)
    }
}

impl serde::Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Number::Int(i) => s.serialize_i64(*i),
            Number::Float(x) => s.serialize_f64(*x),
            Number::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
                Ok(Number::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
                Ok(i64::try_from(v).map_or(Number::Float(v as f64), Number::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
                Ok(Number::Float(v))
            }
            fn visit_f32<E>(self, v: f32) -> Result<Number, E> {
                Ok(Number::Float(f64::from(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Number, E> {
                Ok(Number::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A whole number in `range` from an optional attribute: `None` when it is null or
/// unknown, or (with an error on the attribute that says what is allowed) when it is a
/// fraction, too large, or out of range.
pub fn whole_number(
    diags: &mut Diagnostics,
    value: &ValueNum,
    name: &'static str,
    range: std::ops::RangeInclusive<i64>,
) -> Option<i64> {
    let Value::Value(n) = value else {
        return None;
    };
    match n.whole() {
        Some(v) if range.contains(&v) => Some(v),
        _ => {
            diags.error(
                format!("Invalid {name}"),
                format!(
                    "`{name}` must be a whole number between {} and {}, got {n}.",
                    range.start(),
                    range.end()
                ),
                AttributePath::new(name),
            );
            None
        }
    }
}

/// [`whole_number`], or `default` when the attribute is null, unknown or invalid (the
/// error is then in `diags`).
pub fn bounded(
    diags: &mut Diagnostics,
    value: &ValueNum,
    name: &'static str,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
) -> i64 {
    whole_number(diags, value, name, range).unwrap_or(default)
}

/// The request limits every provider block has, judged on their attributes:
/// `request_timeout_seconds` (1 to 600) and `max_retries` (0 to 10), each falling back to
/// its `defaults` entry when null, unknown or invalid (the error is then in `diags`).
pub fn request_limits(
    diags: &mut Diagnostics,
    timeout_seconds: &ValueNum,
    max_retries: &ValueNum,
    defaults: (i64, i64),
) -> (u64, u32) {
    let timeout = bounded(
        diags,
        timeout_seconds,
        "request_timeout_seconds",
        1..=600,
        defaults.0,
    );
    let retries = bounded(diags, max_retries, "max_retries", 0..=10, defaults.1);
    (
        u64::try_from(timeout).unwrap_or(1),
        u32::try_from(retries).unwrap_or(0),
    )
}

/// An RFC 3339 timestamp.
pub fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_api_url_rule() {
        let mut d = Diagnostics::default();
        let env_var = "PLATFORMS_KIT_TEST_API_URL_UNSET";
        let url = |c: Option<&str>, d: &mut Diagnostics| {
            api_url(
                d,
                c,
                env_var,
                "https://api.example.com",
                "Test",
                "http://127.0.0.1:1",
            )
        };
        assert_eq!(
            url(Some(" http://127.0.0.1:8787/api \n"), &mut d).map(String::from),
            Some("http://127.0.0.1:8787/api".to_owned())
        );
        assert_eq!(
            url(None, &mut d).map(String::from),
            Some("https://api.example.com/".to_owned())
        );
        assert!(d.errors.is_empty());
        for bad in ["ftp://x", "not a url", "", "http://"] {
            let mut d = Diagnostics::default();
            assert!(url(Some(bad), &mut d).is_none(), "{bad}");
            assert_eq!(d.errors[0].attribute, AttributePath::new("api_url"));
            assert!(d.errors[0].summary.contains("Invalid Test API URL"));
        }
        assert!(pacing(env_var), "on unless switched off");
        assert!(pacing_switch(None));
        assert!(pacing_switch(Some("on")));
        assert!(!pacing_switch(Some("off")));
        assert!(!pacing_switch(Some(" FALSE ")));
        assert!(!pacing_switch(Some("0")));
    }

    #[test]
    fn presence_is_known_value_null_or_undecided() {
        assert_eq!(presence(&known("x")), Some(true));
        assert_eq!(presence(&known("")), Some(true));
        assert_eq!(presence::<Number>(&Value::Null), Some(false));
        assert_eq!(presence::<Number>(&Value::Unknown), None);
    }

    #[test]
    fn bounded_points_at_the_attribute() {
        let mut d = Diagnostics::default();
        let n = |x: Number| Value::Value(x);
        assert_eq!(bounded(&mut d, &n(Number::Int(5)), "n", 1..=10, 3), 5);
        assert_eq!(bounded(&mut d, &Value::Null, "n", 1..=10, 3), 3);
        assert_eq!(bounded(&mut d, &n(Number::Float(7.0)), "n", 1..=10, 3), 7);
        assert!(d.errors.is_empty());
        assert_eq!(bounded(&mut d, &n(Number::Int(11)), "n", 1..=10, 3), 3);
        assert_eq!(d.errors[0].attribute, AttributePath::new("n"));
        assert!(d.errors[0]
            .detail
            .contains("whole number between 1 and 10, got 11"));
        for (bad, shown) in [
            (Number::Float(60.5), "got 60.5"),
            (Number::Float(1e20), "got 100000000000000000000"),
            (Number::Float(-0.25), "got -0.25"),
            (Number::Text("1e400".into()), "got 1e400"),
        ] {
            let mut d = Diagnostics::default();
            assert_eq!(whole_number(&mut d, &n(bad), "ttl_seconds", 1..=3600), None);
            assert!(d.errors[0].detail.contains(shown), "{}", d.errors[0].detail);
        }
    }

    #[test]
    fn numbers_decode_whatever_terraform_sends() {
        // msgpack is what Terraform sends: integers, floats, and text for huge numbers.
        let decode = |bytes: Vec<u8>| -> Number { rmp_serde::from_slice(&bytes).expect("decode") };
        assert_eq!(decode(rmp_serde::to_vec(&42i64).unwrap()), Number::Int(42));
        assert_eq!(
            decode(rmp_serde::to_vec(&u64::MAX).unwrap()),
            Number::Float(u64::MAX as f64)
        );
        assert_eq!(
            decode(rmp_serde::to_vec(&1.5f64).unwrap()),
            Number::Float(1.5)
        );
        assert_eq!(
            decode(rmp_serde::to_vec("1e400").unwrap()),
            Number::Text("1e400".into())
        );
        let json: Number = serde_json::from_str("1e20").unwrap();
        assert_eq!(json.whole(), None);
        assert_eq!(Number::Float(3.0).whole(), Some(3));
        assert_eq!(serde_json::to_string(&Number::Int(7)).unwrap(), "7");
    }

    #[test]
    fn credentials_lose_surrounding_whitespace() {
        assert_eq!(credential("cwt_abc\n"), "cwt_abc");
        assert_eq!(credential("  cwt_abc \r\n"), "cwt_abc");
        assert_eq!(opt(None::<String>), Value::Null);
        assert_eq!(text(&known("x")), Some("x"));
    }
}
