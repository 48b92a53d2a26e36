"""pytest plugin: a real local anvil EVM node for the EVM anchoring tests.

Register it with ``pytest_plugins = ["tests.anvil"]`` in tests/conftest.py. Fixtures:

- ``anvil`` (session): a running :class:`AnvilNode` on a free loopback port, chain id 31337, with
  deterministic accounts from the well-known test mnemonic; stopped at the end of the session.
- ``anchor_contract`` (function): address of a fresh CheckpointAnchor contract deployed by
  account 0, with account 1 authorised to anchor.
- ``evm_anchor`` (function): an ``EvmAnchor`` on that contract, writing with account 1.

Tests that use ``anvil`` are marked ``anvil`` automatically. When node_modules/.bin/anvil is
missing they are skipped with the reason, unless WORKCRED_REQUIRE_ANVIL=1, which makes them fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from eth_utils.address import to_checksum_address

if TYPE_CHECKING:
    from registry.evm import EvmAnchor

ROOT = Path(__file__).resolve().parent.parent
ANVIL_BIN = Path(os.environ.get("WORKCRED_ANVIL_BIN", ROOT / "node_modules" / ".bin" / "anvil"))
REQUIRE_ANVIL = os.environ.get("WORKCRED_REQUIRE_ANVIL", "0") == "1"
CHAIN_ID = 31337
# anvil's default mnemonic, spelled out so the accounts stay the same whatever anvil's default becomes
MNEMONIC = "test test test test test test test test test test test junk"
ACCOUNTS = 5
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class AnvilAccount:
    address: str
    private_key: str

    def __repr__(self) -> str:  # keep keys out of assertion rewrites and logs
        return f"AnvilAccount({self.address})"


@dataclass(frozen=True)
class AnvilNode:
    """A running anvil: its RPC URL, chain id and funded accounts (0 = deployer, 1 = anchorer)."""

    rpc_url: str
    chain_id: int
    accounts: tuple[AnvilAccount, ...]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(rpc_url: str) -> bool:
    try:
        r = httpx.post(
            rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=1.0
        )
        return r.status_code == 200 and int(r.json()["result"], 16) == CHAIN_ID
    except (httpx.HTTPError, ValueError, KeyError):
        return False


def _start(workdir: Path) -> tuple[subprocess.Popen[bytes], AnvilNode]:
    """Start anvil on a free port and wait until it answers eth_chainId; raise RuntimeError if not."""
    port = _free_port()
    config_out = workdir / f"anvil-{port}.json"
    log = (workdir / f"anvil-{port}.log").open("wb")
    proc = subprocess.Popen(
        [
            str(ANVIL_BIN),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--chain-id", str(CHAIN_ID),
            "--mnemonic", MNEMONIC,
            "--accounts", str(ACCOUNTS),
            "--config-out", str(config_out),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    rpc_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        if config_out.exists() and _answers(rpc_url):
            cfg = json.loads(config_out.read_text())
            accounts = tuple(
                AnvilAccount(address=to_checksum_address(a), private_key=k)
                for a, k in zip(cfg["available_accounts"], cfg["private_keys"], strict=True)
            )
            return proc, AnvilNode(rpc_url=rpc_url, chain_id=CHAIN_ID, accounts=accounts)
        time.sleep(0.05)
    _stop(proc)
    tail = (workdir / f"anvil-{port}.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"anvil did not answer on {rpc_url} within {START_TIMEOUT}s:\n{tail}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def running_anvil() -> Iterator[AnvilNode]:
    """Run one anvil for the duration of the block (retries once if the free port was taken)."""
    with tempfile.TemporaryDirectory(prefix="workcred-anvil-") as tmp:
        try:
            proc, node = _start(Path(tmp))
        except RuntimeError:
            proc, node = _start(Path(tmp))  # the port may have been taken between probe and bind
        try:
            yield node
        finally:
            _stop(proc)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs anvil, so `-m "not anvil"` deselects it."""
    for item in items:
        if "anvil" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.anvil)


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    """A running anvil node for the whole session."""
    if not os.access(ANVIL_BIN, os.X_OK):
        reason = f"anvil not found at {ANVIL_BIN} (run `npm ci` in the repository root)"
        if REQUIRE_ANVIL:
            pytest.fail(reason)
        pytest.skip(reason)
    with running_anvil() as node:
        yield node


@pytest.fixture
def anchor_contract(anvil: AnvilNode) -> str:
    """A freshly deployed CheckpointAnchor (owner: account 0; anchorer: account 1)."""
    from registry.evm import deploy

    return deploy(
        anvil.rpc_url, anvil.accounts[0].private_key, anchorers=[anvil.accounts[1].address]
    )


@pytest.fixture
def evm_anchor(anvil: AnvilNode, anchor_contract: str) -> EvmAnchor:
    """An EvmAnchor on a fresh contract, writing with the authorised account 1."""
    from registry.evm import EvmAnchor

    return EvmAnchor(anvil.rpc_url, anchor_contract, anvil.accounts[1].private_key, timeout=10.0)
