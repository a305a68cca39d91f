//! Adoption: moving a database of the original PowerGym backend (FastAPI + SQLAlchemy +
//! Alembic, head `5ca3a67ca896`) over to this library, with nothing lost.
//!
//! The original's tables, enum types and functions are moved into the schema
//! `powergym_original`, where they stay untouched; this library's migrations build its
//! schema in `public`; every row is then either adopted (its UUID kept, its values mapped
//! and validated by the same rules as a new record) or set aside with the reason and the
//! rule applied. All of it runs in one transaction: a failure leaves the original as it
//! was. The dry run ([`Gym::adoption_plan`]) runs the very same code and rolls back, so
//! its report is what adoption would do.
//!
//! The decisions are pure functions in [`rules`], tested beside it; the SQL that reads
//! the original and writes the adopted rows is in `store/postgres/adopt.rs`.

pub mod rules;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::calendar::BusinessCalendar;
use crate::error::Result;
use crate::gym::Gym;

/// The Alembic revision an adoptable database must be at.
pub const ORIGINAL_REVISION: &str = "5ca3a67ca896";

/// Where the original's tables are kept after adoption.
pub const ORIGINAL_SCHEMA: &str = "powergym_original";

/// How to read the original's data.
#[derive(Debug, Clone, Default)]
pub struct AdoptionOptions {
    /// The gym's time zone: attendances get their business date in it, as check-ins do.
    pub calendar: BusinessCalendar,
}

/// Rows of one original table, and where each went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableAccount {
    /// The original's table (`client_biometrics`, not `biometrics`).
    pub table: String,
    /// Rows it had.
    pub before: u64,
    /// Rows adopted (changed ones included).
    pub adopted: u64,
    /// Rows set aside, each listed in [`AdoptionReport::set_aside`].
    pub set_aside: u64,
}

/// A row that could not be carried over as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetAside {
    /// The original's table.
    pub table: &'static str,
    /// The row's id (the username for `users`).
    pub id: String,
    /// Stable code: `invalid_value`, `duplicate_document`, `client_set_aside`,
    /// `plan_set_aside`, `subscription_set_aside`, `product_set_aside`,
    /// `duplicate_attendance`, `payment_exceeds_price`, `duplicate_reward`,
    /// `no_biometric_consent`, `invalid_username`.
    pub reason: &'static str,
    /// For a person: what was wrong (field names and amounts, never a member's data)
    /// and the rule applied.
    pub detail: String,
}

/// A row adopted with a change, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The original's table.
    pub table: &'static str,
    /// The row's id.
    pub id: String,
    /// Stable code: `overlap_canceled`, `price_snapshot`, `stock_adjusted`,
    /// `field_dropped`, `cancellation_date_set`, `reward_fixed`, `staff_unlinked`.
    pub kind: &'static str,
    /// What changed and why, for a person.
    pub detail: String,
}

/// What adoption did, or (dry run) would do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdoptionReport {
    /// The original's Alembic revision.
    pub revision: String,
    /// True once adopted; false for a dry run.
    pub applied: bool,
    /// The schema version the library's migrations brought the database to.
    pub schema_version: i64,
    /// Rows per original table: before = adopted + set aside.
    pub tables: Vec<TableAccount>,
    /// Every row not carried over, with its reason.
    pub set_aside: Vec<SetAside>,
    /// Every row carried over with a change.
    pub changes: Vec<Change>,
    /// Sum of the original's payments.
    pub payments_before: Decimal,
    /// Sum of the adopted payments.
    pub payments_adopted: Decimal,
    /// Sum of the payments set aside (money to settle by hand: refunds or credits).
    pub payments_set_aside: Decimal,
    /// Face templates set aside for want of recorded consent: these members enrol again,
    /// under consent.
    pub templates_set_aside: u64,
}

impl AdoptionReport {
    /// The account of one original table.
    pub fn table(&self, name: &str) -> Option<&TableAccount> {
        self.tables.iter().find(|t| t.table == name)
    }

    /// Rows set aside for `reason`.
    pub fn set_aside_for(&self, reason: &str) -> usize {
        self.set_aside.iter().filter(|s| s.reason == reason).count()
    }

    /// Changes of `kind`.
    pub fn changes_of(&self, kind: &str) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }
}

impl Gym {
    /// The dry run: recognises the original's schema (refusing, with what differs, a
    /// database at another revision or shaped otherwise), then runs the whole adoption
    /// in a transaction that is rolled back, and reports what it would do. Changes
    /// nothing.
    pub async fn adoption_plan(url: &str, options: &AdoptionOptions) -> Result<AdoptionReport> {
        crate::store::postgres::adopt::run(url, options, false).await
    }

    /// Adopts the original database at `url` in place, in one transaction, and records
    /// this library's migrations as applied. Refused when the database is not the
    /// original's at [`ORIGINAL_REVISION`], or was adopted already. The face index is
    /// empty afterwards (no template has a recorded consent); members enrol again.
    pub async fn adopt(url: &str, options: &AdoptionOptions) -> Result<AdoptionReport> {
        crate::store::postgres::adopt::run(url, options, true).await
    }
}
