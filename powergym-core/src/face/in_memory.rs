//! The exact in-process matcher behind the [`FaceMatcher`] trait: a [`Gallery`] behind a
//! lock (loading it from a store is the use cases' business: `gym/face_cache.rs`).

use std::sync::RwLock;

use async_trait::async_trait;

use super::embedding::FaceEmbedding;
use super::gallery::Gallery;
use super::matcher::{FaceMatcher, MatchPolicy, ScoredCandidate, Verification};
use crate::domain::ids::ClientId;
use crate::error::{Error, Result};

/// Exact identification in process: every probe is compared with every template by the
/// SIMD kernel, so recall is 1 by construction. The matcher of the embedded store and of
/// mobile apps, and a search cache in front of PostgreSQL.
///
/// It holds what it is given: consent and the duplicate-face rule belong to the store of
/// record that feeds it ([`Gym::enroll_face`](crate::Gym::enroll_face)).
#[derive(Debug)]
pub struct InMemoryMatcher {
    gallery: RwLock<Gallery>,
    policy: MatchPolicy,
}

impl InMemoryMatcher {
    /// An empty matcher.
    pub fn new(policy: MatchPolicy) -> Self {
        Self::with_gallery(Gallery::new(), policy)
    }

    /// A matcher over an existing gallery (its storage precision is kept).
    pub fn with_gallery(gallery: Gallery, policy: MatchPolicy) -> Self {
        Self {
            gallery: RwLock::new(gallery),
            policy,
        }
    }

    /// Takes over `other`'s gallery in one step: searches see the old gallery or the new
    /// one, never a mix.
    pub fn replace_with(&self, other: InMemoryMatcher) {
        let fresh = other
            .gallery
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        *self.write() = fresh;
    }

    /// Adds or replaces many templates under one write lock (a bulk enrolment's): a
    /// search waits once, not once per template.
    pub fn upsert_many<'a>(
        &self,
        templates: impl IntoIterator<Item = (ClientId, &'a FaceEmbedding)>,
    ) {
        let templates: Vec<(ClientId, &FaceEmbedding)> = templates.into_iter().collect();
        let mut gallery = self.write();
        // One reallocation of the rows at most, not one per doubling.
        gallery.reserve(templates.len());
        for (client, embedding) in templates {
            gallery.upsert(client, embedding);
        }
    }

    /// Templates held.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// True when no template is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `f` over the gallery under its read lock (updates wait until it returns).
    pub fn read_gallery<R>(&self, f: impl FnOnce(&Gallery) -> R) -> R {
        f(&self.read())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Gallery> {
        // A panic while holding the lock cannot leave a half-written row (upsert and
        // remove copy whole rows), so a poisoned lock is still safe to use.
        self.gallery.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Gallery> {
        self.gallery.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl FaceMatcher for InMemoryMatcher {
    fn policy(&self) -> MatchPolicy {
        self.policy
    }

    async fn enroll(&self, client: ClientId, embedding: &FaceEmbedding) -> Result<()> {
        self.write().upsert(client, embedding);
        Ok(())
    }

    async fn remove(&self, client: ClientId) -> Result<bool> {
        Ok(self.write().remove(client))
    }

    async fn top_k(&self, probe: &FaceEmbedding, k: usize) -> Result<Vec<ScoredCandidate>> {
        Ok(self.read().top_k(probe, k))
    }

    async fn top_k_within(
        &self,
        probe: &FaceEmbedding,
        k: usize,
        max_distance: f32,
    ) -> Result<Vec<ScoredCandidate>> {
        Ok(self.read().top_k_within(probe, k, max_distance))
    }

    async fn verify(&self, client: ClientId, probe: &FaceEmbedding) -> Result<Verification> {
        let (matched, candidate) =
            self.read()
                .verify(client, probe, &self.policy)
                .ok_or(Error::NotFound {
                    entity: "face template",
                })?;
        Ok(Verification { matched, candidate })
    }
}
