//! Reading the fields of a request body (422 `validation_failed` pointing at the field).

use serde_json::{Map, Value};

use super::MAX_TEXT;
use crate::emulator::cloudsync::error::ApiError;

pub(super) fn text_field(
    obj: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_TEXT => Err(ApiError::validation(
            field,
            format!("{field} is longer than {MAX_TEXT} characters"),
        )),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be a string"),
        )),
    }
}

pub(super) fn required(obj: &Map<String, Value>, field: &str) -> Result<String, ApiError> {
    match text_field(obj, field)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(ApiError::validation(field, format!("{field} is required"))),
    }
}

pub(super) fn string_list(
    obj: &Map<String, Value>,
    field: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Vec::new())),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v.as_str() {
                Some(s) if !s.trim().is_empty() && s.len() <= MAX_TEXT => Ok(s.to_owned()),
                _ => Err(ApiError::validation(
                    field,
                    format!("{field} must be an array of non-empty strings"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(ApiError::validation(
            field,
            format!("{field} must be an array of strings"),
        )),
    }
}

/// `Some(None)` clears, `Some(Some(url))` sets.
pub(super) fn jwks_uri(obj: &Map<String, Value>) -> Result<Option<Option<String>>, ApiError> {
    if !obj.contains_key("jwksUri") {
        return Ok(None);
    }
    match text_field(obj, "jwksUri")? {
        None => Ok(Some(None)),
        Some(s) if s.is_empty() => Ok(Some(None)),
        Some(s) => match url::Url::parse(&s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Ok(Some(Some(s)))
            }
            _ => Err(ApiError::validation(
                "jwksUri",
                "jwksUri must be an absolute http(s) URL",
            )),
        },
    }
}

pub(super) fn check_connection_string(provider: &str, s: &str) -> Result<(), ApiError> {
    let ok = match provider {
        "postgres" => s.starts_with("postgres://") || s.starts_with("postgresql://"),
        _ => s.starts_with("sqlitecloud://"),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::validation(
            "connectionString",
            format!(
                "a {provider} connection string starts with {}",
                if provider == "postgres" {
                    "postgres:// or postgresql://"
                } else {
                    "sqlitecloud://"
                }
            ),
        ))
    }
}

pub(super) fn only_fields(obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    for key in obj.keys() {
        if key == "workspaceId" {
            return Err(ApiError::validation(
                "workspaceId",
                "omit workspaceId: the workspace is derived from the API key",
            ));
        }
        if !allowed.contains(&key.as_str()) {
            return Err(ApiError::validation(
                key,
                format!("{key} is not a field of this request"),
            ));
        }
    }
    Ok(())
}

pub(super) fn valid_flavor(f: &str) -> bool {
    !f.is_empty()
        && f.len() <= 32
        && f.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_'))
}
