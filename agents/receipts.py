"""Registry receipts (proof that a document is in the log) and the split-view defence.

A receipt travels with the credential (in the wallet, in a certificate PDF)::

    {"origin": "...", "index": 7, "type": "credential", "salt": "<base64url, 32 bytes>",
     "inclusionProof": ["<base64url, 32 bytes>", ...], "checkpoint": "<signed note text>"}

`verify_receipt` recomputes the leaf from the document itself, so a receipt proves nothing about an
altered document. `CheckpointMemory` remembers the newest checkpoint seen per log and accepts a
different one only with a consistency proof: a log showing different histories to different people
(a fork, "split view") is caught the first time the two views meet.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import merkle, multibase
from .checkpoint import Checkpoint, Verifiers, parse_and_verify
from .errors import InvalidInput, RegistryError

#: fetches the consistency proof between two tree sizes of one origin: (origin, size1, size2) -> hashes
ConsistencyFetcher = Callable[[str, int, int], Sequence[bytes]]
_RECEIPT_KEYS = {"origin", "index", "type", "salt", "inclusionProof", "checkpoint"}


@dataclass(frozen=True)
class Receipt:
    origin: str
    index: int
    type: str
    salt: str
    inclusionProof: tuple[str, ...]  # noqa: N815 (the JSON member name)
    checkpoint: str

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin or len(self.origin) > 256:
            raise _bad("origin")
        if not isinstance(self.index, int) or isinstance(self.index, bool) or not 0 <= self.index < 2**63:
            raise _bad("index")
        if self.type not in merkle.ENTRY_TYPES:
            raise _bad("type")
        if not isinstance(self.salt, str) or len(_b64(self.salt, "salt")) != merkle.SALT_SIZE:
            raise _bad("salt")
        if not isinstance(self.inclusionProof, tuple) or len(self.inclusionProof) > merkle.MAX_PROOF_LEN:
            raise _bad("inclusionProof")
        for p in self.inclusionProof:
            if not isinstance(p, str) or len(_b64(p, "inclusionProof")) != merkle.HASH_SIZE:
                raise _bad("inclusionProof")
        if not isinstance(self.checkpoint, str) or not self.checkpoint:
            raise _bad("checkpoint")

    @property
    def salt_bytes(self) -> bytes:
        return _b64(self.salt, "salt")

    @property
    def proof_bytes(self) -> list[bytes]:
        return [_b64(p, "inclusionProof") for p in self.inclusionProof]

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "index": self.index,
            "type": self.type,
            "salt": self.salt,
            "inclusionProof": list(self.inclusionProof),
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, data: Any) -> Receipt:
        """Strict: exactly the six members, each of the right type."""
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data)
            except (ValueError, UnicodeDecodeError):
                raise _bad("JSON") from None
        if not isinstance(data, dict) or set(data) != _RECEIPT_KEYS:
            raise RegistryError(
                "a receipt is a JSON object with exactly: " + ", ".join(sorted(_RECEIPT_KEYS)),
                message_ko="등록 영수증 형식이 잘못되었습니다",
            )
        proof = data["inclusionProof"]
        if not isinstance(proof, list):
            raise _bad("inclusionProof")
        return cls(data["origin"], data["index"], data["type"], data["salt"], tuple(proof), data["checkpoint"])


def verify_receipt(
    receipt: Receipt,
    document: dict[str, Any],
    registry_keys: Verifiers,
    *,
    memory: CheckpointMemory | None,
    fetch_consistency: ConsistencyFetcher | None = None,
) -> Checkpoint:
    """Check that `document` is in the log named by the receipt; return the verified checkpoint.

    `memory=None` must be passed explicitly to skip the split-view check.
    """
    # 1. the checkpoint is signed by a trusted registry key and names the receipt's log
    cp = parse_and_verify(receipt.checkpoint, registry_keys)
    if cp.origin != receipt.origin:
        raise RegistryError(
            f"the receipt is for log {receipt.origin!r} but its checkpoint is from {cp.origin!r}",
            message_ko="영수증의 로그와 체크포인트의 로그가 다릅니다",
        )
    # 2. the leaf is recomputed from the document, never taken from the receipt
    leaf = merkle.entry_leaf_hash(receipt.type, receipt.salt_bytes, merkle.document_digest(document))
    # 3. the leaf is included in the checkpoint's tree
    try:
        merkle.verify_inclusion(leaf, receipt.index, cp.size, receipt.proof_bytes, cp.root)
    except RegistryError as e:
        raise RegistryError(
            f"the document is not the one logged at index {receipt.index} ({e.message})",
            message_ko="문서가 등록소에 기록된 것과 다릅니다(변조되었거나 다른 문서입니다)",
        ) from None
    # 4. the checkpoint is consistent with what this verifier saw before
    if memory is not None:
        memory.observe(cp, fetch_consistency)
    return cp


class CheckpointMemory:
    """Remembers the newest checkpoint seen per origin; subclasses say where it is kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def get(self, origin: str) -> Checkpoint | None:
        raise NotImplementedError

    def put(self, cp: Checkpoint) -> None:
        raise NotImplementedError

    def observe(self, cp: Checkpoint, fetch_consistency: ConsistencyFetcher | None) -> None:
        """Accept `cp` if it is consistent with the remembered checkpoint (remember it if newer).

        Raises RegistryError naming a fork when the two cannot both be prefixes of one history.
        """
        with self._lock:
            known = self.get(cp.origin)
            if known is None:
                self.put(cp)
                return
            if known.size == cp.size:
                if known.root != cp.root:
                    raise _fork(cp.origin, known, cp)
                return
            old, new = (known, cp) if known.size < cp.size else (cp, known)
            if fetch_consistency is None:
                raise RegistryError(
                    f"checkpoint of size {cp.size} differs from the remembered size {known.size} and no "
                    "consistency proof source was given",
                    message_ko="이전에 본 체크포인트와 일관성을 확인할 증명을 가져올 수 없습니다",
                )
            proof = list(fetch_consistency(cp.origin, old.size, new.size))
            try:
                merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
            except RegistryError as e:
                raise _fork(cp.origin, known, cp, e.message) from None
            if cp.size > known.size:
                self.put(cp)


