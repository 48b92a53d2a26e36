"""The VC-API routes over real HTTP: report shapes, problem details for unusable input, and hostile
input (huge bodies, deep nesting, a blank-node clique, broken multibase) answered fast with a 4xx
while the service stays healthy."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import schemas
from agents import dataintegrity, multibase
from agents.keys import Ed25519KeyPair
from tests.helpers_asgi import serve_asgi
from tests.helpers_city import serve
from verifier.app import create_app
from verifier.asgi import create_asgi_app
from web.config import RoleConfig

ISSUER = Ed25519KeyPair.from_seed(b"\x11" * 32)


@pytest.fixture(scope="module", params=["flask", "asgi"])
def base(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every test runs against the Flask app (werkzeug) and the production ASGI app (uvicorn), which
    answers the verification routes itself: both must answer alike."""
    tmp = tmp_path_factory.mktemp("verifier")
    config = RoleConfig("verifier", base_url="http://127.0.0.1", database_url=f"sqlite:///{tmp / 'v.sqlite3'}",
                        secret_key="t", dev=True, extra={"profile": "core", "background": "0"})  # fmt: skip
    if request.param == "asgi":
        app = create_asgi_app(config)
        with serve_asgi(app) as url:
            yield url
        return
    flask_app = create_app(config)
    server, _ = serve(flask_app)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    flask_app.extensions["verifier"].close()


@pytest.fixture
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10, trust_env=False) as c:
        yield c


def _credential(suite: str = dataintegrity.JCS) -> dict[str, Any]:
    vc = copy.deepcopy(schemas.example("labor-contract-part-time"))
    vc["issuer"] = ISSUER.public.did_key
    vc["credentialSubject"]["employer"]["id"] = ISSUER.public.did_key
    vc.pop("credentialStatus")
    return dataintegrity.sign(vc, ISSUER, cryptosuite=suite)


def _healthy(http: httpx.Client) -> None:
    good = http.post("/credentials/verify", json={"verifiableCredential": _credential()})
    assert good.status_code == 400  # a contract needs the worker's proof too: a report, not a crash
    assert good.json()["verdict"] == "tampered"
    assert http.get("/healthz").json()["status"] == "ok"


