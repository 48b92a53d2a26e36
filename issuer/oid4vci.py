"""OpenID4VCI 1.0 and OAuth endpoints of the issuer: metadata, offers, token, nonce, credential.

Errors here answer in the OAuth shape the specs require (``error``, ``error_description``) and keep
the problem-details members (``type``, ``title``, ``status``, ``detail`` in the caller's language).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import segno
from flask import Blueprint, Response, jsonify, request

import schemas
from agents import dataintegrity as di
from agents import loader, oid4vci
from agents.errors import Error
from agents.oid4vci import ProtocolError
from web import csrf
from web.problems import PROBLEM_BASE, preferred_lang
from web.ratelimit import RateLimited, rate_limit

from . import oauth, offers
from .oauth import InvalidToken
from .protocols import protocols

bp = Blueprint("oid4vci", __name__)
csrf.exempt(bp)  # machine endpoints: form posts from wallets and clients, never from a browser session

_DISPLAY = {
    "LaborContractCredential": ("근로계약서", "Labor contract"),
    "CareerRecordCredential": ("경력 기록", "Career record"),
    "CareerCertificateCredential": ("경력증명서", "Certificate of employment"),
}
SUITES = [di.RDFC, di.JCS]


def credential_configurations() -> dict[str, Any]:
    """`credential_configurations_supported` (§12.2.4): the three workcred credentials as `ldp_vc`."""
    return {
        type_: {
            "format": oid4vci.FORMAT,
            "scope": type_,
            "cryptographic_binding_methods_supported": ["did:key"],
            "credential_signing_alg_values_supported": SUITES,
            "proof_types_supported": {
                "jwt": {"proof_signing_alg_values_supported": ["EdDSA"]},
                "di_vp": {"proof_signing_alg_values_supported": SUITES},
            },
            "credential_definition": {"@context": [di.VC_V2, schemas.CONTEXT_URL], "type": ["VerifiableCredential", type_]},
            "credential_metadata": {"display": [{"name": ko, "locale": "ko-KR"}, {"name": en, "locale": "en-US"}]},
        }
        for type_, (ko, en) in _DISPLAY.items()
    }


@bp.get(oid4vci.ISSUER_METADATA_PATH)
def issuer_metadata() -> Response:
    base = protocols().issuer_url
    return jsonify(
        {
            "credential_issuer": base,
            "credential_endpoint": base + "/oid4vci/credential",
            "nonce_endpoint": base + "/oid4vci/nonce",
            "display": [{"name": "서울특별시", "locale": "ko-KR"}, {"name": "Seoul Metropolitan Government", "locale": "en-US"}],
            "credential_configurations_supported": credential_configurations(),
        }
    )


OPENAPI = Path(__file__).parent / "openapi.json"


@bp.get("/openapi.json")
def openapi() -> Response:
    """OpenAPI 3.1 of the OpenID4VCI, OAuth and VC-API routes."""
    return Response(OPENAPI.read_bytes(), mimetype="application/json")


@bp.get(oid4vci.AS_METADATA_PATH)
def authorization_server_metadata() -> Response:
    base = protocols().issuer_url
    return jsonify(
        {
            "issuer": base,
            "token_endpoint": base + "/oid4vci/token",
            "grant_types_supported": [oid4vci.PRE_AUTHORIZED_GRANT, oid4vci.CLIENT_CREDENTIALS_GRANT],
            "pre-authorized_grant_anonymous_access_supported": True,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "response_types_supported": [],
        }
    )


@bp.get("/oid4vci/offers/<handle>")
@rate_limit(60, 60, name="oid4vci-offer")
def credential_offer(handle: str) -> Response:
    ctx = protocols()
    with ctx.tx() as s:
        return jsonify(offers.offer_document(ctx, s, handle[:64]))


@bp.get("/oid4vci/offers/<handle>/qr.svg")
@rate_limit(60, 60, name="oid4vci-offer")
def credential_offer_qr(handle: str) -> Response:
    """The offer link as a QR code (for the clerk's page and printed invitations)."""
    ctx = protocols()
    with ctx.tx() as s:
        offers.offer_document(ctx, s, handle[:64])  # 404 unless the offer is open
    return Response(offer_qr_svg(oid4vci.offer_url(offer_uri=offers.offer_uri(ctx, handle))), mimetype="image/svg+xml")


def offer_qr_svg(url: str) -> str:
    qr = segno.make(url, error="m")
    return str(qr.svg_inline(scale=4, border=2, dark="#1d1d1d"))


@bp.post("/oid4vci/token")
@rate_limit(30, 60, name="oid4vci-token")
def token() -> Response:
    ctx = protocols()
    form = request.form
    grant = oauth.form_text(form, "grant_type")
    if grant == oid4vci.PRE_AUTHORIZED_GRANT:
        tx_code = oauth.form_text(form, "tx_code")
        if tx_code is not None:
            _limit_tx_codes()
        access = offers.redeem(ctx, oauth.form_text(form, "pre-authorized_code"), tx_code)
    elif grant == oid4vci.CLIENT_CREDENTIALS_GRANT:
        with ctx.tx() as s:
            client, department = oauth.client_credentials(s, form, request.headers.get("Authorization"))
            access = ctx.tokens.mint("vcapi", client.client_id, department_id=department.id)
    else:
        raise ProtocolError("unsupported grant_type", message_ko="지원하지 않는 grant_type입니다", error="unsupported_grant_type")
    return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": ctx.tokens.ttl})


def _limit_tx_codes() -> None:
    """Guessing a 6-digit code: 10 tries per client per 5 minutes (and 5 per offer, then it locks)."""
    from flask import current_app

    from web.ratelimit import client_key, limiter_for

    if current_app.config.get("RATE_LIMITS_ENABLED", True):
        wait = limiter_for(current_app, "oid4vci-tx-code", 10, 300).hit(client_key())
        if wait > 0:
            raise RateLimited(wait)


@bp.post("/oid4vci/nonce")
@rate_limit(120, 60, name="oid4vci-nonce")
def nonce() -> Response:
    value, _ = offers.new_nonce(protocols())
    return jsonify({"c_nonce": value})


@bp.post("/oid4vci/credential")
@rate_limit(60, 60, name="oid4vci-credential")
def credential() -> Response:
    ctx = protocols()
    grant = ctx.tokens.check(oauth.bearer_of(request.headers.get("Authorization")), "oid4vci")
    try:
        body = loader.parse_json(request.get_data(cache=False))
    except Error as e:
        raise ProtocolError(e.message, message_ko=e.message_ko, error="invalid_credential_request") from None
    try:
        return jsonify(offers.deliver(ctx, grant, body))
    except ProtocolError:
        raise
    except Error as e:
        if e.http_status >= 500:
            raise
        raise offers.proof_error_of(e) from None


@bp.errorhandler(Error)
def _oauth_error(err: Error) -> Response:
    """OAuth error body (RFC 6749 §5.2, RFC 6750 §3.1, OID4VCI §8.3.1.2) plus the problem-details members."""
    lang = preferred_lang()
    if isinstance(err, InvalidToken):
        error, status = "invalid_token", 401
    elif isinstance(err, ProtocolError):
        error, status = err.error, err.http_status
    elif isinstance(err, RateLimited):
        error, status = "slow_down", 429
    else:
        error, status = ("invalid_request" if err.http_status < 500 else "server_error"), err.http_status
    body = {
        "error": error,
        "error_description": err.diagnostics("en"),
        "type": PROBLEM_BASE + err.code,
        "title": error,
        "status": status,
        "detail": err.diagnostics(lang),
    }
    resp = jsonify(body)
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = f'Bearer error="{error}"' if isinstance(err, InvalidToken) else 'Basic realm="workcred"'
    retry = err.details.get("retry_after")
    if isinstance(retry, int):
        resp.headers["Retry-After"] = str(retry)
    return resp
