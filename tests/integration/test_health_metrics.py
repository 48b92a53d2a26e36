"""`/healthz`, `/readyz` and `/metrics` as documented (README "Health and metrics"): liveness, readiness
that fails while PostgreSQL is down and recovers when it returns, and the named series after a
verification, under the production command with several workers too."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import schemas
from agents import dataintegrity
from agents.keys import Ed25519KeyPair
from registry.app import create_app as registry_app
from tests.conftest import require
from tests.helpers_prod import free_port, production_roles
from verifier.app import create_app as verifier_app
from web import metrics
from web.config import RoleConfig
from web.factory import close_app

ISSUER = Ed25519KeyPair.from_seed(b"\x12" * 32)
PG_BIN = Path("/usr/lib/postgresql") / (sorted(os.listdir("/usr/lib/postgresql"))[-1] if os.path.isdir("/usr/lib/postgresql") else "none") / "bin"


def _series(text: str, name: str) -> dict[str, float]:
    """`{labels: value}` of one metric in the text exposition."""
    out = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, _, value = line.rpartition(" ")
            out[key[len(name):]] = float(value)
    return out


def _registry(db_url: str, **extra: str) -> Any:
    settings = {"background": "0", **extra}
    return registry_app(RoleConfig("registry", base_url="http://127.0.0.1", database_url=db_url, secret_key="t", dev=True, extra=settings))


def test_health_ready_and_metrics_of_a_role(db_url: str) -> None:
    app = _registry(db_url)
    try:
        client = app.test_client()
        assert client.get("/healthz").get_json() == {"status": "ok", "role": "registry"}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.get_json()["checks"] == {"database": "ok"}
        client.get("/log/checkpoint")
        client.get("/log/entries/999999")  # a 404: counted by its route, never by its raw path
        text = client.get("/metrics").get_data(as_text=True)
        requests = _series(text, "workcred_http_requests_total")
        assert requests['{method="GET",role="registry",route="/log/checkpoint",status="200"}'] >= 1
        assert requests['{method="GET",role="registry",route="/log/entries/<int:index>",status="404"}'] >= 1
        assert not any("999999" in k for k in requests)
        assert _series(text, "workcred_http_request_duration_seconds_count")
        [age] = _series(text, "workcred_checkpoint_age_seconds").values()
        assert 0 <= age < 600
        assert list(_series(text, "workcred_log_uncovered_entries").values()) == [0.0]
    finally:
        close_app(app)


def test_metrics_token(sqlite_url: str) -> None:
    app = _registry(sqlite_url, metrics_token="scrape-token-1")
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-token-1"}).status_code == 200
    finally:
        close_app(app)


def _credential() -> dict[str, Any]:
    vc = copy.deepcopy(schemas.example("career-record"))
    vc["issuer"] = ISSUER.public.did_key
    vc["credentialSubject"]["employer"]["id"] = ISSUER.public.did_key
    vc.pop("credentialStatus", None)
    return dataintegrity.sign(vc, ISSUER, cryptosuite=dataintegrity.JCS)


def test_verifications_counted_by_verdict(sqlite_url: str) -> None:
    app = verifier_app(RoleConfig("verifier", base_url="http://127.0.0.1", database_url=sqlite_url, secret_key="t", dev=True, extra={"profile": "core", "background": "0"}))
    try:
        client = app.test_client()
        before = _series(client.get("/metrics").get_data(as_text=True), "workcred_verifications_total")
        vc = _credential()
        assert client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 200
        vc["credentialSubject"]["duties"] = "altered after signing"
        assert client.post("/credentials/verify", json={"verifiableCredential": vc}).status_code == 400
        after = _series(client.get("/metrics").get_data(as_text=True), "workcred_verifications_total")
        valid, tampered = '{kind="credential",verdict="valid"}', '{kind="credential",verdict="tampered"}'
        assert after[valid] - before.get(valid, 0) == 1
        assert after[tampered] - before.get(tampered, 0) == 1
    finally:
        close_app(app)


def test_production_workers_report_together(tmp_path: Path) -> None:
    """Under gunicorn with 2 workers a scrape of either worker counts the requests both answered (the
    other worker's within a second)."""
    with production_roles(tmp_path, roles=("registry",)) as roles, httpx.Client(timeout=5, trust_env=False) as http:
        url = roles["registry"].url
        for _ in range(40):
            http.get(url + "/log/checkpoint", headers={"Connection": "close"})  # new connections: both workers answer
        time.sleep(metrics._Tally.FLUSH_SECONDS * 1.5)  # the other worker writes its counts once a second
        text = http.get(url + "/metrics").text
        counted = _series(text, "workcred_http_requests_total")['{method="GET",role="registry",route="/log/checkpoint",status="200"}']
        assert counted == 40
        assert http.get(url + "/readyz").json()["status"] == "ready"


# --- readiness against a PostgreSQL server this test stops and starts --------------------------


@pytest.fixture
def own_postgres() -> Iterator[tuple[str, Any]]:
    """A private PostgreSQL cluster (its own data folder and port), so stopping it touches nothing else.
    Yields its URL and a function `server(running: bool)`."""
    if not (PG_BIN / "initdb").exists():
        require("PG", f"no PostgreSQL server binaries under {PG_BIN}")
    # outside pytest's tmp folder, which only root may enter
    home = Path(tempfile.mkdtemp(prefix="workcred-pg-"))
    data = home / "data"
    data.mkdir()
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres system user
        for path in (home, data):
            shutil.chown(path, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"], check=True, capture_output=True)
    log = home / "pg.log"

    def server(running: bool) -> None:
        action = ["start", "-w", "-o", f"-p {port} -k {home} -c listen_addresses=127.0.0.1", "-l", str(log)] if running else ["stop", "-w", "-m", "fast"]
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), *action], check=True, capture_output=True)

    server(True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", server
    finally:
        subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_readiness_follows_the_database(own_postgres: tuple[str, Any]) -> None:
    url, server = own_postgres
    app = _registry(url)
    try:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        server(False)
        down = client.get("/readyz")
        assert down.status_code == 503
        body = down.get_json()
        assert body["status"] == "not ready" and body["checks"]["database"] != "ok"
        assert "postgres@" not in body["checks"]["database"]  # no connection string in the answer
        assert client.get("/healthz").status_code == 200  # the process itself is alive
        server(True)
        for _ in range(50):
            if client.get("/readyz").status_code == 200:
                break
            time.sleep(0.2)
        assert client.get("/readyz").get_json()["checks"] == {"database": "ok"}
    finally:
        close_app(app)
