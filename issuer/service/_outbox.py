"""The outbox: SMS and e-mail leave the issuer through here, never from a request handler.

Messages are queued in the database (sealed with the participant's data key) in the same
transaction as the change that causes them, so an invitation is never created without its message
nor sent twice. A `Sender` delivers queued messages; the development outbox sends nothing and lets
the console list what would have been sent (WORKCRED_ISSUER_OUTBOX=dev, the default with WORKCRED_DEV=1).
A city plugs its SMS gateway or mail relay in by implementing `Sender`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from web import envelope

from .. import models


@dataclass(frozen=True)
class Message:
    """One message in plain text, as a sender sees it (never logged)."""

    id: str
    channel: str  # sms | email
    purpose: str
    recipient: str
    body: str


class Sender(Protocol):
    """Delivers one message; raises agents.errors.Error when the gateway refuses it."""

    def send(self, message: Message) -> None: ...


class Outbox(Protocol):
    def queue(self, s: Session, dek: bytes, participant: models.Participant, channel: str, purpose: str,
              recipient: str, body: str) -> str: ...  # fmt: skip


class DbOutbox:
    """Queue rows in `outbox_message`; `IssuerService.deliver_outbox(sender)` sends them."""

    def queue(self, s: Session, dek: bytes, participant: models.Participant, channel: str, purpose: str,
              recipient: str, body: str) -> str:  # fmt: skip
        msg_id = str(uuid.uuid4())
        aad = f"{participant.uuid}|outbox|{msg_id}"
        s.add(
            models.OutboxMessage(
                id=msg_id, participant_id=participant.id, channel=channel, purpose=purpose,
                recipient_enc=envelope.seal(dek, recipient, aad + "|to"), body_enc=envelope.seal(dek, body, aad + "|body"),
            )  # fmt: skip
        )
        return msg_id


def open_message(dek: bytes, participant: models.Participant, row: models.OutboxMessage) -> Message:
    aad = f"{participant.uuid}|outbox|{row.id}"
    return Message(
        row.id, row.channel, row.purpose,
        envelope.open(dek, row.recipient_enc, aad + "|to").decode(), envelope.open(dek, row.body_enc, aad + "|body").decode(),
    )  # fmt: skip
