//! The pure rules of powergym-core for Kotlin and Swift. Conversions only: every
//! decision is made by the core function each export calls.
//!
//! An app calls these to preview before it writes (a price with a discount, a period's
//! end date, a renewal's start, whether a member would be let in, a business date); the
//! rest are here because the shared conformance vectors (`conformance/*.json`, run by
//! `ConformanceTest.kt` as by the Rust and Python suites) drive every rule family through
//! each language, and the label parsers turn the vectors' labels into core's enums by
//! core's own spelling. Each export is used by that test; anything a use case covers is
//! reached through the use case.

use chrono::NaiveDate;
use powergym_core as core;
use powergym_core::DenialReason;
use powergym_core::domain::inventory::{MovementType, Quantity, StockLimits, StockStatus};
use powergym_core::domain::money::{DiscountPercent, Money};
use powergym_core::domain::payment::PriceSnapshot as CorePrice;
use powergym_core::domain::plan::{DurationUnit, PlanDuration};
use powergym_core::domain::reward::RewardStatus;
use powergym_core::domain::staff::{AccountChange, Action, Role};
use powergym_core::domain::{access, inventory, payment, plan, reward, staff};
use powergym_core::{ClientId, SubscriptionEvent, SubscriptionId, SubscriptionStatus};
use rust_decimal::Decimal;

use crate::types::Timestamp;
use crate::{PowergymError, Result};

/// A subscription's price, fixed at purchase.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PriceSnapshot {
    /// The plan's price when bought.
    pub list_price: Decimal,
    /// The purchase discount percentage, if any.
    pub discount: Option<Decimal>,
    /// What the member owes in all.
    pub final_price: Decimal,
    /// How much the discount took off.
    pub discount_amount: Decimal,
}

impl From<CorePrice> for PriceSnapshot {
    fn from(p: CorePrice) -> Self {
        Self {
            list_price: p.list_price().amount(),
            discount: p.discount().map(|d| d.value()),
            final_price: p.final_price().amount(),
            discount_amount: p.discount_amount().amount(),
        }
    }
}

/// What a payment did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PaymentOutcome {
    /// Total paid including this payment.
    pub paid: Decimal,
    /// Still owed.
    pub balance: Decimal,
    /// The subscription's status afterwards.
    pub status: SubscriptionStatus,
}

/// How rewards are earned; the defaults are the original's.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RewardConfig {
    /// Distinct attendance days needed.
    #[uniffi(default = 20)]
    pub attendance_threshold: u32,
    /// The discount a reward gives, in percent (the original's default is 20). No
    /// binding default: a custom-typed default renders as a bare string in Kotlin.
    pub discount_percentage: Decimal,
    /// Days a reward stays usable.
    #[uniffi(default = 7)]
    pub expiration_days: u32,
    /// Plan units whose subscriptions can earn rewards.
    pub eligible_units: Vec<DurationUnit>,
}

impl TryFrom<RewardConfig> for reward::RewardConfig {
    type Error = core::Error;

    fn try_from(c: RewardConfig) -> core::Result<Self> {
        Self::new(
            c.attendance_threshold,
            c.discount_percentage,
            c.expiration_days,
            c.eligible_units,
        )
    }
}

/// The reward rule's verdict on a subscription's attendance (the pure rule; a gym's
/// stored verdict is `Gym.evaluateReward`'s `RewardEvaluation`).
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum RewardDecision {
    /// No reward is due.
    NotEligible {
        /// Distinct attendance days counted.
        attendance_count: u32,
    },
    /// A reward is due.
    Eligible {
        /// Distinct attendance days counted.
        attendance_count: u32,
        /// The day it was earned.
        eligible_date: NaiveDate,
        /// Last day it can be applied.
        expires_on: NaiveDate,
        /// Its discount, percent.
        discount: Decimal,
    },
}

/// A subscription as the check-in decision sees it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SubscriptionView {
    /// Identifier, echoed in a grant.
    pub id: SubscriptionId,
    /// Stored status.
    pub status: SubscriptionStatus,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// Fully paid.
    pub fully_paid: bool,
}

/// The outcome of a check-in attempt.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum AccessDecision {
    /// The client may enter on this subscription.
    Granted {
        /// The subscription that covers today.
        subscription_id: SubscriptionId,
    },
    /// The client may not enter.
    Denied {
        /// Why not.
        reason: DenialReason,
    },
}

fn money(field: &'static str, d: Decimal) -> Result<Money> {
    Ok(Money::parse(field, d)?)
}

fn parse_size(d: Decimal) -> Result<Quantity> {
    Ok(Quantity::parse_positive("quantity", d)?)
}

