//! UniFFI bindings of powergym-core for Kotlin and Swift.
//!
//! Thin by design: core enums are mirrored with `#[uniffi::remote(Enum)]`, ids, dates and
//! money cross as custom types (`types`), errors become one `PowergymError` enum
//! (`error`; not named `Error`: Kotlin would rename it), records and outcome enums are
//! converted field by field (`records`), and every use case of core's `Gym` is a
//! one-line method of the `Gym` object (`gym`), run on tokio. No rule lives here.

uniffi::setup_scaffolding!();

mod error;
mod face;
mod gym;
mod logging;
mod operations;
mod records;
mod rules;
mod types;

pub use error::PowergymError;
pub(crate) use error::Result;
pub use face::*;
pub use gym::*;
pub use logging::*;
pub use operations::*;
pub use records::*;
pub use rules::*;
pub use types::*;
