"""EVM anchoring with catch-up: every signed checkpoint is anchored, and one missed is retried later.

Each anchored checkpoint gets a `log_anchor` row (size, root, transaction). When the chain is
unreachable (strict=False, the app's hook) the checkpoint simply stays without a row; the next
checkpoint's hook anchors the missed ones first, oldest first, and `workcred registry anchor
--catch-up` does the same on demand. A different root already on chain for a size (a fork) is
always raised, never skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from agents.checkpoint import Checkpoint
from agents.errors import RegistryError
from agents.evm import EvmAnchor
from agents.evm import anchor as evm
from web.config import RoleConfig
from web.db import transaction

from .log import Log
from .models import LogAnchor, LogCheckpoint

_logger = logging.getLogger(__name__)

#: checkpoints anchored per hook call, so one request does not wait for a long backlog
HOOK_BATCH = 8


class Anchoring:
    """Anchors a log's checkpoints through one `EvmAnchor` and records which are anchored."""

    def __init__(self, anchor: EvmAnchor, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.anchor = anchor
        self._clock = clock

    @classmethod
    def from_config(cls, config: RoleConfig) -> Anchoring | None:
        """From WORKCRED_REGISTRY_EVM_{RPC,CONTRACT,KEY,TIMEOUT}; None when not configured."""
        values = {k: config.extra.get(f"evm_{k}") or "" for k in ("rpc", "contract", "key", "timeout")}
        anchor = evm.from_settings(values, "WORKCRED_REGISTRY_EVM_")  # the one reader (the verifier's too)
        return None if anchor is None else cls(anchor)

    def unanchored_sizes(self, log: Log) -> list[int]:
        """Sizes of the stored checkpoints that have no anchor record, oldest first."""
        with log.session_factory() as s:
            anchored = select(LogAnchor.size)
            return [
                int(n)
                for n in s.scalars(
                    select(LogCheckpoint.size).where(LogCheckpoint.size.not_in(anchored)).order_by(LogCheckpoint.size)
                )
            ]

    def anchored(self, log: Log) -> dict[int, str]:
        """Anchored checkpoint sizes and their transactions."""
        with log.session_factory() as s:
            return {int(r.size): r.tx_hash for r in s.scalars(select(LogAnchor))}

    def catch_up(
        self, log: Log, *, strict: bool, only_latest: bool = False, limit: int | None = None
    ) -> list[tuple[int, str]]:
        """Anchor the checkpoints not anchored yet (oldest first); return (size, transaction) of each.

        Not strict: the first failure (node down, timeout) stops the run and is logged; the rest wait
        for the next call. Strict: it is raised. A fork is raised either way.
        """
        sizes = self.unanchored_sizes(log)
        if only_latest:
            sizes = sizes[-1:]
        if limit is not None:
            sizes = sizes[:limit]
        done: list[tuple[int, str]] = []
        for size in sizes:
            with log.session_factory() as s:
                row = s.get(LogCheckpoint, size)
                if row is None:
                    continue
                root = bytes(row.root)
            try:
                tx = self.anchor.anchor(log.origin, size, root)
            except RegistryError as e:
                if strict or e.details.get("reason") == "fork":
                    raise
                _logger.warning(
                    "checkpoint %d not anchored (%d waiting): %s", size, len(sizes) - len(done), e.message
                )
                break
            self._record(log, size, root, tx)
            done.append((size, tx))
        return done

    def _record(self, log: Log, size: int, root: bytes, tx: str) -> None:
        try:
            with transaction(log.session_factory) as s:
                if s.get(LogAnchor, size) is None:
                    s.add(LogAnchor(size=size, root=root, tx_hash=tx, anchored_at=self._clock()))
        except IntegrityError:  # another process recorded it first: same root (anchor() checked it)
            pass

    def hook(self, log_ref: Callable[[], Log]) -> Callable[[Checkpoint], None]:
        """The Log's `on_checkpoint`: anchor this checkpoint and any missed before it (not strict)."""

        def on_checkpoint(_cp: Checkpoint) -> None:
            self.catch_up(log_ref(), strict=False, limit=HOOK_BATCH)

        return on_checkpoint

