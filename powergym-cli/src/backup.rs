//! Backup and restore of a PostgreSQL store through the server's own tools, `pg_dump`
//! and `pg_restore`, in their custom format.
//!
//! A backup is written to `<name>.partial`, verified (its table of contents must list
//! the data of every table the database has), and only then renamed: a file named like
//! a backup is a verified backup. Names carry the store, the database and the UTC time:
//! `powergym-postgres-<database>-<YYYYMMDDTHHMMSSZ>.dump`; retention looks at those
//! names only, so it never deletes a file it did not make. The password never appears
//! on a command line (it travels in `PGPASSWORD`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use powergym_core::ops::Progress;
use serde::Serialize;
use sqlx::{Connection, PgConnection};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::error::{CliError, Result};
use crate::progress::Reporter;
use crate::retention::{self, Policy};

const PREFIX: &str = "powergym-postgres-";
const STAMP: &str = "%Y%m%dT%H%M%SZ";
/// The suffix of the backup `restore --force` takes of what it is about to replace.
const SAFETY: &str = "-pre-restore";

/// Where a database is, split so the password stays out of argument lists.
pub(crate) struct Target {
    /// The URL without its password.
    url: String,
    password: Option<String>,
    /// The database's name.
    pub(crate) database: String,
    /// The full URL, for our own connections.
    full: String,
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let invalid = |why: &str| {
            CliError::Core(powergym_core::Error::InvalidDatabaseUrl { reason: why.into() })
        };
        let mut parsed = url::Url::parse(url.trim())
            .map_err(|e| invalid(&format!("{e}; expected postgres://user:password@host/db")))?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(invalid(
                "backup and restore need a postgres:// or postgresql:// URL",
            ));
        }
        let database = parsed.path().trim_start_matches('/').to_owned();
        if database.is_empty() {
            return Err(invalid("the URL names no database"));
        }
        // Percent-decoding only: `+` and `&` are literal in a URL's user-info.
        let password = parsed.password().map(|p| {
            percent_encoding::percent_decode_str(p)
                .decode_utf8_lossy()
                .into_owned()
        });
        let _ = parsed.set_password(None);
        Ok(Self {
            url: parsed.to_string(),
            password,
            database,
            full: url.trim().to_owned(),
        })
    }

    fn command(&self, tool: &Path) -> Command {
        let mut cmd = Command::new(tool);
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.env("PGCONNECT_TIMEOUT", "15");
        cmd.stdin(Stdio::null());
        cmd.kill_on_drop(true);
        cmd
    }

    async fn connect(&self) -> Result<PgConnection> {
        // The library's connect gives the troubleshooting messages (refused, timed out,
        // wrong password); this connection is only for the catalog queries below.
        powergym_core::Gym::connect(&self.full).await?.close().await;
        let conn = tokio::time::timeout(Duration::from_secs(15), PgConnection::connect(&self.full))
            .await
            .map_err(|_| {
                CliError::Core(powergym_core::Error::ConnectionFailed {
                    reason: "the server did not answer in time".into(),
                })
            })??;
        Ok(conn)
    }
}

/// The server's tools, of a version that can handle its server.
struct Tools {
    dump: PathBuf,
    restore: PathBuf,
}

async fn server_major(conn: &mut PgConnection) -> Result<u32> {
    let num: String = sqlx::query_scalar("show server_version_num")
        .fetch_one(&mut *conn)
        .await?;
    Ok(num.parse::<u32>().unwrap_or(0) / 10000)
}

fn tool_major(version_output: &str) -> Option<u32> {
    // "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    let rest = version_output.split(')').nth(1)?.trim();
    rest.split(['.', ' ']).next()?.parse().ok()
}

