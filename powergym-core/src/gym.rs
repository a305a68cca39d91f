//! The facade: one [`Gym`] handle opens a store and runs each use case in one transaction.
//! Both bindings wrap this object and nothing else.

#[cfg(feature = "postgres")]
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
#[cfg(feature = "postgres")]
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPoolOptions};
#[cfg(feature = "postgres")]
use sqlx::{Connection, PgPool};

use crate::domain::calendar::{BusinessCalendar, SharedClock, SystemClock};
use crate::domain::staff::{Action, Actor, authorize};
use crate::error::{Error, Result};
use crate::migrate::Migrations;
#[cfg(feature = "postgres")]
use crate::store::postgres::{PgStore, errors};
use crate::store::{Store, StoreTransaction};

mod checkin;
mod clients;
pub(crate) mod face;
mod face_bulk;
mod face_cache;
#[cfg(feature = "postgres")]
pub(crate) use face_cache::int8_cache_bytes;
mod face_desk;
mod inventory;
mod payments;
mod plans;
mod reports;
mod rewards;
mod staff;
mod subscriptions;

pub use face::{DEFAULT_FACE_CACHE_BUDGET, FaceCheckIn, FaceOptions, MAX_THUMBNAIL_BYTES};
pub use face_bulk::{BulkEnrolment, BulkProgress, BulkRefusal, MAX_BULK_ENROLMENT};
pub use inventory::StockChange;
pub use payments::PaymentInput;
pub use rewards::RewardEvaluation;
pub use staff::StaffInput;
pub use subscriptions::SubscriptionInput;

/// Attempts a use case gets when it loses a race the store reports as
/// [`Error::Contention`].
const MAX_ATTEMPTS: u32 = 3;

/// Runs `attempt` again while it fails with [`Error::Contention`], a bounded number of
/// times; after the last attempt the contention itself is returned. Each attempt runs in
/// a fresh transaction, so a retry never sees half of a failed one.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(Error::Contention { reason }) if tries < MAX_ATTEMPTS => {
                tracing::debug!(attempt = tries, reason, "retrying after losing a race");
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Connection-pool settings. The defaults match the original deployment's pool (20
/// connections plus 10 overflow, checked before use when idle a while, recycled hourly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// Most connections open at once.
    pub max_connections: u32,
    /// Connections kept open while idle.
    pub min_connections: u32,
    /// How long a call waits for a free connection (and for a new one to open).
    pub acquire_timeout: Duration,
    /// Connections older than this are replaced.
    pub max_lifetime: Option<Duration>,
    /// Idle connections above `min_connections` close after this.
    pub idle_timeout: Option<Duration>,
    /// Check a connection that sat idle for more than [`IDLE_CHECK_AFTER`] with a round
    /// trip before handing it out. A connection in steady use is handed out unchecked:
    /// its last call just proved it alive, and a check per call would cost every call a
    /// round trip. Either way a connection found dead when its transaction begins is
    /// replaced before anything runs on it.
    pub test_before_acquire: bool,
    /// Longest a statement may run before the server cancels it (`statement_timeout`);
    /// `None` leaves the server's setting. Migrations and maintenance lift it for
    /// themselves.
    pub statement_timeout: Option<Duration>,
    /// Longest a statement waits for a lock another transaction holds (`lock_timeout`):
    /// a check-in behind a stuck transaction fails with [`Error::Timeout`] instead of
    /// waiting without end.
    pub lock_timeout: Option<Duration>,
    /// Longest a transaction may sit idle before the server ends it
    /// (`idle_in_transaction_session_timeout`), so a forgotten one cannot hold locks.
    pub idle_in_transaction_timeout: Option<Duration>,
}

/// Most connections one pool may open: PostgreSQL's own default `max_connections` is 100
/// and a front desk needs a handful; a larger number is a typo that would reserve memory
/// for slots that can never be used.
pub const MAX_POOL_CONNECTIONS: u32 = 1000;

/// The longest a SQLite write waits for another writer when neither a lock timeout nor a
/// call timeout is set.
#[cfg(feature = "sqlite")]
const SQLITE_LONGEST_BUSY_WAIT: Duration = Duration::from_secs(60);

