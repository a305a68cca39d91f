//! Staff sign-in rules: argon2id password hashing in PHC string format, upgrading hashes
//! made with weaker parameters, and the backoff that throttles failed sign-ins.
//!
//! New hashes use the original system's parameters (argon2-cffi's RFC 9106 low-memory
//! profile: t = 3, m = 64 MiB, p = 4), and any PHC argon2 hash verifies with the
//! parameters it carries, so accounts moved from the original keep their passwords; a
//! hash below the current parameters is replaced on the next successful sign-in.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{Error, Result};
use crate::store::SignInThrottle;

/// Memory (KiB), passes, lanes and output length of new hashes.
const M_COST: u32 = 65_536;
const T_COST: u32 = 3;
const P_COST: u32 = 4;
const OUTPUT_LEN: usize = 32;

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST, T_COST, P_COST, Some(OUTPUT_LEN)).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with a fresh random salt.
pub(crate) fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| Error::validation("password", "could not be hashed"))
}

/// True when `password` matches the PHC string `hash`. A malformed stored hash never
/// matches.
pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// True when `hash` was not made as [`hash_password`] makes hashes now: another argon2
/// variant or version, or any cost below the current one. Such a hash still verifies;
/// it is replaced at the next successful sign-in, when the password is at hand.
pub(crate) fn needs_rehash(hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || parsed.version != Some(Version::V0x13 as u32)
        || params.m_cost() < M_COST
        || params.t_cost() < T_COST
        || params.p_cost() < P_COST
        || parsed.hash.is_none_or(|h| h.len() < OUTPUT_LEN)
}

/// The result of checking a password against a stored hash.
#[derive(PartialEq, Eq)]
pub(crate) enum PasswordCheck {
    /// The password does not match.
    Wrong,
    /// The password matches; `rehashed` is its hash with the current parameters when the
    /// stored one is weaker.
    Right {
        /// The replacement hash, if one is due.
        rehashed: Option<String>,
    },
}

/// Verifies `password` against `hash` and, when it matches a hash below the current
/// parameters, hashes it again with them.
pub(crate) fn check_password(password: &str, hash: &str) -> PasswordCheck {
    if !verify_password(password, hash) {
        return PasswordCheck::Wrong;
    }
    let rehashed = if needs_rehash(hash) {
        // A failure to rehash costs the upgrade, never the sign-in.
        hash_password(password).ok()
    } else {
        None
    };
    PasswordCheck::Right { rehashed }
}

/// A hash of nothing anyone knows, verified when the username does not exist so that an
/// unknown user costs the same time as a wrong password.
pub(crate) const DUMMY_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$K4uJv5LMGmBu6RruK4zT0mwO6JIbngQyWN0UyHhkLA8";

/// Consecutive failures a name is allowed before it is locked.
pub(crate) const FAILURES_BEFORE_LOCK: u32 = 5;

/// The first lock; each further failure doubles it, up to [`LONGEST_LOCK`].
pub(crate) const FIRST_LOCK: TimeDelta = TimeDelta::seconds(1);

/// The longest lock: long enough to make guessing hopeless (a few guesses an hour),
/// short enough that a member of staff locked out by someone else gets back in soon.
pub(crate) const LONGEST_LOCK: TimeDelta = TimeDelta::minutes(15);

/// How long failures are remembered after the last one: a mistyped password a day
/// apart never adds up to a lock.
pub(crate) const FAILURE_MEMORY: TimeDelta = TimeDelta::hours(24);

/// How long a name is locked after its `failures`-th consecutive failure, if at all.
pub(crate) fn lock_after(failures: u32) -> Option<TimeDelta> {
    let beyond = failures.checked_sub(FAILURES_BEFORE_LOCK)?;
    // 2^10 s already exceeds the cap, so larger exponents are not computed.
    let lock = FIRST_LOCK * (1_i32 << beyond.min(10));
    Some(lock.min(LONGEST_LOCK))
}

/// The throttle as it stands at `now`: failures older than [`FAILURE_MEMORY`] are
/// forgotten.
pub(crate) fn current(state: SignInThrottle, now: DateTime<Utc>) -> SignInThrottle {
    match state.last_failure_at {
        Some(last) if now - last < FAILURE_MEMORY => state,
        _ => SignInThrottle::default(),
    }
}

/// True while the name is locked: even the right password is refused, unverified.
pub(crate) fn is_locked(state: &SignInThrottle, now: DateTime<Utc>) -> bool {
    state.locked_until.is_some_and(|until| now < until)
}

