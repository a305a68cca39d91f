//! Translation of sqlx/PostgreSQL failures into [`Error`] kinds.
//!
//! Every constraint in the schema is named, and the names map to kinds here. Only the
//! SQLSTATE, the constraint name and the server's primary message are kept: the DETAIL
//! line repeats the row's values (names, document numbers) and is never passed on.

use sqlx::error::DatabaseError;

use crate::error::Error;
use crate::store::constraints::constraint_error;

/// Maps any sqlx error to the library's error kinds.
pub(crate) fn map(err: sqlx::Error) -> Error {
    match err {
        sqlx::Error::RowNotFound => Error::NotFound { entity: "record" },
        sqlx::Error::Database(db) => map_database(db.as_ref()),
        sqlx::Error::Configuration(e) => Error::InvalidDatabaseUrl {
            reason: e.to_string(),
        },
        sqlx::Error::PoolTimedOut => Error::ConnectionFailed {
            reason: "no connection became available in time: the server may be down or \
                     overloaded, or the pool too small for the load"
                .into(),
        },
        sqlx::Error::PoolClosed => Error::ConnectionFailed {
            reason: "the connection pool was closed".into(),
        },
        // A failed TLS handshake reaches us as an I/O error of the encrypted stream.
        sqlx::Error::Io(e) if is_tls_failure(&e) => Error::ConnectionFailed {
            reason: format!(
                "TLS failed: {e}: check sslmode, and that sslrootcert names the authority that \
                 signed the server's certificate (and, for verify-full, that the host name \
                 is the certificate's)"
            ),
        },
        sqlx::Error::Io(e) => Error::ConnectionFailed {
            reason: format!(
                "{e}: check that PostgreSQL is running and the host and port are right"
            ),
        },
        sqlx::Error::Tls(e) => Error::ConnectionFailed {
            reason: format!("TLS failed: {e}"),
        },
        other => Error::Database {
            code: None,
            message: other.to_string(),
        },
    }
}

fn is_tls_failure(e: &std::io::Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    ["certificate", "tls", "handshake"]
        .iter()
        .any(|w| text.contains(w))
}

fn map_database(db: &dyn DatabaseError) -> Error {
    let code = db.code().map(|c| c.into_owned());
    if let Some(err) = db.constraint().and_then(constraint_error) {
        return err;
    }
    match code.as_deref() {
        Some("28P01") | Some("28000") => Error::ConnectionFailed {
            reason: "the server refused the user name or password".into(),
        },
        Some("3D000") => Error::ConnectionFailed {
            reason: "the database named in the URL does not exist; create it first".into(),
        },
        Some("57P01") | Some("57P02") | Some("57P03") | Some("08006") | Some("08001") => {
            Error::ConnectionFailed {
                reason: "the server is shutting down or not accepting connections".into(),
            }
        }
        // Class 53: the server's own resources, the guide's "No space left on device" and
        // "too many connections" among them. Each says what an operator does about it.
        Some("53100") => Error::ResourceExhausted {
            resource: "disk space",
            hint: "free space on the server's data volume (old backups, logs), then run \
                   `powergym maintain` to reclaim dead rows; check usage with `df -h`"
                .into(),
        },
        Some("53300") => Error::ResourceExhausted {
            resource: "connections",
            hint: "every connection slot is taken: lower max_connections in the programs \
                   that share this server, close idle ones (`powergym health` lists them), \
                   or raise max_connections in postgresql.conf and restart"
                .into(),
        },
        Some("53200") => Error::ResourceExhausted {
            resource: "memory",
            hint: "the server could not allocate memory: lower work_mem or \
                   maintenance_work_mem, or give the server more memory"
                .into(),
        },
        Some(c) if c.starts_with("53") => Error::ResourceExhausted {
            resource: "a configured limit",
            hint: "a server limit was reached (for example max_locks_per_transaction); \
                   raise it in postgresql.conf"
                .into(),
        },
        // The bounded waits of ConnectOptions (PoolSettings): lock, statement, idle
        // transaction.
        Some("55P03") => Error::Timeout {
            reason: "another transaction held a lock this call needed for longer than the lock \
                     timeout; nothing was written, try again"
                .into(),
        },
        Some("57014") => Error::Timeout {
            reason: "the statement ran past the statement timeout (or an operator canceled \
                     it); nothing was written"
                .into(),
        },
        Some("25P03") => Error::Timeout {
            reason: "the transaction sat idle past the idle-in-transaction timeout and the \
                     server closed it"
                .into(),
        },
        // Lost races: the server undid the transaction and a fresh one may win, so the
        // use cases retry these (and only these) themselves.
        Some("40001") => Error::Contention {
            reason: "serialization failure",
        },
        Some("40P01") => Error::Contention { reason: "deadlock" },
        Some("23505") => Error::AlreadyExists {
            entity: "record",
            field: "unique key",
        },
        Some("23P01") => Error::Conflict {
            reason: "the write overlaps an existing record".into(),
        },
        _ => Error::Database {
            code,
            message: db.message().to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every constraint the migrations name (tables' `constraint x` clauses and the
    /// triggers' `constraint = 'x'`) maps to an error kind, so a new one cannot slip
    /// through as a bare database error.
    #[test]
    fn every_named_constraint_maps_to_a_kind() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
        let mut names = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".up.sql") {
                continue;
            }
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let code = line.split("--").next().unwrap_or("").trim();
                if let Some(rest) = code.strip_prefix("constraint ") {
                    names.push(rest.split_whitespace().next().unwrap().to_owned());
                } else if let Some(i) = code.find("constraint = '") {
                    let rest = &code[i + "constraint = '".len()..];
                    names.push(rest.split('\'').next().unwrap().to_owned());
                } else if let Some(i) = code.find("add constraint ") {
                    let rest = &code[i + "add constraint ".len()..];
                    names.push(rest.split_whitespace().next().unwrap().to_owned());
                }
            }
        }
        assert!(names.len() > 80, "found only {} constraints", names.len());
        let unmapped: Vec<&String> = names
            .iter()
            .filter(|n| constraint_error(n).is_none())
            .collect();
        assert!(unmapped.is_empty(), "unmapped constraints: {unmapped:?}");
        assert!(constraint_error("something_else").is_none());
    }
}
