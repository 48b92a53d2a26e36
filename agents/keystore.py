"""The issuing side's key store: department keys, encrypted at rest, rotated by version.

`KeyStore` is the interface; `EncryptedFileKeyStore` keeps one JSON file per key name in a
directory, every secret sealed with AES-256-GCM under a master key from the environment
(`WORKCRED_KEYSTORE_SECRET`, base64url of 32 bytes). A PKCS#11 HSM can implement the same
Protocol later: `create`/`rotate` become C_GenerateKeyPair with CKA_EXTRACTABLE false, `signer`
returns an object whose `sign(data)` calls C_Sign with CKM_EDDSA, and `public_keys` reads
CKA_EC_POINT; nothing outside this module ever sees a secret key. The registry never holds
department keys: it only publishes and logs what the issuing side signed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import multibase
from .errors import Conflict, InvalidInput, KeyError_, NotFound
from .keys import Ed25519KeyPair, Ed25519PublicMultikey, Signer

ENV_SECRET = "WORKCRED_KEYSTORE_SECRET"
SECRET_FILE = "keystore.secret"
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_FORMAT = "workcred-keystore-v1"

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about one key version (never the secret)."""

    key_id: str
    public: Ed25519PublicMultikey
    created: datetime
    retired: datetime | None = None

    @property
    def current(self) -> bool:
        return self.retired is None


class KeyStore(Protocol):
    """What the issuing side needs from a key store (files today, a PKCS#11 HSM later)."""

    def create(self, name: str, *, controller: str | None = None) -> Ed25519PublicMultikey:
        """Generate the first key for `name`; its id is `<controller>#key-1` (did:key if no controller)."""
        ...

    def signer(self, name: str, key_id: str | None = None) -> Signer:
        """A signer for the current key of `name` (or a named older version, e.g. to co-sign a rotation)."""
        ...

    def rotate(self, name: str) -> str:
        """Generate a new current key for `name`, retire the previous one, return the new key id."""
        ...

    def public_keys(self, name: str) -> list[KeyInfo]:
        """Every key version of `name`, oldest first."""
        ...

    def names(self) -> list[str]:
        """Every key name in the store."""
        ...


def load_master_key(data_dir: Path | str | None = None, *, dev: bool = False) -> bytes:
    """The AES-256 master key: $WORKCRED_KEYSTORE_SECRET, or in dev mode a generated file (0600)."""
    value = os.environ.get(ENV_SECRET)
    if value:
        key = multibase.b64url_decode(value.strip())
        if len(key) != 32:
            raise KeyError_(
                f"{ENV_SECRET} must be base64url of 32 bytes",
                message_ko=f"{ENV_SECRET} 값은 32바이트의 base64url이어야 합니다",
            )
        return key
    if not dev or data_dir is None:
        raise KeyError_(
            f"set {ENV_SECRET} (base64url of 32 random bytes)",
            message_ko=f"{ENV_SECRET} 환경 변수(32바이트 base64url)를 설정하세요",
        )
    path = Path(data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = multibase.b64url_decode(path.read_text(encoding="ascii").strip())
        if len(key) != 32:
            raise KeyError_(f"{path} is damaged", message_ko="키 저장소 비밀 파일이 손상되었습니다") from None
        return key
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(multibase.b64url(key) + "\n")
    return key


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            "a key name is 1-63 lowercase letters, digits or hyphens",
            message_ko="키 이름은 영문 소문자, 숫자, 하이픈 1~63자여야 합니다",
        )
    return name


def _key_id(controller: str | None, version: int, public: Ed25519PublicMultikey) -> str:
    return f"{controller}#key-{version}" if controller else public.did_key_vm


def _aad(name: str, key_id: str) -> bytes:
    # binds each ciphertext to its name and key id, so sealed secrets cannot be swapped between entries
    return f"{_FORMAT}|{name}|{key_id}".encode()


