"""The registry's pages for people (`/`, `/trust`) over HTTP, on SQLite and PostgreSQL: the figures they
show are the log's and the trust list's own, every raw link answers, a witness cosignature shows."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import httpx
import pytest

from agents.checkpoint import ALG_COSIGNATURE_V1, cosign, verifier_key
from agents.keys import Ed25519KeyPair
from tests.helpers_city import REGISTRY_KEY, start_city

WITNESS = Ed25519KeyPair.from_seed(b"\x77" * 32)
WITNESS_NAME = "witness.example/seoul"


def _links(html: str) -> list[str]:
    return re.findall(r'href="(/[^"#]*)"', html)


def test_root_page_explains_the_registry_with_the_logs_own_figures(tmp_path: Path, db_url: str) -> None:
    with start_city(tmp_path, db_url) as city:
        dept = city.department("seoul-jobs", "서울특별시 일자리정책과", "Job Policy Division")
        city.issue_career(dept, Ed25519KeyPair.from_seed(b"w" * 32))
        with httpx.Client(base_url=city.base_url, trust_env=False) as http:
            page = http.get("/")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            html = page.text
            assert "서울시 신뢰 등록소" in html
            cp = city.log.latest_checkpoint()
            assert f"{city.log.size():,}건" in html
            assert base64.b64encode(cp.root).decode() in html
            assert f"기록 {cp.size:,}건 포함" in html
            assert "1곳" in html  # one accredited department
            assert "지정된 증인이 없습니다" in html
            for link in _links(html):
                assert http.get(link).status_code == 200, link
            en = http.get("/?lang=en").text
            assert "Seoul trust registry" in en and "What is this registry?" in en


def test_trust_page_renders_each_department_with_keys_and_raw_links(tmp_path: Path, db_url: str) -> None:
    with start_city(tmp_path, db_url) as city:
        dept = city.department("seoul-jobs", "서울특별시 일자리정책과", "Job Policy Division")
        city.rotate_key(dept)
        with httpx.Client(base_url=city.base_url, trust_env=False) as http:
            html = http.get("/trust").text
            assert "서울특별시 일자리정책과" in html and dept.did in html
            document = http.get("/issuers/seoul-jobs/did.json").json()
            for vm in document["verificationMethod"]:
                assert vm["publicKeyMultibase"] in html
            assert html.count("사용 중") == 1 and "2판부터 폐기" in html
            assert "2개 판" in html
            links = _links(html)
            assert "/issuers/seoul-jobs/did.json" in links and "/trust-list" in links
            for link in links:
                assert http.get(link).status_code == 200, link
            assert "Job Policy Division" in http.get("/trust?lang=en").text


def test_pages_before_anything_is_published(tmp_path: Path) -> None:
    with start_city(tmp_path) as city, httpx.Client(base_url=city.base_url, trust_env=False) as http:
        assert "아직 공개된 신뢰 목록이 없습니다" in http.get("/").text
        assert "아직 공개된 신뢰 목록이 없습니다" in http.get("/trust").text


def test_a_witness_cosignature_shows_on_the_root_page(tmp_path: Path) -> None:
    from registry.app import create_app
    from web.config import RoleConfig

    vkey = verifier_key(WITNESS_NAME, WITNESS.public, ALG_COSIGNATURE_V1)
    config = RoleConfig(
        "registry", database_url=f"sqlite:///{tmp_path / 'r.sqlite3'}", secret_key="t", dev=True,
        extra={"key": REGISTRY_KEY.secret_multibase, "background": "0", "witnesses": vkey},
    )  # fmt: skip
    app = create_app(config)
    try:
        http = app.test_client()
        assert "아직 서명하지 않음" in http.get("/").get_data(as_text=True)
        note = http.get("/log/checkpoint").get_data(as_text=True)
        assert http.post("/log/checkpoint/cosignatures", data=cosign(note, WITNESS_NAME, WITNESS, timestamp=1_800_000_000)).status_code == 200
        html = http.get("/").get_data(as_text=True)
        assert WITNESS_NAME in html and "최신 체크포인트에 서명함" in html
    finally:
        app.extensions["registry"].close()


@pytest.mark.parametrize("path", ["/", "/trust"])
def test_pages_are_read_only(tmp_path: Path, path: str) -> None:
    with start_city(tmp_path) as city, httpx.Client(base_url=city.base_url, trust_env=False) as http:
        assert http.post(path).status_code in (400, 405)
