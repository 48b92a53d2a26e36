"""ACA-Py 1.7 baseline: verification throughput over its admin API for a single-proof career record.

Plain script; prints a Markdown section to stdout (`make bench` collects it).
    .venv/bin/python bench/bench_acapy_baseline.py [--requests-jcs 2000] [--requests-ld 200] [--warmup 50]
                                                   [--concurrency 1 4]

The credential is the single-proof 25-field career record (schemas/examples/career-record.json: its
type and 24 leaf values besides `@context`) with a did:key issuer, signed by agents.dataintegrity: eddsa-jcs-2022
(VCDM 2.0) for `/vc/di/verify`, Ed25519Signature2020 on its VCDM 1.1 form for `/vc/credentials/verify`.
The client is a minimal keep-alive HTTP/1.1 client on raw sockets (`RawHTTPClient`), the same one
bench_verifier.py points at our verifier, so both sides pay the same client cost. Client concurrency
stops at 4, the setting issue 4 compares at (ACA-Py's askar SQLite wallet times out beyond 4 concurrent
DIDComm exchanges; the verify routes did not fail at 8 or 16 in a probe here, but one event loop does
the work, so throughput stays flat and p99 grows to seconds).

Reusable by bench/bench_verifier.py (same directory, so `from bench_acapy_baseline import ...`):
    measure(target, payloads, concurrency, n) -> Stats      # target: URL (POST JSON) or callable
    career_credential(key, suite) -> dict                   # the career record, any suite
    with acapy_targets() as t: t.targets["eddsa-jcs-2022"]  # a started sidecar + its Target objects
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import math
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agents import acapy
from agents import dataintegrity as di
from agents.keys import Ed25519KeyPair

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "schemas" / "examples" / "labor-contract-part-time.json"
CAREER_EXAMPLE = ROOT / "schemas" / "examples" / "career-record.json"
WORKCRED_CONTEXT = ROOT / "schemas" / "contexts" / "workcred-v1.jsonld"
ACAPY_MAX_CONCURRENCY = 4
#: a validFrom in the past: the example's (2026-12-01) is still to come, and a verifier answers "not yet valid"
CAREER_VALID_FROM = "2025-12-01T09:00:00+09:00"

Payload = dict[str, Any]
Check = Callable[[int, bytes], bool]  # (HTTP status, response body) -> verified?


# --- the credential ------------------------------------------------------------------------------


def career_credential(key: Ed25519KeyPair, suite: str = di.JCS, *, credential_id: str | None = None) -> dict[str, Any]:
    """The career record (schemas/examples/career-record.json) issued by `key`'s did:key, one proof of `suite`.

    A fresh `urn:uuid:` id, `validFrom` in the past (`CAREER_VALID_FROM`), and the employer's id moved
    to the new issuer where it named the example's issuer. eddsa-jcs-2022 and eddsa-rdfc-2022 sign the
    VCDM 2.0 document; Ed25519Signature2020 signs its VCDM 1.1 form (see `vcdm11_form`), the form
    ACA-Py's `/vc/credentials/verify` takes.
    """
    doc = json.loads(CAREER_EXAMPLE.read_text(encoding="utf-8"))
    doc.pop("proof", None)
    old_issuer = doc.get("issuer")
    doc["issuer"] = key.public.did_key
    doc["id"] = credential_id or f"urn:uuid:{uuid.uuid4()}"
    doc["validFrom"] = CAREER_VALID_FROM
    employer = doc.get("credentialSubject", {}).get("employer")
    if isinstance(employer, dict) and employer.get("id") == old_issuer:
        employer["id"] = key.public.did_key
    if suite == di.ED25519_2020:
        doc = vcdm11_form(doc)
    return di.sign(doc, key, cryptosuite=suite)


def field_count(doc: Any) -> int:
    """A credential's fields: its `type` (one field) and every leaf value besides `@context` and `proof`
    (list items count one each). The career record has 25: the issue's "25-field credential"."""

    def leaves(value: Any) -> int:
        if isinstance(value, dict):
            return sum(leaves(v) for v in value.values())
        if isinstance(value, list):
            return sum(leaves(v) for v in value)
        return 1

    return ("type" in doc) + sum(leaves(v) for k, v in doc.items() if k not in ("@context", "type", "proof"))


