"""The shared web plumbing: CSRF, i18n, security headers, problem details, rate limits, sessions."""

from __future__ import annotations

import re

import pytest
from flask import Blueprint, Flask, render_template_string, request

from agents.errors import InvalidInput
from web import csrf
from web.config import RoleConfig, peer_url
from web.factory import base_app
from web.ratelimit import RateLimited, SlidingWindowLimiter, rate_limit


def make_app(dev: bool = True, **extra: str) -> Flask:
    config = RoleConfig("issuer", port=0, base_url="http://127.0.0.1:1", secret_key="test-secret", dev=dev, extra=extra)
    app = base_app("web", config)

    @app.get("/form")
    def form_page() -> str:
        return render_template_string(
            '{% extends "base.html" %}{% block content %}<form method="post" action="/form">'
            "{{ csrf_field() }}<button>{{ t('nav.home') }}</button></form>{% endblock %}"
        )

    @app.post("/form")
    def form_post() -> str:
        return "accepted " + request.form.get("name", "")

    @app.post("/json")
    def json_post() -> dict[str, object]:
        body = request.get_json()
        if not isinstance(body, dict):
            raise InvalidInput("expected a JSON object", message_ko="JSON 객체가 필요합니다")
        return {"keys": sorted(body)}

    api = Blueprint("api", __name__)

    @api.post("/api/echo")
    def echo() -> dict[str, object]:
        return {"ok": True}

    app.register_blueprint(csrf.exempt(api))

    @app.post("/login")
    @rate_limit(3, 60)
    def login() -> str:
        return "tried"

    return app


def token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_csrf_rejects_form_post_without_token_as_problem() -> None:
    client = make_app().test_client()
    resp = client.post("/form", data={"name": "x"})
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    assert resp.json is not None
    assert resp.json["type"].endswith("#csrf-failed")
    assert "양식" in resp.json["detail"]  # Korean by default


def test_csrf_rejects_browser_form_post_with_html_page() -> None:
    client = make_app().test_client()
    resp = client.post("/form", data={"name": "x"}, headers={"Accept": "text/html,*/*;q=0.8"})
    assert resp.status_code == 400
    assert resp.mimetype == "text/html"
    html = resp.get_data(as_text=True)
    assert '<html lang="ko">' in html and "양식이 만료되었거나" in html


def test_csrf_accepts_the_session_token_and_rejects_a_wrong_one() -> None:
    client = make_app().test_client()
    token = token_from(client.get("/form").get_data(as_text=True))
    assert client.post("/form", data={"name": "a", "csrf_token": token + "x"}).status_code == 400
    ok = client.post("/form", data={"name": "a", "csrf_token": token})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "accepted a"
    assert client.post("/json", json={"b": 1}, headers={"X-CSRF-Token": token}).json == {"keys": ["b"]}


def test_csrf_token_from_another_session_is_refused() -> None:
    app = make_app()
    token = token_from(app.test_client().get("/form").get_data(as_text=True))
    other = app.test_client()
    other.get("/form")
    assert other.post("/form", data={"csrf_token": token}).status_code == 400


def test_csrf_skips_bearer_requests_and_exempt_blueprints() -> None:
    client = make_app().test_client()
    assert client.post("/json", json={"a": 1}).status_code == 400  # no token, no bearer: refused
    assert client.post("/json", json={"a": 1}, headers={"Authorization": "Bearer abc"}).status_code == 200
    assert client.post("/json", json={"a": 1}, headers={"Authorization": "Bearer "}).status_code == 400
    assert client.post("/api/echo", json={}).json == {"ok": True}


