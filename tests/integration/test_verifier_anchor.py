"""The verifier reads anchored checkpoint roots from a real EVM node (anvil) through its own settings
(WORKCRED_VERIFIER_EVM_RPC / _EVM_CONTRACT, read-only): `registry.chain` passes for a checkpoint the
registry anchored, and fails for a registry-signed checkpoint whose root is not the one on chain."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import registry.app
from agents import verify
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair
from tests.anvil import AnvilNode
from tests.helpers_city import City, start_city
from verifier.app import create_app, evm_anchor
from web.config import RoleConfig

WORKER = Ed25519KeyPair.from_seed(b"\x42" * 32)


@pytest.fixture
def anchored_city(tmp_path: Path, anvil: AnvilNode, anchor_contract: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[City]:
    """A city whose registry app is configured with WORKCRED_REGISTRY_EVM_* (anchors every checkpoint)."""
    real = registry.app.create_app

    def with_evm(config: RoleConfig) -> Any:
        extra = {**config.extra, "evm_rpc": anvil.rpc_url, "evm_contract": anchor_contract, "evm_key": anvil.accounts[1].private_key}
        return real(dataclasses.replace(config, extra=extra))

    monkeypatch.setattr(registry.app, "create_app", with_evm)
    (tmp_path / "anchored").mkdir()
    with start_city(tmp_path / "anchored") as city:
        monkeypatch.setattr(registry.app, "create_app", real)
        yield city


def _chain_check(city: City, db: Path, anvil: AnvilNode, contract: str, vc: dict[str, Any], receipt: dict[str, Any]) -> dict[str, Any]:
    config = city.verifier_config(f"sqlite:///{db}", evm_rpc=anvil.rpc_url, evm_contract=contract)
    app = create_app(config)
    try:
        vp = verify.create_presentation([vc], WORKER, challenge="c-1", domain="https://verifier.test")
        body = {"verifiablePresentation": vp, "options": {"challenge": "c-1", "domain": "https://verifier.test", "receipts": {vc["id"]: receipt}}}
        report = app.test_client().post("/presentations/verify", json=body).get_json()
    finally:
        app.extensions["verifier"].close()
    checks = [c for sub in report["credentials"] for c in sub["checks"] if c["id"] == "registry.chain"]
    assert len(checks) == 1, report
    return {"outcome": checks[0]["outcome"], "reason": checks[0]["reason"]["en"], "verdict": report["verdict"]}


def test_anchored_checkpoint_passes_the_chain_check(tmp_path: Path, anvil: AnvilNode, anchor_contract: str, anchored_city: City) -> None:
    dept = anchored_city.department("seoul-jobs", "일자리정책과", "Job Policy Division")
    issued = anchored_city.issue_career(dept, WORKER)
    got = _chain_check(anchored_city, tmp_path / "v1.sqlite3", anvil, anchor_contract, issued.vc, issued.receipt)
    assert got["outcome"] == "pass", got
    assert got["verdict"] == "valid"


def test_checkpoint_not_on_chain_fails(tmp_path: Path, anvil: AnvilNode, anchor_contract: str, anchored_city: City) -> None:
    anchored_city.department("seoul-jobs", "일자리정책과", "Job Policy Division")
    # another log under the same origin and key (a registry showing a second history): its
    # checkpoints are correctly signed, but their roots are not the ones anchored on chain
    (tmp_path / "forked").mkdir()
    with start_city(tmp_path / "forked") as fork:
        dept = fork.department("seoul-jobs", "일자리정책과", "Job Policy Division")
        issued = fork.issue_career(dept, WORKER)
    got = _chain_check(anchored_city, tmp_path / "v2.sqlite3", anvil, anchor_contract, issued.vc, issued.receipt)
    assert got["outcome"] == "fail", got
    assert "not anchored" in got["reason"] or "differs from the anchored root" in got["reason"]
    assert got["verdict"] == "tampered"


def test_verifier_anchor_settings(anvil: AnvilNode, anchor_contract: str) -> None:
    def config(**extra: str) -> RoleConfig:
        return RoleConfig("verifier", secret_key="t", dev=True, extra=extra)

    assert evm_anchor(config()) is None
    anchor = evm_anchor(config(evm_rpc=anvil.rpc_url, evm_contract=anchor_contract, evm_key=anvil.accounts[1].private_key))
    assert anchor is not None and anchor.account_address is None  # read-only even when a key is set
    with pytest.raises(RegistryError, match="WORKCRED_VERIFIER_EVM_CONTRACT is not set"):
        evm_anchor(config(evm_rpc=anvil.rpc_url))
    with pytest.raises(RegistryError, match="EVM_TIMEOUT must be a number"):
        evm_anchor(config(evm_rpc=anvil.rpc_url, evm_contract=anchor_contract, evm_timeout="soon"))