def career_fields() -> int:
    """`field_count` of the career record example (what the Markdown calls its fields)."""
    return field_count(json.loads(CAREER_EXAMPLE.read_text(encoding="utf-8")))


def contract_credential(key: Ed25519KeyPair, suite: str = di.JCS, *, credential_id: str | None = None) -> dict[str, Any]:
    """The part-time contract issued by `key`'s did:key, signed with one proof of `suite`.

    eddsa-jcs-2022 and eddsa-rdfc-2022 sign the VCDM 2.0 example as it is; Ed25519Signature2020
    signs its VCDM 1.1 form (see `vcdm11_form`), the form ACA-Py's `/vc/credentials/verify` takes.
    """
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc.pop("proof", None)
    doc["issuer"] = key.public.did_key
    doc["id"] = credential_id or f"urn:uuid:{uuid.uuid4()}"
    if suite == di.ED25519_2020:
        doc = vcdm11_form(doc)
    return di.sign(doc, key, cryptosuite=suite)


def vcdm11_form(doc: dict[str, Any]) -> dict[str, Any]:
    """The VCDM 1.1 form of a workcred VCDM 2.0 credential, self-contained for a verifier that fetches contexts.

    ACA-Py does not know https://w3id.org/workcred/v1 and would fetch it, so the workcred context is
    inlined; `name` comes from the VCDM 2.0 context, so VCDM 1.1 needs it defined; `validFrom` becomes
    `issuanceDate`; the BitstringStatusListEntry is dropped (the v1 context does not define it and
    ACA-Py has no status lists).
    """
    out = copy.deepcopy(doc)
    inline = json.loads(WORKCRED_CONTEXT.read_text(encoding="utf-8"))["@context"]
    out["@context"] = [di.VC_V1, inline, {"name": "https://schema.org/name"}]
    out["issuanceDate"] = out.pop("validFrom")
    out.pop("credentialStatus", None)
    out.pop("proof", None)
    return out


# --- the HTTP client -----------------------------------------------------------------------------


class HTTPProtocolError(Exception):
    """An answer this client does not read (chunked, malformed): the measurement would be wrong, so it stops."""


class _Stale(Exception):
    """A reused connection the server had closed before it answered (an idle keep-alive timeout)."""


