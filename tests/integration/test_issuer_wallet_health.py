"""Readiness and metrics of the issuer and the wallet (README "Health and metrics"): each answers ready
only with its database, the registry (and, for the issuer, its key store), the issuer counts what it
issues, and its bulk jobs' queue depth is a gauge read at scrape time."""

from __future__ import annotations

from pathlib import Path

import httpx

from agents.keys import Ed25519KeyPair
from tests.helpers_city import start_city
from tests.helpers_issuer import start_issuer
from tests.helpers_wallet import wallet_server


def _series(text: str, name: str) -> dict[str, float]:
    return {line.rpartition(" ")[0][len(name):]: float(line.rpartition(" ")[2]) for line in text.splitlines() if line.startswith(name + "{")}


def test_issuer_ready_and_counting_issuances(tmp_path: Path, sqlite_url: str) -> None:
    with start_issuer(tmp_path, sqlite_url) as iss:
        ready = iss.http.get(iss.base_url + "/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "registry": "ok", "keystore": "ok"}
        before = _series(iss.http.get(iss.base_url + "/metrics").text, "workcred_issuances_total").get('{kind="labor-contract"}', 0)
        iss.active_contract(Ed25519KeyPair.generate())
        text = iss.http.get(iss.base_url + "/metrics").text
        assert _series(text, "workcred_issuances_total")['{kind="labor-contract"}'] == before + 1
        depth = _series(text, "workcred_job_queue_depth")
        assert depth and set(depth.values()) == {0.0}
        # the registry goes away: the issuer is alive but not ready
        iss.city.server.shutdown()
        iss.city.server.server_close()
        down = iss.http.get(iss.base_url + "/readyz")
        assert down.status_code == 503 and down.json()["checks"]["registry"] != "ok"
        assert iss.http.get(iss.base_url + "/healthz").status_code == 200


def test_wallet_ready(tmp_path: Path) -> None:
    with start_city(tmp_path) as city, wallet_server(tmp_path, city) as wallet:
        ready = httpx.get(wallet.url + "/readyz", timeout=10, trust_env=False)
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "registry": "ok"}
