//! The face check-in and identification through the in-process cache.
//!
//! The check-in takes four round trips: its `BEGIN` is sent and the cache scanned while
//! it travels, then one statement authorises, returns the templates changed since the
//! cache's mark and, for the member the cache proposes, locks their row and reads their
//! current template and what the access decision needs
//! ([`StoreTransaction::face_check_in_context`]); then the attendance or the refusal,
//! and the commit. The identification takes one: the scan, then one statement outside
//! any transaction ([`Store::face_identify_context`]).
//!
//! Either answers only when the database's rows confirm the cache's proposal: the
//! changed templates, scored from their rows, leave the decision as proposed, and a
//! proposed member's template, read by the same statement, still matches the probe.
//! Otherwise it hands the call back (`None`) to the general path, which searches again
//! inside its transaction. A stale cache therefore costs speed, never a wrong answer.
//!
//! [`StoreTransaction::face_check_in_context`]: crate::store::StoreTransaction::face_check_in_context
//! [`Store::face_identify_context`]: crate::store::Store::face_identify_context

use crate::domain::access::{CheckInMethod, CheckInOutcome};
use crate::domain::staff::{Action, Actor};
use crate::error::{Error, Result};
use crate::face::{FaceEmbedding, Identification, Unidentified};
use crate::gym::checkin::admit_in_context;
use crate::gym::face_cache::CacheState;
use crate::gym::{FaceCheckIn, Gym, permitted};

impl Gym {
    /// [`Gym::check_in_by_face`] through `cache`; `None` when the database's rows do not
    /// confirm the cache's answer and the general path must decide.
    pub(crate) async fn check_in_by_face_cached(
        &self,
        actor: &Actor,
        probe: &FaceEmbedding,
        cache: &CacheState,
    ) -> Result<Option<FaceCheckIn>> {
        let policy = &self.face.policy;
        // The mark first: a change committed after it is among the rows read below.
        let mark = cache.base_mark();
        // The BEGIN is sent first and its round trip passes while the gallery is
        // scanned: both run on this task, and `join!` polls the BEGIN first, which
        // writes it to the server before the scan holds the thread.
        let (tx, ranked) = tokio::join!(self.store.begin(), cache.rank_with(probe, &[]));
        let mut tx = tx?;
        let proposal = policy.decide(&ranked?);
        let proposed = proposal.member();
        let (now, today) = self.now();
        let context = tx
            .face_check_in_context(actor.username(), mark, proposed, today)
            .await?;
        permitted(context.staff.as_ref(), Action::CheckIn)?;
        let decision = self
            .with_changes(cache, probe, proposal, &context.changed)
            .await?;
        let refusal = match decision {
            Identification::Match(candidate) if Some(candidate.client_id) == proposed => {
                let Some((member, Some(template))) = context.member else {
                    // Erased, or the member deleted, since the cache was loaded.
                    return Ok(None);
                };
                if !policy.verifies(template.distance(probe)) {
                    // Replaced by a face this probe does not match.
                    return Ok(None);
                }
                let outcome = admit_in_context(
                    tx.as_mut(),
                    actor,
                    &member,
                    CheckInMethod::Face,
                    (now, today),
                    None,
                )
                .await;
                return match outcome {
                    Ok(outcome) => {
                        tx.commit().await?;
                        Ok(Some(match outcome {
                            CheckInOutcome::Granted(attendance) => FaceCheckIn::Granted {
                                attendance,
                                candidate,
                            },
                            CheckInOutcome::Denied(reason) => {
                                FaceCheckIn::Denied { candidate, reason }
                            }
                        }))
                    }
                    // Another desk checked the member in first: record the refusal in a
                    // new transaction, as the general path does.
                    Err(Error::AccessDenied(reason)) => {
                        drop(tx);
                        self.record_lost_race(
                            actor,
                            candidate.client_id,
                            reason,
                            CheckInMethod::Face,
                        )
                        .await?;
                        Ok(Some(FaceCheckIn::Denied { candidate, reason }))
                    }
                    Err(e) => Err(e),
                };
            }
            Identification::NoMatch if proposed.is_none() => Unidentified::NoMatch,
            Identification::Ambiguous { .. } if proposed.is_none() => Unidentified::Ambiguous,
            // The changed templates altered the cache's answer.
            _ => return Ok(None),
        };
        tx.insert_face_refusal(refusal, now, today, actor.username())
            .await?;
        tx.commit().await?;
        Ok(Some(match refusal {
            Unidentified::NoMatch => FaceCheckIn::NoMatch,
            Unidentified::Ambiguous => FaceCheckIn::Ambiguous,
        }))
    }

    /// [`Gym::identify_face`] through `cache`: the scan, then one read of what the
    /// database must confirm ([`Store::face_identify_context`]): the account, the
    /// templates changed since the cache's mark, and the proposed member's current
    /// template. `None` when those rows do not confirm the cache's answer and the
    /// general path must decide.
    ///
    /// [`Store::face_identify_context`]: crate::store::Store::face_identify_context
    pub(crate) async fn identify_face_cached(
        &self,
        actor: &Actor,
        probe: &FaceEmbedding,
        cache: &CacheState,
    ) -> Result<Option<Identification>> {
        let policy = &self.face.policy;
        // The mark first: a change committed after it is among the rows read below.
        let mark = cache.base_mark();
        let proposal = policy.decide(&cache.rank_with(probe, &[]).await?);
        let proposed = proposal.member();
        let context = self
            .store
            .face_identify_context(actor.username(), mark, proposed)
            .await?;
        permitted(context.staff.as_ref(), Action::CheckIn)?;
        let decision = self
            .with_changes(cache, probe, proposal, &context.changed)
            .await?;
        Ok(match decision {
            Identification::Match(c) if Some(c.client_id) == proposed => match context.template {
                // Still enrolled, with a face this probe matches.
                Some(t) if policy.verifies(t.distance(probe)) => Some(Identification::Match(c)),
                _ => None,
            },
            Identification::NoMatch if proposed.is_none() => Some(Identification::NoMatch),
            ambiguous @ Identification::Ambiguous { .. } if proposed.is_none() => Some(ambiguous),
            // The changed templates altered the cache's answer.
            _ => None,
        })
    }

    /// The cache's `proposal`, decided again with the templates `changed` since its mark
    /// scored from their rows; only then, since scanning the gallery is most of a call's
    /// time.
    async fn with_changes(
        &self,
        cache: &CacheState,
        probe: &FaceEmbedding,
        proposal: Identification,
        changed: &[(crate::domain::ids::ClientId, FaceEmbedding)],
    ) -> Result<Identification> {
        if changed.is_empty() {
            return Ok(proposal);
        }
        Ok(self
            .face
            .policy
            .decide(&cache.rank_with(probe, changed).await?))
    }
}
