//! Face records handed to Python (declared with [`record!`]), and the one-buffer
//! embedding conversion.
//!
//! An embedding crosses the boundary as one buffer: a numpy array (any float dtype and
//! shape holding 512 values, converted to little-endian float32 by numpy itself) or
//! 2048 bytes of little-endian float32. A list of 512 Python floats is refused: it is
//! 512 boxed objects, and the usual sign of a caller passing the wrong thing.

use chrono::{DateTime, NaiveDate, Utc};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes};
use uuid::Uuid;

use crate::errors::to_py;
use crate::types::enums::{Enum, FaceCheckInOutcome, FaceMatchOutcome};
use crate::types::record::record;
use powergym_core as core;
use powergym_core::face;

/// Reads an embedding from a numpy array, `bytes`, `bytearray` or `memoryview`.
pub(crate) fn embedding(obj: &Bound<'_, PyAny>) -> PyResult<face::FaceEmbedding> {
    let parsed = if let Ok(b) = obj.cast::<PyBytes>() {
        face::FaceEmbedding::from_le_bytes(b.as_bytes())
    } else if let Ok(b) = obj.cast::<PyByteArray>() {
        face::FaceEmbedding::from_le_bytes(&b.to_vec())
    } else if obj.hasattr("__array_interface__")? {
        let kind: String = obj.getattr("dtype")?.getattr("kind")?.extract()?;
        if !matches!(kind.as_str(), "f" | "i" | "u") {
            return Err(PyTypeError::new_err(
                "embedding must be a real-valued numpy array (float or integer dtype)",
            ));
        }
        let ndim: usize = obj.getattr("ndim")?.extract()?;
        if ndim != 1 {
            return Err(to_py(core::Error::validation(
                "embedding",
                format!("must be a one-dimensional array of 512 values, got {ndim} dimensions"),
            )));
        }
        // numpy does the dtype and byte-order conversion and the copy into one
        // contiguous buffer.
        let raw = obj
            .call_method1("astype", ("<f4",))?
            .call_method0("tobytes")?;
        let raw = raw.cast::<PyBytes>()?;
        face::FaceEmbedding::from_le_bytes(raw.as_bytes())
    } else if obj.hasattr("tobytes")? {
        let raw = obj.call_method0("tobytes")?;
        face::FaceEmbedding::from_le_bytes(raw.cast::<PyBytes>()?.as_bytes())
    } else {
        return Err(PyTypeError::new_err(
            "embedding must be a numpy array of 512 floats or 2048 bytes of little-endian float32",
        ));
    };
    parsed.map_err(to_py)
}

record! {
    /// A member's recorded biometric consent. Holds no guardian data, only whether a
    /// guardian consented.
    BiometricConsent {
        id: Uuid,
        client_id: Uuid,
        purpose: String,
        granted_at: DateTime<Utc>,
        recorded_by: Option<String>,
        has_guardian: bool,
        withdrawn_at: Option<DateTime<Utc>>,
        withdrawn_by: Option<String>,
        is_active: bool,
    }
    repr(id, is_active)
}

impl From<core::domain::consent::BiometricConsent> for BiometricConsent {
    fn from(c: core::domain::consent::BiometricConsent) -> Self {
        Self {
            is_active: c.is_active(),
            id: c.id,
            client_id: c.client_id.as_uuid(),
            purpose: c.purpose,
            granted_at: c.granted_at,
            recorded_by: c.recorded_by,
            has_guardian: c.has_guardian,
            withdrawn_at: c.withdrawn_at,
            withdrawn_by: c.withdrawn_by,
        }
    }
}

