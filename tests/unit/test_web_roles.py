"""The issuer and wallet landing pages, the `make run` supervisor and demo hook, the vendored contexts."""

from __future__ import annotations

import hashlib
import json
import socket
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from agents.multibase import b64url
from holder_wallet.app import create_app as create_wallet
from issuer.app import create_app as create_issuer
from issuer.app import parse_departments
from web.config import RoleConfig
from workcred import demo, run

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import vendor_contexts  # noqa: E402


def config(role: str, **extra: str) -> RoleConfig:
    return RoleConfig(role, port=0, base_url="http://127.0.0.1:1", secret_key="k", dev=True, extra=extra)


@pytest.fixture
def issuer_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[RoleConfig], RoleConfig]:
    """The issuer's database, keys and data directory under tmp_path (it refuses to start without a master key)."""
    monkeypatch.setenv("WORKCRED_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WORKCRED_ISSUER_MASTER_KEY", b64url(b"\x01" * 32))
    monkeypatch.setenv("WORKCRED_KEYSTORE_SECRET", b64url(b"\x02" * 32))

    def place(cfg: RoleConfig) -> RoleConfig:
        cfg.database_url = f"sqlite:///{tmp_path / 'issuer.sqlite3'}"
        return cfg

    return place


def test_issuer_page_names_the_configured_departments_and_links_the_trust_list(issuer_env: Callable[[RoleConfig], RoleConfig]) -> None:
    app = create_issuer(
        issuer_env(config("issuer", departments="jobs:일자리정책과|Job Policy Division; youth:청년정책과", registry_url="https://reg.example"))
    )
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    assert "일자리정책과" in html and "청년정책과" in html and "<code>youth</code>" in html
    assert 'href="https://reg.example/trust"' in html  # the rendered page, not the raw JSON
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Job Policy Division" in english and "청년정책과" in english  # no English name: the Korean one


def test_issuer_without_departments_says_so(issuer_env: Callable[[RoleConfig], RoleConfig]) -> None:
    cfg = issuer_env(config("issuer"))
    cfg.dev = False
    html = create_issuer(cfg).test_client().get("/").get_data(as_text=True)
    assert "설정된 발급 부서가 없습니다" in html


@pytest.mark.parametrize("spec", ["jobs", ":이름", "jobs:"])
def test_bad_department_spec_is_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="WORKCRED_ISSUER_DEPARTMENTS"):
        parse_departments(spec)


def test_wallet_page_explains_and_links_the_verifier() -> None:
    client = create_wallet(config("wallet", verifier_url="https://verify.example")).test_client()
    html = client.get("/").get_data(as_text=True)
    assert "전자지갑" in html and 'href="https://verify.example"' in html
    assert "My labor contract and career wallet" in client.get("/?lang=en").get_data(as_text=True)


def test_demo_hook_finds_seed_functions_and_stamps_once(tmp_path: Path) -> None:
    assert demo.find_seed("holder_wallet") is None  # no seed_demo yet: nothing to do
    calls: list[str] = []
    app = create_wallet(config("wallet"))
    app.extensions["seeded"] = calls
    module = sys.modules["holder_wallet.app"]
    module.seed_demo = lambda a: a.extensions["seeded"].append("seeded")  # type: ignore[attr-defined]
    try:
        demo.seed_all([("wallet", "holder_wallet", app)], tmp_path, print)
        demo.seed_all([("wallet", "holder_wallet", app)], tmp_path, print)
    finally:
        del module.seed_demo  # type: ignore[attr-defined]
    assert calls == ["seeded"] and (tmp_path / "demo-wallet.done").exists()


def test_a_failing_seed_is_reported_and_retried(tmp_path: Path) -> None:
    lines: list[str] = []
    app = create_wallet(config("wallet"))
    module = sys.modules["holder_wallet.app"]

    def broken(_app: object) -> None:
        raise RuntimeError("registry down")

    module.seed_demo = broken  # type: ignore[attr-defined]
    try:
        demo.seed_all([("wallet", "holder_wallet", app)], tmp_path, lines.append)
    finally:
        del module.seed_demo  # type: ignore[attr-defined]
    assert lines == ["wallet: demo data not seeded (RuntimeError: registry down)"]
    assert not (tmp_path / "demo-wallet.done").exists()


def test_supervisor_serves_a_role_and_reports_a_busy_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKCRED_DEV", "1")
    monkeypatch.setenv("WORKCRED_WALLET_PORT", "0")
    started = run.start_role("wallet", "holder_wallet")
    assert isinstance(started, run.Running)
    try:
        port = started.server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            assert json.load(resp) == {"status": "ok", "role": "wallet"}
        monkeypatch.setenv("WORKCRED_WALLET_PORT", str(port))
        busy = run.start_role("wallet", "holder_wallet")
        assert isinstance(busy, str) and busy.startswith("not started (127.0.0.1:")
    finally:
        started.server.shutdown()
        started.server.server_close()
        started.thread.join(5)


def test_supervisor_reports_a_role_that_does_not_import() -> None:
    reason = run.start_role("verifier", "no_such_role_package")
    assert isinstance(reason, str) and "ModuleNotFoundError" in reason


@pytest.mark.usefixtures("issuer_data_dir")
def test_supervisor_line_format(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        monkeypatch.setenv("WORKCRED_ISSUER_PORT", str(port))
        monkeypatch.setenv("WORKCRED_DEV", "1")
        assert run.main(["--roles", "issuer"]) == 1  # the only role cannot bind: nothing runs
    assert capsys.readouterr().out == f"issuer: not started (127.0.0.1:{port}: Address already in use)\n"


def test_vendored_contexts_match_their_index() -> None:
    folder = ROOT / "agents" / "contexts"
    index = json.loads((folder / "index.json").read_text())
    for url in (
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/2018/credentials/v1",
        "https://w3id.org/security/data-integrity/v2",
        "https://w3id.org/security/multikey/v1",
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "https://www.w3.org/ns/credentials/examples/v2",
        "https://www.w3.org/ns/credentials/status/v1",
    ):
        entry = index[url]
        data = (folder / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert "@context" in json.loads(data)


@pytest.mark.skipif(not (ROOT / "node_modules" / "did-context").is_dir(), reason="node_modules not installed")
def test_vendored_contexts_equal_node_modules(tmp_path: Path) -> None:
    assert vendor_contexts.main(["--check"]) == 0
    (tmp_path / "index.json").write_text("{}")
    assert vendor_contexts.main(["--check", "--target", str(tmp_path)]) == 1
