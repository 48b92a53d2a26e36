"""The wallet's migration creates exactly the tables and indexes its models declare (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from holder_wallet import models
from web import db


def test_migration_matches_models(db_url: str) -> None:
    db.migrate("holder_wallet", db_url)
    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), models.Base.metadata)
            assert diff == []
            names = {ix["name"] for ix in inspect(conn).get_indexes("held_credential")}
            assert "ix_held_credential_worker_kind_end" in names
    finally:
        engine.dispose()
