"""Issuing over the VC-API: `POST /credentials/issue` (eddsa-jcs-2022, a status entry allocated, the leaf
logged) under the production command, next to ACA-Py 1.7's `/vc/di/add-proof` in the same run.

Our side: gunicorn serving `issuer.app:create_app()` as README "Production" says (4 sync workers) on
PostgreSQL (a fresh schema of WORKCRED_TEST_PG_URL, default postgresql://127.0.0.1:5432/test; SQLite
with `--sqlite` or when no server answers), its registry under gunicorn too (2 workers, SQLite), a department created through
the issuer service, an OAuth client and its bearer token. Every request carries
`options.credentialStatus`, so each answer holds a revocation and a suspension entry (indexes claimed
from the registry ahead, in batches) and the credential's digest is appended to the registry log
behind the answer; after each measurement the benchmark waits until every issued credential has its
log index and reports how long that took. ACA-Py: its sidecar's `/vc/di/add-proof` (eddsa-jcs-2022, a
did:key of its wallet; no status: ACA-Py has no status lists) with the same raw keep-alive client
(bench_acapy_baseline.RawHTTPClient) and the same credential. Rounds interleave the two at each
concurrency; the ratio is the median over rounds. Client, servers and ACA-Py share the machine's cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_acapy_baseline import CLIENT_CPU, TABLE_HEADER, Stats, measure  # noqa: E402
from bench_verifier import _free_port  # noqa: E402

from agents import acapy, multibase  # noqa: E402
from agents.keys import Ed25519KeyPair  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEPARTMENT = "bench-jobs"
TARGET = 10.0
ISSUER_WORKERS = 4  # README "Production": gunicorn -w 4 'issuer.app:create_app()'


def credential(issuer: str, i: int) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"did:example:subject-{i}", "alumniOf": {"name": "Seoul National University", "id": f"urn:example:{i}"}},
    }


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"{url} did not start")
        time.sleep(0.3)


PG_URL = os.environ.get("WORKCRED_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")


@contextmanager
def issuer_database(tmp: Path, sqlite: bool) -> Iterator[tuple[str, str]]:
    """(URL, what it is): a fresh PostgreSQL schema, dropped afterwards, or an SQLite file in `tmp`."""
    if not sqlite:
        try:
            import psycopg

            schema = "bench_" + os.urandom(6).hex()
            with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
        except Exception as e:  # no server: say so in the output and measure on SQLite
            print(f"bench_issue_api: PostgreSQL unavailable ({type(e).__name__}), using SQLite", file=sys.stderr)
        else:
            sep = "&" if "?" in PG_URL else "?"
            try:
                yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}", "PostgreSQL"
            finally:
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            return
    yield f"sqlite:///{tmp}/issuer.sqlite3", "SQLite"


@contextmanager
def city(tmp: Path, issuer_db: str) -> Iterator[dict[str, str]]:
    """Registry and issuer under gunicorn; yields the environment (also set in os.environ for the service)."""
    reg_port, iss_port = _free_port(), _free_port()
    env = {
        "WORKCRED_DEV": "1",  # http:// did:web on loopback (no TLS here); every secret is still set explicitly
        "WORKCRED_DATA_DIR": str(tmp), "WORKCRED_SECRET_KEY": multibase.b64url(os.urandom(32)),
        "WORKCRED_REGISTRY_KEY": Ed25519KeyPair.generate().secret_multibase, "WORKCRED_REGISTRY_API_TOKENS": "bench-token",
        "WORKCRED_REGISTRY_API_TOKEN": "bench-token", "WORKCRED_REGISTRY_DATABASE_URL": f"sqlite:///{tmp}/registry.sqlite3",
        "WORKCRED_REGISTRY_BASE_URL": f"http://127.0.0.1:{reg_port}", "WORKCRED_REGISTRY_PORT": str(reg_port),
        "WORKCRED_ISSUER_BASE_URL": f"http://127.0.0.1:{iss_port}", "WORKCRED_ISSUER_PORT": str(iss_port),
        "WORKCRED_ISSUER_DATABASE_URL": issuer_db, "WORKCRED_ISSUER_BACKGROUND": "0",
        "WORKCRED_ISSUER_MASTER_KEY": multibase.b64url(os.urandom(32)), "WORKCRED_KEYSTORE_DIR": str(tmp / "keystore"),
        "WORKCRED_KEYSTORE_SECRET": multibase.b64url(os.urandom(32)),
    }  # fmt: skip
    os.environ.update(env)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port, workers, app in ((reg_port, 2, "registry.app:create_app()"), (iss_port, ISSUER_WORKERS, "issuer.app:create_app()")):
            proc = subprocess.Popen([gunicorn, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", app], env={**os.environ}, cwd=ROOT)
            procs.append(proc)
            _wait_up(f"http://127.0.0.1:{port}", proc)
        yield env
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def setup(env: dict[str, str]) -> tuple[str, str, Any]:
    """The department (key, did:web, status lists at the registry), an OAuth client and its token."""
    from issuer import oauth
    from issuer.models import Department
    from issuer.service import IssuerService
    from web.config import RoleConfig

    svc = IssuerService.from_config(RoleConfig.from_env("issuer"))
    dept = svc.create_department(DEPARTMENT, "벤치마크 부서", "Benchmark division")
    with svc.tx() as s:
        client_id, secret = oauth.create_client(s, s.query(Department).filter_by(slug=DEPARTMENT).one(), "bench")
    answer = httpx.post(env["WORKCRED_ISSUER_BASE_URL"] + "/oid4vci/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    answer.raise_for_status()
    return dept.did, str(answer.json()["access_token"]), svc


def unlogged(svc: Any) -> int:
    from sqlalchemy import func, select

    from issuer.protocol_models import VcApiCredential

    with svc.tx() as s:
        return int(s.scalar(select(func.count()).select_from(VcApiCredential).where(VcApiCredential.log_index.is_(None))) or 0)


def wait_logged(svc: Any, timeout: float = 120) -> float:
    """Seconds until every credential issued so far has its leaf in the registry log."""
    started = time.perf_counter()
    while unlogged(svc) and time.perf_counter() - started < timeout:
        time.sleep(0.05)
    if unlogged(svc):
        raise RuntimeError("leaves still unlogged after the timeout")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--requests", type=int, default=1000, help="timed requests per measurement (ours and ACA-Py's)")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per concurrency (median ratio)")
    ap.add_argument("--sqlite", action="store_true", help="the issuer on SQLite instead of PostgreSQL")
    args = ap.parse_args(argv)
    reason = acapy.unavailable_reason()
    rows: list[Stats] = []
    ratios: list[str] = []
    lags: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, issuer_database(Path(tmp), args.sqlite) as (db_url, db_name), city(Path(tmp), db_url) as env:
        did, token, svc = setup(env)
        url = env["WORKCRED_ISSUER_BASE_URL"] + f"/vc-api/{DEPARTMENT}/credentials/issue"
        status = {"type": "BitstringStatusListEntry"}
        ours_payloads = [{"credential": credential(did, i), "options": {"cryptosuite": "eddsa-jcs-2022", "credentialStatus": status}} for i in range(8)]
        auth = {"Authorization": f"Bearer {token}"}

        def ok(code: int, body: bytes) -> bool:
            return code == 201 and b'"statusListIndex"' in body

        def ours(c: int) -> Stats:
            label = "workcred POST /credentials/issue (eddsa-jcs-2022, status + log)"
            stats = measure(url, ours_payloads, c, args.requests, warmup=args.warmup, ok=ok, label=label, client_cpu=CLIENT_CPU, headers=auth)
            lags.append(wait_logged(svc))
            return stats

        if reason:
            for c in args.concurrency:
                rows.append(ours(c))
            ratios.append(f"ACA-Py not measured: {reason}")
        else:
            with acapy.running(home=Path(tmp) / "acapy") as agent:
                theirs_did = agent.client.create_did_key()
                vm = f"{theirs_did.did}#{theirs_did.did.split(':')[-1]}"
                options = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "proofPurpose": "assertionMethod", "verificationMethod": vm}
                theirs_payloads = [{"document": credential(theirs_did.did, i), "options": options} for i in range(8)]
                agent.client.add_proof(credential(theirs_did.did, 0), options)  # it signs at all

                def signed(code: int, body: bytes) -> bool:
                    return code < 300 and b'"proofValue"' in body
                for c in args.concurrency:
                    mine, theirs = [], []
                    for _ in range(args.rounds):
                        mine.append(ours(c))
                        theirs.append(measure(agent.admin_url + "/vc/di/add-proof", theirs_payloads, min(c, 4), args.requests, warmup=args.warmup, ok=signed,
                                              label="ACA-Py /vc/di/add-proof (eddsa-jcs-2022)", client_cpu=CLIENT_CPU))  # fmt: skip
                    pairs = sorted(zip(mine, theirs, strict=True), key=lambda p: p[0].rps / p[1].rps)
                    m, t = pairs[len(pairs) // 2]
                    rows += [m, t]
                    each = ", ".join(f"{a.rps / b.rps:.2f}" for a, b in zip(mine, theirs, strict=True))
                    ratio = m.rps / t.rps
                    ratios.append(f"| {c} | {m.rps:.1f} | {t.rps:.1f} | {m.p50_ms:.2f} / {t.p50_ms:.2f} | {m.p99_ms:.2f} / {t.p99_ms:.2f} | "
                                  f"{ratio:.2f}x ({each}) | >= {TARGET:g}x | {'yes' if ratio >= TARGET else 'no'} |")  # fmt: skip
        svc.session_factory.kw["bind"].dispose()
    print("## Issuing: POST /credentials/issue vs ACA-Py /vc/di/add-proof\n")
    print((__doc__ or "").split("\n\n", 1)[1].strip() + "\n")
    print(f"Issuer database in this run: {db_name}.\n")
    print(TABLE_HEADER)
    for r in rows:
        print(r.row())
    if ratios and ratios[0].startswith("|"):
        print("\n| concurrency | ours req/s | ACA-Py req/s | p50 ms (ours / ACA-Py) | p99 ms (ours / ACA-Py) | ratio (each round) | target | met |")
        print("|---:|---:|---:|---|---|---|---|---|")
    for line in ratios:
        print(line)
    if lags:
        print(f"\nEvery credential's leaf was in the registry log {statistics.median(lags):.2f} s (median; max {max(lags):.2f} s) after a measurement's last answer.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