/// How long a pooled connection may sit idle before [`PoolSettings::test_before_acquire`]
/// checks it. Connections that die unseen mostly die idle: a firewall or NAT forgetting
/// the flow (typically after minutes), a server restart, an operator ending idle
/// sessions. Thirty seconds is far below those, so a stale connection is almost always
/// caught here, while a desk making a call every few seconds never pays for a check.
pub const IDLE_CHECK_AFTER: Duration = Duration::from_secs(30);

/// Longest any configured wait may be.
const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

impl PoolSettings {
    /// Refuses settings that cannot work, naming the field.
    pub fn validate(&self) -> Result<()> {
        if self.max_connections == 0 || self.max_connections > MAX_POOL_CONNECTIONS {
            return Err(Error::validation(
                "max_connections",
                format!("must be between 1 and {MAX_POOL_CONNECTIONS}"),
            ));
        }
        if self.min_connections > self.max_connections {
            return Err(Error::validation(
                "min_connections",
                "must not be more than max_connections",
            ));
        }
        if self.acquire_timeout.is_zero() || self.acquire_timeout > MAX_WAIT {
            return Err(Error::validation(
                "acquire_timeout",
                "must be more than zero and at most 24 hours",
            ));
        }
        for (field, value) in [
            ("max_lifetime", self.max_lifetime),
            ("idle_timeout", self.idle_timeout),
            ("statement_timeout", self.statement_timeout),
            ("lock_timeout", self.lock_timeout),
            (
                "idle_in_transaction_timeout",
                self.idle_in_transaction_timeout,
            ),
        ] {
            // Under a millisecond would reach the server as 0, which means "no limit".
            if value.is_some_and(|d| d < Duration::from_millis(1) || d > MAX_WAIT) {
                return Err(Error::validation(
                    field,
                    "must be from 1 ms to 24 hours (or absent)",
                ));
            }
        }
        Ok(())
    }

    /// The session settings these timeouts become, as `(name, milliseconds)`.
    #[cfg(feature = "postgres")]
    fn server_settings(&self) -> Vec<(&'static str, String)> {
        [
            ("statement_timeout", self.statement_timeout),
            ("lock_timeout", self.lock_timeout),
            (
                "idle_in_transaction_session_timeout",
                self.idle_in_transaction_timeout,
            ),
        ]
        .into_iter()
        .filter_map(|(name, d)| d.map(|d| (name, d.as_millis().to_string())))
        .collect()
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            max_connections: 30,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            max_lifetime: Some(Duration::from_secs(3600)),
            idle_timeout: Some(Duration::from_secs(600)),
            test_before_acquire: true,
            statement_timeout: Some(Duration::from_secs(30)),
            lock_timeout: Some(Duration::from_secs(5)),
            idle_in_transaction_timeout: Some(Duration::from_secs(60)),
        }
    }
}

/// How a [`Gym`] is opened.
#[derive(Debug, Clone)]
pub struct GymOptions {
    /// Pool settings (ignored by [`Gym::from_pool`], whose pool is already built).
    pub pool: PoolSettings,
    /// The gym's business calendar (its IANA time zone).
    pub calendar: BusinessCalendar,
    /// Where "now" comes from.
    pub clock: SharedClock,
    /// How attendance rewards are earned.
    pub rewards: crate::domain::reward::RewardConfig,
    /// Face matching: threshold, search and the thumbnail key.
    pub face: FaceOptions,
    /// How long a migration operation waits for another process's to finish before
    /// failing with [`Error::Timeout`] naming the holder.
    pub migration_lock_wait: Duration,
    /// The longest any use case may take, whatever the server does (a backend that stops
    /// answering sends no error): past it the call fails with [`Error::Timeout`]. `None`
    /// for no bound. The server-side timeouts of [`PoolSettings`] fire first in every
    /// other case.
    pub call_timeout: Option<Duration>,
}

