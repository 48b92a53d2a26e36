"""OAuth 2.0 for the issuer's machine doors: client credentials (VC-API) and bearer access tokens.

Access tokens are self-contained and short-lived: ``wc1.<claims>.<HMAC-SHA256>`` under a key derived
from the issuer's secret, so checking one costs a MAC and not a database round trip; the client row is
read again at least every 2 seconds (issuer/vcapi.py), so disabling a client takes effect within that. Client secrets are stored
as argon2id hashes and shown once, when the client is created (`workcred issuer client create`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import multibase
from agents.errors import Error, InvalidInput
from agents.oid4vci import ProtocolError

from . import models
from .protocol_models import OAuthClient

TOKEN_PREFIX = "wc1"
ACCESS_TOKEN_TTL = 600
SCOPE_PREFIX = "department:"
_HASHER = PasswordHasher()
# a fixed hash to verify against when the client id is unknown, so both failures take the same time
_DUMMY_HASH = _HASHER.hash("workcred-no-such-client")


def token_key(secret_key: str) -> bytes:
    """The MAC key of access tokens, derived from the issuer's secret (never the secret itself)."""
    return hmac.new(secret_key.encode(), b"workcred issuer access tokens v1", hashlib.sha256).digest()


class InvalidToken(Error):
    """A missing, malformed, forged or expired bearer token (RFC 6750 `invalid_token`)."""

    code = "invalid-token"
    http_status = 401


@dataclass(frozen=True)
class AccessToken:
    """What a valid bearer token grants: `kind` is `vcapi` (client, department) or `oid4vci` (offer)."""

    kind: str
    subject: str
    department_id: int | None
    offer_id: int | None
    expires_at: int


class BearerTokens:
    """Mint and check access tokens; `clock` (seconds since the epoch) is passed in for tests."""

    def __init__(self, key: bytes, *, ttl: int = ACCESS_TOKEN_TTL, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self.ttl = ttl
        self.clock = clock

    def mint(self, kind: str, subject: str, *, department_id: int | None = None, offer_id: int | None = None) -> str:
        claims = {"k": kind, "s": subject, "d": department_id, "o": offer_id, "e": int(self.clock()) + self.ttl, "n": secrets.token_hex(4)}
        body = multibase.b64url(json.dumps(claims, separators=(",", ":")).encode())
        mac = hmac.new(self._key, f"{TOKEN_PREFIX}.{body}".encode(), hashlib.sha256).digest()
        return f"{TOKEN_PREFIX}.{body}.{multibase.b64url(mac)}"

    def check(self, token: str | None, kind: str) -> AccessToken:
        """The token's grant, or InvalidToken (one message for every failure: no oracle)."""
        bad = InvalidToken("the access token is missing, invalid or expired", message_ko="액세스 토큰이 없거나 잘못되었거나 만료되었습니다")
        if not token or len(token) > 512 or token.count(".") != 2:
            raise bad
        prefix, body, mac = token.split(".")
        expected = hmac.new(self._key, f"{prefix}.{body}".encode(), hashlib.sha256).digest()
        try:
            given = multibase.b64url_decode(mac)
            claims = json.loads(multibase.b64url_decode(body))
        except (Error, ValueError):
            raise bad from None
        if prefix != TOKEN_PREFIX or not hmac.compare_digest(given, expected) or not isinstance(claims, dict):
            raise bad
        if claims.get("k") != kind or not isinstance(claims.get("e"), int) or claims["e"] < self.clock():
            raise bad
        return AccessToken(kind, str(claims.get("s")), claims.get("d"), claims.get("o"), claims["e"])


def bearer_of(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1)."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# --- clients -------------------------------------------------------------------------------------


def create_client(s: Session, department: models.Department, label: str = "") -> tuple[str, str]:
    """A new client of the department's VC-API; returns (client_id, client_secret): the secret is shown once."""
    client_id = f"{department.slug}-{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32)
    s.add(OAuthClient(client_id=client_id, secret_hash=_HASHER.hash(secret), department_id=department.id, label=label[:200]))
    return client_id, secret


def _client_error() -> ProtocolError:
    return ProtocolError("unknown client or wrong secret", message_ko="알 수 없는 클라이언트이거나 비밀값이 틀렸습니다", error="invalid_client", status=401)


def client_credentials(s: Session, form: Mapping[str, str], authorization: str | None) -> tuple[OAuthClient, models.Department]:
    """RFC 6749 §4.4: authenticate the client (HTTP Basic or form), check the department scope."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if authorization and authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            raise _client_error() from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise _client_error()
        from urllib.parse import unquote

        client_id, secret = unquote(user), unquote(password)
    if not client_id or not secret or len(client_id) > 64 or len(secret) > 200:
        raise _client_error()
    row = s.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).one_or_none()
    try:
        _HASHER.verify(row.secret_hash if row is not None else _DUMMY_HASH, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise _client_error() from None
    if row is None or row.disabled_at is not None:
        raise _client_error()
    department = s.get(models.Department, row.department_id)
    assert department is not None  # a foreign key
    scope = form.get("scope")
    if scope and set(scope.split()) != {SCOPE_PREFIX + department.slug}:
        raise ProtocolError(
            f"this client may only ask for the scope {SCOPE_PREFIX}{department.slug}",
            message_ko=f"이 클라이언트는 {SCOPE_PREFIX}{department.slug} 범위만 요청할 수 있습니다",
            error="invalid_scope",
        )
    return row, department


def active_client(s: Session, grant: AccessToken) -> OAuthClient:
    """The client a VC-API token was minted for, if it is still enabled."""
    row = s.scalars(select(OAuthClient).where(OAuthClient.client_id == grant.subject)).one_or_none()
    if row is None or row.disabled_at is not None or row.department_id != grant.department_id:
        raise InvalidToken("the client of this token is disabled", message_ko="이 토큰의 클라이언트는 사용이 중지되었습니다")
    return row


def form_text(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if value is not None and (not isinstance(value, str) or len(value) > 2048):
        raise InvalidInput(f"{name} is too long", message_ko=f"{name} 값이 너무 깁니다")
    return value
