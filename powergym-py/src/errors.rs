//! Exceptions: one class per core error kind, all under `powergym.PowergymError`.
//!
//! The mapping matches the core enum without a wildcard, so a new kind does not compile
//! until it has a Python class.

use powergym_core::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    powergym.exceptions,
    PowergymError,
    PyException,
    "Root of every PowerGym error."
);
create_exception!(
    powergym.exceptions,
    NotFoundError,
    PowergymError,
    "The record does not exist."
);
create_exception!(
    powergym.exceptions,
    AlreadyExistsError,
    PowergymError,
    "A record with the same unique key exists."
);
create_exception!(
    powergym.exceptions,
    ValidationError,
    PowergymError,
    "An input value is not acceptable; `field` names it."
);
create_exception!(
    powergym.exceptions,
    InvalidTransitionError,
    PowergymError,
    "The subscription cannot take this event in its status."
);
create_exception!(
    powergym.exceptions,
    PaymentExceedsBalanceError,
    PowergymError,
    "A payment larger than the remaining balance."
);
create_exception!(
    powergym.exceptions,
    InsufficientStockError,
    PowergymError,
    "A stock exit larger than the stock."
);
create_exception!(
    powergym.exceptions,
    ConsentRequiredError,
    PowergymError,
    "A face cannot be enrolled without recorded biometric consent; `guardian` is true when a guardian's consent is missing."
);
create_exception!(
    powergym.exceptions,
    AccessDeniedError,
    PowergymError,
    "A check-in was refused; `reason` says why."
);
create_exception!(
    powergym.exceptions,
    PermissionDeniedError,
    PowergymError,
    "The acting staff member may not do this."
);
create_exception!(
    powergym.exceptions,
    ConflictError,
    PowergymError,
    "The call lost a race or contradicts the current state."
);
create_exception!(
    powergym.exceptions,
    SchemaOutOfDateError,
    PowergymError,
    "The database schema is not the version this library expects."
);
create_exception!(
    powergym.exceptions,
    ExtensionMissingError,
    PowergymError,
    "A PostgreSQL extension the schema needs is missing."
);
create_exception!(
    powergym.exceptions,
    InvalidDatabaseUrlError,
    PowergymError,
    "The database URL cannot be used as given."
);
create_exception!(
    powergym.exceptions,
    ConnectionFailedError,
    PowergymError,
    "The database server could not be reached or refused the connection."
);
create_exception!(
    powergym.exceptions,
    TimeoutError,
    PowergymError,
    "A wait reached its bound (a lock, a statement, an idle transaction); nothing was written."
);
create_exception!(
    powergym.exceptions,
    UnsupportedError,
    PowergymError,
    "The store cannot do this (a PostgreSQL operation asked of the embedded SQLite store)."
);
create_exception!(
    powergym.exceptions,
    ResourceExhaustedError,
    PowergymError,
    "The database server ran out of disk space, connection slots or memory."
);
create_exception!(
    powergym.exceptions,
    DatabaseError,
    PowergymError,
    "Any other database failure."
);

