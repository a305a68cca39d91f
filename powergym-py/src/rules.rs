//! The pure rules of powergym-core as Python functions and frozen records. Conversions
//! only: every decision is made by the core function each wrapper calls. Statuses and
//! units come back as `powergym` enum members, money with two decimal places.

use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;
use rust_decimal::Decimal;

use crate::errors::to_py;
use crate::types::args;
use crate::types::enums::Enum;
use crate::types::record::{Money, record};
use powergym_core as core;
use powergym_core::domain::{access, inventory, money, payment, plan, reward, staff};

fn r<T>(result: core::Result<T>) -> PyResult<T> {
    result.map_err(to_py)
}

fn parse_status(s: &str) -> PyResult<core::SubscriptionStatus> {
    r(s.parse())
}

/// The status after `event` on a subscription in `status`.
#[pyfunction]
#[pyo3(signature = (status, event, *, fully_paid, start_reached))]
pub(crate) fn transition(
    status: &str,
    event: &str,
    fully_paid: bool,
    start_reached: bool,
) -> PyResult<Enum<core::SubscriptionStatus>> {
    let context = core::TransitionContext {
        fully_paid,
        start_reached,
    };
    r(core::transition(
        parse_status(status)?,
        r(event.parse())?,
        context,
    ))
    .map(Enum)
}

/// The status a new subscription starts in.
#[pyfunction]
#[pyo3(signature = (start, today, *, price_is_zero))]
pub(crate) fn initial_status(
    start: NaiveDate,
    today: NaiveDate,
    price_is_zero: bool,
) -> Enum<core::SubscriptionStatus> {
    Enum(core::initial_status(start, today, price_is_zero))
}

/// The last day (inclusive) of a plan period starting on `start`.
#[pyfunction]
pub(crate) fn end_date(start: NaiveDate, unit: &str, count: u32) -> PyResult<NaiveDate> {
    r(plan::PlanDuration::new(r(unit.parse())?, count).and_then(|d| d.end_date(start)))
}

/// Where a renewal starts: the day after the latest period, or today.
#[pyfunction]
pub(crate) fn renewal_start(latest_end: Option<NaiveDate>, today: NaiveDate) -> NaiveDate {
    plan::renewal_start(latest_end, today)
}

/// The gym's business date of an instant (a timezone-aware datetime, in any zone).
#[pyfunction]
#[pyo3(signature = (instant, time_zone = "America/Bogota"))]
pub(crate) fn business_date(
    #[pyo3(from_py_with = args::instant)] instant: DateTime<Utc>,
    time_zone: &str,
) -> PyResult<NaiveDate> {
    Ok(r(core::BusinessCalendar::new(time_zone))?.date_of(instant))
}

record! {
    /// A subscription's price, fixed at purchase.
    PriceSnapshot {
        list_price: Money,
        /// A percentage (20 is 20 %), not money.
        discount: Option<Decimal>,
        final_price: Money,
        discount_amount: Money,
    }
    repr(list_price, discount, final_price, discount_amount)
}

impl From<payment::PriceSnapshot> for PriceSnapshot {
    fn from(p: payment::PriceSnapshot) -> Self {
        Self {
            list_price: p.list_price().into(),
            discount: p.discount().map(|d| d.value()),
            final_price: p.final_price().into(),
            discount_amount: p.discount_amount().into(),
        }
    }
}

/// Snapshots a list price with an optional discount percentage.
#[pyfunction]
#[pyo3(signature = (list_price, discount = None))]
pub(crate) fn price_snapshot(
    #[pyo3(from_py_with = args::list_price)] list_price: Decimal,
    #[pyo3(from_py_with = args::discount)] discount: Option<Decimal>,
) -> PyResult<PriceSnapshot> {
    r(payment::PriceSnapshot::parse(list_price, discount)).map(Into::into)
}

record! {
    /// What a payment did.
    PaymentOutcome {
        paid: Money,
        balance: Money,
        status: Enum<core::SubscriptionStatus>,
    }
    repr(paid, balance, status)
}

