//! Bulk enrolment: many members' templates at once, with the rules of a single
//! enrolment (consent in force, an active member, no face enrolled twice) checked set-wise
//! and the duplicate search done in process, the rows written in bulk.
//!
//! The order of work overlaps the two long parts, the batch's duplicate scans (the
//! process's cores) and the writing of its rows (the store's). Every embedding is
//! validated first. Then the scans start on a blocking thread, the batch against itself
//! and against the gallery as of a change mark (the in-process cache when one is loaded,
//! else the gallery read once), and meanwhile, in one transaction, the members are
//! locked and checked, enrolments are serialised (`lock_face_enrolment`), the templates
//! changed since the mark are read, and the rows of members who have no biometric row
//! yet are written. When the scans end, the changed templates are compared with the
//! batch, a template the scan proposed as a duplicate is re-read (it may have been
//! erased since), a written row found to be a duplicate is deleted again (its member had
//! nothing to restore), the rows that replace a template are written, and the
//! transaction commits. So the check is exact and no concurrent enrolment can slip a
//! duplicate past it, as with [`Gym::enroll_face`], and a refused item leaves nothing.

use std::collections::{HashMap, HashSet};

use crate::domain::ids::ClientId;
use crate::domain::staff::{Action, Actor};
use crate::error::{Error, Result};
use crate::face::{EMBEDDING_DIM, FaceEmbedding, Gallery, MatchPolicy, Precision};
use crate::gym::Gym;
use crate::gym::face_cache::CacheState;
use crate::store::{FaceEnrolee, NewFaceTemplate, StoreTransaction};

/// Most templates one [`Gym::enroll_faces`] call takes: 200,000 rows are 400 MB of
/// `f32` input, plus the batch's own gallery. Larger imports go in several calls.
pub const MAX_BULK_ENROLMENT: usize = 200_000;

/// Why one item of a bulk enrolment was not enrolled. Names no one: a duplicate says
/// that the face is already someone's, never whose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BulkRefusal {
    /// Not 512 finite values with a non-zero norm.
    InvalidEmbedding,
    /// The same member appears more than once in the batch (every occurrence is refused:
    /// which one is meant is not for the library to guess).
    RepeatedClient,
    /// No member has this id.
    UnknownClient,
    /// The member is inactive; reactivate them first.
    Inactive,
    /// The member has no biometric consent in force.
    NoConsent,
    /// Another item of the batch, for another member, is the same face (both are
    /// refused).
    DuplicateInBatch,
    /// The face is already enrolled for another member.
    DuplicateOfEnrolled,
}

impl BulkRefusal {
    /// Stable snake_case code, as the bindings report it.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidEmbedding => "invalid_embedding",
            Self::RepeatedClient => "repeated_client",
            Self::UnknownClient => "unknown_client",
            Self::Inactive => "inactive",
            Self::NoConsent => "no_consent",
            Self::DuplicateInBatch => "duplicate_in_batch",
            Self::DuplicateOfEnrolled => "duplicate_of_enrolled",
        }
    }
}

/// What a bulk enrolment did with each item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkEnrolment {
    /// One entry per item, in the order given: `None` when the item was enrolled, else
    /// why it was not.
    pub outcomes: Vec<Option<BulkRefusal>>,
    /// How many items were enrolled.
    pub enrolled: usize,
}

impl BulkEnrolment {
    /// The refused items: `(index in the batch, reason)`.
    pub fn refused(&self) -> impl Iterator<Item = (usize, BulkRefusal)> + '_ {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|r| (i, r)))
    }
}

/// How far a bulk enrolment has got: `done` of `total` items are refused or written to
/// the store (not yet committed). A written item may still be refused when the
/// duplicate scans end; its row is then deleted, and it stays counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkProgress {
    /// Items decided so far.
    pub done: usize,
    /// Items in the batch.
    pub total: usize,
}

