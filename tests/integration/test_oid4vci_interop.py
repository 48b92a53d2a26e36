"""Interoperability both ways: an independent OpenID4VCI client (the OpenWallet Foundation's
`@openid4vc/openid4vci`, from npm) runs the whole pre-authorized flow against our issuer, and the
credentials our issuer gives out verify in independent verifiers (openvc-core; ACA-Py 1.7 in
tests/integration/test_acapy_interop.py's sidecar for eddsa-jcs-2022)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agents import multibase
from agents.keys import Ed25519KeyPair
from tests.helpers_issuer import IssuerUnderTest, start_issuer

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "node" / "oid4vci_holder.mjs"


def _node_holder(offer_url: str, worker: Ed25519KeyPair, tx_code: str | None = None) -> tuple[int, dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "@openid4vc" / "openid4vci").exists():
        pytest.skip("node and npm ci (node_modules/@openid4vc/openid4vci) are needed")
    secret = {"x": multibase.b64url(worker.public.raw), "d": multibase.b64url(worker.seed), "did": worker.verification_method, "txCode": tx_code}
    done = subprocess.run([node, str(SCRIPT), offer_url], input=json.dumps(secret), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def iss(tmp_path: Path, sqlite_url: str) -> Any:
    with start_issuer(tmp_path, sqlite_url) as issuer:
        yield issuer


def test_the_openwallet_client_receives_a_contract(iss: IssuerUnderTest) -> None:
    worker = Ed25519KeyPair.generate()
    urn = iss.active_contract(worker)
    [ready] = iss.svc.credentials_ready_for(worker.public.did_key, [urn])
    code, out = _node_holder(iss.offer(urn).url, worker)
    assert code == 0, out
    assert out["version"] == "V1"  # the client read our metadata as OpenID4VCI 1.0 (Final)
    assert out["credentialResponse"]["credentials"] == [{"credential": ready.credential}]
    assert out["credentialResponse"]["workcred_receipt"] == ready.receipt


def test_the_openwallet_client_with_a_tx_code_and_a_stranger(iss: IssuerUnderTest) -> None:
    worker = Ed25519KeyPair.generate()
    urn = iss.active_contract(worker)
    offer = iss.offer(urn, out_of_band=True)
    code, out = _node_holder(offer.url, worker, offer.tx_code)
    assert code == 0, out
    # another wallet's key cannot take someone else's contract, even with the code
    offer = iss.offer(urn, out_of_band=True)
    code, out = _node_holder(offer.url, Ed25519KeyPair.generate(), offer.tx_code)
    assert code == 1 and "credential_request_denied" in json.dumps(out)


def _openvc(vc: dict[str, Any], jwk: dict[str, str] | None = None) -> None:
    from openvc.proof.data_integrity import DataIntegrityProofSuite
    from openvc.proof.di_jcs import EddsaJcsProofSuite

    from agents import dataintegrity as di
    from agents import loader

    if vc["proof"]["cryptosuite"] == di.RDFC:
        extra = {url: loader.context_document(url) for url in vc["@context"] if url != di.VC_V2}
        DataIntegrityProofSuite().verify(vc, public_key_jwk=jwk, extra_contexts=extra)
    else:
        EddsaJcsProofSuite().verify(vc, public_key_jwk=jwk)


def test_a_contract_delivered_over_oid4vci_verifies_in_openvc(iss: IssuerUnderTest) -> None:
    worker = Ed25519KeyPair.generate()
    urn = iss.active_contract(worker)
    from tests.helpers_issuer import receive

    (got,) = receive(iss, iss.offer(urn).url, worker)
    # the department's did:web lives on a loopback test registry: openvc gets its key as a JWK
    _openvc(got.credential, dict(iss.city.keystore.public_keys(iss.department.name)[-1].public.to_jwk()))


@pytest.mark.acapy
@pytest.mark.slow
def test_vcapi_credentials_verify_in_acapy_and_openvc(tmp_path: Path, sqlite_url: str) -> None:
    from agents import acapy

    reason = acapy.unavailable_reason()
    if reason:
        pytest.skip(reason)
    with start_issuer(tmp_path, sqlite_url, didkey_departments="seoul-jobs") as iss:
        token = iss.vcapi_token(*iss.client())
        credential = {
            "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
            "type": ["VerifiableCredential", "ExampleAlumniCredential"],
            "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "Seoul National University"},
        }
        signed = {}
        for suite in ("eddsa-jcs-2022", "eddsa-rdfc-2022"):
            answer = iss.http.post(f"{iss.base_url}/vc-api/seoul-jobs/{suite}/credentials/issue", json={"credential": credential},
                                   headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            assert answer.status_code == 201, answer.text
            signed[suite] = answer.json()["verifiableCredential"]
            _openvc(signed[suite])  # resolves the did:key itself
        agent = acapy.start(home=tmp_path / "acapy")
        try:
            result = agent.client.di_verify(signed["eddsa-jcs-2022"])
            assert result.verified, result.problems()
            tampered = {**signed["eddsa-jcs-2022"], "validFrom": "2026-01-02T00:00:00Z"}
            assert not agent.client.di_verify(tampered).verified
        finally:
            agent.stop()
