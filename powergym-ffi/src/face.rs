//! Face check-in for Kotlin and Swift. An embedding crosses as one byte buffer: 512
//! little-endian `f32` (2048 bytes), e.g. from a `FloatArray` through a little-endian
//! `ByteBuffer`, never as a list of 512 boxed floats.

use std::sync::Arc;

use powergym_core as core;
use powergym_core::face::{FaceEmbedding, Precision};
use powergym_core::{ClientId, DenialReason, DocumentType};
use uuid::Uuid;

use crate::records::{Actor, Attendance};
use crate::types::Timestamp;
use crate::{Gym, Result};

/// The 32-byte key thumbnails are sealed with (AES-256-GCM). Its text form is never
/// printed.
#[derive(Debug, uniffi::Object)]
pub struct ThumbnailKey(pub(crate) core::face::ThumbnailKey);

#[uniffi::export]
impl ThumbnailKey {
    /// From 64 hex characters, e.g. the output of `openssl rand -hex 32`.
    #[uniffi::constructor]
    pub fn from_hex(text: String) -> Result<Arc<Self>> {
        Ok(Arc::new(Self(core::face::ThumbnailKey::from_hex(&text)?)))
    }

    /// From standard base64 of exactly 32 bytes.
    #[uniffi::constructor]
    pub fn from_base64(text: String) -> Result<Arc<Self>> {
        Ok(Arc::new(Self(core::face::ThumbnailKey::from_base64(
            &text,
        )?)))
    }

    /// A fresh random key (store it: thumbnails sealed with it need it to open).
    #[uniffi::constructor]
    pub fn generate() -> Arc<Self> {
        Arc::new(Self(core::face::ThumbnailKey::generate()))
    }
}

/// How the in-process cache stores templates: `F32`, or compact `F16` / `Int8` rows that
/// a scan reads first, its answer then proven exact from the quantisation's error bound
/// (`Int8` also keeps 4-bit rows for a single probe's first pass).
#[uniffi::remote(Enum)]
pub enum Precision {
    F32,
    F16,
    Int8,
}

fn embedding(bytes: &[u8]) -> Result<FaceEmbedding> {
    Ok(FaceEmbedding::from_le_bytes(bytes)?)
}

/// What a bulk enrolment did: `outcomes[i]` is null when the i-th member was enrolled,
/// else why not (`invalid_embedding`, `repeated_client`, `unknown_client`, `inactive`,
/// `no_consent`, `duplicate_in_batch`, `duplicate_of_enrolled`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct BulkEnrolment {
    /// How many members were enrolled.
    pub enrolled: u64,
    /// One entry per member, in the order given.
    pub outcomes: Vec<Option<String>>,
}

impl From<core::BulkEnrolment> for BulkEnrolment {
    fn from(r: core::BulkEnrolment) -> Self {
        Self {
            enrolled: r.enrolled as u64,
            outcomes: r
                .outcomes
                .into_iter()
                .map(|o| o.map(|r| r.code().to_owned()))
                .collect(),
        }
    }
}

/// A member's recorded biometric consent; whether a guardian consented, never who.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct BiometricConsent {
    /// Identifier.
    pub id: Uuid,
    /// The member.
    pub client_id: ClientId,
    /// What the face is used for.
    pub purpose: String,
    /// When consent was given.
    pub granted_at: Timestamp,
    /// Staff member who recorded it.
    pub recorded_by: Option<String>,
    /// Whether a guardian consented too.
    pub has_guardian: bool,
    /// When it was withdrawn (the templates were erased then).
    pub withdrawn_at: Option<Timestamp>,
    /// Staff member who recorded the withdrawal.
    pub withdrawn_by: Option<String>,
}

impl From<core::domain::consent::BiometricConsent> for BiometricConsent {
    fn from(c: core::domain::consent::BiometricConsent) -> Self {
        Self {
            id: c.id,
            client_id: c.client_id,
            purpose: c.purpose,
            granted_at: c.granted_at,
            recorded_by: c.recorded_by,
            has_guardian: c.has_guardian,
            withdrawn_at: c.withdrawn_at,
            withdrawn_by: c.withdrawn_by,
        }
    }
}

/// A stored face template, without its vector.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FaceTemplate {
    /// The biometric row's id.
    pub id: Uuid,
    /// Whose face.
    pub client_id: ClientId,
    /// Whether an encrypted thumbnail is stored.
    pub has_thumbnail: bool,
    /// Staff member who enrolled it.
    pub enrolled_by: Option<String>,
    /// When.
    pub enrolled_at: Timestamp,
}

