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
use crate::gym::face_bulk::MAX_BULK_ENROLMENT;
use crate::store::{BiometricChange, BiometricChanges, Store, StoreTransaction};

/// Loading from a store lives with the use cases, so `face/` depends on no store.
impl InMemoryMatcher {
    /// Loads every active template of `store` into `gallery` (usually empty).
    ///
    /// One read transaction and one streamed statement: every row is read once, in one
    /// plan that is a plain scan (the keyset pages this replaced went to a generic plan
    /// after five pages and rescanned the table for each, quadratic in the gallery), and
    /// each row goes into the gallery as it arrives, so the templates are never held
    /// twice. One snapshot also means the gallery is one consistent state. The snapshot
    /// lasts as long as the load (about a second per 100k templates), which neither
    /// store minds; a cache reads its change mark before calling this, so a change
    /// committed meanwhile is scored from its row at the next search, never missed.
    pub async fn load(
        store: &dyn Store,
        mut gallery: Gallery,
        policy: crate::face::MatchPolicy,
    ) -> Result<Self> {
        let mut tx = store.begin_read().await?;
        let expected = tx.count_face_templates().await?;
        gallery.reserve(usize::try_from(expected).unwrap_or(0));
        tx.visit_face_templates(&mut |client, embedding| gallery.upsert(client, &embedding))
            .await?;
        drop(tx);
        Ok(Self::with_gallery(gallery, policy))
    }
}

/// What the default int8 cache of `templates` templates holds in memory: the figure
/// both the budget (`FaceOptions::cache_budget_bytes`) and the health report judge.
pub(crate) fn int8_cache_bytes(templates: u64) -> u64 {
    templates.saturating_mul(Precision::Int8.held_bytes_per_template() as u64)
}

/// Changes since the mark above which the follower catches up (reads them into memory and
/// moves the mark), so the per-search delta stays a handful of rows: every search and
/// enrolment reads the templates changed since the mark (2 KB each; at 200 changes that
/// read was 0.7 ms of a 7 ms enrolment), and a catch-up costs one read of those rows.
const REBASE_AFTER: u64 = 32;

/// The loaded gallery and the change mark it reflects.
pub(crate) struct CacheState {
    pub(crate) matcher: InMemoryMatcher,
    /// Every template change up to this mark is in `matcher`, erasures aside: an erased
    /// template may linger until its notification is handled, which costs a search
    /// only a re-read (a proposed match is always read again from the database).
    base: AtomicI64,
    precision: Precision,
    /// Held by whatever writes rows read from the database into `matcher` (a reload, a
    /// catch-up, one member's refresh), so an older read never lands after a newer one.
    sync: tokio::sync::Mutex<()>,
    /// Template ids of a large batch this process committed and applied from memory,
    /// so that the follower, hearing of the batch (`*` and its first change mark, which
    /// the mark has passed by then), does not read it all back. Emptied as the
    /// follower meets them, and by a reload.
    from_memory: std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>,
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

    /// Every template change up to this mark is in the matcher.
    pub(crate) fn mark(&self) -> i64 {
        self.base.load(Ordering::SeqCst)
    }

    pub(crate) async fn reload(&self, store: &dyn Store) -> Result<()> {
        let _sync = self.sync.lock().await;
        let (fresh, mark) = Self::load(store, self.precision, self.matcher.policy()).await?;
        self.matcher.replace_with(fresh);
        self.base.store(mark, Ordering::SeqCst);
        self.applied_from_memory().clear();
        Ok(())
    }

