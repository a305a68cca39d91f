//! The SQLite half of the migrations: the embedded set in `migrations/sqlite`, each
//! operation in one `BEGIN IMMEDIATE` transaction, which holds the file's write lock from
//! start to end, so a second process waits, then sees the result.

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::{AssertSqlSafe, SqlitePool};

use super::{
    AppliedRow, HISTORY_TABLE, map_migrate_with, revert_with, unlocked_migrator_of, versions_of,
};
use crate::error::{Error, Result};
use crate::store::sqlite::errors;

pub(super) static EMBEDDED_SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");

/// Every SQLite version this library ships, ascending.
pub fn sqlite_library_versions() -> Vec<i64> {
    versions_of(&EMBEDDED_SQLITE)
}

/// The newest SQLite version this library ships.
pub fn sqlite_latest_version() -> i64 {
    sqlite_library_versions().last().copied().unwrap_or(0)
}

/// Translates a failed SQLite migration.
fn map_migrate(err: MigrateError) -> Error {
    map_migrate_with(err, errors::map, sqlite_latest_version())
}

/// Applies pending migrations up to `target` (all of them for `None`).
pub(super) async fn upgrade(pool: &SqlitePool, target: Option<i64>) -> Result<()> {
    let mut tx = exclusive(pool).await?;
    let m = unlocked_migrator_of(&EMBEDDED_SQLITE);
    m.run_direct(target, &mut *tx, false)
        .await
        .map_err(map_migrate)?;
    tx.commit().await.map_err(errors::map)
}

/// Reverts every applied migration newer than `version`.
pub(super) async fn undo(pool: &SqlitePool, version: i64) -> Result<()> {
    let mut tx = exclusive(pool).await?;
    revert_with(&mut *tx, &EMBEDDED_SQLITE, version)
        .await
        .map_err(map_migrate)?;
    tx.commit().await.map_err(errors::map)
}

/// [`Migrations::stamp`](super::Migrations::stamp) on SQLite, in one exclusive transaction.
pub(super) async fn stamp(pool: &SqlitePool, version: i64) -> Result<()> {
    let mut tx = exclusive(pool).await?;
    if version > 0 {
        let m = unlocked_migrator_of(&EMBEDDED_SQLITE);
        m.run_direct(Some(version), &mut *tx, true)
            .await
            .map_err(map_migrate)?;
    }
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from sqlite_master where type = 'table' and name = ?1)",
    )
    .bind(HISTORY_TABLE)
    .fetch_one(&mut *tx)
    .await
    .map_err(errors::map)?;
    if exists {
        let sql = format!("delete from {HISTORY_TABLE} where version > ?1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(errors::map)?;
    }
    tx.commit().await.map_err(errors::map)
}

/// A SQLite transaction holding the file's write lock from its first statement (waited
/// for up to the busy timeout): the whole migration operation runs inside it, so another
/// process's operation waits and then sees this one's result.
async fn exclusive(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    pool.begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(errors::map)
}

/// The applied migrations recorded in a SQLite file (none without a history table).
pub(super) async fn applied(pool: &SqlitePool) -> Result<Vec<AppliedRow>> {
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from sqlite_master where type = 'table' and name = ?1)",
    )
    .bind(HISTORY_TABLE)
    .fetch_one(pool)
    .await
    .map_err(errors::map)?;
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
        .map_err(errors::map)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
