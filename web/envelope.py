"""Envelope encryption of personal data at rest, shared by the issuer and the wallet.

A role's master key (the KEK, 32 bytes) never touches the database: it comes from
`WORKCRED_<ROLE>_MASTER_KEY` (base64url) or `WORKCRED_<ROLE>_MASTER_KEY_FILE` (a file holding
the base64url text), and only with WORKCRED_DEV=1 is it generated into
`$WORKCRED_DATA_DIR/<role>-master.key` (0600). Without one the role refuses to start.

Each subject (a roster row, a wallet account) gets its own data key (DEK); the database keeps only
the DEK wrapped by the KEK with AES-256-GCM, the AAD binding it to the role and the subject, so a
wrapped key copied onto another row does not open. Fields are sealed with the DEK
(`seal(dek, plaintext, aad)`, the AAD naming the field), so destroying the wrapped DEK makes every
field of that subject unreadable at once (crypto-shredding: the wallet's erasure, PIPA art. 21).

Search over encrypted fields goes through a keyed blind index: HMAC-SHA256 under a subkey derived
from the master key by HKDF, over a normalised value (NFC, no whitespace; phones as digits only),
so equal values match and the index alone reveals nothing without the master key.

Sealed format: 0x01 | 12-byte nonce | ciphertext and tag. A wrapped DEK names the master key it was
wrapped with (8 bytes of its fingerprint) so a rotation can tell old wrappings from new.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from agents import multibase
from agents.errors import Error, InvalidInput, KeyError_

__all__ = [
    "DecryptionError",
    "MasterKey",
    "blind_index",
    "load_master_key",
    "new_data_key",
    "normalise",
    "open",
    "seal",
]

VERSION = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32
#: what a blind index is computed over; each kind has its own subkey (a phone index cannot match a name)
IndexKind = Literal["name", "phone", "birth-date", "email", "text"]
_NOT_DIGIT = re.compile(r"\D")
_SPACE = re.compile(r"[\s\u00a0\u3000]+")


class DecryptionError(Error):
    """A sealed value that does not open: wrong key, wrong subject or field, damaged, or shredded."""

    code = "decryption-failed"
    http_status = 410  # for a person: erased or unreadable, never a server crash


def _hkdf(master: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info.encode()).derive(master)


def new_data_key() -> bytes:
    """A fresh random 32-byte data key (DEK) for one subject."""
    return secrets.token_bytes(KEY_BYTES)


def seal(dek: bytes, plaintext: bytes | str, aad: bytes | str) -> bytes:
    """AES-256-GCM under `dek`; `aad` binds the ciphertext to where it belongs (subject and field)."""
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
    nonce = secrets.token_bytes(NONCE_BYTES)
    return VERSION + nonce + AESGCM(dek).encrypt(nonce, data, _bytes(aad))


def open(dek: bytes, sealed: bytes, aad: bytes | str) -> bytes:
    """The plaintext of `seal(dek, plaintext, aad)`; one DecryptionError for every failure (no oracle)."""
    if not isinstance(sealed, bytes | bytearray | memoryview) or len(sealed) < 1 + NONCE_BYTES + 16:
        raise _failed()
    sealed = bytes(sealed)
    if sealed[:1] != VERSION:
        raise _failed()
    try:
        return AESGCM(dek).decrypt(sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], _bytes(aad))
    except (InvalidTag, ValueError):
        raise _failed() from None


def _failed() -> DecryptionError:
    return DecryptionError(
        "encrypted personal data cannot be read (wrong master key, damaged or erased)",
        message_ko="암호화된 개인정보를 읽을 수 없습니다 (마스터키가 다르거나 손상·파기됨)",
    )


def _bytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def normalise(kind: IndexKind, value: str) -> str:
    """The form a value is compared and indexed in: NFC, no whitespace; a phone as its digits only
    (+82 10 ... becomes 010 ...); an e-mail lower-cased; a name case-folded."""
    text = _SPACE.sub("", unicodedata.normalize("NFC", value or ""))
    if kind == "phone":
        digits = _NOT_DIGIT.sub("", text)
        if digits.startswith("82") and text.lstrip().startswith("+"):
            digits = "0" + digits[2:]
        return digits
    if kind == "birth-date":
        return text.replace(".", "-").replace("/", "-")
    if kind in ("email", "name"):
        return text.casefold()
    return text


class MasterKey:
    """A role's key-encryption key: wraps data keys and keys the blind index (never printed)."""

    def __init__(self, key: bytes, role: str) -> None:
        if len(key) != KEY_BYTES:
            raise KeyError_("a master key is 32 bytes", message_ko="마스터키는 32바이트여야 합니다")
        self.role = role
        # separate subkeys: the wrapping key and each index key never equal the master key or each other
        self._wrap = AESGCM(_hkdf(key, f"workcred/{role}/wrap-dek/v1"))
        self._index_key = _hkdf(key, f"workcred/{role}/blind-index/v1")
        self.fingerprint = hashlib.sha256(_hkdf(key, f"workcred/{role}/fingerprint/v1")).digest()[:8]

    def __repr__(self) -> str:
        return f"MasterKey(role={self.role!r}, fingerprint={self.fingerprint.hex()})"

    def _aad(self, subject: str) -> bytes:
        return f"workcred-dek|{self.role}|{subject}".encode()

    def wrap(self, dek: bytes, subject: str) -> bytes:
        """The DEK sealed for storage next to `subject`'s row."""
        if len(dek) != KEY_BYTES:
            raise KeyError_("a data key is 32 bytes", message_ko="데이터 키는 32바이트여야 합니다")
        nonce = secrets.token_bytes(NONCE_BYTES)
        return VERSION + self.fingerprint + nonce + self._wrap.encrypt(nonce, dek, self._aad(subject))

    def unwrap(self, wrapped: bytes | None, subject: str) -> bytes:
        """The DEK of `subject`; DecryptionError when it was destroyed, belongs elsewhere or is damaged."""
        if not wrapped or len(wrapped) != 1 + 8 + NONCE_BYTES + KEY_BYTES + 16:
            raise _failed()
        wrapped = bytes(wrapped)
        if wrapped[:1] != VERSION or not hmac.compare_digest(wrapped[1:9], self.fingerprint):
            raise _failed()
        try:
            return self._wrap.decrypt(wrapped[9 : 9 + NONCE_BYTES], wrapped[9 + NONCE_BYTES :], self._aad(subject))
        except InvalidTag:
            raise _failed() from None

    def new_wrapped_key(self, subject: str) -> tuple[bytes, bytes]:
        """A fresh DEK for `subject` and its wrapped form: `(dek, wrapped)`."""
        dek = new_data_key()
        return dek, self.wrap(dek, subject)

    def blind_index(self, kind: IndexKind, value: str) -> str:
        """HMAC-SHA256 of the normalised value under the index subkey, base64url (43 characters)."""
        message = f"{kind}\x00{normalise(kind, value)}".encode()
        return multibase.b64url(hmac.new(self._index_key, message, hashlib.sha256).digest())


