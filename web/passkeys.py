"""Passkeys (WebAuthn) for every role: city staff in the issuer, workers in the wallet.

The server side of the four WebAuthn steps, on the `webauthn` 3 library; the browser side is
`web/static/passkeys.js` over the vendored `@simplewebauthn/browser` (scripts/bundle_js.py).

    from web import passkeys

    passkeys.install(app, passkeys.SqlChallengeStore(factory, table))  # once, in the app factory

    # registration (the user is signed in, or is being enrolled)
    options = passkeys.registration_options(user_id=staff.handle, user_name=staff.login, display_name=...)
    new = passkeys.verify_registration(request.get_json()["credential"])      # -> NewPasskey: store it

    # authentication (login), or a signature over your own bytes
    options = passkeys.authentication_options(allow=[stored...])                # random challenge
    options = passkeys.authentication_options(allow=[...], challenge=digest, purpose="sign:" + cid)
    assertion = passkeys.verify_authentication(body["credential"], lookup, purpose=...)  # -> Assertion
    # then store assertion.new_sign_count on that passkey; assertion.evidence() is a JSON-ready record

Rules this module keeps, so callers cannot forget them:

- The relying party comes from the role's base URL (`WORKCRED_<ROLE>_BASE_URL`): RP ID = its host
  name, origin = its scheme://host[:port]. Browsers refuse an IP address as an RP ID: serve passkey
  pages from a name (`http://localhost:8701` in development, not `127.0.0.1`).
- Challenges live on the server (a `ChallengeStore`); the session holds only a random handle per
  purpose. A challenge is taken out of the store when the answer arrives, whether it verifies or
  not: single use, even when an old session cookie is replayed. Challenges expire after 5 minutes.
- `purpose` separates concurrent ceremonies (a login and a contract signature in two tabs) and binds a
  challenge to what it was issued for: an answer for "login" never satisfies "sign:<id>".
- Sign counts: an assertion whose counter does not grow past the stored one is refused (a cloned
  authenticator); authenticators that always report 0 (most synced passkeys) pass with 0.
- Every failure raises `PasskeyError` (one generic, bilingual message: no oracle); the library's own
  reason is kept in `details["reason"]` for the log, never shown.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import webauthn
from flask import Flask, current_app, session
from sqlalchemy import Column, Float, LargeBinary, MetaData, String, Table, delete, insert, select
from sqlalchemy.orm import Session, sessionmaker
from webauthn.helpers import exceptions as webauthn_errors
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from agents.errors import Error

__all__ = [
    "Assertion",
    "ChallengeStore",
    "MemoryChallengeStore",
    "NewPasskey",
    "PasskeyError",
    "RelyingParty",
    "SqlChallengeStore",
    "StoredPasskey",
    "authentication_options",
    "b64url",
    "challenge_table",
    "from_b64url",
    "install",
    "registration_options",
    "relying_party",
    "verify_authentication",
    "verify_registration",
]

CHALLENGE_SECONDS = 300
TIMEOUT_MS = 120_000
SESSION_KEY = "_passkey"
EXTENSION = "workcred.passkeys"
MAX_RESPONSE_BYTES = 64 * 1024
logger = logging.getLogger(__name__)


class PasskeyError(Error):
    """A passkey ceremony that failed: expired or reused challenge, wrong site, bad signature, clone."""

    code = "passkey-failed"
    http_status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(
            "The passkey could not be confirmed. Try again; if it keeps failing, sign in another way "
            "or ask your administrator.",
            message_ko="패스키를 확인하지 못했습니다. 다시 시도하세요. 계속 실패하면 다른 방법으로 로그인하거나 "
            "관리자에게 문의하세요.",
            reason=reason,
        )


def _refuse(reason: str) -> PasskeyError:
    """The error to raise, with its reason in the app log (library messages carry no personal data)."""
    logger.warning("passkey refused: %s", reason)
    return PasskeyError(reason)


def b64url(data: bytes) -> str:
    """Unpadded base64url, the encoding WebAuthn JSON uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    """Decode unpadded base64url (raises PasskeyError on garbage)."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise _refuse(f"bad base64url: {e}") from None


# --- the relying party -------------------------------------------------------------------------


@dataclass(frozen=True)
class RelyingParty:
    """Who asks for the passkey: RP ID (a host name), the exact origin, and the name users see."""

    id: str
    origin: str
    name: str

    @classmethod
    def from_base_url(cls, base_url: str, name: str) -> RelyingParty:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"a passkey site needs an http(s) base URL, got {base_url!r}")
        origin = f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
        return cls(parts.hostname, origin, name)


def relying_party(app: Flask | None = None) -> RelyingParty:
    """The relying party of the current app, from its role's base URL and `app.name` i18n key."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config["WORKCRED"]
    name = app.config.get("PASSKEY_RP_NAME") or f"Seoul workcred {config.role}"
    return RelyingParty.from_base_url(config.base_url, str(name))