async fn find_tools(pg_bin: Option<&Path>, server: u32) -> Result<Tools> {
    let dir = match pg_bin {
        Some(dir) => Some(dir.to_path_buf()),
        None => {
            // Debian keeps each version's tools apart; prefer the server's own.
            let debian = PathBuf::from(format!("/usr/lib/postgresql/{server}/bin"));
            debian.join("pg_dump").exists().then_some(debian)
        }
    };
    let path = |name: &str| dir.as_ref().map_or(PathBuf::from(name), |d| d.join(name));
    let tools = Tools {
        dump: path("pg_dump"),
        restore: path("pg_restore"),
    };
    for (name, tool) in [("pg_dump", &tools.dump), ("pg_restore", &tools.restore)] {
        let out = Command::new(tool)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| {
                CliError::Tool(format!(
                    "{name} cannot be run ({e}): install the PostgreSQL {server} client tools \
                     (Debian: apt-get install postgresql-client-{server}) or name their \
                     directory with --pg-bin"
                ))
            })?;
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(major) = tool_major(&text) else {
            return Err(CliError::Tool(format!(
                "{name} did not report its version: is {} PostgreSQL's tool?",
                tool.display()
            )));
        };
        if major < server {
            return Err(CliError::Tool(format!(
                "{name} is version {major} but the server is PostgreSQL {server}: an older \
                 {name} cannot read a newer server; install postgresql-client-{server} or \
                 name its bin directory with --pg-bin"
            )));
        }
    }
    Ok(tools)
}

/// Runs a tool, feeding each line of its standard error to `on_line`; fails with the
/// tool's own error lines (which name tables and options, not rows).
async fn run_tool(mut cmd: Command, name: &str, mut on_line: impl FnMut(&str)) -> Result<()> {
    cmd.stderr(Stdio::piped()).stdout(Stdio::null());
    let mut child = cmd
        .spawn()
        .map_err(|e| CliError::Tool(format!("{name} cannot be run: {e}")))?;
    let mut errors = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("error:") || line.contains("FATAL") || line.contains("ERROR") {
                errors.push(line.clone());
            }
            on_line(&line);
        }
    }
    let status = child
        .wait()
        .await
        .map_err(|e| CliError::Tool(format!("{name} did not finish: {e}")))?;
    if status.success() {
        return Ok(());
    }
    let text = errors.join("; ");
    Err(if text.contains("No space left on device") {
        CliError::Core(powergym_core::Error::ResourceExhausted {
            resource: "disk space",
            hint: format!("{name} ran out of space; free some (old backups, logs), see `df -h`"),
        })
    } else if text.contains("version mismatch") || text.contains("unsupported version") {
        CliError::Tool(format!(
            "{name} and the server or file are of different PostgreSQL versions ({text}): \
             use the tools of the newest version involved (--pg-bin)"
        ))
    } else if text.contains("password authentication failed") || text.contains("could not connect")
    {
        CliError::Core(powergym_core::Error::ConnectionFailed {
            reason: format!("{name} could not connect: {text}"),
        })
    } else {
        CliError::Tool(format!(
            "{name} failed ({status}){}",
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        ))
    })
}

/// The tables whose data a backup of this database must hold, as `schema name`.
async fn data_tables(conn: &mut PgConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "select schemaname || ' ' || relname from pg_stat_user_tables order by 1",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// The table-of-contents entries of a custom-format file; an error when it is not one.
async fn table_of_contents(tools: &Tools, file: &Path) -> Result<Vec<String>> {
    let out = Command::new(&tools.restore)
        .arg("--list")
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| CliError::Tool(format!("pg_restore cannot be run: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("unsupported version") {
            return Err(CliError::Tool(format!(
                "{} was written by a newer pg_dump than this pg_restore: use the newer \
                 tools (--pg-bin)",
                file.display()
            )));
        }
        return Err(CliError::BadBackup(format!(
            "{} is not a readable pg_dump custom-format file: {}",
            file.display(),
            err.trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(';'))
        .map(str::to_owned)
        .collect())
}

fn has_data_for(toc: &[String], table: &str) -> bool {
    let want = format!(" TABLE DATA {table} ");
    toc.iter().any(|l| l.contains(&want))
}

/// A backup file this program made, recognised by its name.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct BackupFile {
    pub(crate) path: PathBuf,
    pub(crate) database: String,
    pub(crate) taken_at: DateTime<Utc>,
    /// True for the copy `restore --force` takes before replacing a database.
    pub(crate) pre_restore: bool,
    pub(crate) bytes: u64,
}

fn parse_name(name: &str) -> Option<(String, DateTime<Utc>, bool)> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(".dump")?;
    let (rest, pre_restore) = match rest.strip_suffix(SAFETY) {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (database, stamp) = rest.rsplit_once('-')?;
    let taken = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?.and_utc();
    (!database.is_empty()).then(|| (database.to_owned(), taken, pre_restore))
}

/// Every backup this program made in `dir`, oldest first.
pub(crate) fn list(dir: &Path) -> Result<Vec<BackupFile>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(CliError::io(format!("reading {}", dir.display()), e)),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((database, taken_at, pre_restore)) = parse_name(&name) {
            out.push(BackupFile {
                bytes: entry.metadata().map(|m| m.len()).unwrap_or(0),
                path: entry.path(),
                database,
                taken_at,
                pre_restore,
            });
        }
    }
    out.sort_by_key(|b| b.taken_at);
    Ok(out)
}

