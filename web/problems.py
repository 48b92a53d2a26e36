"""RFC 9457 problem-details responses; every error a user can cause is a 4xx with one of these.

Browsers (a request that prefers text/html) get the same status with a readable HTML page instead.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from agents.errors import Error, VerificationError

from .i18n import current_lang

PROBLEM_BASE = "https://w3id.org/workcred/problems#"
PROBLEM_TYPES = ("application/problem+json", "application/json", "text/html")


def preferred_lang() -> str:
    """The request's language (`?lang=`, the cookie, else Korean); see web.i18n."""
    return current_lang()


def wants_html() -> bool:
    """True when the client prefers an HTML page to JSON (a browser navigating or posting a form)."""
    return request.accept_mimetypes.best_match(PROBLEM_TYPES) == "text/html"


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def problem(
    status: int, title: str, detail: str = "", type_: str = "about:blank", *, html_detail: str | None = None,
    **extra: Any,
) -> Response:
    """A problem-details response (or, for a browser, an HTML page showing `html_detail` or `detail`)."""
    # a message may quote hostile input (e.g. a lone surrogate): it must still encode as UTF-8
    title, detail = _printable(title), _printable(detail)
    if html_detail is not None:
        html_detail = _printable(html_detail)
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    if wants_html():
        html = _html_page(status, detail if html_detail is None else html_detail)
        if html is not None:
            return html
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


def _html_page(status: int, detail: str) -> Response | None:
    try:
        text = render_template("error.html", status=status, detail=detail)
    except Exception:  # an error page that cannot render must not hide the original error
        current_app.logger.exception("error page failed to render")
        return None
    return Response(text, status=status, mimetype="text/html")


def error_extra(err: Error) -> dict[str, Any]:
    """What a problem body carries beyond type/title/status/detail for `err` (shared with verifier.asgi)."""
    extra: dict[str, Any] = {}
    if isinstance(err, VerificationError) and err.report is not None and hasattr(err.report, "to_json"):
        extra["report"] = err.report.to_json()
    if isinstance(err.details.get("violations"), list):  # agents.datamodel.NonConforming: every broken rule
        extra["violations"] = err.details["violations"]
    return extra


def problem_json(err: Error, lang: str) -> dict[str, Any]:
    """The problem-details body of `err` in `lang`, as `error_problem` answers it to a machine."""
    detail = _printable(err.diagnostics(lang))
    body: dict[str, Any] = {"type": PROBLEM_BASE + err.code, "title": _printable(err.code), "status": err.http_status}
    if detail:
        body["detail"] = detail
    body.update(error_extra(err))
    return body


def error_problem(err: Error) -> Response:
    lang = preferred_lang()
    resp = problem(err.http_status, err.code, err.diagnostics(lang), PROBLEM_BASE + err.code, **error_extra(err))
    retry_after = err.details.get("retry_after")
    if isinstance(retry_after, int):
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def install(app: Flask) -> None:
    """Map workcred errors and HTTP errors to problem details; never leak a stack trace."""

    @app.errorhandler(Error)
    def _workcred_error(err: Error) -> Response:
        return error_problem(err)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response | HTTPException:
        if err.code is None:
            return err
        # the HTML page explains the status in the user's language; JSON keeps werkzeug's text
        resp = problem(err.code, err.name, err.description or "", html_detail="")
        valid_methods = getattr(err, "valid_methods", None)
        if valid_methods:
            resp.headers["Allow"] = ", ".join(valid_methods)
        return resp

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        app.logger.exception("unexpected error")  # the log keeps the trace; the user gets none
        return problem(500, "Internal Server Error", "내부 오류가 발생했습니다. An internal error occurred.")