impl Gym {
    /// Enrols many members' faces at once: `clients[i]`'s embedding is
    /// `embeddings[i*512..(i+1)*512]` (one flat buffer, as the bindings pass it).
    /// Replaces any template a member had, like [`Gym::enroll_face`], under the same
    /// rules, checked for the whole batch at once: each member must exist, be active and
    /// have a consent in force, and no face may be enrolled for two members (the same
    /// threshold as [`Gym::enroll_face`], exact, within the batch and against every
    /// enrolled face).
    ///
    /// **Per item, then all at once.** Every item is either enrolled or refused with a
    /// [`BulkRefusal`] (the reasons are checked in that enum's order; a near-duplicate
    /// pair in the batch refuses both items whatever else is wrong with either). The
    /// accepted items are written in one transaction: all of them or, if the write
    /// fails (the store's own guards, a lost connection), none, with the error returned.
    /// A refused item leaves nothing: the rows of members with no biometric row yet are
    /// written while the duplicate scans run, and one they then refuse is deleted again,
    /// with its trace in SQLite's change log, before the commit. Other enrolments (on
    /// SQLite, every write to the file) wait for the transaction, the scans included:
    /// about half a second for 10,000 against 100,000 templates, several seconds for a
    /// first import of 100,000.
    ///
    /// No thumbnails: each is sealed for its own row and a bulk import comes from
    /// template exports, not photos; enrol a member singly to store one.
    ///
    /// `progress` hears how many items are decided as the work goes. A large batch is
    /// not bound by the call timeout (`GymOptions::call_timeout`), nor by the pool's
    /// statement timeout: 100,000 templates take about 7 s (`benches/README.md`). Where
    /// an operator built the HNSW index on PostgreSQL (`rebuild_face_index`), each
    /// template also goes into it (tens of milliseconds each), except that a first
    /// import of 10,000 or more into an empty gallery builds it after the rows (the
    /// templates table is locked until the import commits).
    pub async fn enroll_faces(
        &self,
        actor: &Actor,
        clients: &[ClientId],
        embeddings: &[f32],
        progress: &mut (dyn FnMut(BulkProgress) + Send),
    ) -> Result<BulkEnrolment> {
        let total = clients.len();
        if embeddings.len() != total.saturating_mul(EMBEDDING_DIM) {
            return Err(Error::validation(
                "embeddings",
                format!(
                    "must hold {EMBEDDING_DIM} values per client: {total} clients need {}, got {}",
                    total.saturating_mul(EMBEDDING_DIM),
                    embeddings.len()
                ),
            ));
        }
        if total > MAX_BULK_ENROLMENT {
            return Err(Error::validation(
                "clients",
                format!("at most {MAX_BULK_ENROLMENT} members per call; split the batch"),
            ));
        }
        drop(self.begin_read_as(actor, Action::ManageFaces).await?);
        let policy = self.face.policy;
        let mut outcomes: Vec<Option<BulkRefusal>> = vec![None; total];
        let mut faces: Vec<Option<FaceEmbedding>> = Vec::with_capacity(total);
        for (i, row) in embeddings.chunks_exact(EMBEDDING_DIM).enumerate() {
            match FaceEmbedding::from_slice(row) {
                Ok(e) => faces.push(Some(e)),
                Err(_) => {
                    faces.push(None);
                    outcomes[i] = Some(BulkRefusal::InvalidEmbedding);
                }
            }
        }
        let mut seen: HashMap<ClientId, usize> = HashMap::with_capacity(total);
        for c in clients {
            *seen.entry(*c).or_default() += 1;
        }
        refuse_where(&mut outcomes, BulkRefusal::RepeatedClient, |i| {
            seen[&clients[i]] > 1
        });

        // The batch against itself and against the gallery as of `mark`: both scans run
        // on a blocking thread while the transaction below locks, checks and writes.
        let (pending, probes) = pending_probes(&outcomes, &faces);
        let owners: Vec<ClientId> = pending.iter().map(|&i| clients[i]).collect();
        let (mark, scan) = self
            .start_scans(owners.clone(), probes.clone(), policy)
            .await?;
        progress(BulkProgress {
            done: outcomes.iter().filter(|o| o.is_some()).count(),
            total,
        });

        let by = actor.username().to_owned();
        let template = |p: usize, consent: Option<uuid::Uuid>| NewFaceTemplate {
            id: uuid::Uuid::new_v4(),
            client_id: owners[p],
            embedding: probes[p].clone(),
            sealed_thumbnail: None,
            enrolled_by: Some(by.clone()),
            consent_id: consent,
        };
        let write = async {
            let mut tx = self.begin_as(actor, Action::ManageFaces).await?;
            let mut wanted: Vec<ClientId> = owners.clone();
            wanted.sort_unstable_by_key(|c| c.as_uuid());
            let enrolees: HashMap<ClientId, FaceEnrolee> = tx
                .lock_face_enrolees(&wanted)
                .await?
                .into_iter()
                .map(|e| (e.client_id, e))
                .collect();
            for &i in &pending {
                outcomes[i] = match enrolees.get(&clients[i]) {
                    None => Some(BulkRefusal::UnknownClient),
                    Some(e) if !e.is_active => Some(BulkRefusal::Inactive),
                    Some(e) if e.consent.is_none() => Some(BulkRefusal::NoConsent),
                    Some(_) => None,
                };
            }
            tx.lock_face_enrolment().await?;
            let changed = tx.face_templates_changed_since(mark).await?;
            let written_after = tx.face_change_mark().await?;
            // Members with no biometric row are written now, before the scans' verdict:
            // a late refusal deletes what was written and leaves them as they were. A
            // member being re-enrolled waits for the verdict, since writing their new row
            // deletes the old one.
            let (early, later): (Vec<usize>, Vec<usize>) = (0..pending.len())
                .filter(|&p| outcomes[pending[p]].is_none())
                .partition(|&p| !enrolees[&owners[p]].has_biometrics);
            let early: Vec<NewFaceTemplate> = early
                .into_iter()
                .map(|p| template(p, enrolees[&owners[p]].consent))
                .collect();
            let refused = outcomes.iter().filter(|o| o.is_some()).count();
            tx.insert_face_templates(&early, &mut |sent| {
                progress(BulkProgress {
                    done: refused + sent as usize,
                    total,
                })
            })
            .await?;
            Ok::<_, Error>((tx, enrolees, changed, written_after, early, later))
        };
        // A failed write returns at once; the scans, left alone, end on their own.
        let ((twins, hits), (mut tx, enrolees, changed, written_after, early, later)) =
            tokio::try_join!(joined(scan), write)?;
        // Whatever else is wrong with either item of a pair.
        for (p, c) in owners.iter().enumerate() {
            if twins.contains(c) {
                outcomes[pending[p]] = Some(BulkRefusal::DuplicateInBatch);
            }
        }
        let mut proposed = vec![Vec::new(); owners.len()];
        for (p, c) in hits {
            if c.client_id != owners[p] {
                proposed[p].push(c.client_id);
            }
        }

        let undecided = |outcomes: &[Option<BulkRefusal>], p: usize| outcomes[pending[p]].is_none();
        let eligible: Vec<usize> = (0..pending.len())
            .filter(|&p| undecided(&outcomes, p))
            .collect();
        // A proposed member who is in the batch and whose template was erased since the
        // mark is re-read as the row written above; any probe within the threshold of it
        // was refused with its pair already.
        let duplicates = duplicates_given_changes(
            tx.as_mut(),
            &changed,
            eligible
                .iter()
                .map(|&p| (owners[p], &probes[p], proposed[p].as_slice()))
                .collect(),
            policy,
        )
        .await?;
        for (&p, duplicate) in eligible.iter().zip(duplicates) {
            if duplicate {
                outcomes[pending[p]] = Some(BulkRefusal::DuplicateOfEnrolled);
            }
        }
        // Rows written for members refused since, by their pair or by the gallery.
        let refused_now: HashSet<ClientId> = (0..pending.len())
            .filter(|&p| !undecided(&outcomes, p))
            .map(|p| owners[p])
            .collect();
        let (discarded, mut accepted): (Vec<NewFaceTemplate>, Vec<NewFaceTemplate>) = early
            .into_iter()
            .partition(|t| refused_now.contains(&t.client_id));
        let discarded: Vec<(uuid::Uuid, ClientId)> =
            discarded.iter().map(|t| (t.id, t.client_id)).collect();
        tx.discard_face_templates(&discarded, written_after).await?;
        let replacing: Vec<NewFaceTemplate> = later
            .into_iter()
            .filter(|&p| undecided(&outcomes, p))
            .map(|p| template(p, enrolees[&owners[p]].consent))
            .collect();
        let before = total - replacing.len();
        tx.insert_face_templates(&replacing, &mut |sent| {
            progress(BulkProgress {
                done: before + sent as usize,
                total,
            })
        })
        .await?;
        accepted.extend(replacing);
        let refused = total - accepted.len();
        // Held across the commit when it is free: the follower hears of the batch at
        // once and would otherwise read it all back before this call catches up from
        // memory. Never waited for here, while this transaction holds its locks.
        let cache = self.cache();
        let held = cache.as_ref().and_then(|c| c.try_hold());
        tx.commit().await?;
        let held = match (&cache, held) {
            (Some(_), Some(held)) => Some(held),
            (Some(cache), None) => Some(cache.hold().await),
            (None, _) => None,
        };
        if let (Some(cache), Some(held)) = (&cache, &held) {
            let known: Vec<(ClientId, uuid::Uuid, &FaceEmbedding)> = accepted
                .iter()
                .map(|t| (t.client_id, t.id, &t.embedding))
                .collect();
            if let Err(e) = cache
                .catch_up_held(held, self.store.as_ref(), None, &known)
                .await
            {
                // The follower catches up on its own when it hears of the changes;
                // until then each search scores the batch from its rows.
                tracing::warn!(
                    kind = e.kind(),
                    "face cache update after a bulk enrolment failed"
                );
            }
        }
        drop(held);
        tracing::info!(enrolled = accepted.len(), refused, "faces enrolled in bulk");
        progress(BulkProgress { done: total, total });
        Ok(BulkEnrolment {
            outcomes,
            enrolled: accepted.len(),
        })
    }

