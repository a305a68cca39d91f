//! Connecting: every way it can fail has its own typed error and a message that says
//! what to do, without repeating the URL (it may hold a password).

mod common;

use std::time::Duration;

use common::{TestDb, admin_url, url_for};
use powergym_core::{Error, Gym, GymOptions, PoolSettings};

fn quick() -> GymOptions {
    GymOptions {
        pool: PoolSettings {
            acquire_timeout: Duration::from_secs(5),
            ..PoolSettings::default()
        },
        ..GymOptions::default()
    }
}

#[tokio::test]
async fn malformed_url_is_invalid_database_url() {
    for url in [
        "not a url",
        "mysql://u:hunter2@localhost/db",
        "postgres://u:hunter2@:5432/db",
    ] {
        let err = Gym::connect_with(url, quick()).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidDatabaseUrl { .. }),
            "{url}: {err:?}"
        );
        assert!(!err.to_string().contains("hunter2"));
    }
}

#[tokio::test]
async fn unreachable_server_is_connection_failed() {
    // Port 1 on loopback: nothing listens there.
    let err = Gym::connect_with("postgres://u:hunter2@127.0.0.1:1/db", quick())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionFailed { .. }), "{err:?}");
    assert!(!err.to_string().contains("hunter2"));
}

#[tokio::test]
async fn wrong_password_is_connection_failed() {
    let url = admin_url().replacen(":powergym@", ":wrong-password@", 1);
    let err = Gym::connect_with(&url, quick()).await.unwrap_err();
    match &err {
        Error::ConnectionFailed { reason } => assert!(reason.contains("password"), "{reason}"),
        other => panic!("expected ConnectionFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn missing_database_is_connection_failed() {
    let url = url_for(&admin_url(), "powergym_no_such_database");
    let err = Gym::connect_with(&url, quick()).await.unwrap_err();
    match &err {
        Error::ConnectionFailed { reason } => {
            assert!(reason.contains("does not exist"), "{reason}")
        }
        other => panic!("expected ConnectionFailed, got {other:?}"),
    }
}

#[tokio::test]
async fn pool_defaults_match_the_original_deployment() {
    let s = PoolSettings::default();
    assert_eq!(s.max_connections, 30);
    assert!(s.test_before_acquire);
    assert_eq!(s.max_lifetime, Some(Duration::from_secs(3600)));
    let bad = GymOptions {
        pool: PoolSettings {
            max_connections: 0,
            ..PoolSettings::default()
        },
        ..GymOptions::default()
    };
    let err = Gym::connect_with(&admin_url(), bad).await.unwrap_err();
    assert!(matches!(
        err,
        Error::Validation {
            field: "max_connections",
            ..
        }
    ));
}

#[tokio::test]
async fn a_host_pool_can_be_adopted() {
    let (db, _, admin) = TestDb::with_admin().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let gym = Gym::from_pool(pool.clone(), GymOptions::default());
    gym.migrations().check().await.unwrap();
    assert_eq!(
        gym.list_clients(&admin, Default::default())
            .await
            .unwrap()
            .total,
        0
    );
    gym.close().await;
    assert!(pool.is_closed());
    let err = gym
        .list_clients(&admin, Default::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionFailed { .. }), "{err:?}");
}

#[tokio::test]
async fn absurd_pool_settings_are_refused_not_an_abort() {
    for (pool, field) in [
        (
            PoolSettings {
                max_connections: 1 << 31,
                ..PoolSettings::default()
            },
            "max_connections",
        ),
        (
            PoolSettings {
                min_connections: 40,
                ..PoolSettings::default()
            },
            "min_connections",
        ),
        (
            PoolSettings {
                acquire_timeout: Duration::ZERO,
                ..PoolSettings::default()
            },
            "acquire_timeout",
        ),
        (
            PoolSettings {
                lock_timeout: Some(Duration::from_secs(365 * 24 * 3600)),
                ..PoolSettings::default()
            },
            "lock_timeout",
        ),
    ] {
        let options = GymOptions {
            pool,
            ..GymOptions::default()
        };
        match Gym::connect_with(&admin_url(), options).await {
            Err(Error::Validation { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

/// The test server's CA certificate, made by scripts/setup-postgres.sh.
fn tls_root() -> String {
    std::env::var("POWERGYM_TLS_ROOT_CERT")
        .unwrap_or_else(|_| "/etc/postgresql/15/main/powergym-tls/root.crt".into())
}

/// The same database reached through `host` with the query string `params`.
fn tls_url(db: &TestDb, host: &str, params: &str) -> String {
    let base = db.url.split('?').next().unwrap().to_owned();
    let base = base.replacen("@127.0.0.1:", &format!("@{host}:"), 1);
    format!("{base}?{params}")
}

async fn uses_tls(url: &str) -> bool {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query_scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn tls_require_verify_ca_and_verify_full() {
    let db = TestDb::new().await;
    let root = tls_root();
    assert!(
        std::path::Path::new(&root).exists(),
        "{root} missing: run scripts/setup-postgres.sh"
    );
    for url in [
        tls_url(&db, "127.0.0.1", "sslmode=require"),
        tls_url(
            &db,
            "127.0.0.1",
            &format!("sslmode=verify-ca&sslrootcert={root}"),
        ),
        tls_url(
            &db,
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={root}"),
        ),
    ] {
        let gym = Gym::connect_with(&url, quick())
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        gym.migrations().run().await.unwrap();
        gym.close().await;
        assert!(uses_tls(&url).await, "the session is encrypted");
    }
    // A certificate from another authority is refused, saying it is TLS.
    let wrong = tls_url(
        &db,
        "localhost",
        "sslmode=verify-full&sslrootcert=/etc/ssl/certs/ssl-cert-snakeoil.pem",
    );
    match Gym::connect_with(&wrong, quick()).await {
        Err(Error::ConnectionFailed { reason }) => assert!(reason.contains("TLS"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

/// A TCP relay to the real server that the test can cut (as a server that stops does)
/// or freeze (as a backend that hangs does: connections stay open, nothing comes back).
struct Relay {
    port: u16,
    stop: tokio::sync::watch::Sender<bool>,
    freeze: tokio::sync::watch::Sender<bool>,
}

impl Relay {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let (freeze, frozen) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stopped.changed() => return, // the listener closes: refused
                    accepted = listener.accept() => {
                        let Ok((mut inbound, _)) = accepted else { return };
                        let mut watch = stopped.clone();
                        let mut ice = frozen.clone();
                        tokio::spawn(async move {
                            let Ok(mut outbound) =
                                tokio::net::TcpStream::connect("127.0.0.1:5432").await
                            else {
                                return;
                            };
                            let hang = tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => false,
                                _ = watch.changed() => false,
                                _ = ice.changed() => true,
                            };
                            if hang {
                                // Both sockets stay open and silent.
                                tokio::time::sleep(Duration::from_secs(600)).await;
                            }
                        });
                    }
                }
            }
        });
        Self { port, stop, freeze }
    }

    fn freeze(&self) {
        let _ = self.freeze.send(true);
    }

    fn url(&self, db: &TestDb) -> String {
        db.url.replacen(":5432/", &format!(":{}/", self.port), 1)
    }

    fn cut(&self) {
        let _ = self.stop.send(true);
    }
}

#[tokio::test]
async fn a_server_that_stops_is_reported_at_once_not_after_the_acquire_timeout() {
    let (db, _, admin) = TestDb::with_admin().await;
    let relay = Relay::start().await;
    let gym = Gym::connect_with(&relay.url(&db), GymOptions::default())
        .await
        .unwrap();
    gym.list_staff(&admin).await.unwrap();
    relay.cut();
    let started = std::time::Instant::now();
    let err = gym.list_staff(&admin).await.unwrap_err();
    assert!(matches!(err, Error::ConnectionFailed { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?} with a 30 s acquire timeout",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_call_behind_a_held_row_lock_times_out_and_writes_nothing() {
    let (db, _, admin) = TestDb::with_admin().await;
    let gym = Gym::connect_with(
        &db.url,
        GymOptions {
            pool: PoolSettings {
                lock_timeout: Some(Duration::from_millis(500)),
                ..PoolSettings::default()
            },
            ..GymOptions::default()
        },
    )
    .await
    .unwrap();
    let plan = gym
        .create_plan(
            &admin,
            powergym_core::PlanInput {
                name: "Monthly".into(),
                slug: None,
                description: None,
                price: rust_decimal::Decimal::from(80000),
                currency: None,
                duration_unit: powergym_core::DurationUnit::Month,
                duration_count: 1,
            },
        )
        .await
        .unwrap();
    use sqlx::Connection;
    let mut holder = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("begin; select * from plans for update;")
        .execute(&mut holder)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let err = gym
        .update_plan(
            &admin,
            plan.id,
            powergym_core::PlanUpdate {
                name: Some("Renamed".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    sqlx::raw_sql("rollback")
        .execute(&mut holder)
        .await
        .unwrap();
    assert_eq!(gym.plan(&admin, plan.id).await.unwrap().name, "Monthly");
}

#[tokio::test]
async fn a_backend_that_stops_answering_costs_a_call_its_bound_not_forever() {
    let (db, _, admin) = TestDb::with_admin().await;
    let relay = Relay::start().await;
    let gym = Gym::connect_with(
        &relay.url(&db),
        GymOptions {
            call_timeout: Some(Duration::from_secs(2)),
            ..GymOptions::default()
        },
    )
    .await
    .unwrap();
    gym.list_staff(&admin).await.unwrap();
    relay.freeze();
    let started = std::time::Instant::now();
    let err = gym.list_staff(&admin).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}
