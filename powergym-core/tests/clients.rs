//! Client registration and lookup on the real database.

mod common;

use chrono::NaiveDate;
use common::TestDb;
use powergym_core::{
    ActiveFilter, ClientId, ClientInput, DocumentType, Error, Gender, PageRequest,
};

fn input(number: &str) -> ClientInput {
    ClientInput {
        document_type: DocumentType::Cc,
        document_number: number.into(),
        first_name: "Ana".into(),
        middle_name: Some("María".into()),
        last_name: "Gómez".into(),
        second_last_name: None,
        phone: "300 123 4567".into(),
        alternative_phone: None,
        email: Some("ana@example.com".into()),
        birth_date: NaiveDate::from_ymd_opt(1994, 5, 17).unwrap(),
        gender: Gender::Female,
        address: Some("  Calle 10 # 5-20 ".into()),
    }
}

async fn count_clients(db: &TestDb) -> i64 {
    db.int("select count(*) from clients", &[]).await
}

#[tokio::test]
async fn register_then_find_by_id_and_document() {
    let (_db, gym, admin) = TestDb::with_admin().await;
    let client = gym
        .register_client(&admin, input("1.020.304.050"))
        .await
        .unwrap();
    assert_eq!(client.document_number.as_str(), "1020304050");
    assert_eq!(client.full_name(), "Ana María Gómez");
    assert_eq!(client.phone.as_str(), "3001234567");
    assert_eq!(client.address.as_deref(), Some("Calle 10 # 5-20"));
    assert!(client.is_active);

    assert_eq!(gym.client(&admin, client.id).await.unwrap(), client);
    let by_doc = gym
        .client_by_document(&admin, DocumentType::Cc, "1020304050")
        .await
        .unwrap();
    assert_eq!(by_doc, client);
    // Same number under another document type is someone else's (or nobody's) document.
    let err = gym
        .client_by_document(&admin, DocumentType::Ti, "1020304050")
        .await
        .unwrap_err();
    assert_eq!(err, Error::NotFound { entity: "client" });
}

