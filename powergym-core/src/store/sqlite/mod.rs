//! The embedded SQLite store: the same repositories, rules and invariants as the
//! PostgreSQL store, in one file and no server (the demo, offline kiosks, mobile apps).
//!
//! Storage conventions (the schema in `migrations/sqlite` follows them; every repository
//! reads and writes through them):
//! - ids are TEXT, hyphenated lower-case UUIDs;
//! - instants are INTEGER microseconds since the Unix epoch, UTC (they order and compare
//!   exactly, which text timestamps of varying precision do not);
//! - calendar days are TEXT `YYYY-MM-DD`;
//! - money and quantities are INTEGER hundredths (both have at most two decimal places),
//!   so sums and checks are exact: there is no floating point anywhere;
//! - enumerations are TEXT holding the same codes as PostgreSQL's enum labels, each with a
//!   CHECK listing them;
//! - booleans are INTEGER 0/1;
//! - tables, columns and constraint names are PostgreSQL's, so one mapping of constraint
//!   names to error kinds serves both stores; a trigger that refuses a write raises
//!   `RAISE(ABORT, 'constraint:<name>')` with the name PostgreSQL's constraint has.
//!
//! Write transactions begin `IMMEDIATE`, so two writers queue on the database lock at the
//! start (bounded by the busy timeout) instead of one failing at its first write. Read
//! transactions ([`Store::begin_read`]) begin `DEFERRED`: in WAL mode they read a
//! snapshot and never wait for a writer.

use std::collections::VecDeque;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection, SqliteConnection};

use crate::domain::ids::ClientId;
use crate::error::{Error, Result};
use crate::store::{BiometricChange, BiometricChanges, Store, StoreTransaction};

mod attendance;
mod biometrics;
mod clients;
pub(crate) mod errors;
mod inventory;
mod payments;
mod plans;
mod reports;
mod rewards;
mod staff;
mod subscriptions;

/// How a [`SqliteStore`] opens its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// How long a write waits for another connection's (or process's) write to finish
    /// before failing with [`Error::Timeout`].
    pub busy_timeout: Duration,
    /// Connections in the pool (WAL lets them read side by side; writes take turns).
    /// An in-memory database always has exactly one.
    pub max_connections: u32,
    /// How long a call waits for a free connection.
    pub acquire_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            busy_timeout: Duration::from_secs(5),
            max_connections: 8,
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// SQLite storage: one database file (or one in-memory database) behind a pool. Clones
/// share the pool, the face index and the database.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    faces: Arc<biometrics::FaceIndex>,
    /// An in-memory database lives as long as a connection to it: this one, never used,
    /// keeps it alive whatever the pool does with its own.
    _anchor: Option<Arc<tokio::sync::Mutex<SqliteConnection>>>,
}

impl fmt::Debug for SqliteStore {
    // The file's path stays out: it may name a person (a home directory).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("connections", &self.pool.size())
            .field("in_memory", &self._anchor.is_some())
            .finish()
    }
}

/// Where a URL or path says the database is.
#[derive(Debug, PartialEq, Eq)]
enum Location {
    Memory,
    File(PathBuf),
}

fn location(path_or_url: &str) -> Result<Location> {
    let raw = path_or_url.trim();
    if raw == "sqlite::memory:" || raw == ":memory:" || raw == "sqlite://:memory:" {
        return Ok(Location::Memory);
    }
    let path = raw
        .strip_prefix("sqlite://")
        .or_else(|| raw.strip_prefix("sqlite:"))
        .unwrap_or(raw);
    if path.is_empty() {
        return Err(Error::InvalidDatabaseUrl {
            reason: "no database file given: use sqlite://path/to/gym.db, a plain path, or \
                     sqlite::memory:"
                .into(),
        });
    }
    if path.contains('?') {
        return Err(Error::InvalidDatabaseUrl {
            reason: "SQLite URLs take no options here (`?…`): give the file's path only".into(),
        });
    }
    Ok(Location::File(PathBuf::from(path)))
}

/// Refuses, with a remedy, a path whose directory is missing or whose file is read-only,
/// before SQLite reports either as a bare "unable to open".
fn check_path(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::InvalidDatabaseUrl {
            reason: "the database file's directory does not exist: create it first, or fix \
                     the path"
                .into(),
        });
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            return Err(Error::InvalidDatabaseUrl {
                reason: "the path names a directory, not a database file".into(),
            });
        }
        if meta.permissions().readonly() {
            return Err(Error::ConnectionFailed {
                reason: "the database file is read-only: give this program write permission \
                         on it (PowerGym writes to it on every call), or copy it somewhere \
                         writable"
                    .into(),
            });
        }
    }
    Ok(())
}

