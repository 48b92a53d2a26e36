"""EVM catch-up against a real anvil node: checkpoints signed while the node is unreachable are anchored
once it is back (by the next checkpoint's hook, or by `workcred registry anchor --catch-up`)."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
from collections.abc import Iterator

import pytest

from agents.evm import EvmAnchor
from agents.keys import Ed25519KeyPair
from agents.multibase import b64url
from registry.anchoring import Anchoring
from registry.app import create_app
from tests.anvil import AnvilNode
from web.config import RoleConfig
from workcred.cli import main

TOKEN = "catch-up-token"
KEY = Ed25519KeyPair.from_seed(b"\x71" * 32)
ORIGIN = "registry.workcred.test/catch-up"


class SwitchableProxy:
    """A TCP forwarder to the node that can be switched off: connections are then refused at once."""

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.up = True
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_up(self, up: bool) -> None:
        self.up = up
        if not up:  # kill kept-alive connections too, as a node going away would
            with self._lock:
                for s in self._open:
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)
                self._open.clear()

    def close(self) -> None:
        self.set_up(False)
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self._target))
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.close()


@pytest.fixture
def proxy(anvil: AnvilNode) -> Iterator[SwitchableProxy]:
    port = int(anvil.rpc_url.rsplit(":", 1)[1].split("/")[0])
    p = SwitchableProxy(port)
    yield p
    p.close()


def _env(db_url: str, proxy: SwitchableProxy, anvil: AnvilNode, contract: str) -> dict[str, str]:
    return {
        "WORKCRED_REGISTRY_DATABASE_URL": db_url,
        "WORKCRED_REGISTRY_KEY": KEY.secret_multibase,
        "WORKCRED_REGISTRY_ORIGIN": ORIGIN,
        "WORKCRED_REGISTRY_API_TOKENS": TOKEN,
        "WORKCRED_REGISTRY_BACKGROUND": "0",
        "WORKCRED_REGISTRY_CHECKPOINT_EVERY": "1",
        "WORKCRED_REGISTRY_EVM_RPC": proxy.url,
        "WORKCRED_REGISTRY_EVM_CONTRACT": contract,
        "WORKCRED_REGISTRY_EVM_KEY": anvil.accounts[1].private_key,
        "WORKCRED_REGISTRY_EVM_TIMEOUT": "5",
    }


def _append(client: object, n: int) -> None:
    digest = b64url(hashlib.sha256(f"doc {n}".encode()).digest())
    resp = client.post(  # type: ignore[attr-defined]
        "/log/entries", json={"type": "credential", "digest": digest}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert resp.status_code == 201


def test_missed_checkpoints_are_anchored_when_the_node_is_back(
    db_url: str, anvil: AnvilNode, anchor_contract: str, proxy: SwitchableProxy, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for k, v in _env(db_url, proxy, anvil, anchor_contract).items():
        monkeypatch.setenv(k, v)
    app = create_app(RoleConfig.from_env("registry"))
    ctx = app.extensions["registry"]
    anchoring = Anchoring.from_config(RoleConfig.from_env("registry"))
    assert anchoring is not None
    reader = EvmAnchor(anvil.rpc_url, anchor_contract, None, timeout=10.0)  # straight to the node
    try:
        http = app.test_client()
        assert anchoring.unanchored_sizes(ctx.log) == []  # the start-up checkpoint (size 0) is anchored

        # 1. the node goes away: the log carries on, checkpoints 1..3 are signed but not anchored
        proxy.set_up(False)
        for n in range(3):
            _append(http, n)
        assert ctx.log.latest_checkpoint().size == 3
        assert anchoring.unanchored_sizes(ctx.log) == [1, 2, 3]
        assert reader.root_at(ORIGIN, 2) is None
        # the catch-up command fails clearly while the node is down
        assert main(["registry", "anchor", "--catch-up"]) == 2
        assert "unreachable" in capsys.readouterr().err

        # 2. the node is back: the next checkpoint anchors the missed ones first, then itself
        proxy.set_up(True)
        _append(http, 3)
        assert anchoring.unanchored_sizes(ctx.log) == []
        for size in range(5):
            cp_root = _root(ctx, size)
            assert reader.root_at(ORIGIN, size) == cp_root
        assert sorted(anchoring.anchored(ctx.log)) == [0, 1, 2, 3, 4]

        # 3. down again; `workcred registry anchor --catch-up` anchors what was missed, oldest first
        proxy.set_up(False)
        _append(http, 4)
        _append(http, 5)
        assert anchoring.unanchored_sizes(ctx.log) == [5, 6]
        proxy.set_up(True)
        capsys.readouterr()
        assert main(["registry", "anchor", "--catch-up"]) == 0
        out = capsys.readouterr().out
        assert out.index("tree size 5") < out.index("tree size 6")
        assert anchoring.unanchored_sizes(ctx.log) == []
        assert reader.latest(ORIGIN).tree_size == 6
        assert main(["registry", "anchor", "--catch-up"]) == 0
        assert "nothing to anchor" in capsys.readouterr().out
    finally:
        ctx.close()


def _root(ctx: object, size: int) -> bytes:
    from registry.models import LogCheckpoint

    with ctx.session_factory() as s:  # type: ignore[attr-defined]
        return bytes(s.get(LogCheckpoint, size).root)
