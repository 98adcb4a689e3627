//! The platforms' clock, and timestamps as the platforms print them: UTC
//! `YYYY-MM-DDTHH:MM:SSZ`, whole seconds.
//!
//! Every time a platform's state depends on (idempotency windows, token expiry, `created_at`)
//! comes from a [`Clock`]: the system's in a running emulator, one the test sets in tests, so
//! no test depends on today's date.

use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

/// Where a platform reads the time. Cheap to clone; clones share one time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None`: the system clock; `Some`: a time the owner sets and advances.
    fixed: Option<Arc<Mutex<OffsetDateTime>>>,
}

impl Clock {
    /// The system clock (UTC).
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock that stands at `at` until [`Clock::set`] or [`Clock::advance`] moves it.
    pub fn fixed(at: OffsetDateTime) -> Clock {
        Clock {
            fixed: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// The current time (UTC).
    pub fn now(&self) -> OffsetDateTime {
        match &self.fixed {
            Some(at) => *at.lock().unwrap_or_else(|p| p.into_inner()),
            None => OffsetDateTime::now_utc(),
        }
    }

    /// Moves a fixed clock to `at`; the system clock is not moved.
    pub fn set(&self, at: OffsetDateTime) {
        if let Some(t) = &self.fixed {
            *t.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }

    /// Moves a fixed clock forward by `by` (saturating); the system clock is not moved.
    pub fn advance(&self, by: time::Duration) {
        if let Some(t) = &self.fixed {
            let mut t = t.lock().unwrap_or_else(|p| p.into_inner());
            *t = t.checked_add(by).unwrap_or(*t);
        }
    }
}

/// `t` as `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds).
pub fn format_ts(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// The system's current time (UTC): for what no platform state depends on (a platform's
/// state reads its [`Clock`]).
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

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let t = time::macros::datetime!(2026-12-01 10:00 UTC);
        let clock = Clock::fixed(t);
        let shared = clock.clone();
        assert_eq!(clock.now(), t);
        shared.advance(time::Duration::hours(25));
        assert_eq!(clock.now(), time::macros::datetime!(2026-12-02 11:00 UTC));
        clock.set(t);
        assert_eq!(shared.now(), t);
        clock.advance(time::Duration::MAX);
        assert_eq!(
            clock.now(),
            t,
            "an overflowing advance saturates to no move"
        );
        let system = Clock::system();
        system.set(t);
        assert_ne!(system.now(), t);
    }
}
