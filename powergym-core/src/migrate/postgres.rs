//! The PostgreSQL half of the migrations: the embedded set in `migrations/postgres`, the
//! advisory lock that serialises operations across processes, and the extensions the
//! schema needs (pgvector 0.8 or newer, btree_gist).

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use super::{
    AppliedRow, HISTORY_TABLE, map_migrate_with, revert_with, unlocked_migrator_of, versions_of,
};
use crate::error::{Error, Result};
use crate::store::postgres::errors;

/// The lowest pgvector version the schema supports (iterative index scans).
pub const MIN_PGVECTOR_VERSION: (u32, u32) = (0, 8);

pub(super) static EMBEDDED: Migrator = sqlx::migrate!("./migrations/postgres");

/// Every PostgreSQL version this library ships, ascending.
pub fn library_versions() -> Vec<i64> {
    versions_of(&EMBEDDED)
}

/// The newest PostgreSQL version this library ships.
pub fn latest_version() -> i64 {
    library_versions().last().copied().unwrap_or(0)
}

/// The applied migrations recorded in the database (none without a history table).
pub(super) async fn applied(pool: &PgPool) -> Result<Vec<AppliedRow>> {
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

/// Applies pending migrations up to `target` (all of them for `None`), under the lock.
pub(super) async fn upgrade(
    pool: &PgPool,
    wait: std::time::Duration,
    target: Option<i64>,
) -> Result<()> {
    let mut lock = lock(pool, wait).await?;
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

/// Reverts every applied migration newer than `version`, under the lock.
pub(super) async fn undo(pool: &PgPool, wait: std::time::Duration, version: i64) -> Result<()> {
    let mut lock = lock(pool, wait).await?;
    let result = revert_on(lock.conn(), version).await;
    lock.release().await;
    result
}

/// Records the database as being at `version` without running any script, under the
/// lock.
pub(super) async fn stamp(pool: &PgPool, wait: std::time::Duration, version: i64) -> Result<()> {
    let mut lock = lock(pool, wait).await?;
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

/// The migration lock, on a connection of its own, waited for at most `wait`
/// ([`super::LOCK_WAIT`] unless set). Statements on it may run as long as they need (an
/// index build), but still wait at most the pool's lock timeout for locks held by the
/// gym's own transactions.
async fn lock(pool: &PgPool, wait: std::time::Duration) -> Result<MigrationLock> {
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
    let deadline = std::time::Instant::now() + wait;
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

/// Runs the down scripts of applied migrations newer than `target`, newest first, on a
/// connection that already holds the lock.
async fn revert_on(conn: &mut PgConnection, target: i64) -> Result<()> {
    revert_with(conn, &EMBEDDED, target)
        .await
        .map_err(map_migrate)
}

/// Translates a failed PostgreSQL migration.
fn map_migrate(err: MigrateError) -> Error {
    map_migrate_with(err, errors::map, latest_version())
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
    fn pgvector_versions_compare_numerically() {
        assert!(version_at_least("0.8.0", (0, 8)));
        assert!(version_at_least("0.10.1", (0, 8)));
        assert!(version_at_least("1.0", (0, 8)));
        assert!(!version_at_least("0.7.4", (0, 8)));
    }
}
