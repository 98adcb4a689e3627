//! One request pacer per client, shared by every call the client makes (so by every
//! resource of a provider process): it learns the platform's rate limit from the answers'
//! rate-limit headers and from `Retry-After`, then spaces requests out at that rate instead
//! of bursting into the limit and backing off request by request.
//!
//! What it reads (the first that an answer carries wins):
//! - `RateLimit-Policy: <quota>;w=<seconds>` (the IETF rate-limit headers draft): the
//!   sustained rate is `quota / seconds`;
//! - `RateLimit-Remaining` or `X-RateLimit-Remaining`: the requests the server will still
//!   take right now (a token bucket's tokens); while more than a reserve is left, calls go
//!   at once (the burst the server allows), and pacing starts when the reserve is reached;
//! - without a policy, `RateLimit-Limit`/`X-RateLimit-Limit` with `...-Reset` (seconds to
//!   the window's reset, or a Unix time): the remaining requests spread over the time left;
//! - a 429's `Retry-After`: every call of the client waits until then (one pause for all,
//!   not one retry storm per call), and the learned rate drops by a tenth; it recovers a
//!   little with each answer that is not a 429.
//!
//! Before any answer has taught it a limit, it does not slow anything down.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use tokio::time::Instant;

/// What the pacer knows of the server's limit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Learned {
    /// Requests per second the server sustains (already reduced after 429s).
    pub rate: Option<f64>,
    /// The server's requests left now, less the calls still in flight.
    pub remaining: Option<f64>,
}

#[derive(Debug)]
struct State {
    /// The rate the headers give (requests per second).
    rate: Option<f64>,
    /// 1.0, or less after 429s.
    scale: f64,
    /// The server's limit (burst) when it says so: the reserve is a part of it.
    limit: Option<f64>,
    remaining: Option<f64>,
    next_slot: Instant,
    paused_until: Option<Instant>,
    in_flight: u32,
}

/// The shared pacer. `Pacer::off()` lets everything through (for comparisons).
#[derive(Debug)]
pub struct Pacer {
    enabled: bool,
    state: Mutex<State>,
}

/// A call's place: dropping it (answer or not) ends the call's time in flight.
#[derive(Debug)]
pub struct Permit<'a> {
    pacer: &'a Pacer,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut s = self.pacer.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

/// Pacing runs at this part of the learned rate: room for clock drift and for other
/// clients of the same key.
const HEADROOM: f64 = 0.95;
/// After a 429 the rate is multiplied by this ...
const DECREASE: f64 = 0.9;
/// ... and each later answer that is not a 429 gives this much back, up to 1.
const RECOVER: f64 = 0.01;
/// The lowest scale a run of 429s brings the rate to.
const MIN_SCALE: f64 = 0.25;
/// The longest pause one 429 imposes on every call.
const MAX_PAUSE: Duration = Duration::from_secs(60);
/// The wait after a 429 that names no `Retry-After`.
const DEFAULT_PAUSE: Duration = Duration::from_secs(1);

impl Pacer {
    pub fn new(enabled: bool) -> Pacer {
        Pacer {
            enabled,
            state: Mutex::new(State {
                rate: None,
                scale: 1.0,
                limit: None,
                remaining: None,
                next_slot: Instant::now(),
                paused_until: None,
                in_flight: 0,
            }),
        }
    }

    /// A pacer that never waits (it still counts calls in flight).
    pub fn off() -> Pacer {
        Pacer::new(false)
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What has been learned so far.
    pub fn learned(&self) -> Learned {
        let s = self.lock();
        Learned {
            rate: s.rate.map(|r| r * s.scale),
            remaining: s.remaining,
        }
    }

    /// Waits for this call's turn and returns its permit.
    pub async fn acquire(&self) -> Permit<'_> {
        let wait = self.schedule(Instant::now());
        // Made before the wait, so a call given up while waiting leaves the count.
        let permit = Permit { pacer: self };
        if let Some(at) = wait {
            tokio::time::sleep_until(at).await;
        }
        permit
    }

