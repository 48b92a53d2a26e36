"""HTTP client of the registry for the issuing side (and readers of the trust list).

The issuing side holds the department keys: it builds and signs DID document versions and status
list versions and hands them to the registry, which checks, stores and logs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from . import dataintegrity, merkle, multibase, statuslist
from .checkpoint import NoteKey, Verifiers, parse_verifier_keys
from .errors import Error, InvalidInput, NotFound, RegistryError, VerificationError
from .keys import Ed25519PublicMultikey, Signer
from .receipts import Receipt, verify_receipt

#: bound on any response body from the registry
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
#: status lists published by the client default to ttl 0: a verifier reads the list again at every check,
#: so a suspension or revocation shows at the employer's next check (the verifier keeps each version's
#: verified signature by digest, so a re-read costs one small GET, not a signature check)
DEFAULT_TTL_MS = 0
#: bound on the pages of one history a client follows
MAX_HISTORY_PAGES = 1000
#: items per batch round trip (the registry's own bound)
BATCH = 1000


class RegistryClient:
    """`RegistryClient(base_url, token)`; pass `http=` to reuse a client (tests: a WSGI transport)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        http: httpx.Client | None = None,
        *,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._http = http or httpx.Client(timeout=timeout)

    def __repr__(self) -> str:  # never print the token
        return f"RegistryClient({self.base_url!r})"

    # -- transport -----------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None, *, auth: bool = False) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if auth:
            if not self._token:
                raise RegistryError(
                    "a registry API token is required (WORKCRED_REGISTRY_API_TOKEN)",
                    message_ko="등록소 API 토큰이 필요합니다 (WORKCRED_REGISTRY_API_TOKEN)",
                )
            headers["Authorization"] = f"Bearer {self._token}"
        try:
            resp = self._http.request(method, self.base_url + path, json=body, headers=headers)
        except httpx.HTTPError as e:
            raise RegistryError(
                f"the registry at {self.base_url} cannot be reached: {type(e).__name__}",
                message_ko=f"등록소({self.base_url})에 연결할 수 없습니다",
            ) from None
        if len(resp.content) > MAX_RESPONSE_BYTES:
            raise RegistryError("the registry response is too large", message_ko="등록소 응답이 너무 큽니다")
        try:
            data = resp.json() if resp.content else None
        except ValueError:
            data = None
        if resp.status_code >= 400:
            detail = data.get("detail") if isinstance(data, dict) else None
            cls: type[Error] = NotFound if resp.status_code == 404 else RegistryError
            err = cls(
                f"registry {method} {path}: {resp.status_code} {detail or resp.reason_phrase}",
                message_ko=f"등록소 요청 실패 ({resp.status_code}): {detail or ''}",
            )
            err.http_status = resp.status_code if resp.status_code < 500 else 502
            raise err
        return resp.status_code, data

    # -- the log -------------------------------------------------------------------------------

    def append(self, type_tag: str, digest: bytes) -> dict[str, Any]:
        """Append a leaf; returns {index, salt, leafHash}."""
        _, data = self._request(
            "POST", "/log/entries", {"type": type_tag, "digest": multibase.b64url(digest)}, auth=True
        )
        return dict(data)

    def append_batch(self, items: Sequence[tuple[str, bytes]]) -> list[dict[str, Any]]:
        """Append many leaves in one round trip; a (type, digest) already logged comes back as it is
        (`created: false`), so sending a batch again after a crash logs nothing twice."""
        out: list[dict[str, Any]] = []
        for start in range(0, len(items), BATCH):
            body = {"entries": [{"type": t, "digest": multibase.b64url(d)} for t, d in items[start : start + BATCH]]}
            _, data = self._request("POST", "/log/entries/batch", body, auth=True)
            entries = data.get("entries") if isinstance(data, dict) else None
            if not isinstance(entries, list) or len(entries) != len(body["entries"]):
                raise RegistryError("the registry answered a batch with another count", message_ko="등록소가 일괄 요청에 다른 개수로 답했습니다")
            out.extend(dict(e) for e in entries)
        return out

    def receipts(self, indexes: Sequence[int]) -> list[Receipt | None]:
        """The receipts of many leaves (None for those no checkpoint covers yet), 1000 per round trip."""
        out: list[Receipt | None] = []
        for start in range(0, len(indexes), BATCH):
            chunk = [int(i) for i in indexes[start : start + BATCH]]
            _, data = self._request("POST", "/log/receipts/batch", {"indexes": chunk}, auth=True)
            receipts = data.get("receipts") if isinstance(data, dict) else None
            if not isinstance(receipts, list) or len(receipts) != len(chunk):
                raise RegistryError("the registry answered a batch with another count", message_ko="등록소가 일괄 요청에 다른 개수로 답했습니다")
            out.extend(None if r is None else Receipt.from_json(r) for r in receipts)
        return out

    def receipt(self, index: int) -> Receipt | None:
        """The receipt of a leaf, or None until a checkpoint covers it."""
        status, data = self._request("GET", f"/log/receipts/{int(index)}", auth=True)
        return None if status == 202 else Receipt.from_json(data)

    def log_key(self) -> Ed25519PublicMultikey:
        _, data = self._request("GET", "/log/key")
        return Ed25519PublicMultikey.from_multibase(str(data.get("publicKeyMultibase")))

    def log_verifiers(self) -> dict[str, tuple[NoteKey, ...]]:
        """The checkpoint keys the registry publishes (current and retired, `verifierKeys` of GET /log/key).

        Taking them from the registry itself is trust on first use: pin them in configuration.
        """
        _, data = self._request("GET", "/log/key")
        keys = data.get("verifierKeys") if isinstance(data, dict) else None
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise RegistryError("malformed registry key document", message_ko="등록소 키 정보가 잘못되었습니다")
        return parse_verifier_keys(",".join(keys))

    # -- DID documents -------------------------------------------------------------------------

    def did_document(self, department: str) -> dict[str, Any] | None:
        """The department's current DID document, or None if it has none yet."""
        try:
            _, data = self._request("GET", f"/issuers/{department}/did.json")
        except NotFound:
            return None
        return dict(data)

    def publish_did_document(self, department: str, document: Mapping[str, Any]) -> dict[str, Any]:
        """PUT a signed version; returns {did, versionId, logIndex, digest}."""
        _, data = self._request("PUT", f"/issuers/{department}/did.json", dict(document), auth=True)
        return dict(data)

    def did_history(self, department: str) -> dict[str, Any]:
        """The raw history JSON (parse it with agents.didhistory.parse_history)."""
        _, data = self._request("GET", f"/issuers/{department}/history")
        return dict(data)

    # -- status lists --------------------------------------------------------------------------

    def status_list_url(self, department: str, list_id: str) -> str:
        return f"{self.base_url}/status/{department}/{list_id}"

    def get_status_list(self, department: str, list_id: str) -> dict[str, Any]:
        _, data = self._request("GET", f"/status/{department}/{list_id}")
        return dict(data)

    def publish_status_list(
        self, department: str, list_id: str, credential: Mapping[str, Any]
    ) -> dict[str, Any]:
        _, data = self._request("PUT", f"/status/{department}/{list_id}", dict(credential), auth=True)
        return dict(data)

    def create_status_list(
        self,
        department: str,
        list_id: str,
        purpose: str,
        signer: Signer,
        *,
        issuer: str,
        length: int = statuslist.MIN_ENTRIES,
        ttl_ms: int = DEFAULT_TTL_MS,
        at: datetime | None = None,
        cryptosuite: str = dataintegrity.RDFC,
    ) -> dict[str, Any]:
        """Publish version 1 of an all-zero list."""
        at = at or datetime.now(UTC)
        url = self.status_list_url(department, list_id)
        vc = statuslist.status_list_credential(url, issuer, purpose, statuslist.Bitstring(length), at, ttl_ms)
        signed = dataintegrity.sign(vc, signer, cryptosuite=cryptosuite, at=at)
        return self.publish_status_list(department, list_id, signed)

    def allocate_status(self, department: str, list_id: str) -> int:
        """A fresh random unused index of the list."""
        _, data = self._request("POST", f"/status/{department}/{list_id}/allocate", auth=True)
        index = data.get("index") if isinstance(data, dict) else None
        if not isinstance(index, int):
            raise RegistryError(
                "the registry returned no index", message_ko="등록소가 색인을 돌려주지 않았습니다"
            )
        return index

    def allocate_statuses(self, department: str, list_id: str, count: int) -> list[int]:
        """`count` fresh random unused indexes of the list, 1000 per round trip."""
        out: list[int] = []
        while len(out) < count:
            n = min(BATCH, count - len(out))
            _, data = self._request("POST", f"/status/{department}/{list_id}/allocate/batch", {"count": n}, auth=True)
            indexes = data.get("indexes") if isinstance(data, dict) else None
            if not isinstance(indexes, list) or len(indexes) != n or not all(type(i) is int for i in indexes):
                raise RegistryError("the registry returned no indexes", message_ko="등록소가 색인을 돌려주지 않았습니다")
            out.extend(indexes)
        return out

    def set_status(
        self,
        department: str,
        list_id: str,
        index: int,
        value: bool,
        signer: Signer,
        *,
        at: datetime | None = None,
        cryptosuite: str = dataintegrity.RDFC,
    ) -> dict[str, Any]:
        """Fetch the current list, set or clear one bit, re-sign and publish; returns the new credential."""
        return self.set_statuses(department, list_id, {index: value}, signer, at=at, cryptosuite=cryptosuite)

    def set_statuses(
        self,
        department: str,
        list_id: str,
        changes: Mapping[int, bool],
        signer: Signer,
        *,
        at: datetime | None = None,
        cryptosuite: str = dataintegrity.RDFC,
    ) -> dict[str, Any]:
        """Set or clear many bits of one list in one new version (one fetch, one signature, one publish)."""
        current = self.get_status_list(department, list_id)
        _, bits = statuslist.decode_list_credential(current)
        for index, value in changes.items():
            bits.set(index, value)
        return self._republish(department, list_id, current, bits, signer, at, cryptosuite)

    def status_lists(self, department: str) -> list[str]:
        """The ids of the department's status lists."""
        _, data = self._request("GET", f"/status/{department}")
        lists = data.get("lists") if isinstance(data, dict) else None
        if not isinstance(lists, list) or not all(isinstance(x, dict) and isinstance(x.get("id"), str) for x in lists):
            raise RegistryError("malformed list of status lists", message_ko="상태 목록 목록 형식이 잘못되었습니다")
        return [str(x["id"]) for x in lists]

    def resign_status_lists(
        self,
        department: str,
        signer: Signer,
        *,
        at: datetime | None = None,
        cryptosuite: str = dataintegrity.RDFC,
    ) -> list[str]:
        """Publish every list of the department again, bits unchanged, signed by `signer` (after a key
        rotation: verifiers require a list signed by a key currently in the issuer's assertionMethod)."""
        done = []
        for list_id in self.status_lists(department):
            current = self.get_status_list(department, list_id)
            _, bits = statuslist.decode_list_credential(current)
            self._republish(department, list_id, current, bits, signer, at, cryptosuite)
            done.append(list_id)
        return done

    def _republish(
        self,
        department: str,
        list_id: str,
        current: Mapping[str, Any],
        bits: statuslist.Bitstring,
        signer: Signer,
        at: datetime | None,
        cryptosuite: str,
    ) -> dict[str, Any]:
        at = at or datetime.now(UTC)
        purpose, _ = statuslist.decode_list_credential(current)
        subject = current.get("credentialSubject", {})
        ttl = subject.get("ttl") if isinstance(subject, Mapping) else None
        issuer = current.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        if not isinstance(issuer_id, str):
            raise InvalidInput("the status list has no issuer", message_ko="상태 목록에 발급자가 없습니다")
        url = self.status_list_url(department, list_id)
        vc = statuslist.status_list_credential(
            url, issuer_id, purpose, bits, at, ttl if isinstance(ttl, int) else None
        )
        signed = dataintegrity.sign(vc, signer, cryptosuite=cryptosuite, at=at)
        self.publish_status_list(department, list_id, signed)
        return signed

    def status_list_history(
        self, department: str, list_id: str, registry_keys: Verifiers | None = None
    ) -> list[LoggedVersion]:
        """Every version of a status list, oldest first; each receipt checked when `registry_keys` is given."""
        return self._history(f"/status/{department}/{list_id}/history", "status-list", registry_keys)

    def trust_list_history(self, registry_keys: Verifiers | None = None) -> list[LoggedVersion]:
        """Every version of the trust list, oldest first; each receipt checked when `registry_keys` is given."""
        return self._history("/trust-list/history", "trust-list", registry_keys)

    def _history(self, path: str, type_tag: str, registry_keys: Verifiers | None) -> list[LoggedVersion]:
        out: list[LoggedVersion] = []
        since = 0
        for _ in range(MAX_HISTORY_PAGES):
            _, data = self._request("GET", f"{path}?since={since}")
            page = parse_logged_versions(data, type_tag, registry_keys, after=out[-1] if out else None)
            out.extend(page)
            nxt = data.get("next") if isinstance(data, dict) else None
            if nxt is None or not page:
                return out
            since = page[-1].version
        raise RegistryError("the history is too long", message_ko="이력이 너무 깁니다")

    # -- trust list ----------------------------------------------------------------------------

    def trust_list(self, registry_key: Ed25519PublicMultikey | None = None) -> dict[str, Any]:
        """The latest trust list; verified against `registry_key` when one is pinned."""
        _, data = self._request("GET", "/trust-list")
        if registry_key is not None:
            verify_trust_list(data, registry_key)
        return dict(data)


