"""The verifier app: VC-API verification, OpenID4VP requests, and (when present) the employer's pages."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from flask import Flask

from web import db, health
from web.config import RoleConfig
from web.factory import base_app

from .api import bp as api_bp
from .checkpoints import DbCheckpointMemory
from .oid4vp import bp as oid4vp_bp
from .service import VerifierService
from .settings import VerifierSettings

if TYPE_CHECKING:
    from agents.evm import EvmAnchor

PURGE_SECONDS = 60.0


def evm_anchor(config: RoleConfig) -> EvmAnchor | None:
    """The read-only EVM anchor from WORKCRED_VERIFIER_EVM_RPC and _EVM_CONTRACT (+ _EVM_TIMEOUT), or None.

    Read by the same function as the registry's settings (`agents.evm.anchor.from_settings`), read-only:
    a verifier takes no key. Setting only one of RPC and CONTRACT is a configuration error.
    """
    extra = config.extra
    values = {k: extra.get(f"evm_{k}") or "" for k in ("rpc", "contract", "timeout")}
    if not values["rpc"].strip() and not values["contract"].strip():
        return None  # web3 is imported only where anchoring is configured
    from agents.evm import anchor as evm

    return evm.from_settings(values, "WORKCRED_VERIFIER_EVM_", read_only=True)


def create_app(config: RoleConfig | None = None, **service_options: Any) -> Flask:
    """Build the verifier app; migrates its database and starts the purge timer.

    Settings: see `VerifierSettings.from_config` (WORKCRED_VERIFIER_*) and `evm_anchor`; BACKGROUND=0
    disables the timer. The split-view memory lives in the database (`DbCheckpointMemory`).
    Call `app.extensions["verifier"].close()` to release connections.
    `service_options` go to `VerifierService` (tests inject `clock`, `memory`, `anchor`, `fetcher`).
    """
    config = config or RoleConfig.from_env("verifier")
    app = base_app("verifier", config)
    url = config.database_url or db.database_url("verifier")
    db.migrate("verifier", url)
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    service_options.setdefault("memory", DbCheckpointMemory(factory))
    if "anchor" not in service_options:
        service_options["anchor"] = evm_anchor(config)
    svc = VerifierService(VerifierSettings.from_config(config), factory, engine=engine, **service_options)
    app.extensions["verifier"] = svc
    health.add_check(app, "database", health.database_check(engine))
    if svc.settings.registry_url and svc.settings.profile != "core":
        health.add_check(app, "registry", health.http_check(f"{svc.settings.registry_url}/log/checkpoint"))
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
