//! The `Gym` class: a blocking handle over the core facade. Every call that waits on the
//! database releases the GIL and runs on the shared runtime.

use std::future::Future;
use std::time::Duration;

use chrono::NaiveDate;
use pyo3::prelude::*;
use uuid::Uuid;

use crate::errors::to_py;
use crate::runtime::runtime;
use crate::types::{Client, ClientPage, MigrationRecord};
use powergym_core as core;

/// Runs a core future to completion with the GIL released.
fn wait<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = core::Result<T>> + Send,
    T: Send,
{
    py.detach(|| runtime().block_on(fut)).map_err(to_py)
}

fn seconds(field: &'static str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        to_py(core::Error::validation(
            field,
            "must be a non-negative number of seconds",
        ))
    })
}

/// A connection to a gym's database.
#[pyclass(frozen, module = "powergym")]
pub(crate) struct Gym(core::Gym);

#[pymethods]
impl Gym {
    /// Connects to PostgreSQL; raises at once when the URL, server or credentials are wrong.
    #[staticmethod]
    #[pyo3(signature = (
        url, *, max_connections = 30, min_connections = 0, acquire_timeout = 30.0,
        max_lifetime = Some(3600.0), idle_timeout = Some(600.0), test_before_acquire = true,
        time_zone = "America/Bogota"
    ))]
    #[pyo3(text_signature = "(url, *, max_connections=30, min_connections=0, \
        acquire_timeout=30.0, max_lifetime=3600.0, idle_timeout=600.0, \
        test_before_acquire=True, time_zone='America/Bogota')")]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        url: &str,
        max_connections: u32,
        min_connections: u32,
        acquire_timeout: f64,
        max_lifetime: Option<f64>,
        idle_timeout: Option<f64>,
        test_before_acquire: bool,
        time_zone: &str,
    ) -> PyResult<Self> {
        let options = core::GymOptions {
            pool: core::PoolSettings {
                max_connections,
                min_connections,
                acquire_timeout: seconds("acquire_timeout", acquire_timeout)?,
                max_lifetime: max_lifetime
                    .map(|s| seconds("max_lifetime", s))
                    .transpose()?,
                idle_timeout: idle_timeout
                    .map(|s| seconds("idle_timeout", s))
                    .transpose()?,
                test_before_acquire,
            },
            calendar: core::BusinessCalendar::new(time_zone).map_err(to_py)?,
            ..core::GymOptions::default()
        };
        let url = url.to_owned();
        wait(
            py,
            async move { core::Gym::connect_with(&url, options).await },
        )
        .map(Self)
    }

    /// Applies every pending migration.
    fn migrate(&self, py: Python<'_>) -> PyResult<()> {
        wait(py, self.0.migrations().run())
    }

    /// Applies pending migrations up to and including `version`.
    fn migrate_to(&self, py: Python<'_>, version: i64) -> PyResult<()> {
        wait(py, self.0.migrations().run_to(version))
    }

    /// Reverts the newest applied migration.
    fn revert(&self, py: Python<'_>) -> PyResult<()> {
        wait(py, self.0.migrations().revert())
    }

    /// Reverts every migration newer than `version` (0 = base).
    fn revert_to(&self, py: Python<'_>, version: i64) -> PyResult<()> {
        wait(py, self.0.migrations().revert_to(version))
    }

    /// Marks the database as being at `version` without running scripts.
    fn stamp(&self, py: Python<'_>, version: i64) -> PyResult<()> {
        wait(py, self.0.migrations().stamp(version))
    }

    /// The newest applied migration version (0 = none).
    fn current_version(&self, py: Python<'_>) -> PyResult<i64> {
        wait(py, self.0.migrations().current_version())
    }

    /// Every migration, applied or pending, with checksums.
    fn history(&self, py: Python<'_>) -> PyResult<Vec<MigrationRecord>> {
        let records = wait(py, self.0.migrations().history())?;
        Ok(records.into_iter().map(MigrationRecord).collect())
    }

    /// Raises SchemaOutOfDateError unless the database is at this library's version.
    fn check_schema(&self, py: Python<'_>) -> PyResult<()> {
        wait(py, self.0.migrations().check())
    }

    /// Today's business date in the gym's time zone.
    fn today(&self) -> NaiveDate {
        self.0.today()
    }

    /// Registers a client after validating every field.
    #[pyo3(signature = (
        *, document_type, document_number, first_name, last_name, phone, birth_date, gender,
        middle_name = None, second_last_name = None, alternative_phone = None, email = None,
        address = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn register_client(
        &self,
        py: Python<'_>,
        document_type: &str,
        document_number: String,
        first_name: String,
        last_name: String,
        phone: String,
        birth_date: NaiveDate,
        gender: &str,
        middle_name: Option<String>,
        second_last_name: Option<String>,
        alternative_phone: Option<String>,
        email: Option<String>,
        address: Option<String>,
    ) -> PyResult<Client> {
        let input = core::ClientInput {
            document_type: document_type.parse().map_err(to_py)?,
            document_number,
            first_name,
            middle_name,
            last_name,
            second_last_name,
            phone,
            alternative_phone,
            email,
            birth_date,
            gender: gender.parse().map_err(to_py)?,
            address,
        };
        wait(py, self.0.register_client(input)).map(Client)
    }

    /// The client with this id.
    fn get_client(&self, py: Python<'_>, client_id: Uuid) -> PyResult<Client> {
        wait(py, self.0.client(core::ClientId::from_uuid(client_id))).map(Client)
    }

    /// The client holding this document.
    fn get_client_by_document(
        &self,
        py: Python<'_>,
        document_type: &str,
        document_number: &str,
    ) -> PyResult<Client> {
        let doc_type: core::DocumentType = document_type.parse().map_err(to_py)?;
        let number = document_number.to_owned();
        wait(py, async move {
            self.0.client_by_document(doc_type, &number).await
        })
        .map(Client)
    }

    /// A page of clients, newest first; `active` filters by state when given.
    #[pyo3(signature = (*, limit = 100, offset = 0, active = None))]
    fn list_clients(
        &self,
        py: Python<'_>,
        limit: u32,
        offset: u64,
        active: Option<bool>,
    ) -> PyResult<ClientPage> {
        let page = core::PageRequest::new(limit, offset).map_err(to_py)?;
        let filter = match active {
            None => core::ActiveFilter::All,
            Some(true) => core::ActiveFilter::Active,
            Some(false) => core::ActiveFilter::Inactive,
        };
        let result = wait(py, self.0.list_clients_filtered(filter, page))?;
        ClientPage::new(py, result)
    }

    /// Closes every connection.
    fn close(&self, py: Python<'_>) {
        py.detach(|| runtime().block_on(self.0.close()));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyAny>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) {
        self.close(py);
    }

    fn __repr__(&self) -> String {
        format!("Gym(time_zone='{}')", self.0.calendar().zone_name())
    }
}
