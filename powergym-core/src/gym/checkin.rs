//! Check-in use cases: the access decision and the attendance in one transaction.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::access::{
    AccessDecision, Attendance, CheckInMethod, CheckInOutcome, SubscriptionView, decide_access,
};
use crate::domain::client::{Client, DocumentNumber, DocumentType};
use crate::domain::ids::ClientId;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::staff::{Action, Actor};
use crate::error::{DenialReason, Error, Result};
use crate::gym::{Gym, retrying};
use crate::store::{NewAttendance, StoreTransaction};

impl Gym {
    /// Checks in the client holding this document. Works for every member, whether or
    /// not a face is enrolled.
    pub async fn check_in_by_document(
        &self,
        actor: &Actor,
        document_type: DocumentType,
        number: &str,
    ) -> Result<CheckInOutcome> {
        let number = DocumentNumber::parse(document_type, number)?;
        let client = {
            let mut tx = self.begin_as(actor, Action::CheckIn).await?;
            let client = tx.client_by_document(&number).await?;
            if client.document_type != document_type {
                return Err(Error::NotFound { entity: "client" });
            }
            client.id
        };
        self.check_in_client(actor, client, CheckInMethod::Document)
            .await
    }

    /// Checks in a client chosen by staff.
    pub async fn check_in(&self, actor: &Actor, client: ClientId) -> Result<CheckInOutcome> {
        self.check_in_client(actor, client, CheckInMethod::Manual)
            .await
    }

    /// Decides and records one check-in. The client row is locked, so concurrent
    /// check-ins of one member run one after the other; the unique index on (client,
    /// business day) holds the line even without it.
    pub(crate) async fn check_in_client(
        &self,
        actor: &Actor,
        client_id: ClientId,
        method: CheckInMethod,
    ) -> Result<CheckInOutcome> {
        let outcome = retrying(|| async {
            let (now, today) = self.now();
            let mut tx = self.begin_as(actor, Action::CheckIn).await?;
            let client = tx.lock_client(client_id).await?;
            let outcome = admit(tx.as_mut(), actor, &client, method, now, today).await?;
            tx.commit().await?;
            Ok(outcome)
        })
        .await;
        match outcome {
            Err(Error::AccessDenied(reason)) => {
                self.record_lost_race(actor, client_id, reason, method)
                    .await?;
                Ok(CheckInOutcome::Denied(reason))
            }
            other => other,
        }
    }

    /// Records the denial of a check-in that lost the race to the unique index: the
    /// other check-in stands. The failed transaction is gone, so this takes a new one.
    pub(crate) async fn record_lost_race(
        &self,
        actor: &Actor,
        client_id: ClientId,
        reason: DenialReason,
        method: CheckInMethod,
    ) -> Result<()> {
        let (now, today) = self.now();
        let mut tx = self.begin_as(actor, Action::CheckIn).await?;
        tx.insert_denial(
            Some(client_id),
            reason,
            method,
            now,
            today,
            actor.username(),
        )
        .await?;
        tx.commit().await
    }

    /// A page of a client's attendances, newest first, optionally between two business
    /// days (inclusive).
    pub async fn client_attendances(
        &self,
        actor: &Actor,
        client: ClientId,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        page: PageRequest,
    ) -> Result<Page<Attendance>> {
        let mut tx = self.begin_as(actor, Action::ReadClientAttendance).await?;
        tx.client_by_id(client).await?;
        tx.attendances(Some(client), from, to, page).await
    }

    /// A page of everyone's attendances, newest first, optionally between two business
    /// days (admins only).
    pub async fn attendances(
        &self,
        actor: &Actor,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        page: PageRequest,
    ) -> Result<Page<Attendance>> {
        let mut tx = self.begin_as(actor, Action::ReadAllAttendance).await?;
        tx.attendances(None, from, to, page).await
    }

    /// Refused check-ins per reason between two business days (admins only).
    pub async fn denied_check_ins(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(DenialReason, u64)>> {
        let mut tx = self.begin_as(actor, Action::ReadAllAttendance).await?;
        tx.denial_counts(from, to).await
    }
}

/// The access decision and its record for a client whose row `tx` holds locked: an
/// attendance when granted, a denial row when not.
pub(crate) async fn admit(
    tx: &mut dyn StoreTransaction,
    actor: &Actor,
    client: &Client,
    method: CheckInMethod,
    now: DateTime<Utc>,
    today: NaiveDate,
) -> Result<CheckInOutcome> {
    let already = tx.has_attendance_on(client.id, today).await?;
    let views: Vec<SubscriptionView> = tx
        .client_subscriptions(client.id)
        .await?
        .into_iter()
        .map(|(s, paid)| s.view(paid))
        .collect();
    Ok(
        match decide_access(client.is_active, already, &views, today) {
            AccessDecision::Granted { subscription_id } => {
                let attendance = tx
                    .insert_attendance(&NewAttendance {
                        client_id: client.id,
                        subscription_id,
                        entry_time: now,
                        business_date: today,
                        method,
                        recorded_by: actor.username().to_owned(),
                    })
                    .await?;
                CheckInOutcome::Granted(attendance)
            }
            AccessDecision::Denied(reason) => {
                tx.insert_denial(
                    Some(client.id),
                    reason,
                    method,
                    now,
                    today,
                    actor.username(),
                )
                .await?;
                CheckInOutcome::Denied(reason)
            }
        },
    )
}
