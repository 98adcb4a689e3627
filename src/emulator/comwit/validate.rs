//! Validation rules of the Comwit API contract (`docs/api/comwit.md`), as pure functions.
//!
//! Each function answers `Ok(())` or a human readable reason; the HTTP layer turns the
//! reason into a 422 `validation_failed` naming the field.

/// Every scope a user token may carry. [documented]
pub const ALL_SCOPES: [&str; 9] = [
    "project:read",
    "database:read",
    "database:write",
    "app:read",
    "app:write",
    "app:deploy",
    "domain:read",
    "domain:write",
    "domain:purchase",
];

/// Inclusive bounds of `ttl_seconds` for query tokens. [documented]
pub const TTL_MIN: i64 = 1;
/// Inclusive upper bound of `ttl_seconds`. [documented]
pub const TTL_MAX: i64 = 3600;
/// Inclusive bounds of `size_limit_mb`. [assumed]
pub const SIZE_LIMIT_MIN: i64 = 1;
/// Inclusive upper bound of `size_limit_mb`. [assumed]
pub const SIZE_LIMIT_MAX: i64 = 102_400;
/// Default `size_limit_mb`. [assumed]
pub const SIZE_LIMIT_DEFAULT: i64 = 1024;
/// Default placement group. [assumed]
pub const GROUP_DEFAULT: &str = "default";
/// Default query-token audience. [assumed]
pub const AUDIENCE_DEFAULT: &str = "sql";

/// A database name: 3 to 32 characters, lowercase letters, digits and `-`, starting with
/// a letter and not ending with `-`.
pub fn database_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(3..=32).contains(&len) {
        return Err(format!("name must be 3 to 32 characters, got {len}"));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("name may contain only lowercase letters, digits and '-'".into());
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("name must start with a lowercase letter".into());
    }
    if name.ends_with('-') {
        return Err("name must not end with '-'".into());
    }
    Ok(())
}

/// A placement group: letters, digits and `-`, 1 to 32 characters.
pub fn group(group: &str) -> Result<(), String> {
    let len = group.chars().count();
    if !(1..=32).contains(&len) {
        return Err(format!("group must be 1 to 32 characters, got {len}"));
    }
    if !group.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("group may contain only letters, digits and '-'".into());
    }
    Ok(())
}

/// `size_limit_mb` in 1..=102400.
pub fn size_limit_mb(value: i64) -> Result<(), String> {
    if (SIZE_LIMIT_MIN..=SIZE_LIMIT_MAX).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "size_limit_mb must be an integer from {SIZE_LIMIT_MIN} to {SIZE_LIMIT_MAX}, got {value}"
        ))
    }
}

/// `ttl_seconds` in 1..=3600.
pub fn ttl_seconds(value: i64) -> Result<(), String> {
    if (TTL_MIN..=TTL_MAX).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "ttl_seconds must be an integer from {TTL_MIN} to {TTL_MAX}, got {value}"
        ))
    }
}

/// A query-token audience: 1 to 64 characters of letters, digits, `-`, `_`, `.`.
pub fn audience(audience: &str) -> Result<(), String> {
    let len = audience.chars().count();
    if !(1..=64).contains(&len) {
        return Err(format!("audience must be 1 to 64 characters, got {len}"));
    }
    if !audience
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err("audience may contain only letters, digits, '-', '_' and '.'".into());
    }
    Ok(())
}

/// A query-token reason: free text up to 256 characters.
pub fn reason(reason: &str) -> Result<(), String> {
    let len = reason.chars().count();
    if len > 256 {
        return Err(format!("reason must be at most 256 characters, got {len}"));
    }
    Ok(())
}

