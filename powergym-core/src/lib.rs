#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub mod domain;
mod error;
mod gym;
pub mod migrate;
pub mod store;

pub use domain::calendar::{BusinessCalendar, Clock, FixedClock, SystemClock};
pub use domain::client::{Client, ClientInput, DocumentType, Gender, NewClient};
pub use domain::ids::{ClientId, PlanId, SubscriptionId};
pub use domain::paging::{Page, PageRequest};
pub use domain::subscription::{
    SubscriptionEvent, SubscriptionStatus, TransitionContext, initial_status, transition,
};
pub use error::{DenialReason, Error, Result};
pub use gym::{Gym, GymOptions, PoolSettings};
pub use migrate::{MigrationRecord, Migrations};
pub use store::ActiveFilter;
