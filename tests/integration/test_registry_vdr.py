"""The registry's verifiable data: did:web versions with key history, status lists, trust list."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from flask import Flask

from agents import dataintegrity, didhistory, statuslist
from agents.errors import RegistryError, VerificationError
from agents.keys import Ed25519KeyPair
from agents.keystore import EncryptedFileKeyStore
from agents.registry_client import RegistryClient, verify_trust_list
from registry.app import create_app
from registry.vdr_trust import accredit, update_trust_list, withdraw
from web.config import RoleConfig

BASE = "http://127.0.0.1:8700"
DEPT = "seoul-digital-policy"
DID = "did:web:127.0.0.1%3A8700:issuers:seoul-digital-policy"
REGISTRY_KEY = Ed25519KeyPair.from_seed(b"\x44" * 32)
ORIGIN = "registry.workcred.test/log"
TOKEN = "tok-vdr"
T0 = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(db_url: str) -> Iterator[Flask]:
    config = RoleConfig(
        "registry",
        port=8700,
        base_url=BASE,
        database_url=db_url,
        secret_key="test",
        dev=True,
        extra={
            "key": REGISTRY_KEY.secret_multibase,
            "origin": ORIGIN,
            "api_tokens": TOKEN,
            "background": "0",
            "checkpoint_every": "1",
        },
    )
    app = create_app(config)
    app.config["TESTING"] = True
    yield app
    app.extensions["registry"].close()


@pytest.fixture
def client(app: Flask) -> RegistryClient:
    return RegistryClient(BASE, TOKEN, httpx.Client(transport=httpx.WSGITransport(app=app)))


@pytest.fixture
def keystore(tmp_path: Path) -> EncryptedFileKeyStore:
    return EncryptedFileKeyStore(tmp_path / "keys", b"\x01" * 32)


def _records(ks: EncryptedFileKeyStore, name: str) -> list[didhistory.KeyRecord]:
    return [didhistory.KeyRecord(k.key_id, k.public, k.current) for k in ks.public_keys(name)]


def _create(client: RegistryClient, ks: EncryptedFileKeyStore) -> dict[str, object]:
    assert didhistory.department_did(BASE, DEPT) == DID
    ks.create(DEPT, controller=DID)
    doc = didhistory.build_did_document(DID, _records(ks, DEPT))
    return client.publish_did_document(DEPT, didhistory.sign_did_document(doc, [ks.signer(DEPT)]))


def _rotate(client: RegistryClient, ks: EncryptedFileKeyStore) -> dict[str, object]:
    old = ks.signer(DEPT)
    ks.rotate(DEPT)
    previous = client.did_document(DEPT)
    doc = didhistory.build_did_document(DID, _records(ks, DEPT), previous=previous)
    return client.publish_did_document(DEPT, didhistory.sign_did_document(doc, [ks.signer(DEPT), old]))


def test_publish_rotate_and_history(
    app: Flask, client: RegistryClient, keystore: EncryptedFileKeyStore
) -> None:
    first = _create(client, keystore)
    assert first["did"] == DID and first["versionId"] == 1
    served = app.test_client().get(f"/issuers/{DEPT}/did.json")
    assert served.status_code == 200 and served.json is not None
    assert served.json["assertionMethod"] == [DID + "#key-1"]
    second = _rotate(client, keystore)
    assert second["versionId"] == 2
    assert isinstance(second["logIndex"], int) and isinstance(first["logIndex"], int)
    assert second["logIndex"] > first["logIndex"]
    latest = client.did_document(DEPT)
    assert latest is not None
    assert latest["assertionMethod"] == [DID + "#key-2"]
    assert [vm["id"] for vm in latest["verificationMethod"]] == [DID + "#key-1", DID + "#key-2"]
    assert latest[didhistory.HISTORY]["retiredKeys"] == [{"id": DID + "#key-1", "retiredIn": 2}]
    assert len(latest["proof"]) == 2  # new key and previous key: a proof set

    app.extensions["registry"].log.checkpoint()
    checker = didhistory.receipt_checker({ORIGIN: REGISTRY_KEY.public}, memory=None)
    history = didhistory.parse_history(client.did_history(DEPT), did=DID, check_receipt=checker)
    assert [v.version_id for v in history.versions] == [1, 2]
    assert all(v.receipt is not None for v in history.versions)
    assert history.key_events(DID + "#key-1") == (first["logIndex"], second["logIndex"])


def test_key_valid_only_for_credentials_logged_before_rotation(
    app: Flask, client: RegistryClient, keystore: EncryptedFileKeyStore
) -> None:
    _create(client, keystore)
    signer = keystore.signer(DEPT)
    vc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": DID,
        "validFrom": "2027-03-02T09:00:00Z",
        "credentialSubject": {"id": "did:example:worker"},
    }
    before = client.append("credential", b"\x01" * 32)["index"]
    _rotate(client, keystore)
    after = client.append("credential", b"\x02" * 32)["index"]
    history = didhistory.parse_history(client.did_history(DEPT), did=DID)
    key1, key2 = DID + "#key-1", DID + "#key-2"
    assert didhistory.key_valid_at(history, key1, before) is True
    assert didhistory.key_valid_at(history, key1, after) is False  # signed (or claimed) after rotation
    assert didhistory.key_valid_at(history, key2, before) is False  # key-2 did not exist yet
    assert didhistory.key_valid_at(history, key2, after) is True
    # the same old signature, a backdated `created` or not, verifies with the keys in force at its leaf
    signed = dataintegrity.sign(vc, signer, cryptosuite=dataintegrity.JCS, at=T0)
    ok = dataintegrity.verify_proofs(signed, history.resolver_at(before))
    assert ok[0].ok
    late = dataintegrity.verify_proofs(signed, history.resolver_at(after))
    assert not late[0].ok and not late[0].purpose_ok


def test_did_document_rules(app: Flask, client: RegistryClient, keystore: EncryptedFileKeyStore) -> None:
    keystore.create(DEPT, controller=DID)
    doc = didhistory.build_did_document(DID, _records(keystore, DEPT))
    stranger = Ed25519KeyPair.generate(DID + "#key-1")
    with pytest.raises(RegistryError, match="400"):  # self-signed by a key that is not in the document
        client.publish_did_document(DEPT, didhistory.sign_did_document(doc, [stranger]))
    with pytest.raises(RegistryError, match="400"):  # someone else's DID
        client.publish_did_document("other-dept", didhistory.sign_did_document(doc, [keystore.signer(DEPT)]))
    client.publish_did_document(DEPT, didhistory.sign_did_document(doc, [keystore.signer(DEPT)]))
    # a rotation signed only by the new key (the attacker's) is refused
    keystore.rotate(DEPT)
    nxt = didhistory.build_did_document(DID, _records(keystore, DEPT), previous=client.did_document(DEPT))
    with pytest.raises(RegistryError, match="400"):
        client.publish_did_document(DEPT, didhistory.sign_did_document(nxt, [keystore.signer(DEPT)]))
    # replaying version 1 is refused: it does not follow the current version
    status = app.test_client().put(
        f"/issuers/{DEPT}/did.json",
        json=didhistory.sign_did_document(doc, [keystore.signer(DEPT, DID + "#key-1")]),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert status.status_code == 400
    assert app.test_client().put(f"/issuers/{DEPT}/did.json", json=doc).status_code == 401
    assert app.test_client().get("/issuers/nobody/did.json").status_code == 404
    assert app.test_client().get("/issuers/NOT_VALID/did.json").status_code == 400


def test_status_list_publish_set_and_cache(
    app: Flask, client: RegistryClient, keystore: EncryptedFileKeyStore
) -> None:
    _create(client, keystore)
    signer = keystore.signer(DEPT)
    client.create_status_list(DEPT, "rev-1", "revocation", signer, issuer=DID, ttl_ms=120_000, at=T0)
    index = client.allocate_status(DEPT, "rev-1")
    assert 0 <= index < statuslist.MIN_ENTRIES
    client.set_status(DEPT, "rev-1", index, True, signer, at=T0)
    served = app.test_client().get(f"/status/{DEPT}/rev-1")
    assert served.headers["Cache-Control"] == "public, max-age=120"
    vc = client.get_status_list(DEPT, "rev-1")
    entry = statuslist.status_entry(client.status_list_url(DEPT, "rev-1"), index, "revocation")
    assert statuslist.check_status(entry, vc) is True
    assert vc["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    # a revocation is final: clearing the bit is refused
    with pytest.raises(RegistryError, match="409"):
        client.set_status(DEPT, "rev-1", index, False, signer, at=T0)
    # suspension lists may be cleared again
    client.create_status_list(DEPT, "sus-1", "suspension", signer, issuer=DID, at=T0)
    client.set_status(DEPT, "sus-1", 5, True, signer, at=T0)
    client.set_status(DEPT, "sus-1", 5, False, signer, at=T0)
    sus = client.get_status_list(DEPT, "sus-1")
    assert (
        statuslist.check_status(
            statuslist.status_entry(client.status_list_url(DEPT, "sus-1"), 5, "suspension"), sus
        )
        is False
    )


def test_status_list_signed_by_wrong_key_is_refused(
    app: Flask, client: RegistryClient, keystore: EncryptedFileKeyStore
) -> None:
    _create(client, keystore)
    impostor = Ed25519KeyPair.generate(DID + "#key-1")
    with pytest.raises(RegistryError, match="400") as err:
        client.create_status_list(DEPT, "rev-1", "revocation", impostor, issuer=DID, at=T0)
    assert err.value.http_status == 400
    # after rotation the retired key can no longer publish
    old = keystore.signer(DEPT)
    client.create_status_list(DEPT, "rev-1", "revocation", old, issuer=DID, at=T0)
    _rotate(client, keystore)
    with pytest.raises(RegistryError, match="400"):
        client.set_status(DEPT, "rev-1", 1, True, old, at=T0)
    client.set_status(DEPT, "rev-1", 1, True, keystore.signer(DEPT), at=T0)
    assert app.test_client().post(f"/status/{DEPT}/rev-1/allocate").status_code == 401
    assert app.test_client().get(f"/status/{DEPT}/none").status_code == 404


def test_allocation_is_unique_under_concurrency(
    app: Flask, client: RegistryClient, keystore: EncryptedFileKeyStore
) -> None:
    _create(client, keystore)
    client.create_status_list(DEPT, "rev-1", "revocation", keystore.signer(DEPT), issuer=DID, at=T0)
    got: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        mine = RegistryClient(BASE, TOKEN, httpx.Client(transport=httpx.WSGITransport(app=app)))
        try:
            for _ in range(15):
                got.append(mine.allocate_status(DEPT, "rev-1"))
        except BaseException as e:  # reported below; a thread must not swallow it
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 120 and len(set(got)) == 120


def test_allocation_retries_on_a_taken_index(
    app: Flask, client: RegistryClient, keystore: EncryptedFileKeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _create(client, keystore)
    client.create_status_list(DEPT, "rev-1", "revocation", keystore.signer(DEPT), issuer=DID, at=T0)
    picks = iter([7, 7, 7, 9])
    monkeypatch.setattr(statuslist.secrets, "randbelow", lambda n: next(picks))
    assert client.allocate_status(DEPT, "rev-1") == 7
    assert client.allocate_status(DEPT, "rev-1") == 9  # 7 twice refused by the unique key, then 9


def test_trust_list_signed_and_logged(app: Flask, client: RegistryClient) -> None:
    ctx = app.extensions["registry"]
    update_trust_list(
        ctx.session_factory,
        ctx.log,
        REGISTRY_KEY,
        BASE,
        accredit(DEPT, DID, label_ko="서울시 디지털정책관", label_en="Digital Policy", at=T0),
        at=T0,
    )
    doc = update_trust_list(
        ctx.session_factory,
        ctx.log,
        REGISTRY_KEY,
        BASE,
        accredit("seoul-jobs", didhistory.department_did(BASE, "seoul-jobs"), at=T0),
        at=T0,
    )
    assert doc["version"] == 2 and doc["previousDigest"].startswith("u")
    served = client.trust_list(REGISTRY_KEY.public)
    assert served == doc
    issuers = verify_trust_list(served, REGISTRY_KEY.public)
    assert [i["department"] for i in issuers] == [DEPT, "seoul-jobs"]
    assert issuers[0]["name"] == {"ko": "서울시 디지털정책관", "en": "Digital Policy"}
    tampered = served | {"issuers": issuers[:1]}
    with pytest.raises(VerificationError, match="does not verify"):
        verify_trust_list(tampered, REGISTRY_KEY.public)
    with pytest.raises(VerificationError, match="another key"):
        verify_trust_list(served, Ed25519KeyPair.generate().public)
    third = update_trust_list(ctx.session_factory, ctx.log, REGISTRY_KEY, BASE, withdraw("seoul-jobs"), at=T0)
    assert [i["department"] for i in verify_trust_list(third, REGISTRY_KEY.public)] == [DEPT]
    assert ctx.log.entry(ctx.log.size() - 1).type == "trust-list"