impl Default for GymOptions {
    fn default() -> Self {
        Self {
            pool: PoolSettings::default(),
            calendar: BusinessCalendar::default(),
            clock: Arc::new(SystemClock),
            rewards: crate::domain::reward::RewardConfig::default(),
            face: FaceOptions::default(),
            migration_lock_wait: crate::migrate::LOCK_WAIT,
            call_timeout: Some(Duration::from_secs(120)),
        }
    }
}

/// A running gym: the entry point of the library.
///
/// Cheap to clone; clones share the connection pool.
///
/// ```no_run
/// # async fn demo() -> powergym_core::Result<()> {
/// use powergym_core::Gym;
/// let gym = Gym::open("postgres://powergym:powergym@127.0.0.1/powergym").await?;
/// gym.migrations().run().await?;
/// let (desk, _) = gym.authenticate("desk", "its-password").await?;
/// let page = gym.list_clients(&desk, Default::default()).await?;
/// println!("{} clients", page.total);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Gym {
    store: Arc<dyn Store>,
    migrations: Migrations,
    operations: crate::ops::Operations,
    calendar: BusinessCalendar,
    clock: SharedClock,
    rewards: crate::domain::reward::RewardConfig,
    face: FaceOptions,
    /// The bound of every use case (`GymOptions::call_timeout`).
    call_timeout: Option<Duration>,
    /// The in-process search cache, shared by clones (see `enable_face_cache`).
    face_cache: Arc<face_cache::CacheSlot>,
}

impl Gym {
    /// Opens the store `url` names, with default options: `sqlite://path/to/gym.db` (or
    /// `sqlite:path`, `sqlite::memory:`) for the embedded SQLite store, which needs no
    /// server; `postgres://…` (or `postgresql://…`) for PostgreSQL. Pick SQLite for one
    /// desk, a kiosk, an offline or mobile app; PostgreSQL for several desks and
    /// processes, or a chain.
    ///
    /// Each store is a Cargo feature of powergym-core (`postgres`, `sqlite`, both by
    /// default): a URL of a store the build left out is [`Error::InvalidDatabaseUrl`]
    /// naming the feature.
    pub async fn open(url: &str) -> Result<Self> {
        Self::open_with(url, GymOptions::default()).await
    }

    /// [`Gym::open`] with options. For SQLite, `options.pool` gives the connection count
    /// and the acquire timeout, and `lock_timeout` becomes the busy timeout (how long a
    /// write waits for another writer); the server-side timeouts do not apply.
    pub async fn open_with(url: &str, options: GymOptions) -> Result<Self> {
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or_default();
        match scheme {
            #[cfg(feature = "postgres")]
            "postgres" | "postgresql" => Self::connect_with(url, options).await,
            #[cfg(not(feature = "postgres"))]
            "postgres" | "postgresql" => Err(store_left_out("PostgreSQL", "postgres")),
            #[cfg(feature = "sqlite")]
            "sqlite" => {
                let s = &options.pool;
                s.validate()?;
                let store = crate::store::sqlite::SqliteStore::open_with(
                    url,
                    &crate::store::sqlite::SqliteOptions {
                        // A write waits for another writer at most the lock timeout,
                        // else the call timeout: the driver's thread keeps waiting even
                        // after the call is dropped, so the wait must end on its own.
                        busy_timeout: s
                            .lock_timeout
                            .or(options.call_timeout)
                            .unwrap_or(SQLITE_LONGEST_BUSY_WAIT),
                        max_connections: s.max_connections,
                        acquire_timeout: s.acquire_timeout,
                    },
                )
                .await?;
                Ok(Self::from_sqlite(store, options))
            }
            #[cfg(not(feature = "sqlite"))]
            "sqlite" => Err(store_left_out("SQLite", "sqlite")),
            _ => Err(Error::InvalidDatabaseUrl {
                reason: "expected a postgres://, postgresql:// or sqlite: URL".into(),
            }),
        }
    }

    /// A gym on an open SQLite store.
    #[cfg(feature = "sqlite")]
    pub fn from_sqlite(store: crate::store::sqlite::SqliteStore, options: GymOptions) -> Self {
        Self {
            face: options.face,
            call_timeout: options.call_timeout,
            face_cache: Arc::default(),
            migrations: Migrations::sqlite(store.pool().clone()),
            operations: crate::ops::Operations::sqlite(store.pool().clone()),
            store: Arc::new(store),
            calendar: options.calendar,
            clock: options.clock,
            rewards: options.rewards,
        }
    }

