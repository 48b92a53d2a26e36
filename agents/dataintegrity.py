"""W3C Data Integrity proofs: eddsa-rdfc-2022, eddsa-jcs-2022 and Ed25519Signature2020.

Proof sets and proof chains follow W3C VC Data Integrity 1.0 §4.2 (add) and §4.4 (verify): a proof
without `previousProof` covers the document without any proof; a proof with `previousProof` covers
the document together with exactly the proofs it names. The steps below are numbered after
W3C vc-di-eddsa 1.0 §3.3 (eddsa-rdfc-2022), §3.4 (eddsa-jcs-2022) and the Ed25519Signature2020
suite, which all hash the canonical proof configuration and the canonical document with SHA-256
and sign the concatenation `hash(proofConfig) || hash(document)` with Ed25519.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import jcs, loader, multibase
from .errors import DroppedProperty, Error, InvalidCredential, ResourceLimit, UnknownContext
from .keys import Ed25519PublicMultikey, Signer

DATA_INTEGRITY = "DataIntegrityProof"
ED25519_2020 = "Ed25519Signature2020"
RDFC = "eddsa-rdfc-2022"
JCS = "eddsa-jcs-2022"
SUITES = (RDFC, JCS, ED25519_2020)
ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
DI_CONTEXT = "https://w3id.org/security/data-integrity/v2"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_PROOF_OPTION_KEYS = {
    "id", "type", "cryptosuite", "created", "expires", "verificationMethod", "proofPurpose",
    "previousProof", "challenge", "domain", "nonce", "@context",
}  # fmt: skip


# --- what a verification method lookup returns -----------------------------------------------------


@dataclass(frozen=True)
class ResolvedKey:
    """A verification method as Data Integrity needs it: its key and the purposes it may serve."""

    id: str
    controller: str
    public_key: Ed25519PublicMultikey
    purposes: frozenset[str]


KeyResolver = Callable[[str], ResolvedKey]


def resolved_key_from(vm: Any) -> ResolvedKey:
    """Adapt an agents.did.VerificationMethod (or anything shaped like it)."""
    purposes = getattr(vm, "relationships", None) or getattr(vm, "purposes", None) or ()
    return ResolvedKey(vm.id, vm.controller, vm.public_key, frozenset(purposes))


def key_resolver(resolve: Any) -> KeyResolver:
    """The one adapter: a `KeyResolver` as it is, or an `agents.did.Resolver` (its `resolve_method`,
    which remembers did:key methods itself)."""
    method = getattr(resolve, "resolve_method", None)
    if method is None:
        return resolve  # type: ignore[no-any-return]
    return lambda vm: resolved_key_from(method(vm))


def _copy_json(value: Any) -> Any:
    """Copy a JSON value (dicts, lists, scalars): 4x faster than copy.deepcopy, which needs a memo."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


# --- the suites ------------------------------------------------------------------------------------


def _contexts(document: Mapping[str, Any]) -> list[Any]:
    ctx = document.get("@context")
    if ctx is None:
        return []
    return list(ctx) if isinstance(ctx, list) else [ctx]


def canonical_forms(proof_config: dict[str, Any], unsecured: dict[str, Any], suite: str) -> tuple[bytes, bytes]:
    """(canonical proof configuration, canonical document) as the suite defines them."""
    if suite == JCS:
        # 3.4.3 Transformation (JCS) of the document, 3.4.5 proof configuration: JCS keeps @context
        return jcs.canonicalize(proof_config), jcs.canonicalize(unsecured)
    # 3.3.3 Transformation (RDFC-1.0); 3.3.5 proof configuration canonicalised with the
    # document's @context, which then is not part of the quads
    return loader.canonize(proof_config).encode("utf-8"), loader.canonize(unsecured).encode("utf-8")


def _hash_data(proof_config: dict[str, Any], unsecured: dict[str, Any], suite: str) -> bytes:
    """3.3.4 Hashing: SHA-256(canonical proof configuration) || SHA-256(canonical document)."""
    canon_proof, canon_doc = canonical_forms(proof_config, unsecured, suite)
    return hashlib.sha256(canon_proof).digest() + hashlib.sha256(canon_doc).digest()


