//! Face check-in: consent, enrolment, identification and the in-process cache.

use pyo3::prelude::*;
use uuid::Uuid;

use crate::errors::to_py;
use crate::face::{
    BiometricConsent, BulkEnrolment, FaceCheckIn, FaceMatch, FaceTemplate, embedding,
    embedding_rows,
};
use crate::types::Actor;
use crate::types::args;
use powergym_core as core;

use_cases! {
    /// Records a member's consent to face check-in. A minor (a `TI` holder or anyone
    /// under 18) needs the guardian's name and document in the same call.
    #[pyo3(signature = (
        actor, client_id, *, purpose, guardian_name = None, guardian_document_type = None,
        guardian_document_number = None
    ))]
    fn record_biometric_consent(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
        #[pyo3(from_py_with = args::purpose)] purpose: String,
        #[pyo3(from_py_with = args::guardian_name)] guardian_name: Option<String>,
        #[pyo3(from_py_with = args::guardian_document_type)] guardian_document_type: Option<String>,
        #[pyo3(from_py_with = args::guardian_document_number)]
        guardian_document_number: Option<String>,
    ) -> BiometricConsent {
        let guardian = core::domain::consent::Guardian::from_parts(
            guardian_name,
            guardian_document_type.as_deref(),
            guardian_document_number,
        )
        .map_err(to_py)?;
        let input = core::domain::consent::ConsentInput { purpose, guardian };
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move {
            gym.record_biometric_consent(&actor, id, input)
                .await
                .map(BiometricConsent::from)
        }
    }

    /// Withdraws a member's consent; their face template and thumbnail are erased with it.
    fn withdraw_biometric_consent(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> BiometricConsent {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move {
            gym.withdraw_biometric_consent(&actor, id)
                .await
                .map(BiometricConsent::from)
        }
    }

    /// Every consent the member gave, newest first.
    fn biometric_consents(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> Vec<BiometricConsent> {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move {
            let all = gym.biometric_consents(&actor, id).await?;
            Ok(all.into_iter().map(BiometricConsent::from).collect())
        }
    }

    /// Enrols (or replaces) a member's face. `embedding` is a numpy array of 512 floats
    /// or 2048 bytes of little-endian float32; `thumbnail` an optional small JPEG, sealed
    /// with the gym's thumbnail key.
    #[pyo3(signature = (actor, client_id, embedding, *, thumbnail = None))]
    fn enroll_face(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
        embedding: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = args::thumbnail)] thumbnail: Option<Vec<u8>>,
    ) -> FaceTemplate {
        let face = self::embedding(embedding)?;
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move {
            gym.enroll_face(&actor, id, &face, thumbnail.as_deref())
                .await
                .map(FaceTemplate::from)
        }
    }

    /// Enrols many members' faces at once: `embeddings` is one numpy array of shape
    /// `(len(clients), 512)`. Each member is enrolled or refused with a reason (see
    /// `BulkEnrolment`); the accepted ones are written together. `progress`, if given,
    /// is called with `(done, total)` as items are decided (exceptions it raises are
    /// reported as unraisable and do not stop the enrolment). No thumbnails: enrol a
    /// member singly to store one.
    #[pyo3(signature = (actor, clients, embeddings, *, progress = None))]
    fn enroll_faces(
        gym,
        actor: &Actor,
        clients: &Bound<'_, PyAny>,
        embeddings: &Bound<'_, PyAny>,
        progress: Option<Py<PyAny>>,
    ) -> BulkEnrolment {
        let ids: Vec<core::ClientId> = clients
            .try_iter()?
            .map(|c| args::uuid("clients", &c?).map(core::ClientId::from_uuid))
            .collect::<PyResult<_>>()?;
        let rows = embedding_rows(embeddings, ids.len())?;
        let actor = actor.0.clone();
        async move {
            let mut report = |p: core::BulkProgress| {
                if let Some(callback) = &progress {
                    Python::attach(|py| {
                        if let Err(e) = callback.call1(py, (p.done, p.total)) {
                            e.write_unraisable(py, Some(callback.bind(py)));
                        }
                    });
                }
            };
            gym.enroll_faces(&actor, &ids, &rows, &mut report)
                .await
                .map(BulkEnrolment::from)
        }
    }

    /// Deletes a member's face template and thumbnail; returns whether there was one.
    fn remove_face(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> bool {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { gym.remove_face(&actor, id).await }
    }

    /// The member's enrolled template (without its vector), or None.
    fn face_template(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> Option<FaceTemplate> {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { Ok(gym.face_template(&actor, id).await?.map(FaceTemplate::from)) }
    }

    /// The member's decrypted thumbnail (JPEG bytes), or None.
    fn face_thumbnail(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> Option<Vec<u8>> {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { gym.face_thumbnail(&actor, id).await }
    }

    /// Who this face belongs to (1:N).
    fn identify_face(gym, actor: &Actor, embedding: &Bound<'_, PyAny>) -> FaceMatch {
        let face = self::embedding(embedding)?;
        let actor = actor.0.clone();
        async move { gym.identify_face(&actor, &face).await.map(FaceMatch::from) }
    }

    /// Whether this face is this member (1:1).
    fn verify_face(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
        embedding: &Bound<'_, PyAny>,
    ) -> FaceMatch {
        let face = self::embedding(embedding)?;
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { gym.verify_face(&actor, id, &face).await.map(FaceMatch::from) }
    }

    /// Loads every template into an exact in-process search cache (`precision` is
    /// `f32`, `f16` or `int8`) kept in step with the database; returns how many.
    #[pyo3(signature = (actor, precision = "f32"))]
    fn enable_face_cache(
        gym,
        actor: &Actor,
        precision: &str,
    ) -> usize {
        let precision: core::face::Precision = precision.parse().map_err(to_py)?;
        let actor = actor.0.clone();
        async move { gym.enable_face_cache(&actor, precision).await }
    }

    /// Checks in whoever this face belongs to; every outcome is returned, not raised.
    fn check_in_by_face(gym, actor: &Actor, embedding: &Bound<'_, PyAny>) -> FaceCheckIn {
        let face = self::embedding(embedding)?;
        let actor = actor.0.clone();
        async move { gym.check_in_by_face(&actor, &face).await.map(FaceCheckIn::from) }
    }
}