/// Reads a bulk enrolment's embeddings: a two-dimensional numpy array (or any object
/// with `__array_interface__`) of real numbers, `(n, 512)`, one row per member; numpy
/// converts it to little-endian float32 in one contiguous copy. A wrong shape or dtype
/// is a `ValidationError`; a row that is not a valid embedding (NaN, infinity, all
/// zeros) is refused by the core for that member alone.
pub(crate) fn embedding_rows(obj: &Bound<'_, PyAny>, rows: usize) -> PyResult<Vec<f32>> {
    let wrong = |why: String| to_py(core::Error::validation("embeddings", why));
    if !obj.hasattr("__array_interface__")? {
        return Err(wrong("must be a numpy array of shape (n, 512)".into()));
    }
    let kind: String = obj.getattr("dtype")?.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "f" | "i" | "u") {
        return Err(wrong(format!(
            "must hold real numbers (a float dtype), got dtype kind {kind:?}"
        )));
    }
    let shape: Vec<usize> = obj.getattr("shape")?.extract()?;
    if shape != [rows, face::EMBEDDING_DIM] {
        return Err(wrong(format!(
            "must have shape ({rows}, {}) for {rows} clients, got {shape:?}",
            face::EMBEDDING_DIM
        )));
    }
    let raw = obj
        .call_method1("astype", ("<f4",))?
        .call_method0("tobytes")?;
    let raw = raw.cast::<PyBytes>()?;
    Ok(raw
        .as_bytes()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

record! {
    /// What a bulk enrolment did: `outcomes[i]` is None when the i-th member was
    /// enrolled, else why not (`invalid_embedding`, `repeated_client`, `unknown_client`,
    /// `inactive`, `no_consent`, `duplicate_in_batch`, `duplicate_of_enrolled`).
    BulkEnrolment {
        enrolled: u64,
        outcomes: Vec<Option<String>>,
    }
    repr(enrolled)
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

record! {
    /// A stored face template, without its vector.
    FaceTemplate {
        id: Uuid,
        client_id: Uuid,
        has_thumbnail: bool,
        enrolled_by: Option<String>,
        enrolled_at: DateTime<Utc>,
    }
    repr(id)
}

impl From<face::FaceTemplate> for FaceTemplate {
    fn from(t: face::FaceTemplate) -> Self {
        Self {
            id: t.id,
            client_id: t.client_id.as_uuid(),
            has_thumbnail: t.has_thumbnail,
            enrolled_by: t.enrolled_by,
            enrolled_at: t.enrolled_at,
        }
    }
}

record! {
    /// The answer to "who is this?" (`outcome` is `match`, `no_match` or `ambiguous`) or
    /// to "is this them?" (`match` or `no_match`). An ambiguous answer names no one.
    FaceMatch {
        outcome: Enum<FaceMatchOutcome>,
        client_id: Option<Uuid>,
        distance: Option<f32>,
        similarity: Option<f32>,
    }
    repr(outcome)
}

impl FaceMatch {
    fn scored(outcome: FaceMatchOutcome, c: face::ScoredCandidate) -> Self {
        Self {
            outcome: outcome.into(),
            client_id: Some(c.client_id.as_uuid()),
            distance: Some(c.distance),
            similarity: Some(c.similarity),
        }
    }

    fn nobody(outcome: FaceMatchOutcome) -> Self {
        Self {
            outcome: outcome.into(),
            client_id: None,
            distance: None,
            similarity: None,
        }
    }
}

impl From<face::Identification> for FaceMatch {
    fn from(i: face::Identification) -> Self {
        match i {
            face::Identification::Match(c) => Self::scored(FaceMatchOutcome::Match, c),
            face::Identification::NoMatch => Self::nobody(FaceMatchOutcome::NoMatch),
            face::Identification::Ambiguous { .. } => Self::nobody(FaceMatchOutcome::Ambiguous),
        }
    }
}

impl From<face::Verification> for FaceMatch {
    fn from(v: face::Verification) -> Self {
        let outcome = if v.matched {
            FaceMatchOutcome::Match
        } else {
            FaceMatchOutcome::NoMatch
        };
        Self::scored(outcome, v.candidate)
    }
}

record! {
    /// What happened at the door when a face was shown: `outcome` is `granted`,
    /// `denied`, `no_match` or `ambiguous`; `reason` says why a matched member was
    /// denied.
    FaceCheckIn {
        outcome: Enum<FaceCheckInOutcome>,
        granted: bool,
        client_id: Option<Uuid>,
        distance: Option<f32>,
        similarity: Option<f32>,
        reason: Option<Enum<core::DenialReason>>,
        attendance_id: Option<Uuid>,
        business_date: Option<NaiveDate>,
        entry_time: Option<DateTime<Utc>>,
    }
    repr(outcome, reason, attendance_id)
}

impl From<core::FaceCheckIn> for FaceCheckIn {
    fn from(o: core::FaceCheckIn) -> Self {
        let empty = |outcome: FaceCheckInOutcome| Self {
            outcome: outcome.into(),
            granted: false,
            client_id: None,
            distance: None,
            similarity: None,
            reason: None,
            attendance_id: None,
            business_date: None,
            entry_time: None,
        };
        let matched = |outcome, c: face::ScoredCandidate| Self {
            client_id: Some(c.client_id.as_uuid()),
            distance: Some(c.distance),
            similarity: Some(c.similarity),
            ..empty(outcome)
        };
        match o {
            core::FaceCheckIn::Granted {
                attendance,
                candidate,
            } => Self {
                granted: true,
                attendance_id: Some(attendance.id),
                business_date: Some(attendance.business_date),
                entry_time: Some(attendance.entry_time),
                ..matched(FaceCheckInOutcome::Granted, candidate)
            },
            core::FaceCheckIn::Denied { candidate, reason } => Self {
                reason: Some(reason.into()),
                ..matched(FaceCheckInOutcome::Denied, candidate)
            },
            core::FaceCheckIn::NoMatch => empty(FaceCheckInOutcome::NoMatch),
            core::FaceCheckIn::Ambiguous => empty(FaceCheckInOutcome::Ambiguous),
        }
    }
}

/// Registers the face classes.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<BiometricConsent>()?;
    m.add_class::<FaceTemplate>()?;
    m.add_class::<BulkEnrolment>()?;
    m.add_class::<FaceMatch>()?;
    m.add_class::<FaceCheckIn>()?;
    Ok(())
}
