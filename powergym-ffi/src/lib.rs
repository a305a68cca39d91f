//! UniFFI bindings of powergym-core for Kotlin and Swift.
//!
//! Thin by design: core enums are mirrored with `#[uniffi::remote(Enum)]`, ids and dates
//! cross as custom types, errors become one `PowergymError` enum (not named `Error`:
//! Kotlin would rename it), and every async method runs on tokio. No rule lives here.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, NaiveDate, Utc};
use powergym_core as core;
use powergym_core::{ClientId, DocumentType, Gender, SubscriptionEvent, SubscriptionStatus};

uniffi::setup_scaffolding!();

mod face;
mod operations;
mod rules;
mod store;
pub use operations::*;
pub use rules::*;
pub use store::*;

uniffi::custom_type!(ClientId, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |s| Ok(ClientId::parse(&s)?),
});

uniffi::custom_type!(NaiveDate, String, {
    remote,
    lower: |d| d.format("%Y-%m-%d").to_string(),
    try_lift: |s| Ok(s.parse::<NaiveDate>()?),
});

/// Instants cross as the platform's native timestamp (`java.time.Instant`, `Date`).
pub(crate) type Timestamp = DateTime<Utc>;
uniffi::custom_type!(Timestamp, SystemTime, {
    remote,
    lower: |t| SystemTime::from(t),
    try_lift: |t| Ok(DateTime::<Utc>::from(t)),
});

/// Colombian identity document types.
#[uniffi::remote(Enum)]
pub enum DocumentType {
    Cc,
    Ti,
    Ce,
    Pp,
}

/// Gender as the original records it.
#[uniffi::remote(Enum)]
pub enum Gender {
    Male,
    Female,
    Other,
}

/// Where a subscription is in its life.
#[uniffi::remote(Enum)]
pub enum SubscriptionStatus {
    PendingPayment,
    Scheduled,
    Active,
    Expired,
    Canceled,
}

/// Something that happens to an existing subscription.
#[uniffi::remote(Enum)]
pub enum SubscriptionEvent {
    Pay,
    StartDateReached,
    EndDatePassed,
    Cancel,
}

