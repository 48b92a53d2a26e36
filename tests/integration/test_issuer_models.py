"""The issuer's migrations build exactly the tables of its models, on SQLite and PostgreSQL."""

from __future__ import annotations

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
    assert diff == []
    assert {"department", "project", "participant", "contract", "invitation", "outbox_message",
            "issued_credential", "audit_event", "bulk_job", "worker_token"} <= tables  # fmt: skip