def proof_configuration(proof: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """The proof configuration a proof was (or will be) made over, for known-answer tests."""
    return _proof_config(proof, document, _suite_of(proof))


def _suite_of(proof: Mapping[str, Any]) -> str:
    ptype = proof.get("type")
    if ptype == DATA_INTEGRITY:
        suite = proof.get("cryptosuite")
        if suite in (RDFC, JCS):
            return str(suite)
        raise InvalidCredential(
            f"unsupported cryptosuite {suite!r}", message_ko=f"지원하지 않는 암호 스위트입니다: {suite}"
        )
    if ptype == ED25519_2020:
        return ED25519_2020
    raise InvalidCredential(f"unsupported proof type {ptype!r}", message_ko=f"지원하지 않는 증명 유형입니다: {ptype}")


def _proof_config(proof: Mapping[str, Any], document: Mapping[str, Any], suite: str) -> dict[str, Any]:
    """The proof options without the proof value, with the @context each suite hashes."""
    config = {k: _copy_json(v) for k, v in proof.items() if k != "proofValue"}
    if suite == JCS:
        if "@context" in config:
            return config
        return config | ({"@context": document["@context"]} if "@context" in document else {})
    if suite == ED25519_2020 and ED25519_2020_CONTEXT in _contexts(proof):
        return config  # the proof carries its own context (DIDKit/ssi form): it was hashed with it
    config.pop("@context", None)
    if "@context" in document:
        config["@context"] = _copy_json(document["@context"])
    return config


def _proofs(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    proof = document.get("proof")
    if proof is None:
        return []
    proofs = proof if isinstance(proof, list) else [proof]
    if not all(isinstance(p, dict) for p in proofs):
        raise InvalidCredential("every proof must be a JSON object", message_ko="증명은 JSON 객체여야 합니다")
    for p in proofs:
        # a proof id names it in a chain (previousProof): one URL, never a list or an object
        if "id" in p and (type(p["id"]) is not str or not p["id"]):
            raise InvalidCredential(
                "a proof id must be one URL (a string), not a list or an object",
                message_ko="증명의 id는 하나의 URL(문자열)이어야 합니다",
            )
    return [dict(p) for p in proofs]


def _previous_ids(proof: Mapping[str, Any]) -> list[str]:
    prev = proof.get("previousProof")
    if prev is None:
        return []
    ids = prev if isinstance(prev, list) else [prev]
    if not ids or not all(isinstance(i, str) and i for i in ids):
        raise InvalidCredential(
            "previousProof must be a proof id or a list of proof ids",
            message_ko="previousProof는 증명 id 또는 그 목록이어야 합니다",
        )
    return list(ids)


def _unsecured_for(document: Mapping[str, Any], proof: Mapping[str, Any], all_proofs: list[dict[str, Any]]) -> dict[str, Any]:
    """Data Integrity §4.2/§4.4: the document a proof covers (with the proofs it chains to)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    prev = _previous_ids(proof)
    if prev:
        by_id = {p.get("id"): p for p in all_proofs if p.get("id")}
        missing = [i for i in prev if i not in by_id]
        if missing:
            raise ChainError(
                f"previousProof names a proof that is not in the document: {', '.join(missing)}",
                message_ko="previousProof가 가리키는 증명이 문서에 없습니다",
            )
        matching = [by_id[i] for i in prev]
        unsecured["proof"] = matching[0] if len(matching) == 1 else matching
    return unsecured


class ChainError(InvalidCredential):
    """A proof chain that is broken or out of order."""

    code = "proof-chain"


# --- add a proof -----------------------------------------------------------------------------------


def now_iso(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(
    document: Mapping[str, Any],
    signer: Signer,
    *,
    cryptosuite: str = RDFC,
    options: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Return a copy of `document` with one more proof (a proof set, or a chain with previousProof)."""
    if cryptosuite not in SUITES:
        raise InvalidCredential(f"unsupported cryptosuite {cryptosuite!r}", message_ko="지원하지 않는 암호 스위트입니다")
    if not isinstance(document, Mapping):
        raise InvalidCredential("a credential is a JSON object", message_ko="자격증명은 JSON 객체여야 합니다")
    opts = dict(options or {})
    unknown = set(opts) - _PROOF_OPTION_KEYS
    if unknown:
        raise InvalidCredential(
            f"unknown proof options: {', '.join(sorted(unknown))}", message_ko="알 수 없는 증명 옵션이 있습니다"
        )
    doc: dict[str, Any] = _copy_json(dict(document))
    existing = _proofs(doc)
    # Ed25519Signature2020 terms live in their own context, added to the document as the suite says
    if cryptosuite == ED25519_2020:
        ctx = _contexts(doc)
        if ED25519_2020_CONTEXT not in ctx:
            if existing:
                raise InvalidCredential(
                    "cannot add an Ed25519Signature2020 proof: the suite context would change the signed document",
                    message_ko="Ed25519Signature2020 컨텍스트가 없어 기존 서명을 유지한 채 추가할 수 없습니다",
                )
            doc["@context"] = ctx + [ED25519_2020_CONTEXT]
    # 1. proof options -> proof configuration (type, cryptosuite, created, method, purpose, ...)
    proof: dict[str, Any] = {}
    if "id" in opts:
        proof["id"] = opts["id"]
    proof["type"] = ED25519_2020 if cryptosuite == ED25519_2020 else DATA_INTEGRITY
    if cryptosuite != ED25519_2020:
        proof["cryptosuite"] = cryptosuite
    proof["created"] = opts.get("created") or now_iso(at)
    proof["verificationMethod"] = opts.get("verificationMethod") or signer.verification_method
    proof["proofPurpose"] = opts.get("proofPurpose") or "assertionMethod"
    for k in ("expires", "challenge", "domain", "nonce", "previousProof"):
        if k in opts:
            proof[k] = opts[k]
    if cryptosuite == JCS and "@context" in doc:
        proof["@context"] = _copy_json(opts.get("@context", doc["@context"]))
    _check_proof_shape(proof)
    if existing and any(p.get("id") == proof.get("id") for p in existing if "id" in proof):
        raise ChainError("a proof with this id already exists", message_ko="같은 id의 증명이 이미 있습니다")
    # 2. the document this proof covers: without proofs, or with the ones it chains to
    unsecured = _unsecured_for(doc, proof, existing)
    # 3. canonicalise and hash proof configuration and document; 4. sign
    config = _proof_config(proof, unsecured, cryptosuite)
    signature = signer.sign(_hash_data(config, unsecured, cryptosuite))
    proof["proofValue"] = multibase.encode(signature, "z")
    all_proofs = existing + [proof]
    doc["proof"] = all_proofs[0] if len(all_proofs) == 1 else all_proofs
    return doc


def _check_proof_shape(proof: Mapping[str, Any]) -> None:
    for key in ("created", "expires"):
        value = proof.get(key)
        if value is not None and (not isinstance(value, str) or not _DATETIME.match(value)):
            raise InvalidCredential(
                f"proof {key} must be an XML Schema dateTime", message_ko=f"증명의 {key} 값 형식이 잘못되었습니다"
            )
    for key in ("verificationMethod", "proofPurpose"):
        if not isinstance(proof.get(key), str) or not proof[key]:
            raise InvalidCredential(f"proof {key} is required", message_ko=f"증명에 {key} 값이 없습니다")


# --- verify proofs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofOutcome:
    """What verifying one proof found; `ok` only when the signature, key and purpose all hold."""

    index: int
    id: str | None
    type: str
    cryptosuite: str | None
    verification_method: str
    controller: str | None
    proof_purpose: str
    created: str | None
    previous: tuple[str, ...]
    ok: bool
    signature_ok: bool
    purpose_ok: bool
    reason: str = ""
    reason_ko: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {
            "index": self.index,
            "id": self.id,
            "type": self.type,
            "cryptosuite": self.cryptosuite,
            "verificationMethod": self.verification_method,
            "controller": self.controller,
            "proofPurpose": self.proof_purpose,
            "created": self.created,
            "previousProof": list(self.previous),
            "verified": self.ok,
            # the three things a proof needs, each on its own (STYLE: every outcome in the report)
            "keyResolved": self.controller is not None,
            "signatureVerified": self.signature_ok,
            "purposeAuthorised": self.purpose_ok,
        }
        if self.reason:
            out["reason"] = self.reason
        return out


def check_chain(document: Mapping[str, Any]) -> None:
    """Every previousProof names a proof in the set, never itself, with no cycle."""
    proof = document.get("proof")
    if isinstance(proof, dict) and "previousProof" not in proof:
        return  # one proof chaining to nothing: nothing to check
    proofs = _proofs(document)
    ids = [p.get("id") for p in proofs]
    if len([i for i in ids if i]) != len({i for i in ids if i}):
        raise ChainError("two proofs share an id", message_ko="두 증명의 id가 같습니다")
    graph: dict[str, list[str]] = {str(p["id"]): _previous_ids(p) for p in proofs if p.get("id")}
    for p in proofs:
        for prev in _previous_ids(p):
            if prev not in graph:
                raise ChainError(
                    f"proof chain out of order: previousProof {prev!r} is not in the proof set",
                    message_ko="증명 체인 순서가 잘못되었습니다: 앞선 증명을 찾을 수 없습니다",
                )
            if prev == p.get("id"):
                raise ChainError("a proof cannot chain to itself", message_ko="증명이 자기 자신을 가리킵니다")
    # cycle check (depth-first)
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        if state.get(node) == 1:
            raise ChainError("the proof chain has a cycle", message_ko="증명 체인이 순환합니다")
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in graph.get(node, []):
            visit(nxt)
        state[node] = 2

    for node in graph:
        visit(node)


def verify_proofs(
    document: Mapping[str, Any],
    resolve: KeyResolver,
    *,
    expected_challenge: str | None = None,
    expected_domain: str | None = None,
) -> list[ProofOutcome]:
    """Verify every proof in the document's proof set (each against what it covers)."""
    proofs = _proofs(document)
    if not proofs:
        raise InvalidCredential("the document has no proof", message_ko="문서에 서명(증명)이 없습니다")
    outcomes = []
    for i, proof in enumerate(proofs):
        outcomes.append(_verify_one(document, proof, proofs, i, resolve, expected_challenge, expected_domain))
    return outcomes


def _verify_one(
    document: Mapping[str, Any],
    proof: dict[str, Any],
    all_proofs: list[dict[str, Any]],
    index: int,
    resolve: KeyResolver,
    expected_challenge: str | None,
    expected_domain: str | None,
) -> ProofOutcome:
    base: dict[str, Any] = dict(
        index=index,
        id=proof.get("id") if isinstance(proof.get("id"), str) else None,
        type=str(proof.get("type")),
        cryptosuite=proof.get("cryptosuite") if isinstance(proof.get("cryptosuite"), str) else None,
        verification_method=str(proof.get("verificationMethod", "")),
        proof_purpose=str(proof.get("proofPurpose", "")),
        created=proof.get("created") if isinstance(proof.get("created"), str) else None,
    )

    def fail(reason: str, reason_ko: str, **kw: Any) -> ProofOutcome:
        fields: dict[str, Any] = dict(base, controller=None, previous=(), ok=False, signature_ok=False, purpose_ok=False)
        fields.update(kw)
        return ProofOutcome(**fields, reason=reason, reason_ko=reason_ko)

    try:
        suite = _suite_of(proof)
        _check_proof_shape(proof)
        previous = tuple(_previous_ids(proof))
        value = proof.get("proofValue")
        if not isinstance(value, str) or not value.startswith("z"):
            return fail("proofValue is missing or not base58btc multibase", "proofValue 값이 없거나 형식이 잘못되었습니다")
        signature = multibase.decode(value)
        if len(signature) != 64:
            return fail("the signature is not 64 bytes", "서명 길이가 잘못되었습니다")
        if suite == JCS and "@context" in proof:
            # vc-di-eddsa 3.4.2 step: the document's @context must start with the proof's
            pctx, dctx = _contexts(proof), _contexts(document)
            if dctx[: len(pctx)] != pctx:
                return fail("the proof @context does not match the document", "증명의 @context가 문서와 맞지 않습니다")
        if suite == ED25519_2020 and ED25519_2020_CONTEXT not in _contexts(document) + _contexts(proof):
            return fail("Ed25519Signature2020 needs its suite context", "Ed25519Signature2020 컨텍스트가 없습니다")
        unsecured = _unsecured_for(document, proof, all_proofs)
        try:
            key = resolve(base["verification_method"])
        except Error as e:
            return fail(f"key not resolved: {e.diagnostics('en')}", f"키를 찾을 수 없습니다: {e.diagnostics('ko')}", previous=previous, extra={"error": e.code})
        config = _proof_config(proof, unsecured, suite)
        signature_ok = key.public_key.verify(signature, _hash_data(config, unsecured, suite))
        purpose_ok = base["proof_purpose"] in key.purposes
        reason = reason_ko = ""
        if not signature_ok:
            reason, reason_ko = "the signature does not match the document", "서명이 문서와 일치하지 않습니다 (위·변조)"
        elif not purpose_ok:
            reason = f"the key is not authorised for {base['proof_purpose']}"
            reason_ko = f"이 키는 {base['proof_purpose']} 용도로 등록되어 있지 않습니다"
        if signature_ok and base["proof_purpose"] == "authentication":
            if expected_challenge is not None and proof.get("challenge") != expected_challenge:
                purpose_ok, reason = False, "the challenge does not match the request (replay?)"
                reason_ko = "challenge 값이 요청과 다릅니다 (재전송 의심)"
            elif expected_domain is not None and proof.get("domain") != expected_domain:
                purpose_ok, reason = False, "the domain does not match this verifier"
                reason_ko = "domain 값이 이 검증자와 다릅니다"
        return ProofOutcome(
            **base,
            controller=key.controller,
            previous=previous,
            ok=signature_ok and purpose_ok,
            signature_ok=signature_ok,
            purpose_ok=purpose_ok,
            reason=reason,
            reason_ko=reason_ko,
        )
    except (UnknownContext, DroppedProperty, ResourceLimit):
        raise  # unusable input, not a verdict: the caller answers 4xx / exit 2
    except Error as e:
        return fail(e.diagnostics("en"), e.diagnostics("ko"), extra={"error": e.code, "malformed": True})


def proof_ids(document: Mapping[str, Any]) -> Iterable[str]:
    return [p["id"] for p in _proofs(document) if isinstance(p.get("id"), str)]
