//! Least privilege: the schema owner migrates, the application's role only reads and
//! writes rows. Neither is a superuser (roles made by scripts/setup-postgres.sh).

mod common;

use common::{TestDb, admin_url, url_for};
use powergym_core::domain::consent::ConsentInput;
use powergym_core::migrate::latest_version;
use powergym_core::{Error, Gym};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

fn as_role(db: &str, role: &str) -> String {
    let url = url_for(&admin_url(), db);
    let (scheme, rest) = url.split_once("://").unwrap();
    let (_, host) = rest.split_once('@').unwrap();
    format!("{scheme}://{role}:{role}@{host}")
}

#[tokio::test]
async fn the_owner_migrates_and_the_app_role_only_reads_and_writes_rows() {
    let db = TestDb::new().await;
    let mut admin = PgConnection::connect(&admin_url()).await.unwrap();
    let roles: i64 = sqlx::query_scalar(
        "select count(*) from pg_roles where rolname in ('powergym_owner', 'powergym_app') \
         and not rolsuper",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(
        roles, 2,
        "run scripts/setup-postgres.sh: it makes both roles"
    );
    sqlx::query(AssertSqlSafe(format!(
        "alter database \"{}\" owner to powergym_owner",
        db.name
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    // pgvector is not a trusted extension: a superuser creates it once.
    let mut superuser = db.conn().await;
    sqlx::raw_sql("create extension vector; create extension btree_gist;")
        .execute(&mut superuser)
        .await
        .unwrap();

    let owner = Gym::connect(&as_role(&db.name, "powergym_owner"))
        .await
        .unwrap();
    owner.migrations().run().await.unwrap();
    // Before the grant the app role reads nothing: the grant is what lets it work.
    let mut app_conn = PgConnection::connect(&as_role(&db.name, "powergym_app"))
        .await
        .unwrap();
    assert!(
        sqlx::query("select count(*) from clients")
            .execute(&mut app_conn)
            .await
            .is_err()
    );
    owner
        .operations()
        .grant_app_role("powergym_app")
        .await
        .unwrap();
    assert!(matches!(
        owner.operations().grant_app_role("powergym").await,
        Err(Error::Validation { field: "role", .. })
    ));

    let app = Gym::connect(&as_role(&db.name, "powergym_app"))
        .await
        .unwrap();
    app.migrations().check().await.unwrap();
    app.bootstrap_admin("admin", "admin-password")
        .await
        .unwrap();
    let (admin_actor, _) = app.authenticate("admin", "admin-password").await.unwrap();
    app.list_staff(&admin_actor).await.unwrap();
    // A first import as the app role refreshes the templates' statistics, through the
    // owner's function of migration 0018 (the app role may not analyse the table).
    let member = app
        .register_client(&admin_actor, common::world::client_input("71000001"))
        .await
        .unwrap()
        .id;
    app.record_biometric_consent(
        &admin_actor,
        member,
        ConsentInput {
            purpose: "face check-in at the front desk".into(),
            guardian: None,
        },
    )
    .await
    .unwrap();
    let imported = app
        .enroll_faces(
            &admin_actor,
            &[member],
            common::faces::face(1).as_slice(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(imported.enrolled, 1);
    let estimated: f32 =
        sqlx::query_scalar("select reltuples from pg_class where oid = 'biometrics'::regclass")
            .fetch_one(&mut app_conn)
            .await
            .unwrap();
    assert_eq!(estimated, 1.0, "the never-analysed table was not analysed");
    app.operations().health_report().await.unwrap();
    // No DDL: the app role can neither revert a migration nor drop a table.
    let revert = app
        .migrations()
        .revert_to_confirmed(
            latest_version() - 1,
            powergym_core::migrate::DataLoss::Accepted,
        )
        .await;
    assert!(revert.is_err(), "{revert:?}");
    assert_eq!(
        app.migrations().current_version().await.unwrap(),
        latest_version()
    );
    let dropped = sqlx::query("drop table clients")
        .execute(&mut app_conn)
        .await;
    assert!(dropped.is_err());
    // The migration history is the owner's: readable, never rewritten by the app.
    for write in [
        "delete from powergym_schema_migrations",
        "update powergym_schema_migrations set checksum = checksum",
    ] {
        assert!(
            sqlx::query(write).execute(&mut app_conn).await.is_err(),
            "{write}"
        );
    }
    let is_super: bool =
        sqlx::query_scalar("select rolsuper from pg_roles where rolname = current_user")
            .fetch_one(&mut app_conn)
            .await
            .unwrap();
    assert!(!is_super);
    app.close().await;
    owner.close().await;
}
