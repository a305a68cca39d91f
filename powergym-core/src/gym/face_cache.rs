//! The in-process search cache in front of pgvector: exact search over every active
//! template, kept in step with the database by LISTEN/NOTIFY.
//!
//! Notifications keep memory fresh (an erased face leaves memory within moments), but
//! correctness does not rest on them. Each search also asks the database which templates
//! changed since the cache was loaded (`change_seq`, migration 0011) and scores those
//! from their current rows, and a proposed match is re-read from the database before it
//! counts. A lagging cache can therefore cost speed, never a wrong answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use crate::domain::ids::ClientId;
use crate::domain::staff::{Action, Actor};
use crate::error::Result;
use crate::face::{
    FaceEmbedding, FaceMatcher, Gallery, InMemoryMatcher, Precision, ScoredCandidate,
};
use crate::gym::Gym;
use crate::store::{BiometricChange, BiometricChanges, Store, StoreTransaction};

/// Templates read per round trip when loading from a store.
const LOAD_PAGE: u32 = 2_000;

/// Loading from a store lives with the use cases, so `face/` depends on no store.
impl InMemoryMatcher {
    /// Loads every active template of `store` into `gallery` (usually empty) in
    /// client-id pages, one short transaction per page so a large gallery does not hold
    /// a snapshot open.
    pub async fn load(
        store: &dyn Store,
        mut gallery: Gallery,
        policy: crate::face::MatchPolicy,
    ) -> Result<Self> {
        let mut after = None;
        loop {
            let mut tx = store.begin_read().await?;
            let page = tx.face_templates_page(after, LOAD_PAGE).await?;
            drop(tx);
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            let full = page.len() == LOAD_PAGE as usize;
            for (client, embedding) in &page {
                gallery.upsert(*client, embedding);
            }
            if !full {
                break;
            }
        }
        Ok(Self::with_gallery(gallery, policy))
    }
}

/// Changes since the last full load above which the follower reloads, so the per-search
/// delta stays a handful of rows.
const REBASE_AFTER: u64 = 256;

/// The loaded gallery and the change mark it reflects.
pub(crate) struct CacheState {
    pub(crate) matcher: InMemoryMatcher,
    /// Every template change up to this mark is in `matcher`.
    base: AtomicI64,
    precision: Precision,
}

impl CacheState {
    /// Loads every template; the mark is read first, so a change committed during the
    /// load is at worst scored twice, never missed.
    async fn load(
        store: &dyn Store,
        precision: Precision,
        policy: crate::face::MatchPolicy,
    ) -> Result<(InMemoryMatcher, i64)> {
        let mark = store.begin_read().await?.face_change_mark().await?;
        let matcher =
            InMemoryMatcher::load(store, Gallery::with_precision(precision), policy).await?;
        Ok((matcher, mark))
    }

    async fn reload(&self, store: &dyn Store) -> Result<()> {
        let (fresh, mark) = Self::load(store, self.precision, self.matcher.policy()).await?;
        self.matcher.replace_with(fresh);
        self.base.store(mark, Ordering::SeqCst);
        Ok(())
    }

    /// The two best candidates for `probe`: the cache's, with every template changed
    /// since the load replaced by its current row.
    pub(crate) async fn nearest_two(
        &self,
        tx: &mut dyn StoreTransaction,
        probe: &FaceEmbedding,
    ) -> Result<Vec<ScoredCandidate>> {
        let changed = tx
            .face_templates_changed_since(self.base.load(Ordering::SeqCst))
            .await?;
        let is_changed = |c: ClientId| changed.iter().any(|(id, _)| *id == c);
        let mut ranked = self.matcher.top_k(probe, 2 + changed.len()).await?;
        ranked.retain(|c| !is_changed(c.client_id));
        ranked.extend(
            changed
                .iter()
                .map(|(id, e)| ScoredCandidate::new(*id, e.distance(probe))),
        );
        ranked.sort_by(|a, b| a.distance.total_cmp(&b.distance));
        ranked.truncate(2);
        Ok(ranked)
    }
}

/// A loaded cache and the task that follows the database's changes.
pub(crate) struct FaceCache {
    pub(crate) state: Arc<CacheState>,
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
            .field("templates", &self.state.matcher.len())
            .finish()
    }
}

/// Re-reads one member's template into the cache (or drops it).
async fn refresh(store: &dyn Store, state: &CacheState, client: ClientId) -> Result<()> {
    let mut tx = store.begin_read().await?;
    match tx.face_template(client).await? {
        Some((_, embedding)) => state.matcher.enroll(client, &embedding).await?,
        None => {
            state.matcher.remove(client).await?;
        }
    }
    if tx
        .count_face_changes_since(state.base.load(Ordering::SeqCst))
        .await?
        > REBASE_AFTER
    {
        drop(tx);
        state.reload(store).await?;
    }
    Ok(())
}

/// Follows the change feed until the store closes. Any failure — a lost connection, a
/// refresh or reload that did not go through — leads to listening afresh and reloading
/// everything, retried until it succeeds, so no change is dropped for good. Failures are
/// logged without member data.
async fn follow(store: Arc<dyn Store>, state: Arc<CacheState>, feed: Box<dyn BiometricChanges>) {
    let mut feed = Some(feed);
    let mut resync = false;
    loop {
        let step: Result<()> = async {
            if feed.is_none() {
                feed = Some(store.biometric_changes().await?);
                resync = true;
            }
            if resync {
                state.reload(store.as_ref()).await?;
                resync = false;
            }
            let change = match feed.as_mut() {
                Some(f) => f.next().await,
                None => return Ok(()),
            };
            match change {
                Ok(BiometricChange::Member(client)) => refresh(store.as_ref(), &state, client)
                    .await
                    .inspect_err(|_| resync = true),
                Ok(BiometricChange::Resync) => {
                    resync = true;
                    Ok(())
                }
                Err(e) => {
                    feed = None;
                    Err(e)
                }
            }
        }
        .await;
        if let Err(e) = step {
            if store.is_closed() {
                return;
            }
            resync = true;
            tracing::warn!(kind = e.kind(), "face cache fell behind; reloading");
            tokio::time::sleep(Duration::from_secs(1)).await;
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
    /// It keeps one database connection for notifications. Calling it again reloads.
    pub async fn enable_face_cache(&self, actor: &Actor, precision: Precision) -> Result<usize> {
        self.bounded(async move {
            drop(self.begin_read_as(actor, Action::ManageFaces).await?);
            // Listen first, then load: a change committed in between is replayed, never lost.
            let feed = self.store.biometric_changes().await?;
            let (matcher, mark) =
                CacheState::load(self.store.as_ref(), precision, self.face.policy).await?;
            let loaded = matcher.len();
            let state = Arc::new(CacheState {
                matcher,
                base: AtomicI64::new(mark),
                precision,
            });
            let follower = tokio::spawn(follow(self.store.clone(), state.clone(), feed));
            *self.face_cache.write().unwrap_or_else(|e| e.into_inner()) =
                Some(Arc::new(FaceCache { state, follower }));
            tracing::info!(templates = loaded, "face cache enabled");
            Ok(loaded)
        })
        .await
    }

    /// Stops using the in-process cache; identification goes back to the database.
    pub fn disable_face_cache(&self) {
        self.face_cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
    }

    /// The cache, when enabled.
    pub(crate) fn cache(&self) -> Option<Arc<CacheState>> {
        self.face_cache
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.state.clone())
    }
}
