"""The thin slice end to end: a city department key on did:web served by the registry app over HTTP,
a LaborContractCredential signed by the worker (did:key, authentication) and countersigned by the
city (the evidence form the issuer uses, and the W3C proof-chain form), verified by `workcred verify` as a subprocess: exit 0; a field altered: exit 1.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

import schemas
from agents import contract as agents_contract
from agents import dataintegrity as di
from agents.keys import Ed25519KeyPair
from tests.conftest import ROOT
from tests.helpers_city import City, Department, start_city

AT = "2026-04-01T00:00:00Z"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as running:
        yield running


@pytest.fixture(scope="module")
def dept(city: City) -> Department:
    return city.department("seoul-digital-policy", "서울시 디지털정책과", "Digital Policy Division")


@pytest.fixture(scope="module", params=["evidence", "chain"])
def contract(request: pytest.FixtureRequest, city: City, dept: Department) -> dict[str, Any]:
    worker = Ed25519KeyPair.generate()
    vc = copy.deepcopy(schemas.example("labor-contract-part-time"))
    vc["id"] = f"urn:uuid:{uuid.uuid4()}"
    vc["issuer"] = dept.did
    vc["credentialSubject"]["id"] = worker.public.did_key
    vc["credentialSubject"]["employer"]["id"] = dept.did
    vc.pop("credentialStatus", None)  # status is checked by the verifier's policies, not in this slice
    if request.param == "evidence":
        # 1. the worker accepts the final draft; 2. the city signs it with the acceptance as evidence
        at = datetime(2026, 2, 20, 10, tzinfo=UTC)
        acceptance = agents_contract.accept_contract(vc, worker, at=at)
        return agents_contract.countersign(vc, acceptance, dept.signer(city), at=at + timedelta(hours=1))
    # 1. the worker accepts the contract: authentication proof by their did:key
    worker_proof = f"urn:uuid:{uuid.uuid4()}"
    accepted = di.sign(vc, worker, options={"id": worker_proof, "proofPurpose": "authentication", "created": "2026-02-20T10:00:00Z"})
    # 2. the city issues it: assertionMethod proof by the department's did:web key, chained to the worker's
    return di.sign(accepted, dept.signer(city), options={"id": f"urn:uuid:{uuid.uuid4()}", "previousProof": worker_proof, "created": "2026-02-20T11:00:00Z"})


def workcred_verify(city: City, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKCRED_")} | {"WORKCRED_LANG": "en"}
    return subprocess.run(
        [sys.executable, "-m", "workcred", "verify", str(path), "--allow-http-loopback", "--allow-host", city.host, "--at", AT, *extra],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )  # fmt: skip


def test_the_did_web_document_is_served(city: City, dept: Department) -> None:
    assert dept.did == f"did:web:127.0.0.1%3A{city.port}:issuers:seoul-digital-policy"
    doc = httpx.get(f"{city.base_url}/issuers/seoul-digital-policy/did.json", timeout=10, trust_env=False).json()
    assert doc["id"] == dept.did and doc["assertionMethod"]


def test_contract_carries_the_worker_and_the_city_proofs(contract: dict[str, Any], dept: Department) -> None:
    if isinstance(contract["proof"], dict):  # evidence form: one proof, the worker's inside evidence
        city_proof, worker_proof = contract["proof"], contract["evidence"][0]["acceptanceProof"]
        assert worker_proof["proofPurpose"] == "authentication" and worker_proof["verificationMethod"].startswith("did:key:")
        assert city_proof["proofPurpose"] == "assertionMethod" and city_proof["verificationMethod"].startswith(dept.did + "#")
        return
    worker_proof, city_proof = contract["proof"]
    assert worker_proof["proofPurpose"] == "authentication" and worker_proof["verificationMethod"].startswith("did:key:")
    assert city_proof["proofPurpose"] == "assertionMethod" and city_proof["verificationMethod"].startswith(dept.did + "#")
    assert city_proof["previousProof"] == worker_proof["id"]


def test_workcred_verify_exit_0(city: City, contract: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(contract, ensure_ascii=False), encoding="utf-8")
    out = workcred_verify(city, path, "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["verdict"] == "valid"
    passed = {c["id"] for c in report["checks"] if c["outcome"] == "pass"}
    assert {"proof[0]", "issuer-signature", "worker-signature", "validity", "schema"} <= passed
    if isinstance(contract["proof"], list):
        assert {"proof[1]", "proof-chain"} <= passed


def test_workcred_verify_exit_1_when_a_field_is_altered(city: City, contract: dict[str, Any], tmp_path: Path) -> None:
    altered = copy.deepcopy(contract)
    altered["credentialSubject"]["wage"]["amount"] = 9860
    path = tmp_path / "altered.json"
    path.write_text(json.dumps(altered, ensure_ascii=False), encoding="utf-8")
    out = workcred_verify(city, path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "(tampered)" in out.stdout and "✘ proof[0]" in out.stdout and "✘ worker-signature" in out.stdout


def test_workcred_verify_without_the_allow_list_cannot_resolve(city: City, contract: dict[str, Any], tmp_path: Path) -> None:
    """The fetcher's allow-list is real: without --allow-host the city's DID is not fetched."""
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(contract, ensure_ascii=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKCRED_")} | {"WORKCRED_LANG": "en"}
    out = subprocess.run([sys.executable, "-m", "workcred", "verify", str(path), "--allow-http-loopback", "--at", AT, "--json"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)  # fmt: skip
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert f"proof[{len(contract['proof']) - 1 if isinstance(contract['proof'], list) else 0}]" in report["errors"]
    assert "issuer-signature" in report["errors"]
