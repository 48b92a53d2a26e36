"""OpenID4VP 1.0 end to end: the employer's request, the holder (agents.oid4vp) answering over HTTP,
single-use nonces, wrong audience, expiry, purge of personal data, audit rows with hashes only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from flask import Flask

from agents import oid4vp
from agents.errors import InvalidInput
from agents.keys import Ed25519KeyPair
from tests.helpers_city import City, Department, start_city
from verifier.app import create_app


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def dept(city: City) -> Department:
    return city.department("seoul-digital-policy", "서울시 디지털정책과", "Digital Policy Division")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(city: City, tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    app = create_app(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}"), clock=clock)
    yield app
    app.extensions["verifier"].close()


@pytest.fixture
def http(verifier: Flask) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.WSGITransport(app=verifier), base_url="http://verifier.test") as c:
        yield c


def _new_request(http: httpx.Client, years: int = 3) -> dict[str, str]:
    resp = http.post("/requests", json={"years": years, "purpose": "채용 경력 확인"})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def test_request_answer_and_status(city: City, dept: Department, http: httpx.Client, verifier: Flask) -> None:
    worker = Ed25519KeyPair.generate()
    recent = city.issue_career(dept, worker)
    old = city.issue_career(dept, worker, end_date="2019-06-30")
    contract = city.issue_contract(dept, worker)  # not asked for
    created = _new_request(http)
    assert created["authorizationRequest"].startswith("openid4vp://?client_id=redirect_uri%3A")
    status = http.get(created["statusUrl"]).json()
    assert status["status"] == "pending"

    request = oid4vp.fetch_request(created["authorizationRequest"], http)
    assert request.client_id == "redirect_uri:http://verifier.test/requests/response"
    assert request.dcql_query["credentials"][0]["format"] == "ldp_vc"
    selected = oid4vp.select_credentials(request, [recent.vc, old.vc, contract.vc])
    assert [c["id"] for c in selected["career"]] == [recent.id]  # right type, within the last 3 years
    receipts = {i.id: i.receipt for i in (recent, old, contract)}
    token = oid4vp.build_vp_token(request, selected, worker, receipts=receipts)
    vp = token["career"][0]
    assert vp["proof"]["challenge"] == request.nonce and vp["proof"]["domain"] == request.client_id
    assert set(vp["workcredReceipts"]) == {recent.id}
    answer = oid4vp.post_response(request, token, http)
    assert answer.status_code == 200, answer.text

    status = http.get(created["statusUrl"]).json()
    assert status["status"] == "answered" and status["verdict"] == "valid"
    assert status["presented"][0]["credentialSubject"]["employee"]["name"] == "홍길동"
    checks = {c["id"]: c["outcome"] for c in status["report"]["checks"]}
    assert checks["replay"] == "pass" and checks["holder-binding"] == "pass" and checks["request.match"] == "pass"
    # the audit row: verdict and the SHA-256 of what was posted, never a name
    rows = verifier.extensions["verifier"].audit_rows(created["id"])
    posted = json.dumps(token, ensure_ascii=False).encode("utf-8")
    assert rows == [{"requestId": created["id"], "kind": "oid4vp", "verdict": "valid", "sha256": hashlib.sha256(posted).hexdigest(), "at": rows[0]["at"]}]
    assert "홍길동" not in json.dumps(rows, ensure_ascii=False)
    # the status URL is the page's secret: without its token, nothing
    assert http.get(f"/requests/{created['id']}/status?token=wrong").status_code == 404
    assert http.get(f"/requests/{created['id']}/status").status_code == 404


def test_replayed_presentation_is_refused(city: City, dept: Department, http: httpx.Client) -> None:
    worker = Ed25519KeyPair.generate()
    issued = city.issue_career(dept, worker)
    first = oid4vp.fetch_request(_new_request(http)["authorizationRequest"], http)
    token = oid4vp.build_vp_token(first, oid4vp.select_credentials(first, [issued.vc]), worker, receipts={issued.id: issued.receipt})
    assert oid4vp.post_response(first, token, http).status_code == 200
    again = oid4vp.post_response(first, token, http)  # the same answer to the same request
    assert again.status_code == 409 and "재전송" in again.json()["detail"]
    # the captured answer posted to a new request: its nonce is not this request's challenge
    second = oid4vp.fetch_request(_new_request(http)["authorizationRequest"], http)
    replayed = oid4vp.post_response(second, token, http, state=second.state)
    assert replayed.status_code == 400
    body = replayed.json()
    replay = next(c for c in body["report"]["checks"] if c["id"] == "replay")
    assert replay["outcome"] == "fail" and "replayed" in replay["reason"]["en"]


def test_wrong_audience(city: City, dept: Department, http: httpx.Client) -> None:
    worker = Ed25519KeyPair.generate()
    issued = city.issue_career(dept, worker)
    request = oid4vp.fetch_request(_new_request(http)["authorizationRequest"], http)
    token = oid4vp.build_vp_token(request, oid4vp.select_credentials(request, [issued.vc]), worker,
                                  receipts={issued.id: issued.receipt}, domain="redirect_uri:https://evil.example/cb")
    resp = oid4vp.post_response(request, token, http)
    assert resp.status_code == 400
    assert resp.json()["report"]["verdict"] == "invalid"


def test_expired_request_and_purge(city: City, dept: Department, http: httpx.Client, clock: Clock, verifier: Flask) -> None:
    worker = Ed25519KeyPair.generate()
    issued = city.issue_career(dept, worker)
    answered = _new_request(http)
    req = oid4vp.fetch_request(answered["authorizationRequest"], http)
    token = oid4vp.build_vp_token(req, oid4vp.select_credentials(req, [issued.vc]), worker, receipts={issued.id: issued.receipt})
    assert oid4vp.post_response(req, token, http).status_code == 200
    late = _new_request(http)
    late_req = oid4vp.fetch_request(late["authorizationRequest"], http)
    clock.now += timedelta(minutes=10, seconds=1)  # the default lifetime is 10 minutes
    late_token = oid4vp.build_vp_token(late_req, oid4vp.select_credentials(late_req, [issued.vc]), worker)
    resp = oid4vp.post_response(late_req, late_token, http)
    assert resp.status_code == 410 and "유효시간" in resp.json()["detail"]
    assert http.get(f"/requests/{late['id']}/object").status_code == 404
    # after expiry the presented data is gone; the verdict and hash stay
    status = http.get(answered["statusUrl"]).json()
    assert status == {"id": answered["id"], "expiresAt": status["expiresAt"], "status": "expired", "verdict": "valid"}
    from sqlalchemy import select

    from verifier.models import PresentationRequest

    svc = verifier.extensions["verifier"]
    with svc._factory()() as s:
        rows = s.execute(select(PresentationRequest)).scalars().all()
    assert all(r.presentation is None and r.report is None for r in rows)
    assert [r.verdict for r in rows if r.id == answered["id"]] == ["valid"]


def test_request_object_as_unsecured_jwt(http: httpx.Client) -> None:
    created = _new_request(http)
    resp = http.get(created["requestUri"], headers={"Accept": oid4vp.REQUEST_OBJECT_JWT})
    assert resp.headers["content-type"].startswith(oid4vp.REQUEST_OBJECT_JWT)
    payload = oid4vp.decode_request_jwt(resp.text)
    assert oid4vp.RequestObject.parse(payload).state == created["id"]


def test_holder_refuses_mismatched_client_id() -> None:
    with pytest.raises(InvalidInput, match="redirect_uri"):
        oid4vp.RequestObject.parse({
            "client_id": "redirect_uri:https://a.example/cb", "response_uri": "https://b.example/cb", "nonce": "n",
            "state": "s", "response_type": "vp_token", "response_mode": "direct_post", "dcql_query": oid4vp.career_query(),
        })  # fmt: skip
    with pytest.raises(InvalidInput, match="openid4vp"):
        oid4vp.parse_request_url("https://example.com/?client_id=x")


def test_unusable_responses(http: httpx.Client) -> None:
    created = _new_request(http)
    assert http.post("/requests/response", data={"state": created["id"]}).status_code == 400
    assert http.post("/requests/response", data={"vp_token": "[1,2", "state": created["id"]}).status_code == 400
    assert http.post("/requests/response", data={"vp_token": '{"nope": []}', "state": created["id"]}).status_code == 400
    assert http.post("/requests/response", data={"vp_token": '{"career": []}', "state": "unknown"}).status_code == 404
    # junk does not burn the nonce
    assert http.get(created["statusUrl"]).json()["status"] == "pending"
