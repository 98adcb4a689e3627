//! A per-token rate limit on the public API, off by default (`PUT /_emulator/rate_limit`).
//!
//! Each credential (the `Authorization` header, else `X-API-Key`, else "anonymous") has a
//! token bucket of `burst` requests that refills at `requests_per_second`. A request takes
//! one token; with none left it is answered 429 in the platform's error shape with
//! `Retry-After` (whole seconds, at least 1) and does no work. Every public answer carries
//! the limit as a platform team would send it (assumed; see the contracts):
//!
//! - `RateLimit-Policy: <rps>;w=1;burst=<burst>`: the sustained rate;
//! - `RateLimit-Limit: <burst>`, `RateLimit-Remaining: <whole tokens left>`,
//!   `RateLimit-Reset: <whole seconds until the bucket is full>`;
//! - the same three as `X-RateLimit-*` for clients that read those.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

/// The body of `PUT /_emulator/rate_limit`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Sustained requests per second per credential (0.1 to 100000).
    pub requests_per_second: f64,
    /// Bucket size: requests a credential may send at once (default: one second's worth).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u32>,
}

impl RateLimitConfig {
    /// Checks the config; the error names the field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let rps = self.requests_per_second;
        if !(rps.is_finite() && (0.1..=100_000.0).contains(&rps)) {
            return Err((
                "requests_per_second",
                format!("requests_per_second must be between 0.1 and 100000, got {rps}"),
            ));
        }
        if self.burst == Some(0) {
            return Err(("burst", "burst must be at least 1".into()));
        }
        Ok(())
    }

    fn burst(&self) -> f64 {
        f64::from(
            self.burst
                .unwrap_or_else(|| self.requests_per_second.ceil().max(1.0) as u32),
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    config: Option<RateLimitConfig>,
    buckets: HashMap<String, Bucket>,
    limited: u64,
}

/// The limiter of one served platform.
#[derive(Debug, Default)]
pub struct RateLimiter {
    inner: Mutex<Inner>,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// `Some(seconds)`: refuse with 429 and this `Retry-After`.
    pub refused: Option<u64>,
    /// The headers every answer carries while a limit is set.
    pub headers: Vec<(&'static str, String)>,
}

impl RateLimiter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the limit (every bucket starts full) or, with `None`, turns it off.
    pub fn set(&self, config: Option<RateLimitConfig>) -> Result<(), (&'static str, String)> {
        if let Some(c) = &config {
            c.validate()?;
        }
        let mut inner = self.lock();
        inner.config = config;
        inner.buckets.clear();
        Ok(())
    }

    pub fn config(&self) -> Option<RateLimitConfig> {
        self.lock().config
    }

    /// Requests refused since the limit was set.
    pub fn limited(&self) -> u64 {
        self.lock().limited
    }

    /// Takes a token for `credential` at `now` (`None` while no limit is set).
    pub fn check(&self, credential: &str, now: Instant) -> Option<Decision> {
        let mut inner = self.lock();
        let config = inner.config?;
        let rate = config.requests_per_second;
        let burst = config.burst();
        let bucket = inner
            .buckets
            .entry(credential.to_owned())
            .or_insert(Bucket {
                tokens: burst,
                at: now,
            });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        let refused = if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            let wait = (1.0 - bucket.tokens) / rate;
            Some(wait.ceil().max(1.0) as u64)
        };
        let remaining = bucket.tokens.floor().max(0.0) as u64;
        let reset = ((burst - bucket.tokens) / rate).ceil().max(0.0) as u64;
        if refused.is_some() {
            inner.limited += 1;
        }
        let limit = burst as u64;
        let headers = vec![
            (
                "ratelimit-policy",
                format!("{};w=1;burst={limit}", fmt_rate(rate)),
            ),
            ("ratelimit-limit", limit.to_string()),
            ("ratelimit-remaining", remaining.to_string()),
            ("ratelimit-reset", reset.to_string()),
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-reset", reset.to_string()),
        ];
        Some(Decision { refused, headers })
    }
}

/// A rate as the policy header writes it: whole numbers without a fraction.
fn fmt_rate(rate: f64) -> String {
    if rate.fract() == 0.0 {
        format!("{}", rate as u64)
    } else {
        format!("{rate}")
    }
}

/// The credential a request is limited under.
pub fn credential(headers: &HeaderMap) -> String {
    for name in ["authorization", "x-api-key"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            return format!("{name}:{v}");
        }
    }
    "anonymous".to_owned()
}

/// Writes the decision's headers onto an answer.
pub fn write_headers(decision: &Decision, headers: &mut HeaderMap) {
    for (name, value) in &decision.headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(*name, v);
        }
    }
}

/// How long a refused credential waits for one token, for tests.
pub fn one_token(config: &RateLimitConfig) -> Duration {
    Duration::from_secs_f64(1.0 / config.requests_per_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(d: &'a Decision, name: &str) -> &'a str {
        d.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    #[test]
    fn off_until_set() {
        let l = RateLimiter::default();
        assert!(l.check("a", Instant::now()).is_none());
    }

    #[test]
    fn a_bucket_takes_its_burst_then_refuses_then_refills() {
        let l = RateLimiter::default();
        let config = RateLimitConfig {
            requests_per_second: 10.0,
            burst: Some(3),
        };
        l.set(Some(config)).unwrap();
        let t0 = Instant::now();
        let got: Vec<Option<u64>> = (0..4).map(|_| l.check("a", t0).unwrap().refused).collect();
        assert_eq!(got, vec![None, None, None, Some(1)]);
        // Another credential has its own bucket.
        assert_eq!(l.check("b", t0).unwrap().refused, None);
        // One token back after 1/10 s.
        let later = t0 + one_token(&config);
        let d = l.check("a", later).unwrap();
        assert_eq!(d.refused, None);
        assert_eq!(header(&d, "ratelimit-policy"), "10;w=1;burst=3");
        assert_eq!(header(&d, "ratelimit-remaining"), "0");
        assert_eq!(header(&d, "ratelimit-reset"), "1");
        assert_eq!(l.limited(), 1);
    }

    #[test]
    fn configs_are_checked() {
        let l = RateLimiter::default();
        let bad = RateLimitConfig {
            requests_per_second: -1.0,
            burst: None,
        };
        assert_eq!(l.set(Some(bad)).unwrap_err().0, "requests_per_second");
        let bad = RateLimitConfig {
            requests_per_second: 5.0,
            burst: Some(0),
        };
        assert_eq!(l.set(Some(bad)).unwrap_err().0, "burst");
        assert!(l.config().is_none());
    }

    #[test]
    fn credentials_come_from_the_auth_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(credential(&h), "anonymous");
        h.insert("x-api-key", HeaderValue::from_static("k1"));
        assert_eq!(credential(&h), "x-api-key:k1");
        h.insert("authorization", HeaderValue::from_static("Bearer t"));
        assert_eq!(credential(&h), "authorization:Bearer t");
    }
}
