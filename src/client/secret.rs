//! [`Secret`]: a string that must never reach a log line or a diagnostic.

use serde::{Deserialize, Serialize};
use std::fmt;

/// What [`Secret`]'s `Debug` and `Display` print instead of the value.
pub const REDACTED: &str = "(sensitive value)";

/// A secret string: a user token, a database token or a query token.
///
/// `Debug` and `Display` print `(sensitive value)`; read the value with
/// [`Secret::expose`]. Serde reads and writes it as a plain string, so it can sit in the
/// API's request and response structs.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Call this only where the value is really needed (a request
    /// header, the Terraform state of a sensitive attribute).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let secret = Secret::new("cdt_0123456789abcdef");
        assert_eq!(format!("{secret:?}"), "(sensitive value)");
        assert_eq!(format!("{secret}"), "(sensitive value)");
        assert_eq!(format!("{secret:#?}"), "(sensitive value)");
        assert!(!format!("{:?}", Some(&secret)).contains("cdt_"));
        assert_eq!(secret.expose(), "cdt_0123456789abcdef");
    }

    #[test]
    fn serde_is_transparent() {
        let secret: Secret = serde_json::from_str("\"cqt_abc\"").unwrap();
        assert_eq!(secret.expose(), "cqt_abc");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"cqt_abc\"");
    }
}
