"""EVM anchoring of checkpoints against a real anvil node (tests/anvil.py starts it)."""

from __future__ import annotations

import hashlib
import logging
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractCustomError

from agents.errors import RegistryError
from agents.evm.anchor import _artifact
from registry.evm import EvmAnchor, deploy, from_env, on_checkpoint_callback, origin_hash

if TYPE_CHECKING:
    from tests.anvil import AnvilNode

# until tests/conftest.py lists it; importing it here would defeat assertion rewriting

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "registry.workcred.seoul.go.kr/log"


def root_of(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def contract(anvil: AnvilNode, address: str):  # type: ignore[no-untyped-def]
    w3 = Web3(HTTPProvider(anvil.rpc_url))
    return w3, w3.eth.contract(address=Web3.to_checksum_address(address), abi=_artifact()["abi"])


def send_as(anvil: AnvilNode, key: str, fn) -> dict:  # type: ignore[no-untyped-def]
    """Send a contract call signed with `key`, bypassing EvmAnchor's own checks."""
    w3 = fn.w3
    acct = Account.from_key(key)
    tx = fn.build_transaction(
        {"from": acct.address, "nonce": w3.eth.get_transaction_count(acct.address), "chainId": anvil.chain_id}
    )
    signed = acct.sign_transaction(tx)
    return dict(w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(signed.raw_transaction)))


@dataclass(frozen=True)
class FakeCheckpoint:
    """Shape of registry.log's Checkpoint as the Log hands it to on_checkpoint."""

    origin: str
    size: int
    root: bytes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- deployment -------------------------------------------------------------------------------


