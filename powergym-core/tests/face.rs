//! Face use cases on the real database: consent, enrolment, erasure, identification,
//! check-in by face, thumbnails, and both matchers behind the `FaceMatcher` trait.

mod common;

use common::TestDb;
use common::faces::{face, near};
use common::sql::{Arg, RawConn, id};
use common::world::*;
use powergym_core::domain::consent::{ConsentInput, Guardian};
use powergym_core::face::{
    FaceMatcher, FaceSearch, Gallery, Identification, MatchPolicy, ThumbnailKey,
};
use powergym_core::store::postgres::PgVectorMatcher;
use powergym_core::{
    ClientId, ClientInput, DenialReason, DocumentType, DurationUnit, Error, FaceCheckIn, Gender,
    GymOptions,
};

fn consent() -> ConsentInput {
    ConsentInput {
        purpose: "face check-in at the front desk".into(),
        guardian: None,
    }
}

/// A member with a recorded consent and an enrolled face.
async fn enrolled(w: &World, number: &str, seed: u64) -> ClientId {
    let id = client(w, number).await;
    w.gym
        .record_biometric_consent(&w.desk, id, consent())
        .await
        .unwrap();
    w.gym
        .enroll_face(&w.desk, id, &face(seed), None)
        .await
        .unwrap();
    id
}

async fn count(w: &World, sql: &'static str) -> i64 {
    scalar(&w.db, sql).await
}

#[tokio::test]
async fn consent_enrolment_identification_and_erasure() {
    let w = world().await;
    let ana = client(&w, "10203040").await;

    // No consent, no template: the use case refuses, and so does the database.
    let err = w
        .gym
        .enroll_face(&w.desk, ana, &face(1), None)
        .await
        .unwrap_err();
    assert_eq!(err, Error::ConsentRequired { guardian: false });
    let direct = w
        .db
        .try_exec(
            "insert into biometrics (client_id, embedding) select id, array_fill(0.1, array[512])::vector from clients",
            "insert into biometrics (client_id, embedding, consent_id) select id, zeroblob(2048), \
             (select c.id from biometric_consents c where c.client_id = clients.id and c.withdrawn_at is null) \
             from clients",
            &[],
        )
        .await
        .unwrap_err();
    assert!(direct.to_string().contains("consent"), "{direct}");
    assert_eq!(count(&w, "select count(*) from biometrics").await, 0);

    let recorded = w
        .gym
        .record_biometric_consent(&w.desk, ana, consent())
        .await
        .unwrap();
    assert!(recorded.is_active() && !recorded.has_guardian);
    assert_eq!(recorded.recorded_by.as_deref(), Some("desk"));
    assert!(matches!(
        w.gym
            .record_biometric_consent(&w.desk, ana, consent())
            .await,
        Err(Error::AlreadyExists { .. })
    ));

    let template = w
        .gym
        .enroll_face(&w.desk, ana, &face(1), None)
        .await
        .unwrap();
    assert_eq!(template.client_id, ana);
    assert_eq!(template.enrolled_by.as_deref(), Some("desk"));
    assert!(!template.has_thumbnail);
    for seed in 2..40 {
        enrolled(&w, &format!("5000{seed:04}"), seed).await;
    }

    // Another photo of Ana at distance 0.3 is Ana; verification agrees.
    let photo = near(&face(1), 99, 0.3);
    match w.gym.identify_face(&w.desk, &photo).await.unwrap() {
        Identification::Match(c) => {
            assert_eq!(c.client_id, ana);
            assert!((c.distance - 0.3).abs() < 1e-3, "{}", c.distance);
            assert!((c.similarity - 0.7).abs() < 1e-3);
        }
        other => panic!("{other:?}"),
    }
    let v = w.gym.verify_face(&w.desk, ana, &photo).await.unwrap();
    assert!(v.matched);
    // One threshold with one meaning: 0.45 away is not Ana, for 1:N and 1:1 alike.
    let far = near(&face(1), 98, 0.45);
    assert_eq!(
        w.gym.identify_face(&w.desk, &far).await.unwrap(),
        Identification::NoMatch
    );
    assert!(!w.gym.verify_face(&w.desk, ana, &far).await.unwrap().matched);

    // Re-enrolment replaces the template in place: one row, the new face.
    w.gym
        .enroll_face(&w.desk, ana, &face(500), None)
        .await
        .unwrap();
    assert_eq!(
        count(&w, "select count(*) from biometrics").await,
        39,
        "old template deleted, not kept inactive"
    );
    assert!(
        !w.gym
            .verify_face(&w.desk, ana, &photo)
            .await
            .unwrap()
            .matched
    );

    // Withdrawing consent erases the template; check-in by document still answers.
    let withdrawn = w
        .gym
        .withdraw_biometric_consent(&w.desk, ana)
        .await
        .unwrap();
    assert!(withdrawn.withdrawn_at.is_some());
    assert_eq!(
        count(&w, "select count(*) from biometrics").await,
        38,
        "the vector itself is gone"
    );
    assert!(matches!(
        w.gym.verify_face(&w.desk, ana, &photo).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.gym.enroll_face(&w.desk, ana, &face(1), None).await,
        Err(Error::ConsentRequired { .. })
    ));
    assert!(
        w.gym
            .check_in_by_document(&w.desk, DocumentType::Cc, "10203040")
            .await
            .is_ok()
    );
    assert!(matches!(
        w.gym.withdraw_biometric_consent(&w.desk, ana).await,
        Err(Error::NotFound { .. })
    ));
    assert_eq!(
        w.gym.biometric_consents(&w.desk, ana).await.unwrap().len(),
        1
    );

    // Removing a face deletes the row; deleting a member cascades to everything.
    let bea = enrolled(&w, "70000001", 700).await;
    assert!(w.gym.remove_face(&w.desk, bea).await.unwrap());
    assert!(!w.gym.remove_face(&w.desk, bea).await.unwrap());
    assert_eq!(count(&w, "select count(*) from biometrics").await, 38);
    w.db.sql("delete from clients where dni_number = '50000002'", &[])
        .await;
    assert_eq!(count(&w, "select count(*) from biometrics").await, 37);
}

