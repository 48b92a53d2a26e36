"""CSRF protection for cookie-authenticated forms.

Every unsafe request (POST, PUT, PATCH, DELETE) must carry the session's token, in the form field
`csrf_token` or the header `X-CSRF-Token`, unless it is authenticated by a bearer token (browsers
never attach one on their own, so it cannot be forged cross-site) or its view or blueprint was
exempted with `exempt(...)` (machine APIs that authenticate some other way must say so explicitly).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, current_app, request, session
from markupsafe import Markup, escape

from agents.errors import Error

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SESSION_KEY = "_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

class CSRFError(Error):
    """A form post without the session's CSRF token (expired page, or a cross-site forgery)."""

    code = "csrf-failed"
    http_status = 400

    def __init__(self) -> None:
        super().__init__(
            "The form has expired or did not come from this site. Reload the page and try again.",
            message_ko="양식이 만료되었거나 이 사이트에서 보낸 것이 아닙니다. 페이지를 새로 고친 뒤 다시 시도하세요.",
        )


def token() -> str:
    """The session's CSRF token, created on first use."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str):
        value = session[SESSION_KEY] = secrets.token_urlsafe(32)
    return value


def field() -> Markup:
    """A hidden input carrying the token, for `{{ csrf_field() }}` inside every form."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, escape(token()))


ATTR = "_workcred_csrf_exempt"


def exempt[F: Callable[..., Any] | Blueprint](target: F) -> F:
    """Exempt a blueprint (all its routes) or a view function from the check; use for machine APIs."""
    setattr(target, ATTR, True)
    return target


def _is_exempt(app: Flask) -> bool:
    if any(getattr(app.blueprints.get(name), ATTR, False) for name in request.blueprints):
        return True
    return bool(getattr(app.view_functions.get(request.endpoint or ""), ATTR, False))


def _has_bearer() -> bool:
    auth = request.headers.get("Authorization", "")
    return auth[:7].lower() == "bearer " and len(auth) > 7


def check() -> None:
    """Raise CSRFError unless the current unsafe request carries the session's token."""
    if request.method not in UNSAFE_METHODS or _has_bearer() or _is_exempt(current_app):
        return
    if request.routing_exception is not None:
        return  # no view will run: let routing answer (404, or 405 for a method the route does not allow)
    expected = session.get(SESSION_KEY)
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise CSRFError()


def install(app: Flask) -> None:
    """Check every unsafe request before its view runs; expose `csrf_token()` and `csrf_field()`."""
    app.before_request(check)
    app.jinja_env.globals.update(csrf_token=token, csrf_field=field)
