//! WaysCloud's field rules (`docs/api/wayscloud.md`); each failure is a 422 naming its field.

use time::{Duration, OffsetDateTime, Time};

use super::error::ApiError;

/// Connection limit of a new database. [assumed]
pub const DEFAULT_CONNECTION_LIMIT: i64 = 100;
/// Firewall rules per database. [assumed]
pub const MAX_RULES: usize = 50;
/// Longest description. [assumed]
pub const MAX_DESCRIPTION: usize = 500;

/// `requested_name` (and a restore's `target_db_name`): letters, digits, `_`, 1..=30.
/// [documented]
pub fn requested_name(name: &str, field: &str) -> Result<(), ApiError> {
    if name.is_empty()
        || name.len() > 30
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(ApiError::validation(
            field,
            format!("{field} must be 1 to 30 letters, digits or underscores, got {name:?}"),
        ));
    }
    Ok(())
}

pub fn customer_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::validation(
            "customer_id",
            "customer_id must be 1 to 32 letters or digits",
        ));
    }
    Ok(())
}

/// 10..=1000. [documented]
pub fn connection_limit(limit: i64) -> Result<(), ApiError> {
    if !(10..=1000).contains(&limit) {
        return Err(ApiError::validation(
            "connection_limit",
            format!("connection_limit must be between 10 and 1000, got {limit}"),
        ));
    }
    Ok(())
}

pub fn description(text: &str, field: &str) -> Result<(), ApiError> {
    if text.chars().count() > MAX_DESCRIPTION
        || text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ApiError::validation(
            field,
            format!(
                "{field} must be at most {MAX_DESCRIPTION} characters without control characters"
            ),
        ));
    }
    Ok(())
}

/// An IPv4 address or CIDR block (no host bits set); the block as `a.b.c.d/n`.
pub fn ipv4_or_cidr(text: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::validation(
            "ip_address",
            format!("ip_address must be an IPv4 address or CIDR block such as 192.0.2.10 or 10.0.0.0/24, got {text:?}"),
        )
    };
    let (addr, bits) = match text.split_once('/') {
        Some((a, b)) => {
            if b.is_empty() || b.len() > 2 || !b.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            (a, b.parse::<u32>().map_err(|_| bad())?)
        }
        None => (text, 32),
    };
    if bits > 32 {
        return Err(bad());
    }
    let ip: std::net::Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    if u32::from(ip) & !mask != 0 {
        return Err(ApiError::validation(
            "ip_address",
            format!(
                "{text} has host bits set: the network is {}/{bits}",
                std::net::Ipv4Addr::from(u32::from(ip) & mask)
            ),
        ));
    }
    Ok(format!("{ip}/{bits}"))
}

pub fn frequency(f: &str) -> Result<(), ApiError> {
    if !matches!(f, "hourly" | "daily" | "weekly") {
        return Err(ApiError::validation(
            "frequency",
            format!("frequency must be hourly, daily or weekly, got {f:?}"),
        ));
    }
    Ok(())
}

pub fn retention_days(days: i64) -> Result<(), ApiError> {
    if !(1..=365).contains(&days) {
        return Err(ApiError::validation(
            "retention_days",
            format!("retention_days must be between 1 and 365, got {days}"),
        ));
    }
    Ok(())
}

/// `HH:MM`, 00:00 to 23:59.
pub fn parse_time_of_day(t: &str) -> Option<Time> {
    let (h, m) = t.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

pub fn time_of_day(t: &str) -> Result<(), ApiError> {
    parse_time_of_day(t).map(|_| ()).ok_or_else(|| {
        ApiError::validation(
            "time_of_day",
            format!("time_of_day must be HH:MM (00:00 to 23:59), got {t:?}"),
        )
    })
}

/// The next scheduled backup after `now` (UTC).
pub fn next_backup(
    now: OffsetDateTime,
    frequency: &str,
    time_of_day: Option<&str>,
) -> Option<OffsetDateTime> {
    let at = time_of_day
        .and_then(parse_time_of_day)
        .unwrap_or(Time::MIDNIGHT);
    match frequency {
        "hourly" => {
            let base = now
                .replace_minute(at.minute())
                .ok()?
                .replace_second(0)
                .ok()?
                .replace_nanosecond(0)
                .ok()?;
            Some(if base > now {
                base
            } else {
                base + Duration::hours(1)
            })
        }
        "daily" | "weekly" => {
            let base = now.replace_time(at);
            let next = if base > now {
                base
            } else {
                base + Duration::days(1)
            };
            Some(next)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_reference() {
        assert!(requested_name("webapp_prod_db", "requested_name").is_ok());
        assert!(requested_name(&"a".repeat(30), "requested_name").is_ok());
        assert!(requested_name(&"a".repeat(31), "requested_name").is_err());
        assert!(requested_name("with-dash", "requested_name").is_err());
        assert!(requested_name("", "requested_name").is_err());
        assert!(requested_name("ümlaut", "requested_name").is_err());
    }

    #[test]
    fn addresses_and_blocks() {
        assert_eq!(
            ipv4_or_cidr("192.0.2.100").ok().as_deref(),
            Some("192.0.2.100/32")
        );
        assert_eq!(
            ipv4_or_cidr("10.0.0.0/24").ok().as_deref(),
            Some("10.0.0.0/24")
        );
        assert!(ipv4_or_cidr("10.0.0.1/24").is_err());
        assert!(ipv4_or_cidr("10.0.0.0/33").is_err());
        assert!(ipv4_or_cidr("::1").is_err());
        assert!(ipv4_or_cidr("256.0.0.1").is_err());
        assert!(ipv4_or_cidr("10.0.0.0/").is_err());
    }

    #[test]
    fn limits_and_times() {
        assert!(connection_limit(10).is_ok() && connection_limit(1000).is_ok());
        assert!(connection_limit(9).is_err() && connection_limit(1001).is_err());
        assert!(time_of_day("02:00").is_ok() && time_of_day("23:59").is_ok());
        assert!(time_of_day("24:00").is_err() && time_of_day("2:00").is_err());
        let now = time::macros::datetime!(2026-01-01 03:00 UTC);
        assert_eq!(
            next_backup(now, "daily", Some("02:00")),
            Some(time::macros::datetime!(2026-01-02 02:00 UTC))
        );
        assert_eq!(
            next_backup(now, "hourly", Some("02:30")),
            Some(time::macros::datetime!(2026-01-01 03:30 UTC))
        );
    }
}
