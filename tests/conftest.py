"""Shared fixtures: database URLs for SQLite and PostgreSQL, paths to the shared vectors, and
`require(flag, reason)` for tests whose tool may be missing.

A missing tool skips its tests (the skip says why) unless its WORKCRED_REQUIRE_<TOOL>=1 flag is set,
as CI sets them: then the tests fail. Flags: WORKCRED_REQUIRE_PG, _ANVIL, _ACAPY, _COMPOSE, _BROWSER (also
implied by CI=true, see tests/e2e/conftest.py), _DIDKIT.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_VECTORS = Path(os.environ.get("WORKCRED_SHARED_VECTORS", ROOT.parent / "shared" / "vectors"))
LOCAL_VECTORS = ROOT / "tests" / "vectors"
PG_URL = os.environ.get("WORKCRED_TEST_PG_URL", "postgresql://127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("WORKCRED_REQUIRE_PG", "0") == "1"

os.environ.setdefault("WORKCRED_DEV", "1")

pytest_plugins = ["tests.anvil", "tests.pii_logs"]


def _pg_available() -> str | None:
    """None when the PostgreSQL test server answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as e:  # any failure means "skip, and say why"
        return f"PostgreSQL at {PG_URL} is not reachable: {type(e).__name__}: {e}".strip()


_PG_REASON = _pg_available()


def required(flag: str) -> bool:
    """True when WORKCRED_REQUIRE_<flag> is set: a missing tool is then a failure, not a skip."""
    return os.environ.get(f"WORKCRED_REQUIRE_{flag}", "0").lower() in ("1", "true", "yes")


def require(flag: str, reason: str) -> NoReturn:
    """A tool is missing: fail when WORKCRED_REQUIRE_<flag> is set, else skip; either way say why."""
    if required(flag):
        pytest.fail(f"WORKCRED_REQUIRE_{flag}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def vectors_dir() -> Path:
    """The W3C vc-di-eddsa vectors: ../shared/vectors, else the copy in tests/vectors."""
    shared = SHARED_VECTORS / "w3c-vc-di-eddsa"
    return shared if shared.exists() else LOCAL_VECTORS / "w3c-vc-di-eddsa"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@contextmanager
def pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards (skips without a server)."""
    if _PG_REASON:
        if REQUIRE_PG:
            pytest.fail(_PG_REASON)
        pytest.skip(_PG_REASON)
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with pg_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs a storage test on both the embedded SQLite and the production PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def issuer_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """For tests that build the issuer app from the environment: its database, master keys and key
    store under tmp_path (never ./var), the master keys given as production would give them."""
    import base64

    monkeypatch.setenv("WORKCRED_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WORKCRED_ISSUER_DATABASE_URL", f"sqlite:///{tmp_path / 'issuer.sqlite3'}")
    monkeypatch.setenv("WORKCRED_KEYSTORE_DIR", str(tmp_path / "keystore"))
    key = base64.urlsafe_b64encode(b"\x05" * 32).rstrip(b"=").decode()
    monkeypatch.setenv("WORKCRED_ISSUER_MASTER_KEY", key)
    monkeypatch.setenv("WORKCRED_KEYSTORE_SECRET", key)
    return tmp_path


@pytest.fixture(autouse=True)
def _restore_environment() -> Iterator[None]:
    """Code under test may set variables for its own process (the `make run` supervisor shares the dev
    registry token that way); no test may leak them into the next one."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)
