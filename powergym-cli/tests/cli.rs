//! The `powergym` binary itself, run as an operator runs it, against the real server named
//! by `DATABASE_URL` (each test on a database of its own).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use powergym_core::migrate::latest_version;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

const DEFAULT_URL: &str = "postgres://powergym:powergym@127.0.0.1:5432/powergym";

fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

fn url_for(db: &str) -> String {
    let base = admin_url();
    let (prefix, rest) = base.rsplit_once('/').expect("a database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{prefix}/{db}{query}")
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database of its own, dropped with the guard.
struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    async fn new() -> Self {
        let name = format!(
            "powergym_cli_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            &uuid::Uuid::new_v4().simple().to_string()[..6]
        );
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .expect("DATABASE_URL must reach the test server (scripts/setup-postgres.sh)");
        sqlx::query(AssertSqlSafe(format!("create database \"{name}\"")))
            .execute(&mut admin)
            .await
            .expect("create database");
        let url = url_for(&name);
        Self { name, url }
    }

    async fn conn(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.expect("connect")
    }

    /// Runs `powergym ARGS` against this database.
    fn run(&self, args: &[&str]) -> Output {
        powergym(&self.url, args, None)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                    let _ = sqlx::query(AssertSqlSafe(format!(
                        "drop database if exists \"{name}\" with (force)"
                    )))
                    .execute(&mut admin)
                    .await;
                }
            });
        })
        .join();
    }
}

fn powergym(url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::cargo_bin("powergym").expect("the powergym binary");
    cmd.env("DATABASE_URL", url)
        .args(args)
        .timeout(Duration::from_secs(120));
    if let Some(input) = stdin {
        cmd.write_stdin(input);
    }
    cmd.output().expect("run powergym")
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", stdout(out), stderr(out)))
}

#[track_caller]
fn expect_code(out: &Output, want: i32) {
    assert_eq!(
        code(out),
        want,
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
}

async fn relation_count(db: &TestDb) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace \
         where c.relkind = 'r' and n.nspname = 'public'",
    )
    .fetch_one(&mut db.conn().await)
    .await
    .unwrap()
}

