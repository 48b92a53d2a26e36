"""W3C VC-API verification routes (JSON, CSRF-exempt machine API) and the OpenAPI document.

    POST /credentials/verify     {verifiableCredential, options}   200 report | 400 report | 4xx problem
    POST /presentations/verify   {verifiablePresentation, options} 200 report | 400 report | 4xx problem
    GET  /openapi.json           OpenAPI 3.1 description of these and the OpenID4VP routes
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import cache
from pathlib import Path
from typing import Any, cast

from flask import Blueprint, Response, current_app, jsonify, request

from agents import loader
from agents.errors import InvalidInput
from agents.report import Report
from web import csrf

from .service import VerifierService

bp = Blueprint("verifier_api", __name__)
csrf.exempt(bp)  # a machine API without cookies: nothing for a cross-site form to ride on
log = logging.getLogger(__name__)
OPENAPI = Path(__file__).parent / "openapi.json"


def service() -> VerifierService:
    return cast(VerifierService, current_app.extensions["verifier"])


def _body(member: str) -> tuple[Any, Any, bytes]:
    raw = request.get_data(cache=False)
    body = loader.parse_json(raw)
    if not isinstance(body, dict) or member not in body:
        raise InvalidInput(f"the body is a JSON object with {member!r} (and optional 'options')", message_ko=f"요청 본문은 {member}를 담은 JSON 객체여야 합니다")
    return body[member], body.get("options"), raw


def _answer(report: Report, kind: str, raw: bytes) -> Response:
    # the verdict and a hash, never the content: the document carries personal data
    digest = hashlib.sha256(raw).digest()
    log.info("verify %s verdict=%s sha256=%s", kind, report.verdict.value, digest.hex())
    service().audit(kind, report.verdict.value, digest)
    resp = jsonify(report.to_json())
    resp.status_code = 200 if report.verified else 400
    return resp


@bp.post("/credentials/verify")
def verify_credential() -> Response:
    vc, options, raw = _body("verifiableCredential")
    return _answer(service().verify_credential(vc, options), "credential", raw)


@bp.post("/presentations/verify")
def verify_presentation() -> Response:
    vp, options, raw = _body("verifiablePresentation")
    return _answer(service().verify_presentation(vp, options), "presentation", raw)


@cache
def openapi_document() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(OPENAPI.read_text(encoding="utf-8")))


@bp.get("/openapi.json")
def openapi() -> Response:
    doc = dict(openapi_document())
    doc["servers"] = [{"url": service().settings.base_url}]
    resp = jsonify(doc)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
