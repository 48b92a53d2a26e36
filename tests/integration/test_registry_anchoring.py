"""The registry app anchors every signed checkpoint on a real local EVM node when configured."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from registry.app import create_app
from registry.evm import EvmAnchor
from tests.anvil import AnvilNode
from web.config import RoleConfig

TOKEN = "anchor-test-token"


def _app(tmp_path: Path, anvil: AnvilNode, contract: str):
    cfg = RoleConfig(
        "registry",
        database_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
        secret_key="test",
        dev=True,
        base_url="http://127.0.0.1:8700",
        extra={
            "background": "0",
            "api_tokens": TOKEN,
            "evm_rpc": anvil.rpc_url,
            "evm_contract": contract,
            "evm_key": anvil.accounts[1].private_key,
        },
    )
    return create_app(cfg)


def test_each_checkpoint_root_is_on_chain(tmp_path: Path, anvil: AnvilNode, anchor_contract: str) -> None:
    app = _app(tmp_path, anvil, anchor_contract)
    ctx = app.extensions["registry"]
    try:
        client = app.test_client()
        auth = {"Authorization": f"Bearer {TOKEN}"}
        for i in range(3):
            digest = base64.urlsafe_b64encode(hashlib.sha256(f"doc {i}".encode()).digest()).rstrip(b"=").decode()
            assert client.post("/log/entries", json={"type": "credential", "digest": digest}, headers=auth).status_code == 201
        assert client.post("/log/checkpoint", headers=auth).status_code == 200
        cp = ctx.log.latest_checkpoint()
        assert cp.size == 3
        reader = EvmAnchor(anvil.rpc_url, anchor_contract, None, timeout=10.0)
        assert reader.root_at(cp.origin, cp.size) == cp.root
        reader.verify_checkpoint_on_chain(cp.origin, cp.size, cp.root)
        # the empty checkpoint signed at start-up was anchored too
        assert reader.root_at(cp.origin, 0) is not None
    finally:
        ctx.close()


def test_registry_without_evm_settings_does_not_anchor(tmp_path: Path) -> None:
    cfg = RoleConfig("registry", database_url=f"sqlite:///{tmp_path / 'r.sqlite3'}", secret_key="t", dev=True, extra={"background": "0"})
    app = create_app(cfg)
    try:
        assert app.extensions["registry"].log._on_checkpoint is None
    finally:
        app.extensions["registry"].close()