#[tokio::test]
async fn db_commands_speak_alembic_with_testable_exit_codes() {
    let db = TestDb::new().await;
    let latest = latest_version();

    let out = db.run(&["db", "check"]);
    expect_code(&out, 10);
    assert!(
        stderr(&out).contains(&format!("at version 0, this library expects {latest}")),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("powergym db upgrade"));
    assert!(
        !stderr(&out).contains("RUST_BACKTRACE"),
        "no backtrace for an expected failure"
    );

    expect_code(&db.run(&["db", "upgrade"]), 0);
    expect_code(&db.run(&["db", "check"]), 0);
    let current = json(&db.run(&["db", "current", "--json"]));
    assert_eq!(current["version"], latest);
    assert_eq!(current["head"], true);
    let history = json(&db.run(&["db", "history", "--json"]));
    let history = history.as_array().unwrap();
    assert_eq!(history.len() as i64, latest);
    assert!(history.iter().all(|m| !m["applied_at"].is_null()));

    // downgrade -1, then check names both versions.
    expect_code(&db.run(&["db", "downgrade"]), 0);
    let out = db.run(&["db", "check"]);
    expect_code(&out, 10);
    assert!(stderr(&out).contains(&format!("version {}", latest - 1)));
    assert_eq!(
        json(&db.run(&["db", "current", "--json"]))["version"],
        latest - 1
    );

    // Alembic's relative form: -2 is two steps down.
    expect_code(&db.run(&["db", "downgrade", "-2"]), 0);
    assert_eq!(
        json(&db.run(&["db", "current", "--json"]))["version"],
        latest - 3
    );
    expect_code(&db.run(&["db", "downgrade", "nonsense"]), 12);

    // To base drops everything, so it needs --yes; refused, nothing changes, also when
    // asked as more steps than there are.
    let tables = relation_count(&db).await;
    let out = db.run(&["db", "downgrade", "-99"]);
    expect_code(&out, 16);
    assert_eq!(relation_count(&db).await, tables);
    assert_eq!(
        json(&db.run(&["db", "current", "--json"]))["version"],
        latest - 3
    );
    let out = db.run(&["db", "downgrade", "base"]);
    expect_code(&out, 16);
    assert!(stderr(&out).contains("--yes"));
    assert_eq!(relation_count(&db).await, tables);
    expect_code(&db.run(&["db", "downgrade", "base", "--yes"]), 0);
    assert_eq!(json(&db.run(&["db", "current", "--json"]))["version"], 0);
    assert_eq!(
        relation_count(&db).await,
        1,
        "only the history table is left"
    );

    // Up to a version, then a downgrade to a version.
    expect_code(&db.run(&["db", "upgrade", "5"]), 0);
    assert_eq!(json(&db.run(&["db", "current", "--json"]))["version"], 5);
    expect_code(&db.run(&["db", "downgrade", "3"]), 0);
    assert_eq!(json(&db.run(&["db", "current", "--json"]))["version"], 3);
    expect_code(&db.run(&["db", "upgrade", "head"]), 0);

    // Stamp: forward freely, backward only with --yes.
    let out = db.run(&["db", "stamp", "4"]);
    expect_code(&out, 16);
    assert_eq!(
        json(&db.run(&["db", "current", "--json"]))["version"],
        latest
    );
    expect_code(&db.run(&["db", "stamp", "4", "--yes"]), 0);
    assert_eq!(json(&db.run(&["db", "current", "--json"]))["version"], 4);
    expect_code(&db.run(&["db", "stamp", "head"]), 0);
    expect_code(&db.run(&["db", "check"]), 0);

    // A database migrated by a newer program: check fails, saying so.
    sqlx::query(
        "insert into powergym_schema_migrations \
         (version, description, success, checksum, execution_time) \
         values (999, 'from the future', true, '\\x00', 0)",
    )
    .execute(&mut db.conn().await)
    .await
    .unwrap();
    let out = db.run(&["db", "check"]);
    expect_code(&out, 10);
    assert!(
        stderr(&out).contains("upgrade this program"),
        "{}",
        stderr(&out)
    );
    expect_code(&db.run(&["db", "upgrade"]), 10);

    // Bad values.
    expect_code(&db.run(&["db", "upgrade", "nonsense"]), 12);
    expect_code(&db.run(&["db", "bogus"]), 2);
}

