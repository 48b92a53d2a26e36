"""Presentations: the holder's proof, replay protection (challenge, domain), holder binding."""

from __future__ import annotations

from typing import Any

import pytest

from agents import dataintegrity as di
from agents import verify
from agents.did import Resolver
from agents.errors import InvalidCredential, VerificationError
from agents.keys import Ed25519KeyPair
from tests.unit.test_verify_contract import AT, CITY_DID, city_did_document, countersigned_contract

CHALLENGE, DOMAIN = "nonce-7f3a", "https://verifier.example"


@pytest.fixture(scope="module")
def worker() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate()


@pytest.fixture(scope="module")
def city() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate(key_id=f"{CITY_DID}#key-1")


@pytest.fixture(scope="module")
def resolver(city: Ed25519KeyPair) -> Resolver:
    return Resolver(static={CITY_DID: city_did_document(CITY_DID, city)})


@pytest.fixture(scope="module")
def contract(worker: Ed25519KeyPair, city: Ed25519KeyPair) -> dict[str, Any]:
    return countersigned_contract(worker, city)


def _check(vp: dict[str, Any], resolver: Resolver, challenge: str | None = CHALLENGE, domain: str | None = DOMAIN) -> verify.Report:
    return verify.check_presentation(vp, resolve=resolver, challenge=challenge, domain=domain, at=AT)


@pytest.mark.parametrize("suite", [di.RDFC, di.JCS])
def test_presentation_verifies(worker: Ed25519KeyPair, contract: dict[str, Any], resolver: Resolver, suite: str) -> None:
    vp = verify.create_presentation([contract], worker, challenge=CHALLENGE, domain=DOMAIN, cryptosuite=suite)
    assert vp["proof"]["proofPurpose"] == "authentication" and vp["holder"] == worker.public.did_key
    report = verify.verify_presentation(vp, resolve=resolver, challenge=CHALLENGE, domain=DOMAIN, at=AT)
    assert {c.id: c.outcome.value for c in report.checks} == {
        "context": "pass", "presentation-proof[0]": "pass", "replay": "pass", "holder-binding": "pass",
    }  # fmt: skip
    assert [r.verdict.value for r in report.credentials] == ["valid"]


def test_replay_with_another_challenge(worker: Ed25519KeyPair, contract: dict[str, Any], resolver: Resolver) -> None:
    vp = verify.create_presentation([contract], worker, challenge=CHALLENGE, domain=DOMAIN)
    report = _check(vp, resolver, challenge="nonce-of-a-later-request")
    assert report.check("replay").failed and not report.verified  # type: ignore[union-attr]
    with pytest.raises(VerificationError):
        verify.verify_presentation(vp, resolve=resolver, challenge="nonce-of-a-later-request", domain=DOMAIN, at=AT)


def test_wrong_domain(worker: Ed25519KeyPair, contract: dict[str, Any], resolver: Resolver) -> None:
    vp = verify.create_presentation([contract], worker, challenge=CHALLENGE, domain="https://another-verifier.example")
    report = _check(vp, resolver)
    assert report.check("replay").failed  # type: ignore[union-attr]
    assert "domain" in report.check("replay").reason_en  # type: ignore[union-attr]


def test_challenge_altered_after_signing_is_tampering(worker: Ed25519KeyPair, contract: dict[str, Any], resolver: Resolver) -> None:
    vp = verify.create_presentation([contract], worker, challenge="old-nonce", domain=DOMAIN)
    vp["proof"]["challenge"] = CHALLENGE
    report = _check(vp, resolver)
    assert report.verdict.value == "tampered"
    assert report.check("replay").failed  # type: ignore[union-attr]


def test_someone_elses_credential(contract: dict[str, Any], resolver: Resolver) -> None:
    thief = Ed25519KeyPair.generate()
    vp = verify.create_presentation([contract], thief, challenge=CHALLENGE, domain=DOMAIN)
    report = _check(vp, resolver)
    binding = report.check("holder-binding")
    assert binding is not None and binding.failed
    assert "someone other than the presenter" in binding.reason_en
    assert not report.verified


def test_holder_field_naming_someone_else(worker: Ed25519KeyPair, contract: dict[str, Any], resolver: Resolver) -> None:
    thief = Ed25519KeyPair.generate()
    vp = verify.create_presentation([contract], thief, challenge=CHALLENGE, domain=DOMAIN, extra={"holder": worker.public.did_key})
    report = _check(vp, resolver)
    assert report.check("holder-binding").failed  # type: ignore[union-attr]


def test_missing_holder_proof(worker: Ed25519KeyPair, contract: dict[str, Any], resolver: Resolver) -> None:
    vp = verify.create_presentation([contract], worker, challenge=CHALLENGE, domain=DOMAIN)
    del vp["proof"]
    with pytest.raises(InvalidCredential, match="no proof"):
        _check(vp, resolver)


def test_holder_proof_with_the_wrong_purpose(worker: Ed25519KeyPair, contract: dict[str, Any], resolver: Resolver) -> None:
    vp = verify.create_presentation([contract], worker, challenge=CHALLENGE, domain=DOMAIN)
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    resigned = di.sign(unsigned, worker, options={"proofPurpose": "assertionMethod", "challenge": CHALLENGE, "domain": DOMAIN})
    report = _check(resigned, resolver)
    assert report.check("holder-binding").failed and report.check("replay").failed  # type: ignore[union-attr]


def test_a_tampered_credential_inside_fails_the_presentation(worker: Ed25519KeyPair, contract: dict[str, Any], resolver: Resolver) -> None:
    bad = dict(contract, validFrom="2020-01-01T00:00:00Z")
    vp = verify.create_presentation([bad], worker, challenge=CHALLENGE, domain=DOMAIN)
    report = _check(vp, resolver)
    assert report.check("presentation-proof[0]").outcome.value == "pass"  # type: ignore[union-attr]
    assert report.verdict.value == "tampered"


def test_empty_presentation(worker: Ed25519KeyPair, resolver: Resolver) -> None:
    vp = verify.create_presentation([], worker, challenge=CHALLENGE, domain=DOMAIN)
    assert not _check(vp, resolver).verified
