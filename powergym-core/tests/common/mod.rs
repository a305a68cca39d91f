//! Per-test databases: on the real PostgreSQL server named by `DATABASE_URL`, or, with
//! `POWERGYM_TEST_STORE=sqlite`, in a SQLite file of their own.
//!
//! Each test gets a database of its own, created empty and dropped (with FORCE) or deleted
//! when the guard goes out of scope, so tests run in parallel without seeing each other's
//! rows. The tests that take their gym from here are the store contract: every store
//! must pass them (scripts/test.sh runs them once per store).
#![allow(dead_code, unreachable_pub, missing_docs)]

pub mod faces;
pub mod sql;
pub mod world;

use std::sync::atomic::{AtomicU32, Ordering};

use powergym_core::{Actor, Gym, GymOptions, PoolSettings};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

pub const DEFAULT_URL: &str = "postgres://powergym:powergym@127.0.0.1:5432/powergym";

pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// Replaces the database name at the end of a URL.
pub fn url_for(base: &str, db: &str) -> String {
    let (prefix, rest) = base
        .rsplit_once('/')
        .expect("DATABASE_URL has a database name");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{prefix}/{db}{query}")
}

/// Which store the tests run against (`POWERGYM_TEST_STORE`: `postgres`, the default,
/// or `sqlite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Postgres,
    Sqlite,
}

pub fn store_kind() -> StoreKind {
    match std::env::var("POWERGYM_TEST_STORE").as_deref() {
        Ok("sqlite") => StoreKind::Sqlite,
        Ok("postgres") | Err(_) => StoreKind::Postgres,
        Ok(other) => panic!("POWERGYM_TEST_STORE must be postgres or sqlite, not {other}"),
    }
}

/// Ends a test that checks PostgreSQL's own behaviour (through SQL of its dialect) when
/// the suite runs against another store.
#[macro_export]
macro_rules! postgres_only {
    () => {
        if $crate::common::store_kind() != $crate::common::StoreKind::Postgres {
            eprintln!("skipped: checks PostgreSQL itself");
            return;
        }
    };
}

pub struct TestDb {
    pub name: String,
    pub url: String,
    pub kind: StoreKind,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// A new, empty database.
    pub async fn new() -> Self {
        let name = format!(
            "powergym_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            uuid::Uuid::new_v4().simple().to_string().get(..8).unwrap()
        );
        if store_kind() == StoreKind::Sqlite {
            let dir = std::env::temp_dir().join("powergym-tests");
            std::fs::create_dir_all(&dir).expect("temporary directory for SQLite tests");
            let url = format!("sqlite://{}", dir.join(format!("{name}.db")).display());
            return Self {
                name,
                url,
                kind: StoreKind::Sqlite,
            };
        }
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .expect("DATABASE_URL must reach the test server (run scripts/setup-postgres.sh)");
        drop_leftovers(&mut admin).await;
        sqlx::query(AssertSqlSafe(format!("create database \"{name}\"")))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let url = url_for(&admin_url(), &name);
        Self {
            name,
            url,
            kind: StoreKind::Postgres,
        }
    }

    /// A new database migrated to head, and a gym on it.
    pub async fn migrated() -> (Self, Gym) {
        let db = Self::new().await;
        let gym = db.gym().await;
        gym.migrations().run().await.expect("migrate to head");
        (db, gym)
    }

    /// A new database migrated to head, a gym on it, and its first admin.
    pub async fn with_admin() -> (Self, Gym, Actor) {
        let (db, gym) = Self::migrated().await;
        gym.bootstrap_admin("admin", "admin-password")
            .await
            .expect("bootstrap admin");
        let admin = gym.acting_as("admin").await.expect("admin can act");
        (db, gym, admin)
    }

    pub async fn gym(&self) -> Gym {
        self.gym_with(GymOptions::default()).await
    }

    /// A gym whose clock is stopped at `instant` (RFC 3339).
    pub async fn gym_at(&self, instant: &str) -> Gym {
        let now: chrono::DateTime<chrono::Utc> = instant.parse().expect("RFC 3339 instant");
        let options = GymOptions {
            clock: std::sync::Arc::new(powergym_core::FixedClock(now)),
            ..GymOptions::default()
        };
        self.gym_with(options).await
    }

    async fn gym_with(&self, base: GymOptions) -> Gym {
        let options = GymOptions {
            pool: PoolSettings {
                max_connections: 60,
                ..PoolSettings::default()
            },
            ..base
        };
        Gym::open_with(&self.url, options)
            .await
            .expect("open the test database")
    }

    /// A direct connection, for tests of PostgreSQL itself (see [`postgres_only`]).
    pub async fn conn(&self) -> PgConnection {
        assert_eq!(
            self.kind,
            StoreKind::Postgres,
            "a PostgreSQL-only test ran on {:?}",
            self.kind
        );
        PgConnection::connect(&self.url)
            .await
            .expect("connect to test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if self.kind == StoreKind::Sqlite {
            if let Some(path) = self.url.strip_prefix("sqlite://") {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            return;
        }
        let name = self.name.clone();
        // Drop is synchronous; a short-lived runtime on its own thread does the async work
        // without touching the test's runtime. The wait is bounded: while it lasts the
        // test's runtime is blocked, and a connection one of its tasks was opening (a
        // gym's cache following a late change) stalls in authentication, where the
        // server's backend does not answer the barrier a drop waits for (PostgreSQL's
        // `authentication_timeout`, a minute). Past the bound the drop goes on alone once
        // the test's runtime is gone; a drop the process did not live to finish is done
        // by the next test process (`drop_leftovers`).
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                    drop_database(&mut admin, &name, true).await;
                }
            });
            let _ = done.send(());
        });
        let _ = finished.recv_timeout(std::time::Duration::from_secs(3));
    }
}

/// Drops the database; with `force`, closing whatever is connected to it.
async fn drop_database(admin: &mut PgConnection, name: &str, force: bool) {
    let force = if force { " with (force)" } else { "" };
    let _ = sqlx::query(AssertSqlSafe(format!(
        "drop database if exists \"{name}\"{force}"
    )))
    .execute(&mut *admin)
    .await;
}

/// Drops, once per test process, the databases that test processes no longer running
/// left behind (named `powergym_test_<pid>_…`; a process is gone when `/proc` has no
/// entry for it, so elsewhere than Linux nothing is dropped). Never by force: a
/// database something is still connected to (a suite of another machine or container
/// on the same server, whose process ids this one cannot see) is left alone.
async fn drop_leftovers(admin: &mut PgConnection) {
    static ONCE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    if !std::path::Path::new("/proc/self").exists() {
        return;
    }
    ONCE.get_or_init(|| async {
        let names: Vec<String> = sqlx::query_scalar(
            "select datname::text from pg_database where datname like 'powergym\\_test\\_%'",
        )
        .fetch_all(&mut *admin)
        .await
        .unwrap_or_default();
        for name in names {
            let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
            let gone = pid.is_some_and(|p| !std::path::Path::new(&format!("/proc/{p}")).exists());
            if gone {
                drop_database(admin, &name, false).await;
            }
        }
    })
    .await;
}