#[tokio::test]
async fn troubleshooting_cases_give_their_own_exit_codes_and_remedies() {
    // No URL at all.
    let out = Command::cargo_bin("powergym")
        .unwrap()
        .env_remove("DATABASE_URL")
        .args(["db", "current"])
        .output()
        .unwrap();
    expect_code(&out, 12);
    assert!(stderr(&out).contains("DATABASE_URL"));

    // A wrong URL, never echoed (it holds a password).
    let out = powergym("mysql://u:hunter2@localhost/db", &["db", "current"], None);
    expect_code(&out, 12);
    assert!(!stderr(&out).contains("hunter2"));

    // Connection refused: fails at once, not after a pool timeout.
    let started = Instant::now();
    let out = powergym(
        "postgres://u:hunter2@127.0.0.1:1/db",
        &["db", "current"],
        None,
    );
    expect_code(&out, 11);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        stderr(&out).contains("check that PostgreSQL is running"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("hunter2"));

    // Too many connections: a role allowed none gets SQLSTATE 53300.
    let db = TestDb::new().await;
    let role = format!("{}_limited", db.name);
    let mut admin = PgConnection::connect(&admin_url()).await.unwrap();
    sqlx::query(AssertSqlSafe(format!(
        "create role \"{role}\" login password 'limited-pw' connection limit 0"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let limited = db
        .url
        .replacen("powergym:powergym@", &format!("{role}:limited-pw@"), 1);
    let out = powergym(&limited, &["db", "current"], None);
    expect_code(&out, 14);
    assert!(
        stderr(&out).contains("out of connections"),
        "{}",
        stderr(&out)
    );

    // The vector extension cannot be created by a role that is not a superuser.
    sqlx::query(AssertSqlSafe(format!(
        "alter role \"{role}\" connection limit -1"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let owned = format!("{}_owned", db.name);
    sqlx::query(AssertSqlSafe(format!(
        "create database \"{owned}\" owner \"{role}\""
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let owner_url =
        url_for(&owned).replacen("powergym:powergym@", &format!("{role}:limited-pw@"), 1);
    let out = powergym(&owner_url, &["db", "upgrade"], None);
    expect_code(&out, 13);
    assert!(
        stderr(&out).contains("CREATE EXTENSION vector"),
        "{}",
        stderr(&out)
    );
    sqlx::query(AssertSqlSafe(format!(
        "drop database \"{owned}\" with (force)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query(AssertSqlSafe(format!("drop role \"{role}\"")))
        .execute(&mut admin)
        .await
        .unwrap();
}

/// Rows and a checksum of every table, to compare a database before and after.
async fn fingerprint(db: &TestDb) -> BTreeMap<String, (i64, String)> {
    let mut conn = db.conn().await;
    let tables: Vec<String> = sqlx::query_scalar(
        "select relname::text from pg_stat_user_tables where relname <> 'powergym_size_history' \
         order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut out = BTreeMap::new();
    for t in tables {
        let row: (i64, Option<String>) = sqlx::query_as(AssertSqlSafe(format!(
            "select count(*), md5(string_agg(x::text, '|' order by x::text)) from \"{t}\" x"
        )))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        out.insert(t, (row.0, row.1.unwrap_or_default()));
    }
    out
}

/// A small day at the desk through the library: staff, a plan, members, a sale, a
/// payment, a check-in, a product sold.
async fn fill(db: &TestDb) {
    use powergym_core::*;
    let gym = Gym::connect(&db.url).await.unwrap();
    gym.migrations().run().await.unwrap();
    gym.bootstrap_admin("admin", "admin-password")
        .await
        .unwrap();
    let admin = gym.acting_as("admin").await.unwrap();
    let plan = gym
        .create_plan(
            &admin,
            PlanInput {
                name: "Monthly".into(),
                slug: None,
                description: None,
                price: "80000".parse().unwrap(),
                currency: None,
                duration_unit: DurationUnit::Month,
                duration_count: 1,
            },
        )
        .await
        .unwrap();
    for (i, doc) in ["1020304050", "1020304051", "1020304052"]
        .iter()
        .enumerate()
    {
        let client = gym
            .register_client(
                &admin,
                ClientInput {
                    document_type: DocumentType::Cc,
                    document_number: (*doc).into(),
                    first_name: ["Ana", "Eva", "Sol"][i].into(),
                    middle_name: None,
                    last_name: "Gómez".into(),
                    second_last_name: None,
                    phone: "300 123 4567".into(),
                    alternative_phone: None,
                    email: None,
                    birth_date: chrono::NaiveDate::from_ymd_opt(1990, 1, 1 + i as u32).unwrap(),
                    gender: Gender::Female,
                    address: None,
                },
            )
            .await
            .unwrap();
        let sub = gym
            .create_subscription(
                &admin,
                SubscriptionInput {
                    client_id: client.id,
                    plan_id: plan.id,
                    start_date: None,
                    discount_percentage: None,
                },
            )
            .await
            .unwrap();
        gym.record_payment(
            &admin,
            PaymentInput {
                subscription_id: sub.id,
                amount: "80000".parse().unwrap(),
                method: PaymentMethod::Cash,
                notes: None,
                idempotency_key: None,
            },
        )
        .await
        .unwrap();
        gym.check_in(&admin, client.id).await.unwrap();
    }
    gym.close().await;
}

#[tokio::test]
async fn backup_wipe_and_restore_give_back_the_same_data() {
    let db = TestDb::new().await;
    fill(&db).await;
    let before = fingerprint(&db).await;
    assert!(before["clients"].0 == 3 && before["payments"].0 == 3);
    let dir = tempfile::tempdir().unwrap();
    let dir_s = dir.path().to_str().unwrap();

    let out = db.run(&["backup", "--dir", dir_s, "--json"]);
    expect_code(&out, 0);
    let made = json(&out);
    let file = made["file"].as_str().unwrap().to_owned();
    assert!(
        Path::new(&file)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&format!("powergym-postgres-{}-", db.name)),
        "{file}"
    );
    assert!(made["tables_verified"].as_u64().unwrap() >= 13);
    let out = db.run(&["backups", "--dir", dir_s, "--json"]);
    assert_eq!(json(&out).as_array().unwrap().len(), 1);

    // Wipe the operator's way, then restore: refused without --force (the history table
    // is still there), done with it, after a safety backup.
    expect_code(&db.run(&["db", "downgrade", "base", "--yes"]), 0);
    assert_ne!(fingerprint(&db).await, before);
    let out = db.run(&["restore", &file]);
    expect_code(&out, 16);
    assert!(stderr(&out).contains("--force"));
    let out = db.run(&["restore", "--force", "--dir", dir_s, &file]);
    expect_code(&out, 0);
    assert!(stderr(&out).contains("safety backup"), "{}", stderr(&out));
    assert_eq!(fingerprint(&db).await, before);
    let listed = json(&db.run(&["backups", "--dir", dir_s, "--json"]));
    assert_eq!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["pre_restore"] == true)
            .count(),
        1
    );

    // Into a brand-new, empty database: no --force needed, same data, usable at once.
    let fresh = TestDb::new().await;
    let out = fresh.run(&["restore", &file]);
    expect_code(&out, 0);
    assert_eq!(fingerprint(&fresh).await, before);
    expect_code(&fresh.run(&["db", "check"]), 0);
    let gym = powergym_core::Gym::connect(&fresh.url).await.unwrap();
    gym.authenticate("admin", "admin-password").await.unwrap();
    gym.close().await;

    // What is not a usable backup, or missing tools.
    let junk = dir.path().join("junk.dump");
    std::fs::write(&junk, b"not a dump").unwrap();
    expect_code(&fresh.run(&["restore", junk.to_str().unwrap()]), 17);
    expect_code(&fresh.run(&["restore", "/nonexistent/file.dump"]), 17);
    let out = db.run(&["backup", "--dir", dir_s, "--pg-bin", "/nonexistent"]);
    expect_code(&out, 15);
    assert!(stderr(&out).contains("--pg-bin"));
}

#[tokio::test]
async fn retention_keeps_exactly_what_its_flags_say_and_only_its_own_files() {
    let db = TestDb::new().await;
    expect_code(&db.run(&["db", "upgrade"]), 0);
    let dir = tempfile::tempdir().unwrap();
    let mine = |stamp: &str| format!("powergym-postgres-{}-{stamp}.dump", db.name);
    // June 10 2020 is a Wednesday (ISO week 24); June 5 is in week 23.
    let ours = [
        "20200610T230000Z",
        "20200610T010000Z",
        "20200609T020000Z",
        "20200608T020000Z",
        "20200605T020000Z",
        "20200520T020000Z",
        "20200415T020000Z",
    ];
    let others = [
        "powergym-postgres-another_db-20200101T000000Z.dump".to_owned(),
        format!(
            "powergym-postgres-{}-20200101T000000Z-pre-restore.dump",
            db.name
        ),
        format!("{}.partial", mine("20200101T000000Z")),
        "notes.txt".to_owned(),
    ];
    for name in ours.iter().map(|s| mine(s)).chain(others.iter().cloned()) {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    let out = db.run(&[
        "backup",
        "--dir",
        dir.path().to_str().unwrap(),
        "--keep-daily",
        "3",
        "--keep-weekly",
        "3",
        "--keep-monthly",
        "3",
    ]);
    expect_code(&out, 0);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    // daily 3: the new one, June 10 (23:00), June 9; weekly 3: the new one, week 24
    // (June 10), week 23 (June 5); monthly 3: the new one, June (June 10), May (May 20).
    let mut want: Vec<String> = [
        "20200610T230000Z",
        "20200609T020000Z",
        "20200605T020000Z",
        "20200520T020000Z",
    ]
    .iter()
    .map(|s| mine(s))
    .chain(others.iter().cloned())
    .collect();
    let new = left
        .iter()
        .find(|n| n.starts_with(&mine("")[..mine("").len() - 5]) && !n.contains("2020"))
        .expect("the new backup")
        .clone();
    want.push(new);
    want.sort();
    assert_eq!(left, want);
    for pruned in ["20200610T010000Z", "20200608T020000Z", "20200415T020000Z"] {
        assert!(stdout(&out).contains(&mine(pruned)), "{}", stdout(&out));
    }
}

/// Waits until the query `sql` (one boolean, `$1` bound to `pid` when given) answers
/// true, at most ten seconds.
async fn wait_until(conn: &mut PgConnection, what: &str, sql: &'static str, pid: Option<i32>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut q = sqlx::query_scalar::<_, Option<bool>>(sql);
        if let Some(pid) = pid {
            q = q.bind(pid);
        }
        if q.fetch_one(&mut *conn).await.unwrap().unwrap_or(false) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn health_reports_a_held_lock_dead_rows_and_unused_and_duplicate_indexes() {
    let db = TestDb::new().await;
    expect_code(&db.run(&["db", "upgrade"]), 0);
    let out = db.run(&["health", "--json"]);
    expect_code(&out, 0);
    let first = json(&out);
    assert_eq!(first["verdict"], "ok", "{first:#}");
    assert!(first["database"]["previous_bytes"].is_null());

    let mut conn = db.conn().await;
    sqlx::raw_sql(
        "create table scratch (id int, val text) with (autovacuum_enabled = false); \
         insert into scratch select g, 'v' || g from generate_series(1, 5000) g; \
         delete from scratch where id > 2000; \
         create index idx_scratch_unused on scratch (val); \
         create index idx_scratch_twice_a on scratch (id); \
         create index idx_scratch_twice_b on scratch (id); \
         set enable_indexscan = off; set enable_indexonlyscan = off; \
         set enable_bitmapscan = off;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    for _ in 0..120 {
        sqlx::query("select count(*) from scratch")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::query("select pg_stat_force_next_flush()")
        .execute(&mut conn)
        .await
        .unwrap();
    let mut watcher = db.conn().await;
    wait_until(
        &mut watcher,
        "statistics to reach the views",
        "select n_dead_tup >= 3000 and seq_scan >= 100 from pg_stat_user_tables \
         where relname = 'scratch'",
        None,
    )
    .await;

    // A transaction holds the table; another session waits on it.
    let mut holder = db.conn().await;
    sqlx::raw_sql("begin; lock table scratch in access exclusive mode;")
        .execute(&mut holder)
        .await
        .unwrap();
    let holder_pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut holder)
        .await
        .unwrap();
    let mut waiter = db.conn().await;
    let waiter_pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut waiter)
        .await
        .unwrap();
    let waiting = tokio::spawn(async move {
        sqlx::query("select count(*) from scratch where val = 'v7'")
            .execute(&mut waiter)
            .await
            .unwrap();
    });
    wait_until(
        &mut watcher,
        "the waiter to wait",
        "select exists (select 1 from pg_locks where pid = $1 and not granted)",
        Some(waiter_pid),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let out = db.run(&["health", "--json"]);
    let report = json(&out);
    let line = |name: &str| {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} line"))
            .clone()
    };
    expect_code(&out, 4);
    assert_eq!(report["verdict"], "critical");

    let waits = report["lock_waits"].as_array().unwrap();
    let wait = waits
        .iter()
        .find(|w| w["waiting"]["pid"] == waiter_pid)
        .expect("the waiting session is reported");
    assert_eq!(wait["blocked_by"][0]["pid"], holder_pid);
    assert_eq!(wait["relation"], "scratch");
    assert!(wait["waiting_seconds"].as_f64().unwrap() >= 1.0);
    assert_eq!(line("lock_waits")["verdict"], "warn");
    assert!(
        !stdout(&out).contains("v7") && !stdout(&out).contains("count(*)"),
        "no query text in the report"
    );

    assert_eq!(line("dead_rows")["verdict"], "critical", "60 % dead");
    assert!(
        line("dead_rows")["summary"]
            .as_str()
            .unwrap()
            .contains("scratch")
    );
    let unused: Vec<&str> = report["unused_indexes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["index"].as_str().unwrap())
        .collect();
    assert!(unused.contains(&"idx_scratch_unused"), "{unused:?}");
    assert_eq!(line("unused_indexes")["verdict"], "warn");
    assert_eq!(
        report["duplicate_indexes"][0]["indexes"],
        serde_json::json!(["idx_scratch_twice_a", "idx_scratch_twice_b"])
    );
    assert!(
        !report["database"]["previous_bytes"].is_null(),
        "growth is measured"
    );

    // The human report names the same.
    sqlx::raw_sql("commit").execute(&mut holder).await.unwrap();
    waiting.await.unwrap();
    let out = db.run(&["health"]);
    let text = stdout(&out);
    assert!(text.contains("critical  dead_rows"), "{text}");
    assert!(text.contains("verdict: critical"));

    // Maintenance clears the dead rows (autovacuum is off on this table).
    expect_code(&db.run(&["maintain"]), 0);
    sqlx::query("select pg_stat_force_next_flush()")
        .execute(&mut conn)
        .await
        .unwrap();
    wait_until(
        &mut watcher,
        "vacuum to be counted",
        "select n_dead_tup = 0 from pg_stat_user_tables where relname = 'scratch'",
        None,
    )
    .await;
    let report = json(&db.run(&["health", "--json"]));
    let dead = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "dead_rows")
        .unwrap()
        .clone();
    assert_eq!(dead["verdict"], "ok", "{dead}");
}

#[tokio::test]
async fn maintain_rebuilds_the_face_index_and_drops_an_interrupted_copy() {
    let db = TestDb::new().await;
    expect_code(&db.run(&["db", "upgrade"]), 0);
    // What an interrupted REINDEX CONCURRENTLY leaves behind: an invalid `_ccnew` copy.
    let mut conn = db.conn().await;
    sqlx::raw_sql(
        "create index idx_biometrics_embedding_ccnew on biometrics (client_id); \
         update pg_index set indisvalid = false \
         where indexrelid = 'idx_biometrics_embedding_ccnew'::regclass;",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let report = json(&db.run(&["health", "--json"]));
    assert_eq!(
        report["invalid_indexes"],
        serde_json::json!(["idx_biometrics_embedding_ccnew"])
    );
    assert_eq!(report["verdict"], "critical");

    let out = db.run(&["maintain", "--reindex-face", "--no-vacuum"]);
    expect_code(&out, 0);
    let err = stderr(&out);
    assert!(err.contains("dropped the invalid leftover"), "{err}");
    // The schema has no face index since migration 0017: the first run builds it.
    assert!(err.contains("idx_biometrics_embedding built"), "{err}");
    assert!(!err.contains("vacuum"), "{err}");
    let report = json(&db.run(&["health", "--json"]));
    assert_eq!(report["invalid_indexes"], serde_json::json!([]));
    assert_eq!(report["face"]["index_valid"], true);
    let out = db.run(&["maintain", "--reindex-face", "--no-vacuum"]);
    expect_code(&out, 0);
    assert!(
        stderr(&out).contains("idx_biometrics_embedding rebuilt"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn daily_jobs_and_the_first_admin_from_the_command_line() {
    let db = TestDb::new().await;
    expect_code(&db.run(&["db", "upgrade"]), 0);

    // No terminal and no --password-stdin: refused, nothing created.
    expect_code(&db.run(&["staff", "bootstrap-admin", "boss"]), 12);
    let out = powergym(
        &db.url,
        &["staff", "bootstrap-admin", "boss", "--password-stdin"],
        Some("a-long-secret-pw\n"),
    );
    expect_code(&out, 0);
    assert!(
        !stdout(&out).contains("a-long-secret-pw") && !stderr(&out).contains("a-long-secret-pw")
    );
    let gym = powergym_core::Gym::connect(&db.url).await.unwrap();
    gym.authenticate("boss", "a-long-secret-pw").await.unwrap();
    gym.close().await;
    // A second first admin is refused.
    let out = powergym(
        &db.url,
        &["staff", "bootstrap-admin", "other", "--password-stdin"],
        Some("another-secret\n"),
    );
    expect_code(&out, 1);
    assert!(stderr(&out).contains("staff accounts exist already"));

    let out = db.run(&["jobs", "daily", "--as", "boss", "--json"]);
    expect_code(&out, 0);
    let counts = json(&out);
    assert_eq!(counts["expired"], 0);
    assert!(counts["business_date"].is_string());
    let out = db.run(&[
        "jobs",
        "daily",
        "--as",
        "boss",
        "--time-zone",
        "Mars/Olympus",
    ]);
    expect_code(&out, 12);
    let out = db.run(&["jobs", "daily", "--as", "nobody"]);
    expect_code(&out, 18);
}

#[tokio::test]
async fn a_closed_output_ends_the_command_quietly() {
    // `powergym health | head -1`: the reader goes away before the report is written.
    let db = TestDb::new().await;
    expect_code(&db.run(&["db", "upgrade"]), 0);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("powergym"))
        .env("DATABASE_URL", &db.url)
        .args(["health"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

/// Loads the original backend's schema and a gym's data (the adoption fixture).
async fn load_original(db: &TestDb) {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../powergym-core/tests/fixtures/original");
    let mut conn = db.conn().await;
    for file in ["schema.sql", "data.sql"] {
        let sql = std::fs::read_to_string(dir.join(file)).unwrap();
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[tokio::test]
async fn adopt_reports_then_copies_the_original_into_a_new_database() {
    let original = TestDb::new().await;
    load_original(&original).await;

    let out = original.run(&["adopt", "--dry-run", "--json"]);
    expect_code(&out, 0);
    let plan = json(&out);
    assert_eq!(plan["applied"], false);
    assert_eq!(plan["tables"].as_array().unwrap().len(), 10);
    let out = original.run(&["adopt", "--dry-run"]);
    expect_code(&out, 0);
    let text = stdout(&out);
    assert!(text.contains("dry run, nothing was changed"), "{text}");
    assert!(text.contains("no_biometric_consent"), "{text}");

    // --into: the original stays as it is, its copy is adopted and usable.
    let target = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let out = original.run(&[
        "adopt",
        "--into",
        &target.url,
        "--dir",
        dir.path().to_str().unwrap(),
        "--json",
    ]);
    expect_code(&out, 0);
    let report = json(&out);
    assert_eq!(report["applied"], true);
    assert_eq!(report["tables"], plan["tables"]);
    assert!(
        stderr(&out).contains("maintain --reindex-face"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "the staging copy is deleted"
    );
    let still_original: bool =
        sqlx::query_scalar("select to_regclass('public.alembic_version') is not null")
            .fetch_one(&mut original.conn().await)
            .await
            .unwrap();
    assert!(still_original);
    expect_code(&target.run(&["db", "check"]), 0);
    // A second adoption of the copy is refused.
    expect_code(&target.run(&["adopt"]), 1);

    // An adopted database (two schemas, the extension in public) backs up and restores
    // over itself.
    let out = target.run(&["backup", "--dir", dir.path().to_str().unwrap(), "--json"]);
    expect_code(&out, 0);
    let file = json(&out)["file"].as_str().unwrap().to_owned();
    let out = target.run(&[
        "restore",
        "--force",
        "--dir",
        dir.path().to_str().unwrap(),
        &file,
    ]);
    expect_code(&out, 0);
    expect_code(&target.run(&["db", "check"]), 0);
    let kept: i64 = sqlx::query_scalar("select count(*) from powergym_original.clients")
        .fetch_one(&mut target.conn().await)
        .await
        .unwrap();
    assert_eq!(kept, 300, "the original's rows came back too");
}
