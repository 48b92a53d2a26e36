"""Each verdict from real credentials: signed with agents/, logged in a real registry served over HTTP,
checked by the verifier app through its VC-API routes."""

from __future__ import annotations

import copy
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from agents.keys import Ed25519KeyPair
from agents.verify import create_presentation
from tests.helpers_city import City, Department, Issued, start_city
from verifier.app import create_app


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def dept(city: City) -> Department:
    return city.department("seoul-digital-policy", "서울시 디지털정책과", "Digital Policy Division")


@pytest.fixture
def verifier(city: City, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}"))
    yield app
    app.extensions["verifier"].close()


@pytest.fixture
def make_verifier(city: City, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def make(**options: Any) -> Flask:
        app = create_app(city.verifier_config(f"sqlite:///{tmp_path / f'v{len(made)}.sqlite3'}"), **options)
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["verifier"].close()


def _verify(client: FlaskClient, issued: Issued, vc: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    resp = client.post("/credentials/verify", json={"verifiableCredential": vc or issued.vc, "options": {"receipts": {issued.id: issued.receipt}}})
    assert resp.json is not None
    return resp.status_code, resp.json


def _check(report: dict[str, Any], id_: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == id_)


@pytest.mark.parametrize("form", ["evidence", "chain"])
def test_valid_contract_passes_every_check(city: City, dept: Department, verifier: Flask, form: str) -> None:
    worker = Ed25519KeyPair.generate()
    status, report = _verify(verifier.test_client(), city.issue_contract(dept, worker, form=form))
    assert status == 200, report
    assert report["verdict"] == "valid" and report["verified"] is True
    ids = {c["id"]: c["outcome"] for c in report["checks"]}
    if form == "chain":
        assert ids["proof[1]"] == ids["proof-chain"] == "pass"
    else:
        assert "proof[1]" not in ids and "proof-chain" not in ids  # one proof: the city's
    for needed in ("proof[0]", "issuer-signature", "worker-signature", "validity", "schema",
                   "issuer.trusted", "status[0]", "status[1]", "registry.inclusion", "registry.consistency", "key-history"):
        assert ids[needed] == "pass", needed
    assert ids["registry.chain"] == "skip"
    assert _check(report, "issuer.trusted")["reason"]["ko"].endswith("서울시 디지털정책과")


def test_revoked(city: City, dept: Department, verifier: Flask) -> None:
    issued = city.issue_career(dept, Ed25519KeyPair.generate())
    city.revoke(issued)
    verifier.extensions["verifier"].fetcher.clear_cache()
    status, report = _verify(verifier.test_client(), issued)
    assert status == 400 and report["verdict"] == "revoked"
    assert _check(report, "status[0]")["failsAs"] == "revoked"
    assert report["summary"]["ko"] == "폐기된 증명서입니다"


def test_suspended_then_reinstated(city: City, dept: Department, verifier: Flask) -> None:
    issued = city.issue_career(dept, Ed25519KeyPair.generate())
    city.suspend(issued)
    svc = verifier.extensions["verifier"]
    svc.fetcher.clear_cache()
    status, report = _verify(verifier.test_client(), issued)
    assert status == 400 and report["verdict"] == "suspended"
    city.reinstate(issued)
    svc.fetcher.clear_cache()
    status, report = _verify(verifier.test_client(), issued)
    assert status == 200 and report["verdict"] == "valid"


def test_rotated_key(city: City, make_verifier: Callable[..., Flask]) -> None:
    dept = city.department("seoul-jobs", "서울시 일자리정책과", "Jobs Policy Division")
    worker = Ed25519KeyPair.generate()
    before = city.issue_contract(dept, worker)
    old_key = dept.signer(city)
    city.rotate_key(dept)
    after_new = city.issue_career(dept, worker)
    after_old = city.issue_career(dept, worker, signer=old_key)  # a stolen retired key, used after rotation
    client = make_verifier().test_client()
    status, report = _verify(client, before)
    assert status == 200, report  # signed and logged before the rotation: still valid
    assert _check(report, "key-history")["outcome"] == "pass"
    assert _verify(client, after_new)[0] == 200
    status, report = _verify(client, after_old)
    assert status == 400 and report["verdict"] == "invalid"
    assert _check(report, "key-history")["outcome"] == "fail"
    assert "not in force" in _check(report, "key-history")["reason"]["en"]


def test_altered_field_is_tampered(city: City, dept: Department, verifier: Flask) -> None:
    issued = city.issue_contract(dept, Ed25519KeyPair.generate(), form="chain")
    vc = copy.deepcopy(issued.vc)
    vc["credentialSubject"]["wage"] = {"type": "hourly", "amount": 99999, "currency": "KRW"}
    status, report = _verify(verifier.test_client(), issued, vc)
    assert status == 400 and report["verdict"] == "tampered"
    assert _check(report, "proof[1]")["failsAs"] == "tampered"
    assert _check(report, "registry.inclusion")["outcome"] == "fail"  # the log holds the original


def test_altered_field_of_an_evidence_form_contract(city: City, dept: Department, verifier: Flask) -> None:
    issued = city.issue_contract(dept, Ed25519KeyPair.generate())
    vc = copy.deepcopy(issued.vc)
    vc["credentialSubject"]["duties"] = "다른 업무"
    status, report = _verify(verifier.test_client(), issued, vc)
    assert status == 400 and report["verdict"] == "tampered"
    assert _check(report, "proof[0]")["failsAs"] == "tampered"
    assert _check(report, "worker-signature")["outcome"] == "fail"


def test_broken_chain_order(city: City, dept: Department, verifier: Flask) -> None:
    issued = city.issue_contract(dept, Ed25519KeyPair.generate(), form="chain")
    vc = copy.deepcopy(issued.vc)
    vc["proof"] = [vc["proof"][1]]  # the city's proof without the worker's proof it chains to
    status, report = _verify(verifier.test_client(), issued, vc)
    assert status == 400 and report["verdict"] == "tampered"
    assert _check(report, "proof-chain")["outcome"] == "fail"
    reordered = copy.deepcopy(issued.vc)
    reordered["proof"][0]["previousProof"] = reordered["proof"][1]["id"]  # a cycle: each names the other
    status, report = _verify(verifier.test_client(), issued, reordered)
    assert status == 400 and report["verdict"] == "tampered"


def test_someone_elses_credential(city: City, dept: Department, verifier: Flask) -> None:
    owner, thief = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()
    issued = city.issue_career(dept, owner)
    vp = create_presentation([issued.vc], thief, challenge="c-1", domain="verifier.test")
    vp["workcredReceipts"] = {issued.id: issued.receipt}
    resp = verifier.test_client().post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "c-1", "domain": "verifier.test"}})
    assert resp.status_code == 400 and resp.json is not None
    assert _check(resp.json, "holder-binding")["outcome"] == "fail"
    assert resp.json["credentials"][0]["verdict"] == "valid"  # the credential itself is genuine