@dataclass(frozen=True)
class Endpoint:
    """Where POSTs go: host, port and path of an http:// URL."""

    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"an http:// URL is needed: {url!r}")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.hostname, parts.port or 80, path)

    def post(self, body: bytes, headers: Mapping[str, str] | None = None) -> bytes:
        """The whole request, encoded once: request line, Host, Content-Type, `headers` (e.g. a bearer
        token), Content-Length, body."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {host}:{self.port}\r\n"
            f"Content-Type: application/json\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
        )
        return head.encode("latin-1") + body


class RawHTTPClient:
    """A minimal HTTP/1.1 keep-alive client: one socket (TCP_NODELAY), one request at a time.

    `exchange` sends pre-encoded request bytes (`Endpoint.post`) and reads the status line, the headers
    up to CRLFCRLF and a body of Content-Length bytes (or up to the close when there is none). It opens
    a new connection when the server answered `Connection: close` (or HTTP/1.0 without keep-alive),
    and sends again on a new one when a reused connection turns out closed before any answer came.
    Chunked answers raise `HTTPProtocolError`; a socket error on a fresh connection raises `OSError`.
    """

    def __init__(self, host: str, port: int, *, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.connections = 0  # connections opened so far
        self._sock: socket.socket | None = None
        self._buf = bytearray()

    @property
    def local_port(self) -> int | None:
        """Our end's port of the open connection (None when none is open)."""
        return int(self._sock.getsockname()[1]) if self._sock is not None else None

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._buf.clear()

    def __enter__(self) -> RawHTTPClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # a blocking socket with kernel-side timeouts: Python's own timeout mode polls before every
        # send and recv, one more system call per step on both sides of the comparison
        sock.settimeout(None)
        seconds = int(self.timeout)
        timeval = struct.pack("ll", seconds, int((self.timeout - seconds) * 1e6))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        self._sock = sock
        self._buf.clear()
        self.connections += 1
        return sock

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request; return (status, body)."""
        reused = self._sock is not None
        sock = self._sock if self._sock is not None else self._connect()
        try:
            try:
                return self._exchange(sock, request, reused)
            except _Stale:
                self.close()
                return self._exchange(self._connect(), request, False)
        except BaseException:
            self.close()
            raise

    def _recv(self, sock: socket.socket) -> bool:
        chunk = sock.recv(65536)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def _exchange(self, sock: socket.socket, request: bytes, reused: bool) -> tuple[int, bytes]:
        try:
            sock.sendall(request)
            while b"\r\n\r\n" not in self._buf:
                if not self._recv(sock):
                    if reused and not self._buf:
                        raise _Stale
                    raise ConnectionError("the server closed the connection in the middle of an answer")
        except (ConnectionResetError, BrokenPipeError) as exc:
            if reused and not self._buf:
                raise _Stale from exc
            raise
        end = self._buf.index(b"\r\n\r\n")
        head = bytes(self._buf[:end]).decode("latin-1").split("\r\n")
        del self._buf[: end + 4]
        version, status = _status_line(head[0])
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise HTTPProtocolError(f"a malformed header line: {line!r}")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            return self._exchange(sock, b"", False)
        if headers.get("transfer-encoding", "identity").lower() != "identity":
            raise HTTPProtocolError(f"a {headers['transfer-encoding']} answer: this client reads Content-Length bodies only")
        connection = headers.get("connection", "").lower()
        keep = "keep-alive" in connection if version == "HTTP/1.0" else "close" not in connection
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                raise HTTPProtocolError(f"Content-Length {length!r}")
            size = int(length)
            while len(self._buf) < size:
                if not self._recv(sock):
                    raise ConnectionError("the server closed the connection in the middle of a body")
            body = bytes(self._buf[:size])
            del self._buf[:size]
        elif status in (204, 304):
            body = b""
        else:  # no length: the body runs to the close
            while self._recv(sock):
                pass
            body, keep = bytes(self._buf), False
            self._buf.clear()
        if not keep:
            self.close()
        return status, body


def _status_line(line: str) -> tuple[str, int]:
    version, _, rest = line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise HTTPProtocolError(f"not an HTTP/1.x status line: {line!r}")
    return version, int(code)


# --- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Latency percentiles (ms) and throughput of `n` timed requests at one client concurrency."""

    label: str
    concurrency: int
    n: int
    p50_ms: float
    p99_ms: float
    rps: float
    failures: int

    def row(self) -> str:
        return (
            f"| {self.label} | {self.concurrency} | {self.n} | {self.p50_ms:.2f} | {self.p99_ms:.2f} "
            f"| {self.rps:.1f} | {self.failures} |"
        )


TABLE_HEADER = "| target | concurrency | requests | p50 (ms) | p99 (ms) | requests/s | failures |\n|---|---:|---:|---:|---:|---:|---:|"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), math.ceil(q / 100 * len(sorted_values))))
    return sorted_values[rank - 1]


def status_200(status: int, body: bytes) -> bool:
    return status == 200


