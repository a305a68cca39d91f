//! The health report: what an operator watches (the seed guide's "Monitoring" and
//! "Maintenance" sections), gathered in one value with a verdict per line.
//!
//! The store gathers facts; [`judge`] turns them into verdicts with the thresholds of
//! [`HealthThresholds`], a pure function tested beside it. Nothing in a report names a
//! member: tables, indexes, roles and process ids only, and never a query's text with
//! its values (slow queries are shown as `pg_stat_statements` normalises them, with
//! every constant replaced by `$n`; lock waits show no query text at all).

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// How a line of the report stands. Ordered: `Ok < Warn < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing to do.
    Ok,
    /// Worth a look soon; nothing is failing yet.
    Warn,
    /// Failing now, or about to: act.
    Critical,
}

impl Verdict {
    /// `ok`, `warn` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where each verdict turns. The defaults are documented in the README's operations
/// section; a program may pass its own.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthThresholds {
    /// Share of usable connection slots in use from which `connections` warns (0.70).
    pub connections_warn: f64,
    /// Share from which `connections` is critical (0.90).
    pub connections_critical: f64,
    /// Mean execution time from which a statement is slow and `slow_queries` warns
    /// (100 ms).
    pub slow_query_warn_ms: f64,
    /// Mean execution time from which `slow_queries` is critical (1 000 ms).
    pub slow_query_critical_ms: f64,
    /// An index that was never scanned counts as unused only once its table has been
    /// read this many times since the statistics were reset (100), so a new database
    /// reports nothing.
    pub unused_index_min_table_scans: u64,
    /// Dead rows below this count never warn, whatever their share (1 000).
    pub dead_rows_min: u64,
    /// Share of dead rows (dead / (live + dead)) from which a table warns (0.20).
    pub dead_rows_warn: f64,
    /// Share of dead rows from which a table is critical (0.50).
    pub dead_rows_critical: f64,
    /// A session waiting this long on another's lock warns (1 s).
    pub lock_wait_warn_seconds: f64,
    /// A session waiting this long is critical (60 s).
    pub lock_wait_critical_seconds: f64,
    /// Share of the host's available memory an in-process face cache may take and still
    /// be said to fit (0.50).
    pub face_cache_memory_share: f64,
    /// Growth of the database since the previous report from which `database_size`
    /// warns (1.0 = doubled).
    pub growth_warn: f64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            connections_warn: 0.70,
            connections_critical: 0.90,
            slow_query_warn_ms: 100.0,
            slow_query_critical_ms: 1000.0,
            unused_index_min_table_scans: 100,
            dead_rows_min: 1000,
            dead_rows_warn: 0.20,
            dead_rows_critical: 0.50,
            lock_wait_warn_seconds: 1.0,
            lock_wait_critical_seconds: 60.0,
            face_cache_memory_share: 0.50,
            growth_warn: 1.0,
        }
    }
}

/// One line of the report: what was checked, how it stands, and in words why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheck {
    /// Stable snake_case name: `schema`, `database_size`, `connections`,
    /// `slow_queries`, `unused_indexes`, `duplicate_indexes`, `invalid_indexes`,
    /// `dead_rows`, `lock_waits`, `face_index`, `face_cache_memory`.
    pub name: &'static str,
    /// How it stands.
    pub verdict: Verdict,
    /// One sentence for a person, with the numbers and, when not ok, what to do.
    pub summary: String,
}

/// The schema version against the library's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// The database's size, and what it was at the previous report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseSize {
    /// The database's name.
    pub name: String,
    /// Bytes on disk now.
    pub bytes: u64,
    /// Bytes at the previous report, when there was one.
    pub previous_bytes: Option<u64>,
    /// When the previous report was taken.
    pub previous_at: Option<DateTime<Utc>>,
}

/// One table: size, rows, dead rows and upkeep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// Last vacuum, manual or automatic.
    pub last_vacuum: Option<DateTime<Utc>>,
    /// Last analyze, manual or automatic.
    pub last_analyze: Option<DateTime<Utc>>,
}

impl TableStats {
    /// Dead rows as a share of all rows (0 when the table is empty).
    pub fn dead_share(&self) -> f64 {
        let all = self.live_rows + self.dead_rows;
        if all == 0 {
            0.0
        } else {
            self.dead_rows as f64 / all as f64
        }
    }
}

