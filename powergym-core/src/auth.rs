//! Staff password hashing: argon2id in PHC string format.
//!
//! New hashes use the original system's parameters (argon2-cffi's RFC 9106 low-memory
//! profile: t = 3, m = 64 MiB, p = 4), and any PHC argon2 hash verifies with the
//! parameters it carries, so accounts moved from the original keep their passwords.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

fn hasher() -> Argon2<'static> {
    let params = Params::new(65_536, 3, 4, Some(32)).unwrap_or_default();
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

/// A hash of nothing anyone knows, verified when the username does not exist so that an
/// unknown user costs the same time as a wrong password.
pub(crate) const DUMMY_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$K4uJv5LMGmBu6RruK4zT0mwO6JIbngQyWN0UyHhkLA8";

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
    }
}
