"""The ACA-Py bridge without ACA-Py: the benchmark's credential, its raw HTTP client against a real local
server, its measuring functions, and the ACA-Py client's failure paths."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agents import acapy
from agents import dataintegrity as di
from agents.acapy.sidecar import free_loopback_port
from agents.did import Resolver
from agents.keys import Ed25519KeyPair
from agents.verify import check_credential

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import bench_acapy_baseline as bench  # noqa: E402

# --- a real HTTP/1.1 server ----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Echoes the JSON body back with its request number; a few paths misbehave on purpose.

    /close    answers `Connection: close` (and closes)
    /drop     closes the connection after answering, without saying so
    /chunked  answers with Transfer-Encoding: chunked
    /status/N answers status N
    """

    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.accepted += 1
            self.connection_number = self.server.accepted

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.requests.append((self.connection_number, self.path, self.headers.get("Content-Type"), body))
            number = len(self.server.requests)
        answer = json.dumps({"n": number, "echo": json.loads(body)}).encode()
        status = int(self.path.rsplit("/", 1)[1]) if self.path.startswith("/status/") else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if self.path == "/chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(answer), answer))
            return
        self.send_header("Content-Length", str(len(answer)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(answer)
        if self.path == "/drop":
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.accepted = 0  # connections accepted
        self.requests: list[tuple[int, str, str | None, bytes]] = []  # (connection number, path, Content-Type, body)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def connections(self) -> int:
        """Connections that carried requests."""
        return len({conn for conn, *_ in self.requests})


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def _client(srv: _Server) -> bench.RawHTTPClient:
    return bench.RawHTTPClient("127.0.0.1", srv.server_address[1], timeout=5)


def _request(srv: _Server, path: str, payload: dict[str, Any]) -> bytes:
    return bench.Endpoint.parse(srv.url + path).post(bench.encode_json(payload))


# --- the raw client ------------------------------------------------------------------------------


def test_endpoint_encodes_a_complete_post() -> None:
    raw = bench.Endpoint.parse("http://127.0.0.1:8123/vc/di/verify").post(b'{"a":1}')
    assert raw == (
        b"POST /vc/di/verify HTTP/1.1\r\nHost: 127.0.0.1:8123\r\nContent-Type: application/json\r\n"
        b'Content-Length: 7\r\n\r\n{"a":1}'
    )
    with pytest.raises(ValueError, match="http://"):
        bench.Endpoint.parse("https://127.0.0.1/x")


def test_keep_alive_reuses_one_connection(server: _Server) -> None:
    with _client(server) as client:
        for i in range(5):
            status, body = client.exchange(_request(server, "/echo", {"i": i, "name": "홍길동"}))
            assert status == 200
            assert json.loads(body) == {"n": i + 1, "echo": {"i": i, "name": "홍길동"}}
        assert client.connections == 1
    assert server.connections() == 1
    assert {ctype for *_, ctype, _ in server.requests} == {"application/json"}


def test_connection_close_answer_makes_it_reconnect(server: _Server) -> None:
    with _client(server) as client:
        for _ in range(3):
            assert client.exchange(_request(server, "/close", {}))[0] == 200
        assert client.exchange(_request(server, "/echo", {}))[0] == 200
        assert client.connections == 4  # three closed by the server, then a fresh one
    assert server.connections() == 4


def test_a_connection_closed_without_notice_is_reopened(server: _Server) -> None:
    with _client(server) as client:
        for _ in range(3):
            status, body = client.exchange(_request(server, "/drop", {"x": 1}))
            assert status == 200 and json.loads(body)["echo"] == {"x": 1}
        assert client.connections == 3
    assert len(server.requests) == 3  # each request sent once, none lost and none twice


def test_a_chunked_answer_is_refused(server: _Server) -> None:
    with _client(server) as client, pytest.raises(bench.HTTPProtocolError, match="chunked"):
        client.exchange(_request(server, "/chunked", {}))
    with pytest.raises(bench.HTTPProtocolError, match="chunked"):
        bench.measure(server.url + "/chunked", [{}], concurrency=2, n=10, warmup=0)


def test_measure_over_http_passes_status_and_body_to_the_check(server: _Server) -> None:
    seen: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def ok(status: int, body: bytes) -> bool:
        answer = json.loads(body)
        with lock:
            seen.append((status, answer["echo"]))
        return answer["echo"]["i"] % 2 == 0

    payloads = [{"i": i} for i in range(4)]
    stats = bench.measure(server.url + "/echo", payloads, concurrency=2, n=20, warmup=3, ok=ok, label="echo")
    assert len(server.requests) == 23 and len(seen) == 23  # 3 warm-up + 20 timed, every answer checked
    assert {s for s, _ in seen} == {200}
    assert sorted(e["i"] for _, e in seen[3:]) == sorted(i % 4 for i in range(20))
    assert stats.failures == 10 and stats.n == 20 and stats.concurrency == 2
    # one connection for the warm-up, one per client thread: keep-alive throughout
    assert server.connections() == 3


def test_measure_counts_a_refusing_status_as_a_failure(server: _Server) -> None:
    stats = bench.measure(server.url + "/status/400", [{"a": 1}], concurrency=1, n=5, warmup=0)
    assert stats.failures == 5
    ld = bench.measure(server.url + "/status/200", [{"verified": True}], concurrency=1, n=3, warmup=0, ok=bench._ld_verified)
    assert ld.failures == 3  # 200, but the body has no top-level `verified: true`


def test_measure_counts_an_unreachable_server_as_failures() -> None:
    url = f"http://127.0.0.1:{free_loopback_port()}/x"
    stats = bench.measure(url, [{}], concurrency=2, n=6, warmup=1)
    assert stats.failures == 6


def test_ld_verified_reads_the_body() -> None:
    assert bench._ld_verified(200, b'{"verified": true, "document": {}}')
    assert not bench._ld_verified(200, b'{"verified": false}')
    assert not bench._ld_verified(400, b'{"verified": true}')
    assert not bench._ld_verified(200, b"<html>")
    assert bench.status_200(200, b"") and not bench.status_200(400, b"")


# --- measuring with a callable -------------------------------------------------------------------


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


# --- the credential ------------------------------------------------------------------------------


def test_career_credential_is_the_single_proof_career_record_in_each_suite() -> None:
    key = Ed25519KeyPair.generate()
    jcs = bench.career_credential(key, di.JCS)
    rdfc = bench.career_credential(key, di.RDFC)
    ld = bench.career_credential(key, di.ED25519_2020)
    for doc, suite in ((jcs, di.JCS), (rdfc, di.RDFC)):
        assert isinstance(doc["proof"], dict)  # one proof
        assert doc["proof"]["cryptosuite"] == suite
        assert doc["issuer"] == key.public.did_key == doc["credentialSubject"]["employer"]["id"]
        assert doc["id"].startswith("urn:uuid:") and doc["validFrom"] == bench.CAREER_VALID_FROM
        assert "CareerRecordCredential" in doc["type"]
        # 3 top-level values, 5 in credentialStatus, 16 in credentialSubject
        assert bench.field_count(doc) == bench.career_fields() == 25
    assert jcs["id"] != rdfc["id"]
    assert bench.career_credential(key, di.JCS, credential_id="urn:uuid:x")["id"] == "urn:uuid:x"
    assert isinstance(ld["proof"], dict) and ld["proof"]["type"] == di.ED25519_2020
    assert ld["@context"][0] == di.VC_V1 and ld["@context"][-1] == di.ED25519_2020_CONTEXT
    assert ld["issuanceDate"] == bench.CAREER_VALID_FROM and "validFrom" not in ld and "credentialStatus" not in ld
    assert ld["credentialSubject"] == jcs["credentialSubject"]


@pytest.mark.parametrize("suite", [di.JCS, di.RDFC])
def test_our_verifier_core_verifies_the_career_credential(suite: str) -> None:
    report = check_credential(bench.career_credential(Ed25519KeyPair.generate(), suite), resolve=Resolver())
    assert report.verified, report.to_json()


def test_contract_credential_is_still_the_contract_in_each_suite() -> None:
    key = Ed25519KeyPair.generate()
    jcs = bench.contract_credential(key, di.JCS)
    assert jcs["issuer"] == key.public.did_key and jcs["proof"]["cryptosuite"] == di.JCS
    ld = bench.contract_credential(key, di.ED25519_2020)
    assert ld["@context"][0] == di.VC_V1 and ld["@context"][-1] == di.ED25519_2020_CONTEXT
    assert "issuanceDate" in ld and "validFrom" not in ld and "credentialStatus" not in ld
    assert ld["credentialSubject"] == jcs["credentialSubject"]


# --- the ACA-Py client's failure paths -----------------------------------------------------------


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
