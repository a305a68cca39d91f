#![doc = include_str!("../README.md")]
// `deny`, not `forbid`: face::kernel alone opts back in, for SIMD intrinsics.
#![deny(unsafe_code)]

// A library without a store can open nothing; say so at build time, not at run time.
#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!(
    "powergym-core needs at least one store: enable the `sqlite` feature (embedded, mobile), \
     `postgres` (PostgreSQL + pgvector), or both (the default)"
);

#[cfg(feature = "postgres")]
pub mod adopt;
mod auth;
pub mod domain;
mod error;
pub mod face;
mod gym;
pub mod logging;
pub mod migrate;
pub mod ops;
pub mod store;

#[cfg(feature = "postgres")]
pub use adopt::{AdoptionOptions, AdoptionReport};
pub use domain::access::{Attendance, CheckInMethod, CheckInOutcome, DenialReason};
pub use domain::calendar::{BusinessCalendar, Clock, FixedClock, SystemClock};
pub use domain::client::{
    Client, ClientDashboard, ClientInput, ClientUpdate, DocumentType, Gender, NewClient,
};
pub use domain::ids::{ClientId, PlanId, SubscriptionId};
pub use domain::inventory::{
    Movement, MovementType, Product, ProductInput, ProductUpdate, StaffMovements, StockReport,
    StockStatus,
};
pub use domain::money::{Currency, Money};
pub use domain::paging::{Page, PageRequest};
pub use domain::payment::{Payment, PaymentMethod, PaymentReceipt, PaymentStats, PriceSnapshot};
pub use domain::plan::{DurationUnit, Plan, PlanInput, PlanUpdate};
pub use domain::report::{Activity, ActivityKind, Alert, GymStatistics};
pub use domain::reward::{Reward, RewardConfig, RewardStatus};
pub use domain::staff::{Action, Actor, Role, Staff};
pub use domain::subscription::Subscription;
pub use domain::subscription::{
    SubscriptionEvent, SubscriptionStatus, TransitionContext, initial_status, transition,
};
pub use error::{Error, Result};
pub use gym::{
    BulkEnrolment, BulkProgress, BulkRefusal, DEFAULT_FACE_CACHE_BUDGET, FaceCheckIn, FaceOptions,
    Gym, GymOptions, IDLE_CHECK_AFTER, MAX_BULK_ENROLMENT, MAX_POOL_CONNECTIONS,
    MAX_THUMBNAIL_BYTES, PaymentInput, PoolSettings, RewardEvaluation, StaffInput, StockChange,
    SubscriptionInput,
};
pub use migrate::{MigrationRecord, Migrations};
pub use ops::{HealthReport, Operations, Verdict};
pub use store::ActiveFilter;
pub use store::DailyJobCounts;
