//! Bulk enrolment (`Gym::enroll_faces`) and the default in-process face cache, on
//! either store: every refusal typed and writing nothing, duplicates within the batch
//! and against the gallery, races with single enrolment, and the cache chosen by its
//! memory budget.

mod common;

use common::faces::{face, near};
use common::world::*;
use powergym_core::domain::consent::ConsentInput;
use powergym_core::face::{FaceEmbedding, FaceSearch, Identification, Precision};
use powergym_core::{
    BulkProgress, BulkRefusal, ClientId, Error, FaceOptions, Gym, GymOptions, PoolSettings,
};

fn consent() -> ConsentInput {
    ConsentInput {
        purpose: "face check-in at the front desk".into(),
        guardian: None,
    }
}

async fn consenting(w: &World, number: &str) -> ClientId {
    let id = client(w, number).await;
    w.gym
        .record_biometric_consent(&w.desk, id, consent())
        .await
        .unwrap();
    id
}

fn flat(faces: &[FaceEmbedding]) -> Vec<f32> {
    faces
        .iter()
        .flat_map(|f| f.as_slice().iter().copied())
        .collect()
}

async fn templates(w: &World) -> i64 {
    scalar(&w.db, "select count(*) from biometrics").await
}

async fn who(gym: &Gym, w: &World, probe: &FaceEmbedding) -> Option<ClientId> {
    match gym.identify_face(&w.desk, probe).await.unwrap() {
        Identification::Match(c) => Some(c.client_id),
        _ => None,
    }
}

