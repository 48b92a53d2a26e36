"""The workcred contract's two signatures: the worker's (authentication) first, the city's chained to it.

Form: proof[0] by the worker's did:key, proofPurpose "authentication", id urn:uuid:…; proof[1] by
the city department's did:web key, proofPurpose "assertionMethod", previousProof = proof[0].id.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from agents import dataintegrity as di
from agents import verify
from agents.did import Resolver
from agents.errors import VerificationError
from agents.keys import Ed25519KeyPair
from tests.conftest import ROOT

CITY_DID = "did:web:127.0.0.1%3A8700:issuers:seoul-digital-policy"
AT = datetime(2026, 4, 1, tzinfo=UTC)
SUITES = [di.RDFC, di.JCS]


def contract_example() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((ROOT / "schemas" / "examples" / "labor-contract-part-time.json").read_text("utf-8"))
    return doc


def city_did_document(did: str, key: Ed25519KeyPair, relationships: tuple[str, ...] = ("assertionMethod",)) -> dict[str, Any]:
    """A department's did:web document with one Multikey in the given relationships."""
    vm = {"id": key.key_id, "type": "Multikey", "controller": did, "publicKeyMultibase": key.public.multibase}
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [vm],
    }
    for rel in relationships:
        doc[rel] = [key.key_id]
    return doc


