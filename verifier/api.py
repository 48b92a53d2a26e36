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

from agents import document
from web import csrf, metrics

from .service import VerifierService

bp = Blueprint("verifier_api", __name__)
csrf.exempt(bp)  # a machine API without cookies: nothing for a cross-site form to ride on
log = logging.getLogger(__name__)
OPENAPI = Path(__file__).parent / "openapi.json"


def service() -> VerifierService:
    return cast(VerifierService, current_app.extensions["verifier"])


#: the VC-API routes: path -> kind (verifier.asgi serves the same routes without Flask)
ROUTES = {"/credentials/verify": "credential", "/presentations/verify": "presentation"}


def answer(svc: VerifierService, kind: str, raw: bytes) -> tuple[int, bytes]:
    """The VC-API answer to one request body: (200 or 400, the report as JSON bytes).

    Raises `agents.errors.Error` when the input is unusable (the caller answers with problem details).
    Shared by the Flask routes below and the ASGI fast path (`verifier.asgi`), so both answer alike.
    """
    report = svc.verify(document.parse(raw, expect=kind))  # the one parse step: once, bounded, typed
    # the verdict and a hash, never the content: the document carries personal data
    digest = hashlib.sha256(raw).digest()
    verdict = report.verdict.value
    if log.isEnabledFor(logging.INFO):
        log.info("verify %s verdict=%s sha256=%s", kind, verdict, digest.hex())
    svc.audit(kind, verdict, digest)
    metrics.verified(kind, verdict)
    return (200 if verdict == "valid" else 400), report.to_json_bytes()


def _respond(kind: str) -> Response:
    status, body = answer(service(), kind, request.get_data(cache=False))
    return Response(body, status=status, mimetype="application/json")


@bp.post("/credentials/verify")
def verify_credential() -> Response:
    return _respond("credential")


@bp.post("/presentations/verify")
def verify_presentation() -> Response:
    return _respond("presentation")


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
