"""Verification policies built on the registry: trust list, status lists, log inclusion, key history, chain.

Each policy is an object with `checks(credential, context) -> list[Check]` (the `agents.verify.Policy`
protocol); everything it needs from the outside world (a fetch function, pinned keys, the checkpoint
memory, the receipts that travel with the credential, an EVM anchor) is passed in, so a policy can be
tested with real parts and no globals. A policy never raises for a bad credential: it reports a
failed `Check` whose `fails_as` gives the verdict (revoked, suspended, untrusted issuer, ...).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from . import dataintegrity, didhistory, statuslist
from .checkpoint import Checkpoint, Verifiers
from .did import VerificationMethod
from .errors import Error, RegistryError
from .keys import Ed25519PublicMultikey
from .receipts import (
    CheckpointFetcher,
    ConsistencyFetcher,
    Receipt,
    RegistryView,
    verify_freshness,
    verify_receipt,
)
from .registry_client import verify_trust_list
from .report import Check, Verdict, failed, passed, skipped
from .verify import Credential, VerifyContext, parse_datetime

__all__ = [
    "AnchoredInRegistry",
    "HistoryAwareResolver",
    "KeyValidAtSigning",
    "OnChain",
    "StatusNotRevoked",
    "TrustedIssuers",
    "checkpoint_fetcher",
    "consistency_fetcher",
    "receipts_from_options",
]

FetchJson = Callable[[str], Mapping[str, Any]]
#: the receipt that came with this credential (from a presentation or the request's options), or None
ReceiptLookup = Callable[[Credential, VerifyContext], Receipt | None]
#: the anchored DID history of an issuer DID, or None when that DID has no registry history
HistoryLookup = Callable[[str], didhistory.DidHistory | None]

T_TRUST = ("인증된 서울시 발급기관", "Accredited city issuer")
T_STATUS = ("상태 (폐기·정지)", "Status (revocation, suspension)")
T_LOG = ("등록소 기록 (포함 증명)", "Registry inclusion")
T_KEY = ("서명 시점의 키 유효성", "Key valid at signing time")
T_CHAIN = ("블록체인 앵커", "On-chain anchor")
T_CONS = ("등록소 일관성 (분기 탐지)", "Registry consistency (split view)")


def receipts_from_options(credential: Credential, context: VerifyContext) -> Receipt | None:
    """The receipt for `credential.id` in `context.options["receipts"]` (a JSON object keyed by id)."""
    table = context.options.get("receipts")
    if credential.id is None or not isinstance(table, Mapping):
        return None
    raw = table.get(credential.id)
    if raw is None:
        return None
    if isinstance(raw, Receipt):
        return raw
    return Receipt.from_json(raw)


def _receipt_or_check(
    lookup: ReceiptLookup, c: Credential, ctx: VerifyContext, id_: str, title: tuple[str, str]
) -> Receipt | Check:
    try:
        receipt = lookup(c, ctx)
    except Error as e:
        return failed(id_, *title, f"등록 영수증을 읽을 수 없습니다: {e.diagnostics('ko')}", f"the registry receipt is unusable: {e.diagnostics('en')}", Verdict.MALFORMED)
    if receipt is None:
        return failed(
            id_, *title,
            "등록소 영수증이 함께 제출되지 않아 등록 여부를 확인할 수 없습니다",
            "no registry receipt came with the credential, so its registration cannot be checked",
        )  # fmt: skip
    if receipt.type != "credential":
        return failed(id_, *title, "영수증이 자격증명 항목의 것이 아닙니다", f"the receipt is for a {receipt.type!r} entry, not a credential")
    return receipt


# --- the trust list --------------------------------------------------------------------------------


class TrustedIssuers:
    """The issuer is on the registry's signed trust list (signature checked with the pinned registry key).

    `trust_list` is the list document, or a function fetching the current one (called per check; the
    fetcher's cache keeps that cheap). A list that does not verify fails every credential. Only the
    registry's *current* key: the list is fetched live and re-signed at every key rotation, so a
    retired (possibly leaked) key must not vouch for issuers.
    """

    def __init__(
        self, trust_list: Mapping[str, Any] | Callable[[], Mapping[str, Any]], registry_key: Ed25519PublicMultikey
    ) -> None:
        self._source = trust_list
        self._key = registry_key

    def issuers(self) -> list[dict[str, Any]]:
        """The verified issuer entries; raises `Error` when the list cannot be fetched or verified."""
        doc = self._source() if callable(self._source) else self._source
        return verify_trust_list(doc, self._key)

    def checks(self, credential: Credential, context: VerifyContext) -> list[Check]:
        try:
            issuers = self.issuers()
        except Error as e:
            return [
                failed(
                    "issuer.trusted", *T_TRUST,
                    f"신뢰 목록을 확인할 수 없습니다: {e.diagnostics('ko')}",
                    f"the trust list cannot be checked: {e.diagnostics('en')}",
                    Verdict.UNTRUSTED_ISSUER,
                )
            ]  # fmt: skip
        entry = next((i for i in issuers if i.get("did") == credential.issuer), None)
        if entry is None:
            return [
                failed(
                    "issuer.trusted", *T_TRUST,
                    "발급기관이 서울시 신뢰 목록에 없습니다",
                    f"the issuer {credential.issuer} is not on the city's trust list",
                    Verdict.UNTRUSTED_ISSUER, issuer=credential.issuer,
                )
            ]  # fmt: skip
        raw_name = entry.get("name")
        name: Mapping[str, Any] = raw_name if isinstance(raw_name, Mapping) else {}
        return [
            passed(
                "issuer.trusted", *T_TRUST,
                f"서울시 신뢰 목록에 있는 발급기관입니다: {name.get('ko') or entry.get('department')}",
                f"on the city's trust list: {name.get('en') or entry.get('department')}",
                issuer=credential.issuer, department=entry.get("department"),
            )
        ]  # fmt: skip


# --- status lists ----------------------------------------------------------------------------------

_STATUS_VERDICT = {"revocation": Verdict.REVOKED, "suspension": Verdict.SUSPENDED}
_STATUS_TITLE_KO = {"revocation": "폐기 여부", "suspension": "효력 정지 여부"}
_STATUS_TEXT = {
    "revocation": (("폐기되지 않았습니다", "not revoked"), ("발급기관이 폐기했습니다", "revoked by the issuer")),
    "suspension": (("효력이 정지되지 않았습니다", "not suspended"), ("발급기관이 효력을 정지했습니다", "suspended by the issuer")),
}


class StatusNotRevoked:
    """W3C Bitstring Status List §3.4: fetch each list, check its proof is the issuer's, read the bit.

    `fetch_json(url)` must go through the verifier's `Fetcher` (allow-list, caps, cache); `resolve` is a
    key resolver (an `agents.did.Resolver`) for the list's proof. A set revocation bit fails as
    `Verdict.REVOKED`, a set suspension bit as `Verdict.SUSPENDED`; a list that cannot be fetched or
    verified fails as not valid (status unknown is never "good").
    """

    def __init__(self, fetch_json: FetchJson, resolve: Any) -> None:
        self._fetch = fetch_json
        self._resolve = resolve

    def checks(self, credential: Credential, context: VerifyContext) -> list[Check]:
        if not credential.status:
            return [skipped("status", *T_STATUS, "상태 목록 항목이 없는 자격증명입니다", "the credential has no status entry")]
        out = []
        for n, entry in enumerate(credential.status):
            out.append(self._one(credential, entry, f"status[{n}]", context))
        return out

    def _one(self, c: Credential, entry: Mapping[str, Any], id_: str, ctx: VerifyContext) -> Check:
        try:
            url, index, purpose = statuslist.parse_entry(entry)
        except Error as e:
            return failed(id_, *T_STATUS, e.diagnostics("ko"), e.diagnostics("en"), Verdict.MALFORMED)
        title = (_STATUS_TITLE_KO.get(purpose, f"{T_STATUS[0]}: {purpose}"), f"{T_STATUS[1]}: {purpose}")
        try:
            # 1-4. dereference the list credential through the fetcher
            listed = dict(self._fetch(url))
            # 5. its proof must verify and be the credential issuer's own assertion
            issuer = listed.get("issuer")
            issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
            if issuer_id != c.issuer:
                return failed(id_, *title, "상태 목록의 발급자가 자격증명의 발급자와 다릅니다", "the status list is not issued by the credential's issuer", status_list=url)
            outcomes = dataintegrity.verify_proofs(listed, _key_resolver(self._resolve))
            good = [o for o in outcomes if o.ok and o.proof_purpose == "assertionMethod" and o.controller == c.issuer]
            if not good:
                why = next((o.reason for o in outcomes if o.reason), "no assertionMethod proof by the issuer")
                why_ko = next((o.reason_ko for o in outcomes if o.reason_ko), "발급자의 서명이 없습니다")
                return failed(id_, *title, f"상태 목록의 서명을 검증할 수 없습니다: {why_ko}", f"the status list's proof does not verify: {why}", status_list=url)
            valid_until = listed.get("validUntil")
            if isinstance(valid_until, str):
                if parse_datetime(valid_until, "validUntil") < ctx.at:
                    return failed(id_, *title, "상태 목록의 유효기간이 지났습니다", "the status list credential has expired", status_list=url)
            # 6-12. purpose, size and the bit
            is_set = statuslist.check_status(entry, listed)
        except Error as e:
            return failed(id_, *title, f"상태를 확인할 수 없습니다: {e.diagnostics('ko')}", f"the status cannot be checked: {e.diagnostics('en')}", status_list=url)
        ok_text, bad_text = _STATUS_TEXT.get(purpose, (("설정되지 않았습니다", "not set"), ("설정되었습니다", "set")))
        if is_set:
            return failed(id_, *title, *bad_text, _STATUS_VERDICT.get(purpose, Verdict.INVALID), status_list=url, purpose=purpose)
        return passed(id_, *title, *ok_text, status_list=url, purpose=purpose)


def _key_resolver(resolve: Any) -> dataintegrity.KeyResolver:
    """Accept a KeyResolver or an object with `resolve_method` (agents.did.Resolver)."""
    method = getattr(resolve, "resolve_method", None)
    if method is not None:
        return lambda vm: dataintegrity.resolved_key_from(method(vm))
    return resolve  # type: ignore[no-any-return]


# --- registry inclusion and split view ---------------------------------------------------------------


class AnchoredInRegistry:
    """The credential is in the registry log, checked without asking the city who is being checked.

    `registry.inclusion`: the receipt's inclusion proof holds for the credential's own digest against a
    checkpoint signed by a pinned registry key (offline; `registry_keys` are `Verifiers`, so a retired
    key (`agents.checkpoint.RetiredKey`) counts for checkpoints up to its last size). `registry.consistency`: the receipt's later
    checkpoint (its `freshness`, fetched by the holder; else the receipt's own checkpoint) is verified
    offline against it and related to the verifier's own view of the log (`view`, see
    `agents.receipts.RegistryView`), whose requests name no credential's checkpoint. A fork fails as
    tampered; a checkpoint older than the view and unknown to it is skipped with the reason (checking it
    would name it to the registry) unless the view may reveal (`RegistryView.reveal_older`).
    """

    def __init__(
        self,
        registry_keys: Verifiers,
        view: RegistryView | None,
        receipts: ReceiptLookup = receipts_from_options,
    ) -> None:
        self._keys = dict(registry_keys)
        self._view = view
        self._receipts = receipts

    def checks(self, credential: Credential, context: VerifyContext) -> list[Check]:
        got = _receipt_or_check(self._receipts, credential, context, "registry.inclusion", T_LOG)
        if isinstance(got, Check):
            return [got]
        try:
            cp = verify_receipt(got, credential.raw, self._keys, memory=None)
        except Error as e:
            return [failed("registry.inclusion", *T_LOG, e.diagnostics("ko"), e.diagnostics("en"), Verdict.TAMPERED, index=got.index)]
        out = [
            passed(
                "registry.inclusion", *T_LOG,
                f"등록소 로그 {got.index}번 항목으로 기록되어 있습니다 (서명된 체크포인트 크기 {cp.size})",
                f"logged as entry {got.index}, included in the signed checkpoint of size {cp.size}",
                index=got.index, origin=cp.origin, treeSize=cp.size,
            )
        ]  # fmt: skip
        out.append(self._consistency(got, cp))
        return out

    def _consistency(self, receipt: Receipt, cp: Checkpoint) -> Check:
        # 1. the holder's later checkpoint, offline: signed, same log, consistency proof from `cp`
        try:
            later = verify_freshness(receipt, cp, self._keys)
        except Error as e:
            return failed("registry.consistency", *T_CONS, e.diagnostics("ko"), e.diagnostics("en"), Verdict.TAMPERED)
        if self._view is None:
            return skipped("registry.consistency", *T_CONS, "이전 체크포인트 기록이 설정되지 않았습니다", "no checkpoint memory configured")
        # 2. related to the verifier's own view: no request names this credential's checkpoint
        try:
            related = self._view.relate(later)
        except Error as e:
            return failed("registry.consistency", *T_CONS, e.diagnostics("ko"), e.diagnostics("en"), Verdict.TAMPERED)
        if related:
            return passed(
                "registry.consistency", *T_CONS,
                "검증자가 직접 본 등록소 체크포인트와 일관됩니다 (분기 없음)",
                "consistent with the registry checkpoints this verifier saw itself (no split view)",
                treeSize=later.size, refreshed=receipt.freshness is not None,
            )  # fmt: skip
        if receipt.freshness is None:
            return skipped(
                "registry.consistency", *T_CONS,
                "최신화된 영수증이 아닙니다: 일관성을 확인하려면 등록소에 이 자격증명을 알려야 하므로 확인하지 않았습니다",
                "no fresh receipt: checking consistency would reveal the credential to the registry",
                treeSize=later.size, reason="no-freshness",
            )  # fmt: skip
        return skipped(
            "registry.consistency", *T_CONS,
            "영수증의 최신 체크포인트가 검증자가 본 것보다 오래되었습니다: 확인하려면 등록소에 이 자격증명을 알려야 하므로 확인하지 않았습니다",
            "the receipt's later checkpoint is older than this verifier's view: checking it would reveal the credential to the registry",
            treeSize=later.size, reason="stale-freshness",
        )  # fmt: skip


# --- the key valid at signing time ---------------------------------------------------------------------


class KeyValidAtSigning:
    """Each issuer proof's key was in force when the credential was logged: the credential's leaf index
    (from its verified receipt) comes after the DID version that activated the key and before the one
    that retired it (`agents.didhistory.key_valid_at`); the proof's own `created` plays no part."""

    def __init__(
        self,
        history: HistoryLookup,
        registry_keys: Verifiers,
        receipts: ReceiptLookup = receipts_from_options,
    ) -> None:
        self._history = history
        self._keys = dict(registry_keys)
        self._receipts = receipts

    def checks(self, credential: Credential, context: VerifyContext) -> list[Check]:
        try:
            hist = self._history(credential.issuer)
        except Error as e:
            return [failed("key-history", *T_KEY, f"발급기관의 키 이력을 확인할 수 없습니다: {e.diagnostics('ko')}", f"the issuer's key history cannot be checked: {e.diagnostics('en')}")]
        if hist is None:
            return [skipped("key-history", *T_KEY, "등록소에 키 이력이 없는 발급자입니다", "the issuer has no key history in the registry")]
        got = _receipt_or_check(self._receipts, credential, context, "key-history", T_KEY)
        if isinstance(got, Check):
            return [got]
        try:  # the index is believed only when the receipt proves the document sits there
            verify_receipt(got, credential.raw, self._keys, memory=None)
        except Error as e:
            return [failed("key-history", *T_KEY, f"영수증이 이 자격증명의 것이 아닙니다: {e.diagnostics('ko')}", f"the receipt does not prove this credential's log position: {e.diagnostics('en')}", Verdict.TAMPERED)]
        proofs = [p for p in context.proofs if p.verification_method.split("#", 1)[0] == hist.did]
        if not proofs:
            return [failed("key-history", *T_KEY, "발급기관 키로 된 서명이 없습니다", "no proof by a key of the issuer")]
        bad = [p.verification_method for p in proofs if not didhistory.key_valid_at(hist, p.verification_method, got.index)]
        if bad:
            return [
                failed(
                    "key-history", *T_KEY,
                    "서명한 키가 이 자격증명이 등록될 때 유효하지 않았습니다 (교체·폐기된 키)",
                    f"the key {bad[0]} was not in force when the credential was logged (rotated out or not yet added)",
                    Verdict.INVALID, keys=bad, index=got.index,
                )
            ]  # fmt: skip
        return [
            passed(
                "key-history", *T_KEY,
                "서명한 키는 자격증명이 등록될 때 발급기관의 유효한 키였습니다",
                "the signing key was the issuer's key in force when the credential was logged",
                index=got.index, keys=[p.verification_method for p in proofs],
            )
        ]  # fmt: skip


class HistoryAwareResolver:
    """A key resolver that still finds a rotated-out key of a registry DID, with the relationships it had
    while in force. Only sound together with `KeyValidAtSigning`, which then decides by log position."""

    def __init__(self, resolver: Any, history: HistoryLookup) -> None:
        self._resolver = resolver
        self._history = history

    def resolve_method(self, vm_id: str) -> VerificationMethod:
        vm: VerificationMethod = self._resolver.resolve_method(vm_id)
        if vm.relationships or not vm_id.startswith("did:web:"):
            return vm
        hist = self._history(vm_id.split("#", 1)[0])
        if hist is None:
            return vm
        for version in reversed(hist.versions):
            try:
                was = version.parsed.method(vm_id)
            except Error:
                continue
            if was.relationships:
                return replace(vm, relationships=was.relationships)
        return vm


class CachedHistories:
    """`HistoryLookup` over the registry: `/issuers/<dept>/history` of registry-hosted did:web DIDs,
    each version's receipt checked, cached for `ttl` seconds (per DID)."""

    def __init__(
        self,
        fetch_json: FetchJson,
        registry_base: str,
        registry_keys: Verifiers,
        *,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch_json
        self._prefix = didhistory.department_did(registry_base, "x")[: -len("x")]
        self._base = registry_base.rstrip("/")
        self._checker = didhistory.receipt_checker(registry_keys, memory=None)
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, didhistory.DidHistory]] = {}
        self._lock = threading.Lock()

    def __call__(self, did: str) -> didhistory.DidHistory | None:
        if not did.startswith(self._prefix):
            return None
        department = did[len(self._prefix) :]
        now = self._clock()
        with self._lock:
            hit = self._cache.get(did)
            if hit and hit[0] > now:
                return hit[1]
        data = self._fetch(f"{self._base}/issuers/{department}/history")
        hist = didhistory.parse_history(data, did=did, check_receipt=self._checker)
        with self._lock:
            self._cache[did] = (now + self._ttl, hist)
        return hist


