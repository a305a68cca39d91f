//! Frozen record classes handed to Python. They wrap the core records unchanged;
//! `__repr__` shows ids and states only, never personal data, so a logged record leaks
//! nothing.

use chrono::{DateTime, NaiveDate, Utc};
use pyo3::prelude::*;
use uuid::Uuid;

use powergym_core as core;

/// A registered gym member.
#[pyclass(frozen, eq, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct Client(pub(crate) core::Client);

#[pymethods]
impl Client {
    #[getter]
    fn id(&self) -> Uuid {
        self.0.id.as_uuid()
    }
    #[getter]
    fn document_type(&self) -> &'static str {
        self.0.document_type.as_str()
    }
    #[getter]
    fn document_number(&self) -> &str {
        self.0.document_number.as_str()
    }
    #[getter]
    fn first_name(&self) -> &str {
        self.0.first_name.as_str()
    }
    #[getter]
    fn middle_name(&self) -> Option<&str> {
        self.0.middle_name.as_ref().map(|n| n.as_str())
    }
    #[getter]
    fn last_name(&self) -> &str {
        self.0.last_name.as_str()
    }
    #[getter]
    fn second_last_name(&self) -> Option<&str> {
        self.0.second_last_name.as_ref().map(|n| n.as_str())
    }
    #[getter]
    fn full_name(&self) -> String {
        self.0.full_name()
    }
    #[getter]
    fn phone(&self) -> &str {
        self.0.phone.as_str()
    }
    #[getter]
    fn alternative_phone(&self) -> Option<&str> {
        self.0.alternative_phone.as_ref().map(|p| p.as_str())
    }
    #[getter]
    fn email(&self) -> Option<&str> {
        self.0.email.as_ref().map(|e| e.as_str())
    }
    #[getter]
    fn birth_date(&self) -> NaiveDate {
        self.0.birth_date.date()
    }
    #[getter]
    fn gender(&self) -> &'static str {
        self.0.gender.as_str()
    }
    #[getter]
    fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    #[getter]
    fn is_active(&self) -> bool {
        self.0.is_active
    }
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    #[getter]
    fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    fn __repr__(&self) -> String {
        format!(
            "Client(id='{}', document_type='{}', is_active={})",
            self.0.id,
            self.0.document_type,
            if self.0.is_active { "True" } else { "False" }
        )
    }
}

/// One page of clients.
#[pyclass(frozen, module = "powergym")]
pub(crate) struct ClientPage {
    #[pyo3(get)]
    items: Vec<Py<Client>>,
    #[pyo3(get)]
    total: u64,
    #[pyo3(get)]
    limit: u32,
    #[pyo3(get)]
    offset: u64,
}

impl ClientPage {
    pub(crate) fn new(py: Python<'_>, page: core::Page<core::Client>) -> PyResult<Self> {
        Ok(Self {
            items: page
                .items
                .into_iter()
                .map(|c| Py::new(py, Client(c)))
                .collect::<PyResult<_>>()?,
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        })
    }
}

#[pymethods]
impl ClientPage {
    fn __len__(&self) -> usize {
        self.items.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "ClientPage(items=<{} clients>, total={}, limit={}, offset={})",
            self.items.len(),
            self.total,
            self.limit,
            self.offset
        )
    }
}

/// A schema migration and whether the database has it.
#[pyclass(frozen, eq, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct MigrationRecord(pub(crate) core::MigrationRecord);

#[pymethods]
impl MigrationRecord {
    #[getter]
    fn version(&self) -> i64 {
        self.0.version
    }
    #[getter]
    fn description(&self) -> &str {
        &self.0.description
    }
    #[getter]
    fn checksum(&self) -> &str {
        &self.0.checksum
    }
    #[getter]
    fn applied_at(&self) -> Option<DateTime<Utc>> {
        self.0.applied_at
    }
    #[getter]
    fn is_applied(&self) -> bool {
        self.0.is_applied()
    }
    #[getter]
    fn checksum_mismatch(&self) -> bool {
        self.0.checksum_mismatch
    }
    fn __repr__(&self) -> String {
        format!(
            "MigrationRecord(version={}, description='{}', applied={})",
            self.0.version,
            self.0.description,
            if self.0.is_applied() { "True" } else { "False" }
        )
    }
}
