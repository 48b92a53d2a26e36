"""Identity without a visit: invitation -> name and birth date -> one-time code -> passkey; passkey login; logout.

The invitation token leaves the address bar at once (kept in the session), the issuer does the
matching, the codes, the attempts and the lock (docs/issuer-wallet.md); the wallet adds its own rate
limits per client. A worker is signed in only after registering a passkey.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from agents.errors import Error, InvalidInput
from agents.korean import josa
from web import passkeys
from web.ratelimit import rate_limit

from . import archive
from ._web import lang, service, sign_in, store, worker_id
from ._web import safe_next as _safe_next

bp = Blueprint("auth", __name__)
INVITE = "invite"
ENROL = "enrol"
MAX_NAME = 100


def _session_key() -> bytes:
    return hashlib.sha256(b"workcred wallet invitation in the session|" + str(current_app.secret_key).encode()).digest()


def current_invite() -> dict[str, Any] | None:
    """The identity check in progress. The session cookie is signed, not encrypted, and a shared PC
    keeps it: the name and birth date in it are sealed (AES-GCM under a key only the server has)."""
    sealed = session.get(INVITE)
    if not isinstance(sealed, str):
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed)
        data = json.loads(AESGCM(_session_key()).decrypt(raw[:12], raw[12:], b"invite"))
    except (ValueError, InvalidTag):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("token"), str) else None


def _keep_invite(data: dict[str, Any]) -> None:
    nonce = secrets.token_bytes(12)
    sealed = nonce + AESGCM(_session_key()).encrypt(nonce, json.dumps(data, ensure_ascii=False).encode(), b"invite")
    session[INVITE] = base64.urlsafe_b64encode(sealed).decode("ascii")


def _form_error(template: str, err: Error, **ctx: Any) -> tuple[str, int]:
    status = err.http_status if 400 <= err.http_status < 600 else 400
    return render_template(template, error=err.diagnostics(lang()), **ctx), status


@bp.get("/invite/<token>")
def invite_link(token: str) -> BaseResponse:
    """The link from the SMS or QR: keep the token in the session, take it out of the address bar."""
    if not 20 <= len(token) <= 128:
        return redirect(url_for("auth.invite"), code=303)
    _keep_invite({"token": token})
    return redirect(url_for("auth.invite"), code=303)


@bp.get("/invite")
def invite() -> str:
    return render_template("wallet/invite.html", invite=current_invite())


@bp.post("/invite/identify")
@rate_limit(10, 300)
def identify() -> BaseResponse | tuple[str, int]:
    inv = current_invite()
    if inv is None:
        return redirect(url_for("auth.invite"), code=303)
    name = (request.form.get("name") or "").strip()[:MAX_NAME]
    birth = (request.form.get("birthDate") or "").strip()[:10]
    if not name or len(birth) != 10:
        return _form_error("wallet/invite.html", InvalidInput("Enter your name and birth date", message_ko="이름과 생년월일을 입력하세요"), invite=inv, name=name, birth=birth)
    try:
        sent = service().identify(inv["token"], name, birth, lang())
    except Error as e:
        return _form_error("wallet/invite.html", e, invite=inv, name=name, birth=birth)
    _keep_invite({"token": inv["token"], "name": name, "birth": birth, "sentTo": sent.code_sent_to, "expiresAt": sent.expires_at})
    return redirect(url_for("auth.code"), code=303)


@bp.get("/invite/code")
def code() -> BaseResponse | str:
    inv = current_invite()
    if inv is None or "name" not in inv:
        return redirect(url_for("auth.invite"), code=303)
    return render_template("wallet/code.html", invite=inv, phone=_to_phone(inv))


def _to_phone(inv: dict[str, Any]) -> str:
    """The masked phone with its particle in Korean ("010-****-5678로")."""
    sent = str(inv.get("sentTo") or "")
    return josa(sent, "으로") if lang() == "ko" else sent


@bp.post("/invite/code")
@rate_limit(10, 300)
def code_post() -> BaseResponse | tuple[str, int]:
    inv = current_invite()
    if inv is None or "name" not in inv:
        return redirect(url_for("auth.invite"), code=303)
    entered = "".join(ch for ch in (request.form.get("code") or "") if ch.isdigit())[:12]
    try:
        backup = _backup()
        done = service().confirm(inv["token"], inv["name"], inv["birth"], lang(), code=entered, backup=backup)
    except Error as e:
        return _form_error("wallet/code.html", e, invite=inv, phone=_to_phone(inv))
    session.pop(INVITE, None)
    session[ENROL] = {"aid": done.account_id, "returning": done.returning, "restored": done.restored}
    return redirect(url_for("auth.enrol"), code=303)


def _backup() -> archive.Contents | None:
    """The backup file the worker chose to restore, opened with their passphrase (or None)."""
    upload = request.files.get("backup")
    if upload is None or not upload.filename:
        return None
    data = upload.read(archive.MAX_ARCHIVE_BYTES + 1)
    return archive.open_(data, request.form.get("passphrase") or "")


def _enrolment() -> dict[str, Any] | None:
    data = session.get(ENROL)
    return data if isinstance(data, dict) and isinstance(data.get("aid"), str) else None


@bp.get("/invite/passkey")
def enrol() -> BaseResponse | str:
    e = _enrolment()
    if e is None:
        return redirect(url_for("auth.invite"), code=303)
    return render_template("wallet/enrol.html", enrol=e)


@bp.post("/invite/passkey/options")
@rate_limit(20, 300, name="passkey-options")
def enrol_options() -> dict[str, Any]:
    e = _enrolment()
    if e is None:
        raise InvalidInput("Start again from the invitation link", message_ko="초대 링크부터 다시 시작하세요")
    account = store().account(e["aid"])
    exclude = [] if e.get("returning") else [p.credential_id for p in store().passkeys(account.id)]
    return passkeys.registration_options(user_id=account.user_handle, user_name=account.name, display_name=account.name, exclude=exclude)


@bp.post("/invite/passkey/verify")
def enrol_verify() -> dict[str, Any]:
    e = _enrolment()
    if e is None:
        raise InvalidInput("Start again from the invitation link", message_ko="초대 링크부터 다시 시작하세요")
    new = passkeys.verify_registration((request.get_json(silent=True) or {}).get("credential") or {})
    store().add_passkey(e["aid"], new.credential_id, new.public_key, new.sign_count, list(new.transports), replace=bool(e.get("returning")))
    sign_in(e["aid"])
    store().touch_login(e["aid"])
    return {"ok": True, "next": url_for("pages.home", welcome=1)}


@bp.get("/login")
def login() -> BaseResponse | str:
    if worker_id() is not None:
        return redirect(_safe_next(request.args.get("next")) or url_for("pages.home"))
    return render_template("wallet/login.html", next=_safe_next(request.args.get("next")))


@bp.post("/login/options")
@rate_limit(20, 300, name="passkey-options")
def login_options() -> dict[str, Any]:
    return passkeys.authentication_options()


def lookup(credential_id: bytes) -> passkeys.StoredPasskey | None:
    """A worker's passkey by its credential id, as web.passkeys needs it (owner = the account id)."""
    p = store().passkey(credential_id)
    return passkeys.StoredPasskey(p.credential_id, p.public_key, p.sign_count, tuple(p.transports), owner=(p.worker_id, p.id)) if p else None


@bp.post("/login/verify")
@rate_limit(20, 300)
def login_verify() -> dict[str, Any]:
    body = request.get_json(silent=True) or {}
    assertion = passkeys.verify_authentication(body.get("credential") or {}, lookup)
    wid, pid = assertion.owner
    store().used_passkey(pid, assertion.new_sign_count)
    store().account(wid)  # an erased account cannot sign in
    sign_in(wid)
    store().touch_login(wid)
    return {"ok": True, "next": _safe_next(request.args.get("next")) or url_for("pages.home")}


@bp.post("/logout")
def logout() -> Response:
    """Forget the session and tell the browser to drop this site's caches and storage (shared PCs)."""
    lang_choice = lang()
    session.clear()
    resp = Response(render_template("wallet/logged_out.html"))
    # the service worker's caches and any storage go too; the next visit starts clean
    resp.headers["Clear-Site-Data"] = '"cache", "storage"'
    resp.set_cookie("lang", lang_choice, httponly=True, samesite="Lax")
    return resp
