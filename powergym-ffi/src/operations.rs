//! Operating the database from Kotlin and Swift: the health report, vacuum/analyze and
//! rebuilding the face index. Conversions only: the verdicts, and the report's overall
//! verdict, are core's. Nothing here names a member, so the generated `toString` /
//! `debugDescription` may show every field.

use powergym_core as core;
use powergym_core::Verdict;
use powergym_core::ops::health;

use crate::{Gym, Result, Timestamp};

/// How a line of the report stands, from best to worst.
#[uniffi::remote(Enum)]
pub enum Verdict {
    Ok,
    Warn,
    Critical,
}

/// One line of the health report: what was checked, how it stands, and in words why.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HealthCheck {
    /// Stable snake_case name: `schema`, `database_size`, `connections`, `slow_queries`,
    /// `unused_indexes`, `duplicate_indexes`, `invalid_indexes`, `dead_rows`,
    /// `lock_waits`, `face_index`, `face_cache_memory`.
    pub name: String,
    /// How it stands.
    pub verdict: Verdict,
    /// One sentence for a person, with the numbers and, when not ok, what to do.
    pub summary: String,
}

impl From<health::HealthCheck> for HealthCheck {
    fn from(c: health::HealthCheck) -> Self {
        Self {
            name: c.name.into(),
            verdict: c.verdict,
            summary: c.summary,
        }
    }
}

/// The schema version against the library's.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SchemaState {
    /// Newest migration applied (0 = none).
    pub database_version: i64,
    /// Newest migration this library ships.
    pub library_version: i64,
    /// Library migrations the database does not have.
    pub pending: u32,
    /// Applied migrations this library does not know (a newer program migrated it).
    pub unknown: u32,
    /// Applied scripts whose checksum differs from the library's.
    pub edited: u32,
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

/// The database's size, and what it was at the previous report.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DatabaseSize {
    /// The database's name.
    pub name: String,
    /// Bytes on disk now.
    pub bytes: u64,
    /// Bytes at the previous report, when there was one.
    pub previous_bytes: Option<u64>,
    /// When the previous report was taken.
    pub previous_at: Option<Timestamp>,
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

/// One table: size, rows, dead rows and upkeep.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct TableStats {
    /// Table name (schema-qualified outside `public`).
    pub name: String,
    /// Bytes with its indexes and TOAST.
    pub total_bytes: u64,
    /// The same at the previous report.
    pub previous_bytes: Option<u64>,
    /// Estimated live rows.
    pub live_rows: u64,
    /// Estimated dead rows, waiting for vacuum.
    pub dead_rows: u64,
    /// Dead rows as a share of all rows (0 when the table is empty).
    pub dead_share: f64,
    /// Last vacuum, manual or automatic.
    pub last_vacuum: Option<Timestamp>,
    /// Last analyze, manual or automatic.
    pub last_analyze: Option<Timestamp>,
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

/// Connection slots on the server.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ConnectionStats {
    /// Client connections open on the whole server.
    pub in_use: u32,
    /// Slots ordinary roles may use (`max_connections` less the reserved ones).
    pub usable: u32,
    /// Connections to this database.
    pub this_database: u32,
    /// Of those, running a statement.
    pub active: u32,
    /// Of those, open in a transaction but doing nothing: they hold locks and block
    /// vacuum.
    pub idle_in_transaction: u32,
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

/// A statement by mean execution time, as `pg_stat_statements` normalises it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SlowQuery {
    /// `pg_stat_statements`' query id.
    pub query_id: i64,
    /// Executions since the statistics were reset.
    pub calls: u64,
    /// Mean execution time in milliseconds.
    pub mean_ms: f64,
    /// Total execution time in milliseconds.
    pub total_ms: f64,
    /// The normalised text (constants are `$n`), cut to 160 characters.
    pub query: String,
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

/// What the server says about slow statements.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SlowQueries {
    /// False when `pg_stat_statements` is not installed or not loaded.
    pub available: bool,
    /// Why they could not be measured, and how to enable it.
    pub note: Option<String>,
    /// The slowest statements, slowest first (at most five).
    pub queries: Vec<SlowQuery>,
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

/// An index never scanned on a table that is read.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct UnusedIndex {
    /// Its table.
    pub table: String,
    /// The index.
    pub index: String,
    /// Bytes it takes (and every write to the table pays for).
    pub bytes: u64,
    /// Reads of its table since the statistics were reset.
    pub table_scans: u64,
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

/// Indexes with the same definition on one table: all but one are waste.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct DuplicateIndexes {
    /// Their table.
    pub table: String,
    /// The indexes, by name.
    pub indexes: Vec<String>,
    /// Bytes all but the smallest take.
    pub wasted_bytes: u64,
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

