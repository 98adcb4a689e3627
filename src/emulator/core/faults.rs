//! Fault injection for the public API (never for `/_emulator/` admin routes).
//!
//! Rules are checked in order against each public request. A rule matches when its
//! `method` (if any) equals the request method and the request path starts with its
//! `path_prefix` (if any). A matching rule first lets `skip` requests through, then fires
//! `times` times. A `latency` rule delays the request and evaluation goes on with the next
//! rules; any other kind is terminal (the first one that fires decides). `latency_ms` on a
//! terminal rule delays it too.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Delay by `latency_ms`, then serve normally.
    Latency,
    /// Answer 429 `rate_limited` with `Retry-After: retry_after` (default 1) without doing
    /// the work.
    RateLimit,
    /// Answer `status` (500, 502, 503 or 504; default 503) without doing the work.
    Error,
    /// Close the connection without any answer, without doing the work.
    Drop,
    /// Do the work (commit), then close the connection without any answer.
    LoseResponse,
}

/// One fault rule as given to `PUT /_emulator/faults` or `COMWIT_EMULATOR_FAULTS`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    pub kind: FaultKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<u32>,
    /// Fire on one matching request in `every` (the `every`-th, then the `2 x every`-th,
    /// ...) after `skip`, letting the others through; `times` then defaults to no limit.
    /// A steady fault rate for soak runs and the fault benchmark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<u32>,
}

/// The body of `PUT /_emulator/faults` and the value of `COMWIT_EMULATOR_FAULTS`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRules {
    pub rules: Vec<FaultRule>,
}

/// Longest accepted `latency_ms` (10 minutes).
pub const MAX_LATENCY_MS: u64 = 600_000;

impl FaultRule {
    /// Checks the rule; the error names the offending field.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(status) = self.status {
            if !matches!(status, 500 | 502 | 503 | 504) {
                return Err((
                    "status",
                    format!("status must be 500, 502, 503 or 504, got {status}"),
                ));
            }
        }
        if self.every == Some(0) {
            return Err(("every", "every must be at least 1".into()));
        }
        if self.times == Some(0) {
            return Err(("times", "times must be at least 1".into()));
        }
        if self.latency_ms.unwrap_or(0) > MAX_LATENCY_MS {
            return Err((
                "latency_ms",
                format!("latency_ms must be at most {MAX_LATENCY_MS}"),
            ));
        }
        if self.kind == FaultKind::Latency && self.latency_ms.is_none() {
            return Err(("latency_ms", "a latency rule needs latency_ms".into()));
        }
        if let Some(prefix) = &self.path_prefix {
            if !prefix.starts_with('/') {
                return Err(("path_prefix", "path_prefix must start with '/'".into()));
            }
        }
        if let Some(method) = &self.method {
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(("method", "method must be an HTTP method name".into()));
            }
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    RateLimit {
        retry_after: u64,
    },
    Error {
        status: u16,
        retry_after: Option<u64>,
    },
    Drop,
    LoseResponse,
}

/// The decision for one request: a delay, then maybe a terminal action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultDecision {
    pub delay: Duration,
    pub action: Option<FaultAction>,
}

#[derive(Debug, Clone)]
struct ActiveRule {
    rule: FaultRule,
    remaining_times: u32,
    remaining_skip: u32,
    /// Matching requests seen since the skip (for `every`).
    seen: u64,
}

/// The current fault rules with their remaining counts.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<ActiveRule>>,
    /// The per-credential rate limit (off until set; `PUT /_emulator/rate_limit`).
    pub rate_limit: super::ratelimit::RateLimiter,
}

/// A rule and its remaining counts, as `GET /_emulator/faults` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RuleState {
    #[serde(flatten)]
    pub rule: FaultRule,
    pub remaining_times: u32,
    pub remaining_skip: u32,
}

