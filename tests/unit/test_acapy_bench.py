"""The ACA-Py bridge without ACA-Py: the benchmark's measuring functions and the client's failure paths."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from agents import acapy
from agents import dataintegrity as di
from agents.acapy.sidecar import free_loopback_port
from agents.keys import Ed25519KeyPair

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import bench_acapy_baseline as bench  # noqa: E402


def test_percentile_is_nearest_rank() -> None:
    values = [float(i) for i in range(1, 101)]
    assert bench.percentile(values, 50) == 50.0
    assert bench.percentile(values, 99) == 99.0
    assert bench.percentile(values, 100) == 100.0
    assert bench.percentile([7.0], 99) == 7.0


def test_measure_counts_every_request_once_and_the_failures() -> None:
    seen: list[int] = []
    lock = threading.Lock()

    def verify(payload: dict[str, Any]) -> bool:
        with lock:
            seen.append(payload["i"])
        return bool(payload["i"] % 2)

    payloads = [{"i": i} for i in range(4)]
    stats = bench.measure(verify, payloads, concurrency=3, n=40, warmup=4, label="half fail")
    assert len(seen) == 44  # 4 warm-up + 40 timed
    assert stats.n == 40 and stats.concurrency == 3
    assert stats.failures == 20
    assert 0 < stats.p50_ms <= stats.p99_ms
    assert stats.rps > 0
    assert stats.row().startswith("| half fail | 3 | 40 |")


def test_measure_refuses_an_empty_run() -> None:
    with pytest.raises(ValueError, match="positive"):
        bench.measure(lambda p: True, [], concurrency=1, n=1)


def test_contract_credential_is_the_25_field_contract_in_each_suite() -> None:
    key = Ed25519KeyPair.generate()
    jcs = bench.contract_credential(key, di.JCS)
    assert jcs["issuer"] == key.public.did_key and jcs["proof"]["cryptosuite"] == di.JCS
    ld = bench.contract_credential(key, di.ED25519_2020)
    assert ld["@context"][0] == di.VC_V1 and ld["@context"][-1] == di.ED25519_2020_CONTEXT
    assert "issuanceDate" in ld and "validFrom" not in ld and "credentialStatus" not in ld
    assert ld["credentialSubject"] == jcs["credentialSubject"]


def test_client_reports_an_unreachable_agent_as_acapy_error() -> None:
    port = free_loopback_port()
    with acapy.AcapyClient(f"http://127.0.0.1:{port}", timeout=2) as client:
        assert not client.is_ready()
        with pytest.raises(acapy.AcapyError, match="unreachable") as info:
            client.create_did_key()
        assert "연결할 수 없습니다" in info.value.diagnostics("ko")
        with pytest.raises(acapy.AcapyError, match="not ready after 1s"):
            client.wait_ready(1.0)


def test_start_without_the_virtualenv_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WORKCRED_ACAPY_VENV", str(tmp_path / "missing"))
    assert "make acapy" in (acapy.unavailable_reason() or "")
    with pytest.raises(acapy.AcapyError, match="is missing"):
        acapy.start()
