"""HTTP API of the verifiable data registry (blueprint `vdr`).

Public:
    GET  /issuers/<department>/did.json          the department's current DID document (did:web)
    GET  /issuers/<department>/history           every version with its log index and receipt
    GET  /status/<department>                    the department's lists {lists: [{id, url, purpose, version, logIndex}]}
    GET  /status/<department>/<list_id>          the latest status list credential (Cache-Control per ttl)
    GET  /status/<department>/<list_id>/history?since=<version>
                                                 versions after `since` (pages of 50) with log index and receipt
    GET  /trust-list                             the latest signed trust list
    GET  /trust-list/history?since=<version>     versions after `since` (pages of 50) with log index and receipt
Writers (Authorization: Bearer <token from WORKCRED_REGISTRY_API_TOKENS>):
    PUT  /issuers/<department>/did.json          publish the next signed version -> 201
    PUT  /status/<department>/<list_id>          publish the next signed version of a list -> 201
    POST /status/<department>/<list_id>/allocate a fresh random unused index -> 201 {"index": n}
"""

from __future__ import annotations

import json
from typing import Any, cast

from flask import Blueprint, Response, current_app, jsonify, request

from agents.errors import InvalidInput
from agents.loader import parse_json
from agents.multibase import b64url
from web import csrf
from web.config import RoleConfig

from .api_log import registry, require_api_token
from .vdr_dids import DidRegistry
from .vdr_status import HISTORY_PAGE, StatusRegistry
from .vdr_trust import latest_trust_list, trust_list_history

bp = Blueprint("vdr", __name__)
csrf.exempt(bp)  # a machine API: writers authenticate with a bearer token, never a cookie

#: a status list without a ttl is cached this long (seconds)
DEFAULT_MAX_AGE = 300


def base_url() -> str:
    config = cast(RoleConfig, current_app.config["WORKCRED"])
    return config.base_url or f"http://{config.host}:{config.port}"


def dids() -> DidRegistry:
    return DidRegistry(registry(), base_url())


def statuses() -> StatusRegistry:
    return StatusRegistry(registry(), dids())


def _json(body: Any, status: int = 200, *, cache: str = "no-cache") -> Response:
    resp = jsonify(body)
    resp.status_code = status
    resp.headers["Cache-Control"] = cache
    return resp


@bp.get("/issuers/<department>/did.json")
def get_did_document(department: str) -> Response:
    resp = _json(dids().latest(department).document)
    resp.headers["Access-Control-Allow-Origin"] = "*"  # public document; browsers may resolve it
    return resp


@bp.put("/issuers/<department>/did.json")
@require_api_token
def put_did_document(department: str) -> Response:
    document = parse_json(request.get_data(cache=False))
    reg = dids()
    stored = reg.publish(department, document)
    return _json(
        {
            "department": department,
            "did": reg.did(department),
            "versionId": stored.version,
            "logIndex": stored.log_index,
            "digest": b64url(stored.digest),
        },
        201,
    )


@bp.get("/issuers/<department>/history")
def get_did_history(department: str) -> Response:
    reg = dids()
    versions = []
    for v in reg.history(department):
        receipt = registry().log.receipt(v.log_index)
        versions.append(
            {
                "versionId": v.version,
                "logIndex": v.log_index,
                "digest": b64url(v.digest),
                "published": v.created_at.isoformat(),
                "document": v.document,
                # DID documents are public, so their receipts (with the salt) may be too
                "receipt": receipt.to_json() if receipt is not None else None,
            }
        )
    return _json({"did": reg.did(department), "versions": versions})


@bp.get("/status/<department>")
def get_status_lists(department: str) -> Response:
    reg = statuses()
    lists = [
        {"id": list_id, "url": reg.url(department, list_id), "purpose": v.purpose, "version": v.version, "logIndex": v.log_index}
        for list_id, v in reg.lists(department)
    ]
    return _json({"department": department, "lists": lists})


def _since() -> int:
    raw = request.args.get("since", "0")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise InvalidInput(
            "since must be a version number (a non-negative decimal integer)",
            message_ko="since 값은 0 이상의 버전 번호여야 합니다",
        )
    return int(raw)


def _logged(version: int, log_index: int, digest: bytes, published: Any, document: Any) -> dict[str, Any]:
    """One version of a public document with its log position and receipt (None until checkpointed)."""
    receipt = registry().log.receipt(log_index)
    return {
        "version": version,
        "logIndex": log_index,
        "digest": b64url(digest),
        "published": published.isoformat() if published is not None else None,
        "document": document,
        # status and trust lists are public, so their receipts (with the salt) may be too
        "receipt": receipt.to_json() if receipt is not None else None,
    }


def _page(versions: list[dict[str, Any]]) -> Any:
    return versions[-1]["version"] if len(versions) == HISTORY_PAGE else None


@bp.get("/status/<department>/<list_id>/history")
def get_status_history(department: str, list_id: str) -> Response:
    reg = statuses()
    since = _since()
    versions = [
        _logged(v.version, v.log_index, v.digest, v.created_at, v.document)
        for v in reg.history(department, list_id, since=since, limit=HISTORY_PAGE)
    ]
    return _json({"id": reg.url(department, list_id), "versions": versions, "next": _page(versions)})


@bp.get("/status/<department>/<list_id>")
def get_status_list(department: str, list_id: str) -> Response:
    stored = statuses().latest(department, list_id)
    max_age = stored.ttl_ms // 1000 if stored.ttl_ms is not None else DEFAULT_MAX_AGE
    resp = _json(stored.document, cache=f"public, max-age={max_age}")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.put("/status/<department>/<list_id>")
@require_api_token
def put_status_list(department: str, list_id: str) -> Response:
    credential = parse_json(request.get_data(cache=False))
    stored = statuses().publish(department, list_id, credential)
    return _json({"version": stored.version, "logIndex": stored.log_index, "length": stored.length}, 201)


@bp.post("/status/<department>/<list_id>/allocate")
@require_api_token
def post_allocate(department: str, list_id: str) -> Response:
    return _json({"index": statuses().allocate(department, list_id)}, 201)


@bp.get("/trust-list")
def get_trust_list() -> Response:
    return _json(latest_trust_list(registry().session_factory), cache="public, max-age=60")


@bp.get("/trust-list/history")
def get_trust_list_history() -> Response:
    rows = trust_list_history(registry().session_factory, since=_since(), limit=HISTORY_PAGE)
    versions = [
        _logged(r.version, r.log_index, bytes(r.digest), r.created_at, json.loads(r.document)) for r in rows
    ]
    return _json({"versions": versions, "next": _page(versions)})
