//! Plans, subscriptions, payments and rewards.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::types::enums::Enum;
use crate::types::record::{Money, record};
use powergym_core as core;

record! {
    /// A membership plan.
    Plan {
        id: Uuid,
        name: String,
        slug: Option<String>,
        description: Option<String>,
        price: Money,
        currency: String,
        duration_unit: Enum<core::DurationUnit>,
        duration_count: u32,
        is_active: bool,
        created_at: DateTime<Utc>,
    }
    repr(id, price, duration_unit, duration_count, is_active)
}

impl From<core::Plan> for Plan {
    fn from(p: core::Plan) -> Self {
        Self {
            id: p.id.as_uuid(),
            name: p.name,
            slug: p.slug,
            description: p.description,
            price: p.price.into(),
            currency: p.currency.as_str().to_owned(),
            duration_unit: p.duration.unit().into(),
            duration_count: p.duration.count(),
            is_active: p.is_active,
            created_at: p.created_at,
        }
    }
}

record! {
    /// A subscription with its price snapshot, fixed at purchase.
    Subscription {
        id: Uuid,
        client_id: Uuid,
        plan_id: Uuid,
        start_date: NaiveDate,
        end_date: NaiveDate,
        status: Enum<core::SubscriptionStatus>,
        list_price: Money,
        /// A percentage (20 is 20 %), not money.
        discount_percentage: Option<Decimal>,
        final_price: Money,
        currency: String,
        cancellation_date: Option<NaiveDate>,
        cancellation_reason: Option<String>,
        created_at: DateTime<Utc>,
    }
    repr(id, status, start_date, end_date)
}

impl From<core::Subscription> for Subscription {
    fn from(s: core::Subscription) -> Self {
        Self {
            id: s.id.as_uuid(),
            client_id: s.client_id.as_uuid(),
            plan_id: s.plan_id.as_uuid(),
            start_date: s.start_date,
            end_date: s.end_date,
            status: s.status.into(),
            list_price: s.price.list_price().into(),
            discount_percentage: s.price.discount().map(|d| d.value()),
            final_price: s.price.final_price().into(),
            currency: s.currency.as_str().to_owned(),
            cancellation_date: s.cancellation_date,
            cancellation_reason: s.cancellation_reason,
            created_at: s.created_at,
        }
    }
}

record! {
    /// A recorded payment (a line of a payment history).
    Payment {
        id: Uuid,
        subscription_id: Uuid,
        amount: Money,
        method: Enum<core::PaymentMethod>,
        payment_date: DateTime<Utc>,
        received_by: Option<String>,
        notes: Option<String>,
        /// The caller's retry key, if one was given.
        idempotency_key: Option<String>,
    }
    repr(id, subscription_id, amount, method)
}

impl From<core::Payment> for Payment {
    fn from(p: core::Payment) -> Self {
        Self {
            id: p.id,
            subscription_id: p.subscription_id.as_uuid(),
            amount: p.amount.into(),
            method: p.method.into(),
            payment_date: p.payment_date,
            received_by: p.received_by,
            notes: p.notes,
            idempotency_key: p.idempotency_key,
        }
    }
}

record! {
    /// A recorded payment and what it did to its subscription.
    PaymentReceipt {
        payment_id: Uuid,
        subscription_id: Uuid,
        amount: Money,
        method: Enum<core::PaymentMethod>,
        payment_date: DateTime<Utc>,
        received_by: Option<String>,
        /// Still owed after it.
        balance: Money,
        /// The subscription's status after it.
        status: Enum<core::SubscriptionStatus>,
    }
    repr(payment_id, amount, balance, status)
}

impl From<core::PaymentReceipt> for PaymentReceipt {
    fn from(r: core::PaymentReceipt) -> Self {
        Self {
            payment_id: r.payment.id,
            subscription_id: r.payment.subscription_id.as_uuid(),
            amount: r.payment.amount.into(),
            method: r.payment.method.into(),
            payment_date: r.payment.payment_date,
            received_by: r.payment.received_by,
            balance: r.balance.into(),
            status: r.status.into(),
        }
    }
}

record! {
    /// Totals of a subscription's or a member's payments.
    PaymentStats {
        count: u64,
        total_paid: Money,
        /// Still owed on payable subscriptions.
        remaining_debt: Money,
        last_payment_date: Option<DateTime<Utc>>,
    }
    repr(count, total_paid, remaining_debt, last_payment_date)
}

impl From<core::PaymentStats> for PaymentStats {
    fn from(s: core::PaymentStats) -> Self {
        Self {
            count: s.count,
            total_paid: s.total_paid.into(),
            remaining_debt: s.remaining_debt.into(),
            last_payment_date: s.last_payment_date,
        }
    }
}

record! {
    /// An earned reward: a discount on a later subscription of the same member.
    Reward {
        id: Uuid,
        subscription_id: Uuid,
        client_id: Uuid,
        attendance_count: u32,
        /// A percentage (20 is 20 %), not money.
        discount_percentage: Decimal,
        eligible_date: NaiveDate,
        expires_on: NaiveDate,
        status: Enum<core::RewardStatus>,
        applied_at: Option<DateTime<Utc>>,
        applied_subscription_id: Option<Uuid>,
    }
    repr(id, status, discount_percentage, expires_on)
}

impl From<core::Reward> for Reward {
    fn from(r: core::Reward) -> Self {
        Self {
            id: r.id,
            subscription_id: r.subscription_id.as_uuid(),
            client_id: r.client_id.as_uuid(),
            attendance_count: r.attendance_count,
            discount_percentage: r.discount.value(),
            eligible_date: r.eligible_date,
            expires_on: r.expires_on,
            status: r.status.into(),
            applied_at: r.applied_at,
            applied_subscription_id: r.applied_subscription_id.map(|s| s.as_uuid()),
        }
    }
}

record! {
    /// The verdict on a subscription's attendance: the days counted and the reward
    /// earned (now or before), or `None` while not earned.
    RewardEvaluation {
        attendance_count: u32,
        reward: Option<Reward>,
    }
    repr(attendance_count, reward)
}

impl From<core::RewardEvaluation> for RewardEvaluation {
    fn from(e: core::RewardEvaluation) -> Self {
        Self {
            attendance_count: e.attendance_count,
            reward: e.reward.map(Into::into),
        }
    }
}
