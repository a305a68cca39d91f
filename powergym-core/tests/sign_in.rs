//! Sign-in hardening on the real database: hashes below the current argon2 parameters are
//! upgraded on a successful sign-in, and failed sign-ins are throttled per account name
//! with a backoff held in the database, alike for names that belong to nobody.

mod common;

use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use chrono::{DateTime, TimeDelta, Utc};
use common::TestDb;
use common::sql::Arg;
use common::world::{NOW, World, staffed};
use powergym_core::{Clock, Error, Gym, GymOptions};

/// A clock the test moves by hand, shared by every clone of the gym.
#[derive(Debug)]
struct HandClock(Mutex<DateTime<Utc>>);

impl HandClock {
    fn advance(&self, by: TimeDelta) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for HandClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// The staffed world (admin, desk) on a gym whose clock the test moves.
async fn world_with_hand_clock() -> (World, Arc<HandClock>) {
    let clock = Arc::new(HandClock(Mutex::new(NOW.parse().unwrap())));
    let db = TestDb::new().await;
    let gym = Gym::open_with(
        &db.url,
        GymOptions {
            clock: clock.clone(),
            ..GymOptions::default()
        },
    )
    .await
    .unwrap();
    (staffed(db, gym).await, clock)
}

fn is_sign_in_refusal(err: &Error) -> bool {
    matches!(err, Error::PermissionDenied { action } if action == "sign_in")
}

async fn stored_hash(w: &World, username: &str) -> String {
    w.db.text(
        "select hashed_password from users where username = $1",
        &[Arg::Text(username.into())],
    )
    .await
    .expect("the account exists")
}

/// (failures, locked_until) of a name's throttle record, if it has one.
async fn throttle(w: &World, name: &str) -> Option<(i32, Option<DateTime<Utc>>)> {
    let name = [Arg::Text(name.into())];
    w.db.text(
        "select username from sign_in_throttles where username = $1",
        &name,
    )
    .await?;
    let failures =
        w.db.int2(
            "select failures::bigint from sign_in_throttles where username = $1",
            "select failures from sign_in_throttles where username = $1",
            &name,
        )
        .await;
    let locked_until =
        w.db.instant(
            "select locked_until from sign_in_throttles where username = $1",
            &name,
        )
        .await;
    Some((i32::try_from(failures).unwrap(), locked_until))
}

#[tokio::test]
async fn a_weak_hash_verifies_once_and_is_then_stored_with_the_current_parameters() {
    let (w, _clock) = world_with_hand_clock().await;
    let params = argon2::Params::new(8, 1, 1, None).unwrap();
    let weak = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(b"desk-password", &SaltString::generate(&mut OsRng))
        .unwrap()
        .to_string();
    assert!(weak.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{weak}");
    w.db.sql(
        "update users set hashed_password = $1 where username = 'desk'",
        &[Arg::Text(weak.clone())],
    )
    .await;

    // A failed sign-in never touches the hash.
    let err = w
        .gym
        .authenticate("desk", "not-the-password")
        .await
        .unwrap_err();
    assert!(is_sign_in_refusal(&err), "{err:?}");
    assert_eq!(stored_hash(&w, "desk").await, weak);

    let (actor, staff) = w.gym.authenticate("desk", "desk-password").await.unwrap();
    assert_eq!(
        (actor.username(), staff.username.as_str()),
        ("desk", "desk")
    );
    let upgraded = stored_hash(&w, "desk").await;
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=65536,t=3,p=4$"),
        "{upgraded}"
    );
    // The new hash holds the same password, and is not replaced again.
    w.gym.authenticate("desk", "desk-password").await.unwrap();
    assert_eq!(stored_hash(&w, "desk").await, upgraded);
    let err = w
        .gym
        .authenticate("desk", "not-the-password")
        .await
        .unwrap_err();
    assert!(is_sign_in_refusal(&err), "{err:?}");
    assert_eq!(stored_hash(&w, "desk").await, upgraded);
}

#[tokio::test]
async fn five_failures_lock_the_name_even_for_the_right_password_until_the_backoff_passes() {
    let (w, clock) = world_with_hand_clock().await;
    let wrong = w
        .gym
        .authenticate("desk", "wrong-password")
        .await
        .unwrap_err();
    assert!(is_sign_in_refusal(&wrong), "{wrong:?}");
    for _ in 1..5 {
        let err = w
            .gym
            .authenticate("desk", "wrong-password")
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), wrong.to_string());
    }
    let now: DateTime<Utc> = NOW.parse().unwrap();
    assert_eq!(
        throttle(&w, "desk").await,
        Some((5, Some(now + TimeDelta::seconds(1))))
    );

    // Locked: the right password gets the very same refusal.
    let locked = w
        .gym
        .authenticate("desk", "desk-password")
        .await
        .unwrap_err();
    assert_eq!(locked.to_string(), wrong.to_string());
    clock.advance(TimeDelta::milliseconds(999));
    let locked = w
        .gym
        .authenticate("desk", "desk-password")
        .await
        .unwrap_err();
    assert_eq!(locked.to_string(), wrong.to_string());
    // Refusals while locked are counted, the lock itself is not moved.
    assert_eq!(
        throttle(&w, "desk").await,
        Some((7, Some(now + TimeDelta::seconds(1))))
    );

    // Once the backoff has passed the right password works and clears the count.
    clock.advance(TimeDelta::milliseconds(1));
    w.gym.authenticate("desk", "desk-password").await.unwrap();
    assert_eq!(throttle(&w, "desk").await, None);
    for _ in 0..4 {
        w.gym
            .authenticate("desk", "wrong-password")
            .await
            .unwrap_err();
    }
    w.gym.authenticate("desk", "desk-password").await.unwrap();

    // Each further failure doubles the lock: after 5 failures 1 s, after the 6th 2 s.
    for _ in 0..5 {
        w.gym
            .authenticate("desk", "wrong-password")
            .await
            .unwrap_err();
    }
    clock.advance(TimeDelta::seconds(1));
    w.gym
        .authenticate("desk", "wrong-password")
        .await
        .unwrap_err();
    clock.advance(TimeDelta::milliseconds(1_999));
    assert!(w.gym.authenticate("desk", "desk-password").await.is_err());
    clock.advance(TimeDelta::milliseconds(1));
    w.gym.authenticate("desk", "desk-password").await.unwrap();

    // Other accounts were never affected; the admin's count is its own.
    w.gym.authenticate("admin", "admin-password").await.unwrap();
}

