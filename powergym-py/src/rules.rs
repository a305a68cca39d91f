//! The pure rules of powergym-core as Python functions and frozen records. Conversions
//! only: every decision is made by the core function each wrapper calls.

use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;
use rust_decimal::Decimal;

use crate::types::args;
use uuid::Uuid;

use crate::errors::to_py;
use powergym_core as core;
use powergym_core::domain::{access, inventory, money, payment, plan, reward, staff};

fn r<T>(result: core::Result<T>) -> PyResult<T> {
    result.map_err(to_py)
}

fn parse_status(s: &str) -> PyResult<core::SubscriptionStatus> {
    r(s.parse())
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

/// The gym's business date of an instant.
#[pyfunction]
#[pyo3(signature = (instant, time_zone = "America/Bogota"))]
pub(crate) fn business_date(instant: DateTime<Utc>, time_zone: &str) -> PyResult<NaiveDate> {
    Ok(r(core::BusinessCalendar::new(time_zone))?.date_of(instant))
}

/// A subscription's price, fixed at purchase.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct PriceSnapshot {
    list_price: Decimal,
    discount: Option<Decimal>,
    final_price: Decimal,
    discount_amount: Decimal,
}

impl From<payment::PriceSnapshot> for PriceSnapshot {
    fn from(p: payment::PriceSnapshot) -> Self {
        Self {
            list_price: p.list_price().amount(),
            discount: p.discount().map(|d| d.value()),
            final_price: p.final_price().amount(),
            discount_amount: p.discount_amount().amount(),
        }
    }
}

#[pymethods]
impl PriceSnapshot {
    fn __repr__(&self) -> String {
        format!(
            "PriceSnapshot(list_price={}, discount={}, final_price={})",
            self.list_price,
            self.discount.map_or("None".into(), |d| d.to_string()),
            self.final_price
        )
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

/// What a payment did.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct PaymentOutcome {
    paid: Decimal,
    balance: Decimal,
    status: &'static str,
}

#[pymethods]
impl PaymentOutcome {
    fn __repr__(&self) -> String {
        format!(
            "PaymentOutcome(paid={}, balance={}, status='{}')",
            self.paid, self.balance, self.status
        )
    }
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
        paid: o.paid.amount(),
        balance: o.balance.amount(),
        status: o.status.as_str(),
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
    fn eligible_units(&self) -> Vec<&'static str> {
        self.0.eligible_units().iter().map(|u| u.as_str()).collect()
    }
    fn __repr__(&self) -> String {
        format!(
            "RewardConfig(attendance_threshold={}, discount_percentage={}, expiration_days={}, eligible_units={:?})",
            self.0.attendance_threshold(),
            self.0.discount().value(),
            self.0.expiration_days(),
            self.eligible_units()
        )
    }
}

/// The verdict on a subscription's attendance.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct RewardDecision {
    eligible: bool,
    attendance_count: u32,
    eligible_date: Option<NaiveDate>,
    expires_on: Option<NaiveDate>,
    discount: Option<Decimal>,
}

#[pymethods]
impl RewardDecision {
    fn __repr__(&self) -> String {
        format!(
            "RewardDecision(eligible={}, attendance_count={})",
            if self.eligible { "True" } else { "False" },
            self.attendance_count
        )
    }
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
    reward_client_id: Uuid,
    expires_on: NaiveDate,
    #[pyo3(from_py_with = args::reward_discount)] reward_discount: Decimal,
    target_client_id: Uuid,
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
) -> PyResult<&'static str> {
    let limits = r(inventory::StockLimits::parse(min_stock, max_stock))?;
    let q = parse_quantity("quantity", quantity)?;
    Ok(inventory::StockStatus::of(q, limits.min_stock(), limits.max_stock()).as_str())
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

/// A sale's value at its unit price.
#[pyfunction]
pub(crate) fn sale_total(
    #[pyo3(from_py_with = args::size)] size: Decimal,
    #[pyo3(from_py_with = args::unit_price)] unit_price: Decimal,
) -> PyResult<Decimal> {
    let price = r(money::Money::parse("unit_price", unit_price))?;
    Ok(r(inventory::sale_total(parse_size(size)?, price))?.amount())
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

/// A subscription as the check-in decision sees it.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq, Clone)]
pub(crate) struct SubscriptionView {
    id: Uuid,
    status: String,
    start: NaiveDate,
    end: NaiveDate,
    fully_paid: bool,
}

#[pymethods]
impl SubscriptionView {
    #[new]
    #[pyo3(signature = (*, id, status, start, end, fully_paid))]
    fn new(
        id: Uuid,
        status: String,
        start: NaiveDate,
        end: NaiveDate,
        fully_paid: bool,
    ) -> PyResult<Self> {
        let parsed = parse_status(&status)?;
        Ok(Self {
            id,
            status: parsed.as_str().to_owned(),
            start,
            end,
            fully_paid,
        })
    }
    fn __repr__(&self) -> String {
        format!(
            "SubscriptionView(id='{}', status='{}', start={}, end={})",
            self.id, self.status, self.start, self.end
        )
    }
}

/// The outcome of a check-in attempt.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct AccessDecision {
    granted: bool,
    subscription_id: Option<Uuid>,
    reason: Option<&'static str>,
}

#[pymethods]
impl AccessDecision {
    fn __repr__(&self) -> String {
        match (self.subscription_id, self.reason) {
            (Some(id), _) => format!("AccessDecision(granted=True, subscription_id='{id}')"),
            (None, reason) => format!(
                "AccessDecision(granted=False, reason='{}')",
                reason.unwrap_or("")
            ),
        }
    }
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
        .map(|s| {
            Ok(access::SubscriptionView {
                id: core::SubscriptionId::from_uuid(s.id),
                status: parse_status(&s.status)?,
                start: s.start,
                end: s.end,
                fully_paid: s.fully_paid,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
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
                reason: Some(reason.code()),
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

/// Registers the rule functions and records on the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PriceSnapshot>()?;
    m.add_class::<PaymentOutcome>()?;
    m.add_class::<RewardConfig>()?;
    m.add_class::<RewardDecision>()?;
    m.add_class::<SubscriptionView>()?;
    m.add_class::<AccessDecision>()?;
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