/// A server session, without its query text (it could hold a member's data).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SessionInfo {
    /// Server process id (what `pg_terminate_backend` takes).
    pub pid: i32,
    /// Database role.
    pub role: Option<String>,
    /// `application_name` of the connection.
    pub application: Option<String>,
    /// `active`, `idle in transaction`...
    pub state: Option<String>,
    /// Seconds since its transaction began.
    pub transaction_seconds: Option<f64>,
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

/// A session waiting for a lock that others hold.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LockWait {
    /// Who waits.
    pub waiting: SessionInfo,
    /// Who it waits on, directly.
    pub blocked_by: Vec<SessionInfo>,
    /// Seconds it has waited.
    pub waiting_seconds: f64,
    /// `relation`, `transactionid`, `advisory`...
    pub lock_type: String,
    /// The lock mode asked for.
    pub mode: String,
    /// The table or index, for relation locks.
    pub relation: Option<String>,
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

/// The face search index and the in-process cache it could be replaced by.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct FaceIndexStats {
    /// Active face templates.
    pub templates: u64,
    /// Bytes of the HNSW index, absent when it does not exist.
    pub index_bytes: Option<u64>,
    /// False when the index exists but is invalid (an interrupted rebuild).
    pub index_valid: bool,
    /// Memory an int8 in-process cache of every template takes.
    pub cache_bytes: u64,
    /// Memory the host has available, when it can be read.
    pub available_memory: Option<u64>,
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

/// Everything an operator watches, with a verdict per line.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HealthReport {
    /// When it was taken.
    pub generated_at: Timestamp,
    /// The worst verdict of any line.
    pub verdict: Verdict,
    /// One line per check, in a fixed order.
    pub checks: Vec<HealthCheck>,
    /// Schema version.
    pub schema: SchemaState,
    /// Database size and growth.
    pub database: DatabaseSize,
    /// Tables, largest first.
    pub tables: Vec<TableStats>,
    /// Connection slots.
    pub connections: ConnectionStats,
    /// Slow statements.
    pub slow_queries: SlowQueries,
    /// Indexes never scanned on tables that are read.
    pub unused_indexes: Vec<UnusedIndex>,
    /// Indexes defined twice.
    pub duplicate_indexes: Vec<DuplicateIndexes>,
    /// Indexes left invalid by an interrupted build; queries ignore them.
    pub invalid_indexes: Vec<String>,
    /// Sessions waiting on others' locks.
    pub lock_waits: Vec<LockWait>,
    /// The face index.
    pub face: FaceIndexStats,
}

impl From<core::HealthReport> for HealthReport {
    fn from(r: core::HealthReport) -> Self {
        Self {
            verdict: r.verdict(),
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

/// What rebuilding the face index did.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct IndexRebuild {
    /// The index rebuilt.
    pub index: String,
    /// Its size before.
    pub bytes_before: u64,
    /// Its size after.
    pub bytes_after: u64,
    /// Invalid leftovers of an earlier, interrupted rebuild that were dropped first.
    pub dropped_leftovers: Vec<String>,
    /// How long the rebuild took, in seconds.
    pub elapsed_seconds: f64,
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

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// The database's health report: one line per check with its verdict, and the facts
    /// behind them. Records the sizes it read, so the next report tells the growth.
    pub async fn health_report(&self) -> Result<HealthReport> {
        Ok(self.0.operations().health_report().await?.into())
    }

    /// Lets `role` (not a superuser) read and write every PowerGym table and nothing
    /// else; run as the schema owner after migrating.
    pub async fn grant_app_role(&self, role: String) -> Result<()> {
        Ok(self.0.operations().grant_app_role(&role).await?)
    }

    /// `VACUUM (ANALYZE)` on every table, one at a time, blocking no reads or writes;
    /// returns the tables done.
    pub async fn vacuum_analyze(&self) -> Result<Vec<String>> {
        let mut ignore = |_: &core::ops::Progress| {};
        Ok(self.0.operations().vacuum_analyze(&mut ignore).await?)
    }

    /// Builds the face search index (HNSW) where there is none, else rebuilds it;
    /// concurrently either way (check-ins go on meanwhile), first dropping invalid
    /// leftovers of an interrupted rebuild. The schema has none since migration 0017:
    /// build it only where faces are searched in PostgreSQL (cache off or over its
    /// budget); `bytes_before` is 0 when it was built.
    pub async fn rebuild_face_index(&self) -> Result<IndexRebuild> {
        let mut ignore = |_: &core::ops::Progress| {};
        Ok(self
            .0
            .operations()
            .rebuild_face_index(&mut ignore)
            .await?
            .into())
    }
}