impl From<core::face::FaceTemplate> for FaceTemplate {
    fn from(t: core::face::FaceTemplate) -> Self {
        Self {
            id: t.id,
            client_id: t.client_id,
            has_thumbnail: t.has_thumbnail,
            enrolled_by: t.enrolled_by,
            enrolled_at: t.enrolled_at,
        }
    }
}

/// Who a face belongs to. An ambiguous answer names no one.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum FaceMatch {
    /// One member, clearly (or, for a verification, the member asked about).
    Match {
        /// The member.
        client_id: ClientId,
        /// Cosine distance (0 = identical).
        distance: f32,
        /// Cosine similarity (1 − distance).
        similarity: f32,
    },
    /// Nobody within the threshold.
    NoMatch,
    /// Two members too close to tell apart: use the document.
    Ambiguous,
}

impl From<core::face::Identification> for FaceMatch {
    fn from(i: core::face::Identification) -> Self {
        match i {
            core::face::Identification::Match(c) => Self::Match {
                client_id: c.client_id,
                distance: c.distance,
                similarity: c.similarity,
            },
            core::face::Identification::NoMatch => Self::NoMatch,
            core::face::Identification::Ambiguous { .. } => Self::Ambiguous,
        }
    }
}

/// What happened at the door when a face was shown.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum FaceCheckInOutcome {
    /// Identified and admitted.
    Granted {
        /// The attendance recorded (its `clientId` is the member).
        attendance: Attendance,
        /// Cosine distance of the match.
        distance: f32,
        /// Cosine similarity of the match (1 − distance).
        similarity: f32,
    },
    /// Identified but refused (the refusal is recorded).
    Denied {
        /// The member.
        client_id: ClientId,
        /// Why not.
        reason: DenialReason,
        /// Cosine distance of the match.
        distance: f32,
        /// Cosine similarity of the match (1 − distance).
        similarity: f32,
    },
    /// Nobody within the threshold.
    NoMatch,
    /// Two members too close to tell apart: check in by document instead.
    Ambiguous,
}

impl From<core::FaceCheckIn> for FaceCheckInOutcome {
    fn from(o: core::FaceCheckIn) -> Self {
        match o {
            core::FaceCheckIn::Granted {
                attendance,
                candidate,
            } => Self::Granted {
                attendance: attendance.into(),
                distance: candidate.distance,
                similarity: candidate.similarity,
            },
            core::FaceCheckIn::Denied { candidate, reason } => Self::Denied {
                client_id: candidate.client_id,
                reason,
                distance: candidate.distance,
                similarity: candidate.similarity,
            },
            core::FaceCheckIn::NoMatch => Self::NoMatch,
            core::FaceCheckIn::Ambiguous => Self::Ambiguous,
        }
    }
}

/// A 1:1 check of a face against one member's template.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FaceVerification {
    /// Whether the face is within the gym's threshold of the member's template.
    pub matched: bool,
    /// The member asked about.
    pub client_id: ClientId,
    /// Cosine distance to the template (0 = identical).
    pub distance: f32,
    /// Cosine similarity (1 − distance).
    pub similarity: f32,
}