def test_report_shapes(http: httpx.Client) -> None:
    career = copy.deepcopy(schemas.example("career-record"))
    career["issuer"] = ISSUER.public.did_key
    career.pop("credentialStatus")
    career["validFrom"] = "2026-01-05T09:00:00+09:00"
    for suite in (dataintegrity.JCS, dataintegrity.RDFC):
        vc = dataintegrity.sign(career, ISSUER, cryptosuite=suite)
        resp = http.post("/credentials/verify", json={"verifiableCredential": vc, "options": {}})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["verified"] is True and body["verdict"] == "valid" and body["errors"] == []
        assert any(c["id"] == "profile" and c["outcome"] == "skip" for c in body["checks"])
        vc["credentialSubject"]["duties"] = "다른 업무"
        bad = http.post("/credentials/verify", json={"verifiableCredential": vc})
        assert bad.status_code == 400 and bad.json()["verdict"] == "tampered" and "proof[0]" in bad.json()["errors"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid-credential"),
        (b'{"verifiableCredential": 5}', 400, "invalid-credential"),
        (b'{"credential": {}}', 400, "invalid-input"),
        (b'{"verifiableCredential": {"@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/ctx"], "type": ["VerifiableCredential"], "issuer": "did:example:1", "credentialSubject": {"id": "did:example:2"}, "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "verificationMethod": "did:key:z6Mk#z6Mk", "proofPurpose": "assertionMethod", "proofValue": "z1"}}}', 400, "unknown-context"),
        (b'{"verifiableCredential": {}, "options": []}', 400, "invalid-input"),
    ],
)
def test_unusable_input_is_problem_details(http: httpx.Client, body: bytes, status: int, code: str) -> None:
    resp = http.post("/credentials/verify", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["type"].endswith(code)


def test_dropped_property_is_refused(http: httpx.Client) -> None:
    vc = _credential(dataintegrity.RDFC)
    vc["credentialSubject"]["notInAnyContext"] = "x"  # would be dropped by JSON-LD, so unsigned
    vc["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    resp = http.post("/credentials/verify", json={"verifiableCredential": vc})
    assert resp.status_code == 400 and resp.json()["type"].endswith(("dropped-property", "invalid-credential"))


def test_very_large_body(http: httpx.Client) -> None:
    big = b'{"verifiableCredential": {"x": "' + b"a" * (3 * 1024 * 1024) + b'"}}'
    t = time.monotonic()
    resp = http.post("/credentials/verify", content=big, headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and time.monotonic() - t < 2
    medium = b'{"verifiableCredential": {"x": "' + b"a" * (600 * 1024) + b'"}}'  # under the HTTP cap, over the JSON cap
    assert http.post("/credentials/verify", content=medium, headers={"Content-Type": "application/json"}).status_code == 413
    _healthy(http)


def test_deep_nesting(http: httpx.Client) -> None:
    deep = b'{"verifiableCredential": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}"
    t = time.monotonic()
    resp = http.post("/credentials/verify", content=deep, headers={"Content-Type": "application/json"})
    assert resp.status_code in (400, 413) and time.monotonic() - t < 1
    _healthy(http)


def test_blank_node_clique_refused_fast(http: httpx.Client) -> None:
    n = 60
    nodes = [{"@id": f"_:b{i}", "https://example.org/knows": [{"@id": f"_:b{j}"} for j in range(n) if j != i]} for i in range(n)]
    vc = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER.public.did_key,
        "credentialSubject": {"id": "did:example:worker", "https://example.org/graph": nodes},
        "proof": {
            "type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-01T00:00:00Z",
            "verificationMethod": ISSUER.public.did_key_vm, "proofPurpose": "assertionMethod", "proofValue": multibase.encode(b"\x01" * 64, "z"),
        },
    }  # fmt: skip
    t = time.monotonic()
    resp = http.post("/credentials/verify", json={"verifiableCredential": vc})
    elapsed = time.monotonic() - t
    assert resp.status_code == 413, resp.text
    assert resp.json()["type"].endswith("resource-limit")
    assert elapsed < 0.5, elapsed
    _healthy(http)


@pytest.mark.parametrize("value", ["z0OIl+/==", "u!!!", "", "zz", "z" + "2" * 200])
def test_broken_multibase_proof_value(http: httpx.Client, value: str) -> None:
    vc = _credential()
    vc["proof"]["proofValue"] = value
    resp = http.post("/credentials/verify", json={"verifiableCredential": vc})
    assert resp.status_code == 400
    body = resp.json()
    assert body["verified"] is False and body["verdict"] in ("malformed", "tampered")
    _healthy(http)


def test_openapi_document(http: httpx.Client) -> None:
    doc = http.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert {"/credentials/verify", "/presentations/verify", "/requests", "/requests/response", "/requests/{id}/status"} <= set(doc["paths"])



@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_storage_backends(db: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("sqlite_url" if db == "sqlite" else "pg_url")
    app = create_app(RoleConfig("verifier", base_url="http://v.test", database_url=url, secret_key="t", dev=True, extra={"profile": "core", "background": "0"}))
    try:
        svc = app.extensions["verifier"]
        created = svc.create_request(years=1)
        assert svc.request_object(created.id)["state"] == created.id
        assert svc.purge_expired() == 0
    finally:
        app.extensions["verifier"].close()


@pytest.mark.parametrize(("method", "path"), [("PUT", "/credentials/verify"), ("DELETE", "/presentations/verify"), ("PATCH", "/upload"), ("PUT", "/requests")])
def test_a_method_the_route_does_not_allow_is_405_not_a_csrf_failure(http: httpx.Client, method: str, path: str) -> None:
    r = http.request(method, path, json={})
    assert r.status_code == 405, r.text
    assert "csrf" not in r.text.lower()
    assert "POST" in r.headers.get("Allow", "")


def test_an_unknown_path_is_404_not_a_csrf_failure(http: httpx.Client) -> None:
    assert http.post("/no-such-page", data={"x": "1"}).status_code == 404
