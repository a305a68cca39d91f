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
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{AssertSqlSafe, PgConnection, PgPool, SqlitePool};

use crate::error::{Error, Result};
use crate::store::postgres::errors;
use crate::store::sqlite::errors as sqlite_errors;

/// Name of the table that records which PowerGym migrations a database has.
pub const HISTORY_TABLE: &str = "powergym_schema_migrations";

/// The lowest pgvector version the schema supports (iterative index scans).
pub const MIN_PGVECTOR_VERSION: (u32, u32) = (0, 8);

static EMBEDDED: Migrator = sqlx::migrate!("./migrations/postgres");

static EMBEDDED_SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");

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
    lock_wait: std::time::Duration,
}

/// The database a [`Migrations`] acts on.
#[derive(Debug, Clone)]
enum Backend {
    Postgres(PgPool),
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every PostgreSQL version this library ships, ascending.
pub fn library_versions() -> Vec<i64> {
    versions_of(&EMBEDDED)
}

/// The newest PostgreSQL version this library ships.
pub fn latest_version() -> i64 {
    library_versions().last().copied().unwrap_or(0)
}

/// Every SQLite version this library ships, ascending.
pub fn sqlite_library_versions() -> Vec<i64> {
    versions_of(&EMBEDDED_SQLITE)
}

/// The newest SQLite version this library ships.
pub fn sqlite_latest_version() -> i64 {
    sqlite_library_versions().last().copied().unwrap_or(0)
}

impl Migrations {
    /// Operations on the PostgreSQL database behind `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self {
            backend: Backend::Postgres(pool),
            lock_wait: LOCK_WAIT,
        }
    }

    /// Operations on the SQLite database behind `pool` (see
    /// [`crate::store::sqlite::SqliteStore::pool`]).
    pub fn sqlite(pool: SqlitePool) -> Self {
        Self {
            backend: Backend::Sqlite(pool),
            lock_wait: LOCK_WAIT,
        }
    }

    fn embedded(&self) -> &'static Migrator {
        match self.backend {
            Backend::Postgres(_) => &EMBEDDED,
            Backend::Sqlite(_) => &EMBEDDED_SQLITE,
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

    /// The store's error translation.
    fn map_err(&self) -> fn(sqlx::Error) -> Error {
        match self.backend {
            Backend::Postgres(_) => errors::map,
            Backend::Sqlite(_) => sqlite_errors::map,
        }
    }

    fn map_migrate(&self, err: MigrateError) -> Error {
        map_migrate_with(err, self.map_err(), self.latest_version())
    }

    /// The same operations, waiting at most `wait` for another process's migration. (On
    /// SQLite the wait is the store's busy timeout, set when it was opened.)
    pub fn with_lock_wait(mut self, wait: std::time::Duration) -> Self {
        self.lock_wait = wait;
        self
    }

    async fn applied(&self) -> Result<Vec<AppliedRow>> {
        let pool = match &self.backend {
            Backend::Postgres(pool) => pool,
            Backend::Sqlite(pool) => return sqlite_applied(pool).await,
        };
        let exists: Option<String> = sqlx::query_scalar("select to_regclass($1)::text")
            .bind(HISTORY_TABLE)
            .fetch_one(pool)
            .await
            .map_err(errors::map)?;
        if exists.is_none() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "select version, installed_on, checksum from {HISTORY_TABLE} \
             where success order by version"
        );
        sqlx::query_as(AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .map_err(errors::map)
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
        let pool = match &self.backend {
            Backend::Postgres(pool) => pool,
            Backend::Sqlite(pool) => {
                let mut tx = sqlite_exclusive(pool).await?;
                let m = unlocked_migrator_of(&EMBEDDED_SQLITE);
                m.run_direct(target, &mut *tx, false)
                    .await
                    .map_err(|e| self.map_migrate(e))?;
                return tx.commit().await.map_err(sqlite_errors::map);
            }
        };
        let mut lock = self.lock(pool).await?;
        let result = async {
            ensure_extensions(lock.conn()).await?;
            let m = unlocked_migrator();
            m.run_direct(target, lock.conn(), false)
                .await
                .map_err(map_migrate)
        }
        .await;
        lock.release().await;
        result
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
        let pool = match &self.backend {
            Backend::Postgres(pool) => pool,
            Backend::Sqlite(pool) => {
                let mut tx = sqlite_exclusive(pool).await?;
                revert_with(&mut *tx, &EMBEDDED_SQLITE, version)
                    .await
                    .map_err(|e| self.map_migrate(e))?;
                return tx.commit().await.map_err(sqlite_errors::map);
            }
        };
        let mut lock = self.lock(pool).await?;
        let result = revert_on(lock.conn(), version).await;
        lock.release().await;
        result
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
        let pool = match &self.backend {
            Backend::Postgres(pool) => pool,
            Backend::Sqlite(pool) => return self.sqlite_stamp(pool, version).await,
        };
        let mut lock = self.lock(pool).await?;
        let result = async {
            if version > 0 {
                let m = unlocked_migrator();
                m.run_direct(Some(version), lock.conn(), true)
                    .await
                    .map_err(map_migrate)?;
            }
            let sql = format!("delete from {HISTORY_TABLE} where version > $1");
            let exists: bool = sqlx::query_scalar("select to_regclass($1) is not null")
                .bind(HISTORY_TABLE)
                .fetch_one(&mut *lock.conn())
                .await
                .map_err(errors::map)?;
            if exists {
                sqlx::query(AssertSqlSafe(sql))
                    .bind(version)
                    .execute(&mut *lock.conn())
                    .await
                    .map_err(errors::map)?;
            }
            Ok(())
        }
        .await;
        lock.release().await;
        result
    }

    /// The migration lock, on a connection of its own, waited for at most the lock wait
    /// ([`LOCK_WAIT`] unless set). Statements on it may run as long as they need (an index build),
    /// but still wait at most the pool's lock timeout for locks held by the gym's own
    /// transactions.
    async fn lock(&self, pool: &PgPool) -> Result<MigrationLock> {
        // The guard exists before the session is changed: on any early return (an
        // error, a canceled call) its Drop closes the connection instead of pooling it.
        let mut lock = MigrationLock {
            conn: Some(pool.acquire().await.map_err(errors::map)?),
            held: false,
        };
        sqlx::query("set statement_timeout = 0")
            .execute(lock.conn())
            .await
            .map_err(errors::map)?;
        let deadline = std::time::Instant::now() + self.lock_wait;
        loop {
            let got: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
                .bind(LOCK_KEY)
                .fetch_one(lock.conn())
                .await
                .map_err(errors::map)?;
            if got {
                lock.held = true;
                return Ok(lock);
            }
            if std::time::Instant::now() >= deadline {
                let holder: Option<LockHolder> = sqlx::query_as(
                    "select a.pid, a.usename::text, nullif(a.application_name, ''), \
                            extract(epoch from now() - a.backend_start)::float8 \
                     from pg_locks l join pg_stat_activity a on a.pid = l.pid \
                     where l.locktype = 'advisory' and l.granted \
                       and l.database = (select oid from pg_database \
                                         where datname = current_database()) \
                       and ((l.classid::int8 << 32) | l.objid::int8) = $1 limit 1",
                )
                .bind(LOCK_KEY)
                .fetch_optional(lock.conn())
                .await
                .map_err(errors::map)?;
                lock.release().await;
                return Err(Error::Timeout {
                    reason: match holder {
                        Some((pid, role, app, age)) => format!(
                            "another migration holds the migration lock: server process {pid} \
                             (role {}, application {}, connected {:.0} s ago); wait for it to \
                             finish, or end it with pg_terminate_backend({pid})",
                            role.as_deref().unwrap_or("?"),
                            app.as_deref().unwrap_or("?"),
                            age.unwrap_or(0.0)
                        ),
                        None => "another migration held the migration lock for the whole \
                                 wait; try again"
                            .into(),
                    },
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    /// [`Migrations::stamp`] on SQLite, in one exclusive transaction.
    async fn sqlite_stamp(&self, pool: &SqlitePool, version: i64) -> Result<()> {
        let mut tx = sqlite_exclusive(pool).await?;
        if version > 0 {
            let m = unlocked_migrator_of(&EMBEDDED_SQLITE);
            m.run_direct(Some(version), &mut *tx, true)
                .await
                .map_err(|e| self.map_migrate(e))?;
        }
        let exists: bool = sqlx::query_scalar(
            "select exists (select 1 from sqlite_master where type = 'table' and name = ?1)",
        )
        .bind(HISTORY_TABLE)
        .fetch_one(&mut *tx)
        .await
        .map_err(sqlite_errors::map)?;
        if exists {
            let sql = format!("delete from {HISTORY_TABLE} where version > ?1");
            sqlx::query(AssertSqlSafe(sql))
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(sqlite_errors::map)?;
        }
        tx.commit().await.map_err(sqlite_errors::map)
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

/// Applies every migration on `conn`, which may be inside a transaction (each migration
/// then runs in a savepoint): adoption converts a database and migrates it in one
/// transaction, so a failure leaves the original exactly as it was. The caller holds
/// the migration lock ([`LOCK_KEY`]).
pub(crate) async fn run_on(conn: &mut PgConnection) -> Result<()> {
    ensure_extensions(conn).await?;
    // `run_direct`: `run` takes an `Acquire`, whose future rustc cannot prove `Send` for
    // every lifetime of a borrowed connection.
    let m = unlocked_migrator();
    m.run_direct(None, conn, false).await.map_err(map_migrate)
}

/// The advisory lock that serialises PowerGym's migration operations across processes
/// ("powergym" in ASCII). Our own key, so a host application's sqlx migrations are not
/// held up by ours.
pub(crate) const LOCK_KEY: i64 = 0x706f_7765_7267_796d;

/// How long a migration operation waits for another to finish, by default.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The confirmation that an operation may destroy data (every table, or the record of
/// applied migrations): an argument of its own, so it is never given by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataLoss {
    /// The caller took a backup, or does not need the data.
    Accepted,
}

/// Who holds the migration lock: process id, role, application, seconds connected.
type LockHolder = (i32, Option<String>, Option<String>, Option<f64>);

/// The held migration lock and its connection. Released explicitly; when dropped
/// unreleased (a failure mid-way, a canceled call), the connection is detached and
/// closed, so the server ends the session and frees the lock: a failed migration never
/// leaves the lock held by a pooled connection.
struct MigrationLock {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
    held: bool,
}

impl MigrationLock {
    fn conn(&mut self) -> &mut PgConnection {
        self.conn
            .as_mut()
            .expect("the connection is present until release")
    }

    /// Unlocks and restores the session, then gives the connection back to the pool; a
    /// connection whose state cannot be restored is closed instead.
    async fn release(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let unlocked = if self.held {
            matches!(
                sqlx::query_scalar::<_, bool>("select pg_advisory_unlock($1)")
                    .bind(LOCK_KEY)
                    .fetch_one(&mut *conn)
                    .await,
                Ok(true)
            )
        } else {
            true
        };
        let reset = sqlx::query("reset statement_timeout")
            .execute(&mut *conn)
            .await;
        self.held = false;
        if !unlocked || reset.is_err() {
            let _ = sqlx::Connection::close(conn.detach()).await;
        }
    }
}

impl Drop for MigrationLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Not released: the session may hold the lock or a lifted timeout. Dropping
            // the raw connection closes its socket; the server ends the session, and the
            // advisory lock with it.
            drop(conn.detach());
        }
    }
}

/// The migrator without sqlx's own lock (ours, [`LOCK_KEY`], is taken around it, with a
/// bounded wait and a release on every path).
fn unlocked_migrator() -> Migrator {
    unlocked_migrator_of(&EMBEDDED)
}

fn unlocked_migrator_of(embedded: &Migrator) -> Migrator {
    let mut m = migrator_of(embedded);
    m.set_locking(false);
    m
}

/// Runs the down scripts of applied migrations newer than `target`, newest first, on a
/// connection that already holds the lock.
async fn revert_on(conn: &mut PgConnection, target: i64) -> Result<()> {
    revert_with(conn, &EMBEDDED, target)
        .await
        .map_err(map_migrate)
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

/// A SQLite transaction holding the file's write lock from its first statement (waited
/// for up to the busy timeout): the whole migration operation runs inside it, so another
/// process's operation waits and then sees this one's result.
async fn sqlite_exclusive(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    pool.begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(sqlite_errors::map)
}

/// The applied migrations recorded in a SQLite file (none without a history table).
async fn sqlite_applied(pool: &SqlitePool) -> Result<Vec<AppliedRow>> {
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from sqlite_master where type = 'table' and name = ?1)",
    )
    .bind(HISTORY_TABLE)
    .fetch_one(pool)
    .await
    .map_err(sqlite_errors::map)?;
    if !exists {
        return Ok(Vec::new());
    }
    let sql = format!(
        "select version, installed_on, checksum from {HISTORY_TABLE} \
         where success order by version"
    );
    // sqlx's SQLite history stores `installed_on` as `CURRENT_TIMESTAMP` text, UTC.
    let rows: Vec<(i64, String, Vec<u8>)> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(pool)
        .await
        .map_err(sqlite_errors::map)?;
    rows.into_iter()
        .map(|(version, installed_on, checksum)| {
            let installed_on =
                chrono::NaiveDateTime::parse_from_str(&installed_on, "%Y-%m-%d %H:%M:%S")
                    .map(|t| t.and_utc())
                    .map_err(|_| Error::Database {
                        code: None,
                        message: format!(
                            "the migration history's time of version {version} is not a timestamp"
                        ),
                    })?;
            Ok(AppliedRow {
                version,
                installed_on,
                checksum,
            })
        })
        .collect()
}

fn checksum_conflict(version: i64) -> Error {
    Error::Conflict {
        reason: format!(
            "migration {version} was changed after it was applied; restore the original \
             script and add a new migration instead"
        ),
    }
}

fn map_migrate(err: MigrateError) -> Error {
    map_migrate_with(err, errors::map, latest_version())
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

/// Makes sure `vector` (0.8 or newer) and `btree_gist` exist in the database, creating
/// them when they are available on the server, and says exactly what to do when not.
pub(crate) async fn ensure_extensions(conn: &mut PgConnection) -> Result<()> {
    for name in ["vector", "btree_gist"] {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "select default_version, installed_version from pg_available_extensions where name = $1",
        )
        .bind(name)
        .fetch_optional(&mut *conn)
        .await
        .map_err(errors::map)?;
        let Some((default_version, installed)) = row else {
            return Err(not_installed_on_server(name));
        };
        if name == "vector" {
            let usable = installed.as_deref().unwrap_or(&default_version);
            if !version_at_least(usable, MIN_PGVECTOR_VERSION) {
                let (major, minor) = MIN_PGVECTOR_VERSION;
                return Err(Error::ExtensionMissing {
                    extension: name.into(),
                    hint: format!(
                        "pgvector {usable} is installed but {major}.{minor} or newer is needed: \
                         install a newer pgvector on the server (scripts/setup-postgres.sh on \
                         Debian), then run `ALTER EXTENSION vector UPDATE` in this database"
                    ),
                });
            }
        }
        if installed.is_none() {
            let sql = format!("create extension if not exists {name}");
            if let Err(e) = sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await {
                return Err(match &e {
                    sqlx::Error::Database(db) if db.code().as_deref() == Some("42501") => {
                        Error::ExtensionMissing {
                            extension: name.into(),
                            hint: format!(
                                "it is installed on the server but not created in this \
                                 database, and this role may not create it: ask a superuser \
                                 to run `CREATE EXTENSION {name};` in this database"
                            ),
                        }
                    }
                    sqlx::Error::Database(db)
                        if matches!(db.code().as_deref(), Some("0A000") | Some("58P01")) =>
                    {
                        not_installed_on_server(name)
                    }
                    _ => errors::map(e),
                });
            }
        }
    }
    Ok(())
}

fn not_installed_on_server(name: &str) -> Error {
    let hint = if name == "vector" {
        "pgvector is not installed on the PostgreSQL server: on Debian run \
         scripts/setup-postgres.sh as root (it builds pgvector 0.8), elsewhere install \
         pgvector 0.8 or newer for this PostgreSQL version"
    } else {
        "the PostgreSQL contrib modules are not installed on the server: install them \
         (Debian: apt-get install postgresql-contrib)"
    };
    Error::ExtensionMissing {
        extension: name.into(),
        hint: hint.into(),
    }
}

fn version_at_least(version: &str, (major, minor): (u32, u32)) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let got = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    got >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_migrations_are_numbered_and_reversible() {
        let ups = library_versions();
        assert_eq!(ups, (1..=ups.len() as i64).collect::<Vec<_>>());
        for v in &ups {
            assert!(
                EMBEDDED
                    .iter()
                    .any(|m| m.version == *v && m.migration_type.is_down_migration()),
                "migration {v} has no down script"
            );
        }
    }

    #[test]
    fn sqlite_migrations_are_numbered_and_reversible() {
        let ups = sqlite_library_versions();
        assert!(!ups.is_empty());
        assert_eq!(ups, (1..=ups.len() as i64).collect::<Vec<_>>());
        assert_eq!(sqlite_latest_version(), ups.len() as i64);
        for v in &ups {
            assert!(
                EMBEDDED_SQLITE
                    .iter()
                    .any(|m| m.version == *v && m.migration_type.is_down_migration()),
                "SQLite migration {v} has no down script"
            );
        }
    }

    #[test]
    fn pgvector_versions_compare_numerically() {
        assert!(version_at_least("0.8.0", (0, 8)));
        assert!(version_at_least("0.10.1", (0, 8)));
        assert!(version_at_least("1.0", (0, 8)));
        assert!(!version_at_least("0.7.4", (0, 8)));
    }

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