/// Connection slots on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// A statement by mean execution time, as `pg_stat_statements` normalises it.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// What the server says about slow statements.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlowQueries {
    /// False when `pg_stat_statements` is not installed or not loaded.
    pub available: bool,
    /// Why they could not be measured, and how to enable it.
    pub note: Option<String>,
    /// The slowest statements, slowest first (at most five).
    pub queries: Vec<SlowQuery>,
}

/// An index never scanned on a table that is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// Indexes with the same definition on one table: all but one are waste.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateIndexes {
    /// Their table.
    pub table: String,
    /// The indexes, by name.
    pub indexes: Vec<String>,
    /// Bytes all but the smallest take.
    pub wasted_bytes: u64,
}

/// A server session, without its query text (it could hold a member's data).
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// A session waiting for a lock that others hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
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

/// The face search index and the in-process cache it could be replaced by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaceIndexStats {
    /// Active face templates.
    pub templates: u64,
    /// Bytes of the HNSW index, `None` when it does not exist.
    pub index_bytes: Option<u64>,
    /// False when the index exists but is invalid (an interrupted rebuild).
    pub index_valid: bool,
    /// Memory an int8 in-process cache of every template takes
    /// (`Gym::enable_face_cache`).
    pub cache_bytes: u64,
    /// Memory the host has available, when it can be read (`MemAvailable` on Linux).
    pub available_memory: Option<u64>,
}

/// Everything an operator watches, with a verdict per line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthReport {
    /// When it was taken.
    pub generated_at: DateTime<Utc>,
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

impl HealthReport {
    /// The worst verdict of any line.
    pub fn verdict(&self) -> Verdict {
        self.checks
            .iter()
            .map(|c| c.verdict)
            .max()
            .unwrap_or(Verdict::Ok)
    }

    /// The line named `name`, if the report has it.
    pub fn check(&self, name: &str) -> Option<&HealthCheck> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// Bytes in a unit a person reads at a glance (`12.3 MiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn line(name: &'static str, verdict: Verdict, summary: String) -> HealthCheck {
    HealthCheck {
        name,
        verdict,
        summary,
    }
}

/// The verdict of every line, from the report's facts. Pure: the same facts and
/// thresholds give the same lines.
pub fn judge(r: &HealthReport, t: &HealthThresholds) -> Vec<HealthCheck> {
    vec![
        judge_schema(&r.schema),
        judge_size(&r.database, t),
        judge_connections(&r.connections, t),
        judge_slow_queries(&r.slow_queries, t),
        judge_unused(&r.unused_indexes),
        judge_duplicates(&r.duplicate_indexes),
        judge_invalid(&r.invalid_indexes),
        judge_dead_rows(&r.tables, t),
        judge_lock_waits(&r.lock_waits, t),
        judge_face_index(&r.face),
        judge_face_cache(&r.face, t),
    ]
}

fn judge_schema(s: &SchemaState) -> HealthCheck {
    let (db, lib) = (s.database_version, s.library_version);
    if s.unknown > 0 || db > lib {
        line(
            "schema",
            Verdict::Critical,
            format!(
                "database is at version {db}, ahead of this program's {lib}: a newer \
                 PowerGym migrated it; upgrade this program"
            ),
        )
    } else if s.edited > 0 {
        line(
            "schema",
            Verdict::Critical,
            format!(
                "{} applied migration(s) differ from this program's scripts: restore the \
                 original scripts",
                s.edited
            ),
        )
    } else if s.pending > 0 {
        line(
            "schema",
            Verdict::Warn,
            format!(
                "database is at version {db}, this program ships {lib} ({} pending): run \
                 `powergym db upgrade`",
                s.pending
            ),
        )
    } else {
        line(
            "schema",
            Verdict::Ok,
            format!("at version {db}, up to date"),
        )
    }
}

fn judge_size(d: &DatabaseSize, t: &HealthThresholds) -> HealthCheck {
    let now = human_bytes(d.bytes);
    match (d.previous_bytes, d.previous_at) {
        (Some(before), Some(at)) if before > 0 => {
            let growth = d.bytes as f64 / before as f64 - 1.0;
            let summary = format!(
                "{now}, {:+.1} % since the previous report ({}, {})",
                growth * 100.0,
                at.format("%Y-%m-%d %H:%M UTC"),
                human_bytes(before)
            );
            if growth >= t.growth_warn {
                line(
                    "database_size",
                    Verdict::Warn,
                    format!("{summary}: find the table that grew and why"),
                )
            } else {
                line("database_size", Verdict::Ok, summary)
            }
        }
        _ => line(
            "database_size",
            Verdict::Ok,
            format!("{now} (no earlier report to compare with)"),
        ),
    }
}

