//! Waiting for a remote object to reach a state (a hostname verified, a domain delegated,
//! a refusal to pass), once: [`until`] reads the object again and again, with backoff,
//! until it is done, a read fails, the wait's deadline passes, or Terraform asks the
//! provider to stop (StopProvider fires the provider's cancellation token; a cancelled
//! gRPC request drops the future, which ends the wait with it).
//!
//! Time is the tokio clock's (`tokio::time`), so a test with a paused clock runs a wait of
//! minutes at once.

use std::future::Future;
use std::time::Duration;

use tf_provider::Diagnostics;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How often to look: first after `first`, each wait after it `factor` times the last,
/// never more than `max`; never past the deadline (the last look is at the deadline).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The first wait.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
    /// How much longer each wait is than the one before (1.0: a fixed interval).
    pub factor: f64,
}

impl Backoff {
    /// Waits from `first`, growing by half each time, to at most `max`.
    pub const fn growing(first: Duration, max: Duration) -> Self {
        Backoff {
            first,
            max,
            factor: 1.5,
        }
    }

    /// The same wait every time.
    pub const fn every(interval: Duration) -> Self {
        Backoff {
            first: interval,
            max: interval,
            factor: 1.0,
        }
    }

    /// The wait after one of `last`.
    pub(crate) fn next(&self, last: Duration) -> Duration {
        last.mul_f64(self.factor.max(1.0)).min(self.max)
    }
}

/// The deadline `seconds` from now on the tokio clock (at least one second; a duration too
/// long for the clock is a year).
pub fn deadline_in(seconds: i64) -> Instant {
    let wait = Duration::from_secs(u64::try_from(seconds.max(1)).unwrap_or(1));
    let now = Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(366 * 86_400))
}

/// How a wait ended; each carries the object as last read.
#[derive(Debug, PartialEq)]
pub enum Polled<T, E> {
    /// The object is in the state waited for.
    Done(T),
    /// A read failed with `E` (the object as read before it).
    Failed(T, E),
    /// The deadline passed first.
    TimedOut(T),
    /// Terraform asked the provider to stop.
    Cancelled(T),
}

/// Waits until `done(current)`: while it is not, and the deadline has not passed, sleeps
/// (by `backoff`, cut short by `cancel`) and `read`s the object again. A read gives
/// `Ok(Some(new))`, `Ok(None)` when it learnt nothing (an answer lost: keep the last
/// object and try again), or `Err(e)` to stop waiting. `current` is judged before any
/// sleep, so an object already done returns at once.
pub async fn until<T, E, Fut>(
    backoff: Backoff,
    deadline: Instant,
    cancel: &CancellationToken,
    mut current: T,
    done: impl Fn(&T) -> bool,
    mut read: impl FnMut() -> Fut,
) -> Polled<T, E>
where
    Fut: Future<Output = Result<Option<T>, E>>,
{
    let mut wait = backoff.first;
    loop {
        if done(&current) {
            return Polled::Done(current);
        }
        if cancel.is_cancelled() {
            return Polled::Cancelled(current);
        }
        let now = Instant::now();
        if now >= deadline {
            return Polled::TimedOut(current);
        }
        let nap = wait.min(deadline - now);
        tokio::select! {
            _ = cancel.cancelled() => return Polled::Cancelled(current),
            _ = tokio::time::sleep(nap) => {}
        }
        wait = backoff.next(wait);
        match read().await {
            Ok(Some(new)) => current = new,
            Ok(None) => {}
            Err(e) => return Polled::Failed(current, e),
        }
    }
}

