"""The verifier checks a credential's place in the registry log without asking the city who is being
checked: the holder refreshes the receipt (freshness), and the registry's request log during a
verification names neither the receipt's checkpoint size nor the credential's leaf."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from flask import Flask

from agents import merkle, oid4vp
from agents.checkpoint import parse_and_verify
from agents.keys import Ed25519KeyPair
from agents.multibase import b64url
from agents.policies import checkpoint_fetcher, consistency_fetcher
from agents.receipts import Receipt, refresh
from tests.helpers_city import City, Department, Issued, start_city
from verifier.app import create_app


class RequestLog:
    """WSGI middleware on the registry: every path and query string it is asked for."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.seen: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            self.seen.append(environ.get("PATH_INFO", "") + "?" + environ.get("QUERY_STRING", ""))
        return self.app(environ, start_response)

    def take(self) -> list[str]:
        with self._lock:
            out, self.seen = self.seen, []
        return out


@pytest.fixture
def city(tmp_path: Path) -> Iterator[City]:
    (tmp_path / "city").mkdir()
    with start_city(tmp_path / "city") as c:
        yield c


@pytest.fixture
def requests(city: City) -> RequestLog:
    recorder = RequestLog(city.app.wsgi_app)
    city.app.wsgi_app = recorder  # type: ignore[method-assign]
    return recorder


def _verifier(city: City, tmp_path: Path, **extra: str) -> Flask:
    return create_app(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}", **extra))


def _holder_refresh(city: City, issued: Issued) -> dict[str, Any]:
    """What the wallet does when presenting: latest checkpoint and the proof to it, from the registry."""
    with httpx.Client(timeout=10, trust_env=False) as http:
        def text(url: str) -> str:
            return http.get(url).raise_for_status().text

        def json_(url: str) -> dict[str, Any]:
            return dict(http.get(url).raise_for_status().json())

        origins = {city.origin: city.base_url}
        fresh = refresh(Receipt.from_json(issued.receipt), checkpoint_fetcher(text, origins),
                        consistency_fetcher(json_, origins), registry_keys={city.origin: city.registry_key.public})  # fmt: skip
    return fresh.to_json()


def _size(note: str, city: City) -> int:
    return parse_and_verify(note, {city.origin: city.registry_key.public}).size


def _leaf(issued: Issued) -> str:
    r = Receipt.from_json(issued.receipt)
    return b64url(merkle.entry_leaf_hash("credential", r.salt_bytes, merkle.document_digest(issued.vc)))


def _assert_private(seen: list[str], issued: Issued, size: int) -> None:
    """No request names the credential: not its checkpoint size, not its leaf, not its entry."""
    assert seen, "the verifier asked the registry nothing at all"
    leaf = _leaf(issued)
    for url in seen:
        path, _, query = url.partition("?")
        assert leaf not in url and not path.startswith(("/log/proof/inclusion", "/log/entries", "/log/receipts")), url
        if path == "/log/checkpoint":
            assert query == "", url  # the latest, no parameter
        if path == "/log/proof/consistency":
            sizes = {int(v[0]) for v in parse_qs(query).values()}
            assert size not in sizes, url


def _consistency(report: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["id"] == "registry.consistency")


def test_refreshed_presentation_verifies_without_naming_the_credential(
    city: City, requests: RequestLog, tmp_path: Path
) -> None:
    dept: Department = city.department("seoul-jobs", "일자리정책과", "Job Policy Division")
    worker = Ed25519KeyPair.generate()
    earlier = city.issue_career(dept, worker)
    verifier = _verifier(city, tmp_path)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=verifier), base_url="http://verifier.test") as http:
            # the verifier has seen the log once (its remembered checkpoint is linked to no credential here)
            body = {"verifiableCredential": earlier.vc, "options": {"receipts": {earlier.id: earlier.receipt}}}
            assert http.post("/credentials/verify", json=body).json()["verdict"] == "valid"
            issued = city.issue_career(dept, worker)
            for _ in range(3):  # the log moves on after the credential's checkpoint
                city.issue_contract(dept, Ed25519KeyPair.generate())
            size = _size(issued.receipt["checkpoint"], city)
            # the holder refreshes and answers an OpenID4VP request
            created = http.post("/requests", json={"years": 3}).json()
            request = oid4vp.fetch_request(created["authorizationRequest"], http)
            selected = oid4vp.select_credentials(request, [issued.vc])
            with httpx.Client(timeout=10, trust_env=False) as reg:
                origins = {city.origin: city.base_url}
                token = oid4vp.build_vp_token(
                    request, selected, worker, receipts={issued.id: issued.receipt},
                    refresh=lambda r: refresh(r, checkpoint_fetcher(lambda u: reg.get(u).text, origins),
                                              consistency_fetcher(lambda u: dict(reg.get(u).json()), origins)),
                )  # fmt: skip
            carried = token["career"][0][oid4vp.RECEIPTS][issued.id]
            assert _size(carried["freshness"]["checkpoint"], city) > size
            requests.take()  # what the holder asked is the holder's business
            assert oid4vp.post_response(request, token, http).status_code == 200
            status = http.get(created["statusUrl"]).json()
            assert status["verdict"] == "valid", status
            check = _consistency(status["report"]["credentials"][0] if status["report"].get("credentials") else status["report"])
            assert check["outcome"] == "pass" and check["details"]["refreshed"] is True
            seen = requests.take()
            _assert_private(seen, issued, size)
            assert "/log/checkpoint?" in seen  # the carried checkpoint was newer: the latest, fetched first
    finally:
        verifier.extensions["verifier"].close()


