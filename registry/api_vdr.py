"""HTTP API of the verifiable data registry (blueprint `vdr`).

Public:
    GET  /issuers/<department>/did.json          the department's current DID document (did:web)
    GET  /issuers/<department>/history           every version with its log index and receipt
    GET  /status/<department>/<list_id>          the latest status list credential (Cache-Control per ttl)
    GET  /trust-list                             the latest signed trust list
Writers (Authorization: Bearer <token from WORKCRED_REGISTRY_API_TOKENS>):
    PUT  /issuers/<department>/did.json          publish the next signed version -> 201
    PUT  /status/<department>/<list_id>          publish the next signed version of a list -> 201
    POST /status/<department>/<list_id>/allocate a fresh random unused index -> 201 {"index": n}
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Response, current_app, jsonify, request

from agents.loader import parse_json
from agents.multibase import b64url
from web import csrf
from web.config import RoleConfig

from .api_log import registry, require_api_token
from .vdr_dids import DidRegistry
from .vdr_status import StatusRegistry
from .vdr_trust import latest_trust_list

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
