//! The one enrolment procedure every path takes (the staff use case and
//! `PgVectorMatcher::enroll`): consent, duplicate check, then
//! an atomic replacement of the member's template.

use super::matcher::{FaceSearch, FaceTemplate, MatchPolicy};
use crate::error::{Error, Result};
use crate::store::{NewFaceTemplate, StoreTransaction};

/// Enrols `template` inside `tx`; the caller commits.
///
/// The member's row is locked first (the order every use case takes), then enrolments
/// are serialised so two members cannot register the same face past each other's
/// duplicate check. The duplicate check is an exact scan: enrolment is rare, and a
/// missed duplicate would let one face open two memberships.
pub(crate) async fn enroll_in(
    tx: &mut dyn StoreTransaction,
    template: &NewFaceTemplate,
    policy: &MatchPolicy,
) -> Result<FaceTemplate> {
    let client = tx.lock_client(template.client_id).await?;
    if !client.is_active {
        return Err(Error::validation(
            "client_id",
            "the client is inactive; reactivate them before enrolling a face",
        ));
    }
    if tx.active_consent(template.client_id).await?.is_none() {
        return Err(Error::ConsentRequired { guardian: false });
    }
    tx.lock_face_enrolment().await?;
    let nearest = tx
        .nearest_faces(
            &template.embedding,
            1,
            Some(template.client_id),
            FaceSearch::Exact,
        )
        .await?;
    if nearest.first().is_some_and(|c| policy.verifies(c.distance)) {
        // Names no one: the other member's identity is not the enroller's business.
        return Err(Error::AlreadyExists {
            entity: "face",
            field: "embedding",
        });
    }
    tx.replace_face_template(template).await
}
