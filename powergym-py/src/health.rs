//! The database's health report and upkeep results handed to Python, as frozen records.
//!
//! Conversions only: the verdicts, the report's overall verdict and the lookup of a line
//! by name are core's. A verdict crosses as its label (`ok`, `warn`, `critical`), which
//! compares equal to the `powergym.Verdict` str enum. Nothing here names a member, so
//! every `__repr__` may show what it holds.

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use powergym_core as core;
use powergym_core::ops::health;

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// One line of the health report: what was checked, how it stands, and in words why.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct HealthCheck {
    name: &'static str,
    verdict: &'static str,
    summary: String,
}

impl From<&health::HealthCheck> for HealthCheck {
    fn from(c: &health::HealthCheck) -> Self {
        Self {
            name: c.name,
            verdict: c.verdict.as_str(),
            summary: c.summary.clone(),
        }
    }
}

#[pymethods]
impl HealthCheck {
    fn __repr__(&self) -> String {
        format!(
            "HealthCheck(name='{}', verdict='{}', summary={:?})",
            self.name, self.verdict, self.summary
        )
    }
}

/// The schema version against the library's.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct SchemaState {
    database_version: i64,
    library_version: i64,
    pending: u32,
    unknown: u32,
    edited: u32,
}

impl From<&health::SchemaState> for SchemaState {
    fn from(s: &health::SchemaState) -> Self {
        Self {
            database_version: s.database_version,
            library_version: s.library_version,
            pending: s.pending,
            unknown: s.unknown,
            edited: s.edited,
        }
    }
}

#[pymethods]
impl SchemaState {
    fn __repr__(&self) -> String {
        format!(
            "SchemaState(database_version={}, library_version={}, pending={}, unknown={}, \
             edited={})",
            self.database_version, self.library_version, self.pending, self.unknown, self.edited
        )
    }
}

/// The database's size, and what it was at the previous report.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct DatabaseSize {
    name: String,
    bytes: u64,
    previous_bytes: Option<u64>,
    previous_at: Option<DateTime<Utc>>,
}

impl From<&health::DatabaseSize> for DatabaseSize {
    fn from(d: &health::DatabaseSize) -> Self {
        Self {
            name: d.name.clone(),
            bytes: d.bytes,
            previous_bytes: d.previous_bytes,
            previous_at: d.previous_at,
        }
    }
}

#[pymethods]
impl DatabaseSize {
    fn __repr__(&self) -> String {
        let previous = self
            .previous_bytes
            .map_or_else(|| "None".to_owned(), |b| b.to_string());
        format!(
            "DatabaseSize(name='{}', bytes={}, previous_bytes={previous})",
            self.name, self.bytes
        )
    }
}

/// One table: size, rows, dead rows and upkeep.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct TableStats {
    name: String,
    total_bytes: u64,
    previous_bytes: Option<u64>,
    live_rows: u64,
    dead_rows: u64,
    dead_share: f64,
    last_vacuum: Option<DateTime<Utc>>,
    last_analyze: Option<DateTime<Utc>>,
}

impl From<&health::TableStats> for TableStats {
    fn from(t: &health::TableStats) -> Self {
        Self {
            dead_share: t.dead_share(),
            name: t.name.clone(),
            total_bytes: t.total_bytes,
            previous_bytes: t.previous_bytes,
            live_rows: t.live_rows,
            dead_rows: t.dead_rows,
            last_vacuum: t.last_vacuum,
            last_analyze: t.last_analyze,
        }
    }
}

#[pymethods]
impl TableStats {
    fn __repr__(&self) -> String {
        format!(
            "TableStats(name='{}', total_bytes={}, live_rows={}, dead_rows={})",
            self.name, self.total_bytes, self.live_rows, self.dead_rows
        )
    }
}

/// Connection slots on the server.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct ConnectionStats {
    in_use: u32,
    usable: u32,
    this_database: u32,
    active: u32,
    idle_in_transaction: u32,
}

impl From<&health::ConnectionStats> for ConnectionStats {
    fn from(c: &health::ConnectionStats) -> Self {
        Self {
            in_use: c.in_use,
            usable: c.usable,
            this_database: c.this_database,
            active: c.active,
            idle_in_transaction: c.idle_in_transaction,
        }
    }
}

#[pymethods]
impl ConnectionStats {
    fn __repr__(&self) -> String {
        format!(
            "ConnectionStats(in_use={}, usable={}, this_database={}, active={}, \
             idle_in_transaction={})",
            self.in_use, self.usable, self.this_database, self.active, self.idle_in_transaction
        )
    }
}

/// A statement by mean execution time, as `pg_stat_statements` normalises it (every
/// constant replaced by `$n`).
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct SlowQuery {
    query_id: i64,
    calls: u64,
    mean_ms: f64,
    total_ms: f64,
    query: String,
}

impl From<&health::SlowQuery> for SlowQuery {
    fn from(q: &health::SlowQuery) -> Self {
        Self {
            query_id: q.query_id,
            calls: q.calls,
            mean_ms: q.mean_ms,
            total_ms: q.total_ms,
            query: q.query.clone(),
        }
    }
}