#[tokio::test]
async fn a_minor_needs_a_guardian() {
    let w = world().await;
    let teen = w
        .gym
        .register_client(
            &w.desk,
            ClientInput {
                document_type: DocumentType::Ti,
                document_number: "1012345678".into(),
                first_name: "Luis".into(),
                middle_name: None,
                last_name: "Pérez".into(),
                second_last_name: None,
                phone: "3001234567".into(),
                alternative_phone: None,
                email: None,
                birth_date: d("2010-03-01"),
                gender: Gender::Male,
                address: None,
            },
        )
        .await
        .unwrap()
        .id;
    assert_eq!(
        w.gym
            .record_biometric_consent(&w.desk, teen, consent())
            .await
            .unwrap_err(),
        Error::ConsentRequired { guardian: true }
    );
    // The database holds the same line for a TI holder.
    let insert = "insert into biometric_consents (client_id, purpose, granted_at) select id, 'x', $1 from clients";
    let direct =
        w.db.try_exec(insert, insert, &[Arg::Instant(chrono::Utc::now())])
            .await
            .unwrap_err();
    assert!(direct.to_string().contains("guardian"), "{direct}");

    let bad_guardian = ConsentInput {
        guardian: Some(Guardian {
            name: "Marta Pérez".into(),
            document_type: DocumentType::Cc,
            document_number: "12ab".into(),
        }),
        ..consent()
    };
    assert!(matches!(
        w.gym
            .record_biometric_consent(&w.desk, teen, bad_guardian)
            .await,
        Err(Error::Validation {
            field: "guardian_document_number",
            ..
        })
    ));
    let with_guardian = ConsentInput {
        guardian: Some(Guardian {
            name: "Marta Pérez".into(),
            document_type: DocumentType::Cc,
            document_number: "52.123.456".into(),
        }),
        ..consent()
    };
    let c = w
        .gym
        .record_biometric_consent(&w.desk, teen, with_guardian)
        .await
        .unwrap();
    assert!(c.has_guardian);
    assert!(!format!("{c:?}").contains("Marta"));
    w.gym
        .enroll_face(&w.desk, teen, &face(3), None)
        .await
        .unwrap();
    assert_eq!(count(&w, "select count(*) from biometrics").await, 1);
}

