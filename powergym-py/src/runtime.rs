//! One process-wide tokio runtime, created on first use and recreated after `fork()`.
//!
//! A runtime's worker threads do not survive `fork()`: a child that reused the parent's
//! runtime would hang. The runtime is therefore tagged with the pid that built it; a
//! child sees a different pid and builds its own, leaking (never dropping) the parent's
//! copy, whose threads do not exist in the child.
//!
//! Handles opened on that runtime (a `Gym`'s pool, sockets and tasks) are tied to their
//! process the same way by [`ProcessBound`]: a child may neither use nor drop them.

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use tokio::runtime::Runtime;

static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

pub(crate) fn runtime() -> Arc<Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((owner, rt)) = slot.as_ref()
        && *owner == pid
    {
        return rt.clone();
    }
    if let Some(stale) = slot.take() {
        std::mem::forget(stale);
    }
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .thread_name("powergym")
            .enable_all()
            .build()
            .expect("the tokio runtime could not start (out of threads or memory)"),
    );
    *slot = Some((pid, rt.clone()));
    rt
}

/// A value that belongs to the process that made it, such as a `Gym` whose pooled
/// connections are sockets shared with the parent after `fork()`.
///
/// In another process (a child of the one that made it) the value must not be used:
/// callers check [`is_foreign`](Self::is_foreign) before touching it. Nor may it be
/// dropped there: dropping a pool closes its connections, which would end the parent's
/// sessions on the server (or interleave the two processes' messages on one socket).
/// So a foreign value is leaked rather than dropped; the child's exit releases its copy
/// of the descriptors without a word to the server.
pub(crate) struct ProcessBound<T> {
    value: Arc<T>,
    pid: u32,
}

impl<T> ProcessBound<T> {
    /// Ties `value` to the current process.
    pub(crate) fn new(value: T) -> Self {
        Self {
            value: Arc::new(value),
            pid: std::process::id(),
        }
    }

    /// Another owner of the value, for a call that outlives the borrow of its handle (an
    /// awaitable). A forked child never reaches this: callers check
    /// [`is_foreign`](Self::is_foreign) first.
    pub(crate) fn shared(&self) -> Arc<T> {
        Arc::clone(&self.value)
    }

    /// True in a process other than the one that made the value (a forked child).
    pub(crate) fn is_foreign(&self) -> bool {
        self.pid != std::process::id()
    }
}

impl<T> Deref for ProcessBound<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> Drop for ProcessBound<T> {
    fn drop(&mut self) {
        if self.is_foreign() {
            // One more strong count that nothing releases: the field's own drop then
            // never reaches zero, and the value is never dropped in this process.
            std::mem::forget(Arc::clone(&self.value));
        }
    }
}

/// The shared runtime as seen by pyo3-async-runtimes, so `AsyncGym`'s awaitables run on
/// the same fork-aware runtime as the blocking `Gym`'s calls (pyo3-async-runtimes' own
/// tokio runtime is built once per process and would hang in a forked child).
pub(crate) struct Shared;

tokio::task_local! {
    static TASK_LOCALS: std::cell::OnceCell<pyo3_async_runtimes::TaskLocals>;
}

impl pyo3_async_runtimes::generic::JoinError for JoinFailed {
    fn is_panic(&self) -> bool {
        self.0.is_panic()
    }
    fn into_panic(self) -> Box<dyn std::any::Any + Send + 'static> {
        self.0.into_panic()
    }
}

/// A task of the shared runtime that did not finish (panicked or was cancelled).
pub(crate) struct JoinFailed(tokio::task::JoinError);

/// Adapts tokio's join handle to the error type above.
pub(crate) struct Joined(tokio::task::JoinHandle<()>);

impl std::future::Future for Joined {
    type Output = Result<(), JoinFailed>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx).map_err(JoinFailed)
    }
}

impl pyo3_async_runtimes::generic::Runtime for Shared {
    type JoinError = JoinFailed;
    type JoinHandle = Joined;

    fn spawn<F>(fut: F) -> Self::JoinHandle
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        Joined(runtime().spawn(fut))
    }

    fn spawn_blocking<F>(f: F) -> Self::JoinHandle
    where
        F: FnOnce() + Send + 'static,
    {
        Joined(runtime().spawn_blocking(f))
    }
}

impl pyo3_async_runtimes::generic::ContextExt for Shared {
    fn scope<F, R>(
        locals: pyo3_async_runtimes::TaskLocals,
        fut: F,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = R> + Send>>
    where
        F: std::future::Future<Output = R> + Send + 'static,
    {
        let cell = std::cell::OnceCell::new();
        let _ = cell.set(locals);
        Box::pin(TASK_LOCALS.scope(cell, fut))
    }

    fn get_task_locals() -> Option<pyo3_async_runtimes::TaskLocals> {
        TASK_LOCALS
            .try_with(|c| c.get().cloned())
            .unwrap_or_default()
    }
}
