//! Raw SQL against the test database on either store, for the few checks the public API
//! cannot make (row counts, a write that bypasses the library, a row moved back in time).
//!
//! A statement that reads the same in both dialects is written once; one that does not
//! is written twice, PostgreSQL's form first. Values are bound as [`Arg`]s, each in the
//! storage convention of the store it goes to (see `store/sqlite/mod.rs`): on SQLite ids
//! are hyphenated TEXT, money and quantities INTEGER hundredths, days TEXT, instants
//! INTEGER microseconds and face templates 2048-byte little-endian blobs.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};
use uuid::Uuid;

use super::{StoreKind, TestDb};

/// A value bound to a raw statement.
#[derive(Debug, Clone)]
pub enum Arg {
    Id(Uuid),
    Text(String),
    Bool(bool),
    /// Money or a quantity (at most two decimal places).
    Decimal(Decimal),
    Day(NaiveDate),
    Instant(DateTime<Utc>),
    /// A face template of 512 numbers.
    Vector(Vec<f32>),
}

/// An id argument (`ClientId`, `SubscriptionId`, `ProductId`… or a bare UUID).
pub fn id(id: impl Into<Uuid>) -> Arg {
    Arg::Id(id.into())
}

/// Hundredths, as the SQLite store keeps money and quantities.
pub fn hundredths(d: Decimal) -> i64 {
    (d * Decimal::from(100))
        .to_i64()
        .filter(|_| (d * Decimal::from(100)).fract().is_zero())
        .expect("a value with at most two decimal places")
}

/// An open connection to the test database, outside any gym.
pub enum RawConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;
type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>;

fn bind_pg<'q>(mut q: PgQuery<'q>, args: &[Arg]) -> PgQuery<'q> {
    for a in args {
        q = match a.clone() {
            Arg::Id(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
            Arg::Decimal(v) => q.bind(v),
            Arg::Day(v) => q.bind(v),
            Arg::Instant(v) => q.bind(v),
            Arg::Vector(v) => q.bind(pgvector::Vector::from(v)),
        };
    }
    q
}

fn bind_sqlite<'q>(mut q: SqliteQuery<'q>, args: &[Arg]) -> SqliteQuery<'q> {
    for a in args {
        q = match a.clone() {
            Arg::Id(v) => q.bind(v.hyphenated().to_string()),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(i64::from(v)),
            Arg::Decimal(v) => q.bind(hundredths(v)),
            Arg::Day(v) => q.bind(v.format("%Y-%m-%d").to_string()),
            Arg::Instant(v) => q.bind(v.timestamp_micros()),
            Arg::Vector(v) => q.bind(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()),
        };
    }
    q
}

impl RawConn {
    pub fn kind(&self) -> StoreKind {
        match self {
            Self::Pg(_) => StoreKind::Postgres,
            Self::Sqlite(_) => StoreKind::Sqlite,
        }
    }

    /// Runs `pg` on PostgreSQL or `sqlite` on SQLite; the rows it changed.
    pub async fn try_exec(
        &mut self,
        pg: &str,
        sqlite: &str,
        args: &[Arg],
    ) -> Result<u64, sqlx::Error> {
        match self {
            Self::Pg(c) => Ok(bind_pg(sqlx::query(AssertSqlSafe(pg.to_owned())), args)
                .execute(c)
                .await?
                .rows_affected()),
            Self::Sqlite(c) => Ok(
                bind_sqlite(sqlx::query(AssertSqlSafe(sqlite.to_owned())), args)
                    .execute(c)
                    .await?
                    .rows_affected(),
            ),
        }
    }

    pub async fn exec(&mut self, pg: &str, sqlite: &str, args: &[Arg]) -> u64 {
        self.try_exec(pg, sqlite, args)
            .await
            .unwrap_or_else(|e| panic!("raw statement failed: {e}"))
    }

    /// Opens a write transaction (`BEGIN IMMEDIATE` on SQLite, as the store does).
    pub async fn begin(&mut self) {
        self.exec("begin", "begin immediate", &[]).await;
    }

    pub async fn commit(&mut self) {
        self.exec("commit", "commit", &[]).await;
    }
}

impl TestDb {
    /// A connection of its own to this test's database, on either store.
    pub async fn raw(&self) -> RawConn {
        match self.kind {
            StoreKind::Postgres => RawConn::Pg(self.conn().await),
            StoreKind::Sqlite => {
                let path = self
                    .url
                    .strip_prefix("sqlite://")
                    .expect("a sqlite:// test URL");
                let options = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .foreign_keys(true)
                    .busy_timeout(std::time::Duration::from_secs(30));
                RawConn::Sqlite(
                    SqliteConnection::connect_with(&options)
                        .await
                        .expect("open the test database file"),
                )
            }
        }
    }

    /// Runs `pg` on PostgreSQL or `sqlite` on SQLite (one statement each).
    pub async fn try_exec(&self, pg: &str, sqlite: &str, args: &[Arg]) -> Result<u64, sqlx::Error> {
        let mut conn = self.raw().await;
        conn.try_exec(pg, sqlite, args).await
    }

    pub async fn exec(&self, pg: &str, sqlite: &str, args: &[Arg]) -> u64 {
        self.raw().await.exec(pg, sqlite, args).await
    }

    /// A statement that reads the same on both stores.
    pub async fn sql(&self, sql: &str, args: &[Arg]) -> u64 {
        self.exec(sql, sql, args).await
    }

    /// An integer the statement (the same on both stores) selects, such as a count.
    pub async fn int(&self, sql: &str, args: &[Arg]) -> i64 {
        self.int2(sql, sql, args).await
    }