class EncryptedFileKeyStore:
    """Key store in a directory: `<name>.json` (0600) per name, each secret sealed with AES-GCM."""

    def __init__(self, directory: Path | str, master_key: bytes, *, clock: Clock = _now) -> None:
        if len(master_key) != 32:
            raise KeyError_(
                "the key store master key is 32 bytes", message_ko="키 저장소 마스터키는 32바이트입니다"
            )
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._aead = AESGCM(master_key)
        self._clock = clock

    def __repr__(self) -> str:  # never print the master key
        return f"EncryptedFileKeyStore({str(self._dir)!r})"

    # -- storage -----------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self._dir / f"{_check_name(name)}.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise writers (several CLI processes may create or rotate at once)."""
        fd = os.open(self._dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _read(self, name: str) -> dict[str, Any]:
        try:
            data = json.loads(self._path(name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise NotFound(f"no key named {name!r}", message_ko=f"'{name}' 키가 없습니다") from None
        except (OSError, ValueError):
            raise KeyError_(
                f"the key file for {name!r} is damaged", message_ko="키 파일이 손상되었습니다"
            ) from None
        if (
            not isinstance(data, dict)
            or data.get("format") != _FORMAT
            or not isinstance(data.get("keys"), list)
        ):
            raise KeyError_(f"the key file for {name!r} is damaged", message_ko="키 파일이 손상되었습니다")
        return data

    def _write(self, name: str, data: dict[str, Any]) -> None:
        path = self._path(name)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: a crash leaves the old file or the new one, never half

    def _seal(self, name: str, key_id: str, pair: Ed25519KeyPair, version: int) -> dict[str, Any]:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, pair.seed, _aad(name, key_id))
        return {
            "id": key_id,
            "version": version,
            "publicKeyMultibase": pair.public.multibase,
            "created": self._clock().astimezone(UTC).isoformat(),
            "retired": None,
            "nonce": multibase.b64url(nonce),
            "sealedSecret": multibase.b64url(sealed),
        }

    def _open(self, name: str, entry: dict[str, Any]) -> Ed25519KeyPair:
        try:
            seed = self._aead.decrypt(
                multibase.b64url_decode(entry["nonce"]),
                multibase.b64url_decode(entry["sealedSecret"]),
                _aad(name, entry["id"]),
            )
        except (InvalidTag, KeyError, TypeError, InvalidInput):
            # one failure for a wrong master key and a tampered file (no oracle)
            raise KeyError_(
                f"cannot unseal key {name!r}: wrong {ENV_SECRET} or a damaged key file",
                message_ko=f"'{name}' 키를 열 수 없습니다: {ENV_SECRET} 값 또는 키 파일을 확인하세요",
            ) from None
        pair = Ed25519KeyPair.from_seed(seed, entry["id"])
        if pair.public.multibase != entry.get("publicKeyMultibase"):
            raise KeyError_(f"the key file for {name!r} is damaged", message_ko="키 파일이 손상되었습니다")
        return pair

    # -- KeyStore ----------------------------------------------------------------------------

    def create(self, name: str, *, controller: str | None = None) -> Ed25519PublicMultikey:
        with self._locked():
            if self._path(name).exists():
                raise Conflict(f"a key named {name!r} exists", message_ko=f"'{name}' 키가 이미 있습니다")
            pair = Ed25519KeyPair.generate()
            key_id = _key_id(controller, 1, pair.public)
            data = {
                "format": _FORMAT,
                "name": name,
                "controller": controller,
                "keys": [self._seal(name, key_id, pair, 1)],
            }
            self._write(name, data)
            return pair.public

    def signer(self, name: str, key_id: str | None = None) -> Signer:
        keys = self._read(name)["keys"]
        for entry in reversed(keys):
            if (key_id is None and entry.get("retired") is None) or entry.get("id") == key_id:
                return self._open(name, entry)
        raise NotFound(f"no such key for {name!r}", message_ko=f"'{name}'에 해당 키가 없습니다")

    def rotate(self, name: str) -> str:
        with self._locked():
            data = self._read(name)
            now = self._clock().astimezone(UTC).isoformat()
            for entry in data["keys"]:
                if entry.get("retired") is None:
                    entry["retired"] = now
            version = max(int(e.get("version", 0)) for e in data["keys"]) + 1
            pair = Ed25519KeyPair.generate()
            key_id = _key_id(data.get("controller"), version, pair.public)
            data["keys"].append(self._seal(name, key_id, pair, version))
            self._write(name, data)
            return key_id

    def public_keys(self, name: str) -> list[KeyInfo]:
        out = []
        for entry in self._read(name)["keys"]:
            retired = entry.get("retired")
            out.append(
                KeyInfo(
                    entry["id"],
                    Ed25519PublicMultikey.from_multibase(entry["publicKeyMultibase"]),
                    datetime.fromisoformat(entry["created"]),
                    datetime.fromisoformat(retired) if retired else None,
                )
            )
        return out

    def names(self) -> list[str]:
        return sorted(p.stem for p in self._dir.glob("*.json") if _NAME.match(p.stem))


def open_keystore(directory: Path | str, *, dev: bool = False) -> EncryptedFileKeyStore:
    """The file key store at `directory`, master key from the environment (or generated in dev mode)."""
    directory = Path(directory)
    return EncryptedFileKeyStore(directory, load_master_key(directory, dev=dev))
