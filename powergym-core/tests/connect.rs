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