    /// An integer `pg` (on PostgreSQL) or `sqlite` (on SQLite) selects.
    pub async fn int2(&self, pg: &str, sqlite: &str, args: &[Arg]) -> i64 {
        match self.raw().await {
            RawConn::Pg(mut c) => {
                bind_pg_scalar(sqlx::query_scalar(AssertSqlSafe(pg.to_owned())), args)
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            }
            RawConn::Sqlite(mut c) => {
                bind_sqlite_scalar(sqlx::query_scalar(AssertSqlSafe(sqlite.to_owned())), args)
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            }
        }
    }

    /// A text value the statement (the same on both stores) selects, `None` for no row.
    pub async fn text(&self, sql: &str, args: &[Arg]) -> Option<String> {
        match self.raw().await {
            RawConn::Pg(mut c) => {
                bind_pg_scalar(sqlx::query_scalar(AssertSqlSafe(sql.to_owned())), args)
                    .fetch_optional(&mut c)
                    .await
                    .unwrap()
            }
            RawConn::Sqlite(mut c) => {
                bind_sqlite_scalar(sqlx::query_scalar(AssertSqlSafe(sql.to_owned())), args)
                    .fetch_optional(&mut c)
                    .await
                    .unwrap()
            }
        }
    }

    /// Every text value the statement (the same on both stores) selects.
    pub async fn texts(&self, sql: &str) -> Vec<String> {
        match self.raw().await {
            RawConn::Pg(mut c) => sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
                .fetch_all(&mut c)
                .await
                .unwrap(),
            RawConn::Sqlite(mut c) => sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
                .fetch_all(&mut c)
                .await
                .unwrap(),
        }
    }

    /// A blob the statement (the same on both stores) selects.
    pub async fn bytes(&self, sql: &str) -> Vec<u8> {
        match self.raw().await {
            RawConn::Pg(mut c) => sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut c)
                .await
                .unwrap(),
            RawConn::Sqlite(mut c) => sqlx::query_scalar(AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut c)
                .await
                .unwrap(),
        }
    }

    /// The exact sum of a money or quantity column (0 for no rows).
    pub async fn sum_decimal(&self, table: &str, column: &str) -> Decimal {
        let sql = format!("select coalesce(sum({column}), 0) from {table}");
        match self.raw().await {
            RawConn::Pg(mut c) => sqlx::query_scalar(AssertSqlSafe(sql))
                .fetch_one(&mut c)
                .await
                .unwrap(),
            RawConn::Sqlite(mut c) => {
                let h: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                    .fetch_one(&mut c)
                    .await
                    .unwrap();
                Decimal::new(h, 2)
            }
        }
    }

    /// An instant column of one row (`None` for NULL or no row).
    pub async fn instant(&self, sql: &str, args: &[Arg]) -> Option<DateTime<Utc>> {
        match self.raw().await {
            RawConn::Pg(mut c) => {
                let v: Option<Option<DateTime<Utc>>> =
                    bind_pg_scalar(sqlx::query_scalar(AssertSqlSafe(sql.to_owned())), args)
                        .fetch_optional(&mut c)
                        .await
                        .unwrap();
                v.flatten()
            }
            RawConn::Sqlite(mut c) => {
                let v: Option<Option<i64>> =
                    bind_sqlite_scalar(sqlx::query_scalar(AssertSqlSafe(sql.to_owned())), args)
                        .fetch_optional(&mut c)
                        .await
                        .unwrap();
                v.flatten()
                    .map(|m| DateTime::from_timestamp_micros(m).expect("an instant"))
            }
        }
    }

    /// The name of the constraint (or, on SQLite, of the trigger's constraint) that
    /// refused a raw statement.
    pub fn constraint_of(&self, err: &sqlx::Error) -> Option<String> {
        let db = err.as_database_error()?;
        if let Some(name) = db.constraint() {
            return Some(name.to_owned());
        }
        let message = db.message();
        message
            .strip_prefix("constraint:")
            .or_else(|| message.strip_prefix("CHECK constraint failed: "))
            .map(|n| n.trim().to_owned())
    }
}

type PgScalar<'q, T> = sqlx::query::QueryScalar<'q, sqlx::Postgres, T, sqlx::postgres::PgArguments>;
type SqliteScalar<'q, T> =
    sqlx::query::QueryScalar<'q, sqlx::Sqlite, T, sqlx::sqlite::SqliteArguments>;

fn bind_pg_scalar<'q, T>(mut q: PgScalar<'q, T>, args: &[Arg]) -> PgScalar<'q, T> {
    for a in args {
        q = match a.clone() {
            Arg::Id(v) => q.bind(v),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
            Arg::Decimal(v) => q.bind(v),
            Arg::Day(v) => q.bind(v),
            Arg::Instant(v) => q.bind(v),
            Arg::Vector(v) => q.bind(pgvector::Vector::from(v)),
        };
    }
    q
}

fn bind_sqlite_scalar<'q, T>(mut q: SqliteScalar<'q, T>, args: &[Arg]) -> SqliteScalar<'q, T> {
    for a in args {
        q = match a.clone() {
            Arg::Id(v) => q.bind(v.hyphenated().to_string()),
            Arg::Text(v) => q.bind(v),
            Arg::Bool(v) => q.bind(i64::from(v)),
            Arg::Decimal(v) => q.bind(hundredths(v)),
            Arg::Day(v) => q.bind(v.format("%Y-%m-%d").to_string()),
            Arg::Instant(v) => q.bind(v.timestamp_micros()),
            Arg::Vector(v) => q.bind(v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()),
        };
    }
    q
}
