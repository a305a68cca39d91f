//! Check-in use cases: the access decision and the attendance in one transaction.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::access::{
    AccessDecision, Attendance, CheckInMethod, CheckInOutcome, DenialReason, SubscriptionView,
    decide_access,
};
use crate::domain::client::{Client, DocumentNumber, DocumentType};
use crate::domain::ids::ClientId;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::staff::{Action, Actor};
use crate::error::{Error, Result};
use crate::gym::inventory::idempotency_key as retry_key;
use crate::gym::{Gym, permitted, retrying};
use crate::store::{
    AttendanceInsert, CheckInContext, MemberRef, NewAttendance, NewDenial, StoreTransaction,
};

impl Gym {
    /// Checks in the client holding this document. Works for every member, whether or
    /// not a face is enrolled.
    pub async fn check_in_by_document(
        &self,
        actor: &Actor,
        document_type: DocumentType,
        number: &str,
    ) -> Result<CheckInOutcome> {
        self.bounded(async move {
            self.check_in_by_document_with_key(actor, document_type, number, None)
                .await
        })
        .await
    }

    /// [`check_in_by_document`](Self::check_in_by_document) with a retry key: see
    /// [`check_in_with_key`](Self::check_in_with_key).
    pub async fn check_in_by_document_with_key(
        &self,
        actor: &Actor,
        document_type: DocumentType,
        number: &str,
        idempotency_key: Option<&str>,
    ) -> Result<CheckInOutcome> {
        self.bounded(async move {
            let key = retry_key(idempotency_key)?;
            let number = DocumentNumber::parse(document_type, number)?;
            self.check_in_client(
                actor,
                MemberRef::Document(&number),
                Some(document_type),
                CheckInMethod::Document,
                key,
            )
            .await
        })
        .await
    }

    /// Checks in a client chosen by staff.
    pub async fn check_in(&self, actor: &Actor, client: ClientId) -> Result<CheckInOutcome> {
        self.bounded(async move { self.check_in_with_key(actor, client, None).await })
            .await
    }

    /// [`check_in`](Self::check_in) with a key the caller reuses when it retries the same
    /// check-in (after a timeout or a failure during commit, when it cannot know whether
    /// the first call was recorded). A retry writes nothing and returns the first
    /// outcome, granted or denied, even on a later day; the key given for another client
    /// or another way of identifying them is a `Conflict`. Keys follow the payments'
    /// rule (at most 100 characters).
    pub async fn check_in_with_key(
        &self,
        actor: &Actor,
        client: ClientId,
        idempotency_key: Option<&str>,
    ) -> Result<CheckInOutcome> {
        self.bounded(async move {
            let key = retry_key(idempotency_key)?;
            self.check_in_client(
                actor,
                MemberRef::Id(client),
                None,
                CheckInMethod::Manual,
                key,
            )
            .await
        })
        .await
    }

    /// Decides and records one check-in, in one transaction whose first statement
    /// reads the acting account, locks the client row and reads what the decision needs
    /// ([`StoreTransaction::check_in_context`]): concurrent check-ins of one member run
    /// one after the other, and the unique index on (client, business day) holds the
    /// line even without it. A document of another type than the one named is the same
    /// `NotFound` as an unknown one.
    ///
    /// A retry key is locked first (after the account is checked, so nothing is read
    /// under it for someone who may not check in) and looked up once the client row is
    /// held, so calls sharing a key record once.
    async fn check_in_client(
        &self,
        actor: &Actor,
        member: MemberRef<'_>,
        document_type: Option<DocumentType>,
        method: CheckInMethod,
        key: Option<String>,
    ) -> Result<CheckInOutcome> {
        // The member of the last attempt, for the lost-race record below.
        let matched = std::sync::Mutex::new(None);
        let outcome = retrying(|| async {
            let (now, today) = self.now();
            let mut tx = match key.as_deref() {
                Some(key) => {
                    let mut tx = self.begin_as(actor, Action::CheckIn).await?;
                    tx.lock_check_in_key(key).await?;
                    tx
                }
                None => self.store.begin().await?,
            };
            let (staff, context) = tx.check_in_context(actor.username(), member, today).await?;
            permitted(staff.as_ref(), Action::CheckIn)?;
            let context = context
                .filter(|c| document_type.is_none_or(|t| c.client.document_type == t))
                .ok_or(Error::NotFound { entity: "client" })?;
            let client_id = context.client.id;
            *matched.lock().unwrap_or_else(|e| e.into_inner()) = Some(client_id);
            if let Some(key) = key.as_deref()
                && let Some(first) = first_outcome(tx.as_mut(), key, client_id, method).await?
            {
                return Ok(first);
            }
            let outcome = admit_in_context(
                tx.as_mut(),
                actor,
                &context,
                method,
                (now, today),
                key.as_deref(),
            )
            .await?;
            tx.commit().await?;
            Ok(outcome)
        })
        .await;
        match outcome {
            Err(Error::AccessDenied(reason)) => {
                let client_id = matched
                    .into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .ok_or(Error::AccessDenied(reason))?;
                self.record_lost_race_with_key(actor, client_id, reason, method, key.as_deref())
                    .await
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
        self.record_lost_race_with_key(actor, client_id, reason, method, None)
            .await
            .map(|_| ())
    }

    /// [`record_lost_race`](Self::record_lost_race) under a retry key. The key's lock
    /// was released with the failed transaction, so a retry may have recorded an
    /// outcome under it since: that one is returned and nothing is written.
    async fn record_lost_race_with_key(
        &self,
        actor: &Actor,
        client_id: ClientId,
        reason: DenialReason,
        method: CheckInMethod,
        key: Option<&str>,
    ) -> Result<CheckInOutcome> {
        let (now, today) = self.now();
        let mut tx = self.begin_as(actor, Action::CheckIn).await?;
        if let Some(key) = key {
            tx.lock_check_in_key(key).await?;
            if let Some(first) = first_outcome(tx.as_mut(), key, client_id, method).await? {
                return Ok(first);
            }
        }
        tx.insert_keyed_denial(&NewDenial {
            client_id,
            reason,
            method,
            occurred_at: now,
            business_date: today,
            recorded_by: actor.username().to_owned(),
            idempotency_key: key.map(str::to_owned),
        })
        .await?;
        tx.commit().await?;
        Ok(CheckInOutcome::Denied(reason))
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
        self.bounded(async move {
            let mut tx = self
                .begin_read_as(actor, Action::ReadClientAttendance)
                .await?;
            tx.client_by_id(client).await?;
            tx.attendances(Some(client), from, to, page).await
        })
        .await
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
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ReadAllAttendance).await?;
            tx.attendances(None, from, to, page).await
        })
        .await
    }

    /// Refused check-ins per reason between two business days (admins only).
    pub async fn denied_check_ins(
        &self,
        actor: &Actor,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(DenialReason, u64)>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ReadAllAttendance).await?;
            tx.denial_counts(from, to).await
        })
        .await
    }
}