def countersigned_contract(
    worker: Ed25519KeyPair, city: Ed25519KeyPair, *, suite: str = di.RDFC, city_did: str = CITY_DID, document: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The worker accepts (authentication), then the city issues with previousProof = the worker's proof."""
    doc = copy.deepcopy(document or contract_example())
    doc["issuer"] = city_did
    doc["credentialSubject"]["id"] = worker.public.did_key
    doc["credentialSubject"]["employer"]["id"] = city_did
    worker_proof_id = f"urn:uuid:{uuid.uuid4()}"
    accepted = di.sign(doc, worker, cryptosuite=suite, options={"id": worker_proof_id, "proofPurpose": "authentication", "created": "2026-02-20T10:00:00Z"})
    return di.sign(accepted, city, cryptosuite=suite, options={"id": f"urn:uuid:{uuid.uuid4()}", "proofPurpose": "assertionMethod", "previousProof": worker_proof_id, "created": "2026-02-20T11:00:00Z"})


@pytest.fixture(scope="module")
def worker() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate()


@pytest.fixture(scope="module")
def city() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate(key_id=f"{CITY_DID}#key-1")


@pytest.fixture(scope="module")
def resolver(city: Ed25519KeyPair) -> Resolver:
    return Resolver(static={CITY_DID: city_did_document(CITY_DID, city)})


def _outcomes(report: verify.Report) -> dict[str, str]:
    return {c.id: c.outcome.value for c in report.checks}


@pytest.mark.parametrize("suite", SUITES)
def test_countersigned_contract_verifies_both_proofs(worker: Ed25519KeyPair, city: Ed25519KeyPair, resolver: Resolver, suite: str) -> None:
    vc = countersigned_contract(worker, city, suite=suite)
    worker_proof, city_proof = vc["proof"]
    assert worker_proof["proofPurpose"] == "authentication" and worker_proof["id"].startswith("urn:uuid:")
    assert city_proof["previousProof"] == worker_proof["id"]
    report = verify.verify_credential(vc, resolve=resolver, at=AT)
    outcomes = _outcomes(report)
    for check in ("proof[0]", "proof[1]", "proof-chain", "issuer-signature", "worker-signature", "validity", "schema"):
        assert outcomes[check] == "pass", (check, report.to_json())
    details = [report.check("proof[0]").details, report.check("proof[1]").details]  # type: ignore[union-attr]
    assert details[0]["controller"] == worker.public.did_key
    assert details[1]["controller"] == CITY_DID


def test_proof_set_order_in_the_array_does_not_matter(worker: Ed25519KeyPair, city: Ed25519KeyPair, resolver: Resolver) -> None:
    """A proof set is a set: the chain is given by previousProof, not by array position."""
    vc = countersigned_contract(worker, city)
    vc["proof"] = list(reversed(vc["proof"]))
    assert verify.verify_credential(vc, resolve=resolver, at=AT).verified


def test_reversed_signing_order_fails(worker: Ed25519KeyPair, city: Ed25519KeyPair, resolver: Resolver) -> None:
    """The city signs first and the worker chains to it: the contract's worker-first form is broken."""
    doc = contract_example()
    doc["credentialSubject"]["id"] = worker.public.did_key
    issued = di.sign(doc, city, options={"id": "urn:uuid:city", "proofPurpose": "assertionMethod"})
    reversed_ = di.sign(issued, worker, options={"id": "urn:uuid:worker", "proofPurpose": "authentication", "previousProof": "urn:uuid:city"})
    with pytest.raises(VerificationError) as e:
        verify.verify_credential(reversed_, resolve=resolver, at=AT)
    report = e.value.report
    assert report.check("worker-signature").failed  # type: ignore[union-attr]
    assert report.verdict.value == "tampered"
    assert not report.check("proof[0]").failed and not report.check("proof[1]").failed  # type: ignore[union-attr]


def test_dropping_the_workers_proof_fails(worker: Ed25519KeyPair, city: Ed25519KeyPair, resolver: Resolver) -> None:
    vc = countersigned_contract(worker, city)
    only_city = dict(vc, proof=vc["proof"][1])
    report = verify.check_credential(only_city, resolve=resolver, at=AT)
    assert not report.verified
    assert report.check("proof-chain").failed  # type: ignore[union-attr]
    assert report.check("worker-signature").failed  # type: ignore[union-attr]
    assert "previousProof" in report.check("proof[0]").detail_en  # type: ignore[union-attr]  # the technical words, folded under the plain reason


def test_dropping_the_workers_proof_and_the_reference_breaks_the_city_signature(worker: Ed25519KeyPair, city: Ed25519KeyPair, resolver: Resolver) -> None:
    vc = countersigned_contract(worker, city)
    city_proof = {k: v for k, v in vc["proof"][1].items() if k != "previousProof"}
    report = verify.check_credential(dict(vc, proof=city_proof), resolve=resolver, at=AT)
    assert report.verdict.value == "tampered"  # the city signed over the worker's proof


def test_worker_proof_by_someone_else_fails(worker: Ed25519KeyPair, city: Ed25519KeyPair, resolver: Resolver) -> None:
    stranger = Ed25519KeyPair.generate()
    vc = countersigned_contract(stranger, city)
    vc_subject_worker = copy.deepcopy(vc)
    vc_subject_worker["credentialSubject"]["id"] = worker.public.did_key  # breaks every signature as well
    report = verify.check_credential(vc_subject_worker, resolve=resolver, at=AT)
    assert report.check("worker-signature").failed  # type: ignore[union-attr]
    assert report.verdict.value == "tampered"


def test_altered_field_fails_both_proofs(worker: Ed25519KeyPair, city: Ed25519KeyPair, resolver: Resolver) -> None:
    vc = countersigned_contract(worker, city)
    vc["credentialSubject"]["wage"]["amount"] = 9000
    report = verify.check_credential(vc, resolve=resolver, at=AT)
    assert report.check("proof[0]").failed and report.check("proof[1]").failed  # type: ignore[union-attr]
    assert report.verdict.value == "tampered"


def test_issuer_key_only_for_authentication_fails_purpose(worker: Ed25519KeyPair, city: Ed25519KeyPair) -> None:
    """Wrong purpose: the city key is in the DID document, but not under assertionMethod."""
    resolver = Resolver(static={CITY_DID: city_did_document(CITY_DID, city, ("authentication",))})
    report = verify.check_credential(countersigned_contract(worker, city), resolve=resolver, at=AT)
    city_check = report.check("proof[1]")
    assert city_check is not None and city_check.failed
    assert "not authorised for assertionMethod" in city_check.detail_en  # folded under the plain reason
    assert report.check("issuer-signature").failed  # type: ignore[union-attr]
    assert report.verdict.value == "invalid"


def test_validity_depends_on_at(worker: Ed25519KeyPair, city: Ed25519KeyPair, resolver: Resolver) -> None:
    vc = countersigned_contract(worker, city)
    report = verify.check_credential(vc, resolve=resolver, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert report.verdict.value == "not-yet-valid"