def blind_index(master: MasterKey, kind: IndexKind, value: str) -> str:
    """`master.blind_index(kind, value)` as a function."""
    return master.blind_index(kind, value)


def _decode(text: str, source: str) -> bytes:
    try:
        key = multibase.b64url_decode(text.strip())
    except (InvalidInput, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyError_(
            f"{source} must hold base64url of 32 bytes", message_ko=f"{source} 값은 32바이트의 base64url이어야 합니다"
        )
    return key


def load_master_key(role: str, *, dev: bool | None = None, data_dir: Path | str | None = None) -> MasterKey:
    """The role's master key from WORKCRED_<ROLE>_MASTER_KEY, else _MASTER_KEY_FILE, else (only with
    WORKCRED_DEV=1) a key generated once into `<data dir>/<role>-master.key`; otherwise KeyError_."""
    prefix = f"WORKCRED_{role.upper()}_MASTER_KEY"
    if dev is None:
        dev = os.environ.get("WORKCRED_DEV", "0") in ("1", "true", "yes")
    value = os.environ.get(prefix)
    if value:
        return MasterKey(_decode(value, prefix), role)
    file = os.environ.get(prefix + "_FILE")
    if file:
        try:
            text = Path(file).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            raise KeyError_(f"{prefix}_FILE cannot be read: {file}", message_ko=f"{prefix}_FILE 파일을 읽을 수 없습니다: {file}") from None
        return MasterKey(_decode(text, prefix + "_FILE"), role)
    if not dev:
        raise KeyError_(
            f"set {prefix} (base64url of 32 random bytes) or {prefix}_FILE; the {role} stores personal data "
            "encrypted and will not start without its master key",
            message_ko=f"{prefix}(32바이트 base64url) 또는 {prefix}_FILE을 설정하세요. 개인정보를 암호화하는 "
            "마스터키 없이는 시작하지 않습니다",
        )
    directory = Path(data_dir or os.environ.get("WORKCRED_DATA_DIR") or "var")
    path = directory / f"{role}-master.key"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return MasterKey(_decode(path.read_text(encoding="ascii"), str(path)), role)
    key = secrets.token_bytes(KEY_BYTES)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(multibase.b64url(key) + "\n")
    return MasterKey(key, role)
