"""HTTP API of the append-only log (blueprint `log`, mounted at /log).

Public (anyone may audit the log):
    GET  /log/checkpoint                                  latest signed checkpoint, text/plain (C2SP signed note)
    GET  /log/key                                         {origin, keyName, verifierKey, publicKeyMultibase,
                                                           retiredKeys: [{verifierKey, publicKeyMultibase, lastSize}],
                                                           verifierKeys: [vkey, vkey@lastSize, ...]}
    GET  /log/entries/<index>                             {index, type, leafHash, createdAt} (never the salt)
    GET  /log/proof/inclusion?leafHash=<b64url>&treeSize=<n>   {leafIndex, treeSize, inclusionProof: [b64url]}
    GET  /log/proof/consistency?first=<n>&second=<n>      {first, second, consistencyProof: [b64url]}
Writers (Authorization: Bearer <token from WORKCRED_REGISTRY_API_TOKENS>):
    POST /log/entries        {"type": <entry type>, "digest": <b64url SHA-256 of the JCS document>}
                             -> 201 {index, salt, leafHash}
    GET  /log/receipts/<index>   200 receipt JSON, or 202 {"status": "pending"} until a checkpoint covers it
    POST /log/checkpoint     sign a checkpoint now -> 200 signed note
Witnesses (no token: a cosignature by a configured witness key authenticates itself):
    POST /log/checkpoint/cosignatures   text/plain: one of our checkpoints with tlog-cosignature/v1 lines
                                        -> 200 the stored note (GET /log/checkpoint serves the witness lines)
Hashes in JSON are base64url without padding; the checkpoint's root is standard base64 (C2SP).
"""

from __future__ import annotations

import functools
import hmac
import re
from collections.abc import Callable
from typing import Any, cast

from flask import Blueprint, Response, current_app, request

from agents import merkle
from agents.checkpoint import ALG_COSIGNATURE_V1, MAX_NOTE_BYTES, format_retired_key, verifier_key
from agents.errors import InvalidInput, NotFound, RegistryError, Unauthorized
from agents.loader import parse_json
from agents.multibase import b64url, b64url_decode
from web import csrf
from web.db import transaction

from .log import RegistryContext

bp = Blueprint("log", __name__, url_prefix="/log")
csrf.exempt(bp)  # a machine API: writers authenticate with a bearer token, never a cookie

_B64URL_HASH = re.compile(r"[A-Za-z0-9_-]{43}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,18}")
_MAX_INDEX = 2**63 - 1


def registry() -> RegistryContext:
    """The registry's shared objects (log, session factory, tokens) for this app."""
    return cast(RegistryContext, current_app.extensions["registry"])