# --- server-side challenges --------------------------------------------------------------------


class ChallengeStore(Protocol):
    """Where pending challenges wait for their answer; `take` removes (single use)."""

    def put(self, handle: str, challenge: bytes, expires_at: float) -> None: ...

    def take(self, handle: str) -> tuple[bytes, float] | None: ...


class MemoryChallengeStore:
    """Challenges in this process's memory: for one process (tests, `make run`); bounded."""

    def __init__(self, max_items: int = 100_000) -> None:
        self._items: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()
        self.max_items = max_items

    def put(self, handle: str, challenge: bytes, expires_at: float) -> None:
        with self._lock:
            if len(self._items) >= self.max_items:
                now = time.time()
                for key in [k for k, (_, exp) in self._items.items() if exp <= now]:
                    del self._items[key]
                while len(self._items) >= self.max_items:
                    del self._items[next(iter(self._items))]
            self._items[handle] = (challenge, expires_at)

    def take(self, handle: str) -> tuple[bytes, float] | None:
        with self._lock:
            return self._items.pop(handle, None)


def challenge_table(metadata: MetaData, name: str = "passkey_challenge") -> Table:
    """The table `SqlChallengeStore` uses; add it to your role's metadata and migration."""
    return Table(
        name,
        metadata,
        Column("handle", String(64), primary_key=True),  # sha256 hex of the session's handle
        Column("challenge", LargeBinary, nullable=False),
        Column("expires_at", Float, nullable=False, index=True),
    )


class SqlChallengeStore:
    """Challenges in the role's database: right for several gunicorn workers (SQLite and PostgreSQL)."""

    def __init__(self, factory: sessionmaker[Session], table: Table) -> None:
        self.factory = factory
        self.table = table

    def put(self, handle: str, challenge: bytes, expires_at: float) -> None:
        t = self.table
        with self.factory() as db, db.begin():
            db.execute(delete(t).where(t.c.expires_at < time.time()))  # keeps the table small
            db.execute(insert(t).values(handle=_digest(handle), challenge=challenge, expires_at=expires_at))

    def take(self, handle: str) -> tuple[bytes, float] | None:
        t = self.table
        key = _digest(handle)
        with self.factory() as db, db.begin():
            row = db.execute(select(t.c.challenge, t.c.expires_at).where(t.c.handle == key)).first()
            if row is None:
                return None
            # only the request whose delete removed the row may use it: two concurrent answers, one wins
            if db.execute(delete(t).where(t.c.handle == key)).rowcount != 1:  # type: ignore[attr-defined]
                return None
            return bytes(row.challenge), float(row.expires_at)


def _digest(handle: str) -> str:
    # the database never holds the session's handle itself (a leaked table cannot answer for a session)
    return hashlib.sha256(handle.encode()).hexdigest()


def install(app: Flask, store: ChallengeStore | None = None) -> None:
    """Use `store` for this app's challenges (default: a MemoryChallengeStore, one process only)."""
    app.extensions[EXTENSION] = store or MemoryChallengeStore()


