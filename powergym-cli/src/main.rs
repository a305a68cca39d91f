//! `powergym`: the operator's command line. Migrations in Alembic's words, backup and
//! restore, the health report, maintenance, the daily jobs and the first admin account,
//! for a gym whose store is PostgreSQL.
//!
//! Configured by `--database-url` or `DATABASE_URL`. Human output by default; read
//! commands take `--json`. Errors are one line on standard error (no backtrace) and a
//! documented exit code (see `error.rs` and the README).

/// `println!` that stops quietly when standard output is closed (`powergym health |
/// head`), where `println!` would panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::output_closed(e)
        }
    }};
}

/// `eprintln!` that never panics: a closed standard error loses the line, nothing more.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod backup;
mod commands;
mod error;
mod progress;
mod retention;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// The PowerGym operator's toolbox.
#[derive(Debug, Parser)]
#[command(name = "powergym", version, about, long_about = None)]
struct Cli {
    /// The database, e.g. postgres://user:password@host:5432/powergym.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    database_url: Option<String>,

    /// Print machine-readable JSON on standard output (read commands).
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Schema migrations, with Alembic's vocabulary.
    #[command(subcommand)]
    Db(DbCommand),
    /// Writes a verified backup (pg_dump custom format) and prunes old ones.
    Backup(BackupArgs),
    /// Lists the backups in a directory.
    Backups {
        /// Where backups are kept.
        #[arg(long, default_value = "backups")]
        dir: PathBuf,
    },
    /// Replaces the database's contents with a backup.
    Restore(RestoreArgs),
    /// The health report: sizes, connections, slow queries, indexes, dead rows, lock
    /// waits, the face index. Exits 0 when every line is ok, 3 on a warning, 4 when
    /// something is critical.
    Health,
    /// VACUUM ANALYZE every table; optionally rebuild the face index without blocking
    /// check-ins.
    Maintain(MaintainArgs),
    /// Scheduled jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Moves a database of the original PowerGym backend (Alembic head 5ca3a67ca896) over
    /// to this library: in place, or into a new database with --into; --dry-run reports
    /// what would be adopted and what set aside, changing nothing.
    Adopt(AdoptArgs),
    /// Staff accounts.
    #[command(subcommand)]
    Staff(StaffCommand),
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Applies migrations up to TARGET: `head` (default) or a version number.
    Upgrade {
        /// `head` or a version.
        #[arg(default_value = "head")]
        target: String,
    },
    /// Reverts migrations: `-1` (default, one step), a version to go back to, or `base`
    /// (every table dropped: needs --yes).
    Downgrade {
        /// `-1`, a version, or `base`.
        #[arg(default_value = "-1", allow_hyphen_values = true)]
        target: String,
        /// Confirms a downgrade to base, which drops every PowerGym table and its data.
        #[arg(long)]
        yes: bool,
    },
    /// The database's current version.
    Current,
    /// Every migration, applied or pending.
    History,
    /// Records the database as being at TARGET (`head`, a version, `base`) without
    /// running scripts; going backwards needs --yes.
    Stamp {
        /// `head`, a version, or `base`.
        target: String,
        /// Confirms stamping to an older version than the database's.
        #[arg(long)]
        yes: bool,
    },
    /// Exits 0 when the database is at this program's version, 10 when behind or ahead.
    Check,
    /// Lets an application's role read and write every PowerGym table and nothing else
    /// (no DDL); run as the schema owner, after `db upgrade`.
    GrantApp {
        /// The application's role (not a superuser).
        role: String,
    },
}

#[derive(Debug, Args)]
struct BackupArgs {
    /// Where backups are written.
    #[arg(long, default_value = "backups")]
    dir: PathBuf,
    /// Keep the newest backup of each of the last N days (prunes the rest).
    #[arg(long, default_value_t = 0)]
    keep_daily: u32,
    /// Keep the newest backup of each of the last N weeks.
    #[arg(long, default_value_t = 0)]
    keep_weekly: u32,
    /// Keep the newest backup of each of the last N months.
    #[arg(long, default_value_t = 0)]
    keep_monthly: u32,
    /// Directory of pg_dump/pg_restore (default: the server's version's, else PATH).
    #[arg(long, env = "POWERGYM_PG_BIN")]
    pg_bin: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// Replace a database that is not empty (a safety backup is taken first).
    #[arg(long)]
    force: bool,
    /// Where the safety backup goes.
    #[arg(long, default_value = "backups")]
    dir: PathBuf,
    /// Directory of pg_dump/pg_restore.
    #[arg(long, env = "POWERGYM_PG_BIN")]
    pg_bin: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct MaintainArgs {
    /// Also rebuild the face index (REINDEX CONCURRENTLY: check-ins go on).
    #[arg(long)]
    reindex_face: bool,
    /// Skip VACUUM ANALYZE.
    #[arg(long)]
    no_vacuum: bool,
}

#[derive(Debug, Args)]
struct AdoptArgs {
    /// Report only: rows per table, every row set aside with its reason; changes nothing.
    #[arg(long)]
    dry_run: bool,
    /// Adopt a copy in this (empty) database instead, leaving the original untouched.
    #[arg(long, value_name = "URL")]
    into: Option<String>,
    /// The gym's IANA time zone: attendances get their business date in it.
    #[arg(long, env = "POWERGYM_TIME_ZONE", default_value = "America/Bogota")]
    time_zone: String,
    /// Where the copy for --into is staged (deleted afterwards).
    #[arg(long, default_value = "backups")]
    dir: PathBuf,
    /// Directory of pg_dump/pg_restore (for --into).
    #[arg(long, env = "POWERGYM_PG_BIN")]
    pg_bin: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum JobsCommand {
    /// The daily jobs for the gym's current business day: idempotent, safe to run
    /// hourly.
    Daily {
        /// The admin account the jobs run as (recorded like any use case's actor).
        #[arg(long = "as", env = "POWERGYM_STAFF")]
        actor: String,
        /// The gym's IANA time zone, which decides what "today" is.
        #[arg(long, env = "POWERGYM_TIME_ZONE", default_value = "America/Bogota")]
        time_zone: String,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Creates the first admin of a new installation; asks for the password on the
    /// terminal (never on the command line).
    BootstrapAdmin {
        /// The admin's username.
        username: String,
        /// Read the password from standard input instead (one line), for scripts.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// Standard output went away: a reader that stopped early (`| head`) is not a failure.
fn output_closed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    note!("error: cannot write the output: {e}");
    std::process::exit(1);
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            note!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            note!("error: {e}");
            e.exit()
        }
    }
}
