"""Registry log benchmark: bulk append on SQLite, inclusion proofs at size, full verification.

Plain script; prints a Markdown section to stdout (`make bench` collects it).
    .venv/bin/python bench/bench_registry.py [--leaves 1000000] [--batch 10000] [--proofs 200] [--no-verify]
Targets: >= 10,000 leaves/s bulk append; inclusion proof produce + verify <= 1 ms (median).
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from agents import merkle
from agents.keys import Ed25519KeyPair
from registry.log import Log
from web import db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--leaves", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--proofs", type=int, default=500)
    ap.add_argument("--single", type=int, default=2_000, help="single-entry transactions to time")
    ap.add_argument("--no-verify", action="store_true", help="skip the full verify_all pass")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        db.migrate("registry", url)
        engine = db.make_engine(url)
        sf = db.session_factory(engine)
        log = Log(sf, origin="bench.workcred.test/log", signer=Ed25519KeyPair.generate())
        rows: list[tuple[str, str]] = []

        # 1. bulk append, one transaction per batch
        digests = [secrets.token_bytes(32) for _ in range(args.batch)]
        t0 = time.perf_counter()
        done = 0
        while done < args.leaves:
            n = min(args.batch, args.leaves - done)
            with db.transaction(sf) as s:
                log.append_many(s, [("credential", d) for d in digests[:n]])
            done += n
        bulk = time.perf_counter() - t0
        rows.append((f"bulk append (batches of {args.batch}, SQLite)",
                     f"{args.leaves:,} leaves in {bulk:.1f} s = **{args.leaves / bulk:,.0f} leaves/s** (target >= 10,000)"))

        t0 = time.perf_counter()
        cp = log.checkpoint()
        rows.append(("sign checkpoint at that size", f"{(time.perf_counter() - t0) * 1000:.2f} ms"))

        # 2. single-entry appends, one transaction each (the VDR path)
        t0 = time.perf_counter()
        for i in range(args.single):
            with db.transaction(sf) as s:
                log.append(s, "audit-event", digests[i % len(digests)])
        single = time.perf_counter() - t0
        rows.append(("single append + commit", f"{args.single / single:,.0f} appends/s ({single / args.single * 1000:.2f} ms each)"))
        log.checkpoint()
        size = cp.size

        # 3. inclusion proof at size: look up by leaf hash, build from stored nodes, verify
        rng = random.Random(7)
        with sf() as s:
            from sqlalchemy import select

            from registry.models import LogEntry

            picks = [rng.randrange(size) for _ in range(args.proofs)]
            leaves = dict(s.execute(select(LogEntry.index, LogEntry.leaf_hash).where(LogEntry.index.in_(picks[:900]))).all())
            if len(picks) > 900:
                leaves.update(s.execute(select(LogEntry.index, LogEntry.leaf_hash).where(LogEntry.index.in_(picks[900:]))).all())
        produce, verify, both = [], [], []
        for idx in picks:
            leaf = bytes(leaves[idx])
            t0 = time.perf_counter()
            index, proof = log.inclusion_proof(leaf, size)
            t1 = time.perf_counter()
            merkle.verify_inclusion(leaf, index, size, proof, cp.root)
            t2 = time.perf_counter()
            produce.append(t1 - t0)
            verify.append(t2 - t1)
            both.append(t2 - t0)
        q = lambda xs, p: sorted(xs)[int(p * (len(xs) - 1))] * 1000  # noqa: E731
        rows.append((f"inclusion proof at size {size:,}: produce (median / p95, n={len(picks)})",
                     f"{statistics.median(produce) * 1000:.3f} ms / {q(produce, 0.95):.3f} ms"))
        rows.append(("inclusion proof: verify (median)", f"{statistics.median(verify) * 1000:.3f} ms"))
        rows.append(("inclusion proof: produce + verify (median)",
                     f"**{statistics.median(both) * 1000:.3f} ms** (target <= 1 ms)"))

        # 4. consistency proof between the two checkpoints
        t0 = time.perf_counter()
        for _ in range(50):
            log.consistency_proof(size, log.size())
        rows.append(("consistency proof produce (mean of 50)", f"{(time.perf_counter() - t0) / 50 * 1000:.3f} ms"))

        # 5. full re-verification from entry 0
        if not args.no_verify:
            t0 = time.perf_counter()
            result = log.verify_all()
            took = time.perf_counter() - t0
            rows.append(("`registry verify` (verify_all) whole log",
                         f"{result.size:,} entries, {result.nodes_checked:,} nodes in {took:.1f} s "
                         f"({result.size / took:,.0f} entries/s), ok={result.ok}"))
        db_size = Path(tmp, "bench.sqlite3").stat().st_size + sum(
            p.stat().st_size for p in Path(tmp).glob("bench.sqlite3-*"))
        rows.append(("database size", f"{db_size / 1e6:,.0f} MB ({db_size / max(log.size(), 1):,.0f} bytes/leaf)"))
        engine.dispose()

    print("## Registry log (RFC 6962 Merkle tree in SQLite)\n")
    print("| measure | result |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    print()


if __name__ == "__main__":
    main()
