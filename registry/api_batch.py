"""Batch writer routes for the bulk issuer: one round trip per batch, and an append that is idempotent.

Writers (Authorization: Bearer <token from WORKCRED_REGISTRY_API_TOKENS>):
    POST /log/entries/batch   {"entries": [{"type", "digest"}, ...]} (at most 1000)
                              -> 201 {"entries": [{index, salt, leafHash, created}]} in request order;
                              an entry whose (type, digest) is already in the log is returned as it is
                              (created: false), so a resumed bulk run never logs a credential twice
    POST /log/receipts/batch  {"indexes": [n, ...]} (at most 1000)
                              -> 200 {"receipts": [receipt JSON or null while no checkpoint covers it]}
    POST /status/<department>/<list_id>/allocate/batch   {"count": n} (at most 1000)
                              -> 201 {"indexes": [...]} fresh random unused indexes
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from agents import merkle
from agents.errors import InvalidInput
from agents.loader import parse_json
from agents.multibase import b64url
from web import csrf
from web.db import transaction

from .api_log import _hash_param, registry, require_api_token
from .vdr_status import MAX_ALLOCATE

bp = Blueprint("batch", __name__)
csrf.exempt(bp)  # a machine API: writers authenticate with a bearer token, never a cookie

MAX_BATCH = 1000


def _body_list(key: str) -> list[Any]:
    body = parse_json(request.get_data(cache=False))
    items = body.get(key) if isinstance(body, dict) and set(body) == {key} else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise InvalidInput(
            f'the body is {{"{key}": [...]}} with 1-{MAX_BATCH} items',
            message_ko=f'요청 본문은 항목 1~{MAX_BATCH}개의 {{"{key}": [...]}} 객체여야 합니다',
        )
    return items


@bp.post("/log/entries/batch")
@require_api_token
def post_entries() -> tuple[dict[str, Any], int]:
    items: list[tuple[str, bytes]] = []
    for entry in _body_list("entries"):
        if not isinstance(entry, dict) or set(entry) != {"type", "digest"} or entry["type"] not in merkle.ENTRY_TYPES:
            raise InvalidInput(
                'each entry is {"type": <entry type>, "digest": <b64url SHA-256>}',
                message_ko='각 항목은 {"type": 항목 종류, "digest": b64url SHA-256} 객체여야 합니다',
            )
        items.append((entry["type"], _hash_param(entry["digest"], "digest")))
    ctx = registry()
    with transaction(ctx.session_factory) as s:
        results = ctx.log.append_once(s, items)
    ctx.log.maybe_checkpoint()
    entries = [
        {"index": r.index, "salt": b64url(r.salt), "leafHash": b64url(r.leaf_hash), "created": created}
        for r, created in results
    ]
    return {"entries": entries}, 201


@bp.post("/log/receipts/batch")
@require_api_token
def post_receipts() -> dict[str, Any]:
    indexes = _body_list("indexes")
    if not all(type(i) is int and 0 <= i < 2**63 for i in indexes):
        raise InvalidInput("indexes are non-negative integers", message_ko="indexes는 0 이상의 정수여야 합니다")
    receipts = registry().log.receipts(indexes)
    return {"receipts": [r.to_json() if r is not None else None for r in receipts]}


@bp.post("/status/<department>/<list_id>/allocate/batch")
@require_api_token
def post_allocate(department: str, list_id: str) -> tuple[dict[str, Any], int]:
    from .api_vdr import statuses

    body = parse_json(request.get_data(cache=False))
    count = body.get("count") if isinstance(body, dict) and set(body) == {"count"} else None
    if type(count) is not int or not 1 <= count <= MAX_ALLOCATE:
        raise InvalidInput(
            f'the body is {{"count": 1-{MAX_ALLOCATE}}}', message_ko=f'요청 본문은 {{"count": 1~{MAX_ALLOCATE}}}입니다'
        )
    return {"indexes": statuses().allocate_many(department, list_id, count)}, 201
