"""Hostile input on every registry route: each is a clear 4xx problem document, never a 500."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from agents.keys import Ed25519KeyPair
from agents.multibase import b64url
from registry.app import create_app
from web.config import MAX_BODY_BYTES, RoleConfig

TOKEN = "hostile-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {**AUTH, "Content-Type": "application/json"}
KEY = Ed25519KeyPair.from_seed(b"\x81" * 32)
GOOD_HASH = b64url(hashlib.sha256(b"x").digest())
HUGE = "9" * 40


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    cfg = RoleConfig(
        "registry",
        database_url=f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'r.sqlite3'}",
        secret_key="t",
        dev=False,
        base_url="http://registry.test",
        extra={"key": KEY.secret_multibase, "api_tokens": TOKEN, "background": "0", "checkpoint_every": "1"},
    )
    application = create_app(cfg)
    client = application.test_client()
    assert client.post("/log/entries", json={"type": "credential", "digest": GOOD_HASH}, headers=AUTH).status_code == 201
    yield application
    application.extensions["registry"].close()


# (method, path, body bytes or None, headers, expected status)
CASES: list[tuple[str, str, bytes | None, dict[str, str], int]] = [
    # the log: numbers
    ("GET", "/log/entries/" + HUGE, None, {}, 404),
    ("GET", "/log/entries/-1", None, {}, 404),
    ("GET", "/log/entries/abc", None, {}, 404),
    ("GET", "/log/entries/99", None, {}, 404),
    ("GET", f"/log/proof/inclusion?leafHash={GOOD_HASH}&treeSize={HUGE}", None, {}, 400),
    ("GET", f"/log/proof/inclusion?leafHash={GOOD_HASH}&treeSize=-1", None, {}, 400),
    ("GET", f"/log/proof/inclusion?leafHash={GOOD_HASH}&treeSize=9223372036854775808", None, {}, 400),
    ("GET", f"/log/proof/inclusion?leafHash={GOOD_HASH}&treeSize=01", None, {}, 400),
    ("GET", f"/log/proof/inclusion?leafHash={GOOD_HASH}&treeSize=5", None, {}, 400),
    ("GET", f"/log/proof/inclusion?leafHash={GOOD_HASH}", None, {}, 400),
    ("GET", f"/log/proof/inclusion?leafHash={GOOD_HASH}&treeSize=1", None, {}, 404),  # unknown leaf
    ("GET", "/log/proof/inclusion?leafHash=!!!&treeSize=1", None, {}, 400),
    ("GET", "/log/proof/inclusion?leafHash=" + "A" * 42 + "B&treeSize=1", None, {}, 400),  # non-canonical
    ("GET", "/log/proof/inclusion?leafHash=" + "A" * 4000 + "&treeSize=1", None, {}, 400),
    ("GET", "/log/proof/consistency?first=2&second=1", None, {}, 400),
    ("GET", f"/log/proof/consistency?first=0&second={HUGE}", None, {}, 400),
    ("GET", "/log/proof/consistency?first=-3&second=1", None, {}, 400),
    ("GET", "/log/proof/consistency?first=1", None, {}, 400),
    ("GET", "/log/proof/consistency?first=1.5&second=2", None, {}, 400),
    ("GET", "/log/receipts/" + HUGE, None, AUTH, 404),
    ("GET", "/log/receipts/0", None, {}, 401),
    # the log: writers
    ("POST", "/log/entries", b'{"type": "credential", "digest": "' + GOOD_HASH.encode() + b'"}', {}, 401),
    ("POST", "/log/entries", b"{", JSON, 400),
    ("POST", "/log/entries", b"\xff\xfe\x00", JSON, 400),
    ("POST", "/log/entries", b"[]", JSON, 400),
    ("POST", "/log/entries", b'{"type": "credential"}', JSON, 400),
    ("POST", "/log/entries", b'{"type": "nope", "digest": "' + GOOD_HASH.encode() + b'"}', JSON, 400),
    ("POST", "/log/entries", b'{"type": "credential", "digest": "!!"}', JSON, 400),
    ("POST", "/log/entries", b'{"type": "credential", "digest": 12}', JSON, 400),
    ("POST", "/log/entries", b'{"type": 1e999, "digest": 1}', JSON, 400),
    ("POST", "/log/entries", b'{"type": "credential", "digest": "' + GOOD_HASH.encode() + b'", "x": 1}', JSON, 400),
    ("POST", "/log/entries", b"type=credential", {**AUTH, "Content-Type": "application/x-www-form-urlencoded"}, 400),
    ("POST", "/log/entries", b"[" * 100_000 + b"]" * 100_000, JSON, 413),
    ("POST", "/log/entries", b"[" * 5000 + b"]" * 5000, JSON, 413),  # too deep: a resource limit
    ("POST", "/log/checkpoint", None, {}, 401),
    ("POST", "/log/checkpoint/cosignatures", b"x\n", {}, 404),  # no witnesses configured
    ("POST", "/log/checkpoint", None, {"Authorization": "Bearer wrong"}, 401),
    ("POST", "/log/checkpoint", None, {"Authorization": "Basic " + TOKEN}, 401),
    ("DELETE", "/log/entries/0", None, AUTH, 405),
    ("PUT", "/log/checkpoint", None, AUTH, 405),
    # DID hosting
    ("GET", "/issuers/unknown/did.json", None, {}, 404),
    ("GET", "/issuers/Bad_Name/did.json", None, {}, 400),
    ("GET", "/issuers/" + "a" * 64 + "/did.json", None, {}, 400),
    ("GET", "/issuers/unknown/history", None, {}, 404),
    ("GET", "/issuers/%00/history", None, {}, 400),
    ("PUT", "/issuers/dept/did.json", b"{}", {}, 401),
    ("PUT", "/issuers/dept/did.json", b"{", JSON, 400),
    ("PUT", "/issuers/dept/did.json", b"[]", JSON, 400),
    ("PUT", "/issuers/dept/did.json", b'{"id": "did:web:registry.test:issuers:dept"}', JSON, 400),
    ("PUT", "/issuers/Bad/did.json", b"{}", JSON, 400),
    ("PUT", "/issuers/dept/did.json", b"<xml/>", {**AUTH, "Content-Type": "text/xml"}, 400),
    ("PUT", "/issuers/dept/did.json", b"x" * (MAX_BODY_BYTES + 1), JSON, 413),
    # status lists
    ("GET", "/status/unknown/list", None, {}, 404),
    ("GET", "/status/unknown/bad%20id", None, {}, 400),
    ("GET", "/status/Bad/list", None, {}, 400),
    ("GET", "/status/Bad", None, {}, 400),
    ("GET", "/status/unknown/list/history", None, {}, 404),
    ("GET", "/status/unknown/list/history?since=" + HUGE, None, {}, 400),
    ("GET", "/status/unknown/list/history?since=-1", None, {}, 400),
    ("GET", "/status/unknown/list/history?since=%EF%BC%91", None, {}, 400),  # fullwidth digit
    ("PUT", "/status/dept/list", b"{}", {}, 401),
    ("PUT", "/status/dept/list", b"{", JSON, 400),
    ("PUT", "/status/dept/list", b'"a string"', JSON, 400),
    ("PUT", "/status/dept/list", b'{"id": "http://registry.test/status/dept/list", "issuer": "did:web:registry.test:issuers:dept", "type": ["BitstringStatusListCredential"], "credentialSubject": {"type": "BitstringStatusList", "statusPurpose": "revocation", "encodedList": "uH4sI"}}', JSON, 400),
    ("PUT", "/status/dept/bad%20id", b"{}", JSON, 400),
    ("POST", "/status/dept/list/allocate", None, {}, 401),
    ("POST", "/status/dept/list/allocate", None, AUTH, 404),
    ("POST", "/status/Bad/list/allocate", None, AUTH, 400),
    # trust list
    ("GET", "/trust-list", None, {}, 404),
    ("GET", "/trust-list/history", None, {}, 404),
    ("GET", "/trust-list/history?since=x", None, {}, 400),
    ("POST", "/trust-list", b"{}", AUTH, 405),
]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status"), CASES, ids=[f"{c[0]} {c[1][:60]}" for c in CASES])
def test_hostile_input_is_a_clear_4xx(app: Any, method: str, path: str, body: bytes | None, headers: dict[str, str], status: int) -> None:
    resp = app.test_client().open(path, method=method, data=body, headers=headers)
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    if resp.status_code != 405:
        assert resp.mimetype == "application/problem+json"
        problem = resp.get_json()
        assert problem["status"] == status and problem.get("detail") or problem.get("title")
