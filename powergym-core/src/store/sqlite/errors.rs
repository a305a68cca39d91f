//! Translation of sqlx/SQLite failures into [`Error`] kinds.
//!
//! SQLite names a refused write three ways, and each leads to the same constraint name
//! PostgreSQL reports, then through the shared [`constraint_error`] table to the same
//! kind on both stores:
//! - a UNIQUE (or primary key) failure lists its columns, `UNIQUE constraint failed:
//!   clients.dni_number`: [`UNIQUE_KEYS`] says which constraint those columns are;
//! - a CHECK failure names its constraint, `CHECK constraint failed: plans_price_check`;
//! - a trigger's refusal is its `RAISE(ABORT, 'constraint:<name>')` message.
//!
//! SQLite's messages name tables, columns and constraints, never a row's values, so the
//! message of an unmapped failure can be passed on as it is.

use sqlx::error::DatabaseError;

use crate::error::Error;
use crate::store::constraints::constraint_error;

/// The columns of each UNIQUE constraint and unique index of the schema, as SQLite lists
/// them in its message, and the constraint's name. A table's `id` column is its primary
/// key, `<table>_pkey`, and needs no entry.
const UNIQUE_KEYS: &[(&str, &str)] = &[
    ("users.username", "idx_users_username"),
    ("users.email", "idx_users_email"),
    ("clients.dni_number", "idx_clients_dni"),
    ("plans.slug", "plans_slug_key"),
    ("payments.idempotency_key", "payments_idempotency_key_key"),
    (
        "inventory_movements.idempotency_key",
        "inventory_movements_idempotency_key_key",
    ),
    (
        "attendances.idempotency_key",
        "attendances_idempotency_key_key",
    ),
    (
        "access_denials.idempotency_key",
        "access_denials_idempotency_key_key",
    ),
    (
        "attendances.client_id, attendances.business_date",
        "attendances_one_per_day",
    ),
    ("rewards.subscription_id", "rewards_subscription_id_key"),
    (
        "rewards.applied_subscription_id",
        "rewards_applied_subscription_id_key",
    ),
    (
        "biometrics.client_id, biometrics.type",
        "biometrics_one_active_per_client",
    ),
    (
        "biometric_consents.client_id",
        "biometric_consents_one_active_per_client",
    ),
    ("sign_in_throttles.username", "sign_in_throttles_pkey"),
];

// SQLite's result codes (https://www.sqlite.org/rescode.html): the primary code is the
// low byte of the extended one sqlx reports.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_NOMEM: i32 = 7;
const SQLITE_READONLY: i32 = 8;
const SQLITE_IOERR: i32 = 10;
const SQLITE_CORRUPT: i32 = 11;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;
const SQLITE_CONSTRAINT: i32 = 19;
const SQLITE_NOTADB: i32 = 26;
const SQLITE_CONSTRAINT_FOREIGNKEY: i32 = 787;
const SQLITE_BUSY_SNAPSHOT: i32 = 517;

/// Maps any sqlx error to the library's error kinds.
pub(crate) fn map(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity: "record" },
        sqlx::Error::Database(db) => map_database(db.as_ref()),
        sqlx::Error::Configuration(e) => Error::InvalidDatabaseUrl {
            reason: e.to_string(),
        },
        sqlx::Error::PoolTimedOut => Error::Timeout {
            reason: "no database connection became free in time: other calls held them all \
                     for longer than the acquire timeout; nothing was written, try again"
                .into(),
        },
        sqlx::Error::PoolClosed => Error::ConnectionFailed {
            reason: "the store was closed".into(),
        },
        sqlx::Error::Io(e) => Error::ConnectionFailed {
            reason: format!("{e}: check that the database file and its directory are reachable"),
        },
        other => Error::Database {
            code: None,
            message: other.to_string(),
        },
    }
}

/// The name of the constraint a failed write's message reports, if any.
fn constraint_name(message: &str) -> Option<String> {
    if let Some(name) = message.strip_prefix("constraint:") {
        return Some(name.trim().to_owned());
    }
    if let Some(name) = message.strip_prefix("CHECK constraint failed: ") {
        return Some(name.trim().to_owned());
    }
    let columns = message.strip_prefix("UNIQUE constraint failed: ")?.trim();
    if let Some((_, name)) = UNIQUE_KEYS.iter().find(|(cols, _)| *cols == columns) {
        return Some((*name).to_owned());
    }
    // A primary key: `<table>.id`.
    let table = columns.strip_suffix(".id")?;
    (!table.contains(',')).then(|| format!("{table}_pkey"))
}

