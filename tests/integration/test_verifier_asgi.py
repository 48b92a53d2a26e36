"""The production entry point (`verifier.asgi`): the VC-API verification routes are answered without
Flask, byte for byte as Flask answers them; everything else, and every unusable input, goes to Flask.
And the real thing: gunicorn with two uvicorn workers, whose graceful shutdown writes every queued
audit row."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

import schemas
from agents import dataintegrity, verify
from agents.keys import Ed25519KeyPair
from verifier.asgi import VerifierASGI, create_asgi_app
from web.config import RoleConfig

ROOT = Path(__file__).resolve().parents[2]
ISSUER = Ed25519KeyPair.from_seed(b"\x21" * 32)
WORKER = Ed25519KeyPair.from_seed(b"\x22" * 32)


def _career(suite: str = dataintegrity.JCS) -> dict[str, Any]:
    vc = copy.deepcopy(schemas.example("career-record"))
    vc["issuer"] = ISSUER.public.did_key
    vc["credentialSubject"]["id"] = WORKER.public.did_key
    vc.pop("credentialStatus")
    vc["validFrom"] = "2026-01-05T09:00:00+09:00"
    return dataintegrity.sign(vc, ISSUER, cryptosuite=suite)


def _config(tmp: Path) -> RoleConfig:
    return RoleConfig("verifier", base_url="http://verifier.test", database_url=f"sqlite:///{tmp / 'v.sqlite3'}",
                      secret_key="t", dev=True, extra={"profile": "core", "background": "0"})  # fmt: skip


@pytest.fixture
def asgi(tmp_path: Path) -> Iterator[tuple[VerifierASGI, list[str]]]:
    """The ASGI app, and the paths its Flask app was asked for (empty while the fast path answers)."""
    app = create_asgi_app(_config(tmp_path))
    seen: list[str] = []
    inner = app.flask.wsgi_app

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        seen.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    app.flask.wsgi_app = counting  # type: ignore[method-assign]
    yield app, seen
    app.close()


def _in_own_loop(work: Callable[[httpx.AsyncClient], Awaitable[Any]], app: VerifierASGI) -> Any:
    """Run `work(client)` on a fresh event loop in its own thread, as a server's worker would (the test
    thread may already run a loop: Playwright's sync API keeps one for the browser tests)."""

    async def session() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://verifier.test") as client:
            return await work(client)

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, session()).result()


def _post(app: VerifierASGI, path: str, body: bytes) -> httpx.Response:
    return _in_own_loop(lambda c: c.post(path, content=body, headers={"Content-Type": "application/json"}), app)  # type: ignore[no-any-return]


