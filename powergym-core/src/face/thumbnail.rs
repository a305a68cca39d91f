//! Face thumbnails at rest: sealing the small JPEG kept beside a face template, and
//! reading the original system's encrypted thumbnails during migration.
//!
//! A thumbnail is a picture of a person's face, so it is stored encrypted. Two formats
//! exist:
//!
//! - **Ours** ([`ThumbnailKey::seal`] / [`ThumbnailKey::open`]): AES-256-GCM under a key
//!   used directly, with associated data that binds the ciphertext to its biometric row
//!   and client, so a value copied onto another member's row does not decrypt.
//! - **The original's** ([`open_legacy_thumbnail`], read-only): AES-256-GCM under a key
//!   derived per message with PBKDF2, no associated data, stored as base64 text
//!   (domain spec §7.6). We read it to migrate, and never write it.

use std::fmt;

use aes_gcm::aead::{AeadInPlace, KeyInit, OsRng, rand_core::RngCore};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::ids::ClientId;
use crate::error::{Error, Result};

/// PBKDF2-HMAC-SHA256 rounds the original system ran per thumbnail; fixed by the data it
/// wrote, so reading its values needs exactly this number.
pub const LEGACY_PBKDF2_ITERATIONS: u32 = 100_000;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const VERSION_V1: u8 = 0x01;
const AAD_DOMAIN: &[u8] = b"powergym/thumbnail/v1";
const AAD_LEN: usize = AAD_DOMAIN.len() + 16 + 16;
const LEGACY_SALT_LEN: usize = 16;

/// Python's `base64.b64decode` accepts non-zero bits after the last full byte; reading
/// the original's key the same way keeps every key it accepted working.
const PYTHON_LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

const HEX_HELP: &str = "must be 64 hex characters (32 bytes), e.g. from `openssl rand -hex 32`";
const BASE64_HELP: &str = "must be standard base64 (A-Z a-z 0-9 + / with = padding) of exactly \
     32 bytes, e.g. from `openssl rand -base64 32`";
const OPEN_FAILED: &str = "cannot be decrypted: wrong key, damaged value, or sealed for another \
     biometric row or client";

/// The 256-bit secret that seals face thumbnails.
///
/// Thumbnails are faces, so this key protects personal data: it is built only from an
/// encoding the caller names (no guessing between hex and base64, the original's trap:
/// its docs suggested a hex key that its code then base64-decoded), it prints as
/// `ThumbnailKey(<redacted>)`, has no `Display`, and its bytes are overwritten when it is
/// dropped.
#[derive(Clone)]
pub struct ThumbnailKey {
    bytes: [u8; KEY_LEN],
}

