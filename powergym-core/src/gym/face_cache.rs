//! The in-process search cache in front of pgvector: exact search over every active
//! template, kept in step with the database by LISTEN/NOTIFY.
//!
//! The cache only proposes who a face may be. A check-in then locks that member and
//! re-reads their template from the database before admitting anyone, so a stale cache
//! can cost a match (a member enrolled elsewhere a moment ago) but never admit the wrong
//! person.

use std::sync::Arc;
use std::time::Duration;

use crate::domain::ids::ClientId;
use crate::domain::staff::{Action, Actor};
use crate::error::{Error, Result};
use crate::face::{FaceMatcher, Gallery, InMemoryMatcher, Precision};
use crate::gym::Gym;
use crate::store::{BiometricChange, Store};

/// A loaded cache and the task that follows the database's changes.
pub(crate) struct FaceCache {
    pub(crate) matcher: Arc<InMemoryMatcher>,
    follower: tokio::task::JoinHandle<()>,
}

impl Drop for FaceCache {
    fn drop(&mut self) {
        self.follower.abort();
    }
}

impl std::fmt::Debug for FaceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceCache")
            .field("templates", &self.matcher.len())
            .finish()
    }
}

/// Re-reads one member's template into the cache (or drops it).
async fn refresh(store: &dyn Store, matcher: &InMemoryMatcher, client: ClientId) -> Result<()> {
    let mut tx = store.begin().await?;
    match tx.face_template(client).await? {
        Some((_, embedding)) => matcher.enroll(client, &embedding).await?,
        None => {
            matcher.remove(client).await?;
        }
    }
    Ok(())
}

/// Follows the change feed until the store closes. Failures are logged without any
/// member data and retried; a lost connection triggers a full reload.
async fn follow(
    store: Arc<dyn Store>,
    matcher: Arc<InMemoryMatcher>,
    mut feed: Box<dyn crate::store::BiometricChanges>,
    precision: Precision,
) {
    loop {
        let step = match feed.next().await {
            Ok(BiometricChange::Member(client)) => refresh(store.as_ref(), &matcher, client).await,
            Ok(BiometricChange::Resync) => InMemoryMatcher::load(
                store.as_ref(),
                Gallery::with_precision(precision),
                matcher.policy(),
            )
            .await
            .map(|fresh| matcher.replace_with(fresh)),
            Err(e) => Err(e),
        };
        match step {
            Ok(()) => {}
            Err(Error::ConnectionFailed { .. }) if store.is_closed() => return,
            Err(e) => {
                tracing::warn!(kind = e.kind(), "face cache could not refresh; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

impl Gym {
    /// Loads every active template into an exact in-process matcher (at `precision`)
    /// and from then on identifies faces with it instead of the vector index, following
    /// every change any process commits. Returns how many templates were loaded.
    ///
    /// Worth it for large galleries, where an exact in-process scan is both faster and
    /// more accurate than approximate search in the database (see benches/README.md).
    /// Calling it again reloads.
    pub async fn enable_face_cache(&self, actor: &Actor, precision: Precision) -> Result<usize> {
        drop(self.begin_as(actor, Action::ManageFaces).await?);
        // Listen first, then load: a change committed in between is replayed, never lost.
        let feed = self.store.biometric_changes().await?;
        let matcher = Arc::new(
            InMemoryMatcher::load(
                self.store.as_ref(),
                Gallery::with_precision(precision),
                self.face.policy,
            )
            .await?,
        );
        let loaded = matcher.len();
        let follower = tokio::spawn(follow(self.store.clone(), matcher.clone(), feed, precision));
        *self.face_cache.write().unwrap_or_else(|e| e.into_inner()) =
            Some(Arc::new(FaceCache { matcher, follower }));
        tracing::info!(templates = loaded, "face cache enabled");
        Ok(loaded)
    }

    /// Stops using the in-process cache; identification goes back to the database.
    pub fn disable_face_cache(&self) {
        self.face_cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }

    /// The cache's matcher, when enabled.
    pub(crate) fn cached_matcher(&self) -> Option<Arc<InMemoryMatcher>> {
        self.face_cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.matcher.clone())
    }
}
