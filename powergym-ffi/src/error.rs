//! One error enum for Kotlin and Swift: `PowergymError` (not named `Error`, which Kotlin
//! would rename), with a case per core error kind and typed fields. The mapping matches
//! core's enum without a wildcard, so a new core kind fails to compile until it crosses.

use powergym_core as core;
use powergym_core::{SubscriptionEvent, SubscriptionStatus};

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
    /// The store cannot do this (a PostgreSQL operation asked of the embedded SQLite
    /// store).
    #[error("{detail}")]
    Unsupported {
        /// What was asked.
        operation: String,
        /// The store that cannot do it.
        store: String,
        /// What to use instead.
        remedy: String,
        /// The full message. Holds no personal data.
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
            // A race lost on every attempt: to Kotlin and Swift a conflict ("retrying
            // later may work"), which keeps their exhaustive `when`/`switch` unchanged.
            E::Contention { reason } => Self::Conflict {
                reason: reason.into(),
                detail,
            },
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
            E::Unsupported {
                operation,
                store,
                remedy,
            } => Self::Unsupported {
                operation: operation.into(),
                store: store.into(),
                remedy: remedy.into(),
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