/// The name a database gets in file names: letters, digits, `_`, `-` and `.` kept, any
/// other character replaced by `_` (two such names could then share backups' names).
fn file_safe(database: &str) -> String {
    database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What `powergym backup` did.
#[derive(Debug, Serialize)]
pub(crate) struct BackupOutcome {
    pub(crate) file: PathBuf,
    pub(crate) bytes: u64,
    pub(crate) tables_verified: usize,
    pub(crate) pruned: Vec<PathBuf>,
}

pub(crate) struct BackupRequest<'a> {
    pub(crate) dir: &'a Path,
    pub(crate) pg_bin: Option<&'a Path>,
    pub(crate) policy: Policy,
}

pub(crate) async fn backup(target: &Target, req: &BackupRequest<'_>) -> Result<BackupOutcome> {
    let mut conn = target.connect().await?;
    let tools = find_tools(req.pg_bin, server_major(&mut conn).await?).await?;
    let tables = data_tables(&mut conn).await?;
    let _ = conn.close().await;
    let file = dump(target, &tools, req.dir, &tables, "").await?;
    let mut pruned = Vec::new();
    if req.policy.prunes() {
        let mine: Vec<BackupFile> = list(req.dir)?
            .into_iter()
            .filter(|b| b.database == file_safe(&target.database) && !b.pre_restore)
            .collect();
        let taken: Vec<DateTime<Utc>> = mine.iter().map(|b| b.taken_at).collect();
        let keep = retention::keep(&taken, req.policy);
        for (i, b) in mine.iter().enumerate() {
            if !keep.contains(&i) {
                std::fs::remove_file(&b.path)
                    .map_err(|e| CliError::io(format!("pruning {}", b.path.display()), e))?;
                pruned.push(b.path.clone());
            }
        }
    }
    Ok(BackupOutcome {
        bytes: std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0),
        file,
        tables_verified: tables.len(),
        pruned,
    })
}

