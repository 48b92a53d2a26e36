"""Korean-first i18n: message catalogs in JSON, the language from `?lang=`, a cookie, else Korean.

Accept-Language is deliberately not consulted: the service is Korean-first and many browsers in
Korea send `en-US`; a user switches with the language link, which sets the `lang` cookie.
Each role may add `<role package>/i18n/{ko,en}.json`; its keys override the shared ones.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, has_request_context, request

LANGS = ("ko", "en")
DEFAULT_LANG = "ko"
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
SHARED_DIR = Path(__file__).parent / "i18n"
KST = timezone(timedelta(hours=9), "KST")  # Korea keeps no daylight saving time


def load_catalogs(*dirs: Path) -> dict[str, dict[str, str]]:
    """Merge `{lang}.json` from each folder in order; later folders override earlier ones."""
    catalogs: dict[str, dict[str, str]] = {lang: {} for lang in LANGS}
    for folder in dirs:
        for lang in LANGS:
            path = folder / f"{lang}.json"
            if path.is_file():
                data = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
                    raise ValueError(f"{path}: a catalog is a flat JSON object of strings")
                catalogs[lang].update(data)
    return catalogs


def requested_lang() -> str | None:
    """The language named by this request's `?lang=` or cookie, if it names one we have."""
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGS:
            return candidate
    return None


def current_lang() -> str:
    """The language of the current request (Korean outside a request)."""
    if not has_request_context():
        return DEFAULT_LANG
    lang = g.get("lang")
    if lang is None:
        lang = g.lang = requested_lang() or DEFAULT_LANG
    return str(lang)


def translate(key: str, lang: str | None = None, *, default: str | None = None, **params: Any) -> str:
    """The message `key` in `lang` (else Korean, else `default`, else the key), formatted with `params`."""
    catalogs: dict[str, dict[str, str]] = current_app.extensions["workcred.i18n"]
    lang = lang or current_lang()
    text = catalogs.get(lang, {}).get(key) or catalogs[DEFAULT_LANG].get(key) or default or key
    return text.format(**params) if params else text


def local_time(value: Any, *, seconds: bool = False) -> str:
    """A date-time (ISO text or datetime; naive means UTC) in Korea's time, e.g. `2026-11-25 21:13 KST`.

    The `local_time` template filter: the city, its workers and employers are in Seoul.
    """
    if isinstance(value, datetime):
        when = value
    else:
        try:
            when = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value or "")
    when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(KST)
    return when.strftime("%Y-%m-%d %H:%M:%S KST" if seconds else "%Y-%m-%d %H:%M KST")


def lang_url(lang: str) -> str:
    """The current page's URL with `?lang=` set to `lang` (other query parameters kept)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    return request.path + "?" + urlencode(args, doseq=True)


def install(app: Flask, *extra_dirs: Path) -> None:
    """Load the catalogs, expose `t`, `lang` and `lang_url` to templates, remember `?lang=` in a cookie."""
    own = Path(app.root_path) / "i18n"
    app.extensions["workcred.i18n"] = load_catalogs(SHARED_DIR, own, *extra_dirs)
    app.jinja_env.globals.update(t=translate, lang_url=lang_url, current_lang=current_lang, LANGS=LANGS)
    app.jinja_env.filters["local_time"] = local_time

    @app.context_processor
    def _lang() -> dict[str, str]:
        return {"lang": current_lang()}

    @app.after_request
    def _remember_lang(resp: Response) -> Response:
        chosen = request.args.get("lang")
        if chosen in LANGS and request.cookies.get(COOKIE) != chosen:
            resp.set_cookie(
                COOKIE,
                chosen,
                max_age=COOKIE_MAX_AGE,
                secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
                httponly=True,
                samesite="Lax",
            )
        resp.headers.add("Vary", "Cookie")
        resp.headers.setdefault("Content-Language", current_lang())
        return resp
