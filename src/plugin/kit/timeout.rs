//! An action's `timeout`: a duration string as Terraform's own `timeouts` blocks read it
//! (Go's `time.ParseDuration` units `ms`, `s`, `m`, `h`, in any combination: `"90s"`,
//! `"5m"`, `"1h30m"`, `"1.5h"`), checked at plan time on the attribute, and the deadline
//! an invocation polls against (on the tokio clock, like [`super::poll`]).

use std::future::Future;
use std::time::Duration;

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType};
use tf_provider::value::ValueString;
use tf_provider::{AttributePath, Diagnostics};

use super::poll::Backoff;
use super::{attribute, text};
use crate::plugin::actions::{Progress, Wait};

/// The longest `timeout` an action accepts.
pub const MAX: Duration = Duration::from_secs(24 * 3600);

/// The name of the attribute every action with a wait has.
pub const ATTRIBUTE: &str = "timeout";

/// The `timeout` attribute of an action's `config` block, optional, with its default.
pub fn attribute_with_default(default: &str, what: &str) -> Attribute {
    attribute(
        AttributeType::String,
        AttributeConstraint::Optional,
        &format!(
            "How long to wait {what}, as a duration: `\"30s\"`, `\"5m\"`, `\"1h30m\"` \
             (units `ms`, `s`, `m`, `h`; more than 0, at most 24h). Default `\"{default}\"`. \
             When it passes, the action stops with an error saying what it last saw."
        ),
    )
}