    /// Connects to PostgreSQL with default options.
    #[cfg(feature = "postgres")]
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, GymOptions::default()).await
    }

    /// Connects to PostgreSQL. Fails fast with [`Error::InvalidDatabaseUrl`] for a URL
    /// that cannot work and [`Error::ConnectionFailed`] when the server cannot be reached
    /// or refuses the credentials: one connection is opened before this returns.
    #[cfg(feature = "postgres")]
    pub async fn connect_with(url: &str, options: GymOptions) -> Result<Self> {
        let s = &options.pool;
        s.validate()?;
        let connect = parse_url(url)?.options(s.server_settings());
        // One direct connection first: the pool would retry a refused connection until
        // its acquire timeout, while a program starting up wants to hear at once that the
        // server is down or the password wrong.
        let probe = tokio::time::timeout(s.acquire_timeout, PgConnection::connect_with(&connect))
            .await
            .map_err(|_| Error::ConnectionFailed {
                reason: "the server did not answer in time: check the host, port and firewall"
                    .into(),
            })?
            .map_err(errors::map)?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(s.max_connections)
            .min_connections(s.min_connections)
            .acquire_timeout(s.acquire_timeout)
            .max_lifetime(s.max_lifetime)
            .idle_timeout(s.idle_timeout)
            // sqlx's own test pings at every checkout; this one only after a rest.
            .test_before_acquire(false)
            .before_acquire({
                let check = s.test_before_acquire;
                move |conn, meta| {
                    Box::pin(async move {
                        if check && meta.idle_for > IDLE_CHECK_AFTER {
                            conn.ping().await?;
                        }
                        Ok(true)
                    })
                }
            })
            .connect_lazy_with(connect);
        Ok(Self::from_pool(pool, options))
    }

    /// Uses a pool the host application already has; `options.pool` is ignored.
    #[cfg(feature = "postgres")]
    pub fn from_pool(pool: PgPool, options: GymOptions) -> Self {
        Self {
            face: options.face,
            call_timeout: options.call_timeout,
            face_cache: Arc::default(),
            migrations: Migrations::new(pool.clone()).with_lock_wait(options.migration_lock_wait),
            operations: crate::ops::Operations::new(pool.clone()),
            store: Arc::new(PgStore::new(pool)),
            calendar: options.calendar,
            clock: options.clock,
            rewards: options.rewards,
        }
    }

    /// Schema migration operations.
    pub fn migrations(&self) -> &Migrations {
        &self.migrations
    }

    /// Operator tasks: the health report, vacuum/analyze, rebuilding the face index.
    pub fn operations(&self) -> &crate::ops::Operations {
        &self.operations
    }

    /// The gym's business calendar.
    pub fn calendar(&self) -> BusinessCalendar {
        self.calendar
    }

    /// Today's business date.
    pub fn today(&self) -> NaiveDate {
        self.calendar.today(self.clock.as_ref())
    }

    /// Runs one use case within the call timeout. A call cut short may or may not have
    /// committed (the server may have done its part and stopped answering after): retry
    /// with the same idempotency key where the use case takes one.
    pub(crate) async fn bounded<T>(
        &self,
        call: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let Some(limit) = self.call_timeout else {
            return call.await;
        };
        tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
            Err(Error::Timeout {
                reason: format!(
                    "the call did not finish within {} s: the database stopped answering or \
                     is overloaded; whether it was written is unknown (retry with the same \
                     idempotency key where the call takes one)",
                    limit.as_secs_f64()
                ),
            })
        })
    }

    /// Starts a unit of work that may write and checks, inside it, that `actor` may
    /// perform `action`: the account is read in the same transaction, so a disabled
    /// account or a changed role takes effect at once.
    pub(crate) async fn begin_as(
        &self,
        actor: &Actor,
        action: Action,
    ) -> Result<Box<dyn StoreTransaction>> {
        let tx = self.store.begin().await?;
        authorized(tx, actor, action).await
    }

    /// [`Gym::begin_as`] for a use case that only reads: a read transaction
    /// ([`Store::begin_read`]), which on SQLite never waits for a writer.
    pub(crate) async fn begin_read_as(
        &self,
        actor: &Actor,
        action: Action,
    ) -> Result<Box<dyn StoreTransaction>> {
        let tx = self.store.begin_read().await?;
        authorized(tx, actor, action).await
    }

    /// The current instant and its business date.
    pub(crate) fn now(&self) -> (chrono::DateTime<chrono::Utc>, NaiveDate) {
        let now = self.clock.now();
        (now, self.calendar.date_of(now))
    }

    /// Closes the pool; calls made afterwards fail with [`Error::ConnectionFailed`].
    pub async fn close(&self) {
        self.disable_face_cache();
        self.store.close().await;
    }
}

