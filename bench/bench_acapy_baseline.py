"""ACA-Py 1.7 baseline: verification throughput over its admin API for a single-proof 25-field contract.

Plain script; prints a Markdown section to stdout (`make bench` collects it).
    .venv/bin/python bench/bench_acapy_baseline.py [--requests 200] [--warmup 20] [--concurrency 1 4]

The credential is schemas/examples/labor-contract-part-time.json with a did:key issuer, signed by
agents.dataintegrity: eddsa-jcs-2022 (VCDM 2.0) for `/vc/di/verify`, Ed25519Signature2020 on its
VCDM 1.1 form for `/vc/credentials/verify`. Client concurrency stops at 4, the setting issue 4 compares
at (ACA-Py's askar SQLite wallet times out beyond 4 concurrent DIDComm exchanges; the verify routes did
not fail at 8 or 16 in a probe here, but one event loop does the work, so throughput stays flat and p99
grows to seconds).

Reusable by bench/bench_verifier.py (same directory, so `from bench_acapy_baseline import ...`):
    measure(target, payloads, concurrency, n) -> Stats      # target: URL (POST JSON) or callable
    contract_credential(key, suite) -> dict                 # the same 25-field credential, any suite
    with acapy_targets() as t: t.targets["eddsa-jcs-2022"]  # a started sidecar + its Target objects
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import math
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from agents import acapy, contract
from agents import dataintegrity as di
from agents.keys import Ed25519KeyPair

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "schemas" / "examples" / "labor-contract-part-time.json"
WORKCRED_CONTEXT = ROOT / "schemas" / "contexts" / "workcred-v1.jsonld"
ACAPY_MAX_CONCURRENCY = 4

Payload = dict[str, Any]
Check = Callable[[httpx.Response], bool]


# --- the credential ------------------------------------------------------------------------------


def contract_credential(key: Ed25519KeyPair, suite: str = di.JCS, *, credential_id: str | None = None) -> dict[str, Any]:
    """The 25-field part-time contract issued by `key`'s did:key, signed with one proof of `suite`.

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


def evidence_contract(
    city: Ed25519KeyPair, worker: Ed25519KeyPair, suite: str = di.JCS, *, credential_id: str | None = None
) -> dict[str, Any]:
    """The 25-field contract as workcred issues it (agents/contract.py): the worker's acceptance proof
    (did:key, `authentication`) as `evidence`, under the city's single `assertionMethod` proof.

    One proof in `proof`, so ACA-Py verifies it as it is; our verifier checks both signatures. The
    worker's acceptance uses the wallet's default suite (eddsa-jcs-2022, `accept_contract`'s default),
    the city's proof the suite under test.
    """
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc.pop("proof", None)
    doc.pop("evidence", None)
    doc["issuer"] = city.public.did_key
    doc["id"] = credential_id or f"urn:uuid:{uuid.uuid4()}"
    doc["credentialSubject"]["id"] = worker.public.did_key
    acceptance = contract.accept_contract(doc, worker)
    return contract.countersign(doc, acceptance, city, cryptosuite=suite)


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


def status_200(resp: httpx.Response) -> bool:
    return resp.status_code == 200


def _caller(target: str | Callable[[Payload], bool], ok: Check) -> Callable[[], Callable[[Payload], bool]]:
    """A factory of per-thread callables: one httpx.Client (keep-alive) per client thread."""
    if callable(target):
        return lambda: target
    url = target

    def make() -> Callable[[Payload], bool]:
        client = httpx.Client(timeout=60.0)
        return lambda payload: ok(client.post(url, json=payload))

    return make


def measure(
    target: str | Callable[[Payload], bool],
    payloads: Sequence[Payload],
    concurrency: int,
    n: int,
    *,
    warmup: int = 20,
    ok: Check = status_200,
    label: str = "",
) -> Stats:
    """Send `n` requests (after `warmup` untimed ones) from `concurrency` threads; payloads round-robin.

    `target` is a URL (each payload is POSTed as JSON and `ok(response)` says whether it verified)
    or a callable `payload -> bool` for an in-process verifier. Throughput is n / wall time.
    """
    if concurrency < 1 or n < 1 or not payloads:
        raise ValueError("concurrency, n and payloads must be positive")
    make = _caller(target, ok)
    warm = make()
    for i in range(warmup):
        warm(payloads[i % len(payloads)])
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    failures = 0
    barrier = threading.Barrier(concurrency + 1)

    def worker() -> None:
        nonlocal failures
        call = make()
        mine: list[float] = []
        bad = 0
        barrier.wait()
        while True:
            with lock:
                i = next(counter)
            if i >= n:
                break
            started = time.perf_counter()
            good = call(payloads[i % len(payloads)])
            mine.append(time.perf_counter() - started)
            bad += not good
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

    def measure(self, concurrency: int, n: int, *, warmup: int = 20) -> Stats:
        return measure(self.url, self.payloads, concurrency, n, warmup=warmup, ok=self.ok, label=self.label)


def _ld_verified(resp: httpx.Response) -> bool:
    """`/vc/credentials/verify` answers 200 either way: the body's `verified` decides."""
    return resp.status_code == 200 and resp.json().get("verified") is True


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
    it sent us); by default, evidence-form contracts issued by `key`. Each payload is checked once to
    verify before it is handed out, so a benchmark never times rejections.
    """
    key = key or Ed25519KeyPair.generate()
    if jcs is None:
        worker = Ed25519KeyPair.generate()
        jcs = [evidence_contract(key, worker, di.JCS) for _ in range(distinct)]
    jcs = tuple(jcs)
    ld = tuple(contract_credential(key, di.ED25519_2020) for _ in range(distinct))
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


def run_acapy(requests: int = 200, warmup: int = 20, concurrencies: Sequence[int] = (1, 4)) -> list[Stats]:
    """Measure both ACA-Py targets at each concurrency (capped at 4)."""
    out = []
    with acapy_targets() as t:
        for target in t.targets.values():
            for c in concurrencies:
                out.append(target.measure(min(c, ACAPY_MAX_CONCURRENCY), requests, warmup=warmup))
    return out


def section(stats: Sequence[Stats], *, title: str = "## ACA-Py 1.7 baseline (verification over its admin API)") -> str:
    """The Markdown section: what was measured, then one table row per Stats."""
    try:
        version = metadata.version("acapy-agent")  # only when run inside .venv-acapy
    except metadata.PackageNotFoundError:
        version = _acapy_version()
    lines = [
        title,
        "",
        f"ACA-Py {version} as a sidecar (`.venv-acapy`, askar SQLite wallet, no ledger, admin API on loopback), "
        "single-proof 25-field part-time contract (schemas/examples/labor-contract-part-time.json, did:key issuer), "
        "signed by `agents.dataintegrity`; fixed request count after a warm-up, keep-alive HTTP client per thread. "
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
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    args = ap.parse_args(argv)
    reason = acapy.unavailable_reason()
    if reason:
        # make bench still writes its report without the sidecar: say why this section is empty
        print(f"## ACA-Py 1.7 baseline\n\nSkipped: {reason}\n")
        return 0
    print(section(run_acapy(args.requests, args.warmup, args.concurrency)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
