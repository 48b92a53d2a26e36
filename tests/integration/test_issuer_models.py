"""The issuer's migrations build exactly the tables of its models, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from issuer import models
from web import db


def test_migrations_match_models(db_url: str) -> None:
    db.migrate("issuer", db_url)
    db.migrate("issuer", db_url)  # a second run finds nothing to do
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), models.Base.metadata)
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    ours = {"department", "project", "participant", "contract", "invitation", "outbox_message",
            "issued_credential", "audit_event", "bulk_job", "worker_token"}  # fmt: skip
    assert ours <= tables
    # other parts of the issuer (console, protocols) add their own tables in their own migrations
    assert [d for d in diff if _table_of(d) in ours] == []


def _table_of(entry: Any) -> str | None:
    """The table an Alembic diff entry is about ("add_column", schema, table, ...) or (op, Table|Index)."""
    if isinstance(entry, list):  # modify_* entries come grouped
        return _table_of(entry[0])
    for part in entry[1:]:
        if isinstance(part, str):
            return part
        table = getattr(part, "table", None)
        if table is not None:
            return str(table.name)
        if hasattr(part, "name") and hasattr(part, "columns"):
            return str(part.name)
    return None
