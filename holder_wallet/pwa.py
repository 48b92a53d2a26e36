"""The installable web app: manifest, service worker and the offline page.

The service worker (static/sw.js) keeps the app shell (styles, scripts, icons, /offline: no personal
data) and, for reading without a connection, the last copy of the pages a signed-in worker opened:
home (held credentials), a credential, the career view, a QR or certificate screen. Those copies are
deleted when the worker signs out or erases the account (the worker is on their way out through the
service worker), when the server sends the worker to the login page, and by the logout answer's
`Clear-Site-Data` header where the browser supports it; nothing comes from a CDN.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, render_template, send_file, url_for

bp = Blueprint("pwa", __name__)
STATIC = Path(__file__).parent / "static"


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    icon = "pages.static"
    body = {
        "name": "서울시 근로자 전자지갑",
        "short_name": "근로자 지갑",
        "description": "서울시 공공일자리 근로계약서와 경력증명서를 보관하고 제출하는 전자지갑",
        "lang": "ko",
        "dir": "ltr",
        "start_url": "/?source=pwa",
        "scope": "/",
        "id": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#063a74",
        "icons": [
            {"src": url_for(icon, filename="icons/wallet-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": url_for(icon, filename="icons/wallet-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": url_for(icon, filename="icons/wallet-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }
    resp = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


@bp.get("/sw.js")
def service_worker() -> Response:
    # served from / so that its scope is the whole wallet; revalidated on every visit
    resp = send_file(STATIC / "sw.js", mimetype="text/javascript", max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/offline")
def offline() -> str:
    """What a page that was never opened on this device shows without a connection (no personal data)."""
    return render_template("wallet/offline.html")
