"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes with Ed25519 signatures.

A checkpoint note (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note)::

    registry.workcred.seoul.go.kr/log      origin: names the log
    1234                                   tree size, decimal, no leading zeros
    3q2+7w...=                             root hash, standard base64 (32 bytes)
    [extension lines]                      optional, non-empty
                                           blank line ends the body
    — <key name> <base64(key hash (4 bytes) || Ed25519 signature (64 bytes))>

The key hash is the first 4 bytes of SHA-256(key name || "\\n" || 0x01 || 32-byte public key), as in the
Go sumdb note format; the signature covers the body including its final newline.

Witnesses add C2SP tlog-cosignature/v1 lines (https://c2sp.org/tlog-cosignature): key ID =
SHA-256(name || "\n" || 0x04 || public key)[:4], signature blob = key ID || u64 big-endian timestamp ||
Ed25519 signature over "cosignature/v1\ntime <timestamp>\n" || checkpoint body. `parse_and_verify` can
demand a quorum of them.

Key rotation: one key name may have several keys (the key hash tells them apart, as in Go's
`note.Verifiers`). A `RetiredKey` is accepted only for checkpoints of at most `last_size` leaves
(the size of the hand-over checkpoint signed when it was rotated out), so a leaked old key cannot
sign a newer checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from .errors import KeyError_, RegistryError
from .keys import Ed25519KeyPair, Ed25519PublicMultikey

MAX_NOTE_BYTES = 16 * 1024
MAX_SIGNATURES = 100
MAX_EXTENSION_LINES = 32
ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIG_PREFIX = "\u2014 "  # em dash and a space
_DECIMAL = re.compile(r"(0|[1-9][0-9]{0,18})")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


@dataclass(frozen=True)
class Checkpoint:
    """A log's commitment to its first `size` leaves (invariants checked on construction)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or not _is_line(self.origin):
            raise _malformed("the origin line is empty or has control characters")
        if not 0 <= self.size <= 2**63 - 1:
            raise _malformed("the tree size is out of range")
        if len(self.root) != 32:
            raise _malformed("the root hash is not 32 bytes")
        if len(self.extensions) > MAX_EXTENSION_LINES or any(not e or not _is_line(e) for e in self.extensions):
            raise _malformed("an extension line is empty or has control characters")

    def body(self) -> str:
        """The checkpoint text (the signed-note text): origin, size, base64 root, extensions, each + newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii"), *self.extensions]
        return "".join(line + "\n" for line in lines)


@dataclass(frozen=True)
class RetiredKey:
    """A rotated-out log key: it verifies checkpoints of at most `last_size` leaves, no newer ones."""

    public: Ed25519PublicMultikey
    last_size: int

    def __post_init__(self) -> None:
        if not isinstance(self.last_size, int) or not 0 <= self.last_size <= 2**63 - 1:
            raise _malformed("a retired key's last size is between 0 and 2^63-1")


NoteKey = Ed25519PublicMultikey | RetiredKey
#: key name -> its key, or every key it has had (current and retired)
Verifiers = Mapping[str, NoteKey | Collection[NoteKey]]


def keys_named(verifiers: Verifiers, name: str) -> tuple[NoteKey, ...]:
    """Every key of `verifiers` under `name` (one key or a collection of them)."""
    found = verifiers.get(name)
    if found is None:
        return ()
    if isinstance(found, (Ed25519PublicMultikey, RetiredKey)):
        return (found,)
    return tuple(found)


def merge_verifiers(*maps: Verifiers) -> dict[str, tuple[NoteKey, ...]]:
    """One verifier map from several (e.g. the current key and the retired ones from configuration)."""
    out: dict[str, tuple[NoteKey, ...]] = {}
    for m in maps:
        for name in m:
            out[name] = out.get(name, ()) + tuple(k for k in keys_named(m, name) if k not in out.get(name, ()))
    return out


def _public(key: NoteKey) -> Ed25519PublicMultikey:
    return key.public if isinstance(key, RetiredKey) else key


def key_hash(name: str, public: Ed25519PublicMultikey, alg: int = ALG_ED25519) -> bytes:
    """First 4 bytes of SHA-256(name || "\\n" || alg || public key); alg 0x01 note key, 0x04 cosigner."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public.raw).digest()[:4]


def _cosigned_message(body: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode("utf-8")


def cosign(note: str, name: str, witness: Ed25519KeyPair, *, timestamp: int) -> str:
    """Append a tlog-cosignature/v1 line by witness `name` at POSIX time `timestamp` (passed in)."""
    _check_key_name(name)
    if not 0 <= timestamp <= 2**63 - 1:
        raise _malformed("a cosignature timestamp is between 0 and 2^63-1")
    body, _ = _split_note(note)
    sig = witness.sign(_cosigned_message(body, timestamp))
    blob = key_hash(name, witness.public, ALG_COSIGNATURE_V1) + timestamp.to_bytes(8, "big") + sig
    return note + f"{SIG_PREFIX}{name} {base64.b64encode(blob).decode('ascii')}\n"


def verifier_key(name: str, public: Ed25519PublicMultikey, alg: int = ALG_ED25519) -> str:
    """The vkey string ``name+hex(keyhash)+base64(alg || pubkey)`` for publishing (0x04: a cosigner)."""
    _check_key_name(name)
    return f"{name}+{key_hash(name, public, alg).hex()}+{base64.b64encode(bytes([alg]) + public.raw).decode()}"


def parse_verifier_key(vkey: str, alg: int = ALG_ED25519) -> tuple[str, Ed25519PublicMultikey]:
    """Parse ``name+hash+key`` back into a name and an Ed25519 public key, checking the hash."""
    parts = vkey.strip().split("+", 2)  # the base64 key itself may contain "+" (Go: chop twice)
    if len(parts) != 3:
        raise _malformed("a verifier key is name+hash+key")
    name, hash_hex, key_b64 = parts
    _check_key_name(name)
    raw = _b64decode(key_b64)
    if len(raw) != 33 or raw[0] != alg:
        raise _malformed("the verifier key is not an Ed25519 key of the expected type")
    public = Ed25519PublicMultikey(raw[1:])
    if key_hash(name, public, alg).hex() != hash_hex.lower():
        raise _malformed("the verifier key hash does not match its name and key")
    return name, public


def parse_verifier_keys(text: str) -> dict[str, tuple[NoteKey, ...]]:
    """Parse a configuration list of verifier keys: ``vkey[@lastSize]`` separated by commas or spaces.

    An entry with ``@lastSize`` is a `RetiredKey` (e.g. WORKCRED_REGISTRY_RETIRED_KEYS); without it,
    a current key.
    """
    out: dict[str, tuple[NoteKey, ...]] = {}
    for item in re.split(r"[,\s]+", text.strip()):
        if not item:
            continue
        vkey, sep, last = item.rpartition("@")
        key: NoteKey
        if sep and _DECIMAL.fullmatch(last):
            name, public = parse_verifier_key(vkey)
            key = RetiredKey(public, int(last))
        else:
            name, key = parse_verifier_key(item)
        out[name] = out.get(name, ()) + (key,)
    return out


def format_retired_key(name: str, key: RetiredKey) -> str:
    """The configuration form ``vkey@lastSize`` of a retired key (inverse of `parse_verifier_keys`)."""
    return f"{verifier_key(name, key.public)}@{key.last_size}"


def retired_keys_setting(
    text: str, origin: str, setting: str, *, current: Ed25519PublicMultikey | None = None
) -> tuple[RetiredKey, ...]:
    """The one reader of a retired-keys setting (the registry's WORKCRED_REGISTRY_RETIRED_KEYS and a
    verifier's WORKCRED_VERIFIER_REGISTRY_RETIRED_KEYS): ``<verifier key of origin>@<last tree size>`` per
    rotated-out key, comma or space separated, as `workcred registry rotate-key` prints it. A key listed
    twice, or equal to `current`, is refused; so is any entry of another log or without its size."""
    form_en = f"each entry is <verifier key of {origin}>@<last tree size> (as `workcred registry rotate-key` prints it)"
    form_ko = f"각 항목은 <{origin} 검증 키>@<마지막 트리 크기> 형식입니다 (`workcred registry rotate-key`가 출력하는 값)"
    if not text.strip():
        return ()
    try:
        parsed = parse_verifier_keys(text)
    except RegistryError as e:
        why = e.message.removeprefix("malformed checkpoint note: ")  # a setting, not a checkpoint
        raise KeyError_(f"{setting}: not a verifier key ({why}); {form_en}", message_ko=f"{setting} 설정이 잘못되었습니다(검증 키가 아닙니다). {form_ko}") from None
    out: list[RetiredKey] = []
    for name, found in parsed.items():
        for key in found:
            if name != origin or not isinstance(key, RetiredKey):
                why_en = f"a key of log {name!r}" if name != origin else "an entry without @<last tree size>"
                why_ko = f"{name} 로그의 키" if name != origin else "@<마지막 트리 크기>가 없는 항목"
                raise KeyError_(f"{setting}: {why_en}; {form_en}", message_ko=f"{setting} 설정이 잘못되었습니다({why_ko}). {form_ko}")
            if key.public == current or any(k.public == key.public for k in out):
                raise KeyError_(
                    f"{setting}: the key {key.public.multibase} is listed twice, or is the current registry key",
                    message_ko=f"{setting}: 같은 키가 두 번 있거나 현재 등록소 키입니다",
                )
            out.append(key)
    return tuple(out)


def sign_checkpoint(cp: Checkpoint, name: str, signer: Ed25519KeyPair) -> str:
    """The signed note: the checkpoint body, a blank line, one signature line by `name`."""
    return sign_note(cp.body(), name, signer)


def sign_note(text: str, name: str, signer: Ed25519KeyPair) -> str:
    """A C2SP signed note over `text` (which ends with a newline) with one signature line."""
    if not text.endswith("\n") or "\n\n" in text:
        raise _malformed("a note text ends with one newline and has no blank line")
    return add_signature(text + "\n", name, signer)


def add_signature(note: str, name: str, signer: Ed25519KeyPair) -> str:
    """Append another Ed25519 note signature line to an already signed note (e.g. a second log key)."""
    _check_key_name(name)
    body, _ = _split_note(note)
    sig = signer.sign(body.encode("utf-8"))
    blob = base64.b64encode(key_hash(name, signer.public) + sig).decode("ascii")
    return note + f"{SIG_PREFIX}{name} {blob}\n"


def parse_and_verify(
    note: str,
    verifiers: Verifiers,
    *,
    witnesses: Mapping[str, Ed25519PublicMultikey] | None = None,
    witness_quorum: int = 0,
) -> Checkpoint:
    """Parse a signed checkpoint note strictly and verify it (see `open_note`); return the checkpoint.

    A signature by a `RetiredKey` counts only when the checkpoint is no larger than the key's `last_size`.
    """
    body, signers = _open(note, verifiers, witnesses, witness_quorum)
    cp = parse_body(body)
    if not any(not isinstance(k, RetiredKey) or cp.size <= k.last_size for k in signers):
        raise RegistryError(
            f"the checkpoint of size {cp.size} is signed only by a registry key retired before that size",
            message_ko=f"크기 {cp.size}의 체크포인트가 그 전에 교체(폐기)된 등록소 키로만 서명되었습니다",
        )
    return cp


def open_note(
    note: str,
    verifiers: Verifiers,
    *,
    witnesses: Mapping[str, Ed25519PublicMultikey] | None = None,
    witness_quorum: int = 0,
) -> str:
    """Verify a C2SP signed note and return its text (the signed part, with its final newline).

    At least one key of `verifiers` (name -> key or keys, normally the log's own) must have signed
    it; a signature line by a known name and key hash that does not verify is an error (never
    skipped); lines by unknown keys are ignored, as the signed-note spec asks. With
    `witness_quorum` > 0 at least that many distinct `witnesses` must have co-signed too.
    """
    return _open(note, verifiers, witnesses, witness_quorum)[0]


def _open(
    note: str,
    verifiers: Verifiers,
    witnesses: Mapping[str, Ed25519PublicMultikey] | None,
    witness_quorum: int,
) -> tuple[str, list[NoteKey]]:
    """`open_note`, also returning the log keys whose signatures verified."""
    if not isinstance(note, str):
        raise _malformed("a checkpoint note is text")
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise RegistryError(
            f"checkpoint note larger than {MAX_NOTE_BYTES} bytes", message_ko="체크포인트가 너무 큽니다"
        )
    body, sig_lines = _split_note(note)
    signed = body.encode("utf-8")
    verified_log: list[NoteKey] = []
    verified_witnesses: set[str] = set()
    for line in sig_lines:
        name, khash, sig = _parse_signature_line(line)
        for key in keys_named(verifiers, name):
            if key_hash(name, _public(key)) != khash:
                continue
            if not _public(key).verify(sig, signed):
                raise RegistryError(
                    f"the checkpoint signature by {name!r} does not verify (altered checkpoint or wrong key)",
                    message_ko=f"체크포인트 서명({name})이 검증되지 않습니다",
                )
            verified_log.append(key)
        wkey = (witnesses or {}).get(name)
        if wkey is not None and key_hash(name, wkey, ALG_COSIGNATURE_V1) == khash:
            if len(sig) != 8 + 64:
                raise _malformed("a cosignature is a timestamp and an Ed25519 signature")
            timestamp = int.from_bytes(sig[:8], "big")
            if timestamp > 2**63 - 1 or not wkey.verify(sig[8:], _cosigned_message(body, timestamp)):
                raise RegistryError(
                    f"the witness cosignature by {name!r} does not verify",
                    message_ko=f"증인 서명({name})이 검증되지 않습니다",
                )
            verified_witnesses.add(name)
    if not verified_log:
        raise RegistryError(
            "the checkpoint is not signed by a trusted registry key (unknown key name or key hash): "
            + ", ".join(sorted(verifiers)),
            message_ko="신뢰하는 등록소 키로 서명된 체크포인트가 아닙니다",
        )
    if len(verified_witnesses) < witness_quorum:
        raise RegistryError(
            f"the checkpoint has {len(verified_witnesses)} witness cosignatures; {witness_quorum} required",
            message_ko="체크포인트의 증인 서명 수가 부족합니다",
        )
    return body, verified_log


def parse_body(body: str) -> Checkpoint:
    """Parse an (already verified) checkpoint body."""
    lines = body.split("\n")
    if lines[-1] != "" or len(lines) < 4:
        raise _malformed("a checkpoint has an origin, a size and a root hash line")
    origin, size_text, root_text, *extensions = lines[:-1]
    if not _DECIMAL.fullmatch(size_text):
        raise _malformed("the tree size is not a decimal number without leading zeros")
    root = _b64decode(root_text)
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def _split_note(note: str) -> tuple[str, list[str]]:
    """Split a signed note into its text (with final newline) and its signature lines."""
    if not note.endswith("\n"):
        raise _malformed("a signed note ends with a newline")
    if any((ord(c) < 0x20 and c != "\n") or ord(c) == 0x7F for c in note):
        raise _malformed("control characters in the note")
    cut = note.rfind("\n\n")
    if cut < 0:
        raise _malformed("no blank line between the checkpoint and its signatures")
    body = note[: cut + 1]
    sig_lines = note[cut + 2 : -1].split("\n") if note[cut + 2 :] else []
    if len(sig_lines) > MAX_SIGNATURES:
        raise _malformed("too many signature lines")
    return body, sig_lines


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    if not line.startswith(SIG_PREFIX):
        raise _malformed("a signature line starts with an em dash and a space")
    rest = line[len(SIG_PREFIX) :]
    name, sep, blob = rest.rpartition(" ")
    if not sep:
        raise _malformed("a signature line is '— <name> <signature>'")
    _check_key_name(name)
    raw = _b64decode(blob)
    if len(raw) < 5:
        raise _malformed("a signature is a 4-byte key hash and the signature")
    return name, raw[:4], raw[4:]


def _check_key_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name) or not _is_line(name):
        raise _malformed("a key name is non-empty, with no spaces and no '+'")


def _is_line(text: str) -> bool:
    return all(ord(c) >= 0x20 and ord(c) != 0x7F for c in text)


def _b64decode(text: str) -> bytes:
    if not _B64.fullmatch(text) or len(text) % 4:
        raise _malformed("a value is not standard base64")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("a value is not standard base64") from None


def _malformed(why: str) -> RegistryError:
    return RegistryError(f"malformed checkpoint note: {why}", message_ko="체크포인트 형식이 잘못되었습니다")
