//! Each command: open the gym, call the library, print for a person or as JSON.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use powergym_core::migrate::{DataLoss, MigrationRecord, latest_version, library_versions};
use powergym_core::ops::Progress;
use powergym_core::ops::health::human_bytes;
use powergym_core::{BusinessCalendar, Gym, GymOptions, HealthReport, PoolSettings, Verdict};
use serde::Serialize;

use crate::backup::{self, BackupRequest, RestoreRequest, Target};
use crate::error::{CliError, Result};
use crate::progress::Reporter;
use crate::retention::Policy;
use crate::{AdoptArgs, Cli, Command, DbCommand, JobsCommand, StaffCommand};

fn database_url(cli: &Cli) -> Result<String> {
    cli.database_url.clone().ok_or_else(|| {
        CliError::Invalid(
            "no database: pass --database-url or set DATABASE_URL \
             (postgres://user:password@host:5432/powergym)"
                .into(),
        )
    })
}

async fn open(url: &str, calendar: Option<BusinessCalendar>) -> Result<Gym> {
    let options = GymOptions {
        pool: PoolSettings {
            // A command needs two at most (the face-index rebuild watches its own
            // progress from a second connection).
            max_connections: 3,
            acquire_timeout: Duration::from_secs(15),
            ..PoolSettings::default()
        },
        calendar: calendar.unwrap_or_default(),
        ..GymOptions::default()
    };
    Ok(Gym::connect_with(url, options).await?)
}

fn print_json(value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Invalid(format!("cannot write JSON: {e}")))?;
    say!("{text}");
    Ok(())
}