    /// The moment the call asked for at `now` may go (`None`: at once), and counts it in
    /// flight. Every call gets its own slot, so waiting callers never go together.
    fn schedule(&self, now: Instant) -> Option<Instant> {
        let mut s = self.lock();
        s.in_flight += 1;
        if !self.enabled {
            return None;
        }
        let earliest = match s.paused_until {
            Some(until) if until > now => until,
            _ => {
                s.paused_until = None;
                now
            }
        };
        let Some(rate) = s.rate.map(|r| r * s.scale * HEADROOM) else {
            return (earliest > now).then_some(earliest);
        };
        let reserve = s.limit.map_or(5.0, |l| (l * 0.2).max(2.0));
        if earliest == now {
            if let Some(left) = s.remaining.as_mut() {
                if *left > reserve {
                    *left -= 1.0;
                    // Keep the schedule from lagging behind: a later paced call starts
                    // from now, not from a slot in the past.
                    if s.next_slot < now {
                        s.next_slot = now;
                    }
                    return None;
                }
            }
        }
        let interval = seconds(1.0 / rate.max(0.001), MAX_INTERVAL);
        let slot = s.next_slot.max(earliest);
        s.next_slot = slot + interval;
        if let Some(left) = s.remaining.as_mut() {
            *left -= 1.0;
        }
        (slot > now).then_some(slot)
    }

    /// Learns from one answer's status and headers (`retry_after` as the client parsed it).
    pub fn observe(&self, status: u16, headers: &HeaderMap, retry_after: Option<Duration>) {
        self.observe_at(
            Instant::now(),
            SystemTime::now(),
            status,
            headers,
            retry_after,
        )
    }

    fn observe_at(
        &self,
        now: Instant,
        wall: SystemTime,
        status: u16,
        headers: &HeaderMap,
        retry_after: Option<Duration>,
    ) {
        let read = Headers::read(headers, wall);
        let mut s = self.lock();
        if let Some(rate) = read.policy_rate {
            s.rate = Some(rate);
        }
        if let Some(limit) = read.limit {
            s.limit = Some(limit);
        }
        if let Some(left) = read.remaining {
            // The calls still in flight (this one excluded) will take from it too.
            let others = f64::from(s.in_flight.saturating_sub(1));
            s.remaining = Some(left - others);
            if read.policy_rate.is_none() {
                if let Some(reset) = read.reset.filter(|r| !r.is_zero()) {
                    let spread = left.max(1.0) / reset.as_secs_f64();
                    let half = s.limit.is_none_or(|l| left < l / 2.0);
                    if half {
                        s.rate = Some(spread);
                    }
                }
            }
        }
        if status == 429 {
            // A longer `Retry-After` ends the call that got it (the client gives up);
            // the others wait at most this long and then ask for themselves.
            let pause = retry_after.unwrap_or(DEFAULT_PAUSE).min(MAX_PAUSE);
            let until = now + pause;
            if s.paused_until.is_none_or(|p| p < until) {
                s.paused_until = Some(until);
            }
            s.remaining = Some(0.0);
            s.scale = (s.scale * DECREASE).max(MIN_SCALE);
            if s.next_slot < until {
                s.next_slot = until;
            }
        } else if s.scale < 1.0 {
            s.scale = (s.scale + RECOVER).min(1.0);
        }
    }
}

/// The rate-limit headers of one answer.
#[derive(Debug, Default, PartialEq)]
struct Headers {
    policy_rate: Option<f64>,
    limit: Option<f64>,
    remaining: Option<f64>,
    reset: Option<Duration>,
}

impl Headers {
    fn read(headers: &HeaderMap, wall: SystemTime) -> Headers {
        let text = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| headers.get(*n).and_then(|v| v.to_str().ok()))
                .map(str::trim)
        };
        let number = |names: &[&str]| {
            text(names)
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n >= 0.0)
        };
        let policy_rate = text(&["ratelimit-policy"]).and_then(policy_rate);
        let reset = number(&["ratelimit-reset", "x-ratelimit-reset"]).map(|n| {
            // Values past 2001 in seconds are a Unix time (GitHub's and Vercel's style).
            // Either way at most a day: the value comes from the network.
            if n > 1e9 {
                UNIX_EPOCH
                    .checked_add(seconds(n, MAX_RESET_AT))
                    .and_then(|at| at.duration_since(wall).ok())
                    .unwrap_or(Duration::ZERO)
                    .min(MAX_RESET)
            } else {
                seconds(n, MAX_RESET)
            }
        });
        Headers {
            policy_rate,
            limit: number(&["ratelimit-limit", "x-ratelimit-limit"]),
            remaining: number(&["ratelimit-remaining", "x-ratelimit-remaining"]),
            reset,
        }
    }
}

/// The sustained rate of a `RateLimit-Policy` value: its first policy's quota over its
/// window (`w`, seconds; default 1).
fn policy_rate(value: &str) -> Option<f64> {
    let first = value.split(',').next()?;
    let mut parts = first.split(';').map(str::trim);
    let quota: f64 = parts.next()?.parse().ok()?;
    let mut window: f64 = 1.0;
    for p in parts {
        if let Some(w) = p.strip_prefix("w=") {
            window = w.parse().ok()?;
        }
    }
    let rate = quota / window;
    (quota > 0.0 && quota.is_finite() && window > 0.0 && window.is_finite() && rate.is_finite())
        .then_some(rate)
}

