//! PowerGym's log events for a Kotlin or Swift host: implement `LogSink` and pass it to
//! `installLogSink`. Core decides which events pass (its own, never the database
//! driver's, whose statement text is not ours to forward) and that none names a member.

use std::sync::Arc;

use powergym_core::logging::{self, LogLevel};

/// How severe an event is, from most to least.
#[uniffi::remote(Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Where PowerGym's log events go: a Kotlin/Swift object the host implements, e.g. one
/// that hands each event to its logger (SLF4J, `android.util.Log`, `os.Logger`).
///
/// Called on whichever thread raised the event (often one of the library's runtime
/// workers, in the middle of a use case): return quickly and never throw.
#[uniffi::export(callback_interface)]
pub trait LogSink: Send + Sync {
    /// One event: its level, its target (the Rust module that raised it, such as
    /// `powergym_core::gym`) and its message followed by its fields as `key=value`.
    fn log(&self, level: LogLevel, target: String, message: String);
}

/// Core's sink trait over the host's object.
struct Host(Box<dyn LogSink>);

impl logging::LogSink for Host {
    fn log(&self, level: LogLevel, target: &str, message: &str) {
        self.0.log(level, target.to_owned(), message.to_owned());
    }
}

/// Sends PowerGym's log events at `maxLevel` and more severe to `sink`, for the rest of
/// the process. Returns false, changing nothing, when a sink (or another `tracing`
/// subscriber) is installed already: install once, at start-up.
#[uniffi::export]
pub fn install_log_sink(sink: Box<dyn LogSink>, max_level: LogLevel) -> bool {
    logging::forward_to(Arc::new(Host(sink)), max_level)
}