/// Converts a core error into its Python exception, with the kind's details as attributes.
pub(crate) fn to_py(err: Error) -> PyErr {
    let message = err.to_string();
    let kind = err.kind();
    let (exc, attrs): (PyErr, Vec<(&str, Attr)>) = match err {
        Error::NotFound { entity } => (
            NotFoundError::new_err(message),
            vec![("entity", entity.into())],
        ),
        Error::AlreadyExists { entity, field } => (
            AlreadyExistsError::new_err(message),
            vec![("entity", entity.into()), ("field", field.into())],
        ),
        Error::Validation { field, reason } => (
            ValidationError::new_err(message),
            vec![("field", field.into()), ("reason", reason.into())],
        ),
        Error::InvalidTransition { from, event } => (
            InvalidTransitionError::new_err(message),
            vec![
                ("from_status", from.as_str().into()),
                ("event", event.as_str().into()),
            ],
        ),
        Error::PaymentExceedsBalance { amount, balance } => (
            PaymentExceedsBalanceError::new_err(message),
            vec![
                ("amount", Attr::Decimal(amount)),
                ("balance", Attr::Decimal(balance)),
            ],
        ),
        Error::InsufficientStock {
            requested,
            available,
        } => (
            InsufficientStockError::new_err(message),
            vec![
                ("requested", Attr::Decimal(requested)),
                ("available", Attr::Decimal(available)),
            ],
        ),
        Error::AccessDenied(reason) => (
            AccessDeniedError::new_err(message),
            vec![("reason", reason.code().into())],
        ),
        Error::ConsentRequired { guardian } => (
            ConsentRequiredError::new_err(message),
            vec![("guardian", Attr::Bool(guardian))],
        ),
        Error::PermissionDenied { action } => (
            PermissionDeniedError::new_err(message),
            vec![("action", action.into())],
        ),
        Error::Conflict { reason } => (
            ConflictError::new_err(message),
            vec![("reason", reason.into())],
        ),
        // A race lost on every attempt is a conflict to Python callers ("retrying later
        // may work"); `kind` says `contention`.
        Error::Contention { reason } => (
            ConflictError::new_err(message),
            vec![("reason", reason.into())],
        ),
        Error::SchemaOutOfDate { database, library } => (
            SchemaOutOfDateError::new_err(message),
            vec![
                ("database_version", Attr::Int(database)),
                ("library_version", Attr::Int(library)),
            ],
        ),
        Error::ExtensionMissing { extension, hint } => (
            ExtensionMissingError::new_err(message),
            vec![("extension", extension.into()), ("hint", hint.into())],
        ),
        Error::InvalidDatabaseUrl { reason } => (
            InvalidDatabaseUrlError::new_err(message),
            vec![("reason", reason.into())],
        ),
        Error::ConnectionFailed { reason } => (
            ConnectionFailedError::new_err(message),
            vec![("reason", reason.into())],
        ),
        Error::Timeout { reason } => (
            TimeoutError::new_err(message),
            vec![("reason", reason.into())],
        ),
        Error::ResourceExhausted { resource, hint } => (
            ResourceExhaustedError::new_err(message),
            vec![("resource", resource.into()), ("hint", hint.into())],
        ),
        Error::Unsupported {
            operation,
            store,
            remedy,
        } => (
            UnsupportedError::new_err(message),
            vec![
                ("operation", operation.into()),
                ("store", store.into()),
                ("remedy", remedy.into()),
            ],
        ),
        Error::Database { code, message: _ } => (
            DatabaseError::new_err(message),
            vec![("sqlstate", code.map_or(Attr::None, Attr::Str))],
        ),
    };
    Python::attach(|py| {
        let value = exc.value(py);
        let _ = value.setattr("kind", kind);
        for (name, attr) in attrs {
            let _ = match attr {
                Attr::Str(s) => value.setattr(name, s),
                Attr::Int(i) => value.setattr(name, i),
                Attr::Bool(b) => value.setattr(name, b),
                Attr::Decimal(d) => value.setattr(name, d),
                Attr::None => value.setattr(name, py.None()),
            };
        }
    });
    exc
}

enum Attr {
    Str(String),
    Int(i64),
    Bool(bool),
    Decimal(rust_decimal::Decimal),
    None,
}

impl From<&'static str> for Attr {
    fn from(s: &'static str) -> Self {
        Attr::Str(s.to_owned())
    }
}

impl From<String> for Attr {
    fn from(s: String) -> Self {
        Attr::Str(s)
    }
}

/// Registers every exception class on the native module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PowergymError", py.get_type::<PowergymError>())?;
    m.add("NotFoundError", py.get_type::<NotFoundError>())?;
    m.add("AlreadyExistsError", py.get_type::<AlreadyExistsError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add(
        "InvalidTransitionError",
        py.get_type::<InvalidTransitionError>(),
    )?;
    m.add(
        "PaymentExceedsBalanceError",
        py.get_type::<PaymentExceedsBalanceError>(),
    )?;
    m.add(
        "InsufficientStockError",
        py.get_type::<InsufficientStockError>(),
    )?;
    m.add("AccessDeniedError", py.get_type::<AccessDeniedError>())?;
    m.add(
        "ConsentRequiredError",
        py.get_type::<ConsentRequiredError>(),
    )?;
    m.add(
        "PermissionDeniedError",
        py.get_type::<PermissionDeniedError>(),
    )?;
    m.add("ConflictError", py.get_type::<ConflictError>())?;
    m.add(
        "SchemaOutOfDateError",
        py.get_type::<SchemaOutOfDateError>(),
    )?;
    m.add(
        "ExtensionMissingError",
        py.get_type::<ExtensionMissingError>(),
    )?;
    m.add(
        "InvalidDatabaseUrlError",
        py.get_type::<InvalidDatabaseUrlError>(),
    )?;
    m.add(
        "ConnectionFailedError",
        py.get_type::<ConnectionFailedError>(),
    )?;
    m.add("TimeoutError", py.get_type::<TimeoutError>())?;
    m.add(
        "ResourceExhaustedError",
        py.get_type::<ResourceExhaustedError>(),
    )?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("DatabaseError", py.get_type::<DatabaseError>())?;
    Ok(())
}