/// Every PowerGym failure, by what the caller can do about it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PowergymError {
    /// The record does not exist.
    #[error("{detail}")]
    NotFound {
        /// The kind of record (`client`, `plan`...).
        entity: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// A record with the same unique key exists.
    #[error("{detail}")]
    AlreadyExists {
        /// The kind of record (`client`, `plan`...).
        entity: String,
        /// The input field at fault (its name, never its value).
        field: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// An input value is not acceptable.
    #[error("{detail}")]
    Validation {
        /// The input field at fault (its name, never its value).
        field: String,
        /// Why, in words or as a stable code.
        reason: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// The subscription cannot take this event in its status.
    #[error("{detail}")]
    InvalidTransition {
        /// The status the subscription is in.
        from: SubscriptionStatus,
        /// The refused event.
        event: SubscriptionEvent,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// A payment larger than the remaining balance (decimal strings).
    #[error("{detail}")]
    PaymentExceedsBalance {
        /// The amount offered, as a decimal string.
        amount: String,
        /// What is still owed, as a decimal string.
        balance: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// A stock exit larger than the stock (decimal strings).
    #[error("{detail}")]
    InsufficientStock {
        /// Quantity asked for, as a decimal string.
        requested: String,
        /// Quantity on hand, as a decimal string.
        available: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// A check-in was refused; `reason` is a stable code such as `already_checked_in`.
    #[error("{detail}")]
    AccessDenied {
        /// Why, in words or as a stable code.
        reason: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// A face needs the member's recorded biometric consent first.
    #[error("{detail}")]
    ConsentRequired {
        /// True when a guardian's consent is what is missing (a minor).
        guardian: bool,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// The acting staff member may not do this.
    #[error("{detail}")]
    PermissionDenied {
        /// The refused action.
        action: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// The call lost a race or contradicts the current state.
    #[error("{detail}")]
    Conflict {
        /// Why, in words or as a stable code.
        reason: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// The database schema is not the version this library expects.
    #[error("{detail}")]
    SchemaOutOfDate {
        /// Latest migration applied to the database (0 = none).
        database_version: i64,
        /// Latest migration this library ships.
        library_version: i64,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// A PostgreSQL extension the schema needs is missing.
    #[error("{detail}")]
    ExtensionMissing {
        /// The extension's name.
        extension: String,
        /// How to install or create it.
        hint: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// The database URL cannot be used as given.
    #[error("{detail}")]
    InvalidDatabaseUrl {
        /// Why, in words or as a stable code.
        reason: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("{detail}")]
    ConnectionFailed {
        /// Why, in words or as a stable code.
        reason: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// A wait reached its bound (a lock, a statement, an idle transaction); nothing was
    /// written.
    #[error("{detail}")]
    Timeout {
        /// What waited too long, and what to do.
        reason: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// The server ran out of disk space, connection slots or memory.
    #[error("{detail}")]
    ResourceExhausted {
        /// What ran out: `disk space`, `connections`, `memory`.
        resource: String,
        /// What an operator can do about it.
        hint: String,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
    /// Any other database failure.
    #[error("{detail}")]
    Database {
        /// The SQLSTATE, when the server sent one.
        sqlstate: Option<String>,
        /// The full message: what went wrong and what to do. Holds no personal data.
        detail: String,
    },
}

impl From<core::Error> for PowergymError {
    fn from(err: core::Error) -> Self {
        use core::Error as E;
        let detail = err.to_string();
        match err {
            E::NotFound { entity } => Self::NotFound {
                entity: entity.into(),
                detail,
            },
            E::AlreadyExists { entity, field } => Self::AlreadyExists {
                entity: entity.into(),
                field: field.into(),
                detail,
            },
            E::Validation { field, reason } => Self::Validation {
                field: field.into(),
                reason,
                detail,
            },
            E::InvalidTransition { from, event } => Self::InvalidTransition {
                from,
                event,
                detail,
            },
            E::PaymentExceedsBalance { amount, balance } => Self::PaymentExceedsBalance {
                amount: amount.to_string(),
                balance: balance.to_string(),
                detail,
            },
            E::InsufficientStock {
                requested,
                available,
            } => Self::InsufficientStock {
                requested: requested.to_string(),
                available: available.to_string(),
                detail,
            },
            E::AccessDenied(reason) => Self::AccessDenied {
                reason: reason.code().into(),
                detail,
            },
            E::ConsentRequired { guardian } => Self::ConsentRequired { guardian, detail },
            E::PermissionDenied { action } => Self::PermissionDenied { action, detail },
            E::Conflict { reason } => Self::Conflict { reason, detail },
            E::SchemaOutOfDate { database, library } => Self::SchemaOutOfDate {
                database_version: database,
                library_version: library,
                detail,
            },
            E::ExtensionMissing { extension, hint } => Self::ExtensionMissing {
                extension,
                hint,
                detail,
            },
            E::InvalidDatabaseUrl { reason } => Self::InvalidDatabaseUrl { reason, detail },
            E::ConnectionFailed { reason } => Self::ConnectionFailed { reason, detail },
            E::Timeout { reason } => Self::Timeout { reason, detail },
            E::ResourceExhausted { resource, hint } => Self::ResourceExhausted {
                resource: resource.into(),
                hint,
                detail,
            },
            E::Database { code, message: _ } => Self::Database {
                sqlstate: code,
                detail,
            },
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, PowergymError>;

/// A registered gym member. Printed (Kotlin `toString`, Swift `debugDescription`), it
/// shows its id and document type only: a logged member leaks no personal data.
#[derive(Clone, PartialEq, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct Client {
    /// Identifier.
    pub id: ClientId,
    /// Document type.
    pub document_type: DocumentType,
    /// Document number, normalised.
    pub document_number: String,
    /// First name.
    pub first_name: String,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Last name.
    pub last_name: String,
    /// Second last name.
    pub second_last_name: Option<String>,
    /// All name parts joined.
    pub full_name: String,
    /// Main phone, normalised.
    pub phone: String,
    /// Another phone.
    pub alternative_phone: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Gender.
    pub gender: Gender,
    /// Postal address.
    pub address: Option<String>,
    /// False once deactivated.
    pub is_active: bool,
    /// When it was created.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id.to_string())
            .field("document_type", &self.document_type)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

impl From<core::Client> for Client {
    fn from(c: core::Client) -> Self {
        Self {
            full_name: c.full_name(),
            id: c.id,
            document_type: c.document_type,
            document_number: c.document_number.as_str().to_owned(),
            first_name: c.first_name.as_str().to_owned(),
            middle_name: c.middle_name.map(|n| n.as_str().to_owned()),
            last_name: c.last_name.as_str().to_owned(),
            second_last_name: c.second_last_name.map(|n| n.as_str().to_owned()),
            phone: c.phone.as_str().to_owned(),
            alternative_phone: c.alternative_phone.map(|p| p.as_str().to_owned()),
            email: c.email.map(|e| e.as_str().to_owned()),
            birth_date: c.birth_date.date(),
            gender: c.gender,
            address: c.address,
            is_active: c.is_active,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A client registration as typed at the front desk. Printed, it shows the document type
/// only.
#[derive(Clone, uniffi::Record)]
#[uniffi::export(Debug)]
pub struct ClientInput {
    /// Document type.
    pub document_type: DocumentType,
    /// Document number, normalised.
    pub document_number: String,
    /// First name.
    pub first_name: String,
    #[uniffi(default = None)]
    /// Middle name.
    pub middle_name: Option<String>,
    /// Last name.
    pub last_name: String,
    #[uniffi(default = None)]
    /// Second last name.
    pub second_last_name: Option<String>,
    /// Main phone, normalised.
    pub phone: String,
    #[uniffi(default = None)]
    /// Another phone.
    pub alternative_phone: Option<String>,
    #[uniffi(default = None)]
    /// E-mail address.
    pub email: Option<String>,
    /// Date of birth.
    pub birth_date: NaiveDate,
    /// Gender.
    pub gender: Gender,
    #[uniffi(default = None)]
    /// Postal address.
    pub address: Option<String>,
}

impl std::fmt::Debug for ClientInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientInput")
            .field("document_type", &self.document_type)
            .finish_non_exhaustive()
    }
}

impl From<ClientInput> for core::ClientInput {
    fn from(i: ClientInput) -> Self {
        Self {
            document_type: i.document_type,
            document_number: i.document_number,
            first_name: i.first_name,
            middle_name: i.middle_name,
            last_name: i.last_name,
            second_last_name: i.second_last_name,
            phone: i.phone,
            alternative_phone: i.alternative_phone,
            email: i.email,
            birth_date: i.birth_date,
            gender: i.gender,
            address: i.address,
        }
    }
}

/// One page of clients.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ClientPage {
    /// The items of this page.
    pub items: Vec<Client>,
    /// How many items match in all pages.
    pub total: u64,
    /// The page size asked for.
    pub limit: u32,
    /// Items skipped before this page.
    pub offset: u64,
}

impl From<core::Page<core::Client>> for ClientPage {
    fn from(page: core::Page<core::Client>) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        }
    }
}

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
    /// Check each connection before handing it out.
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
    #[uniffi(default = 400)]
    /// HNSW candidates visited per face search (1 to 1000); 0 scans every template.
    pub face_ef_search: u32,
    #[uniffi(default = None)]
    /// The key thumbnails are sealed with; without one, thumbnails are refused. An
    /// object, so printing the options never prints the key.
    pub thumbnail_key: Option<Arc<face::ThumbnailKey>>,
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
    /// Connects to PostgreSQL; fails at once when the URL, server or credentials are wrong.
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
                search: match options.face_ef_search {
                    0 => core::face::FaceSearch::Exact,
                    ef_search => core::face::FaceSearch::Hnsw { ef_search }.validate()?,
                },
                thumbnail_key: options.thumbnail_key.as_ref().map(|k| k.0.clone()),
            },
            call_timeout: optional_ms(options.call_timeout_ms),
            ..core::GymOptions::default()
        };
        Ok(Arc::new(Self(
            core::Gym::connect_with(&url, gym_options).await?,
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
}

/// The status after `event` on a subscription in `status`.
#[uniffi::export]
pub fn transition(
    status: SubscriptionStatus,
    event: SubscriptionEvent,
    fully_paid: bool,
    start_reached: bool,
) -> Result<SubscriptionStatus> {
    Ok(core::transition(
        status,
        event,
        core::TransitionContext {
            fully_paid,
            start_reached,
        },
    )?)
}

/// The status a new subscription starts in.
#[uniffi::export]
pub fn initial_status(
    start: NaiveDate,
    today: NaiveDate,
    price_is_zero: bool,
) -> SubscriptionStatus {
    core::initial_status(start, today, price_is_zero)
}

/// The newest schema version this library ships.
#[uniffi::export]
pub fn latest_schema_version() -> i64 {
    core::migrate::latest_version()
}
