//! Actions (protocol 6.10, Terraform 1.14+): operations that are an event, not a state
//! (restart, snapshot now, rotate once). Users declare
//! `action "<type>" "<name>" { config { ... } }` and run it with
//! `terraform apply -invoke=action.<type>.<name>`, or from a resource's
//! `lifecycle { action_trigger { ... } }`. An action changes no state.
//!
//! A type implements [`Action`]. `invoke` reports what it does through [`Progress`]
//! (each message is one progress event Terraform prints) and watches
//! [`Progress::cancelled`]; the server sends exactly one completed event after it, with
//! its diagnostics. Every event has its type set (Terraform panics on one without).

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tf_provider::schema::Schema;
use tf_provider::Diagnostics;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::convert;
use super::framework::Dv;
use crate::proto::tfplugin6 as pb;

/// The progress channel of one invocation, and its cancellation.
pub struct Progress {
    tx: mpsc::Sender<pb::invoke_action::Event>,
    cancel: CancellationToken,
}

impl Progress {
    /// Tell the user what is happening (one line in Terraform's output).
    pub async fn send(&self, message: impl Into<String>) {
        use pb::invoke_action::event::{Progress as P, Type};
        let event = pb::invoke_action::Event {
            r#type: Some(Type::Progress(P {
                message: message.into(),
            })),
        };
        if self.tx.send(event).await.is_err() {
            // Terraform stopped reading: nothing more to do.
            self.cancel.cancel();
        }
    }

    /// True once Terraform stopped the invocation (the stream was cancelled, the provider
    /// was asked to stop).
    pub fn cancelled(&self) -> bool {
        self.cancel.is_cancelled() || self.tx.is_closed()
    }

    /// Wait `delay` (between two polls), or less if the invocation is cancelled; returns
    /// false when it was.
    pub async fn sleep(&self, delay: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(delay) => !self.cancelled(),
            () = self.cancel.cancelled() => false,
            () = self.tx.closed() => false,
        }
    }
}

#[cfg(test)]
impl Progress {
    /// A progress channel for a unit test: the events arrive on the receiver; `cancel`
    /// stands for Terraform's interrupt.
    pub(crate) fn for_test(
        cancel: CancellationToken,
    ) -> (Self, mpsc::Receiver<pb::invoke_action::Event>) {
        let (tx, rx) = mpsc::channel(64);
        (Self { tx, cancel }, rx)
    }
}

/// Why [`Progress::wait`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The delay passed: poll again.
    Again,
    /// The action's deadline (its `timeout`) passed.
    TimedOut,
    /// The invocation was cancelled.
    Cancelled,
}

impl Progress {
    /// Between two polls of an action with a `timeout`: wait `delay`, cut short at
    /// `deadline`, and say whether to poll again, or that time is up or the run cancelled.
    pub async fn wait(&self, delay: Duration, deadline: tokio::time::Instant) -> Wait {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Wait::TimedOut;
        }
        let wake = (now + delay).min(deadline);
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {
                if self.cancelled() {
                    Wait::Cancelled
                } else if wake >= deadline {
                    Wait::TimedOut
                } else {
                    Wait::Again
                }
            }
            () = self.cancel.cancelled() => Wait::Cancelled,
            () = self.tx.closed() => Wait::Cancelled,
        }
    }
}

/// An action type.
#[async_trait]
pub trait Action: Send + Sync + 'static {
    /// The action's `config { ... }` block.
    type Config<'a>: Deserialize<'a> + Send + Sync;

    /// Schema of the `config` block.
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;

    /// Validate the configuration (values may be unknown here).
    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        _ = (diags, config);
        Some(())
    }

    /// Plan: check what can be checked before anything runs (values may be unknown).
    async fn plan<'a>(&self, diags: &mut Diagnostics, config: Self::Config<'a>) -> Option<()> {
        _ = (diags, config);
        Some(())
    }

    /// Do it, reporting progress; errors go in `diags`. Safe to run twice.
    async fn invoke<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::Config<'a>,
        progress: &Progress,
    ) -> Option<()>;
}

/// An action with its types erased.
#[async_trait]
pub(crate) trait ErasedAction: Send + Sync {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema>;
    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()>;
    async fn plan(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()>;
    /// Run, streaming progress, then exactly one completed event.
    async fn run(
        &self,
        config: pb::DynamicValue,
        tx: mpsc::Sender<pb::invoke_action::Event>,
        cancel: CancellationToken,
    );
}

pub(crate) struct ActionAdapter<A>(pub(crate) A);

#[async_trait]
impl<A: Action> ErasedAction for ActionAdapter<A> {
    fn schema(&self, diags: &mut Diagnostics) -> Option<Schema> {
        self.0.schema(diags)
    }

    async fn validate(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()> {
        let config = config.decode(diags, "action configuration")?;
        self.0.validate(diags, config).await
    }

    async fn plan(&self, diags: &mut Diagnostics, config: Dv<'_>) -> Option<()> {
        let config = config.decode(diags, "action configuration")?;
        self.0.plan(diags, config).await
    }

    async fn run(
        &self,
        config: pb::DynamicValue,
        tx: mpsc::Sender<pb::invoke_action::Event>,
        cancel: CancellationToken,
    ) {
        use pb::invoke_action::event::{Completed, Type};
        let mut diags = Diagnostics::default();
        let progress = Progress {
            tx: tx.clone(),
            cancel,
        };
        let dv = Dv::from_parts(&config.msgpack, &config.json);
        if let Some(config) = dv.decode::<A::Config<'_>>(&mut diags, "action configuration") {
            let done = tokio::select! {
                _ = self.0.invoke(&mut diags, config, &progress) => true,
                () = tx.closed() => false,
            };
            if !done {
                return; // nobody is reading any more
            }
        }
        let _ = tx
            .send(pb::invoke_action::Event {
                r#type: Some(Type::Completed(Completed {
                    diagnostics: convert::diagnostics(&diags),
                })),
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn wait_polls_again_then_times_out_or_is_cancelled() {
        let (tx, mut rx) = mpsc::channel(4);
        let cancel = CancellationToken::new();
        let progress = Progress {
            tx,
            cancel: cancel.clone(),
        };
        let far = tokio::time::Instant::now() + Duration::from_secs(60);
        let delay = Duration::from_millis(20);
        assert_eq!(progress.wait(delay, far).await, Wait::Again);
        // A deadline before the delay ends cuts the wait short there.
        let start = tokio::time::Instant::now();
        let near = start + Duration::from_millis(30);
        assert_eq!(
            progress.wait(Duration::from_secs(30), near).await,
            Wait::TimedOut
        );
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(progress.wait(delay, near).await, Wait::TimedOut);

        progress.send("polling").await;
        assert!(
            rx.recv().await.and_then(|e| e.r#type).is_some(),
            "typed event"
        );
        let later = far;
        cancel.cancel();
        assert_eq!(
            progress.wait(Duration::from_secs(2), later).await,
            Wait::Cancelled
        );
        assert!(progress.cancelled());

        // Terraform stopped reading: the same.
        let (tx, rx) = mpsc::channel(1);
        let progress = Progress {
            tx,
            cancel: CancellationToken::new(),
        };
        drop(rx);
        assert_eq!(
            progress.wait(Duration::from_secs(2), later).await,
            Wait::Cancelled
        );
    }
}
