"""The worker's encrypted export: everything the wallet holds, under a passphrase the worker chooses.

Format (one file, `.wcwallet`): `WCWALLET1` | salt (16) | Argon2id time cost (4, big-endian) |
memory cost in KiB (4) | parallelism (1) | nonce (12) | AES-256-GCM ciphertext of a ZIP, the header
as associated data (changing a parameter breaks the tag). The key is Argon2id(passphrase, salt).
The ZIP holds `wallet.json` (the did:key with its secret, name and birth date, every credential with
its receipt, status and reason, the share history) and `files/...` (PDFs).
Restoring takes the same passphrase; a wrong one and a damaged file are one error (no oracle).
"""

from __future__ import annotations

import io
import json
import secrets
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from agents.errors import InvalidInput, ResourceLimit
from agents.keys import Ed25519KeyPair

from .store import WalletStore

MAGIC = b"WCWALLET1"
_HEADER = struct.Struct(">16sIIB12s")
#: OWASP's Argon2id baseline is m=19 MiB, t=2; a backup is opened rarely, so it gets more
TIME_COST, MEMORY_KIB, PARALLELISM = 3, 64 * 1024, 1
#: bounds a restored file may ask for (a hostile header must not make the server spend minutes or GiBs)
MAX_TIME_COST, MAX_MEMORY_KIB = 10, 256 * 1024
MAX_ARCHIVE_BYTES = 16 * 1024 * 1024
MIN_PASSPHRASE = 10
FORMAT = "workcred-wallet-export/1"


class ArchiveError(InvalidInput):
    code = "archive-invalid"


def _wrong() -> ArchiveError:
    return ArchiveError("The file is not a wallet backup, is damaged, or the passphrase is wrong",
                        message_ko="백업 파일이 아니거나 손상되었거나 암호가 틀렸습니다")  # fmt: skip


@dataclass(frozen=True)
class Contents:
    """What a backup holds, opened."""

    key: Ed25519KeyPair
    name: str
    birth_date: str
    credentials: list[dict[str, Any]]
    shares: list[dict[str, Any]]
    files: dict[str, bytes] = field(default_factory=dict)


def _key(passphrase: str, salt: bytes, t: int, m: int, p: int) -> bytes:
    return hash_secret_raw(passphrase.encode("utf-8"), salt, time_cost=t, memory_cost=m, parallelism=p, hash_len=32, type=Type.ID)


def seal(payload: Mapping[str, Any], files: Mapping[str, bytes], passphrase: str) -> bytes:
    """The encrypted backup of `payload` (wallet.json) and `files`."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise InvalidInput(f"Choose a passphrase of at least {MIN_PASSPHRASE} characters",
                           message_ko=f"암호는 {MIN_PASSPHRASE}자 이상으로 정하세요")  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("wallet.json", json.dumps(dict(payload), ensure_ascii=False, indent=1))
        for name, data in files.items():
            z.writestr("files/" + name, data)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = MAGIC + _HEADER.pack(salt, TIME_COST, MEMORY_KIB, PARALLELISM, nonce)
    return header + AESGCM(_key(passphrase, salt, TIME_COST, MEMORY_KIB, PARALLELISM)).encrypt(nonce, buf.getvalue(), header)


def open_(data: bytes, passphrase: str) -> Contents:
    """The contents of a backup made by `seal`; ArchiveError for anything else."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ResourceLimit("the backup file is too large", message_ko="백업 파일이 너무 큽니다")
    size = len(MAGIC) + _HEADER.size
    if len(data) < size + 16 or not data.startswith(MAGIC):
        raise _wrong()
    salt, t, m, p, nonce = _HEADER.unpack(data[len(MAGIC) : size])
    if not (1 <= t <= MAX_TIME_COST and 8 * p <= m <= MAX_MEMORY_KIB and 1 <= p <= 4):
        raise _wrong()
    try:
        plain = AESGCM(_key(passphrase, salt, t, m, p)).decrypt(nonce, data[size:], data[:size])
        with zipfile.ZipFile(io.BytesIO(plain)) as z:
            payload = json.loads(z.read("wallet.json"))
            files = {n[len("files/") :]: z.read(n) for n in z.namelist() if n.startswith("files/")}
        if payload.get("format") != FORMAT:
            raise _wrong()
        key = Ed25519KeyPair.from_multibase(payload["secretKeyMultibase"])
        return Contents(key, str(payload["name"]), str(payload["birthDate"]), list(payload["credentials"]),
                        list(payload.get("shares", [])), files)  # fmt: skip
    except (InvalidTag, zipfile.BadZipFile, KeyError, ValueError, TypeError, AttributeError):
        raise _wrong() from None


def export(store: WalletStore, worker_id: str, passphrase: str, files: Mapping[str, bytes] | None = None) -> bytes:
    """Everything the wallet keeps for this worker, as one encrypted backup."""
    account = store.account(worker_id)
    payload = {
        "format": FORMAT,
        "exportedAt": datetime.now(UTC).isoformat(timespec="seconds"),
        "did": account.did,
        "secretKeyMultibase": store.key(worker_id).secret_multibase,
        "name": account.name,
        "birthDate": account.birth_date,
        "credentials": [
            {"kind": h.kind, "credential": h.credential, "receipt": h.receipt, "status": h.status, "statusReason": h.status_reason}
            for h in store.credentials(worker_id)
        ],
        "shares": [
            {"channel": s.channel, "outcome": s.outcome, "detail": s.detail, "at": s.created_at.isoformat()}
            for s in store.shares(worker_id)
        ],
    }
    return seal(payload, files or {}, passphrase)


def restore(store: WalletStore, worker_id: str, contents: Contents) -> int:
    """Put a backup's credentials into `worker_id`'s account (whose key is the backup's); returns how many."""
    account = store.account(worker_id)
    if account.did != contents.key.public.did_key:
        raise ArchiveError("This backup belongs to another wallet key", message_ko="이 백업은 다른 전자지갑 키의 것입니다")
    for item in contents.credentials:
        store.put_credential(worker_id, item["credential"], receipt=item.get("receipt"),
                             status=str(item.get("status") or "active"), status_reason=str(item.get("statusReason") or ""))  # fmt: skip
    for share in reversed(contents.shares):
        store.record_share(worker_id, str(share.get("channel", "qr")), str(share.get("outcome", "shared")),
                           dict(share.get("detail") or {}) | {"restoredFrom": share.get("at")})  # fmt: skip
    return len(contents.credentials)