#[tokio::test]
async fn duplicates_and_look_alikes_name_no_one() {
    let w = world().await;
    let ana = enrolled(&w, "10203040", 1).await;
    let bea = client(&w, "20304050").await;
    w.gym
        .record_biometric_consent(&w.desk, bea, consent())
        .await
        .unwrap();
    let err = w
        .gym
        .enroll_face(&w.desk, bea, &near(&face(1), 5, 0.2), None)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::AlreadyExists {
            entity: "face",
            field: "embedding"
        }
    );
    for secret in ["Ana", "Gómez", "10203040", &ana.to_string()] {
        assert!(!err.to_string().contains(secret), "{err}");
    }
    // Re-enrolling one's own face is not a duplicate.
    w.gym
        .enroll_face(&w.desk, ana, &near(&face(1), 6, 0.1), None)
        .await
        .unwrap();

    // Two members 0.5 apart (allowed), and a probe 0.134 from both: ambiguous.
    let centre = face(10);
    let left = near(&centre, 11, 1.0 - (30f64).to_radians().cos());
    let right_values: Vec<f32> = centre
        .as_slice()
        .iter()
        .zip(left.as_slice())
        .map(|(c, l)| 2.0 * (30f32).to_radians().cos() * c - l)
        .collect();
    let right = powergym_core::face::FaceEmbedding::from_slice(&right_values).unwrap();
    assert!((left.distance(&right) - 0.5).abs() < 1e-3);
    w.gym.enroll_face(&w.desk, bea, &left, None).await.unwrap();
    let cris = client(&w, "30405060").await;
    w.gym
        .record_biometric_consent(&w.desk, cris, consent())
        .await
        .unwrap();
    w.gym
        .enroll_face(&w.desk, cris, &right, None)
        .await
        .unwrap();
    assert!(matches!(
        w.gym.identify_face(&w.desk, &centre).await.unwrap(),
        Identification::Ambiguous { .. }
    ));
    // At the door, a look-alike is refused and recorded without naming anyone.
    assert_eq!(
        w.gym.check_in_by_face(&w.desk, &centre).await.unwrap(),
        FaceCheckIn::Ambiguous
    );
    assert_eq!(
        count(
            &w,
            "select count(*) from access_denials where reason = 'ambiguous' and client_id is null"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn check_in_by_face_has_four_outcomes_all_recorded() {
    let w = world().await;
    let ana = enrolled(&w, "10203040", 1).await;
    let monthly = plan(&w, "monthly", "100000", DurationUnit::Month, 1).await;
    sold_and_paid(&w, ana, &monthly, None).await;
    let bea = enrolled(&w, "20304050", 2).await;

    let photo = near(&face(1), 7, 0.25);
    match w.gym.check_in_by_face(&w.desk, &photo).await.unwrap() {
        FaceCheckIn::Granted {
            attendance,
            candidate,
        } => {
            assert_eq!(attendance.client_id, ana);
            assert_eq!(attendance.method, powergym_core::CheckInMethod::Face);
            assert_eq!(candidate.client_id, ana);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.gym.check_in_by_face(&w.desk, &photo).await.unwrap(),
        FaceCheckIn::Denied { reason: DenialReason::AlreadyCheckedIn, candidate } if candidate.client_id == ana
    ));
    assert!(matches!(
        w.gym.check_in_by_face(&w.desk, &near(&face(2), 8, 0.3)).await.unwrap(),
        FaceCheckIn::Denied { reason: DenialReason::NoSubscription, candidate } if candidate.client_id == bea
    ));
    assert_eq!(
        w.gym.check_in_by_face(&w.desk, &face(12345)).await.unwrap(),
        FaceCheckIn::NoMatch
    );
    assert_eq!(
        count(
            &w,
            "select count(*) from access_denials where reason = 'no_match' and client_id is null and method = 'face'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&w, "select count(*) from attendances where method = 'face'").await,
        1
    );
    assert_eq!(count(&w, "select count(*) from access_denials").await, 3);
}

#[tokio::test]
async fn thumbnails_are_sealed_to_their_row() {
    let db = TestDb::new().await;
    let options = GymOptions {
        clock: std::sync::Arc::new(powergym_core::FixedClock(NOW.parse().unwrap())),
        face: powergym_core::FaceOptions {
            thumbnail_key: Some(ThumbnailKey::from_hex(&"ab".repeat(32)).unwrap()),
            ..Default::default()
        },
        ..GymOptions::default()
    };
    let gym = powergym_core::Gym::open_with(&db.url, options)
        .await
        .unwrap();
    let w = staffed(db, gym).await;
    let jpeg: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
    let ana = client(&w, "10203040").await;
    w.gym
        .record_biometric_consent(&w.desk, ana, consent())
        .await
        .unwrap();
    let t = w
        .gym
        .enroll_face(&w.desk, ana, &face(1), Some(&jpeg))
        .await
        .unwrap();
    assert!(t.has_thumbnail);
    assert_eq!(
        w.gym.face_thumbnail(&w.desk, ana).await.unwrap().as_deref(),
        Some(jpeg.as_slice())
    );
    let stored: Vec<u8> =
        w.db.bytes("select thumbnail_encrypted from biometrics")
            .await;
    // version, nonce, ciphertext, tag: the JPEG itself is nowhere in the row.
    assert_eq!(stored.len(), 1 + 12 + jpeg.len() + 16);
    assert!(!stored.windows(32).any(|win| win == &jpeg[..32]));

    // Moved onto another member's row, the ciphertext no longer opens.
    let bea = enrolled(&w, "20304050", 2).await;
    w.db.sql(
        "update biometrics set thumbnail_encrypted = (select thumbnail_encrypted from biometrics where client_id = $1) where client_id = $2",
        &[id(ana), id(bea)],
    )
    .await;
    assert!(matches!(
        w.gym.face_thumbnail(&w.desk, bea).await,
        Err(Error::Validation {
            field: "thumbnail",
            ..
        })
    ));
    assert!(matches!(
        w.gym.enroll_face(&w.desk, ana, &face(1), Some(&[])).await,
        Err(Error::Validation {
            field: "thumbnail",
            ..
        })
    ));

    // Without a key, a thumbnail is refused and nothing is written.
    let plain = world().await;
    let cris = client(&plain, "30405060").await;
    plain
        .gym
        .record_biometric_consent(&plain.desk, cris, consent())
        .await
        .unwrap();
    assert!(matches!(
        plain
            .gym
            .enroll_face(&plain.desk, cris, &face(3), Some(&jpeg))
            .await,
        Err(Error::Validation {
            field: "thumbnail_key",
            ..
        })
    ));
    assert_eq!(
        scalar(&plain.db, "select count(*) from biometrics").await,
        0
    );
}

#[tokio::test]
async fn both_matchers_agree_behind_the_trait() {
    // Drives PgVectorMatcher (pgvector's exact and HNSW search) directly; the in-process
    // gallery both stores use is checked against it here and by every other face test.
    postgres_only!();
    let w = world().await;
    let mut ids = Vec::new();
    for seed in 0..300u64 {
        ids.push(enrolled(&w, &format!("6{seed:07}"), seed).await);
    }
    let pool = sqlx::PgPool::connect(&w.db.url).await.unwrap();
    let pg = PgVectorMatcher::new(pool, MatchPolicy::default(), FaceSearch::Exact).unwrap();
    let memory = w
        .gym
        .load_face_matcher(&w.desk, Gallery::new())
        .await
        .unwrap();
    assert_eq!(memory.len(), 300);
    let matchers: [&dyn FaceMatcher; 2] = [&pg, &memory];
    for seed in [3u64, 77, 150, 299] {
        let probe = near(&face(seed), seed + 1000, 0.35);
        let mut answers = Vec::new();
        for m in matchers {
            assert_eq!(m.top_k(&probe, usize::MAX).await.unwrap().len(), 300);
            let top = m.top_k(&probe, 5).await.unwrap();
            assert_eq!(top.len(), 5);
            assert_eq!(top[0].client_id, ids[seed as usize]);
            assert!(top.windows(2).all(|p| p[0].distance <= p[1].distance));
            answers.push(top.iter().map(|c| c.client_id).collect::<Vec<_>>());
            assert!(m.verify(ids[seed as usize], &probe).await.unwrap().matched);
            assert!(matches!(
                m.identify(&probe).await.unwrap(),
                Identification::Match(c) if c.client_id == ids[seed as usize]
            ));
        }
        assert_eq!(answers[0], answers[1]);
    }
    // The HNSW index finds the same members as the exact scan on this gallery.
    let hnsw = PgVectorMatcher::new(
        sqlx::PgPool::connect(&w.db.url).await.unwrap(),
        MatchPolicy::default(),
        FaceSearch::Hnsw { ef_search: 100 },
    )
    .unwrap();
    let probe = near(&face(42), 4242, 0.3);
    assert_eq!(
        hnsw.identify(&probe).await.unwrap(),
        pg.identify(&probe).await.unwrap()
    );

    // Enrol and remove through the trait: the pgvector matcher keeps the consent rule.
    let newcomer = client(&w, "90000001").await;
    assert_eq!(
        pg.enroll(newcomer, &face(9001)).await.unwrap_err(),
        Error::ConsentRequired { guardian: false }
    );
    for m in matchers {
        assert!(m.remove(ids[0]).await.unwrap());
        assert!(!m.remove(ids[0]).await.unwrap());
        assert!(matches!(
            m.verify(ids[0], &face(0)).await,
            Err(Error::NotFound { .. })
        ));
    }
    assert!(matches!(
        FaceSearch::Hnsw { ef_search: 0 }.validate(),
        Err(Error::Validation {
            field: "ef_search",
            ..
        })
    ));
}

#[tokio::test]
async fn withdrawal_racing_enrolment_never_leaves_a_template_without_consent() {
    let w = world().await;
    let mut members = Vec::new();
    for n in 0..10u64 {
        let id = client(&w, &format!("4{n:07}")).await;
        w.gym
            .record_biometric_consent(&w.desk, id, consent())
            .await
            .unwrap();
        members.push(id);
    }
    let tasks = members.iter().enumerate().flat_map(|(n, &id)| {
        let (g1, g2, a1, a2) = (w.gym.clone(), w.gym.clone(), w.desk.clone(), w.desk.clone());
        [
            tokio::spawn(async move {
                g1.enroll_face(&a1, id, &face(n as u64), None)
                    .await
                    .map(|_| ())
            }),
            tokio::spawn(async move { g2.withdraw_biometric_consent(&a2, id).await.map(|_| ()) }),
        ]
    });
    for r in futures::future::join_all(tasks).await {
        match r.unwrap() {
            Ok(()) | Err(Error::ConsentRequired { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(
        count(
            &w,
            "select count(*) from biometrics b where not exists (select 1 from biometric_consents c \
             where c.client_id = b.client_id and c.withdrawn_at is null)"
        )
        .await,
        0
    );
    assert_eq!(count(&w, "select count(*) from biometrics").await, 0);
}

#[tokio::test]
async fn one_face_enrolled_for_two_members_at_once_lands_once() {
    let w = world().await;
    let mut members = Vec::new();
    for n in 0..6u64 {
        let id = client(&w, &format!("3{n:07}")).await;
        w.gym
            .record_biometric_consent(&w.desk, id, consent())
            .await
            .unwrap();
        members.push(id);
    }
    let tasks = members.iter().enumerate().map(|(n, &id)| {
        let (gym, desk) = (w.gym.clone(), w.desk.clone());
        tokio::spawn(async move {
            gym.enroll_face(&desk, id, &near(&face(77), n as u64, 0.05), None)
                .await
        })
    });
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.iter().all(|r| match r {
        Ok(_) => true,
        Err(e) => matches!(e, Error::AlreadyExists { entity: "face", .. }),
    }));
    assert_eq!(count(&w, "select count(*) from biometrics").await, 1);
}

#[tokio::test]
async fn bad_inputs_change_nothing() {
    let w = world().await;
    let ana = client(&w, "10203040").await;
    let ghost = ClientId::from_uuid(uuid::Uuid::from_u128(7));
    assert!(matches!(
        w.gym
            .record_biometric_consent(&w.desk, ghost, consent())
            .await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.gym
            .record_biometric_consent(
                &w.desk,
                ana,
                ConsentInput {
                    purpose: "  ".into(),
                    guardian: None
                }
            )
            .await,
        Err(Error::Validation {
            field: "purpose",
            ..
        })
    ));
    assert!(matches!(
        w.gym.enroll_face(&w.desk, ghost, &face(1), None).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        w.gym.remove_face(&w.desk, ghost).await,
        Err(Error::NotFound { .. })
    ));
    // An inactive member cannot enrol.
    w.gym
        .record_biometric_consent(&w.desk, ana, consent())
        .await
        .unwrap();
    w.gym.set_client_active(&w.desk, ana, false).await.unwrap();
    assert!(matches!(
        w.gym.enroll_face(&w.desk, ana, &face(1), None).await,
        Err(Error::Validation {
            field: "client_id",
            ..
        })
    ));
    assert_eq!(count(&w, "select count(*) from biometrics").await, 0);
    assert_eq!(
        count(&w, "select count(*) from biometric_consents").await,
        1
    );
}

#[tokio::test]
async fn the_face_cache_follows_every_process_and_never_admits_on_a_stale_entry() {
    use powergym_core::face::Precision;
    use std::time::Duration;

    let w = world().await;
    let ana = enrolled(&w, "10203040", 1).await;
    let monthly = plan(&w, "monthly", "100000", DurationUnit::Month, 1).await;
    sold_and_paid(&w, ana, &monthly, None).await;
    assert_eq!(
        w.gym
            .enable_face_cache(&w.desk, Precision::Int8)
            .await
            .unwrap(),
        1
    );
    // A disabled account identifies no one, whatever the cache holds.
    w.gym
        .set_staff_disabled(&w.admin, "desk", true)
        .await
        .unwrap();
    assert!(matches!(
        w.gym.identify_face(&w.desk, &face(1)).await,
        Err(Error::PermissionDenied { .. })
    ));
    w.gym
        .set_staff_disabled(&w.admin, "desk", false)
        .await
        .unwrap();
    let who = |probe| {
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        async move {
            match gym.identify_face(&desk, &probe).await.unwrap() {
                Identification::Match(c) => Some(c.client_id),
                _ => None,
            }
        }
    };
    // This process's own enrolment is in the cache at once.
    let bea = enrolled(&w, "20304050", 2).await;
    assert_eq!(who(near(&face(2), 3, 0.3)).await, Some(bea));

    // Another process enrols and erases; the cache hears of both through the database.
    let other = w.db.gym_at(NOW).await;
    let other_desk = other.acting_as("desk").await.unwrap();
    let cris = client(&w, "30405060").await;
    other
        .record_biometric_consent(&other_desk, cris, consent())
        .await
        .unwrap();
    other
        .enroll_face(&other_desk, cris, &face(3), None)
        .await
        .unwrap();
    other.remove_face(&other_desk, bea).await.unwrap();
    let mut seen = false;
    for _ in 0..100 {
        if who(near(&face(3), 4, 0.3)).await == Some(cris)
            && who(near(&face(2), 3, 0.3)).await.is_none()
        {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "the cache did not follow the other process's changes");

    // Changes the cache never hears of (notifications off) still count: each search asks
    // the database what changed since the load. Dan's photo is 0.35 from Ana's template
    // and 0.2 from Dan's, which only the other process enrolled.
    // On SQLite the change log is the only channel (the feed polls it and each search
    // reads it), so there is no push to switch off.
    let mut conn = w.db.raw().await;
    if let RawConn::Pg(pg) = &mut conn {
        sqlx::raw_sql(
            "alter table biometrics disable trigger biometrics_notify_insert; \
             alter table biometrics disable trigger biometrics_notify_update; \
             alter table biometrics disable trigger biometrics_notify_delete",
        )
        .execute(pg)
        .await
        .unwrap();
    }
    let photo = near(&face(1), 60, 0.25);
    let ana_now = near(&photo, 61, 0.35);
    let dan_face = near(&photo, 62, 0.2);
    w.gym
        .enroll_face(&w.desk, ana, &ana_now, None)
        .await
        .unwrap();
    let dan = client(&w, "40506070").await;
    other
        .record_biometric_consent(&other_desk, dan, consent())
        .await
        .unwrap();
    other
        .enroll_face(&other_desk, dan, &dan_face, None)
        .await
        .unwrap();
    assert_eq!(who(photo.clone()).await, Some(dan));
    assert!(matches!(
        w.gym.check_in_by_face(&w.desk, &photo).await.unwrap(),
        FaceCheckIn::Denied { candidate, reason: DenialReason::NoSubscription } if candidate.client_id == dan
    ));
    // A template deleted behind the cache's back: the cache still proposes Ana, the
    // database no longer has her face, and the database search decides.
    let delete = "delete from biometrics where client_id = $1";
    conn.exec(delete, delete, &[id(ana)]).await;
    assert_eq!(who(ana_now.clone()).await, None);
    assert_eq!(
        w.gym.check_in_by_face(&w.desk, &ana_now).await.unwrap(),
        FaceCheckIn::NoMatch
    );
    w.gym.disable_face_cache();
    assert_eq!(who(dan_face).await, Some(dan));
    other.close().await;
}

/// Stores a template with `insert` (PostgreSQL, SQLite) in a transaction left open,
/// withdraws `client`'s consent from another connection, and checks that the withdrawal
/// waits for the insert, then erases what it stored once it commits.
async fn withdrawal_waits_for_the_insert(
    w: &World,
    insert: (&str, &str),
    args: &[Arg],
    client: ClientId,
) {
    let mut enrolling = w.db.raw().await;
    enrolling.begin().await;
    enrolling.exec(insert.0, insert.1, args).await;
    let db_withdraw = w.db.raw().await;
    let withdrawal = tokio::spawn(async move {
        let mut c = db_withdraw;
        let withdraw = "update biometric_consents set withdrawn_at = $1 where client_id = $2";
        c.exec(
            withdraw,
            withdraw,
            &[Arg::Instant(chrono::Utc::now()), id(client)],
        )
        .await;
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !withdrawal.is_finished(),
        "the withdrawal must wait for the enrolment"
    );
    enrolling.commit().await;
    withdrawal.await.unwrap();
    assert_eq!(count(w, "select count(*) from biometrics").await, 0);
}

#[tokio::test]
async fn the_database_closes_every_consent_gap() {
    let w = world().await;
    let ana = client(&w, "10203040").await;
    let mut conn = w.db.raw().await;
    let vector = |seed| Arg::Vector(face(seed).as_slice().to_vec());
    // A template row as a writer outside the library would store it (SQLite's rows name
    // the consent they rest on; PostgreSQL's trigger fills it in).
    let insert_template = (
        "insert into biometrics (client_id, embedding, is_active) values ($1, $2, $3)",
        "insert into biometrics (client_id, embedding, is_active, consent_id) values ($1, $2, $3, \
         (select id from biometric_consents where client_id = $1 and withdrawn_at is null))",
    );

    // No consent: not even an inactive template may be stored.
    let err = conn
        .try_exec(
            insert_template.0,
            insert_template.1,
            &[id(ana), vector(1), Arg::Bool(false)],
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("consent"), "{err}");

    // A withdrawal that takes no client lock still waits for an enrolment in flight
    // (PostgreSQL: the trigger holds the consent row FOR SHARE; SQLite: the enrolment
    // holds the write lock), then erases what it stored.
    w.gym
        .record_biometric_consent(&w.desk, ana, consent())
        .await
        .unwrap();
    withdrawal_waits_for_the_insert(
        &w,
        insert_template,
        &[id(ana), vector(1), Arg::Bool(true)],
        ana,
    )
    .await;

    // A consent cannot lose its guardian, and a member whose document becomes a minor's
    // loses a guardian-less consent and the face with it.
    let bea = enrolled(&w, "20304050", 2).await;
    let minor = "update clients set dni_type = 'TI' where id = $1";
    conn.exec(minor, minor, &[id(bea)]).await;
    assert_eq!(count(&w, "select count(*) from biometrics").await, 0);
    assert_eq!(
        count(
            &w,
            "select count(*) from biometric_consents where withdrawn_at is null"
        )
        .await,
        0
    );
    w.gym
        .record_biometric_consent(
            &w.desk,
            bea,
            ConsentInput {
                guardian: Some(Guardian {
                    name: "Marta Gómez".into(),
                    document_type: DocumentType::Cc,
                    document_number: "52123456".into(),
                }),
                ..consent()
            },
        )
        .await
        .unwrap();
    let orphan = "update biometric_consents set guardian_name = null, guardian_document_type = null, \
         guardian_document_number = null where client_id = $1 and withdrawn_at is null";
    let err = conn.try_exec(orphan, orphan, &[id(bea)]).await.unwrap_err();
    assert!(err.to_string().contains("guardian"), "{err}");
}

/// A bulk enrolment names each template's consent (PostgreSQL then checks the consents
/// once per statement instead of looking each up): whoever names one must name the
/// member's own consent in force, and a withdrawal in flight still wins.
#[tokio::test]
async fn a_template_that_names_its_consent_must_name_the_members_live_one() {
    let w = world().await;
    let ana = client(&w, "10203040").await;
    let bea = client(&w, "20304050").await;
    let ana_consent = w
        .gym
        .record_biometric_consent(&w.desk, ana, consent())
        .await
        .unwrap()
        .id;
    let bea_consent = w
        .gym
        .record_biometric_consent(&w.desk, bea, consent())
        .await
        .unwrap()
        .id;
    let mut conn = w.db.raw().await;
    let named = "insert into biometrics (client_id, embedding, consent_id) values ($1, $2, $3)";
    let vector = |seed| Arg::Vector(face(seed).as_slice().to_vec());

    // Another member's consent.
    let err = conn
        .try_exec(named, named, &[id(ana), vector(1), id(bea_consent)])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("consent"), "{err}");
    assert_eq!(count(&w, "select count(*) from biometrics").await, 0);

    // One withdrawn since it was read.
    let withdraw = "update biometric_consents set withdrawn_at = $1 where client_id = $2";
    conn.exec(
        withdraw,
        withdraw,
        &[Arg::Instant(chrono::Utc::now()), id(bea)],
    )
    .await;
    let err = conn
        .try_exec(named, named, &[id(bea), vector(2), id(bea_consent)])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("consent"), "{err}");
    assert_eq!(count(&w, "select count(*) from biometrics").await, 0);

    // A withdrawal racing a named insert waits for it, then erases what it stored.
    withdrawal_waits_for_the_insert(
        &w,
        (named, named),
        &[id(ana), vector(3), id(ana_consent)],
        ana,
    )
    .await;

    // The other order: a withdrawal in flight first; the named insert waits for it,
    // then is refused.
    let cris = client(&w, "30405060").await;
    let cris_consent = w
        .gym
        .record_biometric_consent(&w.desk, cris, consent())
        .await
        .unwrap()
        .id;
    let mut withdrawing = w.db.raw().await;
    withdrawing.begin().await;
    withdrawing
        .exec(
            withdraw,
            withdraw,
            &[Arg::Instant(chrono::Utc::now()), id(cris)],
        )
        .await;
    let db_insert = w.db.raw().await;
    let insert = tokio::spawn(async move {
        let mut c = db_insert;
        c.try_exec(named, named, &[id(cris), vector(4), id(cris_consent)])
            .await
            .map_err(|e| e.to_string())
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !insert.is_finished(),
        "the insert must wait for the withdrawal"
    );
    withdrawing.commit().await;
    let err = insert.await.unwrap().unwrap_err();
    assert!(err.contains("consent"), "{err}");
    assert_eq!(count(&w, "select count(*) from biometrics").await, 0);
}