/// Reads a duration string. The error says what is wrong without repeating more than the
/// text itself (a duration is never a secret).
pub fn parse(raw: &str) -> Result<Duration, String> {
    let s = raw.trim();
    let shape = "a duration such as \"30s\", \"5m\" or \"1h30m\" (units ms, s, m, h)";
    if s.is_empty() {
        return Err(format!("it is empty; give {shape}"));
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits);
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(format!("`{s}` is not {shape}"));
        }
        let value: f64 = number
            .parse()
            .map_err(|_| format!("`{s}` is not {shape}"))?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let seconds = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(format!("`{s}` has a number without a unit; give {shape}")),
            other => {
                return Err(format!(
                    "`{s}` has the unknown unit `{other}`; give {shape}"
                ))
            }
        };
        total += value * seconds;
        rest = next;
    }
    if total <= 0.0 {
        return Err(format!("`{s}` is not more than zero"));
    }
    if total > MAX.as_secs_f64() {
        return Err(format!("`{s}` is longer than the most allowed, 24h"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// The plan-time check: a set, known `timeout` must parse; an error on the attribute.
pub fn check(diags: &mut Diagnostics, value: &ValueString<'_>) {
    if let Some(raw) = text(value) {
        if let Err(why) = parse(raw) {
            diags.error(
                "Invalid timeout",
                format!("`{ATTRIBUTE}`: {why}."),
                AttributePath::new(ATTRIBUTE),
            );
        }
    }
}

/// The timeout of an invocation: the attribute's, else `default` (null means not set).
/// A value that does not parse was refused at plan time; here it falls back to `default`.
pub fn of(value: &ValueString<'_>, default: Duration) -> Duration {
    text(value)
        .and_then(|raw| parse(raw).ok())
        .unwrap_or(default)
}

/// The deadline `timeout` from now on the tokio clock.
pub fn deadline(timeout: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(timeout).unwrap_or(now + MAX)
}

/// Runs one step of an action (an API call) until it ends, the action's deadline passes or
/// the invocation is cancelled (Terraform's interrupt, StopProvider, a closed stream).
pub async fn within<F: Future>(
    progress: &Progress,
    deadline: tokio::time::Instant,
    step: F,
) -> Result<F::Output, Wait> {
    tokio::select! {
        out = step => Ok(out),
        wait = progress.wait(MAX, deadline) => Err(wait),
    }
}

/// How often a long step says it is still going (see [`within_reporting`]).
pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// [`within`], with a progress line every `every` while the step runs, so a step that
/// takes minutes (a dump of a large database) is not silent: `line` gets the time the step
/// has taken so far.
pub async fn within_reporting<F: Future>(
    progress: &Progress,
    deadline: tokio::time::Instant,
    step: F,
    every: Duration,
    line: impl Fn(Duration) -> String + Send,
) -> Result<F::Output, Wait> {
    let started = tokio::time::Instant::now();
    tokio::pin!(step);
    loop {
        tokio::select! {
            out = &mut step => return Ok(out),
            wait = progress.wait(every, deadline) => match wait {
                Wait::Again => progress.send(line(started.elapsed())).await,
                stopped => return Err(stopped),
            },
        }
    }
}

/// What one look of an action's wait ([`poll`]) found.
#[derive(Debug, PartialEq)]
pub enum Look<T, S = ()> {
    /// What the action waits for: the wait ends with it.
    Done(T),
    /// Not yet: the line is sent as progress, and the action looks again after the next
    /// wait of its backoff. `S` is what the look saw (a hostname's missing records, a
    /// database's status): the wait gives the last one back if it ends without `T`
    /// ([`Unfinished`]), so the action's error can say what it last saw.
    NotYet(String, S),
}

impl<T> Look<T> {
    /// Not yet, with only a progress line to say.
    pub fn not_yet(line: impl Into<String>) -> Self {
        Look::NotYet(line.into(), ())
    }
}

/// How an action's wait ([`poll`]) ended without what it waited for.
#[derive(Debug, PartialEq)]
pub enum Unfinished<E, S = ()> {
    /// A look failed: the action reports the failure (its platform's `api_error`).
    Failed(E),
    /// The action's `timeout` passed or the run was cancelled: the action reports it with
    /// [`stopped`]. `last` is what the last finished look saw ([`Look::NotYet`]), `None`
    /// when no look finished (the first one was cut short).
    Stopped { wait: Wait, last: Option<S> },
}

/// An action's wait for a state (a database answering again, a snapshot listed): `look`
/// at once, then again after each wait of `backoff` ([`super::poll::Backoff`]), until it
/// finds what it waits for or fails; each look is cut short at the deadline or on cancel
/// (like [`within`]), and so is each wait. A look that is not done yet sends its line as
/// progress, so the user sees each state the action saw, and what it saw is kept: a wait
/// that times out or is cancelled gives back the last one, even when the look running at
/// the deadline was cut short.
pub async fn poll<T, E, S, Fut>(
    progress: &Progress,
    deadline: tokio::time::Instant,
    backoff: Backoff,
    mut look: impl FnMut() -> Fut,
) -> Result<T, Unfinished<E, S>>
where
    Fut: Future<Output = Result<Look<T, S>, E>>,
{
    let mut delay = backoff.first;
    let mut last = None;
    loop {
        match within(progress, deadline, look()).await {
            Ok(Ok(Look::Done(found))) => return Ok(found),
            Ok(Ok(Look::NotYet(line, seen))) => {
                progress.send(line).await;
                last = Some(seen);
            }
            Ok(Err(e)) => return Err(Unfinished::Failed(e)),
            Err(wait) => return Err(Unfinished::Stopped { wait, last }),
        }
        match progress.wait(delay, deadline).await {
            Wait::Again => {}
            wait => return Err(Unfinished::Stopped { wait, last }),
        }
        delay = backoff.next(delay);
    }
}

/// The error of an action that did not finish: its `timeout` passed, or it was cancelled.
/// `doing` completes "... did not finish": what the action was waiting for, with the last
/// state it saw ("database `db_1` to be suspended (last seen: active)").
pub fn stopped(diags: &mut Diagnostics, wait: Wait, doing: &str, timeout: Duration) {
    match wait {
        Wait::Cancelled => diags.root_error(
            "Action cancelled",
            format!(
                "Stopped waiting for {doing}: Terraform cancelled the run. What was already \
                 done stays done; running the action again is safe."
            ),
        ),
        Wait::TimedOut | Wait::Again => diags.error(
            "Action timed out",
            format!(
                "Stopped waiting for {doing} after {}. What was already done stays done; \
                 raise `{ATTRIBUTE}` or run the action again (it is safe to run twice).",
                display(timeout)
            ),
            AttributePath::new(ATTRIBUTE),
        ),
    }
}

/// A duration as users write it back: `"1h30m"`, `"45s"`, `"250ms"`.
pub fn display(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::value::Value;

    #[test]
    fn durations_as_terraform_writes_them() {
        for (raw, secs) in [
            ("30s", 30.0),
            ("5m", 300.0),
            ("1h30m", 5400.0),
            ("1.5h", 5400.0),
            ("250ms", 0.25),
            (" 2m10s ", 130.0),
            ("24h", 86400.0),
        ] {
            assert_eq!(parse(raw), Ok(Duration::from_secs_f64(secs)), "{raw}");
        }
        for (raw, why) in [
            ("", "empty"),
            ("30", "without a unit"),
            ("5 m", "unknown unit"),
            ("5d", "unknown unit `d`"),
            ("-5s", "is not a duration"),
            ("0s", "not more than zero"),
            ("25h", "longer than"),
            ("1..5s", "is not a duration"),
            ("s", "is not a duration"),
        ] {
            let err = parse(raw).expect_err(raw);
            assert!(err.contains(why), "{raw}: {err}");
        }
    }

    #[test]
    fn the_check_points_at_the_attribute_and_ignores_unset_values() {
        let mut diags = Diagnostics::default();
        check(&mut diags, &Value::Null);
        check(&mut diags, &Value::Unknown);
        check(&mut diags, &crate::plugin::kit::known("10m"));
        assert!(diags.errors.is_empty(), "{diags:?}");
        check(&mut diags, &crate::plugin::kit::known("ten minutes"));
        assert_eq!(diags.errors.len(), 1);
        assert_eq!(
            diags.errors[0].attribute,
            AttributePath::new(ATTRIBUTE),
            "{diags:?}"
        );
        assert_eq!(
            of(&crate::plugin::kit::known("bad"), Duration::from_secs(7)),
            Duration::from_secs(7)
        );
        assert_eq!(of(&Value::Null, Duration::from_secs(7)).as_secs(), 7);
    }

    /// The progress lines sent so far.
    fn lines(
        rx: &mut tokio::sync::mpsc::Receiver<crate::proto::tfplugin6::invoke_action::Event>,
    ) -> Vec<String> {
        use crate::proto::tfplugin6::invoke_action::event::Type;
        let mut out = Vec::new();
        while let Ok(event) = rx.try_recv() {
            if let Some(Type::Progress(p)) = event.r#type {
                out.push(p.message);
            }
        }
        out
    }

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn poll_looks_until_done_saying_each_state_and_backing_off() {
        let (progress, mut rx) = Progress::for_test(tokio_util::sync::CancellationToken::new());
        let start = tokio::time::Instant::now();
        let looks = std::cell::Cell::new(0);
        let found = poll(
            &progress,
            deadline(Duration::from_secs(60)),
            Backoff::growing(20 * MS, 40 * MS),
            || {
                looks.set(looks.get() + 1);
                let n = looks.get();
                async move {
                    Ok::<_, String>(if n == 4 {
                        Look::Done(n)
                    } else {
                        Look::not_yet(format!("look {n}: not yet"))
                    })
                }
            },
        )
        .await;
        assert_eq!(found, Ok(4));
        assert_eq!(
            lines(&mut rx),
            ["look 1: not yet", "look 2: not yet", "look 3: not yet"]
        );
        // Waits of 20, 30, then 40 ms (the most) between the looks.
        let took = start.elapsed();
        assert!(
            took >= 90 * MS && took < Duration::from_secs(30),
            "{took:?}"
        );
    }

    #[tokio::test]
    async fn poll_stops_at_a_failure_the_deadline_or_a_cancel() {
        let cancel = tokio_util::sync::CancellationToken::new();
        let (progress, mut rx) = Progress::for_test(cancel.clone());
        let every = Backoff::every(10 * MS);
        let failed = poll(
            &progress,
            deadline(Duration::from_secs(60)),
            every,
            || async { Err::<Look<()>, _>("503") },
        )
        .await;
        assert_eq!(failed, Err(Unfinished::Failed("503")));
        assert!(lines(&mut rx).is_empty(), "a failure is no progress line");

        let start = tokio::time::Instant::now();
        let timed_out = poll(&progress, deadline(100 * MS), every, || async {
            Ok::<_, String>(Look::<()>::not_yet("waiting"))
        })
        .await;
        assert_eq!(
            timed_out,
            Err(Unfinished::Stopped {
                wait: Wait::TimedOut,
                last: Some(())
            })
        );
        let took = start.elapsed();
        assert!(
            took >= 100 * MS && took < Duration::from_secs(30),
            "{took:?}"
        );
        let said = lines(&mut rx);
        assert!(
            said.len() >= 2 && said.iter().all(|l| l == "waiting"),
            "{said:?}"
        );

        // A look that hangs is cut short at the deadline too.
        let start = tokio::time::Instant::now();
        let hung = poll(&progress, deadline(100 * MS), every, || {
            std::future::pending::<Result<Look<()>, String>>()
        })
        .await;
        assert_eq!(
            hung,
            Err(Unfinished::Stopped {
                wait: Wait::TimedOut,
                last: None
            })
        );
        let took = start.elapsed();
        assert!(
            took >= 100 * MS && took < Duration::from_secs(30),
            "{took:?}"
        );

        cancel.cancel();
        let cancelled = poll(
            &progress,
            deadline(Duration::from_secs(60)),
            every,
            || async { Ok::<_, String>(Look::<()>::not_yet("waiting")) },
        )
        .await;
        assert!(
            matches!(
                cancelled,
                Err(Unfinished::Stopped {
                    wait: Wait::Cancelled,
                    ..
                })
            ),
            "{cancelled:?}"
        );
    }

    /// A wait that ends without what it waited for gives back what the last finished look
    /// saw: at a timeout between two looks, at a timeout that cuts a hanging look short
    /// (the look before it), and at a cancel.
    #[tokio::test]
    async fn poll_gives_back_what_the_last_look_saw() {
        let cancel = tokio_util::sync::CancellationToken::new();
        let (progress, mut rx) = Progress::for_test(cancel.clone());
        let every = Backoff::every(30 * MS);
        let seen = |n: u32| (n, format!("record {n} missing"));

        // Between two looks: the last of several (the one whose line was sent last).
        let looks = std::cell::Cell::new(0u32);
        let timed_out = poll(&progress, deadline(150 * MS), every, || {
            looks.set(looks.get() + 1);
            let n = looks.get();
            async move { Ok::<Look<(), _>, String>(Look::NotYet(format!("look {n}"), seen(n))) }
        })
        .await;
        let said = lines(&mut rx);
        assert!(said.len() >= 2, "{said:?}");
        let n = u32::try_from(said.len()).expect("a few lines");
        assert_eq!(said.last(), Some(&format!("look {n}")), "{said:?}");
        assert_eq!(
            timed_out,
            Err(Unfinished::Stopped {
                wait: Wait::TimedOut,
                last: Some(seen(n))
            })
        );

        // The look running at the deadline hangs: the one before it is given back.
        let looks = std::cell::Cell::new(0u32);
        let cut_short = poll(&progress, deadline(300 * MS), every, || {
            looks.set(looks.get() + 1);
            let n = looks.get();
            async move {
                if n >= 3 {
                    std::future::pending::<()>().await;
                }
                Ok::<Look<(), _>, String>(Look::NotYet(format!("look {n}"), seen(n)))
            }
        })
        .await;
        assert_eq!(looks.get(), 3);
        assert_eq!(
            cut_short,
            Err(Unfinished::Stopped {
                wait: Wait::TimedOut,
                last: Some(seen(2))
            })
        );
        assert_eq!(lines(&mut rx), ["look 1", "look 2"]);

        // Cancelled while waiting after a look: that look's.
        let looks = std::cell::Cell::new(0u32);
        let cancelled = poll(&progress, deadline(Duration::from_secs(60)), every, || {
            looks.set(looks.get() + 1);
            let n = looks.get();
            let cancel = cancel.clone();
            async move {
                if n == 2 {
                    cancel.cancel();
                }
                Ok::<Look<(), _>, String>(Look::NotYet(format!("look {n}"), seen(n)))
            }
        })
        .await;
        assert_eq!(
            cancelled,
            Err(Unfinished::Stopped {
                wait: Wait::Cancelled,
                last: Some(seen(2))
            })
        );
    }

    #[test]
    fn displayed_as_written() {
        assert_eq!(display(Duration::from_secs(5400)), "1h30m");
        assert_eq!(display(Duration::from_secs(45)), "45s");
        assert_eq!(display(Duration::from_millis(250)), "250ms");
        assert_eq!(display(Duration::from_secs(3600)), "1h");
    }
}
