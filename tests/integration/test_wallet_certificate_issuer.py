"""The career certificate from the wallet's form to the PDF, against the real issuer over HTTP and a real
registry: identity check, signing, career record, then `POST /career/certificate` asks the issuer for a
certificate with exactly the picked items (LSA art. 39(2)), publishes it and renders the PDF."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents import certificate
from holder_wallet.service import draft_digest
from issuer.app import create_app as create_issuer
from issuer.service import IssuerService, ParticipantRow
from tests.helpers_city import City, serve, start_city
from tests.helpers_issuer import demo_project, issuer_service
from tests.helpers_wallet import Wallet, wallet_server
from web.config import RoleConfig

ROW = ParticipantRow("김서울", "1990-05-01", "010-1234-5678")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[City, IssuerService, Wallet]]:
    with start_city(tmp_path) as city, issuer_service(city, f"sqlite:///{tmp_path / 'issuer.sqlite3'}") as svc:
        box: dict[str, Any] = {}
        # bound first so the issuer's own URL (in its credential offers) is where it really answers
        server, _ = serve(lambda env, sr: box["app"](env, sr))
        issuer_url = f"http://127.0.0.1:{server.server_port}"
        box["app"] = create_issuer(RoleConfig("issuer", base_url=issuer_url, secret_key="t", dev=True, extra={"background": "0"}), service=svc)
        try:
            with wallet_server(tmp_path, city, issuer_url=f"http://127.0.0.1:{server.server_port}") as wallet:
                yield city, svc, wallet
        finally:
            server.shutdown()
            server.server_close()


def _worker_with_a_career_record(city: City, svc: IssuerService, wallet: Wallet) -> tuple[str, str]:
    _, project = demo_project(svc, city=city)
    svc.add_participants(project.id, [ROW])
    [offer] = svc.offer_contracts(list(svc.draft_contracts(project.id).created))
    assert offer.invitation_url
    token, urn = offer.invitation_url.rsplit("/", 1)[1], offer.urn
    ws = wallet.app.extensions["wallet.service"]
    ws.identify(token, ROW.name, ROW.birth_date, "ko")
    found = re.search(r"\b(\d{6})\b", svc.outbox_messages(limit=1)[0].body)
    assert found
    wid = ws.confirm(token, ROW.name, ROW.birth_date, "ko", code=found.group(1)).account_id
    draft = ws.issuer("ko").contract(wallet.store.worker_token(wid), urn)["draft"]
    ws.sign(wid, urn, draft, {"challenge": draft_digest(draft)}, "ko")
    svc.countersign([urn])
    [record] = svc.complete([urn]).issued
    city.checkpoint()
    for ready in svc.credentials_ready_for(wallet.store.account(wid).did, [record]):
        wallet.store.put_credential(wid, ready.credential, receipt=ready.receipt, status="completed")
    return wid, record


def _signed_in(wallet: Wallet, wid: str) -> tuple[Any, str]:
    client = wallet.app.test_client()
    cookie = wallet.session_cookie({"wid": wid})
    client.set_cookie(cookie["name"], cookie["value"], domain="localhost")
    page = client.get("/career/certificate", base_url=wallet.url)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found
    return client, found.group(1)


def test_the_certificate_holds_exactly_the_picked_items(world: tuple[City, IssuerService, Wallet]) -> None:
    city, svc, wallet = world
    wid, record = _worker_with_a_career_record(city, svc, wallet)
    client, csrf = _signed_in(wallet, wid)
    picked = ["project", "employmentPeriod", "duties"]
    resp = client.post("/career/certificate", base_url=wallet.url, data={
        "csrf_token": csrf, "record": record, "item": picked, "minutes": str(7 * 24 * 60), "purpose": "취업 지원서 제출용"})  # fmt: skip
    assert resp.status_code == 303, resp.get_data(as_text=True)
    shown = resp.headers["Location"]
    assert "/career/certificates/" in shown
    pdf = client.get(shown + ".pdf?lang=ko", base_url=wallet.url)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf", pdf.get_data(as_text=True)[:2000]
    vp, receipts = certificate.extract_from_pdf(pdf.data)
    [vc] = vp["verifiableCredential"]
    assert "CareerCertificateCredential" in vc["type"]
    assert set(vc["credentialSubject"]) == {"id", "type", "employee", "employer", "purpose", *picked}  # no wage, no position
    assert vc["credentialSubject"]["purpose"] == "취업 지원서 제출용"
    assert receipts[vc["id"]]["index"] >= 0 and receipts[vc["id"]]["inclusionProof"] is not None
    assert [h.credential_id for h in wallet.store.credentials(wid, "certificate")] == [vc["id"]]
    text = certificate.credential_items(vc, "ko")
    assert [label for label, _ in text] == ["성명", "사업체명", "사업명", "근무기간", "업무의 내용"]


def test_refusals_are_clear_and_keep_nothing(world: tuple[City, IssuerService, Wallet]) -> None:
    city, svc, wallet = world
    wid, record = _worker_with_a_career_record(city, svc, wallet)
    client, csrf = _signed_in(wallet, wid)
    cases = [
        ({"record": record, "item": ["residentNumber"]}, "항목"),
        ({"record": record}, "항목"),
        ({"item": ["duties"]}, "경력 기록"),
        ({"record": "urn:uuid:not-mine", "item": ["duties"]}, "자격증명이 없습니다"),
    ]
    for form, message in cases:
        resp = client.post("/career/certificate", base_url=wallet.url, data={"csrf_token": csrf, "minutes": "10080", **form})
        assert resp.status_code in (400, 404), form
        assert message in resp.get_data(as_text=True), form
    assert client.post("/career/certificate", base_url=wallet.url, data={"record": record, "item": ["duties"]}).status_code == 400  # no CSRF token
    assert wallet.store.credentials(wid, "certificate") == []