    /// The change mark of the gallery the batch is compared with, and the batch's two
    /// scans started on a blocking thread (each splits across the cores): the pairs of
    /// its own items within the threshold (the members of each), and every template of
    /// the gallery within the threshold of each probe, as `(probe index, candidate)`.
    /// The gallery is the cache's when one is loaded, else every template read now (the
    /// mark is read first). `owners[i]` is `probes[i]`'s member, each once.
    async fn start_scans(
        &self,
        owners: Vec<ClientId>,
        probes: Vec<FaceEmbedding>,
        policy: MatchPolicy,
    ) -> Result<(i64, Scans)> {
        let max = policy.max_distance();
        let twins = move |owners: &[ClientId], probes: &[FaceEmbedding]| {
            int8_gallery(owners.iter().copied().zip(probes))
                .close_pairs(max)
                .into_iter()
                .flat_map(|(a, b, _)| [a, b])
                .collect::<HashSet<ClientId>>()
        };
        if probes.is_empty() {
            let mark = self.store.begin_read().await?.face_change_mark().await?;
            return Ok((mark, spawned(|| (HashSet::new(), Vec::new()))));
        }
        let (mark, gallery) = match self.search_cache().await {
            Some(cache) => (cache.mark(), ScanGallery::Cache(cache)),
            None => {
                let mark = self.store.begin_read().await?.face_change_mark().await?;
                let loaded = crate::face::InMemoryMatcher::load(
                    self.store.as_ref(),
                    Gallery::with_precision(Precision::Int8),
                    policy,
                )
                .await?;
                (mark, ScanGallery::Loaded(Box::new(loaded)))
            }
        };
        let scans = spawned(move || {
            let pairs = twins(&owners, &probes);
            let matcher = match &gallery {
                ScanGallery::Cache(cache) => &cache.matcher,
                ScanGallery::Loaded(loaded) => loaded,
            };
            (pairs, matcher.read_gallery(|g| g.within(&probes, max)))
        });
        Ok((mark, scans))
    }
}

