"""Verification policies built on the registry: trust list, status lists, log inclusion, key history, chain.

Each policy is an object with `checks(credential, context) -> list[Check]` (the `agents.verify.Policy`
protocol); everything it needs from the outside world (a fetch function, pinned keys, the checkpoint
memory, the receipts that travel with the credential, an EVM anchor) is passed in, so a policy can be
tested with real parts and no globals. A policy never raises for a bad credential: it reports a
failed `Check` whose `fails_as` gives the verdict (revoked, suspended, untrusted issuer, ...).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from . import dataintegrity, didhistory, merkle, statuslist
from .checkpoint import Checkpoint, Verifiers
from .did import VerificationMethod
from .document import Credential, parse_datetime
from .errors import Error, FetchError, RegistryError, Unavailable
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
from .report import Check, Verdict, failed, passed, skipped, unconfirmed
from .verify import VerifyContext

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
T_ANCHOR = ("블록체인 앵커", "On-chain anchor")
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


@dataclass(frozen=True)
class _ReceiptFound:
    """What reading and verifying a credential's receipt found, shared by every registry policy."""

    receipt: Receipt | None = None
    checkpoint: Checkpoint | None = None
    unusable: Error | None = None  # the receipt could not be read, or is for another kind of entry
    not_proven: Error | None = None  # it does not prove this document against a pinned checkpoint


def _receipt(lookup: ReceiptLookup, keys: Verifiers, c: Credential, ctx: VerifyContext) -> _ReceiptFound:
    """The credential's receipt, read and verified once per credential (the first policy asking does the
    work; inclusion, key history and the chain anchor share it)."""
    key = ("receipt", lookup, tuple(sorted(keys)))
    found: _ReceiptFound | None = ctx.memo.get(key)
    if found is None:
        found = _read_receipt(lookup, keys, c, ctx)
        ctx.memo[key] = found
    return found


def _read_receipt(lookup: ReceiptLookup, keys: Verifiers, c: Credential, ctx: VerifyContext) -> _ReceiptFound:
    try:
        receipt = lookup(c, ctx)
    except Error as e:
        return _ReceiptFound(unusable=e)
    if receipt is None:
        return _ReceiptFound()
    if receipt.type != "credential":
        return _ReceiptFound(receipt, unusable=RegistryError(
            f"the receipt is for a {receipt.type!r} entry, not a credential", message_ko="영수증이 자격증명 항목의 것이 아닙니다",
        ))  # fmt: skip
    try:
        return _ReceiptFound(receipt, verify_receipt(receipt, c.raw, keys, memory=None))
    except Error as e:
        return _ReceiptFound(receipt, not_proven=e)


_NO_RECEIPT = (
    "등록소 영수증이 함께 오지 않아 서울시 등록소에 등록된 자격증명인지 확인하지 못했습니다. "
    "근로자에게 경력증명서 PDF나 QR 코드로 다시 보내 달라고 하세요 (영수증이 들어 있습니다)",
    "No registry receipt came with the credential, so we could not confirm it is registered with the city. "
    "Ask the worker to send the certificate PDF or its QR code instead (they carry the receipt).",
)
_NO_RECEIPT_DETAIL = ("workcredReceipts 또는 options.receipts에 이 자격증명 id의 영수증이 없습니다",
                      "no receipt for this credential id in workcredReceipts or options.receipts")  # fmt: skip


def _receipt_problem(found: _ReceiptFound, id_: str, title: tuple[str, str], *, first: bool) -> Check | None:
    """The check for a receipt that is missing or unusable (None when it is there and readable).

    A missing receipt is amber on the inclusion check (`first`) and a plain skip on the others, so the
    verdict page gives the reason once."""
    if found.unusable is not None:
        e = found.unusable
        return failed(id_, *title, "함께 온 등록소 영수증을 읽을 수 없습니다", "the registry receipt that came with the credential cannot be read",
                      Verdict.MALFORMED, detail=(e.diagnostics("ko"), e.diagnostics("en")))  # fmt: skip
    if found.receipt is None:
        if first:
            return unconfirmed(id_, *title, *_NO_RECEIPT, detail=_NO_RECEIPT_DETAIL)
        return skipped(id_, *title, "등록소 영수증이 없어 확인하지 않았습니다 (등록소 기록 항목 참고)", "not checked: no registry receipt (see registry inclusion)")
    return None


