"""`/healthz` (the process is up) and `/readyz` (what it depends on answers) for every role.

A role registers what it needs before it can serve (`add_check(app, name, fn)`): its database
(`database_check(engine)`), the registry it talks to (`http_check(url)`), the issuing side's key
store. `/readyz` runs every check with a short timeout and answers 200 when all pass, 503 with
each failing check's name and a one-line reason otherwise; a load balancer takes the instance out
of rotation on 503 and back when it passes again (nothing is cached: readiness recovers by itself).
The reasons name the dependency, never a connection string or a secret.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import httpx
from flask import Flask, Response, jsonify
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

#: a readiness check: returns normally when ready, raises (any exception) when not
Check = Callable[[], None]

CHECK_TIMEOUT = 3.0
_pool = ThreadPoolExecutor(4, thread_name_prefix="readyz")


def add_check(app: Flask, name: str, fn: Check) -> None:
    """Make `/readyz` depend on `fn` (called at every probe; raising means not ready)."""
    app.extensions.setdefault("workcred_readiness", {})[name] = fn


def database_check(engine: Engine) -> Check:
    def check() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return check


def session_check(factory: sessionmaker[Session]) -> Check:
    """The database behind a session factory answers (for roles that keep only the factory)."""

    def check() -> None:
        with factory() as session:
            session.execute(text("SELECT 1"))

    return check


def http_check(url: str, timeout: float = 2.0) -> Check:
    """Ready when `url` answers with a status below 500."""

    def check() -> None:
        resp = httpx.get(url, timeout=timeout, trust_env=False)
        if resp.status_code >= 500:
            raise RuntimeError(f"HTTP {resp.status_code}")

    return check


def _reason(e: BaseException) -> str:
    # the exception's class and first line: enough to act on, without connection strings or stack traces
    first = str(e).strip().splitlines()[0] if str(e).strip() else ""
    first = first.split("(Background on this error")[0].strip()
    return f"{type(e).__name__}: {first[:200]}" if first else type(e).__name__


def run_checks(app: Flask) -> dict[str, str]:
    """Each registered check's outcome: "ok" or the reason it failed (all run concurrently)."""
    checks: dict[str, Check] = app.extensions.get("workcred_readiness", {})
    futures = {name: _pool.submit(fn) for name, fn in checks.items()}
    deadline = time.monotonic() + CHECK_TIMEOUT
    out: dict[str, str] = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            out[name] = "ok"
        except FutureTimeout:
            out[name] = f"no answer within {CHECK_TIMEOUT:g} s"
        except Exception as e:  # any failure of a dependency means "not ready", never a 500
            out[name] = _reason(e)
    return out


def install(app: Flask, role: str) -> None:
    @app.get("/healthz")
    def _health() -> dict[str, str]:
        return {"status": "ok", "role": role}

    @app.get("/readyz")
    def _ready() -> tuple[Response, int]:
        checks = run_checks(app)
        ready = all(v == "ok" for v in checks.values())
        return jsonify({"status": "ready" if ready else "not ready", "role": role, "checks": checks}), (200 if ready else 503)
