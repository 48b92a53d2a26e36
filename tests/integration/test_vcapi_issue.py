"""W3C VC-API `POST /credentials/issue` and `/credentials/status` over HTTP: OAuth client credentials,
both cryptosuites, status entries on the registry, the logged leaf, every VCDM 2.0 refusal, and what
independent verifiers (openvc-core) and our verifier app make of the result."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from openvc.proof.data_integrity import DataIntegrityProofSuite
from openvc.proof.di_jcs import EddsaJcsProofSuite

import schemas
from agents import dataintegrity as di
from agents import loader, statuslist
from tests.helpers_issuer import DEPARTMENT, IssuerUnderTest, start_issuer

EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"


@pytest.fixture
def iss(tmp_path: Path, db_url: str) -> Any:
    with start_issuer(tmp_path, db_url) as issuer:
        yield issuer


@pytest.fixture
def token(iss: IssuerUnderTest) -> str:
    return iss.vcapi_token(*iss.client())


def _base(iss: IssuerUnderTest) -> dict[str, Any]:
    return {
        "@context": [di.VC_V2, EXAMPLES],
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": iss.department.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "Seoul National University"},
    }


def _issue(iss: IssuerUnderTest, token: str, credential: dict[str, Any], options: dict[str, Any] | None = None, path: str = "") -> httpx.Response:
    url = f"{iss.base_url}/vc-api/{DEPARTMENT}{path}/credentials/issue"
    return iss.http.post(url, json={"credential": credential, "options": options or {}}, headers={"Authorization": f"Bearer {token}"})


def _public_jwk(iss: IssuerUnderTest) -> dict[str, str]:
    return dict(iss.city.keystore.public_keys(DEPARTMENT)[-1].public.to_jwk())


def _openvc_verify(iss: IssuerUnderTest, vc: dict[str, Any]) -> None:
    extra = {url: loader.context_document(url) for url in vc["@context"] if url != di.VC_V2}
    if vc["proof"]["cryptosuite"] == di.RDFC:
        DataIntegrityProofSuite().verify(vc, public_key_jwk=_public_jwk(iss), extra_contexts=extra)
    else:
        EddsaJcsProofSuite().verify(vc, public_key_jwk=_public_jwk(iss))


# --- OAuth -----------------------------------------------------------------------------------------


def test_client_credentials_and_scopes(iss: IssuerUnderTest) -> None:
    client_id, secret = iss.client()
    assert iss.vcapi_token(client_id, secret, scope=f"department:{DEPARTMENT}")
    wrong = iss.http.post(f"{iss.base_url}/oid4vci/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret + "x"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    scope = iss.http.post(f"{iss.base_url}/oid4vci/token", data={"grant_type": "client_credentials", "scope": "department:other"}, auth=(client_id, secret))
    assert scope.status_code == 400 and scope.json()["error"] == "invalid_scope"
    # a token of one department does not open another's endpoint
    iss.add_department("seoul-welfare")
    other = iss.vcapi_token(*iss.client("seoul-welfare"))
    refused = _issue(iss, other, _base(iss))
    assert refused.status_code == 403 and refused.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'
    assert _issue(iss, "wc1.nope.nope", _base(iss)).status_code == 401


# --- issuing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "options", "suite"), [("", {}, di.JCS), ("", {"cryptosuite": di.RDFC}, di.RDFC), ("/eddsa-rdfc-2022", {}, di.RDFC), ("/eddsa-jcs-2022", {}, di.JCS)])
def test_issue_with_either_suite_verifies_independently(iss: IssuerUnderTest, token: str, path: str, options: dict[str, Any], suite: str) -> None:
    answer = _issue(iss, token, _base(iss), options, path)
    assert answer.status_code == 201, answer.text
    vc = answer.json()["verifiableCredential"]
    assert vc["proof"]["cryptosuite"] == suite and vc["proof"]["verificationMethod"].startswith(iss.department.did)
    _openvc_verify(iss, vc)


def test_the_path_suite_wins_over_a_contradicting_option(iss: IssuerUnderTest, token: str) -> None:
    answer = _issue(iss, token, _base(iss), {"cryptosuite": di.JCS}, "/eddsa-rdfc-2022")
    assert answer.status_code == 400 and "eddsa-rdfc-2022" in answer.json()["detail"]


def test_status_entries_allocated_and_leaf_logged_then_revoked(iss: IssuerUnderTest, token: str, tmp_path: Path) -> None:
    from verifier.app import create_app as verifier_app

    credential = copy.deepcopy(schemas.example("career-record"))
    credential.pop("id", None)
    credential.pop("credentialStatus", None)
    credential["issuer"] = iss.department.did
    credential["credentialSubject"]["employer"]["id"] = iss.department.did
    answer = _issue(iss, token, credential, {"credentialStatus": {"type": "BitstringStatusListEntry"}})
    assert answer.status_code == 201, answer.text
    vc = answer.json()["verifiableCredential"]
    entries = vc["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    assert all(e["statusListCredential"].startswith(iss.city.base_url + f"/status/{DEPARTMENT}/") for e in entries)
    # the leaf: logged behind the request, with a receipt the verifier accepts
    iss.ctx.extensions["logger"].wait(10)
    from issuer.protocol_models import VcApiCredential

    with iss.ctx.tx() as s:
        row = s.query(VcApiCredential).filter_by(credential_id=vc["id"]).one()
        assert row.log_index is not None and row.revocation_index == int(entries[0]["statusListIndex"])
    iss.city.checkpoint()
    receipt = iss.city.client.receipt(row.log_index)
    assert receipt is not None

    verifier = verifier_app(iss.city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}"))
    try:
        client = verifier.test_client()

        def verdict() -> str:
            verifier.extensions["verifier"].fetcher.clear_cache()
            resp = client.post("/credentials/verify", json={"verifiableCredential": vc, "options": {"receipts": {vc["id"]: receipt.to_json()}}})
            return str(resp.json["verdict"])

        assert verdict() == "valid"
        status_url = f"{iss.base_url}/vc-api/{DEPARTMENT}/credentials/status"

        def change(status: str) -> httpx.Response:
            body = {"credentialId": vc["id"], "credentialStatus": [{"type": "BitstringStatusListEntry", "status": status}]}
            return iss.http.post(status_url, json=body, headers={"Authorization": f"Bearer {token}"})

        assert change("suspended").json() == {"credentialId": vc["id"], "status": "suspended"}
        assert verdict() == "suspended"
        assert change("active").json()["status"] == "active"
        assert verdict() == "valid"
        assert change("revoked").json()["status"] == "revoked"
        assert verdict() == "revoked"
        again = change("active")
        assert again.status_code == 409  # a revocation is final
        listed = iss.city.client.get_status_list(DEPARTMENT, entries[0]["statusListCredential"].rsplit("/", 1)[1])
        assert statuslist.check_status(entries[0], listed) is True
    finally:
        verifier.extensions["verifier"].close()


def test_a_status_template_in_the_credential_is_filled_in(iss: IssuerUnderTest, token: str) -> None:
    credential = {**_base(iss), "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}
    vc = _issue(iss, token, credential).json()["verifiableCredential"]
    assert vc["credentialStatus"]["statusPurpose"] == "revocation" and "statusListIndex" in vc["credentialStatus"]
    assert vc["id"].startswith("urn:uuid:")
    fixed = {**_base(iss), "credentialStatus": {**vc["credentialStatus"]}}
    assert _issue(iss, token, fixed).status_code == 400  # an index chosen by the caller is refused


# --- VCDM 2.0: each rule refused, and accepted when kept --------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(key: str, value: Any) -> Mutation:
    return lambda c: c.__setitem__(key, value)


REFUSED: dict[str, tuple[Mutation, Mutation]] = {
    # rule: (breaks it, keeps it)
    "credentialStatus-type": (_set("credentialStatus", {"id": "https://example.com/status/1"}), _set("credentialStatus", {"id": "https://example.com/status/1", "type": "ExampleStatusEntry"})),
    "credentialSchema-type": (_set("credentialSchema", {"id": "https://example.com/schema.json"}), _set("credentialSchema", {"id": "https://example.com/schema.json", "type": "JsonSchema"})),
    "evidence-type": (_set("evidence", [{"id": "https://example.com/evidence/1"}]), _set("evidence", [{"id": "https://example.com/evidence/1", "type": ["Evidence"]}])),
    "refreshService-type": (_set("refreshService", {"id": "https://example.com/refresh"}), _set("refreshService", {"id": "https://example.com/refresh", "type": "ExampleRefreshService"})),
    "termsOfUse-type": (_set("termsOfUse", [{"id": "https://example.com/tou"}]), _set("termsOfUse", [{"id": "https://example.com/tou", "type": "ExampleTermsOfUse"}])),
    "relatedResource-id": (_set("relatedResource", [{"id": "not a url", "digestSRI": "sha384-abc"}]), _set("relatedResource", [{"id": "https://example.com/x", "digestSRI": "sha384-abc"}])),
    "validFrom-after-validUntil": (_set("validUntil", "2025-06-01T00:00:00Z"), _set("validUntil", "2028-01-01T00:00:00Z")),
    "id-not-url": (_set("id", "not a url"), _set("id", "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427")),
    "missing-base-context": (_set("@context", [EXAMPLES]), _set("@context", [di.VC_V2, EXAMPLES])),
    "misordered-context": (_set("@context", [EXAMPLES, di.VC_V2]), _set("@context", [di.VC_V2, EXAMPLES])),
    "empty-credentialSubject": (_set("credentialSubject", {}), _set("credentialSubject", {"alumniOf": "Seoul"})),
    "missing-VerifiableCredential-type": (_set("type", ["ExampleAlumniCredential"]), _set("type", ["VerifiableCredential"])),
    "validFrom-not-datetime": (_set("validFrom", "2026-01-01"), _set("validFrom", "2026-01-01T09:00:00+09:00")),
}


@pytest.mark.parametrize("rule", sorted(REFUSED))
def test_vcdm2_rule_refused_then_accepted(iss: IssuerUnderTest, token: str, rule: str) -> None:
    breaks, keeps = REFUSED[rule]
    bad, good = _base(iss), _base(iss)
    breaks(bad)
    keeps(good)
    refused = _issue(iss, token, bad)
    assert refused.status_code == 400, refused.text
    body = refused.json()
    assert body["violations"] and all({"rule", "path"} <= set(v) for v in body["violations"])
    accepted = _issue(iss, token, good)
    assert accepted.status_code == 201, accepted.text


def test_bad_requests_are_4xx(iss: IssuerUnderTest, token: str) -> None:
    url = f"{iss.base_url}/vc-api/{DEPARTMENT}/credentials/issue"
    auth = {"Authorization": f"Bearer {token}"}
    assert iss.http.post(url, content=b"{", headers={**auth, "Content-Type": "application/json"}).status_code == 400
    assert iss.http.post(url, json={"credential": _base(iss), "options": {"mandatoryPointers": []}}, headers=auth).status_code == 400
    assert _issue(iss, token, {**_base(iss), "issuer": "did:example:someone-else"}).status_code == 400
    assert _issue(iss, token, {**_base(iss), "proof": {"type": "DataIntegrityProof"}}).status_code == 400
    assert iss.http.post(f"{iss.base_url}/vc-api/nope/credentials/issue", json={}, headers=auth).status_code == 404
    # the same id twice from one department
    first = _issue(iss, token, {**_base(iss), "id": "urn:uuid:5b1d3c3e-0000-4000-8000-000000000001"})
    assert first.status_code == 201
    assert _issue(iss, token, {**_base(iss), "id": "urn:uuid:5b1d3c3e-0000-4000-8000-000000000001"}).status_code == 409


def test_a_did_key_department_for_test_suites(tmp_path: Path, db_url: str) -> None:
    with start_issuer(tmp_path, db_url, didkey_departments=DEPARTMENT) as iss:
        token = iss.vcapi_token(*iss.client())
        credential = _base(iss)
        del credential["issuer"]
        vc = _issue(iss, token, credential).json()["verifiableCredential"]
        assert vc["issuer"].startswith("did:key:z6Mk") and vc["proof"]["verificationMethod"].startswith(vc["issuer"] + "#")
        EddsaJcsProofSuite().verify(vc)  # resolves the did:key itself


def test_clients_from_the_command_line(iss: IssuerUnderTest, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse
    import json

    from issuer.cli import cmd_client

    assert cmd_client(argparse.Namespace(issuer_command="client-create", department=DEPARTMENT, label="HR system"), iss.svc) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["scope"] == f"department:{DEPARTMENT}"
    token = iss.vcapi_token(made["client_id"], made["client_secret"])
    assert _issue(iss, token, _base(iss)).status_code == 201
    assert cmd_client(argparse.Namespace(issuer_command="client-disable", client_id=made["client_id"]), iss.svc) == 0
    import time

    from issuer import vcapi

    time.sleep(vcapi.AUTH_TTL)
    answer = _issue(iss, token, _base(iss))  # the token is still unexpired, but its client is disabled
    assert answer.status_code == 401
