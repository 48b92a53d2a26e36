"""`workcred registry department|status|trust` against a real registry server on a local port."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from agents import didhistory, statuslist
from agents.did import Resolver
from agents.fetcher import Fetcher
from agents.keys import Ed25519KeyPair
from agents.multibase import b64url
from agents.registry_client import RegistryClient, verify_trust_list
from registry.app import create_app
from web.config import RoleConfig
from workcred.cli import main

KEY = Ed25519KeyPair.from_seed(b"\x55" * 32)
TOKEN = "tok-cli"


@pytest.fixture
def server(sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    srv = make_server("127.0.0.1", 0, None)  # type: ignore[arg-type]
    port = srv.server_port
    srv.server_close()
    base = f"http://127.0.0.1:{port}"
    env = {
        "WORKCRED_REGISTRY_DATABASE_URL": sqlite_url,
        "WORKCRED_REGISTRY_KEY": KEY.secret_multibase,
        "WORKCRED_REGISTRY_API_TOKENS": TOKEN,
        "WORKCRED_REGISTRY_BASE_URL": base,
        "WORKCRED_REGISTRY_PORT": str(port),
        "WORKCRED_REGISTRY_BACKGROUND": "0",
        "WORKCRED_REGISTRY_URL": base,
        "WORKCRED_KEYSTORE_DIR": str(tmp_path / "keys"),
        "WORKCRED_KEYSTORE_SECRET": b64url(b"\x07" * 32),
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    app = create_app(RoleConfig.from_env("registry"))
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield base
    httpd.shutdown()
    app.extensions["registry"].close()


def test_department_lifecycle_from_the_cli(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["registry", "department", "create", "seoul-jobs", "--label-ko", "일자리정책과"]) == 0
    assert main(["registry", "department", "rotate-key", "seoul-jobs"]) == 0
    client = RegistryClient(server, TOKEN)
    doc = client.did_document("seoul-jobs")
    did = didhistory.department_did(server, "seoul-jobs")
    assert doc is not None and doc["id"] == did and doc["assertionMethod"] == [did + "#key-2"]
    capsys.readouterr()
    # the served document resolves through the shared did:web resolver (fetcher, allow-list)
    resolver = Resolver(fetcher=Fetcher([server.removeprefix("http://")], allow_http_loopback=True))
    vm = resolver.resolve_method(did + "#key-2", relationship="assertionMethod")
    assert vm.public_key.multibase == doc["verificationMethod"][1]["publicKeyMultibase"]
    assert "assertionMethod" not in resolver.resolve_method(did + "#key-1").relationships

    assert main(["registry", "status", "allocate", "seoul-jobs", "rev-2027"]) == 0
    allocated = json.loads(capsys.readouterr().out)
    index = allocated["index"]
    assert main(["registry", "status", "revoke", "seoul-jobs", "rev-2027", str(index)]) == 0
    entry = statuslist.status_entry(allocated["statusListCredential"], index, "revocation")
    assert statuslist.check_status(entry, client.get_status_list("seoul-jobs", "rev-2027")) is True
    # suspend on a revocation list is refused with a clear message
    assert main(["registry", "status", "suspend", "seoul-jobs", "rev-2027", str(index)]) == 2
    assert "revocation list" in capsys.readouterr().err

    trusted = verify_trust_list(client.trust_list(), KEY.public)
    assert trusted[0]["did"] == did and trusted[0]["name"]["ko"] == "일자리정책과"
    assert main(["registry", "trust", "remove", "seoul-jobs"]) == 0
    assert verify_trust_list(client.trust_list(KEY.public), KEY.public) == []
    assert main(["registry", "trust", "remove", "seoul-jobs"]) == 2
    assert main(["registry", "trust", "list"]) == 0
    assert '"version": 2' in capsys.readouterr().out
