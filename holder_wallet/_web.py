"""What every wallet page shares: the service, the signed-in worker, the language."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import current_app, redirect, request, session, url_for

from web.i18n import current_lang

from .service import WalletService
from .store import AccountErased, WalletStore

SESSION_WORKER = "wid"


def service() -> WalletService:
    return current_app.extensions["wallet.service"]  # type: ignore[no-any-return]


def store() -> WalletStore:
    return service().store


def lang() -> str:
    return current_lang()


def worker_id() -> str | None:
    wid = session.get(SESSION_WORKER)
    return wid if isinstance(wid, str) else None


def sign_in(account_id: str) -> None:
    """A fresh session for the worker (nothing from before the login carries over)."""
    lang_choice = session.get("lang")
    session.clear()
    session[SESSION_WORKER] = account_id
    session.permanent = True
    if lang_choice:
        session["lang"] = lang_choice


def login_required[F: Callable[..., Any]](view: F) -> F:
    """Pages of a signed-in worker; others go to the login page (and come back)."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        wid = worker_id()
        if wid is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None))
        try:
            return view(*args, **kwargs)
        except AccountErased:
            session.clear()
            return redirect(url_for("auth.login"))

    return wrapped  # type: ignore[return-value]


def safe_next(value: str | None) -> str | None:
    """Only a path on this site (never //host or a scheme): no open redirect after login."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


def optional_text(key: str) -> str:
    """The message `key` in the page's language, or "" when there is none (`t()` would show the key)."""
    catalogs: dict[str, dict[str, str]] = current_app.extensions["workcred.i18n"]
    return catalogs.get(lang(), {}).get(key) or catalogs["ko"].get(key) or ""