def _timeless(value: Any) -> Any:
    """The answer without the moments of checking (two requests never share them)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in ("checkedAt", "at")}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def _comparable(resp: Any) -> tuple[int, Any, str]:
    body = json.loads(resp.content if hasattr(resp, "content") else resp.data)
    return resp.status_code, _timeless(body), resp.headers["content-type"]


def _bodies() -> dict[str, tuple[str, bytes]]:
    jcs, rdfc = _career(), _career(dataintegrity.RDFC)
    tampered = copy.deepcopy(jcs)
    tampered["credentialSubject"]["duties"] = "다른 업무"
    vp = verify.create_presentation([jcs], WORKER, challenge="c-1", domain="https://verifier.test", cryptosuite=dataintegrity.JCS)
    return {
        "jcs": ("/credentials/verify", json.dumps({"verifiableCredential": jcs}).encode()),
        "rdfc": ("/credentials/verify", json.dumps({"verifiableCredential": rdfc, "options": {}}, ensure_ascii=False).encode()),
        "tampered": ("/credentials/verify", json.dumps({"verifiableCredential": tampered}).encode()),
        "presentation": ("/presentations/verify", json.dumps({"verifiablePresentation": vp, "options": {"challenge": "c-1", "domain": "https://verifier.test"}}).encode()),
        "wrong challenge": ("/presentations/verify", json.dumps({"verifiablePresentation": vp, "options": {"challenge": "other"}}).encode()),
    }


def test_fast_path_answers_as_flask_does_without_flask(asgi: tuple[VerifierASGI, list[str]]) -> None:
    app, seen = asgi
    flask_client = app.flask.test_client()
    for name, (path, body) in _bodies().items():
        fast = _post(app, path, body)
        assert seen == [], name  # the fast path answered: Flask was not asked
        slow = flask_client.post(path, data=body, content_type="application/json")
        seen.clear()
        assert _comparable(fast) == _comparable(slow), name
        same = {k.lower(): v for k, v in slow.headers.items() if k.lower() not in ("date", "server")}
        assert {k: v for k, v in fast.headers.items() if k not in ("date", "server")} == same, name
        assert fast.status_code == (200 if name in ("jcs", "rdfc", "presentation") else 400), (name, fast.text)
    # every answer left an audit row: the verdict and the body's SHA-256
    rows = app.service.audit_rows()
    assert len(rows) == 2 * len(_bodies())
    assert {r["verdict"] for r in rows} == {"valid", "tampered", "invalid"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid-credential"),
        (b'{"verifiableCredential": 5}', 400, "invalid-credential"),
        (b'{"somethingElse": {}}', 400, "invalid-input"),
        (b'{"verifiableCredential": {"@context": ["https://example.com/unknown"]}}', 400, "unknown-context"),
    ],
)
def test_unusable_input_is_answered_once_with_flasks_problem_details(asgi: tuple[VerifierASGI, list[str]], body: bytes, status: int, code: str) -> None:
    """Regression: unusable input was handed to Flask, which ran the verification again (a bug twice too)."""
    app, seen = asgi
    resp = _post(app, "/credentials/verify", body)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["type"].endswith(code), resp.json()
    assert seen == []  # answered by the fast path itself, not run again in Flask
    flask = app.flask.test_client().post("/credentials/verify", data=body, content_type="application/json")
    assert resp.json() == flask.json and resp.status_code == flask.status_code  # the same problem, byte for byte in JSON
    assert app.service.audit_rows() == []  # unusable input is not a verification


def test_language_choice_and_everything_else_is_flask(asgi: tuple[VerifierASGI, list[str]]) -> None:
    app, seen = asgi
    resp = _post(app, "/credentials/verify?lang=en", b"[1]")
    assert resp.status_code == 400 and "JSON object" in resp.json()["detail"]  # English, as asked
    assert resp.cookies.get("lang") == "en"  # remembered, as on every page

    async def others(client: httpx.AsyncClient) -> None:
        assert (await client.get("/healthz")).json()["role"] == "verifier"
        assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")
        assert (await client.put("/credentials/verify", json={})).status_code == 405

    _in_own_loop(others, app)
    assert seen == ["/credentials/verify", "/healthz", "/openapi.json", "/credentials/verify"]


def test_a_body_over_the_cap_is_refused_by_flask(asgi: tuple[VerifierASGI, list[str]]) -> None:
    app, seen = asgi
    big = b'{"verifiableCredential": {"x": "' + b"a" * (3 * 1024 * 1024) + b'"}}'
    resp = _post(app, "/credentials/verify", big)
    assert resp.status_code == 413
    assert seen == ["/credentials/verify"]


# --- the production command ------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_with_uvicorn_workers_serves_and_shuts_down_cleanly(tmp_path: Path) -> None:
    """The command the README gives for production: two workers migrate a fresh database together, each
    is pinned to its own core; pages and API answer; SIGTERM writes every queued audit row."""
    port = _free_port()
    db_file = tmp_path / "verifier.sqlite3"
    env = dict(os.environ)
    env.update({
        "WORKCRED_DEV": "1", "WORKCRED_VERIFIER_PROFILE": "core", "WORKCRED_VERIFIER_BACKGROUND": "0",
        "WORKCRED_VERIFIER_DATABASE_URL": f"sqlite:///{db_file}", "WORKCRED_VERIFIER_BASE_URL": f"http://127.0.0.1:{port}",
    })  # fmt: skip
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    # a fresh database: both workers start at once and migrate it (one waits for the other)
    proc = subprocess.Popen(
        [gunicorn, "-c", "python:verifier.gunicorn_conf", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "info", "verifier.asgi:create_asgi_app()"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    sent = 0
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        bodies = _bodies()
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(20):
                for path, body in bodies.values():
                    resp = client.post(path, content=body, headers={"Content-Type": "application/json"})
                    assert resp.status_code in (200, 400) and "verdict" in resp.json(), resp.text
                    sent += 1
            page = client.get("/")
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            assert client.post("/credentials/verify", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    log = out.decode(errors="replace")
    assert proc.returncode == 0, log[-3000:]
    if len(os.sched_getaffinity(0)) >= 2:  # one worker per core, each on its own
        pinned = sorted(line.rsplit("CPU ", 1)[1] for line in log.splitlines() if "pinned to CPU" in line)
        assert len(pinned) == 2 and pinned[0] != pinned[1], log[-3000:]
    with closing(sqlite3.connect(db_file)) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM verification_audit").fetchone()
    assert rows == sent  # nothing queued was lost in the shutdown


def test_city_profile_verifies_in_a_thread_with_the_registry(tmp_path: Path) -> None:
    """The city profile fetches (trust list, status list, checkpoints): the fast path runs it off the event
    loop, and answers as Flask does."""
    from tests.helpers_city import start_city

    with start_city(tmp_path) as city:
        dept = city.department("seoul-jobs", "일자리정책과", "Job Policy Division")
        issued = city.issue_career(dept, WORKER)
        app = create_asgi_app(city.verifier_config(f"sqlite:///{tmp_path / 'v.sqlite3'}"))
        try:
            assert app._pool is not None  # not inline: the loop never waits on the network
            body = json.dumps({"verifiableCredential": issued.vc, "options": {"receipts": {issued.id: issued.receipt}}}).encode()
            fast = _post(app, "/credentials/verify", body)
            assert fast.status_code == 200, fast.text
            report = fast.json()
            assert report["verdict"] == "valid"
            assert {"issuer.trusted", "registry.inclusion"} <= {c["id"] for c in report["checks"] if c["outcome"] == "pass"}
            slow = app.flask.test_client().post("/credentials/verify", data=body, content_type="application/json")
            assert _comparable(fast) == _comparable(slow)
        finally:
            app.close()
