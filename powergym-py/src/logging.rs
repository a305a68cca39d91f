//! PowerGym's events reach Python's `logging`, under the logger `powergym`.
//!
//! Installed when the module is imported, unless the process already runs a `tracing`
//! subscriber of its own. Python's logging configuration then decides what is shown: the
//! logger's level is asked first, so a disabled level costs no formatting in Python.
//! Events carry ids, counts and error kinds, never personal data (core's rule).

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use powergym_core::logging::{LogLevel, LogSink, forward_to};

static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

struct PythonLogging;

fn python_level(level: LogLevel) -> u8 {
    // The numeric levels of Python's `logging` module.
    match level {
        LogLevel::Error => 40,
        LogLevel::Warn => 30,
        LogLevel::Info => 20,
        LogLevel::Debug | LogLevel::Trace => 10,
    }
}

impl LogSink for PythonLogging {
    fn log(&self, level: LogLevel, target: &str, message: &str) {
        // No interpreter (shutting down): the event is dropped, never a panic.
        let _ = Python::try_attach(|py| -> PyResult<()> {
            let logger = LOGGER.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
                Ok(py
                    .import("logging")?
                    .call_method1("getLogger", ("powergym",))?
                    .unbind())
            })?;
            let logger = logger.bind(py);
            let level = python_level(level);
            if logger
                .call_method1("isEnabledFor", (level,))?
                .extract::<bool>()?
            {
                let kwargs = pyo3::types::PyDict::new(py);
                let extra = pyo3::types::PyDict::new(py);
                extra.set_item("powergym_target", target)?;
                kwargs.set_item("extra", extra)?;
                logger.call_method("log", (level, "%s", message), Some(&kwargs))?;
            }
            Ok(())
        });
    }
}

/// Sends PowerGym's events to Python's `logging`; false when the process already has a
/// `tracing` subscriber.
pub(crate) fn install() -> bool {
    forward_to(Arc::new(PythonLogging), LogLevel::Debug)
}