/// Decides a payment on a subscription.
#[pyfunction]
#[pyo3(signature = (status, *, list_price, paid, amount, start, today, discount = None))]
pub(crate) fn accept_payment(
    status: &str,
    #[pyo3(from_py_with = args::list_price)] list_price: Decimal,
    #[pyo3(from_py_with = args::paid)] paid: Decimal,
    #[pyo3(from_py_with = args::amount)] amount: Decimal,
    start: NaiveDate,
    today: NaiveDate,
    #[pyo3(from_py_with = args::discount)] discount: Option<Decimal>,
) -> PyResult<PaymentOutcome> {
    let price = r(payment::PriceSnapshot::parse(list_price, discount))?;
    let paid = r(money::Money::parse("paid", paid))?;
    let o = r(payment::accept_payment(
        parse_status(status)?,
        &price,
        paid,
        amount,
        start,
        today,
    ))?;
    Ok(PaymentOutcome {
        paid: o.paid.into(),
        balance: o.balance.into(),
        status: o.status.into(),
    })
}

/// How rewards are earned; the defaults are the original's.
#[pyclass(frozen, module = "powergym")]
pub(crate) struct RewardConfig(reward::RewardConfig);

#[pymethods]
impl RewardConfig {
    #[new]
    #[pyo3(signature = (attendance_threshold = 20, discount_percentage = Decimal::from(20), expiration_days = 7, eligible_units = vec!["month".to_owned()]))]
    fn new(
        attendance_threshold: u32,
        #[pyo3(from_py_with = args::reward_percentage)] discount_percentage: Decimal,
        expiration_days: u32,
        eligible_units: Vec<String>,
    ) -> PyResult<Self> {
        let units = eligible_units
            .iter()
            .map(|u| r(u.parse::<plan::DurationUnit>()))
            .collect::<PyResult<Vec<_>>>()?;
        r(reward::RewardConfig::new(
            attendance_threshold,
            discount_percentage,
            expiration_days,
            units,
        ))
        .map(Self)
    }
    #[getter]
    fn attendance_threshold(&self) -> u32 {
        self.0.attendance_threshold()
    }
    #[getter]
    fn discount_percentage(&self) -> Decimal {
        self.0.discount().value()
    }
    #[getter]
    fn expiration_days(&self) -> u32 {
        self.0.expiration_days()
    }
    #[getter]
    fn eligible_units(&self) -> Vec<Enum<plan::DurationUnit>> {
        self.0.eligible_units().iter().copied().map(Enum).collect()
    }
    fn __repr__(&self) -> String {
        format!(
            "RewardConfig(attendance_threshold={}, discount_percentage={}, expiration_days={}, eligible_units={:?})",
            self.0.attendance_threshold(),
            self.0.discount().value(),
            self.0.expiration_days(),
            self.0
                .eligible_units()
                .iter()
                .map(|u| u.as_str())
                .collect::<Vec<_>>()
        )
    }
}

record! {
    /// The verdict on a subscription's attendance.
    RewardDecision {
        eligible: bool,
        attendance_count: u32,
        eligible_date: Option<NaiveDate>,
        expires_on: Option<NaiveDate>,
        /// A percentage (20 is 20 %), not money.
        discount: Option<Decimal>,
    }
    repr(eligible, attendance_count)
}

/// Decides whether a subscription earned a reward.
#[pyfunction]
#[pyo3(signature = (config, *, status, unit, start, end, today, attendance_days))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn evaluate_reward(
    config: &RewardConfig,
    status: &str,
    unit: &str,
    start: NaiveDate,
    end: NaiveDate,
    today: NaiveDate,
    attendance_days: u32,
) -> PyResult<RewardDecision> {
    let sub = reward::EarningSubscription {
        status: parse_status(status)?,
        unit: r(unit.parse())?,
        start,
        end,
    };
    Ok(
        match r(reward::evaluate_reward(
            &config.0,
            &sub,
            attendance_days,
            today,
        ))? {
            reward::RewardDecision::NotEligible { attendance_count } => RewardDecision {
                eligible: false,
                attendance_count,
                eligible_date: None,
                expires_on: None,
                discount: None,
            },
            reward::RewardDecision::Eligible {
                attendance_count,
                eligible_date,
                expires_on,
                discount,
            } => RewardDecision {
                eligible: true,
                attendance_count,
                eligible_date: Some(eligible_date),
                expires_on: Some(expires_on),
                discount: Some(discount.value()),
            },
        },
    )
}

