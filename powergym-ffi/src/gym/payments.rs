//! Payment use cases: record, history, totals.

use std::sync::Arc;

use powergym_core as core;
use powergym_core::{ClientId, SubscriptionId};

use crate::records::{Actor, PaymentInput, PaymentPage, PaymentReceipt, PaymentStats};
use crate::{Gym, Result};

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Records a payment; a retried call with the same `idempotencyKey` returns the first
    /// receipt.
    pub async fn record_payment(
        &self,
        actor: Arc<Actor>,
        input: PaymentInput,
    ) -> Result<PaymentReceipt> {
        Ok(self
            .0
            .record_payment(&actor.actor, input.into())
            .await?
            .into())
    }

    /// A page of a subscription's payments, newest first.
    #[uniffi::method(default(limit = 100, offset = 0))]
    pub async fn subscription_payments(
        &self,
        actor: Arc<Actor>,
        subscription_id: SubscriptionId,
        limit: u32,
        offset: u64,
    ) -> Result<PaymentPage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .subscription_payments(&actor.actor, subscription_id, page)
            .await?
            .into())
    }

    /// A page of a client's payments, newest first.
    #[uniffi::method(default(limit = 100, offset = 0))]
    pub async fn client_payments(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
        limit: u32,
        offset: u64,
    ) -> Result<PaymentPage> {
        let page = core::PageRequest::new(limit, offset)?;
        Ok(self
            .0
            .client_payments(&actor.actor, client_id, page)
            .await?
            .into())
    }

    /// Totals of a subscription's payments.
    pub async fn subscription_payment_stats(
        &self,
        actor: Arc<Actor>,
        subscription_id: SubscriptionId,
    ) -> Result<PaymentStats> {
        Ok(self
            .0
            .subscription_payment_stats(&actor.actor, subscription_id)
            .await?
            .into())
    }

    /// Totals of a client's payments.
    pub async fn client_payment_stats(
        &self,
        actor: Arc<Actor>,
        client_id: ClientId,
    ) -> Result<PaymentStats> {
        Ok(self
            .0
            .client_payment_stats(&actor.actor, client_id)
            .await?
            .into())
    }
}