impl Faults {
    /// Replaces every rule. Validates them all first (nothing changes on error); the error
    /// names the field as `rules[i].field`.
    pub fn replace(&self, rules: Vec<FaultRule>) -> Result<(), (String, String)> {
        for (i, rule) in rules.iter().enumerate() {
            rule.validate()
                .map_err(|(field, msg)| (format!("rules[{i}].{field}"), msg))?;
        }
        let active = rules
            .into_iter()
            .map(|rule| ActiveRule {
                remaining_times: rule.times.unwrap_or(if rule.every.is_some() {
                    u32::MAX
                } else {
                    1
                }),
                remaining_skip: rule.skip.unwrap_or(0),
                seen: 0,
                rule,
            })
            .collect();
        *self.lock() = active;
        Ok(())
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn snapshot(&self) -> Vec<RuleState> {
        self.lock()
            .iter()
            .map(|a| RuleState {
                rule: a.rule.clone(),
                remaining_times: a.remaining_times,
                remaining_skip: a.remaining_skip,
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<ActiveRule>> {
        // The rules hold no invariant a panic could break: recover from poisoning.
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides the fate of one public request (and consumes the counts of the rules that
    /// let it through or fired).
    pub fn evaluate(&self, method: &str, path: &str) -> FaultDecision {
        let mut decision = FaultDecision::default();
        let mut rules = self.lock();
        for active in rules.iter_mut() {
            if active.remaining_times == 0 || !active.rule.matches(method, path) {
                continue;
            }
            if active.remaining_skip > 0 {
                active.remaining_skip -= 1;
                continue;
            }
            if let Some(every) = active.rule.every {
                active.seen += 1;
                if active.seen % u64::from(every) != 0 {
                    continue;
                }
            }
            active.remaining_times -= 1;
            let rule = &active.rule;
            decision.delay += Duration::from_millis(rule.latency_ms.unwrap_or(0));
            let action = match rule.kind {
                FaultKind::Latency => continue,
                FaultKind::RateLimit => FaultAction::RateLimit {
                    retry_after: rule.retry_after.unwrap_or(1),
                },
                FaultKind::Error => FaultAction::Error {
                    status: rule.status.unwrap_or(503),
                    retry_after: rule.retry_after,
                },
                FaultKind::Drop => FaultAction::Drop,
                FaultKind::LoseResponse => FaultAction::LoseResponse,
            };
            decision.action = Some(action);
            break;
        }
        decision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(kind: FaultKind) -> FaultRule {
        FaultRule {
            method: None,
            path_prefix: None,
            kind,
            latency_ms: None,
            status: None,
            retry_after: None,
            times: None,
            skip: None,
            every: None,
        }
    }

    #[test]
    fn skip_then_times_then_stop() {
        let faults = Faults::default();
        let mut r = rule(FaultKind::Error);
        r.method = Some("post".into());
        r.path_prefix = Some("/v1/projects/".into());
        r.skip = Some(1);
        r.times = Some(2);
        faults.replace(vec![r]).expect("valid rule");
        let p = "/v1/projects/prj_local/databases";
        assert_eq!(faults.evaluate("GET", p).action, None, "method filter");
        assert_eq!(faults.evaluate("POST", "/v1/databases/x").action, None);
        assert_eq!(faults.evaluate("POST", p).action, None, "skipped");
        let fired = Some(FaultAction::Error {
            status: 503,
            retry_after: None,
        });
        assert_eq!(faults.evaluate("POST", p).action, fired);
        assert_eq!(faults.evaluate("POST", p).action, fired);
        assert_eq!(faults.evaluate("POST", p).action, None, "exhausted");
    }

    #[test]
    fn latency_accumulates_and_terminal_wins() {
        let faults = Faults::default();
        let mut lat = rule(FaultKind::Latency);
        lat.latency_ms = Some(20);
        let mut rl = rule(FaultKind::RateLimit);
        rl.retry_after = Some(7);
        let drop = rule(FaultKind::Drop);
        faults.replace(vec![lat, rl, drop]).expect("valid rules");
        let d = faults.evaluate("GET", "/v1/projects");
        assert_eq!(d.delay, Duration::from_millis(20));
        assert_eq!(d.action, Some(FaultAction::RateLimit { retry_after: 7 }));
        let d = faults.evaluate("GET", "/v1/projects");
        assert_eq!(d.delay, Duration::ZERO);
        assert_eq!(d.action, Some(FaultAction::Drop));
        assert_eq!(
            faults.evaluate("GET", "/v1/projects"),
            FaultDecision::default()
        );
    }

    #[test]
    fn validation_names_fields() {
        let faults = Faults::default();
        let mut bad = rule(FaultKind::Error);
        bad.status = Some(418);
        let err = faults.replace(vec![rule(FaultKind::Drop), bad]);
        assert_eq!(err.map_err(|e| e.0), Err("rules[1].status".to_string()));
        assert!(faults.snapshot().is_empty(), "nothing replaced on error");
        let mut zero = rule(FaultKind::Drop);
        zero.times = Some(0);
        assert!(faults.replace(vec![zero]).is_err());
        let parsed: Result<FaultRules, _> =
            serde_json::from_str(r#"{"rules":[{"kind":"explode"}]}"#);
        assert!(parsed.is_err());
        let parsed: FaultRules = serde_json::from_str(
            r#"{"rules":[{"kind":"lose_response","method":"POST","path_prefix":"/v1/"}]}"#,
        )
        .expect("valid json");
        assert_eq!(parsed.rules[0].kind, FaultKind::LoseResponse);
    }

    #[test]
    fn every_fires_at_a_steady_rate() {
        let faults = Faults::default();
        let rule: FaultRule =
            serde_json::from_value(serde_json::json!({"kind": "error", "status": 500, "every": 4}))
                .expect("rule");
        faults.replace(vec![rule]).expect("valid");
        let fired: Vec<bool> = (0..12)
            .map(|_| faults.evaluate("GET", "/v1/x").action.is_some())
            .collect();
        assert_eq!(fired.iter().filter(|f| **f).count(), 3);
        assert!(fired[3] && fired[7] && fired[11] && !fired[0]);
        let zero: FaultRule =
            serde_json::from_value(serde_json::json!({"kind": "drop", "every": 0})).expect("rule");
        assert_eq!(
            faults.replace(vec![zero]).err().map(|e| e.0),
            Some("rules[0].every".to_owned())
        );
    }
}
