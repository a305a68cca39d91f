#!/usr/bin/env python3
"""Writes conformance/thumbnails/legacy.json: thumbnail ciphertexts made by Python's
`cryptography`, the library the original system used, for powergym-core to open.

- "legacy": the original's format (domain spec section 7.6), built exactly as the original
  did: the key string is base64-decoded and its first 32 bytes are the PBKDF2 password;
  per message a 16-byte salt -> PBKDF2-HMAC-SHA256 (100 000 rounds, 32 bytes), a 12-byte
  nonce, AES-256-GCM without associated data; stored = base64(salt | nonce | ct+tag).
- "sealed": PowerGym's own format, so it is pinned across languages:
  0x01 | nonce(12) | ct+tag, with AAD b"powergym/thumbnail/v1" | biometric_id | client_id.

Salts, nonces and keys come from a seeded generator rather than os.urandom, so rerunning
the script reproduces the checked-in file byte for byte.

Usage: .venv/bin/python scripts/make-thumbnail-vectors.py
(needs `cryptography>=42,<47`, installed by scripts/python-env.sh)
"""

import base64
import json
import random
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

OUT = Path(__file__).resolve().parents[1] / "conformance" / "thumbnails" / "legacy.json"
ITERATIONS = 100_000
AAD_DOMAIN = b"powergym/thumbnail/v1"

rng = random.Random(20240607)


def fake_jpeg(size: int) -> bytes:
    """JPEG-looking bytes: SOI/APP0 marker, noise, EOI marker."""
    if size < 6:
        return rng.randbytes(size)
    return b"\xff\xd8\xff\xe0" + rng.randbytes(size - 6) + b"\xff\xd9"


def legacy_encrypt(plaintext: bytes, key_text: str) -> str:
    """The original's encrypt_thumbnail, with the randomness drawn from `rng`."""
    key = base64.b64decode(key_text)
    assert len(key) >= 32
    salt = rng.randbytes(16)
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=ITERATIONS)
    derived = kdf.derive(key[:32])
    nonce = rng.randbytes(12)
    ciphertext = AESGCM(derived).encrypt(nonce, plaintext, None)
    return base64.b64encode(salt + nonce + ciphertext).decode("ascii")


def legacy_decrypt(stored: str, key_text: str) -> bytes:
    """The original's decrypt_thumbnail, to check each vector before writing it."""
    key = base64.b64decode(key_text)
    blob = base64.b64decode(stored)
    salt, nonce, ciphertext = blob[:16], blob[16:28], blob[28:]
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=ITERATIONS)
    return AESGCM(kdf.derive(key[:32])).decrypt(nonce, ciphertext, None)


def b64_key(n: int) -> str:
    return base64.b64encode(rng.randbytes(n)).decode("ascii")


def flip_last_byte(stored: str) -> str:
    blob = bytearray(base64.b64decode(stored))
    blob[-1] ^= 0x01
    return base64.b64encode(bytes(blob)).decode("ascii")


def legacy_cases() -> list[dict]:
    cases = []

    def ok(name: str, key_text: str, plaintext: bytes, stored: str | None = None) -> str:
        stored = stored if stored is not None else legacy_encrypt(plaintext, key_text)
        assert legacy_decrypt(stored, key_text) == plaintext
        cases.append(
            {"name": name, "key_base64": key_text, "stored": stored, "plaintext_hex": plaintext.hex()}
        )
        return stored

    key32 = b64_key(32)
    first_plain = fake_jpeg(300)
    first = ok("key_32_bytes", key32, first_plain)
    ok("empty_plaintext", key32, b"")
    ok("thumbnail_size", key32, fake_jpeg(4000))
    # What the original's docs told operators to do: `openssl rand -hex 32`. The 64 hex
    # characters are valid base64 and decode to 48 bytes; the first 32 are used.
    hex_key = rng.randbytes(32).hex()
    assert len(base64.b64decode(hex_key)) == 48
    ok("openssl_hex_key_read_as_base64", hex_key, fake_jpeg(200))
    ok("key_64_bytes_first_32_used", b64_key(64), fake_jpeg(150))
    # Same first 32 bytes, different tail: the tail plays no part.
    long_key = base64.b64encode(base64.b64decode(key32) + rng.randbytes(16)).decode("ascii")
    ok("longer_key_same_prefix", long_key, first_plain, stored=first)
    padded = fake_jpeg(100)
    ok("stored_with_surrounding_whitespace", key32, padded,
       stored="  " + legacy_encrypt(padded, key32) + "\n")

    plain = fake_jpeg(250)
    good = legacy_encrypt(plain, key32)
    cases.append({"name": "tampered_tag", "key_base64": key32, "stored": flip_last_byte(good), "error": True})
    cases.append({"name": "wrong_key", "key_base64": b64_key(32), "stored": good, "error": True})
    cases.append({"name": "key_too_short", "key_base64": b64_key(31), "stored": good, "error": True})
    cases.append({"name": "truncated", "key_base64": key32,
                  "stored": base64.b64encode(base64.b64decode(good)[:43]).decode("ascii"), "error": True})
    return cases


def aad(biometric_id: uuid.UUID, client_id: uuid.UUID) -> bytes:
    return AAD_DOMAIN + biometric_id.bytes + client_id.bytes


def seal(key: bytes, plaintext: bytes, biometric_id: uuid.UUID, client_id: uuid.UUID) -> bytes:
    nonce = rng.randbytes(12)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, plaintext, aad(biometric_id, client_id))


def random_uuid() -> uuid.UUID:
    return uuid.UUID(bytes=rng.randbytes(16), version=4)


def sealed_cases() -> list[dict]:
    cases = []

    def case(name, key, bio, client, blob, plaintext=None):
        entry = {
            "name": name,
            "key_hex": key.hex(),
            "biometric_id": str(bio),
            "client_id": str(client),
            "sealed_hex": blob.hex(),
        }
        if plaintext is None:
            entry["error"] = True
        else:
            entry["plaintext_hex"] = plaintext.hex()
        cases.append(entry)

    key = rng.randbytes(32)
    bio, client = random_uuid(), random_uuid()
    for name, size in [("small", 120), ("empty", 0), ("thumbnail_size", 3500)]:
        plain = fake_jpeg(size)
        case(name, key, bio, client, seal(key, plain, bio, client), plain)
    other_key = rng.randbytes(32)
    plain = fake_jpeg(64)
    case("another_key", other_key, bio, client, seal(other_key, plain, bio, client), plain)

    blob = seal(key, fake_jpeg(80), bio, client)
    case("moved_to_another_biometric_row", key, random_uuid(), client, blob)
    case("moved_to_another_client", key, bio, random_uuid(), blob)
    case("ids_swapped", key, client, bio, blob)
    case("unknown_version", key, bio, client, b"\x02" + blob[1:])
    case("tampered_tag", key, bio, client, blob[:-1] + bytes([blob[-1] ^ 1]))
    return cases


def main() -> None:
    doc = {
        "description": (
            "Thumbnail ciphertexts made by Python's cryptography package. 'legacy': the "
            "original system's format (domain spec 7.6), opened by open_legacy_thumbnail. "
            "'sealed': PowerGym's format (0x01 | nonce | ct+tag, AAD "
            "'powergym/thumbnail/v1' | biometric_id | client_id), opened by ThumbnailKey.open. "
            "Cases with \"error\": true must fail."
        ),
        "generator": "scripts/make-thumbnail-vectors.py",
        "legacy": legacy_cases(),
        "sealed": sealed_cases(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(doc['legacy'])} legacy, {len(doc['sealed'])} sealed cases)")


if __name__ == "__main__":
    main()
