//! Payments and a member's or subscription's payment history.

use rust_decimal::Decimal;
use uuid::Uuid;

use crate::errors::to_py;
use crate::types::args;
use crate::types::{Actor, PaymentPage, PaymentReceipt, PaymentStats};
use powergym_core as core;

use_cases! {
    /// Records a payment; a retried call with the same `idempotency_key` returns the
    /// first receipt.
    #[pyo3(signature = (actor, *, subscription_id, amount, method, notes = None, idempotency_key = None))]
    fn record_payment(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::subscription_id)] subscription_id: Uuid,
        #[pyo3(from_py_with = args::amount)] amount: Decimal,
        #[pyo3(from_py_with = args::method)] method: String,
        #[pyo3(from_py_with = args::notes)] notes: Option<String>,
        #[pyo3(from_py_with = args::idempotency_key)] idempotency_key: Option<String>,
    ) -> PaymentReceipt {
        let input = core::PaymentInput {
            subscription_id: core::SubscriptionId::from_uuid(subscription_id),
            amount,
            method: method.parse().map_err(to_py)?,
            notes,
            idempotency_key,
        };
        let actor = actor.0.clone();
        async move { gym.record_payment(&actor, input).await.map(PaymentReceipt::from) }
    }

    /// A page of one subscription's payments, newest first.
    #[pyo3(signature = (actor, subscription_id, *, limit = 100, offset = 0))]
    fn subscription_payments(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::subscription_id)] subscription_id: Uuid,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> PaymentPage {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        let id = core::SubscriptionId::from_uuid(subscription_id);
        async move {
            gym.subscription_payments(&actor, id, page)
                .await
                .map(PaymentPage::from)
        }
    }

    /// A page of everything a client paid, newest first.
    #[pyo3(signature = (actor, client_id, *, limit = 100, offset = 0))]
    fn client_payments(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
        #[pyo3(from_py_with = args::limit)] limit: u32,
        #[pyo3(from_py_with = args::offset)] offset: u64,
    ) -> PaymentPage {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { gym.client_payments(&actor, id, page).await.map(PaymentPage::from) }
    }

    /// Totals of one subscription's payments: how many, their sum, what is still owed,
    /// when the last one was made.
    fn subscription_payment_stats(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::subscription_id)] subscription_id: Uuid,
    ) -> PaymentStats {
        let actor = actor.0.clone();
        let id = core::SubscriptionId::from_uuid(subscription_id);
        async move {
            gym.subscription_payment_stats(&actor, id)
                .await
                .map(PaymentStats::from)
        }
    }

    /// Totals of everything a client paid, and what the client still owes.
    fn client_payment_stats(
        gym,
        actor: &Actor,
        #[pyo3(from_py_with = args::client_id)] client_id: Uuid,
    ) -> PaymentStats {
        let actor = actor.0.clone();
        let id = core::ClientId::from_uuid(client_id);
        async move { gym.client_payment_stats(&actor, id).await.map(PaymentStats::from) }
    }
}
