//! Pure types and rules of the gym: no I/O and no clock reads.
//!
//! Values here are built only through `parse`/`TryFrom`, so a value that exists is valid.
//! "Today" always arrives as an argument, produced by a [`calendar::BusinessCalendar`].
//! Free text follows one rule per field ([`text`]); dates a caller gives stay within
//! [`calendar::EARLIEST_DATE`]..=[`calendar::LATEST_DATE`].

pub mod access;
pub mod calendar;
pub mod client;
pub mod consent;
pub mod ids;
pub mod inventory;
pub mod money;
pub mod paging;
pub mod payment;
pub mod plan;
pub mod report;
pub mod reward;
pub mod staff;
pub mod subscription;
pub mod text;

#[cfg(test)]
mod parser_properties;
