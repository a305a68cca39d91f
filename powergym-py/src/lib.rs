//! Python bindings of powergym-core: the native module `powergym._powergym`.
//!
//! Thin by design: conversions, exceptions and the runtime live here; every rule lives
//! in powergym-core.

mod adopt;
mod errors;
mod face;
mod gym;
mod health;
mod rules;
mod runtime;
mod thumbnail;
mod types;

use chrono::NaiveDate;
use pyo3::prelude::*;

use errors::to_py;
use powergym_core as core;

/// The status after `event` on a subscription in `status`.
#[pyfunction]
#[pyo3(signature = (status, event, *, fully_paid, start_reached))]
fn transition(
    status: &str,
    event: &str,
    fully_paid: bool,
    start_reached: bool,
) -> PyResult<&'static str> {
    let from: core::SubscriptionStatus = status.parse().map_err(to_py)?;
    let event: core::SubscriptionEvent = event.parse().map_err(to_py)?;
    core::transition(
        from,
        event,
        core::TransitionContext {
            fully_paid,
            start_reached,
        },
    )
    .map(core::SubscriptionStatus::as_str)
    .map_err(to_py)
}

/// The status a new subscription starts in.
#[pyfunction]
#[pyo3(signature = (start, today, *, price_is_zero))]
fn initial_status(start: NaiveDate, today: NaiveDate, price_is_zero: bool) -> &'static str {
    core::initial_status(start, today, price_is_zero).as_str()
}

/// The newest schema version this library ships.
#[pyfunction]
fn latest_schema_version() -> i64 {
    core::migrate::latest_version()
}

#[pymodule]
fn _powergym(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<gym::Gym>()?;
    m.add_class::<types::Client>()?;
    m.add_class::<types::ClientPage>()?;
    m.add_class::<types::MigrationRecord>()?;
    m.add_class::<types::Actor>()?;
    m.add_class::<types::Staff>()?;
    m.add_class::<types::Plan>()?;
    m.add_class::<types::Subscription>()?;
    m.add_class::<types::PaymentReceipt>()?;
    m.add_class::<types::CheckIn>()?;
    m.add_class::<types::Product>()?;
    m.add_class::<types::StockChange>()?;
    m.add_class::<types::Reward>()?;
    m.add_function(wrap_pyfunction!(transition, m)?)?;
    m.add_function(wrap_pyfunction!(initial_status, m)?)?;
    m.add_function(wrap_pyfunction!(latest_schema_version, m)?)?;
    rules::register(m)?;
    thumbnail::register(m)?;
    face::register(m)?;
    health::register(m)?;
    adopt::register(m)?;
    errors::register(m)?;
    Ok(())
}