async fn dump(
    target: &Target,
    tools: &Tools,
    dir: &Path,
    tables: &[String],
    suffix: &str,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::io(format!("creating {}", dir.display()), e))?;
    let stamp = Utc::now().format(STAMP);
    let name = format!(
        "{PREFIX}{}-{stamp}{suffix}.dump",
        file_safe(&target.database)
    );
    let file = dir.join(&name);
    if file.exists() {
        return Err(CliError::Invalid(format!(
            "{} exists already: wait a second between backups",
            file.display()
        )));
    }
    let partial = dir.join(format!("{name}.partial"));
    let mut cmd = target.command(&tools.dump);
    cmd.arg("--format=custom")
        .arg("--verbose")
        .arg("--file")
        .arg(&partial)
        .arg("--dbname")
        .arg(&target.url);
    let total = tables.len() as u64;
    let mut reporter = Reporter::new("backup");
    let mut done = 0;
    let result = run_tool(cmd, "pg_dump", |line| {
        if let Some(rest) = line.split("dumping contents of table ").nth(1) {
            done += 1;
            reporter.update(&Progress {
                phase: format!("table {}", rest.trim_matches('"')),
                done,
                total,
            });
        }
    })
    .await;
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    reporter.update(&Progress {
        phase: "verifying".into(),
        done: total,
        total,
    });
    let toc = match table_of_contents(tools, &partial).await {
        Ok(toc) => toc,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    let missing: Vec<&String> = tables.iter().filter(|t| !has_data_for(&toc, t)).collect();
    if !missing.is_empty() {
        let _ = std::fs::remove_file(&partial);
        return Err(CliError::BadBackup(format!(
            "the backup does not hold the data of {} table(s) ({}); it was deleted",
            missing.len(),
            missing
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    std::fs::rename(&partial, &file)
        .map_err(|e| CliError::io(format!("renaming {}", partial.display()), e))?;
    reporter.finish(&format!("verified {} tables", tables.len()));
    Ok(file)
}

/// Copies the database at `source` into the empty database at `target` through a
/// verified dump in `dir` (deleted afterwards): `powergym adopt --into`.
pub(crate) async fn copy(
    source: &Target,
    target: &Target,
    dir: &Path,
    pg_bin: Option<&Path>,
) -> Result<()> {
    let mut conn = source.connect().await?;
    let tools = find_tools(pg_bin, server_major(&mut conn).await?).await?;
    let tables = data_tables(&mut conn).await?;
    let _ = conn.close().await;
    let file = dump(source, &tools, dir, &tables, "-adoption-copy").await?;
    let result = restore(
        target,
        &RestoreRequest {
            file: &file,
            require_powergym: false,
            force: false,
            safety_dir: dir,
            pg_bin,
        },
    )
    .await;
    let _ = std::fs::remove_file(&file);
    result.map(|_| ())
}

/// Empties the database for a restore, keeping what extensions own (pgvector, which only
/// a superuser may create again): every other schema, and everything in `public`.
const WIPE: &str = r"set lock_timeout = '10s';
do $$
declare r record;
begin
    for r in select nspname from pg_namespace ns
             where nspname not in ('public', 'information_schema')
               and nspname not like 'pg\_%'
               and not exists (select 1 from pg_depend d
                               where d.objid = ns.oid and d.deptype = 'e') loop
        execute format('drop schema %I cascade', r.nspname);
    end loop;
    for r in select c.oid::regclass::text as name, c.relkind from pg_class c
             join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
               -- not extension members, nor sequences their column owns (they go
               -- with their table)
               and not exists (select 1 from pg_depend d
                               where d.objid = c.oid and d.deptype in ('e', 'a', 'i'))
             order by c.relkind not in ('r', 'p') loop
        execute format('drop %s if exists %s cascade',
            case r.relkind when 'v' then 'view' when 'm' then 'materialized view'
                           when 'S' then 'sequence' when 'f' then 'foreign table'
                           else 'table' end, r.name);
    end loop;
    for r in select p.oid::regprocedure::text as name from pg_proc p
             join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'public' and p.prokind in ('f', 'p')
               and not exists (select 1 from pg_depend d
                               where d.objid = p.oid and d.deptype = 'e') loop
        execute format('drop routine if exists %s cascade', r.name);
    end loop;
    for r in select format('%I.%I', n.nspname, t.typname) as name from pg_type t
             join pg_namespace n on n.oid = t.typnamespace
             where n.nspname = 'public' and t.typtype in ('e', 'd')
               and not exists (select 1 from pg_depend d
                               where d.objid = t.oid and d.deptype = 'e') loop
        execute format('drop type if exists %s cascade', r.name);
    end loop;
end $$;";

/// What `powergym restore` did.
#[derive(Debug, Serialize)]
pub(crate) struct RestoreOutcome {
    pub(crate) file: PathBuf,
    /// The backup of the replaced contents, when the target was not empty.
    pub(crate) safety_backup: Option<PathBuf>,
    pub(crate) tables: usize,
}

pub(crate) struct RestoreRequest<'a> {
    pub(crate) file: &'a Path,
    /// Refuse a file that is not a PowerGym backup (false when copying an original
    /// database for adoption).
    pub(crate) require_powergym: bool,
    pub(crate) force: bool,
    pub(crate) safety_dir: &'a Path,
    pub(crate) pg_bin: Option<&'a Path>,
}

pub(crate) async fn restore(target: &Target, req: &RestoreRequest<'_>) -> Result<RestoreOutcome> {
    if !req.file.is_file() {
        return Err(CliError::BadBackup(format!(
            "{} does not exist or is not a file",
            req.file.display()
        )));
    }
    let mut conn = target.connect().await?;
    let tools = find_tools(req.pg_bin, server_major(&mut conn).await?).await?;
    let toc = table_of_contents(&tools, req.file).await?;
    if req.require_powergym && !has_data_for(&toc, "public powergym_schema_migrations") {
        return Err(CliError::BadBackup(format!(
            "{} is not a PowerGym backup: it holds no powergym_schema_migrations table",
            req.file.display()
        )));
    }
    let relations: i64 = sqlx::query_scalar(
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where c.relkind in ('r', 'p', 'v', 'm', 'S') \
           and n.nspname not in ('pg_catalog', 'information_schema') \
           and n.nspname not like 'pg_toast%'",
    )
    .fetch_one(&mut conn)
    .await?;
    let mut safety_backup = None;
    if relations > 0 {
        if !req.force {
            return Err(CliError::Refused(format!(
                "database {} is not empty ({relations} tables, views and sequences): a \
                 restore replaces all of it; repeat with --force (a safety backup of what \
                 is there is taken first)",
                target.database
            )));
        }
        let tables = data_tables(&mut conn).await?;
        let safety = dump(target, &tools, req.safety_dir, &tables, SAFETY).await?;
        note!(
            "restore: safety backup of the current contents: {}",
            safety.display()
        );
        safety_backup = Some(safety);
        // Programs still connected would block the drop; give up rather than wait.
        sqlx::raw_sql(WIPE)
            .execute(&mut conn)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03") => {
                    CliError::Refused(
                        "other programs hold locks on the database: stop them (the desk, the \
                     API) and run the restore again"
                            .into(),
                    )
                }
                _ => CliError::from(e),
            })?;
    }
    let _ = conn.close().await;
    let total = toc.iter().filter(|l| l.contains(" TABLE DATA ")).count() as u64;
    let mut cmd = target.command(&tools.restore);
    cmd.arg("--exit-on-error")
        .arg("--single-transaction")
        .arg("--no-owner")
        .arg("--no-privileges")
        // `COMMENT ON EXTENSION` needs the extension's owner; the comments are pgvector's
        // own and stay as they are.
        .arg("--no-comments")
        .arg("--verbose")
        .arg("--dbname")
        .arg(&target.url)
        .arg(req.file);
    let mut reporter = Reporter::new("restore");
    let mut done = 0;
    run_tool(cmd, "pg_restore", |line| {
        if let Some(rest) = line.split("processing data for table ").nth(1) {
            done += 1;
            reporter.update(&Progress {
                phase: format!("table {}", rest.trim_matches('"')),
                done,
                total,
            });
        }
    })
    .await
    .map_err(|e| match &safety_backup {
        Some(safety) => CliError::Tool(format!(
            "{e}. Nothing of the backup was applied; the previous contents are in {}: \
             restore them with `powergym restore --force {}`",
            safety.display(),
            safety.display()
        )),
        None => e,
    })?;
    reporter.finish(&format!("{total} tables restored"));
    Ok(RestoreOutcome {
        file: req.file.to_path_buf(),
        safety_backup,
        tables: total as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_recognised_and_nothing_else() {
        let (db, at, pre) = parse_name("powergym-postgres-gym_1-20261202T071500Z.dump").unwrap();
        assert_eq!((db.as_str(), pre), ("gym_1", false));
        assert_eq!(at.to_rfc3339(), "2026-12-02T07:15:00+00:00");
        let (_, _, pre) =
            parse_name("powergym-postgres-gym-20261202T071500Z-pre-restore.dump").unwrap();
        assert!(pre);
        for other in [
            "powergym-postgres-gym-20261202T071500Z.dump.partial",
            "powergym-postgres--20261202T071500Z.dump",
            "powergym-postgres-gym-2026-12-02.dump",
            "notes.txt",
            "backup_production_20250115_020000.sql.gz",
        ] {
            assert!(parse_name(other).is_none(), "{other}");
        }
    }

    #[test]
    fn tool_versions_are_read() {
        assert_eq!(
            tool_major("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n"),
            Some(15)
        );
        assert_eq!(tool_major("pg_restore (PostgreSQL) 17.2\n"), Some(17));
        assert_eq!(tool_major("something else"), None);
    }

    #[test]
    fn the_password_leaves_the_url() {
        let t = Target::parse("postgres://gym:s%40c+r&t@db.example:5433/powergym?sslmode=require")
            .unwrap();
        assert_eq!(t.password.as_deref(), Some("s@c+r&t"));
        assert!(!t.url.contains("cret"), "{}", t.url);
        assert_eq!(t.database, "powergym");
        assert!(t.url.contains("sslmode=require"));
        assert!(Target::parse("sqlite://gym.db").is_err());
        assert!(Target::parse("postgres://gym@host/").is_err());
    }
}
