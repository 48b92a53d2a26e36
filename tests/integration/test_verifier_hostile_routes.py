"""Security regressions found by attacking the landed verifier: every way in (VC-API, the paste and upload
pages, a scanned QR link, the CLI) refuses the same hostile input with the same 4xx, through the one parse step."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

import schemas
from agents import dataintegrity
from agents.keys import Ed25519KeyPair
from tests.conftest import ROOT
from tests.helpers_city import serve
from verifier.app import create_app
from web.config import RoleConfig

ISSUER = Ed25519KeyPair.from_seed(b"\x12" * 32)
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def _career(suite: str = dataintegrity.RDFC, **extra: Any) -> dict[str, Any]:
    vc = copy.deepcopy(schemas.example("career-record"))
    vc["issuer"] = ISSUER.public.did_key
    vc.pop("credentialStatus")
    vc["validFrom"] = "2026-01-05T09:00:00+09:00"
    vc.update(extra)
    return dataintegrity.sign(vc, ISSUER, cryptosuite=suite)


def _alumni(**extra: Any) -> dict[str, Any]:
    """A non-workcred credential (the W3C examples context), signed with eddsa-rdfc-2022."""
    vc = {
        "@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES_V2],
        "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": ISSUER.public.did_key,
        "validFrom": "2023-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    }
    return dataintegrity.sign(vc, ISSUER, cryptosuite=dataintegrity.RDFC) | extra


def _duplicate_name() -> bytes:
    """`{"name":"김철수","name":"홍길동"}`: a first-wins reader would show another name under a valid verdict."""
    vc = _career(dataintegrity.JCS)
    text = orjson.dumps(vc).decode()
    worker = vc["credentialSubject"]["employee"]["name"]
    return text.replace(f'"name":"{worker}"', f'"name":"김철수","name":"{worker}"', 1).encode()


def _proof_id(value: Any) -> bytes:
    """A proof chain whose proof `id` is a list or an object (was a TypeError: 500, CLI exit 70)."""
    vc = _career()
    first = dict(vc["proof"], id=value)
    second = dict(vc["proof"], id="urn:proof:2", previousProof="urn:proof:1")
    return orjson.dumps(vc | {"proof": [first, second]})


HOSTILE = {
    "duplicate-member-names": (_duplicate_name, 400, "invalid-credential", "name"),
    "proof-id-list-in-a-chain": (lambda: _proof_id(["urn:proof:1"]), 400, "invalid-credential", "proof id"),
    "proof-id-object-in-a-chain": (lambda: _proof_id({"id": "urn:proof:1"}), 400, "invalid-credential", "proof id"),
    "relative-iri-left-out-of-rdf": (
        lambda: orjson.dumps(_alumni(termsOfUse="2099-01-01T00:00:00Z")), 400, "invalid-credential", "termsOfUse",
    ),
    "included-left-out-of-rdf": (
        lambda: orjson.dumps(_alumni(**{"@included": [{"id": "urn:x"}]})), 400, "dropped-property", "@included",
    ),
}  # fmt: skip


class _Published(BaseHTTPRequestHandler):
    """A holder's publication host: serves whatever `body` the test put there (the QR link route)."""

    body: bytes = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def published() -> Iterator[tuple[type[_Published], str]]:
    handler = type("H", (_Published,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def app_and_url(tmp_path_factory: pytest.TempPathFactory, published: tuple[type[_Published], str]) -> Iterator[tuple[Any, str]]:
    tmp = tmp_path_factory.mktemp("verifier")
    config = RoleConfig("verifier", base_url="http://127.0.0.1", database_url=f"sqlite:///{tmp / 'v.sqlite3'}",
                        secret_key="t", dev=True, extra={"profile": "core", "background": "0", "trusted_hosts": published[1]})  # fmt: skip
    app = create_app(config)
    server, _ = serve(app)
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    app.extensions["verifier"].close()


def _vc_api(url: str, raw: bytes) -> httpx.Response:
    body = b'{"verifiableCredential":' + raw + b"}"
    return httpx.post(f"{url}/credentials/verify?lang=en", content=body, headers={"Content-Type": "application/json"}, timeout=30)


def _page(url: str, route: str, raw: bytes) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as http:
        token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/").text)
        assert token is not None
        if route == "paste":
            return http.post("/paste?lang=en", data={"document": raw.decode(), "csrf_token": token.group(1)})
        if route.startswith("http://"):  # a scanned QR code linking to a published presentation
            return http.post("/scan?lang=en", data={"qr": route, "csrf_token": token.group(1)})
        files = {"file": ("credential.json", raw, "application/json")}
        return http.post("/upload?lang=en", data={"csrf_token": token.group(1)}, files=files)


def _cli(tmp_path: Path, raw: bytes) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "doc.json"
    path.write_bytes(raw)
    return subprocess.run(
        [sys.executable, "-m", "workcred", "verify", str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, env={"PATH": "/usr/bin:/bin", "WORKCRED_LANG": "en"},
    )  # fmt: skip


@pytest.mark.parametrize("case", list(HOSTILE))
def test_every_route_refuses_the_same_hostile_input_alike(
    case: str, app_and_url: tuple[Any, str], published: tuple[type[_Published], str], tmp_path: Path
) -> None:
    make, status, code, word = HOSTILE[case]
    raw = make()
    _, url = app_and_url
    handler, host = published
    handler.body = raw  # what a QR code's link would serve
    api = _vc_api(url, raw)
    assert api.status_code == status, api.text
    assert api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["type"].endswith(code) and word in api.json()["detail"]
    for route in ("paste", "upload", f"http://{host}/p/abc123"):
        page = _page(url, route, raw)
        assert page.status_code == status, (route, page.text[:500])
        assert word in page.text  # the page says what is wrong (the same message as the API)
    cli = _cli(tmp_path, raw)
    assert cli.returncode == 2, cli.stderr  # unusable input, never "internal error" (70)
    assert word in cli.stderr


def test_an_honest_credential_still_verifies_on_every_route(app_and_url: tuple[Any, str], tmp_path: Path) -> None:
    _, url = app_and_url
    for raw in (orjson.dumps(_career()), orjson.dumps(_career(dataintegrity.JCS)), orjson.dumps(_alumni())):
        assert _vc_api(url, raw).json()["verdict"] == "valid"
        assert _cli(tmp_path, raw).returncode == 0
