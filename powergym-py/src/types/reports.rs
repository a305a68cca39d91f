//! Reports: the gym's statistics, the daily jobs' result and the activity feed.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::types::enums::Enum;
use crate::types::record::{Money, record};
use powergym_core as core;
use powergym_core::domain::report;

record! {
    /// Members, for a period.
    ClientStats {
        total: u64,
        active: u64,
        inactive: u64,
        new_in_period: u64,
        with_active_subscription: u64,
        with_expired_subscription: u64,
        with_pending_payment: u64,
    }
    repr(total, active, inactive, new_in_period, with_active_subscription,
         with_expired_subscription, with_pending_payment)
}

impl From<report::ClientStats> for ClientStats {
    fn from(c: report::ClientStats) -> Self {
        Self {
            total: c.total,
            active: c.active,
            inactive: c.inactive,
            new_in_period: c.new_in_period,
            with_active_subscription: c.with_active_subscription,
            with_expired_subscription: c.with_expired_subscription,
            with_pending_payment: c.with_pending_payment,
        }
    }
}

record! {
    /// Subscriptions per status (all time), and those ending soon or ended lately.
    SubscriptionStats {
        total: u64,
        active: u64,
        expired: u64,
        pending_payment: u64,
        scheduled: u64,
        canceled: u64,
        /// Active, ending within a week.
        expiring_soon: u64,
        /// Expired within the last week.
        expired_recently: u64,
    }
    repr(total, active, expired, pending_payment, scheduled, canceled, expiring_soon,
         expired_recently)
}

impl From<report::SubscriptionStats> for SubscriptionStats {
    fn from(s: report::SubscriptionStats) -> Self {
        Self {
            total: s.total,
            active: s.active,
            expired: s.expired,
            pending_payment: s.pending_payment,
            scheduled: s.scheduled,
            canceled: s.canceled,
            expiring_soon: s.expiring_soon,
            expired_recently: s.expired_recently,
        }
    }
}

record! {
    /// Money from subscriptions.
    FinancialStats {
        /// Payments received in the period.
        period_revenue: Money,
        payments_count: u64,
        average_payment: Money,
        revenue_cash: Money,
        revenue_qr: Money,
        /// Still owed on payable subscriptions.
        pending_debt: Money,
        debt_count: u64,
    }
    repr(period_revenue, payments_count, average_payment, revenue_cash, revenue_qr,
         pending_debt, debt_count)
}

impl From<report::FinancialStats> for FinancialStats {
    fn from(f: report::FinancialStats) -> Self {
        Self {
            period_revenue: f.period_revenue.into(),
            payments_count: f.payments_count,
            average_payment: f.average_payment.into(),
            revenue_cash: f.revenue_cash.into(),
            revenue_qr: f.revenue_qr.into(),
            pending_debt: f.pending_debt.into(),
            debt_count: f.debt_count,
        }
    }
}

record! {
    /// Attendance in the period.
    AttendanceStats {
        total_attendances: u64,
        unique_visitors: u64,
        /// The local hour (0–23) with most check-ins, if any.
        peak_hour: Option<u32>,
        /// Check-ins per business day.
        average_daily: Decimal,
        /// Unique visitors per 100 active members.
        attendance_rate: Decimal,
        denied_check_ins: u64,
    }
    repr(total_attendances, unique_visitors, peak_hour, average_daily, attendance_rate,
         denied_check_ins)
}

impl From<report::AttendanceStats> for AttendanceStats {
    fn from(a: report::AttendanceStats) -> Self {
        Self {
            total_attendances: a.total_attendances,
            unique_visitors: a.unique_visitors,
            peak_hour: a.peak_hour,
            average_daily: a.average_daily,
            attendance_rate: a.attendance_rate,
            denied_check_ins: a.denied_check_ins,
        }
    }
}

record! {
    /// Inventory now, and sales in the period.
    InventoryStats {
        total_products: u64,
        active_products: u64,
        low_stock: u64,
        out_of_stock: u64,
        overstock: u64,
        /// Stock × price over active products.
        inventory_value: Money,
        total_units: Decimal,
        sales_count: u64,
        units_sold: Decimal,
        sales_amount: Money,
    }
    repr(total_products, active_products, low_stock, out_of_stock, overstock,
         inventory_value, sales_count, sales_amount)
}

impl From<report::InventoryStats> for InventoryStats {
    fn from(i: report::InventoryStats) -> Self {
        Self {
            total_products: i.total_products,
            active_products: i.active_products,
            low_stock: i.low_stock,
            out_of_stock: i.out_of_stock,
            overstock: i.overstock,
            inventory_value: i.inventory_value.into(),
            total_units: i.total_units,
            sales_count: i.sales_count,
            units_sold: i.units_sold,
            sales_amount: i.sales_amount.into(),
        }
    }
}

record! {
    /// The gym's statistics between two business days (`start` and `end`, inclusive).
    Statistics {
        start: NaiveDate,
        end: NaiveDate,
        clients: ClientStats,
        subscriptions: SubscriptionStats,
        financial: FinancialStats,
        attendance: AttendanceStats,
        inventory: InventoryStats,
        /// What needs the manager's attention.
        alerts: Vec<Enum<core::Alert>>,
    }
    repr(start, end, alerts)
}

impl From<core::GymStatistics> for Statistics {
    fn from(s: core::GymStatistics) -> Self {
        Self {
            start: s.from,
            end: s.to,
            clients: s.clients.into(),
            subscriptions: s.subscriptions.into(),
            financial: s.financial.into(),
            attendance: s.attendance.into(),
            inventory: s.inventory.into(),
            alerts: s.alerts.into_iter().map(Into::into).collect(),
        }
    }
}

record! {
    /// What the daily jobs changed.
    DailyJobResult {
        /// Paid scheduled subscriptions whose start arrived, now active.
        activated: u64,
        /// Unpaid scheduled subscriptions whose start arrived, now pending payment.
        awaiting_payment: u64,
        /// Active subscriptions past their end, now expired.
        expired: u64,
        /// Subscriptions past their end that never became active, now expired.
        expired_unpaid: u64,
        /// Pending rewards past their last day, now expired.
        expired_rewards: u64,
    }
    repr(activated, awaiting_payment, expired, expired_unpaid, expired_rewards)
}

impl From<core::DailyJobCounts> for DailyJobResult {
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

record! {
    /// One line of the recent-activity feed.
    Activity {
        kind: Enum<core::ActivityKind>,
        at: DateTime<Utc>,
        /// The attendance, payment, client or subscription it concerns.
        record_id: Uuid,
        client_id: Uuid,
        /// For a payment, its amount.
        amount: Option<Money>,
    }
    repr(kind, at, record_id)
}

impl From<core::Activity> for Activity {
    fn from(a: core::Activity) -> Self {
        Self {
            kind: a.kind.into(),
            at: a.at,
            record_id: a.record_id,
            client_id: a.client_id.as_uuid(),
            amount: a.amount.map(Into::into),
        }
    }
}