fn judge_connections(c: &ConnectionStats, t: &HealthThresholds) -> HealthCheck {
    let share = if c.usable == 0 {
        1.0
    } else {
        f64::from(c.in_use) / f64::from(c.usable)
    };
    let summary = format!(
        "{} of {} usable slots in use ({:.0} %); this database: {} ({} active, {} idle in \
         transaction)",
        c.in_use,
        c.usable,
        share * 100.0,
        c.this_database,
        c.active,
        c.idle_in_transaction
    );
    if share >= t.connections_critical {
        line(
            "connections",
            Verdict::Critical,
            format!(
                "{summary}: new connections will soon be refused; lower the programs' pool \
                 sizes or raise max_connections"
            ),
        )
    } else if share >= t.connections_warn {
        line(
            "connections",
            Verdict::Warn,
            format!("{summary}: check the programs' pool sizes"),
        )
    } else {
        line("connections", Verdict::Ok, summary)
    }
}

fn judge_slow_queries(s: &SlowQueries, t: &HealthThresholds) -> HealthCheck {
    if !s.available {
        return line(
            "slow_queries",
            Verdict::Ok,
            format!(
                "not measured: {}",
                s.note
                    .as_deref()
                    .unwrap_or("pg_stat_statements is not available")
            ),
        );
    }
    let Some(worst) = s.queries.first() else {
        return line(
            "slow_queries",
            Verdict::Ok,
            "no statements recorded yet".into(),
        );
    };
    let summary = format!(
        "slowest statement averages {:.1} ms over {} calls",
        worst.mean_ms, worst.calls
    );
    if worst.mean_ms >= t.slow_query_critical_ms {
        line(
            "slow_queries",
            Verdict::Critical,
            format!("{summary}: run EXPLAIN ANALYZE on it and check its indexes"),
        )
    } else if worst.mean_ms >= t.slow_query_warn_ms {
        line(
            "slow_queries",
            Verdict::Warn,
            format!("{summary}: worth an EXPLAIN ANALYZE"),
        )
    } else {
        line("slow_queries", Verdict::Ok, summary)
    }
}

fn judge_unused(unused: &[UnusedIndex]) -> HealthCheck {
    if unused.is_empty() {
        return line(
            "unused_indexes",
            Verdict::Ok,
            "every index on a busy table is used".into(),
        );
    }
    let bytes: u64 = unused.iter().map(|u| u.bytes).sum();
    let names: Vec<&str> = unused.iter().map(|u| u.index.as_str()).collect();
    line(
        "unused_indexes",
        Verdict::Warn,
        format!(
            "{} index(es) never scanned on tables that are read ({}, {}): each slows every \
             write; drop one only if no report or job needs it",
            unused.len(),
            names.join(", "),
            human_bytes(bytes)
        ),
    )
}

fn judge_duplicates(dups: &[DuplicateIndexes]) -> HealthCheck {
    if dups.is_empty() {
        return line(
            "duplicate_indexes",
            Verdict::Ok,
            "no index is defined twice".into(),
        );
    }
    let groups: Vec<String> = dups.iter().map(|d| d.indexes.join(" = ")).collect();
    line(
        "duplicate_indexes",
        Verdict::Warn,
        format!(
            "{} set(s) of identical indexes ({}): keep one of each",
            dups.len(),
            groups.join("; ")
        ),
    )
}

fn judge_invalid(invalid: &[String]) -> HealthCheck {
    if invalid.is_empty() {
        return line(
            "invalid_indexes",
            Verdict::Ok,
            "every index is valid".into(),
        );
    }
    line(
        "invalid_indexes",
        Verdict::Critical,
        format!(
            "{} invalid index(es) ({}), left by an interrupted build: queries cannot use \
             them; run `powergym maintain --reindex-face` (or REINDEX INDEX CONCURRENTLY)",
            invalid.len(),
            invalid.join(", ")
        ),
    )
}

