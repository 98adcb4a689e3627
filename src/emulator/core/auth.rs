//! The `Authorization: Bearer <token>` header, read once for every platform: the token or
//! why there is none, so that each platform answers a missing or malformed header in its
//! own shape and wording (through `super::extract::Bearer`: Comwit's `UserToken`, CloudSync's
//! `Admin`).

use axum::http::{header, HeaderMap};

/// Why the header gave no bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// No `Authorization` header.
    Missing,
    /// The header is not visible ASCII.
    NotAscii,
    /// Not of the `<scheme> <token>` form.
    Malformed,
    /// A scheme other than `Bearer` (case-insensitive).
    Scheme,
}

/// The bearer token of a request (trimmed), or why there is none.
pub fn bearer(headers: &HeaderMap) -> Result<String, BearerError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(BearerError::Missing)?;
    let value = value.to_str().map_err(|_| BearerError::NotAscii)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(BearerError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerError::Scheme);
    }
    Ok(token.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("x")),
        );
        h
    }

    #[test]
    fn bearer_forms() {
        assert_eq!(bearer(&HeaderMap::new()), Err(BearerError::Missing));
        assert_eq!(bearer(&with("cwt_x")), Err(BearerError::Malformed));
        assert_eq!(bearer(&with("Basic abc")), Err(BearerError::Scheme));
        assert_eq!(bearer(&with("bEaReR  tok ")), Ok("tok".to_owned()));
    }
}
