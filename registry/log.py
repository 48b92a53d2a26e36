"""The registry's append-only log (interface first; implementation follows in this module)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class AppendResult:
    """Where a leaf landed: its index, the random salt (goes into the holder's receipt) and its leaf hash."""

    index: int
    salt: bytes
    leaf_hash: bytes


class Log:
    """`Log(session_factory, origin=..., signer=...)`; `append(session, type_tag, document_digest)` runs
    inside the caller's transaction so a VDR row and its log entry commit (or roll back) together."""

    def append(self, session: Session, type_tag: str, document_digest: bytes) -> AppendResult:
        raise NotImplementedError
