"""The role x route matrix of the console, generated from the app's URL map: every /console route,
every method, six people (anonymous, the clerks of projects A and B, the managers of departments X
and Y, the admin). A route missing from POLICY fails the test, so a new route must be classified.
Also: each page renders in Korean and English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers_console import CSRF, Site, console_site, sign_in

ACTORS = ("anonymous", "clerk_a", "clerk_b", "manager_x", "manager_y", "admin")
SIGNED_IN = frozenset(ACTORS) - {"anonymous"}
PUBLIC = frozenset(ACTORS)
ADMIN = frozenset({"admin"})
MANAGERS = frozenset({"admin", "manager_x", "manager_y"})
PROJECT_A = frozenset({"admin", "manager_x", "clerk_a"})  # the resource of every <project_id> route
CLERK_A = frozenset({"admin", "manager_x"})  # who manages the clerk of A (<staff_id> routes)

#: (endpoint, method) -> who may get past the role and scope checks
POLICY: dict[tuple[str, str], frozenset[str]] = {
    ("console_auth.login", "GET"): PUBLIC,
    ("console_auth.login_password", "POST"): PUBLIC,
    ("console_auth.second_factor", "GET"): PUBLIC,
    ("console_auth.login_options", "POST"): PUBLIC,
    ("console_auth.login_passkey", "POST"): PUBLIC,
    ("console_auth.passkeys_page", "GET"): SIGNED_IN,
    ("console_auth.enrol_options", "POST"): SIGNED_IN,
    ("console_auth.enrol", "POST"): SIGNED_IN,
    ("console_auth.logout", "POST"): SIGNED_IN,
    ("console_pages.dashboard", "GET"): SIGNED_IN,
    ("console_pages.departments", "GET"): ADMIN,
    ("console_pages.create_department", "POST"): ADMIN,
    ("console_projects.projects", "GET"): SIGNED_IN,
    ("console_projects.new_project", "GET"): MANAGERS,
    ("console_projects.project", "GET"): PROJECT_A,
    ("console_projects.save_project", "POST"): PROJECT_A,
    ("console_staff.staff_list", "GET"): MANAGERS,
    ("console_staff.staff_member", "GET"): CLERK_A,
    ("console_staff.update_staff", "POST"): CLERK_A,
    ("console_staff.unlock", "POST"): CLERK_A,
    ("console_staff.reset_passkeys", "POST"): CLERK_A,
    ("console_contracts.contracts", "GET"): SIGNED_IN,
    ("console_contracts.remind", "POST"): PROJECT_A,
    ("console_contracts.draft_all", "POST"): PROJECT_A,
    ("console_contracts.contract", "GET"): PROJECT_A,
    ("console_contracts.act", "POST"): PROJECT_A,
    ("console_contracts.amend", "POST"): PROJECT_A,
    ("console_jobs.start", "POST"): PROJECT_A,
    ("console_jobs.job", "GET"): PROJECT_A,
    ("console_jobs.job_progress", "GET"): PROJECT_A,
    ("console_roster.upload", "GET"): PROJECT_A,
    ("console_roster.template", "GET"): PROJECT_A,
    ("console_roster.check", "POST"): PROJECT_A,
    ("console_roster.confirm", "POST"): PROJECT_A,
    ("console_audit.audit", "GET"): SIGNED_IN,
    ("console_audit.export", "GET"): SIGNED_IN,
    ("console_audit.outbox", "GET"): ADMIN,
}


def bodies(site: Site) -> dict[tuple[str, str], dict[str, Any]]:
    """Form bodies where the decision depends on what is asked for (a department, a role)."""
    x = site.departments["X"]
    return {
        ("console_projects.create_project", "POST"): {"department_id": x, "name": "n", "start_date": "2026-01-01",
                                                       "end_date": "2026-02-01", "template_variant": "part-time"},
        ("console_staff.create_staff", "POST"): {"login": "new.clerk", "display_name": "새", "role": "clerk", "department_id": x},
    }  # fmt: skip


POLICY[("console_projects.create_project", "POST")] = frozenset({"admin", "manager_x"})  # a project of department X
POLICY[("console_staff.create_staff", "POST")] = frozenset({"admin", "manager_x"})  # a clerk of department X


def url_for_rule(site: Site, rule: Any) -> str:
    # "none" for kind and action: the scope check comes first; a real action would change the data
    values = {"project_id": site.projects["A"], "staff_id": site.staff["clerk_a"], "urn": site.contract_a,
              "job_id": site.job_a, "fmt": "csv", "kind": "none", "action": "none"}
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:[a-z]+:)?{name}>", str(values[name]), url)
    return url


#: routes whose normal answer is the sign-in page (the second step without a first, signing out)
LEADS_TO_LOGIN = {"console_auth.second_factor", "console_auth.logout"}


def denied(resp: Any, endpoint: str) -> bool:
    """Stopped by the role or scope check: 403, 401 (not a wrong password), or sent to sign in."""
    if resp.status_code == 403:
        return True
    if resp.status_code == 401:
        return 'name="password"' not in resp.get_data(as_text=True)  # the sign-in form again: wrong password
    redirect = resp.status_code in (302, 303) and "/console/login" in resp.headers.get("Location", "")
    return redirect and endpoint not in LEADS_TO_LOGIN


def console_routes(site: Site) -> list[tuple[str, str, Any]]:
    out = []
    for rule in site.app.url_map.iter_rules():
        if not rule.rule.startswith("/console") or rule.endpoint.endswith("static"):
            continue
        out.extend((rule.endpoint, m, rule) for m in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return out


def test_role_route_matrix(tmp_path: Path, sqlite_url: str) -> None:
    with console_site(tmp_path, sqlite_url, RATE_LIMITS_ENABLED=False) as site:
        routes = console_routes(site)
        assert {(e, m) for e, m, _ in routes} == set(POLICY), "classify every console route in POLICY"
        extra = bodies(site)
        unexpected: list[str] = []
        for endpoint, method, rule in routes:
            for who in ACTORS:
                client = site.app.test_client()
                sign_in(client, None if who == "anonymous" else site.staff[who])
                url = url_for_rule(site, rule)
                if method == "GET":
                    resp = client.get(url, headers={"Accept": "text/html"})
                else:
                    data = {"csrf_token": CSRF, **extra.get((endpoint, method), {})}
                    resp = client.open(url, method=method, data=data, headers={"Accept": "application/json"})
                assert resp.status_code < 500, (endpoint, method, who, resp.status_code)
                allowed = not denied(resp, endpoint)
                if allowed != (who in POLICY[(endpoint, method)]):
                    unexpected.append(f"{method} {url} as {who}: {resp.status_code}")
        assert unexpected == [], "\n".join(unexpected)


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_page_renders_in_both_languages(tmp_path: Path, sqlite_url: str, lang: str) -> None:
    with console_site(tmp_path, sqlite_url) as site:
        client = site.app.test_client()
        sign_in(client, site.staff["admin"])
        for endpoint, method, rule in console_routes(site):
            if method != "GET" or endpoint == "console_auth.second_factor":
                continue
            if endpoint == "console_auth.login":
                sign_in(client, None)
            resp = client.get(url_for_rule(site, rule) + f"?lang={lang}", headers={"Accept": "text/html"})
            html = resp.get_data(as_text=True)
            assert resp.status_code == 200, (endpoint, resp.status_code)
            if resp.mimetype != "text/html":
                assert endpoint in ("console_jobs.job_progress", "console_roster.template", "console_audit.export")
                sign_in(client, site.staff["admin"])
                continue
            assert f'<html lang="{lang}">' in html
            assert not re.search(r">\s*console\.[a-z_.]+", html), (endpoint, "an untranslated key")
            if 'class="console-nav"' in html:
                nav = html.split('class="console-nav"', 1)[1].split("</nav>", 1)[0]
                assert ("로그아웃" in nav) == (lang == "ko") and ("Sign out" in nav) == (lang == "en")
            sign_in(client, site.staff["admin"])
