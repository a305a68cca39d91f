//! The schema's embedded, reversible migrations and the operations operators used to run
//! with Alembic: upgrade to head or to a version, downgrade one step / to a version / to
//! base, current version, history with checksums, stamp, and a check.
//!
//! The history lives in its own table, [`HISTORY_TABLE`], so a host application that runs
//! its own sqlx migrations (in `_sqlx_migrations`) in the same database never collides
//! with ours.
//!
//! Each store has its own numbered, reversible set (`migrations/postgres`,
//! `migrations/sqlite`) and the same operations over it. On PostgreSQL the operations
//! serialise across processes on an advisory lock; on SQLite each runs in one `BEGIN
//! IMMEDIATE` transaction, which holds the file's write lock from start to end (each
//! migration inside it a savepoint), so a second process waits, then sees the result.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
#[cfg(feature = "postgres")]
use sqlx::PgPool;
#[cfg(feature = "sqlite")]
use sqlx::SqlitePool;
use sqlx::migrate::{MigrateError, Migrator};

use crate::error::{Error, Result};

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub(crate) use postgres::{LOCK_KEY, run_on};
#[cfg(feature = "postgres")]
pub use postgres::{MIN_PGVECTOR_VERSION, latest_version, library_versions};
#[cfg(feature = "sqlite")]
pub use sqlite::{sqlite_latest_version, sqlite_library_versions};

/// Name of the table that records which PowerGym migrations a database has.
pub const HISTORY_TABLE: &str = "powergym_schema_migrations";

/// A migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationRecord {
    /// Version number (the file name's prefix).
    pub version: i64,
    /// What the migration does.
    pub description: String,
    /// SHA-384 of the library's up script, in hex.
    pub checksum: String,
    /// When it was applied; `None` while pending.
    pub applied_at: Option<DateTime<Utc>>,
    /// The checksum recorded in the database differs from the library's: the script was
    /// edited after it was applied.
    pub checksum_mismatch: bool,
}

impl MigrationRecord {
    /// True once applied to the database.
    pub fn is_applied(&self) -> bool {
        self.applied_at.is_some()
    }
}

/// Migration operations on one database, PostgreSQL or SQLite.
#[derive(Debug, Clone)]
pub struct Migrations {
    backend: Backend,
    /// How long a PostgreSQL operation waits for another's advisory lock. (SQLite waits
    /// on the store's busy timeout instead, so a SQLite-only build never reads it.)
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    lock_wait: std::time::Duration,
}

/// The database a [`Migrations`] acts on.
#[derive(Debug, Clone)]
enum Backend {
    #[cfg(feature = "postgres")]
    Postgres(PgPool),
    #[cfg(feature = "sqlite")]
    Sqlite(SqlitePool),
}

#[derive(sqlx::FromRow)]
struct AppliedRow {
    version: i64,
    installed_on: DateTime<Utc>,
    checksum: Vec<u8>,
}

fn migrator_of(embedded: &Migrator) -> Migrator {
    let mut m = Migrator::with_migrations(embedded.iter().cloned().collect());
    m.dangerous_set_table_name(HISTORY_TABLE);
    m
}

fn versions_of(embedded: &Migrator) -> Vec<i64> {
    embedded
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| m.version)
        .collect()
}