fn judge_dead_rows(tables: &[TableStats], t: &HealthThresholds) -> HealthCheck {
    let mut worst = Verdict::Ok;
    let mut named = Vec::new();
    for table in tables {
        if table.dead_rows < t.dead_rows_min {
            continue;
        }
        let share = table.dead_share();
        let verdict = if share >= t.dead_rows_critical {
            Verdict::Critical
        } else if share >= t.dead_rows_warn {
            Verdict::Warn
        } else {
            continue;
        };
        worst = worst.max(verdict);
        named.push(format!(
            "{} {:.0} % dead ({} rows)",
            table.name,
            share * 100.0,
            table.dead_rows
        ));
    }
    if named.is_empty() {
        let dead: u64 = tables.iter().map(|t| t.dead_rows).sum();
        line(
            "dead_rows",
            Verdict::Ok,
            format!("{dead} dead rows in all; autovacuum keeps up"),
        )
    } else {
        line(
            "dead_rows",
            worst,
            format!(
                "{}: run `powergym maintain` (VACUUM ANALYZE) and check that autovacuum runs",
                named.join(", ")
            ),
        )
    }
}

fn judge_lock_waits(waits: &[LockWait], t: &HealthThresholds) -> HealthCheck {
    let longest = waits
        .iter()
        .map(|w| w.waiting_seconds)
        .fold(0.0_f64, f64::max);
    if waits.is_empty() || longest < t.lock_wait_warn_seconds {
        return line(
            "lock_waits",
            Verdict::Ok,
            format!("{} session(s) waiting on a lock", waits.len()),
        );
    }
    let chains: Vec<String> = waits
        .iter()
        .map(|w| {
            let by: Vec<String> = w.blocked_by.iter().map(|b| b.pid.to_string()).collect();
            format!(
                "pid {} waits {:.0} s on pid {}",
                w.waiting.pid,
                w.waiting_seconds,
                by.join(", ")
            )
        })
        .collect();
    let verdict = if longest >= t.lock_wait_critical_seconds {
        Verdict::Critical
    } else {
        Verdict::Warn
    };
    line(
        "lock_waits",
        verdict,
        format!(
            "{}: end the blocking transaction (often one left idle in transaction), or \
             pg_terminate_backend(pid) as a last resort",
            chains.join("; ")
        ),
    )
}

fn judge_face_index(f: &FaceIndexStats) -> HealthCheck {
    match f.index_bytes {
        // Since migration 0017 the index is the operator's choice: the default search is
        // the in-process cache, loaded when the gallery fits its budget.
        None if f.cache_bytes <= crate::gym::DEFAULT_FACE_CACHE_BUDGET => line(
            "face_index",
            Verdict::Ok,
            format!(
                "{} templates, searched by the in-process cache ({}, within the default \
                 budget); no PostgreSQL index, needed only where the cache is turned off",
                f.templates,
                human_bytes(f.cache_bytes)
            ),
        ),
        None => line(
            "face_index",
            Verdict::Warn,
            format!(
                "{} templates need {} of cache, over the default budget, and there is no \
                 face index: searches without the cache scan every template. Raise \
                 `face_cache_budget_bytes` if this host has the memory, or build the index \
                 with `powergym maintain --reindex-face`",
                f.templates,
                human_bytes(f.cache_bytes)
            ),
        ),
        Some(_) if !f.index_valid => line(
            "face_index",
            Verdict::Critical,
            "the face index is invalid (an interrupted rebuild): run `powergym maintain \
             --reindex-face`"
                .into(),
        ),
        Some(bytes) => line(
            "face_index",
            Verdict::Ok,
            format!("{} templates, index {}", f.templates, human_bytes(bytes)),
        ),
    }
}

fn judge_face_cache(f: &FaceIndexStats, t: &HealthThresholds) -> HealthCheck {
    let need = human_bytes(f.cache_bytes);
    match f.available_memory {
        None => line(
            "face_cache_memory",
            Verdict::Ok,
            format!("an int8 face cache would take {need}; this host's free memory is unknown"),
        ),
        Some(available) => {
            let budget = (available as f64 * t.face_cache_memory_share) as u64;
            if f.cache_bytes <= budget {
                line(
                    "face_cache_memory",
                    Verdict::Ok,
                    format!(
                        "an int8 face cache would take {need} of {} available: it fits",
                        human_bytes(available)
                    ),
                )
            } else {
                line(
                    "face_cache_memory",
                    Verdict::Warn,
                    format!(
                        "an int8 face cache would take {need}, more than {:.0} % of the {} \
                         available: search in PostgreSQL or give the host more memory",
                        t.face_cache_memory_share * 100.0,
                        human_bytes(available)
                    ),
                )
            }
        }
    }
}

