//! The `Gym` object: connecting, the schema's migrations, and the gym's calendar. The use
//! cases are in `gym/`, one file per domain noun, each a `#[uniffi::export] impl Gym`
//! block of one-line conversions around core's call.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use powergym_core as core;

use crate::Result;
use crate::face::ThumbnailKey;
use crate::rules::RewardConfig;
use crate::types::Timestamp;

mod checkin;
mod clients;
mod inventory;
mod payments;
mod plans;
mod reports;
mod rewards;
mod staff;
mod subscriptions;

/// A schema migration and whether the database has it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct MigrationRecord {
    /// Version number.
    pub version: i64,
    /// What the migration does.
    pub description: String,
    /// SHA-384 of the up script, in hex.
    pub checksum: String,
    /// When it was applied; absent while pending.
    pub applied_at: Option<Timestamp>,
    /// The script changed after it was applied.
    pub checksum_mismatch: bool,
}

impl From<core::MigrationRecord> for MigrationRecord {
    fn from(r: core::MigrationRecord) -> Self {
        Self {
            version: r.version,
            description: r.description,
            checksum: r.checksum,
            applied_at: r.applied_at,
            checksum_mismatch: r.checksum_mismatch,
        }
    }
}

/// How to connect; defaults match the original deployment's pool.
#[derive(Debug, Clone, uniffi::Record)]
pub struct ConnectOptions {
    #[uniffi(default = 30)]
    /// Most connections open at once.
    pub max_connections: u32,
    #[uniffi(default = 0)]
    /// Connections kept open while idle.
    pub min_connections: u32,
    #[uniffi(default = 30000)]
    /// How long a call waits for a connection, in milliseconds.
    pub acquire_timeout_ms: u64,
    #[uniffi(default = 3600000)]
    /// Connections older than this are replaced, in milliseconds; 0 keeps them.
    pub max_lifetime_ms: u64,
    #[uniffi(default = 600000)]
    /// Idle connections close after this, in milliseconds; 0 keeps them open.
    pub idle_timeout_ms: u64,
    #[uniffi(default = true)]
    /// Check a connection that sat idle for more than 30 seconds before handing it out
    /// (one in steady use is handed out unchecked; a dead one is replaced at its BEGIN).
    pub test_before_acquire: bool,
    #[uniffi(default = 30000)]
    /// Longest a statement may run, in milliseconds; 0 leaves the server's setting.
    pub statement_timeout_ms: u64,
    #[uniffi(default = 5000)]
    /// Longest a statement waits for another transaction's lock, in milliseconds (then
    /// `PowergymException.Timeout`); 0 leaves the server's setting.
    pub lock_timeout_ms: u64,
    #[uniffi(default = 60000)]
    /// Longest a transaction may sit idle, in milliseconds; 0 leaves the server's setting.
    pub idle_in_transaction_timeout_ms: u64,
    #[uniffi(default = 120000)]
    /// The longest any call may take, in milliseconds, even when the server stops
    /// answering (then `PowergymException.Timeout`); 0 for no bound.
    pub call_timeout_ms: u64,
    #[uniffi(default = "America/Bogota")]
    /// The gym's IANA time zone.
    pub time_zone: String,
    #[uniffi(default = 0.4)]
    /// Largest cosine distance at which two faces are the same person.
    pub max_face_distance: f32,
    #[uniffi(default = 0.05)]
    /// How much farther the runner-up must be for a face match to count.
    pub face_ambiguity_margin: f32,
    #[uniffi(default = "hnsw")]
    /// How faces are searched in the database: `"hnsw"` (the index) or `"exact"` (a full
    /// scan). Parsed by core, as in every binding.
    pub face_search: String,
    #[uniffi(default = None)]
    /// HNSW candidates visited per face search (1 to 1000), for `"hnsw"` only; core's
    /// default (400) when absent.
    pub ef_search: Option<u32>,
    #[uniffi(default = 536870912)]
    /// Memory the in-process int8 face cache may take on PostgreSQL, in bytes (512 MiB by
    /// default, about 186,000 templates): when the gallery fits, faces are identified in
    /// process; 0 searches the database's index instead.
    pub face_cache_budget_bytes: u64,
    #[uniffi(default = None)]
    /// How attendance rewards are earned; the original's rules (20 days in a monthly
    /// period, 20 %, 7 days to use it) when absent.
    pub rewards: Option<RewardConfig>,
    #[uniffi(default = 30000)]
    /// How long a migration waits for another process's migration to finish, in
    /// milliseconds (then `PowergymException.Timeout` naming the holder).
    pub migration_lock_wait_ms: u64,
    #[uniffi(default = None)]
    /// The key thumbnails are sealed with; without one, thumbnails are refused. An
    /// object, so printing the options never prints the key.
    pub thumbnail_key: Option<Arc<ThumbnailKey>>,
}

