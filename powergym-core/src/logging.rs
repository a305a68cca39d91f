//! Hands the library's own `tracing` events to a host's logging (Python's `logging`, a
//! Kotlin or Swift logger), for hosts that run no `tracing` subscriber of their own.
//!
//! Only events whose target is one of PowerGym's crates pass: the database driver's
//! events carry statement text, which is not ours to forward. PowerGym's events name
//! ids, counts and error kinds, never a member's personal data.

use std::fmt::Write as _;
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber, span};

/// How severe a forwarded event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Something failed.
    Error,
    /// Something needs attention but the call went on.
    Warn,
    /// A use case did something worth a line (a client registered, a payment recorded).
    Info,
    /// Detail for diagnosis (a retried transaction).
    Debug,
    /// Finer detail still.
    Trace,
}

impl LogLevel {
    fn of(level: &Level) -> Self {
        match *level {
            Level::ERROR => Self::Error,
            Level::WARN => Self::Warn,
            Level::INFO => Self::Info,
            Level::DEBUG => Self::Debug,
            Level::TRACE => Self::Trace,
        }
    }

    fn as_tracing(self) -> Level {
        match self {
            Self::Error => Level::ERROR,
            Self::Warn => Level::WARN,
            Self::Info => Level::INFO,
            Self::Debug => Level::DEBUG,
            Self::Trace => Level::TRACE,
        }
    }
}

/// Where forwarded events go. Called on whichever thread raised the event, often a
/// runtime worker, so it must not block for long.
pub trait LogSink: Send + Sync + 'static {
    /// One event: its level, target (the module that raised it) and its message
    /// followed by its fields as `key=value`.
    fn log(&self, level: LogLevel, target: &str, message: &str);
}

struct Forward {
    sink: Arc<dyn LogSink>,
    max: Level,
}

impl Subscriber for Forward {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event() && is_ours(metadata.target()) && *metadata.level() <= self.max
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(self.max.into())
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        // Spans are never enabled (see `enabled`), so no span is ever tracked.
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = Message::default();
        event.record(&mut text);
        self.sink.log(
            LogLevel::of(event.metadata().level()),
            event.metadata().target(),
            &text.finish(),
        );
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

fn is_ours(target: &str) -> bool {
    target == "powergym_core"
        || target.starts_with("powergym_core::")
        || target.starts_with("powergym")
}

#[derive(Default)]
struct Message {
    message: String,
    fields: String,
}

impl Message {
    fn finish(self) -> String {
        if self.fields.is_empty() {
            self.message
        } else if self.message.is_empty() {
            self.fields.trim_start().to_owned()
        } else {
            format!("{}{}", self.message, self.fields)
        }
    }
}

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={}", field.name(), value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={:?}", field.name(), value);
        }
    }
}

/// Sends PowerGym's events at `max` and more severe to `sink`, for the rest of the
/// process. Returns false, changing nothing, when the process already has a global
/// `tracing` subscriber (the host's own wins).
pub fn forward_to(sink: Arc<dyn LogSink>, max: LogLevel) -> bool {
    tracing::subscriber::set_global_default(Forward {
        sink,
        max: max.as_tracing(),
    })
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<(LogLevel, String, String)>>);

    impl LogSink for Collect {
        fn log(&self, level: LogLevel, target: &str, message: &str) {
            self.0
                .lock()
                .unwrap()
                .push((level, target.to_owned(), message.to_owned()));
        }
    }

    #[test]
    fn forwards_our_events_with_fields_and_drops_others_and_finer_levels() {
        let sink = Arc::new(Collect::default());
        let subscriber = Forward {
            sink: sink.clone(),
            max: Level::INFO,
        };
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(client_id = "c-1", count = 3, "client registered");
            tracing::debug!("too fine");
            tracing::warn!(target: "sqlx::query", "select secret");
            tracing::warn!(target: "powergym_ffi", "from a binding");
        });
        let got = sink.0.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].0, LogLevel::Info);
        assert_eq!(got[0].1, "powergym_core::logging::tests");
        assert_eq!(got[0].2, "client registered client_id=c-1 count=3");
        assert_eq!(got[1].0, LogLevel::Warn);
        assert_eq!(got[1].2, "from a binding");
    }
}
