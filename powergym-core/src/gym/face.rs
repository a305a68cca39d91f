//! Face use cases: consent, enrolment, erasure, identification and check-in by face.

use crate::domain::access::DenialReason;
use crate::domain::access::{Attendance, CheckInMethod, CheckInOutcome};
use crate::domain::consent::{BiometricConsent, ConsentInput, NewConsent};
use crate::domain::ids::ClientId;
use crate::domain::staff::{Action, Actor};
use crate::error::{Error, Result};
use crate::face::FaceMatcher;
use crate::face::{
    FaceEmbedding, FaceSearch, FaceTemplate, Identification, InMemoryMatcher, MatchPolicy,
    ScoredCandidate, ThumbnailKey, Unidentified, Verification,
};
use crate::gym::checkin::admit;
use crate::gym::{Gym, retrying};
use crate::store::{NewFaceTemplate, StoreTransaction};

/// Largest thumbnail accepted, before encryption. The original's thumbnails are 150×150
/// JPEGs of a few kilobytes; a megabyte is a photo sent by mistake.
pub const MAX_THUMBNAIL_BYTES: usize = 256 * 1024;

/// The default [`FaceOptions::cache_budget_bytes`]: 512 MiB, an int8 cache of about
/// 186,000 templates (2,878 bytes each, [`Precision::held_bytes_per_template`]).
///
/// [`Precision::held_bytes_per_template`]: crate::face::Precision::held_bytes_per_template
pub const DEFAULT_FACE_CACHE_BUDGET: u64 = 512 * 1024 * 1024;

/// How a gym matches faces.
#[derive(Debug, Clone)]
pub struct FaceOptions {
    /// The threshold and ambiguity margin.
    pub policy: MatchPolicy,
    /// How the PostgreSQL vector index is searched when the in-process cache is not
    /// used (budget 0, or a gallery over it).
    pub search: FaceSearch,
    /// The key thumbnails are sealed with. Without one, enrolment refuses thumbnails
    /// (templates still work).
    pub thumbnail_key: Option<ThumbnailKey>,
    /// Memory the in-process int8 face cache may take on PostgreSQL. At the first face
    /// search or enrolment a gym counts the active templates; if they fit (count ×
    /// 2,878 bytes, `Precision::held_bytes_per_template`), it loads them and from then
    /// on identifies in process (exact, about 1–2 ms at 100k) instead of in PostgreSQL.
    /// `0` turns the default cache off, so faces are searched in PostgreSQL: on the HNSW
    /// index if the operator built one (`Operations::rebuild_face_index`; approximate,
    /// 10–50 ms), else by an exact scan of every template. Choose that deliberately.
    /// [`Gym::enable_face_cache`](crate::Gym::enable_face_cache) loads a cache whatever
    /// the budget. SQLite ignores this: its store already searches in process.
    pub cache_budget_bytes: u64,
}

impl Default for FaceOptions {
    fn default() -> Self {
        Self {
            policy: MatchPolicy::default(),
            search: FaceSearch::default(),
            thumbnail_key: None,
            cache_budget_bytes: DEFAULT_FACE_CACHE_BUDGET,
        }
    }
}

/// What happened at the door when a face was shown.
#[derive(Debug, Clone, PartialEq)]
pub enum FaceCheckIn {
    /// Identified and admitted; the attendance was recorded.
    Granted {
        /// The recorded attendance.
        attendance: Attendance,
        /// Who matched, how closely.
        candidate: ScoredCandidate,
    },
    /// Identified but refused for a business reason (recorded).
    Denied {
        /// Who matched.
        candidate: ScoredCandidate,
        /// Why they may not enter.
        reason: DenialReason,
    },
    /// Nobody within the threshold (recorded without a member).
    NoMatch,
    /// Two members too close to tell apart (recorded without a member): check in by
    /// document instead.
    Ambiguous,
}

impl Gym {
    /// Records a member's consent to face check-in. A minor (a `TI` holder or anyone
    /// under 18) needs a guardian's consent in the same record.
    pub async fn record_biometric_consent(
        &self,
        actor: &Actor,
        client: ClientId,
        input: ConsentInput,
    ) -> Result<BiometricConsent> {
        self.bounded(async move {
            let (now, today) = self.now();
            let mut tx = self.begin_as(actor, Action::ManageFaces).await?;
            let member = tx.lock_client(client).await?;
            let consent = NewConsent::parse(&member, input, now, today)?;
            let stored = tx.insert_consent(&consent, actor.username()).await?;
            tx.commit().await?;
            tracing::info!(client_id = %client, "biometric consent recorded");
            Ok(stored)
        })
        .await
    }

