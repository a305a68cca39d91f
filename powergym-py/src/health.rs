//! The database's health report and upkeep results handed to Python, as frozen records
//! (declared with [`record!`]).
//!
//! Conversions only: the verdicts and the report's overall verdict are core's. A verdict
//! crosses as a `powergym.Verdict` member. Nothing here names a member, so a `__repr__`
//! may show what it holds (but never a statement's text).

use chrono::{DateTime, Utc};
use pyo3::prelude::*;

use crate::types::enums::Enum;
use crate::types::record::record;
use powergym_core as core;
use powergym_core::ops::health;

record! {
    /// One line of the health report: what was checked, how it stands, and in words why.
    HealthCheck {
        /// Stable snake_case name: `schema`, `connections`, `dead_rows`...
        name: String,
        verdict: Enum<core::Verdict>,
        summary: String,
    }
    repr(name, verdict, summary)
}

impl From<health::HealthCheck> for HealthCheck {
    fn from(c: health::HealthCheck) -> Self {
        Self {
            name: c.name.to_owned(),
            verdict: c.verdict.into(),
            summary: c.summary,
        }
    }
}

record! {
    /// The schema version against the library's.
    SchemaState {
        database_version: i64,
        library_version: i64,
        pending: u32,
        unknown: u32,
        edited: u32,
    }
    repr(database_version, library_version, pending, unknown, edited)
}

impl From<health::SchemaState> for SchemaState {
    fn from(s: health::SchemaState) -> Self {
        Self {
            database_version: s.database_version,
            library_version: s.library_version,
            pending: s.pending,
            unknown: s.unknown,
            edited: s.edited,
        }
    }
}

record! {
    /// The database's size, and what it was at the previous report.
    DatabaseSize {
        name: String,
        bytes: u64,
        previous_bytes: Option<u64>,
        previous_at: Option<DateTime<Utc>>,
    }
    repr(name, bytes, previous_bytes)
}

impl From<health::DatabaseSize> for DatabaseSize {
    fn from(d: health::DatabaseSize) -> Self {
        Self {
            name: d.name,
            bytes: d.bytes,
            previous_bytes: d.previous_bytes,
            previous_at: d.previous_at,
        }
    }
}

record! {
    /// One table: size, rows, dead rows and upkeep.
    TableStats {
        name: String,
        total_bytes: u64,
        previous_bytes: Option<u64>,
        live_rows: u64,
        dead_rows: u64,
        /// dead / (live + dead), as core computes it.
        dead_share: f64,
        last_vacuum: Option<DateTime<Utc>>,
        last_analyze: Option<DateTime<Utc>>,
    }
    repr(name, total_bytes, live_rows, dead_rows)
}

impl From<health::TableStats> for TableStats {
    fn from(t: health::TableStats) -> Self {
        Self {
            dead_share: t.dead_share(),
            name: t.name,
            total_bytes: t.total_bytes,
            previous_bytes: t.previous_bytes,
            live_rows: t.live_rows,
            dead_rows: t.dead_rows,
            last_vacuum: t.last_vacuum,
            last_analyze: t.last_analyze,
        }
    }
}

record! {
    /// Connection slots on the server.
    ConnectionStats {
        in_use: u32,
        usable: u32,
        this_database: u32,
        active: u32,
        idle_in_transaction: u32,
    }
    repr(in_use, usable, this_database, active, idle_in_transaction)
}

impl From<health::ConnectionStats> for ConnectionStats {
    fn from(c: health::ConnectionStats) -> Self {
        Self {
            in_use: c.in_use,
            usable: c.usable,
            this_database: c.this_database,
            active: c.active,
            idle_in_transaction: c.idle_in_transaction,
        }
    }
}

record! {
    /// A statement by mean execution time, as `pg_stat_statements` normalises it (every
    /// constant replaced by `$n`).
    SlowQuery {
        query_id: i64,
        calls: u64,
        mean_ms: f64,
        total_ms: f64,
        query: String,
    }
    repr(query_id, calls, mean_ms)
}

impl From<health::SlowQuery> for SlowQuery {
    fn from(q: health::SlowQuery) -> Self {
        Self {
            query_id: q.query_id,
            calls: q.calls,
            mean_ms: q.mean_ms,
            total_ms: q.total_ms,
            query: q.query,
        }
    }
}

record! {
    /// What the server says about slow statements.
    SlowQueries {
        available: bool,
        note: Option<String>,
        queries: Vec<SlowQuery>,
    }
    repr(available, queries)
}

impl From<health::SlowQueries> for SlowQueries {
    fn from(s: health::SlowQueries) -> Self {
        Self {
            available: s.available,
            note: s.note,
            queries: s.queries.into_iter().map(Into::into).collect(),
        }
    }
}

record! {
    /// An index never scanned on a table that is read.
    UnusedIndex {
        table: String,
        index: String,
        bytes: u64,
        table_scans: u64,
    }
    repr(table, index, bytes)
}