fn connect_options(location: &Location, options: &SqliteOptions) -> Result<SqliteConnectOptions> {
    let base = match location {
        // A named shared-cache database (sqlx numbers each one), so the anchor and the
        // pool's connection see the same data.
        Location::Memory => {
            SqliteConnectOptions::from_str("sqlite::memory:").map_err(errors::map)?
        }
        // FULL, not WAL's usual NORMAL: with NORMAL a commit already confirmed to the
        // desk (a payment's receipt, a sale) may roll back after a power cut or OS crash.
        // PostgreSQL flushes every commit too, so both stores promise the same.
        Location::File(path) => SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .synchronous(SqliteSynchronous::Full),
    };
    Ok(base.foreign_keys(true).busy_timeout(options.busy_timeout))
}

/// The newest migration recorded in the file, if it has a history; a version this
/// library does not ship means a newer PowerGym wrote the file.
async fn refuse_newer_schema(conn: &mut SqliteConnection) -> Result<()> {
    let has_history: bool = sqlx::query_scalar(
        "select exists (select 1 from sqlite_master where type = 'table' and name = ?1)",
    )
    .bind(crate::migrate::HISTORY_TABLE)
    .fetch_one(&mut *conn)
    .await
    .map_err(errors::map)?;
    if !has_history {
        return Ok(());
    }
    let sql = format!(
        "select version from {} where success order by version",
        crate::migrate::HISTORY_TABLE
    );
    let versions: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
        .fetch_all(&mut *conn)
        .await
        .map_err(errors::map)?;
    let known = crate::migrate::sqlite_library_versions();
    let library = crate::migrate::sqlite_latest_version();
    let database = versions.last().copied().unwrap_or(0);
    if database > library || versions.iter().any(|v| !known.contains(v)) {
        return Err(Error::SchemaOutOfDate { database, library });
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `path_or_url`: `sqlite://path`,
    /// `sqlite:path`, a plain path, or `sqlite::memory:` for a database that lives as long
    /// as the store. Does not migrate it (see [`crate::migrate::Migrations::sqlite`]).
    ///
    /// Each way a file can be unusable has its own error: a missing directory
    /// ([`Error::InvalidDatabaseUrl`]), a read-only file ([`Error::ConnectionFailed`]), a
    /// file migrated by a newer PowerGym ([`Error::SchemaOutOfDate`]), a file that is not
    /// a database or is damaged ([`Error::Database`]).
    pub async fn open(path_or_url: &str) -> Result<Self> {
        Self::open_with(path_or_url, &SqliteOptions::default()).await
    }

    /// [`SqliteStore::open`] with explicit options.
    pub async fn open_with(path_or_url: &str, options: &SqliteOptions) -> Result<Self> {
        let location = location(path_or_url)?;
        if let Location::File(path) = &location {
            check_path(path)?;
        }
        let connect = connect_options(&location, options)?;
        // A first connection of its own: it turns WAL on (a setting of the file, which
        // needs the file to itself, so not from every pooled connection at once) and
        // learns whether the file is a database at all and which schema it has.
        let first_options = match location {
            Location::Memory => connect.clone(),
            Location::File(_) => connect.clone().journal_mode(SqliteJournalMode::Wal),
        };
        let mut first = SqliteConnection::connect_with(&first_options)
            .await
            .map_err(errors::map)?;
        // Reading the schema is what makes SQLite look at the file's header.
        if let Err(e) = refuse_newer_schema(&mut first).await {
            let _ = first.close().await;
            return Err(e);
        }
        let (anchor, max) = match location {
            Location::Memory => (Some(Arc::new(tokio::sync::Mutex::new(first))), 1),
            Location::File(_) => {
                let _ = first.close().await;
                (None, options.max_connections.max(1))
            }
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .acquire_timeout(options.acquire_timeout)
            // An in-memory database's connection is never retired: the data is in it.
            .idle_timeout(anchor.is_none().then_some(Duration::from_secs(600)))
            .max_lifetime(anchor.is_none().then_some(Duration::from_secs(1800)))
            .connect_with(connect)
            .await
            .map_err(errors::map)?;
        Ok(Self {
            pool,
            faces: Arc::new(biometrics::FaceIndex::new()),
            _anchor: anchor,
        })
    }

    /// The connection pool (for migrations and operator tools).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn StoreTransaction>> {
        // IMMEDIATE: the write lock is taken now, waited for up to the busy timeout, so
        // a read-then-write inside the transaction can never be overtaken by another
        // writer (the reason PostgreSQL's row locks have no counterpart here).
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(errors::map)?;
        Ok(Box::new(SqliteTransaction {
            tx,
            faces: Arc::clone(&self.faces),
            read_only: false,
        }))
    }

    async fn begin_read(&self) -> Result<Box<dyn StoreTransaction>> {
        // DEFERRED: no lock until the first read, and then only a WAL snapshot, so a
        // list or a report never waits for a writer nor holds one up.
        let tx = self
            .pool
            .begin_with("BEGIN DEFERRED")
            .await
            .map_err(errors::map)?;
        Ok(Box::new(SqliteTransaction {
            tx,
            faces: Arc::clone(&self.faces),
            read_only: true,
        }))
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    fn searches_faces_in_process(&self) -> bool {
        true
    }

    async fn biometric_changes(&self) -> Result<Box<dyn BiometricChanges>> {
        let last = last_issued_change(&self.pool).await?;
        Ok(Box::new(SqliteBiometricChanges {
            pool: self.pool.clone(),
            last,
            pending: VecDeque::new(),
        }))
    }
}

/// How often the change feed looks for new rows in `face_changes`.
const CHANGE_POLL: Duration = Duration::from_millis(500);

/// Rows read per poll; more wait for the next read, which follows at once.
const CHANGE_BATCH: i64 = 1000;

/// The highest `face_changes` id ever issued (AUTOINCREMENT's counter, which survives
/// deleted rows), 0 when none was.
async fn last_issued_change(pool: &SqlitePool) -> Result<i64> {
    // `sqlite_sequence` exists once a table with AUTOINCREMENT does: not before the
    // schema is migrated.
    let counted: bool = sqlx::query_scalar(
        "select exists (select 1 from sqlite_master where type = 'table' \
         and name = 'sqlite_sequence')",
    )
    .fetch_one(pool)
    .await
    .map_err(errors::map)?;
    if !counted {
        return Ok(0);
    }
    let seq: Option<i64> =
        sqlx::query_scalar("select seq from sqlite_sequence where name = 'face_changes'")
            .fetch_optional(pool)
            .await
            .map_err(errors::map)?;
    Ok(seq.unwrap_or(0))
}

/// Whether the schema (and so the change log) exists yet.
async fn has_change_log(pool: &SqlitePool) -> Result<bool> {
    sqlx::query_scalar(
        "select exists (select 1 from sqlite_master where type = 'table' \
         and name = 'face_changes')",
    )
    .fetch_one(pool)
    .await
    .map_err(errors::map)
}

/// Follows `face_changes` by polling: every template change committed by any connection
/// or process on this file, in commit order (one writer at a time, ids never reused).
struct SqliteBiometricChanges {
    pool: SqlitePool,
    /// The last id reported.
    last: i64,
    pending: VecDeque<BiometricChange>,
}

impl SqliteBiometricChanges {
    /// Reads what was committed after `last`; queues it and says whether there was any.
    async fn poll(&mut self) -> Result<bool> {
        // A feed started before the migrations (or across a revert) waits for the log.
        if !has_change_log(&self.pool).await? {
            if self.last > 0 {
                self.last = 0;
                self.pending.push_back(BiometricChange::Resync);
                return Ok(true);
            }
            return Ok(false);
        }
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "select id, client_id from face_changes where id > ?1 order by id limit ?2",
        )
        .bind(self.last)
        .bind(CHANGE_BATCH)
        .fetch_all(&self.pool)
        .await
        .map_err(errors::map)?;
        let Some(&(first, _)) = rows.first() else {
            // Nothing new; but a counter behind what was reported means the log was
            // rebuilt (the schema reverted and migrated again): start over.
            let issued = last_issued_change(&self.pool).await?;
            if issued < self.last {
                self.last = issued;
                self.pending.push_back(BiometricChange::Resync);
                return Ok(true);
            }
            return Ok(false);
        };
        let gap = first != self.last + 1;
        self.last = rows.last().map_or(self.last, |r| r.0);
        if gap {
            // Rows were deleted before this feed read them: changes are lost.
            self.pending.push_back(BiometricChange::Resync);
            return Ok(true);
        }
        for (_, client) in rows {
            // A row that is not an id was not written by the triggers: skip it.
            let Ok(id) = uuid::Uuid::parse_str(&client) else {
                continue;
            };
            let change = BiometricChange::Member(ClientId::from_uuid(id));
            if self.pending.back() != Some(&change) {
                self.pending.push_back(change);
            }
        }
        Ok(true)
    }
}

#[async_trait]
impl BiometricChanges for SqliteBiometricChanges {
    async fn next(&mut self) -> Result<BiometricChange> {
        loop {
            if let Some(change) = self.pending.pop_front() {
                return Ok(change);
            }
            // Each poll is one short read (WAL readers never wait for writers); a closed
            // store fails it at once, so the feed ends instead of waiting forever.
            if !self.poll().await? {
                tokio::time::sleep(CHANGE_POLL).await;
            }
        }
    }
}

/// One SQLite transaction, begun `IMMEDIATE` to write or `DEFERRED` to read; rolled back
/// on drop unless committed.
pub(crate) struct SqliteTransaction {
    pub(super) tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    pub(super) faces: Arc<biometrics::FaceIndex>,
    /// Begun `DEFERRED` by [`Store::begin_read`]: it reads a snapshot that may be older
    /// than the newest commit (the face index must not learn from it as if it were the
    /// newest).
    pub(super) read_only: bool,
}

#[async_trait]
impl StoreTransaction for SqliteTransaction {
    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await.map_err(errors::map)
    }
}