    /// Withdraws a member's consent. Their face template and thumbnail are erased in
    /// the same transaction; check-in by document keeps working.
    pub async fn withdraw_biometric_consent(
        &self,
        actor: &Actor,
        client: ClientId,
    ) -> Result<BiometricConsent> {
        self.bounded(async move {
            let (now, _) = self.now();
            let mut tx = self.begin_as(actor, Action::ManageFaces).await?;
            tx.lock_client(client).await?;
            let withdrawn = tx
                .withdraw_consent(client, now, actor.username())
                .await?
                .ok_or(Error::NotFound {
                    entity: "biometric consent",
                })?;
            tx.commit().await?;
            self.cache_changed(client, None).await?;
            tracing::info!(client_id = %client, "biometric consent withdrawn, templates erased");
            Ok(withdrawn)
        })
        .await
    }

    /// Every consent a member gave, newest first (the audit trail).
    pub async fn biometric_consents(
        &self,
        actor: &Actor,
        client: ClientId,
    ) -> Result<Vec<BiometricConsent>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManageFaces).await?;
            tx.client_by_id(client).await?;
            tx.consents(client).await
        })
        .await
    }

    /// Enrols a member's face, replacing any template they had, atomically. Needs the
    /// member's recorded consent; refuses a face already enrolled for another member
    /// (`AlreadyExists`, naming no one). The thumbnail, if given, is sealed with the
    /// configured key and bound to the new row.
    pub async fn enroll_face(
        &self,
        actor: &Actor,
        client: ClientId,
        embedding: &FaceEmbedding,
        thumbnail_jpeg: Option<&[u8]>,
    ) -> Result<FaceTemplate> {
        self.bounded(async move {
            let id = uuid::Uuid::new_v4();
            let sealed_thumbnail = match thumbnail_jpeg {
                None => None,
                Some([]) => return Err(Error::validation("thumbnail", "must not be empty")),
                Some(jpeg) if jpeg.len() > MAX_THUMBNAIL_BYTES => {
                    return Err(Error::validation(
                        "thumbnail",
                        format!("must be at most {MAX_THUMBNAIL_BYTES} bytes"),
                    ));
                }
                Some(jpeg) => Some(self.thumbnail_key()?.seal(jpeg, id, client)),
            };
            let template = NewFaceTemplate {
                id,
                client_id: client,
                embedding: embedding.clone(),
                sealed_thumbnail,
                enrolled_by: Some(actor.username().to_owned()),
                consent_id: None,
            };
            // Before the transaction: a first load takes connections of its own.
            let cache = self.search_cache().await;
            let mut tx = self.begin_as(actor, Action::ManageFaces).await?;
            let stored =
                enroll_in(tx.as_mut(), &template, &self.face.policy, cache.as_deref()).await?;
            tx.commit().await?;
            self.cache_changed(client, Some(embedding)).await?;
            tracing::info!(client_id = %client, "face enrolled");
            Ok(stored)
        })
        .await
    }

    /// Deletes a member's face template and thumbnail (erasure, not a flag). Returns
    /// whether there was one. Their consent record stays; withdraw it to stop future
    /// enrolments.
    pub async fn remove_face(&self, actor: &Actor, client: ClientId) -> Result<bool> {
        self.bounded(async move {
            let mut tx = self.begin_as(actor, Action::ManageFaces).await?;
            tx.lock_client(client).await?;
            let removed = tx.delete_face_templates(client).await?;
            tx.commit().await?;
            self.cache_changed(client, None).await?;
            if removed > 0 {
                tracing::info!(client_id = %client, "face template erased");
            }
            Ok(removed > 0)
        })
        .await
    }

    /// The member's active template (without its vector), if any.
    pub async fn face_template(
        &self,
        actor: &Actor,
        client: ClientId,
    ) -> Result<Option<FaceTemplate>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManageFaces).await?;
            tx.client_by_id(client).await?;
            Ok(tx.face_template(client).await?.map(|(t, _)| t))
        })
        .await
    }

    /// The member's thumbnail, decrypted, if one is stored.
    pub async fn face_thumbnail(&self, actor: &Actor, client: ClientId) -> Result<Option<Vec<u8>>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManageFaces).await?;
            tx.client_by_id(client).await?;
            match tx.sealed_thumbnail(client).await? {
                Some((row, sealed)) => Ok(Some(self.thumbnail_key()?.open(&sealed, row, client)?)),
                None => Ok(None),
            }
        })
        .await
    }

    /// Who this face belongs to (1:N), under the gym's policy.
    pub async fn identify_face(
        &self,
        actor: &Actor,
        probe: &FaceEmbedding,
    ) -> Result<Identification> {
        self.bounded(async move {
            // Before any transaction: a first load takes connections of its own.
            if let Some(cache) = self.search_cache().await
                && let Some(found) = self.identify_face_cached(actor, probe, &cache).await?
            {
                return Ok(found);
            }
            let mut tx = self.begin_read_as(actor, Action::CheckIn).await?;
            self.identify_in(tx.as_mut(), probe).await
        })
        .await
    }

    /// Whether this face is this member (1:1); `NotFound` when they have no template.
    pub async fn verify_face(
        &self,
        actor: &Actor,
        client: ClientId,
        probe: &FaceEmbedding,
    ) -> Result<Verification> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::CheckIn).await?;
            let (_, template) = tx.face_template(client).await?.ok_or(Error::NotFound {
                entity: "face template",
            })?;
            let candidate = ScoredCandidate::new(client, template.distance(probe));
            Ok(Verification {
                matched: self.face.policy.verifies(candidate.distance),
                candidate,
            })
        })
        .await
    }

    /// Checks in whoever this face belongs to: identification, the access decision and
    /// the attendance in one transaction. Every outcome is recorded; `NoMatch` and
    /// `Ambiguous` name no one.
    ///
    /// The matched member's row is locked and their template re-checked under the lock,
    /// so a template replaced or erased a moment earlier never admits anyone.
    pub async fn check_in_by_face(
        &self,
        actor: &Actor,
        probe: &FaceEmbedding,
    ) -> Result<FaceCheckIn> {
        self.bounded(async move {
            // Before any transaction: a first load takes connections of its own.
            if let Some(cache) = self.search_cache().await {
                match self.check_in_by_face_cached(actor, probe, &cache).await {
                    Ok(Some(done)) => return Ok(done),
                    // The database's rows did not confirm the cache's answer, or a race
                    // was lost: the general path below decides, with its retries.
                    Ok(None) | Err(Error::Contention { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            // The member matched by the last attempt, for the lost-race record below.
            let matched = std::sync::Mutex::new(None);
            let outcome = retrying(|| async {
                let (now, today) = self.now();
                let mut tx = self.begin_as(actor, Action::CheckIn).await?;
                let refusal = match self.identify_in(tx.as_mut(), probe).await? {
                    Identification::Match(candidate) => {
                        let member = tx.lock_client(candidate.client_id).await?;
                        let current = tx.face_template(candidate.client_id).await?;
                        match current {
                            Some((_, t)) if self.face.policy.verifies(t.distance(probe)) => {
                                *matched.lock().unwrap_or_else(|e| e.into_inner()) =
                                    Some(candidate);
                                let outcome = admit(
                                    tx.as_mut(),
                                    actor,
                                    &member,
                                    CheckInMethod::Face,
                                    now,
                                    today,
                                )
                                .await?;
                                tx.commit().await?;
                                return Ok(match outcome {
                                    CheckInOutcome::Granted(attendance) => FaceCheckIn::Granted {
                                        attendance,
                                        candidate,
                                    },
                                    CheckInOutcome::Denied(reason) => {
                                        FaceCheckIn::Denied { candidate, reason }
                                    }
                                });
                            }
                            // Replaced or erased between the search and the lock.
                            _ => Unidentified::NoMatch,
                        }
                    }
                    Identification::NoMatch => Unidentified::NoMatch,
                    Identification::Ambiguous { .. } => Unidentified::Ambiguous,
                };
                tx.insert_face_refusal(refusal, now, today, actor.username())
                    .await?;
                tx.commit().await?;
                Ok(match refusal {
                    Unidentified::NoMatch => FaceCheckIn::NoMatch,
                    Unidentified::Ambiguous => FaceCheckIn::Ambiguous,
                })
            })
            .await;
            match outcome {
                Err(Error::AccessDenied(reason)) => {
                    let candidate = matched
                        .into_inner()
                        .unwrap_or_else(|e| e.into_inner())
                        .ok_or(Error::AccessDenied(reason))?;
                    self.record_lost_race(actor, candidate.client_id, reason, CheckInMethod::Face)
                        .await?;
                    Ok(FaceCheckIn::Denied { candidate, reason })
                }
                other => other,
            }
        })
        .await
    }

    /// Loads every active template into an exact in-process matcher with this gym's
    /// policy: a search cache, or the gallery of an offline device.
    pub async fn load_face_matcher(
        &self,
        actor: &Actor,
        gallery: crate::face::Gallery,
    ) -> Result<InMemoryMatcher> {
        self.bounded(async move {
            drop(self.begin_read_as(actor, Action::ManageFaces).await?);
            InMemoryMatcher::load(self.store.as_ref(), gallery, self.face.policy).await
        })
        .await
    }

    /// Who `probe` is: through the in-process cache when enabled, else the vector
    /// index. A match the cache proposes is re-read from the database; if that template
    /// is gone or no longer matches, the database search decides instead.
    async fn identify_in(
        &self,
        tx: &mut dyn StoreTransaction,
        probe: &FaceEmbedding,
    ) -> Result<Identification> {
        if let Some(cache) = self.cache() {
            let decision = self
                .face
                .policy
                .decide(&cache.nearest_two(tx, probe).await?);
            let Identification::Match(c) = decision else {
                return Ok(decision);
            };
            if let Some((_, t)) = tx.face_template(c.client_id).await?
                && self.face.policy.verifies(t.distance(probe))
            {
                return Ok(decision);
            }
        }
        let policy = &self.face.policy;
        let ranked = tx
            .nearest_faces(probe, 2, policy.max_distance(), None, self.face.search)
            .await?;
        Ok(self.face.policy.decide(&ranked))
    }

    /// Brings this process's cache up to date at once after a committed change (other
    /// processes hear of it through the database).
    async fn cache_changed(&self, client: ClientId, now: Option<&FaceEmbedding>) -> Result<()> {
        if let Some(cache) = self.cache() {
            match now {
                Some(e) => cache.matcher.enroll(client, e).await?,
                None => {
                    cache.matcher.remove(client).await?;
                }
            }
        }
        Ok(())
    }

    fn thumbnail_key(&self) -> Result<&ThumbnailKey> {
        self.face.thumbnail_key.as_ref().ok_or(Error::validation(
            "thumbnail_key",
            "no thumbnail key is configured (GymOptions.face.thumbnail_key); \
             thumbnails cannot be stored or read without one",
        ))
    }
}

/// Enrols `template` inside `tx`; the caller commits. The one enrolment procedure every
/// path takes (the staff use case and `PgVectorMatcher::enroll`): consent, duplicate
/// check, then an atomic replacement of the member's template.
///
/// The member's row is locked first (the order every use case takes), then enrolments
/// are serialised so two members cannot register the same face past each other's
/// duplicate check. The duplicate check is exact, since a missed duplicate would let one
/// face open two memberships: through the in-process `cache` when one is loaded (its
/// gallery scanned exactly, templates changed since its mark and the members it proposes
/// read from their rows: milliseconds at 100k), else a full scan in the database.
pub(crate) async fn enroll_in(
    tx: &mut dyn StoreTransaction,
    template: &NewFaceTemplate,
    policy: &MatchPolicy,
    cache: Option<&crate::gym::face_cache::CacheState>,
) -> Result<FaceTemplate> {
    let client = tx.lock_client(template.client_id).await?;
    if !client.is_active {
        return Err(Error::validation(
            "client_id",
            "the client is inactive; reactivate them before enrolling a face",
        ));
    }
    let Some(consent) = tx.active_consent(template.client_id).await? else {
        return Err(Error::ConsentRequired { guardian: false });
    };
    // Named, the database checks the consent once per statement and takes no lock on
    // it: the member's row, held since above, is what a withdrawal waits for.
    let template = &NewFaceTemplate {
        consent_id: Some(consent.id),
        ..template.clone()
    };
    tx.lock_face_enrolment().await?;
    let duplicate = match cache {
        Some(cache) => {
            crate::gym::face_bulk::cached_duplicate(
                tx,
                cache,
                template.client_id,
                &template.embedding,
                *policy,
            )
            .await?
        }
        None => tx
            .nearest_faces(
                &template.embedding,
                1,
                policy.max_distance(),
                Some(template.client_id),
                FaceSearch::Exact,
            )
            .await?
            .first()
            .is_some_and(|c| policy.verifies(c.distance)),
    };
    if duplicate {
        // Names no one: the other member's identity is not the enroller's business.
        return Err(Error::AlreadyExists {
            entity: "face",
            field: "embedding",
        });
    }
    tx.replace_face_template(template).await
}
