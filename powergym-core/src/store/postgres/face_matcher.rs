//! The pgvector matcher: PostgreSQL is the store of record, and the search runs where
//! the templates are. A store detail behind the [`FaceMatcher`] trait; its enrolment
//! takes the use case's rules (`gym::face::enroll_in`).

use async_trait::async_trait;
use sqlx::PgPool;

use crate::domain::ids::ClientId;
use crate::error::{Error, Result};
use crate::face::{
    FaceEmbedding, FaceMatcher, FaceSearch, MatchPolicy, ScoredCandidate, Verification,
};
use crate::gym::face::enroll_in;
use crate::store::postgres::PgStore;
use crate::store::{NewFaceTemplate, Store};

/// Face matching over the `biometrics` table: on the HNSW index over the active
/// templates where an operator built one (`Operations::rebuild_face_index`; the schema
/// has none since migration 0017), searched with a per-query `ef_search` and pgvector's
/// iterative scans; else an exact scan.
///
/// Enrolment goes through the same rules as the staff use case (consent, duplicate
/// check, atomic replacement), but records no staff member and no thumbnail; use
/// [`Gym::enroll_face`](crate::Gym::enroll_face) at the front desk.
#[derive(Debug, Clone)]
pub struct PgVectorMatcher {
    store: PgStore,
    policy: MatchPolicy,
    search: FaceSearch,
}

impl PgVectorMatcher {
    /// A matcher over `pool` (migrated to this library's schema).
    pub fn new(pool: PgPool, policy: MatchPolicy, search: FaceSearch) -> Result<Self> {
        Ok(Self {
            store: PgStore::new(pool),
            policy,
            search: search.validate()?,
        })
    }

    /// How the index is searched.
    pub fn search(&self) -> FaceSearch {
        self.search
    }
}

#[async_trait]
impl FaceMatcher for PgVectorMatcher {
    fn policy(&self) -> MatchPolicy {
        self.policy
    }

    async fn enroll(&self, client: ClientId, embedding: &FaceEmbedding) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let template = NewFaceTemplate {
            id: uuid::Uuid::new_v4(),
            client_id: client,
            embedding: embedding.clone(),
            sealed_thumbnail: None,
            enrolled_by: None,
            consent_id: None,
        };
        enroll_in(tx.as_mut(), &template, &self.policy, None).await?;
        tx.commit().await
    }

    async fn remove(&self, client: ClientId) -> Result<bool> {
        let mut tx = self.store.begin().await?;
        tx.lock_client(client).await?;
        let removed = tx.delete_face_templates(client).await?;
        tx.commit().await?;
        Ok(removed > 0)
    }

    async fn top_k(&self, probe: &FaceEmbedding, k: usize) -> Result<Vec<ScoredCandidate>> {
        let mut tx = self.store.begin_read().await?;
        tx.nearest_faces(probe, k, f32::INFINITY, None, self.search)
            .await
    }

    async fn top_k_within(
        &self,
        probe: &FaceEmbedding,
        k: usize,
        max_distance: f32,
    ) -> Result<Vec<ScoredCandidate>> {
        let mut tx = self.store.begin_read().await?;
        tx.nearest_faces(probe, k, max_distance, None, self.search)
            .await
    }

    async fn verify(&self, client: ClientId, probe: &FaceEmbedding) -> Result<Verification> {
        let mut tx = self.store.begin_read().await?;
        let (_, template) = tx.face_template(client).await?.ok_or(Error::NotFound {
            entity: "face template",
        })?;
        let candidate = ScoredCandidate::new(client, template.distance(probe));
        Ok(Verification {
            matched: self.policy.verifies(candidate.distance),
            candidate,
        })
    }
}
