//! [`Redactor`]: removes every secret a client knows of from text before it is shown or
//! logged, in every form the secret can take.

use std::sync::{Arc, RwLock};

use super::secret::{Secret, REDACTED};

/// The longest server text kept in an error message.
pub const MAX_SERVER_TEXT: usize = 300;

/// The shortest secret (or secret part) that is searched for: shorter strings would match
/// ordinary words.
const MIN_SECRET_LEN: usize = 8;

/// The secrets one client holds (its own credential and every secret an answer gave it),
/// shared by its clones, and the platform's token prefixes as a last line of defence for
/// secrets the client never saw.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
    prefixes: &'static [&'static str],
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.secrets.read().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("Redactor")
            .field("secrets", &count)
            .field("prefixes", &self.prefixes)
            .finish()
    }
}

impl Redactor {
    /// A redactor that also masks any word starting with one of `prefixes` (`cwt_`, ...).
    pub fn new(prefixes: &'static [&'static str]) -> Redactor {
        Redactor {
            secrets: Arc::default(),
            prefixes,
        }
    }

    /// Learns a secret, in each of its forms: the whole value, the part after a
    /// `prefix_` (a server may echo only that), and its percent-encoded form.
    pub fn add(&self, secret: &Secret) {
        let value = secret.expose();
        let mut forms = vec![value.to_owned()];
        if let Some((_, rest)) = value.split_once('_') {
            forms.push(rest.to_owned());
        }
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        forms.push(encoded);
        let Ok(mut secrets) = self.secrets.write() else {
            return;
        };
        for form in forms {
            if form.len() >= MIN_SECRET_LEN && !secrets.contains(&form) {
                secrets.push(form);
            }
        }
        // Longest first, so a whole value is replaced before a part of it.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// `text` with every known secret replaced by `(sensitive value)`, every word that
    /// starts with a token prefix masked, control characters turned into spaces, and cut
    /// to [`MAX_SERVER_TEXT`] characters.
    pub fn clean(&self, text: &str) -> String {
        let mut text = text.to_owned();
        if let Ok(secrets) = self.secrets.read() {
            for secret in secrets.iter() {
                if text.contains(secret.as_str()) {
                    text = text.replace(secret.as_str(), REDACTED);
                }
            }
        }
        let masked = self.mask_prefixed(&text);
        let cleaned: String = masked
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if cleaned.chars().count() > MAX_SERVER_TEXT {
            let cut: String = cleaned.chars().take(MAX_SERVER_TEXT).collect();
            format!("{cut}...")
        } else {
            cleaned
        }
    }

    fn mask_prefixed(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some((pos, len)) = self.find_prefix(rest) {
            out.push_str(&rest[..pos + len]);
            out.push_str("(redacted)");
            let after = &rest[pos + len..];
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(after.len());
            rest = &after[end..];
        }
        out.push_str(rest);
        out
    }

    /// The byte offset and length of the next prefix that starts a word and is followed by
    /// at least one token character.
    fn find_prefix(&self, text: &str) -> Option<(usize, usize)> {
        let bytes = text.as_bytes();
        (0..bytes.len()).find_map(|i| {
            if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
                return None;
            }
            self.prefixes.iter().find_map(|p| {
                let p = p.as_bytes();
                let next = bytes.get(i + p.len())?;
                (bytes[i..].starts_with(p) && next.is_ascii_alphanumeric()).then_some((i, p.len()))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_known_secret_is_removed() {
        let r = Redactor::new(&[]);
        r.add(&Secret::new("cdt_0123456789abcdef0123"));
        for text in [
            "token cdt_0123456789abcdef0123 leaked",
            "hex 0123456789abcdef0123 leaked",
        ] {
            let clean = r.clean(text);
            assert!(!clean.contains("0123456789abcdef"), "{clean}");
            assert!(clean.contains("(sensitive value)"), "{clean}");
        }
        let r = Redactor::new(&[]);
        r.add(&Secret::new("key with/slash+plus"));
        let clean = r.clean("echo key+with%2Fslash%2Bplus");
        assert!(!clean.contains("slash"), "{clean}");
    }

    #[test]
    fn prefixed_words_are_masked_and_text_is_cut() {
        let r = Redactor::new(&["cwt_", "cqt_"]);
        assert_eq!(r.clean("a cwt_abc123 b"), "a cwt_(redacted) b");
        assert_eq!(r.clean("xcwt_abc"), "xcwt_abc");
        assert_eq!(r.clean("cqt_"), "cqt_");
        assert_eq!(r.clean("a\nb"), "a b");
        let long = "é".repeat(400);
        assert_eq!(r.clean(&long).chars().count(), MAX_SERVER_TEXT + 3);
    }

    #[test]
    fn short_values_are_not_searched_and_clones_share_secrets() {
        let r = Redactor::new(&[]);
        let clone = r.clone();
        r.add(&Secret::new("abc"));
        assert_eq!(clone.clean("abc"), "abc");
        r.add(&Secret::new("longer-secret-value"));
        assert_eq!(clone.clean("x longer-secret-value"), "x (sensitive value)");
        assert!(!format!("{r:?}").contains("longer"));
    }
}
