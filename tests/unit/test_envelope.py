"""Envelope encryption: known answers, crypto-shredding, blind index, master-key loading."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat

import pytest

from agents import multibase
from agents.errors import KeyError_
from web import envelope
from web.envelope import DecryptionError, MasterKey

# AES-256-GCM, test case 16 of McGrew & Viega, "The Galois/Counter Mode of Operation" (NIST GCM spec)
GCM_KEY = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
GCM_IV = bytes.fromhex("cafebabefacedbaddecaf888")
GCM_PT = bytes.fromhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
)
GCM_AAD = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
GCM_CT = bytes.fromhex(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
)
GCM_TAG = bytes.fromhex("76fc6ece0f4e1768cddf8853bb2d551b")

MASTER = bytes(range(32))


def _hkdf_sha256(ikm: bytes, info: bytes) -> bytes:
    """RFC 5869 with an empty salt, written out so the test does not reuse the module's HKDF."""
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def test_open_known_answer_gcm_vector() -> None:
    sealed = b"\x01" + GCM_IV + GCM_CT + GCM_TAG
    assert envelope.open(GCM_KEY, sealed, GCM_AAD) == GCM_PT


@pytest.mark.parametrize("flip", [0, 1, 5, 20, -1])
def test_open_refuses_any_changed_byte(flip: int) -> None:
    sealed = bytearray(b"\x01" + GCM_IV + GCM_CT + GCM_TAG)
    sealed[flip] ^= 0x01
    with pytest.raises(DecryptionError, match="cannot be read"):
        envelope.open(GCM_KEY, bytes(sealed), GCM_AAD)


def test_seal_round_trip_and_aad_binding() -> None:
    dek = envelope.new_data_key()
    sealed = envelope.seal(dek, "홍길동", "participant:1|name")
    assert envelope.open(dek, sealed, "participant:1|name") == "홍길동".encode()
    assert sealed != envelope.seal(dek, "홍길동", "participant:1|name")  # fresh nonce each time
    with pytest.raises(DecryptionError):
        envelope.open(dek, sealed, "participant:2|name")  # moved to another row
    with pytest.raises(DecryptionError):
        envelope.open(envelope.new_data_key(), sealed, "participant:1|name")
    with pytest.raises(DecryptionError):
        envelope.open(dek, b"\x01short", "participant:1|name")


def test_wrapped_key_is_bound_to_role_and_subject() -> None:
    kek = MasterKey(MASTER, "issuer")
    dek, wrapped = kek.new_wrapped_key("participant:7")
    assert kek.unwrap(wrapped, "participant:7") == dek
    assert dek not in wrapped
    with pytest.raises(DecryptionError):
        kek.unwrap(wrapped, "participant:8")
    with pytest.raises(DecryptionError):
        MasterKey(MASTER, "wallet").unwrap(wrapped, "participant:7")
    with pytest.raises(DecryptionError):
        MasterKey(bytes(32), "issuer").unwrap(wrapped, "participant:7")


def test_destroying_the_data_key_shreds_the_subject() -> None:
    kek = MasterKey(MASTER, "wallet")
    dek, wrapped = kek.new_wrapped_key("worker:1")
    fields = {f: envelope.seal(dek, v, f"worker:1|{f}") for f, v in {"name": "김서울", "phone": "010-1234-5678"}.items()}
    del dek
    row_key: bytes | None = None  # the erasure: the wrapped key is removed from the row
    for field, sealed in fields.items():
        with pytest.raises(DecryptionError):
            envelope.open(kek.unwrap(row_key, "worker:1"), sealed, f"worker:1|{field}")
    assert kek.unwrap(wrapped, "worker:1")  # only that row's copy was destroyed in this test


def test_blind_index_known_answer() -> None:
    kek = MasterKey(MASTER, "issuer")
    subkey = _hkdf_sha256(MASTER, b"workcred/issuer/blind-index/v1")
    expected = multibase.b64url(hmac.new(subkey, b"phone\x0001012345678", hashlib.sha256).digest())
    assert kek.blind_index("phone", "010-1234-5678") == expected
    assert expected == "AFz3NhSe6gwkxnVex4JXOyIzCwrDycuQtsdTax0UlBA"


@pytest.mark.parametrize(
    ("kind", "a", "b"),
    [
        ("phone", "010-1234-5678", "010 1234 5678"),
        ("phone", "01012345678", "+82 10-1234-5678"),
        ("name", "홍길동", "홍 길동"),
        ("name", "\u1112\u1169\u11bc\u1100\u1175\u11af\u1103\u1169\u11bc", "홍길동"),  # NFD jamo vs NFC
        ("name", "Kim Seoul", "kim seoul"),
        ("email", "A@Example.kr", "a@example.kr"),
    ],
)
def test_blind_index_matches_normalised_equals(kind: envelope.IndexKind, a: str, b: str) -> None:
    kek = MasterKey(MASTER, "issuer")
    assert kek.blind_index(kind, a) == kek.blind_index(kind, b)


def test_blind_index_separates_kinds_keys_and_values() -> None:
    kek = MasterKey(MASTER, "issuer")
    assert kek.blind_index("phone", "01012345678") != kek.blind_index("text", "01012345678")
    assert kek.blind_index("name", "홍길동") != kek.blind_index("name", "홍길순")
    assert kek.blind_index("name", "홍길동") != MasterKey(bytes(32), "issuer").blind_index("name", "홍길동")


def test_master_key_repr_hides_the_key() -> None:
    kek = MasterKey(MASTER, "issuer")
    assert MASTER.hex() not in repr(kek) and multibase.b64url(MASTER) not in repr(kek)


def test_load_master_key_from_env_and_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKCRED_ISSUER_MASTER_KEY_FILE", raising=False)
    monkeypatch.setenv("WORKCRED_ISSUER_MASTER_KEY", multibase.b64url(MASTER))
    assert envelope.load_master_key("issuer", dev=False).fingerprint == MasterKey(MASTER, "issuer").fingerprint
    monkeypatch.delenv("WORKCRED_ISSUER_MASTER_KEY")
    key_file = tmp_path / "kek"
    key_file.write_text(multibase.b64url(MASTER) + "\n")
    monkeypatch.setenv("WORKCRED_ISSUER_MASTER_KEY_FILE", str(key_file))
    assert envelope.load_master_key("issuer", dev=False).fingerprint == MasterKey(MASTER, "issuer").fingerprint


@pytest.mark.parametrize("value", ["", "short", multibase.b64url(b"x" * 31), "!!!!"])
def test_load_master_key_refuses_bad_values(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKCRED_WALLET_MASTER_KEY", value or " ")
    with pytest.raises(KeyError_, match="32 bytes"):
        envelope.load_master_key("wallet", dev=False)


def test_load_master_key_refuses_to_start_without_one(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WORKCRED_ISSUER_MASTER_KEY", "WORKCRED_ISSUER_MASTER_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(KeyError_, match="will not start"):
        envelope.load_master_key("issuer", dev=False, data_dir=tmp_path)
    assert not (tmp_path / "issuer-master.key").exists()
    monkeypatch.setenv("WORKCRED_ISSUER_MASTER_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(KeyError_, match="cannot be read"):
        envelope.load_master_key("issuer", dev=False)


def test_dev_master_key_generated_once_0600(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WORKCRED_ISSUER_MASTER_KEY", "WORKCRED_ISSUER_MASTER_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    first = envelope.load_master_key("issuer", dev=True, data_dir=tmp_path)
    path = tmp_path / "issuer-master.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert envelope.load_master_key("issuer", dev=True, data_dir=tmp_path).fingerprint == first.fingerprint