# --- the EVM chain -------------------------------------------------------------------------------------


class Anchor(Protocol):
    def verify_checkpoint_on_chain(self, origin: str, tree_size: int, root: bytes) -> None: ...


@dataclass(frozen=True)
class OnChain:
    """The checkpoint of the credential's receipt is anchored on the EVM chain (when one is configured)."""

    anchor: Anchor | None
    registry_keys: Verifiers
    receipts: ReceiptLookup = receipts_from_options

    def checks(self, credential: Credential, context: VerifyContext) -> list[Check]:
        if self.anchor is None:
            return [skipped("registry.chain", *T_CHAIN, "블록체인 앵커링이 설정되지 않았습니다", "EVM anchoring is not configured")]
        got = _receipt_or_check(self.receipts, credential, context, "registry.chain", T_CHAIN)
        if isinstance(got, Check):
            return [got]
        try:
            cp: Checkpoint = verify_receipt(got, credential.raw, dict(self.registry_keys), memory=None)
            self.anchor.verify_checkpoint_on_chain(cp.origin, cp.size, cp.root)
        except Error as e:
            return [failed("registry.chain", *T_CHAIN, e.diagnostics("ko"), e.diagnostics("en"), Verdict.TAMPERED)]
        return [passed("registry.chain", *T_CHAIN, "체크포인트가 블록체인에 기록된 값과 같습니다", "the checkpoint root matches the root anchored on chain", treeSize=cp.size)]


