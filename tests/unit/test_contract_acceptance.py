"""The contract's two signatures in the evidence form: the worker's acceptance, the city's issuance."""

from __future__ import annotations

import copy
import json

import pytest

import schemas
from agents import contract
from agents import dataintegrity as di
from agents.errors import InvalidCredential, ResolutionError, VerificationError
from agents.keys import Ed25519KeyPair
from agents.verify import check_credential, verify_credential

CITY_DID = "did:web:127.0.0.1%3A8700:issuers:seoul-digital-policy"


@pytest.fixture(scope="module")
def parties() -> tuple[Ed25519KeyPair, Ed25519KeyPair]:
    return Ed25519KeyPair.generate(), Ed25519KeyPair.generate(f"{CITY_DID}#key-1")


def _resolver(city: Ed25519KeyPair):
    def resolve(vm: str) -> di.ResolvedKey:
        if vm == city.key_id:
            return di.ResolvedKey(vm, CITY_DID, city.public, frozenset({"assertionMethod"}))
        if vm.startswith("did:key:"):
            from agents.did import Resolver

            return di.resolved_key_from(Resolver().resolve_method(vm))
        raise AssertionError(vm)

    return resolve


def _draft(worker: Ed25519KeyPair) -> dict:
    doc = schemas.example("labor-contract-part-time")
    doc["issuer"] = CITY_DID
    doc["credentialSubject"]["id"] = worker.controller
    return doc


@pytest.mark.parametrize("suite", [di.JCS, di.RDFC])
def test_accepted_and_countersigned_contract_verifies(parties, suite: str) -> None:
    worker, city = parties
    draft = _draft(worker)
    acceptance = contract.accept_contract(draft, worker, cryptosuite=suite)
    issued = contract.countersign(draft, acceptance, city, cryptosuite=suite)
    assert isinstance(issued["proof"], dict)  # one proof: the issuer's, as standard verifiers expect
    assert issued["evidence"][0]["type"] == ["ContractAcceptance"]
    report = verify_credential(issued, resolve=_resolver(city))
    assert report.check("worker-signature").outcome.value == "pass"
    assert report.check("issuer-signature").outcome.value == "pass"


def test_field_changed_after_worker_signed_is_tampered(parties) -> None:
    worker, city = parties
    draft = _draft(worker)
    acceptance = contract.accept_contract(draft, worker)
    edited = copy.deepcopy(draft)
    edited["credentialSubject"]["wage"]["amount"] += 1000  # the city edits the wage after the worker signed
    issued = contract.countersign(edited, acceptance, city)  # and signs it anyway
    report = check_credential(issued, resolve=_resolver(city))
    assert report.check("issuer-signature").outcome.value == "pass"
    assert report.check("worker-signature").outcome.value == "fail"
    assert report.verdict.value == "tampered"


def test_acceptance_by_someone_else_fails(parties) -> None:
    worker, city = parties
    draft = _draft(worker)
    stranger = Ed25519KeyPair.generate()
    with pytest.raises(InvalidCredential, match="not about this worker"):
        contract.accept_contract(draft, stranger)
    # forged: a stranger's proof placed in the evidence
    signed = di.sign(draft, stranger, cryptosuite=di.JCS, options={"proofPurpose": "authentication"})
    forged = {"id": "urn:uuid:1", "type": ["ContractAcceptance"], "acceptedAt": signed["proof"]["created"], "acceptanceProof": signed["proof"]}
    issued = contract.countersign(draft, forged, city)
    with pytest.raises(VerificationError) as e:
        verify_credential(issued, resolve=_resolver(city))
    assert e.value.report.check("worker-signature").outcome.value == "fail"


def test_acceptance_removed_or_altered_after_issuance_breaks_the_city_signature(parties) -> None:
    worker, city = parties
    draft = _draft(worker)
    issued = contract.countersign(draft, contract.accept_contract(draft, worker), city)
    stripped = {k: v for k, v in issued.items() if k != "evidence"}
    report = check_credential(stripped, resolve=_resolver(city))
    assert report.verdict.value == "tampered"
    altered = json.loads(json.dumps(issued))
    altered["evidence"][0]["acceptedAt"] = "2020-01-01T00:00:00Z"
    assert check_credential(altered, resolve=_resolver(city)).verdict.value == "tampered"


def test_contract_without_any_worker_signature_fails(parties) -> None:
    worker, city = parties
    issued = di.sign(_draft(worker), city, cryptosuite=di.JCS)
    report = check_credential(issued, resolve=_resolver(city))
    assert report.check("worker-signature").outcome.value == "fail"
    assert not report.verified


def test_report_json_shows_each_part_of_a_proof_and_cannot_change_the_report(parties) -> None:
    worker, city = parties
    issued = di.sign(_draft(worker), Ed25519KeyPair.generate(f"{CITY_DID}#key-9"), cryptosuite=di.JCS)

    def unknown_key(vm: str) -> di.ResolvedKey:
        raise ResolutionError(f"no such key {vm}")

    report = check_credential(issued, resolve=unknown_key)
    proof = report.to_json()["checks"][2]
    assert proof["id"] == "proof[0]"
    assert proof["details"]["keyResolved"] is False and proof["details"]["signatureVerified"] is False
    out = report.to_json()
    out["subject"]["issuer"] = "someone else"
    out["checks"][2]["details"]["verified"] = True
    assert report.subject["issuer"] == CITY_DID
    assert report.to_json()["checks"][2]["details"]["verified"] is False