/// Applies a reward to a subscription; returns its new price snapshot.
#[pyfunction]
#[pyo3(signature = (*, reward_status, reward_client_id, expires_on, reward_discount, target_client_id, target_status, list_price, paid, today, discount = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply_reward(
    reward_status: &str,
    #[pyo3(from_py_with = args::reward_client_id)] reward_client_id: uuid::Uuid,
    expires_on: NaiveDate,
    #[pyo3(from_py_with = args::reward_discount)] reward_discount: Decimal,
    #[pyo3(from_py_with = args::target_client_id)] target_client_id: uuid::Uuid,
    target_status: &str,
    #[pyo3(from_py_with = args::list_price)] list_price: Decimal,
    #[pyo3(from_py_with = args::paid)] paid: Decimal,
    today: NaiveDate,
    #[pyo3(from_py_with = args::discount)] discount: Option<Decimal>,
) -> PyResult<PriceSnapshot> {
    let view = reward::RewardView {
        status: r(reward_status.parse())?,
        client_id: core::ClientId::from_uuid(reward_client_id),
        expires_on,
        discount: r(money::DiscountPercent::parse(reward_discount))?,
    };
    let target = reward::TargetSubscription {
        client_id: core::ClientId::from_uuid(target_client_id),
        status: parse_status(target_status)?,
        price: r(payment::PriceSnapshot::parse(list_price, discount))?,
        paid: r(money::Money::parse("paid", paid))?,
    };
    r(reward::apply_reward(&view, &target, today)).map(Into::into)
}

/// Whether a reward has run out on `today`.
#[pyfunction]
pub(crate) fn reward_expired(
    status: &str,
    expires_on: NaiveDate,
    today: NaiveDate,
) -> PyResult<bool> {
    Ok(reward::reward_expired(
        r(status.parse())?,
        expires_on,
        today,
    ))
}

fn parse_quantity(field: &'static str, d: Decimal) -> PyResult<inventory::Quantity> {
    r(inventory::Quantity::parse(field, d))
}

fn parse_size(d: Decimal) -> PyResult<inventory::Quantity> {
    r(inventory::Quantity::parse_positive("quantity", d))
}

/// The stock status of a quantity within its limits.
#[pyfunction]
#[pyo3(signature = (quantity, min_stock, max_stock = None))]
pub(crate) fn stock_status(
    #[pyo3(from_py_with = args::quantity)] quantity: Decimal,
    #[pyo3(from_py_with = args::min_stock_value)] min_stock: Decimal,
    #[pyo3(from_py_with = args::max_stock)] max_stock: Option<Decimal>,
) -> PyResult<Enum<inventory::StockStatus>> {
    let limits = r(inventory::StockLimits::parse(min_stock, max_stock))?;
    let q = parse_quantity("quantity", quantity)?;
    Ok(Enum(inventory::StockStatus::of(
        q,
        limits.min_stock(),
        limits.max_stock(),
    )))
}

/// The stock after an entry, refused past the maximum.
#[pyfunction]
#[pyo3(signature = (current, size, *, min_stock, max_stock = None))]
pub(crate) fn stock_after_entry(
    #[pyo3(from_py_with = args::current)] current: Decimal,
    #[pyo3(from_py_with = args::size)] size: Decimal,
    #[pyo3(from_py_with = args::min_stock_value)] min_stock: Decimal,
    #[pyo3(from_py_with = args::max_stock)] max_stock: Option<Decimal>,
) -> PyResult<Decimal> {
    let limits = r(inventory::StockLimits::parse(min_stock, max_stock))?;
    Ok(r(inventory::stock_after_entry(
        parse_quantity("current", current)?,
        parse_size(size)?,
        &limits,
    ))?
    .value())
}

/// The stock after an exit, refused when short.
#[pyfunction]
pub(crate) fn stock_after_exit(
    #[pyo3(from_py_with = args::current)] current: Decimal,
    #[pyo3(from_py_with = args::size)] size: Decimal,
) -> PyResult<Decimal> {
    Ok(r(inventory::stock_after_exit(
        parse_quantity("current", current)?,
        parse_size(size)?,
    ))?
    .value())
}

/// A sale's value at its unit price, with two decimal places.
#[pyfunction]
pub(crate) fn sale_total(
    #[pyo3(from_py_with = args::size)] size: Decimal,
    #[pyo3(from_py_with = args::unit_price)] unit_price: Decimal,
) -> PyResult<Money> {
    let price = r(money::Money::parse("unit_price", unit_price))?;
    r(inventory::sale_total(parse_size(size)?, price)).map(Money::from)
}

