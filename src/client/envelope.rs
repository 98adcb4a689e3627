//! [`ErrorEnvelope`]: how one platform writes its error bodies, read into the platform-neutral
//! [`ErrorFields`].

use std::collections::BTreeMap;

/// The facts an error body gave, each taken only when it is a string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorFields {
    /// The body was JSON.
    pub json: bool,
    /// The body had the platform's documented error shape (so the platform itself answered,
    /// not a proxy or another server at the wrong URL).
    pub documented: bool,
    /// The error code (`not_found`, `forbidden`, ...).
    pub code: Option<String>,
    /// The human message.
    pub message: Option<String>,
    /// The request field the error is about, if any.
    pub field: Option<String>,
    /// Every other string field of the error object, by name (`required_scope`, ...).
    pub extra: BTreeMap<String, String>,
}

impl ErrorFields {
    /// An extra field by name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.extra.get(name).map(String::as_str)
    }

    /// Every text in these fields passed through `clean` (the client's redactor).
    pub fn cleaned(mut self, clean: impl Fn(&str) -> String) -> ErrorFields {
        for text in [&mut self.code, &mut self.message, &mut self.field]
            .into_iter()
            .flatten()
        {
            *text = clean(text);
        }
        for text in self.extra.values_mut() {
            *text = clean(text);
        }
        self
    }

    /// Reads the string members of one JSON error object: `code`, `message` (or the
    /// first of `alternatives` for it), `field`, and the rest into `extra`.
    pub fn from_object(
        object: &serde_json::Map<String, serde_json::Value>,
        message_keys: &[&str],
    ) -> ErrorFields {
        let mut fields = ErrorFields {
            json: true,
            documented: true,
            ..ErrorFields::default()
        };
        for (key, value) in object {
            let Some(text) = value.as_str() else { continue };
            match key.as_str() {
                "code" => fields.code = Some(text.to_owned()),
                "field" => fields.field = Some(text.to_owned()),
                k if message_keys.contains(&k) => {
                    if fields.message.is_none() {
                        fields.message = Some(text.to_owned());
                    }
                }
                other => {
                    fields.extra.insert(other.to_owned(), text.to_owned());
                }
            }
        }
        fields
    }
}

/// A platform's error body reader. It must never fail: a body that is not the documented
/// shape gives `ErrorFields { documented: false, .. }`.
pub trait ErrorEnvelope: Send + Sync + 'static {
    fn parse(&self, body: &[u8]) -> ErrorFields;
}

/// The common shape `{"error": {"code": "...", "message": "...", ...}}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ErrorObject;

impl ErrorEnvelope for ErrorObject {
    fn parse(&self, body: &[u8]) -> ErrorFields {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return ErrorFields::default();
        };
        match value.get("error").and_then(|e| e.as_object()) {
            Some(object) => ErrorFields::from_object(object, &["message"]),
            None => ErrorFields {
                json: true,
                ..ErrorFields::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_object_is_read_leniently() {
        let f = ErrorObject.parse(
            br#"{"error":{"code":"forbidden","message":"m","required_scope":"database:write","n":1}}"#,
        );
        assert!(f.documented);
        assert_eq!(f.code.as_deref(), Some("forbidden"));
        assert_eq!(f.get("required_scope"), Some("database:write"));
        assert_eq!(f.get("n"), None);
        let f = ErrorObject.parse(b"<html>");
        assert!(!f.json && !f.documented);
        let f = ErrorObject.parse(br#"{"detail":"x"}"#);
        assert!(f.json && !f.documented);
        let f = ErrorObject
            .parse(br#"{"error":{"message":"secret here"}}"#)
            .cleaned(|t| t.replace("secret", "(x)"));
        assert_eq!(f.message.as_deref(), Some("(x) here"));
    }
}
