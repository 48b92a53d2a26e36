"""What every console view shares: the signed-in principal, the sign-in guard, the audit actor."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response

from agents.errors import Unauthorized
from web.problems import wants_html

from ..service import Actor, IssuerService
from ._accounts import Accounts, Principal

SESSION_STAFF = "staff"
EXTENSION = "workcred.console"


class Console:
    """The console's collaborators, kept on the app (`app.extensions["workcred.console"]`)."""

    def __init__(self, service: IssuerService, *, password_only: bool, owns_service: bool = False) -> None:
        self.service = service
        self.accounts = Accounts(service)
        #: development only: an account without a passkey may sign in with its password alone
        self.password_only = password_only
        self.owns_service = owns_service

    def close(self) -> None:
        """Release the database pool of a service the app built itself (workcred.run's close_app)."""
        if self.owns_service:
            bind = self.service.session_factory.kw.get("bind")
            if bind is not None:
                bind.dispose()


def console() -> Console:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def service() -> IssuerService:
    return console().service


def principal() -> Principal | None:
    """The signed-in staff member of this request (None when nobody is)."""
    if "principal" not in g:
        staff_id = session.get(SESSION_STAFF)
        g.principal = console().accounts.principal(staff_id) if isinstance(staff_id, int) else None
        if g.principal is None and staff_id is not None:
            session.pop(SESSION_STAFF, None)  # deactivated meanwhile
    return g.principal  # type: ignore[no-any-return]


def me() -> Principal:
    """The signed-in staff member (views behind `signed_in` only)."""
    who = principal()
    assert who is not None
    return who


def actor() -> Actor:
    return Actor.staff(me().id, request.remote_addr or "")


def start_session(staff_id: int) -> None:
    """Sign in: a fresh session (no fixation), keeping only the language choice in the cookie."""
    session.clear()
    session.permanent = True
    session[SESSION_STAFF] = staff_id
    g.pop("principal", None)


def signed_in[F: Callable[..., Any]](view: F) -> F:
    """Only for a signed-in staff member: a browser goes to the sign-in page, an API gets 401."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if principal() is None:
            if wants_html() and request.method == "GET":
                return redirect(url_for("console_auth.login", next=request.full_path.rstrip("?")))
            raise Unauthorized("sign in first", message_ko="먼저 로그인하세요")
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def safe_next(target: str | None, default: str) -> str:
    """Only local paths (no //host, no scheme): an open redirect would help phishing."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def back(default_endpoint: str, **values: Any) -> Response:
    return redirect(url_for(default_endpoint, **values), code=303)