/// The error of a wait Terraform stopped (StopProvider, an interrupt): `waiting_for`
/// says for what, and what is kept ("hostname `www.example.com` to be verified; ...").
pub fn stopped(diags: &mut Diagnostics, waiting_for: &str) {
    diags.root_error(
        "Stopped while waiting",
        format!("Terraform asked the provider to stop while it waited for {waiting_for}."),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::convert::Infallible;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test]
    async fn done_at_once_reads_nothing() {
        let reads = Cell::new(0);
        let out = until(
            Backoff::every(MS),
            deadline_in(1),
            &CancellationToken::new(),
            5,
            |n| *n == 5,
            || {
                reads.set(reads.get() + 1);
                async { Ok::<_, Infallible>(Some(0)) }
            },
        )
        .await;
        assert_eq!(out, Polled::Done(5));
        assert_eq!(reads.get(), 0);
    }

    #[tokio::test]
    async fn reads_until_done_keeping_the_last_object_through_lost_answers() {
        let reads = Cell::new(0);
        let out = until(
            Backoff::growing(MS, 4 * MS),
            deadline_in(10),
            &CancellationToken::new(),
            0,
            |n| *n >= 3,
            || {
                let n = reads.get() + 1;
                reads.set(n);
                // Every other answer is lost.
                async move { Ok::<_, Infallible>((n % 2 == 0).then_some(n / 2)) }
            },
        )
        .await;
        assert_eq!(out, Polled::Done(3));
        assert_eq!(reads.get(), 6);
    }

    #[tokio::test]
    async fn a_failed_read_ends_the_wait_with_the_last_object() {
        let out = until(
            Backoff::every(MS),
            deadline_in(10),
            &CancellationToken::new(),
            1,
            |_| false,
            || async { Err::<Option<i32>, _>("gone") },
        )
        .await;
        assert_eq!(out, Polled::Failed(1, "gone"));
    }

    #[tokio::test]
    async fn the_deadline_ends_the_wait_and_the_last_look_is_at_it() {
        let started = Instant::now();
        let deadline = started + 30 * MS;
        let reads = Cell::new(0);
        let out = until(
            Backoff::every(Duration::from_secs(3600)),
            deadline,
            &CancellationToken::new(),
            0,
            |_| false,
            || {
                reads.set(reads.get() + 1);
                async { Ok::<_, Infallible>(Some(1)) }
            },
        )
        .await;
        assert_eq!(out, Polled::TimedOut(1));
        assert_eq!(
            reads.get(),
            1,
            "one look, at the deadline, not after an hour"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[tokio::test]
    async fn a_stop_ends_a_sleeping_wait_at_once() {
        let cancel = CancellationToken::new();
        let stopper = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(20 * MS).await;
            stopper.cancel();
        });
        let started = Instant::now();
        let out = until(
            Backoff::every(Duration::from_secs(3600)),
            deadline_in(7200),
            &cancel,
            0,
            |_| false,
            || async { Ok::<_, Infallible>(Some(1)) },
        )
        .await;
        assert_eq!(out, Polled::Cancelled(0));
        assert!(started.elapsed() < Duration::from_secs(10));
        // Already stopped: no sleep, no read.
        let out = until(
            Backoff::every(MS),
            deadline_in(1),
            &cancel,
            0,
            |_| false,
            || async { Ok::<_, Infallible>(Some(1)) },
        )
        .await;
        assert_eq!(out, Polled::Cancelled(0));
    }

    #[test]
    fn a_stopped_wait_says_what_it_waited_for() {
        let mut d = Diagnostics::default();
        stopped(&mut d, "domain `example.com` to be delegated");
        assert_eq!(d.errors[0].summary, "Stopped while waiting");
        assert!(d.errors[0]
            .detail
            .contains("stop while it waited for domain `example.com` to be delegated."));
    }

    #[test]
    fn backoff_grows_to_its_cap() {
        let b = Backoff::growing(Duration::from_secs(2), Duration::from_secs(5));
        assert_eq!(b.next(Duration::from_secs(2)), Duration::from_secs(3));
        assert_eq!(b.next(Duration::from_secs(4)), Duration::from_secs(5));
        let fixed = Backoff::every(Duration::from_secs(1));
        assert_eq!(fixed.next(Duration::from_secs(1)), Duration::from_secs(1));
        assert!(deadline_in(i64::MAX) > Instant::now());
        assert!(deadline_in(-5) > Instant::now());
    }
}