def _store() -> ChallengeStore:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    store = app.extensions.get(EXTENSION)
    if store is None:
        store = app.extensions[EXTENSION] = MemoryChallengeStore()
    return store  # type: ignore[no-any-return]


def _remember(purpose: str, challenge: bytes) -> None:
    handle = secrets.token_urlsafe(32)
    _store().put(handle, challenge, time.time() + CHALLENGE_SECONDS)
    pending = dict(session.get(SESSION_KEY) or {})
    pending[purpose] = handle
    session[SESSION_KEY] = pending


def _take(purpose: str) -> bytes:
    pending = dict(session.get(SESSION_KEY) or {})
    handle = pending.pop(purpose, None)
    session[SESSION_KEY] = pending
    if not isinstance(handle, str):
        raise _refuse(f"no pending challenge for {purpose!r}")
    found = _store().take(handle)
    if found is None:
        raise _refuse("challenge unknown or already used")
    challenge, expires_at = found
    if expires_at < time.time():
        raise _refuse("challenge expired")
    return challenge


def _credential_json(response: Mapping[str, Any] | str) -> dict[str, Any]:
    if isinstance(response, str):
        if len(response) > MAX_RESPONSE_BYTES:
            raise _refuse("response too large")
        try:
            response = json.loads(response)
        except ValueError:
            raise _refuse("response is not JSON") from None
    if not isinstance(response, Mapping):
        raise _refuse("response is not a JSON object")
    if len(json.dumps(response)) > MAX_RESPONSE_BYTES:
        raise _refuse("response too large")
    return dict(response)


def _options_json(options: Any) -> dict[str, Any]:
    return json.loads(webauthn.options_to_json(options))  # type: ignore[no-any-return]


# --- registration ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPasskey:
    """A verified new passkey: store all of it with the account."""

    credential_id: bytes
    public_key: bytes  # COSE key, as the library needs it back for authentication
    sign_count: int
    aaguid: str
    transports: tuple[str, ...]
    backed_up: bool
    user_verified: bool


def registration_options(
    *,
    user_id: bytes,
    user_name: str,
    display_name: str,
    exclude: Iterable[bytes] = (),
    purpose: str = "register",
    require_user_verification: bool = True,
) -> dict[str, Any]:
    """Options for `navigator.credentials.create()` (JSON-ready); the challenge waits server-side.

    `user_id` is a stable opaque handle of the account (never a name or e-mail: authenticators show
    and sync it); `exclude` lists the account's credential IDs so one authenticator is not added twice.
    """
    rp = relying_party()
    options = webauthn.generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_id,
        user_name=user_name,
        user_display_name=display_name,
        timeout=TIMEOUT_MS,
        exclude_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in exclude],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED
            if require_user_verification
            else UserVerificationRequirement.PREFERRED,
        ),
    )
    _remember(purpose, options.challenge)
    return _options_json(options)


def verify_registration(
    response: Mapping[str, Any] | str, *, purpose: str = "register", require_user_verification: bool = True
) -> NewPasskey:
    """Verify the browser's answer to `registration_options` (the challenge is used up either way)."""
    challenge = _take(purpose)
    credential = _credential_json(response)
    rp = relying_party()
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=require_user_verification,
        )
    except (webauthn_errors.WebAuthnException, ValueError, KeyError, TypeError) as e:
        raise _refuse(f"registration: {e}") from None
    raw_transports = (credential.get("response") or {}).get("transports") or []
    known = {t.value for t in AuthenticatorTransport}
    transports = tuple(t for t in raw_transports if isinstance(t, str) and t in known)
    return NewPasskey(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        transports=transports,
        backed_up=bool(verified.credential_backed_up),
        user_verified=verified.user_verified,
    )