def _unreachable(e: Error) -> bool:
    """The registry or a list could not be reached or read (not a verdict on the credential)."""
    return isinstance(e, FetchError | Unavailable)


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
        self._verified: tuple[bytes, list[dict[str, Any]]] | None = None  # (digest, entries) of the last good list

    def issuers(self) -> list[dict[str, Any]]:
        """The verified issuer entries; raises `Error` when the list cannot be fetched or verified.

        The list's signature is verified once per version: until its digest changes, the entries are reused."""
        doc = self._source() if callable(self._source) else self._source
        digest = merkle.document_digest(dict(doc))
        known = self._verified
        if known is not None and hmac.compare_digest(known[0], digest):
            return known[1]
        entries = verify_trust_list(doc, self._key)
        self._verified = (digest, entries)
        return entries

    def checks(self, credential: Credential, context: VerifyContext) -> list[Check]:
        try:
            issuers = self.issuers()
        except Error as e:
            detail = (e.diagnostics("ko"), e.diagnostics("en"))
            if _unreachable(e):
                return [unconfirmed(
                    "issuer.trusted", *T_TRUST,
                    "서울시 등록소에 연결하지 못해 인증된 발급기관인지 확인하지 못했습니다. 잠시 후 다시 확인하세요",
                    "The city registry could not be reached, so we could not confirm the issuer is accredited. Try again later.",
                    detail=detail,
                )]  # fmt: skip
            return [failed(
                "issuer.trusted", *T_TRUST,
                "서울시 신뢰 목록의 서명이 올바르지 않아 발급기관을 인정할 수 없습니다",
                "the city's trust list does not verify, so no issuer can be accepted",
                Verdict.UNTRUSTED_ISSUER, detail=detail,
            )]  # fmt: skip
        entry = next((i for i in issuers if i.get("did") == credential.issuer), None)
        if entry is None:
            return [
                failed(
                    "issuer.trusted", *T_TRUST,
                    "발급기관이 서울시 신뢰 목록에 없습니다",
                    "the issuer is not on the city's list of accredited issuers",
                    Verdict.UNTRUSTED_ISSUER, detail=(f"발급기관 DID: {credential.issuer}", f"issuer DID: {credential.issuer}"),
                    issuer=credential.issuer,
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
        # (list digest, issuer) -> why its proof does not verify (None: it does); a list is verified once per version
        self._proofs: dict[tuple[bytes, str], tuple[str, str] | None] = {}
        self._lock = threading.Lock()

    def _list_proof(self, listed: dict[str, Any], issuer: str) -> tuple[str, str] | None:
        """None when the list carries a good assertion proof by `issuer`, else why not (en, ko); cached by digest."""
        key = (merkle.document_digest(listed), issuer)
        with self._lock:
            if key in self._proofs:
                return self._proofs[key]
        outcomes = dataintegrity.verify_proofs(listed, _key_resolver(self._resolve))
        good = [o for o in outcomes if o.ok and o.proof_purpose == "assertionMethod" and o.controller == issuer]
        why = None
        if not good:
            why = (next((o.reason for o in outcomes if o.reason), "no assertionMethod proof by the issuer"),
                   next((o.reason_ko for o in outcomes if o.reason_ko), "발급자의 서명이 없습니다"))  # fmt: skip
        with self._lock:
            if len(self._proofs) >= 1024:
                self._proofs.clear()
            self._proofs[key] = why
        return why

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
            bad = self._list_proof(listed, c.issuer)
            if bad is not None:
                return failed(id_, *title, "상태 목록에 발급기관의 올바른 서명이 없어 폐기·정지 여부를 알 수 없습니다",
                              "the status list's signature does not verify as the issuer's, so the status is unknown",
                              detail=(f"상태 목록의 서명을 검증할 수 없습니다: {bad[1]}", f"the status list's proof does not verify: {bad[0]}"), status_list=url)  # fmt: skip
            valid_until = listed.get("validUntil")
            if isinstance(valid_until, str):
                if parse_datetime(valid_until, "validUntil") < ctx.at:
                    return failed(id_, *title, "상태 목록의 유효기간이 지났습니다", "the status list credential has expired", status_list=url)
            # 6-12. purpose, size and the bit
            is_set = statuslist.check_status(entry, listed)
        except Error as e:
            detail = (e.diagnostics("ko"), e.diagnostics("en"))
            if _unreachable(e):
                return unconfirmed(id_, *title, "상태 목록을 가져오지 못해 폐기·정지 여부를 확인하지 못했습니다. 잠시 후 다시 확인하세요",
                                   "The status list could not be fetched, so we could not confirm it is not revoked or suspended. Try again later.",
                                   detail=detail, status_list=url)  # fmt: skip
            return failed(id_, *title, "상태 목록이 올바르지 않아 폐기·정지 여부를 알 수 없습니다", "the status list is not usable, so the status is unknown",
                          detail=detail, status_list=url)  # fmt: skip
        ok_text, bad_text = _STATUS_TEXT.get(purpose, (("설정되지 않았습니다", "not set"), ("설정되었습니다", "set")))
        if is_set:
            return failed(id_, *title, *bad_text, _STATUS_VERDICT.get(purpose, Verdict.INVALID), status_list=url, purpose=purpose)
        return passed(id_, *title, *ok_text, status_list=url, purpose=purpose)


_key_resolver = dataintegrity.key_resolver


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
        found = _receipt(self._receipts, self._keys, credential, context)
        problem = _receipt_problem(found, "registry.inclusion", T_LOG, first=True)
        if problem is not None:
            return [problem]
        got = found.receipt
        assert got is not None
        if found.not_proven is not None or found.checkpoint is None:
            why = found.not_proven or RegistryError("no checkpoint")
            if why.message.startswith("the document is not the one logged"):
                plain = ("등록소에 기록된 문서와 다릅니다 (등록 후 바뀌었거나 영수증이 다른 문서의 것입니다)",
                         "this is not the document the registry logged (changed after registration, or the receipt is for another document)")  # fmt: skip
            else:  # the receipt's checkpoint itself does not hold (its key, its log): its own words name the case
                plain = (why.diagnostics("ko"), why.diagnostics("en"))
            return [failed(
                "registry.inclusion", *T_LOG, *plain, Verdict.TAMPERED,
                detail=(why.diagnostics("ko"), why.diagnostics("en")), index=got.index,
            )]  # fmt: skip
        cp = found.checkpoint
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
            detail = (e.diagnostics("ko"), e.diagnostics("en"))
            if _unreachable(e):
                return unconfirmed("registry.consistency", *T_CONS, "등록소에 연결하지 못해 등록소 기록이 일관된지 확인하지 못했습니다. 잠시 후 다시 확인하세요",
                                   "The registry could not be reached, so we could not confirm its log is consistent. Try again later.", detail=detail)  # fmt: skip
            if e.message.startswith("fork detected"):
                return failed("registry.consistency", *T_CONS, "등록소가 검증자마다 다른 기록을 보여 주고 있습니다 (분기)", "the registry shows different histories to different verifiers (a fork)",
                              Verdict.TAMPERED, detail=detail)  # fmt: skip
            # the registry's own checkpoint does not hold (e.g. signed only by a retired key): its words name the case
            return failed("registry.consistency", *T_CONS, *detail, Verdict.TAMPERED, detail=detail)
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
            detail = (e.diagnostics("ko"), e.diagnostics("en"))
            if _unreachable(e):
                return [unconfirmed(
                    "key-history", *T_KEY,
                    "등록소에 연결하지 못해 서명한 키가 그때 유효했는지 확인하지 못했습니다. 잠시 후 다시 확인하세요",
                    "The registry could not be reached, so we could not confirm the signing key was in force. Try again later.",
                    detail=detail,
                )]  # fmt: skip
            return [failed("key-history", *T_KEY, "발급기관의 키 이력이 올바르지 않습니다", "the issuer's key history in the registry does not verify", detail=detail)]
        if hist is None:
            return [skipped("key-history", *T_KEY, "등록소에 키 이력이 없는 발급자입니다", "the issuer has no key history in the registry")]
        found = _receipt(self._receipts, self._keys, credential, context)
        problem = _receipt_problem(found, "key-history", T_KEY, first=False)
        if problem is not None:
            return [problem]
        got = found.receipt
        assert got is not None
        if found.not_proven is not None:  # the index is believed only when the receipt proves the document sits there
            why = found.not_proven
            return [failed("key-history", *T_KEY, "영수증이 이 자격증명의 것이 아니어서 등록 시점을 알 수 없습니다", "the receipt does not prove where this credential sits in the log",
                           Verdict.TAMPERED, detail=(why.diagnostics("ko"), why.diagnostics("en")))]  # fmt: skip
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
            return [skipped("registry.chain", *T_ANCHOR, "블록체인 앵커링이 설정되지 않았습니다", "EVM anchoring is not configured")]
        found = _receipt(self.receipts, self.registry_keys, credential, context)
        problem = _receipt_problem(found, "registry.chain", T_ANCHOR, first=False)
        if problem is not None:
            return [problem]
        cp = found.checkpoint
        if found.not_proven is not None or cp is None:
            return [skipped("registry.chain", *T_ANCHOR, "영수증이 이 자격증명을 증명하지 못해 확인하지 않았습니다 (등록소 기록 항목 참고)", "not checked: the receipt does not prove this credential (see registry inclusion)")]
        try:
            self.anchor.verify_checkpoint_on_chain(cp.origin, cp.size, cp.root)
        except Error as e:
            detail = (e.diagnostics("ko"), e.diagnostics("en"))
            if _unreachable(e):
                return [unconfirmed("registry.chain", *T_ANCHOR, "블록체인 노드에 연결하지 못해 확인하지 못했습니다. 잠시 후 다시 확인하세요",
                                    "The blockchain node could not be reached. Try again later.", detail=detail)]  # fmt: skip
            if "not anchored" in e.message:
                plain = ("등록소 기록이 블록체인에 앵커링되어 있지 않습니다", "the registry's checkpoint is not anchored on the chain")
            else:
                plain = ("등록소 기록이 블록체인에 기록된 값과 다릅니다", "the registry's checkpoint differs from the anchored root on the chain")
            return [failed("registry.chain", *T_ANCHOR, *plain, Verdict.TAMPERED, detail=detail)]
        return [passed("registry.chain", *T_ANCHOR, "체크포인트가 블록체인에 기록된 값과 같습니다", "the checkpoint root matches the root anchored on chain", treeSize=cp.size)]


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
