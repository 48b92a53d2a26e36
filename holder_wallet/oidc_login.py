"""The identity check through the city's OpenID Connect provider instead of the SMS code (pluggable).

Set WORKCRED_WALLET_OIDC_ISSUER, _OIDC_CLIENT_ID, _OIDC_CLIENT_SECRET (and _OIDC_NAME, what the button
says); the issuer is configured with the same provider and this client id as audience. The flow:
authorization code with PKCE (S256), `state` and `nonce` kept in the session (authlib); the wallet
checks the ID token (`agents.oidc`), takes the name and birth date from it, and hands the same ID
token to the issuer (`/api/wallet/invitations/<token>/oidc`), which checks it again, matches the
roster row and binds the wallet's DID. Then the passkey, as after the code.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from requests.exceptions import RequestException
from werkzeug.wrappers import Response as BaseResponse

from agents import oidc
from agents.errors import Error, InvalidInput, Unavailable
from agents.fetcher import Fetcher
from web.config import RoleConfig

from ._web import lang, service
from .auth import current_invite

bp = Blueprint("oidc", __name__)
SESSION = "oidc"
TIMEOUT = 10


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    name: str

    @classmethod
    def from_config(cls, config: RoleConfig) -> OidcSettings | None:
        extra = config.extra
        if not extra.get("oidc_issuer"):
            return None
        return cls(extra["oidc_issuer"].rstrip("/"), extra.get("oidc_client_id", ""), extra.get("oidc_client_secret", ""),
                   extra.get("oidc_name", ""))  # fmt: skip


def settings() -> OidcSettings | None:
    return current_app.extensions.get("wallet.oidc")  # type: ignore[no-any-return]


def _provider(s: OidcSettings) -> tuple[oidc.ProviderMetadata, Fetcher]:
    dev = bool(current_app.config["WORKCRED"].dev)
    fetcher = Fetcher([urlsplit(s.issuer).netloc], allow_http_loopback=dev, default_ttl=300)
    return oidc.discover(s.issuer, fetcher), fetcher


def _client(s: OidcSettings) -> OAuth2Session:
    return OAuth2Session(s.client_id, s.client_secret, scope="openid profile",
                         redirect_uri=url_for("oidc.callback", _external=True), code_challenge_method="S256")  # fmt: skip


@bp.get("/invite/oidc")
def start() -> BaseResponse:
    s = settings()
    invite = current_invite()
    if s is None or invite is None:
        return redirect(url_for("auth.invite"), code=303)
    meta, fetcher = _provider(s)
    fetcher.close()
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    # prompt=login: the person at the screen signs in now (a shared PC may hold someone else's session)
    with _client(s) as client:
        url, _ = client.create_authorization_url(meta.authorization_endpoint, state=state, nonce=nonce, code_verifier=verifier,
                                                 prompt="login")
    session[SESSION] = {"state": state, "nonce": nonce, "verifier": verifier}
    return redirect(url, code=303)


@bp.get("/invite/oidc/callback")
def callback() -> BaseResponse | tuple[str, int]:
    s = settings()
    invite = current_invite()
    pending = session.pop(SESSION, None)
    if s is None or invite is None or not isinstance(pending, dict):
        return redirect(url_for("auth.invite"), code=303)
    try:
        if request.args.get("error"):
            raise InvalidInput("The identity check was cancelled", message_ko="본인 인증을 취소했습니다")
        if not hmac.compare_digest(str(request.args.get("state", "")), str(pending["state"])):
            raise InvalidInput("The identity check answer is not for this page; start again",
                               message_ko="이 화면에서 시작한 본인 인증 결과가 아닙니다. 다시 시작하세요")  # fmt: skip
        meta, fetcher = _provider(s)
        try:
            with _client(s) as client:
                token = client.fetch_token(meta.token_endpoint, code=request.args.get("code", ""),
                                           code_verifier=pending["verifier"], timeout=TIMEOUT)  # fmt: skip
            claims = oidc.verify_id_token(token.get("id_token"), fetcher.get_json(meta.jwks_uri), issuer=meta.issuer,
                                          audience=s.client_id, nonce=pending["nonce"])  # fmt: skip
        finally:
            fetcher.close()
        name, birth = oidc.person(claims)
        done = service().confirm(invite["token"], name, birth, lang(), id_token=str(token["id_token"]))
    except RequestException:
        return _error(Unavailable("The identity provider cannot be reached; try again or use the SMS code",
                                  message_ko="본인 인증 서비스에 연결할 수 없습니다. 다시 시도하거나 문자 인증번호를 사용하세요"), invite)  # fmt: skip
    except Error as e:
        return _error(e, invite)
    session.pop("invite", None)
    session["enrol"] = {"aid": done.account_id, "returning": done.returning, "restored": done.restored}
    return redirect(url_for("auth.enrol"), code=303)


def _error(err: Error, invite: dict[str, Any]) -> tuple[str, int]:
    status = err.http_status if 400 <= err.http_status < 600 else 400
    return render_template("wallet/invite.html", invite=invite, error=err.diagnostics(lang())), status