def test_deployed_contract_is_the_committed_build(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    evm_anchor.check_contract()
    _, c = contract(anvil, evm_anchor.contract_address)
    assert c.functions.owner().call() == anvil.accounts[0].address
    assert c.functions.isAnchorer(anvil.accounts[1].address).call() is True
    assert c.functions.isAnchorer(anvil.accounts[0].address).call() is False


def test_check_contract_refuses_an_address_without_the_contract(anvil: AnvilNode) -> None:
    not_a_contract = EvmAnchor(anvil.rpc_url, anvil.accounts[3].address, timeout=5)
    with pytest.raises(RegistryError, match="no CheckpointAnchor contract"):
        not_a_contract.check_contract()


def test_deploy_defaults_to_the_deployer_as_anchorer(anvil: AnvilNode) -> None:
    key = anvil.accounts[4].private_key
    address = deploy(anvil.rpc_url, key)
    anchor = EvmAnchor(anvil.rpc_url, address, key, timeout=10)
    anchor.anchor(ORIGIN, 1, root_of("a"))
    assert anchor.root_at(ORIGIN, 1) == root_of("a")


# --- anchoring and reading back ---------------------------------------------------------------


def test_anchor_several_checkpoints_and_read_back(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    sizes = [1, 2, 7, 5, 2**64 - 1, 0]  # out of order, and the extremes of uint64
    hashes = {size: evm_anchor.anchor(ORIGIN, size, root_of(f"r{size}")) for size in sizes}

    assert len(set(hashes.values())) == len(sizes)
    for size in sizes:
        assert evm_anchor.root_at(ORIGIN, size) == root_of(f"r{size}")
    assert evm_anchor.root_at(ORIGIN, 3) is None
    assert evm_anchor.root_at("another.example/log", 1) is None

    latest = evm_anchor.latest(ORIGIN)
    assert latest is not None
    assert (latest.tree_size, latest.root) == (2**64 - 1, root_of(f"r{2**64 - 1}"))
    assert evm_anchor.latest("another.example/log") is None

    w3, c = contract(anvil, evm_anchor.contract_address)
    receipt = w3.eth.get_transaction_receipt(hashes[7])
    rec = evm_anchor.record(ORIGIN, 7)
    assert rec is not None
    assert rec.block_number == receipt["blockNumber"]
    assert rec.timestamp == w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    (event,) = c.events.Anchored().process_receipt(receipt)
    assert event["args"]["originHash"] == origin_hash(ORIGIN)
    assert event["args"]["treeSize"] == 7
    assert event["args"]["root"] == root_of("r7")


def test_latest_only_moves_forward(evm_anchor: EvmAnchor) -> None:
    evm_anchor.anchor(ORIGIN, 10, root_of("ten"))
    evm_anchor.anchor(ORIGIN, 4, root_of("four"))
    latest = evm_anchor.latest(ORIGIN)
    assert latest is not None and (latest.tree_size, latest.root) == (10, root_of("ten"))


def test_anchoring_the_same_root_twice_is_idempotent(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    first = evm_anchor.anchor(ORIGIN, 3, root_of("x"))
    w3, _ = contract(anvil, evm_anchor.contract_address)
    nonce = w3.eth.get_transaction_count(anvil.accounts[1].address)

    again = evm_anchor.anchor(ORIGIN, 3, root_of("x"))

    assert again == first  # the hash of the transaction that anchored it
    assert w3.eth.get_transaction_count(anvil.accounts[1].address) == nonce  # nothing sent


def test_contract_accepts_a_repeated_root_without_a_second_event(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    # two registry replicas racing with the same checkpoint must both succeed
    evm_anchor.anchor(ORIGIN, 3, root_of("x"))
    _, c = contract(anvil, evm_anchor.contract_address)
    receipt = send_as(
        anvil, anvil.accounts[1].private_key, c.functions.anchor(origin_hash(ORIGIN), 3, root_of("x"))
    )
    assert receipt["status"] == 1
    assert c.events.Anchored().process_receipt(receipt) == ()


# --- forks ------------------------------------------------------------------------------------


def test_a_different_root_for_an_anchored_size_is_a_fork(evm_anchor: EvmAnchor) -> None:
    evm_anchor.anchor(ORIGIN, 8, root_of("honest"))
    with pytest.raises(RegistryError, match="fork detected: tree size 8") as info:
        evm_anchor.anchor(ORIGIN, 8, root_of("forked"))
    assert info.value.details["reason"] == "fork"
    assert info.value.details["anchored_root"] == root_of("honest").hex()
    assert "포크" in info.value.diagnostics("ko")
    assert evm_anchor.root_at(ORIGIN, 8) == root_of("honest")


def test_the_contract_itself_reverts_a_fork_with_a_named_error(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    evm_anchor.anchor(ORIGIN, 8, root_of("honest"))
    _, c = contract(anvil, evm_anchor.contract_address)
    with pytest.raises(ContractCustomError) as info:
        c.functions.anchor(origin_hash(ORIGIN), 8, root_of("forked")).call({"from": anvil.accounts[1].address})
    assert str(info.value.data).startswith(selector("ForkAttempt(bytes32,uint64,bytes32,bytes32)"))


# --- authorisation ----------------------------------------------------------------------------


def test_an_unauthorised_account_cannot_write(anvil: AnvilNode, anchor_contract: str) -> None:
    stranger = EvmAnchor(anvil.rpc_url, anchor_contract, anvil.accounts[2].private_key, timeout=10)
    with pytest.raises(RegistryError, match="not authorised to anchor") as info:
        stranger.anchor(ORIGIN, 1, root_of("x"))
    assert info.value.details["reason"] == "unauthorised"
    assert stranger.root_at(ORIGIN, 1) is None


def test_the_owner_can_revoke_an_anchorer_and_nobody_else_can(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    _, c = contract(anvil, evm_anchor.contract_address)
    anchorer = anvil.accounts[1].address
    with pytest.raises(ContractCustomError) as info:
        c.functions.setAnchorer(anvil.accounts[2].address, True).call({"from": anvil.accounts[2].address})
    assert str(info.value.data).startswith(selector("NotOwner(address)"))

    send_as(anvil, anvil.accounts[0].private_key, c.functions.setAnchorer(anchorer, False))

    with pytest.raises(RegistryError, match="not authorised"):
        evm_anchor.anchor(ORIGIN, 1, root_of("x"))


def test_a_read_only_anchor_reads_but_does_not_write(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    evm_anchor.anchor(ORIGIN, 1, root_of("x"))
    reader = EvmAnchor(anvil.rpc_url, evm_anchor.contract_address, None, timeout=5)
    assert reader.root_at(ORIGIN, 1) == root_of("x")
    assert reader.account_address is None
    with pytest.raises(RegistryError, match="read-only"):
        reader.anchor(ORIGIN, 2, root_of("y"))


# --- verification -----------------------------------------------------------------------------


def test_verify_checkpoint_on_chain(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    evm_anchor.anchor(ORIGIN, 12, root_of("twelve"))
    verifier = EvmAnchor(anvil.rpc_url, evm_anchor.contract_address, timeout=5)

    verifier.verify_checkpoint_on_chain(ORIGIN, 12, root_of("twelve"))

    with pytest.raises(RegistryError, match="differs from the anchored root") as info:
        verifier.verify_checkpoint_on_chain(ORIGIN, 12, root_of("forged"))
    assert info.value.details["reason"] == "fork"
    with pytest.raises(RegistryError, match="size 13 .* not anchored"):
        verifier.verify_checkpoint_on_chain(ORIGIN, 13, root_of("twelve"))
    with pytest.raises(RegistryError, match="not anchored"):
        verifier.verify_checkpoint_on_chain("other.example/log", 12, root_of("twelve"))


# --- the Log hook -----------------------------------------------------------------------------


def test_on_checkpoint_callback_anchors_each_checkpoint(evm_anchor: EvmAnchor) -> None:
    hook = on_checkpoint_callback(evm_anchor)
    hook(FakeCheckpoint(ORIGIN, 1, root_of("one")))
    hook(ORIGIN, 2, root_of("two"))
    hook(FakeCheckpoint(ORIGIN, 2, root_of("two")))  # the Log may re-publish a checkpoint

    assert evm_anchor.root_at(ORIGIN, 1) == root_of("one")
    assert evm_anchor.root_at(ORIGIN, 2) == root_of("two")
    with pytest.raises(RegistryError, match="fork"):
        hook(FakeCheckpoint(ORIGIN, 2, root_of("other")))


def test_lenient_callback_logs_an_unreachable_node_but_still_raises_forks(
    anvil: AnvilNode, evm_anchor: EvmAnchor, caplog: pytest.LogCaptureFixture
) -> None:
    down = EvmAnchor(f"http://127.0.0.1:{free_port()}", evm_anchor.contract_address,
                     anvil.accounts[1].private_key, timeout=2)
    with caplog.at_level(logging.WARNING, logger="workcred.registry.evm"):
        on_checkpoint_callback(down, strict=False)(FakeCheckpoint(ORIGIN, 1, root_of("one")))
    assert "not anchored" in caplog.text and "unreachable" in caplog.text
    with pytest.raises(RegistryError, match="unreachable"):
        on_checkpoint_callback(down)(FakeCheckpoint(ORIGIN, 1, root_of("one")))

    evm_anchor.anchor(ORIGIN, 1, root_of("one"))
    with pytest.raises(RegistryError, match="fork"):
        on_checkpoint_callback(evm_anchor, strict=False)(FakeCheckpoint(ORIGIN, 1, root_of("two")))


# --- node failures and secrets ----------------------------------------------------------------


def test_an_unreachable_node_is_a_registry_error_naming_no_secret(anvil: AnvilNode) -> None:
    key = anvil.accounts[1].private_key
    url = f"http://operator:s3cret-pw@127.0.0.1:{free_port()}/rpc?token=api-tok"
    anchor = EvmAnchor(url, anvil.accounts[0].address, key, timeout=2)
    for call in (lambda: anchor.root_at(ORIGIN, 1), lambda: anchor.anchor(ORIGIN, 1, root_of("x"))):
        with pytest.raises(RegistryError, match="unreachable") as info:
            call()
        text = info.value.diagnostics("en") + info.value.diagnostics("ko") + repr(info.value.details)
        for secret in ("s3cret-pw", "api-tok", key, key.removeprefix("0x")):
            assert secret not in text
    assert key.removeprefix("0x") not in repr(anchor)


def test_a_bad_key_is_refused_without_echoing_it(anvil: AnvilNode) -> None:
    bad = "0x" + "ab" * 31 + "zz"
    with pytest.raises(RegistryError, match="not a valid secp256k1 private key") as info:
        EvmAnchor(anvil.rpc_url, anvil.accounts[0].address, bad)
    assert "abab" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize(
    ("origin", "size", "root", "message"),
    [
        ("", 1, b"\x01" * 32, "origin"),
        ("a\nb", 1, b"\x01" * 32, "origin"),
        (ORIGIN, -1, b"\x01" * 32, "tree size"),
        (ORIGIN, 2**64, b"\x01" * 32, "tree size"),
        (ORIGIN, 1, b"\x01" * 31, "32 bytes"),
        (ORIGIN, 1, b"\x00" * 32, "all-zero root"),
    ],
)
def test_malformed_checkpoints_are_refused_before_any_transaction(
    anvil: AnvilNode, evm_anchor: EvmAnchor, origin: str, size: int, root: bytes, message: str
) -> None:
    w3, _ = contract(anvil, evm_anchor.contract_address)
    nonce = w3.eth.get_transaction_count(anvil.accounts[1].address)
    with pytest.raises(RegistryError, match=message):
        evm_anchor.anchor(origin, size, root)
    assert w3.eth.get_transaction_count(anvil.accounts[1].address) == nonce


# --- configuration ----------------------------------------------------------------------------


def test_from_env(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    assert from_env({}) is None
    with pytest.raises(RegistryError, match="WORKCRED_REGISTRY_EVM_CONTRACT is not set"):
        from_env({"WORKCRED_REGISTRY_EVM_RPC": anvil.rpc_url})
    with pytest.raises(RegistryError, match="WORKCRED_REGISTRY_EVM_RPC is not set"):
        from_env({"WORKCRED_REGISTRY_EVM_KEY": anvil.accounts[1].private_key})

    configured = from_env(
        {
            "WORKCRED_REGISTRY_EVM_RPC": anvil.rpc_url,
            "WORKCRED_REGISTRY_EVM_CONTRACT": evm_anchor.contract_address,
            "WORKCRED_REGISTRY_EVM_KEY": anvil.accounts[1].private_key,
        }
    )
    assert configured is not None
    assert configured.account_address == anvil.accounts[1].address
    configured.anchor(ORIGIN, 1, root_of("env"))
    assert evm_anchor.root_at(ORIGIN, 1) == root_of("env")


# --- cost -------------------------------------------------------------------------------------


def test_gas_per_anchor_stays_below_budget(anvil: AnvilNode, evm_anchor: EvmAnchor) -> None:
    w3, _ = contract(anvil, evm_anchor.contract_address)
    first = w3.eth.get_transaction_receipt(evm_anchor.anchor(ORIGIN, 1, root_of("1")))["gasUsed"]
    steady = w3.eth.get_transaction_receipt(evm_anchor.anchor(ORIGIN, 2, root_of("2")))["gasUsed"]
    # measured 93,481 (first checkpoint of a log) and 76,393 (each later one); see docs/evm-anchoring.md
    assert first <= 100_000
    assert steady <= 80_000


# --- reproducible build -----------------------------------------------------------------------


@pytest.mark.slow
def test_committed_artifact_matches_a_fresh_compile() -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "solc").is_dir():
        pytest.skip("node or node_modules/solc is missing (run `npm ci` in the repository root)")
    result = subprocess.run(
        [node, str(ROOT / "scripts" / "compile_contract.mjs"), "--check"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "is up to date" in result.stdout


# --- with the registry's real Log -------------------------------------------------------------


def test_the_registry_log_anchors_every_signed_checkpoint(
    anvil: AnvilNode, evm_anchor: EvmAnchor, sqlite_url: str
) -> None:
    from agents import merkle
    from agents.keys import Ed25519KeyPair
    from registry.log import Log
    from web import db

    db.migrate("registry", sqlite_url)
    engine = db.make_engine(sqlite_url)
    try:
        sf = db.session_factory(engine)
        log = Log(
            sf,
            origin=ORIGIN,
            signer=Ed25519KeyPair.from_seed(b"\x07" * 32),
            checkpoint_seconds=3600,
            on_checkpoint=on_checkpoint_callback(evm_anchor),
        )
        signed = []
        for batch in range(3):
            with db.transaction(sf) as s:
                log.append_many(s, [("credential", merkle.document_digest({"n": batch, "i": i})) for i in range(5)])
            signed.append(log.checkpoint())
    finally:
        engine.dispose()

    verifier = EvmAnchor(anvil.rpc_url, evm_anchor.contract_address, timeout=5)
    assert [cp.size for cp in signed] == [5, 10, 15]
    for cp in signed:
        verifier.verify_checkpoint_on_chain(cp.origin, cp.size, cp.root)
    latest = verifier.latest(ORIGIN)
    assert latest is not None and (latest.tree_size, latest.root) == (15, signed[-1].root)
