//! Adoption of an original PowerGym database, for the original's operators who live in
//! Python: `powergym.adoption_plan(url)` and `powergym.adopt(url)`. Conversions only; the
//! decisions are core's.

use pyo3::prelude::*;
use rust_decimal::Decimal;

use crate::errors::to_py;
use crate::gym::wait;
use powergym_core as core;

/// Money always shows two decimal places.
fn money(mut d: Decimal) -> Decimal {
    d.rescale(2);
    d
}

/// Rows of one original table, and where each went (before = adopted + set aside).
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct TableAccount {
    table: String,
    before: u64,
    adopted: u64,
    set_aside: u64,
}

#[pymethods]
impl TableAccount {
    fn __repr__(&self) -> String {
        format!(
            "TableAccount(table='{}', before={}, adopted={}, set_aside={})",
            self.table, self.before, self.adopted, self.set_aside
        )
    }
}

/// A row of the original not carried over, with its reason (stable code) and, for a
/// person, what was wrong and the rule applied. Holds no member data.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct SetAside {
    table: &'static str,
    id: String,
    reason: &'static str,
    detail: String,
}

#[pymethods]
impl SetAside {
    fn __repr__(&self) -> String {
        format!(
            "SetAside(table='{}', id='{}', reason='{}')",
            self.table, self.id, self.reason
        )
    }
}

/// A row adopted with a change, and why.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct AdoptionChange {
    table: &'static str,
    id: String,
    kind: &'static str,
    detail: String,
}

#[pymethods]
impl AdoptionChange {
    fn __repr__(&self) -> String {
        format!(
            "AdoptionChange(table='{}', id='{}', kind='{}')",
            self.table, self.id, self.kind
        )
    }
}

/// What adoption did, or (dry run) would do.
#[pyclass(frozen, module = "powergym")]
pub(crate) struct AdoptionReport(core::AdoptionReport);

#[pymethods]
impl AdoptionReport {
    /// The original's Alembic revision.
    #[getter]
    fn revision(&self) -> &str {
        &self.0.revision
    }
    /// True once adopted; False for a dry run.
    #[getter]
    fn applied(&self) -> bool {
        self.0.applied
    }
    /// The schema version the library's migrations brought the database to.
    #[getter]
    fn schema_version(&self) -> i64 {
        self.0.schema_version
    }
    /// Rows per original table.
    #[getter]
    fn tables(&self) -> Vec<TableAccount> {
        self.0
            .tables
            .iter()
            .map(|t| TableAccount {
                table: t.table.clone(),
                before: t.before,
                adopted: t.adopted,
                set_aside: t.set_aside,
            })
            .collect()
    }
    /// Every row not carried over.
    #[getter]
    fn set_aside(&self) -> Vec<SetAside> {
        self.0
            .set_aside
            .iter()
            .map(|s| SetAside {
                table: s.table,
                id: s.id.clone(),
                reason: s.reason,
                detail: s.detail.clone(),
            })
            .collect()
    }
    /// Every row carried over with a change.
    #[getter]
    fn changes(&self) -> Vec<AdoptionChange> {
        self.0
            .changes
            .iter()
            .map(|c| AdoptionChange {
                table: c.table,
                id: c.id.clone(),
                kind: c.kind,
                detail: c.detail.clone(),
            })
            .collect()
    }
    /// Sum of the original's payments.
    #[getter]
    fn payments_before(&self) -> Decimal {
        money(self.0.payments_before)
    }
    /// Sum of the adopted payments.
    #[getter]
    fn payments_adopted(&self) -> Decimal {
        money(self.0.payments_adopted)
    }
    /// Sum of the payments set aside (to refund or credit by hand).
    #[getter]
    fn payments_set_aside(&self) -> Decimal {
        money(self.0.payments_set_aside)
    }
    /// Face templates set aside for want of recorded consent.
    #[getter]
    fn templates_set_aside(&self) -> u64 {
        self.0.templates_set_aside
    }
    /// The account of one original table, or None.
    fn table(&self, name: &str) -> Option<TableAccount> {
        self.0.table(name).map(|t| TableAccount {
            table: t.table.clone(),
            before: t.before,
            adopted: t.adopted,
            set_aside: t.set_aside,
        })
    }
    /// How many rows were set aside for `reason`.
    fn set_aside_for(&self, reason: &str) -> usize {
        self.0.set_aside_for(reason)
    }
    /// How many rows were adopted with a change of `kind`.
    fn changes_of(&self, kind: &str) -> usize {
        self.0.changes_of(kind)
    }
    fn __repr__(&self) -> String {
        format!(
            "AdoptionReport(revision='{}', applied={}, set_aside={}, changes={})",
            self.0.revision,
            if self.0.applied { "True" } else { "False" },
            self.0.set_aside.len(),
            self.0.changes.len()
        )
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
    .map(AdoptionReport)
}

/// Adopts the original database at `url` in place, in one transaction.
#[pyfunction]
#[pyo3(signature = (url, *, time_zone = "America/Bogota"))]
fn adopt(py: Python<'_>, url: &str, time_zone: &str) -> PyResult<AdoptionReport> {
    let options = options(time_zone)?;
    let url = url.to_owned();
    wait(py, async move { core::Gym::adopt(&url, &options).await }).map(AdoptionReport)
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
