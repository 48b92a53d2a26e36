"""HTTP client of the registry for the issuing side (and readers of the trust list).

The issuing side holds the department keys: it builds and signs DID document versions and status
list versions and hands them to the registry, which checks, stores and logs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from . import dataintegrity, multibase, statuslist
from .errors import Error, InvalidInput, NotFound, RegistryError, VerificationError
from .keys import Ed25519PublicMultikey, Signer
from .receipts import Receipt

#: bound on any response body from the registry
MAX_RESPONSE_BYTES = 4 * 1024 * 1024
#: status lists published by the client default to a five-minute ttl
DEFAULT_TTL_MS = 300_000


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

    def receipt(self, index: int) -> Receipt | None:
        """The receipt of a leaf, or None until a checkpoint covers it."""
        status, data = self._request("GET", f"/log/receipts/{int(index)}", auth=True)
        return None if status == 202 else Receipt.from_json(data)

    def log_key(self) -> Ed25519PublicMultikey:
        _, data = self._request("GET", "/log/key")
        return Ed25519PublicMultikey.from_multibase(str(data.get("publicKeyMultibase")))

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
        at = at or datetime.now(UTC)
        current = self.get_status_list(department, list_id)
        purpose, bits = statuslist.decode_list_credential(current)
        bits.set(index, value)
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

    # -- trust list ----------------------------------------------------------------------------

    def trust_list(self, registry_key: Ed25519PublicMultikey | None = None) -> dict[str, Any]:
        """The latest trust list; verified against `registry_key` when one is pinned."""
        _, data = self._request("GET", "/trust-list")
        if registry_key is not None:
            verify_trust_list(data, registry_key)
        return dict(data)


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