def consistency_fetcher(fetch_json: FetchJson, origins: Mapping[str, str]) -> ConsistencyFetcher:
    """Consistency proofs from `GET <registry>/log/proof/consistency` for the logs in `origins`
    (origin -> registry base URL)."""
    from .multibase import b64url_decode

    def fetch(origin: str, first: int, second: int) -> Sequence[bytes]:
        base = origins.get(origin)
        if base is None:
            raise RegistryError(f"unknown log {origin!r}", message_ko="알 수 없는 등록소 로그입니다")
        data = fetch_json(f"{base.rstrip('/')}/log/proof/consistency?first={first}&second={second}")
        proof = data.get("consistencyProof")
        if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
            raise RegistryError("malformed consistency proof", message_ko="일관성 증명 형식이 잘못되었습니다")
        return [b64url_decode(p) for p in proof]

    return fetch


def checkpoint_fetcher(fetch_text: Callable[[str], str], origins: Mapping[str, str]) -> CheckpointFetcher:
    """The latest signed checkpoint from `GET <registry>/log/checkpoint` (no parameter: it names nothing)
    for the logs in `origins` (origin -> registry base URL)."""

    def fetch(origin: str) -> str:
        base = origins.get(origin)
        if base is None:
            raise RegistryError(f"unknown log {origin!r}", message_ko="알 수 없는 등록소 로그입니다")
        return fetch_text(f"{base.rstrip('/')}/log/checkpoint")

    return fetch
