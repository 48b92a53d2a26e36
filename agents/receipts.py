"""Registry receipts (proof that a document is in the log) and the split-view defence.

A receipt travels with the credential (in the wallet, in a certificate PDF)::

    {"origin": "...", "index": 7, "type": "credential", "salt": "<base64url, 32 bytes>",
     "inclusionProof": ["<base64url, 32 bytes>", ...], "checkpoint": "<signed note text>",
     "freshness": {"checkpoint": "<signed note of a later checkpoint>",
                   "consistencyProof": ["<base64url, 32 bytes>", ...]}}      (optional)

`verify_receipt` recomputes the leaf from the document itself, so a receipt proves nothing about an
altered document. `CheckpointMemory` remembers the newest checkpoint seen per log and accepts a
different one only with a consistency proof: a log showing different histories to different people
(a fork, "split view") is caught the first time the two views meet.

Privacy: the size of a receipt's checkpoint narrows the log down to the few credentials logged just
before it, so a verifier must never name it to the registry. The holder, who may ask (the city knows
its own worker), `refresh`es the receipt to the registry's latest checkpoint and carries the
consistency proof to it (`freshness`); the verifier checks both offline (`verify_freshness`) and
relates the later checkpoint to its own view (`RegistryView`), which it fetches itself with
`GET /log/checkpoint` (no parameter) and proves consistent only between sizes it chose.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import merkle, multibase
from .checkpoint import MAX_NOTE_BYTES, Checkpoint, Verifiers, parse_and_verify, parse_body
from .errors import InvalidInput, RegistryError

#: fetches the consistency proof between two tree sizes of one origin: (origin, size1, size2) -> hashes
ConsistencyFetcher = Callable[[str, int, int], Sequence[bytes]]
#: fetches the signed note of a log's latest checkpoint: origin -> note text (GET /log/checkpoint)
CheckpointFetcher = Callable[[str], str]
_RECEIPT_KEYS = {"origin", "index", "type", "salt", "inclusionProof", "checkpoint"}
_FRESHNESS_KEYS = {"checkpoint", "consistencyProof"}


@dataclass(frozen=True)
class Freshness:
    """A later checkpoint of the receipt's log and the consistency proof from the receipt's checkpoint
    to it, fetched by the holder (`refresh`) so the verifier never names the receipt's checkpoint."""

    checkpoint: str
    consistencyProof: tuple[str, ...]  # noqa: N815 (the JSON member name)

    def __post_init__(self) -> None:
        if not isinstance(self.checkpoint, str) or not self.checkpoint or len(self.checkpoint.encode("utf-8")) > MAX_NOTE_BYTES:
            raise _bad("freshness.checkpoint")
        if not isinstance(self.consistencyProof, tuple) or len(self.consistencyProof) > merkle.MAX_PROOF_LEN:
            raise _bad("freshness.consistencyProof")
        for p in self.consistencyProof:
            if not isinstance(p, str) or len(_b64(p, "freshness.consistencyProof")) != merkle.HASH_SIZE:
                raise _bad("freshness.consistencyProof")

    @property
    def proof_bytes(self) -> list[bytes]:
        return [_b64(p, "freshness.consistencyProof") for p in self.consistencyProof]

    def to_json(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint, "consistencyProof": list(self.consistencyProof)}

    @classmethod
    def from_json(cls, data: Any) -> Freshness:
        """Strict: exactly `checkpoint` (a signed note) and `consistencyProof` (a list of hashes)."""
        if not isinstance(data, dict) or set(data) != _FRESHNESS_KEYS:
            raise _bad("freshness (an object with exactly checkpoint and consistencyProof)")
        proof = data["consistencyProof"]
        if not isinstance(proof, list):
            raise _bad("freshness.consistencyProof")
        return cls(data["checkpoint"], tuple(proof))


@dataclass(frozen=True)
class Receipt:
    origin: str
    index: int
    type: str
    salt: str
    inclusionProof: tuple[str, ...]  # noqa: N815 (the JSON member name)
    checkpoint: str
    freshness: Freshness | None = None

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
        if not isinstance(self.checkpoint, str) or not self.checkpoint or len(self.checkpoint.encode("utf-8")) > MAX_NOTE_BYTES:
            raise _bad("checkpoint")
        if self.freshness is not None and not isinstance(self.freshness, Freshness):
            raise _bad("freshness")

    @property
    def salt_bytes(self) -> bytes:
        return _b64(self.salt, "salt")

    @property
    def proof_bytes(self) -> list[bytes]:
        return [_b64(p, "inclusionProof") for p in self.inclusionProof]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "origin": self.origin,
            "index": self.index,
            "type": self.type,
            "salt": self.salt,
            "inclusionProof": list(self.inclusionProof),
            "checkpoint": self.checkpoint,
        }
        if self.freshness is not None:
            out["freshness"] = self.freshness.to_json()
        return out

    @classmethod
    def from_json(cls, data: Any) -> Receipt:
        """Strict: exactly the six members, each of the right type, and optionally `freshness`."""
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise _bad("JSON") from None
        if not isinstance(data, dict) or set(data) - {"freshness"} != _RECEIPT_KEYS:
            raise RegistryError(
                "a receipt is a JSON object with exactly: " + ", ".join(sorted(_RECEIPT_KEYS)) + " (and optionally freshness)",
                message_ko="등록 영수증 형식이 잘못되었습니다",
            )
        proof = data["inclusionProof"]
        if not isinstance(proof, list):
            raise _bad("inclusionProof")
        fresh = Freshness.from_json(data["freshness"]) if "freshness" in data else None
        return cls(data["origin"], data["index"], data["type"], data["salt"], tuple(proof), data["checkpoint"], fresh)


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