fn map_database(db: &dyn DatabaseError) -> Error {
    let extended: i32 = db.code().and_then(|c| c.parse().ok()).unwrap_or(0);
    let message = db.message();
    match extended & 0xff {
        SQLITE_CONSTRAINT => {
            if let Some(err) = constraint_name(message)
                .as_deref()
                .and_then(constraint_error)
            {
                return err;
            }
            if extended == SQLITE_CONSTRAINT_FOREIGNKEY {
                // Every reference a library write makes is checked and named by a
                // trigger first; this is a delete or update of a referenced row.
                return Error::Conflict {
                    reason: "other records refer to this one, or it refers to a missing one".into(),
                };
            }
            Error::Database {
                code: Some(extended.to_string()),
                message: message.to_owned(),
            }
        }
        // A transaction that began reading and then wanted to write after another
        // connection committed: its snapshot is stale, so waiting cannot help, but a
        // fresh transaction sees the new data and may win. (Writes begin IMMEDIATE, so
        // only a read transaction that turns into a write meets this.)
        SQLITE_BUSY if extended == SQLITE_BUSY_SNAPSHOT => Error::Contention {
            reason: "stale snapshot",
        },
        SQLITE_BUSY | SQLITE_LOCKED => Error::Timeout {
            reason: "another connection held the database file's write lock for longer than \
                     the busy timeout; nothing was written, try again"
                .into(),
        },
        SQLITE_READONLY => Error::ConnectionFailed {
            reason: "the database file is read-only: give this program write permission on \
                     the file and its directory (SQLite writes -wal and -shm files beside it)"
                .into(),
        },
        SQLITE_CANTOPEN => Error::ConnectionFailed {
            reason: "the database file cannot be opened: check that its directory exists and \
                     this program may read and write there"
                .into(),
        },
        SQLITE_NOTADB | SQLITE_CORRUPT => not_a_database(extended),
        SQLITE_FULL => Error::ResourceExhausted {
            resource: "disk space",
            hint: "the disk holding the database file is full: free space there (old backups, \
                   logs), then try again; check usage with `df -h`"
                .into(),
        },
        SQLITE_NOMEM => Error::ResourceExhausted {
            resource: "memory",
            hint: "SQLite could not allocate memory: close other programs or give this one \
                   more memory"
                .into(),
        },
        SQLITE_IOERR => Error::Database {
            code: Some(extended.to_string()),
            message: format!(
                "{message}: reading or writing the database file failed; check the disk"
            ),
        },
        _ => Error::Database {
            code: Some(extended.to_string()),
            message: message.to_owned(),
        },
    }
}

/// A file that is not a SQLite database, or a damaged one.
pub(crate) fn not_a_database(code: i32) -> Error {
    Error::Database {
        code: Some(code.to_string()),
        message: "the file is not a SQLite database or is damaged: check the path names a \
                  PowerGym database, or restore the file from a backup"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_their_constraints() {
        let cases = [
            (
                "UNIQUE constraint failed: clients.dni_number",
                "idx_clients_dni",
            ),
            ("UNIQUE constraint failed: plans.id", "plans_pkey"),
            (
                "UNIQUE constraint failed: attendances.client_id, attendances.business_date",
                "attendances_one_per_day",
            ),
            (
                "CHECK constraint failed: plans_price_check",
                "plans_price_check",
            ),
            (
                "constraint:subscriptions_no_overlap",
                "subscriptions_no_overlap",
            ),
        ];
        for (message, name) in cases {
            assert_eq!(constraint_name(message).as_deref(), Some(name), "{message}");
        }
        assert_eq!(
            constraint_name("NOT NULL constraint failed: plans.name"),
            None
        );
    }

    /// Every constraint the SQLite schema names (named CHECKs, trigger refusals, and the
    /// UNIQUE keys listed above) maps to an error kind, as on PostgreSQL.
    #[test]
    fn every_named_constraint_maps_to_a_kind() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations/sqlite/0001_schema.up.sql");
        let sql = std::fs::read_to_string(path).unwrap();
        let mut names: Vec<String> = Vec::new();
        for line in sql.lines() {
            let code = line.split("--").next().unwrap_or("").trim();
            if let Some(rest) = code.strip_prefix("constraint ") {
                names.push(rest.split_whitespace().next().unwrap().to_owned());
            }
            if let Some(i) = code.find("'constraint:") {
                let rest = &code[i + "'constraint:".len()..];
                names.push(rest.split('\'').next().unwrap().to_owned());
            }
        }
        names.extend(UNIQUE_KEYS.iter().map(|(_, n)| (*n).to_owned()));
        assert!(names.len() > 80, "found only {} constraints", names.len());
        let unmapped: Vec<&String> = names
            .iter()
            .filter(|n| constraint_error(n).is_none())
            .collect();
        assert!(unmapped.is_empty(), "unmapped constraints: {unmapped:?}");
    }
}
