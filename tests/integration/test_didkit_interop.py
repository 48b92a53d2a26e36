"""Interop with openedx-didkit 0.3.5 (SpruceID ssi), run in a child process (tests/didkit_runner.py).

What works: didkit verifies our Ed25519Signature2020 credentials in VCDM 1.1 with a did:key issuer,
and we verify its own (which carry the suite context inside the proof). What does not: didkit 0.3.5
refuses VCDM 2.0 credentials (it requires issuanceDate) and cannot parse DataIntegrityProof; the last
two tests pin that behaviour so a newer didkit that accepts them is noticed.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest

from agents import dataintegrity as di
from agents import verify
from agents.did import Resolver
from agents.keys import Ed25519KeyPair
from tests import didkit_runner
from tests.conftest import require

pytestmark = pytest.mark.didkit

_REASON = didkit_runner.available()


@pytest.fixture(scope="module", autouse=True)
def _didkit_runs() -> None:
    """Without didkit these tests skip, or fail under WORKCRED_REQUIRE_DIDKIT=1."""
    if _REASON:
        require("DIDKIT", _REASON)

VC_V1 = "https://www.w3.org/2018/credentials/v1"
VOCAB = {"@vocab": "https://w3id.org/workcred#"}


def _v1_credential(issuer: str, **subject: Any) -> dict[str, Any]:
    return {
        "@context": [VC_V1, VOCAB] if subject else [VC_V1],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "issuanceDate": "2026-03-02T09:00:00Z",
        "credentialSubject": {"id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", **subject},
    }


def _didkit_verify(credential: dict[str, Any]) -> dict[str, Any]:
    answer = didkit_runner.call({"op": "verify", "credential": credential, "options": {"proofPurpose": "assertionMethod"}})
    assert "result" in answer, answer
    result: dict[str, Any] = answer["result"]
    return result


@pytest.fixture(scope="module")
def key() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate()


@pytest.fixture(scope="module")
def didkit_key() -> dict[str, Any]:
    answer = didkit_runner.call({"op": "key"})
    assert answer["did"].startswith("did:key:z6Mk")
    return answer


@pytest.mark.parametrize(
    "subject",
    [{}, {"name": "홍길동", "hourlyWage": 10030, "weeklyHours": 25.5, "days": ["MO", "TU"], "minor": False}],
    ids=["minimal", "korean-numbers-lists"],
)
def test_didkit_verifies_our_ed25519signature2020_vcdm11(key: Ed25519KeyPair, subject: dict[str, Any]) -> None:
    signed = di.sign(_v1_credential(key.public.did_key, **subject), key, cryptosuite=di.ED25519_2020)
    result = _didkit_verify(signed)
    assert result["errors"] == []
    assert "proof" in result["checks"]


def test_didkit_rejects_our_credential_altered(key: Ed25519KeyPair) -> None:
    signed = di.sign(_v1_credential(key.public.did_key, name="홍길동"), key, cryptosuite=di.ED25519_2020)
    altered = copy.deepcopy(signed)
    altered["credentialSubject"]["name"] = "김철수"
    result = _didkit_verify(altered)
    assert any("signature" in e.lower() for e in result["errors"]), result


def _issue_with_didkit(didkit_key: dict[str, Any], credential: dict[str, Any]) -> dict[str, Any]:
    options = {"type": "Ed25519Signature2020", "proofPurpose": "assertionMethod", "verificationMethod": didkit_key["verificationMethod"]}
    answer = didkit_runner.call({"op": "issue", "credential": credential, "options": options, "jwk": didkit_key["jwk"]})
    assert "credential" in answer, answer
    vc: dict[str, Any] = answer["credential"]
    return vc


@pytest.mark.parametrize("subject", [{}, {"name": "홍길동", "hourlyWage": 10030}], ids=["minimal", "with-vocab"])
def test_we_verify_didkit_issued_credentials(didkit_key: dict[str, Any], subject: dict[str, Any]) -> None:
    vc = _issue_with_didkit(didkit_key, _v1_credential(didkit_key["did"], **subject))
    assert vc["proof"]["type"] == "Ed25519Signature2020"
    # didkit's form: the suite context inside the proof, not in the document
    assert di.ED25519_2020_CONTEXT not in vc["@context"]
    report = verify.verify_credential(vc, resolve=Resolver())
    assert report.verified
    assert report.check("issuer-signature") is not None and not report.check("issuer-signature").failed  # type: ignore[union-attr]


def test_we_reject_didkit_issued_credential_altered(didkit_key: dict[str, Any]) -> None:
    vc = _issue_with_didkit(didkit_key, _v1_credential(didkit_key["did"], name="홍길동"))
    vc["credentialSubject"]["name"] = "김철수"
    report = verify.check_credential(vc, resolve=Resolver())
    assert report.verdict.value == "tampered"
    assert report.check("proof[0]").failed  # type: ignore[union-attr]


def test_didkit_0_3_5_does_not_accept_vcdm_2_0(key: Ed25519KeyPair) -> None:
    """Recorded behaviour: VCDM 2.0 (validFrom, no issuanceDate) is refused before any proof check."""
    v2 = {
        "@context": [di.VC_V2],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": key.public.did_key,
        "validFrom": "2026-03-02T09:00:00Z",
        "credentialSubject": {"id": "did:example:subject"},
    }
    signed = di.sign(v2, key, cryptosuite=di.ED25519_2020)
    assert verify.verify_credential(signed, resolve=Resolver()).verified  # we accept it
    answer = didkit_runner.call({"op": "verify", "credential": signed, "options": {}})
    assert "Missing issuance date" in answer.get("exception", ""), answer


def test_didkit_0_3_5_cannot_parse_data_integrity_proof(key: Ed25519KeyPair) -> None:
    """Recorded behaviour: a DataIntegrityProof (eddsa-rdfc-2022) is not a proof type didkit 0.3.5 knows."""
    v1 = _v1_credential(key.public.did_key)
    v1["@context"] = [VC_V1, di.DI_CONTEXT]
    signed = di.sign(v1, key, cryptosuite=di.RDFC)
    answer = didkit_runner.call({"op": "verify", "credential": signed, "options": {}})
    refused = "exception" in answer or answer.get("result", {}).get("errors")
    assert refused, json.dumps(answer)