    fn applied_from_memory(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashSet<uuid::Uuid>> {
        self.from_memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds off every other write from the database into the cache (see `sync`).
    pub(crate) async fn hold(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.sync.lock().await
    }

    /// [`hold`](Self::hold) if nobody holds it now. A bulk enrolment takes it before
    /// its commit when it is free, so the follower, hearing of the batch, waits for the
    /// enrolment's own catch-up; it never waits for it there, holding database locks
    /// that the holder (a reload reading the templates) may be waiting for.
    pub(crate) fn try_hold(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        self.sync.try_lock().ok()
    }

    /// Applies every template added or replaced since the mark (or since `from`, if
    /// earlier) and moves the mark past them. `known` are templates this process just
    /// committed, `(member, template id, vector)`: applied from memory while that
    /// template is still the member's (another process may have replaced or erased it
    /// since), the rest read from the database. Erasures are left to their own
    /// notifications (see `base`). The caller holds [`hold`](Self::hold)'s guard.
    ///
    /// The new mark is read before the rows, so a change committed in between is read
    /// now and scored again at the next search, never skipped.
    pub(crate) async fn catch_up_held(
        &self,
        _held: &tokio::sync::MutexGuard<'_, ()>,
        store: &dyn Store,
        from: Option<i64>,
        known: &[(ClientId, uuid::Uuid, &FaceEmbedding)],
    ) -> Result<()> {
        let since = from.map_or(self.mark(), |f| f.min(self.mark()));
        let mut tx = store.begin_read().await?;
        let mark = tx.face_change_mark().await?;
        let changed = tx.face_template_ids_changed_since(since).await?;
        let in_memory: std::collections::HashMap<uuid::Uuid, (ClientId, &FaceEmbedding)> =
            known.iter().map(|(c, id, e)| (*id, (*c, *e))).collect();
        let mut apply: Vec<(ClientId, &FaceEmbedding)> = Vec::with_capacity(changed.len());
        let mut read = Vec::new();
        {
            let mut from_memory = self.applied_from_memory();
            let mut applied = Vec::new();
            for (client, id) in &changed {
                match in_memory.get(id) {
                    Some(&(c, e)) if c == *client => {
                        apply.push((c, e));
                        applied.push(*id);
                    }
                    // Applied from memory by this process's own bulk enrolment.
                    _ if from_memory.remove(id) => {}
                    _ => read.push(*client),
                }
            }
            // Only a batch announced by one notification (over 256 rows) is met by the
            // follower; smaller ones are refreshed member by member. Only what was
            // applied here: a row the mark had passed is the follower's to read. Bounded:
            // at worst a batch is read back once more.
            if known.len() > 256 && from_memory.len() < 2 * MAX_BULK_ENROLMENT {
                from_memory.extend(applied);
            }
        }
        let others = if read.is_empty() {
            Vec::new()
        } else {
            tx.face_templates_of(&read).await?
        };
        drop(tx);
        self.matcher
            .upsert_many(apply.into_iter().chain(others.iter().map(|(c, e)| (*c, e))));
        self.base.fetch_max(mark, Ordering::SeqCst);
        Ok(())
    }

    /// [`catch_up_held`](Self::catch_up_held) with nothing known, taking the guard.
    pub(crate) async fn catch_up(&self, store: &dyn Store, from: Option<i64>) -> Result<()> {
        let held = self.hold().await;
        self.catch_up_held(&held, store, from, &[]).await
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
        self.rank_with(probe, &changed).await
    }

    /// The change mark the loaded gallery reflects: every template change up to it is
    /// in memory.
    pub(crate) fn base_mark(&self) -> i64 {
        self.base.load(Ordering::SeqCst)
    }

    /// The two best candidates for `probe`: the cache's within the policy's threshold
    /// (nothing farther decides), with each template in `changed` (the active ones
    /// changed since [`base_mark`](Self::base_mark), as the database has them now)
    /// replacing the member's entry in memory.
    pub(crate) async fn rank_with(
        &self,
        probe: &FaceEmbedding,
        changed: &[(ClientId, FaceEmbedding)],
    ) -> Result<Vec<ScoredCandidate>> {
        // A set: after a bulk enrolment elsewhere the list can hold thousands.
        let changed_ids: std::collections::HashSet<ClientId> =
            changed.iter().map(|(id, _)| *id).collect();
        let is_changed = |c: ClientId| changed_ids.contains(&c);
        // Within the policy's threshold: every caller decides by it, and a compact scan
        // proves that answer at once.
        let mut ranked = self
            .matcher
            .top_k_within(
                probe,
                2 + changed.len(),
                self.matcher.policy().max_distance(),
            )
            .await?;
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
    let behind = {
        let _sync = state.sync.lock().await;
        let mut tx = store.begin_read().await?;
        match tx.face_template(client).await? {
            Some((_, embedding)) => state.matcher.enroll(client, &embedding).await?,
            None => {
                state.matcher.remove(client).await?;
            }
        }
        tx.count_face_changes_since(state.mark()).await? > REBASE_AFTER
    };
    if behind {
        state.catch_up(store, None).await?;
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
                Ok(BiometricChange::Added(first)) => state
                    .catch_up(store.as_ref(), Some(first.saturating_sub(1)))
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

/// This gym's cache: the one in use, and whether the default one was decided.
#[derive(Default)]
pub(crate) struct CacheSlot {
    current: std::sync::RwLock<Option<Arc<FaceCache>>>,
    /// Held while the default cache is decided and loaded, so concurrent first searches
    /// load it once; `true` once decided (loaded, over budget, or replaced by an explicit
    /// enable or disable), after which it is never decided again.
    decided: tokio::sync::Mutex<bool>,
    /// Set by `disable_face_cache`: no default cache is loaded (or kept) after it.
    off: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for CacheSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheSlot")
            .field(
                "current",
                &*self.current.read().unwrap_or_else(|e| e.into_inner()),
            )
            .finish_non_exhaustive()
    }
}

impl CacheSlot {
    fn get(&self) -> Option<Arc<CacheState>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.state.clone())
    }

    fn set(&self, cache: Option<FaceCache>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = cache.map(Arc::new);
    }
}

impl Gym {
    /// Loads every active template into an exact in-process matcher (at `precision`)
    /// and from then on identifies faces with it instead of the vector index, following
    /// every change any process commits. Returns how many templates were loaded.
    ///
    /// On PostgreSQL a gym already does this by itself (at int8) when the gallery fits
    /// [`FaceOptions::cache_budget_bytes`](crate::FaceOptions::cache_budget_bytes); call
    /// it to load one whatever the budget, at another precision, or ahead of the first
    /// check-in. It keeps one database connection for notifications. Calling it again
    /// reloads.
    pub async fn enable_face_cache(&self, actor: &Actor, precision: Precision) -> Result<usize> {
        self.bounded(async move {
            drop(self.begin_read_as(actor, Action::ManageFaces).await?);
            let mut decided = self.face_cache.decided.lock().await;
            let cache = self.load_face_cache(precision).await?;
            let loaded = cache.state.matcher.len();
            self.face_cache.set(Some(cache));
            self.face_cache.off.store(false, Ordering::SeqCst);
            *decided = true;
            tracing::info!(templates = loaded, "face cache enabled");
            Ok(loaded)
        })
        .await
    }

    /// Stops using the in-process cache (including the default one, which is not
    /// loaded again); identification goes back to the database.
    pub fn disable_face_cache(&self) {
        // Off first: a default load in progress then discards what it loaded.
        self.face_cache.off.store(true, Ordering::SeqCst);
        self.face_cache.set(None);
    }

    /// Templates in the in-process cache, `None` when faces are searched in the
    /// database (no cache loaded yet, none fits the budget, or it was disabled).
    pub fn face_cache_size(&self) -> Option<usize> {
        self.face_cache.get().map(|s| s.matcher.len())
    }

    /// The cache, when one is loaded.
    pub(crate) fn cache(&self) -> Option<Arc<CacheState>> {
        self.face_cache.get()
    }

    /// The cache a face search or enrolment should use: the loaded one, else the
    /// default one, loaded now if this is the first face call of this gym and the
    /// gallery fits the budget (see `FaceOptions::cache_budget_bytes`).
    ///
    /// Loading at the first face call rather than at open: opening stays instant and
    /// needs no staff member, a gym that never sees a face never loads one, and the
    /// first check-in by face pays the load once (about a second per 100k templates).
    /// A failed load is logged and this call searches the database; the next call tries
    /// again.
    pub(crate) async fn search_cache(&self) -> Option<Arc<CacheState>> {
        if let Some(cache) = self.face_cache.get() {
            return Some(cache);
        }
        let budget = self.face.cache_budget_bytes;
        if budget == 0
            || self.store.searches_faces_in_process()
            || self.face_cache.off.load(Ordering::SeqCst)
        {
            return None;
        }
        let mut decided = self.face_cache.decided.lock().await;
        if *decided {
            return self.face_cache.get();
        }
        let fits = async {
            let mut tx = self.store.begin_read().await?;
            let templates = tx.count_face_templates().await?;
            Ok::<_, crate::Error>(int8_cache_bytes(templates) <= budget)
        };
        match fits.await {
            Ok(false) => {
                *decided = true;
                tracing::info!("face gallery over the cache budget; searching the database");
                return None;
            }
            Ok(true) => {}
            Err(e) => {
                tracing::warn!(
                    kind = e.kind(),
                    "face cache not loaded; searching the database"
                );
                return None;
            }
        }
        match self.load_face_cache(Precision::Int8).await {
            Ok(_) if self.face_cache.off.load(Ordering::SeqCst) => None,
            Ok(cache) => {
                tracing::info!(templates = cache.state.matcher.len(), "face cache loaded");
                self.face_cache.set(Some(cache));
                *decided = true;
                self.face_cache.get()
            }
            Err(e) => {
                tracing::warn!(
                    kind = e.kind(),
                    "face cache not loaded; searching the database"
                );
                None
            }
        }
    }

    /// Listens, loads, and starts following changes.
    async fn load_face_cache(&self, precision: Precision) -> Result<FaceCache> {
        // Listen first, then load: a change committed in between is replayed, never lost.
        let feed = self.store.biometric_changes().await?;
        let (matcher, mark) =
            CacheState::load(self.store.as_ref(), precision, self.face.policy).await?;
        let state = Arc::new(CacheState {
            matcher,
            base: AtomicI64::new(mark),
            precision,
            sync: tokio::sync::Mutex::new(()),
            from_memory: Default::default(),
        });
        let follower = tokio::spawn(follow(self.store.clone(), state.clone(), feed));
        Ok(FaceCache { state, follower })
    }
}
