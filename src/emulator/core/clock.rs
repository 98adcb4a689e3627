//! Timestamps as the platforms print them: UTC `YYYY-MM-DDTHH:MM:SSZ`, whole seconds.

use time::OffsetDateTime;

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
pub fn format_ts(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// The current time (UTC).
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The calendar month (UTC) containing `t`, as (`period_start`, `period_end`).
pub fn month_period(t: OffsetDateTime) -> (String, String) {
    let t = t.to_offset(time::UtcOffset::UTC);
    let (year, month) = (t.year(), t.month());
    let (next_year, next_month) = if month == time::Month::December {
        (year + 1, time::Month::January)
    } else {
        (year, month.next())
    };
    let at = |y: i32, m: time::Month| {
        time::Date::from_calendar_date(y, m, 1)
            .map(|d| format_ts(d.midnight().assume_utc()))
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
    };
    (at(year, month), at(next_year, next_month))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_periods() {
        let t = time::macros::datetime!(2026-12-23 19:00:00.123 UTC);
        assert_eq!(format_ts(t), "2026-12-23T19:00:00Z");
        let (start, end) = month_period(t);
        assert_eq!(start, "2026-12-01T00:00:00Z");
        assert_eq!(end, "2027-01-01T00:00:00Z");
        let (start, end) = month_period(time::macros::datetime!(2026-11-23 19:00 UTC));
        assert_eq!(start, "2026-11-01T00:00:00Z");
        assert_eq!(end, "2026-12-01T00:00:00Z");
    }
}
