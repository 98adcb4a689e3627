//! The kit every provider's types use: value constructors, schema attributes, plan-time
//! checks that point at an attribute, provider-block settings from the environment, and
//! the documentation renderer ([`docs`]). The configure pattern itself is
//! [`ConfigSlot`](super::ConfigSlot) and [`unknown_attributes`](super::unknown_attributes).

pub mod docs;

use std::borrow::Cow;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, Description};
use tf_provider::value::{Value, ValueNumber, ValueString};
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

/// A whole number in `range` from an optional attribute: its value, or `default` when it
/// is null or unknown. Out of range is an error on the attribute that says the range.
pub fn bounded(
    diags: &mut Diagnostics,
    value: &ValueNumber,
    name: &'static str,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
) -> i64 {
    match value {
        Value::Value(v) if !range.contains(v) => {
            diags.error(
                format!("Invalid {name}"),
                format!(
                    "`{name}` must be between {} and {}, got {v}.",
                    range.start(),
                    range.end()
                ),
                AttributePath::new(name),
            );
            default
        }
        Value::Value(v) => *v,
        _ => default,
    }
}

/// An RFC 3339 timestamp.
pub fn parse_time(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_points_at_the_attribute() {
        let mut d = Diagnostics::default();
        assert_eq!(bounded(&mut d, &Value::Value(5), "n", 1..=10, 3), 5);
        assert_eq!(bounded(&mut d, &Value::Null, "n", 1..=10, 3), 3);
        assert!(d.errors.is_empty());
        assert_eq!(bounded(&mut d, &Value::Value(11), "n", 1..=10, 3), 3);
        assert_eq!(d.errors[0].attribute, AttributePath::new("n"));
        assert!(d.errors[0].detail.contains("between 1 and 10"));
    }

    #[test]
    fn credentials_lose_surrounding_whitespace() {
        assert_eq!(credential("cwt_abc\n"), "cwt_abc");
        assert_eq!(credential("  cwt_abc \r\n"), "cwt_abc");
        assert_eq!(opt(None::<String>), Value::Null);
        assert_eq!(text(&known("x")), Some("x"));
    }
}
