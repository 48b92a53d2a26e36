"""What the open-standard doors of the issuer share (OpenID4VCI, OAuth, the VC-API), and how they plug in.

`ProtocolContext` holds storage, keys, the registry client, the token MAC key and the clock; the
blueprints in `issuer/oid4vci.py` and `issuer/vcapi.py` read it from ``app.extensions["protocols"]``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agents.errors import NotFound
from agents.keystore import KeyStore
from agents.registry_client import RegistryClient
from web import db
from web.config import RoleConfig
from web.envelope import MasterKey

from . import models
from .oauth import BearerTokens, token_key

DEFAULT_OFFER_TTL = timedelta(days=14)
NONCE_TTL = timedelta(minutes=5)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ProtocolContext:
    """Storage, keys and peers of the OID4VCI and VC-API endpoints; the clock is passed in for tests."""

    session_factory: sessionmaker[Session]
    kek: MasterKey
    keys: KeyStore
    registry: RegistryClient
    issuer_url: str
    tokens: BearerTokens
    code_key: bytes
    clock: Callable[[], datetime] = _now
    outbox: Any = None  # the engine's Outbox (sends the tx_code of an out-of-band offer)
    didkey_departments: frozenset[str] = frozenset()
    offer_ttl: timedelta = DEFAULT_OFFER_TTL
    nonce_ttl: timedelta = NONCE_TTL
    service: Any = None  # the engine's IssuerService
    extensions: dict[str, Any] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with db.transaction(self.session_factory) as s:
            yield s

    def mac(self, purpose: str, value: str) -> bytes:
        return hmac.new(self.code_key, f"{purpose}|{value}".encode(), hashlib.sha256).digest()

    def close(self) -> None:
        """Drain the log queue (tests, shutdown)."""
        logger = self.extensions.get("logger")
        if logger is not None:
            logger.close()

    def department(self, s: Session, slug: str) -> models.Department:
        row = s.scalars(select(models.Department).where(models.Department.slug == slug)).one_or_none()
        if row is None:
            raise NotFound(f"no department {slug[:63]!r}", message_ko="해당 부서가 없습니다")
        return row


def context_from(config: RoleConfig, service: Any) -> ProtocolContext:
    """The context of the engine's `IssuerService` (its storage, keys, registry, outbox and clock), with
    WORKCRED_ISSUER_DIDKEY_DEPARTMENTS and WORKCRED_ISSUER_OFFER_DAYS."""
    secret = config.secret_key or "dev-only-issuer"
    didkey = frozenset(x.strip() for x in (config.extra.get("didkey_departments") or "").split(",") if x.strip())
    days = float(config.extra.get("offer_days") or DEFAULT_OFFER_TTL.days)
    ctx = ProtocolContext(
        service.session_factory, service.kek, service.keys, service.registry, config.base_url.rstrip("/"),
        BearerTokens(token_key(secret)), hmac.new(secret.encode(), b"workcred oid4vci codes v1", hashlib.sha256).digest(),
        service.clock, service.outbox, didkey, timedelta(days=days), service=service,
    )  # fmt: skip
    from .offers import offer_issued, offer_link

    # a contract made active, a career record or a certificate issued: an offer the wallet lists
    # (GET /api/wallet/contracts and POST /api/wallet/certificates answer `offer` through offer_link_for)
    service.on_issued = lambda urns: offer_issued(ctx, urns)
    service.offer_link_for = lambda urn: offer_link(ctx, urn)
    return ctx


def protocols() -> ProtocolContext:
    ctx: ProtocolContext = current_app.extensions["protocols"]
    return ctx


def install(app: Flask, ctx: ProtocolContext) -> None:
    """Register the OID4VCI, OAuth and VC-API endpoints on the issuer app."""
    from .oid4vci import bp as oid4vci_bp
    from .vcapi import bp as vcapi_bp

    app.extensions["protocols"] = ctx
    app.register_blueprint(oid4vci_bp)
    app.register_blueprint(vcapi_bp)


def install_from_config(app: Flask, config: RoleConfig, service: Any) -> None:
    """Install the endpoints over the engine's `IssuerService` and hook its issuance to the offers."""
    install(app, context_from(config, service))
