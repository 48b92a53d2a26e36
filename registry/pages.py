"""The registry's pages for people: what the registry is (`/`) and the trust list rendered (`/trust`).

A curious citizen, a journalist or an employer's IT person reads here what the machine API serves as
JSON; every figure links to the raw document it comes from. Nothing here writes.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, render_template

from agents.didhistory import HISTORY
from agents.errors import Error, NotFound

from .api_log import registry
from .api_vdr import dids
from .log import SignedCheckpoint
from .vdr_dids import check_department
from .vdr_trust import latest_trust_list

bp = Blueprint("pages", __name__, template_folder="templates")


@bp.get("/")
def index() -> str:
    ctx = registry()
    try:
        trust = latest_trust_list(ctx.session_factory)
    except NotFound:
        trust = None
    return render_template(
        "registry/index.html",
        size=ctx.log.size(),
        checkpoint=ctx.log.latest_signed(ctx.witnesses),
        root=_root_text,
        witnesses=sorted(ctx.witnesses),
        origin=ctx.log.origin,
        trust=trust,
    )


@bp.get("/trust")
def trust_page() -> str:
    try:
        trust: dict[str, Any] | None = latest_trust_list(registry().session_factory)
    except NotFound:
        trust = None
    issuers = [_issuer(entry) for entry in (trust or {}).get("issuers", []) if isinstance(entry, dict)]
    return render_template("registry/trust.html", trust=trust, issuers=issuers)


# --- what the pages show ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One key of a department's DID document."""

    id: str
    public: str
    in_use: bool
    retired_in: int | None  # the DID document version that retired it


@dataclass(frozen=True)
class Issuer:
    """One accredited department as people read it (links go to the raw JSON)."""

    department: str
    name: dict[str, str]
    did: str
    since: str
    hosted: bool  # its DID document lives on this registry (then keys and history are shown)
    keys: tuple[Key, ...]
    versions: int
    first_published: datetime | None


def _root_text(checkpoint: SignedCheckpoint) -> str:
    """The root hash as the checkpoint note writes it (standard base64, C2SP)."""
    return base64.b64encode(checkpoint.root).decode("ascii")


def _issuer(entry: dict[str, Any]) -> Issuer:
    department = str(entry.get("department", ""))
    did = str(entry.get("did", ""))
    name = entry.get("name") if isinstance(entry.get("name"), dict) else {}
    keys: tuple[Key, ...] = ()
    versions, first = 0, None
    reg = dids()
    try:
        hosted = reg.did(check_department(department)) == did
        history = reg.history(department) if hosted else []
    except Error:  # not hosted here, or a name the registry would refuse: the entry without keys
        hosted, history = False, []
    if history:
        versions, first = len(history), history[0].created_at
        keys = _keys(history[-1].document)
    return Issuer(department, {str(k): str(v) for k, v in (name or {}).items()}, did, str(entry.get("accredited", "")),
                  hosted and bool(history), keys, versions, first)  # fmt: skip


def _keys(document: dict[str, Any]) -> tuple[Key, ...]:
    active = {str(k) for k in document.get("assertionMethod", []) if isinstance(k, str)}
    retired: dict[str, int] = {}
    history = document.get(HISTORY)
    for item in history.get("retiredKeys", []) if isinstance(history, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("retiredIn"), int):
            retired[str(item.get("id"))] = item["retiredIn"]
    out = []
    for vm in document.get("verificationMethod", []):
        if isinstance(vm, dict):
            kid = str(vm.get("id", ""))
            out.append(Key(kid, str(vm.get("publicKeyMultibase", "")), kid in active, retired.get(kid)))
    return tuple(out)