/// The throttle after one more refused sign-in at `now`. A wrong password (or a
/// disabled account, or a name that belongs to nobody) starts a new lock once the
/// failures reach [`FAILURES_BEFORE_LOCK`]; an attempt refused because the name was
/// locked counts too, so hammering a locked name makes its next lock longer, but leaves
/// the current lock as it was.
pub(crate) fn after_failure(state: SignInThrottle, now: DateTime<Utc>) -> SignInThrottle {
    let failures = state.failures.saturating_add(1);
    let locked_until = if is_locked(&state, now) {
        state.locked_until
    } else {
        lock_after(failures).map(|lock| now + lock)
    };
    SignInThrottle {
        failures,
        locked_until,
        last_failure_at: Some(now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_original_hashes() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=65536,t=3,p=4$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("wrong", &h));
        // Made by the original backend's hasher (pwdlib PasswordHash.recommended(),
        // argon2-cffi 25.1) for "Original-Passw0rd!".
        let original = "$argon2id$v=19$m=65536,t=3,p=4$TwPlM+uTYtvx/HxJaq4Vew$A9k7OOp045MJEvLfU3b9Sc4AUyWHvUHInWgbmw3buZA";
        assert!(verify_password("Original-Passw0rd!", original));
        assert!(!verify_password("original-passw0rd!", original));
        assert!(!verify_password("anything", "not a hash"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!needs_rehash(&h) && !needs_rehash(original) && !needs_rehash(DUMMY_HASH));
    }

    fn weak(algorithm: Algorithm, m: u32, t: u32, p: u32, len: usize) -> String {
        let params = Params::new(m, t, p, Some(len)).unwrap();
        Argon2::new(algorithm, Version::V0x13, params)
            .hash_password(b"pw", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string()
    }

    #[test]
    fn hashes_below_the_current_parameters_are_upgraded_on_a_match() {
        for hash in [
            weak(Algorithm::Argon2id, 8, 1, 1, 32),
            weak(Algorithm::Argon2id, 65_536, 2, 4, 32),
            weak(Algorithm::Argon2id, 32_768, 3, 4, 32),
            weak(Algorithm::Argon2id, 65_536, 3, 2, 32),
            weak(Algorithm::Argon2id, 65_536, 3, 4, 16),
            weak(Algorithm::Argon2i, 65_536, 3, 4, 32),
            weak(Algorithm::Argon2d, 65_536, 3, 4, 32),
        ] {
            assert!(needs_rehash(&hash), "{hash}");
            assert!(check_password("nope", &hash) == PasswordCheck::Wrong);
            let PasswordCheck::Right {
                rehashed: Some(new),
            } = check_password("pw", &hash)
            else {
                panic!("{hash} should verify and be rehashed");
            };
            assert!(new.starts_with("$argon2id$v=19$m=65536,t=3,p=4$"), "{new}");
            assert!(verify_password("pw", &new) && !needs_rehash(&new));
        }
        // Stronger than required is left alone.
        let strong = weak(Algorithm::Argon2id, 65_536, 4, 4, 32);
        assert!(check_password("pw", &strong) == PasswordCheck::Right { rehashed: None });
        assert!(needs_rehash("not a hash"));
    }

    #[test]
    fn the_lock_starts_after_five_failures_doubles_and_is_capped() {
        let locks: Vec<Option<i64>> = (0..=25)
            .map(|n| lock_after(n).map(|d| d.num_seconds()))
            .collect();
        assert_eq!(locks[..5], [None; 5]);
        assert_eq!(
            locks[5..16],
            [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900].map(Some)
        );
        assert!(locks[16..].iter().all(|l| *l == Some(900)));
        assert_eq!(lock_after(u32::MAX), Some(LONGEST_LOCK));
    }

    #[test]
    fn failures_lock_refusals_while_locked_count_and_old_failures_are_forgotten() {
        let t0: DateTime<Utc> = "2025-06-15T15:00:00Z".parse().unwrap();
        let mut s = SignInThrottle::default();
        for i in 0..5 {
            assert!(!is_locked(&s, t0), "locked after {i}");
            s = after_failure(current(s, t0), t0);
        }
        assert_eq!(s.failures, 5);
        assert_eq!(s.locked_until, Some(t0 + FIRST_LOCK));
        assert!(is_locked(&s, t0));
        // Refused while locked: counted, the lock itself unchanged.
        s = after_failure(current(s, t0), t0);
        assert_eq!((s.failures, s.locked_until), (6, Some(t0 + FIRST_LOCK)));
        let t1 = t0 + FIRST_LOCK;
        assert!(!is_locked(&s, t1));
        // The next wrong password locks for 2^(7-5) s.
        s = after_failure(current(s, t1), t1);
        assert_eq!(s.locked_until, Some(t1 + TimeDelta::seconds(4)));
        // A day later it is as if nothing happened.
        let later = t1 + FAILURE_MEMORY;
        assert_eq!(current(s, later), SignInThrottle::default());
        assert_eq!(current(s, later - TimeDelta::seconds(1)), s);
    }
}
