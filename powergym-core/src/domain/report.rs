//! Report records: the gym's statistics for a period and the recent-activity feed.
//!
//! Where the original computed these wrongly, the definitions here are the corrected
//! ones: debt comes from each subscription's price snapshot, "low stock" is the stock
//! status rule's, periods are business days in the gym's zone, and a sale is worth the
//! total stored with it.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::domain::ids::ClientId;
use crate::domain::money::Money;

/// Clients.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientStats {
    /// All clients.
    pub total: u64,
    /// Active ones.
    pub active: u64,
    /// Deactivated ones.
    pub inactive: u64,
    /// Registered during the period.
    pub new_in_period: u64,
    /// Active clients with an active subscription.
    pub with_active_subscription: u64,
    /// Clients with an expired subscription and no active one.
    pub with_expired_subscription: u64,
    /// Clients with a subscription awaiting payment.
    pub with_pending_payment: u64,
}

/// Subscriptions (all time, as the original).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubscriptionStats {
    /// All subscriptions.
    pub total: u64,
    /// Per status.
    pub active: u64,
    /// Per status.
    pub expired: u64,
    /// Per status.
    pub pending_payment: u64,
    /// Per status.
    pub scheduled: u64,
    /// Per status.
    pub canceled: u64,
    /// Active, ending between today and 7 days from today, inclusive.
    pub expiring_soon: u64,
    /// Expired, ended between 7 days ago and today, inclusive.
    pub expired_recently: u64,
}

/// Money from subscriptions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FinancialStats {
    /// Payments received in the period.
    pub period_revenue: Money,
    /// How many.
    pub payments_count: u64,
    /// Their mean, to the cent (0 without payments).
    pub average_payment: Money,
    /// Received in cash.
    pub revenue_cash: Money,
    /// Received by QR.
    pub revenue_qr: Money,
    /// Still owed on payable subscriptions, from their price snapshots.
    pub pending_debt: Money,
    /// Payable subscriptions with something owed.
    pub debt_count: u64,
}

/// Attendance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttendanceStats {
    /// Check-ins in the period.
    pub total_attendances: u64,
    /// Distinct clients who came.
    pub unique_visitors: u64,
    /// The local hour with most check-ins (0–23), if any.
    pub peak_hour: Option<u32>,
    /// Check-ins per business day of the period.
    pub average_daily: Decimal,
    /// Unique visitors per 100 active clients.
    pub attendance_rate: Decimal,
    /// Refused check-ins in the period.
    pub denied_check_ins: u64,
}

/// Inventory.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InventoryStats {
    /// All products.
    pub total_products: u64,
    /// Active products.
    pub active_products: u64,
    /// Active products with low stock (the status rule's definition).
    pub low_stock: u64,
    /// Active products with no stock.
    pub out_of_stock: u64,
    /// Active products above their maximum.
    pub overstock: u64,
    /// Σ stock × price over active products.
    pub inventory_value: Money,
    /// Σ stock over active products.
    pub total_units: Decimal,
    /// Sales in the period.
    pub sales_count: u64,
    /// Units sold in the period.
    pub units_sold: Decimal,
    /// What the period's sales were worth, at their own prices.
    pub sales_amount: Money,
}

/// Something that needs the manager's attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alert {
    /// Products at or below their minimum.
    LowStock,
    /// Products with no stock.
    OutOfStock,
    /// Subscriptions ending within a week.
    SubscriptionsExpiring,
    /// Money owed on payable subscriptions.
    PendingDebt,
}

impl Alert {
    /// Stable snake_case code, the same in every binding (`low_stock`, `out_of_stock`,
    /// `subscriptions_expiring`, `pending_debt`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LowStock => "low_stock",
            Self::OutOfStock => "out_of_stock",
            Self::SubscriptionsExpiring => "subscriptions_expiring",
            Self::PendingDebt => "pending_debt",
        }
    }
}

/// The gym's statistics for a period of business days.
#[derive(Debug, Clone, PartialEq)]
pub struct GymStatistics {
    /// First business day, inclusive.
    pub from: NaiveDate,
    /// Last business day, inclusive.
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

impl GymStatistics {
    /// The alerts the figures call for.
    pub fn derive_alerts(&mut self) {
        let mut alerts = Vec::new();
        if self.inventory.low_stock > 0 {
            alerts.push(Alert::LowStock);
        }
        if self.inventory.out_of_stock > 0 {
            alerts.push(Alert::OutOfStock);
        }
        if self.subscriptions.expiring_soon > 0 {
            alerts.push(Alert::SubscriptionsExpiring);
        }
        if self.financial.debt_count > 0 {
            alerts.push(Alert::PendingDebt);
        }
        self.alerts = alerts;
    }
}

/// The kind of a recent event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// A member checked in.
    CheckIn,
    /// A payment was received.
    Payment,
    /// A client was registered.
    ClientRegistered,
    /// A subscription was sold.
    SubscriptionCreated,
}

impl ActivityKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CheckIn => "check_in",
            Self::Payment => "payment",
            Self::ClientRegistered => "client_registered",
            Self::SubscriptionCreated => "subscription_created",
        }
    }
}

/// One line of the recent-activity feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// What happened.
    pub kind: ActivityKind,
    /// When.
    pub at: DateTime<Utc>,
    /// The record it concerns (attendance, payment, client or subscription id).
    pub record_id: uuid::Uuid,
    /// The client concerned.
    pub client_id: ClientId,
    /// For a payment, its amount.
    pub amount: Option<Money>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_codes_are_distinct_snake_case() {
        let all = [
            Alert::LowStock,
            Alert::OutOfStock,
            Alert::SubscriptionsExpiring,
            Alert::PendingDebt,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(|a| a.as_str()).collect();
        assert_eq!(codes.len(), all.len());
        assert!(
            codes
                .iter()
                .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        );
    }
}