#[pymethods]
impl SlowQuery {
    fn __repr__(&self) -> String {
        format!(
            "SlowQuery(query_id={}, calls={}, mean_ms={:.3})",
            self.query_id, self.calls, self.mean_ms
        )
    }
}

/// What the server says about slow statements.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct SlowQueries {
    available: bool,
    note: Option<String>,
    queries: Vec<SlowQuery>,
}

impl From<&health::SlowQueries> for SlowQueries {
    fn from(s: &health::SlowQueries) -> Self {
        Self {
            available: s.available,
            note: s.note.clone(),
            queries: s.queries.iter().map(Into::into).collect(),
        }
    }
}

#[pymethods]
impl SlowQueries {
    fn __repr__(&self) -> String {
        format!(
            "SlowQueries(available={}, queries=<{} statements>)",
            py_bool(self.available),
            self.queries.len()
        )
    }
}

/// An index never scanned on a table that is read.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct UnusedIndex {
    table: String,
    index: String,
    bytes: u64,
    table_scans: u64,
}

impl From<&health::UnusedIndex> for UnusedIndex {
    fn from(u: &health::UnusedIndex) -> Self {
        Self {
            table: u.table.clone(),
            index: u.index.clone(),
            bytes: u.bytes,
            table_scans: u.table_scans,
        }
    }
}

#[pymethods]
impl UnusedIndex {
    fn __repr__(&self) -> String {
        format!(
            "UnusedIndex(table='{}', index='{}', bytes={})",
            self.table, self.index, self.bytes
        )
    }
}

/// Indexes with the same definition on one table: all but one are waste.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct DuplicateIndexes {
    table: String,
    indexes: Vec<String>,
    wasted_bytes: u64,
}

impl From<&health::DuplicateIndexes> for DuplicateIndexes {
    fn from(d: &health::DuplicateIndexes) -> Self {
        Self {
            table: d.table.clone(),
            indexes: d.indexes.clone(),
            wasted_bytes: d.wasted_bytes,
        }
    }
}

#[pymethods]
impl DuplicateIndexes {
    fn __repr__(&self) -> String {
        format!(
            "DuplicateIndexes(table='{}', indexes={:?}, wasted_bytes={})",
            self.table, self.indexes, self.wasted_bytes
        )
    }
}

/// A server session, without its query text (it could hold a member's data).
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct SessionInfo {
    pid: i32,
    role: Option<String>,
    application: Option<String>,
    state: Option<String>,
    transaction_seconds: Option<f64>,
}

impl From<&health::SessionInfo> for SessionInfo {
    fn from(s: &health::SessionInfo) -> Self {
        Self {
            pid: s.pid,
            role: s.role.clone(),
            application: s.application.clone(),
            state: s.state.clone(),
            transaction_seconds: s.transaction_seconds,
        }
    }
}

#[pymethods]
impl SessionInfo {
    fn __repr__(&self) -> String {
        let state = self
            .state
            .as_deref()
            .map_or_else(|| "None".to_owned(), |s| format!("'{s}'"));
        format!("SessionInfo(pid={}, state={state})", self.pid)
    }
}

/// A session waiting for a lock that others hold.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct LockWait {
    waiting: SessionInfo,
    blocked_by: Vec<SessionInfo>,
    waiting_seconds: f64,
    lock_type: String,
    mode: String,
    relation: Option<String>,
}

impl From<&health::LockWait> for LockWait {
    fn from(w: &health::LockWait) -> Self {
        Self {
            waiting: (&w.waiting).into(),
            blocked_by: w.blocked_by.iter().map(Into::into).collect(),
            waiting_seconds: w.waiting_seconds,
            lock_type: w.lock_type.clone(),
            mode: w.mode.clone(),
            relation: w.relation.clone(),
        }
    }
}

#[pymethods]
impl LockWait {
    fn __repr__(&self) -> String {
        let by: Vec<String> = self.blocked_by.iter().map(|s| s.pid.to_string()).collect();
        format!(
            "LockWait(pid={}, blocked_by=[{}], waiting_seconds={:.1}, lock_type='{}', mode='{}')",
            self.waiting.pid,
            by.join(", "),
            self.waiting_seconds,
            self.lock_type,
            self.mode
        )
    }
}

/// The face search index and the in-process cache it could be replaced by.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(Clone, PartialEq)]
pub(crate) struct FaceIndexStats {
    templates: u64,
    index_bytes: Option<u64>,
    index_valid: bool,
    cache_bytes: u64,
    available_memory: Option<u64>,
}

impl From<&health::FaceIndexStats> for FaceIndexStats {
    fn from(f: &health::FaceIndexStats) -> Self {
        Self {
            templates: f.templates,
            index_bytes: f.index_bytes,
            index_valid: f.index_valid,
            cache_bytes: f.cache_bytes,
            available_memory: f.available_memory,
        }
    }
}

