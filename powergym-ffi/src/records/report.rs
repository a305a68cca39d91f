//! The manager's reports: the period statistics and the recent activity feed.

use chrono::NaiveDate;
use powergym_core as core;
use powergym_core::domain::report;
use powergym_core::{ActivityKind, Alert, ClientId};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::types::Timestamp;

/// Client figures of a period.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ClientStats {
    /// Clients in all.
    pub total: u64,
    /// Active clients.
    pub active: u64,
    /// Deactivated clients.
    pub inactive: u64,
    /// Registered in the period.
    pub new_in_period: u64,
    /// Active clients with an active subscription.
    pub with_active_subscription: u64,
    /// Clients with an expired subscription and no active one.
    pub with_expired_subscription: u64,
    /// Clients with a subscription awaiting payment.
    pub with_pending_payment: u64,
}

/// Subscription figures.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SubscriptionStats {
    /// Subscriptions in all.
    pub total: u64,
    /// Active.
    pub active: u64,
    /// Expired.
    pub expired: u64,
    /// Awaiting payment.
    pub pending_payment: u64,
    /// Scheduled to start later.
    pub scheduled: u64,
    /// Canceled.
    pub canceled: u64,
    /// Active, ending between today and 7 days from today, inclusive.
    pub expiring_soon: u64,
    /// Expired, ended between 7 days ago and today, inclusive.
    pub expired_recently: u64,
}

/// Money figures of a period.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FinancialStats {
    /// Payments received in the period.
    pub period_revenue: Decimal,
    /// Payments made in the period.
    pub payments_count: u64,
    /// Their mean, to the cent (0 without payments).
    pub average_payment: Decimal,
    /// Received in cash.
    pub revenue_cash: Decimal,
    /// Received by QR.
    pub revenue_qr: Decimal,
    /// Still owed on payable subscriptions.
    pub pending_debt: Decimal,
    /// Payable subscriptions with something owed.
    pub debt_count: u64,
}

/// Attendance figures of a period.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct AttendanceStats {
    /// Check-ins.
    pub total_attendances: u64,
    /// Distinct clients who came.
    pub unique_visitors: u64,
    /// The local hour with most check-ins (0–23), if any.
    pub peak_hour: Option<u32>,
    /// Check-ins per business day of the period.
    pub average_daily: Decimal,
    /// Unique visitors per 100 active clients.
    pub attendance_rate: Decimal,
    /// Refused check-ins.
    pub denied_check_ins: u64,
}

/// Inventory figures of a period.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct InventoryStats {
    /// Products in all.
    pub total_products: u64,
    /// Active products.
    pub active_products: u64,
    /// Active products with low stock.
    pub low_stock: u64,
    /// Active products with no stock.
    pub out_of_stock: u64,
    /// Active products over their maximum.
    pub overstock: u64,
    /// Σ stock × price over active products.
    pub inventory_value: Decimal,
    /// Σ stock over active products.
    pub total_units: Decimal,
    /// Sales in the period.
    pub sales_count: u64,
    /// Units sold in the period.
    pub units_sold: Decimal,
    /// What the period's sales were worth, at their own prices.
    pub sales_amount: Decimal,
}

/// Everything the manager's dashboard shows for a period.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct GymStatistics {
    /// First business day of the period.
    pub from: NaiveDate,
    /// Last business day of the period.
    pub to: NaiveDate,
    /// Clients.
    pub clients: ClientStats,
    /// Subscriptions.
    pub subscriptions: SubscriptionStats,
    /// Money.
    pub financial: FinancialStats,
    /// Attendance.
    pub attendance: AttendanceStats,
    /// Inventory.
    pub inventory: InventoryStats,
    /// What needs attention.
    pub alerts: Vec<Alert>,
}

impl From<core::GymStatistics> for GymStatistics {
    fn from(s: core::GymStatistics) -> Self {
        let report::ClientStats {
            total,
            active,
            inactive,
            new_in_period,
            with_active_subscription,
            with_expired_subscription,
            with_pending_payment,
        } = s.clients;
        let sub = s.subscriptions;
        let fin = s.financial;
        let att = s.attendance;
        let inv = s.inventory;
        Self {
            from: s.from,
            to: s.to,
            clients: ClientStats {
                total,
                active,
                inactive,
                new_in_period,
                with_active_subscription,
                with_expired_subscription,
                with_pending_payment,
            },
            subscriptions: SubscriptionStats {
                total: sub.total,
                active: sub.active,
                expired: sub.expired,
                pending_payment: sub.pending_payment,
                scheduled: sub.scheduled,
                canceled: sub.canceled,
                expiring_soon: sub.expiring_soon,
                expired_recently: sub.expired_recently,
            },
            financial: FinancialStats {
                period_revenue: fin.period_revenue.amount(),
                payments_count: fin.payments_count,
                average_payment: fin.average_payment.amount(),
                revenue_cash: fin.revenue_cash.amount(),
                revenue_qr: fin.revenue_qr.amount(),
                pending_debt: fin.pending_debt.amount(),
                debt_count: fin.debt_count,
            },
            attendance: AttendanceStats {
                total_attendances: att.total_attendances,
                unique_visitors: att.unique_visitors,
                peak_hour: att.peak_hour,
                average_daily: att.average_daily,
                attendance_rate: att.attendance_rate,
                denied_check_ins: att.denied_check_ins,
            },
            inventory: InventoryStats {
                total_products: inv.total_products,
                active_products: inv.active_products,
                low_stock: inv.low_stock,
                out_of_stock: inv.out_of_stock,
                overstock: inv.overstock,
                inventory_value: inv.inventory_value.amount(),
                total_units: inv.total_units,
                sales_count: inv.sales_count,
                units_sold: inv.units_sold,
                sales_amount: inv.sales_amount.amount(),
            },
            alerts: s.alerts,
        }
    }
}

/// A recent event at the gym, naming the client by id only.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Activity {
    /// What happened.
    pub kind: ActivityKind,
    /// When.
    pub at: Timestamp,
    /// The record it wrote (attendance, payment, client or subscription).
    pub record_id: Uuid,
    /// The client concerned.
    pub client_id: ClientId,
    /// The amount, for a payment.
    pub amount: Option<Decimal>,
}

impl From<core::Activity> for Activity {
    fn from(a: core::Activity) -> Self {
        Self {
            kind: a.kind,
            at: a.at,
            record_id: a.record_id,
            client_id: a.client_id,
            amount: a.amount.map(|m| m.amount()),
        }
    }
}
