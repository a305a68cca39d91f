//! Subscriptions: a plan sold to a client, with its price fixed at purchase.

use chrono::NaiveDate;
use powergym_core as core;
use powergym_core::{ClientId, PlanId, SubscriptionId, SubscriptionStatus};
use rust_decimal::Decimal;

use crate::types::Timestamp;

/// A subscription with its price snapshot.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Subscription {
    /// Identifier.
    pub id: SubscriptionId,
    /// Whose it is.
    pub client_id: ClientId,
    /// Which plan.
    pub plan_id: PlanId,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// Status.
    pub status: SubscriptionStatus,
    /// The plan's price when bought.
    pub list_price: Decimal,
    /// Purchase discount (and any reward applied since), percent.
    pub discount_percentage: Option<Decimal>,
    /// What the discount takes off the list price.
    pub discount_amount: Decimal,
    /// What is owed in all.
    pub final_price: Decimal,
    /// Currency (ISO 4217), the plan's when bought.
    pub currency: String,
    /// The business day it was canceled, if it was.
    pub cancellation_date: Option<NaiveDate>,
    /// Why it was canceled, as typed.
    pub cancellation_reason: Option<String>,
    /// When it was sold.
    pub created_at: Timestamp,
}

impl From<core::Subscription> for Subscription {
    fn from(s: core::Subscription) -> Self {
        Self {
            id: s.id,
            client_id: s.client_id,
            plan_id: s.plan_id,
            start_date: s.start_date,
            end_date: s.end_date,
            status: s.status,
            list_price: s.price.list_price().amount(),
            discount_percentage: s.price.discount().map(|d| d.value()),
            discount_amount: s.price.discount_amount().amount(),
            final_price: s.price.final_price().amount(),
            currency: s.currency.as_str().to_owned(),
            cancellation_date: s.cancellation_date,
            cancellation_reason: s.cancellation_reason,
            created_at: s.created_at,
        }
    }
}

page!(
    SubscriptionPage,
    Subscription,
    core::Subscription,
    "One page of subscriptions."
);

/// What the daily jobs changed: five counts, each zero when there was nothing to do
/// (running again on the same day changes nothing).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DailyJobCounts {
    /// Paid scheduled subscriptions whose start arrived, now active.
    pub activated: u64,
    /// Unpaid scheduled subscriptions whose start arrived, now pending payment.
    pub awaiting_payment: u64,
    /// Active subscriptions past their end, now expired.
    pub expired: u64,
    /// Subscriptions past their end that never became active, now expired.
    pub expired_unpaid: u64,
    /// Pending rewards past their last day, now expired.
    pub expired_rewards: u64,
}

impl From<core::DailyJobCounts> for DailyJobCounts {
    fn from(c: core::DailyJobCounts) -> Self {
        Self {
            activated: c.activated,
            awaiting_payment: c.awaiting_payment,
            expired: c.expired,
            expired_unpaid: c.expired_unpaid,
            expired_rewards: c.expired_rewards,
        }
    }
}
