//! One process-wide tokio runtime, created on first use and recreated after `fork()`.
//!
//! A runtime's worker threads do not survive `fork()`: a child that reused the parent's
//! runtime would hang. The runtime is therefore tagged with the pid that built it; a
//! child sees a different pid and builds its own, leaking (never dropping) the parent's
//! copy, whose threads do not exist in the child.

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