/// An `Idempotency-Key` header value: 1 to 64 visible ASCII characters.
pub fn idempotency_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.len() > 64 {
        return Err(format!(
            "Idempotency-Key must be 1 to 64 characters, got {}",
            key.len()
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("Idempotency-Key may contain only visible ASCII characters".into());
    }
    Ok(())
}

/// True when `token` has the shape of a user token: `cwt_` and at least 16 lowercase hex.
pub fn is_user_token(token: &str) -> bool {
    match token.strip_prefix("cwt_") {
        Some(hex) => {
            hex.len() >= 16
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        }
        None => false,
    }
}

/// A scope name known to the platform.
pub fn scope(scope: &str) -> Result<(), String> {
    if ALL_SCOPES.contains(&scope) {
        Ok(())
    } else {
        Err(format!("unknown scope {scope:?}"))
    }
}

/// A project id: `prj_` and 1 to 60 lowercase letters, digits or `_`.
pub fn project_id(id: &str) -> Result<(), String> {
    match id.strip_prefix("prj_") {
        Some(rest)
            if (1..=60).contains(&rest.len())
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
        {
            Ok(())
        }
        _ => Err("project_id must be 'prj_' followed by 1 to 60 of [a-z0-9_]".into()),
    }
}

/// A project name: 1 to 64 characters, no control characters.
pub fn project_name(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(1..=64).contains(&len) {
        return Err(format!("name must be 1 to 64 characters, got {len}"));
    }
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".into());
    }
    Ok(())
}

/// Default entry point of a build. [assumed]
pub const ENTRY_DEFAULT: &str = "index.mjs";
/// Longest value of an app's environment variable, in bytes. [assumed]
pub const ENV_VALUE_MAX_BYTES: usize = 65_536;
/// Reserved prefix of env keys. [assumed]
pub const ENV_RESERVED_PREFIX: &str = "COMWIT_";
/// Longest `wait_seconds` of a build long poll.
pub const WAIT_SECONDS_MAX: i64 = 30;
/// Longest `tail_lines` of a build log.
pub const TAIL_LINES_MAX: i64 = 1000;

/// An app name: the database name rule.
pub fn app_name(name: &str) -> Result<(), String> {
    database_name(name)
}

/// A SHA-256 hex digest: 64 lowercase hex characters.
pub fn sha256(value: &str) -> Result<(), String> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err("must be a SHA-256 digest: 64 lowercase hex characters".into())
    }
}

/// A build's entry point: a relative path in the archive (no leading `/`, no `..`, no
/// `\`), 1 to 256 characters.
pub fn entry(entry: &str) -> Result<(), String> {
    let len = entry.chars().count();
    if !(1..=256).contains(&len) {
        return Err(format!("entry must be 1 to 256 characters, got {len}"));
    }
    if entry.starts_with('/')
        || entry.contains('\\')
        || entry.chars().any(char::is_control)
        || entry.split('/').any(|part| part == ".." || part.is_empty())
    {
        return Err(
            "entry must be a relative path in the archive (no leading '/', no '..')".into(),
        );
    }
    Ok(())
}

/// An env key: 1 to 128 of `[A-Za-z0-9_]`, not starting with a digit nor with `COMWIT_`.
pub fn env_key(key: &str) -> Result<(), String> {
    if !(1..=128).contains(&key.len()) {
        return Err(format!(
            "key must be 1 to 128 characters, got {}",
            key.len()
        ));
    }
    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err("key may contain only letters, digits and '_'".into());
    }
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("key must not start with a digit".into());
    }
    if key.starts_with(ENV_RESERVED_PREFIX) {
        return Err(format!(
            "keys starting with {ENV_RESERVED_PREFIX} are reserved"
        ));
    }
    Ok(())
}