/// The gallery a bulk enrolment is compared with.
enum ScanGallery {
    /// The in-process cache.
    Cache(std::sync::Arc<CacheState>),
    /// Read for this call.
    Loaded(Box<crate::face::InMemoryMatcher>),
}

/// The batch's scans under way: the members of its own items that pair within the
/// threshold, and `(probe index, candidate)` for every template of the gallery within
/// the threshold of a probe.
type Scans = tokio::task::JoinHandle<(
    HashSet<ClientId>,
    Vec<(usize, crate::face::ScoredCandidate)>,
)>;

/// Whether each probe's face is enrolled for another member, decided inside `tx` after
/// `lock_face_enrolment`: the templates changed since `mark` are compared from their
/// current rows, and each member the gallery (as of `mark`) proposed is re-read, since
/// their template may have been replaced or erased since. Exact and race-free: every
/// enrolment committed before the lock is either in the gallery or changed since the
/// mark, and every later one waits for this transaction.
///
/// Each probe is `(its owner, its face, members the gallery found within the
/// threshold)`.
pub(crate) async fn enrolled_duplicates(
    tx: &mut dyn StoreTransaction,
    mark: i64,
    probes: Vec<(ClientId, &FaceEmbedding, &[ClientId])>,
    policy: MatchPolicy,
) -> Result<Vec<bool>> {
    let changed = tx.face_templates_changed_since(mark).await?;
    duplicates_given_changes(tx, &changed, probes, policy).await
}

