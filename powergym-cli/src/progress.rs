//! Progress of long operations: a bar on a terminal, plain lines otherwise (a cron log,
//! a CI job), never both. Always on standard error, so `--json` output stays clean.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use powergym_core::ops::Progress;

/// Plain lines are written at most this often, plus whenever the phase changes.
const LINE_EVERY: Duration = Duration::from_secs(2);

pub(crate) struct Reporter {
    label: String,
    bar: Option<ProgressBar>,
    last_phase: String,
    last_line: Option<Instant>,
}

impl Reporter {
    pub(crate) fn new(label: &str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(label.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            label: label.to_owned(),
            bar,
            last_phase: String::new(),
            last_line: None,
        }
    }

    pub(crate) fn update(&mut self, p: &Progress) {
        if let Some(bar) = &self.bar {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.set_message(p.phase.clone());
            return;
        }
        let due = self.last_line.is_none_or(|t| t.elapsed() >= LINE_EVERY);
        if p.phase != self.last_phase || due {
            if p.total > 0 {
                note!("{}: {} ({}/{})", self.label, p.phase, p.done, p.total);
            } else {
                note!("{}: {}", self.label, p.phase);
            }
            self.last_phase.clone_from(&p.phase);
            self.last_line = Some(Instant::now());
        }
    }

    pub(crate) fn finish(self, message: &str) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
        note!("{}: {message}", self.label);
    }
}