def test_i18n_defaults_to_korean_and_switches_with_query_and_cookie() -> None:
    client = make_app().test_client()
    page = client.get("/form", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="ko">' in page and "처음으로" in page and "본문 바로가기" in page
    resp = client.get("/form?lang=en")
    assert '<html lang="en">' in resp.get_data(as_text=True) and "Home" in resp.get_data(as_text=True)
    assert "lang=en" in resp.headers["Set-Cookie"] and "HttpOnly" in resp.headers["Set-Cookie"]
    assert resp.headers["Content-Language"] == "en"
    again = client.get("/form").get_data(as_text=True)  # the cookie remembers the choice
    assert '<html lang="en">' in again and 'href="/form?lang=ko"' in again
    assert '<html lang="en">' in client.get("/form?lang=xx").get_data(as_text=True)  # unknown: keep the cookie


def test_lang_switch_keeps_other_query_parameters() -> None:
    client = make_app().test_client()
    html = client.get("/form?step=2&q=%ED%95%9C").get_data(as_text=True)
    assert 'href="/form?step=2&amp;q=%ED%95%9C&amp;lang=en"' in html


def test_security_headers_on_pages_and_errors() -> None:
    client = make_app(dev=False).test_client()
    for resp in (client.get("/form"), client.get("/missing"), client.get("/healthz")):
        h = resp.headers
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["X-Frame-Options"] == "DENY"
        assert h["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert "script-src 'self'" in h["Content-Security-Policy"]
        assert h["Strict-Transport-Security"].startswith("max-age=")
        assert h["Cache-Control"] == "no-store"
    static = client.get("/assets/workcred.css")
    assert static.status_code == 200 and b"--wc-primary-50" in static.data
    assert static.headers.get("Cache-Control") != "no-store"
    static.close()


def test_session_cookie_is_secure_host_only_and_per_role_outside_dev() -> None:
    client = make_app(dev=False).test_client()
    cookie = client.get("/form").headers["Set-Cookie"]
    assert cookie.startswith("__Host-workcred-issuer-session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    dev_cookie = make_app(dev=True).test_client().get("/form").headers["Set-Cookie"]
    assert dev_cookie.startswith("workcred-issuer-session=") and "Secure" not in dev_cookie


@pytest.mark.parametrize(
    ("path", "kwargs", "status"),
    [
        ("/json", {"data": b"{not json", "content_type": "application/json"}, 400),
        ("/json", {"json": [1, 2]}, 400),
        ("/json", {"data": b"\xff\xfe", "content_type": "application/json"}, 400),
        ("/json", {"data": b"x" * (3 * 1024 * 1024), "content_type": "application/json"}, 413),
        ("/form", {"method": "PUT"}, 405),
        ("/nowhere", {}, 404),
    ],
)
def test_bad_requests_are_4xx_problem_details(path: str, kwargs: dict[str, object], status: int) -> None:
    client = make_app().test_client()
    method = str(kwargs.pop("method", "POST" if path == "/json" else "GET"))
    headers = {"Authorization": "Bearer t"}
    resp = client.open(path, method=method, headers=headers, **kwargs)  # type: ignore[arg-type]
    assert resp.status_code == status
    assert resp.mimetype == "application/problem+json"
    assert resp.json is not None and resp.json["status"] == status and resp.json["title"]
    if status == 405:
        assert "GET" in resp.headers["Allow"]


def test_workcred_error_detail_follows_language() -> None:
    client = make_app().test_client()
    ko = client.post("/json", json=[1], headers={"Authorization": "Bearer t"}).json
    en = client.post("/json?lang=en", json=[1], headers={"Authorization": "Bearer t"}).json
    assert ko is not None and en is not None
    assert ko["detail"] == "JSON 객체가 필요합니다" and en["detail"] == "expected a JSON object"
    assert ko["type"] == "https://w3id.org/workcred/problems#invalid-input"


def test_rate_limit_on_a_route_answers_429_with_retry_after() -> None:
    client = make_app().test_client()
    token = token_from(client.get("/form").get_data(as_text=True))
    for _ in range(3):
        assert client.post("/login", data={"csrf_token": token}).status_code == 200
    resp = client.post("/login", data={"csrf_token": token})
    assert resp.status_code == 429
    assert resp.json is not None and resp.json["type"].endswith("#rate-limited")
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    other_client = client.post("/login", data={"csrf_token": token}, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_client.status_code == 200  # keyed by client


def test_rate_limits_can_be_configured_and_disabled() -> None:
    app = make_app()
    app.config["RATE_LIMITS"] = {"login": (1, 60)}
    client = app.test_client()
    token = token_from(client.get("/form").get_data(as_text=True))
    assert client.post("/login", data={"csrf_token": token}).status_code == 200
    assert client.post("/login", data={"csrf_token": token}).status_code == 429
    app.config["RATE_LIMITS_ENABLED"] = False
    assert client.post("/login", data={"csrf_token": token}).status_code == 200


def test_sliding_window_limiter_with_a_clock() -> None:
    now = [1000.0]
    limiter = SlidingWindowLimiter(2, 10, clock=lambda: now[0])
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    assert limiter.hit("a") == pytest.approx(10)
    assert limiter.hit("b") == 0  # keys are independent
    now[0] += 4
    assert limiter.hit("a") == pytest.approx(6)
    now[0] += 6  # the first two hits slide out of the window
    assert limiter.hit("a") == 0
    limiter.reset("a")
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    with pytest.raises(ValueError, match="limit"):
        SlidingWindowLimiter(0, 1)


def test_sliding_window_limiter_memory_is_bounded() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(1, 5, clock=lambda: now[0], max_keys=100)
    for i in range(1000):
        now[0] += 0.001
        limiter.hit(f"client-{i}")
    assert len(limiter._hits) <= 100
    assert RateLimited(0.2).retry_after == 1


def test_peer_url_prefers_own_setting_then_peer_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    config = RoleConfig("issuer", extra={"registry_url": "https://registry.example/"})
    assert peer_url(config, "registry") == "https://registry.example"
    monkeypatch.setenv("WORKCRED_VERIFIER_BASE_URL", "https://verify.example/")
    assert peer_url(config, "verifier") == "https://verify.example"
    monkeypatch.delenv("WORKCRED_WALLET_BASE_URL", raising=False)
    monkeypatch.setenv("WORKCRED_WALLET_PORT", "9999")
    assert peer_url(config, "wallet") == "http://127.0.0.1:9999"


def test_a_problem_quoting_a_lone_surrogate_is_still_a_problem_not_a_500() -> None:
    app = base_app("t", RoleConfig("t", secret_key="k", dev=True))

    @app.get("/boom")
    def boom() -> str:
        raise InvalidInput("bad key \ud800 in the input")

    resp = app.test_client().get("/boom")
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    assert "\\ud800" in resp.get_json()["detail"]
