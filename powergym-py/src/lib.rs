//! Python bindings of powergym-core: the native module `powergym._powergym`.
//!
//! Thin by design: conversions, exceptions and the runtime live here; every rule lives
//! in powergym-core.

mod adopt;
mod errors;
mod face;
mod gym;
mod health;
mod logging;
mod rules;
mod runtime;
mod thumbnail;
mod types;

use pyo3::prelude::*;

use powergym_core as core;

/// The newest schema version this library ships.
#[pyfunction]
fn latest_schema_version() -> i64 {
    core::migrate::latest_version()
}

#[pymodule]
fn _powergym(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    logging::install();
    m.add_class::<gym::Gym>()?;
    m.add_class::<gym::AsyncGym>()?;
    types::register(m)?;
    m.add_function(wrap_pyfunction!(latest_schema_version, m)?)?;
    rules::register(m)?;
    thumbnail::register(m)?;
    face::register(m)?;
    health::register(m)?;
    adopt::register(m)?;
    errors::register(m)?;
    Ok(())
}