/// Helpers for this store's unit tests: a migrated database in a temporary file, and a
/// staff member, client and plan to write against.
#[cfg(test)]
pub(crate) mod testing {
    use std::path::PathBuf;

    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    use super::SqliteStore;
    use crate::domain::client::{Client, ClientInput, DocumentType, Gender, NewClient};
    use crate::domain::money::{Currency, Money};
    use crate::domain::plan::{DurationUnit, NewPlan, Plan, PlanDuration};
    use crate::domain::staff::Role;
    use crate::migrate::Migrations;
    use crate::store::{NewStaff, StoreTransaction};

    /// A database file path under the temporary directory, removed (with its WAL files)
    /// on drop.
    pub(crate) struct TempDb {
        pub(crate) path: PathBuf,
    }

    impl TempDb {
        pub(crate) fn new() -> Self {
            let path =
                std::env::temp_dir().join(format!("powergym-test-{}.db", uuid::Uuid::new_v4()));
            Self { path }
        }

        pub(crate) fn url(&self) -> String {
            format!("sqlite://{}", self.path.display())
        }
    }

    impl Drop for TempDb {
        fn drop(&mut self) {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = self.path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
        }
    }

    /// A store on a fresh, migrated file.
    pub(crate) async fn migrated() -> (SqliteStore, TempDb) {
        let db = TempDb::new();
        let store = SqliteStore::open(&db.url()).await.unwrap();
        Migrations::sqlite(store.pool().clone())
            .run()
            .await
            .unwrap();
        (store, db)
    }

