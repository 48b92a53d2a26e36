"""did:web documents with an anchored key history; signing time comes from the log.

A department's DID (`did:web:<host>:issuers:<department>`) is a chain of versions. Each version is
a complete DID document with a workcred extension (JCS-signed, so it is processed as JSON, never
expanded as JSON-LD)::

    "workcred:history": {
      "versionId": 2,                             # 1, 2, 3, ... without gaps
      "previousDigest": "u<sha256 of JCS(v1)>",  # absent in version 1
      "retiredKeys": [{"id": "<did>#key-1", "retiredIn": 2}]
    }

Rules (checked by the registry on publish and by anyone reading the history):
- version 1 is signed (eddsa-jcs-2022 proof set) by every key in its assertionMethod;
- version n+1 is signed by a key in version n's assertionMethod *and* by every key it newly adds
  to assertionMethod (proof of possession), names version n's digest, and drops no key: a
  rotated-out key stays in verificationMethod, leaves assertionMethod/authentication, and is
  listed under `retiredKeys` (so credentials it signed still resolve, while a verifier that
  knows nothing of the history fails closed on them);
- each version is a "did-document" leaf of the registry log, and the *log index* is the clock:
  a credential counts as signed with a key only if its own leaf precedes the leaf of the version
  that retired the key (`key_valid_at`), whatever `created` its proof claims.
"""

from __future__ import annotations

import copy
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import dataintegrity, merkle, multibase, receipts
from .checkpoint import Verifiers
from .did import DidDocument
from .errors import Error, InvalidCredential, RegistryError, ResolutionError, VerificationError
from .keys import Ed25519PublicMultikey, Signer

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
HISTORY = "workcred:history"
PROOF_PURPOSE = "assertionMethod"
_ACTIVE = ("assertionMethod", "authentication")


def department_did(base_url: str, department: str) -> str:
    """`did:web:<host>[%3A<port>]:issuers:<department>` for a registry served at `base_url`."""
    parts = urllib.parse.urlsplit(base_url)
    if not parts.hostname:
        raise InvalidCredential(
            f"not a base URL: {base_url!r}", message_ko="레지스트리 주소가 잘못되었습니다"
        )
    host = parts.hostname.lower() + (f"%3A{parts.port}" if parts.port else "")
    path = [p for p in parts.path.split("/") if p]
    return ":".join(["did:web", host, *path, "issuers", department])


def _err(en: str, ko: str) -> InvalidCredential:
    return InvalidCredential(en, message_ko=ko)


@dataclass(frozen=True)
class KeyRecord:
    """A key as the DID document lists it (what a key store's `public_keys` gives)."""

    key_id: str
    public: Ed25519PublicMultikey
    current: bool


@dataclass(frozen=True)
class VersionInfo:
    """The `workcred:history` block of one DID document version."""

    version_id: int
    previous_digest: bytes | None
    retired: Mapping[str, int]  # key id -> version that retired it


def digest_of(document: Mapping[str, Any]) -> bytes:
    """SHA-256 of the JCS form of a signed DID document version (what the log holds)."""
    return merkle.document_digest(dict(document))