impl ThumbnailKey {
    /// Parses the form `openssl rand -hex 32` prints. Surrounding whitespace (a trailing
    /// newline from a secrets file) is ignored; errors never contain the input.
    pub fn from_hex(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.len() != 2 * KEY_LEN {
            return Err(Error::validation(
                "thumbnail_key",
                format!("{HEX_HELP}; got {} characters", text.chars().count()),
            ));
        }
        let mut bytes = [0u8; KEY_LEN];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| {
            Error::validation(
                "thumbnail_key",
                format!("{HEX_HELP}; it contains characters other than 0-9 a-f A-F"),
            )
        })?;
        Ok(Self { bytes })
    }

    /// Parses the form `openssl rand -base64 32` prints (standard alphabet, padded).
    /// Surrounding whitespace is ignored; errors never contain the input.
    pub fn from_base64(text: &str) -> Result<Self> {
        let mut decoded = STANDARD
            .decode(text.trim())
            .map_err(|_| Error::validation("thumbnail_key", BASE64_HELP))?;
        let result = <[u8; KEY_LEN]>::try_from(decoded.as_slice())
            .map(|bytes| Self { bytes })
            .map_err(|_| {
                Error::validation(
                    "thumbnail_key",
                    format!("{BASE64_HELP}; it decodes to {} bytes", decoded.len()),
                )
            });
        wipe(&mut decoded);
        result
    }

    /// Wraps raw key bytes, for callers that keep keys in a KMS or keyring already.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self { bytes }
    }

    /// A fresh key from the operating system's randomness, for a new installation.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// Encrypts a thumbnail for the `biometrics.thumbnail_encrypted` (`bytea`) column of
    /// one row.
    ///
    /// Format, version 1:
    ///
    /// ```text
    /// 0x01 ‖ nonce (12 bytes, random) ‖ AES-256-GCM ciphertext ‖ tag (16 bytes)
    /// ```
    ///
    /// with associated data `b"powergym/thumbnail/v1" ‖ biometric_id (16 bytes) ‖
    /// client_id (16 bytes)` (UUIDs in their big-endian RFC 4122 byte order). The AAD is
    /// not stored: [`open`](Self::open) rebuilds it from the row, so a value moved to
    /// another row or member fails to open instead of showing the wrong face. The output
    /// is 29 bytes longer than `jpeg`. A random nonce is safe for far more thumbnails
    /// than a gym will ever store (2³² per key).
    ///
    /// # Panics
    ///
    /// Only for a `jpeg` of 64 GiB or more, which AES-GCM cannot encrypt.
    pub fn seal(&self, jpeg: &[u8], biometric_id: Uuid, client_id: ClientId) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let mut out = Vec::with_capacity(1 + NONCE_LEN + jpeg.len() + TAG_LEN);
        out.push(VERSION_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(jpeg);
        let tag = self
            .cipher()
            .encrypt_in_place_detached(
                &Nonce::from(nonce),
                &aad(biometric_id, client_id),
                &mut out[1 + NONCE_LEN..],
            )
            .expect("AES-GCM encrypts any message shorter than 64 GiB");
        out.extend_from_slice(&tag);
        out
    }

    /// Decrypts what [`seal`](Self::seal) produced for the same row. A wrong key, a
    /// damaged value, or a value sealed for another biometric row or client is a
    /// [`Error::Validation`] on field `thumbnail`; the message never contains the data.
    pub fn open(&self, sealed: &[u8], biometric_id: Uuid, client_id: ClientId) -> Result<Vec<u8>> {
        let Some((&version, rest)) = sealed.split_first() else {
            return Err(Error::validation("thumbnail", "sealed thumbnail is empty"));
        };
        if version != VERSION_V1 {
            return Err(Error::validation(
                "thumbnail",
                "unknown sealed-thumbnail format version; this library reads version 1",
            ));
        }
        let Some((nonce, ciphertext, tag)) = split_nonce_body_tag(rest) else {
            return Err(Error::validation(
                "thumbnail",
                format!(
                    "sealed thumbnail is truncated: version 1 needs at least {} bytes",
                    1 + NONCE_LEN + TAG_LEN
                ),
            ));
        };
        let mut plain = ciphertext.to_vec();
        self.cipher()
            .decrypt_in_place_detached(
                &Nonce::from(*nonce),
                &aad(biometric_id, client_id),
                &mut plain,
                &Tag::from(*tag),
            )
            .map_err(|_| Error::validation("thumbnail", OPEN_FAILED))?;
        Ok(plain)
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&self.bytes).into())
    }
}

impl fmt::Debug for ThumbnailKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThumbnailKey(<redacted>)")
    }
}

impl Drop for ThumbnailKey {
    fn drop(&mut self) {
        wipe(&mut self.bytes);
    }
}

/// Best-effort overwrite of secret bytes. Without `unsafe` (no volatile writes) the
/// compiler may in principle elide it; `black_box` makes that unlikely. Copies the
/// cipher made internally are not covered.
fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    std::hint::black_box(bytes);
}

/// `nonce (12) ‖ body ‖ tag (16)`, or `None` when too short for both.
fn split_nonce_body_tag(bytes: &[u8]) -> Option<(&[u8; NONCE_LEN], &[u8], &[u8; TAG_LEN])> {
    let (nonce, rest) = bytes.split_first_chunk::<NONCE_LEN>()?;
    let (body, tag) = rest.split_last_chunk::<TAG_LEN>()?;
    Some((nonce, body, tag))
}

fn aad(biometric_id: Uuid, client_id: ClientId) -> [u8; AAD_LEN] {
    let mut aad = [0u8; AAD_LEN];
    let (domain, ids) = aad.split_at_mut(AAD_DOMAIN.len());
    domain.copy_from_slice(AAD_DOMAIN);
    ids[..16].copy_from_slice(biometric_id.as_bytes());
    ids[16..].copy_from_slice(client_id.as_uuid().as_bytes());
    aad
}