#[tokio::test]
async fn duplicate_document_is_already_exists_and_writes_nothing() {
    let (db, gym, admin) = TestDb::with_admin().await;
    gym.register_client(&admin, input("123456789"))
        .await
        .unwrap();
    let err = gym
        .register_client(&admin, input("123.456.789"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::AlreadyExists {
            entity: "client",
            field: "document_number"
        }
    );
    assert!(
        !err.to_string().contains("123456789"),
        "no personal data in {err}"
    );
    assert_eq!(count_clients(&db).await, 1);
}

#[tokio::test]
async fn invalid_input_is_a_validation_error_and_writes_nothing() {
    let (db, gym, admin) = TestDb::with_admin().await;
    type Mutation = Box<dyn Fn(&mut ClientInput)>;
    let cases: Vec<(&str, Mutation)> = vec![
        (
            "document_number",
            Box::new(|c| c.document_number = "12AB".into()),
        ),
        ("first_name", Box::new(|c| c.first_name = "   ".into())),
        ("phone", Box::new(|c| c.phone = "12".into())),
        ("email", Box::new(|c| c.email = Some("not-an-email".into()))),
        (
            "birth_date",
            Box::new(|c| c.birth_date = NaiveDate::from_ymd_opt(2999, 1, 1).unwrap()),
        ),
    ];
    for (field, mutate) in cases {
        let mut bad = input("5566778899");
        mutate(&mut bad);
        match gym.register_client(&admin, bad).await {
            Err(Error::Validation { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: expected a validation error, got {other:?}"),
        }
    }
    assert_eq!(count_clients(&db).await, 0);
}

#[tokio::test]
async fn unknown_id_is_not_found() {
    let (_db, gym, admin) = TestDb::with_admin().await;
    let err = gym
        .client(&admin, ClientId::from_uuid(uuid::Uuid::new_v4()))
        .await
        .unwrap_err();
    assert_eq!(err, Error::NotFound { entity: "client" });
}

#[tokio::test]
async fn paging_is_stable_newest_first_and_complete() {
    let (db, gym, admin) = TestDb::with_admin().await;
    let mut registered = Vec::new();
    for i in 0..7 {
        registered.push(
            gym.register_client(&admin, input(&format!("10000{i}")))
                .await
                .unwrap()
                .id,
        );
    }
    let mut seen = Vec::new();
    for offset in (0..7).step_by(3) {
        let page = gym
            .list_clients(&admin, PageRequest::new(3, offset).unwrap())
            .await
            .unwrap();
        assert_eq!(page.total, 7);
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|c| c.id));
    }
    registered.reverse();
    assert_eq!(seen, registered, "every client once, newest first");

    db.sql(
        "update clients set is_active = false where id = $1",
        &[common::sql::id(registered[0])],
    )
    .await;
    let active = gym
        .list_clients_filtered(&admin, ActiveFilter::Active, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(active.total, 6);
    let inactive = gym
        .list_clients_filtered(&admin, ActiveFilter::Inactive, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        inactive.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        [registered[0]]
    );
}

#[tokio::test]
async fn concurrent_registrations_of_one_document_store_exactly_one() {
    let (db, gym, admin) = TestDb::with_admin().await;
    let attempts = (0..20).map(|_| {
        let gym = gym.clone();
        let admin = admin.clone();
        tokio::spawn(async move { gym.register_client(&admin, input("998877665")).await })
    });
    let results = futures::future::join_all(attempts).await;
    let mut ok = 0;
    for r in results {
        match r.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(
                e,
                Error::AlreadyExists {
                    entity: "client",
                    field: "document_number"
                }
            ),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(count_clients(&db).await, 1);
}

#[tokio::test]
async fn update_search_and_deactivate() {
    let (_db, gym, admin) = TestDb::with_admin().await;
    let ana = gym
        .register_client(&admin, input("10203040"))
        .await
        .unwrap();
    let mut other = input("50607080");
    other.first_name = "José".into();
    other.last_name = "Núñez".into();
    let jose = gym.register_client(&admin, other).await.unwrap();

    let found = gym
        .search_clients(&admin, "JOSE nunez", PageRequest::default())
        .await
        .unwrap();
    assert_eq!(
        found.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        [jose.id]
    );
    assert_eq!(
        gym.search_clients(&admin, "gómez", PageRequest::default())
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        gym.search_clients(&admin, "5060", PageRequest::default())
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        gym.search_clients(&admin, "%", PageRequest::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(matches!(
        gym.search_clients(&admin, "  ", PageRequest::default())
            .await,
        Err(Error::Validation { .. })
    ));

    let update = powergym_core::ClientUpdate {
        phone: Some("311 222 3344".into()),
        middle_name: Some(String::new()),
        ..Default::default()
    };
    let updated = gym.update_client(&admin, ana.id, update).await.unwrap();
    assert_eq!(
        (updated.phone.as_str(), updated.middle_name.is_none()),
        ("3112223344", true)
    );
    let blank = powergym_core::ClientUpdate {
        last_name: Some("  ".into()),
        ..Default::default()
    };
    assert!(matches!(
        gym.update_client(&admin, ana.id, blank).await,
        Err(Error::Validation {
            field: "last_name",
            ..
        })
    ));
    let taken = powergym_core::ClientUpdate {
        document: Some((DocumentType::Cc, "50607080".into())),
        ..Default::default()
    };
    assert!(matches!(
        gym.update_client(&admin, ana.id, taken).await,
        Err(Error::AlreadyExists { .. })
    ));

    assert!(
        !gym.set_client_active(&admin, ana.id, false)
            .await
            .unwrap()
            .is_active
    );
    assert!(
        gym.set_client_active(&admin, ana.id, true)
            .await
            .unwrap()
            .is_active
    );
}

/// The server's own log, where PostgreSQL writes every error with its DETAIL line.
fn server_log() -> String {
    let path = std::env::var("POWERGYM_SERVER_LOG")
        .unwrap_or_else(|_| "/var/log/postgresql/postgresql-15-main.log".into());
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read the server log {path} ({e}); set POWERGYM_SERVER_LOG to it")
    })
}

#[tokio::test]
async fn a_duplicate_document_never_reaches_the_server_log() {
    let (_db, gym, admin) = TestDb::with_admin().await;
    // A number no other test uses, so finding it in the log can only mean this test.
    let number = format!(
        "{}",
        3_000_000_000u64 + u64::from(std::process::id() % 1_000_000)
    );
    let first = gym.register_client(&admin, input(&number)).await.unwrap();
    let err = gym
        .register_client(&admin, input(&number))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::AlreadyExists {
            entity: "client",
            field: "document_number"
        }
    );
    let other = gym
        .register_client(&admin, input("1020304059"))
        .await
        .unwrap();
    let err = gym
        .update_client(
            &admin,
            other.id,
            powergym_core::ClientUpdate {
                document: Some((DocumentType::Cc, number.clone())),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::AlreadyExists {
                field: "document_number",
                ..
            }
        ),
        "{err:?}"
    );
    let missing = gym
        .update_client(
            &admin,
            ClientId::from_uuid(uuid::Uuid::new_v4()),
            powergym_core::ClientUpdate::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
    assert_eq!(
        gym.client(&admin, first.id)
            .await
            .unwrap()
            .document_number
            .as_str(),
        number
    );
    // Staff e-mail addresses and usernames collide the same quiet way.
    let email = format!("desk{}@gym.example", std::process::id());
    let staff = |username: &str| powergym_core::StaffInput {
        username: username.into(),
        password: "a-long-password".into(),
        role: powergym_core::Role::Employee,
        email: Some(email.clone()),
        full_name: None,
    };
    gym.create_staff(&admin, staff("desk-one")).await.unwrap();
    for (username, field) in [("desk-two", "email"), ("desk-one", "username")] {
        let err = gym.create_staff(&admin, staff(username)).await.unwrap_err();
        assert_eq!(
            err,
            Error::AlreadyExists {
                entity: "staff member",
                field
            }
        );
    }
    // Nothing the caller sees names the person either.
    for shown in [format!("{err:?}"), err.to_string()] {
        assert!(
            !shown.contains(&number) && !shown.contains(&email),
            "{shown}"
        );
    }
    // The rest reads PostgreSQL's server log (SQLite has no server and keeps no log).
    postgres_only!();
    // Prove the file read is the server's live log: a warning of our own must be in it.
    let marker = format!("powergym-log-marker-{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "do $$ begin raise warning '{marker}'; end $$"
    )))
    .execute(&mut _db.conn().await)
    .await
    .unwrap();
    let log = server_log();
    assert!(
        log.contains(&marker),
        "that file is not the server's live log"
    );
    assert!(
        !log.contains(&number),
        "the server log holds the document number"
    );
    assert!(!log.contains(&email), "the server log holds the e-mail");
}
