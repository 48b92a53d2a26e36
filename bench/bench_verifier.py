"""Verifier throughput over HTTP: gunicorn (2 workers) serving verifier.app, VC-API /credentials/verify.

Plain script; prints a Markdown section to stdout (`make bench` collects it).
    .venv/bin/python bench/bench_verifier.py [--requests 400] [--warmup 20] [--concurrency 1 4] [--acapy]

The credential is the single-proof 25-field part-time contract (schemas/examples/labor-contract-part-time.json,
did:key issuer) signed with eddsa-jcs-2022 and with eddsa-rdfc-2022, verified by the "core" profile (no
registry policies), so the work matches ACA-Py's verify: resolve did:key, canonicalise, check the signature,
plus our validity and schema checks. A labor contract needs the worker's proof too, so the answer is a
400 report whose only failure is `worker-signature`; a request counts as verified when `proof[0]` passed.
With `--acapy` (and the sidecar available) ACA-Py 1.7 is measured in the same run at the same concurrency
and the ratios are printed (targets: >= 10x for eddsa-jcs-2022, >= 3x for eddsa-rdfc-2022).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_acapy_baseline import TABLE_HEADER, Stats, contract_credential, measure  # noqa: E402

from agents import dataintegrity as di  # noqa: E402
from agents.keys import Ed25519KeyPair  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SUITES = (di.JCS, di.RDFC)
WORKERS = 2


@dataclass(frozen=True)
class Target:
    """One thing to measure: a label, a URL taking POSTed JSON, the payloads, and what counts as verified."""

    label: str
    url: str
    payloads: tuple[dict[str, object], ...]

    def measure(self, concurrency: int, n: int, warmup: int) -> Stats:
        return measure(self.url, self.payloads, concurrency, n, warmup=warmup, ok=_proof_verified, label=self.label)


def _proof_verified(resp: httpx.Response) -> bool:
    # keys are sorted by Flask's JSON provider: "id" then "outcome" in each check
    return resp.status_code in (200, 400) and '"id":"proof[0]","outcome":"pass"' in resp.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn_verifier(workers: int = WORKERS) -> Iterator[str]:
    """gunicorn serving verifier.app:create_app() (core profile, SQLite in a temp dir); yields the base URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.update({
            "WORKCRED_DEV": "1", "WORKCRED_DATA_DIR": tmp, "WORKCRED_VERIFIER_PROFILE": "core",
            "WORKCRED_VERIFIER_BACKGROUND": "0", "WORKCRED_VERIFIER_DATABASE_URL": f"sqlite:///{tmp}/verifier.sqlite3",
            "WORKCRED_VERIFIER_BASE_URL": f"http://127.0.0.1:{port}",
        })  # fmt: skip
        # migrate once before the workers start, so two workers do not race on the first upgrade
        subprocess.run([sys.executable, "-c", "from web import db; import os; db.migrate('verifier', os.environ['WORKCRED_VERIFIER_DATABASE_URL'])"], env=env, check=True, cwd=ROOT)
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "verifier.app:create_app()"],
            env=env, cwd=ROOT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("gunicorn did not start")
                time.sleep(0.2)
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def workcred_targets(base: str, distinct: int = 8) -> list[Target]:
    """eddsa-jcs-2022 and eddsa-rdfc-2022 payloads (a few distinct credentials, so no cache can help)."""
    key = Ed25519KeyPair.generate()
    out = []
    for suite in SUITES:
        payloads = tuple({"verifiableCredential": contract_credential(key, suite)} for _ in range(distinct))
        out.append(Target(f"workcred {suite}", f"{base}/credentials/verify", payloads))
    return out


def section(stats: Sequence[Stats], ratios: Sequence[str]) -> str:
    lines = [
        "## Verifier throughput (VC-API over HTTP, gunicorn 2 workers)",
        "",
        "`POST /credentials/verify` on `verifier.app` (core profile: no registry policies), single-proof 25-field "
        "part-time contract (did:key issuer), 8 distinct credentials round-robin, keep-alive client per thread, "
        "fixed request count after a warm-up.",
        "",
        TABLE_HEADER,
        *(s.row() for s in stats),
        "",
    ]
    if ratios:
        lines += ["Against ACA-Py 1.7 in the same run:", "", *ratios, ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--acapy", action="store_true", help="also measure ACA-Py 1.7 (needs its sidecar)")
    args = ap.parse_args(argv)
    stats: list[Stats] = []
    with gunicorn_verifier() as base:
        for target in workcred_targets(base):
            for c in args.concurrency:
                stats.append(target.measure(c, args.requests, args.warmup))
    ratios: list[str] = []
    if args.acapy:
        ratios = _acapy_ratios(stats, args)
    print(section(stats, ratios))
    return 0


def _acapy_ratios(ours: list[Stats], args: argparse.Namespace) -> list[str]:
    """Measure ACA-Py's targets at the same concurrency and compare requests/s (same machine, same run)."""
    from bench_acapy_baseline import ACAPY_MAX_CONCURRENCY, acapy_targets

    from agents import acapy

    reason = acapy.unavailable_reason()
    if reason:
        return [f"ACA-Py not measured: {reason}"]
    out = ["| ours | ACA-Py | concurrency | ours req/s | ACA-Py req/s | ratio |", "|---|---|---:|---:|---:|---:|"]
    # ACA-Py has no eddsa-rdfc-2022: its RDF-canonicalising route is Ed25519Signature2020 (the issue pairs them)
    pairs = {f"workcred {di.JCS}": "eddsa-jcs-2022", f"workcred {di.RDFC}": "Ed25519Signature2020"}
    with acapy_targets() as t:
        theirs = {}
        for name, target in t.targets.items():
            for c in args.concurrency:
                theirs[(name, c)] = target.measure(min(c, ACAPY_MAX_CONCURRENCY), args.requests, warmup=args.warmup)
        for s in ours:
            other = theirs.get((pairs[s.label], s.concurrency))
            if other and other.rps > 0:
                out.append(f"| {s.label} | {pairs[s.label]} | {s.concurrency} | {s.rps:.1f} | {other.rps:.1f} | {s.rps / other.rps:.1f}x |")
    return out


if __name__ == "__main__":
    sys.exit(main())