impl From<core::face::Verification> for FaceVerification {
    fn from(v: core::face::Verification) -> Self {
        Self {
            matched: v.matched,
            client_id: v.candidate.client_id,
            distance: v.candidate.distance,
            similarity: v.candidate.similarity,
        }
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Records a member's consent to face check-in; a minor needs the guardian's name,
    /// document type and number (all three, or none for an adult).
    #[uniffi::method(default(
        guardian_name = None,
        guardian_document_type = None,
        guardian_document_number = None
    ))]
    pub async fn record_biometric_consent(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
        purpose: String,
        guardian_name: Option<String>,
        guardian_document_type: Option<DocumentType>,
        guardian_document_number: Option<String>,
    ) -> Result<BiometricConsent> {
        use core::domain::consent::{ConsentInput, Guardian};
        let guardian = Guardian::from_parts(
            guardian_name,
            guardian_document_type.map(DocumentType::as_str),
            guardian_document_number,
        )?;
        Ok(self
            .0
            .record_biometric_consent(&actor.actor, client_id, ConsentInput { purpose, guardian })
            .await?
            .into())
    }

    /// Withdraws a member's consent; their template and thumbnail are erased with it.
    pub async fn withdraw_biometric_consent(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
    ) -> Result<BiometricConsent> {
        Ok(self
            .0
            .withdraw_biometric_consent(&actor.actor, client_id)
            .await?
            .into())
    }

    /// A member's consents, newest first, withdrawn ones included.
    pub async fn biometric_consents(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
    ) -> Result<Vec<BiometricConsent>> {
        let consents = self.0.biometric_consents(&actor.actor, client_id).await?;
        Ok(consents.into_iter().map(Into::into).collect())
    }

    /// The member's active face template (without its vector), if one is enrolled.
    pub async fn face_template(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
    ) -> Result<Option<FaceTemplate>> {
        Ok(self
            .0
            .face_template(&actor.actor, client_id)
            .await?
            .map(Into::into))
    }

    /// Enrols (or replaces) a member's face from 2048 little-endian `f32` bytes, with an
    /// optional small JPEG thumbnail sealed with the gym's key.
    #[uniffi::method(default(thumbnail = None))]
    pub async fn enroll_face(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
        embedding: Vec<u8>,
        thumbnail: Option<Vec<u8>>,
    ) -> Result<FaceTemplate> {
        let face = self::embedding(&embedding)?;
        Ok(self
            .0
            .enroll_face(&actor.actor, client_id, &face, thumbnail.as_deref())
            .await?
            .into())
    }

    /// Deletes a member's face template and thumbnail; whether there was one.
    pub async fn remove_face(&self, actor: Arc<Actor>, client_id: ClientId) -> Result<bool> {
        Ok(self.0.remove_face(&actor.actor, client_id).await?)
    }

    /// The member's decrypted thumbnail, if one is stored.
    pub async fn face_thumbnail(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
    ) -> Result<Option<Vec<u8>>> {
        Ok(self.0.face_thumbnail(&actor.actor, client_id).await?)
    }

    /// Who this face belongs to (1:N).
    pub async fn identify_face(&self, actor: Arc<Actor>, embedding: Vec<u8>) -> Result<FaceMatch> {
        let face = self::embedding(&embedding)?;
        Ok(self.0.identify_face(&actor.actor, &face).await?.into())
    }

    /// Whether this face is this member (1:1), and how close it is.
    pub async fn verify_face(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
        embedding: Vec<u8>,
    ) -> Result<FaceVerification> {
        let face = self::embedding(&embedding)?;
        Ok(self
            .0
            .verify_face(&actor.actor, client_id, &face)
            .await?
            .into())
    }

    /// Loads every template into an exact in-process search cache kept in step with the
    /// database; returns how many.
    pub async fn enable_face_cache(&self, actor: Arc<Actor>, precision: Precision) -> Result<u64> {
        Ok(self.0.enable_face_cache(&actor.actor, precision).await? as u64)
    }

    /// Stops using the in-process cache.
    pub fn disable_face_cache(&self) {
        self.0.disable_face_cache();
    }

    /// Templates in the in-process cache; null when faces are searched in the database.
    pub fn face_cache_size(&self) -> Option<u64> {
        self.0.face_cache_size().map(|n| n as u64)
    }

    /// Enrols many members' faces at once. `embeddings` is one buffer of
    /// `clients.size * 512` little-endian `f32` (row `i` is `clients[i]`'s face); a
    /// buffer of another length is a `Validation` error. Each member is enrolled or
    /// refused with a reason; the accepted ones are written together.
    pub async fn enroll_faces(
        &self,
        actor: Arc<Actor>,
        clients: Vec<ClientId>,
        embeddings: Vec<u8>,
    ) -> Result<BulkEnrolment> {
        if !embeddings.len().is_multiple_of(4) {
            return Err(core::Error::validation(
                "embeddings",
                "must be whole little-endian f32 values (a multiple of 4 bytes)",
            )
            .into());
        }
        let rows: Vec<f32> = embeddings
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(self
            .0
            .enroll_faces(&actor.actor, &clients, &rows, &mut |_| {})
            .await?
            .into())
    }

    /// Checks in whoever this face belongs to; every outcome is returned, not thrown.
    pub async fn check_in_by_face(
        &self,
        actor: Arc<Actor>,
        embedding: Vec<u8>,
    ) -> Result<FaceCheckInOutcome> {
        let face = self::embedding(&embedding)?;
        Ok(self.0.check_in_by_face(&actor.actor, &face).await?.into())
    }
}
