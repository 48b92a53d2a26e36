"""The issuer (Seoul city staff) app: the landing page, and the staff console under /console."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import Flask, render_template

from agents.errors import Error
from web import health, metrics
from web.config import RoleConfig, peer_url
from web.factory import base_app

from . import api_wallet, console, jobs, oidc_login
from .protocols import install_from_config
from .service import IssuerService

#: used only with WORKCRED_DEV=1 when WORKCRED_ISSUER_DEPARTMENTS is unset, so `make run` shows one
# the department `make run` seeds (workcred/demo.py), so the page and the trust list agree
BACKGROUND_SECONDS = 15.0
DEV_DEPARTMENTS = "demo-jobs:서울특별시 일자리정책과(시연용)|Job Policy Division, Seoul (demo)"


@dataclass(frozen=True)
class Department:
    """A city department that issues credentials under its own key."""

    slug: str
    name_ko: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_ko


def parse_departments(spec: str) -> tuple[Department, ...]:
    """Parse `slug:한국어 이름|English name;slug2:...` (the WORKCRED_ISSUER_DEPARTMENTS format)."""
    departments = []
    for entry in filter(None, (part.strip() for part in spec.split(";"))):
        slug, sep, names = entry.partition(":")
        name_ko, _, name_en = names.partition("|")
        if not sep or not slug.strip() or not name_ko.strip():
            raise ValueError(f"WORKCRED_ISSUER_DEPARTMENTS: expected 'slug:이름|Name', got {entry!r}")
        departments.append(Department(slug.strip(), name_ko.strip(), (name_en or name_ko).strip()))
    return tuple(departments)


class _Background:
    """Every BACKGROUND_SECONDS: resume orphaned bulk jobs, log pending audit events in the registry, fetch
    receipts of checkpointed leaves. `close()` (the app's shutdown, `web.factory.close_app`) stops it
    before the service's connections close."""

    def __init__(self, svc: IssuerService) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(svc,), name="issuer-background", daemon=True)
        self._thread.start()

    def _run(self, svc: IssuerService) -> None:
        log = logging.getLogger(__name__)
        while not self._stop.wait(BACKGROUND_SECONDS):
            try:
                jobs.resume_unfinished(svc)  # bulk jobs whose runner died (kill -9, a restart) carry on
                svc.flush_audit()
                svc.collect_receipts()
            except Error as e:  # the registry may be down: the rows wait for the next round
                log.warning("issuer background round failed: %s", e.diagnostics("en"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def create_app(config: RoleConfig | None = None, *, service: IssuerService | None = None) -> Flask:
    """The issuer app (`gunicorn 'issuer.app:create_app()'`); migrates its database.

    `app.extensions["issuer"]` is the `IssuerService` (built from the settings, see
    `IssuerService.from_config`; tests pass their own) every route goes through.
    """
    config = config or RoleConfig.from_env("issuer")
    app = base_app(__name__, config)
    svc = app.extensions["issuer"] = service or IssuerService.from_config(config)
    health.add_check(app, "database", health.session_check(svc.session_factory))
    health.add_check(app, "registry", health.http_check(svc.registry.base_url + "/log/checkpoint"))
    health.add_check(app, "keystore", svc.keys.names)  # the department keys can be read
    metrics.add_collector(app, "workcred_job_queue_depth", "Rows waiting in bulk jobs", lambda: jobs.queue_depth(svc))
    app.register_blueprint(api_wallet.bp)
    oidc_login.install(app, app.extensions["issuer"], config)
    install_from_config(app, config, svc)
    if config.extra.get("background", "1") != "0":
        app.extensions["issuer.background"] = _Background(svc)
    console.install(app, svc, owns_service=service is None)
    spec = config.extra.get("departments") or (DEV_DEPARTMENTS if config.dev else "")
    departments = parse_departments(spec)
    # the registry renders the trust list for people at /trust; TRUST_LIST_URL overrides where it lives
    trust_list_url = config.extra.get("trust_list_url") or peer_url(config, "registry") + "/trust"

    @app.get("/")
    def index() -> str:
        return render_template("issuer/index.html", departments=departments, trust_list_url=trust_list_url)

    return app