@dataclass(frozen=True)
class LoggedVersion:
    """One version of a public registry document (status list, trust list) and where the log has it."""

    version: int
    log_index: int
    published: str | None
    document: dict[str, Any] = field(repr=False)
    receipt: Receipt | None = field(default=None, repr=False)


def parse_logged_versions(
    data: object,
    type_tag: str,
    registry_keys: Verifiers | None,
    *,
    after: LoggedVersion | None = None,
) -> list[LoggedVersion]:
    """Parse a history page (`.../history`): versions and log indexes increase, each document's digest
    matches, and with `registry_keys` each receipt proves the document sits at its log index."""
    versions = data.get("versions") if isinstance(data, Mapping) else None
    if not isinstance(versions, list):
        raise RegistryError("a history is an object with a versions list", message_ko="이력 형식이 잘못되었습니다")
    out: list[LoggedVersion] = []
    last = after
    for item in versions:
        if not isinstance(item, Mapping) or not isinstance(item.get("document"), dict):
            raise RegistryError("a history entry needs a document", message_ko="이력 항목에 문서가 없습니다")
        version, index = item.get("version"), item.get("logIndex")
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (version, index)):
            raise RegistryError("a history entry needs a version and a logIndex", message_ko="이력 항목 형식이 잘못되었습니다")
        assert isinstance(version, int) and isinstance(index, int)
        if last is not None and (version <= last.version or index <= last.log_index):
            raise RegistryError(
                "versions and log indexes of a history must increase",
                message_ko="이력의 버전과 로그 색인이 증가하지 않습니다",
            )
        document = dict(item["document"])
        digest = item.get("digest")
        if digest != multibase.b64url(merkle.document_digest(document)):
            raise RegistryError("a history entry's digest does not match its document", message_ko="이력 항목의 해시가 문서와 다릅니다")
        receipt: Receipt | None = None
        if item.get("receipt") is not None:
            receipt = Receipt.from_json(item["receipt"])
        if registry_keys is not None:
            if receipt is None:
                raise RegistryError(
                    f"version {version} has no receipt yet (not checkpointed)",
                    message_ko=f"버전 {version}의 영수증이 아직 없습니다",
                )
            if receipt.index != index or receipt.type != type_tag:
                raise RegistryError(
                    f"the receipt of version {version} is not for this document",
                    message_ko=f"버전 {version}의 영수증이 이 문서의 것이 아닙니다",
                )
            verify_receipt(receipt, document, registry_keys, memory=None)
        published = item.get("published")
        last = LoggedVersion(version, index, published if isinstance(published, str) else None, document, receipt)
        out.append(last)
    return out