/// A gym on the same database with other face options.
async fn gym_with(w: &World, face: FaceOptions) -> Gym {
    Gym::open_with(
        &w.db.url,
        GymOptions {
            face,
            pool: PoolSettings {
                max_connections: 20,
                ..PoolSettings::default()
            },
            ..GymOptions::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_batch_is_enrolled_and_each_member_identified() {
    let w = world().await;
    let mut members = Vec::new();
    for i in 0..30 {
        members.push(consenting(&w, &format!("7000{i:04}")).await);
    }
    // One member already has a face: the batch replaces it.
    w.gym
        .enroll_face(&w.desk, members[0], &face(900), None)
        .await
        .unwrap();
    let faces: Vec<FaceEmbedding> = (0..30).map(|i| face(100 + i)).collect();
    let mut seen = Vec::new();
    let result = w
        .gym
        .enroll_faces(&w.desk, &members, &flat(&faces), &mut |p: BulkProgress| {
            seen.push(p)
        })
        .await
        .unwrap();
    assert_eq!(result.enrolled, 30);
    assert!(result.outcomes.iter().all(Option::is_none));
    assert_eq!(
        seen.last(),
        Some(&BulkProgress {
            done: 30,
            total: 30
        })
    );
    assert!(seen.windows(2).all(|p| p[0].done <= p[1].done));
    assert_eq!(templates(&w).await, 30);
    for (i, m) in members.iter().enumerate() {
        assert_eq!(
            who(&w.gym, &w, &near(&faces[i], 7, 0.3)).await,
            Some(*m),
            "member {i}"
        );
        let t = w.gym.face_template(&w.desk, *m).await.unwrap().unwrap();
        assert_eq!(t.enrolled_by.as_deref(), Some("desk"));
        assert!(!t.has_thumbnail);
    }
    assert_eq!(
        who(&w.gym, &w, &face(900)).await,
        None,
        "the old face was replaced"
    );
    // Another process sees the batch too.
    let other = w.db.gym().await;
    assert_eq!(
        who(&other, &w, &near(&faces[5], 8, 0.2)).await,
        Some(members[5])
    );
}

#[tokio::test]
async fn every_refusal_is_typed_and_writes_nothing_for_its_item() {
    let w = world().await;
    let enrolled = consenting(&w, "1001").await;
    w.gym
        .enroll_face(&w.desk, enrolled, &face(1), None)
        .await
        .unwrap();
    let good = consenting(&w, "1002").await;
    let inactive = consenting(&w, "1003").await;
    w.gym
        .set_client_active(&w.desk, inactive, false)
        .await
        .unwrap();
    let unconsented = client(&w, "1004").await;
    let withdrawn = consenting(&w, "1005").await;
    w.gym
        .withdraw_biometric_consent(&w.desk, withdrawn)
        .await
        .unwrap();
    let unknown = ClientId::from_uuid(uuid::Uuid::new_v4());
    let twin_a = consenting(&w, "1006").await;
    let twin_b = consenting(&w, "1007").await;
    let repeated = consenting(&w, "1008").await;
    let copycat = consenting(&w, "1009").await;
    let broken = consenting(&w, "1010").await;

    let clients = [
        good,
        inactive,
        unconsented,
        withdrawn,
        unknown,
        twin_a,
        twin_b,
        repeated,
        repeated,
        copycat,
        broken,
    ];
    let mut rows = flat(&[
        face(2),
        face(3),
        face(4),
        face(5),
        face(6),
        face(7),
        near(&face(7), 1, 0.2),
        face(8),
        face(9),
        near(&face(1), 2, 0.3),
        face(10),
    ]);
    rows[10 * 512 + 17] = f32::NAN;
    let result = w
        .gym
        .enroll_faces(&w.desk, &clients, &rows, &mut |_| {})
        .await
        .unwrap();
    use BulkRefusal::*;
    assert_eq!(
        result.outcomes,
        vec![
            None,
            Some(Inactive),
            Some(NoConsent),
            Some(NoConsent),
            Some(UnknownClient),
            Some(DuplicateInBatch),
            Some(DuplicateInBatch),
            Some(RepeatedClient),
            Some(RepeatedClient),
            Some(DuplicateOfEnrolled),
            Some(InvalidEmbedding),
        ]
    );
    assert_eq!(result.enrolled, 1);
    assert_eq!(result.refused().count(), 10);
    assert_eq!(templates(&w).await, 2);
    for c in &clients[1..] {
        if *c != unknown {
            assert_eq!(w.gym.face_template(&w.desk, *c).await.unwrap(), None);
        }
    }
    assert_eq!(who(&w.gym, &w, &face(2)).await, Some(good));
    assert_eq!(who(&w.gym, &w, &face(1)).await, Some(enrolled));

    // A wrong shape is refused as a whole.
    let err = w
        .gym
        .enroll_faces(&w.desk, &[good], &rows[..511], &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Validation {
                field: "embeddings",
                ..
            }
        ),
        "{err:?}"
    );
    // An empty batch is nothing to do.
    let empty = w
        .gym
        .enroll_faces(&w.desk, &[], &[], &mut |_| {})
        .await
        .unwrap();
    assert_eq!(empty.enrolled, 0);
    assert_eq!(templates(&w).await, 2);
}

/// A member with no template is written while the gallery is scanned, and deleted again
/// when the scan refuses them; a member replacing a template waits for the scan, and a
/// refusal leaves them the template they had.
#[tokio::test]
async fn a_refusal_found_by_the_gallery_scan_leaves_each_member_as_they_were() {
    let w = world().await;
    let ana = consenting(&w, "5001").await;
    let bea = consenting(&w, "5002").await;
    let dan = consenting(&w, "5004").await;
    for (member, seed) in [(ana, 51), (bea, 52), (dan, 53)] {
        w.gym
            .enroll_face(&w.desk, member, &face(seed), None)
            .await
            .unwrap();
    }
    let cris = consenting(&w, "5003").await;
    let eva = consenting(&w, "5005").await;
    let fred = consenting(&w, "5006").await;
    // This gym's cache (the default, or SQLite's own gallery) holds the three faces.
    assert_eq!(who(&w.gym, &w, &face(51)).await, Some(ana));
    let clients = [bea, cris, eva, fred];
    let rows = flat(&[
        near(&face(53), 1, 0.2), // Bea's new face is Dan's.
        near(&face(51), 2, 0.2), // Cris, new, has Ana's.
        face(55),                // Eva, new, enrolled.
        face(56),                // Fred, new, enrolled.
    ]);
    let bulk = w
        .gym
        .enroll_faces(&w.desk, &clients, &rows, &mut |_| {})
        .await
        .unwrap();
    use BulkRefusal::*;
    assert_eq!(
        bulk.outcomes,
        vec![
            Some(DuplicateOfEnrolled),
            Some(DuplicateOfEnrolled),
            None,
            None
        ]
    );
    assert_eq!(bulk.enrolled, 2);
    assert_eq!(templates(&w).await, 5);
    assert_eq!(w.gym.face_template(&w.desk, cris).await.unwrap(), None);
    // Nor any trace of the row written for Cris before the refusal: on SQLite, the change
    // log every process follows (PostgreSQL's marks are a sequence and name no one).
    let log = format!(
        "select count(*) from face_changes where client_id = '{}'",
        cris.as_uuid()
    );
    assert_eq!(w.db.int2("select 0::bigint", &log, &[]).await, 0);
    assert_eq!(who(&w.gym, &w, &face(52)).await, Some(bea), "kept");
    assert_eq!(who(&w.gym, &w, &face(55)).await, Some(eva));
    // Another process, reading the database alone, agrees.
    let other = w.db.gym().await;
    assert_eq!(who(&other, &w, &near(&face(52), 3, 0.2)).await, Some(bea));
    assert_eq!(who(&other, &w, &near(&face(56), 4, 0.2)).await, Some(fred));
    assert_eq!(who(&other, &w, &near(&face(51), 5, 0.2)).await, Some(ana));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_and_bulk_enrolment_of_one_face_cannot_both_succeed() {
    let w = world().await;
    for round in 0..6u64 {
        let a = consenting(&w, &format!("3{round:03}1")).await;
        let b = consenting(&w, &format!("3{round:03}2")).await;
        let shared = face(500 + round);
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        let single = {
            let shared = shared.clone();
            tokio::spawn(async move { gym.enroll_face(&desk, a, &shared, None).await })
        };
        let gym = w.gym.clone();
        let desk = w.desk.clone();
        let rows = flat(&[near(&shared, round, 0.1)]);
        let bulk = tokio::spawn(async move {
            gym.enroll_faces(&desk, &[b], &rows, &mut |_| {})
                .await
                .unwrap()
        });
        let single = single.await.unwrap();
        let bulk = bulk.await.unwrap();
        let single_won = single.is_ok();
        let bulk_won = bulk.enrolled == 1;
        assert!(single_won != bulk_won, "round {round}: {single:?} {bulk:?}");
        if single_won {
            assert_eq!(bulk.outcomes, vec![Some(BulkRefusal::DuplicateOfEnrolled)]);
        } else {
            assert!(
                matches!(single, Err(Error::AlreadyExists { .. })),
                "{single:?}"
            );
        }
    }
}

#[tokio::test]
async fn another_process_enrolment_after_the_cache_loaded_still_counts() {
    let w = world().await;
    let ana = consenting(&w, "4001").await;
    let bea = consenting(&w, "4002").await;
    let cris = consenting(&w, "4003").await;
    w.gym
        .enroll_face(&w.desk, ana, &face(41), None)
        .await
        .unwrap();
    // This gym's cache (the default, or SQLite's own gallery) is loaded now.
    assert_eq!(who(&w.gym, &w, &face(41)).await, Some(ana));
    let other = w.db.gym().await;
    let desk = other.acting_as("desk").await.unwrap();
    other
        .enroll_face(&desk, bea, &face(42), None)
        .await
        .unwrap();
    other.remove_face(&desk, ana).await.unwrap();
    // Bea's face, enrolled elsewhere after the load, refuses Cris at once, singly and in
    // bulk; Ana's, erased elsewhere, refuses no one.
    assert!(matches!(
        w.gym
            .enroll_face(&w.desk, cris, &near(&face(42), 3, 0.2), None)
            .await,
        Err(Error::AlreadyExists { .. })
    ));
    let bulk = w
        .gym
        .enroll_faces(
            &w.desk,
            &[cris],
            &flat(&[near(&face(42), 4, 0.2)]),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert_eq!(bulk.outcomes, vec![Some(BulkRefusal::DuplicateOfEnrolled)]);
    w.gym
        .enroll_face(&w.desk, cris, &near(&face(41), 5, 0.1), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_default_cache_is_used_when_the_gallery_fits_its_budget() {
    let w = world().await;
    let mut members = Vec::new();
    for i in 0..40 {
        members.push(consenting(&w, &format!("6000{i:04}")).await);
    }
    let faces: Vec<FaceEmbedding> = (0..40).map(|i| face(600 + i)).collect();
    w.gym
        .enroll_faces(&w.desk, &members, &flat(&faces), &mut |_| {})
        .await
        .unwrap();
    let fits = gym_with(&w, FaceOptions::default()).await;
    let over = gym_with(
        &w,
        FaceOptions {
            cache_budget_bytes: 39 * Precision::Int8.held_bytes_per_template() as u64,
            ..FaceOptions::default()
        },
    )
    .await;
    let exact = gym_with(
        &w,
        FaceOptions {
            cache_budget_bytes: 0,
            search: FaceSearch::Exact,
            ..FaceOptions::default()
        },
    )
    .await;
    let desk = fits.acting_as("desk").await.unwrap();
    let probes: Vec<FaceEmbedding> = (0..40u64)
        .map(|i| near(&faces[i as usize], i, 0.15 + (i as f64) * 0.01))
        .chain((0..10).map(|i| face(9_000 + i)))
        .collect();
    // The same decision about the same members (distances differ in the last bits
    // between PostgreSQL's arithmetic and the in-process kernel).
    let decision = |d: Identification| match d {
        Identification::Match(c) => (1, Some(c.client_id), None),
        Identification::NoMatch => (0, None, None),
        Identification::Ambiguous { best, runner_up } => {
            (2, Some(best.client_id), Some(runner_up.client_id))
        }
    };
    for probe in &probes {
        let truth = decision(exact.identify_face(&desk, probe).await.unwrap());
        assert_eq!(
            decision(fits.identify_face(&desk, probe).await.unwrap()),
            truth
        );
        assert_eq!(
            decision(over.identify_face(&desk, probe).await.unwrap()),
            truth
        );
    }
    let in_process = common::store_kind() == common::StoreKind::Sqlite;
    // SQLite's store searches in process already: no second copy.
    assert_eq!(fits.face_cache_size(), (!in_process).then_some(40));
    assert_eq!(over.face_cache_size(), None);
    assert_eq!(exact.face_cache_size(), None);
    // Disabled, it stays off; enabled explicitly, it loads whatever the budget.
    fits.disable_face_cache();
    fits.identify_face(&desk, &probes[0]).await.unwrap();
    assert_eq!(fits.face_cache_size(), None);
    let loaded = over
        .enable_face_cache(&desk, powergym_core::face::Precision::Int8)
        .await
        .unwrap();
    assert_eq!((loaded, over.face_cache_size()), (40, Some(40)));
}

/// A batch larger than one notification per member (over 256 templates) reaches every
/// cache: the enrolling gym's from memory, another process's by one notification that
/// makes it read the changes since its mark.
#[tokio::test]
async fn a_large_batch_reaches_the_enrolling_cache_and_every_follower() {
    const N: usize = 300;
    let w = world().await;
    let mut members = Vec::new();
    for i in 0..N {
        members.push(consenting(&w, &format!("5100{i:04}")).await);
    }
    let seeded = consenting(&w, "51999999").await;
    w.gym
        .enroll_face(&w.desk, seeded, &face(5_000), None)
        .await
        .unwrap();
    // Both caches are loaded (one template) before the batch.
    let other = w.db.gym().await;
    assert_eq!(who(&w.gym, &w, &face(5_000)).await, Some(seeded));
    assert_eq!(who(&other, &w, &face(5_000)).await, Some(seeded));
    let faces: Vec<FaceEmbedding> = (0..N as u64).map(|i| face(5_100 + i)).collect();
    let result = w
        .gym
        .enroll_faces(&w.desk, &members, &flat(&faces), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(result.enrolled, N);
    if common::store_kind() == common::StoreKind::Postgres {
        // The load was most of the table: its statistics were refreshed with it (the
        // table had never been analysed, and autovacuum waits a minute at least).
        let estimated = scalar(
            &w.db,
            "select reltuples::bigint from pg_class where oid = 'biometrics'::regclass",
        )
        .await;
        assert_eq!(estimated, N as i64 + 1);
        assert_eq!(w.gym.face_cache_size(), Some(N + 1));
        // The follower hears one notification for the whole batch; bounded wait.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while other.face_cache_size() != Some(N + 1) {
            assert!(
                std::time::Instant::now() < deadline,
                "the other cache holds {:?} templates",
                other.face_cache_size()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    for i in [0, 150, N - 1] {
        let probe = near(&faces[i], 9, 0.25);
        assert_eq!(
            who(&w.gym, &w, &probe).await,
            Some(members[i]),
            "member {i}"
        );
        assert_eq!(
            who(&other, &w, &probe).await,
            Some(members[i]),
            "member {i}"
        );
    }
}

/// A consent withdrawn while the batch waits for its member's lock is seen as withdrawn:
/// that item is refused and the rest enrolled, rather than the whole batch failing on
/// the database's own consent check.
#[tokio::test]
async fn a_consent_withdrawn_while_the_batch_waits_refuses_only_its_item() {
    let w = world().await;
    let ana = consenting(&w, "5300001").await;
    let bea = consenting(&w, "5300002").await;
    let mut withdrawing = w.db.raw().await;
    withdrawing.begin().await;
    let lock = "select id from clients where id = $1 for update";
    // SQLite has no row locks: its open write transaction holds the whole file.
    let lock_sqlite = "update clients set phone = phone where id = $1";
    withdrawing
        .exec(lock, lock_sqlite, &[common::sql::id(ana)])
        .await;
    let withdraw = "update biometric_consents set withdrawn_at = $1 where client_id = $2";
    withdrawing
        .exec(
            withdraw,
            withdraw,
            &[
                common::sql::Arg::Instant(chrono::Utc::now()),
                common::sql::id(ana),
            ],
        )
        .await;
    let gym = w.db.gym().await;
    let desk = gym.acting_as("desk").await.unwrap();
    let faces = flat(&[face(5_301), face(5_302)]);
    let batch = tokio::spawn(async move {
        gym.enroll_faces(&desk, &[ana, bea], &faces, &mut |_| {})
            .await
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!batch.is_finished(), "the batch must wait for the member");
    withdrawing.commit().await;
    let result = batch.await.unwrap().unwrap();
    assert_eq!(result.outcomes, vec![Some(BulkRefusal::NoConsent), None]);
    assert_eq!(templates(&w).await, 1);
}