/// The signed quantity stored for a movement.
#[pyfunction]
pub(crate) fn movement_quantity(
    movement_type: &str,
    #[pyo3(from_py_with = args::size)] size: Decimal,
) -> PyResult<Decimal> {
    let t: inventory::MovementType = r(movement_type.parse())?;
    Ok(t.signed(parse_size(size)?))
}

record! {
    /// A subscription as the check-in decision sees it.
    SubscriptionView {
        id: uuid::Uuid,
        status: Enum<core::SubscriptionStatus>,
        start: NaiveDate,
        end: NaiveDate,
        fully_paid: bool,
    }
    repr(id, status, start, end)
}

record! {
    /// The outcome of a check-in attempt.
    AccessDecision {
        granted: bool,
        subscription_id: Option<uuid::Uuid>,
        reason: Option<Enum<core::DenialReason>>,
    }
    repr(granted, subscription_id, reason)
}

/// Decides a check-in.
#[pyfunction]
#[pyo3(signature = (*, client_active, already_checked_in, subscriptions, today))]
pub(crate) fn decide_access(
    client_active: bool,
    already_checked_in: bool,
    subscriptions: Vec<PyRef<'_, SubscriptionView>>,
    today: NaiveDate,
) -> PyResult<AccessDecision> {
    let views = subscriptions
        .iter()
        .map(|s| access::SubscriptionView {
            id: core::SubscriptionId::from_uuid(s.id),
            status: s.status.0,
            start: s.start,
            end: s.end,
            fully_paid: s.fully_paid,
        })
        .collect::<Vec<_>>();
    Ok(
        match access::decide_access(client_active, already_checked_in, &views, today) {
            access::AccessDecision::Granted { subscription_id } => AccessDecision {
                granted: true,
                subscription_id: Some(subscription_id.as_uuid()),
                reason: None,
            },
            access::AccessDecision::Denied(reason) => AccessDecision {
                granted: false,
                subscription_id: None,
                reason: Some(reason.into()),
            },
        },
    )
}

/// Raises PermissionDeniedError unless staff with `role` may do `action`.
#[pyfunction]
pub(crate) fn authorize(role: &str, disabled: bool, action: &str) -> PyResult<()> {
    let role: staff::Role = r(role.parse())?;
    r(staff::authorize(role, disabled, r(action.parse())?))
}

/// Raises ConflictError when the change would remove the last active admin.
#[pyfunction]
pub(crate) fn guard_last_admin(
    role: &str,
    disabled: bool,
    change: &str,
    active_admins: u32,
) -> PyResult<()> {
    let role: staff::Role = r(role.parse())?;
    r(staff::guard_last_admin(
        role,
        disabled,
        r(change.parse())?,
        active_admins,
    ))
}

/// Registers the rule functions and records on the native module (and, until lib.rs
/// calls it itself, [`crate::types::register`]).
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PriceSnapshot>()?;
    m.add_class::<PaymentOutcome>()?;
    m.add_class::<RewardConfig>()?;
    m.add_class::<RewardDecision>()?;
    m.add_class::<SubscriptionView>()?;
    m.add_class::<AccessDecision>()?;
    m.add_function(wrap_pyfunction!(transition, m)?)?;
    m.add_function(wrap_pyfunction!(initial_status, m)?)?;
    m.add_function(wrap_pyfunction!(end_date, m)?)?;
    m.add_function(wrap_pyfunction!(renewal_start, m)?)?;
    m.add_function(wrap_pyfunction!(business_date, m)?)?;
    m.add_function(wrap_pyfunction!(price_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(accept_payment, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_reward, m)?)?;
    m.add_function(wrap_pyfunction!(apply_reward, m)?)?;
    m.add_function(wrap_pyfunction!(reward_expired, m)?)?;
    m.add_function(wrap_pyfunction!(stock_status, m)?)?;
    m.add_function(wrap_pyfunction!(stock_after_entry, m)?)?;
    m.add_function(wrap_pyfunction!(stock_after_exit, m)?)?;
    m.add_function(wrap_pyfunction!(sale_total, m)?)?;
    m.add_function(wrap_pyfunction!(movement_quantity, m)?)?;
    m.add_function(wrap_pyfunction!(decide_access, m)?)?;
    m.add_function(wrap_pyfunction!(authorize, m)?)?;
    m.add_function(wrap_pyfunction!(guard_last_admin, m)?)?;
    Ok(())
}
