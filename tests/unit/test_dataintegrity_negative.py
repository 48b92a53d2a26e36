"""Data Integrity failures: wrong key, wrong purpose, broken proof chains, proof sets."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agents import dataintegrity as di
from agents.did import Resolver
from agents.keys import Ed25519KeyPair
from agents.verify import _resolver_fn

SUITES = [di.RDFC, di.JCS, di.ED25519_2020]


def _doc() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"@vocab": "https://example.org/vocab#"}],
        "id": "urn:uuid:3e0b7c4a-1111-4222-8333-444455556666",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:s", "hours": 25},
    }


def _fixed(key: Ed25519KeyPair, purposes: tuple[str, ...] = ("assertionMethod", "authentication")) -> di.KeyResolver:
    return lambda vm: di.ResolvedKey(vm, vm.split("#")[0], key.public, frozenset(purposes))


@pytest.fixture(scope="module")
def alice() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate()


@pytest.fixture(scope="module")
def bob() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate()


# --- keys and purposes -----------------------------------------------------------------------------


@pytest.mark.parametrize("suite", SUITES)
def test_did_key_round_trip(alice: Ed25519KeyPair, suite: str) -> None:
    [o] = di.verify_proofs(di.sign(_doc(), alice, cryptosuite=suite), _resolver_fn(Resolver()))
    assert o.ok and o.controller == alice.public.did_key


@pytest.mark.parametrize("suite", SUITES)
def test_wrong_key(alice: Ed25519KeyPair, bob: Ed25519KeyPair, suite: str) -> None:
    signed = di.sign(_doc(), alice, cryptosuite=suite)
    [o] = di.verify_proofs(signed, _fixed(bob))
    assert not o.ok and not o.signature_ok
    assert "does not match" in o.reason


@pytest.mark.parametrize("suite", SUITES)
def test_signed_by_one_key_claiming_another(alice: Ed25519KeyPair, bob: Ed25519KeyPair, suite: str) -> None:
    """verificationMethod names bob's did:key but alice signed: the resolved key is bob's and fails."""
    signed = di.sign(_doc(), alice, cryptosuite=suite, options={"verificationMethod": bob.public.did_key_vm})
    [o] = di.verify_proofs(signed, _resolver_fn(Resolver()))
    assert not o.signature_ok and o.controller == bob.public.did_key


@pytest.mark.parametrize("suite", SUITES)
def test_wrong_purpose(alice: Ed25519KeyPair, suite: str) -> None:
    signed = di.sign(_doc(), alice, cryptosuite=suite)
    [o] = di.verify_proofs(signed, _fixed(alice, ("authentication",)))
    assert o.signature_ok and not o.purpose_ok and not o.ok
    assert "not authorised for assertionMethod" in o.reason


def test_wrong_purpose_with_a_did_key_relationship_it_lacks(alice: Ed25519KeyPair) -> None:
    """did:key keys are not in keyAgreement: a proof claiming that purpose is refused."""
    signed = di.sign(_doc(), alice, options={"proofPurpose": "keyAgreement"})
    [o] = di.verify_proofs(signed, _resolver_fn(Resolver()))
    assert o.signature_ok and not o.purpose_ok


def test_unresolvable_key(alice: Ed25519KeyPair) -> None:
    signed = di.sign(_doc(), alice, options={"verificationMethod": "did:example:nobody#key-1"})
    [o] = di.verify_proofs(signed, _resolver_fn(Resolver()))
    assert not o.ok and "key not resolved" in o.reason and o.extra["error"]


def test_challenge_and_domain(alice: Ed25519KeyPair) -> None:
    signed = di.sign(_doc(), alice, options={"proofPurpose": "authentication", "challenge": "n-1", "domain": "https://verifier.example"})
    assert di.verify_proofs(signed, _fixed(alice), expected_challenge="n-1", expected_domain="https://verifier.example")[0].ok
    [replay] = di.verify_proofs(signed, _fixed(alice), expected_challenge="n-2")
    assert not replay.ok and "replay" in replay.reason
    [elsewhere] = di.verify_proofs(signed, _fixed(alice), expected_challenge="n-1", expected_domain="https://other.example")
    assert not elsewhere.ok and "domain" in elsewhere.reason


@pytest.mark.parametrize("value", ["", "zzzz", "u" + "A" * 86, 42])
def test_malformed_proof_value(alice: Ed25519KeyPair, value: Any) -> None:
    signed = di.sign(_doc(), alice)
    signed["proof"]["proofValue"] = value
    [o] = di.verify_proofs(signed, _fixed(alice))
    assert not o.ok


def test_unknown_cryptosuite(alice: Ed25519KeyPair) -> None:
    signed = di.sign(_doc(), alice)
    signed["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"
    [o] = di.verify_proofs(signed, _fixed(alice))
    assert not o.ok and "unsupported cryptosuite" in o.reason


def test_no_proof() -> None:
    with pytest.raises(di.InvalidCredential, match="no proof"):
        di.verify_proofs(_doc(), lambda vm: None)  # type: ignore[arg-type,return-value]


# --- proof sets and chains -------------------------------------------------------------------------


def test_proof_set_each_proof_stands_alone(alice: Ed25519KeyPair, bob: Ed25519KeyPair) -> None:
    signed = di.sign(di.sign(_doc(), alice), bob, cryptosuite=di.JCS)
    assert len(signed["proof"]) == 2
    both = di.verify_proofs(signed, _resolver_fn(Resolver()))
    assert all(o.ok for o in both)
    only_bob = dict(signed, proof=signed["proof"][1])
    assert di.verify_proofs(only_bob, _resolver_fn(Resolver()))[0].ok


def _chain(alice: Ed25519KeyPair, bob: Ed25519KeyPair) -> dict[str, Any]:
    first = di.sign(_doc(), alice, options={"id": "urn:uuid:p1", "proofPurpose": "authentication"})
    return di.sign(first, bob, options={"id": "urn:uuid:p2", "previousProof": "urn:uuid:p1"})


def test_chain_verifies_and_covers_the_previous_proof(alice: Ed25519KeyPair, bob: Ed25519KeyPair) -> None:
    chained = _chain(alice, bob)
    di.check_chain(chained)
    assert all(o.ok for o in di.verify_proofs(chained, _resolver_fn(Resolver())))
    altered = copy.deepcopy(chained)
    altered["proof"][0]["created"] = "2020-01-01T00:00:00Z"  # the first proof changed after bob signed it
    first, second = di.verify_proofs(altered, _resolver_fn(Resolver()))
    assert not first.ok and not second.ok


def test_chain_previous_proof_missing(alice: Ed25519KeyPair, bob: Ed25519KeyPair) -> None:
    chained = _chain(alice, bob)
    broken = dict(chained, proof=[chained["proof"][1]])
    with pytest.raises(di.ChainError, match="not in the proof set"):
        di.check_chain(broken)
    [o] = di.verify_proofs(broken, _resolver_fn(Resolver()))
    assert not o.ok and "previousProof" in o.reason


def test_chain_cycle(alice: Ed25519KeyPair, bob: Ed25519KeyPair) -> None:
    chained = _chain(alice, bob)
    chained["proof"][0]["previousProof"] = "urn:uuid:p2"
    with pytest.raises(di.ChainError, match="cycle"):
        di.check_chain(chained)


def test_chain_longer_cycle(alice: Ed25519KeyPair) -> None:
    proofs = [{"id": f"urn:uuid:p{i}", "previousProof": f"urn:uuid:p{(i + 1) % 3}"} for i in range(3)]
    with pytest.raises(di.ChainError, match="cycle"):
        di.check_chain({"proof": proofs})


def test_chain_self_reference() -> None:
    with pytest.raises(di.ChainError, match="itself"):
        di.check_chain({"proof": [{"id": "urn:uuid:p1", "previousProof": "urn:uuid:p1"}]})


def test_chain_duplicate_ids(alice: Ed25519KeyPair, bob: Ed25519KeyPair) -> None:
    chained = _chain(alice, bob)
    chained["proof"][1]["id"] = "urn:uuid:p1"
    with pytest.raises(di.ChainError, match="share an id"):
        di.check_chain(chained)


def test_sign_refuses_a_duplicate_proof_id(alice: Ed25519KeyPair, bob: Ed25519KeyPair) -> None:
    first = di.sign(_doc(), alice, options={"id": "urn:uuid:p1"})
    with pytest.raises(di.ChainError, match="already exists"):
        di.sign(first, bob, options={"id": "urn:uuid:p1"})


def test_sign_refuses_a_previous_proof_that_is_not_there(alice: Ed25519KeyPair) -> None:
    with pytest.raises(di.ChainError, match="not in the document"):
        di.sign(_doc(), alice, options={"previousProof": "urn:uuid:nowhere"})


@pytest.mark.parametrize("prev", [[], [""], 7, {"id": "urn:uuid:p1"}])
def test_malformed_previous_proof(alice: Ed25519KeyPair, prev: Any) -> None:
    chained = _chain(alice, alice)
    chained["proof"][1]["previousProof"] = prev
    with pytest.raises(di.InvalidCredential, match="previousProof"):
        di.check_chain(chained)


def test_sign_refuses_unknown_options(alice: Ed25519KeyPair) -> None:
    with pytest.raises(di.InvalidCredential, match="unknown proof options: proofValue"):
        di.sign(_doc(), alice, options={"proofValue": "z1"})
