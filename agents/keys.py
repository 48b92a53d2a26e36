"""Ed25519 keys as W3C Multikey: generate, import, export, sign, verify."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError

from . import multibase
from .errors import KeyError_

_RAW = serialization.Encoding.Raw
_RAW_PUB = serialization.PublicFormat.Raw
_RAW_PRIV = serialization.PrivateFormat.Raw
_NOENC = serialization.NoEncryption()


class Signer(Protocol):
    """Anything that signs bytes for a verification method (a key in memory, later an HSM)."""

    @property
    def verification_method(self) -> str: ...

    def sign(self, data: bytes) -> bytes: ...


@dataclass(frozen=True)
class Ed25519PublicMultikey:
    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise KeyError_("an Ed25519 public key is 32 bytes", message_ko="Ed25519 공개키 길이가 잘못되었습니다")

    @classmethod
    def from_multibase(cls, value: str) -> Ed25519PublicMultikey:
        data = multibase.decode(value)
        if data[:2] != multibase.ED25519_PUB or len(data) != 34:
            raise KeyError_(
                "publicKeyMultibase is not an Ed25519 Multikey (0xed01 prefix, 32 bytes)",
                message_ko="publicKeyMultibase 값이 Ed25519 Multikey가 아닙니다",
            )
        return cls(data[2:])

    @property
    def multibase(self) -> str:
        return multibase.encode(multibase.ED25519_PUB + self.raw)

    @property
    def did_key(self) -> str:
        return "did:key:" + self.multibase

    @property
    def did_key_vm(self) -> str:
        return f"{self.did_key}#{self.multibase}"

    def verify(self, signature: bytes, data: bytes) -> bool:
        """RFC 8032 verification with libsodium (PyNaCl): half the time of OpenSSL's here (BENCHMARKS.md).

        libsodium is the stricter of the two (it also refuses small-order keys and R values, which no
        honest signer produces), so it accepts nothing OpenSSL would refuse; `tests/unit/test_keys.py`
        holds both to the RFC 8032 and W3C vectors.
        """
        if len(signature) != 64:
            return False
        try:
            crypto_sign_open(signature + data, self.raw)
            return True
        except (BadSignatureError, CryptoError):
            return False

    def verify_openssl(self, signature: bytes, data: bytes) -> bool:
        """The same check with OpenSSL (cryptography): the cross-check for `verify`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
            return True
        except InvalidSignature:
            return False

    def to_jwk(self) -> dict[str, str]:
        return {"kty": "OKP", "crv": "Ed25519", "x": multibase.b64url(self.raw)}


class Ed25519KeyPair:
    """An Ed25519 key pair; `controller`/`key_id` name the verification method it signs as."""

    def __init__(self, private: Ed25519PrivateKey, key_id: str | None = None) -> None:
        self._private = private
        self.public = Ed25519PublicMultikey(private.public_key().public_bytes(_RAW, _RAW_PUB))
        self.key_id = key_id or self.public.did_key_vm

    @classmethod
    def generate(cls, key_id: str | None = None) -> Ed25519KeyPair:
        return cls(Ed25519PrivateKey.generate(), key_id)

    @classmethod
    def from_seed(cls, seed: bytes, key_id: str | None = None) -> Ed25519KeyPair:
        if len(seed) != 32:
            raise KeyError_("an Ed25519 secret key is 32 bytes", message_ko="Ed25519 비밀키 길이가 잘못되었습니다")
        return cls(Ed25519PrivateKey.from_private_bytes(seed), key_id)

    @classmethod
    def from_multibase(cls, secret: str, public: str | None = None, key_id: str | None = None) -> Ed25519KeyPair:
        data = multibase.decode(secret)
        if data[:2] != multibase.ED25519_PRIV or len(data) != 34:
            raise KeyError_(
                "secretKeyMultibase is not an Ed25519 Multikey secret (0x8026 prefix, 32 bytes)",
                message_ko="secretKeyMultibase 값이 Ed25519 비밀키가 아닙니다",
            )
        pair = cls.from_seed(data[2:], key_id)
        if public is not None and Ed25519PublicMultikey.from_multibase(public) != pair.public:
            raise KeyError_(
                "publicKeyMultibase does not match the secret key",
                message_ko="공개키가 비밀키와 맞지 않습니다",
            )
        return pair

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Ed25519KeyPair:
        """Load `{publicKeyMultibase, secretKeyMultibase | privateKeyMultibase, id?}`."""
        if not isinstance(doc, dict):
            raise KeyError_("a key pair is a JSON object", message_ko="키 파일은 JSON 객체여야 합니다")
        secret = doc.get("secretKeyMultibase") or doc.get("privateKeyMultibase")
        if not isinstance(secret, str):
            raise KeyError_(
                "the key pair has no secretKeyMultibase (or privateKeyMultibase)",
                message_ko="키 파일에 secretKeyMultibase가 없습니다",
            )
        key_id = doc.get("id")
        return cls.from_multibase(secret, doc.get("publicKeyMultibase"), key_id if isinstance(key_id, str) else None)

    @classmethod
    def from_file(cls, path: str) -> Ed25519KeyPair:
        try:
            with open(path, encoding="utf-8") as f:
                return cls.from_json(json.load(f))
        except (OSError, json.JSONDecodeError) as e:
            raise KeyError_(f"cannot read key file {path}: {e}", message_ko=f"키 파일을 읽을 수 없습니다: {path}") from None

    @property
    def secret_multibase(self) -> str:
        return multibase.encode(multibase.ED25519_PRIV + self.seed)

    @property
    def seed(self) -> bytes:
        return self._private.private_bytes(_RAW, _RAW_PRIV, _NOENC)

    @property
    def verification_method(self) -> str:
        return self.key_id

    @property
    def controller(self) -> str:
        return self.key_id.split("#", 1)[0]

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)

    def to_json(self, include_secret: bool = True) -> dict[str, str]:
        out = {
            "id": self.key_id,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": self.public.multibase,
        }
        if include_secret:
            out["secretKeyMultibase"] = self.secret_multibase
        return out

    def __repr__(self) -> str:  # never print the secret
        return f"Ed25519KeyPair({self.key_id!r})"
