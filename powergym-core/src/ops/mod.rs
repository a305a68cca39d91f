//! Operating a gym's database: the health report, vacuum/analyze and rebuilding the face
//! index without blocking check-ins. What the original's operators did with the guide's
//! monitoring SQL and cron lines, as calls (and as the `powergym` command line).
//!
//! Like [`crate::migrate::Migrations`], these act on the database as a whole and take no
//! staff member: whoever holds the database URL is the operator.

pub mod health;

use std::time::Duration;

#[cfg(feature = "postgres")]
use sqlx::PgPool;
#[cfg(feature = "sqlite")]
use sqlx::SqlitePool;

#[cfg(feature = "sqlite")]
use crate::error::Error;
use crate::error::Result;
#[cfg(feature = "postgres")]
use crate::store::postgres::ops as pg;

pub use health::{HealthReport, HealthThresholds, Verdict};

/// How far a long operation has come: `done` of `total` units of `phase` (`total` is 0
/// when it is not known yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// What is being done now (`vacuum analyze clients`, `building index: loading tuples`).
    pub phase: String,
    /// Units done.
    pub done: u64,
    /// Units in all, 0 when unknown.
    pub total: u64,
}

/// What rebuilding the face index did.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRebuild {
    /// The index rebuilt.
    pub index: String,
    /// Its size before; 0 when there was none and it was built.
    pub bytes_before: u64,
    /// Its size after.
    pub bytes_after: u64,
    /// Invalid leftovers of an earlier, interrupted rebuild that were dropped first.
    pub dropped_leftovers: Vec<String>,
    /// How long the rebuild took.
    pub elapsed: Duration,
}

/// Operations on one database; from [`crate::Gym::operations`]. The health report, the
/// application role and the face index are PostgreSQL's; on SQLite they are
/// [`crate::Error::Unsupported`], and `vacuum_analyze` compacts and re-analyses the file.
#[derive(Debug, Clone)]
pub struct Operations {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
}

/// What a PostgreSQL-only operation answers on SQLite.
#[cfg(feature = "sqlite")]
fn unsupported_on_sqlite(operation: &'static str, remedy: &'static str) -> Error {
    Error::Unsupported {
        operation,
        store: "sqlite",
        remedy,
    }
}

impl Operations {
    /// Operations on the PostgreSQL database behind `pool`.
    #[cfg(feature = "postgres")]
    pub fn new(pool: PgPool) -> Self {
        Self {
            backend: Backend::Postgres(pool),
        }
    }

    /// Operations on the SQLite database behind `pool`.
    #[cfg(feature = "sqlite")]
    pub fn sqlite(pool: SqlitePool) -> Self {
        Self {
            backend: Backend::Sqlite(pool),
        }
    }

    /// The health report with the default thresholds. Records the sizes it read, so the
    /// next report can say how much the database grew (when this role may write; a
    /// read-only role still gets its report).
    pub async fn health_report(&self) -> Result<HealthReport> {
        self.health_report_with(&HealthThresholds::default()).await
    }

    /// The health report with the given thresholds.
    pub async fn health_report_with(&self, thresholds: &HealthThresholds) -> Result<HealthReport> {
        match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => {
                let mut report = pg::gather_health(pool).await?;
                // An index is "unused" only on a table that is read: on a new database
                // every index has zero scans and none is worth reporting.
                report
                    .unused_indexes
                    .retain(|u| u.table_scans >= thresholds.unused_index_min_table_scans);
                report.checks = health::judge(&report, thresholds);
                Ok(report)
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => {
                let _ = thresholds;
                Err(unsupported_on_sqlite(
                    "the health report",
                    "a SQLite file needs none of its checks; `vacuum_analyze` keeps it compact",
                ))
            }
        }
    }

    /// `VACUUM (ANALYZE)` on every table of the schema, one at a time, reporting each.
    /// Takes no lock that blocks reads or writes. Returns the tables done.
    pub async fn vacuum_analyze(
        &self,
        progress: &mut (dyn FnMut(&Progress) + Send),
    ) -> Result<Vec<String>> {
        match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => pg::vacuum_analyze(pool, progress).await,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(pool) => crate::store::sqlite::vacuum_analyze(pool, progress).await,
        }
    }

    /// Lets `role` (an application's login, not a superuser) read and write every
    /// PowerGym table, use its sequences and functions, and nothing else: no DDL, so it
    /// cannot migrate, drop or alter. Run as the schema owner (the role that runs the
    /// migrations); covers tables future migrations create too (default privileges).
    pub async fn grant_app_role(&self, role: &str) -> Result<()> {
        match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => pg::grant_app_role(pool, role).await,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => {
                let _ = role;
                Err(unsupported_on_sqlite(
                    "granting an application role",
                    "a SQLite file has no roles: protect it with the file's permissions",
                ))
            }
        }
    }

    /// Builds the face search index (HNSW) where there is none, or rebuilds it with
    /// `REINDEX INDEX CONCURRENTLY`; either way check-ins and enrolments go on
    /// meanwhile, and the server's build progress is reported about twice a second.
    /// Invalid leftovers of an interrupted rebuild are dropped first.
    ///
    /// The schema has no such index since migration 0017: faces are searched by the
    /// in-process cache when the gallery fits its budget, and keeping the graph cost
    /// every enrolment tens of milliseconds. Build it when this deployment searches in
    /// PostgreSQL (cache turned off, or a gallery over the budget, as `health` reports);
    /// without it such a search scans every template, exactly. Every enrolment then
    /// maintains it.
    pub async fn rebuild_face_index(
        &self,
        progress: &mut (dyn FnMut(&Progress) + Send),
    ) -> Result<IndexRebuild> {
        match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => pg::rebuild_face_index(pool, progress).await,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => {
                let _ = progress;
                Err(unsupported_on_sqlite(
                    "rebuilding the face index",
                    "SQLite searches faces in process and has no index to rebuild",
                ))
            }
        }
    }
}