def test_old_receipt_is_skipped_not_revealed(city: City, requests: RequestLog, tmp_path: Path) -> None:
    dept = city.department("seoul-jobs", "일자리정책과", "Job Policy Division")
    issued = city.issue_career(dept, Ed25519KeyPair.generate())
    city.issue_contract(dept, Ed25519KeyPair.generate())  # the log moves on
    size = _size(issued.receipt["checkpoint"], city)
    body = {"verifiableCredential": issued.vc, "options": {"receipts": {issued.id: issued.receipt}}}
    verifier = _verifier(city, tmp_path)
    try:
        requests.take()
        report = verifier.test_client().post("/credentials/verify", json=body).get_json()
        check = _consistency(report)
        assert check["outcome"] == "skip" and report["verdict"] == "valid"
        assert check["reason"]["en"] == "no fresh receipt: checking consistency would reveal the credential to the registry"
        _assert_private(requests.take(), issued, size)
    finally:
        verifier.extensions["verifier"].close()
    # the explicit setting: checked, and the registry is told the size (the documented price)
    (tmp_path / "verifier.sqlite3").unlink()
    revealing = _verifier(city, tmp_path, reveal_checkpoints="1")
    try:
        requests.take()
        report = revealing.test_client().post("/credentials/verify", json=body).get_json()
        assert _consistency(report)["outcome"] == "pass"
        assert any(u.startswith("/log/proof/consistency") and f"first={size}&" in u for u in requests.take())
    finally:
        revealing.extensions["verifier"].close()


def test_fork_is_still_detected(city: City, tmp_path: Path) -> None:
    """The holder was given another history (same origin and key) than the one the verifier sees."""
    (tmp_path / "fork").mkdir()
    with start_city(tmp_path / "fork") as fork:
        dept = city.department("seoul-jobs", "일자리정책과", "Job Policy Division")
        fdept = fork.department("seoul-jobs", "일자리정책과", "Job Policy Division")
        for _ in range(2):  # the forked history is ahead of the one the verifier is shown
            fork.issue_contract(fdept, Ed25519KeyPair.generate())
        forked = fork.issue_career(fdept, Ed25519KeyPair.generate())
        fresh = _holder_refresh(fork, forked)
        city.issue_career(dept, Ed25519KeyPair.generate())
        verifier = _verifier(city, tmp_path)
        try:
            body = {"verifiableCredential": forked.vc, "options": {"receipts": {forked.id: fresh}}}
            report = verifier.test_client().post("/credentials/verify", json=body).get_json()
            check = _consistency(report)
            assert check["outcome"] == "fail" and "fork" in check["reason"]["en"] and report["verdict"] != "valid"
            # the same size in both histories, different roots: a fork too
            while _size(city.log.latest_note(), city) < _size(fresh["freshness"]["checkpoint"], fork):
                city.issue_contract(dept, Ed25519KeyPair.generate())
            verifier.extensions["verifier"].close()
            (tmp_path / "verifier.sqlite3").unlink()
            verifier = _verifier(city, tmp_path)
            assert _size(city.log.latest_note(), city) == _size(fresh["freshness"]["checkpoint"], fork)
            report = verifier.test_client().post("/credentials/verify", json=body).get_json()
            check = _consistency(report)
            assert check["outcome"] == "fail" and "fork" in check["reason"]["en"]
        finally:
            verifier.extensions["verifier"].close()
