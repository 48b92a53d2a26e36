"""App-factory helpers shared by the role apps."""

from __future__ import annotations

from flask import Flask, Response

from . import problems
from .config import RoleConfig

MAX_BODY_BYTES = 2 * 1024 * 1024


def base_app(name: str, config: RoleConfig) -> Flask:
    """A Flask app with the house defaults: body cap, problem details, security headers."""
    app = Flask(name)
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        SESSION_COOKIE_SECURE=not config.dev,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_AS_ASCII=False,
        WORKCRED=config,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    problems.install(app)

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; frame-ancestors 'none'",
        )
        return resp

    @app.get("/healthz")
    def _health() -> dict[str, str]:
        return {"status": "ok", "role": config.role}

    return app
