//! The one error type of the library: every failure a caller can act on has its own kind.
//!
//! Messages say what was wrong and how to fix it. They never carry personal data (names,
//! document numbers, phones, embeddings) nor connection secrets: a database error keeps
//! only its SQLSTATE and constraint name, never the server's DETAIL line, which echoes
//! row values.

use rust_decimal::Decimal;

use crate::domain::access::DenialReason;
use crate::domain::subscription::{SubscriptionEvent, SubscriptionStatus};

/// Shorthand for results of this library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in PowerGym, by what the caller can do about it.
///
/// Bindings match this enum without a wildcard arm, so a new kind does not compile until
/// every language maps it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The record does not exist (or is not visible to this call).
    #[error("{entity} not found")]
    NotFound {
        /// What was looked for: `client`, `plan`, `subscription`...
        entity: &'static str,
    },
    /// A record with the same unique key exists already.
    #[error("{entity} already exists: another one has the same {field}")]
    AlreadyExists {
        /// The kind of record.
        entity: &'static str,
        /// The unique field that collided (its name, never its value).
        field: &'static str,
    },
    /// An input value is not acceptable.
    #[error("invalid {field}: {reason}")]
    Validation {
        /// The input field at fault.
        field: &'static str,
        /// Why it was refused and what is accepted instead.
        reason: String,
    },
    /// The subscription cannot take this event in its current status.
    #[error("cannot {event} a subscription that is {from}")]
    InvalidTransition {
        /// The status the subscription is in.
        from: SubscriptionStatus,
        /// The event that was refused.
        event: SubscriptionEvent,
    },
    /// A payment larger than what is still owed.
    #[error("payment of {amount} exceeds the remaining balance of {balance}")]
    PaymentExceedsBalance {
        /// The amount offered.
        amount: Decimal,
        /// What is still owed.
        balance: Decimal,
    },
    /// A stock exit larger than the stock.
    #[error("insufficient stock: {requested} requested, {available} available")]
    InsufficientStock {
        /// Quantity asked for.
        requested: Decimal,
        /// Quantity on hand.
        available: Decimal,
    },
    /// A check-in was refused for a business reason.
    #[error("access denied: {0}")]
    AccessDenied(DenialReason),
    /// A face template needs the member's recorded biometric consent first (and, for a
    /// minor, a guardian's).
    #[error("biometric consent required: {}", if *guardian {
        "a minor's face can be enrolled only with a guardian's recorded consent"
    } else {
        "record the member's biometric consent before enrolling a face"
    })]
    ConsentRequired {
        /// True when what is missing is a guardian's consent.
        guardian: bool,
    },
    /// The acting staff member may not do this.
    #[error("permission denied: {action} is not allowed for this staff member")]
    PermissionDenied {
        /// The action that was refused.
        action: String,
    },
    /// The call lost a race or contradicts the current state; retrying later may work.
    #[error("conflict: {reason}")]
    Conflict {
        /// What collided.
        reason: String,
    },
    /// The call lost a race with a concurrent one and was undone: nothing was written,
    /// and a fresh attempt may win. Each store decides what counts (PostgreSQL: a
    /// serialization failure or a deadlock; SQLite: a snapshot overtaken by another
    /// writer). The use cases retry it a few times themselves, so a caller sees it only
    /// when every attempt lost.
    #[error("lost a race with a concurrent call ({reason}): nothing was written, try again")]
    Contention {
        /// What the race was: `serialization failure`, `deadlock`, `stale snapshot`.
        reason: &'static str,
    },
    /// The database schema is not the one this library version expects.
    #[error(
        "database schema is at version {database}, this library expects {library}: {}",
        schema_advice(*.database, *.library)
    )]
    SchemaOutOfDate {
        /// Latest migration applied to the database (0 = none).
        database: i64,
        /// Latest migration this library ships.
        library: i64,
    },
    /// A PostgreSQL extension the schema needs is not installed or cannot be created.
    #[error("PostgreSQL extension `{extension}` is missing: {hint}")]
    ExtensionMissing {
        /// The extension's name (`vector`, `btree_gist`).
        extension: String,
        /// How to install or create it.
        hint: String,
    },
    /// The database URL cannot be used as given.
    #[error("invalid database URL: {reason}")]
    InvalidDatabaseUrl {
        /// What is wrong with it (the URL itself is never repeated: it may hold a password).
        reason: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to the database: {reason}")]
    ConnectionFailed {
        /// What failed and what to check.
        reason: String,
    },
    /// A wait reached its bound: a lock held too long by another transaction, a statement
    /// past the statement timeout, a transaction left idle (nothing was written), or a
    /// whole call past the call timeout (whether it was written is unknown: retry with
    /// its idempotency key).
    #[error("timed out: {reason}")]
    Timeout {
        /// What waited too long, and what to do.
        reason: String,
    },
    /// The server ran out of something it needs: disk space, connection slots or memory.
    /// Retrying does not help until an operator frees the resource; `hint` says how.
    #[error("the database server is out of {resource}: {hint}")]
    ResourceExhausted {
        /// What ran out: `disk space`, `connections` or `memory`.
        resource: &'static str,
        /// What an operator can do about it.
        hint: String,
    },
    /// The store cannot do this: an operation of PostgreSQL's asked of the embedded
    /// SQLite store (a role to grant, a vector index to rebuild).
    #[error("{operation} is not available on the {store} store: {remedy}")]
    Unsupported {
        /// What was asked.
        operation: &'static str,
        /// The store that cannot do it (`sqlite`).
        store: &'static str,
        /// What to use instead.
        remedy: &'static str,
    },
    /// Any other database failure.
    #[error("database error{}: {message}", code.as_deref().map(|c| format!(" (SQLSTATE {c})")).unwrap_or_default())]
    Database {
        /// The SQLSTATE, when the server sent one.
        code: Option<String>,
        /// The server's primary message, without its detail.
        message: String,
    },
}

fn schema_advice(database: i64, library: i64) -> &'static str {
    if database < library {
        "run the migrations (`powergym db upgrade`, or migrate() from a program) to bring the database up to date"
    } else {
        "the database was migrated by a newer PowerGym; upgrade this program or revert the database with an operator tool"
    }
}

impl Error {
    /// Shorthand for a [`Error::Validation`].
    pub fn validation(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Validation {
            field,
            reason: reason.into(),
        }
    }

    /// Stable snake_case name of the kind, for bindings, logs and conformance vectors.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::AlreadyExists { .. } => "already_exists",
            Self::Validation { .. } => "validation",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::PaymentExceedsBalance { .. } => "payment_exceeds_balance",
            Self::InsufficientStock { .. } => "insufficient_stock",
            Self::AccessDenied(_) => "access_denied",
            Self::ConsentRequired { .. } => "consent_required",
            Self::PermissionDenied { .. } => "permission_denied",
            Self::Conflict { .. } => "conflict",
            Self::Contention { .. } => "contention",
            Self::SchemaOutOfDate { .. } => "schema_out_of_date",
            Self::ExtensionMissing { .. } => "extension_missing",
            Self::InvalidDatabaseUrl { .. } => "invalid_database_url",
            Self::ConnectionFailed { .. } => "connection_failed",
            Self::Timeout { .. } => "timeout",
            Self::ResourceExhausted { .. } => "resource_exhausted",
            Self::Unsupported { .. } => "unsupported",
            Self::Database { .. } => "database",
        }
    }

    /// True when the failure was a lost race that a fresh attempt may win
    /// ([`Error::Contention`], as the store classified it).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Contention { .. })
    }
}
