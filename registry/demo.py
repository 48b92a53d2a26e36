"""Demo data for `make run`, the registry's part: the demo department's accreditation on the trust list.

`seed_demo(app)` is called once per data directory by `workcred/demo.py`, after every role serves,
before the city's issuing side seeds (`workcred.demo.seed_city`: the department's key, did:web
document, status lists and the sample certificate, published over this registry's HTTP API with
an API token). Editing the trust list is the registry's own administration, signed with the
registry's key; the registry never holds a department's key. Idempotent: it accredits only when
the department is not on the current trust list.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from flask import Flask

from agents.errors import NotFound
from web.config import RoleConfig
from workcred.demo import DEPARTMENT, LABEL_EN, LABEL_KO

from .app import load_signing_key
from .log import RegistryContext
from .vdr_dids import DidRegistry
from .vdr_trust import accredit, latest_trust_list, update_trust_list

__all__ = ["accredit_demo", "seed_demo"]


def seed_demo(app: Flask) -> None:
    """The `make run` hook (see workcred/demo.py)."""
    accredit_demo(app)


def accredit_demo(app: Flask, *, at: datetime | None = None) -> str:
    """Put the demo department on the signed trust list (once); returns its DID."""
    config = cast(RoleConfig, app.config["WORKCRED"])
    ctx = cast(RegistryContext, app.extensions["registry"])
    at = (at or datetime.now(UTC)).replace(microsecond=0)
    base_url = (config.base_url or f"http://{config.host}:{config.port}").rstrip("/")
    did = DidRegistry(ctx, base_url).did(DEPARTMENT)
    try:
        listed = latest_trust_list(ctx.session_factory).get("issuers", [])
    except NotFound:
        listed = []  # no trust list yet: the accreditation below publishes version 1
    if not any(i.get("department") == DEPARTMENT and i.get("did") == did for i in listed):
        change = accredit(DEPARTMENT, did, label_ko=LABEL_KO, label_en=LABEL_EN, at=at)
        update_trust_list(ctx.session_factory, ctx.log, load_signing_key(config), base_url, change, at=at)
    return did
