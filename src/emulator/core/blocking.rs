//! Store calls on the blocking pool, written once for every platform's handlers: SQLite
//! and the engines' clients block, so a handler runs them with [`run`] (a call on a shared
//! store) or [`call`] (any blocking work, such as a tenant's own SQLite file) instead of on
//! the async threads.

use std::sync::Arc;

/// Runs `f` with `shared` (a platform's store) on the blocking pool. A task that panicked
/// or was cancelled becomes the platform's error through `E: From<JoinError>` (its internal
/// error), never a panic of the handler.
pub async fn run<S, T, E, F>(shared: &Arc<S>, f: F) -> Result<T, E>
where
    S: Send + Sync + 'static + ?Sized,
    T: Send + 'static,
    E: From<tokio::task::JoinError> + Send + 'static,
    F: FnOnce(&S) -> Result<T, E> + Send + 'static,
{
    let shared = Arc::clone(shared);
    call(move || f(&shared)).await
}

/// Runs `f` on the blocking pool; a task that panicked or was cancelled becomes `E`, as in
/// [`run`].
pub async fn call<T, E, F>(f: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<tokio::task::JoinError> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Failed {
        Rule(&'static str),
        Task,
    }

    impl From<tokio::task::JoinError> for Failed {
        fn from(_: tokio::task::JoinError) -> Self {
            Failed::Task
        }
    }

    #[tokio::test]
    async fn answers_errors_and_a_panicking_task_is_an_error() {
        let store = Arc::new(41);
        assert_eq!(run(&store, |n| Ok::<_, Failed>(n + 1)).await, Ok(42));
        assert_eq!(
            run(&store, |_| Err::<(), _>(Failed::Rule("no"))).await,
            Err(Failed::Rule("no"))
        );
        let panicked: Result<(), Failed> = run(&store, |_| panic!("a store call panicked")).await;
        assert_eq!(panicked, Err(Failed::Task));
        assert_eq!(call(|| Ok::<_, Failed>(7)).await, Ok(7));
        let panicked: Result<(), Failed> = call(|| panic!("a blocking call panicked")).await;
        assert_eq!(panicked, Err(Failed::Task));
    }
}
