"""Interop with ACA-Py 1.7 running as a sidecar process (.venv-acapy), driven over its admin API.

What works: ACA-Py's `/vc/di/verify` verifies our eddsa-jcs-2022 credentials; we verify ACA-Py's
`/vc/di/add-proof` output when `@context` is passed in the proof options (its default omits it from the
hashed proof configuration, which vc-di-eddsa §3.3 requires, so we reject that form); ACA-Py's
`/vc/credentials/verify` verifies our VCDM 1.1 Ed25519Signature2020 credentials and we verify the ones
it issues. What does not: our contract's proof chain (ACA-Py ignores `previousProof`, so the city's
chained proof fails there), eddsa-rdfc-2022 (not implemented in ACA-Py 1.7), and contexts ACA-Py would
have to fetch. The tests pin both sides so a newer ACA-Py that changes is noticed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import rfc8785

from agents import acapy, contract, multibase, verify
from agents import dataintegrity as di
from agents.did import Resolver
from agents.keys import Ed25519KeyPair, Ed25519PublicMultikey
from agents.report import Report

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "schemas" / "examples" / "labor-contract-part-time.json"
WORKCRED_CONTEXT = ROOT / "schemas" / "contexts" / "workcred-v1.jsonld"

_REASON = acapy.unavailable_reason()
if _REASON and os.environ.get("WORKCRED_REQUIRE_ACAPY") == "1":
    raise RuntimeError(f"WORKCRED_REQUIRE_ACAPY=1 but {_REASON}")
pytestmark = [pytest.mark.acapy, pytest.mark.slow]
if _REASON:
    pytestmark.append(pytest.mark.skip(reason=_REASON))


# --- credentials -----------------------------------------------------------------------------------


def _contract(issuer: str, worker: str | None = None) -> dict[str, Any]:
    """The 25-field part-time contract (VCDM 2.0) issued by `issuer`, without proofs."""
    doc: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc.pop("proof", None)
    doc["id"] = f"urn:uuid:{uuid.uuid4()}"
    doc["issuer"] = issuer
    doc["credentialSubject"]["employer"]["id"] = issuer
    if worker:
        doc["credentialSubject"]["id"] = worker
    return doc


def _contract_v11(issuer: str, *, inline_context: bool = True) -> dict[str, Any]:
    """Its VCDM 1.1 form; ACA-Py would fetch the workcred context, so it is inlined unless told otherwise."""
    doc = _contract(issuer)
    workcred: Any = json.loads(WORKCRED_CONTEXT.read_text(encoding="utf-8"))["@context"]
    doc["@context"] = [
        di.VC_V1,
        workcred if inline_context else "https://w3id.org/workcred/v1",
        {"name": "https://schema.org/name"},  # defined by the VCDM 2.0 context, not by 1.1
    ]
    doc["issuanceDate"] = doc.pop("validFrom")
    doc.pop("credentialStatus")  # BitstringStatusListEntry is a VCDM 2.0 term; ACA-Py has no status lists
    return doc


def _plain(issuer: str) -> dict[str, Any]:
    """A minimal VCDM 2.0 credential of no workcred type (so the verdict depends on the proof alone)."""
    return {
        "@context": [di.VC_V2],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-03-02T09:00:00Z",
        "credentialSubject": {"id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "name": "홍길동"},
    }


def _jcs_options(vm: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "DataIntegrityProof",
        "cryptosuite": di.JCS,
        "proofPurpose": "assertionMethod",
        "verificationMethod": vm,
        "created": "2026-02-23T09:00:00Z",
        **extra,
    }


def _ours(document: dict[str, Any]) -> Report:
    return verify.check_credential(document, resolve=Resolver())


def _outcome(report: Report, check_id: str) -> str:
    by_id = {c.id: c for c in report.checks}
    assert check_id in by_id, sorted(by_id)
    return str(by_id[check_id].outcome)


def _failed(report: Report) -> set[str]:
    return {c.id for c in report.checks if c.failed}


# --- the sidecar -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sidecar(tmp_path_factory: pytest.TempPathFactory) -> Iterator[acapy.Sidecar]:
    home = tmp_path_factory.mktemp("acapy")
    agent = acapy.start(home=home)
    try:
        yield agent
    finally:
        agent.stop()


@pytest.fixture(scope="module")
def client(sidecar: acapy.Sidecar) -> acapy.AcapyClient:
    return sidecar.client


@pytest.fixture(scope="module")
def key() -> Ed25519KeyPair:
    return Ed25519KeyPair.generate()


@pytest.fixture(scope="module")
def acapy_did(client: acapy.AcapyClient) -> acapy.DidInfo:
    return client.create_did_key()


def test_sidecar_runs_from_the_argfile_on_loopback(sidecar: acapy.Sidecar, acapy_did: acapy.DidInfo) -> None:
    assert sidecar.alive()
    assert sidecar.admin_url.startswith("http://127.0.0.1:")
    assert (sidecar.home / "wallet" / "workcred-acapy" / "sqlite.db").exists()  # askar, in our temp dir
    assert "Listening..." in sidecar.log_path.read_text(errors="replace")
    assert acapy_did.did.startswith("did:key:z6Mk") and acapy_did.key_type == "ed25519"
    assert acapy_did.verification_method == f"{acapy_did.did}#{acapy_did.did.removeprefix('did:key:')}"


def test_sidecar_with_api_key_refuses_other_callers_and_stops_cleanly() -> None:
    agent = acapy.start(api_key="test-" + uuid.uuid4().hex, insecure=False)
    try:
        anonymous = httpx.post(f"{agent.admin_url}/wallet/did/create", json={"method": "key"}, timeout=10)
        assert anonymous.status_code == 401
        assert agent.client.create_did_key().did.startswith("did:key:")
    finally:
        code = agent.stop()
    assert not agent.alive()
    assert code is not None
    assert not agent.home.exists()  # the temp home it made (wallet and log) is gone


def test_start_without_key_refuses_when_insecure_mode_is_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(acapy.sidecar.API_KEY_ENV, raising=False)
    with pytest.raises(acapy.AcapyError, match="admin API key is required"):
        acapy.start(insecure=False)


def test_start_that_fails_raises_with_the_agents_log(tmp_path: Path) -> None:
    argfile = tmp_path / "broken.yml"
    argfile.write_text(acapy.DEFAULT_ARGFILE.read_text() + "wallet-type: no-such-wallet\n")
    with pytest.raises(acapy.AcapyError, match="exited before it was ready") as info:
        acapy.start(argfile=argfile, home=tmp_path, ready_timeout=60)
    assert "no-such-wallet" in info.value.message  # the log tail names the cause


# --- VCDM 2.0, eddsa-jcs-2022 ----------------------------------------------------------------------


def test_acapy_verifies_our_eddsa_jcs_2022_contract(client: acapy.AcapyClient, key: Ed25519KeyPair) -> None:
    signed = di.sign(_contract(key.public.did_key), key, cryptosuite=di.JCS)
    result = client.di_verify(signed)
    assert result.verified, result.problems()
    assert result.status == 200


def test_acapy_rejects_our_eddsa_jcs_2022_contract_altered(client: acapy.AcapyClient, key: Ed25519KeyPair) -> None:
    signed = di.sign(_contract(key.public.did_key), key, cryptosuite=di.JCS)
    signed["credentialSubject"]["wage"]["amount"] += 1
    result = client.di_verify(signed)
    assert not result.verified
    assert result.status == 400
    assert any(p.endswith("Invalid signature.") for p in result.problems()), result.problems()


def test_we_verify_acapy_add_proof_with_context_in_options(client: acapy.AcapyClient, acapy_did: acapy.DidInfo) -> None:
    doc = _plain(acapy_did.did)
    secured = client.add_proof(doc, _jcs_options(acapy_did.verification_method, **{"@context": doc["@context"]}))
    assert secured["proof"][0]["@context"] == doc["@context"]
    report = _ours(secured)
    assert report.verified, _failed(report)
    # the 25-field contract too: both the proof and the issuer check pass (a contract also wants the worker's)
    contract = _contract(acapy_did.did)
    secured = client.add_proof(contract, _jcs_options(acapy_did.verification_method, **{"@context": contract["@context"]}))
    report = _ours(secured)
    assert _outcome(report, "proof[0]") == "pass"
    assert _outcome(report, "issuer-signature") == "pass"


def test_acapy_default_add_proof_hashes_no_context_so_we_reject_it(
    client: acapy.AcapyClient, acapy_did: acapy.DidInfo
) -> None:
    """ACA-Py leaves `@context` out of the proof configuration; vc-di-eddsa §3.3.5 puts it in."""
    doc = _plain(acapy_did.did)
    secured = client.add_proof(doc, _jcs_options(acapy_did.verification_method))
    proof = secured["proof"][0]
    assert "@context" not in proof
    report = _ours(secured)
    assert not report.verified
    assert "proof[0]" in _failed(report)
    # the signature is over SHA-256(JCS(proof options without @context)) || SHA-256(JCS(document))
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    data = hashlib.sha256(rfc8785.dumps(config)).digest() + hashlib.sha256(rfc8785.dumps(unsecured)).digest()
    public = Ed25519PublicMultikey.from_multibase(acapy_did.did.removeprefix("did:key:"))
    assert public.verify(multibase.decode(proof["proofValue"]), data)


def test_acapy_di_verify_does_not_tie_the_signer_to_the_issuer(client: acapy.AcapyClient, key: Ed25519KeyPair) -> None:
    """ACA-Py checks each signature only: a credential naming another issuer still verifies there."""
    other = Ed25519KeyPair.generate()
    signed = di.sign(_plain(other.public.did_key), key, cryptosuite=di.JCS)
    assert client.di_verify(signed).verified
    report = _ours(signed)
    assert "issuer-signature" in _failed(report)


def test_acapy_does_not_implement_eddsa_rdfc_2022(client: acapy.AcapyClient, key: Ed25519KeyPair) -> None:
    signed = di.sign(_contract(key.public.did_key), key, cryptosuite=di.RDFC)
    result = client.di_verify(signed)
    assert not result.verified
    assert any("Unsupported cryptosuite eddsa-rdfc-2022" in p for p in result.problems())


# --- the contract's two proofs -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parties() -> tuple[Ed25519KeyPair, Ed25519KeyPair]:
    return Ed25519KeyPair.generate(), Ed25519KeyPair.generate()


def _worker_signed(worker: Ed25519KeyPair, city: Ed25519KeyPair) -> dict[str, Any]:
    doc = _contract(city.public.did_key, worker.public.did_key)
    return di.sign(doc, worker, cryptosuite=di.JCS, options={"id": "urn:uuid:worker-proof", "proofPurpose": "authentication"})


def test_contract_proof_chain_acapy_refuses_the_citys_chained_proof(
    client: acapy.AcapyClient, parties: tuple[Ed25519KeyPair, Ed25519KeyPair]
) -> None:
    """Worker `authentication` proof, then the city's `assertionMethod` proof with `previousProof`.

    ACA-Py 1.7 verifies every proof against the document without the other proofs (it ignores
    previousProof, VC Data Integrity §4.4), so the city's proof, which covers the worker's, fails there.
    """
    worker, city = parties
    chained = di.sign(
        _worker_signed(worker, city), city, cryptosuite=di.JCS,
        options={"id": "urn:uuid:city-proof", "previousProof": "urn:uuid:worker-proof"},
    )  # fmt: skip
    assert _ours(chained).verified
    result = client.di_verify(chained)
    assert not result.verified
    by_purpose = {p["proof"]["proofPurpose"]: p for p in result.proofs}
    assert by_purpose["authentication"]["verified"] is True
    assert by_purpose["assertionMethod"]["verified"] is False
    assert any(p.endswith("Invalid signature.") for p in result.problems()), result.problems()


def test_contract_proof_set_acapy_accepts_both_but_we_require_the_chain(
    client: acapy.AcapyClient, parties: tuple[Ed25519KeyPair, Ed25519KeyPair]
) -> None:
    """The same two proofs as an unordered set (no previousProof): ACA-Py accepts, our verifier does not."""
    worker, city = parties
    proof_set = di.sign(_worker_signed(worker, city), city, cryptosuite=di.JCS, options={"id": "urn:uuid:city-proof"})
    result = client.di_verify(proof_set)
    assert result.verified, result.problems()
    assert [p["verified"] for p in result.proofs] == [True, True]
    assert "worker-signature" in _failed(_ours(proof_set))


def test_city_proof_alone_acapy_accepts(client: acapy.AcapyClient, parties: tuple[Ed25519KeyPair, Ed25519KeyPair]) -> None:
    """Evidence form: one city proof over a contract (the worker's acceptance would ride in `evidence`)."""
    _, city = parties
    signed = di.sign(_contract(city.public.did_key), city, cryptosuite=di.JCS)
    assert client.di_verify(signed).verified


def test_acapy_verifies_the_issued_evidence_form_contract_and_rejects_altered_evidence(
    client: acapy.AcapyClient, parties: tuple[Ed25519KeyPair, Ed25519KeyPair]
) -> None:
    """What the issuer really produces (agents.contract.countersign): the worker's acceptance inside
    `evidence`, one eddsa-jcs-2022 city proof over all of it, by a did:key issuer. ACA-Py verifies it;
    an acceptance altered after the city signed is refused there and here."""
    worker, city = parties
    draft = _contract(city.public.did_key, worker.public.did_key)
    acceptance = contract.accept_contract(draft, worker)
    issued = contract.countersign(draft, acceptance, city)
    assert issued["evidence"][0]["acceptanceProof"]["proofPurpose"] == "authentication"
    proof = issued["proof"]
    assert proof["cryptosuite"] == di.JCS and proof["verificationMethod"].startswith(city.public.did_key)
    report = _ours(issued)
    assert report.verified, _failed(report)
    result = client.di_verify(issued)
    assert result.verified, result.problems()
    assert [p["verified"] for p in result.proofs] == [True]

    altered = copy.deepcopy(issued)
    altered["evidence"][0]["acceptedAt"] = "2020-01-01T00:00:00Z"  # the worker "accepted" years earlier
    result = client.di_verify(altered)
    assert not result.verified and result.status == 400
    assert any(p.endswith("Invalid signature.") for p in result.problems()), result.problems()
    assert not _ours(altered).verified
    # the worker's acceptance of another contract swapped in: the city's proof covers evidence too
    other = contract.accept_contract(_contract(city.public.did_key, worker.public.did_key), worker)
    swapped = copy.deepcopy(issued)
    swapped["evidence"] = [other]
    assert not client.di_verify(swapped).verified
    assert not _ours(swapped).verified


# --- VCDM 1.1, Ed25519Signature2020 ---------------------------------------------------------------------


def test_acapy_verifies_our_ed25519signature2020_vcdm11(client: acapy.AcapyClient, key: Ed25519KeyPair) -> None:
    signed = di.sign(_contract_v11(key.public.did_key), key, cryptosuite=di.ED25519_2020)
    assert signed["@context"][-1] == di.ED25519_2020_CONTEXT
    result = client.ld_verify(signed)
    assert result.verified, result.errors
    altered = copy.deepcopy(signed)
    altered["credentialSubject"]["employee"]["name"] = "김철수"
    result = client.ld_verify(altered)
    assert not result.verified
    assert any("Invalid signature" in e for e in result.errors)


def test_we_verify_acapy_issued_ed25519signature2020(client: acapy.AcapyClient, acapy_did: acapy.DidInfo) -> None:
    issued = client.issue_credential(_contract_v11(acapy_did.did))
    assert issued["proof"]["type"] == di.ED25519_2020
    assert issued["proof"]["verificationMethod"] == acapy_did.verification_method
    report = _ours(issued)
    assert _outcome(report, "proof[0]") == "pass"
    assert _outcome(report, "issuer-signature") == "pass"
    altered = copy.deepcopy(issued)
    altered["credentialSubject"]["wage"]["amount"] = 1
    assert _outcome(_ours(altered), "proof[0]") == "fail"


def test_acapy_cannot_expand_a_context_it_would_have_to_fetch(client: acapy.AcapyClient, key: Ed25519KeyPair) -> None:
    """ACA-Py bundles only a few contexts and fetches the rest; offline, the workcred URL fails."""
    signed = di.sign(_contract_v11(key.public.did_key, inline_context=False), key, cryptosuite=di.ED25519_2020)
    assert _outcome(_ours(signed), "proof[0]") == "pass"  # we bundle https://w3id.org/workcred/v1
    result = client.ld_verify(signed)
    assert not result.verified
    assert any("Could not expand input" in e for e in result.errors)
