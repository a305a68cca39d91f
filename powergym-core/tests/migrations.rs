//! Migration operations against a real PostgreSQL + pgvector server.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::TestDb;
use std::time::Duration;

use powergym_core::migrate::{HISTORY_TABLE, latest_version, library_versions};
use powergym_core::{Error, Gym, GymOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqlSafeStr};

fn migrations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres")
}

/// The database's schema as `pg_dump` prints it, minus our history table (whose rows
/// carry timestamps).
fn schema_dump(url: &str) -> String {
    let out = Command::new("pg_dump")
        .args(["--schema-only", "--no-owner", "--no-privileges"])
        .arg(format!("--exclude-table={HISTORY_TABLE}"))
        .arg(format!("--dbname={url}"))
        .output()
        .expect("pg_dump runs (installed with PostgreSQL)");
    assert!(
        out.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| {
            !l.starts_with("--") && !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn public_tables(db: &TestDb) -> Vec<String> {
    let mut conn = db.conn().await;
    sqlx::query_scalar(
        "select tablename::text from pg_tables where schemaname = 'public' order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
}

const TABLES: [&str; 14] = [
    "access_denials",
    "attendances",
    "biometric_consents",
    "biometrics",
    "clients",
    "inventory_movements",
    "payments",
    "plans",
    "powergym_size_history",
    "products",
    "rewards",
    "sign_in_throttles",
    "subscriptions",
    "users",
];

#[tokio::test]
async fn up_down_to_base_and_up_again_gives_the_same_catalog() {
    let (db, gym) = TestDb::migrated().await;
    let first = schema_dump(&db.url);
    let mut tables = public_tables(&db).await;
    tables.retain(|t| t != HISTORY_TABLE);
    assert_eq!(tables, TABLES);

    gym.migrations()
        .revert_to_confirmed(0, powergym_core::migrate::DataLoss::Accepted)
        .await
        .unwrap();
    assert_eq!(gym.migrations().current_version().await.unwrap(), 0);
    assert_eq!(public_tables(&db).await, [HISTORY_TABLE]);
    let mut conn = db.conn().await;
    let leftovers: i64 = sqlx::query_scalar(
        "select (select count(*) from pg_type t join pg_namespace n on n.oid = t.typnamespace \
                 where n.nspname = 'public' and t.typtype = 'e') \
              + (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace \
                 where n.nspname = 'public' and p.proname like 'powergym_%') \
              + (select count(*) from pg_extension where extname in ('vector', 'btree_gist'))",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        leftovers, 0,
        "down to base must remove every type, function and extension"
    );

    gym.migrations().run().await.unwrap();
    assert_eq!(schema_dump(&db.url), first);
}

#[tokio::test]
async fn plain_psql_of_the_up_scripts_gives_the_same_schema() {
    let (by_library, _gym) = TestDb::migrated().await;
    let by_psql = TestDb::new().await;
    let mut files: Vec<PathBuf> = std::fs::read_dir(migrations_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".up.sql"))
        .collect();
    files.sort();
    assert_eq!(files.len(), library_versions().len());
    for file in &files {
        let status = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(file)
            .arg(&by_psql.url)
            .status()
            .expect("psql runs");
        assert!(status.success(), "psql failed on {}", file.display());
    }
    assert_eq!(schema_dump(&by_psql.url), schema_dump(&by_library.url));

    // The seed guide's index names exist, and the vector index is HNSW with cosine ops.
    let mut conn = by_psql.conn().await;
    let indexes: Vec<String> =
        sqlx::query_scalar("select indexname::text from pg_indexes where schemaname = 'public'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    for name in [
        "idx_users_email",
        "idx_users_username",
        "idx_clients_dni",
        "idx_clients_active",
        "idx_subscriptions_client",
        "idx_subscriptions_dates",
        "idx_attendances_client",
        "idx_attendances_date",
    ] {
        assert!(indexes.iter().any(|i| i == name), "missing index {name}");
    }
    // Dropped on purpose by 0016: an index on status would keep every daily-job move
    // from being a heap-only update.
    assert!(!indexes.iter().any(|i| i == "idx_subscriptions_status"));
    // Dropped on purpose by 0017: the face search index is built by an operator who
    // chooses the PostgreSQL search (`Operations::rebuild_face_index`), since keeping it
    // cost every enrolment ~85 ms while the default cache never read it.
    assert!(!indexes.iter().any(|i| i == "idx_biometrics_embedding"));
    let labels: Vec<String> = sqlx::query_scalar(
        "select e.enumlabel::text from pg_enum e join pg_type t on t.oid = e.enumtypid \
         where t.typname = 'subscription_status_enum' order by e.enumsortorder",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        labels,
        [
            "active",
            "expired",
            "pending_payment",
            "scheduled",
            "canceled"
        ]
    );
}

#[tokio::test]
async fn step_by_step_history_current_and_revert() {
    let db = TestDb::new().await;
    let gym = db.gym().await;
    let m = gym.migrations();
    assert_eq!(m.current_version().await.unwrap(), 0);
    let history = m.history().await.unwrap();
    assert_eq!(history.len(), library_versions().len());
    assert!(
        history
            .iter()
            .all(|r| !r.is_applied() && r.checksum.len() == 96)
    );

    m.run_to(2).await.unwrap();
    assert_eq!(m.current_version().await.unwrap(), 2);
    let history = m.history().await.unwrap();
    let applied: Vec<i64> = history
        .iter()
        .filter(|r| r.is_applied())
        .map(|r| r.version)
        .collect();
    assert_eq!(applied, [1, 2]);
    assert!(!history.iter().any(|r| r.checksum_mismatch));

    m.run().await.unwrap();
    assert_eq!(m.current_version().await.unwrap(), latest_version());
    m.check().await.unwrap();

    m.revert().await.unwrap();
    assert_eq!(m.current_version().await.unwrap(), latest_version() - 1);
    let last = m.history().await.unwrap().pop().unwrap();
    assert_eq!((last.version, last.is_applied()), (latest_version(), false));
    m.revert_to(1).await.unwrap();
    assert_eq!(m.current_version().await.unwrap(), 1);
    assert!(!public_tables(&db).await.contains(&"clients".to_owned()));

    let err = m.run_to(42).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Validation {
                field: "version",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(m.current_version().await.unwrap(), 1);
}

#[tokio::test]
async fn database_behind_the_library_is_schema_out_of_date() {
    let db = TestDb::new().await;
    let gym = db.gym().await;
    let err = gym.migrations().check().await.unwrap_err();
    assert_eq!(
        err,
        Error::SchemaOutOfDate {
            database: 0,
            library: latest_version()
        }
    );

    gym.migrations().run_to(3).await.unwrap();
    let err = gym.migrations().check().await.unwrap_err();
    assert_eq!(
        err,
        Error::SchemaOutOfDate {
            database: 3,
            library: latest_version()
        }
    );
    assert!(err.to_string().contains("run the migrations"), "{err}");
}

#[tokio::test]
async fn database_ahead_of_the_library_is_refused_everywhere() {
    let (db, gym) = TestDb::migrated().await;
    let mut conn = db.conn().await;
    // What a newer PowerGym would leave behind.
    sqlx::query(AssertSqlSafe(format!(
        "insert into {HISTORY_TABLE} (version, description, success, checksum, execution_time) \
         values (99, 'from the future', true, '\\x00', 1)"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let expected = Error::SchemaOutOfDate {
        database: 99,
        library: latest_version(),
    };
    assert_eq!(gym.migrations().check().await.unwrap_err(), expected);
    assert!(expected.to_string().contains("upgrade this program"));
    assert_eq!(gym.migrations().run().await.unwrap_err(), expected);
    assert_eq!(gym.migrations().revert().await.unwrap_err(), expected);
    assert_eq!(gym.migrations().stamp(2).await.unwrap_err(), expected);
    // Nothing was reverted.
    assert!(public_tables(&db).await.contains(&"products".to_owned()));
    let history = gym.migrations().history().await.unwrap();
    assert_eq!(history.last().map(|r| r.version), Some(99));
}

#[tokio::test]
async fn edited_migration_is_a_conflict() {
    let (db, gym) = TestDb::migrated().await;
    let mut conn = db.conn().await;
    sqlx::query(AssertSqlSafe(format!(
        "update {HISTORY_TABLE} set checksum = '\\x00' where version = 2"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    let history = gym.migrations().history().await.unwrap();
    assert!(
        history
            .iter()
            .any(|r| r.version == 2 && r.checksum_mismatch)
    );
    assert!(matches!(
        gym.migrations().check().await,
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        gym.migrations().run().await,
        Err(Error::Conflict { .. })
    ));
}

#[tokio::test]
async fn stamp_adopts_a_schema_built_by_other_means() {
    let by_psql = TestDb::new().await;
    for v in library_versions() {
        let file = std::fs::read_dir(migrations_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.starts_with(&format!("{v:04}_")) && n.ends_with(".up.sql")
            })
            .unwrap();
        let ok = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f"])
            .arg(&file)
            .arg(&by_psql.url)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    let gym = by_psql.gym().await;
    assert!(matches!(
        gym.migrations().check().await,
        Err(Error::SchemaOutOfDate { database: 0, .. })
    ));
    gym.migrations().stamp(latest_version()).await.unwrap();
    gym.migrations().check().await.unwrap();
    gym.migrations().run().await.unwrap(); // nothing to do, no script re-run
    assert!(matches!(
        gym.migrations().stamp(2).await,
        Err(Error::Validation {
            field: "version",
            ..
        })
    ));
    gym.migrations()
        .stamp_back(2, powergym_core::migrate::DataLoss::Accepted)
        .await
        .unwrap();
    assert_eq!(gym.migrations().current_version().await.unwrap(), 2);
    assert!(
        public_tables(&by_psql)
            .await
            .contains(&"products".to_owned())
    );
}

#[tokio::test]
async fn host_application_migrations_never_collide_with_ours() {
    let db = TestDb::new().await;
    let host = Migrator::with_migrations(vec![Migration::new(
        1,
        "host table".into(),
        MigrationType::Simple,
        "create table host_things (id integer primary key)".into_sql_str(),
        false,
    )]);
    let mut conn = db.conn().await;
    host.run(&mut conn).await.unwrap();
    let gym = db.gym().await;
    gym.migrations().run().await.unwrap();
    gym.migrations().check().await.unwrap();
    // The host's migrator still sees only its own history and runs again cleanly.
    host.run(&mut conn).await.unwrap();
    let host_versions: Vec<i64> =
        sqlx::query_scalar("select version from _sqlx_migrations order by version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(host_versions, [1]);
    // Reverting ours to base leaves the host's schema alone.
    gym.migrations()
        .revert_to_confirmed(0, powergym_core::migrate::DataLoss::Accepted)
        .await
        .unwrap();
    let tables = public_tables(&db).await;
    assert!(tables.contains(&"host_things".to_owned()), "{tables:?}");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn missing_extension_is_a_typed_error_and_changes_nothing() {
    let db = TestDb::new().await;
    let role = format!("{}_limited", db.name);
    let mut conn = db.conn().await;
    for sql in [
        format!("create role \"{role}\" login password 'limited'"),
        format!("grant all on database \"{}\" to \"{role}\"", db.name),
        format!("grant all on schema public to \"{role}\""),
    ] {
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let limited_url = db
        .url
        .replacen("powergym:powergym@", &format!("{role}:limited@"), 1);
    let gym = powergym_core::Gym::connect(&limited_url).await.unwrap();
    let err = gym.migrations().run().await.unwrap_err();
    match &err {
        Error::ExtensionMissing { extension, hint } => {
            assert_eq!(extension, "vector");
            assert!(hint.contains("CREATE EXTENSION vector"), "{hint}");
        }
        other => panic!("expected ExtensionMissing, got {other:?}"),
    }
    gym.close().await;
    assert!(
        public_tables(&db).await.is_empty(),
        "nothing may be written"
    );
    for sql in [
        format!("revoke all on schema public from \"{role}\""),
        format!("revoke all on database \"{}\" from \"{role}\"", db.name),
        format!("drop owned by \"{role}\""),
        format!("drop role \"{role}\""),
    ] {
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();
}

/// The advisory lock key of PowerGym's migration operations ("powergym" in ASCII).
const MIGRATION_LOCK: i64 = 0x706f_7765_7267_796d;

async fn advisory_locks_held(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar(
        "select count(*) from pg_locks where locktype = 'advisory' and granted \
           and ((classid::int8 << 32) | objid::int8) = $1 \
           and database = (select oid from pg_database where datname = current_database())",
    )
    .bind(MIGRATION_LOCK)
    .fetch_one(conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_failed_migration_releases_its_lock_and_the_next_one_does_not_hang() {
    let db = TestDb::new().await;
    let mut conn = db.conn().await;
    // An object in the way: migration 3 creates `plans` and fails.
    sqlx::query("create table plans (x int)")
        .execute(&mut conn)
        .await
        .unwrap();
    let first = db.gym().await;
    let err = first.migrations().run().await.unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert_eq!(advisory_locks_held(&mut conn).await, 0, "lock released");
    // Another handle (another process, as far as the server knows) is not blocked, and
    // fails for the same reason rather than waiting.
    let second = db.gym().await;
    let started = std::time::Instant::now();
    let again = tokio::time::timeout(Duration::from_secs(20), second.migrations().run())
        .await
        .expect("a second migrate does not hang");
    assert!(matches!(again, Err(Error::Database { .. })), "{again:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The obstacle gone, the migration completes, and close() returns.
    sqlx::query("drop table plans")
        .execute(&mut conn)
        .await
        .unwrap();
    second.migrations().run().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), first.close())
        .await
        .expect("close does not hang");
    second.close().await;
}

#[tokio::test]
async fn a_migrator_waiting_for_another_gives_up_saying_who_holds_the_lock() {
    let db = TestDb::new().await;
    let mut holder = db.conn().await;
    let holder_pid: i32 = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(&mut holder)
        .await
        .unwrap();
    sqlx::query("select pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut holder)
        .await
        .unwrap();
    let gym = Gym::connect_with(
        &db.url,
        GymOptions {
            migration_lock_wait: Duration::from_secs(2),
            ..GymOptions::default()
        },
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let err = gym.migrations().run().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(started.elapsed() < Duration::from_secs(10));
    match &err {
        Error::Timeout { reason } => {
            assert!(
                reason.contains(&format!("server process {holder_pid}")),
                "{reason}"
            )
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(gym.migrations().current_version().await.unwrap(), 0);
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut holder)
        .await
        .unwrap();
    gym.migrations().run().await.unwrap();
}

#[tokio::test]
async fn reverting_to_base_and_stamping_backwards_need_a_confirmation() {
    use powergym_core::migrate::DataLoss;
    let (db, gym) = TestDb::migrated().await;
    let m = gym.migrations();
    let tables = public_tables(&db).await;
    for refused in [m.revert_to(0).await, m.stamp(0).await, m.stamp(3).await] {
        assert!(
            matches!(
                refused,
                Err(Error::Validation {
                    field: "version",
                    ..
                })
            ),
            "{refused:?}"
        );
    }
    assert_eq!(public_tables(&db).await, tables, "nothing dropped");
    assert_eq!(m.current_version().await.unwrap(), latest_version());
    m.stamp_back(3, DataLoss::Accepted).await.unwrap();
    assert_eq!(m.current_version().await.unwrap(), 3);
    m.stamp(latest_version()).await.unwrap();
    m.revert_to_confirmed(0, DataLoss::Accepted).await.unwrap();
    assert_eq!(m.current_version().await.unwrap(), 0);
}
