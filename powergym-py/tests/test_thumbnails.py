"""Thumbnail encryption across the boundary, checked against Python's `cryptography`
(the library the original system used) at test time. No database needed."""

import base64
import os
import uuid

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

import powergym
from powergym.exceptions import ValidationError

AAD_DOMAIN = b"powergym/thumbnail/v1"
BIO, CLIENT = uuid.uuid4(), uuid.uuid4()


def fake_jpeg(size: int = 2000) -> bytes:
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 6) + b"\xff\xd9"


def original_encrypt(plaintext: bytes, key_text: str) -> str:
    """The original system's thumbnail encryption (domain spec 7.6)."""
    key = base64.b64decode(key_text)[:32]
    salt, nonce = os.urandom(16), os.urandom(12)
    kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=100_000)
    ciphertext = AESGCM(kdf.derive(key)).encrypt(nonce, plaintext, None)
    return base64.b64encode(salt + nonce + ciphertext).decode("ascii")


def test_legacy_thumbnails_open():
    key_text = base64.b64encode(os.urandom(32)).decode("ascii")
    jpeg = fake_jpeg()
    assert powergym.open_legacy_thumbnail(original_encrypt(jpeg, key_text), key_text) == jpeg
    # The original's documented `openssl rand -hex 32` key: base64 of 48 bytes, first 32 used.
    hex_key = os.urandom(32).hex()
    assert powergym.open_legacy_thumbnail(original_encrypt(jpeg, hex_key), hex_key) == jpeg


def test_legacy_tampering_and_wrong_keys_are_validation_errors():
    key_text = base64.b64encode(os.urandom(32)).decode("ascii")
    stored = original_encrypt(fake_jpeg(), key_text)
    blob = bytearray(base64.b64decode(stored))
    blob[-1] ^= 0x01
    tampered = base64.b64encode(bytes(blob)).decode("ascii")
    with pytest.raises(ValidationError) as tampered_err:
        powergym.open_legacy_thumbnail(tampered, key_text)
    assert tampered_err.value.field == "legacy_thumbnail"

    wrong = base64.b64encode(os.urandom(32)).decode("ascii")
    with pytest.raises(ValidationError) as wrong_err:
        powergym.open_legacy_thumbnail(stored, wrong)
    assert wrong_err.value.field == "legacy_thumbnail"
    assert wrong not in str(wrong_err.value)

    short = base64.b64encode(os.urandom(16)).decode("ascii")
    with pytest.raises(ValidationError) as short_err:
        powergym.open_legacy_thumbnail(stored, short)
    assert short_err.value.field == "legacy_key"
    assert short not in str(short_err.value)


def test_sealed_thumbnails_follow_the_documented_format():
    raw = os.urandom(32)
    key = powergym.ThumbnailKey.from_hex(raw.hex())
    jpeg = fake_jpeg()
    sealed = key.seal(jpeg, BIO, CLIENT)
    assert isinstance(sealed, bytes)
    assert sealed[0] == 0x01 and len(sealed) == 1 + 12 + len(jpeg) + 16
    aad = AAD_DOMAIN + BIO.bytes + CLIENT.bytes
    assert AESGCM(raw).decrypt(sealed[1:13], sealed[13:], aad) == jpeg
    assert key.open(sealed, BIO, CLIENT) == jpeg
    # The same key in base64 opens it too; a value sealed by Python opens in Rust.
    same = powergym.ThumbnailKey.from_base64(base64.b64encode(raw).decode("ascii"))
    nonce = os.urandom(12)
    from_python = b"\x01" + nonce + AESGCM(raw).encrypt(nonce, jpeg, aad)
    assert same.open(from_python, BIO, CLIENT) == jpeg


def test_sealed_thumbnails_do_not_open_on_another_row():
    key = powergym.ThumbnailKey.generate()
    sealed = key.seal(fake_jpeg(), BIO, CLIENT)
    for bio, client in [(uuid.uuid4(), CLIENT), (BIO, uuid.uuid4()), (CLIENT, BIO)]:
        with pytest.raises(ValidationError) as err:
            key.open(sealed, bio, client)
        assert err.value.field == "thumbnail"
    with pytest.raises(ValidationError):
        powergym.ThumbnailKey.generate().open(sealed, BIO, CLIENT)


def test_keys_are_parsed_strictly_and_never_shown():
    text = os.urandom(32).hex()
    key = powergym.ThumbnailKey.from_hex(text)
    assert repr(key) == "ThumbnailKey(<redacted>)"
    for bad in [text[:-2], text + "00", base64.b64encode(os.urandom(32)).decode("ascii")]:
        with pytest.raises(ValidationError) as err:
            powergym.ThumbnailKey.from_hex(bad)
        assert err.value.field == "thumbnail_key"
        assert bad not in str(err.value)
    with pytest.raises(ValidationError) as b64_err:
        powergym.ThumbnailKey.from_base64(text)  # hex handed to the base64 parser
    assert text not in str(b64_err.value)