#[tokio::test]
async fn the_backoff_doubles_up_to_fifteen_minutes_and_a_day_forgets() {
    let (w, clock) = world_with_hand_clock().await;
    let mut lock = TimeDelta::seconds(1);
    for failures in 5..=20 {
        // The first four failures lock nothing; then each one, made as soon as the
        // previous lock ends, locks for twice as long, up to the cap.
        let tries = if failures == 5 { 5 } else { 1 };
        for _ in 0..tries {
            w.gym
                .authenticate("desk", "wrong-password")
                .await
                .unwrap_err();
        }
        let now = clock.now();
        assert_eq!(
            throttle(&w, "desk").await,
            Some((failures, Some(now + lock))),
            "after {failures} failures"
        );
        clock.advance(lock);
        lock = (lock * 2).min(TimeDelta::minutes(15));
    }
    assert_eq!(lock, TimeDelta::minutes(15));
    // A day after the last failure they are forgotten: one more failure locks nothing.
    clock.advance(TimeDelta::hours(24));
    w.gym
        .authenticate("desk", "wrong-password")
        .await
        .unwrap_err();
    assert_eq!(throttle(&w, "desk").await, Some((1, None)));
    w.gym.authenticate("desk", "desk-password").await.unwrap();
}

#[tokio::test]
async fn an_unknown_name_is_refused_and_locked_exactly_like_a_real_one() {
    let (w, _clock) = world_with_hand_clock().await;
    for _ in 0..5 {
        let real = w
            .gym
            .authenticate("desk", "wrong-password")
            .await
            .unwrap_err();
        let ghost = w
            .gym
            .authenticate("ghost", "wrong-password")
            .await
            .unwrap_err();
        assert!(is_sign_in_refusal(&real), "{real:?}");
        assert_eq!(format!("{ghost:?}"), format!("{real:?}"));
        assert_eq!(ghost.to_string(), real.to_string());
    }
    assert_eq!(throttle(&w, "ghost").await, throttle(&w, "desk").await);
    assert!(throttle(&w, "ghost").await.unwrap().1.is_some());
    // Locked: the right password of the real account and any password of the unknown
    // name are refused alike.
    let real = w
        .gym
        .authenticate("desk", "desk-password")
        .await
        .unwrap_err();
    let ghost = w
        .gym
        .authenticate("ghost", "desk-password")
        .await
        .unwrap_err();
    assert_eq!(format!("{ghost:?}"), format!("{real:?}"));
    assert_eq!(throttle(&w, "ghost").await, throttle(&w, "desk").await);
    // Names are normalised as usernames are: "GHOST " is the same name.
    w.gym
        .authenticate("GHOST ", "wrong-password")
        .await
        .unwrap_err();
    assert_eq!(throttle(&w, "ghost").await.unwrap().0, 7);
    // A name that cannot be a username gets the same refusal, and is not stored.
    let invalid = w
        .gym
        .authenticate("not a name!\u{202e}", "x")
        .await
        .unwrap_err();
    assert_eq!(format!("{invalid:?}"), format!("{real:?}"));
    let stored: Vec<String> =
        w.db.texts("select username from sign_in_throttles order by username")
            .await;
    assert_eq!(stored, ["", "desk", "ghost"]);
}

#[tokio::test]
async fn concurrent_wrong_guesses_are_each_counted() {
    let (w, _clock) = world_with_hand_clock().await;
    let tasks = (0..10).map(|_| {
        let gym = w.gym.clone();
        tokio::spawn(async move { gym.authenticate("desk", "wrong-password").await })
    });
    for result in futures::future::join_all(tasks).await {
        let err = result.unwrap().unwrap_err();
        assert!(is_sign_in_refusal(&err), "{err:?}");
    }
    // Every guess counted; the fifth locked the name for a second, and the five after it
    // were refused unchecked without moving the lock.
    let now: DateTime<Utc> = NOW.parse().unwrap();
    assert_eq!(
        throttle(&w, "desk").await,
        Some((10, Some(now + TimeDelta::seconds(1))))
    );
    assert!(w.gym.authenticate("desk", "desk-password").await.is_err());
}

#[tokio::test]
async fn a_disabled_account_with_its_right_password_counts_as_a_failure() {
    let (w, _clock) = world_with_hand_clock().await;
    w.gym
        .set_staff_disabled(&w.admin, "desk", true)
        .await
        .unwrap();
    let err = w
        .gym
        .authenticate("desk", "desk-password")
        .await
        .unwrap_err();
    assert!(is_sign_in_refusal(&err), "{err:?}");
    assert_eq!(throttle(&w, "desk").await.map(|t| t.0), Some(1));
}
