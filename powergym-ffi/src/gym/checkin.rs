//! Check-in use cases: at the door by id or document, and the attendance records.

use std::sync::Arc;

use chrono::NaiveDate;
use powergym_core as core;
use powergym_core::{ClientId, DocumentType};

use crate::records::{Actor, AttendancePage, CheckInOutcome, DenialCount};
use crate::{Gym, Result};

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Checks in the client holding this document; a refusal is returned, not thrown.
    /// A retried call with the same `idempotencyKey` returns the first outcome.
    #[uniffi::method(default(idempotency_key = None))]
    pub async fn check_in_by_document(
        &self,
        actor: Arc<Actor>,
        document_type: DocumentType,
        document_number: String,
        idempotency_key: Option<String>,
    ) -> Result<CheckInOutcome> {
        Ok(self
            .0
            .check_in_by_document_with_key(
                &actor.actor,
                document_type,
                &document_number,
                idempotency_key.as_deref(),
            )
            .await?
            .into())
    }

    /// Checks in a client chosen by staff; a refusal is returned, not thrown. A retried
    /// call with the same `idempotencyKey` returns the first outcome.
    #[uniffi::method(default(idempotency_key = None))]
    pub async fn check_in(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
        idempotency_key: Option<String>,
    ) -> Result<CheckInOutcome> {
        Ok(self
            .0
            .check_in_with_key(&actor.actor, client_id, idempotency_key.as_deref())
            .await?
            .into())
    }

    /// A page of a client's attendances between two business days (either end open),
    /// newest first.
    #[uniffi::method(default(from = None, to = None, limit = 100, offset = 0))]
    pub async fn client_attendances(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        limit: u32,
        offset: u64,
    ) -> Result<AttendancePage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .client_attendances(&actor.actor, client_id, from, to, page)
            .await?
            .into())
    }

    /// A page of everyone's attendances between two business days (either end open),
    /// newest first.
    #[uniffi::method(default(from = None, to = None, limit = 100, offset = 0))]
    pub async fn attendances(
        &self,
        actor: Arc<Actor>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        limit: u32,
        offset: u64,
    ) -> Result<AttendancePage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .attendances(&actor.actor, from, to, page)
            .await?
            .into())
    }

    /// Refused check-ins per reason between two business days (admins only).
    pub async fn denied_check_ins(
        &self,
        actor: Arc<Actor>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DenialCount>> {
        let counts = self.0.denied_check_ins(&actor.actor, from, to).await?;
        Ok(counts
            .into_iter()
            .map(|(reason, count)| DenialCount { reason, count })
            .collect())
    }
}
