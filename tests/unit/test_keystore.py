"""Key store: secrets sealed at rest, rotation, wrong master key, master key from the environment."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents import multibase
from agents.errors import Conflict, InvalidInput, KeyError_, NotFound
from agents.keys import Ed25519KeyPair
from agents.keystore import ENV_SECRET, EncryptedFileKeyStore, KeyStore, load_master_key

DID = "did:web:127.0.0.1%3A8700:issuers:seoul-digital-policy"
MASTER = bytes(range(32))


def _store(path: Path, master: bytes = MASTER) -> KeyStore:
    return EncryptedFileKeyStore(path, master, clock=lambda: datetime(2027, 1, 2, tzinfo=UTC))


def test_create_sign_and_secret_not_on_disk(tmp_path: Path) -> None:
    ks = _store(tmp_path)
    public = ks.create("seoul-digital-policy", controller=DID)
    signer = ks.signer("seoul-digital-policy")
    assert signer.verification_method == DID + "#key-1"
    assert public.verify(signer.sign(b"hello"), b"hello")
    assert isinstance(signer, Ed25519KeyPair)
    raw = (tmp_path / "seoul-digital-policy.json").read_bytes()
    # neither the seed nor any textual encoding of it is stored
    for form in (
        signer.seed,
        signer.seed.hex().encode(),
        signer.secret_multibase.encode(),
        multibase.b64url(signer.seed).encode(),
    ):
        assert form not in raw
    assert stat.S_IMODE(os.stat(tmp_path / "seoul-digital-policy.json").st_mode) == 0o600
    assert MASTER.hex() not in repr(ks) and "seed" not in repr(signer)


def test_wrong_master_key_fails_cleanly(tmp_path: Path) -> None:
    _store(tmp_path).create("dept")
    other = _store(tmp_path, bytes(32))
    with pytest.raises(KeyError_, match="cannot unseal") as err:
        other.signer("dept")
    assert err.value.diagnostics("ko").startswith("'dept' 키를 열 수 없습니다")
    # public data stays readable without unsealing
    assert len(other.public_keys("dept")) == 1


def test_tampered_ciphertext_fails_like_a_wrong_key(tmp_path: Path) -> None:
    ks = _store(tmp_path)
    ks.create("dept")
    path = tmp_path / "dept.json"
    data = json.loads(path.read_text())
    data["keys"][0]["id"] = "did:example:swapped#key-1"  # the AAD binds the id
    path.write_text(json.dumps(data))
    with pytest.raises(KeyError_, match="cannot unseal"):
        ks.signer("dept")


def test_rotate_keeps_old_key_for_cosigning(tmp_path: Path) -> None:
    ks = _store(tmp_path)
    ks.create("dept", controller=DID)
    old = ks.signer("dept")
    new_id = ks.rotate("dept")
    assert new_id == DID + "#key-2"
    assert ks.signer("dept").verification_method == new_id
    assert ks.signer("dept", DID + "#key-1").sign(b"x") == old.sign(b"x")
    infos = ks.public_keys("dept")
    assert [i.key_id for i in infos] == [DID + "#key-1", DID + "#key-2"]
    assert [i.current for i in infos] == [False, True]
    assert ks.rotate("dept") == DID + "#key-3"
    assert ks.names() == ["dept"]


def test_names_and_errors(tmp_path: Path) -> None:
    ks = _store(tmp_path)
    ks.create("a")
    with pytest.raises(Conflict):
        ks.create("a")
    with pytest.raises(NotFound):
        ks.signer("b")
    with pytest.raises(NotFound):
        ks.signer("a", "did:example:nope#key-9")
    with pytest.raises(InvalidInput, match="key name"):
        ks.create("../etc/passwd")
    assert ks.signer("a").verification_method.startswith("did:key:z6Mk")


def test_master_key_from_env_and_dev_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_SECRET, raising=False)
    with pytest.raises(KeyError_, match=ENV_SECRET):
        load_master_key(tmp_path, dev=False)
    first = load_master_key(tmp_path, dev=True)
    assert load_master_key(tmp_path, dev=True) == first and len(first) == 32
    assert stat.S_IMODE(os.stat(tmp_path / "keystore.secret").st_mode) == 0o600
    monkeypatch.setenv(ENV_SECRET, multibase.b64url(MASTER))
    assert load_master_key(tmp_path, dev=True) == MASTER
    monkeypatch.setenv(ENV_SECRET, multibase.b64url(b"short"))
    with pytest.raises(KeyError_, match="32 bytes"):
        load_master_key(None)