/// Decrypts a thumbnail the original system stored, so a migration can re-seal it with
/// [`ThumbnailKey::seal`].
///
/// `stored` is the original's `biometrics.thumbnail` text: base64(salt (16) ‖ nonce (12)
/// ‖ ciphertext ‖ tag (16)); surrounding whitespace is ignored. `legacy_key_base64` is
/// the original's `BIOMETRIC_ENCRYPTION_KEY` exactly as configured: it was
/// base64-decoded and the first 32 of at least 32 bytes were the PBKDF2 password (so an
/// `openssl rand -hex 32` key, 64 characters, worked by decoding to 48 bytes). Each value
/// costs [`LEGACY_PBKDF2_ITERATIONS`] rounds, about tens of milliseconds: run bulk
/// migrations off the async runtime.
///
/// Errors are [`Error::Validation`] on `legacy_key` or `legacy_thumbnail` and never
/// contain the key or the data.
pub fn open_legacy_thumbnail(stored: &str, legacy_key_base64: &str) -> Result<Vec<u8>> {
    let password = legacy_password(legacy_key_base64)?;
    let blob = PYTHON_LENIENT_BASE64
        .decode(python_b64_alphabet(stored))
        .map_err(|_| {
            Error::validation(
                "legacy_thumbnail",
                "must be the base64 text the original stored (salt, nonce, ciphertext)",
            )
        })?;
    let Some((salt, nonce, ciphertext, tag)) = blob
        .split_first_chunk::<LEGACY_SALT_LEN>()
        .and_then(|(salt, rest)| split_nonce_body_tag(rest).map(|(n, c, t)| (salt, n, c, t)))
    else {
        return Err(Error::validation(
            "legacy_thumbnail",
            format!(
                "is truncated: the original's format needs at least {} bytes",
                LEGACY_SALT_LEN + NONCE_LEN + TAG_LEN
            ),
        ));
    };

    let mut derived = [0u8; KEY_LEN];
    pbkdf2::pbkdf2_hmac::<Sha256>(
        &password.bytes,
        salt,
        LEGACY_PBKDF2_ITERATIONS,
        &mut derived,
    );
    let key = ThumbnailKey::from_bytes(derived);
    wipe(&mut derived);

    let mut plain = ciphertext.to_vec();
    key.cipher()
        .decrypt_in_place_detached(&Nonce::from(*nonce), b"", &mut plain, &Tag::from(*tag))
        .map_err(|_| {
            Error::validation(
                "legacy_thumbnail",
                "cannot be decrypted: wrong key or damaged value",
            )
        })?;
    Ok(plain)
}

/// The original's key handling: base64-decode, require at least 32 bytes, keep the first
/// 32. Kept in a `ThumbnailKey` only so the bytes are wiped on drop.
/// What Python's `base64.b64decode` (non-validating, as the original called it) reads:
/// characters outside the base64 alphabet, such as a line break inside a key, are
/// dropped before decoding.
fn python_b64_alphabet(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        .collect()
}

