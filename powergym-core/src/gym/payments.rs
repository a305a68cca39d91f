//! Payment use cases.

use rust_decimal::Decimal;

use crate::domain::ids::{ClientId, SubscriptionId};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::payment::{
    Payment, PaymentMethod, PaymentReceipt, PaymentStats, accept_payment,
};
use crate::domain::staff::{Action, Actor};
use crate::error::{Error, Result};
use crate::gym::{Gym, permitted, retrying};
use crate::store::{Access, NewPayment, PaymentScope};

/// A payment as taken at the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentInput {
    /// The subscription paid for.
    pub subscription_id: SubscriptionId,
    /// Amount (more than zero, at most the balance, two decimals).
    pub amount: Decimal,
    /// How it was paid.
    pub method: PaymentMethod,
    /// Free-text note, optional (at most 500 characters).
    pub notes: Option<String>,
    /// A key the caller reuses when it retries the same payment: the retry writes
    /// nothing and returns the first payment, with the subscription's balance and status
    /// as they are now. Reusing a key for a different payment is a `Conflict`.
    pub idempotency_key: Option<String>,
}

impl Gym {
    /// Records a payment. The subscription row is locked for the whole transaction, the
    /// amount may not exceed the balance, and the subscription becomes `active` in the
    /// same transaction when it is fully paid and started.
    pub async fn record_payment(
        &self,
        actor: &Actor,
        input: PaymentInput,
    ) -> Result<PaymentReceipt> {
        self.bounded(async move {
            let notes = crate::domain::text::PAYMENT_NOTES.parse_optional(input.notes.as_deref())?;
            // One rule for every idempotency key (payments, sales, check-ins).
            let key = super::inventory::idempotency_key(input.idempotency_key.as_deref())?;
            let attempt = || async {
                let (now, today) = self.now();
                // One statement reads the account, locks the subscription and reads its
                // total paid and the key's payment after the lock.
                let mut tx = self.store.begin().await?;
                let context = tx
                    .payment_context(actor.username(), input.subscription_id, key.as_deref())
                    .await?;
                permitted(context.staff.as_ref(), Action::ManagePayments)?;
                let (sub, paid) = context.subscription.ok_or(Error::NotFound {
                    entity: "subscription",
                })?;
                if let Some(first) = context.first {
                    if first.subscription_id != input.subscription_id
                        || first.amount.amount() != input.amount
                        || first.method != input.method
                    {
                        return Err(Error::Conflict {
                            reason: "the idempotency key was already used for a different payment"
                                .into(),
                        });
                    }
                    return Ok(PaymentReceipt {
                        payment: first,
                        balance: sub.price.balance(paid),
                        status: sub.status,
                    });
                }
                // Judged on today's status: an unpaid period that ended yesterday takes no
                // payment even if the daily job has not marked it expired yet.
                let status = sub.status_on(paid, today);
                let outcome = accept_payment(
                    status,
                    &sub.price,
                    paid,
                    input.amount,
                    sub.start_date,
                    today,
                )?;
                let payment = tx
                    .insert_payment_with_status(
                        &NewPayment {
                            subscription_id: sub.id,
                            amount: outcome.amount,
                            method: input.method,
                            received_by: actor.username().to_owned(),
                            notes: notes.clone(),
                            idempotency_key: key.clone(),
                            payment_date: now,
                        },
                        (outcome.status != sub.status).then_some((sub.status, outcome.status)),
                    )
                    .await?;
                tx.commit().await?;
                tracing::info!(subscription_id = %sub.id, status = %outcome.status, "payment recorded");
                Ok(PaymentReceipt {
                    payment,
                    balance: outcome.balance,
                    status: outcome.status,
                })
            };
            // Two first calls with one key on different subscriptions race to the unique
            // index; the loser runs again and finds the winner's receipt.
            match retrying(attempt).await {
                Err(Error::AlreadyExists {
                    field: "idempotency_key",
                    ..
                }) => retrying(attempt).await,
                other => other,
            }
        })
        .await
    }

    /// A page of a subscription's payments, newest first.
    pub async fn subscription_payments(
        &self,
        actor: &Actor,
        id: SubscriptionId,
        page: PageRequest,
    ) -> Result<Page<Payment>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManagePayments).await?;
            tx.subscription_with_paid(id, Access::Read).await?;
            tx.subscription_payments(id, page).await
        })
        .await
    }

    /// A page of a client's payments, newest first.
    pub async fn client_payments(
        &self,
        actor: &Actor,
        id: ClientId,
        page: PageRequest,
    ) -> Result<Page<Payment>> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManagePayments).await?;
            tx.client_by_id(id).await?;
            tx.client_payments(id, page).await
        })
        .await
    }

    /// Payment totals and the real debt of one subscription.
    pub async fn subscription_payment_stats(
        &self,
        actor: &Actor,
        id: SubscriptionId,
    ) -> Result<PaymentStats> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManagePayments).await?;
            tx.subscription_with_paid(id, Access::Read).await?;
            tx.payment_stats(PaymentScope::Subscription(id)).await
        })
        .await
    }

    /// Payment totals and the real debt across a client's subscriptions.
    pub async fn client_payment_stats(&self, actor: &Actor, id: ClientId) -> Result<PaymentStats> {
        self.bounded(async move {
            let mut tx = self.begin_read_as(actor, Action::ManagePayments).await?;
            tx.client_by_id(id).await?;
            tx.payment_stats(PaymentScope::Client(id)).await
        })
        .await
    }
}
