"""The verifier's split-view memory lives in its database: it survives a restart and every worker
shares it, so a registry showing a second history is caught even by another worker or after a
restart. And the VC-API routes leave an audit row with the verdict and the body's SHA-256 only."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from agents import verify
from agents.checkpoint import Checkpoint
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair
from tests.helpers_city import City, Issued, start_city
from verifier.app import create_app
from verifier.checkpoints import DbCheckpointMemory
from web import db

WORKER = Ed25519KeyPair.from_seed(b"\x43" * 32)
ORIGIN = "registry.workcred.test/log"


def _city(tmp: Path, name: str) -> Any:
    (tmp / name).mkdir()
    return start_city(tmp / name)


@pytest.fixture
def two_histories(tmp_path: Path) -> Iterator[tuple[City, Issued, Issued]]:
    """The city's registry and a fork of it (same origin and signing key, another history), each with
    a career record; the verifier trusts the first."""
    with _city(tmp_path, "city") as city, _city(tmp_path, "fork") as fork:
        for c in (city, fork):
            c.department("seoul-jobs", "일자리정책과", "Job Policy Division")
        dept = city.department("seoul-care", "돌봄정책과", "Care Policy Division")  # the two logs' sizes differ
        good = city.issue_career(dept, WORKER)
        fdept = fork.department("seoul-care2", "돌봄정책과", "Care Policy Division")
        forked = fork.issue_career(fdept, WORKER)
        yield city, good, forked


def _consistency(app: Flask, issued: Issued) -> str:
    body = {"verifiableCredential": issued.vc, "options": {"receipts": {issued.id: issued.receipt}}}
    report = app.test_client().post("/credentials/verify", json=body).get_json()
    found = [c for c in report["checks"] if c["id"] == "registry.consistency"]
    assert len(found) == 1, report
    return str(found[0]["outcome"])


def test_memory_survives_a_restart(tmp_path: Path, two_histories: tuple[City, Issued, Issued]) -> None:
    city, good, forked = two_histories
    config = city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}")
    first = create_app(config)
    try:
        assert _consistency(first, good) == "pass"
    finally:
        first.extensions["verifier"].close()
    restarted = create_app(config)  # a fresh process: nothing in memory but the database
    try:
        assert _consistency(restarted, forked) == "fail"
        assert _consistency(restarted, good) == "pass"
    finally:
        restarted.extensions["verifier"].close()


def test_workers_share_the_memory(tmp_path: Path, two_histories: tuple[City, Issued, Issued]) -> None:
    city, good, forked = two_histories
    config = city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}")
    a, b = create_app(config), create_app(config)  # two gunicorn workers on one database
    try:
        assert _consistency(a, good) == "pass"
        assert _consistency(b, forked) == "fail"
    finally:
        a.extensions["verifier"].close()
        b.extensions["verifier"].close()


def test_racing_writers_cannot_overwrite_each_other(db_url: str) -> None:
    db.migrate("verifier", db_url)
    engine = db.make_engine(db_url)
    try:
        one, two = DbCheckpointMemory(db.session_factory(engine)), DbCheckpointMemory(db.session_factory(engine))
        mine, theirs = Checkpoint(ORIGIN, 4, b"\x01" * 32), Checkpoint(ORIGIN, 4, b"\x02" * 32)
        assert one.get(ORIGIN) is None  # worker one reads: nothing yet
        two.observe(theirs, None)  # worker two remembers its checkpoint first
        with pytest.raises(RegistryError, match="fork detected"):
            one.observe(mine, None)  # one's write loses the race, it decides again: a fork
        assert two.get(ORIGIN) == theirs
        one.observe(theirs, None)  # the same view is accepted
    finally:
        engine.dispose()


def test_vc_api_writes_audit_rows_without_personal_data(tmp_path: Path, two_histories: tuple[City, Issued, Issued]) -> None:
    city, good, _ = two_histories
    app = create_app(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}"))
    try:
        client = app.test_client()
        body = json.dumps({"verifiableCredential": good.vc, "options": {"receipts": {good.id: good.receipt}}}).encode()
        assert client.post("/credentials/verify", data=body, content_type="application/json").status_code == 200
        vp = verify.create_presentation([good.vc], WORKER, challenge="x", domain="https://verifier.test")
        vp_body = json.dumps({"verifiablePresentation": vp, "options": {"challenge": "wrong"}}).encode()
        assert client.post("/presentations/verify", data=vp_body, content_type="application/json").status_code == 400
        rows = app.extensions["verifier"].audit_rows()
    finally:
        app.extensions["verifier"].close()
    assert [(r["kind"], r["verdict"], r["sha256"]) for r in rows] == [
        ("credential", "valid", hashlib.sha256(body).hexdigest()),
        ("presentation", rows[1]["verdict"], hashlib.sha256(vp_body).hexdigest()),
    ]
    assert rows[1]["verdict"] != "valid"
    stored = json.dumps(rows, ensure_ascii=False)
    subject = good.vc["credentialSubject"]
    for personal in (subject["id"], json.dumps(subject, ensure_ascii=False)[:40], good.id):
        assert personal not in stored