fn legacy_password(legacy_key_base64: &str) -> Result<ThumbnailKey> {
    const HELP: &str = "must be the original's BIOMETRIC_ENCRYPTION_KEY as configured: \
         base64 text that decodes to at least 32 bytes";
    let mut decoded = PYTHON_LENIENT_BASE64
        .decode(python_b64_alphabet(legacy_key_base64))
        .map_err(|_| Error::validation("legacy_key", format!("{HELP}; it is not base64")))?;
    let result = match decoded.get(..KEY_LEN) {
        Some(first) => {
            let mut bytes = [0u8; KEY_LEN];
            bytes.copy_from_slice(first);
            Ok(ThumbnailKey::from_bytes(bytes))
        }
        None => Err(Error::validation(
            "legacy_key",
            format!("{HELP}; it decodes to {} bytes", decoded.len()),
        )),
    };
    wipe(&mut decoded);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn key() -> ThumbnailKey {
        ThumbnailKey::from_hex(KEY_HEX).unwrap()
    }

    fn ids() -> (Uuid, ClientId) {
        (
            Uuid::from_u128(0x1111),
            ClientId::from_uuid(Uuid::from_u128(0x2222)),
        )
    }

    fn jpeg() -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0];
        j.extend((0..500u32).map(|i| (i * 7 % 251) as u8));
        j.extend([0xFF, 0xD9]);
        j
    }

    fn field_of(err: &Error) -> &'static str {
        match err {
            Error::Validation { field, .. } => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn seal_then_open_round_trips() {
        let (bio, client) = ids();
        for data in [jpeg(), Vec::new(), vec![0x42]] {
            let sealed = key().seal(&data, bio, client);
            assert_eq!(sealed.len(), data.len() + 29);
            assert_eq!(sealed[0], 0x01);
            assert_eq!(key().open(&sealed, bio, client).unwrap(), data);
        }
    }

    #[test]
    fn sealing_twice_uses_fresh_nonces() {
        let (bio, client) = ids();
        assert_ne!(
            key().seal(&jpeg(), bio, client),
            key().seal(&jpeg(), bio, client)
        );
    }

    #[test]
    fn a_wrong_key_or_another_row_cannot_open() {
        let (bio, client) = ids();
        let sealed = key().seal(&jpeg(), bio, client);
        let other_client = ClientId::from_uuid(Uuid::from_u128(0x3333));
        let cases = [
            (ThumbnailKey::generate(), bio, client),
            (key(), Uuid::from_u128(0x9999), client),
            (key(), bio, other_client),
            // The two ids swapped must not be the same binding.
            (key(), client.as_uuid(), ClientId::from_uuid(bio)),
        ];
        for (k, b, c) in cases {
            let err = k.open(&sealed, b, c).unwrap_err();
            assert_eq!(field_of(&err), "thumbnail");
            assert!(err.to_string().contains("cannot be decrypted"), "{err}");
        }
    }

    #[test]
    fn damaged_values_are_refused() {
        let (bio, client) = ids();
        let sealed = key().seal(&jpeg(), bio, client);
        for i in [0, 1, 12, 13, sealed.len() / 2, sealed.len() - 1] {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            let err = key().open(&bad, bio, client).unwrap_err();
            assert_eq!(field_of(&err), "thumbnail", "byte {i}");
        }
        for len in [0, 1, 13, 28, sealed.len() - 1] {
            let err = key().open(&sealed[..len], bio, client).unwrap_err();
            assert_eq!(field_of(&err), "thumbnail", "length {len}");
        }
        let mut v2 = sealed.clone();
        v2[0] = 0x02;
        let err = key().open(&v2, bio, client).unwrap_err();
        assert!(err.to_string().contains("version"), "{err}");
        // A 29-byte value is the sealing of an empty thumbnail, not "truncated".
        let empty = key().seal(&[], bio, client);
        assert_eq!(key().open(&empty, bio, client).unwrap(), b"");
    }

    #[test]
    fn the_encodings_parse_to_the_same_key() {
        let bytes: [u8; 32] = std::array::from_fn(|i| i as u8);
        let b64 = STANDARD.encode(bytes);
        assert_eq!(key().bytes, bytes);
        assert_eq!(ThumbnailKey::from_bytes(bytes).bytes, bytes);
        assert_eq!(ThumbnailKey::from_base64(&b64).unwrap().bytes, bytes);
        let upper = ThumbnailKey::from_hex(&KEY_HEX.to_uppercase()).unwrap();
        assert_eq!(upper.bytes, bytes);
        let padded = ThumbnailKey::from_hex(&format!(" {KEY_HEX}\n")).unwrap();
        assert_eq!(padded.bytes, bytes);
        let line = ThumbnailKey::from_base64(&format!("{b64}\n")).unwrap();
        assert_eq!(line.bytes, bytes);
        assert_ne!(
            ThumbnailKey::generate().bytes,
            ThumbnailKey::generate().bytes
        );
        assert_eq!(key().clone().bytes, bytes);
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        let b64_of = |n: usize| STANDARD.encode(vec![0xA7u8; n]);
        let hex_cases = [
            KEY_HEX[..62].to_owned(),
            format!("{KEY_HEX}00"),
            format!("{}zz", &KEY_HEX[..62]),
            "0".repeat(63),
            String::new(),
            // A base64 key handed to the hex parser: refused, not guessed.
            b64_of(32),
            "é".repeat(32),
        ];
        for text in &hex_cases {
            let err = ThumbnailKey::from_hex(text).unwrap_err();
            assert_eq!(field_of(&err), "thumbnail_key");
            let msg = err.to_string();
            assert!(msg.contains("64 hex characters"), "{msg}");
            assert!(text.is_empty() || !msg.contains(text.as_str()), "{msg}");
        }
        let b64_cases = [
            b64_of(31),
            b64_of(33),
            b64_of(48),
            // The hex key handed to the base64 parser decodes to 48 bytes: refused.
            KEY_HEX.to_owned(),
            "not base64 at all!".to_owned(),
            b64_of(32).trim_end_matches('=').to_owned(),
            format!("-{}", &b64_of(32)[1..]),
            String::new(),
        ];
        for text in &b64_cases {
            let err = ThumbnailKey::from_base64(text).unwrap_err();
            assert_eq!(field_of(&err), "thumbnail_key", "{text}");
            let msg = err.to_string();
            assert!(msg.contains("exactly 32 bytes"), "{msg}");
            assert!(text.is_empty() || !msg.contains(text.as_str()), "{msg}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let shown = format!("{:?} {:#?}", key(), Some(key()));
        assert!(shown.contains("ThumbnailKey(<redacted>)"));
        assert!(
            !shown.contains("0a0b") && !shown.contains("10, 11"),
            "{shown}"
        );
    }

    #[test]
    fn bad_legacy_inputs_are_validation_errors() {
        let good_key = STANDARD.encode([7u8; 32]);
        let err = open_legacy_thumbnail("AAAA", &STANDARD.encode([7u8; 31])).unwrap_err();
        assert_eq!(field_of(&err), "legacy_key");
        let err = open_legacy_thumbnail("AAAA", "%%%").unwrap_err();
        assert_eq!(field_of(&err), "legacy_key");
        assert!(!err.to_string().contains("%%%"));
        let err = open_legacy_thumbnail("not*base64", &good_key).unwrap_err();
        assert_eq!(field_of(&err), "legacy_thumbnail");
        let err = open_legacy_thumbnail(&STANDARD.encode([0u8; 43]), &good_key).unwrap_err();
        assert_eq!(field_of(&err), "legacy_thumbnail");
        let err = open_legacy_thumbnail(&STANDARD.encode([0u8; 44]), &good_key).unwrap_err();
        assert_eq!(field_of(&err), "legacy_thumbnail");
        assert!(err.to_string().contains("cannot be decrypted"), "{err}");
    }

    #[test]
    fn legacy_text_is_read_as_leniently_as_python_read_it() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../conformance/thumbnails/legacy.json"))
                .unwrap();
        let case = doc["legacy"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| !c["error"].as_bool().unwrap_or(false))
            .unwrap();
        let key = case["key_base64"].as_str().unwrap();
        let stored = case["stored"].as_str().unwrap();
        // A key pasted with a line break, a value wrapped at 76 columns.
        let key = format!("{}\n{}", &key[..10], &key[10..]);
        let stored: String = stored
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\n");
        let want = hex::decode(case["plaintext_hex"].as_str().unwrap()).unwrap();
        assert_eq!(open_legacy_thumbnail(&stored, &key).unwrap(), want);
    }

    /// Vectors written by `scripts/make-thumbnail-vectors.py` with Python's
    /// `cryptography`, the library the original used.
    #[test]
    fn python_vectors_open() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../../conformance/thumbnails/legacy.json"))
                .unwrap();
        let text = |case: &serde_json::Value, k: &str| case[k].as_str().unwrap().to_owned();
        let fails = |case: &serde_json::Value| case["error"].as_bool().unwrap_or(false);

        let legacy = doc["legacy"].as_array().unwrap();
        assert!(legacy.len() >= 6);
        for case in legacy {
            let name = text(case, "name");
            let got = open_legacy_thumbnail(&text(case, "stored"), &text(case, "key_base64"));
            if fails(case) {
                let err = got.expect_err(&name);
                assert!(matches!(field_of(&err), "legacy_key" | "legacy_thumbnail"));
            } else {
                let want = hex::decode(text(case, "plaintext_hex")).unwrap();
                assert_eq!(got.expect(&name), want, "{name}");
            }
        }

        let sealed = doc["sealed"].as_array().unwrap();
        assert!(sealed.len() >= 3);
        for case in sealed {
            let name = text(case, "name");
            let k = ThumbnailKey::from_hex(&text(case, "key_hex")).unwrap();
            let bio = Uuid::parse_str(&text(case, "biometric_id")).unwrap();
            let client = ClientId::parse(&text(case, "client_id")).unwrap();
            let blob = hex::decode(text(case, "sealed_hex")).unwrap();
            let got = k.open(&blob, bio, client);
            if fails(case) {
                assert_eq!(field_of(&got.expect_err(&name)), "thumbnail");
            } else {
                let want = hex::decode(text(case, "plaintext_hex")).unwrap();
                assert_eq!(got.expect(&name), want, "{name}");
                // And ours agrees with Python's layout: re-sealing opens the same way.
                let resealed = k.seal(&want, bio, client);
                assert_eq!(resealed.len(), blob.len());
                assert_eq!(k.open(&resealed, bio, client).unwrap(), want);
            }
        }
    }
}