class InMemoryCheckpointMemory(CheckpointMemory):
    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[str, Checkpoint] = {}

    def get(self, origin: str) -> Checkpoint | None:
        return self._seen.get(origin)

    def put(self, cp: Checkpoint) -> None:
        self._seen[cp.origin] = cp


class FileCheckpointMemory(CheckpointMemory):
    """Kept in a JSON file ``{origin: {"size": n, "root": b64url}}``, replaced atomically on update."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise RegistryError(
                f"cannot read checkpoint memory {self.path}: {e}", message_ko="체크포인트 기록 파일을 읽을 수 없습니다"
            ) from None
        if not isinstance(data, dict):
            raise RegistryError("checkpoint memory file is not a JSON object", message_ko="체크포인트 기록 파일 오류")
        return data

    def get(self, origin: str) -> Checkpoint | None:
        entry = self._load().get(origin)
        if entry is None:
            return None
        try:
            return Checkpoint(origin, int(entry["size"]), multibase.b64url_decode(entry["root"]))
        except (KeyError, TypeError, ValueError, InvalidInput):
            raise RegistryError(
                "checkpoint memory entry is malformed", message_ko="체크포인트 기록 파일 오류"
            ) from None

    def put(self, cp: Checkpoint) -> None:
        data = self._load()
        data[cp.origin] = {"size": cp.size, "root": multibase.b64url(cp.root)}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".cpmem-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, sort_keys=True)
        os.replace(tmp, self.path)


def _fork(origin: str, known: Checkpoint, cp: Checkpoint, why: str = "") -> RegistryError:
    return RegistryError(
        f"fork detected in log {origin!r}: checkpoint (size {cp.size}) is not consistent with the one seen "
        f"before (size {known.size})" + (f": {why}" if why else ""),
        message_ko="등록소 로그의 분기(fork)가 감지되었습니다: 이전에 본 체크포인트와 일치하지 않습니다",
    )


def _b64(text: str, what: str) -> bytes:
    try:
        return multibase.b64url_decode(text) if isinstance(text, str) and _is_b64url(text) else b""
    except InvalidInput:
        raise _bad(what) from None


def _is_b64url(text: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in text)


def _bad(what: str) -> RegistryError:
    return RegistryError(f"malformed receipt: bad {what}", message_ko="등록 영수증 형식이 잘못되었습니다")