/// The last day (inclusive) of a plan period starting on `start`.
#[uniffi::export]
pub fn end_date(start: NaiveDate, unit: DurationUnit, count: u32) -> Result<NaiveDate> {
    Ok(PlanDuration::new(unit, count)?.end_date(start)?)
}

/// Where a renewal starts: the day after the latest period, or today.
#[uniffi::export]
pub fn renewal_start(latest_end: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    plan::renewal_start(latest_end, today)
}

/// The gym's business date of an instant in an IANA time zone.
#[uniffi::export]
pub fn business_date(instant: Timestamp, time_zone: String) -> Result<NaiveDate> {
    Ok(core::BusinessCalendar::new(&time_zone)?.date_of(instant))
}

/// Snapshots a list price with an optional discount percentage.
#[uniffi::export]
pub fn price_snapshot(list_price: Decimal, discount: Option<Decimal>) -> Result<PriceSnapshot> {
    Ok(CorePrice::parse(list_price, discount)?.into())
}

/// Decides a payment on a subscription.
#[uniffi::export]
pub fn accept_payment(
    status: SubscriptionStatus,
    list_price: Decimal,
    discount: Option<Decimal>,
    paid: Decimal,
    amount: Decimal,
    start: NaiveDate,
    today: NaiveDate,
) -> Result<PaymentOutcome> {
    let price = CorePrice::parse(list_price, discount)?;
    let o = payment::accept_payment(status, &price, money("paid", paid)?, amount, start, today)?;
    Ok(PaymentOutcome {
        paid: o.paid.amount(),
        balance: o.balance.amount(),
        status: o.status,
    })
}

/// Decides whether a subscription earned a reward.
#[uniffi::export]
pub fn evaluate_reward(
    config: RewardConfig,
    status: SubscriptionStatus,
    unit: DurationUnit,
    start: NaiveDate,
    end: NaiveDate,
    today: NaiveDate,
    attendance_days: u32,
) -> Result<RewardDecision> {
    let config = reward::RewardConfig::try_from(config)?;
    let sub = reward::EarningSubscription {
        status,
        unit,
        start,
        end,
    };
    Ok(
        match reward::evaluate_reward(&config, &sub, attendance_days, today)? {
            reward::RewardDecision::NotEligible { attendance_count } => {
                RewardDecision::NotEligible { attendance_count }
            }
            reward::RewardDecision::Eligible {
                attendance_count,
                eligible_date,
                expires_on,
                discount,
            } => RewardDecision::Eligible {
                attendance_count,
                eligible_date,
                expires_on,
                discount: discount.value(),
            },
        },
    )
}

/// Applies a reward to a subscription; returns its new price snapshot.
#[uniffi::export]
#[allow(clippy::too_many_arguments)]
pub fn apply_reward(
    reward_status: RewardStatus,
    reward_client_id: ClientId,
    expires_on: NaiveDate,
    reward_discount: Decimal,
    target_client_id: ClientId,
    target_status: SubscriptionStatus,
    list_price: Decimal,
    discount: Option<Decimal>,
    paid: Decimal,
    today: NaiveDate,
) -> Result<PriceSnapshot> {
    let view = reward::RewardView {
        status: reward_status,
        client_id: reward_client_id,
        expires_on,
        discount: DiscountPercent::parse(reward_discount)?,
    };
    let target = reward::TargetSubscription {
        client_id: target_client_id,
        status: target_status,
        price: CorePrice::parse(list_price, discount)?,
        paid: money("paid", paid)?,
    };
    Ok(reward::apply_reward(&view, &target, today)?.into())
}

/// Whether a reward has run out on `today`.
#[uniffi::export]
pub fn reward_expired(status: RewardStatus, expires_on: NaiveDate, today: NaiveDate) -> bool {
    reward::reward_expired(status, expires_on, today)
}

/// The stock status of a quantity within its limits.
#[uniffi::export]
pub fn stock_status(
    quantity: Decimal,
    min_stock: Decimal,
    max_stock: Option<Decimal>,
) -> Result<StockStatus> {
    let limits = StockLimits::parse(min_stock, max_stock)?;
    let q = Quantity::parse("quantity", quantity)?;
    Ok(StockStatus::of(q, limits.min_stock(), limits.max_stock()))
}

/// The stock after an entry, refused past the maximum.
#[uniffi::export]
pub fn stock_after_entry(
    current: Decimal,
    size: Decimal,
    min_stock: Decimal,
    max_stock: Option<Decimal>,
) -> Result<Decimal> {
    let limits = StockLimits::parse(min_stock, max_stock)?;
    Ok(inventory::stock_after_entry(
        Quantity::parse("current", current)?,
        parse_size(size)?,
        &limits,
    )?
    .value())
}