def build_did_document(
    did: str, keys: Iterable[KeyRecord], *, previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The next unsigned version: current keys active, the others retired (kept for old credentials)."""
    keys = list(keys)
    prev = version_info(previous) if previous is not None else None
    version = prev.version_id + 1 if prev else 1
    retired: dict[str, int] = dict(prev.retired) if prev else {}
    for k in keys:
        if not k.current and k.key_id not in retired:
            retired[k.key_id] = version
    active = [k.key_id for k in keys if k.current]
    history: dict[str, Any] = {"versionId": version}
    if previous is not None:
        history["previousDigest"] = multibase.encode(digest_of(previous), "u")
    history["retiredKeys"] = [{"id": kid, "retiredIn": v} for kid, v in retired.items()]
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": [
            {"id": k.key_id, "type": "Multikey", "controller": did, "publicKeyMultibase": k.public.multibase}
            for k in keys
        ],
        "assertionMethod": active,
        "authentication": list(active),
        HISTORY: history,
    }


def sign_did_document(document: Mapping[str, Any], signers: Sequence[Signer]) -> dict[str, Any]:
    """Add one eddsa-jcs-2022 proof per signer (a proof set: each covers the document alone)."""
    doc = dict(document)
    doc.pop("proof", None)
    for signer in signers:
        doc = dataintegrity.sign(
            doc, signer, cryptosuite=dataintegrity.JCS, options={"proofPurpose": PROOF_PURPOSE}
        )
    return doc


def version_info(document: Mapping[str, Any]) -> VersionInfo:
    """Parse the `workcred:history` block (structure only)."""
    block = document.get(HISTORY)
    if not isinstance(block, Mapping):
        raise _err(f"the DID document has no {HISTORY} block", f"DID 문서에 {HISTORY} 정보가 없습니다")
    version = block.get("versionId")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _err("versionId must be a positive integer", "versionId는 양의 정수여야 합니다")
    prev_raw = block.get("previousDigest")
    previous: bytes | None = None
    if version == 1:
        if prev_raw is not None:
            raise _err("version 1 has no previousDigest", "첫 버전에는 previousDigest가 없어야 합니다")
    else:
        previous = (
            multibase.decode(prev_raw) if isinstance(prev_raw, str) and prev_raw.startswith("u") else None
        )
        if previous is None or len(previous) != 32:
            raise _err("previousDigest must be a base64url SHA-256", "previousDigest 값이 잘못되었습니다")
    retired: dict[str, int] = {}
    entries = block.get("retiredKeys", [])
    if not isinstance(entries, list):
        raise _err("retiredKeys must be a list", "retiredKeys는 목록이어야 합니다")
    for entry in entries:
        kid = entry.get("id") if isinstance(entry, Mapping) else None
        when = entry.get("retiredIn") if isinstance(entry, Mapping) else None
        if (
            not isinstance(kid, str)
            or not isinstance(when, int)
            or isinstance(when, bool)
            or not 1 < when <= version
        ):
            raise _err(
                "a retiredKeys entry needs an id and a retiredIn version", "retiredKeys 항목이 잘못되었습니다"
            )
        if kid in retired:
            raise _err(f"key {kid} is retired twice", f"키 {kid}가 두 번 폐기되었습니다")
        retired[kid] = when
    return VersionInfo(version, previous, retired)


def parse_did_document(document: object, *, did: str) -> tuple[DidDocument, VersionInfo]:
    """Check one version's shape: our DID, the contexts, Multikey methods only, and a coherent history."""
    if not isinstance(document, Mapping):
        raise _err("a DID document is a JSON object", "DID 문서는 JSON 객체여야 합니다")
    if document.get("@context") != DID_CONTEXTS:
        raise _err(f"@context must be {DID_CONTEXTS}", "DID 문서의 @context가 잘못되었습니다")
    try:
        parsed = DidDocument.from_json(document, expected_id=did)
    except ResolutionError as e:
        raise _err(e.message, e.message_ko) from None
    if parsed.unsupported:
        raise _err(
            "every verification method must be an Ed25519 Multikey", "검증 방법은 Ed25519 Multikey여야 합니다"
        )
    for vm in document.get("verificationMethod", []):
        if not str(vm.get("id", "")).startswith(did + "#") or vm.get("controller") != did:
            raise _err("verification methods must belong to this DID", "검증 방법은 이 DID에 속해야 합니다")
    for rel in _ACTIVE:
        if not all(isinstance(r, str) for r in document.get(rel, [])):
            raise _err(f"{rel} must reference methods by id", f"{rel}는 검증 방법 ID 목록이어야 합니다")
    info = version_info(document)
    ids = {vm.id for vm in parsed.methods}
    active = {vm.id for vm in parsed.methods_for("assertionMethod")}
    if not active:
        raise _err("the DID document has no assertionMethod key", "DID 문서에 assertionMethod 키가 없습니다")
    for kid in info.retired:
        if kid not in ids:
            raise _err(
                f"retired key {kid} must stay in verificationMethod",
                f"폐기된 키 {kid}도 문서에 남아 있어야 합니다",
            )
        if parsed.method(kid).relationships:
            raise _err(f"retired key {kid} is still in use", f"폐기된 키 {kid}가 아직 사용 중입니다")
    return parsed, info


def _resolver(*docs: DidDocument) -> dataintegrity.KeyResolver:
    """Look a method up in the first document that has it (earlier documents win)."""

    def resolve(vm_id: str) -> dataintegrity.ResolvedKey:
        for doc in docs:
            try:
                return dataintegrity.resolved_key_from(doc.method(vm_id))
            except ResolutionError:
                continue
        raise ResolutionError(f"unknown key {vm_id}", message_ko=f"알 수 없는 키입니다: {vm_id}")

    return resolve


def check_version(
    document: Mapping[str, Any], *, did: str, previous: Mapping[str, Any] | None
) -> tuple[DidDocument, VersionInfo]:
    """Check that `document` may follow `previous` (None for the first version); raise VerificationError."""
    parsed, info = parse_did_document(document, did=did)
    if previous is None:
        if info.version_id != 1:
            raise _err("the first version must be versionId 1", "첫 버전의 versionId는 1이어야 합니다")
        if info.retired:
            raise _err("the first version retires no key", "첫 버전에는 폐기된 키가 없어야 합니다")
        resolve = _resolver(parsed)
        authorisers: set[str] = set()
        must_sign = {vm.id for vm in parsed.methods_for("assertionMethod")}
    else:
        prev, prev_info = parse_did_document(previous, did=did)
        if info.version_id != prev_info.version_id + 1 or info.previous_digest != digest_of(previous):
            raise RegistryError(
                "the DID document does not follow the current version (versionId/previousDigest)",
                message_ko="DID 문서가 현재 버전을 잇지 않습니다 (versionId/previousDigest)",
            )
        now = {vm.id: vm for vm in parsed.methods}
        for vm in prev.methods:
            if vm.id not in now or now[vm.id].public_key != vm.public_key:
                raise _err(f"key {vm.id} was removed or changed", f"키 {vm.id}가 삭제되거나 바뀌었습니다")
        for kid, when in prev_info.retired.items():
            if info.retired.get(kid) != when:
                raise _err(f"retired key {kid} lost its history", f"폐기된 키 {kid}의 이력이 바뀌었습니다")
        for kid, when in info.retired.items():
            if kid not in prev_info.retired and when != info.version_id:
                raise _err(
                    f"key {kid} is retired in the wrong version", f"키 {kid}의 폐기 버전이 잘못되었습니다"
                )
        resolve = _resolver(prev, parsed)
        authorisers = {vm.id for vm in prev.methods_for("assertionMethod")}
        must_sign = {vm.id for vm in parsed.methods_for("assertionMethod")} - authorisers
    # every proof must verify; then the required signers must be among them
    outcomes = dataintegrity.verify_proofs(document, resolve)
    bad = [o for o in outcomes if not o.ok or o.cryptosuite != dataintegrity.JCS]
    if bad:
        raise VerificationError(
            f"a proof on the DID document does not verify: {bad[0].reason or 'not eddsa-jcs-2022'}",
            message_ko=f"DID 문서의 서명을 검증할 수 없습니다: {bad[0].reason_ko or 'eddsa-jcs-2022가 아닙니다'}",
            report=None,
        )
    signed_by = {o.verification_method for o in outcomes}
    if authorisers and not signed_by & authorisers:
        raise VerificationError(
            "the new DID document is not signed by a key of the current version",
            message_ko="새 DID 문서에 현재 버전 키의 서명이 없습니다",
        )
    missing = must_sign - signed_by
    if missing:
        raise VerificationError(
            f"the DID document is not signed by its new key(s): {', '.join(sorted(missing))}",
            message_ko="DID 문서에 새 키의 서명이 없습니다",
        )
    return parsed, info


# -- the history as served by GET /issuers/<department>/history ----------------------------------


@dataclass(frozen=True)
class DidVersion:
    """One logged version: the document, its log index and (once checkpointed) its receipt."""

    version_id: int
    log_index: int
    document: Mapping[str, Any] = field(compare=False, repr=False)
    digest: bytes = field(repr=False)
    receipt: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def parsed(self) -> DidDocument:
        return DidDocument.from_json(self.document)


@dataclass(frozen=True)
class DidHistory:
    """Every version of one DID, oldest first, each checked against the one before."""

    did: str
    versions: tuple[DidVersion, ...]

    @property
    def latest(self) -> DidVersion:
        return self.versions[-1]

    def key_events(self, vm_id: str) -> tuple[int | None, int | None]:
        """(log index that activated the key, log index that retired it), None where it did not happen."""
        added = retired = None
        for v in self.versions:
            doc = DidDocument.from_json(v.document)
            active = any(vm.id == vm_id and "assertionMethod" in vm.relationships for vm in doc.methods)
            if active and added is None:
                added = v.log_index
            if vm_id in version_info(v.document).retired and retired is None:
                retired = v.log_index
        return added, retired

    def resolver_at(self, leaf_index: int) -> dataintegrity.KeyResolver:
        """Keys with the relationships they had when the leaf `leaf_index` was logged."""
        in_force = [v for v in self.versions if v.log_index < leaf_index]
        if not in_force:
            raise ResolutionError(
                "the DID had no published document before this log entry",
                message_ko="이 로그 항목 이전에 공개된 DID 문서가 없습니다",
            )
        return _resolver(DidDocument.from_json(in_force[-1].document))


def key_valid_at(history: DidHistory, verification_method_id: str, credential_leaf_index: int) -> bool:
    """True when the credential's leaf was logged while the key was active (after its activation,
    before the version that retired it); the proof's own `created` plays no part."""
    added, retired = history.key_events(verification_method_id)
    if added is None or credential_leaf_index <= added:
        return False
    return retired is None or credential_leaf_index < retired


#: checks one version's receipt: (receipt JSON, the signed document, its log index); raises to refuse
ReceiptCheck = Callable[[Mapping[str, Any], dict[str, Any], int], None]


def receipt_checker(
    registry_keys: Verifiers, *, memory: receipts.CheckpointMemory | None
) -> ReceiptCheck:
    """A `ReceiptCheck` that verifies each receipt against the registry's checkpoint keys."""

    def check(data: Mapping[str, Any], document: dict[str, Any], log_index: int) -> None:
        receipt = receipts.Receipt.from_json(dict(data))
        if receipt.index != log_index or receipt.type != "did-document":
            raise RegistryError(
                "the receipt is not for this DID document version",
                message_ko="영수증이 이 DID 문서 버전의 것이 아닙니다",
            )
        receipts.verify_receipt(receipt, document, registry_keys, memory=memory)

    return check


def parse_history(
    data: object, *, did: str | None = None, check_receipt: ReceiptCheck | None = None
) -> DidHistory:
    """Parse and check `GET /issuers/<department>/history`: every version follows the one before,
    log indexes increase, and each present receipt is checked by `check_receipt(receipt, digest,
    log_index)` (raise to refuse); the registry itself is not trusted for any of this."""
    if not isinstance(data, Mapping) or not isinstance(data.get("versions"), list) or not data["versions"]:
        raise _err(
            "a DID history is an object with a non-empty versions list", "DID 이력 형식이 잘못되었습니다"
        )
    history_did = data.get("did")
    if not isinstance(history_did, str) or (did is not None and history_did != did):
        raise _err("the DID history is for another DID", "다른 DID의 이력입니다")
    versions: list[DidVersion] = []
    previous: Mapping[str, Any] | None = None
    for n, item in enumerate(data["versions"], start=1):
        if not isinstance(item, Mapping) or not isinstance(item.get("document"), Mapping):
            raise _err("a history entry needs a document", "이력 항목에 문서가 없습니다")
        log_index = item.get("logIndex")
        if not isinstance(log_index, int) or isinstance(log_index, bool) or log_index < 0:
            raise _err("a history entry needs a logIndex", "이력 항목에 logIndex가 없습니다")
        if versions and log_index <= versions[-1].log_index:
            raise _err(
                "log indexes of DID versions must increase", "DID 버전의 로그 색인이 증가하지 않습니다"
            )
        document = copy.deepcopy(dict(item["document"]))
        try:
            _, info = check_version(document, did=history_did, previous=previous)
        except Error as e:
            raise VerificationError(
                f"DID history version {n}: {e.message}", message_ko=f"DID 이력 {n}번째 버전: {e.message_ko}"
            ) from None
        digest = digest_of(document)
        receipt = item.get("receipt")
        if receipt is not None:
            if not isinstance(receipt, Mapping):
                raise _err("a receipt is a JSON object", "영수증 형식이 잘못되었습니다")
            if check_receipt is not None:
                check_receipt(receipt, document, log_index)
        versions.append(DidVersion(info.version_id, log_index, document, digest, receipt))
        previous = document
    return DidHistory(history_did, tuple(versions))