fn unlocked_migrator_of(embedded: &Migrator) -> Migrator {
    let mut m = migrator_of(embedded);
    m.set_locking(false);
    m
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Migrations {
    /// Operations on the PostgreSQL database behind `pool`.
    #[cfg(feature = "postgres")]
    pub fn new(pool: PgPool) -> Self {
        Self {
            backend: Backend::Postgres(pool),
            lock_wait: LOCK_WAIT,
        }
    }

    /// Operations on the SQLite database behind `pool` (see
    /// [`crate::store::sqlite::SqliteStore::pool`]).
    #[cfg(feature = "sqlite")]
    pub fn sqlite(pool: SqlitePool) -> Self {
        Self {
            backend: Backend::Sqlite(pool),
            lock_wait: LOCK_WAIT,
        }
    }

    fn embedded(&self) -> &'static Migrator {
        match self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(_) => &postgres::EMBEDDED,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => &sqlite::EMBEDDED_SQLITE,
        }
    }

    /// Every version this library ships for this database's store, ascending.
    pub fn library_versions(&self) -> Vec<i64> {
        versions_of(self.embedded())
    }

    /// The newest version this library ships for this database's store.
    pub fn latest_version(&self) -> i64 {
        self.library_versions().last().copied().unwrap_or(0)
    }

    /// The same operations, waiting at most `wait` for another process's migration. (On
    /// SQLite the wait is the store's busy timeout, set when it was opened.)
    pub fn with_lock_wait(mut self, wait: std::time::Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    async fn applied(&self) -> Result<Vec<AppliedRow>> {
        match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => postgres::applied(pool).await,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(pool) => sqlite::applied(pool).await,
        }
    }

    /// The newest applied version, 0 when none is.
    pub async fn current_version(&self) -> Result<i64> {
        Ok(self.applied().await?.last().map_or(0, |r| r.version))
    }

    /// Every migration the library or the database knows, ascending: applied ones with
    /// their time, pending ones without. A version the database has and the library does
    /// not (a newer library migrated it) is listed with an empty checksum.
    pub async fn history(&self) -> Result<Vec<MigrationRecord>> {
        let applied: BTreeMap<i64, AppliedRow> = self
            .applied()
            .await?
            .into_iter()
            .map(|r| (r.version, r))
            .collect();
        let mut records: Vec<MigrationRecord> = self
            .embedded()
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| {
                let row = applied.get(&m.version);
                MigrationRecord {
                    version: m.version,
                    description: m.description.to_string(),
                    checksum: hex(&m.checksum),
                    applied_at: row.map(|r| r.installed_on),
                    checksum_mismatch: row.is_some_and(|r| r.checksum != m.checksum.as_ref()),
                }
            })
            .collect();
        let known = self.library_versions();
        for (version, row) in &applied {
            if !known.contains(version) {
                records.push(MigrationRecord {
                    version: *version,
                    description: "unknown to this library".into(),
                    checksum: String::new(),
                    applied_at: Some(row.installed_on),
                    checksum_mismatch: false,
                });
            }
        }
        records.sort_by_key(|r| r.version);
        Ok(records)
    }

    /// Fails with [`Error::SchemaOutOfDate`] unless the database is exactly at this
    /// library's version, or with [`Error::Conflict`] when an applied script was edited.
    pub async fn check(&self) -> Result<()> {
        let history = self.history().await?;
        let database = history
            .iter()
            .filter(|r| r.is_applied())
            .map(|r| r.version)
            .max()
            .unwrap_or(0);
        let library = self.latest_version();
        let pending = history.iter().any(|r| !r.is_applied());
        if database != library || pending {
            return Err(Error::SchemaOutOfDate { database, library });
        }
        if let Some(r) = history.iter().find(|r| r.checksum_mismatch) {
            return Err(checksum_conflict(r.version));
        }
        Ok(())
    }

    /// Applies every pending migration.
    pub async fn run(&self) -> Result<()> {
        self.upgrade(None).await
    }

    /// Applies pending migrations up to and including `version`.
    pub async fn run_to(&self, version: i64) -> Result<()> {
        self.known_version(version)?;
        self.upgrade(Some(version)).await
    }

    async fn upgrade(&self, target: Option<i64>) -> Result<()> {
        self.refuse_if_ahead().await?;
        match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => postgres::upgrade(pool, self.lock_wait, target).await,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(pool) => sqlite::upgrade(pool, target).await,
        }
    }

    /// Reverts the newest applied migration. Does nothing on an empty database. When
    /// the newest is the first migration, that is a revert to base, refused without
    /// [`Migrations::revert_to_confirmed`]'s confirmation.
    pub async fn revert(&self) -> Result<()> {
        let applied = self.applied().await?;
        let Some(last) = applied.last() else {
            return Ok(());
        };
        let previous = applied.iter().rev().nth(1).map_or(0, |r| r.version);
        debug_assert!(previous < last.version);
        self.revert_to(previous).await
    }

    /// Reverts every applied migration newer than `version` (a down script drops what its
    /// migration added, data included). `0` (base, every table dropped) is refused:
    /// that takes [`Migrations::revert_to_confirmed`] and its confirmation.
    pub async fn revert_to(&self, version: i64) -> Result<()> {
        self.refuse_if_ahead().await?;
        if version == 0 && self.current_version().await? > 0 {
            return Err(Error::validation(
                "version",
                "reverting to base drops every PowerGym table and all their data: take a \
                 backup first and confirm with revert_to_confirmed(0, DataLoss::Accepted)",
            ));
        }
        self.undo(version).await
    }

    /// [`Migrations::revert_to`] with the confirmation as argument, so `0` (the original's
    /// `alembic downgrade base`: every PowerGym table and its data dropped) is allowed.
    pub async fn revert_to_confirmed(&self, version: i64, _confirm: DataLoss) -> Result<()> {
        self.undo(version).await
    }

    async fn undo(&self, version: i64) -> Result<()> {
        if version != 0 {
            self.known_version(version)?;
        }
        self.refuse_if_ahead().await?;
        match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => postgres::undo(pool, self.lock_wait, version).await,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(pool) => sqlite::undo(pool, version).await,
        }
    }

    /// Records the database as being at `version` without running any script: older
    /// missing ones are added to the history. For a database whose schema was built by
    /// other means (the original's Alembic chain, a restore). Going backwards makes the
    /// history forget applied migrations, so it is refused here: see
    /// [`Migrations::stamp_back`].
    pub async fn stamp(&self, version: i64) -> Result<()> {
        self.refuse_if_ahead().await?;
        if version < self.current_version().await? {
            return Err(Error::validation(
                "version",
                "stamping backwards forgets migrations that were applied, without reverting \
                 them: confirm with stamp_back(version, DataLoss::Accepted)",
            ));
        }
        self.stamp_any(version).await
    }

    /// [`Migrations::stamp`] to an older version (0 empties the history), with the
    /// confirmation as argument.
    pub async fn stamp_back(&self, version: i64, _confirm: DataLoss) -> Result<()> {
        self.stamp_any(version).await
    }

    async fn stamp_any(&self, version: i64) -> Result<()> {
        if version != 0 {
            self.known_version(version)?;
        }
        self.refuse_if_ahead().await?;
        match &self.backend {
            #[cfg(feature = "postgres")]
            Backend::Postgres(pool) => postgres::stamp(pool, self.lock_wait, version).await,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(pool) => sqlite::stamp(pool, version).await,
        }
    }

    fn known_version(&self, version: i64) -> Result<()> {
        let known = self.library_versions();
        if known.contains(&version) {
            Ok(())
        } else {
            Err(Error::validation(
                "version",
                format!(
                    "no migration {version}: this library has versions {}",
                    known
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
        }
    }

    async fn refuse_if_ahead(&self) -> Result<()> {
        let database = self.current_version().await?;
        let library = self.latest_version();
        let known = self.library_versions();
        let unknown = self
            .applied()
            .await?
            .iter()
            .any(|r| !known.contains(&r.version));
        if database > library || unknown {
            return Err(Error::SchemaOutOfDate { database, library });
        }
        Ok(())
    }
}

/// How long a migration operation waits for another to finish, by default.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The confirmation that an operation may destroy data (every table, or the record of
/// applied migrations): an argument of its own, so it is never given by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLoss {
    /// The caller took a backup, or does not need the data.
    Accepted,
}

/// Runs the down scripts of `embedded`'s applied migrations newer than `target`, newest
/// first, on a connection that already excludes other migrations.
async fn revert_with<C>(
    conn: &mut C,
    embedded: &Migrator,
    target: i64,
) -> std::result::Result<(), MigrateError>
where
    C: sqlx::migrate::Migrate,
{
    let m = unlocked_migrator_of(embedded);
    conn.ensure_migrations_table(HISTORY_TABLE).await?;
    if let Some(v) = conn.dirty_version(HISTORY_TABLE).await? {
        return Err(MigrateError::Dirty(v));
    }
    let applied: std::collections::BTreeSet<i64> = conn
        .list_applied_migrations(HISTORY_TABLE)
        .await?
        .into_iter()
        .map(|a| a.version)
        .collect();
    for migration in m
        .iter()
        .rev()
        .filter(|x| x.migration_type.is_down_migration())
        .filter(|x| applied.contains(&x.version) && x.version > target)
    {
        conn.revert(HISTORY_TABLE, migration).await?;
    }
    Ok(())
}

fn checksum_conflict(version: i64) -> Error {
    Error::Conflict {
        reason: format!(
            "migration {version} was changed after it was applied; restore the original \
             script and add a new migration instead"
        ),
    }
}

fn map_migrate_with(err: MigrateError, map: fn(sqlx::Error) -> Error, latest: i64) -> Error {
    match err {
        MigrateError::Execute(e) | MigrateError::ExecuteMigration(e, _) => map(e),
        MigrateError::VersionMismatch(v) => checksum_conflict(v),
        MigrateError::VersionMissing(v) => Error::SchemaOutOfDate {
            database: v,
            library: latest,
        },
        MigrateError::Dirty(v) => Error::Conflict {
            reason: format!(
                "migration {v} failed part-way; repair the schema by hand, then stamp the \
                 version it is at"
            ),
        },
        other => Error::Database {
            code: None,
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_errors_tell_the_operator_what_to_do() {
        let behind = Error::SchemaOutOfDate {
            database: 3,
            library: 5,
        };
        assert!(
            behind.to_string().contains("run the migrations"),
            "{behind}"
        );
        let ahead = Error::SchemaOutOfDate {
            database: 7,
            library: 5,
        };
        assert!(
            ahead.to_string().contains("upgrade this program"),
            "{ahead}"
        );
    }
}