    pub(crate) fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    pub(crate) fn money(s: &str) -> Money {
        Money::parse("amount", s.parse::<Decimal>().unwrap()).unwrap()
    }

    /// An admin account named `admin`.
    pub(crate) async fn admin(tx: &mut Box<dyn StoreTransaction>) {
        tx.insert_staff(&NewStaff {
            username: "admin".into(),
            email: None,
            full_name: None,
            role: Role::Admin,
            password_hash: "$argon2id$test".into(),
        })
        .await
        .unwrap();
    }

    /// A valid registration with this document number and names.
    pub(crate) fn new_client(document: &str, first: &str, last: &str) -> NewClient {
        NewClient::parse(
            ClientInput {
                document_type: DocumentType::Cc,
                document_number: document.into(),
                first_name: first.into(),
                middle_name: None,
                last_name: last.into(),
                second_last_name: None,
                phone: "3001234567".into(),
                alternative_phone: None,
                email: None,
                birth_date: day("1990-05-01"),
                gender: Gender::Female,
                address: None,
            },
            day("2025-01-01"),
        )
        .unwrap()
    }

    pub(crate) async fn client(tx: &mut Box<dyn StoreTransaction>, document: &str) -> Client {
        tx.insert_client(&new_client(document, "Ana", "Pérez"), "admin")
            .await
            .unwrap()
    }

