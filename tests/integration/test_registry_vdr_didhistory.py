"""The DID version rules of agents.didhistory, without a registry (what any reader re-checks)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agents import didhistory
from agents.errors import Error, InvalidCredential, VerificationError
from agents.keys import Ed25519KeyPair

DID = "did:web:127.0.0.1%3A8700:issuers:dept"
K1 = Ed25519KeyPair.from_seed(b"\x01" * 32, DID + "#key-1")
K2 = Ed25519KeyPair.from_seed(b"\x02" * 32, DID + "#key-2")


def _v1() -> dict[str, Any]:
    doc = didhistory.build_did_document(DID, [didhistory.KeyRecord(K1.key_id, K1.public, True)])
    return didhistory.sign_did_document(doc, [K1])


def _v2(v1: dict[str, Any]) -> dict[str, Any]:
    keys = [
        didhistory.KeyRecord(K1.key_id, K1.public, False),
        didhistory.KeyRecord(K2.key_id, K2.public, True),
    ]
    return didhistory.build_did_document(DID, keys, previous=v1)


def test_chain_accepts_a_proper_rotation() -> None:
    v1 = _v1()
    didhistory.check_version(v1, did=DID, previous=None)
    v2 = didhistory.sign_did_document(_v2(v1), [K2, K1])
    _, info = didhistory.check_version(v2, did=DID, previous=v1)
    assert info.version_id == 2 and info.retired == {K1.key_id: 2}
    history = didhistory.parse_history(
        {"did": DID, "versions": [{"logIndex": 3, "document": v1}, {"logIndex": 9, "document": v2}]}
    )
    assert didhistory.key_valid_at(history, K1.key_id, 5)
    assert not didhistory.key_valid_at(history, K1.key_id, 10)
    assert not didhistory.key_valid_at(history, K1.key_id, 2)  # before the key was published
    assert not didhistory.key_valid_at(history, DID + "#key-9", 5)


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d["verificationMethod"].pop(0), "retired key|removed"),
        (lambda d: d["assertionMethod"].append(K1.key_id), "still in use"),
        (lambda d: d[didhistory.HISTORY].update(versionId=3), "does not follow|retiredIn"),
        (lambda d: d[didhistory.HISTORY].update(previousDigest="u" + "A" * 43), "does not follow"),
        (
            lambda d: d["verificationMethod"][0].update(publicKeyMultibase=K2.public.multibase),
            "removed or changed",
        ),
        (lambda d: d.update({"@context": ["https://www.w3.org/ns/did/v1"]}), "@context"),
    ],
)
def test_bad_rotations_are_refused(mutate: Any, match: str) -> None:
    v1 = _v1()
    v2 = _v2(v1)
    mutate(v2)
    with pytest.raises(Error, match=match):
        didhistory.check_version(didhistory.sign_did_document(v2, [K2, K1]), did=DID, previous=v1)


def test_rotation_needs_both_old_and_new_key() -> None:
    v1 = _v1()
    with pytest.raises(VerificationError, match="current version"):
        didhistory.check_version(didhistory.sign_did_document(_v2(v1), [K2]), did=DID, previous=v1)
    with pytest.raises(VerificationError, match="new key"):
        didhistory.check_version(didhistory.sign_did_document(_v2(v1), [K1]), did=DID, previous=v1)


def test_history_with_a_tampered_version_is_refused() -> None:
    v1 = _v1()
    v2 = didhistory.sign_did_document(_v2(v1), [K2, K1])
    forged = copy.deepcopy(v1)
    forged["verificationMethod"][0]["publicKeyMultibase"] = K2.public.multibase
    data = {"did": DID, "versions": [{"logIndex": 1, "document": forged}, {"logIndex": 2, "document": v2}]}
    with pytest.raises(VerificationError, match="version 1"):
        didhistory.parse_history(data)
    swapped = {"did": DID, "versions": [{"logIndex": 5, "document": v1}, {"logIndex": 4, "document": v2}]}
    with pytest.raises(InvalidCredential, match="increase"):
        didhistory.parse_history(swapped)
    with pytest.raises(InvalidCredential, match="another DID"):
        didhistory.parse_history({"did": DID, "versions": [{"logIndex": 1, "document": v1}]}, did=DID + "x")