#[pymethods]
impl FaceIndexStats {
    fn __repr__(&self) -> String {
        let index = self
            .index_bytes
            .map_or_else(|| "None".to_owned(), |b| b.to_string());
        format!(
            "FaceIndexStats(templates={}, index_bytes={index}, index_valid={}, cache_bytes={})",
            self.templates,
            py_bool(self.index_valid),
            self.cache_bytes
        )
    }
}

/// Everything an operator watches, with a verdict per line; from `Gym.health_report`.
/// Holds the core report, so `verdict` and `check` are core's own.
#[pyclass(frozen, eq, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct HealthReport(pub(crate) core::HealthReport);

#[pymethods]
impl HealthReport {
    /// When it was taken.
    #[getter]
    fn generated_at(&self) -> DateTime<Utc> {
        self.0.generated_at
    }
    /// The worst verdict of any line: `ok`, `warn` or `critical`.
    #[getter]
    fn verdict(&self) -> &'static str {
        self.0.verdict().as_str()
    }
    /// One line per check, in a fixed order.
    #[getter]
    fn checks(&self) -> Vec<HealthCheck> {
        self.0.checks.iter().map(Into::into).collect()
    }
    /// Schema version.
    #[getter]
    fn schema(&self) -> SchemaState {
        (&self.0.schema).into()
    }
    /// Database size and growth.
    #[getter]
    fn database(&self) -> DatabaseSize {
        (&self.0.database).into()
    }
    /// Tables, largest first.
    #[getter]
    fn tables(&self) -> Vec<TableStats> {
        self.0.tables.iter().map(Into::into).collect()
    }
    /// Connection slots.
    #[getter]
    fn connections(&self) -> ConnectionStats {
        (&self.0.connections).into()
    }
    /// Slow statements.
    #[getter]
    fn slow_queries(&self) -> SlowQueries {
        (&self.0.slow_queries).into()
    }
    /// Indexes never scanned on tables that are read.
    #[getter]
    fn unused_indexes(&self) -> Vec<UnusedIndex> {
        self.0.unused_indexes.iter().map(Into::into).collect()
    }
    /// Indexes defined twice.
    #[getter]
    fn duplicate_indexes(&self) -> Vec<DuplicateIndexes> {
        self.0.duplicate_indexes.iter().map(Into::into).collect()
    }
    /// Indexes left invalid by an interrupted build.
    #[getter]
    fn invalid_indexes(&self) -> Vec<String> {
        self.0.invalid_indexes.clone()
    }
    /// Sessions waiting on others' locks.
    #[getter]
    fn lock_waits(&self) -> Vec<LockWait> {
        self.0.lock_waits.iter().map(Into::into).collect()
    }
    /// The face index.
    #[getter]
    fn face(&self) -> FaceIndexStats {
        (&self.0.face).into()
    }
    /// The line named `name` (`schema`, `connections`...), or None.
    fn check(&self, name: &str) -> Option<HealthCheck> {
        self.0.check(name).map(Into::into)
    }
    fn __repr__(&self) -> String {
        let not_ok: Vec<String> = self
            .0
            .checks
            .iter()
            .filter(|c| c.verdict != core::Verdict::Ok)
            .map(|c| format!("'{}'", c.name))
            .collect();
        format!(
            "HealthReport(verdict='{}', generated_at='{}', checks=<{} lines>, not_ok=[{}])",
            self.0.verdict(),
            self.0.generated_at.to_rfc3339(),
            self.0.checks.len(),
            not_ok.join(", ")
        )
    }
}

/// What rebuilding the face index did; from `Gym.rebuild_face_index`.
#[pyclass(frozen, eq, get_all, module = "powergym")]
#[derive(PartialEq)]
pub(crate) struct IndexRebuild {
    index: String,
    bytes_before: u64,
    bytes_after: u64,
    dropped_leftovers: Vec<String>,
    elapsed_seconds: f64,
}

impl From<core::ops::IndexRebuild> for IndexRebuild {
    fn from(r: core::ops::IndexRebuild) -> Self {
        Self {
            index: r.index,
            bytes_before: r.bytes_before,
            bytes_after: r.bytes_after,
            dropped_leftovers: r.dropped_leftovers,
            elapsed_seconds: r.elapsed.as_secs_f64(),
        }
    }
}

#[pymethods]
impl IndexRebuild {
    fn __repr__(&self) -> String {
        format!(
            "IndexRebuild(index='{}', bytes_before={}, bytes_after={}, elapsed_seconds={:.3})",
            self.index, self.bytes_before, self.bytes_after, self.elapsed_seconds
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<HealthReport>()?;
    m.add_class::<HealthCheck>()?;
    m.add_class::<SchemaState>()?;
    m.add_class::<DatabaseSize>()?;
    m.add_class::<TableStats>()?;
    m.add_class::<ConnectionStats>()?;
    m.add_class::<SlowQueries>()?;
    m.add_class::<SlowQuery>()?;
    m.add_class::<UnusedIndex>()?;
    m.add_class::<DuplicateIndexes>()?;
    m.add_class::<SessionInfo>()?;
    m.add_class::<LockWait>()?;
    m.add_class::<FaceIndexStats>()?;
    m.add_class::<IndexRebuild>()?;
    Ok(())
}