/// An env value: at most 65,536 bytes of UTF-8.
pub fn env_value(value: &str) -> Result<(), String> {
    if value.len() > ENV_VALUE_MAX_BYTES {
        return Err(format!(
            "value must be at most {ENV_VALUE_MAX_BYTES} bytes, got {}",
            value.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_rules() {
        assert!(sha256(&"a".repeat(64)).is_ok());
        assert!(sha256(&"A".repeat(64)).is_err());
        assert!(sha256(&"a".repeat(63)).is_err());
        for ok in ["index.mjs", "dist/server.js", "a"] {
            assert!(entry(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/index.mjs",
            "../x.mjs",
            "a/../b",
            "a//b",
            "a\\b",
            &"a".repeat(257),
        ] {
            assert!(entry(bad).is_err(), "{bad}");
        }
        for ok in ["NAME", "_x", "DATABASE_TOKEN", &"K".repeat(128)] {
            assert!(env_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1A", "A-B", "COMWIT_X", "Ä", &"K".repeat(129)] {
            assert!(env_key(bad).is_err(), "{bad}");
        }
        assert!(env_value(&"x".repeat(65_536)).is_ok());
        assert!(env_value(&"x".repeat(65_537)).is_err());
    }

    #[test]
    fn database_names() {
        for ok in [
            "abc",
            "orders",
            "a-1",
            "louhi-app",
            &"a".repeat(32),
            "a1b2c3",
        ] {
            assert!(database_name(ok).is_ok(), "{ok} should be valid");
        }
        for bad in [
            "",
            "ab",
            &"a".repeat(33),
            "Orders",
            "1abc",
            "-abc",
            "abc-",
            "ab_c",
            "ab c",
            "abç",
        ] {
            assert!(database_name(bad).is_err(), "{bad} should be invalid");
        }
    }

    #[test]
    fn groups() {
        assert!(group("default").is_ok());
        assert!(group("EU-West-1").is_ok());
        assert!(group("").is_err());
        assert!(group(&"g".repeat(33)).is_err());
        assert!(group("a_b").is_err());
    }

    #[test]
    fn numeric_bounds() {
        assert!(ttl_seconds(0).is_err());
        assert!(ttl_seconds(1).is_ok());
        assert!(ttl_seconds(3600).is_ok());
        assert!(ttl_seconds(3601).is_err());
        assert!(ttl_seconds(-5).is_err());
        assert!(size_limit_mb(0).is_err());
        assert!(size_limit_mb(1).is_ok());
        assert!(size_limit_mb(102_400).is_ok());
        assert!(size_limit_mb(102_401).is_err());
    }

    #[test]
    fn audiences_and_reasons() {
        assert!(audience("sql-console").is_ok());
        assert!(audience("a.b_c-d").is_ok());
        assert!(audience("").is_err());
        assert!(audience("a b").is_err());
        assert!(audience(&"a".repeat(65)).is_err());
        assert!(reason("").is_ok());
        assert!(reason(&"é".repeat(256)).is_ok());
        assert!(reason(&"é".repeat(257)).is_err());
    }

    #[test]
    fn idempotency_keys() {
        assert!(idempotency_key("3f2a-77").is_ok());
        assert!(idempotency_key(&"k".repeat(64)).is_ok());
        assert!(idempotency_key("").is_err());
        assert!(idempotency_key(&"k".repeat(65)).is_err());
        assert!(idempotency_key("a b").is_err());
    }

    #[test]
    fn user_tokens_and_ids() {
        assert!(is_user_token("cwt_0123456789abcdef"));
        assert!(is_user_token("cwt_0123456789abcdef0123"));
        assert!(!is_user_token("cwt_0123456789abcde"));
        assert!(!is_user_token("cwt_0123456789ABCDEF"));
        assert!(!is_user_token("cdt_0123456789abcdef"));
        assert!(!is_user_token(""));
        assert!(project_id("prj_local").is_ok());
        assert!(project_id("prj_0a1b2c").is_ok());
        assert!(project_id("prj_").is_err());
        assert!(project_id("proj_x").is_err());
        assert!(project_id("prj_A").is_err());
        assert!(scope("database:write").is_ok());
        assert!(scope("database:admin").is_err());
        assert!(project_name("acme").is_ok());
        assert!(project_name("").is_err());
        assert!(project_name("a\nb").is_err());
    }
}