/// Memory the host has available now, from `/proc/meminfo` (`None` where it cannot be
/// read). Only the PostgreSQL health report asks.
#[cfg(feature = "postgres")]
pub(crate) fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn healthy() -> HealthReport {
        HealthReport {
            generated_at: DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            checks: Vec::new(),
            schema: SchemaState {
                database_version: 12,
                library_version: 12,
                pending: 0,
                unknown: 0,
                edited: 0,
            },
            database: DatabaseSize {
                name: "gym".into(),
                bytes: 10 << 20,
                previous_bytes: None,
                previous_at: None,
            },
            tables: vec![TableStats {
                name: "clients".into(),
                total_bytes: 1 << 20,
                previous_bytes: None,
                live_rows: 9000,
                dead_rows: 100,
                last_vacuum: None,
                last_analyze: None,
            }],
            connections: ConnectionStats {
                in_use: 10,
                usable: 100,
                this_database: 5,
                active: 1,
                idle_in_transaction: 0,
            },
            slow_queries: SlowQueries {
                available: false,
                note: Some("pg_stat_statements is not installed".into()),
                queries: Vec::new(),
            },
            unused_indexes: Vec::new(),
            duplicate_indexes: Vec::new(),
            invalid_indexes: Vec::new(),
            lock_waits: Vec::new(),
            face: FaceIndexStats {
                templates: 100,
                index_bytes: Some(1 << 20),
                index_valid: true,
                cache_bytes: 100 * crate::face::Precision::Int8.held_bytes_per_template() as u64,
                available_memory: Some(8 << 30),
            },
        }
    }

    fn verdict_of(r: &HealthReport, name: &str) -> Verdict {
        judge(r, &HealthThresholds::default())
            .into_iter()
            .find(|c| c.name == name)
            .unwrap()
            .verdict
    }

    #[test]
    fn a_healthy_database_is_ok_on_every_line() {
        let mut r = healthy();
        r.checks = judge(&r, &HealthThresholds::default());
        assert_eq!(r.checks.len(), 11);
        assert_eq!(r.verdict(), Verdict::Ok, "{:#?}", r.checks);
        assert!(
            r.check("slow_queries")
                .unwrap()
                .summary
                .contains("not measured")
        );
    }

    #[test]
    fn schema_behind_warns_and_ahead_is_critical() {
        let mut r = healthy();
        r.schema.database_version = 10;
        r.schema.pending = 2;
        assert_eq!(verdict_of(&r, "schema"), Verdict::Warn);
        r.schema.database_version = 13;
        r.schema.pending = 0;
        r.schema.unknown = 1;
        assert_eq!(verdict_of(&r, "schema"), Verdict::Critical);
        let mut r = healthy();
        r.schema.edited = 1;
        assert_eq!(verdict_of(&r, "schema"), Verdict::Critical);
    }

    #[test]
    fn connections_turn_at_seventy_and_ninety_percent() {
        let mut r = healthy();
        for (in_use, want) in [
            (69, Verdict::Ok),
            (70, Verdict::Warn),
            (89, Verdict::Warn),
            (90, Verdict::Critical),
        ] {
            r.connections.in_use = in_use;
            assert_eq!(verdict_of(&r, "connections"), want, "{in_use}");
        }
        r.connections.usable = 0;
        assert_eq!(verdict_of(&r, "connections"), Verdict::Critical);
    }

    #[test]
    fn slow_queries_turn_at_the_mean_time_thresholds() {
        let mut r = healthy();
        r.slow_queries.available = true;
        r.slow_queries.note = None;
        assert_eq!(verdict_of(&r, "slow_queries"), Verdict::Ok);
        for (mean, want) in [
            (99.9, Verdict::Ok),
            (100.0, Verdict::Warn),
            (1000.0, Verdict::Critical),
        ] {
            r.slow_queries.queries = vec![SlowQuery {
                query_id: 1,
                calls: 3,
                mean_ms: mean,
                total_ms: mean * 3.0,
                query: "select $1".into(),
            }];
            assert_eq!(verdict_of(&r, "slow_queries"), want, "{mean}");
        }
    }

    #[test]
    fn dead_rows_need_both_a_count_and_a_share() {
        let mut r = healthy();
        r.tables[0].live_rows = 100;
        r.tables[0].dead_rows = 900; // 90 % but under the 1 000-row floor
        assert_eq!(verdict_of(&r, "dead_rows"), Verdict::Ok);
        r.tables[0].live_rows = 9000;
        r.tables[0].dead_rows = 1000; // 10 %
        assert_eq!(verdict_of(&r, "dead_rows"), Verdict::Ok);
        r.tables[0].dead_rows = 3000; // 25 %
        assert_eq!(verdict_of(&r, "dead_rows"), Verdict::Warn);
        r.tables[0].dead_rows = 9000; // 50 %
        assert_eq!(verdict_of(&r, "dead_rows"), Verdict::Critical);
        assert!(
            judge(&r, &HealthThresholds::default())[7]
                .summary
                .contains("clients 50 % dead")
        );
    }

    #[test]
    fn lock_waits_turn_at_one_and_sixty_seconds() {
        let mut r = healthy();
        let session = |pid| SessionInfo {
            pid,
            role: Some("powergym".into()),
            application: None,
            state: Some("idle in transaction".into()),
            transaction_seconds: Some(3.0),
        };
        for (seconds, want) in [
            (0.5, Verdict::Ok),
            (1.0, Verdict::Warn),
            (60.0, Verdict::Critical),
        ] {
            r.lock_waits = vec![LockWait {
                waiting: session(20),
                blocked_by: vec![session(10)],
                waiting_seconds: seconds,
                lock_type: "transactionid".into(),
                mode: "ShareLock".into(),
                relation: None,
            }];
            assert_eq!(verdict_of(&r, "lock_waits"), want, "{seconds}");
        }
        let lines = judge(&r, &HealthThresholds::default());
        assert!(lines[8].summary.contains("pid 20 waits 60 s on pid 10"));
    }

    #[test]
    fn indexes_unused_duplicated_or_invalid_are_named() {
        let mut r = healthy();
        r.unused_indexes = vec![UnusedIndex {
            table: "clients".into(),
            index: "idx_unused".into(),
            bytes: 8192,
            table_scans: 500,
        }];
        r.duplicate_indexes = vec![DuplicateIndexes {
            table: "clients".into(),
            indexes: vec!["a".into(), "b".into()],
            wasted_bytes: 8192,
        }];
        r.invalid_indexes = vec!["idx_biometrics_embedding_ccnew".into()];
        let lines = judge(&r, &HealthThresholds::default());
        assert_eq!(lines[4].verdict, Verdict::Warn);
        assert!(lines[4].summary.contains("idx_unused"));
        assert_eq!(lines[5].verdict, Verdict::Warn);
        assert!(lines[5].summary.contains("a = b"));
        assert_eq!(lines[6].verdict, Verdict::Critical);
    }

    #[test]
    fn the_face_index_and_cache_memory() {
        let mut r = healthy();
        r.face.index_valid = false;
        assert_eq!(verdict_of(&r, "face_index"), Verdict::Critical);
        // No index: the default (the cache) when the gallery fits the default budget.
        r.face.index_bytes = None;
        r.face.cache_bytes = crate::gym::DEFAULT_FACE_CACHE_BUDGET;
        assert_eq!(verdict_of(&r, "face_index"), Verdict::Ok);
        r.face.cache_bytes += 1;
        assert_eq!(verdict_of(&r, "face_index"), Verdict::Warn);
        let mut r = healthy();
        r.face.available_memory = Some(2 * r.face.cache_bytes);
        assert_eq!(verdict_of(&r, "face_cache_memory"), Verdict::Ok);
        r.face.available_memory = Some(2 * r.face.cache_bytes - 2);
        assert_eq!(verdict_of(&r, "face_cache_memory"), Verdict::Warn);
        r.face.available_memory = None;
        assert_eq!(verdict_of(&r, "face_cache_memory"), Verdict::Ok);
    }

    #[test]
    fn growth_warns_when_the_database_doubles() {
        let mut r = healthy();
        r.database.previous_at = Some(r.generated_at);
        r.database.previous_bytes = Some(r.database.bytes / 2 + 1);
        assert_eq!(verdict_of(&r, "database_size"), Verdict::Ok);
        r.database.previous_bytes = Some(r.database.bytes / 2);
        assert_eq!(verdict_of(&r, "database_size"), Verdict::Warn);
    }

    #[test]
    fn bytes_read_at_a_glance() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(10 << 20), "10.0 MiB");
    }
}
