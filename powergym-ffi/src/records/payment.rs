//! Payments: what the desk takes, the receipts, and their totals.

use powergym_core as core;
use powergym_core::{PaymentMethod, SubscriptionId, SubscriptionStatus};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::types::Timestamp;

/// A payment as taken at the desk.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PaymentInput {
    /// The subscription paid for.
    pub subscription_id: SubscriptionId,
    /// Amount (more than zero, at most the balance, two decimals).
    pub amount: Decimal,
    /// How it was paid.
    pub method: PaymentMethod,
    /// Note, optional (at most 500 characters).
    #[uniffi(default = None)]
    pub notes: Option<String>,
    /// Retry key: a retried call returns the first receipt.
    #[uniffi(default = None)]
    pub idempotency_key: Option<String>,
}

impl From<PaymentInput> for core::PaymentInput {
    fn from(i: PaymentInput) -> Self {
        Self {
            subscription_id: i.subscription_id,
            amount: i.amount,
            method: i.method,
            notes: i.notes,
            idempotency_key: i.idempotency_key,
        }
    }
}

/// A recorded payment.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Payment {
    /// Identifier.
    pub id: Uuid,
    /// The subscription paid for.
    pub subscription_id: SubscriptionId,
    /// Amount received.
    pub amount: Decimal,
    /// How it was paid.
    pub method: PaymentMethod,
    /// When.
    pub payment_date: Timestamp,
    /// Staff member who received it.
    pub received_by: Option<String>,
    /// Note.
    pub notes: Option<String>,
    /// The retry key it was recorded with.
    pub idempotency_key: Option<String>,
}

impl From<core::Payment> for Payment {
    fn from(p: core::Payment) -> Self {
        Self {
            id: p.id,
            subscription_id: p.subscription_id,
            amount: p.amount.amount(),
            method: p.method,
            payment_date: p.payment_date,
            received_by: p.received_by,
            notes: p.notes,
            idempotency_key: p.idempotency_key,
        }
    }
}

page!(PaymentPage, Payment, core::Payment, "One page of payments.");

/// A recorded payment and what it did to its subscription.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PaymentReceipt {
    /// The payment.
    pub payment: Payment,
    /// Still owed.
    pub balance: Decimal,
    /// The subscription's status afterwards.
    pub status: SubscriptionStatus,
}

impl From<core::PaymentReceipt> for PaymentReceipt {
    fn from(r: core::PaymentReceipt) -> Self {
        Self {
            payment: r.payment.into(),
            balance: r.balance.amount(),
            status: r.status,
        }
    }
}

/// Totals of a subscription's or a client's payments.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PaymentStats {
    /// Payments made.
    pub count: u64,
    /// Their sum.
    pub total_paid: Decimal,
    /// Still owed on payable subscriptions.
    pub remaining_debt: Decimal,
    /// The latest payment, if any.
    pub last_payment_date: Option<Timestamp>,
}

impl From<core::PaymentStats> for PaymentStats {
    fn from(s: core::PaymentStats) -> Self {
        Self {
            count: s.count,
            total_paid: s.total_paid.amount(),
            remaining_debt: s.remaining_debt.amount(),
            last_payment_date: s.last_payment_date,
        }
    }
}