def require_api_token[F: Callable[..., Any]](view: F) -> F:
    """Bearer-token guard for writer endpoints (also used by the VDR blueprint)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        presented = token.strip().encode("utf-8")
        ok = False
        if scheme.lower() == "bearer" and presented:
            for known in registry().api_tokens:
                # compare against every token, so timing does not tell which one nearly matched
                ok |= hmac.compare_digest(presented, known.encode("utf-8"))
        if not ok:
            raise Unauthorized(
                "a valid bearer token is required", message_ko="유효한 인증 토큰(Bearer)이 필요합니다"
            )
        return view(*args, **kwargs)

    return cast(F, wrapped)


@bp.get("/checkpoint")
def get_checkpoint() -> Response:
    note = registry().log.latest_note()
    if note is None:
        raise NotFound("the log has no checkpoint yet", message_ko="아직 체크포인트가 없습니다")
    return _note_response(note)


@bp.post("/checkpoint")
@require_api_token
def post_checkpoint() -> Response:
    registry().log.checkpoint()
    note = registry().log.latest_note()
    assert note is not None  # checkpoint() just stored one
    return _note_response(note)


@bp.post("/checkpoint/cosignatures")
def post_cosignatures() -> Response:
    ctx = registry()
    if not ctx.witnesses:
        raise NotFound("this registry has no witnesses configured", message_ko="설정된 증인이 없습니다")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_NOTE_BYTES:
        raise RegistryError("the cosigned checkpoint is too large", message_ko="체크포인트가 너무 큽니다")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the body is a UTF-8 signed note", message_ko="본문은 UTF-8 서명 노트여야 합니다") from None
    return _note_response(ctx.log.add_cosignatures(text, ctx.witnesses))


@bp.get("/key")
def get_key() -> dict[str, Any]:
    log = registry().log
    return {
        "origin": log.origin,
        "keyName": log.key_name,
        "verifierKey": verifier_key(log.key_name, log.public_key),
        "publicKeyMultibase": log.public_key.multibase,
        # rotated-out keys: their checkpoints up to lastSize still verify (clients configure these)
        "retiredKeys": [
            {
                "verifierKey": verifier_key(log.key_name, k.public),
                "publicKeyMultibase": k.public.multibase,
                "lastSize": k.last_size,
            }
            for k in log.retired_keys
        ],
        "verifierKeys": [verifier_key(log.key_name, log.public_key)]
        + [format_retired_key(log.key_name, k) for k in log.retired_keys],
        "witnesses": [verifier_key(n, k, ALG_COSIGNATURE_V1) for n, k in registry().witnesses.items()],
    }


@bp.get("/entries/<int:index>")
def get_entry(index: int) -> dict[str, Any]:
    e = registry().log.entry(_index(index))
    return {"index": e.index, "type": e.type, "leafHash": b64url(e.leaf_hash), "createdAt": e.created_at.isoformat()}


@bp.post("/entries")
@require_api_token
def post_entry() -> tuple[dict[str, Any], int]:
    body = parse_json(request.get_data(cache=False))
    if not isinstance(body, dict) or set(body) != {"type", "digest"}:
        raise InvalidInput(
            'the body is {"type": ..., "digest": ...}', message_ko='요청 본문은 {"type", "digest"} 객체여야 합니다'
        )
    type_tag, digest = body["type"], body["digest"]
    if not isinstance(type_tag, str) or type_tag not in merkle.ENTRY_TYPES:
        raise InvalidInput(
            "type is one of: " + ", ".join(merkle.ENTRY_TYPES), message_ko="type 값이 올바르지 않습니다"
        )
    ctx = registry()
    with transaction(ctx.session_factory) as s:
        result = ctx.log.append(s, type_tag, _hash_param(digest, "digest"))
    ctx.log.maybe_checkpoint()
    return {"index": result.index, "salt": b64url(result.salt), "leafHash": b64url(result.leaf_hash)}, 201


@bp.get("/receipts/<int:index>")
@require_api_token
def get_receipt(index: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    receipt = registry().log.receipt(_index(index))
    if receipt is None:
        return {"status": "pending", "index": index}, 202, {"Retry-After": "2"}
    return receipt.to_json(), 200, {}


@bp.get("/proof/inclusion")
def get_inclusion() -> dict[str, Any]:
    leaf = _hash_param(request.args.get("leafHash"), "leafHash")
    size = _int_param("treeSize")
    index, proof = registry().log.inclusion_proof(leaf, size)
    return {"leafIndex": index, "treeSize": size, "inclusionProof": [b64url(p) for p in proof]}


@bp.get("/proof/consistency")
def get_consistency() -> dict[str, Any]:
    first, second = _int_param("first"), _int_param("second")
    proof = registry().log.consistency_proof(first, second)
    return {"first": first, "second": second, "consistencyProof": [b64url(p) for p in proof]}


def _note_response(note: str) -> Response:
    resp = Response(note, mimetype="text/plain")
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _index(index: int) -> int:
    if index > _MAX_INDEX:
        raise NotFound(f"no log entry {index}", message_ko="해당 로그 항목이 없습니다")
    return index


def _int_param(name: str) -> int:
    value = request.args.get(name)
    if value is None or not _DECIMAL.fullmatch(value) or int(value) > _MAX_INDEX:
        raise RegistryError(
            f"query parameter {name} must be a non-negative decimal integer",
            message_ko=f"{name} 값은 0 이상의 10진수 정수여야 합니다",
        )
    return int(value)


def _hash_param(value: object, name: str) -> bytes:
    if not isinstance(value, str) or not _B64URL_HASH.fullmatch(value):
        raise RegistryError(
            f"{name} must be a 32-byte hash in base64url without padding (43 characters)",
            message_ko=f"{name} 값은 base64url로 인코딩한 32바이트 해시여야 합니다",
        )
    raw = b64url_decode(value)
    if b64url(raw) != value:  # non-canonical trailing bits
        raise RegistryError(f"{name} is not canonical base64url", message_ko=f"{name} 값이 올바르지 않습니다")
    return raw
