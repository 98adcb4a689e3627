//! [`Auth`]: how a platform's requests prove who sends them, as a value that writes its own
//! headers.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};

use super::secret::Secret;

/// An authentication strategy.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer <secret>` (Comwit, CloudSync).
    Bearer(Secret),
    /// A named header carrying the secret as is, e.g. `X-API-Key` (WaysCloud).
    Header { name: &'static str, secret: Secret },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Bearer(_) => f.write_str("Bearer((sensitive value))"),
            Auth::Header { name, .. } => write!(f, "Header({name}: (sensitive value))"),
        }
    }
}

/// The credential cannot be sent in an HTTP header (a newline, a control character).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCredential;

impl Auth {
    /// The secret this strategy sends, if any.
    pub fn secret(&self) -> Option<&Secret> {
        match self {
            Auth::None => None,
            Auth::Bearer(secret) | Auth::Header { secret, .. } => Some(secret),
        }
    }

    /// Adds this strategy's headers (marked sensitive, so they are never logged).
    pub fn write(&self, headers: &mut HeaderMap) -> Result<(), InvalidCredential> {
        let (name, value) = match self {
            Auth::None => return Ok(()),
            Auth::Bearer(secret) if secret.is_empty() => return Ok(()),
            Auth::Header { secret, .. } if secret.is_empty() => return Ok(()),
            Auth::Bearer(secret) => (AUTHORIZATION, format!("Bearer {}", secret.expose())),
            Auth::Header { name, secret } => {
                (HeaderName::from_static(name), secret.expose().to_owned())
            }
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| InvalidCredential)?;
        value.set_sensitive(true);
        headers.insert(name, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_write_their_headers() {
        let mut h = HeaderMap::new();
        Auth::Bearer("cwt_abc".into()).write(&mut h).unwrap();
        assert_eq!(h.get("authorization").unwrap(), "Bearer cwt_abc");
        assert!(h.get("authorization").unwrap().is_sensitive());
        let mut h = HeaderMap::new();
        Auth::Header {
            name: "x-api-key",
            secret: "wc_123".into(),
        }
        .write(&mut h)
        .unwrap();
        assert_eq!(h.get("x-api-key").unwrap(), "wc_123");
        let mut h = HeaderMap::new();
        assert_eq!(
            Auth::Bearer("a\nb".into()).write(&mut h),
            Err(InvalidCredential)
        );
        assert!(!format!("{:?}", Auth::Bearer("cwt_abc".into())).contains("abc"));
    }
}