def encode_json(payload: Payload) -> bytes:
    """A request body: compact UTF-8 JSON (the same bytes for every target)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


Call = Callable[[int], bool]  # payload index -> verified?


def _caller(
    target: str | Callable[[Payload], bool], payloads: Sequence[Payload], ok: Check, timeout: float = 60.0,
    headers: Mapping[str, str] | None = None,
) -> Callable[[], tuple[Call, Callable[[], None]]]:
    """A factory of per-thread (call, close) pairs.

    A URL gets one `RawHTTPClient` (one keep-alive connection) per thread; every payload's request bytes
    are encoded once, here, and shared. A socket error counts as a failure (the next request reconnects);
    an answer the client cannot read (`HTTPProtocolError`) propagates.
    """
    if callable(target):
        fn = target
        return lambda: ((lambda i: fn(payloads[i % len(payloads)])), lambda: None)
    endpoint = Endpoint.parse(target)
    requests = [endpoint.post(encode_json(p), headers) for p in payloads]

    def make() -> tuple[Call, Callable[[], None]]:
        client = RawHTTPClient(endpoint.host, endpoint.port, timeout=timeout)

        def call(i: int) -> bool:
            try:
                status, body = client.exchange(requests[i % len(requests)])
            except OSError:
                return False
            return ok(status, body)

        call.serving_cpu = lambda: serving_cpu(client, endpoint.port)  # type: ignore[attr-defined]
        return call, client.close

    return make


#: where the benchmark client's threads run unless co-located: one fixed core (None on a single core)
CLIENT_CPU: int | None = min(os.sched_getaffinity(0)) if len(os.sched_getaffinity(0)) > 1 else None


def serving_pid(local_port: int, server_port: int) -> int | None:
    """The process holding the server's end of our loopback connection (from /proc: Linux only)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == local_port:
                inode = fields[9]
                break
        if inode:
            break
    if not inode:
        return None
    target = f"socket:[{inode}]"
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                if os.readlink(fd) == target:
                    return int(proc.name)
        except OSError:
            continue
    return None


def serving_cpu(client: RawHTTPClient, server_port: int) -> int | None:
    """The one core the process serving `client`'s connection is pinned to (None when it is not pinned)."""
    if client.local_port is None:
        return None
    pid = serving_pid(client.local_port, server_port)
    if pid is None:
        return None
    try:
        cpus = os.sched_getaffinity(pid)
    except OSError:
        return None
    return next(iter(cpus)) if len(cpus) == 1 else None


