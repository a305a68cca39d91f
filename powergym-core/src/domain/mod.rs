//! Pure types and rules of the gym: no I/O and no clock reads.
//!
//! Values here are built only through `parse`/`TryFrom`, so a value that exists is valid.
//! "Today" always arrives as an argument, produced by a [`calendar::BusinessCalendar`].

pub mod calendar;
pub mod client;
pub mod ids;
pub mod paging;
pub mod subscription;