/// `None` for 0: Kotlin/Swift say "no bound" with zero.
fn optional_ms(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// A connection to a gym's database.
#[derive(uniffi::Object)]
pub struct Gym(pub(crate) core::Gym);

#[uniffi::export(async_runtime = "tokio")]
impl Gym {
    /// Opens the gym's store: `sqlite://path/gym.db` (embedded, no server) or `postgres://…`;
    /// fails at once when the URL, file, server or credentials are wrong.
    #[uniffi::constructor]
    pub async fn connect(url: String, options: ConnectOptions) -> Result<Arc<Self>> {
        let gym_options = core::GymOptions {
            pool: core::PoolSettings {
                max_connections: options.max_connections,
                min_connections: options.min_connections,
                acquire_timeout: Duration::from_millis(options.acquire_timeout_ms),
                max_lifetime: optional_ms(options.max_lifetime_ms),
                idle_timeout: optional_ms(options.idle_timeout_ms),
                test_before_acquire: options.test_before_acquire,
                statement_timeout: optional_ms(options.statement_timeout_ms),
                lock_timeout: optional_ms(options.lock_timeout_ms),
                idle_in_transaction_timeout: optional_ms(options.idle_in_transaction_timeout_ms),
            },
            calendar: core::BusinessCalendar::new(&options.time_zone)?,
            face: core::FaceOptions {
                policy: core::face::MatchPolicy::new(
                    options.max_face_distance,
                    options.face_ambiguity_margin,
                )?,
                search: core::face::FaceSearch::parse(&options.face_search, options.ef_search)?,
                thumbnail_key: options.thumbnail_key.as_ref().map(|k| k.0.clone()),
                cache_budget_bytes: options.face_cache_budget_bytes,
            },
            rewards: match options.rewards {
                Some(config) => config.try_into()?,
                None => core::RewardConfig::default(),
            },
            migration_lock_wait: Duration::from_millis(options.migration_lock_wait_ms),
            call_timeout: optional_ms(options.call_timeout_ms),
            ..core::GymOptions::default()
        };
        Ok(Arc::new(Self(
            core::Gym::open_with(&url, gym_options).await?,
        )))
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<()> {
        Ok(self.0.migrations().run().await?)
    }

    /// Applies pending migrations up to and including `version`.
    pub async fn migrate_to(&self, version: i64) -> Result<()> {
        Ok(self.0.migrations().run_to(version).await?)
    }

    /// Reverts the newest applied migration.
    pub async fn revert(&self) -> Result<()> {
        Ok(self.0.migrations().revert().await?)
    }

    /// Reverts every migration newer than `version`; 0 (base: every table dropped) needs
    /// `confirmDataLoss = true`.
    #[uniffi::method(default(confirm_data_loss = false))]
    pub async fn revert_to(&self, version: i64, confirm_data_loss: bool) -> Result<()> {
        let m = self.0.migrations();
        if confirm_data_loss {
            m.revert_to_confirmed(version, core::migrate::DataLoss::Accepted)
                .await?;
        } else {
            m.revert_to(version).await?;
        }
        Ok(())
    }

    /// Marks the database as being at `version` without running scripts; going backwards
    /// needs `confirmDataLoss = true`.
    #[uniffi::method(default(confirm_data_loss = false))]
    pub async fn stamp(&self, version: i64, confirm_data_loss: bool) -> Result<()> {
        let m = self.0.migrations();
        if confirm_data_loss {
            m.stamp_back(version, core::migrate::DataLoss::Accepted)
                .await?;
        } else {
            m.stamp(version).await?;
        }
        Ok(())
    }

    /// The newest applied migration version (0 = none).
    pub async fn current_version(&self) -> Result<i64> {
        Ok(self.0.migrations().current_version().await?)
    }

    /// Every migration, applied or pending, with checksums.
    pub async fn history(&self) -> Result<Vec<MigrationRecord>> {
        let records = self.0.migrations().history().await?;
        Ok(records.into_iter().map(Into::into).collect())
    }

    /// Fails with `SchemaOutOfDate` unless the database is at this library's version.
    pub async fn check_schema(&self) -> Result<()> {
        Ok(self.0.migrations().check().await?)
    }

    /// Closes every database connection. (Named so it does not clash with the
    /// `AutoCloseable.close()` / `destroy()` that frees the handle itself.)
    pub async fn disconnect(&self) {
        self.0.close().await;
    }

    /// The gym's business day now, in its time zone (what "today" means to every rule).
    pub fn today(&self) -> NaiveDate {
        self.0.today()
    }

    /// The IANA time zone of the gym's business calendar (`America/Bogota`...).
    pub fn time_zone(&self) -> String {
        self.0.calendar().zone_name().to_owned()
    }
}

/// The newest schema version this library ships (PostgreSQL's; a SQLite-only build
/// has SQLite's alone).
#[uniffi::export]
pub fn latest_schema_version() -> i64 {
    #[cfg(feature = "postgres")]
    return core::migrate::latest_version();
    #[cfg(not(feature = "postgres"))]
    return core::migrate::sqlite_latest_version();
}
