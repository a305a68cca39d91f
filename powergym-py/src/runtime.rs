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
