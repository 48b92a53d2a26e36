"""`make run`'s demo data: the registry accredits a demo department; the city's issuing side (workcred.demo)
creates its key in its own key store, publishes its DID document and status lists and logs a sample
certificate over the registry's HTTP API with a bearer token (idempotent); the verifier offers that
sample, which verifies as valid end to end over HTTP."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask

from agents import certificate
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair
from agents.keystore import open_keystore
from registry import demo as registry_demo
from tests.helpers_city import serve
from web.config import RoleConfig
from workcred import demo

REGISTRY_KEY = Ed25519KeyPair.from_seed(b"\x61" * 32)
TOKEN = "demo-seed-token"


@dataclass
class Roles:
    registry: Flask
    registry_url: str
    verifier: Flask
    verifier_url: str
    data: Path


def _bound(box: dict[str, Any]) -> tuple[Any, str]:
    server, _ = serve(lambda env, sr: box["app"](env, sr))
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Roles]:
    """A registry and a verifier as `make run` configures them (dev, loopback), data under tmp_path."""
    from registry.app import create_app as registry_app
    from verifier.app import create_app as verifier_app

    monkeypatch.delenv("WORKCRED_KEYSTORE_DIR", raising=False)  # the issuing side's: <data dir>/keystore
    monkeypatch.delenv("WORKCRED_KEYSTORE_SECRET", raising=False)
    monkeypatch.setenv("WORKCRED_REGISTRY_API_TOKEN", TOKEN)
    rbox: dict[str, Any] = {}
    vbox: dict[str, Any] = {}
    rserver, rurl = _bound(rbox)
    vserver, vurl = _bound(vbox)
    monkeypatch.setenv("WORKCRED_VERIFIER_BASE_URL", vurl)  # where the sample's QR link points
    rbox["app"] = registry_app(RoleConfig(
        "registry", base_url=rurl, database_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}", secret_key="t", dev=True,
        extra={"key": REGISTRY_KEY.secret_multibase, "background": "0", "api_tokens": TOKEN},
    ))  # fmt: skip
    vbox["app"] = verifier_app(RoleConfig(
        "verifier", base_url=vurl, database_url=f"sqlite:///{tmp_path / 'verifier.sqlite3'}", secret_key="t", dev=True,
        extra={"registry_url": rurl, "background": "0", "demo_dir": str(tmp_path / "demo")},
    ))  # fmt: skip
    try:
        yield Roles(rbox["app"], rurl, vbox["app"], vurl, tmp_path)
    finally:
        for server in (rserver, vserver):
            server.shutdown()
            server.server_close()
        rbox["app"].extensions["registry"].close()
        vbox["app"].extensions["verifier"].close()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _seed(roles: Roles) -> demo.Sample:
    """What `demo.seed_all` does for these two roles: the registry's seed, then the city's."""
    with roles.registry.app_context():
        registry_demo.seed_demo(roles.registry)
    return demo.seed_city_for(roles.registry, roles.data)


def test_seed_is_idempotent_and_the_sample_verifies(roles: Roles) -> None:
    with roles.registry.app_context():
        registry_demo.seed_demo(roles.registry)
    assert not (roles.data / "keystore").exists()  # the registry's part holds no department key
    first = demo.seed_city_for(roles.registry, roles.data)
    assert demo.DEPARTMENT in open_keystore(roles.data / "keystore", dev=True).names()  # the issuing side's
    pdf = first.pdf.read_bytes()
    again = _seed(roles)  # a second run changes nothing
    assert again.pdf.read_bytes() == pdf
    with httpx.Client(base_url=roles.registry_url, trust_env=False, timeout=10) as http:
        issuers = http.get("/trust-list").json()["issuers"]
        assert [i["department"] for i in issuers] == [demo.DEPARTMENT]
        assert http.get(f"/issuers/{demo.DEPARTMENT}/did.json").status_code == 200
        assert [x["id"] for x in http.get(f"/status/{demo.DEPARTMENT}").json()["lists"]] == [demo.REVOCATION, demo.SUSPENSION]
    vp, receipts = certificate.extract_from_pdf(pdf)
    assert list(receipts) == [vp["verifiableCredential"][0]["id"]]

    with httpx.Client(base_url=roles.verifier_url, trust_env=False, timeout=20, follow_redirects=True) as http:
        home = http.get("/")
        assert "샘플 증명서로 확인해 보기" in home.text
        download = http.get("/sample/certificate.pdf")
        assert download.headers["content-type"] == "application/pdf" and download.content == pdf
        # the employer uploads the downloaded file: a full valid verification
        verdict = http.post("/upload", files={"file": ("sample.pdf", download.content, "application/pdf")}, data={"csrf_token": _csrf(home.text)})
        assert verdict.status_code == 200
        assert 'data-verdict="valid"' in verdict.text, re.findall(r'check--fail.*?check__reason">([^<]*)', verdict.text, re.S)
        assert "유효합니다" in verdict.text
        # the one-click button and the QR link (the sample's published presentation) give the same
        assert 'data-verdict="valid"' in http.post("/sample", data={"csrf_token": _csrf(home.text)}).text
        assert set(certificate.embedded_files(pdf)) == {certificate.PRESENTATION_FILE, certificate.RECEIPTS_FILE}
        link = roles.verifier_url + demo.SAMPLE_LINK_PATH
        assert json.loads(http.get(link).content)["verifiablePresentation"] == vp
        assert 'data-verdict="valid"' in http.post("/scan", data={"qr": link, "csrf_token": _csrf(home.text)}).text
        assert http.get("/sample/certificate.pdf?lang=en").content == first.pdf_en.read_bytes()


def test_no_sample_no_offer_and_seeding_survives_a_missing_role(roles: Roles, tmp_path: Path) -> None:
    with httpx.Client(base_url=roles.verifier_url, trust_env=False, timeout=10) as http:
        assert "샘플 증명서" not in http.get("/").text
        assert http.get("/sample/certificate.pdf").status_code == 404
    # `make run --roles verifier`: no registry to seed; the verifier has no seed and nothing breaks
    errors: list[str] = []
    demo.seed_all([("verifier", "verifier", roles.verifier)], tmp_path / "stamps", errors.append)
    assert errors == []


def test_seed_all_runs_the_registry_seed_then_the_city_once(roles: Roles, tmp_path: Path) -> None:
    errors: list[str] = []
    apps = [("registry", "registry", roles.registry), ("verifier", "verifier", roles.verifier)]
    demo.seed_all(apps, roles.data, errors.append)
    assert errors == []
    assert (roles.data / "demo-registry.done").exists() and (roles.data / demo.CITY_STAMP).exists()
    assert (roles.data / "demo" / "sample-certificate.pdf").exists()
    with httpx.Client(base_url=roles.verifier_url, trust_env=False, timeout=10) as http:
        assert "샘플 증명서로 확인해 보기" in http.get("/").text


def test_the_city_seed_needs_the_registry_token(roles: Roles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKCRED_REGISTRY_API_TOKEN", "wrong")
    with pytest.raises(RegistryError, match="401"):
        demo.seed_city_for(roles.registry, roles.data)
    errors: list[str] = []
    demo.seed_all([("registry", "registry", roles.registry)], roles.data, errors.append)
    assert len(errors) == 1 and errors[0].startswith("city: demo data not seeded (RegistryError")
    assert not (roles.data / demo.CITY_STAMP).exists()  # retried on the next start


def test_prepare_shares_one_generated_dev_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKCRED_DEV", "1")
    monkeypatch.delenv("WORKCRED_REGISTRY_API_TOKEN", raising=False)
    monkeypatch.setenv("WORKCRED_REGISTRY_API_TOKENS", "ops-token")
    demo.prepare(tmp_path)
    token = os.environ["WORKCRED_REGISTRY_API_TOKEN"]
    assert len(token) >= 40 and os.environ["WORKCRED_REGISTRY_API_TOKENS"] == f"ops-token,{token}"
    saved = tmp_path / demo.TOKEN_FILE
    assert saved.read_text().strip() == token and stat.S_IMODE(saved.stat().st_mode) == 0o600
    # the next start reuses it (the registry and the seed agree across restarts)
    monkeypatch.delenv("WORKCRED_REGISTRY_API_TOKEN")
    monkeypatch.setenv("WORKCRED_REGISTRY_API_TOKENS", "")
    demo.prepare(tmp_path)
    assert os.environ["WORKCRED_REGISTRY_API_TOKEN"] == token and os.environ["WORKCRED_REGISTRY_API_TOKENS"] == token
    # outside development no token is made up
    monkeypatch.setenv("WORKCRED_DEV", "0")
    monkeypatch.delenv("WORKCRED_REGISTRY_API_TOKEN")
    demo.prepare(tmp_path / "prod")
    assert "WORKCRED_REGISTRY_API_TOKEN" not in os.environ and not (tmp_path / "prod").exists()
