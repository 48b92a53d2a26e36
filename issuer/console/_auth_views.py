"""Sign-in and passkeys of city staff: password then passkey, passkey alone, enrolment, sign-out."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from agents.errors import Error, Unauthorized
from web import passkeys
from web.i18n import current_lang
from web.ratelimit import rate_limit

from ..service import Actor
from ._accounts import AccountLocked, LoginFailed
from ._web import console, principal, safe_next, signed_in, start_session

bp = Blueprint("console_auth", __name__, url_prefix="/console")

PENDING = "pending_staff"  # the password was right; the passkey step is next
ENROL = "enrol_staff"  # the password was right and the account has no passkey yet: enrol one first
NEXT = "next"


def _ip() -> str:
    return request.remote_addr or ""


@bp.get("/login")
def login() -> str | Response:
    if principal() is not None:
        return redirect(url_for("console_pages.dashboard"))
    return render_template("console/login.html", next=safe_next(request.args.get(NEXT), ""), error=None)


@bp.post("/login")
@rate_limit(10, 60, name="console-login")
def login_password() -> Any:
    target = safe_next(request.form.get(NEXT), url_for("console_pages.dashboard"))
    c = console()
    try:
        staff_id = c.accounts.check_password(request.form.get("login", ""), request.form.get("password", ""), ip=_ip())
    except (LoginFailed, AccountLocked) as e:
        page = render_template("console/login.html", next=target, error=e.diagnostics(current_lang()))
        return page, e.http_status
    who = c.accounts.principal(staff_id)
    assert who is not None
    session.clear()
    session[NEXT] = target
    if who.has_passkey:
        session[PENDING] = staff_id
        return redirect(url_for(".second_factor"), code=303)
    if c.password_only:
        c.accounts.signed_in(staff_id, ip=_ip(), method="password")
        start_session(staff_id)
        return redirect(target, code=303)
    session[ENROL] = staff_id
    return redirect(url_for(".passkeys_page"), code=303)


@bp.get("/login/passkey")
def second_factor() -> str | Response:
    if not isinstance(session.get(PENDING), int):
        return redirect(url_for(".login"))
    return render_template("console/login_passkey.html")


@bp.post("/login/passkey/options")
@rate_limit(20, 60, name="console-passkey")
def login_options() -> dict[str, Any]:
    pending = session.get(PENDING)
    allow = console().accounts.passkeys_of(pending) if isinstance(pending, int) else []
    return passkeys.authentication_options(allow=allow, purpose="login")


@bp.post("/login/passkey")
@rate_limit(20, 60, name="console-passkey")
def login_passkey() -> dict[str, Any]:
    c = console()
    body = request.get_json(silent=True) or {}
    assertion = passkeys.verify_authentication(body.get("credential") or {}, c.accounts.find_passkey, purpose="login")
    pending = session.get(PENDING)
    if isinstance(pending, int) and assertion.owner != pending:
        # someone else's passkey after this password: not a second factor of this account
        raise passkeys.PasskeyError("passkey of another account")
    c.accounts.passkey_used(assertion)
    c.accounts.signed_in(assertion.owner, ip=_ip(), method="password+passkey" if pending else "passkey")
    target = safe_next(session.get(NEXT), url_for("console_pages.dashboard"))
    start_session(assertion.owner)
    return {"next": target}


def _enrolling() -> int:
    """The account adding a passkey: the signed-in one, or the one just past its password."""
    who = principal()
    if who is not None:
        return who.id
    pending = session.get(ENROL)
    if isinstance(pending, int):
        return pending
    raise Unauthorized("sign in first", message_ko="먼저 로그인하세요")


@bp.get("/passkeys")
def passkeys_page() -> str | Response:
    try:
        staff_id = _enrolling()
    except Error:
        return redirect(url_for(".login"))
    view = console().accounts.staff(staff_id)
    return render_template("console/passkeys.html", staff=view, enrolling=principal() is None)


@bp.post("/passkeys/options")
@rate_limit(20, 60, name="console-passkey")
def enrol_options() -> dict[str, Any]:
    c = console()
    staff_id = _enrolling()
    view = c.accounts.staff(staff_id)
    existing = [p.credential_id for p in c.accounts.passkeys_of(staff_id)]
    return passkeys.registration_options(
        user_id=c.accounts.user_handle(staff_id), user_name=view.login, display_name=view.display_name,
        exclude=existing, purpose="enrol",
    )  # fmt: skip


@bp.post("/passkeys")
@rate_limit(20, 60, name="console-passkey")
def enrol() -> dict[str, Any]:
    c = console()
    staff_id = _enrolling()
    body = request.get_json(silent=True) or {}
    new = passkeys.verify_registration(body.get("credential") or {}, purpose="enrol")
    label = request.user_agent.platform or "passkey"
    c.accounts.add_passkey(staff_id, new, str(label), actor=Actor.staff(staff_id, _ip()))
    if principal() is None:  # enrolment finished the sign-in
        c.accounts.signed_in(staff_id, ip=_ip(), method="password+new-passkey")
        target = safe_next(session.get(NEXT), url_for("console_pages.dashboard"))
        start_session(staff_id)
        return {"next": target}
    return {"next": url_for(".passkeys_page")}


@bp.post("/logout")
@signed_in
def logout() -> Response:
    session.clear()
    return redirect(url_for(".login"), code=303)
