"""The issuer's wallet-facing HTTP API (docs/issuer-wallet.md) against a real registry: identity check,
binding, contracts, signing, receipts, certificates, and the problem answers on bad input."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from agents import contract
from agents.keys import Ed25519KeyPair
from issuer.app import create_app
from issuer.service import IssuerService, ParticipantRow
from tests.helpers_city import City, start_city
from tests.helpers_issuer import demo_project, issuer_service
from web.config import RoleConfig

ROW = ParticipantRow("김서울", "1990-05-01", "010-1234-5678")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[City, IssuerService, FlaskClient]]:
    with start_city(tmp_path) as city, issuer_service(city, f"sqlite:///{tmp_path / 'issuer.sqlite3'}") as svc:
        config = RoleConfig("issuer", base_url="http://issuer.test", secret_key="t", dev=True, extra={"background": "0"})
        yield city, svc, create_app(config, service=svc).test_client()


def _invite(svc: IssuerService) -> tuple[str, str]:
    _, project = demo_project(svc)
    svc.add_participants(project.id, [ROW])
    [offer] = svc.offer_contracts(list(svc.draft_contracts(project.id).created))
    assert offer.invitation_url
    return offer.invitation_url.rsplit("/", 1)[1], offer.urn


def _code(svc: IssuerService) -> str:
    found = re.search(r"\b(\d{6})\b", svc.outbox_messages(limit=1)[0].body)
    assert found
    return found.group(1)


def test_identity_check_sign_and_receive(world: tuple[City, IssuerService, FlaskClient], tmp_path: Path) -> None:
    city, svc, http = world
    token, urn = _invite(svc)
    wrong = http.post(f"/api/wallet/invitations/{token}/identify", json={"name": "김서울", "birthDate": "1990-01-01"})
    assert wrong.status_code == 400 and wrong.mimetype == "application/problem+json"
    assert wrong.json and "일치하지" in wrong.json["detail"]
    english = http.post(f"/api/wallet/invitations/{token}/identify?lang=en", json={"name": "김서울", "birthDate": "1990-01-01"})
    assert english.json and "do not match" in english.json["detail"]
    ok = http.post(f"/api/wallet/invitations/{token}/identify", json={"name": "김 서울", "birthDate": "1990-05-01"})
    assert ok.status_code == 200 and ok.json and ok.json["codeSentTo"] == "010-****-5678"
    worker = Ed25519KeyPair.generate()
    bound = http.post(f"/api/wallet/invitations/{token}/verify", json={"code": _code(svc), "holderDid": worker.public.did_key})
    assert bound.status_code == 200 and bound.json
    auth = {"Authorization": f"Bearer {bound.json['workerToken']}"}
    [summary] = bound.json["contracts"]
    assert summary["id"] == urn and summary["state"] == "offered" and summary["draft"]["credentialSubject"]["id"] == worker.public.did_key

    assert http.get("/api/wallet/contracts").status_code == 401
    assert http.get("/api/wallet/contracts", headers={"Authorization": "Bearer nope"}).status_code == 401
    full = http.get(f"/api/wallet/contracts/{urn}", headers=auth).json
    assert full and full["workerFields"] == ["id"] and full["template"]["sections"] and full["labels"]
    assert http.put(f"/api/wallet/contracts/{urn}/details", json={"wage": 1}, headers=auth).status_code == 400
    assert http.put(f"/api/wallet/contracts/{urn}/details", json={}, headers=auth).json["draftDigest"] == full["draftDigest"]
    preview = http.get(f"/api/wallet/contracts/{urn}/preview.pdf", headers=auth)
    assert preview.status_code == 200 and preview.mimetype == "application/pdf" and preview.data.startswith(b"%PDF")
    (tmp_path / "preview.pdf").write_bytes(preview.data)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "preview.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "단시간근로자 표준근로계약서" in text and "김서울" in text and "12,121원" in text and full["draftDigest"] in text
    assert http.get(f"/api/wallet/contracts/{urn}/preview.pdf?lang=en", headers=auth).status_code == 200
    assert http.get("/api/wallet/contracts/urn:uuid:nope/preview.pdf", headers=auth).status_code == 404

    acceptance = contract.accept_contract(full["draft"], worker, passkey_assertion={"challenge": full["draftDigest"]})
    assert http.post(f"/api/wallet/contracts/{urn}/acceptance", json={"acceptance": {}}, headers=auth).status_code == 400
    signed = http.post(f"/api/wallet/contracts/{urn}/acceptance", json={"acceptance": acceptance}, headers=auth)
    assert signed.status_code == 202 and signed.json == {"state": "signed"}
    assert http.post(f"/api/wallet/contracts/{urn}/acceptance", json={"acceptance": acceptance}, headers=auth).status_code == 409

    svc.countersign([urn])
    pending = http.get(f"/api/wallet/credentials/{urn}/receipt", headers=auth)
    assert pending.status_code in (200, 202)
    city.checkpoint()
    receipt = http.get(f"/api/wallet/credentials/{urn}/receipt", headers=auth)
    assert receipt.status_code == 200 and receipt.json and "inclusionProof" in str(receipt.json)
    [active] = http.get("/api/wallet/contracts", headers=auth).json
    assert active["state"] == "active" and active["credential"]["proof"] and "draft" not in active
    assert active["kind"] == "labor-contract" and active["offer"].startswith("openid-credential-offer://?credential_offer_uri=")

    [record] = svc.complete([urn]).issued
    listed = http.get("/api/wallet/contracts", headers=auth).json
    assert [(i["kind"], i["state"]) for i in listed] == [("labor-contract", "completed"), ("career-record", "active")]
    assert listed[1]["id"] == record and listed[1]["credential"]["type"][-1] == "CareerRecordCredential"
    assert listed[1]["offer"].startswith("openid-credential-offer://")
    made = http.post("/api/wallet/certificates", json={"careerRecordIds": [record], "items": ["duties"]}, headers=auth)
    assert made.status_code == 201 and made.json and set(made.json["credential"]["credentialSubject"]) == {"id", "type", "employee", "employer", "duties"}
    bad = http.post("/api/wallet/certificates", json={"careerRecordIds": [record], "items": ["residentNumber"]}, headers=auth)
    assert bad.status_code == 400


def test_bad_bodies_locks_and_unconfigured_oidc(world: tuple[City, IssuerService, FlaskClient]) -> None:
    _, svc, http = world
    token, _ = _invite(svc)
    for body in (b"", b"[]", b"{", b'{"name": 1, "birthDate": 2}'):
        resp = http.post(f"/api/wallet/invitations/{token}/identify", data=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400, body
    assert http.post("/api/wallet/invitations/unknown/identify", json={"name": "a", "birthDate": "b"}).status_code == 404
    oidc = http.post(f"/api/wallet/invitations/{token}/oidc", json={"idToken": "x"})
    assert oidc.status_code == 501 and oidc.json and "인증번호" in oidc.json["detail"]
    http.post(f"/api/wallet/invitations/{token}/identify", json={"name": "김서울", "birthDate": "1990-05-01"})
    did = Ed25519KeyPair.generate().public.did_key
    answers = [http.post(f"/api/wallet/invitations/{token}/verify", json={"code": "1234567", "holderDid": did}).status_code
               for _ in range(5)]  # fmt: skip
    assert answers == [400, 400, 400, 400, 409]
    locked = http.post(f"/api/wallet/invitations/{token}/identify", json={"name": "김서울", "birthDate": "1990-05-01"})
    assert locked.status_code == 409 and locked.json and "전화" in locked.json["detail"]
    statuses = {http.post(f"/api/wallet/invitations/{token}/identify", json={}).status_code for _ in range(12)}
    assert 429 in statuses