def pin_process(pid: int, cpus: set[int]) -> None:
    """Pin every thread of process `pid` to `cpus` (os.sched_setaffinity on a pid moves one thread only)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except OSError:
            continue  # a thread that has just ended


def measure(
    target: str | Callable[[Payload], bool],
    payloads: Sequence[Payload],
    concurrency: int,
    n: int,
    *,
    warmup: int = 50,
    ok: Check = status_200,
    label: str = "",
    client_cpu: int | None = None,
    colocate: bool = False,
    headers: Mapping[str, str] | None = None,
) -> Stats:
    """Send `n` requests (after `warmup` untimed ones) from `concurrency` threads; payloads round-robin.

    `client_cpu`: pin the client threads to that core (the load generator stays in one place, for
    every target alike; the servers' own placement is theirs). `colocate`: each client thread first
    opens its connection (one untimed request), then moves to the core of the server process that
    accepted it, when that process is pinned to one core (else to `client_cpu`): client and server
    then talk without waking another core.

    `target` is a URL (each payload is POSTed as JSON by `RawHTTPClient`, one keep-alive connection per
    thread, and `ok(status, body)` says whether it verified) or a callable `payload -> bool` for an
    in-process verifier. Throughput is n / wall time.
    """
    if concurrency < 1 or n < 1 or not payloads:
        raise ValueError("concurrency, n and payloads must be positive")
    make = _caller(target, payloads, ok, headers=headers)
    warm, close = make()
    try:
        for i in range(warmup):
            warm(i)
    finally:
        close()
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    failures = 0
    errors: list[BaseException] = []
    barrier = threading.Barrier(concurrency + 1)

    def worker() -> None:
        nonlocal failures
        if client_cpu is not None:
            os.sched_setaffinity(0, {client_cpu})  # this thread only (Linux affinity is per thread)
        call, close = make()
        if colocate and hasattr(call, "serving_cpu"):
            call(0)  # open the connection: the server picks the worker now (untimed)
            cpu = call.serving_cpu()
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})
        mine: list[float] = []
        bad = 0
        try:
            barrier.wait()
            while not errors:
                with lock:
                    i = next(counter)
                if i >= n:
                    break
                started = time.perf_counter()
                good = call(i)
                mine.append(time.perf_counter() - started)
                bad += not good
        except BaseException as exc:  # surfaced below, after every thread has stopped
            errors.append(exc)
        finally:
            close()
            with lock:
                latencies.extend(mine)
                failures += bad

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    latencies.sort()
    return Stats(
        label=label or (target if isinstance(target, str) else getattr(target, "__name__", "callable")),
        concurrency=concurrency,
        n=n,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
        rps=n / elapsed,
        failures=failures,
    )


# --- ACA-Py targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One thing to measure: a URL, the request bodies to send it, and how a verified answer looks."""

    label: str
    url: str
    payloads: tuple[Payload, ...]
    ok: Check
    credentials: tuple[dict[str, Any], ...]  # the signed credentials inside the payloads

    def measure(self, concurrency: int, n: int, *, warmup: int = 50) -> Stats:
        return measure(self.url, self.payloads, concurrency, n, warmup=warmup, ok=self.ok, label=self.label, client_cpu=CLIENT_CPU)


def _ld_verified(status: int, body: bytes) -> bool:
    """`/vc/credentials/verify` answers 200 either way: the body's `verified` decides."""
    if status != 200:
        return False
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("verified") is True


@dataclass(frozen=True)
class AcapyTargets:
    """A started sidecar, the key that signed the credentials, and the two ACA-Py verification targets."""

    sidecar: acapy.Sidecar
    key: Ed25519KeyPair
    targets: dict[str, Target]  # "eddsa-jcs-2022" -> /vc/di/verify, "Ed25519Signature2020" -> /vc/credentials/verify


@contextmanager
def acapy_targets(
    distinct: int = 8,
    key: Ed25519KeyPair | None = None,
    *,
    jcs: Sequence[dict[str, Any]] | None = None,
    **start_kwargs: Any,
) -> Iterator[AcapyTargets]:
    """Start an ACA-Py sidecar and yield it with `distinct` signed credentials per target; stop it after.

    `jcs` are the eddsa-jcs-2022 credentials to send (so a comparison sends ACA-Py the very credentials
    it sent us); by default, career records issued by `key`. `/vc/credentials/verify` gets career
    records in VCDM 1.1 form signed with Ed25519Signature2020. Each payload is checked once to verify
    before it is handed out, so a benchmark never times rejections.
    """
    key = key or Ed25519KeyPair.generate()
    if jcs is None:
        jcs = [career_credential(key, di.JCS) for _ in range(distinct)]
    jcs = tuple(jcs)
    ld = tuple(career_credential(key, di.ED25519_2020) for _ in range(distinct))
    with acapy.running(**start_kwargs) as sidecar:
        base = sidecar.admin_url
        targets = {
            di.JCS: Target(
                "ACA-Py /vc/di/verify (eddsa-jcs-2022)",
                f"{base}/vc/di/verify",
                tuple({"securedDocument": c} for c in jcs),
                status_200,
                jcs,
            ),
            di.ED25519_2020: Target(
                "ACA-Py /vc/credentials/verify (Ed25519Signature2020, VCDM 1.1)",
                f"{base}/vc/credentials/verify",
                tuple({"verifiableCredential": c} for c in ld),
                _ld_verified,
                ld,
            ),
        }
        for c in jcs:
            if not sidecar.client.di_verify(c).verified:
                raise acapy.AcapyError("ACA-Py did not verify the eddsa-jcs-2022 benchmark credential")
        for c in ld:
            result = sidecar.client.ld_verify(c)
            if not result.verified:
                raise acapy.AcapyError(f"ACA-Py did not verify the Ed25519Signature2020 credential: {result.errors}")
        yield AcapyTargets(sidecar, key, targets)


def run_acapy(
    requests_jcs: int = 2000, requests_ld: int = 200, warmup: int = 50, concurrencies: Sequence[int] = (1, 4)
) -> list[Stats]:
    """Measure both ACA-Py targets at each concurrency (capped at 4): `requests_jcs` requests to
    `/vc/di/verify`, `requests_ld` to `/vc/credentials/verify` (about 30 requests/s)."""
    counts = {di.JCS: requests_jcs, di.ED25519_2020: requests_ld}
    out = []
    with acapy_targets() as t:
        for suite, target in t.targets.items():
            for c in concurrencies:
                out.append(target.measure(min(c, ACAPY_MAX_CONCURRENCY), counts[suite], warmup=warmup))
    return out


CLIENT_TEXT = (
    "The client is a minimal keep-alive HTTP/1.1 client on raw sockets (`bench_acapy_baseline.RawHTTPClient`: "
    "one connection per client thread, TCP_NODELAY, each request's bytes encoded once before timing), "
    "the same for our verifier and ACA-Py."
)


def section(
    stats: Sequence[Stats], *, warmup: int = 50, title: str = "## ACA-Py 1.7 baseline (verification over its admin API)"
) -> str:
    """The Markdown section: what was measured, then one table row per Stats."""
    try:
        version = metadata.version("acapy-agent")  # only when run inside .venv-acapy
    except metadata.PackageNotFoundError:
        version = _acapy_version()
    lines = [
        title,
        "",
        f"ACA-Py {version} as a sidecar (`.venv-acapy`, askar SQLite wallet, no ledger, admin API on loopback), "
        f"the single-proof {career_fields()}-field career record (schemas/examples/career-record.json, did:key issuer), "
        "signed by `agents.dataintegrity`: eddsa-jcs-2022 for `/vc/di/verify`, Ed25519Signature2020 on its "
        "VCDM 1.1 form (workcred context inlined, credentialStatus dropped) for `/vc/credentials/verify`. "
        f"Fixed request count per target (the requests column) after a warm-up of {warmup}. {CLIENT_TEXT} "
        f"Client concurrency stops at {ACAPY_MAX_CONCURRENCY} (askar SQLite times out beyond 4 concurrent exchanges; "
        "the verify routes run on one event loop, so more clients raise latency, not throughput).",
        "",
        TABLE_HEADER,
        *(s.row() for s in stats),
        "",
    ]
    return "\n".join(lines)


def _acapy_version() -> str:
    path = acapy.acapy_venv() / "bin" / "python"
    try:
        out = subprocess.run(
            [str(path), "-c", "import importlib.metadata as m; print(m.version('acapy-agent'))"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "(unknown version)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--requests-jcs", type=int, default=2000, help="timed requests per /vc/di/verify measurement")
    ap.add_argument("--requests-ld", type=int, default=200, help="timed requests per /vc/credentials/verify measurement")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = ap.parse_args(argv)
    reason = acapy.unavailable_reason()
    if reason:
        # make bench still writes its report without the sidecar: say why this section is empty
        print(f"## ACA-Py 1.7 baseline\n\nSkipped: {reason}\n")
        return 0
    print(section(run_acapy(args.requests_jcs, args.requests_ld, args.warmup, args.concurrency), warmup=args.warmup))
    return 0


if __name__ == "__main__":
    sys.exit(main())