/// The stock after an exit, refused when short.
#[uniffi::export]
pub fn stock_after_exit(current: Decimal, size: Decimal) -> Result<Decimal> {
    Ok(
        inventory::stock_after_exit(Quantity::parse("current", current)?, parse_size(size)?)?
            .value(),
    )
}

/// A sale's value at its unit price.
#[uniffi::export]
pub fn sale_total(size: Decimal, unit_price: Decimal) -> Result<Decimal> {
    Ok(inventory::sale_total(parse_size(size)?, money("unit_price", unit_price)?)?.amount())
}

/// The signed quantity stored for a movement.
#[uniffi::export]
pub fn movement_quantity(movement_type: MovementType, size: Decimal) -> Result<Decimal> {
    Ok(movement_type.signed(parse_size(size)?))
}

/// Decides a check-in.
#[uniffi::export]
pub fn decide_access(
    client_active: bool,
    already_checked_in: bool,
    subscriptions: Vec<SubscriptionView>,
    today: NaiveDate,
) -> AccessDecision {
    let views: Vec<access::SubscriptionView> = subscriptions
        .into_iter()
        .map(|s| access::SubscriptionView {
            id: s.id,
            status: s.status,
            start: s.start,
            end: s.end,
            fully_paid: s.fully_paid,
        })
        .collect();
    match access::decide_access(client_active, already_checked_in, &views, today) {
        access::AccessDecision::Granted { subscription_id } => {
            AccessDecision::Granted { subscription_id }
        }
        access::AccessDecision::Denied(reason) => AccessDecision::Denied { reason },
    }
}

/// Fails with `PermissionDenied` unless staff with `role` may do `action`.
#[uniffi::export]
pub fn authorize(role: Role, disabled: bool, action: Action) -> Result<()> {
    Ok(staff::authorize(role, disabled, action)?)
}

/// Fails with `Conflict` when the change would remove the last active admin.
#[uniffi::export]
pub fn guard_last_admin(
    role: Role,
    disabled: bool,
    change: AccountChange,
    active_admins: u32,
) -> Result<()> {
    Ok(staff::guard_last_admin(
        role,
        disabled,
        change,
        active_admins,
    )?)
}

fn parse<T: std::str::FromStr<Err = core::Error>>(label: &str) -> Result<T> {
    label.parse::<T>().map_err(PowergymError::from)
}

/// Parses a subscription status label (`pending_payment`, `active`…), as stored.
#[uniffi::export]
pub fn parse_subscription_status(label: String) -> Result<SubscriptionStatus> {
    parse(&label)
}

/// Parses a subscription event name (`pay`, `cancel`…).
#[uniffi::export]
pub fn parse_subscription_event(label: String) -> Result<SubscriptionEvent> {
    parse(&label)
}

/// Parses a duration unit (`day`, `week`, `month`, `year`).
#[uniffi::export]
pub fn parse_duration_unit(label: String) -> Result<DurationUnit> {
    parse(&label)
}

/// Parses a staff role (`admin`, `employee`).
#[uniffi::export]
pub fn parse_role(label: String) -> Result<Role> {
    parse(&label)
}

/// Parses an action name (`check_in`, `manage_staff`…).
#[uniffi::export]
pub fn parse_action(label: String) -> Result<Action> {
    parse(&label)
}

/// Parses an account change (`disable`, `demote`, `remove`).
#[uniffi::export]
pub fn parse_account_change(label: String) -> Result<AccountChange> {
    parse(&label)
}

/// Parses a reward status (`pending`, `applied`, `expired`).
#[uniffi::export]
pub fn parse_reward_status(label: String) -> Result<RewardStatus> {
    parse(&label)
}

/// Parses a movement type (`ENTRY`, `EXIT`).
#[uniffi::export]
pub fn parse_movement_type(label: String) -> Result<MovementType> {
    parse(&label)
}

/// The status after `event` on a subscription in `status`.
#[uniffi::export]
pub fn transition(
    status: SubscriptionStatus,
    event: SubscriptionEvent,
    fully_paid: bool,
    start_reached: bool,
) -> Result<SubscriptionStatus> {
    Ok(core::transition(
        status,
        event,
        core::TransitionContext {
            fully_paid,
            start_reached,
        },
    )?)
}

/// The status a new subscription starts in.
#[uniffi::export]
pub fn initial_status(
    start: NaiveDate,
    today: NaiveDate,
    price_is_zero: bool,
) -> SubscriptionStatus {
    core::initial_status(start, today, price_is_zero)
}
