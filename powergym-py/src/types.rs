//! The values handed to Python: frozen records (declared once each with
//! [`record::record!`]) whose enumerations are members of `powergym._enums`' classes and
//! whose money carries two decimal places. Every record is plain `Send` data with a
//! `From<core::T>`, so it can be built without the GIL. The other direction, strict
//! conversions of call arguments, is in [`args`].

pub(crate) mod args;
pub(crate) mod door;
pub(crate) mod enums;
pub(crate) mod pages;
pub(crate) mod people;
pub(crate) mod record;
pub(crate) mod reports;
pub(crate) mod sales;
pub(crate) mod stock;

use pyo3::prelude::*;

pub(crate) use door::{Attendance, CheckIn, DenialCount};
pub(crate) use pages::{
    AttendancePage, ClientPage, MovementPage, PaymentPage, PlanPage, ProductPage, SubscriptionPage,
};
pub(crate) use people::{Actor, Client, ClientDashboard, MigrationRecord, Staff};
pub(crate) use reports::{
    Activity, AttendanceStats, ClientStats, DailyJobResult, FinancialStats, InventoryStats,
    Statistics, SubscriptionStats,
};
pub(crate) use sales::{
    Payment, PaymentReceipt, PaymentStats, Plan, Reward, RewardEvaluation, Subscription,
};
pub(crate) use stock::{
    Movement, MovementTotals, Product, ProductHistory, StaffMovements, StockChange,
};

/// Registers every record class of this module, and `_enum_codes`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Actor>()?;
    m.add_class::<Client>()?;
    m.add_class::<ClientDashboard>()?;
    m.add_class::<Staff>()?;
    m.add_class::<MigrationRecord>()?;
    m.add_class::<Plan>()?;
    m.add_class::<Subscription>()?;
    m.add_class::<Payment>()?;
    m.add_class::<PaymentReceipt>()?;
    m.add_class::<PaymentStats>()?;
    m.add_class::<Reward>()?;
    m.add_class::<RewardEvaluation>()?;
    m.add_class::<CheckIn>()?;
    m.add_class::<Attendance>()?;
    m.add_class::<DenialCount>()?;
    m.add_class::<Product>()?;
    m.add_class::<StockChange>()?;
    m.add_class::<Movement>()?;
    m.add_class::<MovementTotals>()?;
    m.add_class::<ProductHistory>()?;
    m.add_class::<StaffMovements>()?;
    m.add_class::<ClientStats>()?;
    m.add_class::<SubscriptionStats>()?;
    m.add_class::<FinancialStats>()?;
    m.add_class::<AttendanceStats>()?;
    m.add_class::<InventoryStats>()?;
    m.add_class::<Statistics>()?;
    m.add_class::<DailyJobResult>()?;
    m.add_class::<Activity>()?;
    m.add_class::<ClientPage>()?;
    m.add_class::<PlanPage>()?;
    m.add_class::<ProductPage>()?;
    m.add_class::<SubscriptionPage>()?;
    m.add_class::<PaymentPage>()?;
    m.add_class::<AttendancePage>()?;
    m.add_class::<MovementPage>()?;
    m.add_function(wrap_pyfunction!(enums::enum_codes, m)?)?;
    Ok(())
}
