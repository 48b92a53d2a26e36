"""The write-behind audit trail (verifier/audit.py) on SQLite and PostgreSQL: rows land within the
window in grouped inserts, in order; a refused write keeps them queued and retried; a full queue
stops verification with a 503 instead of answering unrecorded."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, text

import schemas
from agents import dataintegrity
from agents.errors import Unavailable
from agents.keys import Ed25519KeyPair
from verifier import audit
from verifier.app import create_app
from web import db
from web.config import RoleConfig


def _row(i: int) -> dict[str, Any]:
    return {"request_id": None, "kind": "credential", "verdict": "valid", "presentation_sha256": i.to_bytes(32, "big"), "created_at": datetime.now(UTC)}


def _written(engine: Any) -> list[int]:
    with engine.connect() as conn:
        return [int.from_bytes(r[0], "big") for r in conn.execute(text("SELECT presentation_sha256 FROM verification_audit ORDER BY id"))]


@pytest.fixture
def engine(db_url: str) -> Any:
    db.migrate("verifier", db_url)
    eng = db.make_engine(db_url)
    yield eng
    eng.dispose()


def test_rows_land_within_the_window_in_grouped_inserts(engine: Any) -> None:
    statements: list[int] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO VERIFICATION_AUDIT"):
            statements.append(len(parameters) if executemany else 1)

    writer = audit.AuditWriter(engine, flush_seconds=0.2, flush_rows=50)
    for i in range(120):
        writer.add(_row(i))
    deadline = time.monotonic() + 10
    while len(_written(engine)) < 120 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _written(engine) == list(range(120))  # all of them, in order, without anyone asking
    assert sum(statements) == 120 and len(statements) <= 6, statements  # grouped, not one insert per row
    writer.close()


def test_close_writes_what_is_queued(engine: Any) -> None:
    writer = audit.AuditWriter(engine, flush_seconds=60)
    for i in range(7):
        writer.add(_row(i))
    assert writer.queued() == 7 and _written(engine) == []
    writer.close()
    assert writer.queued() == 0 and _written(engine) == list(range(7))
    writer.add(_row(7))  # after close, rows are written as they come
    assert _written(engine) == list(range(8))


def test_a_refused_write_keeps_the_rows_and_is_retried(engine: Any) -> None:
    writer = audit.AuditWriter(engine, flush_seconds=60)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE verification_audit RENAME TO audit_away"))
    for i in range(5):
        writer.add(_row(i))
    assert writer.flush() == 0 and writer.queued() == 5  # the database refused: nothing lost
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_away RENAME TO verification_audit"))
    writer.add(_row(5))
    assert writer.flush() == 6
    assert _written(engine) == list(range(6))
    writer.close()


def test_a_full_queue_answers_503_not_unrecorded(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(RoleConfig("verifier", base_url="http://v.test", database_url=db_url, secret_key="t", dev=True, extra={"profile": "core", "background": "0"}))
    svc = app.extensions["verifier"]
    monkeypatch.setattr(audit, "MAX_QUEUED", 3)
    monkeypatch.setattr(svc._audit, "flush", lambda: 0)  # the database is not taking rows
    client = app.test_client()
    key = Ed25519KeyPair.from_seed(b"\x31" * 32)
    vc = copy.deepcopy(schemas.example("career-record"))
    vc["issuer"] = key.public.did_key
    vc.pop("credentialStatus")
    body = {"verifiableCredential": dataintegrity.sign(vc, key, cryptosuite=dataintegrity.JCS)}
    try:
        for _ in range(3):
            assert client.post("/credentials/verify", json=body).status_code in (200, 400)  # a report
        resp = client.post("/credentials/verify", json=body)
        assert resp.status_code == 503, resp.get_data(as_text=True)
        assert resp.headers["Retry-After"] == "30"
        assert resp.get_json()["type"].endswith("unavailable")
        with pytest.raises(Unavailable):
            svc.audit("credential", "valid", b"\0" * 32)
    finally:
        monkeypatch.undo()
        svc.close()


def test_rows_are_stored_exactly_as_an_orm_insert_stores_them(engine: Any) -> None:
    from sqlalchemy import insert

    from verifier.models import VerificationAudit

    row = {"request_id": "r-1", "kind": "credential", "verdict": "tampered", "presentation_sha256": b"\x01" * 32,
           "created_at": datetime(2026, 11, 25, 14, 0, 0, 123456, tzinfo=UTC)}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(VerificationAudit), [row])
    writer = audit.AuditWriter(engine, flush_seconds=60)
    writer.add(dict(row))
    assert writer.flush() == 1
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT request_id, kind, verdict, presentation_sha256, created_at FROM verification_audit ORDER BY id")).all()
    assert len(stored) == 2 and tuple(stored[0]) == tuple(stored[1])
    writer.close()
