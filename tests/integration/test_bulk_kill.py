"""Kill -9 a bulk run at a random moment, start it again, and check that every contract has exactly
one credential and one log entry (and, after "complete all ended", exactly one career record).

Each trial runs "countersign all signed" and then "complete all ended" in child processes
(`python -m tests.helpers_bulk`, the same `issuer.jobs.run_job` the console's button runs), kills the
first one or two runners with SIGKILL at a random point, and lets a last runner finish. The issuer
database is SQLite or PostgreSQL; the registry is the real app over HTTP. `make test` runs 2 trials
per database; `make soak` runs WORKCRED_KILL_TRIALS=20.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from agents import merkle
from issuer import jobs, models
from issuer.service import IssuerService
from registry.models import LogEntry
from tests.helpers_bulk import signed_project
from tests.helpers_city import City, start_city
from tests.helpers_issuer import issuer_service

TRIALS = int(os.environ.get("WORKCRED_KILL_TRIALS", "2"))
CONTRACTS = 60
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[tuple[City, IssuerService, str]]:
    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        yield city, svc, db_url


def _runner(city: City, db_url: str, tmp: Path, job_id: int) -> subprocess.Popen[str]:
    args = [
        sys.executable,
        "-m",
        "tests.helpers_bulk",
        db_url,
        city.base_url,
        str(tmp / "city-keys"),
        str(job_id),
        "7",
    ]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run_with_kills(city: City, db_url: str, tmp: Path, job_id: int, rng: random.Random) -> list[str]:
    """Runners killed at random points (after 0-4 batches, plus a random delay), then one run to the end."""
    killed: list[str] = []
    for _ in range(rng.choice((1, 1, 2))):
        proc = _runner(city, db_url, tmp, job_id)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "started", proc.stderr.read() if proc.stderr else ""
        for _ in range(rng.randrange(0, 5)):
            line = proc.stdout.readline()
            if not line.startswith("progress"):
                break
        time.sleep(rng.random() * 0.05)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)  # reap it and close its pipes
        killed.append(
            f"killed ({proc.returncode})"
            if proc.returncode == -signal.SIGKILL
            else f"ended ({proc.returncode})"
        )
    proc = _runner(city, db_url, tmp, job_id)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert out.splitlines()[-1].startswith("finished done"), out
    return killed


def _credential_leaves(city: City) -> Counter[bytes]:
    with city.app.extensions["registry"].session_factory() as s:
        return Counter(
            bytes(d) for d in s.scalars(select(LogEntry.digest).where(LogEntry.type == "credential"))
        )


@pytest.mark.slow
@pytest.mark.parametrize("trial", range(TRIALS))
def test_kill_and_resume_issues_everything_exactly_once(
    world: tuple[City, IssuerService, str], tmp_path: Path, trial: int
) -> None:
    city, svc, db_url = world
    rng = random.Random(f"{trial}-{db_url[:10]}-{os.environ.get('WORKCRED_KILL_SEED', time.time_ns())}")
    project_id = signed_project(svc, city, CONTRACTS)
    before = _credential_leaves(city)

    # countersign all signed, killed and resumed
    job = jobs.start_job(svc, "countersign-all", project_id)
    killed = _run_with_kills(city, db_url, tmp_path, job.id, rng)
    final = jobs.progress(svc, job.id)
    assert (final.state, final.done, final.failed) == ("done", CONTRACTS, 0), (killed, final)
    leaves = _credential_leaves(city) - before
    with svc.tx() as s:
        contracts = list(s.scalars(select(models.Contract).where(models.Contract.project_id == project_id)))
        assert {c.state for c in contracts} == {models.ACTIVE}
        digests = []
        for c in contracts:
            p = s.get_one(models.Participant, c.participant_id)
            vc = svc.unseal_json(svc.dek(p), p, f"contract|{c.urn}|credential", c.credential_enc or b"")
            digests.append(merkle.document_digest(vc))
            assert c.log_index is not None and c.receipt is not None
            assert city.log.entry(c.log_index).leaf_hash  # the index names a real leaf
    # exactly one leaf per contract, and no leaf for anything else (no credential signed twice)
    assert leaves == Counter(digests), killed
    assert sum(leaves.values()) == CONTRACTS

    # complete all ended (the project ended 2026-11-30), killed and resumed
    before = _credential_leaves(city)
    job = jobs.start_job(svc, "complete-all", project_id)
    killed += _run_with_kills(city, db_url, tmp_path, job.id, rng)
    final = jobs.progress(svc, job.id)
    assert (final.state, final.done, final.failed) == ("done", CONTRACTS, 0), (killed, final)
    leaves = _credential_leaves(city) - before
    with svc.tx() as s:
        records = list(
            s.scalars(select(models.IssuedCredential).where(models.IssuedCredential.kind == "career-record"))
        )
        assert sorted(r.contract_id for r in records) == sorted(c.id for c in contracts)  # one each
        assert all(r.log_index is not None for r in records)
        digests = []
        for r in records:
            p = s.get_one(models.Participant, r.participant_id)
            digests.append(
                merkle.document_digest(svc.unseal_json(svc.dek(p), p, f"credential|{r.urn}", r.vc_enc))
            )
        states = {
            c.state
            for c in s.scalars(select(models.Contract).where(models.Contract.project_id == project_id))
        }
    assert states == {models.COMPLETED}
    assert leaves == Counter(digests), killed