def refresh(
    receipt: Receipt,
    fetch_checkpoint: CheckpointFetcher,
    fetch_consistency: ConsistencyFetcher,
    *,
    registry_keys: Verifiers | None = None,
) -> Receipt:
    """The holder side: the receipt with `freshness` to the log's latest checkpoint.

    The holder asks the registry for its latest checkpoint and for the consistency proof from the
    receipt's checkpoint to it (the city knows its own worker, so this reveals nothing new); the
    verifier then checks both offline and never names the receipt's checkpoint. The proof is checked
    here too, so a broken answer fails now and not at the employer's; with `registry_keys` both
    checkpoints' signatures are checked as well. Raises `RegistryError`.
    """
    # 1. the receipt's own checkpoint and the registry's latest, of the same log
    base = _checkpoint_of(receipt.checkpoint, registry_keys)
    note = fetch_checkpoint(receipt.origin)
    later = _checkpoint_of(note, registry_keys)
    if base.origin != receipt.origin or later.origin != receipt.origin:
        raise RegistryError(
            f"the latest checkpoint is from log {later.origin!r}, not the receipt's {receipt.origin!r}",
            message_ko="최신 체크포인트가 영수증과 다른 로그의 것입니다",
        )
    if later.size < base.size:
        raise RegistryError(
            f"the registry's latest checkpoint (size {later.size}) is older than the receipt's (size {base.size})",
            message_ko="등록소의 최신 체크포인트가 영수증의 체크포인트보다 오래되었습니다",
        )
    # 2. the consistency proof from the receipt's checkpoint to the latest (none for the same size)
    proof = [] if later.size == base.size else list(fetch_consistency(receipt.origin, base.size, later.size))
    merkle.verify_consistency(base.size, later.size, base.root, later.root, proof)
    return replace(receipt, freshness=Freshness(note, tuple(multibase.b64url(p) for p in proof)))


def verify_freshness(receipt: Receipt, checkpoint: Checkpoint, registry_keys: Verifiers) -> Checkpoint:
    """The later checkpoint the holder carried, checked offline: signed by a trusted registry key, of the
    same log, and consistent with the receipt's (verified) `checkpoint`; that checkpoint itself when the
    receipt carries no freshness. Raises `RegistryError`."""
    fresh = receipt.freshness
    if fresh is None:
        return checkpoint
    # 1. signed by a registry key (a note by any other key is refused) and of the receipt's log
    later = parse_and_verify(fresh.checkpoint, registry_keys)
    if later.origin != checkpoint.origin:
        raise RegistryError(
            f"the receipt's later checkpoint is from log {later.origin!r}, not {checkpoint.origin!r}",
            message_ko="영수증의 최신 체크포인트가 다른 로그의 것입니다",
        )
    # 2. no older than the receipt's checkpoint; 3. the proof links the two (RFC 9162 §2.1.4.2)
    if later.size < checkpoint.size:
        raise RegistryError(
            f"the receipt's later checkpoint (size {later.size}) is older than its checkpoint (size {checkpoint.size})",
            message_ko="영수증의 최신 체크포인트가 원래 체크포인트보다 오래되었습니다",
        )
    try:
        merkle.verify_consistency(checkpoint.size, later.size, checkpoint.root, later.root, fresh.proof_bytes)
    except RegistryError as e:
        raise RegistryError(
            f"the receipt's later checkpoint is not consistent with its checkpoint: {e.message}",
            message_ko="영수증의 최신 체크포인트가 원래 체크포인트와 일관되지 않습니다(변조 또는 분기)",
        ) from None
    return later


def _checkpoint_of(note: str, registry_keys: Verifiers | None) -> Checkpoint:
    """The checkpoint of a signed note; its signature is checked only when keys are given."""
    if registry_keys is not None:
        return parse_and_verify(note, registry_keys)
    if not isinstance(note, str) or len(note.encode("utf-8")) > MAX_NOTE_BYTES or "\n\n" not in note:
        raise RegistryError("malformed checkpoint note", message_ko="체크포인트 형식이 잘못되었습니다")
    return parse_body(note[: note.rfind("\n\n") + 1])