/// The longest window reset read from a header.
const MAX_RESET: Duration = Duration::from_secs(86_400);
/// The latest Unix time a reset header may name (year 2100); a later one reads as this.
const MAX_RESET_AT: Duration = Duration::from_secs(4_102_444_800);
/// The longest interval between two paced calls (a rate of one call in 1000 s).
const MAX_INTERVAL: Duration = Duration::from_secs(1000);

/// `secs` (a number from the network) as a duration, never panicking: NaN and negative
/// read as zero, anything over `cap` (infinity included) as `cap`.
fn seconds(secs: f64, cap: Duration) -> Duration {
    if secs.is_nan() || secs <= 0.0 {
        return Duration::ZERO;
    }
    Duration::try_from_secs_f64(secs).map_or(cap, |d| d.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// The times at which `n` calls asked together at `t0` may go, in ms after `t0`.
    fn slots(p: &Pacer, t0: Instant, n: usize) -> Vec<u128> {
        (0..n)
            .map(|_| p.schedule(t0).map_or(0, |at| (at - t0).as_millis()))
            .collect()
    }

    #[test]
    fn policies_parse() {
        assert_eq!(policy_rate("50;w=1"), Some(50.0));
        assert_eq!(policy_rate("100;w=60, 10;w=1"), Some(100.0 / 60.0));
        assert_eq!(policy_rate("7"), Some(7.0));
        assert_eq!(policy_rate("0;w=1"), None);
        assert_eq!(policy_rate("x;w=1"), None);
        assert_eq!(policy_rate("5;w=0"), None);
    }

    #[test]
    fn nothing_waits_before_a_limit_is_known() {
        let p = Pacer::new(true);
        assert_eq!(slots(&p, Instant::now(), 20), vec![0; 20]);
    }

    #[test]
    fn a_learned_policy_spaces_calls_after_the_burst() {
        let p = Pacer::new(true);
        let t0 = Instant::now();
        let h = headers(&[
            ("ratelimit-policy", "50;w=1"),
            ("ratelimit-limit", "50"),
            ("ratelimit-remaining", "12"),
        ]);
        p.observe_at(t0, SystemTime::now(), 200, &h, None);
        // Reserve is 20 % of 50 = 10: two calls go at once, then one slot per 1/47.5 s.
        let got = slots(&p, t0, 6);
        assert_eq!(&got[..2], &[0, 0]);
        let gaps: Vec<u128> = got[2..].windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| (20..=22).contains(g)), "{got:?}");
        assert_eq!(p.learned().rate, Some(50.0));
    }

    #[test]
    fn a_429_pauses_every_call_and_lowers_the_rate() {
        let p = Pacer::new(true);
        let t0 = Instant::now();
        let h = headers(&[("ratelimit-policy", "10;w=1")]);
        p.observe_at(t0, SystemTime::now(), 429, &h, Some(Duration::from_secs(2)));
        let got = slots(&p, t0, 3);
        assert!(got[0] >= 2000, "{got:?}");
        assert!(got[1] > got[0] && got[2] > got[1], "{got:?}");
        let rate = p.learned().rate.unwrap();
        assert!((rate - 9.0).abs() < 1e-9, "{rate}");
        // Recovers with later answers.
        for _ in 0..20 {
            p.observe_at(t0, SystemTime::now(), 200, &HeaderMap::new(), None);
        }
        assert_eq!(p.learned().rate, Some(10.0));
    }

    #[test]
    fn a_long_retry_after_pauses_the_others_a_minute_at_most() {
        let p = Pacer::new(true);
        let t0 = Instant::now();
        let h = HeaderMap::new();
        p.observe_at(
            t0,
            SystemTime::now(),
            429,
            &h,
            Some(Duration::from_secs(3600)),
        );
        assert_eq!(slots(&p, t0, 1), vec![60_000]);
    }

    #[test]
    fn a_call_given_up_while_waiting_leaves_the_count() {
        let p = Pacer::new(true);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let h = HeaderMap::new();
            p.observe(429, &h, Some(Duration::from_secs(5)));
            let waited = tokio::time::timeout(Duration::from_millis(10), p.acquire()).await;
            assert!(waited.is_err());
            assert_eq!(p.lock().in_flight, 0);
        });
    }

    #[test]
    fn a_429_without_headers_still_pauses() {
        let p = Pacer::new(true);
        let t0 = Instant::now();
        p.observe_at(t0, SystemTime::now(), 429, &HeaderMap::new(), None);
        assert_eq!(slots(&p, t0, 2), vec![1000, 1000]);
    }

    #[test]
    fn remaining_and_reset_spread_what_is_left() {
        let p = Pacer::new(true);
        let t0 = Instant::now();
        let wall = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        // GitHub style: 4 left of 100, the window resets at a Unix time 8 s away.
        let h = headers(&[
            ("x-ratelimit-limit", "100"),
            ("x-ratelimit-remaining", "4"),
            ("x-ratelimit-reset", "2000000008"),
        ]);
        p.observe_at(t0, wall, 200, &h, None);
        assert_eq!(p.learned().rate, Some(0.5));
    }

    #[test]
    fn calls_in_flight_count_against_what_is_left() {
        let p = Pacer::new(true);
        let t0 = Instant::now();
        let _ = slots(&p, t0, 5); // five calls in flight
        let h = headers(&[
            ("ratelimit-policy", "50;w=1"),
            ("ratelimit-limit", "50"),
            ("ratelimit-remaining", "20"),
        ]);
        p.observe_at(t0, SystemTime::now(), 200, &h, None);
        assert_eq!(p.learned().remaining, Some(16.0));
    }

    #[test]
    fn hostile_rate_limit_headers_never_panic_and_stay_bounded() {
        let hostile = [
            "18446744073709551615",
            "1e300",
            "1.7976931348623157e308",
            "-1",
            "NaN",
            "inf",
            "-inf",
            "0.000000001",
            "0.5",
            "1e-300",
            "",
        ];
        for value in hostile {
            for status in [200, 429] {
                let p = Pacer::new(true);
                let t0 = Instant::now();
                let h = headers(&[
                    ("x-ratelimit-limit", value),
                    ("x-ratelimit-remaining", value),
                    ("x-ratelimit-reset", value),
                ]);
                p.observe_at(t0, SystemTime::now(), status, &h, None);
                let policy = format!("{value};w={value}");
                let h = headers(&[
                    ("ratelimit-policy", policy.as_str()),
                    ("ratelimit-remaining", "0"),
                ]);
                p.observe_at(t0, SystemTime::now(), status, &h, Some(Duration::MAX));
                if let Some(rate) = p.learned().rate {
                    assert!(!rate.is_nan(), "{value}: rate {rate}");
                }
                // Every slot is at most the longest pause plus some calls' intervals away.
                for wait in slots(&p, t0, 3) {
                    assert!(
                        wait <= (MAX_PAUSE + 3 * MAX_INTERVAL).as_millis(),
                        "{value}: {wait} ms"
                    );
                }
            }
        }
        let wall = SystemTime::now();
        let read = Headers::read(&headers(&[("ratelimit-reset", "1e300")]), wall);
        assert_eq!(
            read.reset,
            Some(MAX_RESET),
            "a reset past 2100 reads as the longest"
        );
        let read = Headers::read(&headers(&[("ratelimit-reset", "4000000000.5")]), wall);
        assert!(read.reset.is_some_and(|r| r <= MAX_RESET));
        assert_eq!(seconds(f64::NAN, MAX_RESET), Duration::ZERO);
        assert_eq!(seconds(-3.0, MAX_RESET), Duration::ZERO);
        assert_eq!(seconds(f64::INFINITY, MAX_RESET), MAX_RESET);
        assert_eq!(seconds(1e300, MAX_RESET), MAX_RESET);
        assert_eq!(seconds(1.5, MAX_RESET), Duration::from_millis(1500));
        assert_eq!(policy_rate("1e308;w=1e-300"), None);
    }

    #[test]
    fn off_never_waits() {
        let p = Pacer::off();
        let t0 = Instant::now();
        let h = headers(&[("ratelimit-policy", "1;w=1"), ("ratelimit-remaining", "0")]);
        p.observe_at(t0, SystemTime::now(), 429, &h, Some(Duration::from_secs(5)));
        assert_eq!(slots(&p, t0, 3), vec![0, 0, 0]);
    }

    #[test]
    fn permits_end_their_time_in_flight() {
        let p = Pacer::new(true);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let a = p.acquire().await;
            let b = p.acquire().await;
            assert_eq!(p.lock().in_flight, 2);
            drop(a);
            drop(b);
            assert_eq!(p.lock().in_flight, 0);
        });
    }
}
