"""`POST /api/wallet/invitations/<token>/oidc` when the city's OpenID Connect provider is configured.

Settings: WORKCRED_ISSUER_OIDC_ISSUER (the provider) and WORKCRED_ISSUER_OIDC_AUDIENCE (the wallet's
client id at that provider). The ID token the wallet obtained is checked here again (signature by the
provider's published keys, issuer, audience, expiry: `agents.oidc`); its `name` and `birthdate`
claims must match the invitation's roster row, and then the wallet's DID is bound as after the code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request

from agents import oidc
from agents.errors import InvalidInput
from agents.fetcher import Fetcher
from web.config import RoleConfig

from .api_wallet import _summary  # the same contract summaries as the code route
from .service import IssuerService


def install(app: Flask, svc: IssuerService, config: RoleConfig) -> None:
    """Answer the OIDC route when the provider is configured (otherwise the route says 501)."""
    issuer, audience = config.extra.get("oidc_issuer", "").rstrip("/"), config.extra.get("oidc_audience", "")
    if not issuer or not audience:
        return
    app.extensions["issuer.oidc"] = login(svc, issuer, audience, dev=config.dev)


def login(svc: IssuerService, issuer: str, audience: str, *, dev: bool = False) -> Callable[[str, dict[str, Any]], Response]:
    def answer(token: str, body: dict[str, Any]) -> Response:
        did = body.get("holderDid")
        if not isinstance(did, str):
            raise InvalidInput("holderDid is required", message_ko="holderDid가 필요합니다")
        # a login is rare: the provider's configuration and keys are read fresh each time (rotation-safe)
        with Fetcher([urlsplit(issuer).netloc], allow_http_loopback=dev, default_ttl=0) as fetcher:
            meta = oidc.discover(issuer, fetcher)
            jwks = fetcher.get_json(meta.jwks_uri)
        claims = oidc.verify_id_token(body.get("idToken"), jwks, issuer=meta.issuer, audience=audience)
        name, birth = oidc.person(claims)
        bound = svc.verify_identity_claims(token, name, birth, did, ip=request.remote_addr or "")
        contracts = svc.worker_contracts(svc.worker(bound.worker_token))
        return jsonify({"workerToken": bound.worker_token, "workerId": bound.worker_id,
                        "contracts": [_summary(c) for c in contracts]})  # fmt: skip

    return answer