impl From<health::UnusedIndex> for UnusedIndex {
    fn from(u: health::UnusedIndex) -> Self {
        Self {
            table: u.table,
            index: u.index,
            bytes: u.bytes,
            table_scans: u.table_scans,
        }
    }
}

record! {
    /// Indexes with the same definition on one table: all but one are waste.
    DuplicateIndexes {
        table: String,
        indexes: Vec<String>,
        wasted_bytes: u64,
    }
    repr(table, indexes, wasted_bytes)
}

impl From<health::DuplicateIndexes> for DuplicateIndexes {
    fn from(d: health::DuplicateIndexes) -> Self {
        Self {
            table: d.table,
            indexes: d.indexes,
            wasted_bytes: d.wasted_bytes,
        }
    }
}

record! {
    /// A server session, without its query text (it could hold a member's data).
    SessionInfo {
        pid: i32,
        role: Option<String>,
        application: Option<String>,
        state: Option<String>,
        transaction_seconds: Option<f64>,
    }
    repr(pid, state)
}

impl From<health::SessionInfo> for SessionInfo {
    fn from(s: health::SessionInfo) -> Self {
        Self {
            pid: s.pid,
            role: s.role,
            application: s.application,
            state: s.state,
            transaction_seconds: s.transaction_seconds,
        }
    }
}

record! {
    /// A session waiting for a lock that others hold.
    LockWait {
        waiting: SessionInfo,
        blocked_by: Vec<SessionInfo>,
        waiting_seconds: f64,
        lock_type: String,
        mode: String,
        relation: Option<String>,
    }
    repr(waiting, blocked_by, waiting_seconds, lock_type, mode)
}

impl From<health::LockWait> for LockWait {
    fn from(w: health::LockWait) -> Self {
        Self {
            waiting: w.waiting.into(),
            blocked_by: w.blocked_by.into_iter().map(Into::into).collect(),
            waiting_seconds: w.waiting_seconds,
            lock_type: w.lock_type,
            mode: w.mode,
            relation: w.relation,
        }
    }
}

record! {
    /// The face search index and the in-process cache it could be replaced by.
    FaceIndexStats {
        templates: u64,
        index_bytes: Option<u64>,
        index_valid: bool,
        cache_bytes: u64,
        available_memory: Option<u64>,
    }
    repr(templates, index_bytes, index_valid, cache_bytes)
}

impl From<health::FaceIndexStats> for FaceIndexStats {
    fn from(f: health::FaceIndexStats) -> Self {
        Self {
            templates: f.templates,
            index_bytes: f.index_bytes,
            index_valid: f.index_valid,
            cache_bytes: f.cache_bytes,
            available_memory: f.available_memory,
        }
    }
}

record! {
    /// Everything an operator watches, with a verdict per line; from
    /// `Gym.health_report`. `verdict` is core's: the worst of the lines.
    HealthReport {
        generated_at: DateTime<Utc>,
        verdict: Enum<core::Verdict>,
        /// One line per check, in a fixed order.
        checks: Vec<HealthCheck>,
        schema: SchemaState,
        database: DatabaseSize,
        /// Tables, largest first.
        tables: Vec<TableStats>,
        connections: ConnectionStats,
        slow_queries: SlowQueries,
        unused_indexes: Vec<UnusedIndex>,
        duplicate_indexes: Vec<DuplicateIndexes>,
        /// Indexes left invalid by an interrupted build.
        invalid_indexes: Vec<String>,
        lock_waits: Vec<LockWait>,
        face: FaceIndexStats,
    }
    repr(verdict, generated_at, checks)
}

#[pymethods]
impl HealthReport {
    /// The line named `name` (`schema`, `connections`...), or None.
    fn check(&self, name: &str) -> Option<HealthCheck> {
        self.checks.iter().find(|c| c.name == name).cloned()
    }
}

impl From<core::HealthReport> for HealthReport {
    fn from(r: core::HealthReport) -> Self {
        Self {
            verdict: r.verdict().into(),
            generated_at: r.generated_at,
            checks: r.checks.into_iter().map(Into::into).collect(),
            schema: r.schema.into(),
            database: r.database.into(),
            tables: r.tables.into_iter().map(Into::into).collect(),
            connections: r.connections.into(),
            slow_queries: r.slow_queries.into(),
            unused_indexes: r.unused_indexes.into_iter().map(Into::into).collect(),
            duplicate_indexes: r.duplicate_indexes.into_iter().map(Into::into).collect(),
            invalid_indexes: r.invalid_indexes,
            lock_waits: r.lock_waits.into_iter().map(Into::into).collect(),
            face: r.face.into(),
        }
    }
}

record! {
    /// What rebuilding the face index did; from `Gym.rebuild_face_index`.
    IndexRebuild {
        index: String,
        bytes_before: u64,
        bytes_after: u64,
        dropped_leftovers: Vec<String>,
        elapsed_seconds: f64,
    }
    repr(index, bytes_before, bytes_after, elapsed_seconds)
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

/// Registers the health records.
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
