"""Anchor registry checkpoints on an EVM chain (anvil in tests, Hyperledger Besu QBFT in production).

Each signed checkpoint (origin, tree size, 32-byte root) is written to the CheckpointAnchor contract
under ``keccak256(origin)``; a verifier reads it back and compares. Only roots go on chain.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol, cast
from urllib.parse import urlsplit

import requests
from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    TimeExhausted,
    Web3Exception,
    Web3RPCError,
)
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import TxParams, TxReceipt

from agents.errors import RegistryError
from agents.korean import josa

__all__ = [
    "AnchorRecord",
    "CheckpointLike",
    "EvmAnchor",
    "deploy",
    "from_env",
    "from_settings",
    "on_checkpoint_callback",
    "origin_hash",
]

log = logging.getLogger("workcred.registry.evm")

ENV_RPC = "WORKCRED_REGISTRY_EVM_RPC"
ENV_CONTRACT = "WORKCRED_REGISTRY_EVM_CONTRACT"
ENV_KEY = "WORKCRED_REGISTRY_EVM_KEY"
ENV_TIMEOUT = "WORKCRED_REGISTRY_EVM_TIMEOUT"
DEFAULT_TIMEOUT = 30.0
MAX_TREE_SIZE = 2**64 - 1


class CheckpointLike(Protocol):
    """What the registry Log passes to its on_checkpoint hook (registry's Checkpoint)."""

    @property
    def origin(self) -> str: ...

    @property
    def size(self) -> int: ...

    @property
    def root(self) -> bytes: ...


@dataclass(frozen=True)
class AnchorRecord:
    """One anchored checkpoint as the contract holds it."""

    tree_size: int
    root: bytes
    #: block timestamp (seconds since the epoch) of the block that anchored it
    timestamp: int
    block_number: int


@cache
def _artifact() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("CheckpointAnchor.json").read_text("utf-8")
    return cast(dict[str, Any], json.loads(text))


@cache
def _custom_errors() -> dict[bytes, tuple[str, list[str]]]:
    """Selector -> (error name, argument types) for the contract's custom errors."""
    out: dict[bytes, tuple[str, list[str]]] = {}
    for item in _artifact()["abi"]:
        if item["type"] == "error":
            types = [i["type"] for i in item["inputs"]]
            out[keccak(text=f"{item['name']}({','.join(types)})")[:4]] = (item["name"], types)
    return out


def origin_hash(origin: str) -> bytes:
    """The contract key of a log: keccak256 of the checkpoint origin line in UTF-8."""
    _check_origin(origin)
    return keccak(origin.encode("utf-8"))


def _check_origin(origin: str) -> None:
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise RegistryError(
            "checkpoint origin must be a non-empty single line",
            message_ko="체크포인트 origin은 비어 있지 않은 한 줄이어야 합니다",
        )


def _check_size(tree_size: int) -> None:
    if isinstance(tree_size, bool) or not isinstance(tree_size, int) or not 0 <= tree_size <= MAX_TREE_SIZE:
        raise RegistryError(
            "tree size must be an integer between 0 and 2^64-1",
            message_ko="트리 크기는 0 이상 2^64-1 이하의 정수여야 합니다",
        )


def _check_root(root: bytes) -> None:
    if not isinstance(root, bytes | bytearray) or len(root) != 32:
        raise RegistryError(
            "checkpoint root must be 32 bytes (SHA-256)",
            message_ko="체크포인트 루트는 32바이트(SHA-256)여야 합니다",
        )
    if not any(root):
        # the contract uses a zero root for "not anchored"
        raise RegistryError("an all-zero root cannot be anchored", message_ko="0으로만 된 루트는 앵커링할 수 없습니다")


def _redact_url(url: str) -> str:
    """scheme://host:port only: RPC URLs may carry credentials or API tokens in userinfo, path or query."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}"
    except ValueError:
        return "<invalid URL>"


def _load_account(key: str) -> LocalAccount:
    try:
        return cast(LocalAccount, Account.from_key(key))
    except Exception:  # noqa: BLE001 - any parse failure; the message must not echo the key
        raise RegistryError(
            "the EVM anchoring key is not a valid secp256k1 private key (hex)",
            message_ko="EVM 앵커링 키가 올바른 secp256k1 개인 키(16진수)가 아닙니다",
        ) from None


def _connect(rpc_url: str, timeout: float) -> Web3:
    # no silent retries: a failed anchor surfaces at once and the (idempotent) anchor can be re-run
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None))
    # QBFT/IBFT blocks carry validator data in extraData (> 32 bytes), which web3 rejects without this
    w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
    return w3


def _decode_custom_error(data: object) -> tuple[str, tuple[Any, ...]] | None:
    if not isinstance(data, str):
        return None
    try:
        raw = bytes(HexBytes(data))
    except ValueError:
        return None
    known = _custom_errors().get(raw[:4])
    if known is None:
        return None
    name, types = known
    try:
        return name, tuple(abi_decode(types, raw[4:]))
    except Exception:  # noqa: BLE001 - malformed revert data from the node: report the name alone
        return name, ()


def _fork_error(origin: str, tree_size: int, anchored: bytes, offered: bytes) -> RegistryError:
    return RegistryError(
        f"fork detected: tree size {tree_size} of log {origin!r} is already anchored with root "
        f"{anchored.hex()}, refusing a different root {offered.hex()}",
        message_ko=(
            f"포크 감지: 로그 {origin!r}의 트리 크기 {tree_size}에는 이미 루트 {anchored.hex()}가 "
            f"앵커링되어 있어 다른 루트 {offered.hex()}를 거부합니다"
        ),
        reason="fork",
        origin=origin,
        tree_size=tree_size,
        anchored_root=anchored.hex(),
        offered_root=offered.hex(),
    )


@contextmanager
def _node_errors(action: str, rpc: str) -> Iterator[None]:
    """Map failures talking to the node onto RegistryError with a message that names no secret."""
    try:
        yield
    except RegistryError:
        raise
    except ContractCustomError as e:
        decoded = _decode_custom_error(e.data)
        name = decoded[0] if decoded else "unknown custom error"
        if decoded and name == "NotAnchorer":
            raise RegistryError(
                f"{action}: the account {decoded[1][0]} is not authorised to anchor on this contract",
                message_ko=f"{action}: 계정 {josa(str(decoded[1][0]), '은')} 이 컨트랙트에 앵커링할 권한이 없습니다",
                reason="unauthorised",
            ) from None
        raise RegistryError(
            f"{action}: the contract reverted with {name}",
            message_ko=f"{action}: 컨트랙트가 {josa(str(name), '으로')} 되돌렸습니다",
            reason="reverted",
            revert=name,
        ) from None
    except ContractLogicError as e:
        raise RegistryError(
            f"{action}: the contract reverted ({e.message or 'no reason'})",
            message_ko=f"{action}: 컨트랙트 실행이 되돌려졌습니다 ({e.message or '사유 없음'})",
            reason="reverted",
        ) from None
    except TimeExhausted:
        raise RegistryError(
            f"{action}: the transaction was not mined in time by the node at {rpc}",
            message_ko=f"{action}: {rpc} 노드에서 트랜잭션이 제한 시간 안에 처리되지 않았습니다",
            reason="timeout",
        ) from None
    except Web3RPCError as e:
        raise RegistryError(
            f"{action}: the node at {rpc} refused the request ({e.message})",
            message_ko=f"{action}: {rpc} 노드가 요청을 거부했습니다 ({e.message})",
            reason="rpc-error",
        ) from None
    except (requests.RequestException, OSError) as e:
        raise RegistryError(
            f"{action}: the EVM node at {rpc} is unreachable ({type(e).__name__})",
            message_ko=f"{action}: EVM 노드 {rpc}에 연결할 수 없습니다 ({type(e).__name__})",
            reason="unreachable",
        ) from None
    except Web3Exception as e:
        raise RegistryError(
            f"{action}: the EVM node at {rpc} gave an unusable answer ({type(e).__name__})",
            message_ko=f"{action}: EVM 노드 {rpc}의 응답을 사용할 수 없습니다 ({type(e).__name__})",
            reason="bad-response",
        ) from None


def _send(w3: Web3, account: LocalAccount, tx: TxParams, timeout: float) -> TxReceipt:
    signed = account.sign_transaction(cast(dict[str, Any], tx))
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=timeout, poll_latency=0.05)


def deploy(
    rpc_url: str,
    deployer_key: str,
    *,
    anchorers: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Deploy CheckpointAnchor and return its checksummed address.

    The deployer becomes the owner. ``anchorers`` are the accounts authorised to anchor from the
    start; by default the deployer itself (a single-key development setup).
    """
    account = _load_account(deployer_key)
    rpc = _redact_url(rpc_url)
    allowed = [to_checksum_address(a) for a in (anchorers if anchorers is not None else [account.address])]
    with _node_errors("deploying the anchor contract", rpc):
        w3 = _connect(rpc_url, timeout)
        factory = w3.eth.contract(abi=_artifact()["abi"], bytecode=_artifact()["bytecode"])
        tx = factory.constructor(allowed).build_transaction(
            {
                "from": account.address,
                "nonce": w3.eth.get_transaction_count(account.address, "pending"),
                "chainId": w3.eth.chain_id,
            }
        )
        receipt = _send(w3, account, tx, timeout)
    address = receipt.get("contractAddress")
    if receipt["status"] != 1 or not address:
        raise RegistryError(
            "deploying the anchor contract: the transaction failed on chain",
            message_ko="앵커 컨트랙트 배포 트랜잭션이 체인에서 실패했습니다",
            reason="reverted",
        )
    log.info("deployed CheckpointAnchor at %s (gas %d)", address, receipt["gasUsed"])
    return to_checksum_address(address)


class EvmAnchor:
    """Writes checkpoint roots to, and reads them from, one CheckpointAnchor contract.

    ``account_key`` (hex secp256k1 private key) is needed only to write; without it the anchor is
    read-only, which is all a verifier needs. The key is held in memory and never printed.
    """

    def __init__(
        self,
        rpc_url: str,
        contract_address: str,
        account_key: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        try:
            address = to_checksum_address(contract_address)
        except ValueError:
            raise RegistryError(
                "the anchor contract address is not a valid EVM address",
                message_ko="앵커 컨트랙트 주소가 올바른 EVM 주소가 아닙니다",
            ) from None
        self._rpc = _redact_url(rpc_url)
        self._timeout = timeout
        self._account = _load_account(account_key) if account_key else None
        self._w3 = _connect(rpc_url, timeout)
        self._contract: Contract = self._w3.eth.contract(address=address, abi=_artifact()["abi"])
        self._chain_id: int | None = None
        # one nonce sequence per account: sends from this object are serialised
        self._send_lock = threading.Lock()

    def __repr__(self) -> str:
        writer = self._account.address if self._account else "read-only"
        return f"EvmAnchor({self._rpc}, {self.contract_address}, {writer})"

    @property
    def contract_address(self) -> str:
        return str(self._contract.address)

    @property
    def account_address(self) -> str | None:
        """The anchoring account's address, or None when read-only."""
        return self._account.address if self._account else None

    def check_contract(self) -> None:
        """Raise RegistryError unless the address holds exactly the committed CheckpointAnchor code."""
        with _node_errors("checking the anchor contract", self._rpc):
            code = bytes(self._w3.eth.get_code(self._contract.address))
        if code != bytes(HexBytes(_artifact()["deployedBytecode"])):
            raise RegistryError(
                f"no CheckpointAnchor contract (or a different build) at {self.contract_address}",
                message_ko=f"{self.contract_address}에 CheckpointAnchor 컨트랙트가 없거나 빌드가 다릅니다",
                reason="wrong-contract",
            )

    def record(self, origin: str, tree_size: int) -> AnchorRecord | None:
        """The anchored record for this size of the log, or None."""
        key = origin_hash(origin)
        _check_size(tree_size)
        with _node_errors("reading an anchored root", self._rpc):
            root, timestamp, block_number = self._contract.functions.rootAt(key, tree_size).call()
        if not any(root):
            return None
        return AnchorRecord(tree_size, bytes(root), int(timestamp), int(block_number))

    def root_at(self, origin: str, tree_size: int) -> bytes | None:
        """The root anchored for this size of the log, or None when that size is not anchored."""
        rec = self.record(origin, tree_size)
        return rec.root if rec else None

    def latest(self, origin: str) -> AnchorRecord | None:
        """The anchored checkpoint with the largest tree size of the log, or None."""
        key = origin_hash(origin)
        with _node_errors("reading the latest anchored root", self._rpc):
            size, root, timestamp, block_number = self._contract.functions.latest(key).call()
        if not any(root):
            return None
        return AnchorRecord(int(size), bytes(root), int(timestamp), int(block_number))

    def anchor(self, origin: str, tree_size: int, root: bytes) -> str:
        """Anchor a checkpoint root and return the 0x-hex hash of the transaction that anchored it.

        Idempotent: when this root is already anchored for the size, nothing is sent and the hash
        of the original transaction is returned. A different root raises RegistryError (a fork).
        """
        _check_root(root)
        root = bytes(root)
        if self._account is None:
            raise RegistryError(
                "this EVM anchor is read-only: no anchoring key is configured",
                message_ko="이 EVM 앵커는 읽기 전용입니다: 앵커링 키가 설정되지 않았습니다",
                reason="read-only",
            )
        existing = self.record(origin, tree_size)
        if existing is not None:
            if existing.root != root:
                raise _fork_error(origin, tree_size, existing.root, root)
            return self._anchoring_tx(origin, existing)
        key = origin_hash(origin)
        action = f"anchoring tree size {tree_size}"
        try:
            with self._send_lock, _node_errors(action, self._rpc):
                if self._chain_id is None:
                    self._chain_id = self._w3.eth.chain_id
                # build_transaction estimates gas, so a revert (fork race, not authorised) surfaces here
                tx = self._contract.functions.anchor(key, tree_size, root).build_transaction(
                    {
                        "from": self._account.address,
                        "nonce": self._w3.eth.get_transaction_count(self._account.address, "pending"),
                        "chainId": self._chain_id,
                    }
                )
                receipt = _send(self._w3, self._account, tx, self._timeout)
        except RegistryError as e:
            if e.details.get("revert") == "ForkAttempt":
                # another anchorer won the race with a different root
                current = self.record(origin, tree_size)
                raise _fork_error(origin, tree_size, current.root if current else b"", root) from None
            raise
        if receipt["status"] != 1:
            raise RegistryError(
                f"{action}: the transaction was reverted on chain",
                message_ko=f"트리 크기 {tree_size} 앵커링 트랜잭션이 체인에서 되돌려졌습니다",
                reason="reverted",
            )
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        log.info("anchored tree size %d in block %d, tx %s, gas %d",
                 tree_size, receipt["blockNumber"], tx_hash, receipt["gasUsed"])
        return tx_hash

    def _anchoring_tx(self, origin: str, rec: AnchorRecord) -> str:
        """Find the Anchored event of an existing record in its block (one block: cheap)."""
        event = self._contract.events.Anchored()
        with _node_errors("finding the anchoring transaction", self._rpc):
            logs = event.get_logs(
                from_block=rec.block_number,
                to_block=rec.block_number,
                argument_filters={"originHash": origin_hash(origin), "treeSize": rec.tree_size},
            )
        for entry in logs:
            return "0x" + bytes(entry["transactionHash"]).hex()
        raise RegistryError(
            f"tree size {rec.tree_size} is anchored but its event is missing from block {rec.block_number}",
            message_ko=f"트리 크기 {rec.tree_size}는 앵커링되었으나 블록 {rec.block_number}에 이벤트가 없습니다",
            reason="bad-response",
        )

    def verify_checkpoint_on_chain(self, origin: str, tree_size: int, root: bytes) -> None:
        """Raise RegistryError unless exactly this root is anchored for this size of the log."""
        _check_root(root)
        rec = self.record(origin, tree_size)
        if rec is None:
            raise RegistryError(
                f"checkpoint of size {tree_size} of log {origin!r} is not anchored on chain",
                message_ko=f"로그 {origin!r}의 크기 {tree_size} 체크포인트가 체인에 앵커링되어 있지 않습니다",
                reason="not-anchored",
            )
        if rec.root != bytes(root):
            raise RegistryError(
                f"checkpoint root for size {tree_size} of log {origin!r} differs from the anchored root "
                f"{rec.root.hex()}: a fork or a forged checkpoint",
                message_ko=(
                    f"로그 {origin!r}의 크기 {tree_size} 체크포인트 루트가 체인에 앵커링된 루트 "
                    f"{rec.root.hex()}와 다릅니다: 포크 또는 위조된 체크포인트입니다"
                ),
                reason="fork",
                anchored_root=rec.root.hex(),
                offered_root=bytes(root).hex(),
            )


def from_env(env: Mapping[str, str] | None = None) -> EvmAnchor | None:
    """The EvmAnchor configured by WORKCRED_REGISTRY_EVM_{RPC,CONTRACT,KEY,TIMEOUT}, or None when not configured.

    KEY is optional (read-only anchor for verifiers); RPC and CONTRACT go together, and setting
    only one of them (or KEY alone) is a configuration error rather than silently not anchoring.
    """
    env = os.environ if env is None else env
    names = {"rpc": ENV_RPC, "contract": ENV_CONTRACT, "key": ENV_KEY, "timeout": ENV_TIMEOUT}
    return from_settings({k: env.get(v, "") for k, v in names.items()}, "WORKCRED_REGISTRY_EVM_")


def from_settings(values: Mapping[str, str], prefix: str, *, read_only: bool = False) -> EvmAnchor | None:
    """The one reader of EVM anchoring settings (`rpc`, `contract`, `key`, `timeout`), for the registry
    (`WORKCRED_REGISTRY_EVM_*`, with its key) and a verifier (`WORKCRED_VERIFIER_EVM_*`, `read_only`: a
    key is ignored). None when nothing is set; RPC without CONTRACT (or the reverse) is an error."""
    rpc, contract = (values.get("rpc") or "").strip(), (values.get("contract") or "").strip()
    key = None if read_only else (values.get("key") or "").strip() or None
    if not rpc and not contract and not key:
        return None
    if not rpc or not contract:
        missing = prefix + ("RPC" if not rpc else "CONTRACT")
        raise RegistryError(
            f"EVM anchoring is partly configured: {missing} is not set",
            message_ko=f"EVM 앵커링 설정이 불완전합니다: {josa(missing, '이')} 설정되지 않았습니다",
            reason="configuration",
        )
    try:
        timeout = float(values.get("timeout") or DEFAULT_TIMEOUT)
    except ValueError:
        raise RegistryError(
            f"{prefix}TIMEOUT must be a number of seconds", message_ko=f"{prefix}TIMEOUT는 초 단위 숫자여야 합니다"
        ) from None
    return EvmAnchor(rpc, contract, key, timeout=timeout)


def on_checkpoint_callback(
    anchor: EvmAnchor, *, strict: bool = True
) -> Callable[..., None]:
    """A hook for the registry Log's ``on_checkpoint``: anchor every signed checkpoint.

    The hook takes the Log's Checkpoint (``.origin``, ``.size``, ``.root``) or the three values
    ``(origin, size, root)``. With ``strict`` (default) anchoring failures raise RegistryError to
    the Log; otherwise they are logged and the Log carries on (anchor() is idempotent, so a later
    checkpoint or a re-run catches up). A fork is always raised.
    """

    def hook(checkpoint: CheckpointLike | str, size: int | None = None, root: bytes | None = None) -> None:
        if isinstance(checkpoint, str):
            if size is None or root is None:
                raise TypeError("on_checkpoint hook: pass a Checkpoint or (origin, size, root)")
            origin = checkpoint
        else:
            origin, size, root = checkpoint.origin, checkpoint.size, checkpoint.root
        try:
            anchor.anchor(origin, size, root)
        except RegistryError as e:
            if strict or e.details.get("reason") == "fork":
                raise
            log.warning("checkpoint of size %d not anchored: %s", size, e.message)

    return hook