/// The outcome recorded under a retry key, if any, provided it was for this client and
/// method (`Conflict` otherwise).
async fn first_outcome(
    tx: &mut dyn StoreTransaction,
    key: &str,
    client: ClientId,
    method: CheckInMethod,
) -> Result<Option<CheckInOutcome>> {
    let (first_client, first_method, outcome) =
        if let Some(a) = tx.attendance_by_idempotency_key(key).await? {
            (a.client_id, a.method, CheckInOutcome::Granted(a))
        } else if let Some((c, reason, m)) = tx.denial_by_idempotency_key(key).await? {
            (c, m, CheckInOutcome::Denied(reason))
        } else {
            return Ok(None);
        };
    if first_client != client || first_method != method {
        return Err(Error::Conflict {
            reason: "the idempotency key was already used for a different check-in".into(),
        });
    }
    Ok(Some(outcome))
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
    let context = CheckInContext {
        attended_today: tx.has_attendance_on(client.id, today).await?,
        subscriptions: tx.client_subscriptions(client.id).await?,
        client: client.clone(),
    };
    admit_in_context(tx, actor, &context, method, (now, today), None).await
}

/// [`admit`] given what the decision reads, recording the caller's retry key with the
/// attendance or the denial.
pub(crate) async fn admit_in_context(
    tx: &mut dyn StoreTransaction,
    actor: &Actor,
    context: &CheckInContext,
    method: CheckInMethod,
    (now, today): (DateTime<Utc>, NaiveDate),
    key: Option<&str>,
) -> Result<CheckInOutcome> {
    let client = &context.client;
    let already = context.attended_today;
    let views: Vec<SubscriptionView> = context
        .subscriptions
        .iter()
        .map(|(s, paid)| s.view(*paid))
        .collect();
    Ok(
        match decide_access(client.is_active, already, &views, today) {
            AccessDecision::Granted { subscription_id } => {
                let inserted = tx
                    .insert_attendance(&NewAttendance {
                        client_id: client.id,
                        subscription_id,
                        entry_time: now,
                        business_date: today,
                        method,
                        recorded_by: actor.username().to_owned(),
                        idempotency_key: key.map(str::to_owned),
                    })
                    .await?;
                match inserted {
                    AttendanceInsert::Inserted(attendance) => CheckInOutcome::Granted(attendance),
                    // Another desk checked the client in after `already` was read: the
                    // same refusal as before, an error, so this transaction is dropped and
                    // the caller records the lost race in a new one.
                    AttendanceInsert::AlreadyToday => {
                        return Err(Error::AccessDenied(DenialReason::AlreadyCheckedIn));
                    }
                }
            }
            AccessDecision::Denied(reason) => {
                tx.insert_keyed_denial(&NewDenial {
                    client_id: client.id,
                    reason,
                    method,
                    occurred_at: now,
                    business_date: today,
                    recorded_by: actor.username().to_owned(),
                    idempotency_key: key.map(str::to_owned),
                })
                .await?;
                CheckInOutcome::Denied(reason)
            }
        },
    )
}