def test_presentation_valid_and_wrong_domain(city: City, dept: Department, verifier: Flask) -> None:
    worker = Ed25519KeyPair.generate()
    a, b = city.issue_contract(dept, worker), city.issue_career(dept, worker)
    vp = create_presentation([a.vc, b.vc], worker, challenge="c-2", domain="verifier.test")
    vp["workcredReceipts"] = {a.id: a.receipt, b.id: b.receipt}
    client = verifier.test_client()
    ok = client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "c-2", "domain": "verifier.test"}})
    assert ok.status_code == 200, ok.json
    wrong = client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "c-2", "domain": "other.example"}})
    assert wrong.status_code == 400 and wrong.json is not None
    assert _check(wrong.json, "replay")["outcome"] == "fail"
    stale = client.post("/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "another", "domain": "verifier.test"}})
    assert stale.status_code == 400


def test_untrusted_issuer(city: City, dept: Department, verifier: Flask) -> None:
    # `dept` puts a trust list in place (with none published at all the answer is "could not confirm")
    rogue = city.department("rogue-office", accredited=False)
    status, report = _verify(verifier.test_client(), city.issue_career(rogue, Ed25519KeyPair.generate()))
    assert status == 400 and report["verdict"] == "untrusted-issuer"
    assert report["summary"]["en"] == "Issuer not accredited"


def test_expired_credential(city: City, dept: Department, make_verifier: Callable[..., Flask]) -> None:
    issued = city.issue_career(dept, Ed25519KeyPair.generate(), valid_until=city.now + timedelta(days=1))
    later = datetime.now(UTC) + timedelta(days=3)
    client = make_verifier(clock=lambda: later).test_client()
    status, report = _verify(client, issued)
    assert status == 400 and report["verdict"] == "expired"


def test_missing_receipt_is_amber_not_valid_and_not_forged(city: City, dept: Department, verifier: Flask) -> None:
    """An honest career record pasted without its registry receipt: "could not confirm" (amber), never
    "valid" and never the red "not valid" of a forgery; the reason says what to do."""
    issued = city.issue_career(dept, Ed25519KeyPair.generate())
    resp = verifier.test_client().post("/credentials/verify", json={"verifiableCredential": issued.vc})
    assert resp.status_code == 400 and resp.json is not None
    assert resp.json["verdict"] == "unconfirmed" and resp.json["verified"] is False
    assert resp.json["summary"]["ko"] == "서명은 올바르나 등록 여부를 확인하지 못했습니다"
    inclusion = _check(resp.json, "registry.inclusion")
    assert inclusion["outcome"] == "unconfirmed" and resp.json["warnings"] == ["registry.inclusion"]
    assert "No registry receipt" in inclusion["reason"]["en"] and "PDF" in inclusion["reason"]["ko"]
    assert _check(resp.json, "key-history")["outcome"] == "skip"  # the reason is given once


def test_unreachable_registry_is_amber(city: City, dept: Department, make_verifier: Callable[..., Flask], tmp_path: Path) -> None:
    """The registry unreachable (trust list, key history): could not confirm, not forged, with the receipt given."""
    issued = city.issue_career(dept, Ed25519KeyPair.generate())
    city_host = urllib.parse.urlsplit(city.base_url).netloc  # the issuer's DID document stays reachable
    config = city.verifier_config(f"sqlite:///{tmp_path / 'down.sqlite3'}", registry_url="http://127.0.0.1:9", trusted_hosts=city_host)
    app = create_app(config)
    try:
        status, report = _verify(app.test_client(), issued)
    finally:
        app.extensions["verifier"].close()
    assert status == 400 and report["verdict"] == "unconfirmed", [(c["id"], c["reason"]["en"], c.get("detail")) for c in report["checks"] if c["outcome"] == "fail"]
    trusted = _check(report, "issuer.trusted")
    assert trusted["outcome"] == "unconfirmed" and "Try again later" in trusted["reason"]["en"]
    assert "127.0.0.1:9" in trusted["detail"]["en"]  # the technical part, folded under the plain reason
