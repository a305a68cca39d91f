//! What can stop a `powergym` command, and the exit code each gives a deployment script.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | done; `health`: every line ok |
//! | 1 | any other failure |
//! | 2 | the command line itself is wrong (usage) |
//! | 3 | `health`: at least one line warns |
//! | 4 | `health`: at least one line is critical |
//! | 10 | the schema is behind or ahead of this program (`db check`, a restore) |
//! | 11 | the server cannot be reached or refused the credentials |
//! | 12 | a value given is invalid (URL, version, time zone, username...) |
//! | 13 | a PostgreSQL extension is missing |
//! | 14 | out of disk space, connection slots or memory (server or this host) |
//! | 15 | `pg_dump`/`pg_restore` missing or unusable with this server |
//! | 16 | refused: the operation destroys data and needs `--yes` / `--force` |
//! | 17 | the backup file is not a usable PowerGym backup |
//! | 18 | the staff member named may not do this |
//! | 19 | a wait reached its bound (a lock held by another program, a statement timeout) |

use std::fmt;
use std::process::ExitCode;

use powergym_core::Error as CoreError;

/// A failure of one command.
#[derive(Debug)]
pub(crate) enum CliError {
    /// The library refused or failed.
    Core(CoreError),
    /// An external tool is missing or unusable.
    Tool(String),
    /// A destructive operation without its confirmation flag.
    Refused(String),
    /// A backup file that cannot be used.
    BadBackup(String),
    /// A file could not be read or written.
    Io {
        /// What was being done, naming the file.
        what: String,
        /// The system's error.
        source: std::io::Error,
    },
    /// A value on the command line is invalid.
    Invalid(String),
}

impl From<CoreError> for CliError {
    fn from(e: CoreError) -> Self {
        Self::Core(e)
    }
}

impl From<sqlx::Error> for CliError {
    fn from(e: sqlx::Error) -> Self {
        // Only the kind and SQLSTATE travel on: a server's DETAIL can echo row values.
        match e {
            sqlx::Error::Database(db) => Self::Core(CoreError::Database {
                code: db.code().map(|c| c.into_owned()),
                message: db.message().to_owned(),
            }),
            sqlx::Error::Io(io) => Self::Core(CoreError::ConnectionFailed {
                reason: format!(
                    "{io}: check that PostgreSQL is running and the host and port are right"
                ),
            }),
            other => Self::Core(CoreError::Database {
                code: None,
                message: other.to_string(),
            }),
        }
    }
}

impl CliError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }

    /// The documented exit code of this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Core(e) => match e {
                CoreError::SchemaOutOfDate { .. } => 10,
                CoreError::ConnectionFailed { .. } => 11,
                CoreError::InvalidDatabaseUrl { .. } | CoreError::Validation { .. } => 12,
                CoreError::ExtensionMissing { .. } => 13,
                CoreError::ResourceExhausted { .. } => 14,
                CoreError::PermissionDenied { .. } => 18,
                CoreError::NotFound { .. }
                | CoreError::AlreadyExists { .. }
                | CoreError::InvalidTransition { .. }
                | CoreError::PaymentExceedsBalance { .. }
                | CoreError::InsufficientStock { .. }
                | CoreError::AccessDenied(_)
                | CoreError::ConsentRequired { .. }
                | CoreError::Conflict { .. }
                | CoreError::Contention { .. }
                | CoreError::Database { .. } => 1,
                CoreError::Timeout { .. } => 19,
                CoreError::Unsupported { .. } => 20,
            },
            Self::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => 14,
            Self::Io { .. } => 1,
            Self::Tool(_) => 15,
            Self::Refused(_) => 16,
            Self::BadBackup(_) => 17,
            Self::Invalid(_) => 12,
        }
    }

    pub(crate) fn exit(&self) -> ExitCode {
        ExitCode::from(self.exit_code())
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Core(e) => write!(f, "{e}"),
            Self::Tool(m) | Self::Refused(m) | Self::BadBackup(m) | Self::Invalid(m) => {
                f.write_str(m)
            }
            Self::Io { what, source } if source.kind() == std::io::ErrorKind::StorageFull => {
                write!(
                    f,
                    "{what}: no space left on device: free space (old backups: `powergym \
                     backup --keep-daily N` prunes them), check with `df -h`"
                )
            }
            Self::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

pub(crate) type Result<T, E = CliError> = std::result::Result<T, E>;
