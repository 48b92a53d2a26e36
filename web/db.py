"""Storage base shared by every role: engine from a URL, Alembic migrations per role."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_DATA_DIR = Path(os.environ.get("WORKCRED_DATA_DIR", "var"))


def database_url(role: str) -> str:
    """`WORKCRED_<ROLE>_DATABASE_URL`, else an SQLite file under $WORKCRED_DATA_DIR (default ./var)."""
    url = os.environ.get(f"WORKCRED_{role.upper()}_DATABASE_URL")
    if url:
        return normalise_url(url)
    DEFAULT_DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DATA_DIR / (role + '.sqlite3')}"


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kw: Any) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        kw.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kw)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kw.setdefault("pool_pre_ping", True)
    return create_engine(url, **kw)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error (no half-written data)."""
    with factory() as session, session.begin():
        yield session


def migrate(package: str, url: str, revision: str = "heads") -> None:
    """Upgrade the database at `url` with the Alembic scripts in `<package>/migrations` (every branch head)."""
    import importlib

    from alembic import command
    from alembic.config import Config

    pkg = importlib.import_module(package)
    assert pkg.__file__ is not None
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(pkg.__file__).parent / "migrations"))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    # several workers of one role start at once (gunicorn -w 2): one migrates, the others wait for it
    # and then find nothing to do; without the lock they raced ("database is locked", duplicate tables)
    url = normalise_url(url)
    if url.startswith("postgresql"):
        from sqlalchemy import text

        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _lock_key(package)})
                conn.commit()  # the lock is the session's: it outlives this transaction
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
        finally:
            engine.dispose()  # closing the session releases the lock
        return
    with _file_lock(url):
        command.upgrade(cfg, revision)


def _lock_key(package: str) -> int:
    """A stable 63-bit advisory-lock key per role."""
    import hashlib

    return int.from_bytes(hashlib.sha256(f"workcred-migrate:{package}".encode()).digest()[:8], "big") >> 1


@contextmanager
def _file_lock(url: str) -> Iterator[None]:
    """An exclusive lock beside an SQLite file (nothing to lock for an in-memory database)."""
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or ":memory:" in path:
        yield
        return
    import fcntl

    lock = Path(path + ".migrate-lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_env(target_metadata: MetaData) -> None:
    """Body of every role's `migrations/env.py` (online mode only)."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    assert url
    connectable = context.config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
