"""Several workers of one role start together on a fresh database (gunicorn -w 2): one migrates, the
others wait for it and find nothing left to do. On SQLite and PostgreSQL, with real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import inspect

from web import db

ROOT = Path(__file__).resolve().parents[2]


def test_workers_migrating_at_once_all_succeed(db_url: str) -> None:
    code = "import sys; from web import db; db.migrate(sys.argv[1], sys.argv[2])"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, role, db_url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for role in ("verifier", "verifier", "verifier", "verifier")
    ]
    outs = [p.communicate(timeout=120)[0].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outs
    engine = db.make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"presentation_request", "verification_audit", "alembic_version"} <= tables
