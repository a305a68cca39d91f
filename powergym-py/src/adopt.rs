//! Adoption of an original PowerGym database, for the original's operators who live in
//! Python: `powergym.adoption_plan(url)` and `powergym.adopt(url)`. Conversions only; the
//! decisions are core's.

use pyo3::prelude::*;

use crate::errors::to_py;
use crate::gym::wait;
use crate::types::record::{Money, record};
use powergym_core as core;

record! {
    /// Rows of one original table, and where each went (before = adopted + set aside).
    TableAccount {
        table: String,
        before: u64,
        adopted: u64,
        set_aside: u64,
    }
    repr(table, before, adopted, set_aside)
}

impl From<core::adopt::TableAccount> for TableAccount {
    fn from(t: core::adopt::TableAccount) -> Self {
        Self {
            table: t.table,
            before: t.before,
            adopted: t.adopted,
            set_aside: t.set_aside,
        }
    }
}

record! {
    /// A row of the original not carried over, with its reason (stable code) and, for a
    /// person, what was wrong and the rule applied. Holds no member data.
    SetAside {
        table: String,
        id: String,
        reason: String,
        detail: String,
    }
    repr(table, id, reason)
}

impl From<core::adopt::SetAside> for SetAside {
    fn from(s: core::adopt::SetAside) -> Self {
        Self {
            table: s.table.to_owned(),
            id: s.id,
            reason: s.reason.to_owned(),
            detail: s.detail,
        }
    }
}

record! {
    /// A row adopted with a change, and why.
    AdoptionChange {
        table: String,
        id: String,
        kind: String,
        detail: String,
    }
    repr(table, id, kind)
}

impl From<core::adopt::Change> for AdoptionChange {
    fn from(c: core::adopt::Change) -> Self {
        Self {
            table: c.table.to_owned(),
            id: c.id,
            kind: c.kind.to_owned(),
            detail: c.detail,
        }
    }
}

record! {
    /// What adoption did, or (dry run) would do.
    AdoptionReport {
        /// The original's Alembic revision.
        revision: String,
        /// True once adopted; False for a dry run.
        applied: bool,
        /// The schema version the library's migrations brought the database to.
        schema_version: i64,
        tables: Vec<TableAccount>,
        /// Every row not carried over.
        set_aside: Vec<SetAside>,
        /// Every row carried over with a change.
        changes: Vec<AdoptionChange>,
        payments_before: Money,
        payments_adopted: Money,
        /// To refund or credit by hand.
        payments_set_aside: Money,
        /// Face templates set aside for want of recorded consent.
        templates_set_aside: u64,
    }
    repr(revision, applied, set_aside, changes)
}

#[pymethods]
impl AdoptionReport {
    /// The account of one original table, or None.
    fn table(&self, name: &str) -> Option<TableAccount> {
        self.tables.iter().find(|t| t.table == name).cloned()
    }
    /// How many rows were set aside for `reason`.
    fn set_aside_for(&self, reason: &str) -> usize {
        self.set_aside.iter().filter(|s| s.reason == reason).count()
    }
    /// How many rows were adopted with a change of `kind`.
    fn changes_of(&self, kind: &str) -> usize {
        self.changes.iter().filter(|c| c.kind == kind).count()
    }
}

impl From<core::AdoptionReport> for AdoptionReport {
    fn from(r: core::AdoptionReport) -> Self {
        Self {
            revision: r.revision,
            applied: r.applied,
            schema_version: r.schema_version,
            tables: r.tables.into_iter().map(Into::into).collect(),
            set_aside: r.set_aside.into_iter().map(Into::into).collect(),
            changes: r.changes.into_iter().map(Into::into).collect(),
            payments_before: Money::of(r.payments_before),
            payments_adopted: Money::of(r.payments_adopted),
            payments_set_aside: Money::of(r.payments_set_aside),
            templates_set_aside: r.templates_set_aside,
        }
    }
}

fn options(time_zone: &str) -> PyResult<core::AdoptionOptions> {
    Ok(core::AdoptionOptions {
        calendar: core::BusinessCalendar::new(time_zone).map_err(to_py)?,
    })
}

/// The dry run: what adopting the original database at `url` would do; changes nothing.
#[pyfunction]
#[pyo3(signature = (url, *, time_zone = "America/Bogota"))]
fn adoption_plan(py: Python<'_>, url: &str, time_zone: &str) -> PyResult<AdoptionReport> {
    let options = options(time_zone)?;
    let url = url.to_owned();
    wait(
        py,
        async move { core::Gym::adoption_plan(&url, &options).await },
    )
    .map(AdoptionReport::from)
}

/// Adopts the original database at `url` in place, in one transaction.
#[pyfunction]
#[pyo3(signature = (url, *, time_zone = "America/Bogota"))]
fn adopt(py: Python<'_>, url: &str, time_zone: &str) -> PyResult<AdoptionReport> {
    let options = options(time_zone)?;
    let url = url.to_owned();
    wait(py, async move { core::Gym::adopt(&url, &options).await }).map(AdoptionReport::from)
}

/// Registers the adoption functions and records.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<AdoptionReport>()?;
    m.add_class::<TableAccount>()?;
    m.add_class::<SetAside>()?;
    m.add_class::<AdoptionChange>()?;
    m.add_function(wrap_pyfunction!(adoption_plan, m)?)?;
    m.add_function(wrap_pyfunction!(adopt, m)?)?;
    Ok(())
}