/// Checks, inside `tx`, that `actor` may perform `action`, and hands the transaction on.
async fn authorized(
    mut tx: Box<dyn StoreTransaction>,
    actor: &Actor,
    action: Action,
) -> Result<Box<dyn StoreTransaction>> {
    let staff = tx.staff_credentials(actor.username()).await?;
    permitted(staff.as_ref().map(|(s, _)| s), action)?;
    Ok(tx)
}

/// Whether the account read for the acting staff member (none when it does not exist)
/// may perform `action`: the one rule, [`authorize`], whichever statement brought the
/// account.
pub(crate) fn permitted(staff: Option<&crate::domain::staff::Staff>, action: Action) -> Result<()> {
    let Some(staff) = staff else {
        return Err(Error::PermissionDenied {
            action: action.as_str().to_owned(),
        });
    };
    authorize(staff.role, staff.disabled, action)
}

/// The error of a URL naming a store this build was compiled without.
#[cfg(not(all(feature = "postgres", feature = "sqlite")))]
fn store_left_out(store: &str, feature: &str) -> Error {
    Error::InvalidDatabaseUrl {
        reason: format!(
            "this build of PowerGym has no {store} store: powergym-core's `{feature}` feature \
             was left out; rebuild with it, or open a database of a store this build has"
        ),
    }
}

/// Checks a PostgreSQL URL without ever repeating it (it may hold a password).
#[cfg(feature = "postgres")]
pub(crate) fn parse_url(url: &str) -> Result<PgConnectOptions> {
    let url = url.trim();
    let scheme = url.split_once("://").map(|(s, _)| s);
    match scheme {
        Some("postgres") | Some("postgresql") => {}
        Some(_) => {
            return Err(Error::InvalidDatabaseUrl {
                reason: "the scheme must be postgres:// or postgresql://".into(),
            });
        }
        None => {
            return Err(Error::InvalidDatabaseUrl {
                reason: "expected postgres://user:password@host:port/database".into(),
            });
        }
    }
    let parsed = url::Url::parse(url).map_err(|e| Error::InvalidDatabaseUrl {
        reason: format!("{e}; expected postgres://user:password@host:port/database"),
    })?;
    if parsed.host_str().is_none_or(str::is_empty) && !url.contains("host=") {
        return Err(Error::InvalidDatabaseUrl {
            reason: "no host: expected postgres://user:password@host:port/database".into(),
        });
    }
    PgConnectOptions::from_str(url).map_err(|e| Error::InvalidDatabaseUrl {
        reason: e.to_string(),
    })
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_refused_without_echoing_them() {
        for url in [
            "",
            "localhost:5432/db",
            "mysql://u:secretpw@h/db",
            "postgres://u:secretpw@/db",
            "postgres://u:secretpw@h:notaport/db",
        ] {
            let err = parse_url(url).unwrap_err();
            assert!(
                matches!(err, Error::InvalidDatabaseUrl { .. }),
                "{url}: {err:?}"
            );
            assert!(!err.to_string().contains("secretpw"), "{err}");
        }
        assert!(parse_url("postgres://u:p@127.0.0.1:5432/db").is_ok());
        assert!(parse_url("postgresql://u@localhost/db?sslmode=disable").is_ok());
    }
}
