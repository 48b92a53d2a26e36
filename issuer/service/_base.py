"""What every part of the issuer service shares: storage, keys, the registry, the clock, the audit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agents import jcs, multibase
from agents.errors import NotFound
from agents.keystore import KeyStore
from agents.registry_client import RegistryClient
from web import db, envelope
from web.envelope import MasterKey

from .. import models
from ._outbox import DbOutbox, Outbox

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit trail: `staff:<id>`, `worker:<participant id>` or `system`; and from where."""

    id: str
    ip: str = ""

    @classmethod
    def staff(cls, staff_id: int | str, ip: str = "") -> Actor:
        return cls(f"staff:{staff_id}", ip)

    @classmethod
    def worker(cls, participant_id: int, ip: str = "") -> Actor:
        return cls(f"worker:{participant_id}", ip)


SYSTEM = Actor("system")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def digest(document: Any) -> str:
    """base64url SHA-256 of the JCS form (the draft digest the worker's passkey signs over)."""
    return multibase.b64url(hashlib.sha256(jcs.canonicalize(document)).digest())


def aware(at: datetime) -> datetime:
    """SQLite gives naive datetimes back (stored as UTC): make them comparable."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def not_found(what_en: str, what_ko: str) -> NotFound:
    return NotFound(f"no such {what_en}", message_ko=f"해당 {what_ko}이(가) 없습니다")


class ServiceBase:
    """Storage, keys and peers; the mixins in this package add the operations."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        master_key: MasterKey,
        keys: KeyStore,
        registry: RegistryClient,
        *,
        wallet_url: str,
        issuer_url: str = "",
        outbox: Outbox | None = None,
        clock: Clock = _now,
        checkpoint: Callable[[], None] | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.kek = master_key
        self.keys = keys
        self.registry = registry
        self.wallet_url = wallet_url.rstrip("/")
        self.issuer_url = issuer_url.rstrip("/")
        self.outbox: Outbox = outbox or DbOutbox()
        self.clock = clock
        #: asks the registry for a checkpoint now (tests, the demo); None: wait for the registry's timer
        self.checkpoint = checkpoint
        self._signers: dict[str, tuple[datetime, Any]] = {}

    def now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(microsecond=0)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One unit of work: all or nothing."""
        with db.transaction(self.session_factory) as s:
            yield s

    @staticmethod
    def preload(s: Session, model: type[Any], ids: Any) -> dict[int, Any]:
        """Rows by id in one query per 1000; keep the dict while using them: the session's identity map
        holds rows weakly, and a row it still holds is found by `s.get` without a query (or an autoflush)."""
        wanted = list(set(ids))
        out: dict[int, Any] = {}
        for start in range(0, len(wanted), 1000):
            out.update((r.id, r) for r in s.scalars(select(model).where(model.id.in_(wanted[start : start + 1000]))))
        return out

    # -- personal data: sealed with the participant's data key ------------------------------------

    def dek(self, participant: models.Participant) -> bytes:
        return self.kek.unwrap(participant.wrapped_dek, participant.uuid)

    @staticmethod
    def seal(dek: bytes, participant: models.Participant, field: str, value: str | bytes) -> bytes:
        return envelope.seal(dek, value, f"{participant.uuid}|{field}")

    @staticmethod
    def unseal(dek: bytes, participant: models.Participant, field: str, sealed: bytes) -> bytes:
        return envelope.open(dek, sealed, f"{participant.uuid}|{field}")

    def unseal_json(self, dek: bytes, participant: models.Participant, field: str, sealed: bytes) -> Any:
        return json.loads(self.unseal(dek, participant, field, sealed))

    # -- the audit trail: written in the same transaction as the change it records ----------------

    def audit(
        self, s: Session, actor: Actor, action: str, target_type: str, target_id: str | int, *,
        department_id: int | None = None, project_id: int | None = None, personal_data: bool = False,
        **detail: Any,
    ) -> models.AuditEvent:  # fmt: skip
        """Record one event; `detail` must hold no personal data (ids, states, counts, reasons)."""
        at = self.now()
        event = {
            "type": "IssuerAuditEvent", "at": at.isoformat(), "actor": actor.id, "action": action,
            "target": f"{target_type}:{target_id}", "department": department_id, "project": project_id,
            "ip": actor.ip, "detail": detail, "personalData": personal_data,
        }  # fmt: skip
        row = models.AuditEvent(
            at=at, actor=actor.id, action=action, target_type=target_type, target_id=str(target_id),
            department_id=department_id, project_id=project_id, ip=actor.ip, detail=dumps(detail),
            personal_data=personal_data, digest=digest(event),
        )  # fmt: skip
        s.add(row)
        return row