class RegistryView:
    """The verifier's own view of each registry log, relating the checkpoints holders carry to it
    without ever naming them to the registry.

    The view is the log's latest checkpoint, fetched with `GET /log/checkpoint` (no parameter) at most
    once per `ttl` seconds, and sooner only when a holder carries a newer one; each fetched checkpoint
    is proven consistent with the remembered one in `memory` (the split-view memory) by a consistency
    proof between those two sizes, both chosen by the verifier and linked to no credential. The last
    `history` checkpoints of the view are kept, so a carried checkpoint of one of those sizes is
    compared root to root.
    """

    def __init__(
        self,
        registry_keys: Verifiers,
        memory: CheckpointMemory,
        fetch_checkpoint: CheckpointFetcher,
        fetch_consistency: ConsistencyFetcher | None,
        *,
        ttl: float = 30.0,
        retry_after: float = 5.0,
        history: int = 1024,
        reveal_older: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keys = registry_keys
        self._memory = memory
        self._fetch_checkpoint = fetch_checkpoint
        self._fetch_consistency = fetch_consistency
        self._ttl = ttl
        self._retry_after = retry_after
        self._history = history
        self.reveal_older = reveal_older
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[float, Checkpoint]] = {}
        self._chased: dict[str, tuple[float, int]] = {}  # the newest size a carried checkpoint made us fetch for
        self._seen: dict[str, OrderedDict[int, bytes]] = {}

    def latest(self, origin: str, *, at_least: int = 0) -> Checkpoint:
        """The view of `origin`: cached for `ttl` seconds, fetched again when older than `at_least` (once
        per size within `retry_after` seconds, so a registry that cannot serve it is not hammered)."""
        with self._lock:
            now = self._clock()
            cached = self._latest.get(origin)
            if cached is not None and now - cached[0] < self._ttl:
                if cached[1].size >= at_least:
                    return cached[1]
                chased = self._chased.get(origin)
                if chased is not None and chased[1] >= at_least and now - chased[0] < self._retry_after:
                    return cached[1]
            if at_least:
                self._chased[origin] = (now, at_least)
            cp = parse_and_verify(self._fetch_checkpoint(origin), self._keys)
            if cp.origin != origin:
                raise RegistryError(
                    f"the registry's checkpoint is from log {cp.origin!r}, not {origin!r}",
                    message_ko="등록소 체크포인트가 다른 로그의 것입니다",
                )
            known = self._memory.get(origin)
            # the split-view memory: a consistency proof between the remembered size and the latest
            self._memory.observe(cp, self._fetch_consistency)
            seen = self._seen.setdefault(origin, OrderedDict())
            for c in (known, cp):
                if c is not None:
                    seen[c.size] = c.root
                    seen.move_to_end(c.size)
            while len(seen) > self._history:
                seen.popitem(last=False)
            self._latest[origin] = (now, cp)
            return cp

    def relate(self, cp: Checkpoint) -> bool:
        """Whether `cp` (a verified checkpoint a holder carried) is in this verifier's view.

        True when a checkpoint of that size in the view has the same root (or, with `reveal_older`, a
        consistency proof from it to the view holds: that request names `cp`'s size to the registry);
        False when `cp` is older than the view and unknown to it, so that checking would reveal it.
        Raises `RegistryError` on a fork: the same size with another root, a failed proof, or a
        registry whose latest checkpoint stays older than one it gave the holder.
        """
        view = self.latest(cp.origin, at_least=cp.size)
        with self._lock:
            seen = self._seen.get(cp.origin)
            known = seen.get(cp.size) if seen is not None else None
        if known is not None:
            if known != cp.root:
                raise _fork(cp.origin, Checkpoint(cp.origin, cp.size, known), cp)
            return True
        if cp.size > view.size:
            raise RegistryError(
                f"fork detected in log {cp.origin!r}: the registry gave the holder a checkpoint of size {cp.size} but "
                f"serves this verifier an older latest checkpoint (size {view.size})",
                message_ko="등록소 로그의 분기(fork)가 감지되었습니다: 등록소가 보유자에게 준 체크포인트보다 오래된 체크포인트를 검증자에게 보여 줍니다",
            )
        if not self.reveal_older or self._fetch_consistency is None:
            return False
        proof = list(self._fetch_consistency(cp.origin, cp.size, view.size))  # names cp.size: only when allowed
        try:
            merkle.verify_consistency(cp.size, view.size, cp.root, view.root, proof)
        except RegistryError as e:
            raise _fork(cp.origin, view, cp, e.message) from None
        return True


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


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _is_b64url(text: str) -> bool:
    return _B64URL.fullmatch(text) is not None


def _bad(what: str) -> RegistryError:
    return RegistryError(f"malformed receipt: bad {what}", message_ko="등록 영수증 형식이 잘못되었습니다")
