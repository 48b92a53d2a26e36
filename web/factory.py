"""App-factory helpers shared by the role apps."""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from pathlib import Path

from flask import Blueprint, Flask, Response, render_template, request, url_for

from . import csrf, health, i18n, metrics, problems
from .config import MAX_BODY_BYTES, RoleConfig

SESSION_HOURS = 8
WEB_DIR = Path(__file__).parent

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

#: who people call, shown in every footer: `한국어|English` (WORKCRED_<ROLE>_CONTACT, else WORKCRED_CONTACT)
DEFAULT_CONTACT = "서울특별시 다산콜재단 전화 120 (24시간)|Seoul Dasan Call Center, phone 120 (24 hours; +82-2-120 from abroad)"

#: the shared templates (`base.html`, `error.html`, the privacy policy and terms) and assets (`/assets/...`)
web_blueprint = Blueprint(
    "web",
    __name__,
    template_folder=str(WEB_DIR / "templates"),
    static_folder=str(WEB_DIR / "static"),
    static_url_path="/assets",
)


#: a year: an asset URL from `asset_url` names its content's digest (`?v=`), so it never goes stale
ASSET_MAX_AGE = 365 * 24 * 3600


def _asset_max_age(filename: str | None) -> int | None:
    # only a versioned URL may be cached without asking again; a bare one is revalidated (ETag)
    return ASSET_MAX_AGE if request.args.get("v") else None


web_blueprint.get_send_file_max_age = _asset_max_age  # type: ignore[method-assign]


@functools.cache
def _digest(filename: str) -> str:
    return hashlib.sha256((WEB_DIR / "static" / filename).read_bytes()).hexdigest()[:12]


def asset_url(filename: str) -> str:
    """The URL of a shared asset (web/static) with its content digest, cached by browsers for a year."""
    return url_for("web.static", filename=filename, v=_digest(filename))


@web_blueprint.get("/privacy")
def privacy() -> str:
    """개인정보처리방침: what each part of the service keeps, why, how long (linked from every footer)."""
    return render_template(f"legal/privacy.{i18n.current_lang()}.html")


@web_blueprint.get("/terms")
def terms() -> str:
    """이용약관: the terms of use (linked from every footer)."""
    return render_template(f"legal/terms.{i18n.current_lang()}.html")


def session_cookie_name(config: RoleConfig) -> str:
    """One cookie per role: cookies ignore ports, so roles on one host would overwrite each other's."""
    name = f"workcred-{config.role}-session"
    # __Host- makes the browser refuse the cookie unless Secure, host-only and Path=/
    return name if config.dev else "__Host-" + name


def security_headers(config: RoleConfig) -> list[tuple[str, str]]:
    """The headers every answer carries (the Flask apps and the verifier's ASGI fast path alike)."""
    out = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", CSP),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=()"),
    ]
    if not config.dev:
        out.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return out


def base_app(name: str, config: RoleConfig) -> Flask:
    """A Flask app with the house defaults.

    Body cap, problem details, security headers, secure per-role session cookie, CSRF for forms,
    Korean/English messages (`t(key)` in templates), the shared base template and styles, `/healthz`
    and `/readyz` (web.health: a role adds its readiness checks), `/metrics` and request counting
    (web.metrics; `WORKCRED_<ROLE>_METRICS_TOKEN` requires a bearer token to scrape).
    """
    app = Flask(name)
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        SESSION_COOKIE_NAME=session_cookie_name(config),
        SESSION_COOKIE_SECURE=not config.dev,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_HOURS * 3600,
        PREFERRED_URL_SCHEME="http" if config.dev else "https",
        JSON_AS_ASCII=False,
        WORKCRED=config,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    proxies = int(config.extra.get("trusted_proxies", "0") or 0)
    if proxies > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # only behind that many reverse proxies: otherwise X-Forwarded-For is the client's to forge
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    app.register_blueprint(web_blueprint)
    i18n.install(app)
    csrf.install(app)
    problems.install(app)
    contact_ko, _, contact_en = (config.extra.get("contact") or os.environ.get("WORKCRED_CONTACT") or DEFAULT_CONTACT).partition("|")

    def contact() -> str:
        return (contact_en or contact_ko) if i18n.current_lang() == "en" else contact_ko

    app.jinja_env.globals.update(config=config, contact=contact, asset_url=asset_url)

    headers = security_headers(config)

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        for name, value in headers:
            resp.headers.setdefault(name, value)
        if not (request.endpoint or "").endswith("static"):
            # pages and API answers may carry personal data: no shared or back-button caches
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp

    health.install(app, config.role)
    metrics.install(app, config.role, config.extra.get("metrics_token") or None)
    return app


def close_app(app: Flask) -> None:
    """Release what an app holds (timers, connection pools): every extension with a `close()`."""
    for ext in list(app.extensions.values()):
        close = getattr(ext, "close", None)
        if callable(close):
            try:
                close()
            except Exception as e:  # shutting down: report, and close the rest
                print(f"close failed: {type(e).__name__}: {e}", file=sys.stderr)