/// [`enrolled_duplicates`] with the templates changed since the mark already read (inside
/// `tx`, after `lock_face_enrolment`).
async fn duplicates_given_changes(
    tx: &mut dyn StoreTransaction,
    changed: &[(ClientId, FaceEmbedding)],
    probes: Vec<(ClientId, &FaceEmbedding, &[ClientId])>,
    policy: MatchPolicy,
) -> Result<Vec<bool>> {
    let changed_ids: HashSet<ClientId> = changed.iter().map(|(c, _)| *c).collect();
    let mut duplicate = vec![false; probes.len()];
    if !changed.is_empty() && !probes.is_empty() {
        let recent = int8_gallery(changed.iter().map(|(c, e)| (*c, e)));
        let faces: Vec<FaceEmbedding> = probes.iter().map(|(_, e, _)| (*e).clone()).collect();
        for (p, c) in recent.within(&faces, policy.max_distance()) {
            if c.client_id != probes[p].0 {
                duplicate[p] = true;
            }
        }
    }
    let mut current: HashMap<ClientId, Option<FaceEmbedding>> = HashMap::new();
    for (p, (_, face, proposed)) in probes.iter().enumerate() {
        for other in proposed.iter().filter(|c| !changed_ids.contains(c)) {
            if duplicate[p] {
                break;
            }
            let now = match current.get(other) {
                Some(now) => now.clone(),
                None => {
                    let now = tx.face_template(*other).await?.map(|(_, e)| e);
                    current.insert(*other, now.clone());
                    now
                }
            };
            duplicate[p] = now.is_some_and(|e| policy.verifies(e.distance(face)));
        }
    }
    Ok(duplicate)
}

/// The duplicate check of a single enrolment through the cache: the cache's gallery
/// scanned exactly for templates within the threshold, then [`enrolled_duplicates`].
/// Call after `lock_face_enrolment`.
pub(crate) async fn cached_duplicate(
    tx: &mut dyn StoreTransaction,
    cache: &CacheState,
    owner: ClientId,
    face: &FaceEmbedding,
    policy: MatchPolicy,
) -> Result<bool> {
    let mark = cache.mark();
    let proposed: Vec<ClientId> = cache
        .matcher
        .read_gallery(|g| g.within(std::slice::from_ref(face), policy.max_distance()))
        .into_iter()
        .map(|(_, c)| c.client_id)
        .filter(|c| *c != owner)
        .collect();
    let found = enrolled_duplicates(tx, mark, vec![(owner, face, &proposed)], policy).await?;
    Ok(found.first().copied().unwrap_or(false))
}

/// A gallery of these members' faces at int8, what the duplicate scans compare with.
fn int8_gallery<'a>(
    faces: impl ExactSizeIterator<Item = (ClientId, &'a FaceEmbedding)>,
) -> Gallery {
    let mut gallery = Gallery::with_precision(Precision::Int8);
    gallery.reserve(faces.len());
    for (c, e) in faces {
        gallery.upsert(c, e);
    }
    gallery
}

/// Refuses with `reason` every undecided item for which `when` holds.
fn refuse_where(
    outcomes: &mut [Option<BulkRefusal>],
    reason: BulkRefusal,
    when: impl Fn(usize) -> bool,
) {
    for (i, o) in outcomes.iter_mut().enumerate() {
        if o.is_none() && when(i) {
            *o = Some(reason);
        }
    }
}

/// The undecided items' indexes and faces.
fn pending_probes(
    outcomes: &[Option<BulkRefusal>],
    faces: &[Option<FaceEmbedding>],
) -> (Vec<usize>, Vec<FaceEmbedding>) {
    outcomes
        .iter()
        .zip(faces)
        .enumerate()
        .filter_map(|(i, (o, f))| match (o, f) {
            (None, Some(f)) => Some((i, f.clone())),
            _ => None,
        })
        .unzip()
}

/// Starts a CPU-bound scan off the async workers; it runs whether or not it is awaited.
fn spawned<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    tokio::task::spawn_blocking(work)
}

/// The result of a scan [`spawned`] earlier.
async fn joined<T>(scan: tokio::task::JoinHandle<T>) -> Result<T> {
    scan.await.map_err(|e| Error::Database {
        code: None,
        message: format!("a face scan did not finish: {e}"),
    })
}