    pub(crate) fn new_plan(name: &str, slug: Option<&str>, price: &str) -> NewPlan {
        NewPlan {
            name: name.into(),
            slug: slug.map(str::to_owned),
            description: None,
            price: money(price),
            currency: Currency::COP,
            duration: PlanDuration::new(DurationUnit::Month, 1).unwrap(),
        }
    }

    pub(crate) async fn plan(tx: &mut Box<dyn StoreTransaction>) -> Plan {
        tx.insert_plan(&new_plan("Monthly", Some("monthly"), "100000.00"), "admin")
            .await
            .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{TempDb, migrated};
    use super::*;
    use crate::migrate::{DataLoss, Migrations};

    #[tokio::test]
    async fn migrates_reverts_to_base_and_migrates_again() {
        let (store, _db) = migrated().await;
        let m = Migrations::sqlite(store.pool().clone());
        assert_eq!(m.current_version().await.unwrap(), m.latest_version());
        m.check().await.unwrap();
        // Base drops every table, and only with the confirmation.
        assert!(matches!(
            m.revert_to(0).await,
            Err(Error::Validation {
                field: "version",
                ..
            })
        ));
        m.revert_to_confirmed(0, DataLoss::Accepted).await.unwrap();
        assert_eq!(m.current_version().await.unwrap(), 0);
        let tables: Vec<String> = sqlx::query_scalar(
            "select name from sqlite_master where type = 'table' \
             and name not like 'sqlite_%' and name <> ?1",
        )
        .bind(crate::migrate::HISTORY_TABLE)
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert!(tables.is_empty(), "left behind: {tables:?}");
        assert!(matches!(
            m.check().await,
            Err(Error::SchemaOutOfDate { database: 0, .. })
        ));
        m.run().await.unwrap();
        m.check().await.unwrap();
        let history = m.history().await.unwrap();
        assert!(
            history
                .iter()
                .all(|r| r.is_applied() && !r.checksum_mismatch)
        );
        // Stamping back forgets without reverting, and needs the confirmation too.
        assert!(m.stamp(0).await.is_err());
        m.stamp_back(0, DataLoss::Accepted).await.unwrap();
        assert_eq!(m.current_version().await.unwrap(), 0);
        m.stamp(m.latest_version()).await.unwrap();
        m.check().await.unwrap();
        // And the schema works after all that.
        let mut tx = store.begin().await.unwrap();
        testing::admin(&mut tx).await;
        tx.commit().await.unwrap();
        store.close().await;
        assert!(store.is_closed());
        assert!(store.begin().await.is_err());
    }

    #[test]
    fn urls_and_paths_name_the_same_file() {
        assert_eq!(location("sqlite::memory:").unwrap(), Location::Memory);
        for url in ["sqlite:///tmp/g.db", "/tmp/g.db"] {
            assert_eq!(
                location(url).unwrap(),
                Location::File(PathBuf::from("/tmp/g.db"))
            );
        }
        assert_eq!(
            location("sqlite:g.db").unwrap(),
            Location::File(PathBuf::from("g.db"))
        );
        assert_eq!(
            location("sqlite://g.db").unwrap(),
            Location::File(PathBuf::from("g.db"))
        );
        assert!(matches!(
            location("sqlite://"),
            Err(Error::InvalidDatabaseUrl { .. })
        ));
    }

    #[tokio::test]
    async fn an_in_memory_database_is_one_database_for_every_call() {
        let store = SqliteStore::open("sqlite::memory:").await.unwrap();
        Migrations::sqlite(store.pool().clone())
            .run()
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        testing::admin(&mut tx).await;
        tx.commit().await.unwrap();
        // Another transaction, and the pool's own connection, see the account.
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.count_staff().await.unwrap(), 1);
        drop(tx);
        let n: i64 = sqlx::query_scalar("select count(*) from users")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(n, 1);
        // Two stores are two databases.
        let other = SqliteStore::open("sqlite::memory:").await.unwrap();
        let m = Migrations::sqlite(other.pool().clone());
        assert_eq!(m.current_version().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_missing_directory_is_refused_with_a_remedy() {
        let dir = std::env::temp_dir().join(format!("powergym-missing-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", dir.join("gym.db").display());
        let err = SqliteStore::open(&url).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidDatabaseUrl { reason } if reason.contains("directory does not exist")),
            "{err:?}"
        );
        assert!(!dir.exists(), "nothing is created");
    }

    #[tokio::test]
    async fn a_read_only_file_is_refused_with_a_remedy() {
        let (store, db) = migrated().await;
        store.close().await;
        let mut perms = std::fs::metadata(&db.path).unwrap().permissions();
        perms.set_readonly(true);
        std::fs::set_permissions(&db.path, perms).unwrap();
        let err = SqliteStore::open(&db.url()).await.unwrap_err();
        assert!(
            matches!(&err, Error::ConnectionFailed { reason } if reason.contains("read-only")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_file_from_a_newer_version_is_refused() {
        let (store, db) = migrated().await;
        let latest = crate::migrate::sqlite_latest_version();
        let sql = format!(
            "insert into {} (version, description, success, checksum, execution_time) \
             values (?1, 'from the future', true, x'00', 0)",
            crate::migrate::HISTORY_TABLE
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(latest + 1)
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
        let err = SqliteStore::open(&db.url()).await.unwrap_err();
        assert_eq!(
            err,
            Error::SchemaOutOfDate {
                database: latest + 1,
                library: latest
            }
        );
        assert!(err.to_string().contains("upgrade this program"), "{err}");
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_database_is_refused() {
        let db = TempDb::new();
        std::fs::write(&db.path, vec![b'x'; 8192]).unwrap();
        let err = SqliteStore::open(&db.url()).await.unwrap_err();
        assert!(
            matches!(&err, Error::Database { message, .. } if message.contains("not a SQLite database")),
            "{err:?}"
        );
    }

    async fn next(feed: &mut Box<dyn BiometricChanges>) -> BiometricChange {
        tokio::time::timeout(Duration::from_secs(5), feed.next())
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn the_change_feed_reports_each_template_change_and_a_truncated_log() {
        let (store, _db) = migrated().await;
        let mut feed = store.biometric_changes().await.unwrap();
        let a = uuid::Uuid::new_v4();
        let b = uuid::Uuid::new_v4();
        for id in [a, a, b] {
            sqlx::query("insert into face_changes (client_id) values (?1)")
                .bind(id.to_string())
                .execute(store.pool())
                .await
                .unwrap();
        }
        // Consecutive changes of one member come as one.
        assert_eq!(
            next(&mut feed).await,
            BiometricChange::Member(ClientId::from_uuid(a))
        );
        assert_eq!(
            next(&mut feed).await,
            BiometricChange::Member(ClientId::from_uuid(b))
        );
        // Rows deleted before the feed read them: reload everything.
        for id in [a, b] {
            sqlx::query("insert into face_changes (client_id) values (?1)")
                .bind(id.to_string())
                .execute(store.pool())
                .await
                .unwrap();
        }
        sqlx::query("delete from face_changes where client_id = ?1")
            .bind(a.to_string())
            .execute(store.pool())
            .await
            .unwrap();
        assert_eq!(next(&mut feed).await, BiometricChange::Resync);
        // A closed store ends the feed instead of leaving it waiting.
        store.close().await;
        let ended = tokio::time::timeout(Duration::from_secs(5), feed.next())
            .await
            .unwrap();
        assert!(ended.is_err());
    }
}

/// `VACUUM` then `ANALYZE` of the whole file (SQLite vacuums a database, not a table):
/// returns the tables analysed. VACUUM needs no other transaction open on the file and
/// waits up to the busy timeout for one to end.
pub(crate) async fn vacuum_analyze(
    pool: &SqlitePool,
    progress: &mut (dyn FnMut(&crate::ops::Progress) + Send),
) -> Result<Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select name from sqlite_schema where type = 'table' \
         and name not like 'sqlite_%' and name not like '\\_sqlx%' escape '\\' order by name",
    )
    .fetch_all(pool)
    .await
    .map_err(errors::map)?;
    progress(&crate::ops::Progress {
        phase: "vacuum".into(),
        done: 0,
        total: 2,
    });
    sqlx::query("vacuum")
        .execute(pool)
        .await
        .map_err(errors::map)?;
    progress(&crate::ops::Progress {
        phase: "analyze".into(),
        done: 1,
        total: 2,
    });
    sqlx::query("analyze")
        .execute(pool)
        .await
        .map_err(errors::map)?;
    progress(&crate::ops::Progress {
        phase: "analyze".into(),
        done: 2,
        total: 2,
    });
    Ok(tables)
}