def in_force_at(versions: Sequence[LoggedVersion], log_index: int) -> LoggedVersion | None:
    """The version that was current when the log had `log_index` entries before (e.g. a credential's
    leaf index): the last version logged before it, or None when there was none yet."""
    found = None
    for v in versions:
        if v.log_index < log_index:
            found = v
    return found


def verify_trust_list(
    document: Mapping[str, Any], registry_key: Ed25519PublicMultikey
) -> list[dict[str, Any]]:
    """Check the trust list's eddsa-jcs-2022 proof by the pinned registry key; return its issuers."""
    if not isinstance(document, Mapping) or document.get("type") != "WorkcredTrustList":
        raise VerificationError("not a workcred trust list", message_ko="workcred 신뢰 목록이 아닙니다")

    def resolve(vm_id: str) -> dataintegrity.ResolvedKey:
        if vm_id != registry_key.did_key_vm:
            raise VerificationError(
                "the trust list is signed by another key", message_ko="신뢰 목록이 다른 키로 서명되었습니다"
            )
        return dataintegrity.ResolvedKey(
            vm_id, registry_key.did_key, registry_key, frozenset({"assertionMethod"})
        )

    outcomes = dataintegrity.verify_proofs(document, resolve)
    if len(outcomes) != 1 or not outcomes[0].ok or outcomes[0].cryptosuite != dataintegrity.JCS:
        reason = outcomes[0].reason if outcomes else ""
        raise VerificationError(
            f"the trust list signature does not verify {reason}".strip(),
            message_ko="신뢰 목록의 서명을 검증할 수 없습니다",
        )
    issuers = document.get("issuers")
    if not isinstance(issuers, list):
        raise VerificationError("the trust list has no issuers", message_ko="신뢰 목록에 발급자가 없습니다")
    return [dict(i) for i in issuers]
