"""The verifier app: VC-API verification, OpenID4VP requests, and (when present) the employer's pages."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask

from web import db
from web.config import RoleConfig
from web.factory import base_app

from .api import bp as api_bp
from .oid4vp import bp as oid4vp_bp
from .service import VerifierService, VerifierSettings

PURGE_SECONDS = 60.0


def create_app(config: RoleConfig | None = None, **service_options: Any) -> Flask:
    """Build the verifier app; migrates its database and starts the purge timer.

    Settings: see `VerifierSettings.from_config` (WORKCRED_VERIFIER_*); BACKGROUND=0 disables the timer.
    Call `app.extensions["verifier"].close()` to release connections.
    `service_options` go to `VerifierService` (tests inject `clock`, `memory`, `anchor`, `fetcher`).
    """
    config = config or RoleConfig.from_env("verifier")
    app = base_app("verifier", config)
    url = config.database_url or db.database_url("verifier")
    db.migrate("verifier", url)
    engine = db.make_engine(url)
    svc = VerifierService(VerifierSettings.from_config(config), db.session_factory(engine), engine=engine, **service_options)
    app.extensions["verifier"] = svc
    app.register_blueprint(api_bp)
    app.register_blueprint(oid4vp_bp)
    try:
        from .pages import bp as pages_bp
    except ModuleNotFoundError as e:
        if e.name != "verifier.pages":
            raise
    else:
        app.register_blueprint(pages_bp)
    if config.extra.get("background", "1") != "0":
        _start_purge(svc)
    return app


def _start_purge(svc: VerifierService) -> None:
    """Erase presented personal data of expired requests every minute (status reads also purge)."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(PURGE_SECONDS):
            try:
                svc.purge_expired()
            except Exception:  # a failed sweep is retried next minute; the log keeps the trace
                import logging

                logging.getLogger(__name__).exception("purge failed")

    threading.Thread(target=run, name="verifier-purge", daemon=True).start()
