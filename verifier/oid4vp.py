"""OpenID4VP 1.0 verifier routes (blueprint `oid4vp`; JSON and form posts from wallets, CSRF-exempt).

    POST /requests                   create a request {years?, purpose?} -> 201 {id, authorizationRequest, requestUri, statusUrl, expiresAt}
    GET  /requests/<id>/object       the Request Object (JSON, or an unsecured JWT for Accept: application/oauth-authz-req+jwt)
    POST /requests/response          direct_post from the wallet: form vp_token (JSON) + state -> 200 {} | 400 report | 409 replay | 410 expired
    GET  /requests/<id>/status?token=...   pending / answered (verdict, report, what was presented) / expired
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from flask import Blueprint, Response, jsonify, request

from agents import loader, oid4vp
from agents.errors import InvalidInput, NotFound
from web import csrf

from .api import service

bp = Blueprint("oid4vp", __name__)
csrf.exempt(bp)  # wallets post from other origins without cookies; requests are bound by nonce and state

# request ids are secrets.token_urlsafe(18); anything else is unknown before it reaches the database
# (PostgreSQL refuses a NUL in a text parameter: that was a 500)
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _known_id(value: str | None) -> str:
    if value is None or not _REQUEST_ID.fullmatch(value):
        raise NotFound("no such request, or it has expired", message_ko="요청이 없거나 유효시간이 지났습니다")
    return value


@bp.post("/requests")
def create_request() -> tuple[Response, int]:
    raw = request.get_data(cache=False)
    body: Any = loader.parse_json(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise InvalidInput("the body is a JSON object", message_ko="요청 본문은 JSON 객체여야 합니다")
    unknown = set(body) - {"years", "purpose", "dcql_query"}
    if unknown:
        raise InvalidInput(f"unknown members: {', '.join(sorted(unknown))}", message_ko="알 수 없는 항목이 있습니다")
    years = body.get("years", 3)
    purpose = body.get("purpose", "")
    if not isinstance(purpose, str) or len(purpose) > 200:
        raise InvalidInput("purpose is a string of at most 200 characters", message_ko="purpose는 200자 이하의 문자열이어야 합니다")
    if "dcql_query" in body and not isinstance(body["dcql_query"], dict):
        raise InvalidInput("dcql_query must be an object", message_ko="dcql_query는 객체여야 합니다")
    created = service().create_request(years=years, purpose=purpose, query=body.get("dcql_query"))
    return jsonify(created.to_json()), 201


@bp.get("/requests/<request_id>/object")
def request_object(request_id: str) -> Response:
    obj = service().request_object(_known_id(request_id))
    if request.accept_mimetypes.best_match(["application/json", oid4vp.REQUEST_OBJECT_JWT]) == oid4vp.REQUEST_OBJECT_JWT:
        header = _b64(json.dumps({"alg": "none", "typ": "oauth-authz-req+jwt"}).encode())
        payload = _b64(json.dumps(obj, ensure_ascii=False).encode("utf-8"))
        return Response(f"{header}.{payload}.", mimetype=oid4vp.REQUEST_OBJECT_JWT)
    return jsonify(obj)


@bp.post("/requests/response")
def direct_post() -> Response:
    vp_token, state = request.form.get("vp_token"), request.form.get("state")
    if not vp_token or not state:
        raise InvalidInput("direct_post needs the form fields vp_token and state", message_ko="vp_token과 state가 필요합니다")
    oid4vp.parse_vp_token(vp_token)  # the shape, before the request's nonce is claimed
    report = service().receive_response(vp_token, _known_id(state))
    if report.verified:
        return jsonify({})
    resp = jsonify({"error": "invalid_request", "error_description": report.summary("en"), "report": report.to_json()})
    resp.status_code = 400
    return resp


@bp.get("/requests/<request_id>/status")
def request_status(request_id: str) -> Response:
    return jsonify(service().request_status(_known_id(request_id), request.args.get("token", "")))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