# --- authentication ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredPasskey:
    """What an app keeps of a passkey, as `verify_authentication`'s lookup returns it."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: tuple[str, ...] = ()
    owner: Any = None  # the app's account id: handed back on the Assertion


@dataclass(frozen=True)
class Assertion:
    """A verified passkey assertion: who (`owner`, `credential_id`) answered which `challenge`."""

    credential_id: bytes
    owner: Any
    challenge: bytes
    new_sign_count: int
    user_verified: bool
    response: dict[str, Any]

    def evidence(self) -> dict[str, Any]:
        """A JSON record of the assertion (e.g. `passkeyAssertion` of a ContractAcceptance).

        `challenge` is base64url: for a contract signature it equals the draft's `draftDigest`;
        the rest lets anyone holding the passkey's public key check the signature again.
        """
        inner = self.response.get("response") or {}
        record = {
            "type": "WebAuthnAssertion",
            "credentialId": b64url(self.credential_id),
            "challenge": b64url(self.challenge),
            "clientDataJSON": inner.get("clientDataJSON"),
            "authenticatorData": inner.get("authenticatorData"),
            "signature": inner.get("signature"),
            "userVerified": self.user_verified,
        }
        return {k: v for k, v in record.items() if v is not None}


def authentication_options(
    *,
    allow: Iterable[StoredPasskey | bytes] = (),
    challenge: bytes | None = None,
    purpose: str = "login",
    require_user_verification: bool = True,
) -> dict[str, Any]:
    """Options for `navigator.credentials.get()` (JSON-ready); the challenge waits server-side.

    `allow` empty lets the user pick any passkey for this site (discoverable login). `challenge`
    defaults to 32 random bytes; pass your own bytes to have the user sign them (e.g. a draft's
    SHA-256 digest): they are still single use and bound to `purpose`.
    """
    if challenge is not None and not (16 <= len(challenge) <= 64):
        raise ValueError("a passkey challenge is 16 to 64 bytes")
    descriptors = []
    for item in allow:
        if isinstance(item, StoredPasskey):
            transports = [AuthenticatorTransport(t) for t in item.transports]
            descriptors.append(
                PublicKeyCredentialDescriptor(id=item.credential_id, transports=transports or None)
            )
        else:
            descriptors.append(PublicKeyCredentialDescriptor(id=item))
    options = webauthn.generate_authentication_options(
        rp_id=relying_party().id,
        challenge=challenge if challenge is not None else secrets.token_bytes(32),
        timeout=TIMEOUT_MS,
        allow_credentials=descriptors,
        user_verification=UserVerificationRequirement.REQUIRED
        if require_user_verification
        else UserVerificationRequirement.PREFERRED,
    )
    _remember(purpose, options.challenge)
    return _options_json(options)


def verify_authentication(
    response: Mapping[str, Any] | str,
    lookup: Callable[[bytes], StoredPasskey | None],
    *,
    purpose: str = "login",
    require_user_verification: bool = True,
) -> Assertion:
    """Verify the browser's answer to `authentication_options`.

    `lookup(credential_id)` returns the stored passkey or None (unknown passkeys fail like any other).
    The caller must then store `new_sign_count` on that passkey; a counter that did not grow is refused.
    """
    challenge = _take(purpose)
    credential = _credential_json(response)
    raw_id = credential.get("rawId") or credential.get("id")
    if not isinstance(raw_id, str):
        raise _refuse("no credential id")
    stored = lookup(from_b64url(raw_id))
    if stored is None:
        raise _refuse("unknown credential")
    rp = relying_party()
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=stored.public_key,
            credential_current_sign_count=stored.sign_count,
            require_user_verification=require_user_verification,
        )
    except (webauthn_errors.WebAuthnException, ValueError, KeyError, TypeError) as e:
        raise _refuse(f"authentication: {e}") from None
    return Assertion(
        credential_id=verified.credential_id,
        owner=stored.owner,
        challenge=challenge,
        new_sign_count=verified.new_sign_count,
        user_verified=verified.user_verified,
        response=credential,
    )
