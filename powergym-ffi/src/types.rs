//! The values that cross as platform types, and core's enums mirrored as they are.
//!
//! Ids cross as `java.util.UUID` (Kotlin) / `String` (Swift), dates as
//! `java.time.LocalDate`, instants as `java.time.Instant` / `Date`, and money and
//! quantities as `java.math.BigDecimal` (a decimal string on the wire, never a float). Every
//! enum is core's own, mirrored with `#[uniffi::remote(Enum)]`, so a new core variant
//! fails to compile here until it crosses.

use std::time::SystemTime;

use chrono::{DateTime, NaiveDate, Utc};
use powergym_core::domain::inventory::{MovementType, StockReport, StockStatus};
use powergym_core::domain::plan::DurationUnit;
use powergym_core::domain::reward::RewardStatus;
use powergym_core::domain::staff::{AccountChange, Action, Role};
use powergym_core::{
    ActiveFilter, ActivityKind, Alert, CheckInMethod, ClientId, DenialReason, DocumentType, Gender,
    PaymentMethod, PlanId, SubscriptionEvent, SubscriptionId, SubscriptionStatus,
};
use rust_decimal::Decimal;
use uuid::Uuid;

uniffi::custom_type!(ClientId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(ClientId::parse(&s)?),
});

uniffi::custom_type!(PlanId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(PlanId::parse(&s)?),
});

uniffi::custom_type!(SubscriptionId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(SubscriptionId::parse(&s)?),
});

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(Uuid::parse_str(&s)?),
});

uniffi::custom_type!(NaiveDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |s| Ok(s.parse::<NaiveDate>()?),
});

uniffi::custom_type!(Decimal, String, {
    remote,
    lower: |d| d.to_string(),
    try_lift: |s| Ok(s.parse::<Decimal>()?),
});

/// Instants cross as the platform's native timestamp (`java.time.Instant`, `Date`).
pub type Timestamp = DateTime<Utc>;
uniffi::custom_type!(Timestamp, SystemTime, {
    remote,
    lower: |t| SystemTime::from(t),
    try_lift: |t| Ok(DateTime::<Utc>::from(t)),
});

/// Colombian identity document types.
#[uniffi::remote(Enum)]
pub enum DocumentType {
    Cc,
    Ti,
    Ce,
    Pp,
}

/// Gender as the original records it.
#[uniffi::remote(Enum)]
pub enum Gender {
    Male,
    Female,
    Other,
}

/// Which clients a list returns.
#[uniffi::remote(Enum)]
pub enum ActiveFilter {
    All,
    Active,
    Inactive,
}

/// Where a subscription is in its life.
#[uniffi::remote(Enum)]
pub enum SubscriptionStatus {
    PendingPayment,
    Scheduled,
    Active,
    Expired,
    Canceled,
}

/// Something that happens to an existing subscription.
#[uniffi::remote(Enum)]
pub enum SubscriptionEvent {
    Pay,
    StartDateReached,
    EndDatePassed,
    Cancel,
}

/// How a payment was made.
#[uniffi::remote(Enum)]
pub enum PaymentMethod {
    Cash,
    Qr,
}

/// The unit of a plan's duration.
#[uniffi::remote(Enum)]
pub enum DurationUnit {
    Day,
    Week,
    Month,
    Year,
}

/// A staff member's role.
#[uniffi::remote(Enum)]
pub enum Role {
    Admin,
    Employee,
}

/// Everything staff can do (spec §8.3).
#[uniffi::remote(Enum)]
pub enum Action {
    ManageOwnProfile,
    ManageStaff,
    ManageClients,
    ReadPlans,
    ManagePlans,
    ManageSubscriptions,
    RunDailyJobs,
    ManagePayments,
    CheckIn,
    ReadClientAttendance,
    ReadAllAttendance,
    ManageFaces,
    ManageRewards,
    ReadStatistics,
    ReadInventory,
    ManageProducts,
    AddStock,
    SellStock,
    ReadInventoryReports,
}

/// A change to a staff account that may remove an admin.
#[uniffi::remote(Enum)]
pub enum AccountChange {
    Disable,
    DemoteToEmployee,
    Remove,
}

/// How a client was identified at the door.
#[uniffi::remote(Enum)]
pub enum CheckInMethod {
    Document,
    Face,
    Manual,
}

/// Why a check-in was refused.
#[uniffi::remote(Enum)]
pub enum DenialReason {
    ClientInactive,
    NoSubscription,
    NotStartedYet,
    Expired,
    Unpaid,
    AlreadyCheckedIn,
}

/// The life of a reward.
#[uniffi::remote(Enum)]
pub enum RewardStatus {
    Pending,
    Applied,
    Expired,
}

/// Where a product's stock stands.
#[uniffi::remote(Enum)]
pub enum StockStatus {
    Normal,
    LowStock,
    StockOut,
    Overstock,
}

/// The direction of a stock movement.
#[uniffi::remote(Enum)]
pub enum MovementType {
    Entry,
    Exit,
}

/// Which stock report.
#[uniffi::remote(Enum)]
pub enum StockReport {
    LowStock,
    OutOfStock,
    Overstock,
}

/// Something in the statistics that needs the manager's attention.
#[uniffi::remote(Enum)]
pub enum Alert {
    LowStock,
    OutOfStock,
    SubscriptionsExpiring,
    PendingDebt,
}

/// The kind of a recent event.
#[uniffi::remote(Enum)]
pub enum ActivityKind {
    CheckIn,
    Payment,
    ClientRegistered,
    SubscriptionCreated,
}
