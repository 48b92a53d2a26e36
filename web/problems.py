"""RFC 9457 problem-details responses; every error a user can cause is a 4xx with one of these."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from agents.errors import Error, VerificationError

PROBLEM_BASE = "https://w3id.org/workcred/problems#"


def preferred_lang() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang")
    if lang in ("ko", "en"):
        return lang
    best = request.accept_languages.best_match(["ko", "en"])
    return best or "ko"


def problem(status: int, title: str, detail: str = "", type_: str = "about:blank", **extra: Any) -> Response:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


def error_problem(err: Error) -> Response:
    lang = preferred_lang()
    extra: dict[str, Any] = {}
    if isinstance(err, VerificationError) and err.report is not None and hasattr(err.report, "to_json"):
        extra["report"] = err.report.to_json()
    return problem(err.http_status, err.code, err.diagnostics(lang), PROBLEM_BASE + err.code, **extra)


def install(app: Flask) -> None:
    """Map workcred errors and HTTP errors to problem details; never leak a stack trace."""

    @app.errorhandler(Error)
    def _workcred_error(err: Error) -> Response:
        return error_problem(err)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException) -> Response | HTTPException:
        if err.code is None:
            return err
        return problem(err.code, err.name, err.description or "")

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> Response:
        app.logger.exception("unexpected error")  # the log keeps the trace; the user gets none
        return problem(500, "Internal Server Error", "내부 오류가 발생했습니다. An internal error occurred.")
