//! Check-in at the door and the attendance records it leaves.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::errors::to_py;
use crate::types::args;
use crate::types::{Actor, AttendancePage, CheckIn, DenialCount};
use powergym_core as core;

use_cases! {
    /// Checks in the client holding this document; a refusal is returned, not raised.
    /// A retried call with the same `idempotency_key` returns the first outcome.
    #[pyo3(signature = (actor, document_type, document_number, *, idempotency_key = None))]
    fn check_in_by_document(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::document_type)] document_type: String,
        #[pyo3(from_py_with = args::document_number)] document_number: String,
        #[pyo3(from_py_with = args::idempotency_key)] idempotency_key: Option<String>,
    ) -> CheckIn {
        let doc_type: core::DocumentType = document_type.parse().map_err(to_py)?;
        let actor = actor.0.clone();
        async move {
            gym.check_in_by_document_with_key(
                &actor,
                doc_type,
                &document_number,
                idempotency_key.as_deref(),
            )
            .await
            .map(CheckIn::from)
        }
    }

    /// Checks in a client chosen by staff; a refusal is returned, not raised. A retried
    /// call with the same `idempotency_key` returns the first outcome.
    #[pyo3(signature = (actor, client_id, *, idempotency_key = None))]
    fn check_in(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
        #[pyo3(from_py_with = args::idempotency_key)] idempotency_key: Option<String>,
    ) -> CheckIn {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move {
            gym.check_in_with_key(&actor, id, idempotency_key.as_deref())
                .await
                .map(CheckIn::from)
        }
    }

    /// A page of one client's check-ins, newest first, between two business days
    /// (inclusive) when given.
    #[pyo3(signature = (actor, client_id, *, start = None, end = None, limit = 100, offset = 0))]
    fn client_attendances(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
        #[pyo3(from_py_with = args::optional_start)] start: Option<NaiveDate>,
        #[pyo3(from_py_with = args::optional_end)] end: Option<NaiveDate>,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> AttendancePage {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move {
            gym.client_attendances(&actor, id, start, end, page)
                .await
                .map(AttendancePage::from)
        }
    }

    /// A page of every check-in, newest first, between two business days (inclusive)
    /// when given.
    #[pyo3(signature = (actor, *, start = None, end = None, limit = 100, offset = 0))]
    fn attendances(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::optional_start)] start: Option<NaiveDate>,
        #[pyo3(from_py_with = args::optional_end)] end: Option<NaiveDate>,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> AttendancePage {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        async move {
            gym.attendances(&actor, start, end, page)
                .await
                .map(AttendancePage::from)
        }
    }

    /// How many check-ins were refused between two business days, by reason.
    fn denied_check_ins(gym, actor: &Actor, #[pyo3(from_py_with = args::start)] start: NaiveDate, #[pyo3(from_py_with = args::end)] end: NaiveDate) -> Vec<DenialCount> {
        let actor = actor.0.clone();
        async move {
            let counts = gym.denied_check_ins(&actor, start, end).await?;
            Ok(counts.into_iter().map(DenialCount::from).collect())
        }
    }
}