pub(crate) async fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Db(cmd) => db(&cli, cmd).await,
        Command::Backup(args) => {
            let target = Target::parse(&database_url(&cli)?)?;
            let outcome = backup::backup(
                &target,
                &BackupRequest {
                    dir: &args.dir,
                    pg_bin: args.pg_bin.as_deref(),
                    policy: Policy {
                        daily: args.keep_daily,
                        weekly: args.keep_weekly,
                        monthly: args.keep_monthly,
                    },
                },
            )
            .await?;
            if cli.json {
                print_json(&outcome)?;
            } else {
                say!(
                    "backup written: {} ({}, {} tables verified)",
                    outcome.file.display(),
                    human_bytes(outcome.bytes),
                    outcome.tables_verified
                );
                for p in &outcome.pruned {
                    say!("pruned: {}", p.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Backups { dir } => {
            let files = backup::list(dir)?;
            if cli.json {
                print_json(&files)?;
            } else if files.is_empty() {
                say!("no PowerGym backups in {}", dir.display());
            } else {
                for f in &files {
                    say!(
                        "{}  {:>10}  {}{}",
                        f.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
                        human_bytes(f.bytes),
                        f.path.display(),
                        if f.pre_restore { "  (pre-restore)" } else { "" }
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore(args) => {
            let url = database_url(&cli)?;
            let target = Target::parse(&url)?;
            let outcome = backup::restore(
                &target,
                &RestoreRequest {
                    file: &args.file,
                    require_powergym: true,
                    force: args.force,
                    safety_dir: &args.dir,
                    pg_bin: args.pg_bin.as_deref(),
                },
            )
            .await?;
            let gym = open(&url, None).await?;
            let version = gym.migrations().current_version().await?;
            let check = gym.migrations().check().await;
            gym.close().await;
            if cli.json {
                #[derive(Serialize)]
                struct Out<'a> {
                    #[serde(flatten)]
                    outcome: &'a backup::RestoreOutcome,
                    schema_version: i64,
                    library_version: i64,
                }
                print_json(&Out {
                    outcome: &outcome,
                    schema_version: version,
                    library_version: latest_version(),
                })?;
            } else {
                say!(
                    "restored {} ({} tables); schema at version {version}",
                    outcome.file.display(),
                    outcome.tables
                );
            }
            check?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Health => {
            let gym = open(&database_url(&cli)?, None).await?;
            let report = gym.operations().health_report().await;
            gym.close().await;
            let report = report?;
            if cli.json {
                #[derive(Serialize)]
                struct Out<'a> {
                    verdict: Verdict,
                    #[serde(flatten)]
                    report: &'a HealthReport,
                }
                print_json(&Out {
                    verdict: report.verdict(),
                    report: &report,
                })?;
            } else {
                print_health(&report);
            }
            Ok(ExitCode::from(match report.verdict() {
                Verdict::Ok => 0,
                Verdict::Warn => 3,
                Verdict::Critical => 4,
            }))
        }
        Command::Maintain(args) => {
            let gym = open(&database_url(&cli)?, None).await?;
            let result = maintain(&gym, args.no_vacuum, args.reindex_face).await;
            gym.close().await;
            result?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Jobs(JobsCommand::Daily { actor, time_zone }) => {
            let calendar = BusinessCalendar::new(time_zone)?;
            let gym = open(&database_url(&cli)?, Some(calendar)).await?;
            let result = async {
                let actor = gym.acting_as(actor).await?;
                let today = gym.today();
                let counts = gym.run_daily_jobs(&actor, today).await?;
                Ok::<_, CliError>((today, counts))
            }
            .await;
            gym.close().await;
            let (today, c) = result?;
            if cli.json {
                #[derive(Serialize)]
                struct Out {
                    business_date: chrono::NaiveDate,
                    activated: u64,
                    awaiting_payment: u64,
                    expired: u64,
                    expired_unpaid: u64,
                    expired_rewards: u64,
                }
                print_json(&Out {
                    business_date: today,
                    activated: c.activated,
                    awaiting_payment: c.awaiting_payment,
                    expired: c.expired,
                    expired_unpaid: c.expired_unpaid,
                    expired_rewards: c.expired_rewards,
                })?;
            } else {
                say!(
                    "daily jobs for {today}: {} activated, {} awaiting payment, {} expired, \
                     {} expired unpaid, {} rewards expired",
                    c.activated,
                    c.awaiting_payment,
                    c.expired,
                    c.expired_unpaid,
                    c.expired_rewards
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Adopt(args) => adopt(&cli, args).await,
        Command::Staff(StaffCommand::BootstrapAdmin {
            username,
            password_stdin,
        }) => {
            let password = read_password(*password_stdin)?;
            let gym = open(&database_url(&cli)?, None).await?;
            let result = gym.bootstrap_admin(username, &password).await;
            gym.close().await;
            let staff = result?;
            say!("admin account {} created", staff.username);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_password(from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::io("reading the password from standard input", e))?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Invalid(
            "no terminal to ask for the password on: pass --password-stdin and write it to \
             standard input"
                .into(),
        ));
    }
    let first = rpassword::prompt_password("password: ")
        .map_err(|e| CliError::io("reading the password", e))?;
    let again = rpassword::prompt_password("password again: ")
        .map_err(|e| CliError::io("reading the password", e))?;
    if first != again {
        return Err(CliError::Invalid("the two passwords differ".into()));
    }
    Ok(first)
}

async fn maintain(gym: &Gym, no_vacuum: bool, reindex_face: bool) -> Result<()> {
    if !no_vacuum {
        let mut reporter = Reporter::new("vacuum");
        let tables = gym
            .operations()
            .vacuum_analyze(&mut |p: &Progress| reporter.update(p))
            .await?;
        reporter.finish(&format!("{} tables vacuumed and analyzed", tables.len()));
    }
    if reindex_face {
        let mut reporter = Reporter::new("reindex");
        let done = gym
            .operations()
            .rebuild_face_index(&mut |p: &Progress| reporter.update(p))
            .await?;
        for name in &done.dropped_leftovers {
            note!("reindex: dropped the invalid leftover {name}");
        }
        reporter.finish(&format!(
            "{} {} in {:.1} s ({} -> {})",
            done.index,
            if done.bytes_before == 0 {
                "built"
            } else {
                "rebuilt"
            },
            done.elapsed.as_secs_f64(),
            human_bytes(done.bytes_before),
            human_bytes(done.bytes_after)
        ));
    }
    Ok(())
}

/// Core's refusal of a destructive step (a `version` the caller must confirm) becomes
/// the CLI's "needs --yes" (exit 16).
fn refused_without_yes(e: powergym_core::Error) -> CliError {
    match e {
        powergym_core::Error::Validation {
            field: "version",
            reason,
        } if reason.contains("confirm") => CliError::Refused(format!(
            "{reason}. From the command line the confirmation is --yes (take a backup \
             first: powergym backup)"
        )),
        other => CliError::Core(other),
    }
}

/// A version argument: `head`, `base` or a number this program ships.
fn version_arg(target: &str) -> Result<i64> {
    match target {
        "head" => Ok(latest_version()),
        "base" => Ok(0),
        n => {
            let v: i64 = n.parse().map_err(|_| {
                CliError::Invalid(format!(
                    "`{n}` is not a version: give head, base or a number (1 to {})",
                    latest_version()
                ))
            })?;
            Ok(v)
        }
    }
}

#[derive(Serialize)]
struct MigrationOut<'a> {
    version: i64,
    description: &'a str,
    checksum: &'a str,
    applied_at: Option<chrono::DateTime<chrono::Utc>>,
    checksum_mismatch: bool,
}

impl<'a> From<&'a MigrationRecord> for MigrationOut<'a> {
    fn from(r: &'a MigrationRecord) -> Self {
        Self {
            version: r.version,
            description: &r.description,
            checksum: &r.checksum,
            applied_at: r.applied_at,
            checksum_mismatch: r.checksum_mismatch,
        }
    }
}

async fn db(cli: &Cli, cmd: &DbCommand) -> Result<ExitCode> {
    let gym = open(&database_url(cli)?, None).await?;
    let result = db_on(cli, &gym, cmd).await;
    gym.close().await;
    result
}

async fn db_on(cli: &Cli, gym: &Gym, cmd: &DbCommand) -> Result<ExitCode> {
    let m = gym.migrations();
    match cmd {
        DbCommand::Upgrade { target } => {
            let target = version_arg(target)?;
            if target < 1 {
                return Err(CliError::Invalid(
                    "upgrade takes head or a version from 1; to go down, use downgrade".into(),
                ));
            }
            let pending: Vec<MigrationRecord> = m
                .history()
                .await?
                .into_iter()
                .filter(|r| !r.is_applied() && r.version <= target)
                .collect();
            if pending.is_empty() {
                // Still a call: it refuses a database ahead of this program.
                m.run_to(target.max(1)).await?;
                say!("already at version {}", m.current_version().await?);
            }
            let total = pending.len();
            for (i, r) in pending.iter().enumerate() {
                let started = Instant::now();
                note!(
                    "upgrade: [{}/{total}] {:04} {} ...",
                    i + 1,
                    r.version,
                    r.description
                );
                m.run_to(r.version).await?;
                note!(
                    "upgrade: [{}/{total}] {:04} done in {:.2} s",
                    i + 1,
                    r.version,
                    started.elapsed().as_secs_f64()
                );
            }
            if total > 0 {
                say!("upgraded to version {}", m.current_version().await?);
            }
        }
        DbCommand::Downgrade { target, yes } => {
            let current = m.current_version().await?;
            let goal = match target.strip_prefix('-') {
                // Alembic's relative form: -N is N steps down.
                Some(n) => {
                    let steps: usize = n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        CliError::Invalid(format!(
                            "`{target}` is not a downgrade target: give -N (N steps), a \
                             version, or base"
                        ))
                    })?;
                    let below: Vec<i64> = library_versions()
                        .into_iter()
                        .filter(|v| *v <= current)
                        .rev()
                        .collect();
                    below.get(steps).copied().unwrap_or(0)
                }
                None => version_arg(target)?,
            };
            if goal < 0 {
                return Err(CliError::Invalid(
                    "versions start at 0 (base); give -N for N steps down".into(),
                ));
            }
            if goal == 0 && !yes {
                // Asked before the first step, so a refusal reverts nothing: core refuses
                // base without its confirmation (and does nothing on an empty database).
                m.revert_to(0).await.map_err(refused_without_yes)?;
            }
            let steps: Vec<i64> = library_versions()
                .into_iter()
                .filter(|v| *v > goal && *v <= current)
                .rev()
                .collect();
            for (i, v) in steps.iter().enumerate() {
                let previous = library_versions()
                    .into_iter()
                    .filter(|p| p < v)
                    .max()
                    .unwrap_or(0);
                note!(
                    "downgrade: [{}/{}] reverting {v:04} ...",
                    i + 1,
                    steps.len()
                );
                // Core refuses base unless confirmed; --yes is that confirmation.
                let done = if *yes {
                    m.revert_to_confirmed(previous, DataLoss::Accepted).await
                } else {
                    m.revert_to(previous).await
                };
                done.map_err(refused_without_yes)?;
            }
            say!("at version {}", m.current_version().await?);
        }
        DbCommand::Current => {
            let current = m.current_version().await?;
            let latest = latest_version();
            if cli.json {
                #[derive(Serialize)]
                struct Out {
                    version: i64,
                    library_version: i64,
                    head: bool,
                }
                print_json(&Out {
                    version: current,
                    library_version: latest,
                    head: current == latest,
                })?;
            } else if current == latest {
                say!("{current} (head)");
            } else if current < latest {
                say!("{current} (head is {latest}: run `powergym db upgrade`)");
            } else {
                say!("{current} (ahead of this program's {latest})");
            }
        }
        DbCommand::History => {
            let history = m.history().await?;
            if cli.json {
                let out: Vec<MigrationOut<'_>> = history.iter().map(Into::into).collect();
                print_json(&out)?;
            } else {
                for r in &history {
                    let state = match r.applied_at {
                        Some(at) => format!("applied {}", at.format("%Y-%m-%d %H:%M:%S UTC")),
                        None => "pending".into(),
                    };
                    let edited = if r.checksum_mismatch {
                        "  (edited after it was applied!)"
                    } else {
                        ""
                    };
                    say!("{:04}  {:<32} {state}{edited}", r.version, r.description);
                }
            }
        }
        DbCommand::Stamp { target, yes } => {
            let goal = version_arg(target)?;
            if goal < 0 {
                return Err(CliError::Invalid("versions start at 0 (base)".into()));
            }
            let done = if *yes {
                m.stamp_back(goal, DataLoss::Accepted).await
            } else {
                m.stamp(goal).await
            };
            done.map_err(refused_without_yes)?;
            say!("stamped at version {goal}");
        }
        DbCommand::GrantApp { role } => {
            gym.operations().grant_app_role(role).await?;
            say!("{role} may now read and write PowerGym's tables (and nothing else)");
        }
        DbCommand::Check => {
            m.check().await?;
            say!("database is at version {}, up to date", latest_version());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_health(r: &HealthReport) {
    say!(
        "PowerGym health of database {}, {}",
        r.database.name,
        r.generated_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    for c in &r.checks {
        say!("  {:<9} {:<18} {}", c.verdict.as_str(), c.name, c.summary);
    }
    say!("\ntables (largest first):");
    say!(
        "  {:<28} {:>10} {:>9} {:>10} {:>8}  {:<16} {:<16}",
        "table",
        "size",
        "growth",
        "live",
        "dead",
        "last vacuum",
        "last analyze"
    );
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("never".to_owned(), |t| {
            t.format("%Y-%m-%d %H:%M").to_string()
        })
    };
    for t in r.tables.iter().take(15) {
        let growth = match t.previous_bytes {
            Some(before) if before > 0 => {
                format!(
                    "{:+.1}%",
                    (t.total_bytes as f64 / before as f64 - 1.0) * 100.0
                )
            }
            _ => "-".into(),
        };
        say!(
            "  {:<28} {:>10} {:>9} {:>10} {:>8}  {:<16} {:<16}",
            t.name,
            human_bytes(t.total_bytes),
            growth,
            t.live_rows,
            t.dead_rows,
            when(t.last_vacuum),
            when(t.last_analyze)
        );
    }
    if !r.lock_waits.is_empty() {
        say!("\nlock waits (who waits on whom):");
        for w in &r.lock_waits {
            let by: Vec<String> = w
                .blocked_by
                .iter()
                .map(|b| {
                    format!(
                        "pid {} ({}, {}, transaction open {:.0} s)",
                        b.pid,
                        b.role.as_deref().unwrap_or("?"),
                        b.state.as_deref().unwrap_or("?"),
                        b.transaction_seconds.unwrap_or(0.0)
                    )
                })
                .collect();
            say!(
                "  pid {} ({}) waits {:.1} s for {} {} on {} <- {}",
                w.waiting.pid,
                w.waiting.role.as_deref().unwrap_or("?"),
                w.waiting_seconds,
                w.mode,
                w.lock_type,
                w.relation.as_deref().unwrap_or("a row"),
                by.join(", ")
            );
        }
    }
    if !r.slow_queries.queries.is_empty() {
        say!("\nslowest statements (mean):");
        for q in &r.slow_queries.queries {
            say!("  {:>9.1} ms  {:>8} calls  {}", q.mean_ms, q.calls, q.query);
        }
    }
    say!("\nverdict: {}", r.verdict());
}

async fn adopt(cli: &Cli, args: &AdoptArgs) -> Result<ExitCode> {
    use powergym_core::{AdoptionOptions, AdoptionReport};
    let source = database_url(cli)?;
    let options = AdoptionOptions {
        calendar: BusinessCalendar::new(&args.time_zone)?,
    };
    if args.dry_run {
        let report = Gym::adoption_plan(&source, &options).await?;
        print_adoption(cli, &report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let url = match &args.into {
        Some(into) => {
            // The original stays as it is; its copy is adopted.
            let target = Target::parse(into)?;
            backup::copy(
                &Target::parse(&source)?,
                &target,
                &args.dir,
                args.pg_bin.as_deref(),
            )
            .await?;
            into.clone()
        }
        None => source,
    };
    let report: AdoptionReport = Gym::adopt(&url, &options).await?;
    print_adoption(cli, &report)?;
    // The original's vector index is gone with migration 0017: faces are searched by the
    // in-process cache. A gallery too large for it needs the index, built deliberately.
    note!(
        "faces are searched by the in-process cache; if `powergym health` reports the \
         gallery over its budget, build the PostgreSQL index with `powergym maintain \
         --reindex-face`"
    );
    Ok(ExitCode::SUCCESS)
}

/// Rows listed per reason in the human report; `--json` lists them all.
const LISTED: usize = 20;

fn print_adoption(cli: &Cli, r: &powergym_core::AdoptionReport) -> Result<()> {
    if cli.json {
        return print_json(r);
    }
    say!(
        "Adoption of the original PowerGym database (Alembic {}): {}",
        r.revision,
        if r.applied {
            format!("done, schema at version {}", r.schema_version)
        } else {
            "dry run, nothing was changed".into()
        }
    );
    say!(
        "\n  {:<22} {:>8} {:>8} {:>10}",
        "table",
        "before",
        "adopted",
        "set aside"
    );
    for t in &r.tables {
        say!(
            "  {:<22} {:>8} {:>8} {:>10}",
            t.table,
            t.before,
            t.adopted,
            t.set_aside
        );
    }
    say!(
        "\npayments: {} before = {} adopted + {} set aside (to refund or credit by hand)",
        r.payments_before,
        r.payments_adopted,
        r.payments_set_aside
    );
    say!(
        "face templates set aside for want of recorded consent: {} (these members enrol \
         again, under consent; the rows stay in powergym_original)",
        r.templates_set_aside
    );
    let mut reasons: Vec<&str> = r.set_aside.iter().map(|s| s.reason).collect();
    reasons.sort_unstable();
    reasons.dedup();
    if !reasons.is_empty() {
        say!("\nset aside, by reason:");
    }
    for reason in reasons {
        let rows: Vec<_> = r.set_aside.iter().filter(|s| s.reason == reason).collect();
        say!("  {reason} ({}):", rows.len());
        for s in rows.iter().take(LISTED) {
            say!("    {} {}: {}", s.table, s.id, s.detail);
        }
        if rows.len() > LISTED {
            say!(
                "    ... and {} more (--json lists every row)",
                rows.len() - LISTED
            );
        }
    }
    let mut kinds: Vec<&str> = r.changes.iter().map(|c| c.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    if !kinds.is_empty() {
        say!("\nadopted with a change, by kind:");
    }
    for kind in kinds {
        let rows: Vec<_> = r.changes.iter().filter(|c| c.kind == kind).collect();
        say!("  {kind} ({}):", rows.len());
        for c in rows.iter().take(LISTED) {
            say!("    {} {}: {}", c.table, c.id, c.detail);
        }
        if rows.len() > LISTED {
            say!(
                "    ... and {} more (--json lists every row)",
                rows.len() - LISTED
            );
        }
    }
    Ok(())
}
